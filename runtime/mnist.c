// mnist.c — loading, splitting, shuffling and batching MNIST.
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "idx.h"
#include "mnist.h"
#include "model.h"
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

// A label file of an MNIST-named folder as int32: MNIST's u8 labels, or
// any integer IDX type of rank 1 (EMNIST's 47 classes, an i32 file of
// 1000).  Negative labels and labels from NET_MAX_CLASSES are refused
// here, naming the example; the model's K is checked at start
// (mnist_check_labels).
static int read_labels(const char *path, int32_t **lab, int *n) {
  IdxArray a;
  if (idx_read(path, &a, dataset_budget() / 2))
    return -1;
  Dataset t = {.n = a.ndim == 1 && a.dim[0] <= IDX_MAX_COUNT ? (int)a.dim[0] : 0};
  snprintf(t.name, sizeof t.name, "%.511s", path);
  int rc = -1;
  if (a.ndim != 1)
    fprintf(stderr, "%s: labels must have 1 dimension, this file has %d\n", path, a.ndim);
  else if (a.dim[0] > IDX_MAX_COUNT)
    fprintf(stderr, "%s: %llu labels, more than the limit of %d\n", path, (unsigned long long)a.dim[0],
            IDX_MAX_COUNT);
  else
    rc = dataset_set_labels(&t, path, a.data, a.type, a.dim[0], 0);
  free(a.data);
  *lab = t.y;
  *n = t.n;
  return rc;
}

static int load_pair(const char *dir, const char *images, const char *labels,
                     uint8_t **img, int32_t **lab, int *n, char **paths) {
  char ipath[4096], lpath[4096];
  int ni, nl;
  find_file(ipath, sizeof ipath, dir, images);
  find_file(lpath, sizeof lpath, dir, labels);
  paths[0] = strdup(ipath);
  paths[1] = strdup(lpath);
  if (idx_load_images(ipath, img, &ni))
    return -1;
  if (read_labels(lpath, lab, &nl)) {
    free(*img);
    *img = NULL;
    return -1;
  }
  if (ni != nl) {
    fprintf(stderr, "%s: %d labels but %s has %d images\n", lpath, nl, ipath, ni);
    free(*img);
    free(*lab);
    *img = NULL, *lab = NULL;
    return -1;
  }
  if (ni == 0) {
    fprintf(stderr, "%s: no images\n", ipath);
    free(*img);
    free(*lab);
    *img = NULL, *lab = NULL;
    return -1;
  }
  *n = ni;
  return 0;
}

int mnist_load(Mnist *d, const char *dir) {
  memset(d, 0, sizeof *d);
  int ntrain, ntest;
  if (load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                &d->mem[0], &d->lab[0], &ntrain, &d->path[0])) {
    mnist_free(d);
    return -1;
  }
  if (load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                &d->mem[1], &d->lab[1], &ntest, &d->path[2])) {
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
  d->train = (MnistSet){.n = ntrain - nval, .images = d->mem[0], .labels = d->lab[0], .size = MNIST_PIXELS};
  d->val = (MnistSet){.n = nval, .images = d->mem[0] + (size_t)(ntrain - nval) * MNIST_PIXELS,
                      .labels = d->lab[0] + (ntrain - nval), .size = MNIST_PIXELS};
  d->test = (MnistSet){.n = ntest, .images = d->mem[1], .labels = d->lab[1], .size = MNIST_PIXELS};
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
  for (int j = 1; j < MNIST_MAX_INPUTS; j++)
    if (d->val.t[j]) d->val.t[j] += (size_t)(ntrain - nval) * d->val.tsize[j];
  return 0;
}

