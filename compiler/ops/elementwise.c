// elementwise.c — activations, arithmetic and their gradients: shape
// rules, gradients, interpreter kernels and emitters.
//
// A value of a batched node is [n, numel] (example-major); an unbatched one
// is [numel] and is shared by every example.  Binary ops take equal shapes
// or one scalar side, and either side may be batched or shared.
#include <math.h>

#include "autodiff.h"
#include "emitter.h"
#include "../../runtime/xsmm/kernels_act.h"

// ---- Shape rules ----

static bool shape_same(ShapeCx *cx, Shape *out) {
  *out = cx->in[0];
  return true;
}

// Binary element-wise: equal shapes, or one side a scalar.
static bool shape_binary(ShapeCx *cx, Shape *out) {
  Shape a = cx->in[0], b = cx->in[1];
  if (shape_eq(a, b) || b.rank == 0)
    *out = a;
  else if (a.rank == 0)
    *out = b;
  else
    return shape_error(cx, "%s: shapes differ and neither is a scalar", cx->op);
  return true;
}

// (dy, y) pairs of equal shape.
static bool shape_pair(ShapeCx *cx, Shape *out) {
  if (!shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "%s: dy and y differ in shape", cx->op);
  *out = cx->in[0];
  return true;
}

static bool shape_mse_grad(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank != 0 || !shape_eq(cx->in[1], cx->in[2]))
    return shape_error(cx, "mse_grad: needs a scalar dl and two equal shapes");
  *out = cx->in[1];
  return true;
}

// ---- Gradients ----

// The activations' rules read the forward output y (= n itself).
static int grad_relu(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_RELU_GRAD, n->shape, 2, dy, n->id, 0);
}

static int grad_sigmoid(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_SIGMOID_GRAD, n->shape, 2, dy, n->id, 0);
}

static int grad_tanh(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_TANH_GRAD, n->shape, 2, dy, n->id, 0);
}

// d exp(x) = exp(x) dx = y dx.
static int grad_exp(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_MUL, n->shape, 2, dy, n->id, 0);
}

// d log(x) = dx / x.
static int grad_log(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_DIV, n->shape, 2, dy, n->in[0], 0);
}

static int grad_neg(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_NEG, n->shape, 1, dy, 0, 0);
}

static int grad_add(AdState *ad, const Node *n, int which, int dy) {
  (void)ad; (void)n; (void)which;
  return dy;
}

static int grad_sub(AdState *ad, const Node *n, int which, int dy) {
  return which == 0 ? dy : ad_ew(ad, OP_NEG, n->shape, 1, dy, 0, 0);
}

// d(a b) = b da + a db (the other side may be a scalar: dy's shape is kept
// and the fit sums it down).
static int grad_mul(AdState *ad, const Node *n, int which, int dy) {
  return ad_ew(ad, OP_MUL, n->shape, 2, dy, n->in[1 - which], 0);
}

// d(a / b) = da / b - (a / b) db / b = da / b - y db / b.
static int grad_div(AdState *ad, const Node *n, int which, int dy) {
  if (which == 0)
    return ad_ew(ad, OP_DIV, n->shape, 2, dy, n->in[1], 0);
  int t = ad_ew(ad, OP_MUL, n->shape, 2, dy, n->id, 0);
  t = ad_ew(ad, OP_DIV, n->shape, 2, t, n->in[1], 0);
  return ad_ew(ad, OP_NEG, n->shape, 1, t, 0, 0);
}

// ---- Interpreter kernels ----

static const Node *input(const Interp *ip, const Node *n, int j) { return &ip->g->nodes[n->in[j]]; }

// Offset of example i in a node's value: 0 when the value is shared.
static size_t at(const Node *n, int i) {
  return n->batched ? (size_t)i * (size_t)shape_numel(n->shape) : 0;
}

// Only very big loops are split over threads.  These loops are memory-bound
// and cheap next to the layers, and every parallel region costs a
// fork/join, which on a loaded machine means waiting for the other thread
// to be scheduled; at batch 256 the autoencoder's largest (401,408
// floats) runs on one thread.
#define PAR_MIN (1 << 20)

// One-input maps over all the node's elements.
#define UNARY(fn, expr)                                                         \
  static void fn(Interp *ip, const Node *n, float *out, const float *const *in) { \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *a = in[0];                                                     \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++) {                                        \
      float x = a[k];                                                           \
      out[k] = (expr);                                                          \
    }                                                                           \
  }

UNARY(interp_relu, x > 0.0f ? x : 0.0f)
UNARY(interp_sigmoid, 1.0f / (1.0f + expf(-x)))
UNARY(interp_tanh, tanhf(x))
UNARY(interp_exp, expf(x))
UNARY(interp_log, logf(x))
UNARY(interp_neg, -x)

