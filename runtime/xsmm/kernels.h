// kernels.h — the building blocks the generated code calls: im2col /
// col2im over one image, a column-major GEMM dispatched once from libxsmm
// (with a plain-loop fallback), transposes, and the fused convolution,
// transposed convolution and dense layers (forward with the bias +
// activation epilogue, backward with the ReLU mask applied on the fly).
//
// Layouts (as in the IR and PyTorch): an image is [C][H][W] row-major; a
// chunk of N examples is [N][per-example numel]; conv w [Co][Ci][k][k],
// deconv w [Ci][Co][k][k], dense w [out][in].
//
// Every function here is static inline and the generated code calls it with
// literal shapes, so the C compiler sees constant loop bounds.
//
// GEMMs are column-major, C(m x n) = A(m x k) B(k x n) (+ C when
// accumulating).  A row-major [R][S] array is column-major S x R, which is
// how each call below is derived (comments give the identity used).  libxsmm
// has no transposed A (notes trap 3), so weights that appear transposed are
// transposed once per step by kern_transpose.
#ifndef NETC_KERNELS_H
#define NETC_KERNELS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <libxsmm.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "kernels_act.h"
#include "kernels_direct.h"
#include "kernels_stride2.h"

typedef struct {
  libxsmm_smmfunction f;     // NULL: use the plain loop
  int m, n, k, lda, ldb, ldc;
  int accumulate;            // beta 1 (C += A B) or 0 (C = A B), or KERN_GEMM_BATCH (kernels_direct.h)
  libxsmm_smmfunction_reducebatch_addr br;   // KERN_GEMM_BATCH's kernel, or NULL
} KernGemm;


// Dispatches the kernel once (at model init).  A NULL dispatch prints one
// line naming `what` and the shape and falls back to a plain loop.
void kern_gemm_init(KernGemm *g, const char *what, int m, int n, int k,
                    int lda, int ldb, int ldc, int accumulate);

// Plain column-major loop (fallback and reference).
void kern_gemm_ref(int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float *c, int ldc, int accumulate);

static inline void kern_gemm(const KernGemm *g, const float *a, const float *b, float *c) {
  if (g->f)
    g->f(a, b, c);
  else
    kern_gemm_ref(g->m, g->n, g->k, a, g->lda, b, g->ldb, c, g->ldc, g->accumulate);
}

// C = sum over t < count of A_t B_t (g dispatched with KERN_GEMM_BATCH);
// count >= 1.  The fallback sums the products in the order of t.  A trap
// of libxsmm 1.17 (measured here, AVX-512 and AVX2 code alike): its
// address-based kernel advances the pointers of the arrays it is given as
// it blocks n (the second call with the same arrays reads B one block
// further), so it gets a copy of them on every call.
static inline void kern_brgemm(const KernGemm *g, const float *const *a, const float *const *b,
                               float *c, int count) {
  if (g->br) {
    const float *ac[count], *bc[count];
    memcpy(ac, a, sizeof(ac[0]) * count);
    memcpy(bc, b, sizeof(bc[0]) * count);
    unsigned long long cnt = (unsigned long long)count;
    g->br(ac, bc, c, &cnt);
  } else {
    for (int t = 0; t < count; t++)
      kern_gemm_ref(g->m, g->n, g->k, a[t], g->lda, b[t], g->ldb, c, g->ldc, t > 0);
  }
}

#ifdef __AVX512F__
// out[c][r] = in[r][c] for a 16 x 16 tile (rows ldi floats apart in in,
// ldo in out): three rounds of shuffles in registers.
static inline void kern_transpose16(const float *in, int ldi, float *out, int ldo) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++)
    r[i] = _mm512_loadu_ps(in + (long)i * ldi);
  for (int i = 0; i < 16; i += 2) {   // pairs of rows interleaved by element
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {   // by pairs of elements
    __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 16; i += 8)     // by 128-bit lanes
    for (int j = 0; j < 4; j++) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0x88);
      t[i + 4 + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    _mm512_storeu_ps(out + (long)j * ldo, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
    _mm512_storeu_ps(out + (long)(8 + j) * ldo, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd));
  }
}
#endif

// out[c * ldo + r] = in[r][c] for the tile r0 <= r < r1, c0 <= c < c1 of
// in [rows][cols].
static inline void kern_transpose_tile(const float *in, int cols, float *out, long ldo, int r0, int r1,
                                       int c0, int c1) {
  for (int c = c0; c < c1; c++)
    for (int r = r0; r < r1; r++)
      out[c * ldo + r] = in[(long)r * cols + c];
}

// out[c * ldo + r] = in[r][c] for in [rows][cols] (ldo = rows: the whole
// transpose; a slice of the rows of a larger matrix: its rows, out at its
// first row), in 16 x 16 tiles: the row-by-row loop wrote out one float per
// cache line, and the per-step transpose of a 256 x 784 dense weight took a
// fifth of the MLP's inference (298 us; tiles 48 us, AVX-512 tiles in
// registers 29 us).
static inline void kern_transpose_ld(const float *in, int rows, int cols, float *out, long ldo) {
  for (int r0 = 0; r0 < rows; r0 += 16) {
    int r1 = rows - r0 < 16 ? rows : r0 + 16, c0 = 0;
#ifdef __AVX512F__
    if (r1 - r0 == 16)
      for (; cols - c0 >= 16; c0 += 16)
        kern_transpose16(in + (long)r0 * cols + c0, cols, out + c0 * ldo + r0, (int)ldo);
#endif
    for (; c0 < cols; c0 += 16)
      kern_transpose_tile(in, cols, out, ldo, r0, r1, c0, cols - c0 < 16 ? cols : c0 + 16);
  }
}

// out[c][r] = in[r][c] for in [rows][cols].
static inline void kern_transpose(const float *in, int rows, int cols, float *out) {
  kern_transpose_ld(in, rows, cols, out, rows);
}

// col[(ci*k + ky)*k + kx][oy*Wo + ox] = x[ci][oy*s - p + ky][ox*s - p + kx]
// (0 outside): x [C][H][W] -> col [C*k*k][ld], the Ho*Wo positions at the
// start of each row (rows ld >= Ho*Wo floats apart).  One pass per
// (ci, ky, oy) fills the k taps kx; interior columns need no bounds checks.
static inline void kern_im2col_ld(const float *x, int C, int H, int W, int k, int s,
                                  int p, int Ho, int Wo, float *col, int ld) {
  int lo = 0, hi = Wo;
  while (lo < Wo && lo * s - p < 0) lo++;
  while (hi > lo && (hi - 1) * s - p + k - 1 >= W) hi--;
  for (int ci = 0; ci < C; ci++)
    for (int ky = 0; ky < k; ky++) {
      float *row = col + (long)(ci * k + ky) * k * ld;   // tap (ky, 0); tap kx is kx * ld further
      for (int oy = 0; oy < Ho; oy++) {
        int iy = oy * s - p + ky;
        float *r = row + oy * Wo;
        if (iy < 0 || iy >= H) {
          for (int kx = 0; kx < k; kx++)
            memset(r + kx * ld, 0, sizeof(float) * Wo);
          continue;
        }
        const float *xr = x + (ci * H + iy) * W;
        for (int kx = 0; kx < k; kx++) {
          float *rk = r + kx * ld;
          for (int ox = 0; ox < lo; ox++) {
            int ix = ox * s - p + kx;
            rk[ox] = ix >= 0 && ix < W ? xr[ix] : 0.0f;
          }
          const float *xk = xr - p + kx;
          if (s == 2 && hi - lo >= KERN_STRIDE2_MIN)
            kern_take_even(xk + 2 * lo, hi - lo, rk + lo);
          else
            for (int ox = lo; ox < hi; ox++)
              rk[ox] = xk[ox * s];
          for (int ox = hi; ox < Wo; ox++) {
            int ix = ox * s - p + kx;
            rk[ox] = ix >= 0 && ix < W ? xr[ix] : 0.0f;
          }
        }
      }
    }
}

