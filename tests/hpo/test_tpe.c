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

// A trial with values[k] at steps 1..n, in a state, finished at time `at`.
static void trial_with(HpoTrial *t, int number, HpoState state, const double *values, int n,
                       double at) {
  trial_init(t, 0);
  t->number = number;
  t->state = state;
  for (int e = 1; e <= n; e++) trial_add_inter(t, e, values[e - 1]);
  t->value = n ? values[n - 1] : NAN;
  t->finished = state == HPO_RUNNING ? 0 : at;
}

// Successive halving, eta 4, min_resource 1: rungs at steps 1, 4, 16.
static void test_sha(void) {
  HpoPruner p;
  pruner_default_kind(&p, HPO_PRUNER_SHA);
  CHECK(p.reduction_factor == 4 && p.min_resource == 0 && p.bootstrap_count == 0,
        "SHA defaults (Optuna's): eta 4, min_resource auto, bootstrap 0");
  p.min_resource = 1;
  HpoTrial t[10], run;
  // Seven complete trials: value 0.1 k at step 1, 0.1 k - 0.05 at steps 2..10.
  for (int k = 1; k <= 7; k++) {
    double v[10];
    for (int e = 0; e < 10; e++) v[e] = 0.1 * k - (e ? 0.05 : 0);
    trial_with(&t[k - 1], k - 1, HPO_COMPLETE, v, 10, k);
  }
  // The first trial of a study competes with itself: promoted.
  trial_with(&run, 7, HPO_RUNNING, (double[]){9.0}, 1, 0);
  CHECK(pruner_should_prune(&p, t, 0, &run) == 0, "a lone first trial pruned");
  // Step 1, 8 values (7 + its own): the best 8 // 4 = 2 go on.  0.15 is
  // second -> kept; 0.25 is third -> pruned.
  run.inter[0] = 0.15;
  CHECK(pruner_should_prune(&p, t, 7, &run) == 0, "second of 8 at rung 0 pruned");
  run.inter[0] = 0.25;
  CHECK(pruner_should_prune(&p, t, 7, &run) == 1, "third of 8 at rung 0 not pruned");
  // Itself in the list (as netc-search passes it): not its own rival.
  t[7] = run;
  CHECK(pruner_should_prune(&p, t, 8, &run) == 1 && (run.inter[0] = 0.15, pruner_should_prune(&p, t, 8, &run) == 0),
        "the trial counted as its own rival");
  // Between rungs nothing is judged, however bad.
  trial_add_inter(&run, 2, 50.0);
  trial_add_inter(&run, 3, 50.0);
  CHECK(pruner_should_prune(&p, t, 7, &run) == 0, "judged at step 3, not a rung");
  // Rung 1 (step 4) compares the value at step 4, not the best so far:
  // 0.12 < 0.15 at step 1 does not help at 0.5 (others: 0.05 .. 0.65).
  run.inter[0] = 0.12;
  trial_add_inter(&run, 4, 0.5);
  CHECK(pruner_should_prune(&p, t, 7, &run) == 1, "rung 1 judged on the best value, not the current");
  run.inter[3] = 0.1;   // second of 8 at rung 1 -> kept
  CHECK(pruner_should_prune(&p, t, 7, &run) == 0, "second of 8 at rung 1 pruned");
  // A NaN at a rung: pruned.
  run.inter[3] = NAN;
  CHECK(pruner_should_prune(&p, t, 7, &run) == 1, "NaN at a rung kept");
  free(run.steps), free(run.inter);

  // Who competes at rung 1: trials that reached step 4, whatever their
  // state; a trial pruned at step 1 has a rung 0 value only.  Three trials
  // pruned at step 1 with 0.01 make the new trial's 0.2 lose at rung 0
  // (11 values: best 2 go on) but not at rung 1.
  for (int k = 0; k < 3; k++) trial_with(&t[7 + k], 7 + k, HPO_PRUNED, (double[]){0.01}, 1, 10 + k);
  trial_with(&run, 10, HPO_RUNNING, (double[]){0.2}, 1, 0);
  CHECK(pruner_should_prune(&p, t, 10, &run) == 1, "0.2, 5th of 11 at rung 0, kept");
  run.inter[0] = 0.01;
  trial_add_inter(&run, 2, 0.2), trial_add_inter(&run, 3, 0.2), trial_add_inter(&run, 4, 0.1);
  CHECK(pruner_should_prune(&p, t, 10, &run) == 0, "rung 1 counted trials pruned at rung 0");
  // A running rival at step 4 with 0.0 counts too: 0.1 is now 3rd of 9
  // (best 9 // 4 = 2 go on) -> pruned.
  double rv[4] = {0.0, 0.0, 0.0, 0.0};
  free(t[9].steps), free(t[9].inter);
  trial_with(&t[9], 9, HPO_RUNNING, rv, 4, 0);
  CHECK(pruner_should_prune(&p, t, 10, &run) == 1, "a running rival at rung 1 ignored");
  // bootstrap_count: pruned while the rung holds no more values than it
  // (its own included).  Rung 1 holds 7 + 1 = 8 values.
  free(t[9].steps), free(t[9].inter);
  trial_with(&t[9], 9, HPO_PRUNED, (double[]){0.01}, 1, 20);
  p.bootstrap_count = 7;
  CHECK(pruner_should_prune(&p, t, 10, &run) == 0, "bootstrap 7 with 8 values at rung 1 pruned");
  p.bootstrap_count = 8;
  CHECK(pruner_should_prune(&p, t, 10, &run) == 1, "bootstrap 8 with 8 values not pruned");
  p.bootstrap_count = 0;
  free(run.steps), free(run.inter);

  // min_resource "auto": nothing until a trial is COMPLETE; then
  // max(last step // 100, 1) of the first one to finish; trials that ended
  // before that were judged by nobody and hold no rung value.
  p.min_resource = 0;
  HpoTrial a[3];
  trial_with(&a[0], 0, HPO_PRUNED, (double[]){0.01}, 1, 5);       // before the first COMPLETE
  trial_with(&a[1], 1, HPO_COMPLETE, (double[]){0.02, 0.02}, 2, 6);
  trial_with(&run, 2, HPO_RUNNING, (double[]){0.5}, 1, 0);
  CHECK(pruner_should_prune(&p, a, 1, &run) == 0, "pruned before any trial completed");
  CHECK(pruner_should_prune(&p, a, 2, &run) == 0, "auto: trials ended before min_resource was known compete");
  p.min_resource = 1;   // given: the pruner judged from the start, 0.5 loses to 0.01 and 0.02
  CHECK(pruner_should_prune(&p, a, 2, &run) == 1, "min_resource 1: 0.5 kept against 0.01, 0.02");
  // A later trial (finished after the first COMPLETE) counts with auto.
  p.min_resource = 0;
  a[0].finished = 7;
  CHECK(pruner_should_prune(&p, a, 2, &run) == 1, "auto: a trial ended after the first COMPLETE ignored");
  // The first COMPLETE ran 250 steps: min_resource 2, so step 1 is no rung.
  double v250[250];
  for (int e = 0; e < 250; e++) v250[e] = 0.001;
  free(a[1].steps), free(a[1].inter);
  trial_with(&a[1], 1, HPO_COMPLETE, v250, 250, 6);
  // (a[2], running, holds 0.01 at step 2; a[1] finished first: no rung value.)
  trial_with(&a[2], 3, HPO_RUNNING, (double[]){0.01, 0.01}, 2, 0);
  CHECK(pruner_should_prune(&p, a, 3, &run) == 0, "auto min_resource 250 // 100 = 2: judged at step 1");
  trial_add_inter(&run, 2, 0.5);
  CHECK(pruner_should_prune(&p, a, 3, &run) == 1, "auto min_resource 2: step 2 not judged");
  free(run.steps), free(run.inter);
  for (int i = 0; i < 3; i++) free(a[i].steps), free(a[i].inter);
  for (int i = 0; i < 10; i++) free(t[i].steps), free(t[i].inter);
}

