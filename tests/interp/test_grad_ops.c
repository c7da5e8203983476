// test_grad_ops.c — finite-difference check of every differentiable op,
// each in a small hand-built graph on a batch of 3, plus autodiff's
// structural promises: accumulation of a value used twice, no gradient
// work for frozen parameters or inputs, and a located error for an op
// without a gradient rule on a parameter's path.
//
// Each graph feeds the op under test from trainable parameters (a batched
// operand is x = input + P, so P's gradient is the batch sum of x's), and
// ends in loss = sum(y * R) with R a frozen random tensor, so every output
// element gets a distinct weight.
#include "gradcheck.h"
#include "../check.h"

#include <cblas.h>
#include <omp.h>

// The graphs here are compiler memory, never freed, as in netc (ir.c,
// which allocates them, turns LeakSanitizer off).

#define BATCH 3
#define BIG_BATCH 37   // > the interpreter's chunk of 32: two chunks, the last ragged
#define TOL 3e-3   // see gradcheck.h; observed worst ~5e-4

static Graph *g;
static int nparam_names;
static const SrcLoc here = {"test_grad_ops.c", 1, 1};

static int param(Shape s, bool frozen) {
  char *name = malloc(16);
  snprintf(name, 16, "p%d", nparam_names++);
  return ir_add_param(g, name, s, frozen, 1, here);
}

static Shape S(int rank, int a, int b, int c) { return shape_make(rank, (int[]){a, b, c}); }

static int node(OpKind op, Shape s, bool batched, int nin, int a, int b, int c) {
  return ir_add(g, op, (int[]){a, b, c}, nin, s, batched, here);
}

static bool is_batched(int id) { return g->nodes[id].batched; }

// The graph's (single) input, of shape s.
static int input(Shape s) {
  g->input = node(OP_INPUT, s, true, 0, 0, 0, 0);
  return g->input;
}

// x = input + P: batched, differentiable through P.
static int operand(Shape s) { return node(OP_ADD, s, true, 2, input(s), param(s, false), 0); }

// A second batched operand when the input is taken: (P1 * input) + P2.
static int operand2(int in) {
  Shape s = g->nodes[in].shape;
  int t = node(OP_MUL, s, true, 2, in, param(s, false), 0);
  return node(OP_ADD, s, true, 2, t, param(s, false), 0);
}

static int konst(float v) {
  int id = node(OP_CONST, shape_scalar(), false, 0, 0, 0, 0);
  g->nodes[id].attr.scalar = v;
  return id;
}

static void finish(int y) {
  Shape s = g->nodes[y].shape;
  if (s.rank == 0 && is_batched(y)) {
    g->loss = y;
    return;
  }
  int r = param(s, true);
  int m = node(OP_MUL, s, true, 2, y, r, 0);
  g->loss = node(OP_SUM, shape_scalar(), true, 1, m, 0, 0);
}

static void begin(void) {
  g = ir_new("test", "test_grad_ops.c");
  nparam_names = 0;
}

static int layer(OpKind op, int x, Shape w, int out, int k, int s, int p, int op_) {
  Shape xs = g->nodes[x].shape;
  int wn = param(w, false), bn = param(S(1, out, 0, 0), false);
  int id = node(op, xs, true, 3, x, wn, bn);
  Node *n = &g->nodes[id];
  n->attr = (Attrs){.k = k, .stride = s, .pad = p, .outpad = op_, .out = out};
  char err[256];
  op_node_shape(g, n, &n->shape, err);
  return id;
}

// A conv2d / deconv2d with any attributes (rectangular, dilated, grouped),
// its weight w, and a bias unless bias is false (then the node is (x, w)).
static int layer_with(OpKind op, int x, Shape w, Attrs a, bool bias) {
  Shape xs = g->nodes[x].shape;
  int wn = param(w, false);
  int id = bias ? node(op, xs, true, 3, x, wn, param(S(1, a.out, 0, 0), false)) : node(op, xs, true, 2, x, wn, 0);
  Node *n = &g->nodes[id];
  n->attr = a;
  char err[256];
  if (!op_node_shape(g, n, &n->shape, err)) {
    fprintf(stderr, "layer_with: %s\n", err);
    exit(1);
  }
  return id;
}

// ---- The cases.  Each builds g and returns a name.

