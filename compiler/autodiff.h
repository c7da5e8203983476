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

// Gradient rules, referenced by the op table (ops.c).  See ops.h: GradFn.
typedef struct AdState AdState;
int grad_conv2d(AdState *ad, const Node *n, int which, int dy);
int grad_deconv2d(AdState *ad, const Node *n, int which, int dy);
int grad_dense(AdState *ad, const Node *n, int which, int dy);
int grad_reshape(AdState *ad, const Node *n, int which, int dy);
int grad_relu(AdState *ad, const Node *n, int which, int dy);
int grad_sigmoid(AdState *ad, const Node *n, int which, int dy);
int grad_exp(AdState *ad, const Node *n, int which, int dy);
int grad_log(AdState *ad, const Node *n, int which, int dy);
int grad_neg(AdState *ad, const Node *n, int which, int dy);
int grad_add(AdState *ad, const Node *n, int which, int dy);
int grad_sub(AdState *ad, const Node *n, int which, int dy);
int grad_mul(AdState *ad, const Node *n, int which, int dy);
int grad_div(AdState *ad, const Node *n, int which, int dy);
int grad_log_softmax(AdState *ad, const Node *n, int which, int dy);
int grad_sum(AdState *ad, const Node *n, int which, int dy);
int grad_mean(AdState *ad, const Node *n, int which, int dy);
int grad_mse(AdState *ad, const Node *n, int which, int dy);
int grad_nll(AdState *ad, const Node *n, int which, int dy);

#endif
