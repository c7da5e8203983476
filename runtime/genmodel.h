// genmodel.h — what every generated model shares.  netc emits per model
// only what is specific to it: the tensor table, the memory plan and the
// code of one chunk (forward and backward).  It describes them in a
// GenSpec; genmodel_new turns that into a NetModel (model.h): allocation,
// the GEMM kernels, the weight transposes, the parallel batch loop with
// its chunk-order gradient reduction, and the trainer's main.
//
// A batch of at most spec->batch examples is cut into chunks of
// spec->chunk examples; OpenMP threads take whole chunks
// (schedule(static)).  Each thread owns one chunk arena laid out by the
// memory plan; each chunk writes its parameter-gradient partial sums to its
// own gradient block, and the blocks are added up in chunk order, so the
// results do not depend on the number of threads.
//
// The arena, one allocation sized when the thread count is set:
//   [0, arena_grads)               S, the transposed weights
//   [arena_grads, arena_threads)   the chunks' gradient blocks, chunk c at
//                                  arena_grads + c * n_trainable (chunk 0
//                                  writes the model's grads instead)
//   arena_threads + t * arena_chunk  thread t's chunk arena
//
// A model with batch norm runs in phases instead (GenSpec.phases, below):
// its batch statistics need every chunk, so every chunk keeps its own arena
// (chunk c at arena_threads + c * arena_chunk) through the step.  In
// evaluation no phase needs another chunk: each chunk runs its forward
// phases at once in its thread's arena (the first `threads` arenas).
//
// Training steps run in training mode, forward() in evaluation mode
// (GenChunk.train; models/README.md, "Training and evaluation modes").
#ifndef NETRT_GENMODEL_H
#define NETRT_GENMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model.h"
#include "rng.h"

typedef struct GenModel GenModel;

// One chunk: examples [i0, i0 + nc) of a batch of n; the chunk's last
// CHUNK - nc examples are padding (zero input, zero loss seed).
typedef struct {
  const GenModel *model;
  const float *P;            // parameters
  const float *S;            // transposed weights
  float *A;                  // this thread's chunk arena
  float *G;                  // this chunk's gradient block [n_trainable]
  const float *x;            // the batch, [n, input_size]
  const int32_t *labels;     // [n] classes 0 .. n_classes - 1, or NULL
  int i0, nc, n;
  uint64_t seed;             // example i draws from rng_stream(seed, i)
  int train;                 // 1: a training step; 0: evaluation (dropout is the identity)
  Rng *R;                    // phased models: the chunk's example streams [CHUNK], kept across phases
} GenChunk;

typedef void (*GenChunkFn)(const GenChunk *c);

// A GEMM dispatched once at init (kern_gemm_init's arguments).
typedef struct {
  const char *what;
  int m, n, k, lda, ldb, ldc, accumulate;
} GenGemm;

// A weight that kernels read transposed, [rows][cols] -> S + to as
// [cols][rows], refreshed before every step (libxsmm's GEMM has no
// transposed A).
typedef struct {
  int tensor;                // index in the tensor table
  size_t to;                 // offset in S
} GenTranspose;

// Models with batch norm run in phases (GenSpec.phases): a phase runs on
// every chunk, then a reduction combines what the chunks computed into
// values of the whole batch, in chunk order (so the result does not depend
// on the thread count), and writes them back into every chunk's arena.
// Each chunk then keeps its own arena for the whole step: chunk c at
// arena_threads + c * arena_chunk.
enum {
  GEN_REDUCE_NONE,
  // bn_stats: each chunk left [2][C] = (mean, sum of squared deviations)
  // over its real examples; becomes (mean, 1/sqrt(var + eps)) of the batch
  // (Chan et al.'s pairwise combination, in double), and in training the
  // running statistics move (runtime/genmodel.c).  Evaluation: each chunk
  // wrote the running ones itself; nothing to do.
  GEN_REDUCE_BN_STATS,
  // bn_grad_stats: each chunk left (sum dy, sum (x - mean) dy) per channel
  // as [2][C] doubles in its [4][C] floats; becomes (mean, k, grad_mean,
  // invstd * w).
  GEN_REDUCE_BN_GRAD,
};

typedef struct {
  int kind;                  // GEN_REDUCE_*
  long at;                   // chunk-arena offset of the node's buffer
  int channels, positions;   // per example
  long stats_at;             // BN_GRAD: chunk-arena offset of its bn_stats buffer
  long rm, rv;               // BN_STATS: parameter-block offsets of the running statistics
  long w;                    // BN_GRAD: parameter-block offset of the weight
  float momentum, eps;
} GenReduce;

