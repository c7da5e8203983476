// latent.h — images from latent codes: the autoencoder's decoder net run
// alone (`netc models/autoencoder.net --net decoder`, a forward-only model
// whose input is a code and whose one export, out, is the image).
#ifndef EXPERIMENTS_LATENT_H
#define EXPERIMENTS_LATENT_H

#include <stdint.h>

#include "model.h"

// The decoder alone (autoencoder_decoder_new()), with dec->set_threads
// called if threads > 0.  Its parameters are zero until
// latent_decoder_load.
NetModel *latent_decoder_new(int threads);

// Loads the decoder_* tensors of ckpt (an autoencoder's, a denoiser's or a
// VAE's checkpoint) into dec.  Returns 0, or -1 after printing why.
int latent_decoder_load(NetModel *dec, const char *ckpt);

// The code size of the decoder.
int latent_size(const NetModel *dec);

// y [n, 784] = decoder(z), z [n, latent_size].
void latent_decode(NetModel *dec, const float *z, int n, float *y);

// z [n, d] ~ N(0, I): one stream of normal draws, rng_stream(seed, 0), in
// row-major order (the report's samples figure, and decode-samples).
void latent_draw(uint64_t seed, int n, int d, float *z);

#endif
