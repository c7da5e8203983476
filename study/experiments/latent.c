// latent.c — the decoder on given codes (see latent.h).
#include "latent.h"

#include "autoencoder_decoder.h"
#include "ckpt.h"
#include "exp.h"
#include "rng.h"

NetModel *latent_decoder_new(int threads) {
  NetModel *dec = autoencoder_decoder_new();
  if (threads > 0 && dec->set_threads)
    dec->set_threads(dec, threads);
  return dec;
}

int latent_size(const NetModel *dec) {
  return dec->input_size;
}

int latent_decoder_load(NetModel *dec, const char *ckpt) {
  return ckpt_load_subset(ckpt, dec, "decoder_") < 0 ? -1 : 0;
}

void latent_decode(NetModel *dec, const float *z, int n, float *y) {
  float *outs[1] = {y};   // the decoder's one export, out
  exp_forward(dec, z, NULL, n, 0, outs);
}

void latent_draw(uint64_t seed, int n, int d, float *z) {
  Rng g = rng_stream(seed, 0);
  for (size_t i = 0; i < (size_t)n * d; i++)
    z[i] = (float)rng_normal(&g);
}
