// fuzz_data_idx.c — IDX of any rank and element type (runtime/idx.c
// idx_read, runtime/data dataset_load_idx): the input is read as images,
// then as labels for a fixed valid image file of 3 examples.
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_data.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[256], images[256];          // fuzz_path's buffer is reused
  snprintf(path, sizeof path, "%s", fuzz_path("data.idx"));
  snprintf(images, sizeof images, "%s", fuzz_path("three.idx"));
  fuzz_write(path, data, size);
  Dataset d;
  fuzz_check_dataset(&d, dataset_load_idx(&d, path, NULL) == 0);
  dataset_free(&d);
  static const uint8_t three[] = {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6};
  fuzz_write(images, three, sizeof three);
  fuzz_check_dataset(&d, dataset_load_idx(&d, images, path) == 0);
  dataset_free(&d);
  return 0;
}
