// ops.c — one row of facts per op (see ops.h), and the shape rules.
//
// Shape rules work on per-example shapes; whether a node is batched is
// checked separately (ops_verify).  The front end computes the forward
// shapes while it lowers; these rules re-derive them so the graph can be
// verified after every pass, and autodiff's nodes are checked the same way.
#include "ops.h"

#include "autodiff.h"
#include "interp.h"

#include <stdio.h>

static const Shape *in_shape(const Graph *g, const Node *n, int j) {
  return &g->nodes[n->in[j]].shape;
}

#define FAIL(...) do { snprintf(err, 128, __VA_ARGS__); return false; } while (0)

// Leaves carry their shape.
static bool shape_leaf(const Graph *g, const Node *n, Shape *out, char *err) {
  (void)g; (void)err;
  *out = n->shape;
  return true;
}

static bool shape_same(const Graph *g, const Node *n, Shape *out, char *err) {
  (void)err;
  *out = *in_shape(g, n, 0);
  return true;
}

static bool shape_scalar_out(const Graph *g, const Node *n, Shape *out, char *err) {
  (void)g; (void)n; (void)err;
  *out = shape_scalar();
  return true;
}

// conv2d: x [C, H, W], w [O, C, k, k], b [O] -> [O, (H+2p-k)/s+1, ...].
static bool conv_out(Shape x, Shape w, const Attrs *a, Shape *out, char *err) {
  if (x.rank != 3 || w.rank != 4 || w.dim[1] != x.dim[0] || w.dim[2] != a->k || w.dim[3] != a->k)
    FAIL("conv2d: input [C, H, W] and weight [O, C, k, k] do not fit");
  int oh = (x.dim[1] + 2 * a->pad - a->k) / a->stride + 1;
  int ow = (x.dim[2] + 2 * a->pad - a->k) / a->stride + 1;
  if (oh < 1 || ow < 1)
    FAIL("conv2d: kernel larger than the padded input");
  *out = shape_make(3, (int[]){w.dim[0], oh, ow});
  return true;
}

// deconv2d: x [C, H, W], w [C, O, k, k] -> [O, (H-1)s - 2p + k + outpad, ...].
static bool deconv_out(Shape x, Shape w, const Attrs *a, Shape *out, char *err) {
  if (x.rank != 3 || w.rank != 4 || w.dim[0] != x.dim[0] || w.dim[2] != a->k || w.dim[3] != a->k)
    FAIL("deconv2d: input [C, H, W] and weight [C, O, k, k] do not fit");
  int oh = (x.dim[1] - 1) * a->stride - 2 * a->pad + a->k + a->outpad;
  int ow = (x.dim[2] - 1) * a->stride - 2 * a->pad + a->k + a->outpad;
  *out = shape_make(3, (int[]){w.dim[1], oh, ow});
  return true;
}

static bool shape_conv2d(const Graph *g, const Node *n, Shape *out, char *err) {
  if (!conv_out(*in_shape(g, n, 0), *in_shape(g, n, 1), &n->attr, out, err))
    return false;
  if (in_shape(g, n, 2)->rank != 1 || in_shape(g, n, 2)->dim[0] != out->dim[0])
    FAIL("conv2d: bias must be [%d]", out->dim[0]);
  return true;
}

static bool shape_deconv2d(const Graph *g, const Node *n, Shape *out, char *err) {
  if (!deconv_out(*in_shape(g, n, 0), *in_shape(g, n, 1), &n->attr, out, err))
    return false;
  if (in_shape(g, n, 2)->rank != 1 || in_shape(g, n, 2)->dim[0] != out->dim[0])
    FAIL("deconv2d: bias must be [%d]", out->dim[0]);
  return true;
}

// dense: x [I], w [O, I], b [O] -> [O].
static bool shape_dense(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape x = *in_shape(g, n, 0), w = *in_shape(g, n, 1), b = *in_shape(g, n, 2);
  if (x.rank != 1 || w.rank != 2 || w.dim[1] != x.dim[0] || b.rank != 1 || b.dim[0] != w.dim[0])
    FAIL("dense: input [I], weight [O, I], bias [O] do not fit");
  *out = shape_make(1, (int[]){w.dim[0]});
  return true;
}

