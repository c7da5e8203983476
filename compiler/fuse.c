// fuse.c — the fusion pass: which ops of the gradient graph are computed
// inside another op's code (emit_passes.h).
//
//   a layer (OPF_LAYER) + an activation its epilogue applies (row's act)
//                                                 → the layer's epilogue
//   relu_grad(dy, y) feeding only a layer's backward ops → the mask y > 0 is
//                                applied to dy on the fly by dx, dw and db
//                                (leaky_relu_grad, elu_grad: their factor)
//   sigmoid_grad(mse_grad(dl, y, t), y)           → one loop
//   log_softmax_grad(nll_grad(dl, label), y)      → one loop
//   consecutive element-wise ops of one size      → one loop; a value read
//                                                   only there is a local
//   batch_norm_dw, batch_norm_db into their parameter's gradient block
//                                                 → bn_grad_stats's pass,
//                                                   whose sums they are
//   batch_norm_dx feeding only a layer's backward ops → computed per
//                                example into MASK by the layer's group
//   upsample read only by a concat                → written into its slot
//                                                   of the concat's buffer
//   conv2d + bn_stats + batch_norm (+ relu), in evaluation mode
//                                                 → the conv2d's kernel with
//                                                   folded weights and bias
//
// The pass does not rewrite the graph: it annotates it, so the IR printed
// by `netc --print-grad` is still the graph the emitter works from.
#include "emit_passes.h"

#include <stdlib.h>

#include "ops.h"
#include "../runtime/xsmm/kernels_act.h"

static bool is_layer_backward(const Graph *g, int n) { return op_def(g->nodes[n].op)->flags & OPF_LAYER_BWD; }

int fuse_root(const Fusion *f, int n) {
  while (f->alias[n] >= 0)
    n = f->alias[n];
  return n;
}

// Values the model must produce: the loss, the exports, and the gradient
// of every trainable parameter; everything they read is live too.
static void mark_live(const Graph *g, Fusion *f) {
  if (g->loss >= 0)
    f->live[g->loss] = true;
  for (int i = 0; i < g->nexports; i++)
    f->live[g->exports[i].node] = true;
  for (int p = 0; p < g->nparams; p++)
    if (!g->params[p].frozen && g->params[p].grad >= 0)
      f->live[g->params[p].grad] = true;
  for (int i = g->nnodes - 1; i >= 0; i--)
    if (f->live[i])
      for (int j = 0; j < g->nodes[i].nin; j++)
        f->live[g->nodes[i].in[j]] = true;
  for (int i = 0; i < g->nnodes; i++)
    if (f->live[i])
      for (int j = 0; j < g->nodes[i].nin; j++)
        f->nusers[g->nodes[i].in[j]]++;
}

static bool is_export(const Graph *g, int n) {
  for (int i = 0; i < g->nexports; i++)
    if (g->exports[i].node == n)
      return true;
  return n == g->loss;
}

// relu / sigmoid whose input is a layer used by nothing else.
static void fuse_epilogues(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *r = &g->nodes[i];
    if (!f->live[i] || !op_def(r->op)->act)
      continue;
    int l = r->in[0];
    if (!(op_def(g->nodes[l].op)->flags & OPF_LAYER) || f->nusers[l] != 1 || is_export(g, l) || f->act[l])
      continue;
    f->act[l] = op_def(r->op)->act;
    f->alias[i] = l;
    f->skip[i] = true;
  }
}

// relu_grad(dy, y) whose every user is a layer's backward op reading it as dy
// (leaky_relu_grad and elu_grad too: functions of dy and y alike).
static void fuse_relu_masks(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *rg = &g->nodes[i];
    bool masks = rg->op == OP_RELU_GRAD || rg->op == OP_LEAKY_RELU_GRAD || rg->op == OP_ELU_GRAD;
    if (!f->live[i] || !masks || is_export(g, i))
      continue;
    bool ok = true;
    for (int u = i + 1; u < g->nnodes && ok; u++) {
      const Node *un = &g->nodes[u];
      if (!f->live[u])
        continue;
      for (int j = 0; j < un->nin; j++)
        if (un->in[j] == i && (j != 0 || !is_layer_backward(g, u)))
          ok = false;
    }
    if (!ok)
      continue;
    f->skip[i] = true;
    for (int u = i + 1; u < g->nnodes; u++)
      if (f->live[u] && g->nodes[u].nin > 0 && g->nodes[u].in[0] == i) {
        f->dy[u] = rg->in[0];
        f->mask[u] = rg->in[1];
      }
  }
}

