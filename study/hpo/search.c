// netc-search — the report's hyperparameter search: TPE (or random)
// sampling, median, successive-halving or Hyperband pruning, a study persisted in SQLite or PostgreSQL,
// several worker processes, a summary table and three figures.
//
//   netc-search --trials 30 --epochs 10 --workers 1 --study hpo.db
//               --data "$(tools/fetch-mnist.sh)" --out hpo-out
//
// Every trial runs the trainer as a subprocess with the sampled flags:
//   TRAINER --weight-decay X --optimizer adam|sgd [--momentum M] --lr X
//           --data DIR --epochs E --seed S --threads T --log trial/log.csv
//           --json --quiet
// Parameters named in the trainer template as {name} are substituted there
// instead of passed as flags: the latent size changes the network's shapes,
// so it selects the program (see README.md, "Specialised code per latent").
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hpo.h"
#include "suggest.h"

#define DEFAULT_SPACE \
  "weight_decay=float:1e-6:1e-2:log;optimizer=cat:adam,sgd;lr=float:1e-4:1e-1:log;latent=int:2:16"
#define MODEL NETC_SOURCE_DIR "/models/autoencoder.net"
// Default: one compiled trainer per latent size, built on first use.
#define COMPILED_PREPARE NETC_BINDIR "/netc-variant {cache}/latent-{latent} " MODEL " -D latent={latent}"
#define COMPILED_TRAINER "{cache}/latent-{latent}/train"
// --interpret: the interpreter, which needs no compilation.
#define INTERP_TRAINER NETC_BINDIR "/netc run -D latent={latent} " MODEL

typedef struct {
  const char *study, *study_name, *space, *trainer, *prepare, *cache, *data, *out;
  int trials, workers, epochs, threads, show, dump, plots, quiet, max_failures;
  double timeout, momentum, grace;
  uint64_t seed;
  HpoSamplerKind sampler;
  HpoPruner pruner;
} Options;

// Every option, for the "did you mean" hint (keep in step with parse()).
static const char *const option_names[] = {
  "--study", "--study-name", "--trials", "--timeout", "--workers", "--seed", "--sampler", "--epochs",
  "--data", "--threads", "--momentum", "--space", "--trainer", "--prepare", "--interpret", "--cache",
  "--out", "--max-failures", "--grace", "--show", "--dump", "--no-plots", "--quiet", "--help",
  "--pruner", "--reduction-factor", "--min-resource", "--max-resource"};

