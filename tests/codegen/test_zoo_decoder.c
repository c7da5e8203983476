// test_zoo_decoder.c — models/zoo/conv_vae.net's decoder run on its own,
// to draw digits from codes: the generated decoder (`netc
// models/zoo/conv_vae.net --net decoder`) and the interpreter's
// (interp_run_net), on the full generated trainer's weights, given the
// latent codes z the full model sampled (its export), reproduce the full
// model's y; and on random codes N(0, I), as a user draws digits, the two
// agree.  Differences: the generated decoder alone runs the full model's
// kernels on the same values (observed 0); the interpreter's kernels sum
// in another order (float rounding, relative 1e-5).
#include "autodiff.h"
#include "interp.h"
#include "mnist.h"
#include "model.h"
#include "netc.h"
#include "rng.h"
#include "../check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

NetModel *conv_vae_new(void);
NetModel *conv_vae_decoder_new(void);

#define N 37                 // one full chunk and a ragged one

// max |a - b| / max(|b|, 1e-6)
static double rel_diff(const float *a, const float *b, size_t n) {
  double md = 0, mx = 1e-6;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, fabs((double)a[i] - b[i]));
    mx = fmax(mx, fabs(b[i]));
  }
  return md / mx;
}

int main(void) {
  NetModel *full = conv_vae_new(), *dec = conv_vae_decoder_new();
  full->set_threads(full, 2);
  dec->set_threads(dec, 2);
  model_init_params(full, 7);
  CHECK(dec->n_outputs == 1 && dec->input_size == 16 && dec->outputs[0].size == MNIST_PIXELS);
  for (int t = 0; t < dec->n_tensors; t++) {
    int f = model_find_tensor(full, dec->tensors[t].name);
    CHECK(f >= 0 && full->tensors[f].numel == dec->tensors[t].numel, "tensor %s", dec->tensors[t].name);
    if (f >= 0)
      memcpy(dec->params + dec->tensors[t].offset, full->params + full->tensors[f].offset,
             sizeof(float) * dec->tensors[t].numel);
  }
  // The interpreter's model of the same file, on the same parameter block.
  int status;
  Unit *u;
  Graph *g = netc_compile_unit(NETC_SOURCE_DIR "/models/zoo/conv_vae.net", NULL, 0, &u, &status);
  if (!g)
    return 1;
  NetModel *ref = interp_model_new(g);
  CHECK(ref->n_params == full->n_params);
  memcpy(ref->params, full->params, sizeof(float) * full->n_params);

  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  float *x = malloc(sizeof(float) * N * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, N, x, NULL);
  float **outs = calloc((size_t)full->n_outputs, sizeof *outs);
  for (int j = 0; j < full->n_outputs; j++)
    outs[j] = malloc(sizeof(float) * N * full->outputs[j].size);
  full->forward(full, x, NULL, N, 1, outs);
  int jz = model_find_output(full, "z"), jy = model_find_output(full, "y");
  CHECK(jz >= 0 && jy >= 0);
  if (jz < 0 || jy < 0)
    return t_finish("test_zoo_decoder");

  size_t ny = (size_t)N * MNIST_PIXELS;
  float *yg = malloc(sizeof(float) * ny), *yi = malloc(sizeof(float) * ny);
  const float *zin[] = {outs[jz]};
  dec->forward(dec, outs[jz], NULL, N, 1, &yg);
  CHECK(interp_run_net(u, ref, "decoder", zin, N, 1, yi) == 0);
  double dg = rel_diff(yg, outs[jy], ny), di = rel_diff(yi, outs[jy], ny);
  printf("generated decoder alone vs the full model's y:   %.3g\n", dg);
  printf("interpreted decoder alone vs the full model's y: %.3g\n", di);
  CHECK(dg <= 1e-6 && di <= 1e-5);

  // Random codes, as `decode` draws them: the two decoders agree, and the
  // images are images (in (0, 1), not constant).
  float *codes = malloc(sizeof(float) * N * 16);
  Rng r = rng_stream(5, 0);
  for (int i = 0; i < N * 16; i++)
    codes[i] = (float)rng_normal(&r);
  const float *cin[] = {codes};
  dec->forward(dec, codes, NULL, N, 1, &yg);
  CHECK(interp_run_net(u, ref, "decoder", cin, N, 1, yi) == 0);
  double dr = rel_diff(yg, yi, ny);
  float lo = 1, hi = 0;
  for (size_t i = 0; i < ny; i++) {
    lo = fminf(lo, yg[i]);
    hi = fmaxf(hi, yg[i]);
  }
  printf("random codes: generated vs interpreted decoder:  %.3g (pixels in [%.3g, %.3g])\n", dr, lo, hi);
  CHECK(dr <= 1e-5 && lo >= 0 && hi <= 1 && hi > lo);
  return t_finish("test_zoo_decoder");
}
