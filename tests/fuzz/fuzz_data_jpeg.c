// fuzz_data_jpeg.c — JPEG class folders (runtime/data/dataset_folder.c,
// image_jpeg.c over libjpeg-turbo, image_resize.c): the input is the one
// image a.jpg of a one-class folder, loaded as it is and resized to 7x4;
// then the second image b.jpg of a class after a fixed valid 2x2 grey PNG
// (PNG and JPEG mixed), resized to 3x5; last a.jpg alone as one image
// file (--predict-input's dataset_load_image, by its first bytes).
// Decoding must end in an image or an error message: never a crash, an
// exit() or a leak.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "fuzz_data.h"

// A 2x2 8-bit grey PNG.
static const uint8_t grey2x2[] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
  0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52,
  0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x64, 0x62, 0x60,
  0x66, 0x01, 0x00, 0x00, 0x1d, 0x00, 0x0b, 0x10, 0xdd, 0x1c, 0x70, 0x00, 0x00, 0x00, 0x00, 0x49,
  0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char one[4096], two[4096];
  if (!one[0]) {
    char p[4200];
    snprintf(one, sizeof one, "%s", fuzz_path("one"));
    snprintf(two, sizeof two, "%s", fuzz_path("two"));
    snprintf(p, sizeof p, "%s/c", one);
    if (mkdir(one, 0700) || mkdir(p, 0700))
      abort();
    snprintf(p, sizeof p, "%s/c", two);
    if (mkdir(two, 0700) || mkdir(p, 0700))
      abort();
    snprintf(p, sizeof p, "%s/c/a.png", two);
    fuzz_write(p, grey2x2, sizeof grey2x2);
  }
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
