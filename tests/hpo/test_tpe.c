// test_tpe.c — the samplers and the pruner without storage: Parzen
// estimators are normalised, Optuna's weights and gamma, TPE beats random
// search on the synthetic mixed-space objective, and the median pruner
// stops the trial it should and keeps the ones it should.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_objective.h"
#include "../check.h"
#include "hpo.h"


#define SPACE \
  "weight_decay=float:1e-6:1e-2:log;optimizer=cat:adam,sgd;lr=float:1e-4:1e-1:log;latent=int:2:16"

static void test_space(void) {
  HpoSpace s, s2;
  char err[256], a[1024], b[1024];
  CHECK(space_parse(&s, SPACE, err, sizeof err) == 0, "%s", err);
  space_format(&s, a, sizeof a);
  CHECK(space_parse(&s2, a, err, sizeof err) == 0, "%s", err);
  space_format(&s2, b, sizeof b);
  CHECK(strcmp(a, b) == 0 && s.n == 4, "round trip: %s vs %s", a, b);
  CHECK(space_parse(&s2, "x=float:0:1:log", err, sizeof err) != 0, "log with low 0 accepted");
  CHECK(space_parse(&s2, "x=int:1:5;x=int:1:5", err, sizeof err) != 0, "duplicate accepted");
}

static void test_weights_gamma(void) {
  CHECK(tpe_gamma(10) == 1 && tpe_gamma(11) == 2 && tpe_gamma(100) == 10 && tpe_gamma(1000) == 25,
        "gamma");
  double w[40];
  tpe_default_weights(40, w);   // ramp linspace(1/40, 1, 15), then 25 ones
  CHECK(fabs(w[0] - 1.0 / 40) < 1e-15 && fabs(w[14] - 1) < 1e-15 && w[15] == 1 && w[39] == 1,
        "weights %g %g", w[0], w[14]);
  CHECK(fabs(w[7] - (1.0 / 40 + (1 - 1.0 / 40) * 7 / 14)) < 1e-15, "ramp %g", w[7]);
}

// Every Parzen estimator is a probability distribution on its domain: the
// mass of an int or categorical one sums to 1, the density of a float one
// integrates to 1 (over log x for log parameters).
static void test_parzen_normalised(void) {
  HpoSpace s;
  char err[256];
  space_parse(&s, SPACE ";step=float:0:1:step=0.25", err, sizeof err);
  HpoSampler cfg;
  sampler_default(&cfg, HPO_SAMPLER_TPE);
  double obs[4][6] = {{1e-5, 3e-3, 2e-4, 1e-6, 5e-3, 1e-2}, {0, 1, 1, 0, 0, 0},
                      {1e-3, 2e-2, 1e-4, 5e-2, 3e-3, 1e-3}, {2, 16, 8, 9, 9, 3}};
  double obs_step[6] = {0, 0.25, 1, 0.5, 0.5, 0.75};
  double worst = 0;
  for (int k = 0; k < 5; k++) {
    for (int nobs = 0; nobs <= 6; nobs += 3) {
      Parzen pe;
      parzen_build(&pe, &s.p[k], k < 4 ? obs[k] : obs_step, nobs, &cfg);
      const HpoParam *p = &s.p[k];
      double total = 0;
      if (p->kind == HPO_CAT) {
        for (int c = 0; c < p->n_choices; c++) total += exp(parzen_log_pdf(&pe, c));
      } else if (p->step > 0) {
        for (double x = p->low; x <= p->high + 1e-9; x += p->step) total += exp(parzen_log_pdf(&pe, x));
      } else {   // midpoint rule in the transformed variable
        int m = 200000;
        double lo = p->log ? log(p->low) : p->low, hi = p->log ? log(p->high) : p->high;
        for (int i = 0; i < m; i++) {
          double u = lo + (i + 0.5) * (hi - lo) / m;
          total += exp(parzen_log_pdf(&pe, p->log ? exp(u) : u)) * (hi - lo) / m;
        }
      }
      worst = fmax(worst, fabs(total - 1));
      CHECK(fabs(total - 1) < 1e-6, "%s with %d observations: total mass %.9f", p->name, nobs, total);
      Rng rng = rng_stream(1, (uint64_t)k);
      for (int i = 0; i < 200; i++) {   // samples stay on the domain
        double x = parzen_sample(&pe, &rng);
        CHECK(x == space_snap(p, x), "%s: sample %g off the domain", p->name, x);
      }
      parzen_free(&pe);
    }
  }
  printf("parzen: largest |mass - 1| = %.3g\n", worst);
}

// Best value after n trials of one sampler on the synthetic objective.
static double run_search(HpoSamplerKind kind, uint64_t seed, int n_trials, const HpoSpace *s) {
  HpoSampler cfg;
  sampler_default(&cfg, kind);
  HpoTrial *t = calloc((size_t)n_trials, sizeof *t);
  double best = INFINITY;
  for (int i = 0; i < n_trials; i++) {
    trial_init(&t[i], s->n);
    t[i].number = i;
    Rng rng = rng_stream(seed, (uint64_t)i);
    sampler_sample(&cfg, s, t, i, &rng, t[i].params);
    const double *p = t[i].params;   // weight_decay, optimizer, lr, latent
    t[i].value = fake_objective(p[2], p[0], p[1] == 1, (int)p[3]);
    t[i].state = HPO_COMPLETE;
    best = fmin(best, t[i].value);
  }
  trials_free(t, n_trials);
  return best;
}