static const char *t_conv_s2p1(void) { begin(); finish(layer(OP_CONV2D, operand(S(3, 2, 5, 5)), shape_make(4, (int[]){3, 2, 3, 3}), 3, 3, 2, 1, 0)); return "conv2d k3 s2 p1"; }
static const char *t_conv_s1p0(void) { begin(); finish(layer(OP_CONV2D, operand(S(3, 2, 5, 5)), shape_make(4, (int[]){3, 2, 3, 3}), 3, 3, 1, 0, 0)); return "conv2d k3 s1 p0"; }
static const char *t_conv_s2p0(void) { begin(); finish(layer(OP_CONV2D, operand(S(3, 2, 6, 6)), shape_make(4, (int[]){4, 2, 3, 3}), 4, 3, 2, 0, 0)); return "conv2d k3 s2 p0 (uneven)"; }
static const char *t_deconv_s2p0(void) { begin(); finish(layer(OP_DECONV2D, operand(S(3, 3, 3, 3)), shape_make(4, (int[]){3, 2, 3, 3}), 2, 3, 2, 0, 0)); return "deconv2d k3 s2 p0"; }
static const char *t_deconv_s2p1o1(void) { begin(); finish(layer(OP_DECONV2D, operand(S(3, 3, 4, 4)), shape_make(4, (int[]){3, 2, 3, 3}), 2, 3, 2, 1, 1)); return "deconv2d k3 s2 p1 op1"; }
static const char *t_conv_rect_dil_g2(void) {
  begin();
  Attrs a = {.k = 2, .kw = 3, .stride = 2, .stridew = 1, .pad = 1, .padw = 0, .dil = 1, .dilw = 2, .groups = 2, .out = 4};
  finish(layer_with(OP_CONV2D, operand(S(3, 4, 6, 7)), shape_make(4, (int[]){4, 2, 2, 3}), a, true));
  return "conv2d k2x3 s2x1 p1x0 d1x2 g2";
}
static const char *t_conv_depthwise_nobias(void) {
  begin();
  Attrs a = {.k = 3, .stride = 1, .pad = 2, .dil = 2, .groups = 3, .out = 6};
  finish(layer_with(OP_CONV2D, operand(S(3, 3, 5, 5)), shape_make(4, (int[]){6, 1, 3, 3}), a, false));
  return "conv2d depthwise x2 p2 d2 nobias";
}
static const char *t_deconv_rect_g2_nobias(void) {
  begin();
  Attrs a = {.k = 3, .kw = 2, .stride = 2, .stridew = 1, .pad = 1, .padw = 0, .outpad = 1, .outpadw = 1,
             .dil = 1, .dilw = 2, .groups = 2, .out = 2};
  finish(layer_with(OP_DECONV2D, operand(S(3, 4, 3, 4)), shape_make(4, (int[]){4, 1, 3, 2}), a, false));
  return "deconv2d k3x2 s2x1 op1 d1x2 g2 nobias";
}
static const char *t_deconv_dil_g2(void) {
  begin();
  Attrs a = {.k = 2, .stride = 2, .pad = 1, .dil = 2, .groups = 2, .out = 4};
  finish(layer_with(OP_DECONV2D, operand(S(3, 2, 3, 3)), shape_make(4, (int[]){2, 2, 2, 2}), a, true));
  return "deconv2d k2 s2 p1 d2 g2";
}
static const char *t_dense(void) { begin(); finish(layer(OP_DENSE, operand(S(1, 7, 0, 0)), S(2, 5, 7, 0), 5, 0, 0, 0, 0)); return "dense"; }

static const char *t_reshape(void) {
  begin();
  int x = operand(S(3, 2, 3, 3));
  finish(node(OP_RESHAPE, S(1, 18, 0, 0), true, 1, x, 0, 0));
  return "reshape";
}

// Unary ops on x = input + P with inputs chosen away from kinks and poles.
static const char *unary(OpKind op, float lo, float hi, const char *name) {
  begin();
  int x = operand(S(2, 4, 5, 0));
  finish(node(op, S(2, 4, 5, 0), true, 1, x, 0, 0));
  (void)lo, (void)hi;
  return name;
}
static const char *t_relu(void) { return unary(OP_RELU, 0, 0, "relu"); }
static const char *t_sigmoid(void) { return unary(OP_SIGMOID, 0, 0, "sigmoid"); }
static const char *t_tanh(void) { return unary(OP_TANH, 0, 0, "tanh"); }
static const char *t_exp(void) { return unary(OP_EXP, 0, 0, "exp"); }
static const char *t_log(void) { return unary(OP_LOG, 0, 0, "log"); }
static const char *t_neg(void) { return unary(OP_NEG, 0, 0, "neg"); }

// Binary ops: batched (op) batched.
static const char *binary(OpKind op, const char *name) {
  begin();
  int a = operand(S(1, 6, 0, 0));
  int b = operand2(a);
  finish(node(op, S(1, 6, 0, 0), true, 2, a, b, 0));
  return name;
}
static const char *t_add(void) { return binary(OP_ADD, "add"); }
static const char *t_sub(void) { return binary(OP_SUB, "sub"); }
static const char *t_mul(void) { return binary(OP_MUL, "mul"); }
static const char *t_div(void) { return binary(OP_DIV, "div"); }

