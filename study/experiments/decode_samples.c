// decode_samples.c — decode-samples: digits from random codes.  Draws N
// codes z ~ N(0, I), runs them through the decoder of a checkpoint (a
// VAE's, or an autoencoder's or denoiser's: any with decoder_* tensors;
// the decoder net alone, see latent.h) and writes the images as a PNG grid.
// The defaults (64 codes, 8 columns, seed EXP_FIGURE_SEED) draw the codes
// of the report's samples figure, so `decode-samples OUT/vae.ckpt` gives
// the right half of experiment-vae's samples.png, pixel for pixel.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp.h"
#include "latent.h"
#include "png_grid.h"

static int usage(void) {
  fprintf(stderr, "usage: decode-samples CKPT [-n N] [--cols C] [--seed S] [--threads T] "
                  "[-o FILE]\n"
                  "  N codes z ~ N(0, I) [64] through CKPT's decoder, as a grid of C columns [8]\n"
                  "  in FILE [decoded-samples.png]; seed S [%u, the report's samples]\n",
          EXP_FIGURE_SEED);
  return 2;
}

static int help(void) {
  printf("usage: decode-samples CKPT [-n N] [--cols C] [--seed S] [--threads T] [-o FILE]\n"
         "\n"
         "Digits from random codes: draws N codes z ~ N(0, I), runs them through the\n"
         "decoder of checkpoint CKPT (a VAE's, an autoencoder's or a denoiser's: any\n"
         "with decoder_* tensors) and writes the images as a PNG grid.  The defaults\n"
         "draw the codes of the report's samples figure.\n"
         "\n"
         "options:\n"
         "  CKPT            a checkpoint (train-vae --save FILE)\n"
         "  -n N            codes, images [64]\n"
         "  --cols C        grid columns [8]\n"
         "  --seed S        the codes' seed [%u, the report's samples]\n"
         "  --threads T     threads [OpenMP's count]\n"
         "  -o FILE         the PNG [decoded-samples.png]\n"
         "  -h, --help      this help\n"
         "\n"
         "Exit status: 0 ok, 1 the checkpoint cannot be loaded or the PNG written,\n"
         "2 usage error.\n"
         "\n"
         "Example:\n"
         "  decode-samples vae.ckpt -n 100 --cols 10 -o digits.png\n",
         EXP_FIGURE_SEED);
  return 0;
}

// A positive int, or 0.
static int positive(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  return *s && !*end && v > 0 && v <= 1 << 20 ? (int)v : 0;
}

int main(int argc, char **argv) {
  const char *ckpt = NULL, *path = "decoded-samples.png";
  int n = 64, cols = 8, threads = 0;
  unsigned long long seed = EXP_FIGURE_SEED;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help"))
      return help();
    if (!strcmp(argv[a], "-n") && a + 1 < argc) {
      if (!(n = positive(argv[++a])))
        return usage();
    } else if (!strcmp(argv[a], "--cols") && a + 1 < argc) {
      if (!(cols = positive(argv[++a])))
        return usage();
    } else if (!strcmp(argv[a], "--threads") && a + 1 < argc) {
      if (!(threads = positive(argv[++a])))
        return usage();
    } else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
      char *end;
      seed = strtoull(argv[++a], &end, 10);
      if (!*argv[a] || *end)
        return usage();
    } else if (!strcmp(argv[a], "-o") && a + 1 < argc) {
      path = argv[++a];
    } else if (argv[a][0] != '-' && !ckpt) {
      ckpt = argv[a];
    } else {
      return usage();
    }
  }
  if (!ckpt)
    return usage();
  if (cols > n)
    cols = n;

  NetModel *dec = latent_decoder_new(threads);
  if (latent_decoder_load(dec, ckpt)) {
    dec->free(dec);
    return 1;
  }
  const int d = latent_size(dec), rows = (n + cols - 1) / cols;
  float *z = exp_alloc(sizeof(float) * n * d);
  float *y = exp_alloc(sizeof(float) * rows * cols * MNIST_PIXELS);
  latent_draw(seed, n, d, z);
  latent_decode(dec, z, n, y);
  // The last row's empty tiles: white, the background's colour.
  for (size_t i = (size_t)n * MNIST_PIXELS; i < (size_t)rows * cols * MNIST_PIXELS; i++)
    y[i] = 1.0f;
  int rc = png_grid_save(path, y, rows, cols, 28, 28);
  if (rc == 0)
    printf("%s: %d digits decoded from z ~ N(0, I) (latent %d, seed %llu) by %s's decoder\n",
           path, n, d, seed, ckpt);
  free(y);
  free(z);
  dec->free(dec);
  return rc ? 1 : 0;
}