static bool shape_reshape(const Graph *g, const Node *n, Shape *out, char *err) {
  if (shape_numel(*in_shape(g, n, 0)) != shape_numel(n->shape))
    FAIL("reshape: element counts differ");
  *out = n->shape;
  return true;
}

// Binary element-wise: equal shapes, or one side a scalar.
static bool shape_binary(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape a = *in_shape(g, n, 0), b = *in_shape(g, n, 1);
  if (shape_eq(a, b) || b.rank == 0)
    *out = a;
  else if (a.rank == 0)
    *out = b;
  else
    FAIL("%s: shapes differ and neither is a scalar", ir_op_name(n->op));
  return true;
}

static bool shape_mse(const Graph *g, const Node *n, Shape *out, char *err) {
  if (!shape_eq(*in_shape(g, n, 0), *in_shape(g, n, 1)))
    FAIL("mse: shapes differ");
  *out = shape_scalar();
  return true;
}

static bool shape_nll(const Graph *g, const Node *n, Shape *out, char *err) {
  if (in_shape(g, n, 0)->rank != 1 || in_shape(g, n, 1)->rank != 0)
    FAIL("nll: needs log-probabilities [K] and a label []");
  *out = shape_scalar();
  return true;
}

// Backward layer ops: the result has the shape of the forward operand it
// is the gradient of (n->shape); check that the forward rule maps it back.
static bool shape_conv2d_dx(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape y;
  if (!conv_out(n->shape, *in_shape(g, n, 1), &n->attr, &y, err))
    return false;
  if (!shape_eq(y, *in_shape(g, n, 0)))
    FAIL("conv2d_dx: dy does not match the convolution of the result");
  *out = n->shape;
  return true;
}

static bool shape_conv2d_dw(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape y;
  if (!conv_out(*in_shape(g, n, 1), n->shape, &n->attr, &y, err))
    return false;
  if (!shape_eq(y, *in_shape(g, n, 0)))
    FAIL("conv2d_dw: dy does not match the convolution of x");
  *out = n->shape;
  return true;
}

static bool shape_deconv2d_dx(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape y;
  if (!deconv_out(n->shape, *in_shape(g, n, 1), &n->attr, &y, err))
    return false;
  if (!shape_eq(y, *in_shape(g, n, 0)))
    FAIL("deconv2d_dx: dy does not match the deconvolution of the result");
  *out = n->shape;
  return true;
}

static bool shape_deconv2d_dw(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape y;
  if (!deconv_out(*in_shape(g, n, 1), n->shape, &n->attr, &y, err))
    return false;
  if (!shape_eq(y, *in_shape(g, n, 0)))
    FAIL("deconv2d_dw: dy does not match the deconvolution of x");
  *out = n->shape;
  return true;
}

// dense_dx (dy [O], w [O, I]) -> [I].
static bool shape_dense_dx(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape dy = *in_shape(g, n, 0), w = *in_shape(g, n, 1);
  if (dy.rank != 1 || w.rank != 2 || w.dim[0] != dy.dim[0])
    FAIL("dense_dx: dy [O] and w [O, I] do not fit");
  *out = shape_make(1, (int[]){w.dim[1]});
  return true;
}

// dense_dw (dy [O], x [I]) -> [O, I].
static bool shape_dense_dw(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape dy = *in_shape(g, n, 0), x = *in_shape(g, n, 1);
  if (dy.rank != 1 || x.rank != 1)
    FAIL("dense_dw: dy and x must be vectors");
  *out = shape_make(2, (int[]){dy.dim[0], x.dim[0]});
  return true;
}

// bias_grad dy [C, ...] -> [C].
static bool shape_bias_grad(const Graph *g, const Node *n, Shape *out, char *err) {
  Shape dy = *in_shape(g, n, 0);
  if (dy.rank < 1)
    FAIL("bias_grad: dy must have a channel dimension");
  *out = shape_make(1, (int[]){dy.dim[0]});
  return true;
}