// Binary ops with a shared scalar parameter on one side: the fit sums the
// contribution over the elements (SUM) and over the batch (SUM_BATCH).
static const char *scalar_side(OpKind op, int scalar_first, const char *name) {
  begin();
  int a = operand(S(1, 6, 0, 0));
  int s = param(shape_scalar(), false);
  int y = scalar_first ? node(op, S(1, 6, 0, 0), true, 2, s, a, 0) : node(op, S(1, 6, 0, 0), true, 2, a, s, 0);
  finish(y);
  return name;
}
static const char *t_mul_scalar(void) { return scalar_side(OP_MUL, 1, "mul by a scalar parameter"); }
static const char *t_div_scalar(void) { return scalar_side(OP_DIV, 0, "div by a scalar parameter"); }
static const char *t_sub_scalar(void) { return scalar_side(OP_SUB, 1, "scalar parameter minus a tensor"); }

// A constant side, as in 0.5 * logvar.
static const char *t_mul_const(void) {
  begin();
  int a = operand(S(1, 6, 0, 0));
  finish(node(OP_MUL, S(1, 6, 0, 0), true, 2, konst(0.5f), a, 0));
  return "const * tensor";
}

// x * x: both inputs are the same node, the contributions are added.
static const char *t_square(void) {
  begin();
  int a = operand(S(1, 6, 0, 0));
  finish(node(OP_MUL, S(1, 6, 0, 0), true, 2, a, a, 0));
  return "x * x (accumulation)";
}

static const char *t_log_softmax(void) {
  begin();
  int x = operand(S(1, 10, 0, 0));
  finish(node(OP_LOG_SOFTMAX, S(1, 10, 0, 0), true, 1, x, 0, 0));
  return "log_softmax";
}

static const char *t_sum(void) { begin(); finish(node(OP_SUM, shape_scalar(), true, 1, operand(S(2, 3, 4, 0)), 0, 0)); return "sum"; }
static const char *t_mean(void) { begin(); finish(node(OP_MEAN, shape_scalar(), true, 1, operand(S(2, 3, 4, 0)), 0, 0)); return "mean"; }

static const char *t_mse(void) {
  begin();
  int a = operand(S(3, 1, 4, 4));
  int b = operand2(a);
  finish(node(OP_MSE, shape_scalar(), true, 2, a, b, 0));
  return "mse (both sides)";
}

static const char *t_nll(void) {
  begin();
  int x = operand(S(1, 10, 0, 0));
  int lp = node(OP_LOG_SOFTMAX, S(1, 10, 0, 0), true, 1, x, 0, 0);
  g->label = node(OP_LABEL, shape_scalar(), true, 0, 0, 0, 0);
  finish(node(OP_NLL, shape_scalar(), true, 2, lp, g->label, 0));
  return "nll(log_softmax)";
}

// The reparameterisation: mu + exp(0.5 * logvar) * normal, then a KL-like
// term that reads mu and logvar again (each used twice).
static const char *t_reparam(void) {
  begin();
  Shape s = S(1, 5, 0, 0);
  int h = operand(S(1, 4, 0, 0));
  int mu = layer(OP_DENSE, h, S(2, 5, 4, 0), 5, 0, 0, 0, 0);
  int lv = layer(OP_DENSE, h, S(2, 5, 4, 0), 5, 0, 0, 0, 0);
  int e = node(OP_EXP, s, true, 1, node(OP_MUL, s, true, 2, konst(0.5f), lv, 0), 0, 0);
  int z = node(OP_ADD, s, true, 2, mu, node(OP_MUL, s, true, 2, e, node(OP_NORMAL, s, true, 0, 0, 0, 0), 0), 0);
  int kl = node(OP_SUB, s, true, 2, node(OP_ADD, s, true, 2, node(OP_EXP, s, true, 1, lv, 0, 0),
                                         node(OP_MUL, s, true, 2, mu, mu, 0), 0), lv, 0);
  int r = param(s, true);
  int l1 = node(OP_SUM, shape_scalar(), true, 1, node(OP_MUL, s, true, 2, z, r, 0), 0, 0);
  int l2 = node(OP_MEAN, shape_scalar(), true, 1, kl, 0, 0);
  g->loss = node(OP_ADD, shape_scalar(), true, 2, l1, l2, 0);
  return "reparameterisation + KL (normal, reuse)";
}

// The activations with an attribute (leaky_relu's slope, elu's alpha).
static const char *unary_alpha(OpKind op, float alpha, const char *name) {
  begin();
  int x = operand(S(2, 4, 5, 0));
  int y = node(op, S(2, 4, 5, 0), true, 1, x, 0, 0);
  g->nodes[y].attr.alpha = alpha;
  finish(y);
  return name;
}
static const char *t_leaky_relu(void) { return unary_alpha(OP_LEAKY_RELU, 0.01f, "leaky_relu"); }
static const char *t_leaky_relu_02(void) { return unary_alpha(OP_LEAKY_RELU, 0.2f, "leaky_relu slope 0.2"); }
static const char *t_elu(void) { return unary_alpha(OP_ELU, 1.0f, "elu"); }
static const char *t_elu_05(void) { return unary_alpha(OP_ELU, 0.5f, "elu alpha 0.5"); }
static const char *t_gelu(void) { return unary(OP_GELU, 0, 0, "gelu"); }

