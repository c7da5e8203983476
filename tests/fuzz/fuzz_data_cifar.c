// fuzz_data_cifar.c — CIFAR binary batches (runtime/data/dataset_cifar.c):
// the input is read as a CIFAR-10 batch, then as CIFAR-100 with fine and
// with coarse labels.
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_path("data_batch_1.bin");
  fuzz_write(path, data, size);
  Dataset d;
  for (int v = 0; v < 3; v++) {
    fuzz_check_dataset(&d, dataset_load_cifar(&d, &path, 1, v > 0, v == 2) == 0);
    dataset_free(&d);
  }
  return 0;
}