static inline void kern_im2col(const float *x, int C, int H, int W, int k, int s,
                               int p, int Ho, int Wo, float *col) {
  kern_im2col_ld(x, C, H, W, k, s, p, Ho, Wo, col, Ho * Wo);
}

// The same patches transposed: colt [Ho*Wo][C*k*k] (for weight gradients,
// where the GEMM needs the patch index as the leading dimension).  A
// position whose k x k window lies inside the image copies k rows of k
// floats with no bounds checks (a check per element made this copy cost
// more than the weight gradient's GEMM); the border positions check.
static inline void kern_im2col_t(const float *x, int C, int H, int W, int k, int s,
                                 int p, int Ho, int Wo, float *colt) {
  const int K = C * k * k;
  for (int oy = 0; oy < Ho; oy++) {
    const int iy0 = oy * s - p, yin = iy0 >= 0 && iy0 + k <= H;
    for (int ox = 0; ox < Wo; ox++) {
      const int ix0 = ox * s - p;
      float *row = colt + (oy * Wo + ox) * K;
      if (yin && ix0 >= 0 && ix0 + k <= W) {
        for (int ci = 0; ci < C; ci++)
          for (int ky = 0; ky < k; ky++) {
            const float *src = x + (ci * H + iy0 + ky) * W + ix0;
            float *d = row + (ci * k + ky) * k;
            for (int kx = 0; kx < k; kx++)
              d[kx] = src[kx];
          }
        continue;
      }
      for (int ci = 0; ci < C; ci++)
        for (int ky = 0; ky < k; ky++) {
          int iy = iy0 + ky;
          for (int kx = 0; kx < k; kx++) {
            int ix = ix0 + kx;
            row[(ci * k + ky) * k + kx] = (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                              ? x[(ci * H + iy) * W + ix] : 0.0f;
          }
        }
    }
  }
}

// The adjoint of kern_im2col_ld: x = 0, then x[ci][iy][ix] += col[...][...]
// for every patch entry that lands inside the image (col rows ld apart).
// One pass per (ci, ky, oy) adds the k taps kx together; the columns ox
// whose every tap lands inside [0, W) run without bounds checks.
static inline void kern_col2im_ld(const float *col, int ld, int C, int H, int W, int k, int s,
                                  int p, int Ho, int Wo, float *x) {
#ifdef KERN_HAVE_COL2IM_S2
  if (s == 2 && W >= 2 * KERN_STRIDE2_MIN && W <= KERN_COL2IM_S2_MAX) {
    kern_col2im_s2(col, ld, C, H, W, k, p, Ho, Wo, x);
    return;
  }
#endif
  memset(x, 0, sizeof(float) * C * H * W);
  // Interior columns: 0 <= ox*s - p and ox*s - p + k - 1 < W.
  int lo = 0, hi = Wo;
  while (lo < Wo && lo * s - p < 0) lo++;
  while (hi > lo && (hi - 1) * s - p + k - 1 >= W) hi--;
  for (int ci = 0; ci < C; ci++)
    for (int ky = 0; ky < k; ky++) {
      const float *row = col + (long)(ci * k + ky) * k * ld;   // tap (ky, 0); tap kx is kx * ld further
      for (int oy = 0; oy < Ho; oy++) {
        int iy = oy * s - p + ky;
        if (iy < 0 || iy >= H)
          continue;
        float *xr = x + (ci * H + iy) * W;
        const float *r = row + oy * Wo;
        for (int ox = 0; ox < Wo; ox++) {
          if (ox == lo && lo < hi) {
            for (; ox < hi; ox++) {
              float *xo = xr + ox * s - p;
              for (int kx = 0; kx < k; kx++)
                xo[kx] += r[kx * ld + ox];
            }
            if (ox >= Wo)
              break;
          }
          for (int kx = 0; kx < k; kx++) {
            int ix = ox * s - p + kx;
            if (ix >= 0 && ix < W)
              xr[ix] += r[kx * ld + ox];
          }
        }
      }
    }
}

static inline void kern_col2im(const float *col, int C, int H, int W, int k, int s,
                               int p, int Ho, int Wo, float *x) {
  kern_col2im_ld(col, Ho * Wo, C, H, W, k, s, p, Ho, Wo, x);
}

// exp(x) for the sigmoid epilogue, written so that the compiler vectorises
// it (a libm call per pixel cost ~15% of a training step): Cody–Waite range
// reduction x = n ln2 + r and Cephes' degree-6 polynomial for e^r
// (relative error about 1e-7, as expf), then the exponent bits 2^n.
static inline float kern_expf(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick (floorf would not vectorise).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float z = r * r;
  float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
              4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  // A NaN x (a diverged run) must not reach the integer conversion, which
  // is undefined for NaN; y is NaN already and carries it to the result.
  n = n == n ? n : 0.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float p;
  memcpy(&p, &bits, sizeof p);
  return y * p;
}

// log(x) for the losses (bce), branch-free so that a loop of it
// vectorises (Cephes' logf): x = m 2^e, m in [sqrt(1/2), sqrt(2)), a
// polynomial in m - 1; subnormals are scaled up by 2^23 first (the test
// on the exponent bits, and sub as a float factor, keep gcc's
// vectoriser happy).  log(0) = -inf, log(x < 0) = log(NaN) = NaN, as
// logf; x = +inf gives 88.7, not inf (no caller passes it).  Within 1e-7
// relative of log.
static inline float kern_logf(float x) {
  int32_t bx;
  memcpy(&bx, &x, sizeof bx);
  const int sub = (bx & 0x7f800000) == 0;
  float xs = sub ? x * 8388608.0f : x;
  int32_t bits;
  memcpy(&bits, &xs, sizeof bits);
  int32_t mb = (bits & 0x007fffff) | 0x3f800000;
  float m;
  memcpy(&m, &mb, sizeof m);
  float fe = (float)((bits >> 23) & 0xff) - 127.0f - 23.0f * (float)sub;
  fe = m > 1.41421356f ? fe + 1.0f : fe;
  m = m > 1.41421356f ? 0.5f * m : m;
  float f = m - 1.0f, z = f * f;
  float y = ((((((((7.0376836292e-2f * f - 1.1514610310e-1f) * f + 1.1676998740e-1f) * f - 1.2420140846e-1f) * f +
                1.4249322787e-1f) * f - 1.6668057665e-1f) * f + 2.0000714765e-1f) * f - 2.4999993993e-1f) * f +
            3.3333331174e-1f) * f * z;
  y += -2.12194440e-4f * fe - 0.5f * z;
  float r = f + y + 0.693359375f * fe;
  r = x == 0.0f ? -INFINITY : r;
  return x >= 0.0f ? r : NAN;
}

// erf(x) for gelu, branch-free so that a loop of it vectorises (libm's
// erff is a call per element: it made gelu the slowest op of an MLP).
// |x| < 1: Cephes' erff polynomial x P(x^2), accurate relative to x;
// else Abramowitz & Stegun 7.1.26, 1 - t (a1 + t (a2 + ...)) e^(-x^2),
// t = 1 / (1 + p |x|), odd in x.  Both are computed and one selected.
// Within 2e-7 of erf in float (libm's erff: 6e-8).
static inline float kern_erff(float x) {
  float a = fabsf(x), z = x * x;
  float small = x * ((((((7.853861353153693e-5f * z - 8.010193625184903e-4f) * z + 5.188327685732524e-3f) * z -
                        2.685381193529856e-2f) * z + 1.128358514861418e-1f) * z - 3.761262582423300e-1f) * z +
                     1.128379165726710f);
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float q = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float big = copysignf(1.0f - q * kern_expf(-z), x);
  return a < 1.0f ? small : big;
}

// d[i] = act(s[i] + bc) over n floats (d may be s): the epilogue of a row,
// on its own (kern_bias_act) or on a row copied out of a GEMM's result in
// the same pass as the copy (the direct convolutions' rows are wider than
// the image's).
static inline void kern_copy_bias_act(float *d, const float *s, int n, float bc, int act) {
  if (act == KERN_ACT_RELU)
    for (int i = 0; i < n; i++) { float v = s[i] + bc; d[i] = v > 0.0f ? v : 0.0f; }
  else if (act == KERN_ACT_SIGMOID)
    for (int i = 0; i < n; i++) d[i] = 1.0f / (1.0f + kern_expf(-(s[i] + bc)));
  else if (act == KERN_ACT_TANH)
    for (int i = 0; i < n; i++) d[i] = tanhf(s[i] + bc);
  else
    for (int i = 0; i < n; i++) d[i] = s[i] + bc;
}

// y[c][i] = act(y[c][i] + b[c]) over [C][P]: the epilogue, run on the tile
// the GEMM just wrote while it is still in L1.  b NULL: no bias (bias=false).
static inline void kern_bias_act(float *y, const float *b, int C, int P, int act) {
  for (int c = 0; c < C; c++)
    kern_copy_bias_act(y + c * P, y + c * P, P, b ? b[c] : 0.0f, act);
}

// relu's gradient, dy where y > 0, else 0, as a function so that dy is
// read whatever y is.  Written as y > 0 ? dy : 0 in a loop, the read of dy
// is conditional, and gcc 12.2 at -O3 for AVX2 (-march=x86-64-v3, an
// AVX2-only machine's -march=native) turns it into masked loads; in a
// loop it unrolled into two 8-float halves it loaded the second half of
// dy under the first half's mask, zeroing gradients (codegen_vs_interp
// bn_small and ew_chain failed by 0.4 on such a build).  A read that is
// not conditional is a plain load and a blend.  The generated code's
// relu_grad calls it too (compiler/ops/elementwise.c).
static inline float kern_relu_grad(float y, float dy) { return y > 0.0f ? dy : 0.0f; }

// out[i] = dy[i] * (y[i] > 0) when y is given (the folded ReLU gradient),
// else dy itself; returns the tile to read.  n floats.
static inline const float *kern_mask(const float *restrict dy, const float *restrict y, int n,
                                     float *restrict out) {
  if (!y)
    return dy;
  for (int i = 0; i < n; i++)
    out[i] = kern_relu_grad(y[i], dy[i]);
  return out;
}

// y = act(y) over n floats, for the activations with a parameter a (the
// epilogue of a layer whose kernel was called with KERN_ACT_NONE):
// leaky_relu y > 0 ? y : a y, elu y > 0 ? y : a (e^y - 1) (the interpreter
// calls expm1f; kern_expf - 1 vectorises, and is within 1e-7 of it).
static inline void kern_act_alpha(float *y, long n, int act, float a) {
  if (act == KERN_ACT_LEAKY_RELU)
    for (long i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : y[i] * a;
  else if (act == KERN_ACT_ELU)
    for (long i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : a * (kern_expf(y[i]) - 1.0f);
}

// The gradient of those activations from their output y, as kern_mask
// does relu's: leaky_relu dy (y > 0 ? 1 : a), elu dy (y > 0 ? 1 : y + a).
static inline const float *kern_mask_alpha(const float *restrict dy, const float *restrict y, int n,
                                           float *restrict out, int act, float a) {
  if (act == KERN_ACT_LEAKY_RELU)
    for (int i = 0; i < n; i++) out[i] = y[i] > 0.0f ? dy[i] : dy[i] * a;
  else
    for (int i = 0; i < n; i++) out[i] = y[i] > 0.0f ? dy[i] : dy[i] * (y[i] + a);
  return out;
}

// Eight partial sums added in a fixed tree (kern_bias_grad, kern_sum).
static inline float kern_partials8(const float t[8]) {
  return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

// db[c] += sum over P positions of dy[c][.].  Eight partial sums (a fixed
// order, so still deterministic) let the compiler vectorise the reduction,
// which it may not reorder itself.
static inline void kern_bias_grad(const float *restrict dy, int C, int P, float *restrict db) {
  for (int c = 0; c < C; c++) {
    const float *r = dy + c * P;
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= P; i += 8)
      for (int l = 0; l < 8; l++)
        acc[l] += r[i + l];
    float s = kern_partials8(acc);
    for (; i < P; i++)
      s += r[i];
    db[c] += s;
  }
}

// sum x[0, n) and sum (a - b)^2 over [0, n), for the per-example losses,
// in a fixed order (deterministic) that vectorises: element i goes to
// partial sum i mod W over the whole blocks of W, the partials are added
// in a fixed tree, then the last n mod W elements one by one.  W = 32 from
// n = 128: two 16-lane (four 8-lane) accumulators whose adds run side by
// side; with W = 8 the adds were one chain, latency-bound (the
// autoencoder's mse took 8.5 us a chunk, 2.3 with 32).  Shorter sums keep
// W = 8, where combining 32 partials costs more than it saves (measured
// 1.8x slower at n = 64).  kern_bias_grad keeps eight: its rows are 1 to
// 196 floats.
static inline float kern_partials32(const float acc[32]) {
  float t[8];
  for (int l = 0; l < 8; l++)
    t[l] = (acc[l] + acc[l + 16]) + (acc[l + 8] + acc[l + 24]);
  return kern_partials8(t);
}

static inline float kern_sum(const float *restrict x, int n) {
  int i = 0;
  float s;
  if (n >= 128) {
    float acc[32] = {0};
    for (; i + 32 <= n; i += 32)
      for (int l = 0; l < 32; l++)
        acc[l] += x[i + l];
    s = kern_partials32(acc);
  } else {
    float acc[8] = {0};
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++)
        acc[l] += x[i + l];
    s = kern_partials8(acc);
  }
  for (; i < n; i++)
    s += x[i];
  return s;
}

static inline float kern_sqdiff_sum(const float *restrict a, const float *restrict b, int n) {
  int i = 0;
  float s;
  if (n >= 128) {
    float acc[32] = {0};
    for (; i + 32 <= n; i += 32)
      for (int l = 0; l < 32; l++) {
        float d = a[i + l] - b[i + l];
        acc[l] += d * d;
      }
    s = kern_partials32(acc);
  } else {
    float acc[8] = {0};
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++) {
        float d = a[i + l] - b[i + l];
        acc[l] += d * d;
      }
    s = kern_partials8(acc);
  }
  for (; i < n; i++)
    s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// ---- Convolution over one image: x [Ci][H][W] -> y [Co][Ho][Wo], K = Ci*k*k.

// Forward, fused: y = act(w * x + b).  y(P x Co, col-major) =
// col(P x K) w(K x Co): gemm m=P n=Co k=K, lda=P ldb=K ldc=P, overwrite.
static inline void kern_conv_fwd(const KernGemm *g, const float *x, const float *w,
                                 const float *b, float *y, float *col, int Ci, int H,
                                 int W, int Co, int k, int s, int p, int Ho, int Wo,
                                 int act) {
  kern_im2col(x, Ci, H, W, k, s, p, Ho, Wo, col);
  kern_gemm(g, col, w, y);
  kern_bias_act(y, b, Co, Ho * Wo, act);
}

// Input gradient: dcol(P x K) = dy(P x Co) wt(Co x K) with wt = w
// transposed ([K][Co]); gemm m=P n=K k=Co, lda=P ldb=Co ldc=P, overwrite;
// then col2im.
static inline void kern_conv_dx(const KernGemm *g, const float *dy, const float *wt,
                                float *dx, float *dcol, int Ci, int H, int W, int k,
                                int s, int p, int Ho, int Wo) {
  kern_gemm(g, dy, wt, dcol);
  kern_col2im(dcol, Ci, H, W, k, s, p, Ho, Wo, dx);
}

// Weight gradient, accumulated: dw(K x Co) += colt(K x P) dy(P x Co);
// gemm m=K n=Co k=P, lda=K ldb=P ldc=K, accumulate.
static inline void kern_conv_dw(const KernGemm *g, const float *dy, const float *x,
                                float *dw, float *colt, int Ci, int H, int W, int k,
                                int s, int p, int Ho, int Wo) {
  kern_im2col_t(x, Ci, H, W, k, s, p, Ho, Wo, colt);
  kern_gemm(g, colt, dy, dw);
}

// ---- Transposed convolution over one image: x [Ci][Hi][Wi] -> y [Co][Ho][Wo]
// with w [Ci][Co][k][k].  It is the input gradient of the convolution
// y-space -> x-space whose weight is w as stored (K = Co*k*k).

// Forward, fused: dcol(Pi x K) = x(Pi x Ci) wt(Ci x K), wt = w transposed
// ([K][Ci]); gemm m=Pi n=K k=Ci, lda=Pi ldb=Ci ldc=Pi; col2im; epilogue.
static inline void kern_deconv_fwd(const KernGemm *g, const float *x, const float *wt,
                                   const float *b, float *y, float *dcol, int Co,
                                   int Ho, int Wo, int k, int s, int p, int Hi, int Wi,
                                   int act) {
  kern_gemm(g, x, wt, dcol);
  kern_col2im(dcol, Co, Ho, Wo, k, s, p, Hi, Wi, y);
  kern_bias_act(y, b, Co, Ho * Wo, act);
}

// Input gradient = the convolution forward of dy: dx(Pi x Ci) = col(Pi x K)
// w(K x Ci); gemm m=Pi n=Ci k=K, lda=Pi ldb=K ldc=Pi, overwrite.
static inline void kern_deconv_dx(const KernGemm *g, const float *dy, const float *w,
                                  float *dx, float *col, int Co, int Ho, int Wo, int k,
                                  int s, int p, int Hi, int Wi) {
  kern_im2col(dy, Co, Ho, Wo, k, s, p, Hi, Wi, col);
  kern_gemm(g, col, w, dx);
}

// Weight gradient, accumulated: dw(K x Ci) += colt(K x Pi) x(Pi x Ci);
// gemm m=K n=Ci k=Pi, lda=K ldb=Pi ldc=K, accumulate.
static inline void kern_deconv_dw(const KernGemm *g, const float *dy, const float *x,
                                  float *dw, float *colt, int Co, int Ho, int Wo, int k,
                                  int s, int p, int Hi, int Wi) {
  kern_im2col_t(dy, Co, Ho, Wo, k, s, p, Hi, Wi, colt);
  kern_gemm(g, colt, x, dw);
}

// ---- A chunk's images in one GEMM, for the layers with few positions per
// image (the 3x3 side of conv3 / deconv1: a GEMM of 9 rows per image runs
// at 40% of peak; with the 32 images of a chunk side by side it has 288).
// The chunk's N images are laid out image-minor: a [R][N] array whose row
// r holds element r of every image, x [N][R] transposed (kern_transpose,
// 16 x 16 tiles).  The patches are then [K][P*N], position q's N images at
// columns [q*N, (q+1)*N), so that one GEMM with m = N*P covers them, and
// im2col / col2im move whole rows of N floats (one vector op per tap and
// position, where per image the 3-wide rows of conv3 went one float at a
// time: 7% of the autoencoder's step).  Every output element is the same
// dot product over the same k as in the per-image kernels, and libxsmm
// runs the k loop in the same order wherever the element sits in m; col2im
// adds each element's terms in kern_col2im_ld's order; the epilogues are
// the same expressions: the results are bit for bit those of the per-image
// kernels (tests/codegen/test_kernels.c prints it).  The weight gradients
// stay per image: batched, their reduction over the chunk's N*P positions
// is a k loop that libxsmm blocks differently (the sums change in the last
// bit, and the study's numbers with them) for a gain of 6-10% on 3% of the
// step.
//
// scratch: the patches K*N*P floats, then the GEMM's other operand or
// result (O*N*P floats, O its channels), whose space the image-minor image
// (R*N floats) takes before or after the GEMM: K*N*P + max(O*N*P, R*N).

// col[(c*k + ky)*k + kx][(oy*Wo + ox)*N + i] = image i's x[c][oy*s - p + ky]
// [ox*s - p + kx] (0 outside), from xt [C*H*W][N] (image-minor).
static inline void kern_im2col_nm(const float *restrict xt, int N, int C, int H, int W, int k, int s,
                                  int p, int Ho, int Wo, float *restrict col) {
  const long ld = (long)Ho * Wo * N;
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        float *row = col + ((c * k + ky) * k + kx) * ld;
        for (int oy = 0; oy < Ho; oy++) {
          const int iy = oy * s - p + ky;
          for (int ox = 0; ox < Wo; ox++) {
            const int ix = ox * s - p + kx;
            float *d = row + (long)(oy * Wo + ox) * N;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
              memset(d, 0, sizeof(float) * N);
            else
              memcpy(d, xt + ((long)(c * H + iy) * W + ix) * N, sizeof(float) * N);
          }
        }
      }
}

// The adjoint: xt [C*H*W][N] = 0, then xt[(c, iy, ix)][.] += col rows.
// The loops nest as kern_col2im_ld's (c, ky, oy, then ox with its taps
// kx), so each element's terms are added in the same order.
static inline void kern_col2im_nm(const float *restrict col, int N, int C, int H, int W, int k, int s,
                                  int p, int Ho, int Wo, float *restrict xt) {
  const long ld = (long)Ho * Wo * N;
  memset(xt, 0, sizeof(float) * C * H * W * N);
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < k; ky++)
      for (int oy = 0; oy < Ho; oy++) {
        const int iy = oy * s - p + ky;
        if (iy < 0 || iy >= H)
          continue;
        for (int ox = 0; ox < Wo; ox++)
          for (int kx = 0; kx < k; kx++) {
            const int ix = ox * s - p + kx;
            if (ix < 0 || ix >= W)
              continue;
            float *d = xt + ((long)(c * H + iy) * W + ix) * N;
            const float *r = col + ((c * k + ky) * k + kx) * ld + (long)(oy * Wo + ox) * N;
            for (int i = 0; i < N; i++)
              d[i] += r[i];
          }
      }
}