static const char *t_softmax(void) {
  begin();
  int x = operand(S(1, 10, 0, 0));
  finish(node(OP_SOFTMAX, S(1, 10, 0, 0), true, 1, x, 0, 0));
  return "softmax";
}

static const char *t_cross_entropy(void) {
  begin();
  int x = operand(S(1, 10, 0, 0));
  g->label = node(OP_LABEL, shape_scalar(), true, 0, 0, 0, 0);
  finish(node(OP_CROSS_ENTROPY, shape_scalar(), true, 2, x, g->label, 0));
  return "cross_entropy";
}

// An element-wise loss of two trained operands (both sides' gradients for
// the symmetric ones); bce's prediction is a sigmoid, in (0, 1), and its
// target a sigmoid too (a target in [0, 1] that a frozen side leaves
// without a gradient: bce has none w.r.t. its target).
static const char *pointwise_loss(OpKind op, float alpha, const char *name) {
  begin();
  Shape s = S(2, 3, 4, 0);
  int a = operand(s);
  int b = operand2(a);
  if (op == OP_BCE || op == OP_BCE_LOGITS) {
    int t = node(OP_SIGMOID, s, true, 1, node(OP_MUL, s, true, 2, g->input, param(s, true), 0), 0, 0);
    b = op == OP_BCE ? node(OP_SIGMOID, s, true, 1, a, 0, 0) : a;
    a = b, b = t;
  }
  int l = node(op, shape_scalar(), true, 2, a, b, 0);
  g->nodes[l].attr.alpha = alpha;
  finish(l);
  return name;
}
static const char *t_bce(void) { return pointwise_loss(OP_BCE, 0, "bce(sigmoid, target)"); }
static const char *t_bce_logits(void) { return pointwise_loss(OP_BCE_LOGITS, 0, "bce_with_logits"); }
static const char *t_l1(void) { return pointwise_loss(OP_L1, 0, "l1 (both sides)"); }
static const char *t_smooth_l1(void) { return pointwise_loss(OP_SMOOTH_L1, 1.0f, "smooth_l1 beta 1 (both sides)"); }
static const char *t_smooth_l1_b(void) { return pointwise_loss(OP_SMOOTH_L1, 0.3f, "smooth_l1 beta 0.3"); }
static const char *t_huber(void) { return pointwise_loss(OP_HUBER, 1.0f, "huber delta 1 (both sides)"); }
static const char *t_huber_d(void) { return pointwise_loss(OP_HUBER, 0.3f, "huber delta 0.3"); }

// Pooling, upsampling, concatenation.  Inputs are random, so a window's
// maximum is unique with a margin well above eps (ties: check_max_pool_ties).
static int shaped(OpKind op, int x, Attrs a) {
  int id = node(op, g->nodes[x].shape, true, 1, x, 0, 0);
  Node *n = &g->nodes[id];
  n->attr = a;
  char err[256];
  bool ok = op_node_shape(g, n, &n->shape, err);
  CHECK(ok, "%s: %s", ir_op_name(op), err);
  return id;
}
static const char *t_max_pool_k2(void) { begin(); finish(shaped(OP_MAX_POOL2D, operand(S(3, 2, 5, 5)), (Attrs){.k = 2})); return "max_pool2d k2 (uneven: 5 -> 2)"; }
static const char *t_max_pool_k3s2p1(void) { begin(); finish(shaped(OP_MAX_POOL2D, operand(S(3, 2, 5, 5)), (Attrs){.k = 3, .stride = 2, .pad = 1})); return "max_pool2d k3 s2 p1 (overlapping)"; }
static const char *t_avg_pool_k2(void) { begin(); finish(shaped(OP_AVG_POOL2D, operand(S(3, 2, 5, 5)), (Attrs){.k = 2})); return "avg_pool2d k2 (uneven: 5 -> 2)"; }
static const char *t_avg_pool_k3s2p1(void) { begin(); finish(shaped(OP_AVG_POOL2D, operand(S(3, 2, 5, 5)), (Attrs){.k = 3, .stride = 2, .pad = 1})); return "avg_pool2d k3 s2 p1 (padding counted)"; }
static const char *t_global_avg_pool(void) { begin(); finish(shaped(OP_GLOBAL_AVG_POOL, operand(S(3, 3, 3, 4)), (Attrs){0})); return "global_avg_pool"; }
static const char *t_bilinear2(void) { begin(); finish(shaped(OP_UPSAMPLE_BILINEAR, operand(S(3, 2, 3, 4)), (Attrs){.stride = 2})); return "upsample_bilinear x2"; }
static const char *t_bilinear3(void) { begin(); finish(shaped(OP_UPSAMPLE_BILINEAR, operand(S(3, 2, 3, 2)), (Attrs){.stride = 3})); return "upsample_bilinear x3"; }
static const char *t_upsample(void) { begin(); finish(shaped(OP_UPSAMPLE, operand(S(3, 2, 2, 3)), (Attrs){.stride = 3})); return "upsample x3"; }

