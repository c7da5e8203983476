// sampler.c — random sampling and the Tree-structured Parzen Estimator.
//
// TPE: Bergstra, Bardenet, Bengio, Kégl (2011), "Algorithms for
// Hyper-Parameter Optimization", NeurIPS.  The finished trials are split
// into the best gamma(n) ("below", density l(x)) and the rest ("above",
// g(x)); the next value maximises l(x)/g(x), which is equivalent to
// maximising expected improvement (section 4.1).  Choices, as in Optuna's
// TPESampler defaults (optuna/samplers/_tpe/sampler.py):
//  - n_startup_trials = 10: random sampling until 10 trials have finished
//    (COMPLETE or PRUNED), counted when the trial is sampled;
//  - gamma(n) = min(ceil(0.1 n), 25);
//  - univariate: every parameter is sampled independently (multivariate =
//    false), with its own l and g;
//  - n_ei_candidates = 24 draws from l(x); the one with the largest
//    log l - log g wins;
//  - ranking: COMPLETE trials by value first; PRUNED trials after them, the
//    ones that got further (larger last step) first, then by their last
//    intermediate value; a pruned trial without any value ranks last;
//  - l and g keep the trials in chronological order, so default_weights
//    weighs the newest 25 observations fully and ramps down older ones.
// The random sampler (and TPE's start-up phase) draws like Optuna's
// RandomSampler: uniform on [low, high] or on [log low, log high]; discrete
// values uniform on the grid (a continuous draw on the support widened by
// half a step, rounded).  Reproducible: the caller seeds rng per trial.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

void sampler_default(HpoSampler *s, HpoSamplerKind kind) {
  s->kind = kind;
  s->n_startup_trials = 10;
  s->n_ei_candidates = 24;
  s->prior_weight = 1.0;
  s->consider_magic_clip = 1;
  s->consider_endpoints = 0;
}

int tpe_gamma(int n) {
  int g = (int)ceil(0.1 * n);
  return g < 25 ? g : 25;
}

// Optuna's default_weights: n < 25: all 1; else linspace(1/n, 1, n - 25)
// for the oldest n - 25, then 25 ones.
void tpe_default_weights(int n, double *w) {
  if (n < 25) {
    for (int i = 0; i < n; i++) w[i] = 1;
    return;
  }
  int r = n - 25;
  for (int i = 0; i < r; i++) w[i] = r == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (r - 1);
  for (int i = r; i < n; i++) w[i] = 1;
}

double sampler_random_param(const HpoParam *p, Rng *rng) {
  if (p->kind == HPO_CAT) return (double)rng_below(rng, (uint64_t)p->n_choices);
  double h = p->step > 0 ? 0.5 * p->step : 0;
  double lo = p->low - h, hi = p->high + h;
  if (p->log) lo = log(lo), hi = log(hi);
  double x = lo + (hi - lo) * rng_uniform(rng);
  return space_snap(p, p->log ? exp(x) : x);
}

// Ranking key of a finished trial: (-step, value), smaller is better;
// COMPLETE trials have step = +inf.
typedef struct { double negstep, value; int idx; } Score;
static int cmp_score(const void *a, const void *b) {
  const Score *x = a, *y = b;
  if (x->negstep != y->negstep) return x->negstep < y->negstep ? -1 : 1;
  if (x->value != y->value) return x->value < y->value ? -1 : 1;   // NAN compares unordered
  return x->idx - y->idx;
}
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static Score score_of(const HpoTrial *t, int idx) {
  Score s = {0, 0, idx};
  if (t->state == HPO_COMPLETE) {
    s.negstep = -INFINITY;
    s.value = isnan(t->value) ? INFINITY : t->value;
  } else if (t->n_inter > 0) {
    s.negstep = -trial_last_step(t);
    s.value = isnan(t->inter[t->n_inter - 1]) ? INFINITY : t->inter[t->n_inter - 1];
  } else {
    s.negstep = INFINITY;
  }
  return s;
}

static double tpe_param(const HpoSampler *cfg, const HpoParam *p, int pi, const HpoTrial *tr,
                        const int *below, int nb, const int *above, int na, Rng *rng) {
  double *ob = malloc((size_t)(nb + 1) * sizeof *ob), *oa = malloc((size_t)(na + 1) * sizeof *oa);
  int kb = 0, ka = 0;
  for (int i = 0; i < nb; i++)
    if (!isnan(tr[below[i]].params[pi])) ob[kb++] = tr[below[i]].params[pi];
  for (int i = 0; i < na; i++)
    if (!isnan(tr[above[i]].params[pi])) oa[ka++] = tr[above[i]].params[pi];
  Parzen l, g;
  parzen_build(&l, p, ob, kb, cfg);
  parzen_build(&g, p, oa, ka, cfg);
  double best = NAN, best_score = -INFINITY;
  for (int c = 0; c < cfg->n_ei_candidates; c++) {
    double x = parzen_sample(&l, rng);
    double s = parzen_log_pdf(&l, x) - parzen_log_pdf(&g, x);
    if (isnan(best) || s > best_score) best = x, best_score = s;
  }
  parzen_free(&l), parzen_free(&g);
  free(ob), free(oa);
  return best;
}

void sampler_sample(const HpoSampler *cfg, const HpoSpace *space, const HpoTrial *trials,
                    int n_trials, Rng *rng, double *out) {
  int *fin = malloc((size_t)(n_trials + 1) * sizeof *fin), n = 0;
  for (int i = 0; i < n_trials; i++)
    if (trials[i].state == HPO_COMPLETE || trials[i].state == HPO_PRUNED) fin[n++] = i;
  if (cfg->kind == HPO_SAMPLER_RANDOM || n < cfg->n_startup_trials) {
    for (int i = 0; i < space->n; i++) out[i] = sampler_random_param(&space->p[i], rng);
    free(fin);
    return;
  }
  Score *sc = malloc((size_t)n * sizeof *sc);
  for (int i = 0; i < n; i++) sc[i] = score_of(&trials[fin[i]], fin[i]);
  qsort(sc, (size_t)n, sizeof *sc, cmp_score);
  int nb = tpe_gamma(n), na = n - nb;
  int *below = malloc((size_t)(nb + 1) * sizeof *below), *above = malloc((size_t)(na + 1) * sizeof *above);
  for (int i = 0; i < nb; i++) below[i] = sc[i].idx;
  for (int i = 0; i < na; i++) above[i] = sc[nb + i].idx;
  // Trials are passed in number order, so sorting indices is chronological.
  qsort(below, (size_t)nb, sizeof *below, cmp_int);
  qsort(above, (size_t)na, sizeof *above, cmp_int);
  for (int i = 0; i < space->n; i++)
    out[i] = tpe_param(cfg, &space->p[i], i, trials, below, nb, above, na, rng);
  free(sc), free(below), free(above), free(fin);
}
