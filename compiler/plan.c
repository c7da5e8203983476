// plan.c — the static memory plan (emit_passes.h).
//
// Steps: the emitted ops of one chunk in order (forward, one step for
// copying out exports and the loss, then backward).  Each buffer lives from
// the step that writes it to the last step that reads it (through aliases:
// a reshape or a folded activation reads its root's buffer).  Buffers are
// placed greedily in order of first step at the lowest 16-float-aligned
// offset that does not overlap a buffer alive at the same time; a buffer
// being written never shares space with one read in the same step.  A
// group (a layer's backward ops, a run of element-wise ops in one loop) is
// one step: its loop interleaves its ops' reads and writes element by
// element, so none of its buffers may share space with another; a value
// local to an element-wise group (Fusion.local) has no buffer.  A batch
// norm folded into its convolution for evaluation (Fusion.eval_bn) lives
// from the convolution's step; a concat whose upsampled input writes its
// slot directly (Fusion.into), from that upsample's step.
#include "emit_passes.h"
#include "ops.h"

#include <stdlib.h>

static void use(const Fusion *f, Plan *p, int node, int step) {
  int r = fuse_root(f, node);
  if (p->last[r] < step)
    p->last[r] = step;
}

// Nodes whose values the code of node i reads (see emit.c for each op).
static void mark_reads(const Graph *g, const Fusion *f, Plan *p, int i, int step) {
  const Node *n = &g->nodes[i];
  if (op_def(n->op)->flags & OPF_LAYER_BWD) {
    use(f, p, f->dy[i], step);
    if (g->nodes[f->dy[i]].op == OP_BATCH_NORM_DX && f->skip[f->dy[i]])   // folded (fuse_bn_dx): computed here
      for (int k = 0; k < g->nodes[f->dy[i]].nin; k++)
        use(f, p, g->nodes[f->dy[i]].in[k], step);
    if (f->mask[i] >= 0)
      use(f, p, f->mask[i], step);
    if (n->nin > 1)
      use(f, p, n->in[1], step);
    return;
  }
  for (int j = 0; j < n->nin; j++) {
    int in = n->in[j];
    if (in == f->fold[i]) {
      // A folded mse_grad / nll_grad: its inputs are read here.
      for (int k = 0; k < g->nodes[in].nin; k++)
        use(f, p, g->nodes[in].in[k], step);
    } else {
      use(f, p, in, step);
    }
  }
}

Plan *plan_memory(const Graph *g, const Fusion *f, int chunk, const bool *pinned,
                  const bool *in_grad_block) {
  int n = g->nnodes;
  Plan *p = xcalloc(1, sizeof *p);
  p->step = xcalloc(n, sizeof(int));
  p->offset = xcalloc(n, sizeof(long));
  p->size = xcalloc(n, sizeof(long));
  p->first = xcalloc(n, sizeof(long));
  p->last = xcalloc(n, sizeof(long));
  int step = 0, export_step = -1;
  for (int i = 0; i < n; i++) {
    p->step[i] = -1;
    p->offset[i] = -1;
    p->last[i] = -1;
  }
  for (int i = 0; i < n; i++) {
    if (i == g->nforward)
      export_step = step++;
    if (f->skip[i])
      continue;
    int lead = f->lead[i] >= 0 ? f->lead[i] : i;
    p->step[i] = lead == i ? step++ : p->step[lead];
    mark_reads(g, f, p, i, p->step[i]);
  }
  if (export_step < 0)
    export_step = step++;
  p->nsteps = step;
  // Aliases (folded activations, reshapes) are written by their root's step.
  for (int i = 0; i < n; i++)
    if (pinned[i])
      use(f, p, i, export_step);

  long naive = 0;
  int *order = xcalloc(n, sizeof(int));
  int nb = 0;
  for (int i = 0; i < n; i++) {
    const Node *nd = &g->nodes[i];
    if (f->skip[i] || f->local[i] || in_grad_block[i] || p->step[i] < 0 || f->into[i] >= 0)
      continue;
    p->size[i] = shape_numel(nd->shape) * (nd->batched ? chunk : 1);
    p->first[i] = p->step[i];
    // A batch norm folded into its convolution (fuse_eval_bn) is written
    // by the convolution's step in evaluation mode.
    if (nd->op == OP_BATCH_NORM && f->eval_bn[i] >= 0)
      p->first[i] = p->step[f->eval_bn[i]];
    // A concat's inputs written into its buffer (fuse_concat_inputs).
    for (int j = 0; j < nd->nin; j++)
      if (f->into[nd->in[j]] == i && p->step[nd->in[j]] < p->first[i])
        p->first[i] = p->step[nd->in[j]];
    if (p->last[i] < p->first[i])
      p->last[i] = p->first[i];
    naive += (p->size[i] + 15) & ~15L;
    order[nb++] = i;   // already in order of first step (ids are topological)
  }
  long top = 0;
  for (int a = 0; a < nb; a++) {
    int i = order[a];
    long off = 0;
    bool moved = true;
    while (moved) {          // first fit: bump past every conflicting buffer
      moved = false;
      for (int b = 0; b < a; b++) {
        int j = order[b];
        bool time = p->first[i] <= p->last[j] && p->first[j] <= p->last[i];
        bool space = off < p->offset[j] + p->size[j] && p->offset[j] < off + p->size[i];
        if (time && space) {
          off = (p->offset[j] + p->size[j] + 15) & ~15L;
          moved = true;
        }
      }
    }
    p->offset[i] = off;
    if (off + p->size[i] > top)
      top = off + p->size[i];
  }
  p->arena = (top + 15) & ~15L;
  p->naive = naive;
  free(order);
  return p;
}
