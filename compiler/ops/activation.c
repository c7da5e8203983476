// activation.c — leaky_relu, elu, gelu and softmax, with PyTorch's
// definitions and defaults, and their gradients: shape rules, gradients,
// interpreter kernels and emitters.
//
// The generated code computes gelu and elu with the kernels' vectorisable
// erf and exp (kern_erff, kern_expf: within 2e-7 of libm's), the
// interpreter with libm's.
//
// leaky_relu and elu differentiate through their output y (as relu does):
// with slope, alpha >= 0, y > 0 exactly when x > 0, so the gradient needs
// no copy of the input, and a layer's epilogue may overwrite it.  gelu's
// derivative is not a function of its output: its gradient reads x.
#include <math.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"
#include "../../runtime/xsmm/kernels_act.h"

// ---- Shape rules ----

// leaky_relu's slope and elu's alpha: a finite value >= 0 (the gradient
// reads the sign of y, see above).
static bool shape_alpha_act(ShapeCx *cx, Shape *out) {
  float a = cx->attr->alpha;
  if (!(a >= 0.0f) || !isfinite(a))
    return shape_error(cx, "%s: %s must be a finite number >= 0, got %g", cx->op,
                       !strcmp(cx->op, "elu") ? "alpha" : "slope", a);
  *out = cx->in[0];
  return true;
}

static bool shape_same(ShapeCx *cx, Shape *out) {
  *out = cx->in[0];
  return true;
}

static bool shape_softmax(ShapeCx *cx, Shape *out) {
  char s1[64];
  if (cx->in[0].rank != 1)
    return shape_error(cx, "softmax expects a 1-D input [N] (it normalises over that axis), got %s; flatten first",
                       shape_str(cx->in[0], s1));
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

// ---- Gradients ----

static int grad_with_alpha(AdState *ad, OpKind op, const Node *n, int dy, int y) {
  float alpha = n->attr.alpha;
  int id = ad_ew(ad, op, n->shape, 2, dy, y, 0);
  ad_at(ad, id)->attr.alpha = alpha;
  return id;
}

static int grad_leaky_relu(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return grad_with_alpha(ad, OP_LEAKY_RELU_GRAD, n, dy, n->id);
}

static int grad_elu(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return grad_with_alpha(ad, OP_ELU_GRAD, n, dy, n->id);
}

static int grad_gelu(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_GELU_GRAD, n->shape, 2, dy, n->in[0], 0);
}

static int grad_softmax(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_SOFTMAX_GRAD, n->shape, 2, dy, n->id, 0);
}

// ---- Interpreter kernels ----

// As elementwise.c: only very big loops are split over threads.
#define PAR_MIN (1 << 20)

// The expressions, shared by the kernels below; the emitters write the
// same ones in C.  a = attr.alpha.  gelu is torch's exact form,
// x/2 (1 + erf(x / sqrt 2)); its derivative Phi(x) + x phi(x).
static inline float leaky_relu(float x, float a) { return x > 0.0f ? x : x * a; }
static inline float elu(float x, float a) { return x > 0.0f ? x : a * expm1f(x); }
static inline float gelu(float x) { return x * 0.5f * (1.0f + erff(x * (float)M_SQRT1_2)); }
static inline float gelu_grad(float d, float x) {
  float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
  float pdf = expf(-0.5f * x * x) * (float)(M_2_SQRTPI * M_SQRT1_2 * 0.5);
  return d * (cdf + x * pdf);
}

// One-input maps over all the node's elements (a = the node's alpha).
#define UNARY(fn, expr)                                                         \
  static void fn(Interp *ip, const Node *n, float *out, const float *const *in) { \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *x = in[0];                                                     \
    float a = n->attr.alpha;                                                    \
    (void)a;                                                                    \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++)                                          \
      out[k] = (expr);                                                          \
  }

UNARY(interp_leaky_relu, leaky_relu(x[k], a))
UNARY(interp_elu, elu(x[k], a))
UNARY(interp_gelu, gelu(x[k]))

// Two-input maps: (dy, y) or (dy, x) of the same shape and batching.
#define PAIR(fn, expr)                                                          \
  static void fn(Interp *ip, const Node *n, float *out, const float *const *in) { \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *d = in[0], *y = in[1];                                         \
    float a = n->attr.alpha;                                                    \
    (void)a;                                                                    \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++)                                          \
      out[k] = (expr);                                                          \
  }

