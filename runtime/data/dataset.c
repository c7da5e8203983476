// dataset.c — the Dataset in memory, conversion to float, budgets,
// batches, format detection and the IDX reader (see dataset.h).
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "idx.h"
#include "model.h"

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

void dataset_free(Dataset *d) {
  free(d->x);
  free(d->y);
  memset(d, 0, sizeof *d);
}

void datasplits_free(DataSplits *s) {
  dataset_free(&s->train);
  dataset_free(&s->test);
  dataset_free(&s->val);
}

uint64_t dataset_budget(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t b = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
  struct rlimit r;
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (uint64_t)r.rlim_cur < b)
    b = (uint64_t)r.rlim_cur;
  return b;
}

int dataset_check_size(const char *name, uint64_t n, uint64_t size) {
  uint64_t budget = dataset_budget();
  // n and size are each below 2^32 where they come from; the product of
  // the two in floats is then below 2^66: computed in long double.
  long double need = (long double)n * (long double)size * 4 + (long double)n * 4;
  if (n > INT32_MAX || need > (long double)budget) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "%llu examples of %llu values need %.2Lf GB as float, more than the %.2f GB this "
             "process may use", (unsigned long long)n, (unsigned long long)size, need / 1e9,
             budget / 1e9);
    return fail(name, msg);
  }
  return 0;
}

// dst[i] = src[i] as float; unsigned bytes / 255.
static void convert(float *dst, const void *src, int type, uint64_t count) {
  switch (type) {
  case IDX_U8:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const uint8_t *)src)[i] / 255.0f;
    break;
  case IDX_I8:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const int8_t *)src)[i];
    break;
  case IDX_I16:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const int16_t *)src)[i];
    break;
  case IDX_I32:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const int32_t *)src)[i];
    break;
  case DATASET_I64:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const int64_t *)src)[i];
    break;
  case IDX_F32:
    memcpy(dst, src, count * sizeof(float));
    break;
  case IDX_F64:
    for (uint64_t i = 0; i < count; i++) dst[i] = (float)((const double *)src)[i];
    break;
  }
}

int dataset_set_images(Dataset *d, const char *path, const void *data, int type, int ndim,
                       const uint64_t *dim) {
  char msg[256];
  if (ndim < 2 || ndim > DATASET_MAX_RANK + 1) {
    snprintf(msg, sizeof msg, "images have %d dimensions; expected 2 to %d (count, then 1 to %d per example)",
             ndim, DATASET_MAX_RANK + 1, DATASET_MAX_RANK);
    return fail(path, msg);
  }
  uint64_t size = 1;
  for (int i = 1; i < ndim; i++) {
    if (dim[i] == 0 || dim[i] > INT32_MAX || size > INT32_MAX / dim[i]) {
      snprintf(msg, sizeof msg, "dimension %d is %llu: an example must have 1 to 2^31 values", i,
               (unsigned long long)dim[i]);
      return fail(path, msg);
    }
    size *= dim[i];
  }
  if (dim[0] == 0)
    return fail(path, "no examples");
  if (dataset_check_size(path, dim[0], size))
    return -1;
  d->x = malloc((size_t)(dim[0] * size) * sizeof(float));
  if (!d->x)
    return fail(path, "out of memory");
  convert(d->x, data, type, dim[0] * size);
  snprintf(d->name, sizeof d->name, "%s", path);
  d->n = (int)dim[0];
  d->rank = ndim - 1;
  for (int i = 1; i < ndim; i++)
    d->shape[i - 1] = (int)dim[i];
  d->size = (size_t)size;
  return 0;
}

int dataset_set_labels(Dataset *d, const char *path, const void *data, int type, uint64_t n,
                       int limit) {
  char msg[1024];
  if (type != IDX_U8 && type != IDX_I8 && type != IDX_I16 && type != IDX_I32 && type != DATASET_I64)
    return fail(path, "labels must be integers (found a floating-point type)");
  if (n != (uint64_t)d->n) {
    snprintf(msg, sizeof msg, "%llu labels but %s has %d examples", (unsigned long long)n, d->name,
             d->n);
    return fail(path, msg);
  }
  int32_t *y = malloc((n ? n : 1) * sizeof *y);
  if (!y)
    return fail(path, "out of memory");
  int classes = 0;
  for (uint64_t i = 0; i < n; i++) {
    int64_t v = type == IDX_U8    ? ((const uint8_t *)data)[i]
                : type == IDX_I8  ? ((const int8_t *)data)[i]
                : type == IDX_I16 ? ((const int16_t *)data)[i]
                : type == IDX_I32 ? ((const int32_t *)data)[i]
                                  : ((const int64_t *)data)[i];
    if (v < 0 || (limit && v >= limit) || v >= NET_MAX_CLASSES) {
      snprintf(msg, sizeof msg, "label %lld of example %llu is out of range 0..%d", (long long)v,
               (unsigned long long)i, (limit ? limit : NET_MAX_CLASSES) - 1);
      free(y);
      return fail(path, msg);
    }
    y[i] = (int32_t)v;
    if (v + 1 > classes)
      classes = (int)v + 1;
  }
  d->y = y;
  d->classes = classes;
  return 0;
}