// Two-input maps: (dy, y) pairs of the same shape and batching.
#define PAIR(fn, expr)                                                          \
  static void fn(Interp *ip, const Node *n, float *out, const float *const *in) { \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *d = in[0], *y = in[1];                                         \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++)                                          \
      out[k] = (expr);                                                          \
  }

// dy read whatever y is (kernels.h, kern_relu_grad: a conditional read
// is miscompiled by gcc 12.2 for AVX2).
static inline float relu_grad(float y, float dy) { return y > 0.0f ? dy : 0.0f; }
PAIR(interp_relu_grad, relu_grad(y[k], d[k]))
PAIR(interp_sigmoid_grad, d[k] * y[k] * (1.0f - y[k]))
PAIR(interp_tanh_grad, d[k] * (1.0f - y[k] * y[k]))

// add/sub/mul/div with either side batched or shared, and either side
// possibly a scalar broadcast over the other.
static void interp_binary(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *na = input(ip, n, 0), *nb = input(ip, n, 1);
  size_t m = (size_t)shape_numel(n->shape);
  int sa = shape_numel(na->shape) == (int64_t)m, sb = shape_numel(nb->shape) == (int64_t)m;  // 0: scalar side
  int rows = interp_rows(ip, n);
  OpKind op = n->op;
#pragma omp parallel for schedule(static) if ((size_t)rows * m > PAR_MIN)
  for (int i = 0; i < rows; i++) {
    const float *a = in[0] + at(na, i), *b = in[1] + at(nb, i);
    float *o = out + (size_t)i * m;
    for (size_t k = 0; k < m; k++) {
      float x = a[sa ? k : 0], y = b[sb ? k : 0];
      switch (op) {
      case OP_ADD: o[k] = x + y; break;
      case OP_SUB: o[k] = x - y; break;
      case OP_MUL: o[k] = x * y; break;
      default: o[k] = x / y; break;
      }
    }
  }
}

// (dl, a, b) -> dl * 2 (a - b) / numel.
static void interp_mse_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *nl = input(ip, n, 0), *na = input(ip, n, 1), *nb = input(ip, n, 2);
  size_t m = (size_t)shape_numel(n->shape);
  int rows = interp_rows(ip, n);
#pragma omp parallel for schedule(static) if ((size_t)rows * m > PAR_MIN)
  for (int i = 0; i < rows; i++) {
    const float *a = in[1] + at(na, i), *b = in[2] + at(nb, i);
    float c = in[0][at(nl, i)] * 2.0f / (float)m;
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = c * (a[k] - b[k]);
  }
}

// ---- Emitters ----

// The loops over node id's elements and the start of its store, with the
// operands a and b (its inputs 0 and 1, when it has them).
static void ew_begin(CEmit *e, int id, char *a, char *b) {
  const Node *n = nd(e, id);
  if (n->nin > 0) operand(e, a, 128, n->in[0], n->batched);
  if (n->nin > 1) operand(e, b, 128, n->in[1], n->batched);
  open_loops(e, id);
  store(e, id);
}

#define EMIT_EW(fn, fmt, ...)                                                   \
  static void fn(CEmit *e, int id) {                                            \
    char a[128] = "", b[128] = "";                                              \
    ew_begin(e, id, a, b);                                                      \
    out(e, fmt ";\n", __VA_ARGS__);                                             \
  }

EMIT_EW(emit_relu, "%s > 0.0f ? %s : 0.0f", a, a)
EMIT_EW(emit_sigmoid, "1.0f / (1.0f + expf(-%s))", a)
EMIT_EW(emit_tanh, "tanhf(%s)", a)
EMIT_EW(emit_exp, "expf(%s)", a)
EMIT_EW(emit_log, "logf(%s)", a)
EMIT_EW(emit_neg, "-%s", a)
EMIT_EW(emit_add, "%s + %s", a, b)
EMIT_EW(emit_sub, "%s - %s", a, b)
EMIT_EW(emit_mul, "%s * %s", a, b)
EMIT_EW(emit_div, "%s / %s", a, b)
EMIT_EW(emit_relu_grad, "kern_relu_grad(%s, %s)", b, a)   // kernels.h: why a call
EMIT_EW(emit_tanh_grad, "%s * (1.0f - %s * %s)", a, b, b)

static void emit_sigmoid_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char a[128] = "", b[128] = "";
  if (e->f->fold[id] >= 0) {
    // Folded mse_grad(dl, y, t): dy = dl * 2 (y - t) / numel.
    char c[128], d[128];
    bool bl = n->batched;
    const Node *m = nd(e, e->f->fold[id]);
    operand(e, b, sizeof b, n->in[1], bl);
    operand(e, a, sizeof a, m->in[0], bl);
    operand(e, c, sizeof c, m->in[1], bl);
    operand(e, d, sizeof d, m->in[2], bl);
    open_loops(e, id);
    store(e, id);
    out(e, "(%s * 2.0f * (%s - %s) / %ld.0f) * %s * (1.0f - %s);\n", a, c, d,
        (long)shape_numel(nd(e, m->in[1])->shape), b, b);
    return;
  }
  ew_begin(e, id, a, b);
  out(e, "%s * %s * (1.0f - %s);\n", a, b, b);
}

