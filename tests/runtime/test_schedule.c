// test_schedule.c — the learning-rate schedules against torch.optim.
// lr_scheduler (fixtures/schedule_*.txt from make_fixtures.py): every rate
// of every epoch (or step, for OneCycle, with its momentum) must equal
// torch's exactly, since the same double operations are replayed.
#include <math.h>

#include "schedule.h"
#include "testutil.h"

static const char *CASES[] = {
  "step", "multistep", "exponential", "cosine", "cosine_epochs", "warmup_cosine", "warmup_step",
  "warmup_only", "onecycle_adam", "onecycle_sgd", "plateau", "plateau_cooldown_min", NULL};

static void run_case(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/schedule_%s.txt", dir, name);
  double cfg[13], ms[SCHED_MAX_MILESTONES], lr[256], mom[256];
  int nc = fixture_doubles(path, "config", cfg, 13);
  int nm = fixture_doubles(path, "milestones", ms, SCHED_MAX_MILESTONES);
  int n = fixture_doubles(path, "lr", lr, 256);
  CHECK(nc == 13 && nm >= 0 && n > 0, "%s: fixture unreadable", path);
  if (nc != 13 || nm < 0 || n <= 0)
    return;
  SchedConfig c = schedule_config_default();
  c.kind = (int)cfg[0];
  c.step_size = (int)cfg[1];
  c.gamma = cfg[2];
  c.t_max = (int)cfg[3];
  c.eta_min = cfg[4];
  c.pct_start = cfg[5];
  c.div_factor = cfg[6];
  c.final_div_factor = cfg[7];
  c.warmup = (int)cfg[8];
  c.warmup_factor = cfg[9];
  c.n_milestones = nm;
  for (int i = 0; i < nm; i++)
    c.milestones[i] = (int)ms[i];
  const double base = cfg[10];
  const int count = (int)cfg[12];
  CHECK(n == count, "%s: %d rates for %d epochs or steps", name, n, count);
  CHECK(schedule_check(&c, count) == NULL, "%s: %s", name, schedule_check(&c, count));
  int has_mom = c.kind == SCHED_ONECYCLE;
  if (has_mom)
    CHECK(fixture_doubles(path, "momentum", mom, 256) == n, "%s: no momentum record", name);
  double pl[5], metric[256];
  Plateau state;
  if (c.kind == SCHED_PLATEAU) {
    CHECK(fixture_doubles(path, "plateau", pl, 5) == 5 && fixture_doubles(path, "metric", metric, 256) == n,
          "%s: no plateau or metric record", name);
    c.factor = pl[0];
    c.patience = (int)pl[1];
    c.threshold = pl[2];
    c.cooldown = (int)pl[3];
    c.min_lr = pl[4];
    schedule_plateau_init(&state, base);
  }
  double worst = 0;
  for (int k = 0; k < n; k++) {
    double got, m = 0;
    if (has_mom) {
      schedule_onecycle(&c, base, k, count, &got, &m);
    } else if (c.kind == SCHED_PLATEAU) {
      got = state.lr;                      // the epoch's rate, then its loss
      schedule_plateau_step(&c, &state, metric[k]);
    } else {
      got = schedule_epoch_lr(&c, base, k, count);
    }
    double d = fabs(got - lr[k]) / fmax(fabs(lr[k]), 1e-300);
    if (has_mom)
      d = fmax(d, fabs(m - mom[k]) / mom[k]);
    worst = fmax(worst, d);
    CHECK(got == lr[k], "%s: %s %d: lr %.17g, torch %.17g", name, has_mom ? "step" : "epoch", k, got,
          lr[k]);
    if (has_mom)
      CHECK(m == mom[k], "%s: step %d: momentum %.17g, torch %.17g", name, k, m, mom[k]);
  }
  printf("schedule %-14s %3d %s  max rel diff vs torch %.3g\n", name, n, has_mom ? "steps " : "epochs",
         worst);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "fixtures";
  for (int i = 0; CASES[i]; i++)
    run_case(dir, CASES[i]);
  // No schedule: the rate is --lr in every epoch.
  SchedConfig none = schedule_config_default();
  CHECK(schedule_epoch_lr(&none, 0.001, 7, 10) == 0.001, "no schedule keeps the rate");
  return t_finish("test_schedule");
}
