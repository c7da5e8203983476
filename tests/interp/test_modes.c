// test_modes.c — batch norm's buffers through the runtime: a checkpoint
// saves and restores the running statistics with the parameters (and a
// resumed model continues bit for bit), the optimiser never touches them
// (weight decay included), and evaluation-mode steps leave them alone.
//
// Usage: test_modes   (tests/interp/bn_small.net)
#include "autodiff.h"
#include "ckpt.h"
#include "interp.h"
#include "model.h"
#include "netc.h"
#include "ops.h"
#include "optim.h"
#include "../check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 24

static NetModel *load_model(void) {
  int status;
  Graph *g = netc_compile(NETC_SOURCE_DIR "/tests/interp/bn_small.net", NULL, 0, &status);
  if (!g || !autodiff(g) || !ops_verify(g))
    exit(1);
  NetModel *m = interp_model_new(g);
  m->set_threads(m, 1);
  return m;
}

// Floats of the buffers, and whether they equal those of b.
static size_t buffers(const NetModel *m, const float *p, const float *q, bool *same) {
  size_t n = 0;
  *same = true;
  for (int t = 0; t < m->n_tensors; t++)
    if (m->tensor_buffer && m->tensor_buffer[t]) {
      const NetTensor *nt = &m->tensors[t];
      n += nt->numel;
      *same = *same && !memcmp(p + nt->offset, q + nt->offset, nt->numel * sizeof(float));
    }
  return n;
}

int main(void) {
  static float x[N * 784];
  int32_t labels[N];
  for (int i = 0; i < N * 784; i++)
    x[i] = (float)((i * 37) % 101) / 100.0f;
  for (int i = 0; i < N; i++)
    labels[i] = (int32_t)(i % 10);

  NetModel *a = load_model(), *b = load_model();
  model_init_params(a, 3);
  float *init = malloc(a->n_params * sizeof(float));
  memcpy(init, a->params, a->n_params * sizeof(float));
  bool same;
  size_t nbuf = buffers(a, a->params, init, &same);
  CHECK(nbuf == 40, "bn_small has 40 floats of buffers, got %zu", nbuf);
  CHECK(a->n_params - a->n_trainable == nbuf, "the buffers are all the frozen floats");

  // Training steps with weight decay: the buffers move (training mode),
  // and only by the statistics' update: the optimiser sees [0, n_trainable).
  OptimConfig cfg = optim_config_default(OPTIM_ADAMW);
  Optim oa, ob;
  optim_init(&oa, &cfg, a->n_trainable);
  optim_init(&ob, &cfg, b->n_trainable);
  for (int s = 0; s < 2; s++) {
    a->train_step(a, x, labels, N, 1);
    optim_step(&oa, a->params, a->grads);
  }
  buffers(a, a->params, init, &same);
  CHECK(!same, "training steps did not move the running statistics");
  float *before = malloc(a->n_params * sizeof(float));
  memcpy(before, a->params, a->n_params * sizeof(float));
  float l_eval = a->forward(a, x, labels, N, 1, NULL);
  buffers(a, a->params, before, &same);
  CHECK(same, "an evaluation-mode step moved the running statistics");

  // Round trip.
  char path[] = "/tmp/netc-test-modes-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  CkptTrain tr = {.epoch = 2, .seed = 1};
  CHECK(ckpt_save(path, a, &oa, &tr) == 0, "save");
  CkptTrain tr2 = {0};
  CHECK(ckpt_load(path, b, &ob, &tr2) == 0, "load");
  unlink(path);
  CHECK(!memcmp(a->params, b->params, a->n_params * sizeof(float)), "parameters and buffers round trip");
  float l_eval_b = b->forward(b, x, labels, N, 1, NULL);
  CHECK(l_eval == l_eval_b, "evaluation after loading: %.9g, before saving %.9g", l_eval_b, l_eval);

  // Both continue bit for bit.
  a->train_step(a, x, labels, N, 2);
  optim_step(&oa, a->params, a->grads);
  b->train_step(b, x, labels, N, 2);
  optim_step(&ob, b->params, b->grads);
  CHECK(!memcmp(a->params, b->params, a->n_params * sizeof(float)), "a resumed model continues bit for bit");
  printf("bn_small: %zu floats of buffers; evaluation loss %.6f before and after a checkpoint\n", nbuf, l_eval);

  optim_free(&oa);
  optim_free(&ob);
  free(init);
  free(before);
  a->free(a);
  b->free(b);
  return t_finish("interp_modes");
}
