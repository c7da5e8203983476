// driver.c — the common trainer command line and training loop.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "arrayout.h"
#include "ckpt.h"
#include "dataset.h"
#include "driver.h"
#include "imagegrid.h"
#include "rng.h"
#include "suggest.h"

static int default_threads(void) {
  const char *s = getenv("OMP_NUM_THREADS");
  if (s && *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == 0 && v > 0 && v <= 4096)
      return (int)v;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

void driver_options_default(DriverOptions *o) {
  memset(o, 0, sizeof *o);
  o->data = mnist_default_dir();
  o->epochs = 10;
  o->batch = 256;
  o->optim = optim_config_default(OPTIM_ADAM);
  o->sched = schedule_config_default();
  o->seed = 1;
  o->threads = default_threads();
  o->val_fraction = 1.0 / MNIST_VAL_FRACTION;
  o->predict_grid = 64;
}

// ---------------------------------------------------------------- options

// The command line as one table: parsing, the --help text with each
// default (read from driver_options_default, so the help cannot drift from
// what a run uses) and the "did you mean" hint all read it.
typedef enum { ARG_FLAG, ARG_INT, ARG_U64, ARG_REAL, ARG_STRING, ARG_CHOICE, ARG_MILESTONES, ARG_INPUT } ArgKind;

typedef struct {
  const char *name, *metavar;       // "--epochs", "N" (NULL for a flag)
  ArgKind kind;
  size_t off;                       // of the field in DriverOptions
  double lo, hi;                    // ARG_INT and ARG_REAL: accepted range
  const char *const *choices;       // ARG_CHOICE: names; the field is an int index
  const char *help;
} OptSpec;

static const char *const optimizer_names[] = {"sgd", "adam", "adamw", "rmsprop", NULL};  // OptimKind order
static const char *const split_names[] = {"test", "val", "train", NULL};   // DRIVER_SPLIT_* order
static const char *const format_names[] = {"npy", "csv", NULL};
static const char *const schedule_names[] = {"none", "step", "multistep", "exponential", "cosine",
                                             "onecycle", "plateau", NULL};      // SchedKind order

#define F(field) offsetof(DriverOptions, field)
static const OptSpec specs[] = {
  {"--data", "PATH", ARG_STRING, F(data), 0, 0, NULL, "MNIST files (raw or .gz IDX), or any format of docs/data.md"},
  {"--train-images", "F", ARG_STRING, F(train_images), 0, 0, NULL, "instead of --data: training examples (IDX, .npy, F.npz:ARRAY, CIFAR batch)"},
  {"--train-labels", "F", ARG_STRING, F(train_labels), 0, 0, NULL, "their labels"},
  {"--test-images", "F", ARG_STRING, F(test_images), 0, 0, NULL, "test examples"},
  {"--test-labels", "F", ARG_STRING, F(test_labels), 0, 0, NULL, "their labels"},
  {"--val-fraction", "X", ARG_REAL, F(val_fraction), 1e-9, 0.999999, NULL,
   "validation = this last share of the training file"},
  {"--val-count", "N", ARG_INT, F(val_count), 1, INT_MAX, NULL, "validation = the last N training examples"},
  {"--val-images", "F", ARG_STRING, F(val_images), 0, 0, NULL,
   "a validation set of its own (then all of the training file trains)"},
  {"--val-labels", "F", ARG_STRING, F(val_labels), 0, 0, NULL, "its labels"},
  {"--train-targets", "F", ARG_STRING, F(train_targets), 0, 0, NULL,
   "a model's second input (a dense target), one per training example (IDX, .npy, F.npz:ARRAY)"},
  {"--test-targets", "F", ARG_STRING, F(test_targets), 0, 0, NULL, "the same for the test examples"},
  {"--val-targets", "F", ARG_STRING, F(val_targets), 0, 0, NULL, "the same for --val-images"},
  {"--train-input", "NAME=F", ARG_INPUT, F(input_args[DRIVER_SET_TRAIN]), 0, 0, NULL,
   "tensor input NAME's data, one per training example (repeatable)"},
  {"--test-input", "NAME=F", ARG_INPUT, F(input_args[DRIVER_SET_TEST]), 0, 0, NULL, "the same for the test examples"},
  {"--val-input", "NAME=F", ARG_INPUT, F(input_args[DRIVER_SET_VAL]), 0, 0, NULL, "the same for --val-images"},
  {"--normalize", "SPEC", ARG_STRING, F(normalize), 0, 0, NULL,
   "(x - mean) / std per channel: auto, MEAN,STD or M1,..:S1,..; kept in checkpoints"},
  {"--augment", "SPEC", ARG_STRING, F(augment), 0, 0, NULL, "training only: crop=PAD, flip or crop=PAD,flip"},
  {"--resize", "HxW", ARG_STRING, F(resize), 0, 0, NULL,
   "image folders (and --predict-input DIR or image): every image resized to HxW, or auto: the model's input size"},
  {"--epochs", "N", ARG_INT, F(epochs), 0, 1000000, NULL, "epochs to train"},
  {"--batch", "N", ARG_INT, F(batch), 1, INT_MAX, NULL, "batch size (at most the model's maximum)"},
  {"--optimizer", "K", ARG_CHOICE, F(optim.kind), 0, 0, optimizer_names, "sgd, adam, adamw or rmsprop"},
  {"--lr", "X", ARG_REAL, F(optim.lr), 0, 1e6, NULL, "learning rate"},
  {"--momentum", "X", ARG_REAL, F(optim.momentum), 0, 1, NULL, "SGD or RMSprop momentum"},
  {"--dampening", "X", ARG_REAL, F(optim.dampening), 0, 1, NULL, "SGD dampening of the momentum"},
  {"--nesterov", NULL, ARG_FLAG, F(optim.nesterov), 0, 0, NULL, "SGD Nesterov momentum"},
  {"--beta1", "X", ARG_REAL, F(optim.beta1), 0, 1, NULL, "Adam/AdamW first-moment decay, < 1"},
  {"--beta2", "X", ARG_REAL, F(optim.beta2), 0, 1, NULL, "Adam/AdamW second-moment decay, < 1"},
  {"--eps", "X", ARG_REAL, F(optim.eps), 0, 1, NULL, "Adam/AdamW/RMSprop denominator term"},
  {"--amsgrad", NULL, ARG_FLAG, F(optim.amsgrad), 0, 0, NULL, "Adam/AdamW with AMSGrad's maximum"},
  {"--alpha", "X", ARG_REAL, F(optim.alpha), 0, 1, NULL, "RMSprop: decay of the squared-gradient average"},
  {"--centered", NULL, ARG_FLAG, F(optim.centered), 0, 0, NULL,
   "RMSprop: normalise by the gradient's estimated variance"},
  {"--weight-decay", "X", ARG_REAL, F(optim.weight_decay), 0, 1e6, NULL,
   "L2 (adam, sgd) or decoupled (adamw) decay"},
  {"--no-bias-decay", NULL, ARG_FLAG, F(no_bias_decay), 0, 0, NULL,
   "no weight decay for 1-d tensors (biases, normalisation parameters)"},
  {"--schedule", "K", ARG_CHOICE, F(sched.kind), 0, 0, schedule_names,
   "learning-rate schedule: none, step, multistep, exponential, cosine, onecycle, plateau"},
  {"--step-size", "N", ARG_INT, F(sched.step_size), 1, 1000000, NULL, "step: epochs between decays"},
  {"--milestones", "E1,E2", ARG_MILESTONES, F(sched), 0, 1000000, NULL,
   "multistep: the epochs after which lr decays"},
  {"--gamma", "X", ARG_REAL, F(sched.gamma), 0, 1e6, NULL, "step, multistep, exponential: decay factor"},
  {"--t-max", "N", ARG_INT, F(sched.t_max), 0, 1000000, NULL, "cosine: epochs to eta-min (0: --epochs)"},
  {"--eta-min", "X", ARG_REAL, F(sched.eta_min), 0, 1e6, NULL, "cosine: the lowest learning rate"},
  {"--pct-start", "X", ARG_REAL, F(sched.pct_start), 0, 1, NULL,
   "onecycle (peak lr = --lr): share of the steps spent rising"},
  {"--div-factor", "X", ARG_REAL, F(sched.div_factor), 1e-6, 1e12, NULL, "onecycle: start lr = --lr / X"},
  {"--final-div-factor", "X", ARG_REAL, F(sched.final_div_factor), 1e-6, 1e12, NULL,
   "onecycle: last lr = start lr / X"},
  {"--factor", "X", ARG_REAL, F(sched.factor), 0, 1, NULL, "plateau: lr factor at each reduction"},
  {"--plateau-patience", "N", ARG_INT, F(sched.patience), 0, 1000000, NULL,
   "plateau: epochs without a better validation loss before a reduction"},
  {"--threshold", "X", ARG_REAL, F(sched.threshold), 0, 1, NULL,
   "plateau: relative improvement that counts as better"},
  {"--cooldown", "N", ARG_INT, F(sched.cooldown), 0, 1000000, NULL,
   "plateau: epochs after a reduction before counting again"},
  {"--min-lr", "X", ARG_REAL, F(sched.min_lr), 0, 1e6, NULL, "plateau: the lowest learning rate"},
  {"--warmup", "N", ARG_INT, F(sched.warmup), 0, 1000000, NULL,
   "epochs of linear warm-up, chained with the schedule (0: none)"},
  {"--warmup-factor", "X", ARG_REAL, F(sched.warmup_factor), 0, 1, NULL, "warm-up: lr factor of epoch 1"},
  {"--clip-norm", "X", ARG_REAL, F(clip_norm), 0, 1e12, NULL,
   "clip the gradient's global 2-norm to X (0: off)"},
  {"--clip-value", "X", ARG_REAL, F(clip_value), 0, 1e12, NULL,
   "clamp every gradient entry to [-X, X] (0: off)"},
  {"--seed", "N", ARG_U64, F(seed), 0, 0, NULL, "random seed"},
  {"--threads", "N", ARG_INT, F(threads), 1, 4096, NULL, "threads (OMP_NUM_THREADS or processors)"},
  {"--save", "FILE", ARG_STRING, F(save), 0, 0, NULL, "write a checkpoint after every epoch"},
  {"--load", "FILE", ARG_STRING, F(load), 0, 0, NULL, "start from a checkpoint's parameters"},
  {"--load-prefix", "P", ARG_STRING, F(load_prefix), 0, 0, NULL, "with --load: only tensors named P*"},
  {"--resume", "FILE", ARG_STRING, F(resume), 0, 0, NULL, "continue the run saved in FILE"},
  {"--log", "FILE.csv", ARG_STRING, F(log), 0, 0, NULL, "per-epoch CSV log"},
  {"--patience", "N", ARG_INT, F(patience), 0, 1000000, NULL,
   "stop after N epochs without a better validation loss (0: off)"},
  {"--predict", "DIR", ARG_STRING, F(predict), 0, 0, NULL,
   "write the exports over a split to DIR/NAME.npy (+ labels, predicted)"},
  {"--predict-split", "S", ARG_CHOICE, F(predict_split), 0, 0, split_names, "--predict: test, val or train"},
  {"--predict-format", "F", ARG_CHOICE, F(predict_format), 0, 0, format_names,
   "--predict: npy ([n, per-example shape]) or csv (a line per example)"},
  {"--predict-grid", "N", ARG_INT, F(predict_grid), 0, 100000, NULL,
   "--predict: NAME.png, N [1|3, H, W] examples clamped to [0, 1] (0: none)"},
  {"--predict-input", "[NAME=]F", ARG_INPUT, F(input_args[DRIVER_SET_PREDICT]), 0, 0, NULL,
   "--predict over F (IDX, .npy, F.npz:ARRAY, CIFAR batch, image folder, one PNG/JPEG; no labels) with --load; "
   "NAME=F: a further input's"},
  {"--json", NULL, ARG_FLAG, F(json), 0, 0, NULL, "print a JSON summary as the last line of stdout"},
  {"--quiet", NULL, ARG_FLAG, F(quiet), 0, 0, NULL, "no progress output"},
};
#undef F
enum { N_SPECS = sizeof specs / sizeof specs[0] };

static void *field(DriverOptions *o, const OptSpec *s) { return (char *)o + s->off; }

// The default of s as --help prints it, read from d.
static void default_text(char *buf, size_t size, DriverOptions *d, const OptSpec *s) {
  const void *p = field(d, s);
  switch (s->kind) {
  case ARG_FLAG: snprintf(buf, size, "%s", *(const int *)p ? "on" : "off"); break;
  case ARG_INT: snprintf(buf, size, "%d", *(const int *)p); break;
  case ARG_U64: snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)p); break;
  case ARG_REAL: snprintf(buf, size, "%g", *(const double *)p); break;
  case ARG_STRING: snprintf(buf, size, "%s", *(const char *const *)p ? *(const char *const *)p : "none"); break;
  case ARG_CHOICE: snprintf(buf, size, "%s", s->choices[*(const int *)p]); break;
  case ARG_MILESTONES: case ARG_INPUT: snprintf(buf, size, "none"); break;
  }
  if (!strcmp(s->name, "--load-prefix"))
    snprintf(buf, size, "all");
  if (!strcmp(s->name, "--normalize"))
    snprintf(buf, size, "none; with --load/--resume: the checkpoint's");
  if (!strcmp(s->name, "--val-count"))
    snprintf(buf, size, "none");
  // Defaults that depend on another option: AdamW's decay is torch's 1e-2.
  if (!strcmp(s->name, "--weight-decay")) {
    size_t k = strlen(buf);
    snprintf(buf + k, size - k, "; adamw: %g", optim_config_default(OPTIM_ADAMW).weight_decay);
  }
}

