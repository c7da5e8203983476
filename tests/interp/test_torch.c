// test_torch.c — PyTorch parity (as llm.c's test_gpt2.c): loads a fixture
// written by make_fixtures.py, compiles the same model from models/*.net,
// sets the same weights, injects torch's random draws, and compares the
// loss, every parameter gradient, and the parameters after 3 Adam and 3
// SGD-momentum steps.  Prints the largest difference per tensor.
//
// Usage: test_torch MODEL   (fixtures/MODEL.bin, models/MODEL.net)
//
// Tolerance: 1e-4 relative, per tensor: max |c - torch| <= 1e-4 * max |torch|
// (element-wise relative error is meaningless for entries near 0); after
// the optimiser steps, the same on the updates (see compare_from).  The
// loss is compared relative to itself.  A gradient or update that is zero
// throughout fails: it would make the comparison vacuous.
#include "autodiff.h"
#include "interp.h"
#include "model.h"
#include "netc.h"
#include "ops.h"
#include "optim.h"
#include "../check.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-4

typedef struct {
  char name[96];
  uint32_t n, full;
  float *data;
} Record;

static Record *recs;
static int nrecs;

static void fixture_load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open (run tests/interp/make_fixtures.py)\n", path);
    exit(1);
  }
  char magic[8];
  uint32_t count;
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "NETFIX01", 8) || fread(&count, 4, 1, f) != 1) {
    fprintf(stderr, "%s: not a NETFIX01 fixture\n", path);
    exit(1);
  }
  recs = calloc(count, sizeof(Record));
  for (uint32_t i = 0; i < count; i++) {
    uint32_t len;
    Record *r = &recs[i];
    if (fread(&len, 4, 1, f) != 1 || len >= sizeof r->name || fread(r->name, 1, len, f) != len ||
        fread(&r->n, 4, 1, f) != 1 || fread(&r->full, 4, 1, f) != 1) {
      fprintf(stderr, "%s: truncated record %u\n", path, i);
      exit(1);
    }
    r->data = malloc((r->n + 1) * sizeof(float));
    if (fread(r->data, sizeof(float), r->n, f) != r->n) {
      fprintf(stderr, "%s: truncated data of %s\n", path, r->name);
      exit(1);
    }
  }
  nrecs = (int)count;
  fclose(f);
}

static Record *find(const char *prefix, const char *name) {
  char key[128];
  snprintf(key, sizeof key, "%s%s", prefix, name);
  for (int i = 0; i < nrecs; i++)
    if (!strcmp(recs[i].name, key))
      return &recs[i];
  return NULL;
}

// The weight formula of make_fixtures.py.
static uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

static void set_formula_weights(NetModel *m) {
  for (int t = 0; t < m->n_tensors; t++) {
    const NetTensor *nt = &m->tensors[t];
    uint32_t base = 0x811C9DC5u;
    for (const char *c = nt->name; *c; c++)
      base = (base ^ (uint8_t)*c) * 0x01000193u;
    double bound = nt->rank == 1 ? 0.1 : sqrt(6.0 / (double)(nt->numel / nt->dim[0]));
    if (m->tensor_buffer && m->tensor_buffer[t]) {   // running statistics start as torch's: mean 0, variance 1
      for (size_t k = 0; k < nt->numel; k++)
        m->params[nt->offset + k] = m->tensor_init[t] == NET_INIT_ONES ? 1.0f : 0.0f;
      continue;
    }
    for (size_t k = 0; k < nt->numel; k++) {
      double u = fmix32(base ^ (uint32_t)(k * 0x9E3779B1u)) / 4294967296.0;
      m->params[nt->offset + k] = (float)((2.0 * u - 1.0) * bound);
    }
  }
}

