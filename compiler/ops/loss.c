// loss.c — the losses beyond mse and nll, as PyTorch defines them with
// reduction='mean' over an example's elements (the driver then averages
// the per-example values over the batch, which for equal-sized examples is
// torch's mean over the whole batch): cross_entropy, bce,
// bce_with_logits, l1, smooth_l1, huber.  Shape rules, gradients,
// interpreter kernels and emitters.
//
// The element-wise losses share one shape (two equal tensors -> []) and
// one form of gradient, X_grad(dl, a, b) = dl g(a, b) / numel, the
// gradient w.r.t. a (as mse_grad).  l1, smooth_l1 and huber are symmetric
// up to the sign of a - b, so X_grad(dl, b, a) is the gradient w.r.t. b;
// bce and bce_with_logits give none w.r.t. the target (as nll w.r.t. the
// label: a target is data).  The interpreter accumulates in double, the
// emitted code in eight float partial sums (kern_sum).
#include <math.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"

// ---- The per-element functions, shared by the interpreter's kernels;
// the emitters write the same expressions (pointwise_c, grad_c).  a =
// attr.alpha (beta, delta).

// torch clamps bce's logs at -100 so that p = 0 or 1 gives a finite loss;
// its gradient divides by max(p (1 - p), 1e-12) for the same reason.
#define BCE_LOG_MIN -100.0f
#define BCE_EPS 1e-12f

static float pointwise(OpKind op, float p, float t, float a) {
  float d = fabsf(p - t);
  switch (op) {
  case OP_BCE: return (t - 1.0f) * fmaxf(log1pf(-p), BCE_LOG_MIN) - t * fmaxf(logf(p), BCE_LOG_MIN);
  case OP_BCE_LOGITS: {
    // torch's stable form: (1 - t) z + m + log(exp(-m) + exp(-z - m)), m = max(-z, 0).
    float m = fmaxf(-p, 0.0f);
    return (1.0f - t) * p + m + logf(expf(-m) + expf(-p - m));
  }
  case OP_L1: return d;
  case OP_SMOOTH_L1: return d < a ? 0.5f * d * d / a : d - 0.5f * a;
  default: return d < a ? 0.5f * d * d : a * (d - 0.5f * a);   // HUBER
  }
}

// d loss / d p for one element (before dl / numel).
static float pointwise_grad(OpKind op, float p, float t, float a) {
  float x = p - t;
  switch (op) {
  case OP_BCE_GRAD: return x / fmaxf((1.0f - p) * p, BCE_EPS);
  case OP_BCE_LOGITS_GRAD: return 1.0f / (1.0f + expf(-p)) - t;
  case OP_L1_GRAD: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
  case OP_SMOOTH_L1_GRAD: return x < -a ? -1.0f : x > a ? 1.0f : x / a;
  default: return x < -a ? -a : x > a ? a : x;   // HUBER_GRAD
  }
}

// The same, as C source over the operands p, t and the literal a (the
// emitter declares d = |p - t|, m = max(-p, 0), lp = log p and
// lq = log(1 - p) before it).  The
// generated code's logs and exps are the kernels' (kern_logf, kern_expf,
// within 1e-7 of libm's), and its clamps selects, so that its loops
// vectorise: with libm's calls bce trained 3x slower than mse.
static void pointwise_c(char *buf, size_t cap, OpKind op, const char *p, const char *t, const char *a) {
  switch (op) {
  case OP_BCE:
    snprintf(buf, cap, "(%s - 1.0f) * (lq > -100.0f ? lq : -100.0f) - %s * (lp > -100.0f ? lp : -100.0f)", t, t);
    break;
  case OP_BCE_LOGITS:
    snprintf(buf, cap, "(1.0f - %s) * %s + m + kern_logf(kern_expf(-m) + kern_expf(-%s - m))", t, p, p);
    break;
  case OP_L1: snprintf(buf, cap, "fabsf(%s - %s)", p, t); break;
  case OP_SMOOTH_L1: snprintf(buf, cap, "d < %s ? 0.5f * d * d / %s : d - 0.5f * %s", a, a, a); break;
  default: snprintf(buf, cap, "d < %s ? 0.5f * d * d : %s * (d - 0.5f * %s)", a, a, a); break;
  }
}

