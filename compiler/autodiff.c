// autodiff.c — reverse-mode differentiation in the IR.
//
// The forward graph is walked from the loss back to the parameters.  Each
// op's local rule (op_info[op].grad, defined below) turns the gradient dy
// of its output into a contribution to one input; contributions to a value
// used more than once are summed with ADD (the VAE's mu and logvar feed
// both the sampler and the KL term).  A contribution is then fitted to the
// input: summed over the elements when the input is a broadcast scalar,
// and over the batch (SUM_BATCH) when the input is unbatched, so every
// parameter gradient is the batch sum of the per-example gradients of
// LOSS_SEED * loss = the gradient of the batch-mean loss.
//
// Only values on a path from a trainable parameter to the loss are
// differentiated: inputs, labels, noise and frozen nets get no backward
// work at all.
#include "autodiff.h"

#include "ops.h"

#include <stdlib.h>
#include <string.h>

struct AdState {
  Graph *g;
  int *grad;                 // [forward node] accumulated gradient node, -1 if none yet
  bool *needs;               // [forward node] some trainable parameter flows into it
  SrcLoc loc;                // of the forward node being differentiated
};

static bool any_batched(Graph *g, int nin, const int *in) {
  for (int j = 0; j < nin; j++)
    if (g->nodes[in[j]].batched)
      return true;
  return false;
}

// Appends a backward node at the current source location.
static int add(AdState *ad, OpKind op, Shape s, bool batched, int nin, int a, int b, int c) {
  int in[3] = {a, b, c};
  return ir_add(ad->g, op, in, nin, s, batched, ad->loc);
}

// Element-wise or same-batching op: batched if any input is.
static int add_ew(AdState *ad, OpKind op, Shape s, int nin, int a, int b, int c) {
  int in[3] = {a, b, c};
  return add(ad, op, s, any_batched(ad->g, nin, in), nin, a, b, c);
}

static int konst(AdState *ad, float v) {
  int id = add(ad, OP_CONST, shape_scalar(), false, 0, 0, 0, 0);
  ad->g->nodes[id].attr.scalar = v;
  return id;
}

static Shape shape_of(AdState *ad, int id) { return ad->g->nodes[id].shape; }

// ---- Gradient rules: contribution of dy (the gradient of n) to input `which`.

int grad_conv2d(AdState *ad, const Node *n, int which, int dy) {
  const Node *x = &ad->g->nodes[n->in[0]], *w = &ad->g->nodes[n->in[1]];
  Shape xs = x->shape, ws = w->shape;
  int id;
  switch (which) {
  case 0: id = add_ew(ad, OP_CONV2D_DX, xs, 2, dy, n->in[1], 0); break;
  case 1: id = add(ad, OP_CONV2D_DW, ws, false, 2, dy, n->in[0], 0); break;
  default: return add(ad, OP_BIAS_GRAD, shape_make(1, (int[]){n->shape.dim[0]}), false, 1, dy, 0, 0);
  }
  ad->g->nodes[id].attr = n->attr;
  return id;
}

int grad_deconv2d(AdState *ad, const Node *n, int which, int dy) {
  Shape xs = shape_of(ad, n->in[0]), ws = shape_of(ad, n->in[1]);
  int id;
  switch (which) {
  case 0: id = add_ew(ad, OP_DECONV2D_DX, xs, 2, dy, n->in[1], 0); break;
  case 1: id = add(ad, OP_DECONV2D_DW, ws, false, 2, dy, n->in[0], 0); break;
  default: return add(ad, OP_BIAS_GRAD, shape_make(1, (int[]){n->shape.dim[0]}), false, 1, dy, 0, 0);
  }
  ad->g->nodes[id].attr = n->attr;
  return id;
}

