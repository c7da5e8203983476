// fuse.c — the fusion pass: which ops of the gradient graph are computed
// inside another op's code (emit_passes.h).
//
//   a layer (OPF_LAYER) + an activation its epilogue applies (row's act)
//                                                 → the layer's epilogue
//   relu_grad(dy, y) feeding only a layer's backward ops → the mask y > 0 is
//                                applied to dy on the fly by dx, dw and db
//   sigmoid_grad(mse_grad(dl, y, t), y)           → one loop
//   log_softmax_grad(nll_grad(dl, label), y)      → one loop
//
// The pass does not rewrite the graph: it annotates it, so the IR printed
// by `netc --print-grad` is still the graph the emitter works from.
#include "emit_passes.h"

#include <stdlib.h>

#include "ops.h"

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

// relu_grad(dy, y) whose every user is a layer's backward op reading it as dy.
static void fuse_relu_masks(const Graph *g, Fusion *f) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *rg = &g->nodes[i];
    if (!f->live[i] || rg->op != OP_RELU_GRAD || is_export(g, i))
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

Fusion *fuse_graph(const Graph *g, bool fuse) {
  Fusion *f = xcalloc(1, sizeof *f);
  int n = g->nnodes;
  f->n = n;
  f->live = xcalloc(n, sizeof(bool));
  f->skip = xcalloc(n, sizeof(bool));
  f->act = xcalloc(n, sizeof(int));
  f->alias = xcalloc(n, sizeof(int));
  f->dy = xcalloc(n, sizeof(int));
  f->mask = xcalloc(n, sizeof(int));
  f->lead = xcalloc(n, sizeof(int));
  f->fold = xcalloc(n, sizeof(int));
  f->nusers = xcalloc(n, sizeof(int));
  for (int i = 0; i < n; i++)
    f->alias[i] = f->dy[i] = f->mask[i] = f->lead[i] = f->fold[i] = -1;
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
  }
  group_backward(g, f, fuse);
  return f;
}
