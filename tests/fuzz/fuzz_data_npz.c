// fuzz_data_npz.c — the .npz reader (runtime/data/dataset_npy.c over
// minizip): the input is an archive, read for x_train/y_train and for
// x_test/y_test.
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_path("data.npz");
  fuzz_write(path, data, size);
  Dataset d;
  fuzz_check_dataset(&d, dataset_load_npz(&d, path, "x_train", "y_train") == 0);
  dataset_free(&d);
  if (dataset_npz_has(path, "x_test")) {
    fuzz_check_dataset(&d, dataset_load_npz(&d, path, "x_test", "y_test") == 0);
    dataset_free(&d);
  }
  return 0;
}
