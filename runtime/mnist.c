// mnist.c — loading, splitting, shuffling and batching MNIST.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idx.h"
#include "mnist.h"
#include "rng.h"

#ifndef NETRT_DEFAULT_DATA
#define NETRT_DEFAULT_DATA "runtime/mnist"
#endif

const char *mnist_default_dir(void) {
  return NETRT_DEFAULT_DATA;
}

// DIR/NAME if it exists, else DIR/NAME.gz (the error then names the .gz).
static void find_file(char *out, size_t size, const char *dir, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
  if (access(out, F_OK) == 0)
    return;
  snprintf(out, size, "%s/%s.gz", dir, name);
}

static int load_pair(const char *dir, const char *images, const char *labels,
                     uint8_t **img, uint8_t **lab, int *n, char **paths) {
  char ipath[4096], lpath[4096];
  int ni, nl;
  find_file(ipath, sizeof ipath, dir, images);
  find_file(lpath, sizeof lpath, dir, labels);
  paths[0] = strdup(ipath);
  paths[1] = strdup(lpath);
  if (idx_load_images(ipath, img, &ni))
    return -1;
  if (idx_load_labels(lpath, lab, &nl)) {
    free(*img);
    *img = NULL;
    return -1;
  }
  if (ni != nl) {
    fprintf(stderr, "%s: %d labels but %s has %d images\n", lpath, nl, ipath, ni);
    free(*img);
    free(*lab);
    *img = *lab = NULL;
    return -1;
  }
  if (ni == 0) {
    fprintf(stderr, "%s: no images\n", ipath);
    free(*img);
    free(*lab);
    *img = *lab = NULL;
    return -1;
  }
  *n = ni;
  return 0;
}

int mnist_load(Mnist *d, const char *dir) {
  memset(d, 0, sizeof *d);
  int ntrain, ntest;
  if (load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                &d->mem[0], &d->mem[1], &ntrain, &d->path[0])) {
    mnist_free(d);
    return -1;
  }
  if (load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                &d->mem[2], &d->mem[3], &ntest, &d->path[2])) {
    mnist_free(d);
    return -1;
  }
  int nval = ntrain / MNIST_VAL_FRACTION;
  if (nval < 1 || ntrain - nval < 1) {
    fprintf(stderr, "%s: %d training images are too few for a train/validation split\n",
            dir, ntrain);
    mnist_free(d);
    return -1;
  }
  d->train = (MnistSet){ntrain - nval, d->mem[0], d->mem[1]};
  d->val = (MnistSet){nval, d->mem[0] + (size_t)(ntrain - nval) * MNIST_PIXELS,
                      d->mem[1] + (ntrain - nval)};
  d->test = (MnistSet){ntest, d->mem[2], d->mem[3]};
  return 0;
}

void mnist_free(Mnist *d) {
  for (int i = 0; i < 4; i++) {
    free(d->mem[i]);
    free(d->path[i]);
  }
  memset(d, 0, sizeof *d);
}

static void shape_text(char *buf, size_t size, int rank, const int *dim) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < rank && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%d", i ? ", " : "", dim[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
}

int mnist_check_input(const Mnist *d, const char *model, int rank, const int *dim, int size) {
  if (rank == 3 && dim[0] == 1 && dim[1] == 28 && dim[2] == 28)
    return 0;
  if ((rank == 1 || rank == 0) && size == MNIST_PIXELS)
    return 0;
  char want[64];
  if (rank > 0)
    shape_text(want, sizeof want, rank, dim);
  else
    snprintf(want, sizeof want, "%d floats", size);
  fprintf(stderr, "%s: examples are [1, 28, 28] (MNIST), model %s expects %s\n", d->path[0], model, want);
  return -1;
}

int mnist_check_labels(const Mnist *d, const char *model, int k) {
  if (k <= 0)
    return 0;
  const struct { const uint8_t *lab; int n; const char *path; } files[2] = {
    {d->mem[1], d->train.n + d->val.n, d->path[1]}, {d->mem[3], d->test.n, d->path[3]}};
  for (int f = 0; f < 2; f++)
    for (int i = 0; i < files[f].n; i++)
      if (files[f].lab[i] >= k) {
        fprintf(stderr, "%s: label %d at index %d, but model %s has %d classes (labels 0..%d)\n", files[f].path,
                files[f].lab[i], i, model, k, k - 1);
        return -1;
      }
  return 0;
}

void mnist_shuffle(int *order, int n, uint64_t seed) {
  Rng r = rng_stream(seed, 0x53485546464c45ull);   // "SHUFFLE"
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)rng_below(&r, (uint64_t)i + 1);
    int t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

void mnist_batch(const MnistSet *s, const int *order, int start, int n,
                 float *x, uint8_t *labels) {
  for (int i = 0; i < n; i++) {
    int k = order ? order[start + i] : start + i;
    const uint8_t *img = s->images + (size_t)k * MNIST_PIXELS;
    float *xi = x + (size_t)i * MNIST_PIXELS;
    for (int p = 0; p < MNIST_PIXELS; p++)
      xi[p] = (float)img[p] / 255.0f;   // as torchvision ToTensor: a division
    if (labels)
      labels[i] = s->labels[k];
  }
}