// Convolution forward over the chunk: xt = x transposed, col [K][P*N],
// yc(NP x Co) = col(NP x K) w(K x Co): gemm m=N*P n=Co k=K, lda=N*P ldb=K
// ldc=N*P, overwrite; the epilogue on yc [Co][P][N], transposed to y
// [N][Co][P].
static inline void kern_conv_fwd_chunk(const KernGemm *g, const float *x, const float *w,
                                       const float *b, float *y, float *scratch, int N, int Ci,
                                       int H, int W, int Co, int k, int s, int p, int Ho, int Wo,
                                       int act) {
  const int P = Ho * Wo, NP = N * P, K = Ci * k * k;
  float *col = scratch, *xt = scratch + (long)K * NP, *yc = xt;
  kern_transpose(x, N, Ci * H * W, xt);
  kern_im2col_nm(xt, N, Ci, H, W, k, s, p, Ho, Wo, col);
  kern_gemm(g, col, w, yc);
  kern_bias_act(yc, b, Co, NP, act);   // yc [Co][P*N]: a channel's row
  kern_transpose(yc, Co * P, N, y);
}

// Input gradient over the chunk: dyc [Co][P][N] = dy transposed; dcol(NP x
// K) = dyc(NP x Co) wt(Co x K): gemm m=N*P n=K k=Co, lda=N*P ldb=Co
// ldc=N*P, overwrite; col2im into dxt [Ci*H*W][N], transposed to dx.
static inline void kern_conv_dx_chunk(const KernGemm *g, const float *dy, const float *wt,
                                      float *dx, float *scratch, int N, int Co, int Ci, int H,
                                      int W, int k, int s, int p, int Ho, int Wo) {
  const int P = Ho * Wo, NP = N * P, K = Ci * k * k;
  float *dcol = scratch, *dyc = scratch + (long)K * NP, *dxt = dyc;
  kern_transpose(dy, N, Co * P, dyc);
  kern_gemm(g, dyc, wt, dcol);
  kern_col2im_nm(dcol, N, Ci, H, W, k, s, p, Ho, Wo, dxt);
  kern_transpose(dxt, Ci * H * W, N, dx);
}

