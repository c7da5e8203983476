// layers.h — what the layer families (conv.c, dense.c) share in their
// interpreter kernels.
//
// Threads take whole chunks of LAYER_CHUNK examples: im2col, one
// single-threaded sgemm and col2im of a chunk run on one core, and the
// column matrix (at most ~450 KB here) stays in its L2.  One parallel region
// per op and no second thread pool: OpenBLAS runs single-threaded
// (the interpreter's set_threads), since its pthreads spinning next to
// OpenMP's only steal each other's cores.  Weight gradients are summed per
// chunk, then over the chunks in order, so results do not depend on the
// number of threads.
#ifndef NETC_OPS_LAYERS_H
#define NETC_OPS_LAYERS_H

#include <stddef.h>

#define LAYER_CHUNK 32

static inline int min_int(int a, int b) { return a < b ? a : b; }

// Chunk j of the batch: examples [j * LAYER_CHUNK, ...).
#define CHUNK_LOOP(j)                                              \
  _Pragma("omp parallel for schedule(static)")                     \
  for (int j = 0; j < nchunks; j++)

// dw = sum of the chunks' partial gradients part [nchunks, m], in chunk order.
void layer_sum_chunks(const float *part, int nchunks, size_t m, float *dw);

#endif
