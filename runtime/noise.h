// noise.h — the denoiser's input noise, as in the report (Section 3):
// per image mu ~ N(mean, mean_std^2) and sigma = |N(std, std_std^2)|, then
// every pixel gets x += N(mu, sigma^2).  The report uses mean 0, mean_std 1,
// std 0.5, std_std 0.5.  No clipping: the report's noisy inputs are not
// clamped to [0, 1] either.
#ifndef NETRT_NOISE_H
#define NETRT_NOISE_H

#include "rng.h"

// Adds the noise to one image x[n] in place, drawing from r (per image:
// two normals for mu and sigma, then one per pixel in order).
void noise_apply(float *x, int n, float mean, float mean_std, float std,
                 float std_std, Rng *r);

#endif
