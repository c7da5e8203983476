// test_net_alone.c — one net of a model run alone (interp_run_net): the
// autoencoder's decoder fed the model's latent code gives the model's
// reconstruction, and its encoder fed the images gives that code, on the
// same parameter block, up to float rounding (the same kernels run on the
// same values, so the difference is observed to be 0); a net of two
// inputs (two_inputs.net's mix) gets both.
#include "interp.h"
#include "mnist.h"
#include "model.h"
#include "netc.h"
#include "../check.h"

#include <math.h>
#include <stdlib.h>

#define N 37                 // a ragged count: one full chunk of 32 and 5

static double max_diff(const float *a, const float *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++)
    d = fmax(d, fabs((double)a[i] - b[i]));
  return d;
}

int main(void) {
  int status;
  Unit *u;
  Graph *g = netc_compile_unit(NETC_SOURCE_DIR "/models/autoencoder.net", NULL, 0, &u, &status);
  if (!g)
    return 1;
  NetModel *m = interp_model_new(g);
  model_init_params(m, 7);
  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  float *x = malloc(sizeof(float) * N * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, N, x, NULL);

  int jc = model_find_output(m, "code"), jy = model_find_output(m, "y");
  CHECK(jc >= 0 && jy >= 0);
  float **outs = calloc((size_t)m->n_outputs, sizeof *outs);
  for (int j = 0; j < m->n_outputs; j++)
    outs[j] = malloc(sizeof(float) * N * m->outputs[j].size);
  m->forward(m, x, NULL, N, 1, outs);

  size_t ny = (size_t)N * m->outputs[jy].size, nc = (size_t)N * m->outputs[jc].size;
  float *y = malloc(sizeof(float) * ny), *code = malloc(sizeof(float) * nc);
  const float *dec_in[] = {outs[jc]}, *enc_in[] = {x};
  CHECK(interp_run_net(u, m, "decoder", dec_in, N, 1, y) == 0);
  CHECK(interp_run_net(u, m, "encoder", enc_in, N, 1, code) == 0);
  double dy = max_diff(y, outs[jy], ny), dc = max_diff(code, outs[jc], nc);
  printf("decoder alone vs the model's y:    max diff %.3g\n", dy);
  printf("encoder alone vs the model's code: max diff %.3g\n", dc);
  CHECK(dy <= 1e-6 && dc <= 1e-6);
  CHECK(interp_run_net(u, m, "trunk", enc_in, N, 1, y) == -1);   // not applied by the model

  // mix(h, relu(h)) alone == the model's y.
  Graph *g2 = netc_compile_unit(NETC_SOURCE_DIR "/tests/interp/two_inputs.net", NULL, 0, &u, &status);
  if (!g2)
    return 1;
  NetModel *m2 = interp_model_new(g2);
  model_init_params(m2, 3);
  float *o2[2] = {malloc(sizeof(float) * N * 8), malloc(sizeof(float) * N * 8)};
  m2->forward(m2, x, NULL, N, 1, o2);
  int jh = model_find_output(m2, "h"), jy2 = model_find_output(m2, "y");
  CHECK(jh >= 0 && jy2 >= 0);
  float *rh = malloc(sizeof(float) * N * 8), *y2 = malloc(sizeof(float) * N * 8);
  for (int i = 0; i < N * 8; i++)
    rh[i] = o2[jh][i] > 0 ? o2[jh][i] : 0;
  const float *mix_in[] = {o2[jh], rh};
  CHECK(interp_run_net(u, m2, "mix", mix_in, N, 1, y2) == 0);
  double d2 = max_diff(y2, o2[jy2], (size_t)N * 8);
  printf("mix(a, b) alone vs the model's y:  max diff %.3g\n", d2);
  CHECK(d2 <= 1e-6);
  return t_finish("test_net_alone");
}