PAIR(interp_leaky_relu_grad, y[k] > 0.0f ? d[k] : d[k] * a)
PAIR(interp_elu_grad, y[k] > 0.0f ? d[k] : d[k] * (y[k] + a))
PAIR(interp_gelu_grad, gelu_grad(d[k], y[k]))

// Per row of K: exp(x - max) / sum, the sum in double.
static void interp_softmax(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[0];
  for (int r = 0; r < interp_rows(ip, n); r++) {
    const float *x = in[0] + (size_t)r * K;
    float *y = out + (size_t)r * K, mx = x[0];
    for (int k = 1; k < K; k++)
      mx = x[k] > mx ? x[k] : mx;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += y[k] = expf(x[k] - mx);
    for (int k = 0; k < K; k++)
      y[k] = (float)(y[k] / s);
  }
}

// dx = y (dy - sum(dy y)), per row.
static void interp_softmax_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[0];
  for (int r = 0; r < interp_rows(ip, n); r++) {
    const float *dy = in[0] + (size_t)r * K, *y = in[1] + (size_t)r * K;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += (double)dy[k] * y[k];
    for (int k = 0; k < K; k++)
      out[(size_t)r * K + k] = y[k] * (dy[k] - (float)s);
  }
}

// ---- Emitters ----

static void ew_begin(CEmit *e, int id, char *a, char *b) {
  const Node *n = nd(e, id);
  if (n->nin > 0) operand(e, a, 128, n->in[0], n->batched);
  if (n->nin > 1) operand(e, b, 128, n->in[1], n->batched);
  open_loops(e, id);
  store(e, id);
}

static void emit_leaky_relu(CEmit *e, int id) {
  char a[128] = "", b[128] = "", s[48];
  ew_begin(e, id, a, b);
  out(e, "%s > 0.0f ? %s : %s * %s;\n", a, a, a, flit(s, sizeof s, nd(e, id)->attr.alpha));
}

static void emit_elu(CEmit *e, int id) {
  char a[128] = "", b[128] = "", s[48];
  ew_begin(e, id, a, b);
  out(e, "%s > 0.0f ? %s : %s * (kern_expf(%s) - 1.0f);\n", a, a, flit(s, sizeof s, nd(e, id)->attr.alpha), a);
}

static void emit_gelu(CEmit *e, int id) {
  char a[128] = "", b[128] = "";
  ew_begin(e, id, a, b);
  out(e, "%s * 0.5f * (1.0f + kern_erff(%s * (float)M_SQRT1_2));\n", a, a);
}

static void emit_leaky_relu_grad(CEmit *e, int id) {
  char a[128] = "", b[128] = "", s[48];
  ew_begin(e, id, a, b);
  out(e, "%s > 0.0f ? %s : %s * %s;\n", b, a, a, flit(s, sizeof s, nd(e, id)->attr.alpha));
}

static void emit_elu_grad(CEmit *e, int id) {
  char a[128] = "", b[128] = "", s[48];
  ew_begin(e, id, a, b);
  out(e, "%s > 0.0f ? %s : %s * (%s + %s);\n", b, a, a, b, flit(s, sizeof s, nd(e, id)->attr.alpha));
}

static void emit_gelu_grad(CEmit *e, int id) {
  char a[128] = "", b[128] = "";
  ew_begin(e, id, a, b);
  out(e, "%s * (0.5f * (1.0f + kern_erff(%s * (float)M_SQRT1_2)) + %s * (kern_expf(-0.5f * %s * %s) * "
         "(float)(M_2_SQRTPI * M_SQRT1_2 * 0.5)));\n", a, b, b, b, b);
}

static void emit_softmax(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!nd(e, n->in[0])->batched)
    fail(n, "softmax of an unbatched value is not supported");
  const char *x = root_name(e, n->in[0]), *y = e->name[id];
  long K = numel(e, id);
  out(e, "  for (int i = 0; i < nc; i++) {\n"
         "    const float *r = %s + i * %ld;\n    float *o = %s + i * %ld, mx = r[0];\n"
         "    for (int k = 1; k < %ld; k++)\n      mx = r[k] > mx ? r[k] : mx;\n"
         "    double s = 0;\n    for (int k = 0; k < %ld; k++)\n      s += o[k] = expf(r[k] - mx);\n"
         "    for (int k = 0; k < %ld; k++)\n      o[k] = (float)(o[k] / s);\n  }\n",
      x, K, y, K, K, K, K);
}

