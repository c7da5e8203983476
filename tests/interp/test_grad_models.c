// test_grad_models.c — finite-difference check of every model's full loss
// with respect to every trainable parameter tensor, on a batch of 3
// examples (real MNIST images; a synthetic, seeded batch for a model whose
// input is not an image, resnet8's [3, 32, 32]), through the whole
// pipeline (front end, autodiff, float interpreter): the study's four
// models, the zoo's (models/zoo/) and the ops' test models.
//
// Usage: test_grad_models [MODEL...]   (no argument: the study's four,
// conv_opts, graph_small and lenet5; CMake runs the others one per test)
//
// The numeric side is a second, independent forward evaluator in double
// precision with direct loops (ref_forward.h), over the whole batch (batch
// norm's statistics are the batch's), with the interpreter's random draws
// (the same per-example streams: dropout masks, normal, noise): with eps
// = 1e-6 in double, float rounding and ReLU kinks do not matter, so the
// float interpreter's analytic gradients (observed ~1e-6 relative) must
// agree to 1e-4.  (conv_vae takes eps = 1e-7: eps_of.)
// Per tensor: directional derivatives along random sign vectors v of N
// entries, with h = eps / sqrt(N) (a step of length eps),
//   (L(w + h v) - L(w - h v)) / 2 h  vs  <dL/dw, v>,
// within 1e-4 ||dL/dw||_2 (the typical size of <dL/dw, v>), which covers
// every entry at once; and single entries (the largest and two random),
// within 1e-4 max |dL/dw|.  The reference also checks the forward pass:
// its loss must match the interpreter's to 1e-5, in training and in
// evaluation mode, and a training step's update of batch norm's running
// statistics to 1e-5 of the largest.
//
// A bias right before a batch norm (cnn_bn's: convolutions and a dense
// layer with their default bias) has a zero gradient in exact arithmetic:
// the normalisation subtracts it again.  Its float gradient is rounding
// noise and there is no relative error to speak of: checked instead to be
// below 1e-5 of the model's largest gradient entry (measured: up to
// 2.5e-6, cnn_bn's conv1_b, the sum over 3·784 positions of values that
// cancel), with the double central difference below 1e-7 of it
// (measured: up to 2.4e-8, rounding noise).
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

// The step of a model whose check point lies closer than EPS to a ReLU's
// kink.  conv_vae: at the check's weights two ReLU inputs (example 1) are
// -2.3e-7 and 4.4e-6, which a step of 1e-6 on an encoder bias crosses
// (measured: encoder_conv1_b's central difference off by 2.5e-4 of the
// gradient at 1e-6, 2.6e-7 at 1e-7).  At 1e-7 double rounding in the
// difference grows to 3e-5 (decoder_dense1_w's directions), still a third
// of TOL; every other model keeps 1e-6 (at 1e-7 the autoencoder's and the
// denoiser's tensors already reach 1e-5).
static double eps_of(const char *model) { return !strcmp(model, "zoo/conv_vae") ? 1e-7 : EPS; }

static uint64_t lcg = 12345;
static double unif(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) * 0x1.0p-53;
}

// 1 and 2 threads must give bitwise equal losses and gradients (the
// kernels split the batch into fixed chunks and sum them in order): a
// batch of 70 = three chunks, the last ragged.
#define DET_BATCH 70

static Mnist mnist;

// A batch of n examples for m: the first n MNIST training images when the
// model reads an image, else values uniform in [0, 1) from a fixed seed;
// labels below the model's K (MNIST's digits when K is 10).
static void make_batch(const NetModel *m, int n, float *x, int32_t *labels) {
  if (m->input_size == 784) {
    mnist_batch(&mnist.train, NULL, 0, n, x, labels);
    return;
  }
  uint64_t save = lcg;
  lcg = 777;
  for (size_t k = 0; k < (size_t)n * m->input_size; k++)
    x[k] = (float)unif();
  for (int i = 0; i < n; i++)
    labels[i] = (int32_t)(unif() * (m->n_classes > 0 ? m->n_classes : 10));
  lcg = save;
}

static void check_threads(NetModel *m) {
  float *x = malloc((size_t)DET_BATCH * m->input_size * sizeof(float));
  int32_t labels[DET_BATCH];
  make_batch(m, DET_BATCH, x, labels);
  m->set_threads(m, 1);
  float l1 = m->train_step(m, x, labels, DET_BATCH, 5);
  float *g1 = malloc(m->n_params * sizeof(float));
  memcpy(g1, m->grads, m->n_trainable * sizeof(float));
  m->set_threads(m, 2);
  float l2 = m->train_step(m, x, labels, DET_BATCH, 5);
  int same = l1 == l2 && !memcmp(g1, m->grads, m->n_trainable * sizeof(float));
  m->set_threads(m, 1);
  free(g1);
  free(x);
  printf("  1 vs 2 threads, batch %d: %s\n", DET_BATCH, same ? "bitwise equal" : "different");
  CHECK(same, "1 vs 2 threads, batch %d: loss or gradients differ", DET_BATCH);
}