void driver_usage(FILE *f, const char *prog, const NetModel *m, const DriverOptions *defaults) {
  DriverOptions d = *defaults;
  fprintf(f, "usage: %s [options]\nTrains the model '%s' on MNIST (at most %d examples a batch).\n\n",
          prog, m->name, m->max_batch);
  for (int i = 0; i < N_SPECS; i++) {
    const OptSpec *s = &specs[i];
    char left[48], def[128];
    snprintf(left, sizeof left, "%s%s%s", s->name, s->metavar ? " " : "", s->metavar ? s->metavar : "");
    default_text(def, sizeof def, &d, s);
    fprintf(f, "  %-22s %s [%s]\n", left, s->help, def);
  }
  fprintf(f, "  %-22s this text\n", "--help");
  fprintf(f, "\n--epochs 0 with --load or --resume evaluates the checkpoint (validation and test, no\n"
             "training, nothing saved); --predict DIR then writes the exports as DIR/NAME.npy.\n"
             "--load C --predict-input F --predict DIR runs C over F's examples alone (no labels, no\n"
             "training, C's --normalize).  A model's further tensor inputs take their data by name:\n"
             "--train-input NAME=F (--test-input, --val-input, --predict-input NAME=F); F is IDX, .npy,\n"
             "F.npz:ARRAY or a CIFAR batch (docs/data.md).  A trainer runs its whole model; for one net's code alone:\n"
             "netc MODEL.net --net NAME -o DIR, or netc run MODEL.net --net NAME (the interpreter).\n");
}

static void usage(FILE *f, const char *prog, const NetModel *m) {
  DriverOptions d;
  driver_options_default(&d);
  driver_usage(f, prog, m, &d);
}

int driver_option_names(const char **names, int max) {
  int n = 0;
  for (int i = 0; i < N_SPECS && n < max; i++)
    names[n++] = specs[i].name;
  return n;
}

static int unknown_option(const char *a) {
  if (!strcmp(a, "--net")) {
    // A generated trainer's code is its whole model.
    fprintf(stderr, "error: --net: this trainer runs its whole model; one net alone runs with the "
            "interpreter (netc run MODEL.net --net NAME) or as C of its own (netc MODEL.net --net NAME -o DIR)\n");
    return 2;
  }
  const char *names[N_SPECS];
  for (int i = 0; i < N_SPECS; i++)
    names[i] = specs[i].name;
  suggest_unknown_option(a, names, N_SPECS);
  return 2;
}

static int parse_int(const char *opt, const char *s, long lo, long hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "error: %s: '%s' is not an integer in [%ld, %ld]\n", opt, s, lo, hi);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s == '-' || *s == 0) goto bad;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) goto bad;
  *out = v;
  return 0;
bad:
  fprintf(stderr, "error: %s: '%s' is not a non-negative integer\n", opt, s);
  return -1;
}