// Transposed convolution forward over the chunk (x [N][Ci][Pi], Pi =
// Hi*Wi): xc [Ci][Pi][N] = x transposed; dcol(NPi x K) = xc(NPi x Ci)
// wt(Ci x K): gemm m=N*Pi n=K k=Ci, lda=N*Pi ldb=Ci ldc=N*Pi; col2im into
// yt [Co*Ho*Wo][N], the epilogue, transposed to y.
static inline void kern_deconv_fwd_chunk(const KernGemm *g, const float *x, const float *wt,
                                         const float *b, float *y, float *scratch, int N, int Ci,
                                         int Co, int Ho, int Wo, int k, int s, int p, int Hi,
                                         int Wi, int act) {
  const int Pi = Hi * Wi, NP = N * Pi, K = Co * k * k;
  float *dcol = scratch, *xc = scratch + (long)K * NP, *yt = xc;
  kern_transpose(x, N, Ci * Pi, xc);
  kern_gemm(g, xc, wt, dcol);
  kern_col2im_nm(dcol, N, Co, Ho, Wo, k, s, p, Hi, Wi, yt);
  kern_bias_act(yt, b, Co, Ho * Wo * N, act);
  kern_transpose(yt, Co * Ho * Wo, N, y);
}

// Its input gradient = the convolution forward of dy: dyt = dy transposed,
// col [K][Pi*N], dxc(NPi x Ci) = col(NPi x K) w(K x Ci): gemm m=N*Pi n=Ci
// k=K, lda=N*Pi ldb=K ldc=N*Pi; dxc [Ci][Pi][N] transposed to dx.
static inline void kern_deconv_dx_chunk(const KernGemm *g, const float *dy, const float *w,
                                        float *dx, float *scratch, int N, int Ci, int Co, int Ho,
                                        int Wo, int k, int s, int p, int Hi, int Wi) {
  const int Pi = Hi * Wi, NP = N * Pi, K = Co * k * k;
  float *col = scratch, *dyt = scratch + (long)K * NP, *dxc = dyt;
  kern_transpose(dy, N, Co * Ho * Wo, dyt);
  kern_im2col_nm(dyt, N, Co, Ho, Wo, k, s, p, Hi, Wi, col);
  kern_gemm(g, col, w, dxc);
  kern_transpose(dxc, Ci * Pi, N, dx);
}

