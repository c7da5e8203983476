// fuzz_data_npz.c — the .npz reader (runtime/data/dataset_npy.c over
// minizip): the input is an archive, read for x_train/y_train and for
// x_test/y_test, and whole (every array: netc-ckpt import's reader).
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
  NpzArray *a;
  int n = dataset_npz_read_all(path, &a);
  dataset_npz_free(a, n > 0 ? n : 0);
  return 0;
}