static int parse_real(const char *opt, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
    fprintf(stderr, "error: %s: '%s' is not a number in [%g, %g]\n", opt, s, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_choice(const OptSpec *s, const char *v, int *out) {
  for (int k = 0; s->choices[k]; k++)
    if (!strcmp(v, s->choices[k])) {
      *out = k;
      return 0;
    }
  fprintf(stderr, "error: %s: '%s' is not one of", s->name, v);
  for (int k = 0; s->choices[k]; k++)
    fprintf(stderr, "%s %s", k ? "," : "", s->choices[k]);
  fputc('\n', stderr);
  return -1;
}

// "30,60,90": ascending epochs into c->milestones.
static int parse_milestones(const OptSpec *s, const char *v, SchedConfig *c) {
  c->n_milestones = 0;
  for (const char *p = v;;) {
    char *end;
    errno = 0;
    long e = strtol(p, &end, 10);
    if (errno || end == p || e < 1 || e > (long)s->hi || (*end && *end != ',') ||
        c->n_milestones == SCHED_MAX_MILESTONES ||
        (c->n_milestones && e < c->milestones[c->n_milestones - 1])) {
      fprintf(stderr, "error: %s: '%s' is not a list of at most %d ascending epochs (30,60,90)\n",
              s->name, v, SCHED_MAX_MILESTONES);
      return -1;
    }
    c->milestones[c->n_milestones++] = (int)e;
    if (!*end)
      return 0;
    p = end + 1;
  }
}

// Stores value v of option s in o; returns 0 or -1 (message printed).
static int parse_value(DriverOptions *o, const OptSpec *s, const char *v) {
  void *p = field(o, s);
  switch (s->kind) {
  case ARG_FLAG: *(int *)p = 1; return 0;
  case ARG_INT: return parse_int(s->name, v, (long)s->lo, (long)s->hi, p);
  case ARG_U64: return parse_u64(s->name, v, p);
  case ARG_REAL: return parse_real(s->name, v, s->lo, s->hi, p);
  case ARG_STRING: *(const char **)p = v; return 0;
  case ARG_CHOICE: return parse_choice(s, v, p);
  case ARG_MILESTONES: return parse_milestones(s, v, p);
  case ARG_INPUT: {
    DriverInputArgs *a = p;
    if (a->n == DRIVER_MAX_INPUT_ARGS) {
      fprintf(stderr, "error: %s: at most %d values\n", s->name, DRIVER_MAX_INPUT_ARGS);
      return -1;
    }
    a->arg[a->n++] = v;
    return 0;
  }
  }
  return -1;
}

static int is_given(const int *given, const char *name) {
  for (int i = 0; i < N_SPECS; i++)
    if (!strcmp(specs[i].name, name))
      return given[i];
  return 0;
}

// A schedule's own options given without it; then schedule_check's rules.
static const char *sched_options(const DriverOptions *o, const int *given) {
  static const struct { const char *name; int kind; } own[] = {
    {"--step-size", SCHED_STEP}, {"--milestones", SCHED_MULTISTEP}, {"--t-max", SCHED_COSINE},
    {"--eta-min", SCHED_COSINE}, {"--pct-start", SCHED_ONECYCLE}, {"--div-factor", SCHED_ONECYCLE},
    {"--final-div-factor", SCHED_ONECYCLE}, {"--factor", SCHED_PLATEAU},
    {"--plateau-patience", SCHED_PLATEAU}, {"--threshold", SCHED_PLATEAU},
    {"--cooldown", SCHED_PLATEAU}, {"--min-lr", SCHED_PLATEAU}};
  static char msg[96];
  const SchedConfig *c = &o->sched;
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    if (is_given(given, own[i].name) && c->kind != own[i].kind) {
      snprintf(msg, sizeof msg, "%s applies to --schedule %s only", own[i].name,
               schedule_names[own[i].kind]);
      return msg;
    }
  if (is_given(given, "--gamma") && c->kind != SCHED_STEP && c->kind != SCHED_MULTISTEP &&
      c->kind != SCHED_EXPONENTIAL)
    return "--gamma applies to --schedule step, multistep or exponential only";
  if (is_given(given, "--warmup-factor") && c->warmup == 0)
    return "--warmup-factor needs --warmup N";
  return schedule_check(c, o->epochs);
}

// "t, y, x": the model's tensor input names, for messages.
static void input_names(char *buf, size_t size, const NetModel *m) {
  size_t k = 0;
  buf[0] = 0;
  for (int j = 0; m->inputs && j < m->n_inputs && k < size; j++)
    k += (size_t)snprintf(buf + k, size - k, "%s%s", j ? ", " : "", m->inputs[j].name);
}

// --train-input NAME=F and its twins against the model's tensor inputs
// (--predict-input F: the first input): the first input's file goes to
// train_images (val_images, test_images, predict_input), input j's to
// input_file[set][j]; --train-targets and its twins feed input 2 (j = 1).
// Returns 0 or 2 (message printed).
static int resolve_inputs(DriverOptions *o, const NetModel *m) {
  static const char *const opt[4] = {"--train-input", "--val-input", "--test-input", "--predict-input"};
  static const char *const first_opt[4] = {"--train-images", "--val-images", "--test-images", "--predict-input F"};
  const char **first[4] = {&o->train_images, &o->val_images, &o->test_images, &o->predict_input};
  const char *targets[3] = {o->train_targets, o->val_targets, o->test_targets};
  char names[512];
  input_names(names, sizeof names, m);
  for (int set = 0; set < 4; set++) {
    if (set < 3 && targets[set] && m->inputs && m->n_inputs >= 2)
      o->input_file[set][1] = targets[set];
    for (int i = 0; i < o->input_args[set].n; i++) {
      const char *a = o->input_args[set].arg[i], *eq = strchr(a, '='), *file = a;
      int j = -1;
      for (int k = 0; eq && m->inputs && k < m->n_inputs; k++)
        if (strlen(m->inputs[k].name) == (size_t)(eq - a) && !strncmp(a, m->inputs[k].name, (size_t)(eq - a)))
          j = k;
      if (j >= 0)
        file = eq + 1;
      else if (set == DRIVER_SET_PREDICT)
        j = 0;                    // F alone: the first input's examples
      if (j < 0 || !*file) {
        if (!m->inputs)
          fprintf(stderr, "error: %s: '%s': model %s has one tensor input, fed by --data or %s\n", opt[set], a,
                  m->name, first_opt[set]);
        else
          fprintf(stderr, "error: %s: '%s' is not NAME=FILE with NAME a tensor input of model %s (%s)\n", opt[set],
                  a, m->name, names);
        return 2;
      }
      const char **slot = j == 0 ? first[set] : &o->input_file[set][j];
      if (*slot) {
        fprintf(stderr, "error: %s: input %s's data is given twice (%s and %s)\n", opt[set],
                m->inputs ? m->inputs[j].name : "1", *slot, file);
        return 2;
      }
      *slot = file;
    }
  }
  return 0;
}

// --resize HxW, or auto: the last two dimensions of the model's first
// input ([C, H, W] or [H, W]).  Returns 0 or 2 (a usage error).
static int resize_parse(const char *spec, const NetModel *m, int *h, int *w) {
  if (!strcmp(spec, "auto")) {
    const NetOutput *in0 = m->inputs ? &m->inputs[0] : NULL;
    int rank = in0 ? in0->rank : m->input_rank;
    const int *dim = in0 ? in0->dim : m->input_dim;
    if (rank < 2) {
      fprintf(stderr, "error: --resize auto: model %s's input is not an image ([H, W] or [C, H, W]); give "
              "--resize HxW\n", m->name);
      return 2;
    }
    *h = dim[rank - 2], *w = dim[rank - 1];
    return 0;
  }
  char x, end;
  if (sscanf(spec, "%d%c%d%c", h, &x, w, &end) != 3 || (x != 'x' && x != 'X') || *h < 1 || *w < 1 ||
      *h > 4096 || *w > 4096) {
    fprintf(stderr, "error: --resize '%s' is not HxW (e.g. 32x32, each 1 to 4096) or auto\n", spec);
    return 2;
  }
  return 0;
}

// The rules between options, after parsing.  Returns 0 or 2 (message printed).
static int check_options(DriverOptions *o, const int *given, const NetModel *m) {
  if (resolve_inputs(o, m))
    return 2;
  int val_inputs = 0, predict_inputs = 0;
  for (int j = 1; j < MNIST_MAX_INPUTS; j++)
    val_inputs |= o->input_file[DRIVER_SET_VAL][j] != NULL, predict_inputs |= o->input_file[DRIVER_SET_PREDICT][j] != NULL;
  OptimConfig *c = &o->optim;
  // AdamW's torch default decay applies when none is given.
  if (!is_given(given, "--weight-decay"))
    c->weight_decay = optim_config_default(c->kind).weight_decay;
  const int sgd = c->kind == OPTIM_SGD, rmsprop = c->kind == OPTIM_RMSPROP, adam = !sgd && !rmsprop;
  const char *bad = NULL;
  if (!sgd && !rmsprop && c->momentum != 0)
    bad = "--momentum applies to --optimizer sgd or rmsprop only";
  else if (!sgd && (c->nesterov || c->dampening != 0))
    bad = "--dampening and --nesterov apply to --optimizer sgd only";
  else if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
    bad = "--nesterov needs --momentum > 0 and no --dampening";
  else if (!adam && (is_given(given, "--beta1") || is_given(given, "--beta2") || c->amsgrad))
    bad = "--beta1, --beta2 and --amsgrad apply to --optimizer adam or adamw only";
  else if (sgd && is_given(given, "--eps"))
    bad = "--eps applies to --optimizer adam, adamw or rmsprop only";
  else if (!rmsprop && (is_given(given, "--alpha") || c->centered))
    bad = "--alpha and --centered apply to --optimizer rmsprop only";
  else if (c->beta1 >= 1 || c->beta2 >= 1)
    bad = "--beta1 and --beta2 must be below 1";
  else if ((bad = sched_options(o, given)))
    ;
  else if (o->clip_norm > 0 && o->clip_value > 0)
    bad = "--clip-norm and --clip-value exclude each other";
  else if (o->load_prefix && !o->load)
    bad = "--load-prefix needs --load";
  else if (o->load && o->resume)
    bad = "--load and --resume exclude each other";
  else if (o->epochs == 0 && !o->load && !o->resume)
    bad = "--epochs 0 evaluates a checkpoint: give --load FILE or --resume FILE "
          "(evaluating random weights is almost surely a mistake)";
  else if (o->epochs == 0 && (o->save || o->log))
    bad = "--epochs 0 trains nothing: --save and --log do not apply";
  else if (!o->predict && (is_given(given, "--predict-split") || is_given(given, "--predict-format") ||
                            is_given(given, "--predict-grid") || o->predict_input))
    bad = "--predict-split, --predict-format, --predict-grid and --predict-input need --predict DIR";
  else if (o->predict_input && !o->load)
    bad = "--predict-input runs a checkpoint: give --load FILE";
  else if (o->predict_input && ((is_given(given, "--epochs") && o->epochs > 0) || o->save || o->log ||
                                is_given(given, "--predict-split")))
    bad = "--predict-input trains nothing: --epochs N > 0, --save, --log and --predict-split do not apply";
  else if (o->predict_input && o->normalize && !strcmp(o->normalize, "auto"))
    bad = "--predict-input: --normalize auto needs training data; leave --normalize out to use the "
          "checkpoint's";
  else if (!m->train_step && !o->predict_input)
    bad = "this model runs one net forward only (netc run --net): give --load FILE --predict-input F "
          "--predict DIR";
  else if ((is_given(given, "--val-fraction") + is_given(given, "--val-count") + !!o->val_images) > 1)
    bad = "--val-fraction, --val-count and --val-images exclude each other";
  else if (o->val_labels && !o->val_images)
    bad = "--val-labels needs --val-images";
  else if ((o->test_targets || o->val_targets) && !o->train_targets)
    bad = "--test-targets and --val-targets need --train-targets";
  else if (o->val_targets && !o->val_images)
    bad = "--val-targets needs --val-images";
  else if (val_inputs && !o->val_images)
    bad = "--val-input needs --val-images (or --val-input for the first input)";
  else if (predict_inputs && !o->predict_input)
    bad = "--predict-input NAME=F needs the first input's examples too (--predict-input F)";
  else if (o->resize && o->train_images)
    bad = "--resize applies to image folders (--data DIR, --predict-input DIR), not to --train-images";
  if (bad) {
    fprintf(stderr, "error: %s\n", bad);
    return 2;
  }
  if (o->predict_input)
    o->epochs = 0;
  // The data options' values: their syntax now (a usage error), their fit
  // to the data once it is loaded (run_init, resolve_norm).
  o->resplit = is_given(given, "--val-fraction") || is_given(given, "--val-count");
  MnistNorm norm;
  int is_auto;
  if ((o->normalize && mnist_norm_parse(o->normalize, &norm, &is_auto)) ||
      (o->augment && mnist_augment_parse(o->augment, &o->aug)) ||
      (o->resize && resize_parse(o->resize, m, &o->resize_h, &o->resize_w)))
    return 2;
  if (m->max_batch > 0 && o->batch > m->max_batch) {
    fprintf(stderr, "note: --batch %d is larger than this trainer's maximum; using %d\n",
            o->batch, m->max_batch);
    o->batch = m->max_batch;
  }
  return 0;
}

int driver_parse(DriverOptions *o, const NetModel *m, int argc, char **argv) {
  const char *prog = argc > 0 ? argv[0] : "train";
  driver_options_default(o);
  int given[N_SPECS] = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout, prog, m);
      return 1;
    }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "error: unexpected argument '%s' (see --help)\n", a);
      return 2;
    }
    int k = 0;
    while (k < N_SPECS && strcmp(a, specs[k].name) != 0)
      k++;
    if (k == N_SPECS)
      return unknown_option(a);
    const char *v = NULL;
    if (specs[k].kind != ARG_FLAG) {
      if (i + 1 >= argc) {
        fprintf(stderr, "error: %s needs a value (see --help)\n", a);
        return 2;
      }
      v = argv[++i];
    }
    if (parse_value(o, &specs[k], v))
      return 2;
    given[k] = 1;
  }
  return check_options(o, given, m);
}