// ---- Direct convolution: no im2col (issue [performance]).  A 3x3
// convolution is, per tap (ky, kx), a GEMM w_tap [Co x Ci] times the input
// shifted by the tap, summed over the 9 taps: libxsmm's batch-reduce GEMM
// (kern_brgemm) keeps that sum in registers.  With each image's positions
// computed on rows of a fixed width (kernels_direct.h), every tap's
// operand is the same buffer at a constant offset; a stride s is folded in
// by splitting the padded input into its s*s phases first (one copy of the
// input, where im2col makes k*k/s^2 = 2.25 of it for 3x3 stride 2, 9 for
// stride 1).  B images of the chunk sit side by side in the GEMM's m
// (image j's plane at rows [j*plane, (j+1)*plane)), so the GEMMs are long
// even where an image has few positions.  The weight is reordered per tap
// at each call, k*k*Co*Ci floats (a column-major B operand needs the
// channels unit-strided; w has the taps innermost).
//
// Summation order: each output is the sum over taps of the sum over
// channels, where the im2col GEMM summed over (channel, tap): the same
// terms, another order (within float rounding of the im2col kernels,
// tests/codegen/test_kernels.c).  Rows never mix: an image's outputs do
// not depend on B, on nc, or on the garbage rows, so the results are the
// same for every split of the batch into chunks and threads.

