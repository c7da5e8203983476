// hpo.h — hyperparameter search: search spaces, the random and TPE
// samplers, the pruners (median, successive halving, Hyperband), study
// storage (SQLite, PostgreSQL), the trial runner and the plots.  One
// section per file, in pipeline order.
//
// A study is a set of trials over one search space.  A trial's parameters
// are kept in their "internal" form, one double each: the value itself for
// float and int parameters, the index of the choice for categorical ones
// (as Optuna's distributions do with to_internal_repr).  NAN means unset.
// The objective is always minimised (a validation loss).
#ifndef NETHPO_H
#define NETHPO_H

#include <stdint.h>
#include <stdio.h>

#include "rng.h"

enum { HPO_MAX_PARAMS = 16, HPO_MAX_CHOICES = 16, HPO_NAME_MAX = 32 };

// ---- space.c: search spaces ------------------------------------------------

typedef enum { HPO_FLOAT, HPO_INT, HPO_CAT } HpoKind;

typedef struct {
  char name[HPO_NAME_MAX];
  HpoKind kind;
  int log;              // sample log(x) uniformly / model log(x) (float, int)
  double low, high;     // inclusive bounds (float, int)
  double step;          // int: grid step (>= 1); float: 0 = continuous
  int n_choices;        // categorical
  char choices[HPO_MAX_CHOICES][HPO_NAME_MAX];
} HpoParam;

typedef struct {
  int n;
  HpoParam p[HPO_MAX_PARAMS];
} HpoSpace;

// The text form of a space, stored with the study so that a resumed or a
// second worker checks it searches the same space:
//   "lr=float:1e-4:1e-1:log;optimizer=cat:adam,sgd;latent=int:2:16"
//   (int:LOW:HIGH[:step=S][:log], float:LOW:HIGH[:log][:step=S])
// Returns 0, or -1 with a message in err.
int space_parse(HpoSpace *s, const char *text, char *err, size_t errlen);
void space_format(const HpoSpace *s, char *out, size_t outlen);
int space_find(const HpoSpace *s, const char *name);   // index or -1
// The value as the trainer sees it: "0.00123", "16", "adam".
void space_value_str(const HpoParam *p, double internal, char *out, size_t outlen);
// Clip and round an internal value onto the parameter's domain.
double space_snap(const HpoParam *p, double x);

// ---- trial.c: trials and their intermediate values ------------------------

typedef enum { HPO_RUNNING, HPO_COMPLETE, HPO_PRUNED, HPO_FAIL } HpoState;

typedef struct {
  int64_t id;            // storage row id
  int number;            // 0, 1, 2, ... within the study, in ask order
  HpoState state;
  double value;          // final value (COMPLETE), last intermediate (PRUNED), NAN
  double params[HPO_MAX_PARAMS];   // internal form, indexed like the space; NAN: unset
  int n_inter, cap_inter;
  int *steps;            // intermediate values (step = epoch, 1-based), step order
  double *inter;
  char worker[96];       // "host:pid:starttime" of the process running it
  double started, finished, heartbeat;   // unix seconds (0: none)
} HpoTrial;

const char *trial_state_name(HpoState s);
int trial_state_parse(const char *s);   // -1 if unknown
void trial_init(HpoTrial *t, int n_params);
void trial_add_inter(HpoTrial *t, int step, double value);
int trial_last_step(const HpoTrial *t);   // -1 without intermediate values
void trials_free(HpoTrial *t, int n);

// ---- sampler.c: random sampling and TPE -------------------------------------

typedef enum { HPO_SAMPLER_RANDOM, HPO_SAMPLER_TPE } HpoSamplerKind;

typedef struct {
  HpoSamplerKind kind;
  int n_startup_trials;   // 10
  int n_ei_candidates;    // 24
  double prior_weight;    // 1.0
  int consider_magic_clip, consider_endpoints;   // 1, 0
} HpoSampler;

void sampler_default(HpoSampler *s, HpoSamplerKind kind);
// Parameters of a new trial given the study's trials so far (any states;
// only COMPLETE and PRUNED ones are used).  Deterministic in rng.
void sampler_sample(const HpoSampler *s, const HpoSpace *space, const HpoTrial *trials,
                    int n_trials, Rng *rng, double *params_out);
