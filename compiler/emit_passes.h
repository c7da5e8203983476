// emit_passes.h — the passes between the gradient graph and the emitted C
// (issue [codegen]): fusion (fuse.c) and the static memory plan (plan.c).
// Both only annotate the Graph; emit.c reads the annotations.
#ifndef NETC_EMIT_PASSES_H
#define NETC_EMIT_PASSES_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

// ---- Fusion (fuse.c) ----
//
// Node-level facts, all indexed by node id:
//  live    the node is needed for the loss, an export or a gradient
//  skip    computed by another node's code (a folded activation, a folded
//          ReLU / MSE / NLL gradient) or costs nothing (param, const, reshape)
//  act     for CONV2D / DECONV2D / DENSE: the activation its epilogue
//          applies (KERN_ACT_* of kernels.h), 0 if none
//  alias   the node whose buffer holds this node's value (RESHAPE → its
//          input, a folded activation → its layer), or -1
//  dy      for a layer's backward op: the gradient it reads (a folded
//          RELU_GRAD is looked through), else -1
//  mask    for a layer's backward op: the ReLU output whose > 0 masks dy on
//          the fly, or -1
//  lead    for a layer's backward op: the first backward op of the same
//          layer with the same dy; for an element-wise op in a run of two
//          or more (fuse.c, group_elementwise): the run's first op, else
//          -1.  A group is emitted together at its lead, in one step
//  local   an element-wise op of a group whose value only its group reads:
//          a local float in the group's loop, no buffer in the plan
//  fold    for SIGMOID_GRAD / LOG_SOFTMAX_GRAD: the MSE_GRAD / NLL_GRAD
//          input whose code it computes too, else -1.  Being skipped is not
//          enough to tell: a reshape between the two is skipped as well
//  eval_bn for CONV2D: the BATCH_NORM whose evaluation-mode affine map (and
//          epilogue activation) its kernel applies through folded weights
//          when !train; for that BATCH_NORM and its BN_STATS: the CONV2D
//          (their code then runs in training only); else -1
typedef struct {
  int n;
  bool *live, *skip, *local;
  int *act, *alias, *dy, *mask, *lead, *fold;
  int *nusers;
  int *eval_bn;
  // into    for an UPSAMPLE read only by a CONCAT: that concat, whose buffer
  //         it writes its slot of directly (no buffer of its own, no copy);
  //         else -1
  int *into;
} Fusion;

// With fuse = false only the trivial facts are set (liveness, aliases of
// reshapes) so that every op is emitted on its own: `netc --no-fuse`.
Fusion *fuse_graph(const Graph *g, bool fuse);

// The node whose buffer holds n's value (follows alias).
int fuse_root(const Fusion *f, int n);
// The batch_norm_dw (bias: batch_norm_db) whose chunk part bn_grad_stats
// node gs writes from its own sums (skipped by fuse_graph), or -1.
int fuse_bn_part(const Graph *g, const Fusion *f, int gs, bool bias);

// ---- Memory plan (plan.c) ----
//
// Every value a chunk of examples computes (activations, their gradients,
// per-chunk partial sums of parameter gradients) gets a fixed offset in
// the chunk arena; two buffers share space only if their lifetimes (in
// emission steps) do not overlap.  Parameter gradients live in the
// chunk's gradient block instead (Graph.params[p].grad).
typedef struct {
  int nsteps;
  int *step;                 // emission step of each node (lead's step for a group), -1 if not emitted
  long *offset;              // chunk-arena offset in floats, -1 if no buffer
  long *size;                // floats
  long *first, *last;        // lifetime in steps
  long arena;                // floats of the chunk arena for values
  long naive;                // floats if nothing were shared (for the header)
} Plan;

// chunk: examples per chunk.  pinned[n] keeps a buffer alive to the end of
// the forward pass (exports, the loss).
Plan *plan_memory(const Graph *g, const Fusion *f, int chunk, const bool *pinned,
                  const bool *in_grad_block);

#endif