// The nb images' s*s stride phases of x [nb][C][H][W] (zero-padded by p)
// into ph [s*s][C][q->L] (kern_direct_gather_geom): each input row is
// dealt to the s phases of its columns.  Only the image's own elements are
// written: the caller zeroes ph once per call, and the padding, the slack
// and the planes past nb (rows that are discarded) keep what they hold,
// zeros or earlier images' values (finite, no NaN or denormal to slow the
// GEMM).  A row-by-row copy of the zero padding as well cost as much as
// the GEMM itself.
static inline void kern_phase_split(const float *x, int nb, int C, int H, int W, int s, int p,
                                    const KernDirect *q, float *ph) {
  const int xend = s * q->Wq - p < W ? s * q->Wq - p : W;   // columns past the phases' width are never read
  for (int c = 0; c < C; c++)
    for (int j = 0; j < nb; j++) {
      const float *xc = x + ((long)j * C + c) * H * W;
      for (int iy = 0; iy < H; iy++) {
        int u = iy + p, a = u % s, i = u / s;
        if (i >= q->Hq)
          break;
        const float *xr = xc + iy * W;
        float *d[s];
        for (int b = 0; b < s; b++) {
          int x0 = ((b - p) % s + s) % s;
          d[b] = ph + ((long)(a * s + b) * C + c) * q->L + j * q->plane + i * q->Wq + (x0 + p) / s;
        }
        if (s == 2 && xend >= 2 * KERN_STRIDE2_MIN) {   // even columns to one phase, odd to the other (kernels_stride2.h)
          kern_deal2(xr, xend, d[p % 2], d[(1 + p) % 2]);
          continue;
        }
        for (int b = 0; b < s; b++) {
          int x0 = ((b - p) % s + s) % s;
          for (int xx = x0, jj = 0; xx < xend; xx += s, jj++)
            d[b][jj] = xr[xx];
        }
      }
    }
}

// Gather form: y [nc][Co][Ho][Wo] = act(conv(x [nc][Ci][H][W], w [Co][Ci][k][k]) + b)
// (b may be NULL), B images per GEMM.  Per block: the phases, then y(q x
// Co) = sum_t ph_t(q x Ci) w_t(Ci x Co), gemm m=M n=Co k=Ci lda=L ldb=Ci
// ldc=M (KERN_GEMM_BATCH), then the real rows copied out and the epilogue.
// scratch: k*k*Co*Ci + s*s*Ci*L + Co*M floats.
static inline void kern_direct_conv(const KernGemm *g, const float *x, const float *w, const float *b,
                                    float *y, float *scratch, int nc, int B, int Ci, int H, int W, int Co,
                                    int k, int s, int p, int Ho, int Wo, int act) {
  const KernDirect q = kern_direct_gather_geom(B, k, s, Ho, Wo);
  const int kk = k * k;
  float *wp = scratch, *ph = wp + kk * Co * Ci, *yc = ph + (long)s * s * Ci * q.L;
  for (int co = 0; co < Co; co++)
    for (int ci = 0; ci < Ci; ci++)
      for (int t = 0; t < kk; t++)
        wp[(t * Co + co) * Ci + ci] = w[(co * Ci + ci) * kk + t];
  const float *ap[kk], *bp[kk];
  for (int t = 0; t < kk; t++) {
    int ky = t / k, kx = t % k;
    ap[t] = ph + (long)((ky % s) * s + kx % s) * Ci * q.L + (ky / s) * q.Wq + kx / s;
    bp[t] = wp + t * Co * Ci;
  }
  memset(ph, 0, sizeof(float) * s * s * Ci * q.L);
  for (int i0 = 0; i0 < nc; i0 += B) {
    int nb = nc - i0 < B ? nc - i0 : B;
    kern_phase_split(x + (long)i0 * Ci * H * W, nb, Ci, H, W, s, p, &q, ph);
    kern_brgemm(g, ap, bp, yc, kk);
    // The real rows out, with the bias and activation in the same pass
    // (a copy, then the epilogue over the image, read it twice).  A plane
    // without slack columns (k = 1) is one row.
    const int rows = q.Wq == Wo ? 1 : Ho, cols = q.Wq == Wo ? Ho * Wo : Wo;
    for (int j = 0; j < nb; j++) {
      float *yi = y + (long)(i0 + j) * Co * Ho * Wo;
      for (int co = 0; co < Co; co++)
        for (int oy = 0; oy < rows; oy++)
          kern_copy_bias_act(yi + (co * Ho + oy) * Wo, yc + (long)co * q.M + j * q.plane + oy * q.Wq, cols,
                             b ? b[co] : 0.0f, act);
    }
  }
}

