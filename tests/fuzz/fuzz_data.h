// fuzz_data.h — what the data-reader targets (fuzz_data_*.c) check after
// each load: a failed load leaves the Dataset empty; a successful one has
// a plausible shape, every value readable (ASan checks) and finite for
// byte data, and every label in 0..classes-1.
#ifndef FUZZ_DATA_H
#define FUZZ_DATA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "fuzz.h"

static inline void fuzz_check_dataset(const Dataset *d, int ok) {
  if (!ok) {
    if (d->x || d->y || d->n)
      __builtin_trap();
    return;
  }
  if (d->n <= 0 || !d->x || d->size == 0 || d->rank < 1 || d->rank > DATASET_MAX_RANK)
    __builtin_trap();
  size_t size = 1;
  for (int i = 0; i < d->rank; i++)
    size *= (size_t)d->shape[i];
  if (size != d->size)
    __builtin_trap();
  volatile float sink = 0;
  for (size_t i = 0; i < (size_t)d->n * d->size; i++)
    sink += d->x[i];
  for (int i = 0; d->y && i < d->n; i++)
    if (d->y[i] < 0 || d->y[i] >= d->classes)
      __builtin_trap();
  (void)sink;
}

// The image-folder targets' two folders, made once: ONE/c (the input
// goes there alone) and TWO/c holding a.png, a valid 2x2 grey PNG (the
// input goes after it, a second image of its class).  one and two hold
// 4096 bytes each.
static inline void fuzz_image_folders(char *one, char *two) {
  static const uint8_t grey2x2[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52,
    0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x64, 0x62, 0x60,
    0x66, 0x01, 0x00, 0x00, 0x1d, 0x00, 0x0b, 0x10, 0xdd, 0x1c, 0x70, 0x00, 0x00, 0x00, 0x00, 0x49,
    0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  char p[4200];
  snprintf(one, 4096, "%s", fuzz_path("one"));
  snprintf(two, 4096, "%s", fuzz_path("two"));
  snprintf(p, sizeof p, "%s/c", one);
  if (mkdir(one, 0700) || mkdir(p, 0700))
    abort();
  snprintf(p, sizeof p, "%s/c", two);
  if (mkdir(two, 0700) || mkdir(p, 0700))
    abort();
  snprintf(p, sizeof p, "%s/c/a.png", two);
  fuzz_write(p, grey2x2, sizeof grey2x2);
}

#endif
