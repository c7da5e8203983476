// fuzz_data_png.c — PNG class folders (runtime/data/dataset_folder.c, image_png.c over
// libpng): the input is the one image of a one-class folder, then the
// second image of a two-image class after a fixed valid 2x2 grey image.
#include <stdio.h>

#include "fuzz.h"
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char one[4096], two[4096];
  if (!one[0])
    fuzz_image_folders(one, two);
  char p[4200];
  snprintf(p, sizeof p, "%s/c/a.png", one);
  fuzz_write(p, data, size);
  Dataset d;
  fuzz_check_dataset(&d, dataset_load_folder(&d, one, 1) == 0);
  dataset_free(&d);
  snprintf(p, sizeof p, "%s/c/b.png", two);
  fuzz_write(p, data, size);
  fuzz_check_dataset(&d, dataset_load_folder(&d, two, 1) == 0);
  dataset_free(&d);
  return 0;
}
