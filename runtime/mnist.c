// mnist.c — loading, splitting, shuffling and batching MNIST.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "idx.h"
#include "mnist.h"
#include "rng.h"

// Where `make install` puts the committed subset (CMake defines it as
// PREFIX/share/netc/mnist).
#ifndef NETRT_DEFAULT_DATA
#define NETRT_DEFAULT_DATA "/usr/local/share/netc/mnist"
#endif

// The committed subset nearest above the running program: the first
// DIR/share/netc/mnist for DIR the program's folder's parent, its parent,
// and so on.  That is PREFIX/share for a program in PREFIX/bin (installed
// under another --prefix than configured, too), and the build tree's copy
// (build/share, made at configure time) for build/bin and for trainers
// compiled elsewhere in the build tree (netc-variant's, out-of-tree test
// projects).  Else the configured install location.  Nothing points into
// the source tree.
const char *mnist_default_dir(void) {
  static char dir[4096];
  if (dir[0])
    return dir;
  char path[4096], cand[4200];
  ssize_t k = readlink("/proc/self/exe", path, sizeof path - 1);
  if (k > 0) {
    path[k] = 0;
    for (int up = 0; up < 16; up++) {
      char *slash = strrchr(path, '/');
      if (!slash)
        break;
      *slash = 0;   // path: the program's folder, then its parents
      if (up == 0)
        continue;
      snprintf(cand, sizeof cand, "%s/share/netc/mnist", path);
      if (realpath(cand, dir))
        return dir;
    }
  }
  snprintf(dir, sizeof dir, "%s", NETRT_DEFAULT_DATA);
  return dir;
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
  d->train = (MnistSet){ntrain - nval, d->mem[0], d->mem[1], NULL, MNIST_PIXELS};
  d->val = (MnistSet){nval, d->mem[0] + (size_t)(ntrain - nval) * MNIST_PIXELS,
                      d->mem[1] + (ntrain - nval), NULL, MNIST_PIXELS};
  d->test = (MnistSet){ntest, d->mem[2], d->mem[3], NULL, MNIST_PIXELS};
  d->rank = 3;
  d->dim[0] = 1, d->dim[1] = 28, d->dim[2] = 28;
  return 0;
}

// Train/validation split of the training file: the last 1/MNIST_VAL_FRACTION.
static int split(Mnist *d, const char *dir, int ntrain) {
  int nval = ntrain / MNIST_VAL_FRACTION;
  if (nval < 1 || ntrain - nval < 1) {
    fprintf(stderr, "%s: %d training images are too few for a train/validation split\n",
            dir, ntrain);
    return -1;
  }
  d->val = d->train;
  d->train.n = ntrain - nval;
  d->val.n = nval;
  if (d->val.images) d->val.images += (size_t)(ntrain - nval) * MNIST_PIXELS;
  if (d->val.x) d->val.x += (size_t)(ntrain - nval) * d->val.size;
  d->val.labels += ntrain - nval;
  return 0;
}

// One split of a Dataset as an MnistSet: the floats are taken over (*x),
// the labels copied to bytes into *lab.
static int from_dataset(MnistSet *s, Dataset *ds, float **x, uint8_t **lab) {
  if (!ds->y || ds->classes > 256 || ds->rank > 3 || ds->size > INT32_MAX) {
    fprintf(stderr, "%s: %s; the trainers take labelled examples of rank 1 to 3 and labels 0..255\n",
            ds->name, !ds->y ? "examples without labels" : ds->classes > 256 ? "labels above 255"
                              : "examples of rank above 3");
    return -1;
  }
  if (!(*lab = malloc((size_t)ds->n))) {
    fprintf(stderr, "%s: out of memory\n", ds->name);
    return -1;
  }
  for (int i = 0; i < ds->n; i++)
    (*lab)[i] = (uint8_t)ds->y[i];
  *x = ds->x;
  ds->x = NULL;
  *s = (MnistSet){.n = ds->n, .labels = *lab, .x = *x, .size = (int)ds->size};
  return 0;
}

static int is_mnist_dir(const char *path) {
  char p[4096];
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", path);
  if (access(p, F_OK) == 0)
    return 1;
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", path);
  return access(p, F_OK) == 0;
}