// Compares a tensor of the model with a (possibly sampled) record.  With
// base (the parameters before the optimiser steps), compares the updates
// mine - base with ref - base instead, since the updates are what the
// steps compute; the floor then allows for the rounding of parameters
// stored as floats (a few ulps of the largest one).
static void compare_from(const char *what, const NetTensor *t, const float *mine, const Record *ref,
                         const float *base) {
  CHECK(ref, "%s is missing in the fixture", what);
  if (!ref)
    return;
  CHECK(ref->full == t->numel, "%s: size %zu, fixture %u", what, t->numel, ref->full);
  if (ref->full != t->numel)
    return;
  double md = 0, mr = 0, mb = 0;
  for (uint32_t j = 0; j < ref->n; j++) {
    size_t k = (size_t)((uint64_t)j * ref->full / ref->n);
    double b = base ? base[k] : 0;
    md = fmax(md, fabs((double)mine[k] - ref->data[j]));
    mr = fmax(mr, fabs(ref->data[j] - b));
    mb = fmax(mb, fabs(b));
  }
  double tol = TOL * mr + 4 * FLT_EPSILON * mb;
  printf("  %-34s max diff %.3e  (max |%s| %.3e)\n", what, md, base ? "torch update" : "torch", mr);
  CHECK(md <= tol && mr != 0, "%s: max diff %.3e, tolerance %.3e, max |torch| %.3e", what, md, tol, mr);
}

static void compare(const char *what, const NetTensor *t, const float *mine, const Record *ref) {
  compare_from(what, t, mine, ref, NULL);
}

// A tensor whose gradient is zero in exact arithmetic (a bias right before
// a batch norm; make_fixtures.py's ZERO_GRADS): its gradient must be
// rounding noise, and it is zeroed before the optimiser steps, as in torch.
static bool zero_grad(const NetTensor *t) { return find("zero_grad_", t->name) != NULL; }

// Columns of a 2-D weight whose gradient entries are zero in exact
// arithmetic (make_fixtures.py's ZERO_COLS: inputs equal over the batch
// under a batch norm): zeroed before every optimiser step, as in torch.
static void zero_cols(NetModel *m) {
  for (int t = 0; t < m->n_tensors; t++) {
    const NetTensor *nt = &m->tensors[t];
    const Record *c = find("zero_cols_", nt->name);
    if (!c || nt->rank != 2)
      continue;
    for (int r = 0; r < nt->dim[0]; r++)
      for (uint32_t j = 0; j < c->n; j++)
        m->grads[nt->offset + (size_t)r * nt->dim[1] + (size_t)c->data[j]] = 0;
  }
}

static void check_noise(const char *what, const NetTensor *nt, const float *g) {
  double mx = 0;
  for (size_t k = 0; k < nt->numel; k++)
    mx = fmax(mx, fabs(g[k]));
  printf("  %-34s max %.3e  (zero in exact arithmetic)\n", what, mx);
  CHECK(mx <= 1e-5, "%s: max %.3e, expected rounding noise", what, mx);
}

static void compare_grads(NetModel *m) {
  for (int t = 0; t < m->n_tensors; t++) {
    const NetTensor *nt = &m->tensors[t];
    if (nt->frozen)
      continue;
    char what[128];
    if (zero_grad(nt)) {
      snprintf(what, sizeof what, "d_%s", nt->name);
      check_noise(what, nt, m->grads + nt->offset);
      continue;
    }
    snprintf(what, sizeof what, "d_%s", nt->name);
    compare(what, nt, m->grads + nt->offset, find("d_", nt->name));
    // The L1 norm over the whole tensor, since large ones are sampled.
    const Record *l1 = find("l1_d_", nt->name);
    double s = 0;
    for (size_t k = 0; k < nt->numel; k++)
      s += fabs(m->grads[nt->offset + k]);
    CHECK(l1 && fabs(s - l1->data[0]) <= TOL * fmax(l1->data[0], 1e-12), "%s: L1 norm %.6e, torch %.6e",
          what, s, l1 ? l1->data[0] : NAN);
  }
}