// Parameter p is a layer's bias whose output only batch norm reads: batch
// norm subtracts the batch mean per channel, so the loss does not depend
// on it (in training mode, the mode of the check).
static bool bias_before_bn(const Graph *g, int p) {
  int pn = g->params[p].node;
  for (int id = 0; id < g->nforward; id++) {
    const Node *l = &g->nodes[id];
    if ((l->op != OP_CONV2D && l->op != OP_DECONV2D && l->op != OP_DENSE) || l->nin < 3 || l->in[2] != pn)
      continue;
    int readers = 0;
    for (int r = l->id + 1; r < g->nforward; r++)
      for (int j = 0; j < g->nodes[r].nin; j++)
        if (g->nodes[r].in[j] == l->id) {
          readers++;
          if (j != 0 || (g->nodes[r].op != OP_BN_STATS && g->nodes[r].op != OP_BATCH_NORM))
            return false;
        }
    return readers > 0;
  }
  return false;
}

// The running statistics after one training step (the model's) against
// the reference's update from the same starting values.
static void check_running(const char *name, const Graph *g, NetModel *m, double *const *dp0, const float *x,
                          const int32_t *labels, uint64_t seed) {
  const float *inputs[1] = {x};
  RefBatch b = {.n = BATCH, .inputs = inputs, .labels = labels, .seed = seed, .train = true, .update_running = true,
               .changed = -1};
  ref_loss_batch(g, dp0, &b);
  double worst = 0;
  int nbuf = 0;
  for (int p = 0; p < g->nparams; p++) {
    if (!g->params[p].buffer)
      continue;
    const NetTensor *nt = &m->tensors[model_find_tensor(m, g->params[p].name)];
    double md = 0, mr = 0;
    for (size_t k = 0; k < nt->numel; k++) {
      md = fmax(md, fabs(m->params[nt->offset + k] - dp0[p][k]));
      mr = fmax(mr, fabs(dp0[p][k]));
    }
    worst = fmax(worst, md / fmax(mr, 1e-30));
    nbuf++;
  }
  if (!nbuf)
    return;
  printf("  running statistics after a step (%d buffers): rel diff %.2e\n", nbuf, worst);
  CHECK(worst <= 1e-5, "%s: running statistics rel diff %.2e", name, worst);
}

