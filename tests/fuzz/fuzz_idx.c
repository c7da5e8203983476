// fuzz_idx.c — the IDX reader (runtime/idx.c): the input is an MNIST image
// or label file, raw or gzip; it is read as both.  A failed read must
// leave the output NULL; a successful one must return a plausible count.
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_path("data-idx-ubyte");
  fuzz_write(path, data, size);
  uint8_t *p = NULL;
  int n = -1;
  if (idx_load_images(path, &p, &n) == 0) {
    if (!p || n < 0 || n > IDX_MAX_COUNT)
      __builtin_trap();
    uint64_t sum = 0;                  // every pixel is readable (ASan checks)
    for (size_t i = 0; i < (size_t)n * IDX_ROWS * IDX_COLS; i++)
      sum += p[i];
    if (sum > (uint64_t)n * IDX_ROWS * IDX_COLS * 255)
      __builtin_trap();
  } else if (p) {
    __builtin_trap();
  }
  free(p);
  p = NULL;
  if (idx_load_labels(path, &p, &n) == 0) {
    if (!p || n < 0 || n > IDX_MAX_COUNT)
      __builtin_trap();
    for (int i = 0; i < n; i++)
      if (p[i] > 9)
        __builtin_trap();
  } else if (p) {
    __builtin_trap();
  }
  free(p);
  return 0;
}