double sampler_random_param(const HpoParam *p, Rng *rng);
int tpe_gamma(int n);                          // min(ceil(0.1 n), 25)
void tpe_default_weights(int n, double *w);    // w[n]; oldest first

// ---- parzen.c: the Parzen estimator of one parameter ----------------------

typedef struct {
  const HpoParam *p;
  int n;                  // kernels: observations + the prior (last)
  double *w;              // mixture weights, sum 1
  double *mu, *sigma;     // numerical kernels, in transformed space
  double lo, hi;          // transformed support (discrete: widened by step/2)
  double *cat;            // categorical: n x n_choices kernel probabilities
} Parzen;

// obs[n_obs] internal values, oldest first; weights follow default_weights.
void parzen_build(Parzen *pe, const HpoParam *p, const double *obs, int n_obs,
                  const HpoSampler *cfg);
double parzen_sample(const Parzen *pe, Rng *rng);     // internal value
double parzen_log_pdf(const Parzen *pe, double x);    // log density / mass
void parzen_free(Parzen *pe);

// ---- pruner.c: the median, successive-halving and Hyperband pruners ---------

typedef enum { HPO_PRUNER_NONE, HPO_PRUNER_MEDIAN, HPO_PRUNER_SHA, HPO_PRUNER_HYPERBAND } HpoPrunerKind;

typedef struct {
  HpoPrunerKind kind;
  // median (Optuna's MedianPruner)
  int n_startup_trials;   // 5
  int n_warmup_steps;     // 0
  double percentile;      // 50 (the median)
  // successive halving (SuccessiveHalvingPruner) and Hyperband (HyperbandPruner)
  int min_resource;       // SHA: 0 = "auto"; Hyperband: 1
  int max_resource;       // Hyperband: 0 = "auto"
  int reduction_factor;   // eta: SHA 4, Hyperband 3
  int min_early_stopping_rate;   // SHA: 0 (Hyperband: the bracket's index)
  int bootstrap_count;    // 0
  const char *study_name; // Hyperband: trials go to brackets by a hash of "NAME_NUMBER"
} HpoPruner;

void pruner_default(HpoPruner *p);   // the median pruner
void pruner_default_kind(HpoPruner *p, HpoPrunerKind kind);
const char *pruner_kind_name(HpoPrunerKind kind);   // "none", "median", "sha", "hyperband"
int pruner_kind_parse(const char *s);               // -1 if unknown
// 1 if trial t (RUNNING, with its intermediate values so far) should stop.
// trials may contain t itself (matched by number); it is not its own rival.
int pruner_should_prune(const HpoPruner *p, const HpoTrial *trials, int n_trials,
                        const HpoTrial *t);
// Hyperband: the bracket of trial `number`, or -1 before the brackets exist
// (no COMPLETE trial yet with max_resource "auto") and for other pruners.
// As Optuna's TPE does with Hyperband, the sampler then sees only the
// trials of the new trial's bracket.
int pruner_bracket(const HpoPruner *p, const HpoTrial *trials, int n_trials, int number);
// Hyperband's brackets: their count and each one's share of the trials
// (Optuna's trial allocation budget); budgets[] has room for 32.  Returns
// the count, 0 before max_resource is known.
int pruner_brackets(const HpoPruner *p, const HpoTrial *trials, int n_trials, int *budgets);
uint32_t pruner_crc32(const char *s);   // CRC-32 (zlib's, Python's binascii.crc32)

// ---- storage.c: the storage interface ---------------------------------------

typedef struct HpoStorage HpoStorage;

