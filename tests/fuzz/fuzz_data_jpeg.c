// fuzz_data_jpeg.c — JPEG class folders (runtime/data/dataset_folder.c,
// image_jpeg.c over libjpeg-turbo, image_resize.c): the input is the one
// image a.jpg of a one-class folder, loaded as it is and resized to 7x4;
// then the second image b.jpg of a class after a fixed valid 2x2 grey PNG
// (PNG and JPEG mixed), resized to 3x5; last a.jpg alone as one image
// file (--predict-input's dataset_load_image, by its first bytes).
// Decoding must end in an image or an error message: never a crash, an
// exit() or a leak.
#include <stdio.h>

#include "fuzz.h"
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char one[4096], two[4096];
  if (!one[0])
    fuzz_image_folders(one, two);
  char p[4200];
  snprintf(p, sizeof p, "%s/c/a.jpg", one);
  fuzz_write(p, data, size);
  Dataset d;
  fuzz_check_dataset(&d, dataset_load_folder(&d, one, 1) == 0);
  dataset_free(&d);
  DataOptions o = {.quiet = 1, .resize_h = 7, .resize_w = 4};
  fuzz_check_dataset(&d, dataset_load_folder_opts(&d, one, &o) == 0);
  dataset_free(&d);
  snprintf(p, sizeof p, "%s/c/b.jpg", two);
  fuzz_write(p, data, size);
  o.resize_h = 3, o.resize_w = 5;
  fuzz_check_dataset(&d, dataset_load_folder_opts(&d, two, &o) == 0);
  dataset_free(&d);
  snprintf(p, sizeof p, "%s/c/a.jpg", one);
  if (dataset_is_image(p)) {
    fuzz_check_dataset(&d, dataset_load_image(&d, p, &o) == 0);
    dataset_free(&d);
  }
  return 0;
}
