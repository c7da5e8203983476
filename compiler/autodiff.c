// autodiff.c — reverse-mode differentiation in the IR.
//
// The forward graph is walked from the loss back to the parameters.  Each
// op's local rule (its row's grad, in the op's family file) turns the gradient dy
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

#include "netc.h"
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

int ad_node(AdState *ad, OpKind op, Shape s, bool batched, int nin, int a, int b, int c) {
  int in[3] = {a, b, c};
  return ir_add(ad->g, op, in, nin, s, batched, ad->loc);
}

int ad_node_in(AdState *ad, OpKind op, Shape s, bool batched, int nin, const int *in) {
  return ir_add(ad->g, op, in, nin, s, batched, ad->loc);
}

int ad_ew(AdState *ad, OpKind op, Shape s, int nin, int a, int b, int c) {
  int in[3] = {a, b, c};
  return ad_node(ad, op, s, any_batched(ad->g, nin, in), nin, a, b, c);
}

int ad_const(AdState *ad, float v) {
  int id = ad_node(ad, OP_CONST, shape_scalar(), false, 0, 0, 0, 0);
  ad->g->nodes[id].attr.scalar = v;
  return id;
}

Node *ad_at(AdState *ad, int id) { return &ad->g->nodes[id]; }

// ---- The pass.

// Sums a contribution down to the shape and batching of the input it is for.
static int fit(AdState *ad, int contrib, int target) {
  Node t = ad->g->nodes[target];
  Node c = ad->g->nodes[contrib];
  if (t.shape.rank == 0 && c.shape.rank > 0)
    contrib = ad_node(ad, OP_SUM, shape_scalar(), c.batched, 1, contrib, 0, 0);
  if (!t.batched && c.batched)
    contrib = ad_node(ad, OP_SUM_BATCH, t.shape, false, 1, contrib, 0, 0);
  return contrib;
}

static void accumulate(AdState *ad, int target, int contrib) {
  contrib = fit(ad, contrib, target);
  if (ad->grad[target] < 0)
    ad->grad[target] = contrib;
  else
    ad->grad[target] = ad_ew(ad, OP_ADD, ad->g->nodes[target].shape, 2, ad->grad[target], contrib, 0);
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
    for (int j = 0; j < n->nin && !(op_def(n->op)->flags & OPF_NO_GRAD); j++)
      ad.needs[i] |= ad.needs[n->in[j]];
  }

  bool ok = true;
  if (ad.needs[g->loss]) {
    ad.loc = g->nodes[g->loss].loc;
    ad.grad[g->loss] = ad_node(&ad, OP_LOSS_SEED, shape_scalar(), true, 0, 0, 0, 0);
  }
  for (int i = nf - 1; i >= 0 && ok; i--) {
    if (ad.grad[i] < 0 || g->nodes[i].op == OP_PARAM)
      continue;
    Node n = g->nodes[i];   // a copy: rules append nodes, which may move g->nodes
    ad.loc = n.loc;
    for (int j = 0; j < n.nin; j++) {
      if (!ad.needs[n.in[j]])
        continue;
      int c = op_def(n.op)->grad ? op_def(n.op)->grad(&ad, &n, j, ad.grad[i]) : -1;
      if (c < 0) {
        diag_error_src(n.loc, "no gradient through '%s' (input %d), but a trainable parameter needs one",
                       ir_op_name(n.op), j + 1);
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
      gid = ad_node(&ad, OP_BROADCAST, pr->shape, false, 1, ad_const(&ad, 0), 0, 0);
    }
    pr->grad = gid;
    if (!g->nodes[gid].name)
      g->nodes[gid].name = grad_name(pr->name);
  }
  free(ad.grad);
  free(ad.needs);
  return ok;
}
