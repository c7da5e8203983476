// check.h — helpers for the analysis tests: the counting checks
// (tests/check.h) and seeded synthetic data.
#ifndef TESTS_ANALYSIS_CHECK_H
#define TESTS_ANALYSIS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "rng.h"

// k well-separated isotropic Gaussian clusters in d dims (k <= 2d), n
// points (point i in cluster i % k), unit spread; cluster c's centre is
// `sep` along axis c % d, plus `sep` along axis (c + 1) % d when c >= d, so
// centres are at least `sep` apart.  x (n, d), labels (n).
static inline void t_clusters(int n, int d, int k, double sep, uint64_t seed,
                              float *x, int *labels) {
  for (int i = 0; i < n; i++) {
    Rng r = rng_stream(seed, (uint64_t)i);
    int c = i % k;
    labels[i] = c;
    for (int j = 0; j < d; j++) {
      double centre = (j == c % d ? sep : 0) + (j == (c + 1) % d && c >= d ? sep : 0);
      x[(size_t)i * d + j] = (float)(centre + rng_normal(&r));
    }
  }
}

#endif