void dataset_batch(const Dataset *d, const int *order, int start, int n, float *x,
                   int32_t *labels) {
  for (int i = 0; i < n; i++) {
    int k = order ? order[start + i] : start + i;
    memcpy(x + (size_t)i * d->size, d->x + (size_t)k * d->size, d->size * sizeof(float));
    if (labels)
      labels[i] = d->y ? d->y[k] : 0;
  }
}

// ---------------------------------------------------------------- IDX

int dataset_load_idx(Dataset *d, const char *images, const char *labels) {
  memset(d, 0, sizeof *d);
  uint64_t budget = dataset_budget();
  IdxArray a;
  // The raw array is at most a quarter of its float copy's size.
  if (idx_read(images, &a, budget / 2))
    return -1;
  int r = dataset_set_images(d, images, a.data, a.type, a.ndim, a.dim);
  free(a.data);
  if (r || !labels)
    return r;
  if (idx_read(labels, &a, budget / 2)) {
    dataset_free(d);
    return -1;
  }
  if (a.ndim != 1) {
    free(a.data);
    dataset_free(d);
    return fail(labels, "labels must have 1 dimension");
  }
  r = dataset_set_labels(d, labels, a.data, a.type, a.dim[0], 0);
  free(a.data);
  if (r)
    dataset_free(d);
  return r;
}

// ---------------------------------------------------------------- detection

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

// DIR/NAME, or DIR/NAME.gz when only that exists; NULL when neither.
static const char *find(char *out, size_t size, const char *dir, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
  if (is_file(out))
    return out;
  snprintf(out, size, "%s/%s.gz", dir, name);
  return is_file(out) ? out : NULL;
}

// From a file's first bytes.
static DataFormat detect_file(const char *path) {
  unsigned char m[6] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    char msg[256];
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
    fail(path, msg);
    return (DataFormat)-1;
  }
  size_t got = fread(m, 1, sizeof m, f);
  fclose(f);
  if (got >= 6 && !memcmp(m, "\x93NUMPY", 6))
    return DATA_NPY;
  if (got >= 4 && !memcmp(m, "PK\3\4", 4))
    return DATA_NPZ;
  if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b)
    return DATA_IDX;                   // gzip: only IDX is read compressed
  if (got >= 4 && m[0] == 0 && m[1] == 0 && m[3] >= 1 && m[3] <= IDX_MAX_DIMS)
    return DATA_IDX;                   // idx_read names a bad type code
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strstr(base, ".bin"))
    return strstr(base, "batch") ? DATA_CIFAR10 : DATA_CIFAR100;
  fail(path, "unknown format: not IDX (magic 0x0000TTNN, or gzip), .npy, .npz or CIFAR .bin");
  return (DataFormat)-1;
}

DataFormat dataset_detect(const char *path) {
  char p[4096];
  if (is_file(path))
    return detect_file(path);
  if (!is_dir(path)) {
    char msg[256];
    snprintf(msg, sizeof msg, "no such file or folder (%s)", strerror(errno ? errno : ENOENT));
    fail(path, msg);
    return (DataFormat)-1;
  }
  if (find(p, sizeof p, path, "train-images-idx3-ubyte"))
    return DATA_IDX;
  if (find(p, sizeof p, path, "data_batch_1.bin"))
    return DATA_CIFAR10;
  snprintf(p, sizeof p, "%s/train.bin", path);
  if (is_file(p))
    return DATA_CIFAR100;
  snprintf(p, sizeof p, "%s/x_train.npy", path);
  if (is_file(p))
    return DATA_NPY;
  snprintf(p, sizeof p, "%s/train", path);
  if (is_dir(p))
    return DATA_FOLDER;
  fail(path, "no data set found: expected MNIST-named IDX files (train-images-idx3-ubyte[.gz]), "
             "CIFAR batches (data_batch_1.bin or train.bin), x_train.npy, or a train/ folder "
             "with one subfolder per class");
  return (DataFormat)-1;
}