// (dy, y) pairs of equal shape.
static bool shape_pair(const Graph *g, const Node *n, Shape *out, char *err) {
  if (!shape_eq(*in_shape(g, n, 0), *in_shape(g, n, 1)))
    FAIL("%s: dy and y differ in shape", ir_op_name(n->op));
  *out = *in_shape(g, n, 0);
  return true;
}

static bool shape_mse_grad(const Graph *g, const Node *n, Shape *out, char *err) {
  if (in_shape(g, n, 0)->rank != 0 || !shape_eq(*in_shape(g, n, 1), *in_shape(g, n, 2)))
    FAIL("mse_grad: needs a scalar dl and two equal shapes");
  *out = *in_shape(g, n, 1);
  return true;
}

static bool shape_nll_grad(const Graph *g, const Node *n, Shape *out, char *err) {
  if (in_shape(g, n, 0)->rank != 0 || in_shape(g, n, 1)->rank != 0 || n->shape.rank != 1)
    FAIL("nll_grad: needs a scalar dl and label, gives [K]");
  *out = n->shape;
  return true;
}

static bool shape_broadcast(const Graph *g, const Node *n, Shape *out, char *err) {
  if (in_shape(g, n, 0)->rank != 0)
    FAIL("broadcast: input must be a scalar");
  *out = n->shape;
  return true;
}

const IrOpInfo op_info[OP_COUNT] = {
  [OP_INPUT]     = {"input",     0, shape_leaf, NULL, interp_input, NULL},
  [OP_LABEL]     = {"label",     0, shape_leaf, NULL, interp_label, NULL},
  [OP_PARAM]     = {"param",     0, shape_leaf, NULL, NULL, NULL},  // bound to the parameter block
  [OP_CONST]     = {"const",     0, shape_leaf, NULL, interp_const, NULL},
  [OP_NORMAL]    = {"normal",    0, shape_leaf, NULL, interp_normal, NULL},
  [OP_CONV2D]    = {"conv2d",    3, shape_conv2d, grad_conv2d, interp_conv2d, NULL},
  [OP_DECONV2D]  = {"deconv2d",  3, shape_deconv2d, grad_deconv2d, interp_deconv2d, NULL},
  [OP_DENSE]     = {"dense",     3, shape_dense, grad_dense, interp_dense, NULL},
  [OP_RESHAPE]   = {"reshape",   1, shape_reshape, grad_reshape, interp_copy, NULL},
  [OP_RELU]      = {"relu",      1, shape_same, grad_relu, interp_relu, NULL},
  [OP_SIGMOID]   = {"sigmoid",   1, shape_same, grad_sigmoid, interp_sigmoid, NULL},
  [OP_EXP]       = {"exp",       1, shape_same, grad_exp, interp_exp, NULL},
  [OP_LOG]       = {"log",       1, shape_same, grad_log, interp_log, NULL},
  [OP_NEG]       = {"neg",       1, shape_same, grad_neg, interp_neg, NULL},
  [OP_ADD]       = {"add",       2, shape_binary, grad_add, interp_binary, NULL},
  [OP_SUB]       = {"sub",       2, shape_binary, grad_sub, interp_binary, NULL},
  [OP_MUL]       = {"mul",       2, shape_binary, grad_mul, interp_binary, NULL},
  [OP_DIV]       = {"div",       2, shape_binary, grad_div, interp_binary, NULL},
  [OP_LOG_SOFTMAX] = {"log_softmax", 1, shape_same, grad_log_softmax, interp_log_softmax, NULL},
  [OP_NOISE]     = {"noise",     1, shape_same, NULL, interp_noise, NULL},
  [OP_SUM]       = {"sum",       1, shape_scalar_out, grad_sum, interp_sum, NULL},
  [OP_MEAN]      = {"mean",      1, shape_scalar_out, grad_mean, interp_mean, NULL},
  [OP_MSE]       = {"mse",       2, shape_mse, grad_mse, interp_mse, NULL},
  [OP_NLL]       = {"nll",       2, shape_nll, grad_nll, interp_nll, NULL},

  [OP_LOSS_SEED]   = {"loss_seed",   0, shape_leaf, NULL, interp_loss_seed, NULL},
  [OP_CONV2D_DX]   = {"conv2d_dx",   2, shape_conv2d_dx, NULL, interp_conv2d_dx, NULL},
  [OP_CONV2D_DW]   = {"conv2d_dw",   2, shape_conv2d_dw, NULL, interp_conv2d_dw, NULL},
  [OP_DECONV2D_DX] = {"deconv2d_dx", 2, shape_deconv2d_dx, NULL, interp_deconv2d_dx, NULL},
  [OP_DECONV2D_DW] = {"deconv2d_dw", 2, shape_deconv2d_dw, NULL, interp_deconv2d_dw, NULL},
  [OP_DENSE_DX]    = {"dense_dx",    2, shape_dense_dx, NULL, interp_dense_dx, NULL},
  [OP_DENSE_DW]    = {"dense_dw",    2, shape_dense_dw, NULL, interp_dense_dw, NULL},
  [OP_BIAS_GRAD]   = {"bias_grad",   1, shape_bias_grad, NULL, interp_bias_grad, NULL},
  [OP_RELU_GRAD]   = {"relu_grad",   2, shape_pair, NULL, interp_relu_grad, NULL},
  [OP_SIGMOID_GRAD]= {"sigmoid_grad",2, shape_pair, NULL, interp_sigmoid_grad, NULL},
  [OP_LOG_SOFTMAX_GRAD] = {"log_softmax_grad", 2, shape_pair, NULL, interp_log_softmax_grad, NULL},
  [OP_MSE_GRAD]    = {"mse_grad",    3, shape_mse_grad, NULL, interp_mse_grad, NULL},
  [OP_NLL_GRAD]    = {"nll_grad",    2, shape_nll_grad, NULL, interp_nll_grad, NULL},
  [OP_BROADCAST]   = {"broadcast",   1, shape_broadcast, NULL, interp_broadcast, NULL},
  [OP_SUM_BATCH]   = {"sum_batch",   1, shape_same, NULL, interp_sum_batch, NULL},
};