static int bad_option(const char *a, int missing_value) {
  int n = (int)(sizeof option_names / sizeof option_names[0]);
  for (int i = 0; missing_value && i < n; i++)
    if (!strcmp(a, option_names[i])) {
      fprintf(stderr, "error: %s needs a value (see --help)\n", a);
      return 2;
    }
  // Only a '--' word can be a mistyped option (not, say, a stray value).
  suggest_unknown_option(a, option_names, strncmp(a, "--", 2) == 0 ? n : 0);
  return 2;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void usage(FILE *f) {
  fprintf(f,
    "usage: netc-search [options]\n"
    "\n"
    "The hyperparameter search of the autoencoder's study: trials sampled by TPE\n"
    "(or at random) from --space, each a trainer run (--trainer, prepared once per\n"
    "distinct value by --prepare, e.g. a trainer compiled for each latent size),\n"
    "pruned on their validation loss, recorded in a SQLite or PostgreSQL study\n"
    "that any number of workers and machines share; then the table and figures.\n"
    "\n"
    "options [defaults]:\n"
    "  --study FILE|URL     SQLite file or postgresql://... [hpo-study.db]\n"
    "  --study-name NAME    study within the storage [autoencoder]\n"
    "  --trials N           trials in the study, all workers together; 0: until --timeout [30]\n"
    "  --timeout S          no new trials after S seconds (running ones finish) [none]\n"
    "  --workers N          worker processes on this machine [1]\n"
    "  --seed N             sampler seed, also passed to the trainer [1]\n"
    "  --sampler tpe|random [tpe]\n"
    "  --pruner KIND        median, sha (successive halving), hyperband or none [median]\n"
    "  --reduction-factor N sha, hyperband: eta [sha 4, hyperband 3]\n"
    "  --min-resource N     sha, hyperband: epochs of the first rung [sha auto, hyperband 1]\n"
    "  --max-resource N     hyperband: most epochs of a trial [auto: the first complete trial's + 1]\n"
    "  --epochs N           epochs per trial [10]\n"
    "  --data DIR           MNIST directory for the trainer [its default]\n"
    "  --threads N          threads per trainer [cores / workers]\n"
    "  --momentum X         SGD momentum when optimizer=sgd [0.9]\n"
    "  --space SPEC         search space [" DEFAULT_SPACE "]\n"
    "  --trainer CMD        trainer command template [" COMPILED_TRAINER "]\n"
    "  --prepare CMD        run once per distinct substitution before a trial needs it;\n"
    "                       locked and cached [" COMPILED_PREPARE "]\n"
    "                       (a --trainer without --prepare clears it)\n"
    "  --interpret          trainer: " INTERP_TRAINER "\n"
    "  --cache DIR          for {cache} in templates [" NETC_BINDIR "/../hpo-cache]\n"
    "  --out DIR            trial logs and figures [STUDY.out]\n"
    "  --max-failures N     a worker stops after N failed trials in a row [5]\n"
    "  --grace S            a RUNNING trial whose heartbeat is older is failed [120]\n"
    "  --show               print the table and draw the figures, run no trial\n"
    "  --dump               print every trial as one exact line (for tests), run no trial\n"
    "  --no-plots           no figures\n"
    "  --quiet              no per-trial lines\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 1 the study cannot be opened or a worker failed (see\n"
    "--max-failures), 2 usage error.\n"
    "\n"
    "Example:\n"
    "  netc-search --trials 20 --epochs 5 --workers 2 --cache /tmp/hpo-cache --out hpo\n");
}

static int parse(Options *o, int argc, char **argv) {
  int prepare_given = 0;
  *o = (Options){.study = "hpo-study.db", .study_name = "autoencoder", .space = DEFAULT_SPACE,
                 .trainer = COMPILED_TRAINER, .prepare = COMPILED_PREPARE, .trials = 30, .workers = 1, .epochs = 10,
                 .momentum = 0.9, .grace = 120, .max_failures = 5, .seed = 1, .sampler = HPO_SAMPLER_TPE, .plots = 1};
  pruner_default(&o->pruner);
  int eta = 0, min_res = -1, max_res = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
    if (!strcmp(a, "--show")) { o->show = 1; continue; }
    if (!strcmp(a, "--dump")) { o->dump = 1; continue; }
    if (!strcmp(a, "--no-plots")) { o->plots = 0; continue; }
    if (!strcmp(a, "--quiet")) { o->quiet = 1; continue; }
    if (!strcmp(a, "--interpret")) { o->trainer = INTERP_TRAINER, o->prepare = NULL; continue; }
    if (i + 1 >= argc || strncmp(a, "--", 2) != 0)
      return bad_option(a, i + 1 >= argc);
    const char *v = argv[++i];
    char *end = NULL;
    if (!strcmp(a, "--study")) o->study = v;
    else if (!strcmp(a, "--study-name")) o->study_name = v;
    else if (!strcmp(a, "--space")) o->space = v;
    else if (!strcmp(a, "--trainer")) o->trainer = v, o->prepare = prepare_given ? o->prepare : NULL;
    else if (!strcmp(a, "--prepare")) o->prepare = *v ? v : NULL, prepare_given = 1;
    else if (!strcmp(a, "--cache")) o->cache = v;
    else if (!strcmp(a, "--data")) o->data = v;
    else if (!strcmp(a, "--out")) o->out = v;
    else if (!strcmp(a, "--trials")) o->trials = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--workers")) o->workers = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--epochs")) o->epochs = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--max-failures")) o->max_failures = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--threads")) o->threads = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--seed")) o->seed = strtoull(v, &end, 10);
    else if (!strcmp(a, "--timeout")) o->timeout = strtod(v, &end);
    else if (!strcmp(a, "--momentum")) o->momentum = strtod(v, &end);
    else if (!strcmp(a, "--grace")) o->grace = strtod(v, &end);
    else if (!strcmp(a, "--reduction-factor")) eta = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--min-resource")) min_res = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--max-resource")) max_res = (int)strtol(v, &end, 10);
    else if (!strcmp(a, "--pruner")) {
      int k = pruner_kind_parse(v);
      if (k < 0) { fprintf(stderr, "error: --pruner: '%s' is not median, sha, hyperband or none\n", v); return 2; }
      pruner_default_kind(&o->pruner, (HpoPrunerKind)k);
    } else if (!strcmp(a, "--sampler")) {
      if (!strcmp(v, "tpe")) o->sampler = HPO_SAMPLER_TPE;
      else if (!strcmp(v, "random")) o->sampler = HPO_SAMPLER_RANDOM;
      else { fprintf(stderr, "error: --sampler: '%s' is not tpe or random\n", v); return 2; }
    } else {
      return bad_option(a, 0);
    }
    if (end && *end) { fprintf(stderr, "error: %s: '%s' is not a number\n", a, v); return 2; }
  }
  // Pruner options after --pruner, whatever their order on the line.
  if (eta) o->pruner.reduction_factor = eta;
  if (min_res >= 0) o->pruner.min_resource = min_res;
  if (max_res >= 0) o->pruner.max_resource = max_res;
  o->pruner.study_name = o->study_name;
  if (o->pruner.reduction_factor < 2 || min_res == 0) {
    fprintf(stderr, "error: need --reduction-factor >= 2 and --min-resource >= 1\n");
    return 2;
  }
  if (o->trials < 0 || o->workers < 1 || o->epochs < 1 || (o->trials == 0 && o->timeout <= 0)) {
    fprintf(stderr, "error: need --trials >= 1 or --timeout > 0, --workers >= 1, --epochs >= 1\n");
    return 2;
  }
  return 0;
}

