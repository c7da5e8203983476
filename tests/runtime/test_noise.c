// test_noise.c — the denoiser's noise model has the report's statistics:
// per image mu ~ N(0, 1), sigma = |N(0.5, 0.5)|, pixel noise N(mu, sigma^2).
#include "noise.h"
#include "testutil.h"

// Phi(z), the standard normal's distribution function.
static double phi(double z) { return 0.5 * erfc(-z / M_SQRT2); }

// noise_normal is a standard normal: moments, a chi-square over 0.1-wide
// bins (finer than the ziggurat's layers near the top, so a wrong table
// entry shows), the mass of the tail beyond the base layer's R = 3.654 that
// the tail method samples, and the largest gap of the empirical
// distribution function (Kolmogorov-Smirnov) on a sorted sample.
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void check_normal(void) {
  enum { N = 4000000, BINS = 100, KS = 200000 };   // bins of 0.1 on [-5, 5) + 2 outer
  static long hist[BINS + 2];
  static double sample[KS];
  Rng r = rng_stream(11, 0);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  long tail = 0;
  for (int i = 0; i < N; i++) {
    double z = noise_normal(&r);
    m1 += z, m2 += z * z, m3 += z * z * z, m4 += z * z * z * z;
    tail += fabs(z) > 3.6541528853610088;
    int b = z < -5 ? 0 : z >= 5 ? BINS + 1 : 1 + (int)((z + 5) * 10);
    hist[b]++;   // (z + 5) * 10 rounding up to 100 lands in the upper outer bin: harmless
    if (i < KS) sample[i] = z;
  }
  m1 /= N, m2 /= N, m3 /= N, m4 /= N;
  double chi2 = 0;
  for (int b = 0; b < BINS + 2; b++) {
    double lo = b == 0 ? -INFINITY : -5 + 0.1 * (b - 1), hi = b == BINS + 1 ? INFINITY : -5 + 0.1 * b;
    double want = N * (phi(hi) - phi(lo));
    chi2 += (hist[b] - want) * (hist[b] - want) / want;
  }
  // 101 degrees of freedom: mean 101, sd 14.2; 190 is beyond 6 sd.
  double want_tail = erfc(3.6541528853610088 / M_SQRT2) * N;   // ~1033
  qsort(sample, KS, sizeof *sample, cmp_double);
  double d = 0;
  for (int i = 0; i < KS; i++) {
    double f = phi(sample[i]), lo = f - (double)i / KS, hi = (double)(i + 1) / KS - f;
    d = fmax(d, fmax(lo, hi));
  }
  printf("noise_normal: mean %.5f var %.5f skew %.4f kurtosis %.4f; chi2 %.1f (101 dof); "
         "|z| > R %ld (want %.0f); KS D %.5f (5%% critical %.5f)\n",
         m1, m2, m3, m4, chi2, tail, want_tail, d, 1.36 / sqrt(KS));
  CHECK(fabs(m1) < 0.003 && fabs(m2 - 1) < 0.004, "normal mean %.5f var %.5f", m1, m2);
  CHECK(fabs(m3) < 0.01 && fabs(m4 - 3) < 0.03, "normal skew %.4f kurtosis %.4f", m3, m4);
  CHECK(chi2 < 190, "chi-square %.1f over 102 bins", chi2);
  CHECK(fabs(tail - want_tail) < 5 * sqrt(want_tail), "tail count %ld vs %.0f", tail, want_tail);
  CHECK(d < 1.63 / sqrt(KS), "Kolmogorov-Smirnov D %.5f (1%% critical %.5f)", d, 1.63 / sqrt(KS));
}

int main(void) {
  enum { IMAGES = 20000, PIX = 784 };
  static float x[PIX];
  double mus = 0, mus2 = 0, sig = 0;
  int negative = 0, nonzero = 0;
  for (int i = 0; i < IMAGES; i++) {
    Rng r = rng_stream(7, (uint64_t)i);
    for (int p = 0; p < PIX; p++) x[p] = 0.25f;
    noise_apply(x, PIX, 0.0f, 1.0f, 0.5f, 0.5f, &r);
    double m = 0, v = 0;
    for (int p = 0; p < PIX; p++) m += x[p] - 0.25;
    m /= PIX;
    for (int p = 0; p < PIX; p++) v += (x[p] - 0.25 - m) * (x[p] - 0.25 - m);
    double s = sqrt(v / (PIX - 1));
    mus += m; mus2 += m * m; sig += s;
    for (int p = 0; p < PIX; p++) { negative += x[p] < 0; nonzero += x[p] > 1; }
  }
  double mean_mu = mus / IMAGES, var_mu = mus2 / IMAGES - mean_mu * mean_mu;
  double mean_sigma = sig / IMAGES;
  // E|N(m, s^2)| = s*sqrt(2/pi)*exp(-m^2/(2 s^2)) + m*(1 - 2 Phi(-m/s)); m = s = 0.5:
  double want_sigma = 0.5 * sqrt(2 / M_PI) * exp(-0.5) + 0.5 * erf(1 / sqrt(2.0));
  // Per image the sample mean also carries sigma^2/784 of pixel noise.
  printf("noise: image means: mean %.4f var %.4f (want 0, ~1); mean sigma %.4f (want %.4f)\n",
         mean_mu, var_mu, mean_sigma, want_sigma);
  CHECK(fabs(mean_mu) < 0.03, "mean of mu %.4f", mean_mu);
  CHECK(fabs(var_mu - 1) < 0.04, "variance of mu %.4f", var_mu);
  CHECK(fabs(mean_sigma - want_sigma) < 0.01, "mean sigma %.4f vs %.4f", mean_sigma, want_sigma);
  CHECK(negative > 0 && nonzero > 0, "no clipping: values below 0 (%d) and above 1 (%d)",
        negative, nonzero);

  // Reproducible per stream, independent of the order images are drawn in.
  float a[PIX], b[PIX];
  Rng r1 = rng_stream(3, 5), r2 = rng_stream(3, 5);
  for (int p = 0; p < PIX; p++) a[p] = b[p] = 0;
  noise_apply(a, PIX, 0, 1, 0.5f, 0.5f, &r1);
  Rng other = rng_stream(3, 4);
  float junk[PIX] = {0};
  noise_apply(junk, PIX, 0, 1, 0.5f, 0.5f, &other);
  noise_apply(b, PIX, 0, 1, 0.5f, 0.5f, &r2);
  CHECK(memcmp(a, b, sizeof a) == 0, "same stream, same noise");

  // The draw order noise.h documents: mu, sigma, then the pixels, all
  // from noise_normal on the image's stream.
  Rng r3 = rng_stream(3, 5);
  double mu = noise_normal(&r3), sigma = fabs(0.5 + 0.5 * noise_normal(&r3));
  int order = 1;
  for (int p = 0; p < PIX; p++) order &= a[p] == (float)(mu + sigma * noise_normal(&r3));
  CHECK(order, "noise_apply draws mu, sigma, then one normal per pixel");
  CHECK(rng_next(&r1) == rng_next(&r3), "noise_apply leaves the stream where its draws end");

  check_normal();
  return t_finish("test_noise");
}