// The loaded splits as Mnist (the driver's view); frees s.
static int from_splits(Mnist *d, DataSplits *s, const char *path) {
  int rc = -1;
  if (!s->test.n)
    fprintf(stderr, "%s: no test set (the trainers need one: x_test/y_test, test_batch.bin, "
            "test.bin, t10k-* or test/)\n", path);
  else if (s->test.size != s->train.size)
    fprintf(stderr, "%s: test examples have %zu values, training examples %zu\n", s->test.name, s->test.size,
            s->train.size);
  else if (!from_dataset(&d->train, &s->train, &d->fmem[0], &d->mem[1]) &&
           !from_dataset(&d->test, &s->test, &d->fmem[1], &d->mem[3]))
    rc = split(d, path, d->train.n);
  d->rank = s->train.rank;
  for (int i = 0; i < s->train.rank && i < 3; i++)
    d->dim[i] = s->train.shape[i];
  datasplits_free(s);
  for (int i = 0; i < 4 && !rc; i++)   // for the checks' messages (mnist_check_*)
    if (!d->path[i] && !(d->path[i] = strdup(path)))
      rc = -1;
  if (rc)
    mnist_free(d);
  return rc;
}

int mnist_load_any(Mnist *d, const char *path) {
  // A missing path keeps mnist_load's message, which names the file it
  // looked for first.
  if (is_mnist_dir(path) || access(path, F_OK) != 0)
    return mnist_load(d, path);
  memset(d, 0, sizeof *d);
  DataSplits s;
  if (dataset_open(&s, path, NULL))
    return -1;
  return from_splits(d, &s, path);
}

int mnist_load_files(Mnist *d, const char *train_images, const char *train_labels,
                     const char *test_images, const char *test_labels) {
  memset(d, 0, sizeof *d);
  DataSplits s;
  if (dataset_open_files(&s, train_images, train_labels, test_images, test_labels))
    return -1;
  const char *files[4] = {train_images, train_labels, test_images, test_labels};
  for (int i = 0; i < 4; i++)
    d->path[i] = files[i] ? strdup(files[i]) : NULL;
  return from_splits(d, &s, train_images);
}

void mnist_free(Mnist *d) {
  for (int i = 0; i < 4; i++) {
    free(d->mem[i]);
    free(d->path[i]);
  }
  for (int i = 0; i < 2; i++)
    free(d->fmem[i]);
  memset(d, 0, sizeof *d);
}

static void shape_text(char *buf, size_t size, int rank, const int *dim) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < rank && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%d", i ? ", " : "", dim[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
}

// Rank and dims without leading 1s: [1, 28, 28] and [28, 28] lay out the
// same floats.
static int squeeze(int rank, const int *dim, int *out) {
  int i = 0;
  while (i < rank - 1 && dim[i] == 1)
    i++;
  for (int j = i; j < rank; j++)
    out[j - i] = dim[j];
  return rank - i;
}

int mnist_check_input(const Mnist *d, const char *model, int rank, const int *dim, int size) {
  int a[3], b[3], ra = squeeze(d->rank, d->dim, a), rb = squeeze(rank, dim, b);
  bool same = ra == rb;
  for (int i = 0; same && i < ra; i++)
    same = a[i] == b[i];
  if (rank > 0 && same && size == d->train.size)
    return 0;
  if ((rank == 1 || rank == 0) && size == d->train.size)   // a vector input reads the examples flattened
    return 0;
  char want[64], have[64];
  if (rank > 0)
    shape_text(want, sizeof want, rank, dim);
  else
    snprintf(want, sizeof want, "%d floats", size);
  shape_text(have, sizeof have, d->rank, d->dim);
  fprintf(stderr, "%s: examples are %s, model %s expects %s\n", d->path[0], have, model, want);
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
    float *xi = x + (size_t)i * s->size;
    if (s->x) {                     // other formats: already float, scaled as documented
      memcpy(xi, s->x + (size_t)k * s->size, (size_t)s->size * sizeof *xi);
      if (labels)
        labels[i] = s->labels[k];
      continue;
    }
    const uint8_t *img = s->images + (size_t)k * MNIST_PIXELS;
    for (int p = 0; p < MNIST_PIXELS; p++)
      xi[p] = (float)img[p] / 255.0f;   // as torchvision ToTensor: a division
    if (labels)
      labels[i] = s->labels[k];
  }
}
