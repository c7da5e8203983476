// driver.c — the common trainer command line and training loop.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "ckpt.h"
#include "driver.h"
#include "rng.h"

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
  if (m->max_batch > 0 && o->batch > m->max_batch) {
    fprintf(stderr, "note: --batch %d is larger than this trainer's maximum; using %d\n",
            o->batch, m->max_batch);
    o->batch = m->max_batch;
  }
  return 0;
}

// ---------------------------------------------------------------- training

// Salts that separate the seed streams derived from the run seed.
#define SALT_SHUFFLE 0x73687566u   // per-epoch shuffle
#define SALT_STEP 0x73746570u      // per-step model randomness
#define SALT_VAL 0x76616cu         // validation forward (same every epoch)
#define SALT_TEST 0x74657374u      // test forward

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
  float *x;                  // [batch, input_size]
  uint8_t *labels;           // [batch]
  float **outs;              // [n_outputs] -> [batch, size]
  int *order;                // [train.n]
  float *best;               // [n_params] when early stopping, else NULL
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
}

static int work_init(Work *w, const NetModel *m, int batch, int ntrain, int early) {
  memset(w, 0, sizeof *w);
  int ok = (w->x = malloc(sizeof(float) * batch * MNIST_PIXELS)) &&
           (w->labels = malloc(batch)) &&
           (w->outs = calloc(m->n_outputs ? m->n_outputs : 1, sizeof *w->outs)) &&
           (w->order = malloc(sizeof(int) * ntrain));
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

// Mean loss (and accuracy, -1 without labels) over the whole set s.
static void evaluate(NetModel *m, const MnistSet *s, int batch, uint64_t seed, Work *w,
                     double *loss, double *acc) {
  int acc_on = has_accuracy(m);
  double sum = 0;
  long correct = 0;
  for (int start = 0; start < s->n; start += batch) {
    int nb = s->n - start < batch ? s->n - start : batch;
    mnist_batch(s, NULL, start, nb, w->x, w->labels);
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
        "epoch,train_loss,val_loss,val_accuracy,seconds,images_per_second\n";
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
                   double acc, double secs, double ips) {
  char row[256], a[32] = "";
  if (acc >= 0)
    snprintf(a, sizeof a, "%.6f", acc);
  int n = snprintf(row, sizeof row, "%d,%.9g,%.9g,%s,%.3f,%.1f\n", epoch, train, val, a, secs, ips);
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

int driver_run(NetModel *m, const DriverOptions *o, const Mnist *d, DriverResult *r) {
  memset(r, 0, sizeof *r);
  r->val_accuracy = r->test_accuracy = -1;
  r->val_loss = NAN;                    // JSON null until an epoch is evaluated
  if (m->input_size != MNIST_PIXELS) {
    fprintf(stderr, "error: model %s takes %d inputs per example, MNIST has %d\n",
            m->name, m->input_size, MNIST_PIXELS);
    return 1;
  }
  int batch = m->max_batch > 0 && m->max_batch < o->batch ? m->max_batch : o->batch;
  omp_set_num_threads(o->threads);
  if (m->set_threads)
    m->set_threads(m, o->threads);

  Optim opt;
  if (optim_init(&opt, &o->optim, m->n_trainable))
    return 1;
  Work w;
  if (work_init(&w, m, batch, d->train.n, o->patience > 0)) {
    optim_free(&opt);
    return 1;
  }
  int status = 1, logfd = -1;
  CkptTrain tr = {0};
  tr.seed = o->seed;
  tr.best_params = w.best;
  tr.best_val_loss = INFINITY;

  model_init_params(m, o->seed);
  if (o->load) {
    int rc = o->load_prefix ? ckpt_load_subset(o->load, m, o->load_prefix)
                            : ckpt_load(o->load, m, NULL, NULL);
    if (rc < 0)
      goto out;
  }
  if (o->resume) {
    if (ckpt_load(o->resume, m, &opt, &tr))
      goto out;
    tr.best_params = w.best;
    if (tr.best_epoch > 0)
      r->val_loss = tr.best_val_loss;   // until this run evaluates an epoch
    if (!tr.has_best && w.best) {
      // The run had no early stopping: start tracking from the loaded state.
      tr.best_epoch = 0;
      tr.best_val_loss = INFINITY;
    }
    if (!o->quiet)
      fprintf(stderr, "resuming %s from %s after epoch %d (seed %llu)\n", m->name, o->resume,
              tr.epoch, (unsigned long long)tr.seed);
  }
  if (o->log && o->resume && log_trim(o->log, tr.epoch))
    goto out;
  if (o->log && (logfd = log_open(o->log, o->resume != NULL)) < 0)
    goto out;

  const uint64_t seed = tr.seed;
  const int tty = !o->quiet && isatty(2);
  const int steps = (d->train.n + batch - 1) / batch;
  double train_loss = NAN;
  // A run that already stopped early stays stopped when resumed.
  int stop = o->patience > 0 && tr.best_epoch > 0 && tr.since_best >= o->patience;
  for (int epoch = tr.epoch; epoch < o->epochs && !stop; epoch++) {
    double t0 = now(), sum = 0, last_draw = 0;
    mnist_shuffle(w.order, d->train.n, rng_hash2(rng_hash2(seed, SALT_SHUFFLE), (uint64_t)epoch));
    for (int s = 0; s < steps; s++) {
      int start = s * batch;
      int nb = d->train.n - start < batch ? d->train.n - start : batch;
      mnist_batch(&d->train, w.order, start, nb, w.x, w.labels);
      uint64_t step_seed = rng_hash2(rng_hash2(rng_hash2(seed, SALT_STEP), (uint64_t)epoch), (uint64_t)s);
      float loss = m->train_step(m, w.x, m->needs_labels ? w.labels : NULL, nb, step_seed);
      if (!isfinite(loss)) {
        if (tty) fputc('\n', stderr);
        fprintf(stderr, "error: %s: the training loss is %s at epoch %d, step %d of %d; stopping",
                m->name, isnan(loss) ? "NaN" : "infinite", epoch + 1, s + 1, steps);
        if (o->save && tr.epoch > 0)
          fprintf(stderr, " (%s keeps the last good state, epoch %d)", o->save, tr.epoch);
        fprintf(stderr, ". Try a smaller --lr.\n");
        if (o->json) {
          printf("{\"model\":");
          json_string(stdout, m->name);
          printf(",\"error\":\"non-finite loss\",\"epoch\":%d,\"step\":%d}\n", epoch + 1, s + 1);
          fflush(stdout);
        }
        status = DRIVER_EXIT_DIVERGED;
        goto out;
      }
      optim_step(&opt, m->params, m->grads);
      sum += (double)loss * nb;
      double t = now();
      if (tty && (t - last_draw > 0.1 || s + 1 == steps)) {
        last_draw = t;
        double ips = (start + nb) / (t - t0 + 1e-9);
        double left = (double)(d->train.n - start - nb) +
                      (double)(o->epochs - epoch - 1) * d->train.n;
        progress_bar(epoch + 1, o->epochs, s + 1, steps, sum / (start + nb), ips, left / ips);
      }
    }
    double train_secs = now() - t0;
    train_loss = sum / d->train.n;
    double val_loss, val_acc;
    evaluate(m, &d->val, batch, rng_hash2(seed, SALT_VAL), &w, &val_loss, &val_acc);
    if (!isfinite(val_loss)) {
      if (tty) fputc('\n', stderr);
      fprintf(stderr, "error: %s: the validation loss is %s after epoch %d (its last update, step %d of %d, "
              "diverged); stopping",
              m->name, isnan(val_loss) ? "NaN" : "infinite", epoch + 1, steps, steps);
      if (o->save && tr.epoch > 0)
        fprintf(stderr, " (%s keeps the last good state, epoch %d)", o->save, tr.epoch);
      fprintf(stderr, ". Try a smaller --lr.\n");
      if (o->json) {          // as for a non-finite training loss: callers read one format
        printf("{\"model\":");
        json_string(stdout, m->name);
        printf(",\"error\":\"non-finite loss\",\"epoch\":%d,\"step\":%d}\n", epoch + 1, steps);
        fflush(stdout);
      }
      status = DRIVER_EXIT_DIVERGED;
      goto out;
    }
    double secs = now() - t0, ips = d->train.n / train_secs;
    tr.seconds += train_secs;
    tr.images += d->train.n;
    tr.epoch = epoch + 1;
    if (val_loss < tr.best_val_loss) {
      tr.best_val_loss = val_loss;
      tr.best_epoch = epoch + 1;
      tr.since_best = 0;
      r->val_loss = val_loss;
      r->val_accuracy = val_acc;
      if (w.best) {
        memcpy(w.best, m->params, sizeof(float) * m->n_params);
        tr.has_best = 1;
      }
    } else {
      tr.since_best++;
    }
    if (!w.best) {          // no early stopping: the last epoch is the result
      r->val_loss = val_loss;
      r->val_accuracy = val_acc;
    }
    if (tty) fprintf(stderr, "\r\033[K");
    if (!o->quiet) {
      fprintf(stderr, "epoch %d/%d  train %.5f  val %.5f", epoch + 1, o->epochs, train_loss, val_loss);
      if (val_acc >= 0) fprintf(stderr, "  acc %.4f", val_acc);
      fprintf(stderr, "  %.1f s  %.0f img/s\n", secs, ips);
    }
    // The log row goes first: a crash between the two leaves the log one
    // epoch ahead of the checkpoint, which --resume trims (log_trim); the
    // other order would leave a hole in the log after the resume.
    if (logfd >= 0 && log_row(logfd, o->log, epoch + 1, train_loss, val_loss, val_acc, secs, ips))
      goto out;
    if (o->save && ckpt_save(o->save, m, &opt, &tr))
      goto out;
    if (o->patience > 0 && tr.since_best >= o->patience) {
      if (!o->quiet)
        fprintf(stderr, "early stop: no better validation loss for %d epochs; keeping epoch %d\n",
                o->patience, tr.best_epoch);
      stop = 1;
    }
  }

  if (w.best && tr.has_best)
    memcpy(m->params, w.best, sizeof(float) * m->n_params);
  evaluate(m, &d->test, batch, rng_hash2(seed, SALT_TEST), &w, &r->test_loss, &r->test_accuracy);
  if (o->save && w.best && tr.has_best && ckpt_save(o->save, m, &opt, &tr))
    goto out;
  r->epochs_run = tr.epoch;
  r->best_epoch = tr.best_epoch;
  r->train_loss = train_loss;
  r->seconds = tr.seconds;
  r->train_images_per_second = tr.seconds > 0 ? tr.images / tr.seconds : 0;
  status = 0;
out:
  if (logfd >= 0)
    close(logfd);
  work_free(&w, m->n_outputs);
  optim_free(&opt);
  return status;
}

int driver_main(NetModel *m, int argc, char **argv) {
  DriverOptions o;
  int rc = driver_parse(&o, m, argc, argv);
  if (rc)
    return rc == 1 ? 0 : rc;
  Mnist d;
  if (mnist_load(&d, o.data))
    return 1;
  DriverResult r;
  rc = driver_run(m, &o, &d, &r);
  mnist_free(&d);
  if (rc)
    return rc;
  if (!o.quiet) {
    printf("%s: %d epochs, test loss %.6f", m->name, r.epochs_run, r.test_loss);
    if (r.test_accuracy >= 0) printf(", test accuracy %.4f", r.test_accuracy);
    printf(", %.1f s, %.0f train img/s\n", r.seconds, r.train_images_per_second);
  }
  if (o.json) {
    printf("{\"model\":");
    json_string(stdout, m->name);
    printf(",\"epochs\":%d", r.epochs_run);
    json_number(stdout, "train_loss", r.train_loss);
    json_number(stdout, "val_loss", r.val_loss);
    json_number(stdout, "test_loss", r.test_loss);
    if (r.test_accuracy >= 0)
      json_number(stdout, "test_accuracy", r.test_accuracy);
    json_number(stdout, "seconds", r.seconds);
    json_number(stdout, "train_images_per_second", r.train_images_per_second);
    printf("}\n");
  }
  fflush(stdout);
  return 0;
}