// ---------------------------------------------------------------- training

// Salts that separate the seed streams derived from the run seed.
#define SALT_SHUFFLE 0x73687566u   // per-epoch shuffle
#define SALT_STEP 0x73746570u      // per-step model randomness
#define SALT_VAL 0x76616cu         // validation forward (same every epoch)
#define SALT_TEST 0x74657374u      // test forward
#define SALT_TRAIN_PREDICT 0x70726564u   // --predict-split train's forward
#define SALT_AUGMENT 0x61756721u   // per-epoch augmentation (crop, flip)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
  float *x;                  // [batch, input_size]
  int32_t *labels;           // [batch]
  float **outs;              // [n_outputs] -> [batch, size]
  int *order;                // [train.n]
  float *best;               // [n_params] when early stopping, else NULL
  uint8_t *decay;            // [n_trainable] with --no-bias-decay (0: exempt), else NULL
} Work;

static void work_free(Work *w, int n_outputs) {
  free(w->x);
  free(w->labels);
  if (w->outs)
    for (int i = 0; i < n_outputs; i++)
      free(w->outs[i]);
  free(w->outs);
  free(w->order);
  free(w->best);
  free(w->decay);
}

// --no-bias-decay's mask: the trainable floats of 1-d tensors are exempt.
static uint8_t *decay_mask(const NetModel *m) {
  uint8_t *d = malloc(m->n_trainable ? m->n_trainable : 1);
  if (!d)
    return NULL;
  for (int t = 0; t < m->n_tensors; t++) {
    const NetTensor *T = &m->tensors[t];
    if (!T->frozen)
      memset(d + T->offset, T->rank > 1, T->numel);
  }
  return d;
}

static int work_init(Work *w, const NetModel *m, int batch, int ntrain, int early) {
  memset(w, 0, sizeof *w);
  int ok = (w->x = malloc(sizeof(float) * batch * (size_t)(m->input_size > 0 ? m->input_size : 1))) &&
           (w->labels = malloc(sizeof *w->labels * (size_t)batch)) &&
           (w->outs = calloc(m->n_outputs ? m->n_outputs : 1, sizeof *w->outs)) &&
           (w->order = malloc(sizeof(int) * (size_t)(ntrain > 0 ? ntrain : 1)));
  for (int i = 0; ok && i < m->n_outputs; i++)
    ok = (w->outs[i] = malloc(sizeof(float) * batch * (m->outputs[i].size ? m->outputs[i].size : 1))) != NULL;
  if (ok && early)
    ok = (w->best = malloc(sizeof(float) * (m->n_params ? m->n_params : 1))) != NULL;
  if (!ok) {
    fprintf(stderr, "error: out of memory for batch buffers\n");
    work_free(w, m->n_outputs);
  }
  return ok ? 0 : -1;
}

static int has_accuracy(const NetModel *m) {
  return m->needs_labels && m->class_output >= 0 && m->class_output < m->n_outputs;
}

// mnist_batch_prep into w->x; with further tensor inputs, each row of
// w->x is the example's input then their data (mnist_batch_inputs).
static void batch_fill(Work *w, const Mnist *d, const MnistSet *s, const int *order, int start, int n,
                       const MnistNorm *norm, const MnistAugment *aug, uint64_t seed) {
  if (mnist_row_size(s) == s->size)
    mnist_batch_prep(d, s, order, start, n, w->x, w->labels, norm, aug, seed);
  else
    mnist_batch_inputs(d, s, order, start, n, w->x, w->labels, norm, aug, seed);
}

// Mean loss (and accuracy, -1 without labels) over the whole set s.
static void evaluate(NetModel *m, const Mnist *d, const MnistSet *s, const MnistNorm *norm, int batch,
                     uint64_t seed, Work *w, double *loss, double *acc) {
  int acc_on = has_accuracy(m);
  double sum = 0;
  long correct = 0;
  for (int start = 0; start < s->n; start += batch) {
    int nb = s->n - start < batch ? s->n - start : batch;
    batch_fill(w, d, s, NULL, start, nb, norm, NULL, 0);
    float l = m->forward(m, w->x, m->needs_labels ? w->labels : NULL, nb,
                         rng_hash2(seed, (uint64_t)start), acc_on ? w->outs : NULL);
    sum += (double)l * nb;
    if (acc_on) {
      int c = (int)m->outputs[m->class_output].size;
      const float *y = w->outs[m->class_output];
      for (int i = 0; i < nb; i++) {
        int best = 0;
        for (int j = 1; j < c; j++)
          if (y[(size_t)i * c + j] > y[(size_t)i * c + best]) best = j;
        correct += best == w->labels[i];
      }
    }
  }
  *loss = sum / s->n;
  *acc = acc_on ? (double)correct / s->n : -1;
}

static void fmt_time(char *buf, size_t size, double s) {
  long t = s > 0 && s < 1e8 ? (long)(s + 0.5) : 0;
  if (t >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void progress_bar(int epoch, int epochs, int step, int steps, double loss,
                         double ips, double eta) {
  char bar[21], e[32];
  int fill = steps ? 20 * step / steps : 20;
  for (int i = 0; i < 20; i++)
    bar[i] = i < fill ? '=' : ' ';
  bar[20] = 0;
  fmt_time(e, sizeof e, eta);
  fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %d/%d loss %.5f %.0f img/s ETA %s",
          epoch, epochs, bar, step, steps, loss, ips, e);
  fflush(stderr);
}

// A resumed run continues the log after `epoch`: rows of later epochs (a
// run resumed from an older checkpoint) are dropped, by writing the kept
// rows to PATH.tmp and renaming it over PATH.
static int log_trim(const char *path, int epoch) {
  FILE *in = fopen(path, "r");
  if (!in)
    return errno == ENOENT ? 0 : -1;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5), line[512];
  if (!tmp) {
    fclose(in);
    return -1;
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  FILE *out = fopen(tmp, "w");
  int ok = out != NULL, first = 1;
  while (ok && fgets(line, sizeof line, in)) {
    int e;
    int keep = first || (sscanf(line, "%d,", &e) == 1 && e <= epoch);
    first = 0;
    if (keep && fputs(line, out) == EOF) ok = 0;
  }
  ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fileno(out)) == 0;
  fclose(in);
  if (out && fclose(out) != 0) ok = 0;
  ok = ok && rename(tmp, path) == 0;
  if (!ok) {
    fprintf(stderr, "%s: cannot trim the log to epoch %d: %s\n", path, epoch, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  return ok ? 0 : -1;
}

// Opens the CSV log: a fresh run truncates it and writes the header; a
// resumed run appends (header only if the file is empty).
static int log_open(const char *path, int append) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | (append ? 0 : O_TRUNC), 0644);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot open log: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size == 0) {
    static const char head[] =
        "epoch,train_loss,val_loss,val_accuracy,seconds,images_per_second,lr\n";
    if (write(fd, head, sizeof head - 1) != (ssize_t)(sizeof head - 1)) {
      fprintf(stderr, "%s: write failed: %s\n", path, strerror(errno));
      close(fd);
      return -1;
    }
  }
  return fd;
}