// batch_norm_dx(dy, x, gstats) whose every user is a layer's backward op
// reading it as dy (the convolution or dense layer before a batch norm):
// not materialised.  The layer's backward group computes each example's
// value into the scratch MASK right before its GEMMs read it (emit.c,
// modes.c: bn_dx_example), so it is written and read in cache instead of
// through a chunk-sized buffer after the phase barrier; the same
// expression per element, so the same numbers.
static void fuse_bn_dx(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    if (!f->live[i] || g->nodes[i].op != OP_BATCH_NORM_DX || is_export(g, i))
      continue;
    bool ok = true;
    for (int u = i + 1; u < g->nnodes && ok; u++)
      if (f->live[u])
        for (int j = 0; j < g->nodes[u].nin; j++)
          if (g->nodes[u].in[j] == i && (j != 0 || !is_layer_backward(g, u)))
            ok = false;
    if (ok)
      f->skip[i] = true;
  }
}

// Backward ops of one layer reading the same dy run as one loop.
static void group_backward(const Graph *g, Fusion *f, bool fuse) {
  for (int i = 0; i < g->nnodes; i++) {
    if (!f->live[i] || !is_layer_backward(g, i))
      continue;
    if (f->dy[i] < 0)
      f->dy[i] = g->nodes[i].in[0];
    f->lead[i] = i;
    if (!fuse)
      continue;
    for (int j = 0; j < i; j++)
      if (f->live[j] && is_layer_backward(g, j) && f->lead[j] == j &&
          f->dy[j] == f->dy[i] && f->mask[j] == f->mask[i]) {
        f->lead[i] = j;
        break;
      }
  }
}

// sigmoid_grad(mse_grad(..)) and log_softmax_grad(nll_grad(..)): the inner
// gradient is skipped and the outer op's code computes both.
static void fuse_loss_grads(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    if (!f->live[i])
      continue;
    int in = n->nin > 0 ? n->in[0] : -1;
    bool sig = n->op == OP_SIGMOID_GRAD && g->nodes[in].op == OP_MSE_GRAD &&
               g->nodes[in].in[1] == n->in[1];
    bool lsm = n->op == OP_LOG_SOFTMAX_GRAD && g->nodes[in].op == OP_NLL_GRAD;
    if ((sig || lsm) && f->nusers[in] == 1 && !is_export(g, in)) {
      f->skip[in] = true;
      f->fold[i] = in;
    }
  }
}

// The parameter gradient batch_norm_dw (bias: batch_norm_db) that belongs
// to bn_grad_stats node gs = (dy, x, stats, w), or -1: the gradient node
// of w (of the bias, the batch_norm(x, stats, w, b) node's last input)
// when it is that op on the same dy (and x, stats).  The pairing goes
// through the parameters because a db reads dy alone, and two batch norms
// may share a dy (a residual block's two branches after an add).
static int bn_param_grad(const Graph *g, int gs, bool bias) {
  const Node *n = &g->nodes[gs];
  int w = n->in[3], pn = w;
  if (bias) {
    pn = -1;
    for (int i = 0; i < g->nforward; i++) {
      const Node *f = &g->nodes[i];
      if (f->op == OP_BATCH_NORM && f->in[0] == n->in[1] && f->in[1] == n->in[2] && f->in[2] == w)
        pn = f->in[3];
    }
  }
  if (pn < 0 || g->nodes[pn].op != OP_PARAM)
    return -1;
  const Param *p = &g->params[g->nodes[pn].param];
  int j = p->grad;
  if (p->frozen || j <= gs)
    return -1;
  const Node *u = &g->nodes[j];
  if (bias ? u->op == OP_BATCH_NORM_DB && u->in[0] == n->in[0]
           : u->op == OP_BATCH_NORM_DW && u->in[0] == n->in[0] && u->in[1] == n->in[1] && u->in[2] == n->in[2])
    return j;
  return -1;
}

int fuse_bn_part(const Graph *g, const Fusion *f, int gs, bool bias) {
  int j = bn_param_grad(g, gs, bias);
  return j >= 0 && f->skip[j] ? j : -1;
}

// batch_norm_dw and batch_norm_db that are their parameters' gradients
// (the gradient block, alive through the step): the chunk's parts of dw
// and db are the sums that bn_grad_stats's pass makes (modes.c), so they
// are skipped and written by its code instead of by two more passes.
static void fuse_bn_grads(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    if (!f->live[i] || g->nodes[i].op != OP_BN_GRAD_STATS)
      continue;
    for (int bias = 0; bias < 2; bias++) {
      int j = bn_param_grad(g, i, bias);
      if (j >= 0 && f->live[j] && !is_export(g, j))
        f->skip[j] = true;
    }
  }
}

