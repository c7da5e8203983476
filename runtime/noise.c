// noise.c — the denoiser's Gaussian noise with Gaussian parameters.
#include "noise.h"

void noise_apply(float *x, int n, float mean, float mean_std, float std,
                 float std_std, Rng *r) {
  double mu = mean + mean_std * rng_normal(r);
  double sigma = fabs(std + std_std * rng_normal(r));
  for (int i = 0; i < n; i++)
    x[i] += (float)(mu + sigma * rng_normal(r));
}
