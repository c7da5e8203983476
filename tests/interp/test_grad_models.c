// test_grad_models.c — finite-difference check of every model's full loss
// (the study's four, and conv_opts: the convolution options)
// with respect to every trainable parameter tensor, on a batch of 3 real
// MNIST images, through the whole pipeline (front end, autodiff, float
// interpreter); the study's four models and the zoo's (models/zoo/).
//
// The numeric side is a second, independent forward evaluator in double
// precision with direct loops (ref_forward.h): with eps = 1e-6 in double,
// float rounding and ReLU kinks do not matter, so the float interpreter's
// analytic gradients (observed ~1e-6 relative) must agree to 1e-4.
// Per tensor: directional derivatives along random sign vectors v,
//   (L(w + eps v) - L(w - eps v)) / 2 eps  vs  <dL/dw, v>,
// within 1e-4 ||dL/dw||_2 (the typical size of <dL/dw, v>), which covers
// every entry at once; and single entries (the largest and two random),
// within 1e-4 max |dL/dw|.  The reference also checks the forward pass:
// its loss must match the interpreter's to 1e-5.
//
// Also: 1 and 2 threads give bitwise equal gradients (check_threads).
//
// Weights: PyTorch's default initialisation scaled to Kaiming-uniform for
// ReLU (bound sqrt(6/fan_in)), so the encoder's gradients are not tiny.
#include "autodiff.h"
#include "interp.h"
#include "mnist.h"
#include "model.h"
#include "netc.h"
#include "ops.h"
#include "ref_forward.h"
#include "../check.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 3
#define NDIR 3
#define TOL 1e-4
#define EPS 1e-6

static uint64_t lcg = 12345;
static double unif(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) * 0x1.0p-53;
}

// 1 and 2 threads must give bitwise equal losses and gradients (the
// kernels split the batch into fixed chunks and sum them in order): a
// batch of 70 = three chunks, the last ragged.
#define DET_BATCH 70
static float det_x[DET_BATCH * 784];
static uint8_t det_labels[DET_BATCH];

static void check_threads(NetModel *m) {
  m->set_threads(m, 1);
  float l1 = m->train_step(m, det_x, det_labels, DET_BATCH, 5);
  float *g1 = malloc(m->n_params * sizeof(float));
  memcpy(g1, m->grads, m->n_trainable * sizeof(float));
  m->set_threads(m, 2);
  float l2 = m->train_step(m, det_x, det_labels, DET_BATCH, 5);
  int same = l1 == l2 && !memcmp(g1, m->grads, m->n_trainable * sizeof(float));
  m->set_threads(m, 1);
  free(g1);
  printf("  1 vs 2 threads, batch %d: %s\n", DET_BATCH, same ? "bitwise equal" : "different");
  CHECK(same, "1 vs 2 threads, batch %d: loss or gradients differ", DET_BATCH);
}