// Scatter form, the adjoint: dx [nc][C][H][W] = act(convᵀ(dy [nc][O][Ho][Wo],
// w [O][C][k][k]) + b) (b NULL, act NONE for a convolution's input
// gradient; a transposed convolution's forward has them).  Per block: dy
// into dyp [O][L] (T zero rows, Tl zero columns before each image's rows,
// kern_direct_scatter_geom), then per phase (a, b) of the padded image,
// out_ab(q x C) = sum over its taps ky = a + s*dy, kx = b + s*dx of
// dyp_t(q x O) w_t(O x C), gemm m=M n=C k=O lda=L ldb=O ldc=M
// (KERN_GEMM_BATCH); the phases are interleaved back into dx.  A phase
// with no tap (k < s) is zero.  scratch: k*k*O*C + O*L + s*s*C*M floats.
static inline void kern_direct_convt(const KernGemm *g, const float *dy, const float *w, const float *b,
                                     float *dx, float *scratch, int nc, int B, int O, int Ho, int Wo, int C,
                                     int H, int W, int k, int s, int p, int act) {
  const KernDirect q = kern_direct_scatter_geom(B, k, s, p, H, W, Ho, Wo);
  const int kk = k * k;
  float *wp = scratch, *dyp = wp + kk * O * C, *oc = dyp + (long)O * q.L;
  for (int o = 0; o < O; o++)
    for (int c = 0; c < C; c++)
      for (int t = 0; t < kk; t++)
        wp[(t * C + c) * O + o] = w[(o * C + c) * kk + t];
  // Per phase: its taps' operands and the origin (i_a, j_b) of its rows.
  const float *ap[s * s][kk], *bp[s * s][kk];
  int cnt[s * s], ia[s], jb[s];
  for (int a = 0; a < s; a++) {
    ia[a] = p > a ? (p - a + s - 1) / s : 0;
    jb[a] = ia[a];
  }
  for (int a = 0; a < s; a++)
    for (int bb = 0; bb < s; bb++) {
      int f = a * s + bb, n = 0;
      for (int ky = a; ky < k; ky += s)
        for (int kx = bb; kx < k; kx += s) {
          ap[f][n] = dyp + (ia[a] - (ky - a) / s + q.T) * q.Wq + jb[bb] - (kx - bb) / s + q.Tl;
          bp[f][n] = wp + (ky * k + kx) * C * O;
          n++;
        }
      cnt[f] = n;
    }
  // The padding stays zero from block to block: only the rows of dy are
  // rewritten (the planes of images past nc keep the last block's values,
  // which reach only their own discarded rows).
  memset(dyp, 0, sizeof(float) * O * q.L);
  for (int i0 = 0; i0 < nc; i0 += B) {
    int nb = nc - i0 < B ? nc - i0 : B;
    for (int o = 0; o < O; o++)
      for (int j = 0; j < nb; j++)
        for (int oy = 0; oy < Ho; oy++)
          memcpy(dyp + (long)o * q.L + j * q.plane + (q.T + oy) * q.Wq + q.Tl,
                 dy + ((long)(i0 + j) * O + o) * Ho * Wo + oy * Wo, sizeof(float) * Wo);
    for (int f = 0; f < s * s; f++) {
      float *out = oc + (long)f * C * q.M;
      if (cnt[f])
        kern_brgemm(g, ap[f], bp[f], out, cnt[f]);
      else
        memset(out, 0, sizeof(float) * C * q.M);
    }
    // dx[c][y][x] = phase ((y+p)%s, (x+p)%s) at row ((y+p)/s - i_a), column ((x+p)/s - j_b).
    for (int j = 0; j < nb; j++) {
      float *xi = dx + (long)(i0 + j) * C * H * W;
      for (int c = 0; c < C; c++)
        for (int yy = 0; yy < H; yy++) {
          int u = yy + p, a = u % s;
          float *d = xi + (c * H + yy) * W;
          const float *src[s];
          for (int bb = 0; bb < s; bb++) {
            int x0 = ((bb - p) % s + s) % s;
            src[bb] = oc + ((long)(a * s + bb) * C + c) * q.M + j * q.plane +
                      (u / s - ia[a]) * q.Wq + (x0 + p) / s - jb[bb];
          }
          if (s == 2 && W >= 2 * KERN_STRIDE2_MIN) {   // the two phases interleaved (kernels_stride2.h)
            kern_weave2(src[p % 2], src[(1 + p) % 2], W, d);
            continue;
          }
          for (int bb = 0; bb < s; bb++) {
            int x0 = ((bb - p) % s + s) % s;
            for (int xx = x0, jj = 0; xx < W; xx += s, jj++)
              d[xx] = src[bb][jj];
          }
        }
      kern_bias_act(xi, b, C, H * W, act);
    }
  }
}

// ---- The general convolution: rectangular kernels, strides and padding,
// dilation, groups, no bias (the square, undilated, ungrouped layers above
// keep their own kernels, with a NULL bias when they have none).  The geometry is the convolution's from the
// image side x [C][H][W] to the positions [Ho][Wo]: tap (ky, kx) of
// position (oy, ox) reads x[.][oy*sh - ph + ky*dh][ox*sw - pw + kx*dw].
// With G groups, K = C*kh*kw rows of col, Kg = K/G per group; group g's
// GEMM reads rows [g*Kg, ...) of col and channels [g*Og, ...) of the other
// side, so one dispatched GEMM serves every group (strided pointers).

typedef struct {
  int C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, groups;
} KernConv;

// Output columns [lo, hi) whose tap at offset off (kx*dw - pw) lands inside [0, W).
static inline void kern_tap_range(const KernConv *q, int off, int *lo, int *hi) {
  int a = 0, b = q->Wo;
  while (a < b && a * q->sw + off < 0) a++;
  while (b > a && (b - 1) * q->sw + off >= q->W) b--;
  *lo = a;
  *hi = b;
}

// col[(ci*kh + ky)*kw + kx][oy*Wo + ox] (0 outside): x [C][H][W] -> col [K][Ho*Wo].
static inline void kern_im2col_g(const float *x, const KernConv *q, float *col) {
  const int P = q->Ho * q->Wo;
  for (int ci = 0; ci < q->C; ci++)
    for (int ky = 0; ky < q->kh; ky++)
      for (int kx = 0; kx < q->kw; kx++) {
        float *r = col + ((ci * q->kh + ky) * q->kw + kx) * P;
        int off = kx * q->dw - q->pw, lo, hi;
        kern_tap_range(q, off, &lo, &hi);
        for (int oy = 0; oy < q->Ho; oy++, r += q->Wo) {
          int iy = oy * q->sh - q->ph + ky * q->dh;
          if (iy < 0 || iy >= q->H) {
            memset(r, 0, sizeof(float) * q->Wo);
            continue;
          }
          const float *xr = x + (ci * q->H + iy) * q->W + off;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * q->sw];
          for (int ox = hi; ox < q->Wo; ox++) r[ox] = 0.0f;
        }
      }
}

// The same patches transposed: colt [Ho*Wo][K].
static inline void kern_im2col_t_g(const float *x, const KernConv *q, float *colt) {
  const int K = q->C * q->kh * q->kw;
  for (int oy = 0; oy < q->Ho; oy++)
    for (int ox = 0; ox < q->Wo; ox++) {
      float *row = colt + (oy * q->Wo + ox) * K;
      for (int ci = 0; ci < q->C; ci++)
        for (int ky = 0; ky < q->kh; ky++) {
          int iy = oy * q->sh - q->ph + ky * q->dh;
          for (int kx = 0; kx < q->kw; kx++) {
            int ix = ox * q->sw - q->pw + kx * q->dw;
            row[(ci * q->kh + ky) * q->kw + kx] = (iy >= 0 && iy < q->H && ix >= 0 && ix < q->W)
                                                      ? x[(ci * q->H + iy) * q->W + ix] : 0.0f;
          }
        }
    }
}

// The adjoint of kern_im2col_g: x = 0, then every tap inside the image added.
static inline void kern_col2im_g(const float *col, const KernConv *q, float *x) {
  const int P = q->Ho * q->Wo;
  memset(x, 0, sizeof(float) * q->C * q->H * q->W);
  for (int ci = 0; ci < q->C; ci++)
    for (int ky = 0; ky < q->kh; ky++)
      for (int kx = 0; kx < q->kw; kx++) {
        const float *r = col + ((ci * q->kh + ky) * q->kw + kx) * P;
        int off = kx * q->dw - q->pw, lo, hi;
        kern_tap_range(q, off, &lo, &hi);
        for (int oy = 0; oy < q->Ho; oy++, r += q->Wo) {
          int iy = oy * q->sh - q->ph + ky * q->dh;
          if (iy < 0 || iy >= q->H)
            continue;
          float *xr = x + (ci * q->H + iy) * q->W + off;
          for (int ox = lo; ox < hi; ox++) xr[ox * q->sw] += r[ox];
        }
      }
}

