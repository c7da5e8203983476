// noise.h — the denoiser's input noise, as in the report (Section 3):
// per image mu ~ N(mean, mean_std^2) and sigma = |N(std, std_std^2)|, then
// every pixel gets x += N(mu, sigma^2).  The report uses mean 0, mean_std 1,
// std 0.5, std_std 0.5.  No clipping: the report's noisy inputs are not
// clamped to [0, 1] either.
//
// The standard normals come from a ziggurat (noise_normal), not from
// rng_normal's Box–Muller: the noise is a normal per pixel (784 per image,
// 55 million per full-MNIST epoch), and Box–Muller's log, sqrt and cos cost
// ~26 ns a draw, 1.5 s of CPU per epoch, as much as half the denoiser's
// training.  The ziggurat is exact too (a rejection method, not an
// approximation) and needs one 64-bit draw and a table look-up for ~99 % of
// its samples.
#ifndef NETRT_NOISE_H
#define NETRT_NOISE_H

#include "rng.h"

// Adds the noise to one image x[n] in place, drawing from r (per image:
// two normals for mu and sigma, then one per pixel in order, all from
// noise_normal).  The numbers depend only on r's state: one stream per
// example keeps them independent of the thread count.
void noise_apply(float *x, int n, float mean, float mean_std, float std,
                 float std_std, Rng *r);

// A standard normal by the ziggurat method with 256 layers (Marsaglia and
// Tsang, "The ziggurat method for generating random variables", J. Stat.
// Softw. 5(8), 2000), with the layer index and the abscissa taken from
// separate bits of one xoshiro256** word (Doornik, "An improved ziggurat
// method to generate normal random samples", 2005: sharing bits between
// them biases the original).  Draws a variable number of words from r
// (one, except after a rejection or in the tail).
double noise_normal(Rng *r);

#endif