// Train and, when present, test from a folder of the given format.
static int open_dir(DataSplits *s, const char *dir, DataFormat fmt, const DataOptions *o) {
  char a[4096], b[4096];
  switch (fmt) {
  case DATA_IDX:
    if (!find(a, sizeof a, dir, "train-images-idx3-ubyte") ||
        !find(b, sizeof b, dir, "train-labels-idx1-ubyte")) {
      return fail(dir, "missing train-images-idx3-ubyte[.gz] or train-labels-idx1-ubyte[.gz]");
    }
    if (dataset_load_idx(&s->train, a, b))
      return -1;
    if (find(a, sizeof a, dir, "t10k-images-idx3-ubyte") &&
        find(b, sizeof b, dir, "t10k-labels-idx1-ubyte"))
      return dataset_load_idx(&s->test, a, b);
    return 0;
  case DATA_CIFAR10: {
    char names[5][4096];
    const char *files[5];
    int n = 0;
    for (int i = 1; i <= 5; i++) {
      char base[32];
      snprintf(base, sizeof base, "data_batch_%d.bin", i);
      snprintf(names[n], sizeof names[n], "%s/%s", dir, base);
      if (is_file(names[n]))
        files[n] = names[n], n++;
    }
    if (dataset_load_cifar(&s->train, files, n, 0, 0))
      return -1;
    snprintf(a, sizeof a, "%s/test_batch.bin", dir);
    const char *t = a;
    return is_file(a) ? dataset_load_cifar(&s->test, &t, 1, 0, 0) : 0;
  }
  case DATA_CIFAR100: {
    snprintf(a, sizeof a, "%s/train.bin", dir);
    const char *t = a;
    if (dataset_load_cifar(&s->train, &t, 1, 1, o->coarse))
      return -1;
    snprintf(a, sizeof a, "%s/test.bin", dir);
    return is_file(a) ? dataset_load_cifar(&s->test, &t, 1, 1, o->coarse) : 0;
  }
  case DATA_NPY:
    snprintf(a, sizeof a, "%s/x_train.npy", dir);
    snprintf(b, sizeof b, "%s/y_train.npy", dir);
    if (dataset_load_npy(&s->train, a, is_file(b) ? b : NULL))
      return -1;
    snprintf(a, sizeof a, "%s/x_test.npy", dir);
    snprintf(b, sizeof b, "%s/y_test.npy", dir);
    return is_file(a) ? dataset_load_npy(&s->test, a, is_file(b) ? b : NULL) : 0;
  case DATA_FOLDER:
    snprintf(a, sizeof a, "%s/train", dir);
    if (dataset_load_folder_opts(&s->train, a, o))
      return -1;
    // A val/ folder, with train/'s classes, is the validation set.
    snprintf(a, sizeof a, "%s/val", dir);
    snprintf(b, sizeof b, "%s/train", dir);
    if (is_dir(a) && (dataset_folder_classes_match(b, a) || dataset_load_folder_opts(&s->val, a, o)))
      return -1;
    snprintf(a, sizeof a, "%s/test", dir);
    if (!is_dir(a))
      return 0;
    snprintf(b, sizeof b, "%s/train", dir);
    if (dataset_folder_classes_match(b, a) || dataset_load_folder_opts(&s->test, a, o))
      return -1;
    // Each folder numbers its classes by position: they must be the same.
    if (s->test.classes != s->train.classes) {
      snprintf(b, sizeof b, "%d class folders, but train/ has %d: labels would not match",
               s->test.classes, s->train.classes);
      return fail(a, b);
    }
    return 0;
  default:
    return fail(dir, "this format is read from a file, not a folder");
  }
}