// ---- command lines

typedef struct { char *s; size_t len, cap; } Buf;

static void put(Buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n);
  b->s[b->len += n] = 0;
}
static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

// Single-quoted for /bin/sh.
static void put_quoted(Buf *b, const char *s) {
  puts_(b, "'");
  for (; *s; s++) {
    if (*s == '\'') puts_(b, "'\\''");
    else put(b, s, 1);
  }
  puts_(b, "'");
}

// Replaces {name} of a parameter, {cache}; marks used parameters.
static char *substitute(const char *tmpl, const HpoSpace *sp, const double *params,
                        const char *cache, int *used) {
  Buf b = {0};
  puts_(&b, "");
  for (const char *p = tmpl; *p;) {
    const char *close = *p == '{' ? strchr(p, '}') : NULL;
    if (close) {
      char name[HPO_NAME_MAX] = "";
      snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
      int k = space_find(sp, name);
      if (k >= 0) {
        char v[64];
        space_value_str(&sp->p[k], params[k], v, sizeof v);
        puts_(&b, v);
        if (used) used[k] = 1;
        p = close + 1;
        continue;
      }
      if (!strcmp(name, "cache")) { puts_(&b, cache); p = close + 1; continue; }
    }
    put(&b, p++, 1);
  }
  return b.s;
}

static char *trainer_command(const Options *o, const HpoSpace *sp, const double *params,
                             const char *cache, const char *log_path) {
  int used[HPO_MAX_PARAMS] = {0};
  char *head = substitute(o->trainer, sp, params, cache, used);
  if (o->prepare) free(substitute(o->prepare, sp, params, cache, used));
  Buf b = {0};
  puts_(&b, "exec ");
  puts_(&b, head);
  free(head);
  char v[64], flag[HPO_NAME_MAX + 8];
  for (int k = 0; k < sp->n; k++) {
    if (used[k]) continue;
    snprintf(flag, sizeof flag, " --%s ", sp->p[k].name);
    for (char *c = flag; *c; c++)
      if (*c == '_') *c = '-';
    puts_(&b, flag);
    space_value_str(&sp->p[k], params[k], v, sizeof v);
    put_quoted(&b, v);
    if (!strcmp(sp->p[k].name, "optimizer") && !strcmp(v, "sgd") && o->momentum > 0) {
      snprintf(v, sizeof v, " --momentum %g", o->momentum);
      puts_(&b, v);
    }
  }
  if (o->data) puts_(&b, " --data "), put_quoted(&b, o->data);
  snprintf(v, sizeof v, " --epochs %d --seed %llu", o->epochs, (unsigned long long)o->seed);
  puts_(&b, v);
  if (o->threads > 0) snprintf(v, sizeof v, " --threads %d", o->threads), puts_(&b, v);
  puts_(&b, " --log "), put_quoted(&b, log_path);
  puts_(&b, " --json --quiet");
  return b.s;
}

