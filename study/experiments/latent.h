// latent.h — images from latent codes: the decoder alone, as the model
// of decode.net (a code travels in the first `latent` pixels of the input
// and a fixed selection layer reads it; see decode.net for why).
#ifndef EXPERIMENTS_LATENT_H
#define EXPERIMENTS_LATENT_H

#include "model.h"

// Loads the decoder_* tensors of ckpt (an autoencoder's, a denoiser's or a
// VAE's checkpoint) into dec, the decode model, and sets its selection
// layer.  Returns 0, or -1 after printing why.
int latent_decoder_load(NetModel *dec, const char *ckpt);

// The code size of the decode model.
int latent_size(const NetModel *dec);

// y [n, 784] = decoder(z), z [n, latent_size].
void latent_decode(NetModel *dec, const float *z, int n, float *y);

#endif
