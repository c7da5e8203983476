// test_net_alone_gen.c — one net of a model in generated code, alone
// (`netc models/autoencoder.net --net decoder -o DIR`): the decoder's
// forward entry point, given the full trainer's weights (copied by tensor
// name) and its latent code, reproduces the full trainer's y.
#include "genmodel.h"
#include "mnist.h"
#include "model.h"
#include "../check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

NetModel *autoencoder_new(void);
NetModel *autoencoder_decoder_new(void);

#define N 37                 // one full chunk and a ragged one

int main(void) {
  NetModel *full = autoencoder_new(), *dec = autoencoder_decoder_new();
  full->set_threads(full, 2);
  dec->set_threads(dec, 2);
  model_init_params(full, 7);
  CHECK(dec->n_tensors == 10);
  for (int t = 0; t < dec->n_tensors; t++) {
    int f = model_find_tensor(full, dec->tensors[t].name);
    CHECK(f >= 0 && full->tensors[f].numel == dec->tensors[t].numel, "tensor %s", dec->tensors[t].name);
    if (f >= 0)
      memcpy(dec->params + dec->tensors[t].offset, full->params + full->tensors[f].offset,
             sizeof(float) * dec->tensors[t].numel);
  }
  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  float *x = malloc(sizeof(float) * N * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, N, x, NULL);
  float **outs = calloc((size_t)full->n_outputs, sizeof *outs);
  for (int j = 0; j < full->n_outputs; j++)
    outs[j] = malloc(sizeof(float) * N * full->outputs[j].size);
  full->forward(full, x, NULL, N, 1, outs);
  int jc = model_find_output(full, "code"), jy = model_find_output(full, "y");
  CHECK(jc >= 0 && jy >= 0 && dec->n_outputs == 1 && dec->input_size == 9);
  float *y = malloc(sizeof(float) * N * MNIST_PIXELS);
  dec->forward(dec, outs[jc], NULL, N, 1, &y);
  double diff = 0;
  for (size_t i = 0; i < (size_t)N * MNIST_PIXELS; i++)
    diff = fmax(diff, fabs((double)y[i] - outs[jy][i]));
  printf("generated decoder alone vs the full trainer's y: max diff %.3g\n", diff);
  CHECK(diff <= 1e-6);
  for (int j = 0; j < full->n_outputs; j++)
    free(outs[j]);
  free(outs);
  free(x);
  free(y);
  mnist_free(&d);
  full->free(full);
  dec->free(dec);
  return t_finish("test_net_alone_gen");
}