static void emit_mse_grad(CEmit *e, int id) {
  char a[128] = "", b[128] = "", c[128] = "";
  const Node *n = nd(e, id);
  ew_begin(e, id, a, b);
  operand(e, c, sizeof c, n->in[2], n->batched);
  out(e, "%s * 2.0f * (%s - %s) / %ld.0f;\n", a, b, c, numel(e, id));
}

// ---- Rows ----
//
// The element-wise facts (ops.h) follow the emitters' expressions above:
// add and sub add their inputs, sigmoid_grad computes 1 - y, mse_grad
// a - b; mul, sigmoid_grad and tanh_grad end in a multiplication.
// tanh_grad's 1 - y * y contracts y * y, its own product, as it does in
// a loop of its own, never the product that computed y.  relu's select and
// div, exp, log, tanh and sigmoid's calls and divisions never contract.

#define ACTIVATION(nm, ID) {nm, OP_##ID, 1, true, 0, {{0}}}

const OpDef op_def_RELU = {"relu", 1, OPF_EW, .act = KERN_ACT_RELU, .act_name = "relu", .surface = {ACTIVATION("relu", RELU)},
                           .shape = shape_same, .grad = grad_relu, .kernel = interp_relu, .emit = emit_relu};
const OpDef op_def_SIGMOID = {"sigmoid", 1, OPF_EW, .act = KERN_ACT_SIGMOID, .act_name = "sigmoid",
                              .surface = {ACTIVATION("sigmoid", SIGMOID)}, .shape = shape_same,
                              .grad = grad_sigmoid, .kernel = interp_sigmoid, .emit = emit_sigmoid};
const OpDef op_def_TANH = {"tanh", 1, OPF_EW, .act = KERN_ACT_TANH, .act_name = "tanh", .surface = {ACTIVATION("tanh", TANH)},
                           .shape = shape_same, .grad = grad_tanh, .kernel = interp_tanh, .emit = emit_tanh};
const OpDef op_def_EXP = {"exp", 1, OPF_EW, .surface = {ACTIVATION("exp", EXP)}, .shape = shape_same, .grad = grad_exp,
                          .kernel = interp_exp, .emit = emit_exp, .fold = exp};
const OpDef op_def_LOG = {"log", 1, OPF_EW, .surface = {ACTIVATION("log", LOG)}, .shape = shape_same, .grad = grad_log,
                          .kernel = interp_log, .emit = emit_log, .fold = log};
// The operators - + - * / of the language (check.c's expressions).
const OpDef op_def_NEG = {"neg", 1, OPF_EW | OPF_EW_PASS, .shape = shape_same, .grad = grad_neg, .kernel = interp_neg, .emit = emit_neg};
const OpDef op_def_ADD = {"add", 2, OPF_EW, .ew_addsub = 3, .shape = shape_binary, .grad = grad_add, .kernel = interp_binary,
                          .emit = emit_add};
const OpDef op_def_SUB = {"sub", 2, OPF_EW, .ew_addsub = 3, .shape = shape_binary, .grad = grad_sub, .kernel = interp_binary,
                          .emit = emit_sub};
const OpDef op_def_MUL = {"mul", 2, OPF_EW | OPF_EW_PRODUCT, .shape = shape_binary, .grad = grad_mul, .kernel = interp_binary,
                          .emit = emit_mul};
const OpDef op_def_DIV = {"div", 2, OPF_EW, .shape = shape_binary, .grad = grad_div, .kernel = interp_binary,
                          .emit = emit_div};
const OpDef op_def_RELU_GRAD = {"relu_grad", 2, OPF_EW, .shape = shape_pair, .kernel = interp_relu_grad,
                                .emit = emit_relu_grad};
const OpDef op_def_SIGMOID_GRAD = {"sigmoid_grad", 2, OPF_EW | OPF_EW_PRODUCT, .ew_addsub = 2, .shape = shape_pair, .kernel = interp_sigmoid_grad,
                                   .emit = emit_sigmoid_grad};
const OpDef op_def_TANH_GRAD = {"tanh_grad", 2, OPF_EW | OPF_EW_PRODUCT, .shape = shape_pair, .kernel = interp_tanh_grad,
                                .emit = emit_tanh_grad};
const OpDef op_def_MSE_GRAD = {"mse_grad", 3, OPF_EW, .ew_addsub = 6, .shape = shape_mse_grad, .kernel = interp_mse_grad,
                               .emit = emit_mse_grad};