int dataset_open(DataSplits *s, const char *path, const DataOptions *o) {
  static const DataOptions none;
  memset(s, 0, sizeof *s);
  o = o ? o : &none;
  DataFormat fmt = o->format ? o->format : dataset_detect(path);
  if ((int)fmt < 0)
    return -1;
  // Resizing is for image files, which come in any size; arrays have one.
  if ((o->resize_h || o->resize_w) && fmt != DATA_FOLDER)
    return fail(path, "--resize applies to image folders (DIR/train/CLASS/*.png|*.jpg) only");
  int r;
  if (is_file(path)) {
    const char *one = path;
    switch (fmt) {
    case DATA_NPZ:
      r = dataset_load_npz(&s->train, path, "x_train", "y_train");
      if (!r && dataset_npz_has(path, "x_test"))   // the test arrays are optional
        r = dataset_load_npz(&s->test, path, "x_test", "y_test");
      break;
    case DATA_CIFAR10: case DATA_CIFAR100:
      r = dataset_load_cifar(&s->train, &one, 1, fmt == DATA_CIFAR100, o->coarse);
      break;
    case DATA_IDX:
      r = dataset_load_idx(&s->train, path, NULL);
      break;
    case DATA_NPY:
      r = dataset_load_npy(&s->train, path, NULL);
      break;
    default:
      r = fail(path, "a folder format, but this is a file");
    }
  } else {
    r = open_dir(s, path, fmt, o);
  }
  if (r)
    datasplits_free(s);
  return r;
}

int dataset_spec_parse(const char *spec, char *file, size_t fsize, char *array, size_t asize) {
  size_t len = strlen(spec);
  if (len == 0 || len >= fsize || asize == 0)
    return -1;
  array[0] = 0;
  const char *colon = strrchr(spec, ':');
  const char *a = colon ? colon + 1 : NULL;
  for (const char *p = a; p && *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && !strchr("_.-", *p))
      a = NULL;                        // "dir:x/f.npy": a file whose name has a colon
  if (!a) {
    memcpy(file, spec, len + 1);
    return 0;
  }
  size_t flen = (size_t)(colon - spec), alen = len - flen - 1;
  if (flen == 0 || alen == 0 || alen >= asize)
    return -1;
  memcpy(file, spec, flen);
  file[flen] = 0;
  memcpy(array, a, alen + 1);
  return 1;
}

// Images (and labels) given by option: a file of one array (IDX, .npy, a
// CIFAR batch) or an .npz's array by name (FILE:ARRAY).
static int load_any(Dataset *d, const char *images, const char *labels) {
  static const char *const bad_spec =
      "not a file, nor FILE:ARRAY (an .npz's array by name, e.g. data.npz:x_train)";
  char file[4096], key[256], lfile[4096], lkey[256];
  int named = is_file(images) ? 0 : dataset_spec_parse(images, file, sizeof file, key, sizeof key);
  int lnamed = !labels || is_file(labels) ? 0 : dataset_spec_parse(labels, lfile, sizeof lfile, lkey, sizeof lkey);
  if (named < 0)
    return fail(images, bad_spec);
  if (lnamed < 0)
    return fail(labels, bad_spec);
  DataFormat f = detect_file(named ? file : images);
  if ((int)f < 0)
    return -1;
  if (named && f != DATA_NPZ)
    return fail(file, "FILE:ARRAY names an array of an .npz archive, and this is not one");
  if (lnamed && detect_file(lfile) != DATA_NPZ)
    return fail(lfile, "FILE:ARRAY names an array of an .npz archive, and this is not one");
  if (named && labels && !lnamed)
    return fail(labels, "the labels of an .npz array are given as an array too (FILE:ARRAY)");
  const char *plain = lnamed ? NULL : labels;   // labels read with the images
  int r;
  switch (f) {
  case DATA_IDX: r = dataset_load_idx(d, images, plain); break;
  case DATA_NPY: r = dataset_load_npy(d, images, plain); break;
  case DATA_NPZ:
    if (!named) {
      snprintf(lfile, sizeof lfile, "an .npz holds several arrays: name one, e.g. %s:x_train", images);
      return fail(images, lfile);
    }
    r = dataset_load_npz(d, file, key, NULL);
    break;
  case DATA_CIFAR10: case DATA_CIFAR100:
    if (labels)
      return fail(labels, "a CIFAR batch carries its labels in its records: leave the labels file out");
    r = dataset_load_cifar(d, &images, 1, f == DATA_CIFAR100, 0);
    break;
  default:
    return fail(images, "files given by option (--train-images, --train-targets, ...) must be IDX, .npy, "
                "FILE.npz:ARRAY or a CIFAR batch");
  }
  if (!r && lnamed && dataset_npz_labels(d, lfile, lkey)) {
    dataset_free(d);
    r = -1;
  }
  return r;
}

int dataset_open_files(DataSplits *s, const char *train_images, const char *train_labels,
                       const char *test_images, const char *test_labels) {
  memset(s, 0, sizeof *s);
  if (load_any(&s->train, train_images, train_labels) ||
      (test_images && load_any(&s->test, test_images, test_labels))) {
    datasplits_free(s);
    return -1;
  }
  return 0;
}
