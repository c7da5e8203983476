// latent-standin: writes a stand-in for an encoded MNIST test set, until
// the trained encoders export real codes.  The "codes" are the first
// --dims principal coordinates of the images (pixels scaled to [0, 1]);
// --whiten divides each by its standard deviation, a stand-in for the
// VAE's roughly isotropic N(0, 1) codes.  These are NOT autoencoder codes:
// every output of latent-analysis run on them says so.
//
//   latent-standin --images t10k-images-idx3-ubyte[.gz]
//                  --labels t10k-labels-idx1-ubyte[.gz]
//                  [--dims 9] [--whiten] [--limit N] --out codes.bin
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codes.h"
#include "pca.h"

// Reads a whole (optionally gzipped) file; zlib reads plain files as is.
static unsigned char *slurp(const char *path, size_t *len) {
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    return NULL;
  }
  size_t cap = 1 << 20, n = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (!buf)
      break;
    if (n == cap) {
      unsigned char *b = realloc(buf, cap *= 2);
      if (!b) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = b;
    }
    int got = gzread(f, buf + n, (unsigned)(cap - n));
    if (got < 0) {
      fprintf(stderr, "%s: read error\n", path);
      free(buf);
      buf = NULL;
      break;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  gzclose(f);
  *len = n;
  return buf;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int usage(void) {
  fprintf(stderr, "usage: latent-standin --images FILE --labels FILE "
                  "[--dims 9] [--whiten] [--limit N] --out FILE\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *images = NULL, *labels = NULL, *out = NULL;
  int dims = 9, whiten = 0, limit = 0;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--images") && a + 1 < argc) images = argv[++a];
    else if (!strcmp(argv[a], "--labels") && a + 1 < argc) labels = argv[++a];
    else if (!strcmp(argv[a], "--out") && a + 1 < argc) out = argv[++a];
    else if (!strcmp(argv[a], "--dims") && a + 1 < argc) dims = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--limit") && a + 1 < argc) limit = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--whiten")) whiten = 1;
    else return usage();
  }
  if (!images || !labels || !out || dims < 1 || dims > 784)
    return usage();
  size_t ilen, llen;
  unsigned char *img = slurp(images, &ilen), *lab = slurp(labels, &llen);
  if (!img || !lab)
    return 1;
  if (ilen < 16 || be32(img) != 2051 || llen < 8 || be32(lab) != 2049) {
    fprintf(stderr, "%s / %s: not IDX image / label files\n", images, labels);
    return 1;
  }
  int n = (int)be32(img + 4), d = (int)(be32(img + 8) * be32(img + 12));
  if ((int)be32(lab + 4) != n || ilen < 16 + (size_t)n * d || llen < 8 + (size_t)n) {
    fprintf(stderr, "%s: truncated or count mismatch with %s\n", images, labels);
    return 1;
  }
  if (limit > 0 && limit < n)
    n = limit;
  float *x = malloc((size_t)n * d * sizeof(float));
  Codes c;
  if (!x || codes_alloc(&c, n, dims) != 0) {
    fprintf(stderr, "latent-standin: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < (size_t)n * d; i++)
    x[i] = img[16 + i] / 255.0f;
  for (int i = 0; i < n; i++)
    c.label[i] = lab[8 + i];
  Pca p;
  if (pca_fit(&p, x, n, d, dims) != 0)
    return 1;
  pca_transform(&p, x, n, c.x);
  if (whiten)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < dims; j++)
        c.x[(size_t)i * dims + j] /= sqrtf(p.variance[j]);
  double kept = 0;
  for (int j = 0; j < dims; j++)
    kept += p.variance_ratio[j];
  if (codes_save(out, &c) != 0)
    return 1;
  printf("latent-standin: %d images -> %d PCA coordinates%s (%.1f %% of the "
         "pixel variance) -> %s\n",
         n, dims, whiten ? ", whitened" : "", 100 * kept, out);
  pca_free(&p);
  codes_free(&c);
  free(x), free(img), free(lab);
  return 0;
}