// One split of a Dataset as an MnistSet: the floats and the labels are
// taken over (*x, *lab; zeros when it has none: the driver refuses those
// for a model that reads labels).
static int from_dataset(MnistSet *s, Dataset *ds, float **x, int32_t **lab) {
  if (ds->rank > 3 || ds->size > INT32_MAX) {
    fprintf(stderr, "%s: examples of rank above 3; the trainers take examples of rank 1 to 3\n", ds->name);
    return -1;
  }
  if (!ds->y && !(ds->y = calloc((size_t)ds->n + 1, sizeof *ds->y))) {
    fprintf(stderr, "%s: out of memory\n", ds->name);
    return -1;
  }
  *lab = ds->y;
  ds->y = NULL;
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
  d->unlabelled = !s->train.y || (s->test.n && !s->test.y) || (s->val.n && !s->val.y);
  // No test set is allowed: the driver then says so instead of testing.
  if (s->test.n && s->test.size != s->train.size)
    fprintf(stderr, "%s: test examples have %zu values, training examples %zu\n", s->test.name, s->test.size,
            s->train.size);
  else if (s->val.n && s->val.size != s->train.size)
    fprintf(stderr, "%s: validation examples have %zu values, training examples %zu\n", s->val.name, s->val.size,
            s->train.size);
  else if (!from_dataset(&d->train, &s->train, &d->fmem[0], &d->lab[0]) &&
           (!s->test.n || !from_dataset(&d->test, &s->test, &d->fmem[1], &d->lab[1]))) {
    // A validation set of the layout's own (an image folder's val/) leaves
    // the whole training set to train.
    if (!s->val.n)
      rc = split(d, path, d->train.n);
    else if (!from_dataset(&d->val, &s->val, &d->vfmem, &d->vlab) &&
             (d->vpath[0] = strdup(s->val.name)) && (d->vpath[1] = strdup(s->val.name)))
      rc = 0;
  }
  if (!rc && !s->test.n)
    d->test = (MnistSet){.size = d->train.size};
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
  return mnist_load_any_resized(d, path, 0, 0);
}

int mnist_load_any_resized(Mnist *d, const char *path, int resize_h, int resize_w) {
  if (access(path, F_OK) == 0 && is_mnist_dir(path) && resize_h) {
    fprintf(stderr, "%s: --resize applies to image folders (DIR/train/CLASS/*.png|*.jpg) only\n", path);
    return -1;
  }
  // A missing path keeps mnist_load's message, which names the file it
  // looked for first.
  if (is_mnist_dir(path) || access(path, F_OK) != 0)
    return mnist_load(d, path);
  memset(d, 0, sizeof *d);
  DataSplits s;
  DataOptions o = {.resize_h = resize_h, .resize_w = resize_w};
  if (dataset_open(&s, path, &o))
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
  for (int i = 0; i < 4; i++)
    free(d->path[i]);
  for (int i = 0; i < 2; i++) {
    free(d->mem[i]);
    free(d->lab[i]);
    free(d->fmem[i]);
    free(d->vpath[i]);
  }
  free(d->vfmem);
  free(d->vlab);
  for (int j = 1; j < MNIST_MAX_INPUTS; j++) {
    free(d->in[j].name);
    for (int i = 0; i < 3; i++) {
      free(d->in[j].mem[i]);
      free(d->in[j].path[i]);
    }
  }
  memset(d, 0, sizeof *d);
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
    model_shape_text(want, sizeof want, rank, dim);
  else
    snprintf(want, sizeof want, "%d floats", size);
  model_shape_text(have, sizeof have, d->rank, d->dim);
  fprintf(stderr, "%s: examples are %s, model %s expects %s\n", d->path[0], have, model, want);
  return -1;
}