// concat of three [C, H, W] values with different C (one a conv's, so a
// layer's parameters are behind one of the slices), and of two [N].
static const char *t_concat3(void) {
  begin();
  int x = operand(S(3, 2, 3, 3));
  int t = node(OP_TANH, S(3, 2, 3, 3), true, 1, x, 0, 0);
  int c = layer(OP_CONV2D, x, shape_make(4, (int[]){1, 2, 1, 1}), 1, 1, 1, 0, 0);
  int y = ir_add(g, OP_CONCAT, (int[]){c, x, t}, 3, S(3, 5, 3, 3), true, here);
  finish(y);
  return "concat of 3 ([1|2|2, 3, 3])";
}
static const char *t_concat_1d(void) {
  begin();
  int x = operand(S(1, 4, 0, 0));
  int d = layer(OP_DENSE, x, S(2, 3, 4, 0), 3, 0, 0, 0, 0);
  finish(ir_add(g, OP_CONCAT, (int[]){x, d}, 2, S(1, 7, 0, 0), true, here));
  return "concat of 2 ([4|3])";
}

// dropout(x, mask): the mask is drawn from the streams of seed 42 in every
// run, so the differences see the same mask as the gradient.
static int dropout(int x, float p) {
  Shape s = g->nodes[x].shape;
  int m = node(OP_DROPOUT_MASK, s, true, 0, 0, 0, 0);
  int y = node(OP_DROPOUT, s, true, 2, x, m, 0);
  g->nodes[m].attr.p = g->nodes[y].attr.p = p;
  return y;
}

static const char *t_dropout(void) {
  begin();
  finish(dropout(operand(S(2, 4, 5, 0)), 0.4f));
  return "dropout p=0.4 (the same mask)";
}

// batch_norm(x) in training mode, as lower.c builds it: the statistics
// over the batch (differenced too: the whole batch moves with each entry),
// then the normalisation with weight and bias.  The running statistics
// are frozen buffers.
static int batch_norm(int x, float momentum, float eps) {
  Shape xs = g->nodes[x].shape, c = S(1, xs.dim[0], 0, 0);
  int rm = param(c, true), rv = param(c, true);
  int st = ir_add(g, OP_BN_STATS, (int[]){x, rm, rv}, 3, S(2, 2, xs.dim[0], 0), false, here);
  int y = ir_add(g, OP_BATCH_NORM, (int[]){x, st, param(c, false), param(c, false)}, 4, xs, true, here);
  g->nodes[st].attr.momentum = g->nodes[y].attr.momentum = momentum;
  g->nodes[st].attr.eps = g->nodes[y].attr.eps = eps;
  return y;
}

static const char *t_bn2d(void) {
  begin();
  finish(batch_norm(operand(S(3, 2, 3, 3)), 0.1f, 1e-5f));
  return "batch_norm [C, H, W] (train)";
}

static const char *t_bn1d(void) {
  begin();
  // Through a dense layer and a tanh, so the gradient reaches a layer
  // under it (without the tanh, batch norm would remove the bias and the
  // operand's shift: zero gradients, which the differences only see as
  // rounding noise); a tanh after it, since finish's weights are shared
  // by the examples and the normalised values sum to a constant over the
  // batch.
  int h = layer(OP_DENSE, operand(S(1, 4, 0, 0)), S(2, 5, 4, 0), 5, 0, 0, 0, 0);
  h = node(OP_TANH, S(1, 5, 0, 0), true, 1, h, 0, 0);
  finish(node(OP_TANH, S(1, 5, 0, 0), true, 1, batch_norm(h, 0.1f, 1e-3f), 0, 0));
  return "batch_norm [N] (train, eps 1e-3)";
}

// nll and cross_entropy over K = 300 classes, on labels beyond a byte
// (run_case picks labels up to K - 1 when a case sets g->n_classes).
static const char *wide_loss(OpKind op, const char *name) {
  begin();
  g->n_classes = 300;
  int x = operand(S(1, 300, 0, 0));
  if (op == OP_NLL)
    x = node(OP_LOG_SOFTMAX, S(1, 300, 0, 0), true, 1, x, 0, 0);
  g->label = node(OP_LABEL, shape_scalar(), true, 0, 0, 0, 0);
  finish(node(op, shape_scalar(), true, 2, x, g->label, 0));
  return name;
}
static const char *t_nll_wide(void) { return wide_loss(OP_NLL, "nll(log_softmax) K=300"); }
static const char *t_cross_entropy_wide(void) { return wide_loss(OP_CROSS_ENTROPY, "cross_entropy K=300"); }