static void check_model(const char *name) {
  const double eps = eps_of(name);
  lcg = 12345;   // the same directions and entries whatever ran before
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
  const uint64_t seed = 99;   // the same noise / normal / dropout draws in every evaluation
  float *x = malloc((size_t)BATCH * m->input_size * sizeof(float));
  int32_t labels[BATCH];
  make_batch(m, BATCH, x, labels);

  // Double copies of the parameters (and buffers) before the step, by
  // graph parameter index.
  double **dp = malloc(g->nparams * sizeof(double *));
  const NetTensor **tensor_of = malloc(g->nparams * sizeof(NetTensor *));
  for (int p = 0; p < g->nparams; p++) {
    const NetTensor *nt = &m->tensors[model_find_tensor(m, g->params[p].name)];
    tensor_of[p] = nt;
    dp[p] = malloc(nt->numel * sizeof(double));
    for (size_t k = 0; k < nt->numel; k++)
      dp[p][k] = m->params[nt->offset + k];
  }
  double loss = m->train_step(m, x, labels, BATCH, seed);
  const float *inputs[1] = {x};
  double rl = ref_loss(g, dp, x, labels, BATCH, seed);
  printf("%s: loss %.7f, double reference %.7f\n", name, loss, rl);
  CHECK(fabs(rl - loss) <= 1e-5 * fabs(rl), "%s: loss %.7f, double reference %.7f", name, loss, rl);
  check_running(name, g, m, dp, x, labels, seed);   // dp's buffers now hold the reference's update
  // Evaluation mode (dropout off, batch norm on the running statistics
  // the step just wrote): the model's forward against the reference's.
  for (int p = 0; p < g->nparams; p++)
    if (g->params[p].buffer)
      for (size_t k = 0; k < tensor_of[p]->numel; k++)
        dp[p][k] = m->params[tensor_of[p]->offset + k];
  double el = m->forward(m, x, labels, BATCH, seed, NULL);
  RefBatch eb = {.n = BATCH, .inputs = inputs, .labels = labels, .seed = seed, .train = false, .changed = -1};
  double rel = ref_loss_batch(g, dp, &eb);
  printf("  evaluation mode: loss %.7f, double reference %.7f\n", el, rel);
  CHECK(fabs(rel - el) <= 1e-5 * fabs(rel), "%s: evaluation loss %.7f, double reference %.7f", name, el, rel);

  double gscale = 0;   // the largest gradient entry of the model
  for (int p = 0; p < g->nparams; p++)
    if (!tensor_of[p]->frozen)
      for (size_t k = 0; k < tensor_of[p]->numel; k++)
        gscale = fmax(gscale, fabs(m->grads[tensor_of[p]->offset + k]));
  double *v = malloc(m->n_params * sizeof(double)), *w0 = malloc(m->n_params * sizeof(double));
  // The differences move one tensor at a time: the nodes it does not
  // reach keep their values from one evaluation at the check point.
  RefBatch tb = {.n = BATCH, .inputs = inputs, .labels = labels, .seed = seed, .train = true, .changed = -1};
  double **base = ref_values(g, dp, &tb);
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
    bool zero = bias_before_bn(g, p);
    RefBatch fb = tb;
    fb.base = base;
    fb.changed = p;
    double worst_dir = 0, worst_entry = 0, worst_num = 0;
    // A sign vector is sqrt(N) long: stepping each entry by EPS would move
    // the point sqrt(N)·eps (450·eps for conv_vae's 1568 x 128 layer), far
    // enough for some of the model's ~10^4 ReLUs to change sides within
    // the step (measured: conv_vae's directions off by up to 7e-3 while
    // its single entries agree to 1e-7).  Each entry moves eps/sqrt(N), so
    // the point moves eps, as in the single-entry checks.
    double h = eps / sqrt((double)nt->numel);
    memcpy(w0, w, nt->numel * sizeof(double));
    for (int d = 0; d < NDIR; d++) {
      double ana = 0;
      for (size_t k = 0; k < nt->numel; k++) {
        v[k] = unif() < 0.5 ? -1.0 : 1.0;
        ana += (double)gw[k] * v[k];
      }
      for (size_t k = 0; k < nt->numel; k++)
        w[k] = w0[k] + h * v[k];
      double lp = ref_loss_batch(g, dp, &fb);
      for (size_t k = 0; k < nt->numel; k++)
        w[k] = w0[k] - h * v[k];
      double lm = ref_loss_batch(g, dp, &fb);
      memcpy(w, w0, nt->numel * sizeof(double));   // exactly back: base's values are w0's
      double num = (lp - lm) / (2 * h);
      worst_dir = fmax(worst_dir, fabs(num - ana) / fmax(norm, 1e-12));
      worst_num = fmax(worst_num, fabs(num));
    }
    for (int e = 0; e < 3; e++) {
      size_t k = e == 0 ? kmax : (size_t)(unif() * nt->numel);
      double save = w[k];
      w[k] = save + eps;
      double lp = ref_loss_batch(g, dp, &fb);
      w[k] = save - eps;
      double lm = ref_loss_batch(g, dp, &fb);
      w[k] = save;
      double num = (lp - lm) / (2 * eps);
      worst_entry = fmax(worst_entry, fabs(num - gw[k]) / fmax(gmax, 1e-12));
      worst_num = fmax(worst_num, fabs(num));
    }
    if (zero) {
      printf("  %-30s max |grad| %.3e, max |numeric| %.3e (zero in exact arithmetic: a bias under batch norm; "
             "of the largest gradient %.2e, %.2e)\n",
             nt->name, gmax, worst_num, gmax / gscale, worst_num / gscale);
      CHECK(gmax <= 1e-5 * gscale && worst_num <= 1e-7 * gscale,
            "%s, %s: max |grad| %.3e, max |numeric| %.3e, largest gradient %.3e", name, nt->name, gmax, worst_num,
            gscale);
      continue;
    }
    printf("  %-30s ||grad|| %.3e  rel diff: directions %.2e, entries %.2e\n", nt->name, norm, worst_dir,
           worst_entry);
    CHECK(worst_dir <= TOL && worst_entry <= TOL && norm != 0,
          "%s, %s: ||grad|| %.3e, rel diff directions %.2e, entries %.2e", name, nt->name, norm, worst_dir,
          worst_entry);
  }
  ref_values_free(g, base, &tb);
  check_threads(m);
  for (int p = 0; p < g->nparams; p++)
    free(dp[p]);
  free(dp);
  free(tensor_of);
  free(v);
  free(w0);
  free(x);
  m->free(m);
}

int main(int argc, char **argv) {
  omp_set_num_threads(1);   // batch of 3: threads would only spin
  openblas_set_num_threads(1);
  char path[1024];
  snprintf(path, sizeof path, "%s/runtime/mnist", NETC_SOURCE_DIR);
  if (mnist_load(&mnist, path) != 0)
    return 1;
  const char *study[] = {"autoencoder", "denoiser", "classifier", "vae", "conv_opts", "graph_small", "zoo/lenet5"};
  if (argc > 1)
    for (int i = 1; i < argc; i++)
      check_model(argv[i]);
  else
    for (int i = 0; i < (int)(sizeof study / sizeof *study); i++)
      check_model(study[i]);
  mnist_free(&mnist);
  return t_finish("interp_grad_models");
}