static void check_model(const char *name, const float *x, const uint8_t *labels) {
  char path[1024];
  snprintf(path, sizeof path, "%s/models/%s.net", NETC_SOURCE_DIR, name);
  if (access(path, R_OK) != 0)   // an op's test model (conv_opts, graph_small)
    snprintf(path, sizeof path, "%s/tests/interp/%s.net", NETC_SOURCE_DIR, name);
  int status;
  Graph *g = netc_compile(path, NULL, 0, &status);
  bool built = g && autodiff(g) && ops_verify(g);
  CHECK(built, "%s: compile, autodiff or verification failed", name);
  if (!built)
    return;
  NetModel *m = interp_model_new(g);
  model_init_params(m, 7);
  for (int t = 0; t < m->n_tensors; t++)
    if (m->tensors[t].rank > 1)
      for (size_t k = 0; k < m->tensors[t].numel; k++)
        m->params[m->tensors[t].offset + k] *= (float)sqrt(6.0);
  const uint64_t seed = 99;   // the same noise / normal draws in every evaluation

  double loss = m->train_step(m, x, labels, BATCH, seed);
  // Double copies of the parameters, by graph parameter index.
  double **dp = malloc(g->nparams * sizeof(double *));
  const NetTensor **tensor_of = malloc(g->nparams * sizeof(NetTensor *));
  for (int p = 0; p < g->nparams; p++) {
    const NetTensor *nt = &m->tensors[model_find_tensor(m, g->params[p].name)];
    tensor_of[p] = nt;
    dp[p] = malloc(nt->numel * sizeof(double));
    for (size_t k = 0; k < nt->numel; k++)
      dp[p][k] = m->params[nt->offset + k];
  }
  double rl = ref_loss(g, dp, x, labels, BATCH, seed);
  printf("%s: loss %.7f, double reference %.7f\n", name, loss, rl);
  CHECK(fabs(rl - loss) <= 1e-5 * fabs(rl), "%s: loss %.7f, double reference %.7f", name, loss, rl);
  double *v = malloc(m->n_params * sizeof(double));
  for (int p = 0; p < g->nparams; p++) {
    const NetTensor *nt = tensor_of[p];
    if (nt->frozen)
      continue;
    const float *gw = m->grads + nt->offset;
    double *w = dp[p];
    double norm = 0, gmax = 0;
    size_t kmax = 0;
    for (size_t k = 0; k < nt->numel; k++) {
      norm += (double)gw[k] * gw[k];
      if (fabs(gw[k]) > gmax)
        gmax = fabs(gw[k]), kmax = k;
    }
    norm = sqrt(norm);
    double worst_dir = 0, worst_entry = 0;
    for (int d = 0; d < NDIR; d++) {
      double ana = 0;
      for (size_t k = 0; k < nt->numel; k++) {
        v[k] = unif() < 0.5 ? -1.0 : 1.0;
        ana += (double)gw[k] * v[k];
      }
      for (size_t k = 0; k < nt->numel; k++)
        w[k] += EPS * v[k];
      double lp = ref_loss(g, dp, x, labels, BATCH, seed);
      for (size_t k = 0; k < nt->numel; k++)
        w[k] -= 2 * EPS * v[k];
      double lm = ref_loss(g, dp, x, labels, BATCH, seed);
      for (size_t k = 0; k < nt->numel; k++)
        w[k] += EPS * v[k];
      worst_dir = fmax(worst_dir, fabs((lp - lm) / (2 * EPS) - ana) / fmax(norm, 1e-12));
    }
    for (int e = 0; e < 3; e++) {
      size_t k = e == 0 ? kmax : (size_t)(unif() * nt->numel);
      double save = w[k];
      w[k] = save + EPS;
      double lp = ref_loss(g, dp, x, labels, BATCH, seed);
      w[k] = save - EPS;
      double lm = ref_loss(g, dp, x, labels, BATCH, seed);
      w[k] = save;
      worst_entry = fmax(worst_entry, fabs((lp - lm) / (2 * EPS) - gw[k]) / fmax(gmax, 1e-12));
    }
    printf("  %-30s ||grad|| %.3e  rel diff: directions %.2e, entries %.2e\n", nt->name, norm, worst_dir,
           worst_entry);
    CHECK(worst_dir <= TOL && worst_entry <= TOL && norm != 0,
          "%s, %s: ||grad|| %.3e, rel diff directions %.2e, entries %.2e", name, nt->name, norm, worst_dir,
          worst_entry);
  }
  check_threads(m);
  for (int p = 0; p < g->nparams; p++)
    free(dp[p]);
  free(dp);
  free(tensor_of);
  free(v);
  m->free(m);
}

int main(void) {
  omp_set_num_threads(1);   // batch of 3: threads would only spin
  openblas_set_num_threads(1);
  char path[1024];
  snprintf(path, sizeof path, "%s/runtime/mnist", NETC_SOURCE_DIR);
  Mnist d;
  if (mnist_load(&d, path) != 0)
    return 1;
  float x[BATCH * 784];
  uint8_t labels[BATCH];
  mnist_batch(&d.train, NULL, 0, BATCH, x, labels);
  mnist_batch(&d.train, NULL, 0, DET_BATCH, det_x, det_labels);
  const char *models[] = {"autoencoder", "denoiser", "classifier", "vae", "conv_opts", "graph_small", "zoo/lenet5"};
  for (int i = 0; i < (int)(sizeof models / sizeof *models); i++)
    check_model(models[i], x, labels);
  mnist_free(&d);
  return t_finish("interp_grad_models");
}
