// interp.h — the interpreter (`netc run`): runs a Graph op by op over a
// batch with each op's kernel from the op table (im2col + sgemm for
// convolutions, sgemm for dense, loops for element-wise ops), allocating
// each node's value as an eager framework does and freeing it after its
// last use.  It provides the kernels' services (ops.h: Interp): OpenBLAS's
// sgemm and the runtime's random streams and noise model, so the compiler
// library links neither.
//
// Randomness: example i of a step draws from its own stream
// rng_stream(seed, i).  The random nodes (NORMAL, NOISE) consume that
// stream in node-id order; NORMAL draws one rng_normal per element in
// row-major order; NOISE draws as noise_apply does (mu, sigma, then one
// per element).  Generated code must draw in the same order.
#ifndef NETC_INTERP_H
#define NETC_INTERP_H

#include "ops.h"

#include <stdint.h>

// `netc run MODEL.net [trainer flags]`: differentiates the forward graph g,
// wraps it as a NetModel and hands it to the runtime's driver_main; argv
// holds the trainer flags after the model path.  Returns the exit status.
int interp_main(Graph *g, int argc, char **argv);

// `netc run MODEL.net --net NAME [flags]`: net instance NAME of u's model
// alone (lower_net_alone), forward only, as a NetModel without a training
// step: the driver loads its tensors by name from a checkpoint of the
// model and runs it over --predict-input.  Its export is named as the
// model binds the instance's output (`y = decoder(code)`: y).
typedef struct Unit Unit;
int interp_main_net(Unit *u, const char *name, int argc, char **argv);

// Wraps g (after autodiff, or a forward-only graph) as a NetModel whose
// steps run on the interpreter: tensors are g's parameters, trainable
// first; the parameter block is allocated (uninitialised).
typedef struct NetModel NetModel;
NetModel *interp_model_new(Graph *g);
// The interpreter behind such a model (tests set its draws hook).
Interp *interp_model_interp(NetModel *m);

// The state of a step the kernels see is the Interp (ops.h); the
// executor's own is behind it.
//
// Prepares to run g (after autodiff if it will train).  param[p] points at
// parameter p's values; they are read, never written.
Interp *interp_new(Graph *g, float **param);
void interp_free(Interp *ip);

// Runs nodes [0, upto) on n examples.  upto = g->nforward for inference,
// g->nnodes for a training step.  Returns the batch-mean loss (0 without a
// loss node).  Afterwards interp_value() gives the loss, exports and
// parameter gradients until interp_release().
double interp_run(Interp *ip, int upto, const float *x, const int32_t *labels, int n, uint64_t seed);

// Runs net instance `name` of u's model ("decoder") alone, forward only,
// without a loss or labels: inputs[j] is the net's input j, [n, numel];
// out receives its output, [n, numel].  Parameters are m's (the model
// compiled from u, e.g. interp_model_new's), found by name, so the net
// runs on the weights the model trains.  Returns 0, or -1 after printing
// why (no such instance, a parameter m lacks).
typedef struct Unit Unit;
int interp_run_net(Unit *u, NetModel *m, const char *name, const float *const *inputs, int n, uint64_t seed,
                   float *out);
const float *interp_value(const Interp *ip, int node);
void interp_release(Interp *ip);

#endif
