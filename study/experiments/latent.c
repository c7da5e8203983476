// latent.c — the decoder on given codes (see latent.h, decode.net).
#include "latent.h"

#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "exp.h"

int latent_size(const NetModel *dec) {
  return dec->tensors[model_find_tensor(dec, "pick_dense1_b")].dim[0];
}

int latent_decoder_load(NetModel *dec, const char *ckpt) {
  if (ckpt_load_subset(ckpt, dec, "decoder_") < 0)
    return -1;
  size_t nw, nb;
  float *w = exp_tensor(dec, "pick_dense1_w", &nw);   // [latent, 784]
  float *b = exp_tensor(dec, "pick_dense1_b", &nb);   // [latent]
  memset(w, 0, sizeof(float) * nw);
  memset(b, 0, sizeof(float) * nb);
  for (size_t k = 0; k < nb; k++)
    w[k * dec->input_size + k] = 1.0f;                // z_k = pixel k
  return 0;
}

void latent_decode(NetModel *dec, const float *z, int n, float *y) {
  int d = latent_size(dec);
  float *x = exp_alloc(sizeof(float) * n * dec->input_size);
  for (int i = 0; i < n; i++)
    memcpy(x + (size_t)i * dec->input_size, z + (size_t)i * d, sizeof(float) * d);
  float **outs = exp_alloc(sizeof(float *) * dec->n_outputs);
  outs[exp_output(dec, "y")] = y;
  exp_forward(dec, x, NULL, n, 0, outs);
  free(outs);
  free(x);
}
