// pruner.c — when to stop a trial early: Optuna's MedianPruner,
// SuccessiveHalvingPruner and HyperbandPruner (optuna/pruners/), with
// their defaults.  Steps are the trial's epochs (1, 2, ...), as reported.
//
// Median (= PercentilePruner(50)): the median stopping rule of Golovin et
// al., "Google Vizier", KDD 2017, section 3.2.2.
//  - no pruning until n_startup_trials (5) trials are COMPLETE (pruned and
//    failed trials do not count), nor before step n_warmup_steps (0);
//  - at the trial's last reported step s, it is pruned if its best
//    intermediate value so far (the minimum over all its steps) is worse
//    than the median of the values that COMPLETE trials reported at exactly
//    step s (linear-interpolated percentile as numpy's nanpercentile); no
//    COMPLETE trial reported step s: not pruned; a NAN best value: pruned.
//  interval_steps is 1 (every epoch is checked) and n_min_trials 1.
//
// Successive halving, asynchronous (ASHA: Li et al., "A System for
// Massively Parallel Hyperparameter Tuning", MLSys 2020): rung r is reached
// at step min_resource * eta^(min_early_stopping_rate + r).  A trial
// reaching a rung records its value there (the value at that step, not its
// best) and goes on only if that value is among the best 1/eta of all the
// values recorded at the rung so far, its own included (any trial state,
// running ones too); with fewer than eta values, only if it is the best.
// min_resource "auto" (0): max(last step // 100, 1) of the first COMPLETE
// trial; until one exists nothing is pruned.
//
// Optuna keeps each trial's rung values as system attributes; here they
// are derived from the stored intermediate values, which gives the same
// values because every epoch is judged as it lands: rung r's value is the
// value at the trial's first step >= the rung's step, and a trial has one
// there only if it went on from every lower rung (was promoted).  With
// "auto", Optuna records no rung for trials that ended before the first
// COMPLETE one (the pruner did not know min_resource yet): so here.  (Trials
// running at that moment on other workers record their next value for the
// rungs they had passed; here they keep the values of their first step
// past each rung — the one difference, only with several workers.)
//
// Hyperband (Li et al., "Hyperband", JMLR 18, 2018), as Optuna: n brackets
// = floor(log_eta(max_resource / min_resource)) + 1, bracket k a successive
// halving with min_early_stopping_rate k, over the trials of that bracket
// only; trial `number` goes to bracket by crc32("STUDY_NUMBER") modulo the
// sum of the brackets' budgets ceil(n eta^s / (s + 1)), s = n - 1 - k.
// max_resource "auto" (0): the first COMPLETE trial's last step + 1.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

void pruner_default_kind(HpoPruner *p, HpoPrunerKind kind) {
  *p = (HpoPruner){.kind = kind, .n_startup_trials = 5, .n_warmup_steps = 0, .percentile = 50,
                   .min_resource = 0, .max_resource = 0, .reduction_factor = 4,
                   .min_early_stopping_rate = 0, .bootstrap_count = 0, .study_name = ""};
  if (kind == HPO_PRUNER_HYPERBAND) p->min_resource = 1, p->reduction_factor = 3;
}

void pruner_default(HpoPruner *p) { pruner_default_kind(p, HPO_PRUNER_MEDIAN); }

static const char *kind_names[] = {"none", "median", "sha", "hyperband"};

const char *pruner_kind_name(HpoPrunerKind kind) { return kind_names[kind]; }

int pruner_kind_parse(const char *s) {
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, kind_names[i])) return i;
  return -1;
}

