// schedule.c — learning-rate schedules (see schedule.h).
//
// Each recursive rule below is torch 1.13's get_lr() (torch/optim/
// lr_scheduler.py) with the same operations in the same order, in double
// as Python computes them; `last_epoch` there is `e` here.
#include <math.h>

#include "schedule.h"

SchedConfig schedule_config_default(void) {
  SchedConfig c = {0};
  c.kind = SCHED_NONE;
  c.gamma = 0.1;
  c.pct_start = 0.3;
  c.div_factor = 25;
  c.final_div_factor = 1e4;
  c.warmup_factor = 1.0 / 3;
  c.factor = 0.1;
  c.patience = 10;
  c.threshold = 1e-4;
  return c;
}

const char *schedule_check(const SchedConfig *c, int epochs) {
  if (c->kind == SCHED_STEP && c->step_size < 1)
    return "--schedule step needs --step-size N >= 1";
  if (c->kind == SCHED_MULTISTEP && c->n_milestones < 1)
    return "--schedule multistep needs --milestones E1,E2,...";
  for (int i = 1; i < c->n_milestones; i++)
    if (c->milestones[i] < c->milestones[i - 1])
      return "--milestones must be in ascending order";
  if (c->kind == SCHED_ONECYCLE && c->warmup > 0)
    return "--warmup does not chain with --schedule onecycle (its first phase is a warm-up)";
  if (c->kind == SCHED_ONECYCLE && !(c->pct_start > 0 && c->pct_start < 1))
    return "--pct-start must be in (0, 1)";
  if (c->kind == SCHED_ONECYCLE && !(c->div_factor > 0 && c->final_div_factor > 0))
    return "--div-factor and --final-div-factor must be > 0";
  if (c->kind == SCHED_PLATEAU && c->warmup > 0)
    return "--warmup does not chain with --schedule plateau (torch cannot chain it either)";
  if (c->kind == SCHED_PLATEAU && !(c->factor < 1))
    return "--factor must be below 1";
  if (c->warmup > 0 && !(c->warmup_factor > 0 && c->warmup_factor <= 1))
    return "--warmup-factor must be in (0, 1]";
  (void)epochs;
  return NULL;
}

// LinearLR(start_factor s, end_factor 1, total_iters n).get_lr at epoch e.
static double linear_step(double lr, int e, double s, int n) {
  if (e == 0)
    return lr * s;
  if (e > n)
    return lr;
  return lr * (1.0 + (1.0 - s) / (n * s + (e - 1) * (1.0 - s)));
}

// The main schedule's get_lr at epoch e; base is torch's initial_lr.
static double main_step(const SchedConfig *c, double lr, double base, int e, int t_max) {
  switch (c->kind) {
  case SCHED_STEP:
    return e == 0 || e % c->step_size != 0 ? lr : lr * c->gamma;
  case SCHED_MULTISTEP: {
    int count = 0;                          // a Counter: repeated milestones count twice
    for (int i = 0; i < c->n_milestones; i++)
      count += c->milestones[i] == e;
    return count == 0 ? lr : lr * pow(c->gamma, count);
  }
  case SCHED_EXPONENTIAL:
    return e == 0 ? lr : lr * c->gamma;
  case SCHED_COSINE:
    if (e == 0)
      return lr;
    if ((e - 1 - t_max) % (2 * t_max) == 0)
      return lr + (base - c->eta_min) * (1 - cos(M_PI / t_max)) / 2;
    return (1 + cos(M_PI * e / t_max)) / (1 + cos(M_PI * (e - 1) / t_max)) * (lr - c->eta_min) +
           c->eta_min;
  default:
    return lr;
  }
}

double schedule_epoch_lr(const SchedConfig *c, double lr, int epoch, int epochs) {
  if (c->kind == SCHED_ONECYCLE || c->kind == SCHED_PLATEAU || (c->kind == SCHED_NONE && c->warmup == 0))
    return lr;
  const double base = lr;
  const int t_max = c->t_max > 0 ? c->t_max : epochs;
  // The schedulers' constructors take step 0, then one step per epoch:
  // the warm-up first, then the main schedule, on the same lr.
  for (int e = 0; e <= epoch; e++) {
    if (c->warmup > 0)
      lr = linear_step(lr, e, c->warmup_factor, c->warmup);
    lr = main_step(c, lr, base, e, t_max);
  }
  return lr;
}

void schedule_plateau_init(Plateau *p, double lr) {
  p->lr = lr;
  p->best = INFINITY;
  p->bad_epochs = p->cooldown = 0;
}

// ReduceLROnPlateau.step with mode 'min', threshold_mode 'rel', eps 1e-8.
void schedule_plateau_step(const SchedConfig *c, Plateau *p, double loss) {
  if (loss < p->best * (1 - c->threshold)) {
    p->best = loss;
    p->bad_epochs = 0;
  } else {
    p->bad_epochs++;
  }
  if (p->cooldown > 0) {
    p->cooldown--;
    p->bad_epochs = 0;             // bad epochs in the cooldown do not count
  }
  if (p->bad_epochs > c->patience) {
    double lr = fmax(p->lr * c->factor, c->min_lr);
    if (p->lr - lr > 1e-8)
      p->lr = lr;
    p->cooldown = c->cooldown;
    p->bad_epochs = 0;
  }
}

// OneCycleLR's _annealing_cos.
static double anneal_cos(double start, double end, double pct) {
  double cos_out = cos(M_PI * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

void schedule_onecycle(const SchedConfig *c, double max_lr, int64_t step, int64_t total_steps,
                    double *lr, double *momentum) {
  const double initial = max_lr / c->div_factor, min_lr = initial / c->final_div_factor;
  const double max_m = 0.95, base_m = 0.85;
  // Two phases: up to max_lr (momentum down) until pct_start of the steps,
  // then down to min_lr (momentum up).
  double end1 = (double)(c->pct_start * (double)total_steps) - 1, end2 = (double)total_steps - 1;
  double s = (double)step;
  if (s <= end1) {
    double pct = s / end1;
    *lr = anneal_cos(initial, max_lr, pct);
    *momentum = anneal_cos(max_m, base_m, pct);
  } else {
    double pct = (s - end1) / (end2 - end1);
    *lr = anneal_cos(max_lr, min_lr, pct);
    *momentum = anneal_cos(base_m, max_m, pct);
  }
}