// Whether forward node v is read, among the live forward nodes, only by
// the nodes a and b.
static bool forward_readers_only(const Graph *g, const Fusion *f, int v, int a, int b) {
  for (int u = v + 1; u < g->nforward; u++)
    if (f->live[u] && u != a && u != b)
      for (int j = 0; j < g->nodes[u].nin; j++)
        if (g->nodes[u].in[j] == v)
          return false;
  return true;
}

// y = batch_norm(conv2d(x, w, b), bn_stats(conv, rm, rv), bw, bb) (+ relu)
// in evaluation mode is an affine map per output channel of the
// convolution: y = conv(x, w·alpha) + (b·alpha + beta), alpha = bw /
// sqrt(rv + eps), beta = bb - rm·alpha, then the activation.  The
// convolution's kernel then computes y directly (conv.c: the weights
// folded once per chunk, the activation as its epilogue's), and the
// statistics' and the normalisation's passes run in training only.  The
// rounding differs from normalising the convolution's output (a product
// of w·alpha instead of one with alpha after the sum): a few ulps.  Only
// when the convolution and the statistics feed nothing else in the forward
// pass (the backward pass reads them, but evaluation runs none), and
// without an activation that the kernels' epilogue does not compute as
// the batch norm's code does (relu only).
static void fuse_eval_bn(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nforward; i++) {
    const Node *b = &g->nodes[i];
    if (!f->live[i] || b->op != OP_BATCH_NORM || (f->act[i] && f->act[i] != KERN_ACT_RELU))
      continue;
    int c = b->in[0], s = b->in[1];
    const Node *st = &g->nodes[s];
    if (g->nodes[c].op != OP_CONV2D || st->op != OP_BN_STATS || st->in[0] != c || f->act[c] || f->eval_bn[c] >= 0 ||
        is_export(g, c) || is_export(g, s) || !forward_readers_only(g, f, c, s, i) ||
        !forward_readers_only(g, f, s, i, i))
      continue;
    f->eval_bn[c] = i;
    f->eval_bn[i] = f->eval_bn[s] = c;
  }
}

// upsample(x) read only by concat(..., upsample(x), ...): the upsample's
// code writes its rows straight into its slot of the concat's buffer
// (pool.c), and the concat copies only its other inputs: the U-Net's skip
// connections copy half or a third of what they did.  The concat's buffer
// then lives from the upsample's step (plan.c).
static void fuse_concat_inputs(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *c = &g->nodes[i];
    if (!f->live[i] || c->op != OP_CONCAT || f->skip[i])
      continue;
    for (int j = 0; j < c->nin; j++) {
      int u = c->in[j];
      if (g->nodes[u].op == OP_UPSAMPLE && f->live[u] && !f->skip[u] && f->nusers[u] == 1 && !is_export(g, u) &&
          g->nodes[u].batched && c->batched)
        f->into[u] = i;
    }
  }
}

static bool is_ew(const Graph *g, int n) { return op_def(g->nodes[n].op)->flags & OPF_EW; }

// Whether node i, joining the group led by lead, would add or subtract a
// product computed in that group.  gcc compiles the generated code with
// -ffp-contract=fast: in one loop, t = a * b; u = t + c (or c - t,
// -t + c) becomes u = fma(a, b, c), rounded once instead of twice, so the
// result would differ from the loops of --no-fuse and of the interpreter.
// A folded mse_grad's inputs are read (and subtracted) by i's code too.
static bool fma_hazard(const Graph *g, const Fusion *f, int lead, int i, const bool *product) {
  const Node *n = &g->nodes[i];
  unsigned addsub = op_def(n->op)->ew_addsub;
  for (int j = 0; j < n->nin; j++) {
    int r = fuse_root(f, n->in[j]);
    if (n->in[j] == f->fold[i]) {
      if (fma_hazard(g, f, lead, n->in[j], product))
        return true;
    } else if ((addsub >> j & 1) && f->lead[r] == lead && product[r]) {
      return true;
    }
  }
  return false;
}