typedef const char *(*Case)(void);
static const Case cases[] = {
  t_conv_s2p1, t_conv_s1p0, t_conv_s2p0, t_deconv_s2p0, t_deconv_s2p1o1, t_dense, t_reshape,
  t_relu, t_sigmoid, t_tanh, t_exp, t_log, t_neg, t_add, t_sub, t_mul, t_div,
  t_mul_scalar, t_div_scalar, t_sub_scalar, t_mul_const, t_square,
  t_log_softmax, t_sum, t_mean, t_mse, t_nll, t_reparam,
  // (last, so that the cases above keep their random values)
  t_conv_rect_dil_g2, t_conv_depthwise_nobias, t_deconv_rect_g2_nobias, t_deconv_dil_g2,
  t_leaky_relu, t_leaky_relu_02, t_elu, t_elu_05, t_gelu, t_softmax, t_cross_entropy,
  t_bce, t_bce_logits, t_l1, t_smooth_l1, t_smooth_l1_b, t_huber, t_huber_d,
  t_max_pool_k2, t_max_pool_k3s2p1, t_avg_pool_k2, t_avg_pool_k3s2p1, t_global_avg_pool, t_upsample,
  t_concat3, t_concat_1d, t_bilinear2, t_bilinear3,
  t_dropout, t_bn2d,
};

// Parameter values: positive for log's and div's operands (a pole at 0),
// bounded away from 0 for relu's kink; inputs likewise.
static float value_for(const char *name) {
  if (!strcmp(name, "log") || !strncmp(name, "div", 3))
    return gc_range(0.5f, 1.5f);
  float v = gc_range(0.1f, 1.0f);
  return gc_uniform() < 0.5 ? -v : v;
}

static void run_case(Case c, int batch) {
  const char *name = c();
  bool built = autodiff(g) && ops_verify(g);
  CHECK(built, "%s: autodiff or verification failed", name);
  if (!built)
    return;
  float **pv = malloc(g->nparams * sizeof(float *));
  for (int p = 0; p < g->nparams; p++) {
    int64_t m = shape_numel(g->params[p].shape);
    pv[p] = malloc(m * sizeof(float));
    for (int64_t k = 0; k < m; k++)
      pv[p][k] = g->params[p].frozen ? gc_range(-1, 1) : value_for(name) * 0.5f;
  }
  int64_t xn = g->input >= 0 ? shape_numel(g->nodes[g->input].shape) : 0;
  float *x = malloc((batch * xn + 1) * sizeof(float));
  for (int64_t k = 0; k < batch * xn; k++)
    x[k] = value_for(name) * 0.5f;
  int32_t labels[BIG_BATCH];
  for (int i = 0; i < BIG_BATCH; i++)   // with K set: from K - 1 down, most above 255
    labels[i] = g->n_classes > 0 ? g->n_classes - 1 - i * 7 % g->n_classes : (int32_t)(i * 7 % 10);

  Interp *ip = interp_new(g, pv);
  int before = t_failures;
  double worst = 0;
  // Batch norm normalises by the batch's spread: the gradients of what
  // lies under it are small next to its own weight's, and a difference's
  // rounding (~5e-5 here) is not.  They are measured against the case's
  // largest gradient instead of their own.
  GcResult *res = calloc(g->nparams, sizeof *res);
  double floor = 1e-3;
  for (int p = 0; p < g->nparams; p++)
    if (!g->params[p].frozen) {
      res[p] = gc_check_param(ip, pv, p, x, labels, batch, 42, 1e-3, 64);
      if (!strncmp(name, "batch_norm", 10))
        floor = fmax(floor, res[p].max_ref);
    }
  for (int p = 0; p < g->nparams; p++) {
    if (g->params[p].frozen) {
      CHECK(g->params[p].grad < 0, "%s: frozen %s has a gradient", name, g->params[p].name);
      continue;
    }
    GcResult r = res[p];
    double rel = r.max_diff / fmax(r.max_ref, floor);
    worst = fmax(worst, rel);
    CHECK(rel <= TOL, "%s, %s: max |num - ana| = %.3g (max |ana| %.3g)", name, g->params[p].name,
          r.max_diff, r.max_ref);
  }
  if (t_failures == before)
    printf("ok   %-40s batch %2d  max rel diff %.2e\n", name, batch, worst);
  interp_free(ip);
  free(res);
  for (int p = 0; p < g->nparams; p++)
    free(pv[p]);
  free(pv);
  free(x);
}

