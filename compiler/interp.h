// interp.h — the interpreter: runs a Graph op by op over a batch with
// generic kernels (im2col + sgemm for convolutions, sgemm for dense,
// loops for element-wise ops), allocating each node's value as an eager
// framework does and freeing it after its last use.
//
// Randomness: example i of a step draws from its own stream
// rng_stream(seed, i).  The random nodes (NORMAL, NOISE) consume that
// stream in node-id order; NORMAL draws one rng_normal per element in
// row-major order; NOISE draws as noise_apply does (mu, sigma, then one
// per element).  Generated code must draw in the same order.
#ifndef NETC_INTERP_H
#define NETC_INTERP_H

#include "ir.h"
#include "rng.h"

#include <stdint.h>

struct Interp {
  Graph *g;
  int n;                     // examples in the current step
  const float *x;            // [n, input numel]
  const uint8_t *labels;     // [n], NULL when the graph reads no label
  Rng *rng;                  // [n] per-example streams of this step
  // Test hook: when draws && draws[id], random node id takes its values
  // from draws[id] ([n, numel]) instead of the streams: the samples for
  // NORMAL, the added noise for NOISE.  Lets PyTorch fixtures supply the
  // randomness.
  const float *const *draws;

  float **param;             // [nparams] each parameter's values
  float **val;               // [nnodes] node values of the current step
  int *last_fwd, *last_all;  // [nnodes] last node reading it (forward only / whole graph)
  bool *keep;                // [nnodes] values read after the step (loss, exports, grads)
  int cap_n;                 // size the rng array was allocated for
};
typedef struct Interp Interp;

// `netc run MODEL.net [trainer flags]`: differentiates the forward graph g,
// wraps it as a NetModel and hands it to the runtime's driver_main; argv
// holds the trainer flags after the model path.  Returns the exit status.
int interp_main(Graph *g, int argc, char **argv);

// Wraps g (after autodiff, or a forward-only graph) as a NetModel whose
// steps run on the interpreter: tensors are g's parameters, trainable
// first; the parameter block is allocated (uninitialised).
typedef struct NetModel NetModel;
NetModel *interp_model_new(Graph *g);
// The interpreter behind such a model (tests set its draws hook).
Interp *interp_model_interp(NetModel *m);

// Prepares to run g (after autodiff if it will train).  param[p] points at
// parameter p's values; they are read, never written.
Interp *interp_new(Graph *g, float **param);
void interp_free(Interp *ip);

// Runs nodes [0, upto) on n examples.  upto = g->nforward for inference,
// g->nnodes for a training step.  Returns the batch-mean loss (0 without a
// loss node).  Afterwards interp_value() gives the loss, exports and
// parameter gradients until interp_release().
double interp_run(Interp *ip, int upto, const float *x, const uint8_t *labels, int n, uint64_t seed);
const float *interp_value(const Interp *ip, int node);
void interp_release(Interp *ip);

// Kernels (op_info[op].kernel), see ops.h: KernelFn.
void interp_input(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_label(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_const(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_normal(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_noise(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_loss_seed(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_conv2d(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_conv2d_dx(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_conv2d_dw(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_deconv2d(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_deconv2d_dx(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_deconv2d_dw(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_dense(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_dense_dx(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_dense_dw(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_bias_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_copy(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_relu(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_sigmoid(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_exp(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_log(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_neg(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_binary(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_log_softmax(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_sum(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_mean(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_mse(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_nll(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_relu_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_sigmoid_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_log_softmax_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_mse_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_nll_grad(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_broadcast(Interp *ip, const Node *n, float *out, const float *const *in);
void interp_sum_batch(Interp *ip, const Node *n, float *out, const float *const *in);

// Helpers shared by the kernel files.
void *interp_alloc(size_t floats);
// Examples a node's value holds: the batch, or 1 when unbatched.
static inline int interp_rows(const Interp *ip, const Node *n) { return n->batched ? ip->n : 1; }

#endif
