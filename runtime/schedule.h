// schedule.h — learning-rate schedules with torch.optim.lr_scheduler's
// semantics (PyTorch 1.13).
//
// Per-epoch schedules (stepped after each epoch, as in PyTorch):
//   step         StepLR(step_size, gamma): lr *= gamma every step_size epochs
//   multistep    MultiStepLR(milestones, gamma): lr *= gamma at each milestone
//   exponential  ExponentialLR(gamma): lr *= gamma every epoch
//   cosine       CosineAnnealingLR(T_max, eta_min): half a cosine from lr to
//                eta_min over T_max epochs (then back up, as torch does)
// A linear warm-up, LinearLR(start_factor, end_factor 1, total_iters
// warmup), chains with any of them as ChainedScheduler([warm-up, main])
// does: both update the same lr after every epoch.
//   plateau      ReduceLROnPlateau(mode 'min', factor, patience, threshold
//                (relative), cooldown, min_lr) on the validation loss: its
//                state (rate, best loss, bad epochs, cooldown) is checkpointed
// Per-step schedule (stepped after each optimiser step):
//   onecycle     OneCycleLR(max_lr = --lr, total_steps = epochs x steps,
//                pct_start, div_factor, final_div_factor) with torch's
//                defaults otherwise: cosine annealing, and the momentum
//                (SGD's momentum, Adam's beta1) cycled from 0.95 down to
//                0.85 and back.
//
// torch computes these recursively (each epoch's lr from the last one);
// schedule_epoch_lr replays that recursion from epoch 0 in the same double
// operations, so the rates equal torch's bit for bit, and a resumed run
// (which knows its epoch and step count) gets the same rates as an
// uninterrupted one without any schedule state in the checkpoint.  Only
// the plateau schedule, which follows the losses, has state to save.
#ifndef NETRT_SCHEDULE_H
#define NETRT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  SCHED_NONE, SCHED_STEP, SCHED_MULTISTEP, SCHED_EXPONENTIAL, SCHED_COSINE, SCHED_ONECYCLE,
  SCHED_PLATEAU
} SchedKind;

#define SCHED_MAX_MILESTONES 32

typedef struct {
  int kind;                          // SchedKind (an int: the option table stores it)
  int step_size;                     // step
  double gamma;                      // step, multistep, exponential
  int milestones[SCHED_MAX_MILESTONES], n_milestones;   // multistep, ascending
  int t_max;                         // cosine (0: the run's epochs)
  double eta_min;                    // cosine
  double pct_start, div_factor, final_div_factor;       // onecycle
  int warmup;                        // epochs of linear warm-up (0: none)
  double warmup_factor;              // its start factor
  double factor, threshold, min_lr;  // plateau
  int patience, cooldown;            // plateau
} SchedConfig;

// ReduceLROnPlateau's state.
typedef struct {
  double lr;                         // the current rate
  double best;                       // the lowest loss so far (INFINITY at first)
  int bad_epochs, cooldown;          // num_bad_epochs, cooldown_counter
} Plateau;

// torch's defaults: gamma 0.1, eta_min 0, pct_start 0.3, div_factor 25,
// final_div_factor 1e4, warm-up start factor 1/3, plateau factor 0.1,
// patience 10, threshold 1e-4, cooldown 0, min_lr 0; no schedule.
SchedConfig schedule_config_default(void);

// NULL if c is consistent (for a run of epochs epochs), else the reason.
const char *schedule_check(const SchedConfig *c, int epochs);

// The learning rate of epoch (0-based) for a per-epoch schedule (or none:
// lr itself); epochs is the run's length (cosine's default T_max).
double schedule_epoch_lr(const SchedConfig *c, double lr, int epoch, int epochs);

// ReduceLROnPlateau: the state before the first epoch, at rate lr.
void schedule_plateau_init(Plateau *p, double lr);

// ReduceLROnPlateau.step(loss) after an epoch: may lower p->lr.
void schedule_plateau_step(const SchedConfig *c, Plateau *p, double loss);

// OneCycleLR at optimiser step (0-based) of total_steps, peak max_lr:
// the learning rate and the cycled momentum (beta1 for Adam).
void schedule_onecycle(const SchedConfig *c, double max_lr, int64_t step, int64_t total_steps,
                       double *lr, double *momentum);

#endif