uint32_t pruner_crc32(const char *s) {
  uint32_t c = 0xffffffffu;
  for (; *s; s++) {
    c ^= (unsigned char)*s;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// ---- median

static int median_prune(const HpoPruner *p, const HpoTrial *trials, int n, const HpoTrial *t) {
  int n_complete = 0;
  for (int i = 0; i < n; i++) n_complete += trials[i].state == HPO_COMPLETE;
  if (n_complete == 0 || n_complete < p->n_startup_trials) return 0;
  int step = trial_last_step(t);
  if (step < 0 || step < p->n_warmup_steps) return 0;
  double best = NAN;
  for (int i = 0; i < t->n_inter; i++)
    if (!isnan(t->inter[i]) && (isnan(best) || t->inter[i] < best)) best = t->inter[i];
  if (isnan(best)) return 1;
  double *v = malloc((size_t)n * sizeof *v);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (trials[i].state != HPO_COMPLETE) continue;
    for (int j = 0; j < trials[i].n_inter; j++)
      if (trials[i].steps[j] == step && !isnan(trials[i].inter[j])) v[k++] = trials[i].inter[j];
  }
  int prune = 0;
  if (k > 0) {
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    double pos = p->percentile / 100.0 * (k - 1);
    int lo = (int)floor(pos), hi = (int)ceil(pos);
    double q = v[lo] + (v[hi] - v[lo]) * (pos - lo);
    prune = best > q;
  }
  free(v);
  return prune;
}

// ---- successive halving

// The first COMPLETE trial (earliest finished; ties: all of them): its
// largest last step, or -1 if none has finished yet.  *when: its finish.
static int first_complete_last_step(const HpoTrial *trials, int n, double *when) {
  double first = INFINITY;
  for (int i = 0; i < n; i++)
    if (trials[i].state == HPO_COMPLETE && trial_last_step(&trials[i]) >= 0 && trials[i].finished < first)
      first = trials[i].finished;
  int step = -1;
  for (int i = 0; i < n; i++)
    if (trials[i].state == HPO_COMPLETE && trials[i].finished == first && trial_last_step(&trials[i]) > step)
      step = trial_last_step(&trials[i]);
  if (when) *when = first;
  return step;
}

// Index in t of the first step >= s, or -1.
static int first_step_from(const HpoTrial *t, long s) {
  for (int j = 0; j < t->n_inter; j++)
    if (t->steps[j] >= s) return j;
  return -1;
}

// The rung steps of a successive halving: rung r at min_res * eta^(rate + r).
static long rung_step(int min_res, int eta, int rate, int r) {
  long s = min_res;
  for (int k = 0; k < rate + r && s < (1L << 40); k++) s *= eta;
  return s;
}

// The value trial u recorded at rung r (1), or 0 if it has none: it must
// have reached every rung up to r with a number, and gone on from each
// lower one (a later step, or COMPLETE there).
static int rung_value(const HpoTrial *u, int min_res, int eta, int rate, int r, double *v) {
  int prev = -1;
  for (int q = 0; q <= r; q++) {
    int j = first_step_from(u, rung_step(min_res, eta, rate, q));
    if (j < 0 || isnan(u->inter[j])) return 0;
    // Two rungs at one step (steps skipped): only a trial that went on
    // past that step, or finished COMPLETE, passed the lower one.
    if (j == prev && u->state != HPO_COMPLETE && j == u->n_inter - 1) return 0;
    prev = j;
    *v = u->inter[j];
  }
  return 1;
}

// Optuna's SuccessiveHalvingPruner.prune on `trials` (a Hyperband bracket's
// own, for Hyperband) with min_early_stopping_rate `rate`.  The pruner has
// been judging since time `since` (-INFINITY: from the start); trials that
// ended before then recorded no rung.
static int sha_prune(const HpoPruner *p, int rate, const HpoTrial *trials, int n, const HpoTrial *t,
                     double since) {
  int step = trial_last_step(t);
  if (step < 0) return 0;
  int min_res = p->min_resource;
  if (min_res <= 0) {
    double known;
    int last = first_complete_last_step(trials, n, &known);
    if (last < 0) return 0;
    min_res = last / 100 > 1 ? last / 100 : 1;
    since = fmax(since, known);
  }
  const int eta = p->reduction_factor;
  double value = t->inter[t->n_inter - 1];
  double *comp = malloc(((size_t)n + 1) * sizeof *comp);
  int prune = 0;
  for (int r = 0;; r++) {
    long at = rung_step(min_res, eta, rate, r);
    if (step < at) break;
    int j = first_step_from(t, at);
    if (j < t->n_inter - 1) continue;   // passed this rung at an earlier step
    if (isnan(value)) { prune = 1; break; }
    int k = 0;
    for (int i = 0; i < n; i++) {
      const HpoTrial *u = &trials[i];
      if (u->number == t->number) continue;
      if (u->state != HPO_RUNNING && u->finished <= since) continue;   // judged by nobody
      if (rung_value(u, min_res, eta, rate, r, &comp[k])) k++;
    }
    comp[k++] = value;
    if (k <= p->bootstrap_count) { prune = 1; break; }
    qsort(comp, (size_t)k, sizeof *comp, cmp_double);
    int idx = k / eta - 1;
    if (idx < 0) idx = 0;   // the first eta - 1 trials: promoted only if the best
    if (!(value <= comp[idx])) { prune = 1; break; }
  }
  free(comp);
  return prune;
}

// ---- Hyperband

// *since: when the brackets came to exist (-INFINITY with a given max_resource).
static int hb_max_resource(const HpoPruner *p, const HpoTrial *trials, int n, double *since) {
  if (since) *since = -INFINITY;
  if (p->max_resource > 0) return p->max_resource;
  int last = first_complete_last_step(trials, n, since);
  return last < 0 ? 0 : last + 1;
}

int pruner_brackets(const HpoPruner *p, const HpoTrial *trials, int n, int *budgets) {
  if (p->kind != HPO_PRUNER_HYPERBAND) return 0;
  int max_res = hb_max_resource(p, trials, n, NULL);
  if (max_res <= 0) return 0;
  const int eta = p->reduction_factor;
  // As Python's math.log(x, base): log(x) / log(base), then floor.
  int nb = (int)floor(log((double)max_res / p->min_resource) / log((double)eta)) + 1;
  if (nb < 1) nb = 1;
  if (nb > 32) nb = 32;
  for (int k = 0; k < nb; k++) {
    int s = nb - 1 - k;
    budgets[k] = (int)ceil(nb * pow(eta, s) / (s + 1));
  }
  return nb;
}

static int bracket_of(const HpoPruner *p, const int *budgets, int nb, int number) {
  long total = 0;
  for (int k = 0; k < nb; k++) total += budgets[k];
  char key[160];
  snprintf(key, sizeof key, "%s_%d", p->study_name ? p->study_name : "", number);
  long h = (long)(pruner_crc32(key) % (uint32_t)total);
  for (int k = 0; k < nb; k++)
    if ((h -= budgets[k]) < 0) return k;
  return nb - 1;   // unreachable
}

int pruner_bracket(const HpoPruner *p, const HpoTrial *trials, int n, int number) {
  int budgets[32];
  int nb = pruner_brackets(p, trials, n, budgets);
  return nb ? bracket_of(p, budgets, nb, number) : -1;
}

static int hyperband_prune(const HpoPruner *p, const HpoTrial *trials, int n, const HpoTrial *t) {
  int budgets[32];
  int nb = pruner_brackets(p, trials, n, budgets);
  if (!nb) return 0;
  int b = bracket_of(p, budgets, nb, t->number);
  HpoTrial *mine = malloc(((size_t)n + 1) * sizeof *mine);
  int k = 0;
  for (int i = 0; i < n; i++)
    if (bracket_of(p, budgets, nb, trials[i].number) == b) mine[k++] = trials[i];
  double since;
  hb_max_resource(p, trials, n, &since);
  int prune = sha_prune(p, b, mine, k, t, since);
  free(mine);
  return prune;
}

int pruner_should_prune(const HpoPruner *p, const HpoTrial *trials, int n, const HpoTrial *t) {
  switch (p->kind) {
  case HPO_PRUNER_MEDIAN: return median_prune(p, trials, n, t);
  case HPO_PRUNER_SHA: return sha_prune(p, p->min_early_stopping_rate, trials, n, t, -INFINITY);
  case HPO_PRUNER_HYPERBAND: return hyperband_prune(p, trials, n, t);
  default: return 0;
  }
}