int grad_dense(AdState *ad, const Node *n, int which, int dy) {
  switch (which) {
  case 0: return add_ew(ad, OP_DENSE_DX, shape_of(ad, n->in[0]), 2, dy, n->in[1], 0);
  case 1: return add(ad, OP_DENSE_DW, shape_of(ad, n->in[1]), false, 2, dy, n->in[0], 0);
  default: return add(ad, OP_BIAS_GRAD, n->shape, false, 1, dy, 0, 0);
  }
}

int grad_reshape(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_RESHAPE, shape_of(ad, n->in[0]), 1, dy, 0, 0);
}

// The activations' rules read the forward output y (= n itself).
int grad_relu(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_RELU_GRAD, n->shape, 2, dy, n->id, 0);
}

int grad_sigmoid(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_SIGMOID_GRAD, n->shape, 2, dy, n->id, 0);
}

int grad_log_softmax(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_LOG_SOFTMAX_GRAD, n->shape, 2, dy, n->id, 0);
}

// d exp(x) = exp(x) dx = y dx.
int grad_exp(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_MUL, n->shape, 2, dy, n->id, 0);
}

// d log(x) = dx / x.
int grad_log(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_DIV, n->shape, 2, dy, n->in[0], 0);
}

int grad_neg(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_NEG, n->shape, 1, dy, 0, 0);
}

int grad_add(AdState *ad, const Node *n, int which, int dy) {
  (void)ad; (void)n; (void)which;
  return dy;
}

int grad_sub(AdState *ad, const Node *n, int which, int dy) {
  return which == 0 ? dy : add_ew(ad, OP_NEG, n->shape, 1, dy, 0, 0);
}

// d(a b) = b da + a db (the other side may be a scalar: dy's shape is kept
// and the fit sums it down).
int grad_mul(AdState *ad, const Node *n, int which, int dy) {
  return add_ew(ad, OP_MUL, n->shape, 2, dy, n->in[1 - which], 0);
}

// d(a / b) = da / b - (a / b) db / b = da / b - y db / b.
int grad_div(AdState *ad, const Node *n, int which, int dy) {
  if (which == 0)
    return add_ew(ad, OP_DIV, n->shape, 2, dy, n->in[1], 0);
  int t = add_ew(ad, OP_MUL, n->shape, 2, dy, n->id, 0);
  t = add_ew(ad, OP_DIV, n->shape, 2, t, n->in[1], 0);
  return add_ew(ad, OP_NEG, n->shape, 1, t, 0, 0);
}

int grad_sum(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return add_ew(ad, OP_BROADCAST, shape_of(ad, n->in[0]), 1, dy, 0, 0);
}

int grad_mean(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = shape_of(ad, n->in[0]);
  int b = add_ew(ad, OP_BROADCAST, xs, 1, dy, 0, 0);
  return add_ew(ad, OP_MUL, xs, 2, b, konst(ad, 1.0f / (float)shape_numel(xs)), 0);
}

// mse(a, b) is symmetric up to the sign of (a - b): mse_grad(dl, b, a) is
// the gradient with respect to b.
int grad_mse(AdState *ad, const Node *n, int which, int dy) {
  return add_ew(ad, OP_MSE_GRAD, shape_of(ad, n->in[which]), 3, dy, n->in[which], n->in[1 - which]);
}

int grad_nll(AdState *ad, const Node *n, int which, int dy) {
  if (which != 0)
    return -1;   // no gradient with respect to the label
  return add_ew(ad, OP_NLL_GRAD, shape_of(ad, n->in[0]), 2, dy, n->in[1], 0);
}

// ---- The pass.

// Sums a contribution down to the shape and batching of the input it is for.
static int fit(AdState *ad, int contrib, int target) {
  Node t = ad->g->nodes[target];
  Node c = ad->g->nodes[contrib];
  if (t.shape.rank == 0 && c.shape.rank > 0)
    contrib = add(ad, OP_SUM, shape_scalar(), c.batched, 1, contrib, 0, 0);
  if (!t.batched && c.batched)
    contrib = add(ad, OP_SUM_BATCH, t.shape, false, 1, contrib, 0, 0);
  return contrib;
}