// One row in one write(2) on an O_APPEND descriptor, then fsync: a crash
// leaves whole rows only.
static int log_row(int fd, const char *path, int epoch, double train, double val,
                   double acc, double secs, double ips, double lr) {
  char row[256], a[32] = "";
  if (acc >= 0)
    snprintf(a, sizeof a, "%.6f", acc);
  int n = snprintf(row, sizeof row, "%d,%.9g,%.9g,%s,%.3f,%.1f,%.9g\n", epoch, train, val, a, secs,
                   ips, lr);
  if (write(fd, row, (size_t)n) != n || fsync(fd) != 0) {
    fprintf(stderr, "%s: write failed: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

static void json_number(FILE *f, const char *key, double v) {
  if (isfinite(v)) fprintf(f, ",\"%s\":%.9g", key, v);
  else fprintf(f, ",\"%s\":null", key);
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

// One run's state, shared by the named steps of driver_run.
typedef struct {
  NetModel *m;
  const DriverOptions *o;
  const Mnist *d;
  DriverResult *r;
  Optim opt;
  Work w;
  CkptTrain tr;              // what a checkpoint carries; tr.epoch = epochs done
  int batch, steps;          // steps per epoch
  int tty;                   // draw the progress bar (stderr is a terminal)
  int logfd;                 // the CSV log, or -1
  MnistNorm norm;            // the input normalisation (channels 0: none)
  const MnistAugment *aug;   // training augmentation, or NULL
} Run;

// What one epoch measured.
typedef struct {
  double train_loss;         // mean over the epoch's examples
  double val_loss, val_acc;  // val_acc: -1 without labels
  double train_secs, secs;   // training alone; training and validation
  double lr;                 // the learning rate of the epoch's last step
} Epoch;

// A NaN or infinite loss stops the run, whether the training step saw it
// or the validation after the epoch (which then blames the epoch's last
// update): the message names the epoch and step, --json callers get one
// line in one format, and the exit status says "diverged".
static int report_divergence(const Run *run, const char *which, double loss, int epoch, int step) {
  const NetModel *m = run->m;
  const DriverOptions *o = run->o;
  if (run->tty) fputc('\n', stderr);
  fprintf(stderr, "error: %s: the %s loss is %s at epoch %d, step %d of %d", m->name, which,
          isnan(loss) ? "NaN" : "infinite", epoch, step, run->steps);
  if (strcmp(which, "training") != 0)
    fprintf(stderr, " (evaluated after the epoch's last update)");
  fprintf(stderr, "; stopping");
  if (o->save && run->tr.epoch > 0)
    fprintf(stderr, " (%s keeps the last good state, epoch %d)", o->save, run->tr.epoch);
  fprintf(stderr, ". Try a smaller --lr.\n");
  if (o->json) {
    printf("{\"model\":");
    json_string(stdout, m->name);
    printf(",\"error\":\"non-finite loss\",\"epoch\":%d,\"step\":%d}\n", epoch, step);
    fflush(stdout);
  }
  return DRIVER_EXIT_DIVERGED;
}

static void run_free(Run *run) {
  if (run->logfd >= 0)
    close(run->logfd);
  work_free(&run->w, run->m->n_outputs);
  optim_free(&run->opt);
}

// The optimiser as configured; OneCycle starts its cycled momentum at 0.95
// (torch's max_momentum), SGD's and RMSprop's too, which then use their
// momentum buffer.  Returns 0 or 1 (message printed).
static int optim_setup(Run *run) {
  const DriverOptions *o = run->o;
  OptimConfig oc = o->optim;
  if (o->sched.kind == SCHED_ONECYCLE) {
    if (oc.kind == OPTIM_SGD || oc.kind == OPTIM_RMSPROP) oc.momentum = 0.95;
    else oc.beta1 = 0.95;
    // (--epochs 0 takes no step: nothing to check.)
    if (o->epochs > 0 && o->sched.pct_start * o->epochs * run->steps < 2) {
      fprintf(stderr, "error: --schedule onecycle: %d epochs of %d steps leave its rising phase "
              "(--pct-start %g) under 2 steps\n", o->epochs, run->steps, o->sched.pct_start);
      return 1;
    }
  }
  return optim_init(&run->opt, &oc, run->m->n_trainable) ? 1 : 0;
}

// The data against the model's inputs: the examples feed the first
// tensor input, --train-input NAME=F (--train-targets: the second) and
// its twins the others.  Labels: present and below the model's classes
// when its loss reads them.  Returns 0 or 1 (message printed).
static int check_data(const NetModel *m, const DriverOptions *o, const Mnist *d) {
  if (m->n_inputs > MNIST_MAX_INPUTS || (m->n_inputs >= 2 && !m->inputs)) {
    fprintf(stderr, "error: model %s has %d tensor inputs; the data feeds at most %d\n", m->name, m->n_inputs,
            MNIST_MAX_INPUTS);
    return 1;
  }
  for (int j = 1; j < m->n_inputs; j++) {
    const char *name = m->inputs[j].name;
    if (d->train.t[j] || d->test.t[j])
      continue;
    if (o->predict_input)
      fprintf(stderr, "error: model %s has a tensor input %s besides the examples: give its data with "
              "--predict-input %s=F (one per example of %s)\n", m->name, name, name, o->predict_input);
    else if (j == 1)
      fprintf(stderr, "error: model %s has a second tensor input, %s: give its data with --train-targets F "
              "(one per training example; --test-targets, --val-targets for those sets; or --train-input %s=F; "
              "or arrays %s_train, %s_test in the --data .npz)\n", m->name, name, name, name, name);
    else
      fprintf(stderr, "error: model %s has a tensor input %s (input %d): give its data with --train-input %s=F "
              "(one per training example; --test-input %s=F, --val-input %s=F for those sets; or arrays "
              "%s_train, %s_test in the --data .npz)\n", m->name, name, j + 1, name, name, name, name, name);
    return 1;
  }
  const NetOutput *in0 = m->inputs ? &m->inputs[0] : NULL;
  if (in0 ? mnist_check_input(d, m->name, in0->rank, in0->dim, (int)in0->size)
          : mnist_check_input(d, m->name, m->input_rank, m->input_dim, m->input_size))
    return 1;
  for (int j = 1; j < m->n_inputs; j++)
    if (mnist_check_extra(d, j, m->name, m->inputs[j].rank, m->inputs[j].dim, (int)m->inputs[j].size))
      return 1;
  if (m->needs_labels && d->unlabelled) {
    fprintf(stderr, "%s: the examples have no labels, and model %s's loss reads one%s\n", d->path[0], m->name,
            o->train_images ? " (--train-labels F)" : "");
    return 1;
  }
  return m->needs_labels && mnist_check_labels(d, m->name, m->n_classes) ? 1 : 0;
}

// Checks the model against MNIST, sets the threads, allocates the
// optimiser state and the batch buffers.  Returns 0 or 1 (message printed).
static int run_init(Run *run, NetModel *m, const DriverOptions *o, const Mnist *d, DriverResult *r) {
  memset(run, 0, sizeof *run);
  run->m = m;
  run->o = o;
  run->d = d;
  run->r = r;
  run->logfd = -1;
  memset(r, 0, sizeof *r);
  r->val_accuracy = r->test_accuracy = -1;
  r->val_loss = NAN;                    // JSON null until an epoch is evaluated
  // The data must fit the model: the examples its first tensor input, the
  // targets (if any) its second, labels below its classes.
  if (check_data(m, o, d))
    return 1;
  if (o->augment) {
    if (mnist_augment_check(d, &o->aug))
      return 1;
    run->aug = &o->aug;
  }
  run->batch = m->max_batch > 0 && m->max_batch < o->batch ? m->max_batch : o->batch;
  run->steps = (d->train.n + run->batch - 1) / run->batch;
  run->tty = !o->quiet && isatty(2);
  omp_set_num_threads(o->threads);
  if (m->set_threads)
    m->set_threads(m, o->threads);
  if (optim_setup(run))
    return 1;
  if (work_init(&run->w, m, run->batch, d->train.n, o->patience > 0)) {
    optim_free(&run->opt);
    return 1;
  }
  if (o->no_bias_decay) {
    if (!(run->w.decay = decay_mask(m))) {
      fprintf(stderr, "error: out of memory for the weight-decay mask\n");
      run_free(run);
      return 1;
    }
    optim_set_decay_mask(&run->opt, run->w.decay);
  }
  run->tr.seed = o->seed;
  run->tr.best_params = run->w.best;
  run->tr.best_val_loss = INFINITY;
  run->tr.has_plateau = o->sched.kind == SCHED_PLATEAU;
  schedule_plateau_init(&run->tr.plateau, o->optim.lr);
  return 0;
}


static int norm_equal(const MnistNorm *a, const MnistNorm *b) {
  if (a->channels != b->channels)
    return 0;
  for (int c = 0; c < a->channels; c++)
    if (a->mean[c] != b->mean[c] || a->std[c] != b->std[c])
      return 0;
  return 1;
}

// The run's input normalisation: --normalize (auto: computed on the
// training split), else the loaded checkpoint's; given both, they must be
// equal, so a model never sees data normalised otherwise than it was
// trained on.  Saved with the run's checkpoints.  Returns 0 or 1.
static int resolve_norm(Run *run) {
  const DriverOptions *o = run->o;
  const Mnist *d = run->d;
  CkptTrain *tr = &run->tr;
  MnistNorm want = {0}, have = {0};
  int is_auto = 0, ch = mnist_channels(d);
  const char *ck = o->resume ? o->resume : o->load;
  if (o->normalize &&
      (mnist_norm_parse(o->normalize, &want, &is_auto) ||
       (is_auto ? mnist_norm_auto(d, &want) : mnist_norm_expand(&want, ch, d->path[0]))))
    return 1;
  if (ck) {
    if (o->resume) {
      have.channels = tr->norm_channels;
      memcpy(have.mean, tr->norm_mean, sizeof have.mean);
      memcpy(have.std, tr->norm_std, sizeof have.std);
    } else if (ckpt_load_norm(o->load, &have.channels, have.mean, have.std)) {
      return 1;
    }
    char a[2200] = "none", b[2200] = "none";
    if (have.channels) mnist_norm_text(a, sizeof a, &have);
    if (want.channels) mnist_norm_text(b, sizeof b, &want);
    if (!o->normalize) {
      want = have;
      if (want.channels && want.channels != ch) {
        fprintf(stderr, "%s: the checkpoint normalises %d channels (--normalize %s); the data has %d\n", ck,
                want.channels, a, ch);
        return 1;
      }
    } else if (!norm_equal(&want, &have)) {
      fprintf(stderr, "%s: the checkpoint was trained with --normalize %s, this run gives %s; leave "
              "--normalize out to use the checkpoint's\n", ck, a, b);
      return 1;
    }
  }
  if (is_auto && !o->quiet) {
    char t[2200];
    mnist_norm_text(t, sizeof t, &want);
    fprintf(stderr, "--normalize auto: %s (mean:std per channel of the %d training examples)\n", t, d->train.n);
  }
  _Static_assert(MNIST_NORM_MAX == CKPT_NORM_MAX, "one channel limit");
  run->norm = want;
  tr->norm_channels = want.channels;
  memcpy(tr->norm_mean, want.mean, sizeof tr->norm_mean);
  memcpy(tr->norm_std, want.std, sizeof tr->norm_std);
  return 0;
}

// The starting state: PyTorch's initialisation from the seed, then --load
// (all tensors or the prefixed ones) or --resume (parameters, optimiser,
// training state); then the CSV log, trimmed to the resumed epoch.
static int run_start(Run *run) {
  NetModel *m = run->m;
  const DriverOptions *o = run->o;
  CkptTrain *tr = &run->tr;
  model_init_params(m, o->seed);
  if (o->load) {
    int rc = o->load_prefix ? ckpt_load_subset(o->load, m, o->load_prefix)
                            : ckpt_load(o->load, m, NULL, NULL);
    if (rc < 0)
      return 1;
  }
  if (o->resume) {
    if (ckpt_load(o->resume, m, &run->opt, tr))
      return 1;
    tr->best_params = run->w.best;
    if (tr->best_epoch > 0)
      run->r->val_loss = tr->best_val_loss;   // until this run evaluates an epoch
    if (!tr->has_best && run->w.best) {
      // The run had no early stopping: start tracking from the loaded state.
      tr->best_epoch = 0;
      tr->best_val_loss = INFINITY;
    }
    // The plateau schedule continues from its saved state, or starts now
    // at --lr if the run had none; other schedules keep none.
    int plateau = o->sched.kind == SCHED_PLATEAU;
    if (plateau && !tr->has_plateau)
      schedule_plateau_init(&tr->plateau, o->optim.lr);
    tr->has_plateau = plateau;
    if (!o->quiet)
      fprintf(stderr, "resuming %s from %s after epoch %d (seed %llu)\n", m->name, o->resume,
              tr->epoch, (unsigned long long)tr->seed);
  }
  if (resolve_norm(run))
    return 1;
  if (o->log && o->resume && log_trim(o->log, tr->epoch))
    return 1;
  if (o->log && (run->logfd = log_open(o->log, o->resume != NULL)) < 0)
    return 1;
  return 0;
}

// The training steps of epoch (0-based): shuffle, then one optimiser step
// per batch.  Returns 0, or DRIVER_EXIT_DIVERGED on a non-finite loss.
static int train_epoch(Run *run, int epoch, Epoch *e) {
  NetModel *m = run->m;
  const MnistSet *train = &run->d->train;
  const uint64_t seed = run->tr.seed;
  const int batch = run->batch, steps = run->steps;
  const DriverOptions *o = run->o;
  double t0 = now(), sum = 0, last_draw = 0;
  mnist_shuffle(run->w.order, train->n, rng_hash2(rng_hash2(seed, SALT_SHUFFLE), (uint64_t)epoch));
  const uint64_t aug_seed = rng_hash2(rng_hash2(seed, SALT_AUGMENT), (uint64_t)epoch);
  // A per-epoch schedule's rate, from the epoch alone (so a resumed run
  // gets the same), or the plateau schedule's (checkpointed); without a
  // schedule the configured rate stays.
  if (o->sched.kind == SCHED_PLATEAU)
    optim_set_lr(&run->opt, run->tr.plateau.lr);
  else if (o->sched.kind != SCHED_ONECYCLE && (o->sched.kind != SCHED_NONE || o->sched.warmup > 0))
    optim_set_lr(&run->opt, schedule_epoch_lr(&o->sched, o->optim.lr, epoch, o->epochs));
  for (int s = 0; s < steps; s++) {
    int start = s * batch;
    int nb = train->n - start < batch ? train->n - start : batch;
    batch_fill(&run->w, run->d, train, run->w.order, start, nb, &run->norm, run->aug, aug_seed);
    uint64_t step_seed = rng_hash2(rng_hash2(rng_hash2(seed, SALT_STEP), (uint64_t)epoch), (uint64_t)s);
    float loss = m->train_step(m, run->w.x, m->needs_labels ? run->w.labels : NULL, nb, step_seed);
    if (!isfinite(loss))
      return report_divergence(run, "training", loss, epoch + 1, s + 1);
    if (o->clip_norm > 0) optim_clip_norm(m->grads, m->n_trainable, o->clip_norm);
    if (o->clip_value > 0) optim_clip_value(m->grads, m->n_trainable, o->clip_value);
    if (o->sched.kind == SCHED_ONECYCLE) {
      // Per step, from the optimiser's step count (checkpointed).
      double lr, momentum;
      schedule_onecycle(&o->sched, o->optim.lr, run->opt.step, (int64_t)o->epochs * steps, &lr, &momentum);
      optim_set_lr(&run->opt, lr);
      optim_set_momentum(&run->opt, momentum);
    }
    optim_step(&run->opt, m->params, m->grads);
    sum += (double)loss * nb;
    double t = now();
    if (run->tty && (t - last_draw > 0.1 || s + 1 == steps)) {
      last_draw = t;
      double ips = (start + nb) / (t - t0 + 1e-9);
      double left = (double)(train->n - start - nb) +
                    (double)(run->o->epochs - epoch - 1) * train->n;
      progress_bar(epoch + 1, run->o->epochs, s + 1, steps, sum / (start + nb), ips, left / ips);
    }
  }
  e->train_secs = now() - t0;
  e->train_loss = sum / train->n;
  e->lr = run->opt.cfg.lr;
  return 0;
}

// Early-stopping bookkeeping after epoch (0-based) was validated: the best
// epoch so far, its parameters (with --patience) and the reported
// validation numbers (the best epoch's with --patience, else the last's).
static void track_best(Run *run, int epoch, const Epoch *e) {
  CkptTrain *tr = &run->tr;
  DriverResult *r = run->r;
  tr->seconds += e->train_secs;
  tr->images += run->d->train.n;
  tr->epoch = epoch + 1;
  if (e->val_loss < tr->best_val_loss) {
    tr->best_val_loss = e->val_loss;
    tr->best_epoch = epoch + 1;
    tr->since_best = 0;
    r->val_loss = e->val_loss;
    r->val_accuracy = e->val_acc;
    if (run->w.best) {
      memcpy(run->w.best, run->m->params, sizeof(float) * run->m->n_params);
      tr->has_best = 1;
    }
  } else {
    tr->since_best++;
  }
  if (!run->w.best) {       // no early stopping: the last epoch is the result
    r->val_loss = e->val_loss;
    r->val_accuracy = e->val_acc;
  }
}

// The epoch's progress line, log row and checkpoint.  Returns 0 or 1.
static int record_epoch(Run *run, int epoch, const Epoch *e) {
  const DriverOptions *o = run->o;
  double ips = run->d->train.n / e->train_secs;
  if (run->tty) fprintf(stderr, "\r\033[K");
  if (!o->quiet) {
    fprintf(stderr, "epoch %d/%d  train %.5f  val %.5f", epoch + 1, o->epochs, e->train_loss, e->val_loss);
    if (e->val_acc >= 0) fprintf(stderr, "  acc %.4f", e->val_acc);
    fprintf(stderr, "  lr %.3g  %.1f s  %.0f img/s\n", e->lr, e->secs, ips);
  }
  // The log row goes first: a crash between the two leaves the log one
  // epoch ahead of the checkpoint, which --resume trims (log_trim); the
  // other order would leave a hole in the log after the resume.
  if (run->logfd >= 0 &&
      log_row(run->logfd, o->log, epoch + 1, e->train_loss, e->val_loss, e->val_acc, e->secs, ips,
              e->lr))
    return 1;
  if (o->save && ckpt_save(o->save, run->m, &run->opt, &run->tr))
    return 1;
  return 0;
}

// After the last epoch: the kept parameters (the best epoch's with
// --patience) are tested, saved once more if they are not the last
// epoch's, and the result filled in.  Returns 0 or 1.
static int run_finish(Run *run, double train_loss) {
  NetModel *m = run->m;
  DriverResult *r = run->r;
  const CkptTrain *tr = &run->tr;
  int restored = run->w.best && tr->has_best;
  if (restored)
    memcpy(m->params, run->w.best, sizeof(float) * m->n_params);
  r->has_test = run->d->test.n > 0;
  if (r->has_test)
    evaluate(m, run->d, &run->d->test, &run->norm, run->batch, rng_hash2(tr->seed, SALT_TEST), &run->w,
             &r->test_loss, &r->test_accuracy);
  else
    r->test_loss = NAN, r->test_accuracy = -1;
  if (run->o->save && restored && ckpt_save(run->o->save, m, &run->opt, tr))
    return 1;
  r->epochs_run = tr->epoch;
  r->best_epoch = tr->best_epoch;
  r->train_loss = train_loss;
  r->seconds = tr->seconds;
  r->train_images_per_second = tr->seconds > 0 ? tr->images / tr->seconds : 0;
  r->lr = run->opt.cfg.lr;
  return 0;
}

// --predict: DIR made if missing (one level, as mkdir).  Returns 0 or 1.
static int predict_dir(const char *dir) {
  struct stat st;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: cannot create the --predict folder: %s\n", dir, strerror(errno));
    return 1;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "%s: --predict needs a folder, and this is not one\n", dir);
    return 1;
  }
  return 0;
}

// --predict: export e's file, [n, d0, d1, ...] in the export's per-example
// shape (a model that gives none, rank 0 with more than one value, gets
// [n, size]).
static int export_open(ArrayOut *f, const char *dir, const NetOutput *e, int csv, size_t n) {
  int size = (int)e->size;
  if (e->rank == 0 && e->size != 1)
    return arrayout_open_shape(f, dir, e->name, csv, ARRAY_F32, n, -1, &size);
  return arrayout_open_shape(f, dir, e->name, csv, ARRAY_F32, n, e->rank, e->dim);
}

// --predict-grid: the first N examples of each image-shaped export
// ([1|3, H, W] per example), kept as the batches pass, drawn at the end.
typedef struct {
  int n;                     // examples to draw (--predict-grid, at most the set's)
  int kept;                  // examples kept so far
  float **img;               // per export: [n, size], or NULL when not image-shaped
} Grid;

static int is_image(const NetOutput *e) {
  return e->rank == 3 && (e->dim[0] == 1 || e->dim[0] == 3);
}

static int grid_init(Grid *g, const NetModel *m, int n) {
  memset(g, 0, sizeof *g);
  g->n = n;
  if (n == 0)
    return 0;
  if (!(g->img = calloc((size_t)m->n_outputs, sizeof *g->img))) {
    fprintf(stderr, "error: out of memory for --predict-grid\n");
    return -1;
  }
  for (int j = 0; j < m->n_outputs; j++)
    if (is_image(&m->outputs[j]) && !(g->img[j] = malloc(sizeof(float) * (size_t)n * m->outputs[j].size))) {
      fprintf(stderr, "error: out of memory for --predict-grid\n");
      return -1;
    }
  return 0;
}

static void grid_add(Grid *g, const NetModel *m, float *const *outs, int start, int nb) {
  int take = g->n - start < nb ? g->n - start : nb;
  if (!g->img || take <= 0)
    return;
  for (int j = 0; j < m->n_outputs; j++)
    if (g->img[j])
      memcpy(g->img[j] + (size_t)start * m->outputs[j].size, outs[j], sizeof(float) * (size_t)take * m->outputs[j].size);
  g->kept = start + take;
}

// Returns the number of PNGs written, or -1 (message printed).
static int grid_write(const Grid *g, const NetModel *m, const char *dir) {
  int count = 0;
  for (int j = 0; g->img && j < m->n_outputs; j++) {
    if (!g->img[j] || g->kept == 0)
      continue;
    const NetOutput *e = &m->outputs[j];
    size_t len = strlen(dir) + strlen(e->name) + 6;
    char *path = malloc(len);
    if (!path) {
      fprintf(stderr, "error: out of memory for --predict-grid\n");
      return -1;
    }
    snprintf(path, len, "%s/%s.png", dir, e->name);
    int rc = imagegrid_write(path, g->img[j], g->kept, e->dim[0], e->dim[1], e->dim[2]);
    free(path);
    if (rc)
      return -1;
    count++;
  }
  return count;
}

static void grid_free(Grid *g, const NetModel *m) {
  for (int j = 0; g->img && j < m->n_outputs; j++)
    free(g->img[j]);
  free(g->img);
  memset(g, 0, sizeof *g);
}

// --predict: the kept parameters forward over the split, in batches seeded
// as evaluate() seeds them, each export streamed into its file.  The
// files appear only once all are complete (each renamed in turn); an error
// drops the temporaries.  Returns 0 or 1.
static int predict(Run *run) {
  NetModel *m = run->m;
  const DriverOptions *o = run->o;
  static const uint64_t salts[] = {SALT_TEST, SALT_VAL, SALT_TRAIN_PREDICT};
  const MnistSet *s = o->predict_split == DRIVER_SPLIT_VAL     ? &run->d->val
                      : o->predict_split == DRIVER_SPLIT_TRAIN ? &run->d->train
                                                               : &run->d->test;
  const uint64_t seed = rng_hash2(run->tr.seed, salts[o->predict_split]);
  const int csv = o->predict_format == 1, cls = m->class_output >= 0 && m->class_output < m->n_outputs;
  // --predict-input has no labels: exports and predicted only.
  const int lab = !o->predict_input, nf = m->n_outputs + lab + cls;
  const int ilab = lab ? m->n_outputs : -1, ipred = m->n_outputs + lab;
  if (s->n == 0 && o->predict_input) {
    fprintf(stderr, "%s: no examples to predict\n", o->predict_input);
    return 1;
  }
  if (s->n == 0) {
    fprintf(stderr, "error: --predict-split %s: the data has no %s set\n", split_names[o->predict_split],
            split_names[o->predict_split]);
    return 1;
  }
  if (predict_dir(o->predict))
    return 1;
  ArrayOut *f = calloc((size_t)nf, sizeof *f);
  int64_t *ints = malloc(sizeof(int64_t) * (size_t)run->batch);
  int ok = f && ints;
  if (!ok)
    fprintf(stderr, "error: out of memory for --predict\n");
  int opened = 0;
  for (; ok && opened < nf; opened++) {
    int j = opened;
    if (j < m->n_outputs)
      ok = export_open(&f[j], o->predict, &m->outputs[j], csv, (size_t)s->n) == 0;
    else
      ok = arrayout_open(&f[j], o->predict, j == ilab ? "labels" : "predicted", csv, ARRAY_I64,
                         (size_t)s->n, 0) == 0;
  }
  if (!ok && opened > 0)
    opened--;                                // the failed one cleaned up after itself
  Grid grid = {0};
  ok = ok && grid_init(&grid, m, o->predict_grid) == 0;
  for (int start = 0; ok && start < s->n; start += run->batch) {
    int nb = s->n - start < run->batch ? s->n - start : run->batch;
    batch_fill(&run->w, run->d, s, NULL, start, nb, &run->norm, NULL, 0);
    m->forward(m, run->w.x, m->needs_labels ? run->w.labels : NULL, nb, rng_hash2(seed, (uint64_t)start),
               run->w.outs);
    for (int j = 0; ok && j < m->n_outputs; j++)
      ok = arrayout_write(&f[j], run->w.outs[j], (size_t)nb) == 0;
    grid_add(&grid, m, run->w.outs, start, nb);
    for (int i = 0; i < nb; i++)
      ints[i] = run->w.labels[i];
    ok = ok && (!lab || arrayout_write(&f[ilab], ints, (size_t)nb) == 0);
    if (ok && cls) {
      int c = (int)m->outputs[m->class_output].size;
      const float *y = run->w.outs[m->class_output];
      for (int i = 0; i < nb; i++) {
        int best = 0;
        for (int k = 1; k < c; k++)
          if (y[(size_t)i * c + k] > y[(size_t)i * c + best]) best = k;
        ints[i] = best;
      }
      ok = arrayout_write(&f[ipred], ints, (size_t)nb) == 0;
    }
  }
  for (int j = 0; j < opened; j++)
    if (arrayout_close(&f[j], ok) != 0)
      ok = 0;
  int pngs = 0;
  if (ok)
    ok = (pngs = grid_write(&grid, m, o->predict)) >= 0;
  grid_free(&grid, m);
  if (ok && !o->quiet)
    fprintf(stderr, "%s: wrote %d export%s%s%s over %d %s%s examples to %s (%d PNG grid%s)\n", m->name,
            m->n_outputs, m->n_outputs == 1 ? "" : "s", lab ? (cls ? ", labels" : " and labels") : "",
            cls ? " and predicted" : "", s->n, o->predict_input ? o->predict_input : split_names[o->predict_split],
            o->predict_input ? "'s" : "", o->predict, pngs, pngs == 1 ? "" : "s");
  free(f);
  free(ints);
  return ok ? 0 : 1;
}

// --predict-input F: F's examples as the test set of an Mnist (no
// training or validation set), with labels 0 that nothing reads: the
// forward then runs over them as --predict over a test set does, the same
// batches and seeds.  A folder is read as an image folder (DIR/CLASS/*.png|jpg;
// its classes are ignored), a PNG or JPEG file (by its first bytes) as one
// example, anything else as the trainers' files are (dataset_open_files:
// IDX, .npy, FILE.npz:ARRAY, a CIFAR batch, whose labels are dropped).
// Returns 0 or 1.
static int predict_input_load(Mnist *d, const char *path, const DriverOptions *o) {
  Dataset x;
  DataSplits sp;
  struct stat st;
  memset(d, 0, sizeof *d);
  DataOptions dopt = {.quiet = 1, .resize_h = o->resize_h, .resize_w = o->resize_w};
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (dataset_load_folder_opts(&x, path, &dopt))
      return 1;
  } else if (dataset_is_image(path)) {
    if (dataset_load_image(&x, path, &dopt))
      return 1;
  } else {
    if (o->resize_h) {
      fprintf(stderr, "%s: --resize applies to images (a folder, a PNG or a JPEG), and this is neither\n", path);
      return 1;
    }
    if (dataset_open_files(&sp, path, NULL, NULL, NULL))
      return 1;
    x = sp.train;
    memset(&sp.train, 0, sizeof sp.train);
    datasplits_free(&sp);
  }
  d->path[0] = strdup(path);
  d->lab[1] = calloc((size_t)x.n + 1, sizeof *d->lab[1]);
  if (!d->path[0] || !d->lab[1]) {
    fprintf(stderr, "%s: out of memory\n", path);
    dataset_free(&x);
    mnist_free(d);
    return 1;
  }
  d->rank = x.rank;
  for (int i = 0; i < x.rank; i++)
    d->dim[i] = x.shape[i];
  d->fmem[1] = x.x;                  // mnist_free frees it
  d->test = (MnistSet){.n = x.n, .labels = d->lab[1], .x = x.x, .size = (int)x.size};
  d->train.size = d->val.size = (int)x.size;     // empty, of the examples' size (mnist_check_input)
  x.x = NULL;
  dataset_free(&x);
  return 0;
}

// --predict-input: the checkpoint's parameters and normalisation, then the
// forward over the input's examples; no loss, no evaluation.
static int predict_only(Run *run) {
  NetModel *m = run->m;
  const DriverOptions *o = run->o;
  if (m->train_step)
    return run_start(run) || predict(run);
  // One net of a model alone (netc run --net): its tensors by name from the
  // whole model's checkpoint (--load-prefix narrows them).  The
  // checkpoint's normalisation is the model input's, which a net (a
  // decoder's codes) need not read: the input goes in as given, or as an
  // explicit --normalize MEAN,STD says.
  model_init_params(m, o->seed);
  if (ckpt_load_subset(o->load, m, o->load_prefix ? o->load_prefix : "") < 0)
    return 1;
  int is_auto = 0;
  if (o->normalize && (mnist_norm_parse(o->normalize, &run->norm, &is_auto) ||
                       mnist_norm_expand(&run->norm, mnist_channels(run->d), run->d->path[0])))
    return 1;
  return predict(run);
}

int driver_run(NetModel *m, const DriverOptions *o, const Mnist *d, DriverResult *r) {
  Run run;
  if (run_init(&run, m, o, d, r))
    return 1;
  if (o->predict_input) {
    int status = predict_only(&run);
    run_free(&run);
    return status;
  }
  int status = run_start(&run);
  CkptTrain *tr = &run.tr;
  double train_loss = NAN;
  // A run that already stopped early stays stopped when resumed.
  int stop = o->patience > 0 && tr->best_epoch > 0 && tr->since_best >= o->patience;
  for (int epoch = tr->epoch; !status && epoch < o->epochs && !stop; epoch++) {
    Epoch e = {0};
    double t0 = now();
    if ((status = train_epoch(&run, epoch, &e)))
      break;
    train_loss = e.train_loss;
    evaluate(m, d, &d->val, &run.norm, run.batch, rng_hash2(tr->seed, SALT_VAL), &run.w, &e.val_loss,
             &e.val_acc);
    if (!isfinite(e.val_loss)) {
      status = report_divergence(&run, "validation", e.val_loss, epoch + 1, run.steps);
      break;
    }
    e.secs = now() - t0;
    if (o->sched.kind == SCHED_PLATEAU)
      schedule_plateau_step(&o->sched, &tr->plateau, e.val_loss);
    track_best(&run, epoch, &e);
    if ((status = record_epoch(&run, epoch, &e)))
      break;
    if (o->patience > 0 && tr->since_best >= o->patience) {
      if (!o->quiet)
        fprintf(stderr, "early stop: no better validation loss for %d epochs; keeping epoch %d\n",
                o->patience, tr->best_epoch);
      stop = 1;
    }
  }
  // --epochs 0: the checkpoint's validation numbers, as an epoch measures them.
  if (!status && o->epochs == 0)
    evaluate(m, d, &d->val, &run.norm, run.batch, rng_hash2(tr->seed, SALT_VAL), &run.w, &r->val_loss,
             &r->val_accuracy);
  if (!status)
    status = run_finish(&run, train_loss);
  if (!status && o->predict)
    status = predict(&run);
  run_free(&run);
  return status;
}


// The closing summary: one human line (unless --quiet) and, with --json,
// the JSON object as the last stdout line (format in runtime/README.md).
static void print_result(const NetModel *m, const DriverOptions *o, const DriverResult *r) {
  if (!o->quiet) {
    if (r->has_test) {
      printf("%s: %d epochs, test loss %.6f", m->name, r->epochs_run, r->test_loss);
      if (r->test_accuracy >= 0) printf(", test accuracy %.4f", r->test_accuracy);
    } else {
      printf("%s: %d epochs, no test set, validation loss %.6f", m->name, r->epochs_run, r->val_loss);
    }
    printf(", %.1f s, %.0f train img/s\n", r->seconds, r->train_images_per_second);
  }
  if (o->json) {
    printf("{\"model\":");
    json_string(stdout, m->name);
    printf(",\"epochs\":%d", r->epochs_run);
    json_number(stdout, "train_loss", r->train_loss);
    json_number(stdout, "val_loss", r->val_loss);
    json_number(stdout, "test_loss", r->test_loss);
    if (!r->has_test)
      printf(",\"test_set\":\"none\"");
    if (r->test_accuracy >= 0)
      json_number(stdout, "test_accuracy", r->test_accuracy);
    json_number(stdout, "seconds", r->seconds);
    json_number(stdout, "train_images_per_second", r->train_images_per_second);
    // Only a schedule makes the last rate differ from --lr (and without
    // one the summary stays as it always was).
    if (o->sched.kind != SCHED_NONE || o->sched.warmup > 0)
      json_number(stdout, "lr", r->lr);
    printf("}\n");
  }
  fflush(stdout);
}

// Whether PATH is a zip (an .npz) or a folder, for --data's arrays by name.
static int data_kind(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return 0;
  if (S_ISDIR(st.st_mode))
    return 'd';
  unsigned char m[4] = {0};
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(m, 1, 4, f) : 0;
  if (f)
    fclose(f);
  return got == 4 && !memcmp(m, "PK\3\4", 4) ? 'z' : 0;
}

// The data of the model's tensor inputs after the first: their files
// (--train-input NAME=F and the twins, --train-targets for the second), or
// by naming convention from --data: an .npz's arrays NAME_train and
// NAME_test, a folder's NAME_train.npy and NAME_test.npy (docs/data.md,
// "Inputs").  predict: only --predict-input NAME=F, for the examples of
// --predict-input F.  A missing input is check_data's to name.  Returns 0
// or 1 (message printed).
static int load_inputs(Mnist *d, const NetModel *m, const DriverOptions *o, int predict) {
  int kind = !predict && !o->train_images ? data_kind(o->data) : 0;
  for (int j = 1; m->inputs && j < m->n_inputs; j++) {
    const char *name = m->inputs[j].name;
    const char *f[3] = {NULL, o->input_file[predict ? DRIVER_SET_PREDICT : DRIVER_SET_TEST][j], NULL};
    if (!predict)
      f[0] = o->input_file[DRIVER_SET_TRAIN][j], f[2] = o->input_file[DRIVER_SET_VAL][j];
    char conv[2][4400];
    for (int i = 0; i < 2 && kind; i++) {
      const char *split = i == 0 ? "train" : "test";
      char key[300];
      snprintf(key, sizeof key, "%s_%s", name, split);
      if (f[i] || (i == 1 && d->test.n == 0))
        continue;
      if (kind == 'z' && dataset_npz_has(o->data, key))
        snprintf(conv[i], sizeof conv[i], "%s:%s", o->data, key), f[i] = conv[i];
      else if (kind == 'd' && (snprintf(conv[i], sizeof conv[i], "%s/%s.npy", o->data, key), access(conv[i], F_OK) == 0))
        f[i] = conv[i];
    }
    if (!f[0] && !f[1] && !f[2])
      continue;
    const int short_ = j == 1 && !predict && o->train_targets;   // --train-targets and its twins
    const char *opts[3] = {short_ ? "--train-targets" : "--train-input",
                           predict ? "--predict-input" : short_ ? "--test-targets" : "--test-input",
                           short_ ? "--val-targets" : "--val-input"};
    if (mnist_load_input(d, j, name, f, opts))
      return 1;
  }
  return 0;
}

int driver_main(NetModel *m, int argc, char **argv) {
  DriverOptions o;
  int rc = driver_parse(&o, m, argc, argv);
  if (rc)
    return rc == 1 ? 0 : rc;
  Mnist d;
  if (o.predict_input) {
    DriverResult r;
    if (predict_input_load(&d, o.predict_input, &o))
      return 1;
    if (load_inputs(&d, m, &o, 1)) {
      mnist_free(&d);
      return 1;
    }
    rc = driver_run(m, &o, &d, &r);
    if (!rc && o.json) {
      printf("{\"model\":");
      json_string(stdout, m->name);
      printf(",\"predict_input\":");
      json_string(stdout, o.predict_input);
      printf(",\"examples\":%d,\"predict\":", d.test.n);
      json_string(stdout, o.predict);
      printf("}\n");
      fflush(stdout);
    }
    mnist_free(&d);
    return rc;
  }
  if (o.train_images || o.train_labels || o.test_images || o.test_labels) {
    // Labels are optional (a model whose loss reads none, paired data).
    if (!o.train_images || (o.test_labels && !o.test_images)) {
      fprintf(stderr, "error: --train-labels, --test-images and --test-labels need --train-images (and "
              "--test-labels --test-images)\n");
      return 2;
    }
    if (mnist_load_files(&d, o.train_images, o.train_labels, o.test_images, o.test_labels))
      return 1;
  } else if (mnist_load_any_resized(&d, o.data, o.resize_h, o.resize_w))
    return 1;
  // The validation split: a count, a share, or files of its own.
  if (o.resplit || o.val_images) {
    int total = d.train.n + d.val.n;
    int nval = o.val_count > 0 ? o.val_count : (int)floor((double)total * o.val_fraction);
    if (o.val_images ? mnist_load_val(&d, o.val_images, o.val_labels) : mnist_resplit(&d, nval)) {
      mnist_free(&d);
      return 1;
    }
  }
  // After the split: the training file's targets divide as its examples did.
  if (o.train_targets && m->n_inputs < 2) {
    fprintf(stderr, "error: --train-targets: model %s has no second tensor input to feed them to\n", m->name);
    mnist_free(&d);
    return 1;
  }
  if (load_inputs(&d, m, &o, 0)) {
    mnist_free(&d);
    return 1;
  }
  DriverResult r;
  rc = driver_run(m, &o, &d, &r);
  mnist_free(&d);
  if (rc)
    return rc;
  print_result(m, &o, &r);
  return 0;
}
