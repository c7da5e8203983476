// reduce.c — per-example reductions and row ops (sum, mean, mse, nll,
// log_softmax) and their gradients: shape rules, gradients, interpreter
// kernels and emitters.  The interpreter's reductions accumulate in
// double: the per-example losses are means of 784 squared errors.
#include <math.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"

// ---- Shape rules ----

static bool shape_scalar_out(ShapeCx *cx, Shape *out) {
  (void)cx;
  *out = shape_scalar();
  return true;
}

static bool shape_mse(ShapeCx *cx, Shape *out) {
  char s1[64], s2[64];
  if (!shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "mse compares tensors of the same shape, got %s and %s", shape_str(cx->in[0], s1),
                       shape_str(cx->in[1], s2));
  *out = shape_scalar();
  return true;
}

bool shape_class_loss(ShapeCx *cx, Shape *out, const char *scores) {
  char s1[64];
  Shape x = cx->in[0];
  if (x.rank != 1 || x.dim[0] < 2)
    return shape_error(cx, "%s expects %s over K >= 2 classes, [K], got %s", cx->op, scores, shape_str(x, s1));
  if (cx->in[1].rank != 0)
    return shape_error(cx, "%s: the label must be a scalar []", cx->op);
  *out = shape_scalar();
  return true;
}

static bool shape_nll(ShapeCx *cx, Shape *out) { return shape_class_loss(cx, out, "log-probabilities"); }

static bool shape_log_softmax(ShapeCx *cx, Shape *out) {
  char s1[64];
  if (cx->in[0].rank != 1)
    return shape_error(cx, "log_softmax expects a 1-D input, got %s", shape_str(cx->in[0], s1));
  *out = cx->in[0];
  return true;
}

// (dy, y) pairs of equal shape.
static bool shape_pair(ShapeCx *cx, Shape *out) {
  if (!shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "%s: dy and y differ in shape", cx->op);
  *out = cx->in[0];
  return true;
}

static bool shape_nll_grad(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank != 0 || cx->in[1].rank != 0 || cx->self.rank != 1)
    return shape_error(cx, "nll_grad: needs a scalar dl and label, gives [K]");
  *out = cx->self;
  return true;
}

// ---- Gradients ----

static int grad_sum(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_BROADCAST, ad_at(ad, n->in[0])->shape, 1, dy, 0, 0);
}

static int grad_mean(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = ad_at(ad, n->in[0])->shape;
  int b = ad_ew(ad, OP_BROADCAST, xs, 1, dy, 0, 0);
  return ad_ew(ad, OP_MUL, xs, 2, b, ad_const(ad, 1.0f / (float)shape_numel(xs)), 0);
}

// mse(a, b) is symmetric up to the sign of (a - b): mse_grad(dl, b, a) is
// the gradient with respect to b.
static int grad_mse(AdState *ad, const Node *n, int which, int dy) {
  return ad_ew(ad, OP_MSE_GRAD, ad_at(ad, n->in[which])->shape, 3, dy, n->in[which], n->in[1 - which]);
}

static int grad_nll(AdState *ad, const Node *n, int which, int dy) {
  if (which != 0)
    return -1;   // no gradient with respect to the label
  return ad_ew(ad, OP_NLL_GRAD, ad_at(ad, n->in[0])->shape, 2, dy, n->in[1], 0);
}

static int grad_log_softmax(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_LOG_SOFTMAX_GRAD, n->shape, 2, dy, n->id, 0);
}

// ---- Interpreter kernels ----

static const Node *input(const Interp *ip, const Node *n, int j) { return &ip->g->nodes[n->in[j]]; }

// Offset of example i in a node's value: 0 when the value is shared.
static size_t at(const Node *n, int i) {
  return n->batched ? (size_t)i * (size_t)shape_numel(n->shape) : 0;
}

static void reduce(Interp *ip, const Node *n, float *out, const float *const *in, double scale) {
  const Node *x = input(ip, n, 0);
  size_t m = (size_t)shape_numel(x->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[0] + at(x, i);
    double s = 0;
    for (size_t k = 0; k < m; k++)
      s += a[k];
    out[i] = (float)(s * scale);
  }
}

static void interp_sum(Interp *ip, const Node *n, float *out, const float *const *in) {
  reduce(ip, n, out, in, 1.0);
}

