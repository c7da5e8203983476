// dataset_cifar.c — CIFAR-10 and CIFAR-100 binary batches
// (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version").
//
// CIFAR-10: records of 1 label byte (0..9) and 3072 pixel bytes, 1024 red,
// 1024 green, 1024 blue, each 32x32 row-major: already channels first, as
// torchvision's CIFAR10 gives after ToTensor.  Files data_batch_1..5.bin
// (10,000 records each) and test_batch.bin.  CIFAR-100: records of 2
// label bytes (coarse 0..19, fine 0..99) then the same 3072; train.bin and
// test.bin.  A file whose size is not a whole number of records is refused.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "idx.h"

#define CIFAR_PIXELS 3072

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

int dataset_load_cifar(Dataset *d, const char *const *files, int nfiles, int cifar100, int coarse) {
  char msg[512];
  memset(d, 0, sizeof *d);
  size_t rec = CIFAR_PIXELS + (cifar100 ? 2 : 1);
  if (nfiles < 1)
    return fail("CIFAR", "no batch files");
  uint64_t n = 0;
  for (int i = 0; i < nfiles; i++) {
    struct stat st;
    if (stat(files[i], &st)) {
      snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
      return fail(files[i], msg);
    }
    if (st.st_size == 0 || (uint64_t)st.st_size % rec) {
      snprintf(msg, sizeof msg,
               "%lld bytes is not a whole number of CIFAR-%d records of %zu bytes "
               "(%s label byte%s, 3x32x32 pixels)", (long long)st.st_size, cifar100 ? 100 : 10,
               rec, cifar100 ? "2" : "1", cifar100 ? "s" : "");
      return fail(files[i], msg);
    }
    n += (uint64_t)st.st_size / rec;
  }
  if (dataset_check_size(files[0], n, CIFAR_PIXELS))
    return -1;
  d->x = malloc((size_t)n * CIFAR_PIXELS * sizeof(float));
  d->y = malloc((size_t)n * sizeof(int32_t));
  unsigned char *buf = malloc(rec);
  if (!d->x || !d->y || !buf) {
    free(buf);
    dataset_free(d);
    return fail(files[0], "out of memory");
  }
  int limit = !cifar100 ? 10 : coarse ? 20 : 100;
  uint64_t k = 0;
  for (int i = 0; i < nfiles; i++) {
    FILE *f = fopen(files[i], "rb");
    if (!f) {
      snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
      goto bad;
    }
    // Reads as many records as stat() said; a file changed meanwhile is
    // caught by the short read.
    for (uint64_t j = 0; k < n; j++) {
      size_t got = fread(buf, 1, rec, f);
      if (got == 0 && feof(f))
        break;
      if (got != rec) {
        snprintf(msg, sizeof msg, "record %llu is truncated", (unsigned long long)j);
        fclose(f);
        goto bad;
      }
      int label = cifar100 ? buf[coarse ? 0 : 1] : buf[0];
      if (label >= limit) {
        snprintf(msg, sizeof msg, "label %d of record %llu is out of range 0..%d", label,
                 (unsigned long long)j, limit - 1);
        fclose(f);
        goto bad;
      }
      d->y[k] = label;
      const unsigned char *px = buf + rec - CIFAR_PIXELS;
      float *x = d->x + k * CIFAR_PIXELS;
      for (int p = 0; p < CIFAR_PIXELS; p++)
        x[p] = (float)px[p] / 255.0f;
      k++;
    }
    fclose(f);
    continue;
  bad:
    free(buf);
    dataset_free(d);
    return fail(files[i], msg);
  }
  free(buf);
  if (k != n) {
    dataset_free(d);
    return fail(files[0], "the files changed while being read");
  }
  snprintf(d->name, sizeof d->name, "%s", files[0]);
  d->n = (int)n;
  d->rank = 3;
  d->shape[0] = 3, d->shape[1] = 32, d->shape[2] = 32;
  d->size = CIFAR_PIXELS;
  d->classes = limit;              // the format's, not the largest label seen
  return 0;
}