int mnist_check_labels(const Mnist *d, const char *model, int k) {
  if (k <= 0)
    return 0;
  // The training file holds train and (unless it has its own files) val.
  const struct { const int32_t *lab; int n; const char *path; } files[3] = {
    {d->lab[0], d->vlab ? d->train.n : d->train.n + d->val.n, d->path[1]}, {d->lab[1], d->test.n, d->path[3]},
    {d->vlab, d->vlab ? d->val.n : 0, d->vpath[1]}};
  for (int f = 0; f < 3; f++)
    for (int i = 0; i < files[f].n; i++)
      if (files[f].lab[i] < 0 || files[f].lab[i] >= k) {
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
                 float *x, int32_t *labels) {
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

// ---------------------------------------------------------------- splits

int mnist_resplit(Mnist *d, int nval) {
  int total = d->train.n + d->val.n;
  if (d->vlab) {
    fprintf(stderr, "%s: the data has a validation set of its own (%s); --val-fraction and --val-count split "
            "a training set without one\n", d->path[0], d->vpath[0]);
    return -1;
  }
  if (nval < 1 || nval > total - 1) {
    fprintf(stderr, "%s: a validation split of %d of its %d training examples leaves %s\n", d->path[0], nval,
            total, nval < 1 ? "no validation set" : "nothing to train on");
    return -1;
  }
  MnistSet all = d->train;
  all.n = total;
  d->train = d->val = all;
  d->train.n = total - nval;
  d->val.n = nval;
  size_t off = (size_t)(total - nval);
  if (d->val.images) d->val.images += off * MNIST_PIXELS;
  if (d->val.x) d->val.x += off * d->val.size;
  d->val.labels += off;
  for (int j = 1; j < MNIST_MAX_INPUTS; j++)
    if (d->val.t[j]) d->val.t[j] += off * d->val.tsize[j];
  return 0;
}

int mnist_load_val(Mnist *d, const char *images, const char *labels) {
  if (d->vlab) {
    fprintf(stderr, "%s: the data has a validation set of its own (%s) already\n", images, d->vpath[0]);
    return -1;
  }
  DataSplits s;
  if (dataset_open_files(&s, images, labels, NULL, NULL))
    return -1;
  int rc = -1, tail = d->val.n;         // the validation tail trains again
  if (!s.train.y)
    d->unlabelled = 1;
  if (s.train.size != (size_t)d->train.size)
    fprintf(stderr, "%s: validation examples have %zu values, training examples %d\n", images, s.train.size,
            d->train.size);
  else if (!from_dataset(&d->val, &s.train, &d->vfmem, &d->vlab)) {
    d->train.n += tail;
    d->vpath[0] = strdup(images);
    d->vpath[1] = strdup(labels ? labels : images);
    rc = d->vpath[0] && d->vpath[1] ? 0 : -1;
  }
  datasplits_free(&s);
  return rc;
}

// ---------------------------------------------------------------- targets

// One file of input j: n examples of the shape of the first file loaded
// (in->rank 0: this is the first).  Takes the floats over into
// in->mem[slot].  Input 1 keeps the targets' words (--train-targets).
static int load_input_file(Mnist *d, int j, int slot, const char *file, int n, const char *what) {
  MnistInput *in = &d->in[j];
  DataSplits s;
  if (dataset_open_files(&s, file, NULL, NULL, NULL))
    return -1;
  Dataset *t = &s.train;
  int rc = -1;
  if (t->n != n)
    fprintf(stderr, "%s: %d %s, but the %s has %d examples\n", file, t->n, j == 1 ? "targets" : "examples", what, n);
  else if (t->size > INT32_MAX / MNIST_MAX_INPUTS)
    fprintf(stderr, "%s: examples of %zu values each are too large\n", file, t->size);
  else if (in->rank && t->size != (size_t)d->train.tsize[j])
    fprintf(stderr, "%s: examples have %zu values, those of %s %d\n", file, t->size,
            in->path[0] ? in->path[0] : in->path[1], d->train.tsize[j]);
  else if ((in->path[slot] = strdup(file))) {
    if (!in->rank) {
      in->rank = t->rank;
      for (int i = 0; i < t->rank && i < 3; i++)
        in->dim[i] = t->shape[i];
      d->train.tsize[j] = d->val.tsize[j] = d->test.tsize[j] = (int)t->size;
    }
    in->mem[slot] = t->x;
    t->x = NULL;
    rc = 0;
  }
  datasplits_free(&s);
  return rc;
}

int mnist_load_input(Mnist *d, int j, const char *name, const char *const files[3], const char *const opts[3]) {
  MnistInput *in = &d->in[j];
  int own_val = d->vlab != NULL;      // a validation file of its own, else the training file's tail
  if (j < 1 || j >= MNIST_MAX_INPUTS || !(in->name = strdup(name))) {
    fprintf(stderr, "error: input %s: at most %d tensor inputs\n", name, MNIST_MAX_INPUTS);
    return -1;
  }
  char needs[300];
  if (j == 1)
    snprintf(needs, sizeof needs, "its targets");
  else
    snprintf(needs, sizeof needs, "input %s's data", name);
  const struct { const char *what, *data; MnistSet *set; int n; } sets[3] = {
    {"training set", d->path[0], &d->train, own_val ? d->train.n : d->train.n + d->val.n},
    {"test set", d->path[2] ? d->path[2] : d->path[0], &d->test, d->test.n},
    {"validation set", d->vpath[0], &d->val, own_val ? d->val.n : 0}};
  for (int i = 0; i < 3; i++) {
    if (files[i] && sets[i].n == 0) {
      fprintf(stderr, "%s: %s given, but the data has no %s\n", files[i], opts[i], sets[i].what);
      return -1;
    }
    if (!files[i] && sets[i].n > 0) {
      fprintf(stderr, "%s: the %s needs %s too (%s %s%s)\n", sets[i].data, sets[i].what, needs, opts[i],
              strstr(opts[i], "-targets") ? "" : name, strstr(opts[i], "-targets") ? "F" : "=F");
      return -1;
    }
    if (!files[i])
      continue;
    if (load_input_file(d, j, i, files[i], sets[i].n, sets[i].what))
      return -1;
    sets[i].set->t[j] = in->mem[i];
    if (i == 0 && !own_val)
      d->val.t[j] = in->mem[0] + (size_t)d->train.n * d->train.tsize[j];
  }
  return 0;
}

int mnist_check_extra(const Mnist *d, int j, const char *model, int rank, const int *dim, int size) {
  // The input check's rules, on a view of input j's data as the examples.
  const MnistInput *in = &d->in[j];
  Mnist v = {.rank = in->rank};
  memcpy(v.dim, in->dim, sizeof v.dim);
  v.train.size = d->train.tsize[j];
  v.path[0] = in->path[0] ? in->path[0] : in->path[1];
  char what[300];
  snprintf(what, sizeof what, "%s's input %s", model, in->name);
  return mnist_check_input(&v, what, rank, dim, size);
}

int mnist_row_size(const MnistSet *s) {
  int row = s->size;
  for (int j = 1; j < MNIST_MAX_INPUTS; j++)
    row += s->t[j] ? s->tsize[j] : 0;
  return row;
}

// ---------------------------------------------------------------- normalisation

int mnist_channels(const Mnist *d) {
  return d->rank == 3 ? d->dim[0] : 1;
}

// "a,b,c" into v[0..]; returns the count, or -1.
static int parse_list(const char *s, const char *end, float *v, int max) {
  int n = 0;
  for (const char *p = s; p < end;) {
    char *e;
    errno = 0;
    double x = strtod(p, &e);
    if (e == p || errno || !isfinite((float)x) || n == max || e > end || (e < end && *e != ','))
      return -1;
    v[n++] = (float)x;
    if (e == end)
      return n;
    p = e + 1;
    if (p == end)
      return -1;
  }
  return n ? n : -1;
}

int mnist_norm_parse(const char *spec, MnistNorm *n, int *is_auto) {
  memset(n, 0, sizeof *n);
  *is_auto = !strcmp(spec, "auto");
  if (*is_auto || !strcmp(spec, "none"))
    return 0;
  const char *colon = strchr(spec, ':'), *end = spec + strlen(spec);
  int nm, ns;
  if (colon) {
    nm = parse_list(spec, colon, n->mean, MNIST_NORM_MAX);
    ns = parse_list(colon + 1, end, n->std, MNIST_NORM_MAX);
  } else {
    float v[2] = {0, 0};
    nm = ns = parse_list(spec, end, v, 2) == 2 ? 1 : -1;
    n->mean[0] = v[0], n->std[0] = v[1];
  }
  if (nm < 1 || ns < 1 || nm != ns) {
    fprintf(stderr, "error: --normalize: '%s' is not auto, none, MEAN,STD or M1,..,Mc:S1,..,Sc "
            "(at most %d channels, as many stds as means)\n", spec, MNIST_NORM_MAX);
    return -1;
  }
  for (int c = 0; c < nm; c++)
    if (!(n->std[c] > 0)) {
      fprintf(stderr, "error: --normalize: '%s': std %g of channel %d is not positive\n", spec, n->std[c], c);
      return -1;
    }
  n->channels = nm;
  return 0;
}

int mnist_norm_expand(MnistNorm *n, int channels, const char *what) {
  if (n->channels == 0 || n->channels == channels)
    return 0;
  if (n->channels == 1 && channels <= MNIST_NORM_MAX) {
    for (int c = 1; c < channels; c++)
      n->mean[c] = n->mean[0], n->std[c] = n->std[0];
    n->channels = channels;
    return 0;
  }
  fprintf(stderr, "%s: --normalize gives %d channels, the examples have %d\n", what, n->channels, channels);
  return -1;
}

// Value p of example k of s, scaled as mnist_batch scales it.
static inline float value(const MnistSet *s, size_t k, size_t p) {
  return s->x ? s->x[k * s->size + p] : (float)s->images[k * MNIST_PIXELS + p] / 255.0f;
}

int mnist_norm_auto(const Mnist *d, MnistNorm *n) {
  const MnistSet *s = &d->train;
  int ch = mnist_channels(d);
  if (ch > MNIST_NORM_MAX) {
    fprintf(stderr, "%s: --normalize auto: %d channels, at most %d\n", d->path[0], ch, MNIST_NORM_MAX);
    return -1;
  }
  size_t per = (size_t)s->size / ch;       // values of one channel in one example
  memset(n, 0, sizeof *n);
  n->channels = ch;
  for (int c = 0; c < ch; c++) {
    double sum = 0, sq = 0;
    for (size_t k = 0; k < (size_t)s->n; k++)
      for (size_t p = 0; p < per; p++)
        sum += value(s, k, c * per + p);
    double mean = sum / ((double)s->n * per);
    for (size_t k = 0; k < (size_t)s->n; k++)
      for (size_t p = 0; p < per; p++) {
        double v = value(s, k, c * per + p) - mean;
        sq += v * v;
      }
    n->mean[c] = (float)mean;
    n->std[c] = (float)sqrt(sq / ((double)s->n * per));
    if (!(n->std[c] > 0)) {
      fprintf(stderr, "%s: --normalize auto: channel %d has the same value %g everywhere (std 0)\n",
              d->path[0], c, mean);
      return -1;
    }
  }
  return 0;
}

void mnist_norm_text(char *buf, size_t size, const MnistNorm *n) {
  size_t k = 0;
  buf[0] = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int c = 0; c < n->channels && k < size; c++)
      k += (size_t)snprintf(buf + k, size - k, "%s%.9g", c ? "," : pass ? ":" : "",
                            pass ? n->std[c] : n->mean[c]);
}

// ---------------------------------------------------------------- augmentation

int mnist_augment_parse(const char *spec, MnistAugment *a) {
  memset(a, 0, sizeof *a);
  for (const char *p = spec; *p;) {
    size_t len = strcspn(p, ",");
    int v;
    char extra;
    if (len == 4 && !strncmp(p, "flip", 4))
      a->flip = 1;
    else if (len > 5 && len < 16 && !strncmp(p, "crop=", 5)) {
      char num[16];
      memcpy(num, p + 5, len - 5);
      num[len - 5] = 0;
      if (sscanf(num, "%d%c", &v, &extra) != 1 || v < 1 || v > 1024)
        goto bad;
      a->crop = v;
    } else
      goto bad;
    p += len;
    if (*p == ',' && !*++p)
      goto bad;
  }
  if (a->crop || a->flip)
    return 0;
bad:
  fprintf(stderr, "error: --augment: '%s' is not a list of crop=PAD (1..1024) and flip, e.g. crop=4,flip\n", spec);
  return -1;
}

int mnist_augment_check(const Mnist *d, const MnistAugment *a) {
  char have[64];
  model_shape_text(have, sizeof have, d->rank, d->dim);
  if (d->rank < 2) {
    fprintf(stderr, "%s: --augment needs images ([H, W] or [C, H, W]); the examples are %s\n", d->path[0], have);
    return -1;
  }
  int h = d->dim[d->rank - 2], w = d->dim[d->rank - 1];
  if (a->crop >= h || a->crop >= w) {
    fprintf(stderr, "%s: --augment crop=%d: the padding must be below the examples' height and width (%s)\n",
            d->path[0], a->crop, have);
    return -1;
  }
  // Every further input moves with the examples: an image of their height
  // and width ([H, W] or [C, H, W]), whatever its channels.
  for (int j = 1; j < MNIST_MAX_INPUTS; j++) {
    const MnistInput *in = &d->in[j];
    if (!d->train.t[j] && !d->test.t[j] && !d->val.t[j])
      continue;
    if (in->rank >= 2 && in->dim[in->rank - 2] == h && in->dim[in->rank - 1] == w)
      continue;
    char its[64];
    model_shape_text(its, sizeof its, in->rank, in->dim);
    fprintf(stderr, "%s: --augment crops and flips every input with the examples (%s), so input %s must be an "
            "image of their height and width, [%d, %d] or [C, %d, %d]; its examples are %s\n",
            in->path[0] ? in->path[0] : in->path[1], have, in->name, h, w, h, w, its);
    return -1;
  }
  return 0;
}

// One example's crop offset and flip, drawn from r in this order: dy, dx
// (with a crop), then the flip.  Every input of the example moves by it.
typedef struct { int dy, dx, flip; } Move;

static Move augment_draw(const MnistAugment *a, Rng *r) {
  Move m = {0, 0, 0};
  int pad = a->crop;
  m.dy = pad ? (int)rng_below(r, 2 * (uint64_t)pad + 1) - pad : 0;
  m.dx = pad ? (int)rng_below(r, 2 * (uint64_t)pad + 1) - pad : 0;
  m.flip = a->flip && rng_uniform(r) < 0.5;
  return m;
}

// An example ([ch, h, w], floats srcf or bytes src8 / 255) into xi moved
// by mv: output (y, x) of channel c is source (y + dy, x + dx), or
// (y + dy, W-1-x + dx) when flipped (torchvision's RandomCrop(padding)
// then RandomHorizontalFlip), zero outside the source.  Row by row: the
// valid output columns are one interval, so the inner loops carry no
// bounds test.
static void augment_apply(const float *srcf, const uint8_t *src8, int ch, int h, int w, Move mv, float *xi) {
  int dy = mv.dy, dx = mv.dx, flip = mv.flip;
  // Valid x: 0 <= x + dx < w, or flipped 0 <= w-1-x + dx < w.
  int x0 = flip ? (dx > 0 ? dx : 0) : (dx < 0 ? -dx : 0);
  int x1 = flip ? (dx < 0 ? w + dx : w) : (dx > 0 ? w - dx : w);
  for (int c = 0; c < ch; c++)
    for (int y = 0; y < h; y++) {
      float *row = xi + ((size_t)c * h + y) * w;
      int sy = y + dy;
      if (sy < 0 || sy >= h || x0 >= x1) {
        memset(row, 0, sizeof *row * (size_t)w);
        continue;
      }
      size_t base = ((size_t)c * h + sy) * w;
      for (int x = 0; x < x0; x++) row[x] = 0;
      for (int x = x1; x < w; x++) row[x] = 0;
      // Source column of output x: x + dx, or w-1 - x + dx.
      if (srcf) {
        const float *src = srcf + base;
        if (flip) for (int x = x0; x < x1; x++) row[x] = src[w - 1 - x + dx];
        else memcpy(row + x0, src + x0 + dx, sizeof *row * (size_t)(x1 - x0));
      } else {
        const uint8_t *src = src8 + base;
        if (flip) for (int x = x0; x < x1; x++) row[x] = (float)src[w - 1 - x + dx] / 255.0f;
        else for (int x = x0; x < x1; x++) row[x] = (float)src[x + dx] / 255.0f;
      }
    }
}

// Example k's input into xi (stride: floats from one example's row to the
// next, s->size without further inputs), moved by the draw of
// rng_stream(seed, k) when aug, then normalised; each further input j
// after it, moved by the same draw.
static void prep_rows(const Mnist *d, const MnistSet *s, const int *order, int start, int n, float *x,
                      size_t stride, int32_t *labels, const MnistNorm *norm, const MnistAugment *aug,
                      uint64_t seed, int extras) {
  int augment = aug && (aug->crop || aug->flip);
  int ch = 1, h = 1, w = 1;
  if (augment)                      // mnist_augment_check: rank 2 or 3
    ch = d->rank == 3 ? d->dim[0] : 1, h = d->dim[d->rank - 2], w = d->dim[d->rank - 1];
  size_t per = norm && norm->channels ? (size_t)s->size / norm->channels : 0;
  for (int i = 0; i < n; i++) {
    int k = order ? order[start + i] : start + i;
    float *xi = x + (size_t)i * stride;
    Move mv = {0, 0, 0};
    if (augment) {
      Rng r = rng_stream(seed, (uint64_t)k);
      mv = augment_draw(aug, &r);
      augment_apply(s->x ? s->x + (size_t)k * s->size : NULL, s->x ? NULL : s->images + (size_t)k * MNIST_PIXELS,
                    ch, h, w, mv, xi);
    } else if (s->x) {              // other formats: already float, scaled as documented
      memcpy(xi, s->x + (size_t)k * s->size, (size_t)s->size * sizeof *xi);
    } else {
      const uint8_t *img = s->images + (size_t)k * MNIST_PIXELS;
      for (int p = 0; p < MNIST_PIXELS; p++)
        xi[p] = (float)img[p] / 255.0f;   // as torchvision ToTensor: a division
    }
    if (labels)
      labels[i] = s->labels[k];
    for (int c = 0; per && c < norm->channels; c++) {
      float *v = xi + c * per, m = norm->mean[c], sd = norm->std[c];
      for (size_t p = 0; p < per; p++)
        v[p] = (v[p] - m) / sd;
    }
    float *out = xi + s->size;
    for (int j = 1; extras && j < MNIST_MAX_INPUTS; j++) {
      if (!s->t[j])
        continue;
      const float *src = s->t[j] + (size_t)k * s->tsize[j];
      if (augment)   // checked by mnist_augment_check: an image of the input's h and w
        augment_apply(src, NULL, s->tsize[j] / (h * w), h, w, mv, out);
      else
        memcpy(out, src, sizeof *out * (size_t)s->tsize[j]);
      out += s->tsize[j];
    }
  }
}

void mnist_batch_prep(const Mnist *d, const MnistSet *s, const int *order, int start, int n, float *x,
                      int32_t *labels, const MnistNorm *norm, const MnistAugment *aug, uint64_t seed) {
  prep_rows(d, s, order, start, n, x, (size_t)s->size, labels, norm, aug, seed, 0);
}

void mnist_batch_inputs(const Mnist *d, const MnistSet *s, const int *order, int start, int n, float *x,
                        int32_t *labels, const MnistNorm *norm, const MnistAugment *aug, uint64_t seed) {
  prep_rows(d, s, order, start, n, x, (size_t)mnist_row_size(s), labels, norm, aug, seed, 1);
}