// Which ops produce one value for the whole batch whatever their inputs.
static bool op_unbatched(OpKind op) {
  switch (op) {
  case OP_PARAM: case OP_CONV2D_DW: case OP_DECONV2D_DW: case OP_DENSE_DW:
  case OP_BIAS_GRAD: case OP_SUM_BATCH:
    return true;
  default:
    return false;
  }
}

static bool verify_node(const Graph *g, const Node *n, char *err) {
  const IrOpInfo *info = &op_info[n->op];
  if (!info->shape)
    FAIL("op %d has no row in ops.c", (int)n->op);
  if (info->arity >= 0 && n->nin != info->arity)
    FAIL("%s takes %d inputs, has %d", info->name, info->arity, n->nin);
  bool any_batched = false;
  for (int j = 0; j < n->nin; j++) {
    if (n->in[j] < 0 || n->in[j] >= n->id)
      FAIL("input %d (%%%d) is not an earlier node", j, n->in[j]);
    any_batched |= g->nodes[n->in[j]].batched;
  }
  Shape s;
  if (!info->shape(g, n, &s, err))
    return false;
  char a[64], b[64];
  if (!shape_eq(s, n->shape))
    FAIL("shape %s, but the rule gives %s", shape_str(n->shape, a), shape_str(s, b));
  if (n->nin > 0 && n->batched != (any_batched && !op_unbatched(n->op)))
    FAIL("batched flag is %d, expected %d", n->batched, any_batched && !op_unbatched(n->op));
  if (n->op == OP_SUM_BATCH && !g->nodes[n->in[0]].batched)
    FAIL("sum_batch of an unbatched value");
  return true;
}

bool ops_verify(const Graph *g) {
  char err[128];
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    if (!verify_node(g, n, err)) {
      fprintf(stderr, "%s:%d:%d: error: IR check: %%%d = %s: %s\n", n->loc.file ? n->loc.file : "?",
              n->loc.line, n->loc.col, n->id, ir_op_name(n->op), err);
      return false;
    }
  }
  return true;
}