// Every function returns 0 on success and -1 on an error (message in
// st->err); ask returns 1 when the study's trial budget is used up, tell
// and fail return 1 when the trial was no longer RUNNING (someone else
// ended it), so nothing is ever counted twice.
typedef struct {
  // Creates the study if new (with this space), else loads it; the stored
  // space text is returned in space_out.
  int (*study_open)(HpoStorage *st, const char *name, const char *space, int64_t *study_id,
                    char *space_out, size_t space_len);
  // Atomically: if fewer than max_trials (0: no limit) trials are RUNNING,
  // COMPLETE or PRUNED, claim the next trial number as RUNNING by `worker`.
  int (*trial_ask)(HpoStorage *st, int64_t study_id, int max_trials, const char *worker,
                   double now, int64_t *trial_id, int *number);
  int (*trial_set_params)(HpoStorage *st, int64_t trial_id, const HpoSpace *space,
                          const double *params);
  // Intermediate value at `step`; also refreshes the heartbeat.
  int (*trial_report)(HpoStorage *st, int64_t trial_id, int step, double value, double now);
  int (*trial_heartbeat)(HpoStorage *st, int64_t trial_id, double now);
  // RUNNING -> COMPLETE / PRUNED / FAIL, only if still RUNNING.
  int (*trial_tell)(HpoStorage *st, int64_t trial_id, HpoState state, double value, double now);
  // All trials of the study, by number, with params and intermediate values.
  int (*trials_load)(HpoStorage *st, int64_t study_id, const HpoSpace *space, HpoTrial **out,
                     int *n);
  void (*close)(HpoStorage *st);
} HpoStorageOps;

struct HpoStorage {
  const HpoStorageOps *ops;
  void *impl;
  char err[512];
};

// "postgresql://..." / "postgres://..." -> PostgreSQL, anything else is a
// SQLite file name.  Returns NULL with a message in err.
HpoStorage *storage_open(const char *url, char *err, size_t errlen);
void storage_close(HpoStorage *st);
// This process's worker id: "host:pid:starttime" (starttime from
// /proc/self/stat, so a reused pid is not mistaken for the old worker).
void worker_id(char *out, size_t len);
// 1 if the worker that runs t is gone: on this host its process no longer
// exists; on any host its heartbeat is older than grace seconds.
int worker_is_dead(const HpoTrial *t, double now, double grace);
// Marks the RUNNING trials of dead workers FAIL (they are retried as new
// trials, so the budget is met and nothing is counted twice).  Returns how
// many, or -1.
int storage_fail_dead(HpoStorage *st, int64_t study_id, const HpoSpace *space, double now,
                      double grace);
double hpo_now(void);   // unix time, seconds

HpoStorage *storage_sqlite_open(const char *path, char *err, size_t errlen);
HpoStorage *storage_pg_open(const char *conninfo, char *err, size_t errlen);

// ---- run.c: one trial as a subprocess ---------------------------------------

typedef struct {
  const char *cmd;        // shell command (flags already appended)
  const char *log_path;   // the trainer's --log CSV, followed as it grows
  const char *out_path;   // the trainer's stdout + stderr are copied here (or NULL)
  double heartbeat_every; // seconds
  // Called for every new CSV row; returns 1 to stop (prune) the trainer.
  int (*on_epoch)(void *ctx, int epoch, double val_loss);
  int (*on_tick)(void *ctx);   // every poll (~100 ms); nonzero: stop, FAIL
  void *ctx;
} HpoRun;

typedef enum { HPO_RUN_DONE, HPO_RUN_PRUNED, HPO_RUN_FAILED, HPO_RUN_STOPPED } HpoRunResult;

// Runs the command, reporting epochs as they land in the log; returns how it
// ended, the final JSON line's val_loss in *value (DONE) and the number of
// epochs seen in *epochs.
HpoRunResult run_trial(const HpoRun *r, double *value, int *epochs, char *err, size_t errlen);
// The value of "key": NUMBER in a one-line JSON object (NAN if absent).
double hpo_json_number(const char *line, const char *key);

// ---- report.c, plot.c: output -------------------------------------------------

void report_table(FILE *f, const HpoSpace *s, const HpoTrial *t, int n);
// Index of the best COMPLETE trial, or -1.
int report_best(const HpoTrial *t, int n);
// history.png, intermediate.png, parallel.png in dir.  Returns 0 or -1.
int plot_history(const char *path, const HpoTrial *t, int n);
int plot_intermediate(const char *path, const HpoTrial *t, int n);
int plot_parallel(const char *path, const HpoSpace *s, const HpoTrial *t, int n);

#endif
