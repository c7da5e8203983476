// exp.c — the experiments' shared parts (see exp.h).
#include "exp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codes.h"
#include "rng.h"
#include "suggest.h"

void *exp_alloc(size_t bytes) {
  void *p = calloc(1, bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "error: out of memory (%zu bytes)\n", bytes);
    exit(1);
  }
  return p;
}

// mkdir -p
static int make_dirs(const char *dir) {
  char buf[4096];
  if (strlen(dir) >= sizeof buf) {
    fprintf(stderr, "%s: path too long\n", dir);
    return -1;
  }
  strcpy(buf, dir);
  for (char *p = buf + 1; ; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0777) && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", buf, strerror(errno));
        return -1;
      }
      *p = c;
      if (!c)
        break;
    }
  }
  return 0;
}

static void usage(const Exp *e, const char *about, const ExpFlag *flags) {
  printf("%s — %s\n\nusage: %s [--out DIR] [options]\n\n", e->prog, about, e->prog);
  printf("  %-22s checkpoints, figures and codes go here [experiments-out]\n", "--out DIR");
  for (const ExpFlag *f = flags; f && f->name; f++) {
    char head[64];
    snprintf(head, sizeof head, "%s %s", f->name, f->arg);
    printf("  %-22s %s", head, f->help);
    if (*f->value)
      printf(" [%s]", *f->value);
    printf("\n");
  }
  printf("\nand the trainer's options below, with this experiment's defaults\n"
         "(--json prints one JSON line of the experiment's metrics)\n\n");
}

// An option neither this experiment nor the trainer knows: "did you
// mean" among both.  Returns 1 after the message, 0 if a is known.
static int unknown_option(const char *a, const ExpFlag *flags) {
  const char *names[128];
  int n = driver_option_names(names, 120);
  names[n++] = "--out";
  names[n++] = "--help";
  for (const ExpFlag *f = flags; f && f->name && n < 128; f++)
    names[n++] = f->name;
  for (int i = 0; i < n; i++)
    if (!strcmp(a, names[i]))
      return 0;
  suggest_unknown_option(a, names, n);
  return 1;
}

int exp_parse(Exp *e, const NetModel *m, const char *about, const char *const *defaults,
              const ExpFlag *flags, int argc, char **argv) {
  memset(e, 0, sizeof *e);
  e->prog = argc > 0 ? argv[0] : "experiment";
  e->out = "experiments-out";
  int nd = 0;
  while (defaults && defaults[nd])
    nd++;
  char **av = e->train_argv = exp_alloc(sizeof(char *) * (argc + nd + 1));
  int ac = 0;
  av[ac++] = (char *)e->prog;
  for (int i = 0; i < nd; i++)
    av[ac++] = (char *)defaults[i];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(e, about, flags);
      // The trainer's options with the defaults this experiment runs with.
      DriverOptions o;
      if (driver_parse(&o, m, 1 + nd, av) == 0)
        driver_usage(stdout, e->prog, m, &o);
      return 1;
    }
    const char **slot = NULL;
    if (!strcmp(a, "--out"))
      slot = &e->out;
    for (const ExpFlag *f = flags; f && f->name && !slot; f++)
      if (!strcmp(a, f->name))
        slot = f->value;
    if (slot) {
      if (i + 1 >= argc) {
        fprintf(stderr, "error: %s needs a value (see --help)\n", a);
        return 2;
      }
      *slot = argv[++i];
      continue;
    }
    if (!strncmp(a, "--", 2) && unknown_option(a, flags))
      return 2;
    e->user_save |= !strcmp(a, "--save");
    e->user_load |= !strcmp(a, "--load") || !strcmp(a, "--resume");
    av[ac++] = argv[i];
  }
  av[ac] = NULL;
  e->train_argc = ac;
  int rc = driver_parse(&e->drv, m, ac, av);
  if (rc)
    return rc;
  if (make_dirs(e->out))
    return 2;
  return 0;
}

const char *exp_path(Exp *e, const char *name) {
  if (e->npaths == (int)(sizeof e->paths / sizeof e->paths[0])) {
    fprintf(stderr, "error: exp_path: too many paths\n");   // a programming error
    exit(1);
  }
  char *p = exp_alloc(strlen(e->out) + strlen(name) + 2);
  sprintf(p, "%s/%s", e->out, name);
  return e->paths[e->npaths++] = p;
}

void exp_free(Exp *e) {
  for (int i = 0; i < e->npaths; i++)
    free(e->paths[i]);
  e->npaths = 0;
  free(e->train_argv);
  e->train_argv = NULL;
}

int exp_output(const NetModel *m, const char *name) {
  int j = model_find_output(m, name);
  if (j < 0) {
    fprintf(stderr, "error: model %s exports no '%s'\n", m->name, name);
    exit(1);
  }
  return j;
}