static void grad_c(char *buf, size_t cap, OpKind op, const char *p, const char *t, const char *a) {
  switch (op) {
  case OP_BCE_GRAD:
    snprintf(buf, cap, "(%s - %s) / ((1.0f - %s) * %s > 1e-12f ? (1.0f - %s) * %s : 1e-12f)", p, t, p, p, p, p);
    break;
  case OP_BCE_LOGITS_GRAD: snprintf(buf, cap, "(1.0f / (1.0f + kern_expf(-%s)) - %s)", p, t); break;
  case OP_L1_GRAD:
    snprintf(buf, cap, "(%s - %s > 0.0f ? 1.0f : %s - %s < 0.0f ? -1.0f : 0.0f)", p, t, p, t);
    break;
  case OP_SMOOTH_L1_GRAD:
    snprintf(buf, cap, "(%s - %s < -%s ? -1.0f : %s - %s > %s ? 1.0f : (%s - %s) / %s)", p, t, a, p, t, a, p, t, a);
    break;
  default:
    snprintf(buf, cap, "(%s - %s < -%s ? -%s : %s - %s > %s ? %s : %s - %s)", p, t, a, a, p, t, a, a, p, t);
    break;
  }
}

// ---- Shape rules ----

// cross_entropy(logits [K], label): nll's rule (ops/reduce.c).
static bool shape_cross_entropy(ShapeCx *cx, Shape *out) { return shape_class_loss(cx, out, "logits"); }

// Two tensors of one shape -> []; smooth_l1's beta and huber's delta > 0
// (torch rejects delta <= 0; smooth_l1 with beta 0 is l1: write l1).
static bool shape_pointwise(ShapeCx *cx, Shape *out) {
  char s1[64], s2[64];
  if (!shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "%s compares tensors of the same shape, got %s and %s", cx->op, shape_str(cx->in[0], s1),
                       shape_str(cx->in[1], s2));
  float a = cx->attr->alpha;
  if (!strcmp(cx->op, "smooth_l1") && (!(a > 0.0f) || !isfinite(a)))
    return shape_error(cx, "smooth_l1: beta must be a finite number > 0, got %g (beta 0 is l1)", a);
  if (!strcmp(cx->op, "huber") && (!(a > 0.0f) || !isfinite(a)))
    return shape_error(cx, "huber: delta must be a finite number > 0, got %g", a);
  *out = shape_scalar();
  return true;
}

static bool shape_ce_grad(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank != 0 || cx->in[1].rank != 1 || cx->in[2].rank != 0)
    return shape_error(cx, "cross_entropy_grad: needs a scalar dl, logits [K] and a label");
  *out = cx->in[1];
  return true;
}

static bool shape_pointwise_grad(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank != 0 || !shape_eq(cx->in[1], cx->in[2]))
    return shape_error(cx, "%s: needs a scalar dl and two equal shapes", cx->op);
  *out = cx->in[1];
  return true;
}

// ---- Gradients ----

static int grad_cross_entropy(AdState *ad, const Node *n, int which, int dy) {
  if (which != 0)
    return -1;   // no gradient with respect to the label
  return ad_ew(ad, OP_CROSS_ENTROPY_GRAD, ad_at(ad, n->in[0])->shape, 3, dy, n->in[0], n->in[1]);
}

// The gradient op of each element-wise loss.
static OpKind grad_op(OpKind op) {
  switch (op) {
  case OP_BCE: return OP_BCE_GRAD;
  case OP_BCE_LOGITS: return OP_BCE_LOGITS_GRAD;
  case OP_L1: return OP_L1_GRAD;
  case OP_SMOOTH_L1: return OP_SMOOTH_L1_GRAD;
  default: return OP_HUBER_GRAD;
  }
}

static int grad_pointwise(AdState *ad, const Node *n, int which, int dy) {
  bool symmetric = n->op == OP_L1 || n->op == OP_SMOOTH_L1 || n->op == OP_HUBER;
  if (which != 0 && !symmetric)
    return -1;   // bce's target is data
  float a = n->attr.alpha;
  int id = ad_ew(ad, grad_op(n->op), ad_at(ad, n->in[which])->shape, 3, dy, n->in[which], n->in[1 - which]);
  ad_at(ad, id)->attr.alpha = a;
  return id;
}

// ---- Interpreter kernels ----

static const Node *input(const Interp *ip, const Node *n, int j) { return &ip->g->nodes[n->in[j]]; }

// Offset of example i in a node's value: 0 when the value is shared.
static size_t at(const Node *n, int i) {
  return n->batched ? (size_t)i * (size_t)shape_numel(n->shape) : 0;
}

// logsumexp(x) - x[label], per example; the sum in double.
static void interp_cross_entropy(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = input(ip, n, 0)->shape.dim[0];
  for (int i = 0; i < ip->n; i++) {
    const float *x = in[0] + (size_t)i * K;
    float mx = x[0];
    for (int k = 1; k < K; k++)
      mx = x[k] > mx ? x[k] : mx;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += exp((double)x[k] - mx);
    out[i] = (float)(mx + log(s) - x[(int)in[1][i]]);
  }
}