// The specialisation cache: the --prepare command, with this trial's
// values substituted, runs once; a marker file named by a hash of the
// command records success, and an exclusive flock on it keeps two workers
// from building the same variant at once (the second waits, then skips).
// The hash also covers the size and mtime of every file the command names
// (netc-variant, the model, ...), so editing the model or rebuilding the
// tools rebuilds the variants instead of reusing stale ones.
static int prepare(const Options *o, const HpoSpace *sp, const double *params, const char *cache) {
  if (!o->prepare) return 0;
  char *cmd = substitute(o->prepare, sp, params, cache, NULL);
  uint64_t h = 1469598103934665603ull;   // FNV-1a
  for (const char *c = cmd; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
  char *words = strdup(cmd), *save = NULL;
  for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
    struct stat sb;
    if (stat(w, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    uint64_t parts[3] = {(uint64_t)sb.st_size, (uint64_t)sb.st_mtim.tv_sec, (uint64_t)sb.st_mtim.tv_nsec};
    for (int i = 0; i < 3; i++) h = (h ^ parts[i]) * 1099511628211ull;
  }
  free(words);
  char lock[4096], ok[4096];
  snprintf(lock, sizeof lock, "%s/prepare-%016llx.lock", cache, (unsigned long long)h);
  snprintf(ok, sizeof ok, "%s/prepare-%016llx.ok", cache, (unsigned long long)h);
  int fd = open(lock, O_RDWR | O_CREAT, 0644), rc = 0;
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    fprintf(stderr, "error: %s: %s\n", lock, strerror(errno));
    rc = -1;
  } else if (access(ok, F_OK) != 0) {
    if (!o->quiet) fprintf(stderr, "prepare: %s\n", cmd);
    int st = system(cmd);
    if (st != 0) {
      fprintf(stderr, "error: prepare command failed (status %d): %s\n", st, cmd);
      rc = -1;
    } else {
      close(open(ok, O_WRONLY | O_CREAT, 0644));
    }
  }
  if (fd >= 0) close(fd);   // releases the lock
  free(cmd);
  return rc;
}

// ---- one worker

typedef struct {
  HpoStorage *st;
  int64_t study, trial_id;
  const HpoSpace *sp;
  HpoPruner pruner;
  HpoTrial me;           // this trial's intermediate values so far
  double last_beat, beat_every;
  int store_failed;
} Ctx;

static int on_epoch(void *vp, int epoch, double val) {
  Ctx *c = vp;
  double now = hpo_now();
  if (c->st->ops->trial_report(c->st, c->trial_id, epoch, val, now) != 0) {
    fprintf(stderr, "error: %s\n", c->st->err);
    c->store_failed = 1;
    return 1;
  }
  c->last_beat = now;
  trial_add_inter(&c->me, epoch, val);
  HpoTrial *t;
  int n;
  if (c->st->ops->trials_load(c->st, c->study, c->sp, &t, &n) != 0) {
    fprintf(stderr, "error: %s\n", c->st->err);
    c->store_failed = 1;
    return 1;
  }
  int prune = pruner_should_prune(&c->pruner, t, n, &c->me);
  trials_free(t, n);
  return prune;
}

static int on_tick(void *vp) {
  Ctx *c = vp;
  double now = hpo_now();
  if (now - c->last_beat > c->beat_every) {
    c->last_beat = now;
    if (c->st->ops->trial_heartbeat(c->st, c->trial_id, now) != 0)
      fprintf(stderr, "warning: heartbeat: %s\n", c->st->err);
  }
  return stop_flag;
}

static void mkdirs(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') *p = 0, mkdir(tmp, 0755), *p = '/';
  mkdir(tmp, 0755);
}

static int worker(const Options *o, const HpoSpace *sp, const char *out, const char *cache,
                  double t_start) {
  char err[512], wid[96];
  HpoStorage *st = storage_open(o->study, err, sizeof err);
  if (!st) { fprintf(stderr, "error: %s\n", err); return 1; }
  int64_t study;
  char stored[2048];
  if (st->ops->study_open(st, o->study_name, o->space, &study, stored, sizeof stored) != 0) {
    fprintf(stderr, "error: %s\n", st->err);
    storage_close(st);
    return 1;
  }
  worker_id(wid, sizeof wid);
  HpoSampler sampler;
  sampler_default(&sampler, o->sampler);
  int rc = 0, failures_in_a_row = 0;
  while (!stop_flag) {
    if (o->timeout > 0 && hpo_now() - t_start >= o->timeout) break;
    double now = hpo_now();
    if (storage_fail_dead(st, study, sp, now, o->grace) < 0) { rc = 1; break; }
    int64_t tid;
    int number;
    int a = st->ops->trial_ask(st, study, o->trials, wid, now, &tid, &number);
    if (a == 1) break;   // the study has its trials
    if (a < 0) { rc = 1; break; }
    HpoTrial *t;
    int n;
    if (st->ops->trials_load(st, study, sp, &t, &n) != 0) { rc = 1; break; }
    double params[HPO_MAX_PARAMS];
    Rng rng = rng_stream(o->seed ^ 0x68706f73616d706cull, (uint64_t)number);   // "hposampl"
    // With Hyperband, TPE learns from the new trial's bracket only, as
    // Optuna's samplers do (optuna.pruners._filter_study).
    // (A stable partition: the bracket's trials first, in their order.)
    int bracket = pruner_bracket(&o->pruner, t, n, number), nb = n;
    if (bracket >= 0) {
      HpoTrial *part = malloc((size_t)n * sizeof *part);
      int *in = malloc((size_t)n * sizeof *in), k = 0;
      for (int i = 0; i < n; i++) in[i] = pruner_bracket(&o->pruner, t, n, t[i].number) == bracket;
      for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < n; i++)
          if (in[i] == pass) part[k++] = t[i];
      nb = 0;
      for (int i = 0; i < n; i++) nb += in[i];
      memcpy(t, part, (size_t)n * sizeof *t);
      free(part), free(in);
    }
    sampler_sample(&sampler, sp, t, nb, &rng, params);
    trials_free(t, n);
    if (st->ops->trial_set_params(st, tid, sp, params) != 0) { rc = 1; break; }

    char dir[4096], log_path[4200], out_path[4200];
    snprintf(dir, sizeof dir, "%s/trial-%04d", out, number);
    mkdirs(dir);
    snprintf(log_path, sizeof log_path, "%s/log.csv", dir);
    snprintf(out_path, sizeof out_path, "%s/output.txt", dir);
    Ctx c = {.st = st, .study = study, .trial_id = tid, .sp = sp, .last_beat = now,
             .beat_every = fmin(10, o->grace / 4), .pruner = o->pruner};
    trial_init(&c.me, sp->n);
    c.me.number = number;
    c.me.state = HPO_RUNNING;
    double value = NAN;
    int epochs = 0;
    HpoRunResult res = HPO_RUN_FAILED;
    err[0] = 0;
    if (prepare(o, sp, params, cache) != 0) {
      snprintf(err, sizeof err, "prepare failed");
    } else {
      char *cmd = trainer_command(o, sp, params, cache, log_path);
      HpoRun r = {cmd, log_path, out_path, 0, on_epoch, on_tick, &c};
      res = run_trial(&r, &value, &epochs, err, sizeof err);
      free(cmd);
    }
    if (c.store_failed) { rc = 1; break; }
    HpoState state = res == HPO_RUN_DONE ? HPO_COMPLETE : res == HPO_RUN_PRUNED ? HPO_PRUNED : HPO_FAIL;
    if (state == HPO_PRUNED) value = c.me.n_inter ? c.me.inter[c.me.n_inter - 1] : NAN;
    int told = st->ops->trial_tell(st, tid, state, value, hpo_now());
    free(c.me.steps), free(c.me.inter);
    if (told < 0) { rc = 1; break; }
    failures_in_a_row = state == HPO_FAIL && !stop_flag ? failures_in_a_row + 1 : 0;
    if (!o->quiet) {
      char ps[512] = "", v[64];
      for (int k = 0; k < sp->n; k++) {
        space_value_str(&sp->p[k], params[k], v, sizeof v);
        snprintf(ps + strlen(ps), sizeof ps - strlen(ps), " %s=%s", sp->p[k].name, v);
      }
      printf("trial %d %s%s value %.6g epochs %d%s%s%s\n", number, trial_state_name(state),
             told == 1 ? " (already ended elsewhere)" : "", value, epochs, ps,
             state == HPO_FAIL ? " -- " : "", state == HPO_FAIL ? err : "");
      fflush(stdout);
    }
    if (failures_in_a_row >= o->max_failures) {
      fprintf(stderr, "error: %d trials in a row failed (last: %s); see %s/output.txt\n",
              failures_in_a_row, err, dir);
      rc = 1;
      break;
    }
  }
  if (rc && st->err[0]) fprintf(stderr, "error: %s\n", st->err);
  storage_close(st);
  return rc;
}

