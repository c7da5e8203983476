// test_kernels.c — every kernel of runtime/xsmm/kernels.h against a direct
// loop in double precision, at the autoencoder's exact layer shapes (and
// the general convolution kernels at rectangular, dilated, grouped ones);
// the element functions (kern_expf, kern_logf, kern_erff) over their ranges.
// Prints the largest relative difference per kernel.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "kernels.h"

static double worst = 0;

static float frand(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *rnd(int n, unsigned *s) {
  float *p = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++)
    p[i] = frand(s);
  return p;
}

static void check(const char *what, const float *got, const double *want, int n) {
  double md = 0, mx = 1e-3;
  for (int i = 0; i < n; i++) {
    double d = isnan(got[i]) ? INFINITY : fabs(got[i] - want[i]);
    if (d > md) md = d;
    if (fabs(want[i]) > mx) mx = fabs(want[i]);
  }
  double rel = md / mx;
  printf("%-34s n=%-6d max |diff| / max |ref| = %.3g\n", what, n, rel);
  if (rel > worst) worst = rel;
}

// y[co][oy][ox] = b[co] + sum w[co][ci][ky][kx] x[ci][oy*s-p+ky][ox*s-p+kx]
static void conv_ref(const float *x, const float *w, const float *b, double *y, int Ci,
                     int H, int W, int Co, int k, int s, int p, int Ho, int Wo) {
  for (int co = 0; co < Co; co++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++) {
        double acc = b ? b[co] : 0;
        for (int ci = 0; ci < Ci; ci++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * s - p + ky, ix = ox * s - p + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                acc += (double)w[((co * Ci + ci) * k + ky) * k + kx] * x[(ci * H + iy) * W + ix];
            }
        y[(co * Ho + oy) * Wo + ox] = acc;
      }
}