typedef struct {
  GenChunkFn run;            // the phase's ops on one chunk, or NULL
  int backward;              // a backward phase: training steps only
  GenReduce reduce;          // then, once every chunk ran the phase
} GenPhase;

typedef struct {
  const char *name;          // "autoencoder"
  int batch, chunk;          // largest batch; examples per chunk
  int input_size, needs_labels;
  int n_tensors;
  NetTensor *tensors;
  size_t n_params, n_trainable;
  int n_outputs;
  NetOutput *outputs;
  const size_t *output_at;   // chunk-arena offset of export j, [chunk][outputs[j].size]
  int class_output;          // or -1
  long loss_at;              // chunk-arena offset of the per-example loss [chunk], or -1
  size_t arena_grads, arena_threads, arena_chunk;   // the arena layout above
  int n_gemm;
  const GenGemm *gemm;
  int n_transposes;
  const GenTranspose *transposes;
  GenChunkFn forward;        // the chunk's forward ops: exports and loss in its arena
  GenChunkFn backward;       // then its gradient into G; NULL without a loss
  int n_inputs;              // tensor inputs (input_size: the floats of all of them)
  int input_rank;            // the first input's per-example shape
  int input_dim[3];
  int n_classes;             // K of the label (labels must be < K), 0 if unknown
  // Batch norm: the chunk work in phases (forward phases first) instead of
  // forward and backward (NULL then); 0 and NULL otherwise.
  int n_phases;
  const GenPhase *phases;
  // NetModel.tensor_init and tensor_buffer (NULL: none).
  const uint8_t *tensor_init, *tensor_buffer;
  // Several tensor inputs: each one's name and per-example shape, in the
  // order of a batch row (NetModel.inputs); NULL for one input.
  const NetOutput *inputs;
} GenSpec;

struct GenModel {
  NetModel m;
  const GenSpec *spec;
  int threads;
  float *arena;
  double *loss;              // [nchunk], each chunk's loss sum
  Rng *rng;                  // phased: [nchunk][chunk] the examples' streams
  double *bn_sums;           // phased: [2][largest channel count], reduce_bn_grad's sums
  struct GenNet *nets;       // the nets run alone on this model's parameters (genmodel_run_net)
  KernGemm k[];              // spec->gemm, dispatched
};

// A model with parameters at zero (model_init_params or a checkpoint fills
// them) and as many threads as OpenMP offers.
NetModel *genmodel_new(const GenSpec *spec);

// The generated trainer's main: the runtime's training driver on the model.
int genmodel_main(const GenSpec *spec, int argc, char **argv);

// ---- The inference API (issue [use]) ----
// What the typed functions of a generated header (MODEL_open, MODEL_predict,
// MODEL_NET, ...) call.  Every function returns NET_OK or a NET_ERR_* code
// and fills err (if not NULL) with the reason; none prints or exits.  A
// model runs one call at a time (its arena is shared by the call's threads).

// genmodel_new without exiting: NULL and err when memory runs out.
NetModel *genmodel_create(const GenSpec *spec, NetError *err);

// Reads the parameters (and batch norm's buffers) of m, a model of spec,
// from a checkpoint.  subset: m is one net of a model (`netc --net`), whose
// tensors are taken by name out of the whole model's checkpoint; else the
// checkpoint must be of m's model exactly.  On error m keeps its parameters.
int genmodel_load(const GenSpec *spec, NetModel *m, const char *path, int subset, NetError *err);

// The forward pass in evaluation mode on n >= 0 examples x [n, input_size],
// in slices of at most spec->batch: outputs[j] (NULL: not wanted) receives
// export j as [n, size].  Labels are not needed: a loss is computed on
// label 0 and discarded.  Random nodes (a VAE's sampling) draw for example
// i from rng_stream(i / batch, i % batch).
int genmodel_predict(const GenSpec *spec, NetModel *m, const float *x, int n, float **outputs,
                     NetError *err);

// The argmax (first maximum) of the export a classification loss reads,
// per example: classes [n].  An error for a model without one.
int genmodel_classify(const GenSpec *spec, NetModel *m, const float *x, int n, int *classes,
                      NetError *err);

// Runs the net of spec net (a `netc --net` file) alone on model's
// parameters: the net's tensors are copied by name from model (a generated
// model holding them, e.g. the whole autoencoder for its decoder) into a
// NetModel of the net kept with model, then genmodel_predict.
int genmodel_run_net(const GenSpec *net, NetModel *model, const float *x, int n, float **outputs,
                     NetError *err);

#endif
