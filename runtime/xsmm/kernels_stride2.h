// kernels_stride2.h — the row copies of a stride-2 convolution (im2col,
// col2im, the direct convolutions' phase split and its inverse),
// vectorised.
//
// A stride-2 layer reads every other float of an input row.  The rows are
// short (7 to 28 floats in the autoencoder), too short for the compiler's
// vectoriser, so these copies ran one float at a time: a fifth of the
// samples of the autoencoder's training and inference (perf:
// kern_im2col_ld, kern_col2im_ld, kern_phase_split and the scatter form's
// interleave; docs/benchmarks.md, "Session 6").  With AVX-512 a row is a
// masked load, a two-register permute and a masked store; masked lanes
// are never read or written, so no copy touches memory outside the row.
// Elsewhere the plain loops: an AVX2 version (vmaskmovps loads and
// stores, 8-float permutes) made the autoencoder's x86-64-v3 build slower
// on Zen 4, training 31.5k -> 29.2k images/s, inference 83k -> 75k (not
// profiled further).  They move floats, or add them in the plain loops'
// order: the results are bit for bit those of the plain loops
// (tests/codegen/test_kernels.c, test_stride2).
#ifndef NETC_KERNELS_STRIDE2_H
#define NETC_KERNELS_STRIDE2_H

#if defined(__AVX512F__)
#include <immintrin.h>

// The lanes [0, n) of a 16-lane mask, n clamped to [0, 16].
static inline __mmask16 kern_mask16(int n) {
  return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

// Floats [0, n) of p as two registers (lanes past n zero, not read).
static inline void kern_load32(const float *p, int n, __m512 *a, __m512 *b) {
  *a = _mm512_maskz_loadu_ps(kern_mask16(n), p);
  *b = _mm512_maskz_loadu_ps(kern_mask16(n - 16), p + 16);
}
#endif

// Rows of fewer outputs than this keep the plain loop, which the compiler
// unrolls for the literal shapes: the masks and permutes cost more there
// (measured on conv3's 3-wide rows).
enum { KERN_STRIDE2_MIN = 6 };

// dst[j] = src[2j], j < n (src[0 .. 2n-2] are read).
static inline void kern_take_even(const float *src, int n, float *dst) {
#if defined(__AVX512F__)
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (int j = 0; j < n; j += 16) {
    __m512 a, b;
    kern_load32(src + 2 * j, 2 * (n - j) - 1, &a, &b);
    _mm512_mask_storeu_ps(dst + j, kern_mask16(n - j), _mm512_permutex2var_ps(a, even, b));
  }
#else
  for (int j = 0; j < n; j++)
    dst[j] = src[2 * j];
#endif
}

// The n floats of src dealt to two rows: de[j] = src[2j], dd[j] = src[2j+1].
static inline void kern_deal2(const float *src, int n, float *de, float *dd) {
#if defined(__AVX512F__)
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int i = 0; i < n; i += 32) {
    __m512 a, b;
    kern_load32(src + i, n - i, &a, &b);
    _mm512_mask_storeu_ps(de + i / 2, kern_mask16((n - i + 1) / 2), _mm512_permutex2var_ps(a, even, b));
    _mm512_mask_storeu_ps(dd + i / 2, kern_mask16((n - i) / 2), _mm512_permutex2var_ps(a, odd, b));
  }
#else
  for (int i = 0; i + 1 < n; i += 2) {
    de[i / 2] = src[i];
    dd[i / 2] = src[i + 1];
  }
  if (n % 2)
    de[n / 2] = src[n - 1];
#endif
}

// The inverse: n floats d[2j] = se[j], d[2j+1] = so[j].
static inline void kern_weave2(const float *se, const float *so, int n, float *d) {
#if defined(__AVX512F__)
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  for (int i = 0; i < n; i += 32) {
    __m512 e = _mm512_maskz_loadu_ps(kern_mask16((n - i + 1) / 2), se + i / 2);
    __m512 o = _mm512_maskz_loadu_ps(kern_mask16((n - i) / 2), so + i / 2);
    _mm512_mask_storeu_ps(d + i, kern_mask16(n - i), _mm512_permutex2var_ps(e, lo, o));
    _mm512_mask_storeu_ps(d + i + 16, kern_mask16(n - i - 16), _mm512_permutex2var_ps(e, hi, o));
  }
#else
  for (int i = 0; i + 1 < n; i += 2) {
    d[i] = se[i / 2];
    d[i + 1] = so[i / 2];
  }
  if (n % 2)
    d[n - 1] = se[n / 2];
#endif
}

#if defined(__AVX512F__)
// The adjoint of a stride-2 im2col (kernels.h, kern_col2im_ld), x [C][H][W]
// from col [C*k*k][ld], for rows of at most 32 floats: row by row of x,
// its even and odd columns are each a sum of col rows shifted by the tap
// (tap kx of position ox lands on column 2*ox - p + kx, of parity (kx - p)
// mod 2), accumulated in one register each, then interleaved into x.
// Each x receives its terms in the plain loop's order (ky ascending, then
// ox ascending = kx descending within a parity) and a masked add leaves
// the other lanes alone, so the sums are bit for bit the plain loop's.
// Two tries that lost, for the record: a vectorised read-modify-write of x
// per tap (2.5x slower on conv3's 3-wide rows), and this with the two
// halves in memory (3x slower: a masked store blocks the forwarding to
// the next masked load).
enum { KERN_COL2IM_S2_MAX = 32 };
static inline void kern_col2im_s2(const float *col, int ld, int C, int H, int W, int k, int p, int Ho,
                                  int Wo, float *x) {
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  const int n2[2] = {(W + 1) / 2, W / 2};   // even, odd columns
  for (int ci = 0; ci < C; ci++)
    for (int iy = 0; iy < H; iy++) {
      __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int ky = 0; ky < k; ky++) {
        int u = iy + p - ky;
        if (u < 0 || u % 2 || u / 2 >= Ho)
          continue;
        const float *row = col + (long)(ci * k + ky) * k * ld + u / 2 * Wo;
        for (int kx = k - 1; kx >= 0; kx--) {
          int e = ((kx - p) % 2 + 2) % 2, sh = (kx - p - e) / 2;   // lane m = ox + sh
          int m0 = sh > 0 ? sh : 0, m1 = Wo + sh < n2[e] ? Wo + sh : n2[e];
          if (m1 <= m0)
            continue;
          __mmask16 m = (__mmask16)(kern_mask16(m1) & ~kern_mask16(m0));
          // Lane m reads row[kx*ld + m - sh]: only the lanes of m are read.
          __m512 v = _mm512_maskz_loadu_ps(m, row + kx * ld - sh);
          acc[e] = _mm512_mask_add_ps(acc[e], m, acc[e], v);
        }
      }
      float *xr = x + ((long)ci * H + iy) * W;
      _mm512_mask_storeu_ps(xr, kern_mask16(W), _mm512_permutex2var_ps(acc[0], lo, acc[1]));
      _mm512_mask_storeu_ps(xr + 16, kern_mask16(W - 16), _mm512_permutex2var_ps(acc[0], hi, acc[1]));
    }
}
#define KERN_HAVE_COL2IM_S2 1
#endif

#endif
