// pruner.c — the median stopping rule, as Optuna's MedianPruner
// (= PercentilePruner(50), optuna/pruners/_percentile.py):
//  - no pruning until n_startup_trials (5) trials are COMPLETE (pruned and
//    failed trials do not count), nor before step n_warmup_steps (0);
//  - at the trial's last reported step s, it is pruned if its best
//    intermediate value so far (the minimum over all its steps) is worse
//    than the median of the values that COMPLETE trials reported at exactly
//    step s (linear-interpolated percentile as numpy's nanpercentile); no
//    COMPLETE trial reported step s: not pruned; a NAN best value: pruned.
// interval_steps is 1 (every epoch is checked) and n_min_trials 1.
// Golovin et al. (2017), "Google Vizier", KDD, section 3.2.2.
#include <math.h>
#include <stdlib.h>

#include "hpo.h"

void pruner_default(HpoPruner *p) {
  p->n_startup_trials = 5;
  p->n_warmup_steps = 0;
  p->percentile = 50;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int pruner_should_prune(const HpoPruner *p, const HpoTrial *trials, int n, const HpoTrial *t) {
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