static void test_hyperband(void) {
  CHECK(pruner_crc32("123456789") == 0xcbf43926u, "crc32 check value %08x", pruner_crc32("123456789"));
  HpoPruner p;
  pruner_default_kind(&p, HPO_PRUNER_HYPERBAND);
  CHECK(p.reduction_factor == 3 && p.min_resource == 1 && p.max_resource == 0,
        "Hyperband defaults (Optuna's): eta 3, min_resource 1, max_resource auto");
  p.study_name = "autoencoder";
  int b[32];
  HpoTrial t[30], run;
  CHECK(pruner_brackets(&p, t, 0, b) == 0 && pruner_bracket(&p, t, 0, 5) == -1,
        "brackets before max_resource is known");
  // The first COMPLETE trial ran 10 steps: max_resource 11, floor(log3 11) + 1
  // = 3 brackets with budgets ceil(3 * 3^s / (s + 1)) = 9, 5, 3.
  double v10[10];
  for (int e = 0; e < 10; e++) v10[e] = 0.5;
  trial_with(&t[0], 0, HPO_COMPLETE, v10, 10, 1);
  int nb = pruner_brackets(&p, t, 1, b);
  CHECK(nb == 3 && b[0] == 9 && b[1] == 5 && b[2] == 3, "brackets %d: %d %d %d", nb, b[0], b[1], b[2]);
  p.max_resource = 27;   // log3 27 = 3: 4 brackets, 27 12 6 4
  nb = pruner_brackets(&p, t, 1, b);
  CHECK(nb == 4 && b[0] == 27 && b[1] == 12 && b[2] == 6 && b[3] == 4, "27: %d brackets", nb);
  p.max_resource = 0;
  // Brackets of trials 0..29 of study "autoencoder": crc32("autoencoder_N")
  // % 17 against the budgets, as Python's binascii.crc32 gives them.
  static const int want[30] = {2, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                               1, 0, 2, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1};
  int same = 1;
  for (int k = 0; k < 30; k++) same &= pruner_bracket(&p, t, 1, k) == want[k];
  CHECK(same, "bracket ids differ from Optuna's");
  free(t[0].steps), free(t[0].inter);

  // Bracket 2 (trials 0, 17, 31, ...): a successive halving with rate 2,
  // rungs at 9, 27: steps 1..8 are never judged.  Bracket 0 (2..7, ...):
  // rungs 1, 3, 9.  Trial 0 completes first (max_resource 11; it ended
  // before the brackets existed: no rung values); trials 2..7 (bracket 0)
  // hold 0.1 .. 0.6 at every step, trial 1 (bracket 1) 0.0, trial 31
  // (bracket 2) 0.5.
  trial_with(&t[0], 0, HPO_COMPLETE, v10, 10, 1);
  for (int k = 2; k <= 7; k++) {
    double v[10];
    for (int e = 0; e < 10; e++) v[e] = 0.1 * (k - 1);
    trial_with(&t[k - 1], k, HPO_COMPLETE, v, 10, k);
  }
  double z[10] = {0};
  trial_with(&t[7], 1, HPO_COMPLETE, z, 10, 8);
  trial_with(&t[8], 31, HPO_COMPLETE, v10, 10, 9);
  // Trial 17 (bracket 2) at step 1 with 9.0: no rung, kept; at step 9 it
  // meets trial 31 only (0.5): 2 values, the best goes on.
  trial_with(&run, 17, HPO_RUNNING, (double[]){9.0}, 1, 0);
  CHECK(pruner_should_prune(&p, t, 9, &run) == 0, "bracket 2 judged at step 1");
  for (int e = 2; e <= 9; e++) trial_add_inter(&run, e, e < 9 ? 9.0 : 0.4);
  CHECK(pruner_should_prune(&p, t, 9, &run) == 0, "bracket 2: 0.4 < 0.5 at step 9 pruned");
  run.inter[8] = 0.6;
  CHECK(pruner_should_prune(&p, t, 9, &run) == 1, "bracket 2: 0.6 > 0.5 at step 9 kept");
  CHECK(pruner_should_prune(&p, t, 8, &run) == 0, "bracket 2: trial 0 (ended before the brackets) competed");
  free(run.steps), free(run.inter);
  // Trial 9 (bracket 0) at step 1 with 0.15: rivals 0.1 .. 0.6 of bracket 0
  // (trial 1's 0.0 is in bracket 1, trial 0 ended before the brackets
  // existed): 7 values, 7 // 3 = 2 go on: 0.15 is second -> kept; 0.25 third
  // -> pruned.
  trial_with(&run, 9, HPO_RUNNING, (double[]){0.15}, 1, 0);
  CHECK(pruner_should_prune(&p, t, 9, &run) == 0, "bracket 0: second of 7 pruned (other brackets counted?)");
  run.inter[0] = 0.25;
  CHECK(pruner_should_prune(&p, t, 9, &run) == 1, "bracket 0: third of 7 kept");
  free(run.steps), free(run.inter);
  for (int i = 0; i < 9; i++) free(t[i].steps), free(t[i].inter);
}

int main(void) {
  test_space();
  test_weights_gamma();
  test_parzen_normalised();
  test_tpe_beats_random();
  test_pruner();
  test_sha();
  test_hyperband();
  printf("%s\n", t_failures ? "FAILED" : "all hpo sampler/pruner checks passed");
  return t_failures != 0;
}
