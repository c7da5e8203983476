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
//                                  arena_grads + c * n_trainable
//   arena_threads + t * arena_chunk  thread t's chunk arena
#ifndef NETRT_GENMODEL_H
#define NETRT_GENMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model.h"

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
  const uint8_t *labels;     // [n], or NULL
  int i0, nc, n;
  uint64_t seed;             // example i draws from rng_stream(seed, i)
  int train;                 // 1: a training step; 0: evaluation (dropout is the identity)
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
} GenSpec;

struct GenModel {
  NetModel m;
  const GenSpec *spec;
  int threads;
  float *arena;
  double *loss;              // [nchunk], each chunk's loss sum
  KernGemm k[];              // spec->gemm, dispatched
};

// A model with parameters at zero (model_init_params or a checkpoint fills
// them) and as many threads as OpenMP offers.
NetModel *genmodel_new(const GenSpec *spec);

// The generated trainer's main: the runtime's training driver on the model.
int genmodel_main(const GenSpec *spec, int argc, char **argv);

#endif
