// bench_kernels.c — per-image cost of each kernel of runtime/xsmm/kernels.h
// at the autoencoder's layer shapes (forward, input and weight gradient),
// and of the im2col / col2im / GEMM parts of one layer: the hot-spot table
// behind README.md's "Benchmark: generated code".  One thread; CPU time of
// the process by default (the machine is shared), --clock wall otherwise.
//
//   bench-kernels [--clock cpu|wall] [--reps N]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "../bench_util.h"

static clockid_t clock_id = CLOCK_PROCESS_CPUTIME_ID;

static double now(void) { return bench_seconds(clock_id); }

// Inputs are read-only and outputs go to their own buffers, so repeated
// calls see the same (finite, normal) values.
static float *buf(int n, unsigned seed) {
  float *p = aligned_alloc(64, ((size_t)n * sizeof(float) + 63) / 64 * 64);
  for (int i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)((seed >> 8) * (1.0 / 16777216.0)) - 0.3f;
  }
  return p;
}

#define TIME(name, flops, call)                                                        \
  do {                                                                                 \
    call;                                                                              \
    double t0 = now();                                                                 \
    for (int r = 0; r < reps; r++) { call; }                                           \
    double ns = (now() - t0) / reps * 1e9;                                             \
    printf("%-34s %8.0f ns  %6.1f GFLOP/s\n", name, ns, (flops) > 0 ? (flops) / ns : 0.0); \
  } while (0)