static void interp_mean(Interp *ip, const Node *n, float *out, const float *const *in) {
  reduce(ip, n, out, in, 1.0 / (double)shape_numel(input(ip, n, 0)->shape));
}

// mean((a - b)^2) over the example's elements.
static void interp_mse(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *na = input(ip, n, 0), *nb = input(ip, n, 1);
  size_t m = (size_t)shape_numel(na->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[0] + at(na, i), *b = in[1] + at(nb, i);
    double s = 0;
    for (size_t k = 0; k < m; k++) {
      double d = (double)a[k] - b[k];
      s += d * d;
    }
    out[i] = (float)(s / (double)m);
  }
}

// -logp[label].
static void interp_nll(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = input(ip, n, 0)->shape.dim[0];
  for (int i = 0; i < ip->n; i++)
    out[i] = -in[0][(size_t)i * K + (int)in[1][i]];
}

// (dl, label) -> [K]: -dl at the label, 0 elsewhere.
static void interp_nll_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[0];
  memset(out, 0, (size_t)ip->n * K * sizeof(float));
  for (int i = 0; i < ip->n; i++)
    out[(size_t)i * K + (int)in[1][i]] = -in[0][i];
}

// Over the last dimension, numerically stable (subtract the row maximum).
static void interp_log_softmax(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[n->shape.rank - 1];
  size_t rows = (size_t)interp_rows(ip, n) * shape_numel(n->shape) / K;
  for (size_t r = 0; r < rows; r++) {
    const float *x = in[0] + r * K;
    float *y = out + r * K;
    float mx = x[0];
    for (int k = 1; k < K; k++)
      mx = x[k] > mx ? x[k] : mx;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += exp((double)x[k] - mx);
    float lse = mx + (float)log(s);
    for (int k = 0; k < K; k++)
      y[k] = x[k] - lse;
  }
}

// dx = dy - softmax(x) sum(dy) = dy - exp(y) sum(dy), per row.
static void interp_log_softmax_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[n->shape.rank - 1];
  size_t rows = (size_t)interp_rows(ip, n) * shape_numel(n->shape) / K;
  for (size_t r = 0; r < rows; r++) {
    const float *dy = in[0] + r * K, *y = in[1] + r * K;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += dy[k];
    for (int k = 0; k < K; k++)
      out[r * K + k] = dy[k] - expf(y[k]) * (float)s;
  }
}

// ---- Emitters: one loop over the chunk's examples, row by row ----

static void row_begin(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (n->nin > 0 && !nd(e, n->in[0])->batched)
    fail(n, "per-example reduction of an unbatched value is not supported");
  out(e, "  for (int i = 0; i < nc; i++) {\n");
}

static void row_end(CEmit *e) { out(e, "  }\n"); }

static void emit_sum(CEmit *e, int id) {
  long nx = numel(e, nd(e, id)->in[0]);
  row_begin(e, id);
  out(e, "    %s[i] = kern_sum(%s + i * %ld, %ld);\n", e->name[id], root_name(e, nd(e, id)->in[0]), nx, nx);
  row_end(e);
}

static void emit_mean(CEmit *e, int id) {
  long nx = numel(e, nd(e, id)->in[0]);
  row_begin(e, id);
  out(e, "    %s[i] = kern_sum(%s + i * %ld, %ld) / %ld.0f;\n", e->name[id], root_name(e, nd(e, id)->in[0]), nx, nx,
      nx);
  row_end(e);
}

static void emit_mse(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long nx = numel(e, n->in[0]);
  row_begin(e, id);
  out(e, "    %s[i] = kern_sqdiff_sum(%s + i * %ld, %s + i * %ld, %ld) / %ld.0f;\n", e->name[id],
      root_name(e, n->in[0]), nx, root_name(e, n->in[1]), nx, nx, nx);
  row_end(e);
}

static void emit_nll(CEmit *e, int id) {
  const Node *n = nd(e, id);
  row_begin(e, id);
  out(e, "    %s[i] = -%s[i * %ld + (int)%s[i]];\n", e->name[id], root_name(e, n->in[0]), numel(e, n->in[0]),
      root_name(e, n->in[1]));
  row_end(e);
}

