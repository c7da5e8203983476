// test_noise.c — the denoiser's noise model has the report's statistics:
// per image mu ~ N(0, 1), sigma = |N(0.5, 0.5)|, pixel noise N(mu, sigma^2).
#include "noise.h"
#include "testutil.h"

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
  return t_finish("test_noise");
}