// ---- output

static void dump(FILE *f, const HpoSpace *sp, const HpoTrial *t, int n) {
  for (int i = 0; i < n; i++) {
    fprintf(f, "%d %s %.17g", t[i].number, trial_state_name(t[i].state), t[i].value);
    for (int k = 0; k < sp->n; k++) fprintf(f, " %.17g", t[i].params[k]);
    fprintf(f, " steps=%d", t[i].n_inter);
    for (int j = 0; j < t[i].n_inter; j++) fprintf(f, " %d:%.17g", t[i].steps[j], t[i].inter[j]);
    fprintf(f, "\n");
  }
}

static int summary(const Options *o, const HpoSpace *sp, const char *out) {
  char err[512];
  HpoStorage *st = storage_open(o->study, err, sizeof err);
  if (!st) { fprintf(stderr, "error: %s\n", err); return 1; }
  int64_t study;
  char stored[2048];
  HpoTrial *t;
  int n;
  if (st->ops->study_open(st, o->study_name, o->space, &study, stored, sizeof stored) != 0 ||
      st->ops->trials_load(st, study, sp, &t, &n) != 0) {
    fprintf(stderr, "error: %s\n", st->err);
    storage_close(st);
    return 1;
  }
  storage_close(st);
  int rc = 0;
  if (o->dump) {
    dump(stdout, sp, t, n);
  } else {
    report_table(stdout, sp, t, n);
    if (o->plots) {
      char p[4200];
      mkdirs(out);
      snprintf(p, sizeof p, "%s/history.png", out);
      rc |= plot_history(p, t, n);
      snprintf(p, sizeof p, "%s/intermediate.png", out);
      rc |= plot_intermediate(p, t, n);
      snprintf(p, sizeof p, "%s/parallel.png", out);
      rc |= plot_parallel(p, sp, t, n);
      printf("figures: %s/{history,intermediate,parallel}.png\n", out);
    }
  }
  trials_free(t, n);
  return rc ? 1 : 0;
}