static void check_steps(NetModel *m, const char *prefix, OptimConfig cfg, const float *x, const int32_t *labels,
                        int n) {
  set_formula_weights(m);
  float *base = malloc(m->n_params * sizeof(float));
  memcpy(base, m->params, m->n_params * sizeof(float));
  Optim o;
  int rc = optim_init(&o, &cfg, m->n_trainable);
  CHECK(rc == 0, "%s: optim_init failed", prefix);
  if (rc) {
    free(base);
    return;
  }
  for (int s = 0; s < 3; s++) {
    m->train_step(m, x, labels, n, 1);
    for (int t = 0; t < m->n_tensors; t++)
      if (zero_grad(&m->tensors[t]))
        memset(m->grads + m->tensors[t].offset, 0, m->tensors[t].numel * sizeof(float));
    zero_cols(m);
    optim_step(&o, m->params, m->grads);
  }
  optim_free(&o);
  printf("after 3 %s steps:\n", prefix);
  char pre[16];
  snprintf(pre, sizeof pre, "%s_", prefix);
  for (int t = 0; t < m->n_tensors; t++) {
    const NetTensor *nt = &m->tensors[t];
    if ((nt->frozen && !(m->tensor_buffer && m->tensor_buffer[t])) || zero_grad(nt))
      continue;
    char what[128];
    snprintf(what, sizeof what, "%s%s", pre, nt->name);
    char skip[32];
    snprintf(skip, sizeof skip, "skip_%s", pre);
    if ((nt->frozen && !find(pre, nt->name)) || find(skip, nt->name)) {   // make_fixtures.py, SKIP_ADAM*
      printf("  %-34s not compared (moved by amplified rounding noise)\n", what);
      continue;
    }
    compare_from(what, nt, m->params + nt->offset, find(pre, nt->name), base + nt->offset);
  }
  // With running statistics: the evaluation-mode loss (forward) uses them.
  char key[32];
  snprintf(key, sizeof key, "%s_eval_loss", prefix);
  const Record *el = find("", key);
  if (el) {
    float l = m->forward(m, x, labels, n, 1, NULL);
    double d = fabs(l - el->data[0]) / fabs(el->data[0]);
    printf("  %-34s %.7f, torch %.7f, rel diff %.2e\n", "evaluation-mode loss", l, el->data[0], d);
    CHECK(d <= TOL, "%s: rel diff %.2e", key, d);
  }
  free(base);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_torch MODEL\n");
    return 2;
  }
  const char *model = argv[1];
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/interp/fixtures/%s.bin", NETC_SOURCE_DIR, model);
  fixture_load(path);
  // The study's models are models/MODEL.net, the zoo's models/zoo/MODEL.net;
  // an op's own test model (tanh_small) is tests/interp/MODEL.net.
  snprintf(path, sizeof path, "%s/tests/interp/%s.net", NETC_SOURCE_DIR, model);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/models/zoo/%s.net", NETC_SOURCE_DIR, model);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/models/%s.net", NETC_SOURCE_DIR, model);
  int status;
  Graph *g = netc_compile(path, NULL, 0, &status);
  if (!g || !autodiff(g) || !ops_verify(g))
    return 1;
  NetModel *m = interp_model_new(g);
  m->set_threads(m, 2);

  Record *rx = find("", "x"), *rl = find("", "labels"), *rloss = find("", "loss");
  int n = (int)rl->n;
  int32_t *labels = malloc(sizeof *labels * (size_t)n);
  for (int i = 0; i < n; i++)
    labels[i] = (int32_t)rl->data[i];

  // torch's draws replace the streams: eps for normal(), noise for noise(),
  // mask0, mask1, ... for the dropout masks in node order.
  const float **draws = calloc(g->nnodes, sizeof(float *));
  int nmask = 0;
  for (int i = 0; i < g->nforward; i++) {
    if (g->nodes[i].op == OP_DROPOUT_MASK) {
      char key[32];
      snprintf(key, sizeof key, "mask%d", nmask++);
      Record *r = find("", key);
      CHECK(r, "%s is missing in the fixture", key);
      draws[i] = r ? r->data : NULL;
    }
    if (g->nodes[i].op == OP_NORMAL)
      draws[i] = find("", "eps")->data;
    if (g->nodes[i].op == OP_NOISE)
      draws[i] = find("", "noise")->data;
  }
  interp_model_interp(m)->draws = draws;

  set_formula_weights(m);
  float loss = m->train_step(m, rx->data, labels, n, 1);
  double dl = fabs(loss - rloss->data[0]) / fabs(rloss->data[0]);
  printf("%s, batch %d: loss %.7f, torch %.7f, rel diff %.2e\ngradients:\n", model, n, loss, rloss->data[0], dl);
  CHECK(dl <= TOL, "%s: loss rel diff %.2e", model, dl);
  compare_grads(m);

  OptimConfig adam = optim_config_default(OPTIM_ADAM);
  check_steps(m, "adam", adam, rx->data, labels, n);
  OptimConfig sgd = optim_config_default(OPTIM_SGD);
  sgd.lr = 0.1;
  sgd.momentum = 0.9;
  check_steps(m, "sgd", sgd, rx->data, labels, n);

  m->free(m);
  return t_finish(model);
}