// Frozen layer under a trainable one: no backward node may touch it.
static void check_frozen_no_work(void) {
  begin();
  int x = input(S(3, 1, 6, 6));
  int c = node(OP_CONV2D, S(3, 2, 3, 3), true, 3, x, param(shape_make(4, (int[]){2, 1, 3, 3}), true),
               param(S(1, 2, 0, 0), true));
  g->nodes[c].attr = (Attrs){.k = 3, .stride = 2, .pad = 1, .out = 2};
  int f = node(OP_RESHAPE, S(1, 18, 0, 0), true, 1, node(OP_RELU, S(3, 2, 3, 3), true, 1, c, 0, 0), 0, 0);
  finish(layer(OP_DENSE, f, S(2, 4, 18, 0), 4, 0, 0, 0, 0));
  bool built = autodiff(g) && ops_verify(g);
  CHECK(built, "frozen: autodiff failed");
  if (!built)
    return;
  for (int i = g->nforward; i < g->nnodes; i++) {
    OpKind op = g->nodes[i].op;
    bool works = op == OP_CONV2D_DX || op == OP_CONV2D_DW || op == OP_RELU_GRAD || op == OP_DENSE_DX;
    CHECK(!works, "frozen: backward node %%%d = %s works for a frozen or input-only path", i, ir_op_name(op));
    if (works) {
      ir_print(stdout, g);
      return;
    }
  }
  printf("ok   %-40s %d backward nodes, none on the frozen path\n", "no gradient work for frozen/input", g->nnodes - g->nforward);
}

// noise() on a parameter's path has no gradient: a located error.
static void check_no_rule_error(void) {
  begin();
  int x = operand(S(1, 4, 0, 0));
  int nz = node(OP_NOISE, S(1, 4, 0, 0), true, 1, x, 0, 0);
  g->nodes[nz].loc = (SrcLoc){"models/x.net", 7, 13};
  finish(nz);
  fflush(stdout);
  bool accepted = autodiff(g);
  CHECK(!accepted, "no-rule: autodiff accepted noise on a parameter's path");
  if (accepted)
    return;
  printf("ok   %-40s rejected (message above)\n", "noise on a parameter path");
  // noise on the input only is fine.
  begin();
  int in = input(S(1, 4, 0, 0));
  int n2 = node(OP_NOISE, S(1, 4, 0, 0), true, 1, in, 0, 0);
  finish(layer(OP_DENSE, n2, S(2, 3, 4, 0), 3, 0, 0, 0, 0));
  accepted = autodiff(g);
  CHECK(accepted, "no-rule: noise on the input was rejected");
  if (accepted)
    printf("ok   %-40s accepted\n", "noise on the input only");
}

