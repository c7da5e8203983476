// driver.c — the common trainer command line and training loop.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

#ifndef NETRT_DEFAULT_DATA
#define NETRT_DEFAULT_DATA "runtime/mnist"
#endif

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
  o->data = NETRT_DEFAULT_DATA;
  o->epochs = 10;
  o->batch = 256;
  o->optim = optim_config_default(OPTIM_ADAM);
  o->seed = 1;
  o->threads = default_threads();
}

static void usage(FILE *f, const char *prog, const NetModel *m) {
  DriverOptions d;
  driver_options_default(&d);
  fprintf(f,
    "usage: %s [options]\n"
    "Trains the model '%s' on MNIST.\n\n"
    "  --data DIR          MNIST files (raw or .gz IDX) [%s]\n"
    "  --epochs N          epochs to train [%d]\n"
    "  --batch N           batch size, at most %d [%d]\n"
    "  --optimizer K       adam, adamw or sgd [adam]\n"
    "  --lr X              learning rate [1e-3]\n"
    "  --momentum X        SGD momentum [0]\n"
    "  --nesterov          SGD Nesterov momentum [off]\n"
    "  --weight-decay X    L2 (adam, sgd) or decoupled (adamw) decay [0]\n"
    "  --seed N            random seed [1]\n"
    "  --threads N         threads [%d: OMP_NUM_THREADS or processors]\n"
    "  --save FILE         write a checkpoint after every epoch [none]\n"
    "  --load FILE         start from a checkpoint's parameters [none]\n"
    "  --load-prefix P     with --load: only tensors named P* [all]\n"
    "  --resume FILE       continue the run saved in FILE [none]\n"
    "  --log FILE.csv      per-epoch CSV log [none]\n"
    "  --patience N        stop after N epochs without a better validation loss [0: off]\n"
    "  --json              print a JSON summary as the last line of stdout\n"
    "  --quiet             no progress output\n"
    "  --help              this text\n",
    prog, m->name, d.data, d.epochs, m->max_batch, d.batch, d.threads);
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

int driver_parse(DriverOptions *o, const NetModel *m, int argc, char **argv) {
  const char *prog = argc > 0 ? argv[0] : "train";
  driver_options_default(o);
  int optimizer_set = 0, wd_set = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout, prog, m);
      return 1;
    }
    if (strcmp(a, "--nesterov") == 0) { o->optim.nesterov = 1; continue; }
    if (strcmp(a, "--json") == 0) { o->json = 1; continue; }
    if (strcmp(a, "--quiet") == 0) { o->quiet = 1; continue; }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "error: unexpected argument '%s' (see --help)\n", a);
      return 2;
    }
    static const char *const valued[] = {
      "--data", "--epochs", "--batch", "--optimizer", "--lr", "--momentum",
      "--weight-decay", "--seed", "--threads", "--save", "--load",
      "--load-prefix", "--resume", "--log", "--patience", NULL};
    int known = 0;
    for (int k = 0; valued[k]; k++)
      known |= strcmp(a, valued[k]) == 0;
    if (!known) {
      fprintf(stderr, "error: unknown option '%s' (see --help)\n", a);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "error: %s needs a value (see --help)\n", a);
      return 2;
    }
    const char *v = argv[++i];
    int bad = 0;
    if (strcmp(a, "--data") == 0) o->data = v;
    else if (strcmp(a, "--epochs") == 0) bad = parse_int(a, v, 1, 1000000, &o->epochs);
    else if (strcmp(a, "--batch") == 0) bad = parse_int(a, v, 1, INT_MAX, &o->batch);
    else if (strcmp(a, "--optimizer") == 0) {
      OptimKind k;
      if (optim_parse_kind(v, &k)) {
        fprintf(stderr, "error: --optimizer: '%s' is not one of adam, adamw, sgd\n", v);
        bad = -1;
      } else {
        o->optim.kind = k;
        optimizer_set = 1;
      }
    }
    else if (strcmp(a, "--lr") == 0) bad = parse_real(a, v, 0, 1e6, &o->optim.lr);
    else if (strcmp(a, "--momentum") == 0) bad = parse_real(a, v, 0, 1, &o->optim.momentum);
    else if (strcmp(a, "--weight-decay") == 0) {
      bad = parse_real(a, v, 0, 1e6, &o->optim.weight_decay);
      wd_set = 1;
    }
    else if (strcmp(a, "--seed") == 0) bad = parse_u64(a, v, &o->seed);
    else if (strcmp(a, "--threads") == 0) bad = parse_int(a, v, 1, 4096, &o->threads);
    else if (strcmp(a, "--save") == 0) o->save = v;
    else if (strcmp(a, "--load") == 0) o->load = v;
    else if (strcmp(a, "--load-prefix") == 0) o->load_prefix = v;
    else if (strcmp(a, "--resume") == 0) o->resume = v;
    else if (strcmp(a, "--log") == 0) o->log = v;
    else if (strcmp(a, "--patience") == 0) bad = parse_int(a, v, 0, 1000000, &o->patience);
    if (bad)
      return 2;
  }
  (void)optimizer_set;
  // The study's "weight decay" is always an explicit value; AdamW's torch
  // default of 1e-2 applies only when none is given.
  if (!wd_set)
    o->optim.weight_decay = o->optim.kind == OPTIM_ADAMW ? 1e-2 : 0.0;
  if (o->optim.kind != OPTIM_SGD && (o->optim.momentum != 0 || o->optim.nesterov)) {
    fprintf(stderr, "error: --momentum and --nesterov apply to --optimizer sgd only\n");
    return 2;
  }
  if (o->optim.nesterov && o->optim.momentum <= 0) {
    fprintf(stderr, "error: --nesterov needs --momentum > 0\n");
    return 2;
  }
  if (o->load_prefix && !o->load) {
    fprintf(stderr, "error: --load-prefix needs --load\n");
    return 2;
  }
  if (o->load && o->resume) {
    fprintf(stderr, "error: --load and --resume exclude each other\n");
    return 2;
  }
  if (o->batch > m->max_batch) {
    fprintf(stderr, "note: --batch %d is larger than this trainer's maximum; using %d\n",
            o->batch, m->max_batch);
    o->batch = m->max_batch;
  }
  return 0;
}

int driver_main(NetModel *m, int argc, char **argv) {
  DriverOptions o;
  int rc = driver_parse(&o, m, argc, argv);
  if (rc)
    return rc == 1 ? 0 : rc;
  // The training loop lands in the next commit (issue 3).
  fprintf(stderr, "error: %s: training loop not implemented yet\n", m->name);
  return 1;
}