// dl (softmax(x) - onehot(label)): the stable gradient of log-softmax + nll.
static void interp_cross_entropy_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[0];
  for (int i = 0; i < ip->n; i++) {
    const float *x = in[1] + (size_t)i * K;
    float *o = out + (size_t)i * K, mx = x[0], dl = in[0][i];
    for (int k = 1; k < K; k++)
      mx = x[k] > mx ? x[k] : mx;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += o[k] = expf(x[k] - mx);
    int lab = (int)in[2][i];
    for (int k = 0; k < K; k++)
      o[k] = dl * ((float)(o[k] / s) - (k == lab ? 1.0f : 0.0f));
  }
}

static void interp_pointwise(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *na = input(ip, n, 0), *nb = input(ip, n, 1);
  size_t m = (size_t)shape_numel(na->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[0] + at(na, i), *b = in[1] + at(nb, i);
    double s = 0;
    for (size_t k = 0; k < m; k++)
      s += pointwise(n->op, a[k], b[k], n->attr.alpha);
    out[i] = (float)(s / (double)m);
  }
}

static void interp_pointwise_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *nl = input(ip, n, 0), *na = input(ip, n, 1), *nb = input(ip, n, 2);
  size_t m = (size_t)shape_numel(n->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[1] + at(na, i), *b = in[2] + at(nb, i);
    float dl = in[0][at(nl, i)];
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = dl * pointwise_grad(n->op, a[k], b[k], n->attr.alpha) / (float)m;
  }
}

// ---- Emitters ----

static void emit_cross_entropy(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!nd(e, n->in[0])->batched)
    fail(n, "cross_entropy of an unbatched value is not supported");
  long K = numel(e, n->in[0]);
  out(e, "  for (int i = 0; i < nc; i++) {\n"
         "    const float *r = %s + i * %ld;\n    float mx = r[0];\n"
         "    for (int k = 1; k < %ld; k++)\n      mx = r[k] > mx ? r[k] : mx;\n"
         "    double s = 0;\n    for (int k = 0; k < %ld; k++)\n      s += exp((double)r[k] - mx);\n"
         "    %s[i] = (float)(mx + log(s) - r[(int)%s[i]]);\n  }\n",
      root_name(e, n->in[0]), K, K, K, e->name[id], root_name(e, n->in[1]));
}

static void emit_cross_entropy_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long K = numel(e, id);
  char dl[128];
  operand(e, dl, sizeof dl, n->in[0], true);
  out(e, "  for (int i = 0; i < nc; i++) {\n"
         "    const float *r = %s + i * %ld;\n    float *o = %s + i * %ld, mx = r[0];\n"
         "    for (int k = 1; k < %ld; k++)\n      mx = r[k] > mx ? r[k] : mx;\n"
         "    double s = 0;\n    for (int k = 0; k < %ld; k++)\n      s += o[k] = expf(r[k] - mx);\n"
         "    const int lab = (int)%s[i];\n"
         "    for (int k = 0; k < %ld; k++)\n      o[k] = %s * ((float)(o[k] / s) - (k == lab ? 1.0f : 0.0f));\n  }\n",
      root_name(e, n->in[1]), K, e->name[id], K, K, K, root_name(e, n->in[2]), K, dl);
}

static void emit_pointwise(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!nd(e, n->in[0])->batched || !nd(e, n->in[1])->batched)
    fail(n, "a loss over an unbatched value is not supported");
  long m = numel(e, n->in[0]);
  char p[160], t[160], a[48], expr[4096];
  snprintf(p, sizeof p, "%s[i * %ld + k]", root_name(e, n->in[0]), m);
  snprintf(t, sizeof t, "%s[i * %ld + k]", root_name(e, n->in[1]), m);
  flit(a, sizeof a, n->attr.alpha);
  pointwise_c(expr, sizeof expr, n->op, p, t, a);
  bool uses_d = n->op == OP_SMOOTH_L1 || n->op == OP_HUBER;
  // The elements' terms into the scratch COL, then kern_sum (eight partial
  // sums): both loops vectorise, where one summing in double would not.
  if (m > e->col) e->col = m;
  out(e, "  for (int i = 0; i < nc; i++) {\n    for (int k = 0; k < %ld; k++) {\n", m);
  if (uses_d)
    out(e, "      const float d = fabsf(%s - %s);\n", p, t);
  if (n->op == OP_BCE_LOGITS)
    out(e, "      const float m = -%s > 0.0f ? -%s : 0.0f;\n", p, p);
  if (n->op == OP_BCE)
    out(e, "      const float lp = kern_logf(%s), lq = kern_logf(1.0f - %s);\n", p, p);
  out(e, "      COL[k] = %s;\n    }\n    %s[i] = kern_sum(COL, %ld) / %ld.0f;\n  }\n", expr, e->name[id], m, m);
}

