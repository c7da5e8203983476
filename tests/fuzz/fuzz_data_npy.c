// fuzz_data_npy.c — the .npy reader (runtime/data/dataset_npy.c): the
// input is read as images, then as labels for a fixed valid .npy of 3
// examples.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[256], images[256];          // fuzz_path's buffer is reused
  snprintf(path, sizeof path, "%s", fuzz_path("data.npy"));
  snprintf(images, sizeof images, "%s", fuzz_path("three.npy"));
  fuzz_write(path, data, size);
  Dataset d;
  fuzz_check_dataset(&d, dataset_load_npy(&d, path, NULL) == 0);
  dataset_free(&d);
  static const char dict[] = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }\n";
  uint8_t three[128] = "\x93NUMPY\x01\x00";
  three[8] = (uint8_t)(sizeof dict - 1);
  memcpy(three + 10, dict, sizeof dict - 1);
  memcpy(three + 10 + sizeof dict - 1, "\1\2\3\4\5\6", 6);
  fuzz_write(images, three, 10 + sizeof dict - 1 + 6);
  fuzz_check_dataset(&d, dataset_load_npy(&d, images, path) == 0);
  dataset_free(&d);
  return 0;
}
