// parzen.c — the Parzen estimator of TPE for one parameter: a mixture of
// truncated Gaussians (numerical) or of smoothed one-hot distributions
// (categorical), one kernel per observation plus a prior kernel.
//
// This follows Optuna's _ParzenEstimator (optuna/samplers/_tpe/
// parzen_estimator.py, univariate case) with the TPESampler defaults:
//  - log parameters are modelled in log space;
//  - discrete parameters (int, float with step) widen the support by half a
//    step on each side, sample a continuous value and round it to the grid;
//    their likelihood is the mixture's mass over [x - step/2, x + step/2];
//  - prior kernel: mean at the middle of the support, sigma = its width,
//    weight prior_weight (1.0) before normalisation;
//  - bandwidths: each observation's sigma is the larger distance to its
//    neighbours among the sorted means (observations + prior mean), with the
//    support's ends as outer neighbours; consider_endpoints = false replaces
//    the first and last sigma by the distance to their one inner neighbour;
//    "magic clip" bounds sigma to [width / min(100, 1 + n_kernels), width];
//  - mixture weights: default_weights over the observations (oldest first:
//    a ramp for all but the newest 25, which get 1), then the prior;
//  - categorical: kernel k puts prior_weight / n_kernels on every choice plus
//    1 on its observed choice, normalised; the prior kernel is uniform.
// Bergstra, Bardenet, Bengio, Kégl (2011), "Algorithms for Hyper-Parameter
// Optimization", NeurIPS, section 4: l(x) is this estimator over the best
// gamma fraction of trials, g(x) over the rest.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

static double transform(const HpoParam *p, double x) { return p->log ? log(x) : x; }
static double untransform(const HpoParam *p, double x) { return p->log ? exp(x) : x; }
static double norm_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }
static double half_step(const HpoParam *p) { return p->step > 0 ? 0.5 * p->step : 0; }

typedef struct { double mu; int idx; } MuIdx;
static int cmp_mu(const void *a, const void *b) {
  double x = ((const MuIdx *)a)->mu, y = ((const MuIdx *)b)->mu;
  return x < y ? -1 : x > y;
}

// Sigmas of the observation kernels (Optuna's compute_sigmas, univariate).
static void compute_sigmas(const double *mus, int n_obs, double lo, double hi,
                           const HpoSampler *cfg, double *sigma) {
  int m = n_obs + 1;   // observations and the prior mean
  MuIdx *s = malloc((size_t)m * sizeof *s);
  for (int i = 0; i < n_obs; i++) s[i] = (MuIdx){mus[i], i};
  s[n_obs] = (MuIdx){0.5 * (lo + hi), n_obs};
  qsort(s, (size_t)m, sizeof *s, cmp_mu);   // ties: any order, as np.argsort
  double *e = malloc((size_t)(m + 2) * sizeof *e);   // sorted means with the endpoints
  e[0] = lo;
  for (int i = 0; i < m; i++) e[i + 1] = s[i].mu;
  e[m + 1] = hi;
  double *ss = malloc((size_t)m * sizeof *ss);
  for (int i = 0; i < m; i++) ss[i] = fmax(e[i + 1] - e[i], e[i + 2] - e[i + 1]);
  if (!cfg->consider_endpoints && m + 2 >= 4) {
    ss[0] = e[2] - e[1];
    ss[m - 1] = e[m] - e[m - 1];
  }
  double maxs = hi - lo;
  double mins = cfg->consider_magic_clip ? (hi - lo) / fmin(100.0, 1.0 + (n_obs + 1)) : 1e-12;
  for (int i = 0; i < m; i++)
    if (s[i].idx < n_obs) sigma[s[i].idx] = fmin(fmax(ss[i], mins), maxs);
  free(s), free(e), free(ss);
}