static void emit_softmax_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const char *d = root_name(e, n->in[0]), *y = root_name(e, n->in[1]), *o = e->name[id];
  long K = numel(e, id);
  out(e, "  for (int i = 0; i < nc; i++) {\n"
         "    const float *dy = %s + i * %ld, *y = %s + i * %ld;\n    double s = 0;\n"
         "    for (int k = 0; k < %ld; k++)\n      s += (double)dy[k] * y[k];\n"
         "    for (int k = 0; k < %ld; k++)\n      %s[i * %ld + k] = y[k] * (dy[k] - (float)s);\n  }\n",
      d, K, y, K, K, K, o, K);
}

static void print_alpha(FILE *out, const Node *n) { fprintf(out, " alpha=%g", n->attr.alpha); }

// ---- Rows ----
//
// Element-wise facts (ops.h): leaky_relu, elu and gelu may end in a
// product (slope x, alpha expm1(x), x/2 (...)).  leaky_relu_grad's and elu_grad's values end
// in a product on one side of their select, so they count as products;
// elu_grad adds y + alpha, which reads input 1.  gelu_grad adds cdf + x
// pdf, its own product, never one of its inputs'.

const OpDef op_def_LEAKY_RELU = {"leaky_relu", 1, OPF_EW | OPF_EW_PRODUCT,
                                 .act = KERN_ACT_LEAKY_RELU, .act_name = "leaky_relu",
                                 .surface = {{"leaky_relu", OP_LEAKY_RELU, 1, true, 1,
                                              {ATTR_OPT("slope", A_REAL, 0.01, alpha)}}},
                                 .shape = shape_alpha_act, .grad = grad_leaky_relu, .kernel = interp_leaky_relu,
                                 .emit = emit_leaky_relu, .print_attrs = print_alpha};
const OpDef op_def_ELU = {"elu", 1, OPF_EW | OPF_EW_PRODUCT, .act = KERN_ACT_ELU, .act_name = "elu",
                          .surface = {{"elu", OP_ELU, 1, true, 1, {ATTR_OPT("alpha", A_REAL, 1, alpha)}}},
                          .shape = shape_alpha_act, .grad = grad_elu, .kernel = interp_elu, .emit = emit_elu,
                          .print_attrs = print_alpha};
const OpDef op_def_GELU = {"gelu", 1, OPF_EW | OPF_EW_PRODUCT, .surface = {{"gelu", OP_GELU, 1, true, 0, {{0}}}},
                           .shape = shape_same, .grad = grad_gelu, .kernel = interp_gelu, .emit = emit_gelu};
const OpDef op_def_SOFTMAX = {"softmax", 1, .surface = {{"softmax", OP_SOFTMAX, 1, true, 0, {{0}}}},
                              .shape = shape_softmax, .grad = grad_softmax, .kernel = interp_softmax,
                              .emit = emit_softmax};
const OpDef op_def_LEAKY_RELU_GRAD = {"leaky_relu_grad", 2, OPF_EW | OPF_EW_PRODUCT, .shape = shape_pair,
                                      .kernel = interp_leaky_relu_grad, .emit = emit_leaky_relu_grad,
                                      .print_attrs = print_alpha};
const OpDef op_def_ELU_GRAD = {"elu_grad", 2, OPF_EW | OPF_EW_PRODUCT, .ew_addsub = 2, .shape = shape_pair,
                               .kernel = interp_elu_grad, .emit = emit_elu_grad, .print_attrs = print_alpha};
const OpDef op_def_GELU_GRAD = {"gelu_grad", 2, OPF_EW | OPF_EW_PRODUCT, .shape = shape_pair,
                                .kernel = interp_gelu_grad, .emit = emit_gelu_grad};
const OpDef op_def_SOFTMAX_GRAD = {"softmax_grad", 2, .shape = shape_pair, .kernel = interp_softmax_grad,
                                   .emit = emit_softmax_grad};