// Convolution forward, x [C][H][W] -> y [Co][Ho][Wo], w [Co][C/G][kh][kw]:
// per group y_g(P x Og) = col_g(P x Kg) w_g(Kg x Og); gemm m=P n=Og k=Kg,
// lda=P ldb=Kg ldc=P, overwrite; then the epilogue (b may be NULL).
static inline void kern_convg_fwd(const KernGemm *g, const float *x, const float *w, const float *b,
                                  float *y, float *col, int Co, const KernConv *q, int act) {
  const int P = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Og = Co / q->groups;
  kern_im2col_g(x, q, col);
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, col + gi * Kg * P, w + gi * Og * Kg, y + gi * Og * P);
  kern_bias_act(y, b, Co, P, act);
}

// Input gradient: per group dcol_g(P x Kg) = dy_g(P x Og) wt_g(Og x Kg),
// wt = w transposed ([Kg][Co], group g at column g*Og); gemm m=P n=Kg k=Og,
// lda=P ldb=Co ldc=P, overwrite; then col2im.
static inline void kern_convg_dx(const KernGemm *g, const float *dy, const float *wt, float *dx,
                                 float *dcol, int Co, const KernConv *q) {
  const int P = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Og = Co / q->groups;
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, dy + gi * Og * P, wt + gi * Og, dcol + gi * Kg * P);
  kern_col2im_g(dcol, q, dx);
}

// Weight gradient, accumulated: per group dw_g(Kg x Og) += colt_g(Kg x P)
// dy_g(P x Og); gemm m=Kg n=Og k=P, lda=K ldb=P ldc=Kg, accumulate.
static inline void kern_convg_dw(const KernGemm *g, const float *dy, const float *x, float *dw,
                                 float *colt, int Co, const KernConv *q) {
  const int P = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Og = Co / q->groups;
  kern_im2col_t_g(x, q, colt);
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, colt + gi * Kg, dy + gi * Og * P, dw + gi * Og * Kg);
}

// Transposed convolution x [Ci][Hi][Wi] -> y [Co][Ho][Wo], w [Ci][Co/G][kh][kw]:
// the input gradient of the convolution y-space -> x-space (q: C = Co,
// H W = Ho Wo, positions Hi Wi).  Forward: per group dcol_g(Pi x Kg) =
// x_g(Pi x Cig) wt_g(Cig x Kg), wt = w transposed ([Kg][Ci]); gemm m=Pi
// n=Kg k=Cig, lda=Pi ldb=Ci ldc=Pi; col2im; epilogue (b may be NULL).
static inline void kern_deconvg_fwd(const KernGemm *g, const float *x, const float *wt, const float *b,
                                    float *y, float *dcol, int Ci, const KernConv *q, int act) {
  const int Pi = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Cig = Ci / q->groups;
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, x + gi * Cig * Pi, wt + gi * Cig, dcol + gi * Kg * Pi);
  kern_col2im_g(dcol, q, y);
  kern_bias_act(y, b, q->C, q->H * q->W, act);
}

// Input gradient = the convolution forward of dy: per group dx_g(Pi x Cig)
// = col_g(Pi x Kg) w_g(Kg x Cig); gemm m=Pi n=Cig k=Kg, lda=Pi ldb=Kg ldc=Pi.
static inline void kern_deconvg_dx(const KernGemm *g, const float *dy, const float *w, float *dx,
                                   float *col, int Ci, const KernConv *q) {
  const int Pi = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Cig = Ci / q->groups;
  kern_im2col_g(dy, q, col);
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, col + gi * Kg * Pi, w + gi * Cig * Kg, dx + gi * Cig * Pi);
}

// Weight gradient, accumulated: per group dw_g(Kg x Cig) += colt_g(Kg x Pi)
// x_g(Pi x Cig); gemm m=Kg n=Cig k=Pi, lda=K ldb=Pi ldc=Kg, accumulate.
static inline void kern_deconvg_dw(const KernGemm *g, const float *dy, const float *x, float *dw,
                                   float *colt, int Ci, const KernConv *q) {
  const int Pi = q->Ho * q->Wo, Kg = q->C * q->kh * q->kw / q->groups, Cig = Ci / q->groups;
  kern_im2col_t_g(dy, q, colt);
  for (int gi = 0; gi < q->groups; gi++)
    kern_gemm(g, colt + gi * Kg, x + gi * Cig * Pi, dw + gi * Cig * Kg);
}

// ---- Dense over a chunk of N examples: x [N][in] -> y [N][out], w [out][in].

// Forward, fused: y(out x N) = wt(out x in) x(in x N), wt = w transposed
// ([in][out]); gemm m=out n=N k=in, lda=out ldb=in ldc=out; epilogue per
// example.
static inline void kern_dense_fwd(const KernGemm *g, const float *x, const float *wt,
                                  const float *b, float *y, int N, int out, int act) {
  kern_gemm(g, wt, x, y);
  for (int i = 0; i < N; i++)
    kern_bias_act(y + i * out, b, out, 1, act);
}

// Input gradient: dx(in x N) = w(in x out) dy(out x N); gemm m=in n=N k=out,
// lda=in ldb=out ldc=in, overwrite.
static inline void kern_dense_dx(const KernGemm *g, const float *dy, const float *w,
                                 float *dx) {
  kern_gemm(g, w, dy, dx);
}

// Weight gradient: dw(in x out) = x(in x N) dyt(N x out), dyt = dy
// transposed ([out][N]); gemm m=in n=out k=N, lda=in ldb=N ldc=in,
// overwrite: the chunk's dw is this one GEMM, so the emitted code does not
// zero it first (that memset and the GEMM's reading of C were 8% of the
// MLP's training step; C = 0 + sum is the sum, bit for bit).
// Only the first nc of the N rows are real: the others hold whatever the
// arena held (the chunk code skips them), so they are zeroed in x and dyt
// and the k = N sum adds exact zeros for them, as it did when the padding
// was computed (its gradient was 0).  A GEMM with k = nc would block the
// sum differently and change its last bits (see "A chunk's images" below).
static inline void kern_dense_dw(const KernGemm *g, const float *dy, float *x,
                                 float *dw, float *dyt, int N, int nc, int in, int out) {
  if (nc < N) {
    memset(x + (long)nc * in, 0, sizeof(float) * (size_t)(N - nc) * in);
    for (int c = 0; c < out; c++) {
      for (int r = 0; r < nc; r++)
        dyt[c * N + r] = dy[r * out + c];
      memset(dyt + c * N + nc, 0, sizeof(float) * (size_t)(N - nc));
    }
  } else {
    kern_transpose(dy, N, out, dyt);
  }
  kern_gemm(g, x, dyt, dw);
}

// The one-channel sides' weight gradients as dot products (after the
// kernels it falls back to).
#include "kernels_dwdot.h"

#endif