int main(int argc, char **argv) {
  int reps = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--clock")) clock_id = strcmp(argv[i + 1], "wall") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
  }
  libxsmm_init();
  // Images of every size the layers read: [1,28,28], [8,14,14], [16,7,7], [32,3,3].
  const float *a784 = buf(784, 1), *a1568 = buf(1568, 2), *b784 = buf(784, 3), *a288 = buf(288, 4);
  const float *w = buf(5000, 5), *wt = buf(5000, 6), *b = buf(64, 7);
  float *out = buf(2000, 8), *col = buf(8000, 9), *dw = buf(5000, 10), *db = buf(64, 11);
  KernGemm c1, c2, c3, x2, x3, w1, w2, w3, f1, f2, f3, d1, d2, d3, v1, v2, v3;
  // conv1 1x28->8x14 (p1), conv2 8x14->16x7 (p1), conv3 16x7->32x3 (p0)
  kern_gemm_init(&c1, "conv1", 196, 8, 9, 196, 9, 196, 0);
  kern_gemm_init(&c2, "conv2", 49, 16, 72, 49, 72, 49, 0);
  kern_gemm_init(&c3, "conv3", 9, 32, 144, 9, 144, 9, 0);
  kern_gemm_init(&x2, "conv2 dx", 49, 72, 16, 49, 16, 49, 0);
  kern_gemm_init(&x3, "conv3 dx", 9, 144, 32, 9, 32, 9, 0);
  kern_gemm_init(&w1, "conv1 dw", 9, 8, 196, 9, 196, 9, 1);
  kern_gemm_init(&w2, "conv2 dw", 72, 16, 49, 72, 49, 72, 1);
  kern_gemm_init(&w3, "conv3 dw", 144, 32, 9, 144, 9, 144, 1);
  // deconv1 32x3->16x7 (p0), deconv2 16x7->8x14 (p1 op1), deconv3 8x14->1x28 (p1 op1)
  kern_gemm_init(&f1, "deconv1", 9, 144, 32, 9, 32, 9, 0);
  kern_gemm_init(&f2, "deconv2", 49, 72, 16, 49, 16, 49, 0);
  kern_gemm_init(&f3, "deconv3", 196, 9, 8, 196, 8, 196, 0);
  kern_gemm_init(&d1, "deconv1 dx", 9, 32, 144, 9, 144, 9, 0);
  kern_gemm_init(&d2, "deconv2 dx", 49, 16, 72, 49, 72, 49, 0);
  kern_gemm_init(&d3, "deconv3 dx", 196, 8, 9, 196, 9, 196, 0);
  kern_gemm_init(&v1, "deconv1 dw", 144, 32, 9, 144, 9, 144, 1);
  kern_gemm_init(&v2, "deconv2 dw", 72, 16, 49, 72, 49, 72, 1);
  kern_gemm_init(&v3, "deconv3 dw", 9, 8, 196, 9, 196, 9, 1);
  const double m1 = 2.0 * 8 * 196 * 9, m2 = 2.0 * 16 * 49 * 72, m3 = 2.0 * 32 * 9 * 144;

  TIME("conv1 forward (+bias+relu)", m1, kern_conv_fwd(&c1, a784, w, b, out, col, 1, 28, 28, 8, 3, 2, 1, 14, 14, KERN_ACT_RELU));
  TIME("conv2 forward (+bias+relu)", m2, kern_conv_fwd(&c2, a1568, w, b, out, col, 8, 14, 14, 16, 3, 2, 1, 7, 7, KERN_ACT_RELU));
  TIME("conv3 forward (+bias+relu)", m3, kern_conv_fwd(&c3, b784, w, b, out, col, 16, 7, 7, 32, 3, 2, 0, 3, 3, KERN_ACT_RELU));
  TIME("conv2 input gradient", m2, kern_conv_dx(&x2, b784, wt, out, col, 8, 14, 14, 3, 2, 1, 7, 7));
  TIME("conv3 input gradient", m3, kern_conv_dx(&x3, a288, wt, out, col, 16, 7, 7, 3, 2, 0, 3, 3));
  TIME("conv1 weight gradient", m1, kern_conv_dw(&w1, a1568, a784, dw, col, 1, 28, 28, 3, 2, 1, 14, 14));
  TIME("conv2 weight gradient", m2, kern_conv_dw(&w2, b784, a1568, dw, col, 8, 14, 14, 3, 2, 1, 7, 7));
  TIME("conv3 weight gradient", m3, kern_conv_dw(&w3, a288, b784, dw, col, 16, 7, 7, 3, 2, 0, 3, 3));
  TIME("deconv1 forward (+bias+relu)", m3, kern_deconv_fwd(&f1, a288, wt, b, out, col, 16, 7, 7, 3, 2, 0, 3, 3, KERN_ACT_RELU));
  TIME("deconv2 forward (+bias+relu)", m2, kern_deconv_fwd(&f2, b784, wt, b, out, col, 8, 14, 14, 3, 2, 1, 7, 7, KERN_ACT_RELU));
  TIME("deconv3 forward (+bias+sigmoid)", m1, kern_deconv_fwd(&f3, a1568, wt, b, out, col, 1, 28, 28, 3, 2, 1, 14, 14, KERN_ACT_SIGMOID));
  TIME("deconv1 input gradient", m3, kern_deconv_dx(&d1, b784, w, out, col, 16, 7, 7, 3, 2, 0, 3, 3));
  TIME("deconv2 input gradient", m2, kern_deconv_dx(&d2, a1568, w, out, col, 8, 14, 14, 3, 2, 1, 7, 7));
  TIME("deconv3 input gradient", m1, kern_deconv_dx(&d3, a784, w, out, col, 1, 28, 28, 3, 2, 1, 14, 14));
  TIME("deconv1 weight gradient", m3, kern_deconv_dw(&v1, b784, a288, dw, col, 16, 7, 7, 3, 2, 0, 3, 3));
  TIME("deconv2 weight gradient", m2, kern_deconv_dw(&v2, a1568, b784, dw, col, 8, 14, 14, 3, 2, 1, 7, 7));
  TIME("deconv3 weight gradient", m1, kern_deconv_dw(&v3, a784, a1568, dw, col, 1, 28, 28, 3, 2, 1, 14, 14));
  printf("parts of conv2:\n");
  TIME("  im2col [72][49]", 0, kern_im2col(a1568, 8, 14, 14, 3, 2, 1, 7, 7, col));
  TIME("  im2col transposed [49][72]", 0, kern_im2col_t(a1568, 8, 14, 14, 3, 2, 1, 7, 7, col));
  TIME("  col2im [72][49]", 0, kern_col2im(col, 8, 14, 14, 3, 2, 1, 7, 7, out));
  TIME("  GEMM forward", m2, kern_gemm(&c2, col, w, out));
  TIME("  GEMM input gradient", m2, kern_gemm(&x2, b784, wt, col));
  TIME("  GEMM weight gradient", m2, kern_gemm(&w2, col, b784, dw));
  TIME("  ReLU mask [16][7][7]", 0, kern_mask(b784, a1568, 784, out));
  TIME("  bias gradient [16][49]", 0, kern_bias_grad(b784, 16, 49, db));
  libxsmm_finalize();
  return 0;
}