void parzen_build(Parzen *pe, const HpoParam *p, const double *obs, int n_obs,
                  const HpoSampler *cfg) {
  memset(pe, 0, sizeof *pe);
  pe->p = p;
  pe->n = n_obs + 1;
  pe->w = malloc((size_t)pe->n * sizeof *pe->w);
  if (n_obs == 0) {
    pe->w[0] = 1;
  } else {
    tpe_default_weights(n_obs, pe->w);
    pe->w[n_obs] = cfg->prior_weight;
  }
  double sum = 0;
  for (int i = 0; i < pe->n; i++) sum += pe->w[i];
  for (int i = 0; i < pe->n; i++) pe->w[i] /= sum;

  if (p->kind == HPO_CAT) {
    int c = p->n_choices;
    pe->cat = malloc((size_t)pe->n * (size_t)c * sizeof *pe->cat);
    for (int k = 0; k < pe->n; k++) {
      double *row = pe->cat + (size_t)k * (size_t)c;
      double fill = n_obs ? cfg->prior_weight / pe->n : 1.0 / c;
      for (int j = 0; j < c; j++) row[j] = fill;
      if (k < n_obs) row[(int)obs[k]] += 1;
      double rs = 0;
      for (int j = 0; j < c; j++) rs += row[j];
      for (int j = 0; j < c; j++) row[j] /= rs;
    }
    return;
  }
  double h = half_step(p);
  pe->lo = transform(p, p->low - h);
  pe->hi = transform(p, p->high + h);
  pe->mu = malloc((size_t)pe->n * sizeof *pe->mu);
  pe->sigma = malloc((size_t)pe->n * sizeof *pe->sigma);
  for (int i = 0; i < n_obs; i++) pe->mu[i] = transform(p, obs[i]);
  compute_sigmas(pe->mu, n_obs, pe->lo, pe->hi, cfg, pe->sigma);
  pe->mu[n_obs] = 0.5 * (pe->lo + pe->hi);
  pe->sigma[n_obs] = pe->hi - pe->lo;
}

static int pick(const double *w, int n, Rng *rng) {
  double u = rng_uniform(rng), c = 0;
  for (int i = 0; i < n - 1; i++)
    if (u < (c += w[i])) return i;
  return n - 1;
}

double parzen_sample(const Parzen *pe, Rng *rng) {
  const HpoParam *p = pe->p;
  if (p->kind == HPO_CAT) {
    double pmf[HPO_MAX_CHOICES] = {0};
    for (int k = 0; k < pe->n; k++)
      for (int j = 0; j < p->n_choices; j++) pmf[j] += pe->w[k] * pe->cat[k * p->n_choices + j];
    return pick(pmf, p->n_choices, rng);
  }
  int k = pick(pe->w, pe->n, rng);
  // Truncated normal by rejection: mu lies in [lo, hi] and sigma <= hi - lo,
  // so at least a third of the draws land inside.
  double x;
  do x = pe->mu[k] + pe->sigma[k] * rng_normal(rng);
  while (x < pe->lo || x > pe->hi);
  return space_snap(p, untransform(p, x));
}

// log(sum_i exp(a_i)) without overflow.
static double logsumexp(const double *a, int n) {
  double m = -INFINITY, s = 0;
  for (int i = 0; i < n; i++) m = fmax(m, a[i]);
  if (m == -INFINITY) return m;
  for (int i = 0; i < n; i++) s += exp(a[i] - m);
  return m + log(s);
}

// For log parameters this is the density of log(x): the Jacobian 1/x is
// the same for l and g, so it cancels in the l/g ratio TPE maximises.
double parzen_log_pdf(const Parzen *pe, double x) {
  const HpoParam *p = pe->p;
  if (p->kind == HPO_CAT) {
    double s = 0;
    for (int k = 0; k < pe->n; k++) s += pe->w[k] * pe->cat[k * p->n_choices + (int)x];
    return log(s);
  }
  double *a = malloc((size_t)pe->n * sizeof *a);
  double h = half_step(p);
  for (int k = 0; k < pe->n; k++) {
    double mu = pe->mu[k], sg = pe->sigma[k];
    double z = norm_cdf((pe->hi - mu) / sg) - norm_cdf((pe->lo - mu) / sg);
    double dens;
    if (h > 0) {
      double u = fmin(transform(p, x + h), pe->hi), l = fmax(transform(p, x - h), pe->lo);
      dens = log(fmax(norm_cdf((u - mu) / sg) - norm_cdf((l - mu) / sg), 1e-300));
    } else {
      double t = (transform(p, x) - mu) / sg;
      dens = -0.5 * t * t - log(sg) - 0.5 * log(2 * M_PI);
    }
    a[k] = log(pe->w[k]) + dens - log(fmax(z, 1e-300));
  }
  double r = logsumexp(a, pe->n);
  free(a);
  return r;
}

void parzen_free(Parzen *pe) {
  free(pe->w), free(pe->mu), free(pe->sigma), free(pe->cat);
  memset(pe, 0, sizeof *pe);
}