int main(int argc, char **argv) {
  Options o;
  int rc = parse(&o, argc, argv);
  if (rc) return rc;
  HpoSpace sp;
  char err[512];
  if (space_parse(&sp, o.space, err, sizeof err) != 0) {
    fprintf(stderr, "error: %s\n", err);
    return 2;
  }
  // A resumed or second worker must search the study's own space.
  {
    HpoStorage *st = storage_open(o.study, err, sizeof err);
    if (!st) { fprintf(stderr, "error: %s\n", err); return 1; }
    int64_t id;
    char norm[2048], stored[2048];
    space_format(&sp, norm, sizeof norm);
    if (st->ops->study_open(st, o.study_name, norm, &id, stored, sizeof stored) != 0) {
      fprintf(stderr, "error: %s\n", st->err);
      storage_close(st);
      return 1;
    }
    storage_close(st);
    if (strcmp(norm, stored) != 0) {
      fprintf(stderr, "error: study '%s' in %s searches another space:\n  stored:  %s\n  given:   %s\n",
              o.study_name, o.study, stored, norm);
      return 2;
    }
    static char space_text[2048];
    memcpy(space_text, norm, sizeof space_text);
    o.space = space_text;
  }
  char out[4096], cache[4200];
  if (o.out) snprintf(out, sizeof out, "%s", o.out);
  else if (strstr(o.study, "://")) snprintf(out, sizeof out, "hpo-%s.out", o.study_name);
  else snprintf(out, sizeof out, "%s.out", o.study);
  snprintf(cache, sizeof cache, "%s", o.cache ? o.cache : "");
  if (!o.cache) snprintf(cache, sizeof cache, "%s", NETC_BINDIR "/../hpo-cache");
  if (o.show || o.dump) return summary(&o, &sp, out);
  mkdirs(out);
  mkdirs(cache);
  if (o.threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = cores / o.workers > 0 ? (int)(cores / o.workers) : 1;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  double t0 = hpo_now();
  if (o.workers == 1) {
    rc = worker(&o, &sp, out, cache, t0);
  } else {
    pid_t pids[256];
    int nw = o.workers < 256 ? o.workers : 256;
    for (int w = 0; w < nw; w++) {
      pids[w] = fork();
      if (pids[w] == 0) _exit(worker(&o, &sp, out, cache, t0));
      if (pids[w] < 0) { perror("fork"); nw = w; break; }
    }
    for (int w = 0; w < nw; w++) {
      int status;
      while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
        if (stop_flag)
          for (int k = 0; k < nw; k++) kill(pids[k], SIGTERM);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = 1;
    }
  }
  if (!o.quiet || rc == 0) {
    printf("search: %.1f s\n", hpo_now() - t0);
    int r2 = summary(&o, &sp, out);
    rc |= r2;
  }
  return rc;
}