static void emit_log_softmax(CEmit *e, int id) {
  const char *x = root_name(e, nd(e, id)->in[0]);
  long nx = numel(e, nd(e, id)->in[0]), no = numel(e, id);
  row_begin(e, id);
  out(e, "    const float *r = %s + i * %ld;\n    float mx = r[0], acc = 0.0f;\n"
         "    for (int k = 1; k < %ld; k++)\n      mx = r[k] > mx ? r[k] : mx;\n"
         "    for (int k = 0; k < %ld; k++)\n      acc += expf(r[k] - mx);\n"
         "    const float lse = mx + logf(acc);\n"
         "    for (int k = 0; k < %ld; k++)\n      %s[i * %ld + k] = r[k] - lse;\n",
      x, nx, nx, nx, nx, e->name[id], no);
  row_end(e);
}

static void emit_log_softmax_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const char *o = e->name[id], *x = root_name(e, n->in[0]);
  long no = numel(e, id);
  row_begin(e, id);
  if (e->f->fold[id] >= 0) {
    // Folded nll_grad(dl, label): dy = -dl at the label, so sum(dy) = -dl
    // and dx = dy + dl * exp(y).
    const Node *m = nd(e, e->f->fold[id]);
    char dl[128];
    operand(e, dl, sizeof dl, m->in[0], true);
    out(e, "    const int lab = (int)%s[i];\n", root_name(e, m->in[1]));
    out(e, "    for (int k = 0; k < %ld; k++)\n"
           "      %s[i * %ld + k] = (k == lab ? -%s : 0.0f) + %s * expf(%s[i * %ld + k]);\n",
        no, o, no, dl, dl, root_name(e, n->in[1]), no);
  } else {
    out(e, "    float acc = 0.0f;\n    for (int k = 0; k < %ld; k++)\n      acc += %s[i * %ld + k];\n", no, x, no);
    out(e, "    for (int k = 0; k < %ld; k++)\n"
           "      %s[i * %ld + k] = %s[i * %ld + k] - expf(%s[i * %ld + k]) * acc;\n",
        no, o, no, x, no, root_name(e, n->in[1]), no);
  }
  row_end(e);
}

static void emit_nll_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long no = numel(e, id);
  char dl[128];
  row_begin(e, id);
  operand(e, dl, sizeof dl, n->in[0], true);
  out(e, "    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = k == (int)%s[i] ? -%s : 0.0f;\n",
      no, e->name[id], no, root_name(e, n->in[1]), dl);
  row_end(e);
}

// ---- Rows ----

const OpDef op_def_SUM = {"sum", 1, .surface = {{"sum", OP_SUM, 1, true, 0, {{0}}}}, .shape = shape_scalar_out,
                          .grad = grad_sum, .kernel = interp_sum, .emit = emit_sum};
const OpDef op_def_MEAN = {"mean", 1, .surface = {{"mean", OP_MEAN, 1, true, 0, {{0}}}},
                           .shape = shape_scalar_out, .grad = grad_mean, .kernel = interp_mean, .emit = emit_mean};
const OpDef op_def_MSE = {"mse", 2, .surface = {{"mse", OP_MSE, 2, false, 0, {{0}}}}, .shape = shape_mse,
                          .grad = grad_mse, .kernel = interp_mse, .emit = emit_mse};
const OpDef op_def_NLL = {"nll", 2, OPF_CLASS_LOSS, .surface = {{"nll", OP_NLL, 2, false, 0, {{0}}}}, .shape = shape_nll,
                          .grad = grad_nll, .kernel = interp_nll, .emit = emit_nll};
const OpDef op_def_LOG_SOFTMAX = {"log_softmax", 1, .surface = {{"log_softmax", OP_LOG_SOFTMAX, 1, true, 0, {{0}}}},
                                  .shape = shape_log_softmax, .grad = grad_log_softmax,
                                  .kernel = interp_log_softmax, .emit = emit_log_softmax};
const OpDef op_def_LOG_SOFTMAX_GRAD = {"log_softmax_grad", 2, .shape = shape_pair,
                                       .kernel = interp_log_softmax_grad, .emit = emit_log_softmax_grad};
const OpDef op_def_NLL_GRAD = {"nll_grad", 2, .shape = shape_nll_grad, .kernel = interp_nll_grad,
                               .emit = emit_nll_grad};
