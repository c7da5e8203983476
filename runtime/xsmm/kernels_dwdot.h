// kernels_dwdot.h — the weight gradient of a convolution side with few
// patch rows (a one-channel side) as dot products along the positions
// (issue [performance]; the emitter's rule is conv_dwdot, ops/conv.c).
//
// A weight gradient is dw[o][t] = sum over the positions q of a[o][q]
// b[t][q]: a is the gradient of the output (a convolution) or the input (a
// transposed convolution), [O][P] per image, and b the patches of the
// other side, im2col's [K][P] (K = C*k*k).  kern_conv_dw runs it as
// im2col_t + a libxsmm GEMM with m = K, n = O, k = P.  Where the image
// side has one channel (the autoencoder's conv1 and deconv3: K = 9, O = 8,
// P = 196) libxsmm vectorises m = 9 on 16 lanes and the GEMM ran at 27% of
// the FMA peak, 0.225 ms a step each (docs/benchmarks.md, "Session 7").
// Both operands here are row-contiguous along the long reduction q, so
// the reduction itself is vectorised: 16-lane partial sums, a tile of 8
// rows of a by 3 rows of b in 24 zmm accumulators (11 loads per 24 FMAs),
// the ragged end of a row by masked loads.  The lanes of a chunk's images
// accumulate in memory, acc [O][K][16], and are added once per chunk in a
// fixed order (kern_dwdot_reduce): the same bits for any number of
// threads, in every run.  Measured on conv1's shape, 32 images, thread CPU
// time: the libxsmm path 26 us a chunk (34 GFLOP/s), this kernel 13.9 us
// (65 GFLOP/s) plus im2col's 5.7 us; deconv3's patches are those its input
// gradient built already (kern_deconv_dx), so it needs no copy at all.  In
// the trainer: conv1 0.226 -> 0.164 ms a step, deconv3 0.229 -> 0.126.
//
// Without AVX-512 the same lanes are plain C that the compiler vectorises
// (below); kern_dwdot_acc_ref is the plain loop with the kernel's lanes, the
// tests' reference.  Included at the end of kernels.h (kern_im2col).
#ifndef NETC_KERNELS_DWDOT_H
#define NETC_KERNELS_DWDOT_H

#ifdef __AVX512F__
#include <immintrin.h>
#endif

// acc[(m*N + n)*16 + l] += sum over q < L, q = l mod 16, of a[m][q] b[n][q]
// (a rows lda floats apart, b rows ldb apart), in the order of q.
static inline void kern_dwdot_acc_ref(const float *a, int lda, int M, const float *b, int ldb, int N, int L,
                                      float *acc) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      float *c = acc + (m * N + n) * 16;
      for (int q = 0; q < L; q++)
        c[q & 15] += a[(long)m * lda + q] * b[(long)n * ldb + q];
    }
}

#ifdef __AVX512F__
// One tile: rows [0, mb) of a (mb <= 8) against rows [0, nb) of b (nb <=
// 3), accumulators c[i][j] at acc + (i*N + j)*16.  Called with mb = 8, nb
// = 3 the guards fold away and the 24 accumulators stay in registers;
// the edge tiles keep the same structure with the rows past mb / nb
// skipped.
static inline __attribute__((always_inline)) void kern_dwdot_step(__m512 c[8][3], const float *a, int lda,
                                                                  int mb, const float *b, int ldb, int nb,
                                                                  __mmask16 mk) {
  __m512 bv[3];
#pragma GCC unroll 3
  for (int j = 0; j < 3; j++)
    bv[j] = j < nb ? _mm512_maskz_loadu_ps(mk, b + (long)j * ldb) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++)
    if (i < mb) {
      __m512 av = _mm512_maskz_loadu_ps(mk, a + (long)i * lda);
#pragma GCC unroll 3
      for (int j = 0; j < 3; j++)
        if (j < nb)
          c[i][j] = _mm512_fmadd_ps(av, bv[j], c[i][j]);
    }
}

static inline __attribute__((always_inline)) void kern_dwdot_tile(const float *a, int lda, int mb,
                                                                  const float *b, int ldb, int nb, int L,
                                                                  float *acc, int N) {
  __m512 c[8][3];
  const int Lv = L & ~15;
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++)
#pragma GCC unroll 3
    for (int j = 0; j < 3; j++)
      c[i][j] = i < mb && j < nb ? _mm512_loadu_ps(acc + (i * N + j) * 16) : _mm512_setzero_ps();
  for (int q = 0; q < Lv; q += 16)
    kern_dwdot_step(c, a + q, lda, mb, b + q, ldb, nb, (__mmask16)0xffff);
  if (L > Lv)
    kern_dwdot_step(c, a + Lv, lda, mb, b + Lv, ldb, nb, (__mmask16)((1u << (L - Lv)) - 1));
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++)
#pragma GCC unroll 3
    for (int j = 0; j < 3; j++)
      if (i < mb && j < nb)
        _mm512_storeu_ps(acc + (i * N + j) * 16, c[i][j]);
}