// The adjoints of conv_ref: dx and dw from dy.
static void conv_ref_bwd(const float *x, const float *w, const float *dy, double *dx,
                         double *dw, int Ci, int H, int W, int Co, int k, int s, int p,
                         int Ho, int Wo) {
  for (int i = 0; i < Ci * H * W; i++) dx[i] = 0;
  for (int i = 0; i < Co * Ci * k * k; i++) dw[i] = 0;
  for (int co = 0; co < Co; co++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++) {
        double g = dy[(co * Ho + oy) * Wo + ox];
        for (int ci = 0; ci < Ci; ci++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * s - p + ky, ix = ox * s - p + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                int wi = ((co * Ci + ci) * k + ky) * k + kx, xi = (ci * H + iy) * W + ix;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
      }
}

// conv layer: Ci x H x W -> Co x Ho x Wo, forward with ReLU, dx and dw with
// the mask, and the deconv that is its transpose.
static void test_conv(int Ci, int H, int Co, int k, int s, int p, unsigned seed) {
  const int W = H, Ho = (H + 2 * p - k) / s + 1, Wo = Ho, K = Ci * k * k, P = Ho * Wo;
  unsigned r = seed;
  float *x = rnd(Ci * H * W, &r), *w = rnd(Co * K, &r), *b = rnd(Co, &r), *dy = rnd(Co * P, &r);
  float *wt = malloc(sizeof(float) * Co * K), *col = malloc(sizeof(float) * K * P);
  float *y = malloc(sizeof(float) * Co * P), *dx = malloc(sizeof(float) * Ci * H * W);
  float *dw = calloc(Co * K, sizeof(float)), *dm = malloc(sizeof(float) * Co * P);
  double *ry = malloc(sizeof(double) * Co * P), *rdx = malloc(sizeof(double) * Ci * H * W);
  double *rdw = malloc(sizeof(double) * Co * K);
  char name[96];

  KernGemm gf, gdx, gdw;
  kern_gemm_init(&gf, "conv fwd", P, Co, K, P, K, P, 0);
  kern_gemm_init(&gdx, "conv dx", P, K, Co, P, Co, P, 0);
  kern_gemm_init(&gdw, "conv dw", K, Co, P, K, P, K, 1);

  kern_conv_fwd(&gf, x, w, b, y, col, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
  conv_ref(x, w, b, ry, Ci, H, W, Co, k, s, p, Ho, Wo);
  for (int i = 0; i < Co * P; i++) ry[i] = ry[i] > 0 ? ry[i] : 0;
  snprintf(name, sizeof name, "conv %dx%d->%dx%d fwd+relu", Ci, H, Co, Ho);
  check(name, y, ry, Co * P);

  const float *dyy = kern_mask(dy, y, Co * P, dm);
  kern_transpose(w, Co, K, wt);
  kern_conv_dx(&gdx, dyy, wt, dx, col, Ci, H, W, k, s, p, Ho, Wo);
  kern_conv_dw(&gdw, dyy, x, dw, col, Ci, H, W, k, s, p, Ho, Wo);
  conv_ref_bwd(x, w, dyy, rdx, rdw, Ci, H, W, Co, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "conv %dx%d->%dx%d dx (masked)", Ci, H, Co, Ho);
  check(name, dx, rdx, Ci * H * W);
  snprintf(name, sizeof name, "conv %dx%d->%dx%d dw (masked)", Ci, H, Co, Ho);
  check(name, dw, rdw, Co * K);

  // The transposed convolution Co x Ho -> Ci x H with weight w read as
  // deconv [in=Co][out=Ci][k][k]: its forward is the conv's dx, its dx the
  // conv's forward, its dw the conv's dw with the roles of x and dy swapped.
  // Bias and epilogue: none here (tested through the conv).
  KernGemm df, ddx, ddw;
  const int Kd = Ci * k * k;   // the deconv's K: its output channels x taps
  kern_gemm_init(&df, "deconv fwd", P, Kd, Co, P, Co, P, 0);
  kern_gemm_init(&ddx, "deconv dx", P, Co, Kd, P, Kd, P, 0);
  kern_gemm_init(&ddw, "deconv dw", Kd, Co, P, Kd, P, Kd, 1);
  float *zb = calloc(Ci, sizeof(float)), *dy2 = rnd(Ci * H * W, &r), *dx2 = malloc(sizeof(float) * Co * P);
  float *dw2 = calloc(Co * K, sizeof(float));
  double *ry2 = malloc(sizeof(double) * Ci * H * W), *rdx2 = malloc(sizeof(double) * Co * P);
  double *rdw2 = malloc(sizeof(double) * Co * K);
  // deconv(dy as its input) = conv dx of dy.
  kern_deconv_fwd(&df, dy, wt, zb, dx, col, Ci, H, W, k, s, p, Ho, Wo, KERN_ACT_NONE);
  conv_ref_bwd(x, w, dy, ry2, rdw2, Ci, H, W, Co, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "deconv %dx%d->%dx%d fwd", Co, Ho, Ci, H);
  check(name, dx, ry2, Ci * H * W);
  // deconv dx of dy2 = conv forward of dy2 (no bias).
  kern_deconv_dx(&ddx, dy2, w, dx2, col, Ci, H, W, k, s, p, Ho, Wo);
  conv_ref(dy2, w, NULL, rdx2, Ci, H, W, Co, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "deconv %dx%d->%dx%d dx", Co, Ho, Ci, H);
  check(name, dx2, rdx2, Co * P);
  // deconv dw with input dy (its x) and output gradient dy2 = conv dw with
  // x := dy2, dy := dy.
  kern_deconv_dw(&ddw, dy2, dy, dw2, col, Ci, H, W, k, s, p, Ho, Wo);
  conv_ref_bwd(dy2, w, dy, ry2, rdw2, Ci, H, W, Co, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "deconv %dx%d->%dx%d dw", Co, Ho, Ci, H);
  check(name, dw2, rdw2, Co * K);

  free(x); free(w); free(b); free(dy); free(wt); free(col); free(y); free(dx); free(dw);
  free(dm); free(ry); free(rdx); free(rdw); free(zb); free(dy2); free(dx2); free(dw2);
  free(ry2); free(rdx2); free(rdw2);
}

// The chunk kernels (kern_*_chunk: N images in one GEMM) against the
// per-image ones on the same data: they compute the same dot products, so
// they must agree to rounding; whether they agree bit for bit (libxsmm's
// k loop in the same order: the generated code's results then do not
// depend on the path) is printed, not required.
static double max_rel(const float *a, const float *b, long n, int *same) {
  double md = 0, mx = 1e-3;
  for (long i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (d > md) md = d;
    if (fabs(b[i]) > mx) mx = fabs(b[i]);
    if (a[i] != b[i]) *same = 0;
  }
  return md / mx;
}

static void chunk_check(const char *what, const float *got, const float *want, long n) {
  int same = 1;
  double rel = max_rel(got, want, n, &same);
  printf("%-34s n=%-6ld vs per image %.3g%s\n", what, n, rel, same ? " (bitwise equal)" : "");
  if (rel > worst) worst = rel;
}

static void test_chunk(int N, int Ci, int H, int Co, int k, int s, int p, unsigned seed) {
  const int W = H, Ho = (H + 2 * p - k) / s + 1, Wo = Ho, K = Ci * k * k, P = Ho * Wo, NP = N * P;
  const long X = (long)Ci * H * W, Y = (long)Co * P;
  unsigned r = seed;
  float *x = rnd(N * X, &r), *w = rnd(Co * K, &r), *b = rnd(Co, &r), *dy = rnd(N * Y, &r);
  float *wt = malloc(sizeof(float) * Co * K), *col = malloc(sizeof(float) * K * P);
  // kern_*_chunk's scratch (kernels.h), exactly: K*N*P + max(O*N*P, R*N)
  // with the GEMM's other side O = Co and the image R = X (the deconv's
  // roles swapped: the same sizes).
  const long other = (long)Co * NP, image = X * N;
  float *scratch = malloc(sizeof(float) * ((long)K * NP + (other > image ? other : image)));
  float *y1 = malloc(sizeof(float) * N * Y), *y2 = malloc(sizeof(float) * N * Y);
  float *dx1 = malloc(sizeof(float) * N * X), *dx2 = malloc(sizeof(float) * N * X);
  char name[96];
  kern_transpose(w, Co, K, wt);

  KernGemm gf, gdx, cf, cdx;
  kern_gemm_init(&gf, "conv fwd", P, Co, K, P, K, P, 0);
  kern_gemm_init(&gdx, "conv dx", P, K, Co, P, Co, P, 0);
  kern_gemm_init(&cf, "conv fwd chunk", NP, Co, K, NP, K, NP, 0);
  kern_gemm_init(&cdx, "conv dx chunk", NP, K, Co, NP, Co, NP, 0);
  for (int i = 0; i < N; i++) {
    kern_conv_fwd(&gf, x + i * X, w, b, y1 + i * Y, col, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
    kern_conv_dx(&gdx, dy + i * Y, wt, dx1 + i * X, col, Ci, H, W, k, s, p, Ho, Wo);
  }
  kern_conv_fwd_chunk(&cf, x, w, b, y2, scratch, N, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
  kern_conv_dx_chunk(&cdx, dy, wt, dx2, scratch, N, Co, Ci, H, W, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "conv %dx%d->%dx%d fwd chunk %d", Ci, H, Co, Ho, N);
  chunk_check(name, y2, y1, N * Y);
  snprintf(name, sizeof name, "conv %dx%d->%dx%d dx chunk %d", Ci, H, Co, Ho, N);
  chunk_check(name, dx2, dx1, N * X);

  // The transposed convolution Co x Ho -> Ci x H (weight w as deconv
  // [Co][Ci][k][k], transposed wt): input dy-shaped, output x-shaped.
  KernGemm df, ddx, ef, edx;
  kern_gemm_init(&df, "deconv fwd", P, K, Co, P, Co, P, 0);
  kern_gemm_init(&ddx, "deconv dx", P, Co, K, P, K, P, 0);
  kern_gemm_init(&ef, "deconv fwd chunk", NP, K, Co, NP, Co, NP, 0);
  kern_gemm_init(&edx, "deconv dx chunk", NP, Co, K, NP, K, NP, 0);
  float *bd = rnd(Ci, &r);
  for (int i = 0; i < N; i++) {
    kern_deconv_fwd(&df, dy + i * Y, wt, bd, dx1 + i * X, col, Ci, H, W, k, s, p, Ho, Wo, KERN_ACT_SIGMOID);
    kern_deconv_dx(&ddx, x + i * X, w, y1 + i * Y, col, Ci, H, W, k, s, p, Ho, Wo);
  }
  kern_deconv_fwd_chunk(&ef, dy, wt, bd, dx2, scratch, N, Co, Ci, H, W, k, s, p, Ho, Wo, KERN_ACT_SIGMOID);
  kern_deconv_dx_chunk(&edx, x, w, y2, scratch, N, Co, Ci, H, W, k, s, p, Ho, Wo);
  snprintf(name, sizeof name, "deconv %dx%d->%dx%d fwd chunk %d", Co, Ho, Ci, H, N);
  chunk_check(name, dx2, dx1, N * X);
  snprintf(name, sizeof name, "deconv %dx%d->%dx%d dx chunk %d", Co, Ho, Ci, H, N);
  chunk_check(name, y2, y1, N * Y);

  free(x); free(w); free(b); free(dy); free(wt); free(col); free(scratch); free(y1); free(y2);
  free(dx1); free(dx2); free(bd);
}

// The direct convolutions (kern_direct_conv / kern_direct_convt: no
// im2col, B images per batch-reduce GEMM) against the per-image im2col
// kernels on the same data, as a conv's forward and input gradient and a
// deconv's forward and input gradient.  They add the same products in
// another order (per tap, then over taps, where im2col's GEMM runs over
// channel-major (channel, tap)), so they agree to float rounding: at these
// sizes (K = Ci*k*k <= 288 terms of magnitude <= 1) a few 1e-7 relative
// to the largest output, inside the file's 1e-5.  nc < N (a ragged chunk)
// and a block size B that does not divide it are covered.  Whether the
// results are those of B = 1 bit for bit is printed, not required: an
// image's rows never mix with another's, but libxsmm may block the k loop
// differently for another m (the generated code fixes B per layer, so its
// results do not depend on it either way).
static void test_direct(int N, int B, int Ci, int H, int Co, int k, int s, int p, unsigned seed) {
  const int W = H, Ho = (H + 2 * p - k) / s + 1, Wo = Ho, K = Ci * k * k, P = Ho * Wo;
  const long X = (long)Ci * H * W, Y = (long)Co * P;
  unsigned r = seed;
  float *x = rnd(N * X, &r), *w = rnd(Co * K, &r), *b = rnd(Co, &r), *dy = rnd(N * Y, &r);
  float *bd = rnd(Ci, &r);
  float *wt = malloc(sizeof(float) * Co * K), *col = malloc(sizeof(float) * K * P);
  float *ref = malloc(sizeof(float) * N * (X > Y ? X : Y));
  float *got = malloc(sizeof(float) * N * (X > Y ? X : Y));
  float *one = malloc(sizeof(float) * N * (X > Y ? X : Y));
  KernDirect qg = kern_direct_gather_geom(B, k, s, Ho, Wo), qs = kern_direct_scatter_geom(B, k, s, p, H, W, Ho, Wo);
  KernDirect qg1 = kern_direct_gather_geom(1, k, s, Ho, Wo), qs1 = kern_direct_scatter_geom(1, k, s, p, H, W, Ho, Wo);
  long sg = (long)k * k * Co * Ci + (long)s * s * Ci * qg.L + (long)Co * qg.M;
  long ss = (long)k * k * Co * Ci + (long)Co * qs.L + (long)s * s * Ci * qs.M;
  float *scratch = malloc(sizeof(float) * (sg > ss ? sg : ss) * 2);
  char name[96];
  kern_transpose(w, Co, K, wt);
  KernGemm gf, gdx, df, ddx, bg, bs, bg1, bs1, cg, cs;
  kern_gemm_init(&gf, "conv fwd", P, Co, K, P, K, P, 0);
  kern_gemm_init(&gdx, "conv dx", P, K, Co, P, Co, P, 0);
  kern_gemm_init(&df, "deconv fwd", P, K, Co, P, Co, P, 0);
  kern_gemm_init(&ddx, "deconv dx", P, Co, K, P, K, P, 0);
  // Gather over x (k = Ci, n = Co) and over dy (k = Co, n = Ci); scatter alike.
  kern_gemm_init(&bg, "direct conv", qg.M, Co, Ci, qg.L, Ci, qg.M, KERN_GEMM_BATCH);
  kern_gemm_init(&bs, "direct convt", qs.M, Ci, Co, qs.L, Co, qs.M, KERN_GEMM_BATCH);
  kern_gemm_init(&bg1, "direct conv B=1", qg1.M, Co, Ci, qg1.L, Ci, qg1.M, KERN_GEMM_BATCH);
  kern_gemm_init(&bs1, "direct convt B=1", qs1.M, Ci, Co, qs1.L, Co, qs1.M, KERN_GEMM_BATCH);
  int nc = N - 1;   // a ragged chunk: the last image is not computed
  (void)cg, (void)cs;

  // conv forward: x -> y.
  for (int i = 0; i < nc; i++)
    kern_conv_fwd(&gf, x + i * X, w, b, ref + i * Y, col, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
  kern_direct_conv(&bg, x, w, b, got, scratch, nc, B, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
  kern_direct_conv(&bg1, x, w, b, one, scratch, nc, 1, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_RELU);
  snprintf(name, sizeof name, "direct conv %dx%d->%dx%d B=%d", Ci, H, Co, Ho, B);
  chunk_check(name, got, ref, nc * Y);
  printf("%-34s %s B = 1\n", "", memcmp(got, one, sizeof(float) * nc * Y) ? "differs from" : "bitwise equal to");

  // conv input gradient: dy -> dx (the scatter form, no bias).
  for (int i = 0; i < nc; i++)
    kern_conv_dx(&gdx, dy + i * Y, wt, ref + i * X, col, Ci, H, W, k, s, p, Ho, Wo);
  kern_direct_convt(&bs, dy, w, NULL, got, scratch, nc, B, Co, Ho, Wo, Ci, H, W, k, s, p, KERN_ACT_NONE);
  kern_direct_convt(&bs1, dy, w, NULL, one, scratch, nc, 1, Co, Ho, Wo, Ci, H, W, k, s, p, KERN_ACT_NONE);
  snprintf(name, sizeof name, "direct conv dx %dx%d->%dx%d B=%d", Ci, H, Co, Ho, B);
  chunk_check(name, got, ref, nc * X);
  printf("%-34s %s B = 1\n", "", memcmp(got, one, sizeof(float) * nc * X) ? "differs from" : "bitwise equal to");

  // The transposed convolution Co x Ho -> Ci x H, w as deconv [Co][Ci][k][k]:
  // forward is the scatter form with a bias and an activation.
  for (int i = 0; i < nc; i++)
    kern_deconv_fwd(&df, dy + i * Y, wt, bd, ref + i * X, col, Ci, H, W, k, s, p, Ho, Wo, KERN_ACT_SIGMOID);
  kern_direct_convt(&bs, dy, w, bd, got, scratch, nc, B, Co, Ho, Wo, Ci, H, W, k, s, p, KERN_ACT_SIGMOID);
  snprintf(name, sizeof name, "direct deconv %dx%d->%dx%d B=%d", Co, Ho, Ci, H, B);
  chunk_check(name, got, ref, nc * X);

  // Its input gradient, the gather form over x-shaped dy.
  for (int i = 0; i < nc; i++)
    kern_deconv_dx(&ddx, x + i * X, w, ref + i * Y, col, Ci, H, W, k, s, p, Ho, Wo);
  kern_direct_conv(&bg, x, w, NULL, got, scratch, nc, B, Ci, H, W, Co, k, s, p, Ho, Wo, KERN_ACT_NONE);
  snprintf(name, sizeof name, "direct deconv dx %dx%d->%dx%d B=%d", Co, Ho, Ci, H, B);
  chunk_check(name, got, ref, nc * Y);

  free(x); free(w); free(b); free(dy); free(bd); free(wt); free(col); free(ref); free(got);
  free(one); free(scratch);
}

// The general kernels (kern_convg_*, kern_deconvg_*): rectangular,
// strided, padded, dilated and grouped, against direct loops.  dx, dw: the
// adjoints, accumulated into zeroed arrays; b NULL: no bias.
static void convg_ref(const float *x, const float *w, const float *b, const float *dy, double *y,
                      double *dx, double *dw, int Co, const KernConv *q) {
  int Cg = q->C / q->groups, Og = Co / q->groups, Kg = Cg * q->kh * q->kw;
  for (int co = 0; co < Co; co++)
    for (int oy = 0; oy < q->Ho; oy++)
      for (int ox = 0; ox < q->Wo; ox++) {
        int yi = (co * q->Ho + oy) * q->Wo + ox;
        double acc = b ? b[co] : 0;
        for (int cj = 0; cj < Cg; cj++)
          for (int ky = 0; ky < q->kh; ky++)
            for (int kx = 0; kx < q->kw; kx++) {
              int iy = oy * q->sh - q->ph + ky * q->dh, ix = ox * q->sw - q->pw + kx * q->dw;
              if (iy < 0 || iy >= q->H || ix < 0 || ix >= q->W)
                continue;
              int wi = co * Kg + (cj * q->kh + ky) * q->kw + kx;
              int xi = (((co / Og) * Cg + cj) * q->H + iy) * q->W + ix;
              acc += (double)w[wi] * x[xi];
              if (dy) {
                dx[xi] += (double)dy[yi] * w[wi];
                dw[wi] += (double)dy[yi] * x[xi];
              }
            }
        if (y)
          y[yi] = acc;
      }
}

static void test_convg(int Co, KernConv q, unsigned seed) {
  const int P = q.Ho * q.Wo, K = q.C * q.kh * q.kw, Kg = K / q.groups, Og = Co / q.groups;
  const int X = q.C * q.H * q.W, Y = Co * P, Wn = Co * Kg;
  unsigned r = seed;
  float *x = rnd(X, &r), *w = rnd(Wn, &r), *b = rnd(Co, &r), *dy = rnd(Y, &r);
  float *wt = malloc(sizeof(float) * Wn), *col = malloc(sizeof(float) * K * P);
  float *y = malloc(sizeof(float) * Y), *dx = malloc(sizeof(float) * X), *dw = calloc(Wn, sizeof(float));
  double *ry = malloc(sizeof(double) * Y), *rdx = calloc(X, sizeof(double)), *rdw = calloc(Wn, sizeof(double));
  char name[96], geo[64];
  snprintf(geo, sizeof geo, "%dx%dx%d->%dx%dx%d g%d", q.C, q.H, q.W, Co, q.Ho, q.Wo, q.groups);

  KernGemm gf, gdx, gdw;
  kern_gemm_init(&gf, "convg fwd", P, Og, Kg, P, Kg, P, 0);
  kern_gemm_init(&gdx, "convg dx", P, Kg, Og, P, Co, P, 0);
  kern_gemm_init(&gdw, "convg dw", Kg, Og, P, K, P, Kg, 1);
  kern_convg_fwd(&gf, x, w, NULL, y, col, Co, &q, KERN_ACT_NONE);
  convg_ref(x, w, NULL, NULL, ry, NULL, NULL, Co, &q);
  snprintf(name, sizeof name, "convg %s fwd", geo);
  check(name, y, ry, Y);
  kern_transpose(w, Co, Kg, wt);
  kern_convg_dx(&gdx, dy, wt, dx, col, Co, &q);
  kern_convg_dw(&gdw, dy, x, dw, col, Co, &q);
  convg_ref(x, w, b, dy, NULL, rdx, rdw, Co, &q);
  snprintf(name, sizeof name, "convg %s dx", geo);
  check(name, dx, rdx, X);
  snprintf(name, sizeof name, "convg %s dw", geo);
  check(name, dw, rdw, Wn);

  // Its transpose, the deconvolution Co x Ho x Wo -> C x H x W with the
  // same weight (deconv [in=Co][out/G][kh][kw]) and a bias: forward = the
  // conv's dx of its input, dx = the conv's forward, dw = the conv's dw
  // with x and dy swapped.
  const int Ci = Co;   // the deconv's input channels
  KernGemm df, ddx, ddw;
  kern_gemm_init(&df, "deconvg fwd", P, Kg, Ci / q.groups, P, Ci, P, 0);
  kern_gemm_init(&ddx, "deconvg dx", P, Ci / q.groups, Kg, P, Kg, P, 0);
  kern_gemm_init(&ddw, "deconvg dw", Kg, Ci / q.groups, P, K, P, Kg, 1);
  float *db = rnd(q.C, &r), *dx2 = malloc(sizeof(float) * Y), *dw2 = calloc(Wn, sizeof(float));
  double *ry2 = calloc(X, sizeof(double)), *rdw2 = calloc(Wn, sizeof(double));
  kern_deconvg_fwd(&df, dy, wt, db, dx, col, Ci, &q, KERN_ACT_NONE);
  convg_ref(x, w, NULL, dy, NULL, ry2, rdw2, Co, &q);
  for (int c = 0; c < q.C; c++)
    for (int i = 0; i < q.H * q.W; i++)
      ry2[c * q.H * q.W + i] += db[c];
  snprintf(name, sizeof name, "deconvg %s fwd", geo);
  check(name, dx, ry2, X);
  kern_deconvg_dx(&ddx, x, w, dx2, col, Ci, &q);    // x as the deconv's dy
  snprintf(name, sizeof name, "deconvg %s dx", geo);
  check(name, dx2, ry, Y);
  kern_deconvg_dw(&ddw, x, dy, dw2, col, Ci, &q);   // dy (x) as its input, x as its dy
  snprintf(name, sizeof name, "deconvg %s dw", geo);
  check(name, dw2, rdw, Wn);

  free(x); free(w); free(b); free(dy); free(wt); free(col); free(y); free(dx); free(dw);
  free(ry); free(rdx); free(rdw); free(db); free(dx2); free(dw2); free(ry2); free(rdw2);
}

static void test_dense(int N, int in, int out, unsigned seed) {
  unsigned r = seed;
  float *x = rnd(N * in, &r), *w = rnd(out * in, &r), *b = rnd(out, &r), *dy = rnd(N * out, &r);
  float *wt = malloc(sizeof(float) * in * out), *y = malloc(sizeof(float) * N * out);
  float *dx = malloc(sizeof(float) * N * in), *dw = malloc(sizeof(float) * out * in);
  for (int i = 0; i < out * in; i++)   // kern_dense_dw overwrites: what was there must not count
    dw[i] = 1e30f;
  float *dyt = malloc(sizeof(float) * N * out);
  double *ry = malloc(sizeof(double) * N * out), *rdx = calloc(N * in, sizeof(double));
  double *rdw = calloc(out * in, sizeof(double));
  KernGemm gf, gdx, gdw;
  kern_gemm_init(&gf, "dense fwd", out, N, in, out, in, out, 0);
  kern_gemm_init(&gdx, "dense dx", in, N, out, in, out, in, 0);
  kern_gemm_init(&gdw, "dense dw", in, out, N, in, N, in, 0);
  kern_transpose(w, out, in, wt);
  kern_dense_fwd(&gf, x, wt, b, y, N, out, KERN_ACT_SIGMOID);
  kern_dense_dx(&gdx, dy, w, dx);
  kern_dense_dw(&gdw, dy, x, dw, dyt, N, N, in, out);
  for (int n = 0; n < N; n++)
    for (int o = 0; o < out; o++) {
      double a = b[o];
      for (int i = 0; i < in; i++) {
        a += (double)w[o * in + i] * x[n * in + i];
        rdx[n * in + i] += (double)dy[n * out + o] * w[o * in + i];
        rdw[o * in + i] += (double)dy[n * out + o] * x[n * in + i];
      }
      ry[n * out + o] = 1 / (1 + exp(-a));
    }
  char name[96];
  snprintf(name, sizeof name, "dense %d->%d x%d fwd+sigmoid", in, out, N);
  check(name, y, ry, N * out);
  snprintf(name, sizeof name, "dense %d->%d x%d dx", in, out, N);
  check(name, dx, rdx, N * in);
  snprintf(name, sizeof name, "dense %d->%d x%d dw", in, out, N);
  check(name, dw, rdw, out * in);
  // A ragged chunk: nc = N - 3 real rows, NaN in the padding rows of x and
  // dy (kern_dense_dw zeroes them in x and in its transposed copy of dy),
  // against the reference over the nc rows.
  int nc = N - 3;
  for (int i = nc * in; i < N * in; i++)
    x[i] = NAN;
  for (int i = nc * out; i < N * out; i++)
    dy[i] = NAN;
  for (int i = 0; i < out * in; i++)
    rdw[i] = 0;
  for (int n = 0; n < nc; n++)
    for (int o = 0; o < out; o++)
      for (int i = 0; i < in; i++)
        rdw[o * in + i] += (double)dy[n * out + o] * x[n * in + i];
  kern_dense_dw(&gdw, dy, x, dw, dyt, N, nc, in, out);
  snprintf(name, sizeof name, "dense %d->%d x%d dw, %d examples", in, out, N, nc);
  check(name, dw, rdw, out * in);
  free(x); free(w); free(b); free(dy); free(wt); free(y); free(dx); free(dw); free(dyt);
  free(ry); free(rdx); free(rdw);
}

// kern_transpose (16 x 16 tiles, in registers with AVX-512) and a slice of
// rows through kern_transpose_ld, on shapes with and without partial tiles:
// exact copies.
static void test_transpose(void) {
  static const int shape[][2] = {{1, 1}, {7, 300}, {16, 16}, {33, 290}, {64, 288}, {256, 784}, {10, 256}};
  int bad = 0;
  for (size_t t = 0; t < sizeof shape / sizeof shape[0]; t++) {
    int rows = shape[t][0], cols = shape[t][1];
    float *in = malloc(sizeof(float) * rows * cols), *o = malloc(sizeof(float) * rows * cols);
    for (int i = 0; i < rows * cols; i++)
      in[i] = (float)i;
    kern_transpose(in, rows, cols, o);
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++)
        bad += o[c * rows + r] != in[r * cols + c];
    memset(o, 0, sizeof(float) * rows * cols);
    for (int r0 = 0; r0 < rows; r0 += 16)   // as genmodel.c's threads do
      kern_transpose_ld(in + r0 * cols, rows - r0 < 16 ? rows - r0 : 16, cols, o + r0, rows);
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++)
        bad += o[c * rows + r] != in[r * cols + c];
    free(in);
    free(o);
  }
  printf("%-34s %d misplaced\n", "kern_transpose, 7 shapes", bad);
  CHECK(bad == 0, "kern_transpose misplaced %d values", bad);
}

// kern_expf against exp in double over the range the sigmoid sees.
static void test_expf(void) {
  double worst_rel = 0;
  for (int i = 0; i <= 2000000; i++) {
    float x = -87.0f + 175.0f * i / 2000000.0f;
    double want = exp((double)x), got = kern_expf(x);
    double rel = fabs(got - want) / want;
    if (rel > worst_rel) worst_rel = rel;
  }
  printf("%-34s n=%-6d max relative error = %.3g\n", "kern_expf on [-87, 88]", 2000001, worst_rel);
  if (worst_rel > worst) worst = worst_rel;
}

// kern_logf against log in double, relative, from subnormals to 1e30 (bce
// reads log p and log(1 - p)); log(0) = -inf and log(-1), log(NaN) NaN.
static void test_logf(void) {
  double worst_rel = 0;
  int n = 0;
  for (float x = 1e-44f; x < 1e30f; x = nextafterf(x, INFINITY) * 1.0003f, n++) {
    double want = log((double)x), got = kern_logf(x);
    double rel = fabs(got - want) / fmax(fabs(want), 1.0);
    if (rel > worst_rel) worst_rel = rel;
  }
  printf("%-34s n=%-6d max relative error = %.3g\n", "kern_logf on [1e-44, 1e30]", n, worst_rel);
  CHECK(kern_logf(0.0f) == -INFINITY && isnan(kern_logf(-1.0f)) && isnan(kern_logf(NAN)),
        "kern_logf: log(0) %g, log(-1) %g, log(NaN) %g", kern_logf(0.0f), kern_logf(-1.0f), kern_logf(NAN));
  if (worst_rel > worst) worst = worst_rel;
}

// kern_erff against erf in double, absolute (gelu reads 1 + erf), and
// relative near 0 where erf is small.
static void test_erff(void) {
  double worst_abs = 0, worst_small = 0;
  for (int i = 0; i <= 2000000; i++) {
    float x = -8.0f + 16.0f * i / 2000000.0f;
    double want = erf((double)x), got = kern_erff(x);
    worst_abs = fmax(worst_abs, fabs(got - want));
    if (fabs(x) < 1.0f && x != 0.0f)
      worst_small = fmax(worst_small, fabs(got - want) / fabs(want));
  }
  printf("%-34s n=%-6d max |error| = %.3g, relative on (-1, 1) %.3g\n", "kern_erff on [-8, 8]", 2000001, worst_abs,
         worst_small);
  if (worst_abs > worst) worst = worst_abs;
  if (worst_small > worst) worst = worst_small;
}

// kern_act_alpha and kern_mask_alpha (leaky_relu, elu) against their
// definitions in double.
static void test_act_alpha(unsigned seed) {
  int n = 4096;
  float *y = rnd(n, &seed), *dy = rnd(n, &seed), *out = malloc(sizeof(float) * n), *t = malloc(sizeof(float) * n);
  double *want = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++)
    y[i] *= 4.0f;
  for (int act = KERN_ACT_LEAKY_RELU; act <= KERN_ACT_ELU; act++) {
    float a = act == KERN_ACT_ELU ? 0.5f : 0.2f;
    for (int i = 0; i < n; i++) {
      t[i] = y[i];
      want[i] = y[i] > 0 ? y[i] : act == KERN_ACT_ELU ? a * expm1((double)y[i]) : (double)a * y[i];
    }
    kern_act_alpha(t, n, act, a);
    check(act == KERN_ACT_ELU ? "kern_act_alpha elu 0.5" : "kern_act_alpha leaky_relu 0.2", t, want, n);
    for (int i = 0; i < n; i++)
      want[i] = t[i] > 0 ? dy[i] : (double)dy[i] * (act == KERN_ACT_ELU ? (double)t[i] + a : a);
    check(act == KERN_ACT_ELU ? "kern_mask_alpha elu 0.5" : "kern_mask_alpha leaky_relu 0.2",
          kern_mask_alpha(dy, t, n, out, act, a), want, n);
  }
  free(y), free(dy), free(out), free(t), free(want);
}

// The stride-2 row copies (kernels_stride2.h: AVX-512 masked loads,
// permutes and stores where the CPU has them) against plain loops, bit for
// bit: every length up to 70, with a canary after each destination (a
// masked store must not write past the row), then im2col and col2im at
// stride 2 over widths 12..33 (col2im must add each x's terms in the plain
// loop's order: memcmp, not a tolerance).
static int canary_ok(const float *p, int n) {
  for (int i = 0; i < n; i++)
    if (p[i] != -7.0f)
      return 0;
  return 1;
}

static void col2im_plain(const float *col, int C, int H, int W, int k, int p, int Ho, int Wo, float *x) {
  memset(x, 0, sizeof(float) * C * H * W);
  for (int ci = 0; ci < C; ci++)
    for (int ky = 0; ky < k; ky++)
      for (int oy = 0; oy < Ho; oy++) {
        int iy = oy * 2 - p + ky;
        if (iy < 0 || iy >= H)
          continue;
        for (int ox = 0; ox < Wo; ox++)
          for (int kx = 0; kx < k; kx++) {
            int ix = ox * 2 - p + kx;
            if (ix >= 0 && ix < W)
              x[(ci * H + iy) * W + ix] += col[((ci * k + ky) * k + kx) * Ho * Wo + oy * Wo + ox];
          }
      }
}

static void test_stride2(unsigned seed) {
  enum { N = 70, G = 40 };
  float *src = rnd(2 * N + G, &seed), *a = rnd(N + G, &seed), *b = rnd(N + G, &seed);
  float got[2 * N + G], got2[N + G], want[2 * N];
  int bad = 0;
  for (int n = 0; n <= N; n++) {
    for (int i = 0; i < 2 * N + G; i++) got[i] = -7.0f;
    kern_take_even(src, n, got);
    for (int j = 0; j < n; j++) want[j] = src[2 * j];
    bad += memcmp(got, want, sizeof(float) * n) != 0 || !canary_ok(got + n, G);
    for (int i = 0; i < N + G; i++) got[i] = got2[i] = -7.0f;
    kern_deal2(src, n, got, got2);
    for (int i = 0; i < n; i++) bad += (i % 2 ? got2 : got)[i / 2] != src[i];
    bad += !canary_ok(got + (n + 1) / 2, G) || !canary_ok(got2 + n / 2, G);
    for (int i = 0; i < 2 * N + G; i++) got[i] = -7.0f;
    kern_weave2(a, b, n, got);
    for (int i = 0; i < n; i++) bad += got[i] != (i % 2 ? b : a)[i / 2];
    bad += !canary_ok(got + n, G);
  }
  printf("%-34s lengths 0..%d: %s\n", "stride-2 row copies", N, bad ? "DIFFER" : "bit for bit");
  CHECK(bad == 0, "%d stride-2 row copies differ from the plain loops", bad);
  int shapes = 0, same = 0;
  for (int W = 12; W <= 33; W++)
    for (int k = 1; k <= 5; k++)
      for (int p = 0; p < k && p <= 2; p++)
        for (int op = 0; op <= 1; op++) {   // op: a transposed convolution's output padding
          int Wo = (W - op + 2 * p - k) / 2 + 1, C = 2;
          if (Wo < 1 || (Wo - 1) * 2 - 2 * p + k + op != W)
            continue;
          float *x = rnd(C * W * W, &seed), *col = malloc(sizeof(float) * C * k * k * Wo * Wo);
          float *x1 = malloc(sizeof(float) * C * W * W), *x2 = malloc(sizeof(float) * C * W * W);
          kern_im2col(x, C, W, W, k, 2, p, Wo, Wo, col);
          int ok = 1;
          for (int ci = 0; ci < C && ok; ci++)
            for (int t = 0; t < k * k && ok; t++)
              for (int q = 0; q < Wo * Wo; q++) {
                int iy = q / Wo * 2 - p + t / k, ix = q % Wo * 2 - p + t % k;
                float v = iy >= 0 && iy < W && ix >= 0 && ix < W ? x[(ci * W + iy) * W + ix] : 0.0f;
                if (memcmp(&v, &col[(ci * k * k + t) * Wo * Wo + q], sizeof v)) {
                  ok = 0;
                  break;
                }
              }
          // col2im of random patches (im2col's would sum copies of one x,
          // equal in any order).
          for (int i = 0; i < C * k * k * Wo * Wo; i++)
            col[i] = frand(&seed);
          kern_col2im(col, C, W, W, k, 2, p, Wo, Wo, x1);
          col2im_plain(col, C, W, W, k, p, Wo, Wo, x2);
          same += ok && memcmp(x1, x2, sizeof(float) * C * W * W) == 0;
          shapes++;
          free(x), free(col), free(x1), free(x2);
        }
  printf("%-34s %d shapes, %d bit for bit\n", "stride-2 im2col / col2im", shapes, same);
  CHECK(same == shapes, "stride-2 im2col / col2im differ from the plain loops on %d of %d shapes",
        shapes - same, shapes);
  free(src), free(a), free(b);
}

// kern_dwdot_acc (kernels_dwdot.h) over nimg images against a double
// loop: M x N tiles that are not multiples of its 8 x 3, L not a multiple
// of 16, rows padded to ld > L with NaN (a lane read past L would show).
// Also: the lanes against the plain loop's (kern_dwdot_acc_ref), and a
// second run bit for bit the first.
static void test_dwdot(int M, int N, int L, int ld, int nimg, unsigned seed) {
  unsigned r = seed;
  float *a = malloc(sizeof(float) * nimg * M * ld), *b = malloc(sizeof(float) * nimg * N * ld);
  for (int i = 0; i < nimg * M * ld; i++) a[i] = i % ld < L ? frand(&r) : NAN;
  for (int i = 0; i < nimg * N * ld; i++) b[i] = i % ld < L ? frand(&r) : NAN;
  float *acc = calloc((size_t)M * N * 16, sizeof(float)), *lanes = calloc((size_t)M * N * 16, sizeof(float));
  float *dw = calloc((size_t)M * N, sizeof(float)), *dw2 = calloc((size_t)M * N, sizeof(float));
  double *ref = calloc((size_t)M * N, sizeof(double)), *rl = calloc((size_t)M * N * 16, sizeof(double));
  for (int im = 0; im < nimg; im++) {
    const float *ai = a + (long)im * M * ld, *bi = b + (long)im * N * ld;
    kern_dwdot_acc(ai, ld, M, bi, ld, N, L, acc);
    kern_dwdot_acc_ref(ai, ld, M, bi, ld, N, L, lanes);
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++)
        for (int q = 0; q < L; q++) {
          double v = (double)ai[m * ld + q] * bi[n * ld + q];
          ref[m * N + n] += v;
          rl[(m * N + n) * 16 + q % 16] += v;
        }
  }
  kern_dwdot_reduce(acc, M * N, dw);
  char name[96];
  snprintf(name, sizeof name, "dwdot %dx%d L=%d ld=%d, %d img", M, N, L, ld, nimg);
  check(name, dw, ref, M * N);
  snprintf(name, sizeof name, "dwdot lanes %dx%d L=%d", M, N, L);
  check(name, acc, rl, M * N * 16);
  snprintf(name, sizeof name, "dwdot ref lanes %dx%d L=%d", M, N, L);
  check(name, lanes, rl, M * N * 16);
  memset(lanes, 0, sizeof(float) * M * N * 16);
  for (int im = 0; im < nimg; im++)
    kern_dwdot_acc(a + (long)im * M * ld, ld, M, b + (long)im * N * ld, ld, N, L, lanes);
  kern_dwdot_reduce(lanes, M * N, dw2);
  CHECK(!memcmp(dw, dw2, sizeof(float) * M * N), "dwdot %dx%d L=%d: two runs differ", M, N, L);
  free(a); free(b); free(acc); free(lanes); free(dw); free(dw2); free(ref); free(rl);
}

// kern_conv_dw_dot and kern_deconv_dw_dot over a chunk of nc images (as
// the generated loop calls them: image 0 zeroes the lanes, image nc-1
// adds them to dw) against conv_ref_bwd's dw summed over the images; the
// deconv with its patches built by kern_deconv_dx (have_col) and by itself.
static void test_dw_dot(int nc, int Ci, int H, int Co, int k, int s, int p, unsigned seed) {
  const int W = H, Ho = (H + 2 * p - k) / s + 1, Wo = Ho, K = Ci * k * k, P = Ho * Wo;
  unsigned r = seed;
  float *x = rnd(nc * Ci * H * W, &r), *dy = rnd(nc * Co * P, &r), *w = rnd(Co * K, &r);
  long at = ((long)K * P + 15) / 16 * 16;   // where the emitter puts the lanes (conv.c, dwdot_acc_at)
  float *col = malloc(sizeof(float) * (at + (long)Co * K * 16)), *dx = malloc(sizeof(float) * Co * P);
  float *dw = calloc(Co * K, sizeof(float)), *dwd = calloc(Co * K, sizeof(float));
  float *dwd1 = calloc(Co * K, sizeof(float));
  double *rdx = malloc(sizeof(double) * Ci * H * W), *rdw = malloc(sizeof(double) * Co * K);
  double *sum = calloc(Co * K, sizeof(double));
  KernGemm gx;
  kern_gemm_init(&gx, "deconv dx", P, Co, K, P, K, P, 0);
  for (int i = 0; i < nc; i++) {
    const float *xi = x + (long)i * Ci * H * W, *dyi = dy + (long)i * Co * P;
    kern_conv_dw_dot(dyi, xi, dw, col, col + at, i, nc, Co, Ci, H, W, k, s, p, Ho, Wo);
    conv_ref_bwd(xi, w, dyi, rdx, rdw, Ci, H, W, Co, k, s, p, Ho, Wo);
    for (int j = 0; j < Co * K; j++) sum[j] += rdw[j];
  }
  char name[96];
  snprintf(name, sizeof name, "conv_dw_dot %dx%d->%dx%d, %d img", Ci, H, Co, Ho, nc);
  check(name, dw, sum, Co * K);
  // The transposed convolution Co x Ho -> Ci x H (w [Co][Ci][k][k] read as
  // deconv [in][out]): its x is dy, its output gradient x (as test_conv).
  for (int i = 0; i < nc; i++) {
    const float *xi = x + (long)i * Ci * H * W, *dyi = dy + (long)i * Co * P;
    kern_deconv_dx(&gx, xi, w, dx, col, Ci, H, W, k, s, p, Ho, Wo);
    kern_deconv_dw_dot(xi, dyi, dwd, col, 1, col + at, i, nc, Co, Ci, H, W, k, s, p, Ho, Wo);
  }
  for (int i = 0; i < nc; i++) {
    const float *xi = x + (long)i * Ci * H * W, *dyi = dy + (long)i * Co * P;
    memset(col, 0xff, sizeof(float) * K * P);   // NaN: have_col 0 builds its own
    kern_deconv_dw_dot(xi, dyi, dwd1, col, 0, col + at, i, nc, Co, Ci, H, W, k, s, p, Ho, Wo);
  }
  snprintf(name, sizeof name, "deconv_dw_dot %dx%d->%dx%d, %d img", Co, Ho, Ci, H, nc);
  check(name, dwd, sum, Co * K);
  snprintf(name, sizeof name, "deconv_dw_dot (own col) %dx%d->%dx%d", Co, Ho, Ci, H);
  check(name, dwd1, sum, Co * K);
  free(x); free(dy); free(w); free(col); free(dx); free(dw); free(dwd); free(dwd1);
  free(rdx); free(rdw); free(sum);
}

int main(void) {
  libxsmm_init();
  test_expf();
  test_logf();
  test_erff();
  test_act_alpha(10);
  test_stride2(40);
  // The autoencoder's encoder convolutions; the decoder's transposed
  // convolutions are their transposes (32->16 3->7 is conv 16x7 -> 32x3,
  // and so on; output padding shows up as H = 14 and 28 with p = 1).
  test_conv(1, 28, 8, 3, 2, 1, 1);
  test_conv(8, 14, 16, 3, 2, 1, 2);
  test_conv(16, 7, 32, 3, 2, 0, 3);
  test_conv(8, 7, 16, 3, 2, 1, 4);   // also 7 -> 4, a shape with a ragged edge
  // A chunk's images in one GEMM: conv3 / deconv1's 3x3 side, a ragged one.
  test_chunk(32, 16, 7, 32, 3, 2, 0, 20);
  test_chunk(5, 8, 7, 16, 3, 2, 1, 21);
  // Direct convolution: conv2 / deconv2's shapes, stride 1 (the zoo's 3x3
  // pad 1), 4x4 stride 2 pad 1, a kernel smaller than the stride, 5x5.
  test_direct(32, 8, 8, 14, 16, 3, 2, 1, 30);
  test_direct(9, 4, 16, 7, 32, 3, 2, 0, 31);
  test_direct(5, 2, 16, 16, 16, 3, 1, 1, 32);
  test_direct(6, 4, 8, 16, 12, 4, 2, 1, 33);
  test_direct(4, 3, 6, 9, 5, 1, 2, 0, 34);
  test_direct(3, 2, 4, 11, 6, 5, 2, 2, 35);
  test_direct(3, 2, 5, 10, 7, 3, 3, 1, 36);
  test_direct(4, 1, 16, 32, 16, 3, 1, 1, 37);   // resnet8's block16: a plane of 34 x 32 rows, B = 1
  // The general kernels: rectangular, strided and padded per dimension,
  // dilated, grouped and depthwise (KernConv: C H W, k, s, p, d, Ho Wo, groups).
  test_convg(6, (KernConv){4, 11, 9, 3, 2, 2, 1, 1, 0, 1, 2, 6, 7, 2}, 10);
  test_convg(8, (KernConv){4, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 8, 8, 4}, 11);
  test_convg(3, (KernConv){3, 7, 12, 1, 5, 2, 3, 0, 2, 1, 1, 4, 4, 1}, 12);
  test_dense(32, 288, 64, 5);
  test_dense(32, 64, 9, 6);
  test_dense(32, 9, 64, 7);
  test_dense(32, 64, 288, 8);
  test_dense(7, 64, 10, 9);
  test_dense(32, 784, 256, 10);
  test_transpose();
  test_dwdot(8, 9, 196, 196, 1, 50);     // conv1's tiles, a ragged 4-lane end
  test_dwdot(8, 9, 196, 208, 32, 51);    // a chunk, padded rows
  test_dwdot(5, 4, 17, 24, 3, 52);       // ragged rows and columns of tiles
  test_dwdot(1, 1, 1, 16, 1, 53);
  test_dwdot(9, 25, 169, 176, 4, 54);
  test_dwdot(16, 2, 15, 15, 2, 55);
  test_dwdot(3, 3, 32, 32, 2, 56);       // no ragged end
  test_dw_dot(32, 1, 28, 8, 3, 2, 1, 60);   // the autoencoder's conv1 and deconv3
  test_dw_dot(7, 1, 28, 6, 5, 1, 2, 61);    // lenet5's conv1, a ragged chunk
  test_dw_dot(3, 3, 12, 5, 2, 1, 0, 62);    // even kernel, 3 channels, P = 121
  test_dw_dot(1, 8, 10, 1, 1, 1, 0, 63);    // 1x1 to one channel, one image
  printf("largest relative difference: %.3g (tolerance 1e-5)\n", worst);
  CHECK(worst <= 1e-5, "a kernel is off by %.3g", worst);
  libxsmm_finalize();
  return t_finish("test_kernels");
}