// TPE must reach a lower regret (best - optimum 0.05) than random search:
// averaged over 20 seeds of 50 trials, at most 60% of random's regret.
static void test_tpe_beats_random(void) {
  HpoSpace s;
  char err[256];
  space_parse(&s, SPACE, err, sizeof err);
  int seeds = 20, n = 50;
  double rt = 0, rr = 0;
  for (int k = 0; k < seeds; k++) {
    rt += run_search(HPO_SAMPLER_TPE, 1000 + k, n, &s) - 0.05;
    rr += run_search(HPO_SAMPLER_RANDOM, 1000 + k, n, &s) - 0.05;
  }
  rt /= seeds, rr /= seeds;
  printf("tpe vs random, %d seeds x %d trials: mean regret %.5f vs %.5f (ratio %.3f, must be < 0.6)\n",
         seeds, n, rt, rr, rt / rr);
  CHECK(rt < 0.6 * rr, "TPE regret %.5f not below 0.6 x random %.5f", rt, rr);
  // Reproducible: the same seed gives the same search.
  double a = run_search(HPO_SAMPLER_TPE, 7, 30, &s), b = run_search(HPO_SAMPLER_TPE, 7, 30, &s);
  CHECK(a == b, "TPE not reproducible: %.17g vs %.17g", a, b);
}

// Completed trial with curve value(e) = base + 1/e for e = 1..epochs.
static void complete(HpoTrial *t, int number, double base, int epochs) {
  trial_init(t, 0);
  t->number = number;
  t->state = HPO_COMPLETE;
  for (int e = 1; e <= epochs; e++) trial_add_inter(t, e, base + 1.0 / e);
  t->value = base + 1.0 / epochs;
}

static void test_pruner(void) {
  HpoPruner p;
  pruner_default(&p);
  HpoTrial t[6];
  for (int i = 0; i < 5; i++) complete(&t[i], i, 0.1 * i, 5);   // medians: 0.2 + 1/e
  HpoTrial run;
  trial_init(&run, 0);
  run.state = HPO_RUNNING;
  // Step 1: 0.5 + 1 = 1.5 > median 1.2 -> pruned.
  trial_add_inter(&run, 1, 1.5);
  CHECK(pruner_should_prune(&p, t, 5, &run) == 1, "worse than the median: not pruned");
  // Only 4 complete trials: start-up, never pruned.
  CHECK(pruner_should_prune(&p, t, 4, &run) == 0, "pruned during start-up");
  // A pruned 5th trial does not count as complete either.
  t[4].state = HPO_PRUNED;
  CHECK(pruner_should_prune(&p, t, 5, &run) == 0, "pruned trial counted for start-up");
  t[4].state = HPO_COMPLETE;
  free(run.steps), free(run.inter);
  // A good trial: 0.15 + 1/e is below the median 0.2 + 1/e -> kept.
  trial_init(&run, 0);
  for (int e = 1; e <= 3; e++) {
    trial_add_inter(&run, e, 0.15 + 1.0 / e);
    CHECK(pruner_should_prune(&p, t, 5, &run) == 0, "good trial pruned at epoch %d", e);
  }
  // Optuna compares the trial's best value so far: a dip to 0.40 at step 3,
  // then 2.0 at step 4, worse than the median 0.45 there; its best (0.40)
  // is below it -> kept (comparing the current value would prune).
  run.inter[2] = 0.40;
  trial_add_inter(&run, 4, 2.0);
  CHECK(pruner_should_prune(&p, t, 5, &run) == 0, "best-so-far rule not applied");
  run.inter[2] = 0.46;   // best 0.46 > 0.45 -> pruned
  CHECK(pruner_should_prune(&p, t, 5, &run) == 1, "best 0.46 > median 0.45 not pruned");
  // A step no complete trial reached: nothing to compare, kept.
  trial_add_inter(&run, 9, 5.0);
  CHECK(pruner_should_prune(&p, t, 5, &run) == 0, "pruned at an unseen step");
  // Even median (4 values: interpolated): values 0.0,0.1,0.2,0.3 + 1 ->
  // median 1.15; 1.16 is pruned, 1.14 is kept.
  free(run.steps), free(run.inter);
  complete(&t[5], 5, 0.0, 5);
  t[4].state = HPO_FAIL;
  HpoTrial tt[5] = {t[0], t[1], t[2], t[3], t[5]};
  tt[4].steps = NULL, tt[4].n_inter = 0;   // complete but no intermediate values
  trial_init(&run, 0);
  trial_add_inter(&run, 1, 1.16);
  CHECK(pruner_should_prune(&p, tt, 5, &run) == 1, "1.16 > median 1.15 not pruned");
  run.inter[0] = 1.14;
  CHECK(pruner_should_prune(&p, tt, 5, &run) == 0, "1.14 < median 1.15 pruned");
  free(run.steps), free(run.inter);
  for (int i = 0; i < 6; i++) free(t[i].steps), free(t[i].inter);
}

int main(void) {
  test_space();
  test_weights_gamma();
  test_parzen_normalised();
  test_tpe_beats_random();
  test_pruner();
  printf("%s\n", t_failures ? "FAILED" : "all hpo sampler/pruner checks passed");
  return t_failures != 0;
}