enum { KERN_DWDOT_MB = 8 };   // rows of a per tile
#else
// Plain C for the other builds: 4 rows of a by 3 of b, each sum 16
// floats wide, which the compiler vectorises (2 ymm each with AVX2).  In
// the x86-64-v3 build (LIBXSMM_TARGET=hsw) on conv1's shape, a chunk of 32
// images with im2col: 32.5 us against libxsmm's 47.8 (im2col_t + GEMM);
// tiles of 2 x 3 ran 38.3, 1 x 3 53.8, 2 x 2 74.8 (gcc 12.2's register
// allocation).  The edge tiles run the same loop with their sizes not
// constant.
enum { KERN_DWDOT_MB = 4 };

static inline __attribute__((always_inline)) void kern_dwdot_tile(const float *a, int lda, int mb,
                                                                  const float *b, int ldb, int nb, int L,
                                                                  float *acc, int N) {
  float c[KERN_DWDOT_MB][3][16];
  const int Lv = L & ~15;
  for (int i = 0; i < mb; i++)
    for (int j = 0; j < nb; j++)
      for (int l = 0; l < 16; l++)
        c[i][j][l] = acc[(i * N + j) * 16 + l];
  for (int q = 0; q < Lv; q += 16)
    for (int i = 0; i < mb; i++)
      for (int j = 0; j < nb; j++)
        for (int l = 0; l < 16; l++)
          c[i][j][l] += a[(long)i * lda + q + l] * b[(long)j * ldb + q + l];
  for (int q = Lv; q < L; q++)
    for (int i = 0; i < mb; i++)
      for (int j = 0; j < nb; j++)
        c[i][j][q - Lv] += a[(long)i * lda + q] * b[(long)j * ldb + q];
  for (int i = 0; i < mb; i++)
    for (int j = 0; j < nb; j++)
      for (int l = 0; l < 16; l++)
        acc[(i * N + j) * 16 + l] = c[i][j][l];
}
#endif

// The lanes of every (row of a, row of b) pair, in tiles of KERN_DWDOT_MB
// x 3; full tiles get constant sizes (the accumulators in registers), the
// edges their own.
static inline void kern_dwdot_acc(const float *a, int lda, int M, const float *b, int ldb, int N, int L,
                                  float *acc) {
  enum { MB = KERN_DWDOT_MB };
  for (int m0 = 0; m0 < M; m0 += MB)
    for (int n0 = 0; n0 < N; n0 += 3) {
      const float *at = a + (long)m0 * lda, *bt = b + (long)n0 * ldb;
      float *ct = acc + (m0 * N + n0) * 16;
      if (M - m0 >= MB && N - n0 >= 3)
        kern_dwdot_tile(at, lda, MB, bt, ldb, 3, L, ct, N);
      else
        kern_dwdot_tile(at, lda, M - m0 < MB ? M - m0 : MB, bt, ldb, N - n0 < 3 ? N - n0 : 3, L, ct, N);
    }
}

// dw[o] += the sum of acc's 16 lanes of output o, o < n, in a fixed order
// (halves added pairwise: lane l + 8, then + 4, + 2, + 1).
static inline void kern_dwdot_reduce(const float *acc, int n, float *dw) {
  for (int o = 0; o < n; o++) {
    float v[16];
    memcpy(v, acc + o * 16, sizeof v);
    for (int h = 8; h >= 1; h /= 2)
      for (int l = 0; l < h; l++)
        v[l] += v[l + h];
    dw[o] += v[0];
  }
}

// The convolution's weight gradient dw [Co][Ci][k][k] over a chunk,
// called for its images i = 0 .. nc-1 in order: image i's patches into col
// [K][P], then its products added to the lanes acc [Co][K][16] (zeroed by
// image 0); image nc-1 adds the lanes to dw.  dy [Co][P] the image's
// output gradient, x [Ci][H][W] its input.
static inline void kern_conv_dw_dot(const float *dy, const float *x, float *dw, float *col, float *acc, int i,
                                    int nc, int Co, int Ci, int H, int W, int k, int s, int p, int Ho, int Wo) {
  const int K = Ci * k * k, P = Ho * Wo;
  if (i == 0)
    memset(acc, 0, sizeof(float) * Co * K * 16);
  kern_im2col(x, Ci, H, W, k, s, p, Ho, Wo, col);
  kern_dwdot_acc(dy, P, Co, col, P, K, P, acc);
  if (i == nc - 1)
    kern_dwdot_reduce(acc, Co * K, dw);
}

// The transposed convolution's weight gradient dw [Ci][Co][k][k] over a
// chunk, the same way: x [Ci][Pi] the image's input, col [K][Pi] the
// patches of its output gradient dy [Co][Ho][Wo].  have_col: col holds
// them already (the input gradient's kern_deconv_dx built them in this
// image's iteration); else they are built here.
static inline void kern_deconv_dw_dot(const float *dy, const float *x, float *dw, float *col, int have_col,
                                      float *acc, int i, int nc, int Ci, int Co, int Ho, int Wo, int k, int s,
                                      int p, int Hi, int Wi) {
  const int K = Co * k * k, Pi = Hi * Wi;
  if (i == 0)
    memset(acc, 0, sizeof(float) * Ci * K * 16);
  if (!have_col)
    kern_im2col(dy, Co, Ho, Wo, k, s, p, Hi, Wi, col);
  kern_dwdot_acc(x, Pi, Ci, col, Pi, K, Pi, acc);
  if (i == nc - 1)
    kern_dwdot_reduce(acc, Ci * K, dw);
}

#endif
