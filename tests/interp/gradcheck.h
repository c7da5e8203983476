// gradcheck.h — central-difference gradient checks on the interpreter,
// shared by the op-level and model-level tests.
//
// Precision: the kernels are float; reductions accumulate in double.  With
// losses of order 1, float rounding perturbs a loss by ~1e-7 relative, so
// with eps = 1e-3 a central difference carries ~1e-4 absolute noise
// (1e-7 / 2e-3 * a few accumulated roundings) and O(eps^2) truncation.  A
// tensor passes when max |numeric - analytic| <= tol * max(max |analytic|,
// floor).  The op tests use tol 3e-3: their worst honest case is ~5e-4,
// and a rule off by a factor of 1.01 already fails.
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include "autodiff.h"
#include "interp.h"
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A tiny deterministic generator for test data (not the model's RNG).
static uint64_t gc_state = 0x9e3779b97f4a7c15ull;
static inline double gc_uniform(void) {
  gc_state = gc_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(gc_state >> 11) * 0x1.0p-53;
}
static inline float gc_range(float lo, float hi) { return lo + (hi - lo) * (float)gc_uniform(); }

typedef struct {
  double max_diff, max_ref;   // largest |num - ana| and largest |ana| over the checked entries
  int checked;
} GcResult;

// Checks the gradient of parameter p (g after autodiff; ip over params pv)
// at up to max_entries entries spread over the tensor.
static inline GcResult gc_check_param(Interp *ip, float **pv, int p, const float *x, const int32_t *labels,
                                      int n, uint64_t seed, double eps, int max_entries) {
  Graph *g = ip->g;
  int64_t numel = shape_numel(g->params[p].shape);
  float *ana = malloc(numel * sizeof(float));
  interp_run(ip, g->nnodes, x, labels, n, seed);
  memcpy(ana, interp_value(ip, g->params[p].grad), numel * sizeof(float));
  interp_release(ip);
  GcResult r = {0};
  for (int64_t k = 0; k < numel; k++)
    r.max_ref = fmax(r.max_ref, fabs(ana[k]));
  int64_t step = numel > max_entries ? numel / max_entries : 1;
  for (int64_t k = (numel > max_entries ? (int64_t)(gc_uniform() * step) : 0); k < numel; k += step) {
    float v = pv[p][k];
    pv[p][k] = (float)(v + eps);
    double lp = interp_run(ip, g->nforward, x, labels, n, seed);
    interp_release(ip);
    pv[p][k] = (float)(v - eps);
    double lm = interp_run(ip, g->nforward, x, labels, n, seed);
    interp_release(ip);
    pv[p][k] = v;
    double h = ((double)(float)(v + eps) - (double)(float)(v - eps));   // the step actually taken
    double num = (lp - lm) / h;
    r.max_diff = fmax(r.max_diff, fabs(num - ana[k]));
    r.checked++;
  }
  free(ana);
  return r;
}

#endif