// Ties: max_pool2d's gradient goes to the first maximum of each window in
// row-major order, as PyTorch's CPU kernel.  dx of an all-zero [1, 3, 3]
// under k3 s1 p1 with dy = 1 and of a [1, 4, 4] with tied 2x2 blocks under
// k2, from torch: F.max_pool2d(x, ...).sum().backward(); x.grad.
static void check_max_pool_ties(void) {
  static const float x1[9] = {0}, x2[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 0, 3, 3, 3, 3, 0};
  static const float want1[9] = {4, 2, 0, 2, 1, 0, 0, 0, 0};
  static const float want2[16] = {1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
  struct { int hw; Attrs a; const float *x, *want; } cs[] = {
    {3, {.k = 3, .stride = 1, .pad = 1}, x1, want1}, {4, {.k = 2}, x2, want2}};
  for (int c = 0; c < 2; c++) {
    begin();
    Shape s = S(3, 1, cs[c].hw, cs[c].hw);
    int x = input(s);
    int y = shaped(OP_MAX_POOL2D, x, cs[c].a);
    int one = node(OP_BROADCAST, g->nodes[y].shape, false, 1, konst(1), 0, 0);
    int dx = node(OP_MAX_POOL2D_GRAD, s, true, 2, one, x, 0);
    g->nodes[dx].attr = cs[c].a;
    ir_export(g, "dx", dx);
    CHECK(ops_verify(g), "ties: graph does not verify");
    Interp *ip = interp_new(g, NULL);
    interp_run(ip, g->nnodes, cs[c].x, NULL, 1, 0);
    const float *v = interp_value(ip, dx);
    int bad = 0;
    for (int k = 0; k < cs[c].hw * cs[c].hw; k++)
      bad += v[k] != cs[c].want[k];
    CHECK(!bad, "ties: max_pool2d_grad case %d differs from torch in %d entries", c, bad);
    if (!bad)
      printf("ok   %-40s case %d equals torch's dx\n", "max_pool2d gradient on ties", c);
    interp_release(ip);
    interp_free(ip);
  }
}

// Training mode: each element is 0 or x / (1 - p), about a fraction p of
// them 0, and a seed gives the same mask again.  Evaluation: x exactly.
static void check_dropout_modes(void) {
  begin();
  const float p = 0.25f;
  int x = input(S(1, 200, 0, 0));
  int y = dropout(x, p);
  ir_export(g, "y", y);      // kept after the step
  g->nforward = g->nnodes;
  enum { N = 5, M = 200 };
  static float xv[N * M], first[N * M];
  for (int k = 0; k < N * M; k++)
    xv[k] = gc_range(0.5f, 1.5f);
  Interp *ip = interp_new(g, NULL);
  interp_run(ip, g->nnodes, xv, NULL, N, 7);
  memcpy(first, interp_value(ip, y), sizeof first);
  int zeros = 0, bad = 0;
  for (int k = 0; k < N * M; k++) {
    zeros += first[k] == 0.0f;
    bad += first[k] != 0.0f && first[k] != xv[k] * (1.0f / (float)(1.0 - p));
  }
  CHECK(bad == 0 && zeros > 150 && zeros < 350, "dropout train: %d zeros of %d, %d wrong values", zeros, N * M, bad);
  interp_run(ip, g->nnodes, xv, NULL, N, 7);
  CHECK(!memcmp(first, interp_value(ip, y), sizeof first), "dropout train: seed 7 drew another mask");
  ip->train = false;
  interp_run(ip, g->nnodes, xv, NULL, N, 7);
  CHECK(!memcmp(xv, interp_value(ip, y), sizeof xv), "dropout eval: not the identity");
  interp_free(ip);
  printf("ok   %-40s train: %d of %d zeroed; eval: identity\n", "dropout modes", zeros, N * M);
}

// Batch norm's modes on features [2], batch 4, weight 1, bias 0: a training
// step normalises by the batch's statistics and moves the running ones
// (momentum 0.1, unbiased variance); evaluation uses the running ones.
static void check_bn_modes(void) {
  begin();
  int x = input(S(1, 2, 0, 0));
  int y = batch_norm(x, 0.1f, 1e-5f);
  ir_export(g, "y", y);
  g->nforward = g->nnodes;
  float rm[2] = {0, 0}, rv[2] = {1, 1}, w[2] = {1, 1}, b[2] = {0, 0};
  float *pv[4] = {rm, rv, w, b};
  const float xv[8] = {1, -2, 3, 0, 4, 1, -1, 5};   // feature 0: 1 3 4 -1; feature 1: -2 0 1 5
  Interp *ip = interp_new(g, pv);
  interp_run(ip, g->nnodes, xv, NULL, 4, 1);
  double worst = 0;
  for (int f = 0; f < 2; f++) {
    double mean = 0, ss = 0;
    for (int i = 0; i < 4; i++)
      mean += xv[i * 2 + f] / 4.0;
    for (int i = 0; i < 4; i++)
      ss += (xv[i * 2 + f] - mean) * (xv[i * 2 + f] - mean);
    for (int i = 0; i < 4; i++)
      worst = fmax(worst, fabs(interp_value(ip, y)[i * 2 + f] - (xv[i * 2 + f] - mean) / sqrt(ss / 4 + 1e-5)));
    worst = fmax(worst, fabs(rm[f] - 0.1 * mean));
    worst = fmax(worst, fabs(rv[f] - (0.9 + 0.1 * ss / 3)));
  }
  CHECK(worst < 1e-6, "batch_norm train: max diff %.3g", worst);
  ip->train = false;
  interp_run(ip, g->nnodes, xv, NULL, 4, 1);
  double weval = 0;
  for (int k = 0; k < 8; k++)
    weval = fmax(weval, fabs(interp_value(ip, y)[k] - (xv[k] - rm[k % 2]) / sqrt(rv[k % 2] + 1e-5)));
  CHECK(weval < 1e-6, "batch_norm eval: max diff %.3g", weval);
  float rm1 = rm[0];
  interp_run(ip, g->nnodes, xv, NULL, 4, 1);
  CHECK(rm[0] == rm1, "batch_norm eval: the running mean moved");
  interp_free(ip);
  printf("ok   %-40s train %.1e, eval (running statistics) %.1e\n", "batch_norm modes", worst, weval);
}

int main(void) {
  omp_set_num_threads(1);       // tiny ops: threads would only spin
  openblas_set_num_threads(1);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case(cases[i], BATCH);
  // The layers again on a batch that the convolution kernels cut into chunks.
  for (size_t i = 0; i < 6; i++)
    run_case(cases[i], BIG_BATCH);
  run_case(t_bn2d, BIG_BATCH);   // statistics over more than one of the interpreter's chunks
  run_case(t_bn1d, BATCH);
  run_case(t_bn1d, BIG_BATCH);
  // Batch 3 (labels 299, 292, 285): over 37 examples each logit's
  // gradient is ~1/37 of a batch of 3's, and the finite difference's float
  // rounding (~2e-4 absolute) would be ~2e-3 of it, near TOL.
  run_case(t_nll_wide, BATCH);
  run_case(t_cross_entropy_wide, BATCH);
  check_frozen_no_work();
  check_no_rule_error();
  check_max_pool_ties();
  check_dropout_modes();
  check_bn_modes();
  return t_finish("interp_grad_ops");
}