static void emit_pointwise_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char dl[128], p[128], t[128], a[48], expr[2048];
  operand(e, dl, sizeof dl, n->in[0], n->batched);
  operand(e, p, sizeof p, n->in[1], n->batched);
  operand(e, t, sizeof t, n->in[2], n->batched);
  flit(a, sizeof a, n->attr.alpha);
  grad_c(expr, sizeof expr, n->op, p, t, a);
  open_loops(e, id);
  store(e, id);
  out(e, "%s * %s / %ld.0f;\n", dl, expr, numel(e, id));
}

static void print_alpha(FILE *out, const Node *n) { fprintf(out, " alpha=%g", n->attr.alpha); }

// ---- Rows ----
//
// The gradients are element-wise (OPF_EW) and, as mse_grad, subtract
// their inputs 1 and 2 (ew_addsub 6); each ends in a division by numel,
// not a product.

#define LOSS(nm, ID, ...) {nm, OP_##ID, 2, false, __VA_ARGS__}
#define POINTWISE_GRAD \
  OPF_EW, .ew_addsub = 6, .shape = shape_pointwise_grad, .kernel = interp_pointwise_grad, \
  .emit = emit_pointwise_grad

const OpDef op_def_CROSS_ENTROPY = {"cross_entropy", 2, OPF_CLASS_LOSS,
                                    .surface = {LOSS("cross_entropy", CROSS_ENTROPY, 0, {{0}})},
                                    .shape = shape_cross_entropy, .grad = grad_cross_entropy,
                                    .kernel = interp_cross_entropy, .emit = emit_cross_entropy};
const OpDef op_def_CROSS_ENTROPY_GRAD = {"cross_entropy_grad", 3, .shape = shape_ce_grad,
                                         .kernel = interp_cross_entropy_grad, .emit = emit_cross_entropy_grad};
const OpDef op_def_BCE = {"bce", 2, .surface = {LOSS("bce", BCE, 0, {{0}})}, .shape = shape_pointwise,
                          .grad = grad_pointwise, .kernel = interp_pointwise, .emit = emit_pointwise};
const OpDef op_def_BCE_LOGITS = {"bce_with_logits", 2, .surface = {LOSS("bce_with_logits", BCE_LOGITS, 0, {{0}})},
                                 .shape = shape_pointwise, .grad = grad_pointwise, .kernel = interp_pointwise,
                                 .emit = emit_pointwise};
const OpDef op_def_L1 = {"l1", 2, .surface = {LOSS("l1", L1, 0, {{0}})}, .shape = shape_pointwise,
                         .grad = grad_pointwise, .kernel = interp_pointwise, .emit = emit_pointwise};
const OpDef op_def_SMOOTH_L1 = {"smooth_l1", 2, .surface = {LOSS("smooth_l1", SMOOTH_L1, 1,
                                                                 {ATTR_OPT("beta", A_REAL, 1, alpha)})},
                                .shape = shape_pointwise, .grad = grad_pointwise, .kernel = interp_pointwise,
                                .emit = emit_pointwise, .print_attrs = print_alpha};
const OpDef op_def_HUBER = {"huber", 2, .surface = {LOSS("huber", HUBER, 1, {ATTR_OPT("delta", A_REAL, 1, alpha)})},
                            .shape = shape_pointwise, .grad = grad_pointwise, .kernel = interp_pointwise,
                            .emit = emit_pointwise, .print_attrs = print_alpha};
const OpDef op_def_BCE_GRAD = {"bce_grad", 3, POINTWISE_GRAD};
const OpDef op_def_BCE_LOGITS_GRAD = {"bce_with_logits_grad", 3, POINTWISE_GRAD};
const OpDef op_def_L1_GRAD = {"l1_grad", 3, POINTWISE_GRAD};
const OpDef op_def_SMOOTH_L1_GRAD = {"smooth_l1_grad", 3, POINTWISE_GRAD, .print_attrs = print_alpha};
const OpDef op_def_HUBER_GRAD = {"huber_grad", 3, POINTWISE_GRAD, .print_attrs = print_alpha};