float *exp_tensor(const NetModel *m, const char *name, size_t *numel) {
  int t = model_find_tensor(m, name);
  if (t < 0) {
    fprintf(stderr, "error: model %s has no tensor '%s'\n", m->name, name);
    exit(1);
  }
  if (numel)
    *numel = m->tensors[t].numel;
  return m->params + m->tensors[t].offset;
}

void exp_images(const MnistSet *s, const int *idx, int n, float *x) {
  for (int i = 0; i < n; i++)
    mnist_batch(s, idx, i, 1, x + (size_t)i * MNIST_PIXELS, NULL);
}

// One batch of at most max_batch examples; outputs copied into outs at row k0.
static double forward_batch(NetModel *m, const float *x, const int32_t *labels, int nb,
                            uint64_t seed, float **bufs, float **outs, int k0) {
  double l = m->forward(m, x, m->needs_labels ? labels : NULL, nb, seed, outs ? bufs : NULL);
  for (int j = 0; outs && j < m->n_outputs; j++)
    if (outs[j])
      memcpy(outs[j] + (size_t)k0 * m->outputs[j].size, bufs[j],
             sizeof(float) * nb * m->outputs[j].size);
  return l * nb;
}

static float **output_buffers(const NetModel *m, int batch) {
  float **bufs = exp_alloc(sizeof(float *) * (m->n_outputs + 1));
  for (int j = 0; j < m->n_outputs; j++)
    bufs[j] = exp_alloc(sizeof(float) * batch * m->outputs[j].size);
  return bufs;
}

static void output_buffers_free(const NetModel *m, float **bufs) {
  for (int j = 0; j < m->n_outputs; j++)
    free(bufs[j]);
  free(bufs);
}

double exp_forward(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed,
                   float **outs) {
  int batch = m->max_batch > 0 ? m->max_batch : n;
  float **bufs = output_buffers(m, batch);
  double sum = 0;
  for (int k = 0; k < n; k += batch) {
    int nb = n - k < batch ? n - k : batch;
    sum += forward_batch(m, x + (size_t)k * m->input_size, labels ? labels + k : NULL, nb,
                         rng_hash2(seed, (uint64_t)k), bufs, outs, k);
  }
  output_buffers_free(m, bufs);
  return n > 0 ? sum / n : NAN;
}

double exp_forward_set(NetModel *m, const MnistSet *s, uint64_t seed, float **outs) {
  int batch = m->max_batch > 0 ? m->max_batch : 256;
  float **bufs = output_buffers(m, batch);
  float *x = exp_alloc(sizeof(float) * batch * MNIST_PIXELS);
  int32_t *labels = exp_alloc(sizeof *labels * batch);
  double sum = 0;
  for (int k = 0; k < s->n; k += batch) {
    int nb = s->n - k < batch ? s->n - k : batch;
    mnist_batch(s, NULL, k, nb, x, labels);
    sum += forward_batch(m, x, labels, nb, rng_hash2(seed, (uint64_t)k), bufs, outs, k);
  }
  free(x);
  free(labels);
  output_buffers_free(m, bufs);
  return s->n > 0 ? sum / s->n : NAN;
}

int exp_save_codes(const char *path, const float *codes, const int32_t *labels, int n, int d) {
  Codes c;
  if (codes_alloc(&c, n, d))
    return -1;
  for (int i = 0; i < n; i++)
    c.label[i] = labels[i];
  memcpy(c.x, codes, sizeof(float) * n * d);
  int rc = codes_save(path, &c);
  codes_free(&c);
  return rc;
}

// ---- JSON: one line on stdout, numbers with full precision.

static int json_fields;

void exp_json_begin(const char *experiment) {
  json_fields = 0;
  printf("{");
  exp_json_str("experiment", experiment);
}

static void json_key(const char *key) {
  printf("%s\"%s\":", json_fields++ ? "," : "", key);
}

void exp_json_num(const char *key, double v) {
  json_key(key);
  if (isfinite(v))
    printf("%.9g", v);
  else
    printf("null");
}

void exp_json_int(const char *key, long v) {
  json_key(key);
  printf("%ld", v);
}

void exp_json_str(const char *key, const char *v) {
  json_key(key);
  putchar('"');
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if ((unsigned char)*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

void exp_json_end(void) {
  printf("}\n");
  fflush(stdout);
}

void exp_json_run(const DriverResult *r) {
  exp_json_int("epochs", r->epochs_run);
  exp_json_int("best_epoch", r->best_epoch);
  exp_json_num("train_loss", r->train_loss);
  exp_json_num("val_loss", r->val_loss);
  exp_json_num("seconds", r->seconds);
  exp_json_num("train_images_per_second", r->train_images_per_second);
}