static void accumulate(AdState *ad, int target, int contrib) {
  contrib = fit(ad, contrib, target);
  if (ad->grad[target] < 0)
    ad->grad[target] = contrib;
  else
    ad->grad[target] = add_ew(ad, OP_ADD, ad->g->nodes[target].shape, 2, ad->grad[target], contrib, 0);
}

// "file:line:col: error: msg", the source line and a caret, as the front end does.
static void report(SrcLoc loc, const char *msg) {
  fprintf(stderr, "%s:%d:%d: error: %s\n", loc.file ? loc.file : "<graph>", loc.line, loc.col, msg);
  FILE *f = loc.file && loc.line > 0 ? fopen(loc.file, "r") : NULL;
  if (!f)
    return;
  char buf[1024];
  for (int l = 1; fgets(buf, sizeof buf, f); l++) {
    if (l < loc.line)
      continue;
    buf[strcspn(buf, "\n")] = 0;
    fprintf(stderr, "%s\n%*s^\n", buf, loc.col > 0 ? loc.col - 1 : 0, "");
    break;
  }
  fclose(f);
}

static char *grad_name(const char *name) {
  char *s = malloc(strlen(name) + 3);
  if (!s)
    exit(2);
  sprintf(s, "d_%s", name);
  return s;
}

bool autodiff(Graph *g) {
  if (g->loss < 0) {
    fprintf(stderr, "%s: error: model has no loss to differentiate\n", g->path ? g->path : "netc");
    return false;
  }
  int nf = g->nnodes;
  g->nforward = nf;
  AdState ad = {.g = g, .grad = malloc(nf * sizeof(int)), .needs = calloc(nf, sizeof(bool))};
  if (!ad.grad || !ad.needs)
    exit(2);
  for (int i = 0; i < nf; i++) {
    const Node *n = &g->nodes[i];
    ad.grad[i] = -1;
    if (n->op == OP_PARAM)
      ad.needs[i] = !g->params[n->param].frozen;
    for (int j = 0; j < n->nin; j++)
      ad.needs[i] |= ad.needs[n->in[j]];
  }

  bool ok = true;
  if (ad.needs[g->loss]) {
    ad.loc = g->nodes[g->loss].loc;
    ad.grad[g->loss] = add(&ad, OP_LOSS_SEED, shape_scalar(), true, 0, 0, 0, 0);
  }
  for (int i = nf - 1; i >= 0 && ok; i--) {
    if (ad.grad[i] < 0 || g->nodes[i].op == OP_PARAM)
      continue;
    Node n = g->nodes[i];   // a copy: rules append nodes, which may move g->nodes
    ad.loc = n.loc;
    for (int j = 0; j < n.nin; j++) {
      if (!ad.needs[n.in[j]])
        continue;
      int c = op_info[n.op].grad ? op_info[n.op].grad(&ad, &n, j, ad.grad[i]) : -1;
      if (c < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "no gradient through '%s' (input %d), but a trainable parameter needs one",
                 ir_op_name(n.op), j + 1);
        report(n.loc, msg);
        ok = false;
        break;
      }
      accumulate(&ad, n.in[j], c);
    }
  }

  for (int p = 0; p < g->nparams && ok; p++) {
    Param *pr = &g->params[p];
    if (pr->frozen)
      continue;
    int gid = ad.grad[pr->node];
    if (gid < 0) {   // a trainable parameter that does not reach the loss: zero gradient
      ad.loc = g->nodes[pr->node].loc;
      gid = add(&ad, OP_BROADCAST, pr->shape, false, 1, konst(&ad, 0), 0, 0);
    }
    pr->grad = gid;
    if (!g->nodes[gid].name)
      g->nodes[gid].name = grad_name(pr->name);
  }
  free(ad.grad);
  free(ad.needs);
  return ok;
}
