// autodiff.h — reverse-mode differentiation of the forward graph, in the
// same IR (see compiler/README.md, "Gradient graph", for every backward op).
#ifndef NETC_AUTODIFF_H
#define NETC_AUTODIFF_H

#include "ir.h"

// Appends the backward pass to g (g->loss must be set): sets g->nforward,
// and Param.grad of every trainable parameter to the node holding its
// batch-summed gradient of the batch-mean loss.  Frozen parameters get no
// gradient, and nothing is computed for values that lead only to frozen
// parameters or to inputs.  On an op without a gradient rule on a path
// that needs one, prints "file:line:col: error: ..." with the source line
// and returns false.
bool autodiff(Graph *g);

// For the gradient rules (each op's `grad`, in its family file): append a
// backward node at the source location of the forward node being
// differentiated.  ad_ew's node is batched if any input is; ad_const is an
// unbatched scalar constant; ad_at reads a node (valid until the next add).
typedef struct AdState AdState;
int ad_node(AdState *ad, OpKind op, Shape s, bool batched, int nin, int a, int b, int c);
int ad_ew(AdState *ad, OpKind op, Shape s, int nin, int a, int b, int c);
int ad_const(AdState *ad, float v);
// ad_node with up to IR_MAX_IN inputs (batch norm's gradient reads four).
int ad_node_in(AdState *ad, OpKind op, Shape s, bool batched, int nin, const int *in);
Node *ad_at(AdState *ad, int id);

#endif