// Values read only by the ops of their own group that are no export,
// loss or parameter gradient: each lives in a local of its group's loop
// and gets no buffer.  A reader through an alias (a reshape) or through a
// fold (a skipped mse_grad) is outside the group.  Once over the edges.
static void mark_locals(const Graph *g, Fusion *f) {
  int n = g->nnodes;
  bool *outside = xcalloc(n, sizeof(bool));
  for (int u = 0; u < n; u++)
    if (f->live[u])
      for (int j = 0; j < g->nodes[u].nin; j++) {
        int v = g->nodes[u].in[j];
        if (f->skip[u] || f->lead[u] < 0 || f->lead[u] != f->lead[v])
          outside[v] = true;
      }
  for (int p = 0; p < g->nparams; p++)
    if (g->params[p].grad >= 0)
      outside[g->params[p].grad] = true;
  for (int i = 0; i < n; i++)
    f->local[i] = f->lead[i] >= 0 && is_ew(g, i) && !outside[i] && !is_export(g, i);
  free(outside);
}

// Runs of element-wise ops (OPF_EW) that are consecutive among the emitted
// ops of one chunk function, of one element count and batching, become one
// loop (lead = the first op).  Each op's value is computed element by
// element, so the loop computes what the separate loops did, in the same
// order per element; only a product feeding an add / sub ends a run (see
// fma_hazard).  A run of one op stays as it was (lead -1).
static void group_elementwise(const Graph *g, Fusion *f) {
  int n = g->nnodes, lead = -1;
  bool *product = xcalloc(n, sizeof(bool));   // an FMA candidate, were it added to
  int *size = xcalloc(n, sizeof(int));        // ops per group, by lead
  for (int i = 0; i < n; i++) {
    if (i == g->nforward)
      lead = -1;               // forward and backward are two functions
    if (f->skip[i])
      continue;
    if (!is_ew(g, i)) {
      lead = -1;
      continue;
    }
    const Node *nd = &g->nodes[i];
    if (lead < 0 || nd->batched != g->nodes[lead].batched ||
        shape_numel(nd->shape) != shape_numel(g->nodes[lead].shape) || fma_hazard(g, f, lead, i, product))
      lead = i;
    f->lead[i] = lead;
    size[lead]++;
    unsigned fl = op_def(nd->op)->flags;
    int in0 = nd->nin > 0 ? fuse_root(f, nd->in[0]) : -1;
    product[i] = (fl & OPF_EW_PRODUCT) || ((fl & OPF_EW_PASS) && in0 >= 0 && f->lead[in0] == lead && product[in0]);
  }
  for (int i = 0; i < n; i++)
    if (f->lead[i] >= 0 && is_ew(g, i) && size[f->lead[i]] < 2)
      f->lead[i] = -1;
  mark_locals(g, f);
  free(product);
  free(size);
}

Fusion *fuse_graph(const Graph *g, bool fuse) {
  Fusion *f = xcalloc(1, sizeof *f);
  int n = g->nnodes;
  f->n = n;
  f->live = xcalloc(n, sizeof(bool));
  f->skip = xcalloc(n, sizeof(bool));
  f->local = xcalloc(n, sizeof(bool));
  f->act = xcalloc(n, sizeof(int));
  f->alias = xcalloc(n, sizeof(int));
  f->dy = xcalloc(n, sizeof(int));
  f->mask = xcalloc(n, sizeof(int));
  f->lead = xcalloc(n, sizeof(int));
  f->fold = xcalloc(n, sizeof(int));
  f->nusers = xcalloc(n, sizeof(int));
  f->eval_bn = xcalloc(n, sizeof(int));
  f->into = xcalloc(n, sizeof(int));
  for (int i = 0; i < n; i++)
    f->alias[i] = f->dy[i] = f->mask[i] = f->lead[i] = f->fold[i] = f->eval_bn[i] = f->into[i] = -1;
  mark_live(g, f);
  for (int i = 0; i < n; i++) {
    const Node *nd = &g->nodes[i];
    if (!f->live[i] || (op_def(nd->op)->flags & OPF_NOCODE))
      f->skip[i] = true;
    if (op_def(nd->op)->flags & OPF_ALIAS) {
      f->alias[i] = nd->in[0];
      f->skip[i] = true;
    }
  }
  if (fuse) {
    fuse_epilogues(g, f);
    fuse_relu_masks(g, f);
    fuse_loss_grads(g, f);
    fuse_bn_grads(g, f);
    fuse_eval_bn(g, f);
    fuse_bn_dx(g, f);
    fuse_concat_inputs(g, f);
  }
  group_backward(g, f, fuse);
  if (fuse)
    group_elementwise(g, f);
  return f;
}
