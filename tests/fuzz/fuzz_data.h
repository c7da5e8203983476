// fuzz_data.h — what the data-reader targets (fuzz_data_*.c) check after
// each load: a failed load leaves the Dataset empty; a successful one has
// a plausible shape, every value readable (ASan checks) and finite for
// byte data, and every label in 0..classes-1.
#ifndef FUZZ_DATA_H
#define FUZZ_DATA_H

#include <string.h>

#include "dataset.h"

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

#endif
