// png_check FILE WIDTH HEIGHT [X Y W H]... — decodes FILE with libpng and
// checks that it is WIDTH x HEIGHT and not blank: the whole image, or each
// region given, has at least MIN_LEVELS distinct grey levels and a
// standard deviation of at least MIN_STD (of 255).  A decoder that
// outputs nothing, a constant or a few flat values fails; real digits
// (anti-aliased, continuous greys) pass.  Prints what it measured.
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_LEVELS 16
#define MIN_STD 8.0

static int check_region(const png_bytep pix, int width, int x0, int y0, int w, int h) {
  int seen[256] = {0}, levels = 0;
  double sum = 0, sum2 = 0;
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) {
      int v = pix[(size_t)y * width + x];
      levels += !seen[v]++;
      sum += v;
      sum2 += (double)v * v;
    }
  double n = (double)w * h, mean = sum / n, sd = sqrt(fmax(0, sum2 / n - mean * mean));
  int ok = levels >= MIN_LEVELS && sd >= MIN_STD;
  printf("region %d,%d %dx%d: %d grey levels, mean %.1f, std %.1f: %s\n", x0, y0, w, h, levels,
         mean, sd, ok ? "ok" : "BLANK");
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 4 || (argc - 4) % 4) {
    fprintf(stderr, "usage: png_check FILE WIDTH HEIGHT [X Y W H]...\n");
    return 2;
  }
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, argv[1])) {
    printf("%s: not a readable PNG: %s\n", argv[1], img.message);
    return 1;
  }
  int want_w = atoi(argv[2]), want_h = atoi(argv[3]);
  printf("%s: %ux%u (expected %dx%d)\n", argv[1], img.width, img.height, want_w, want_h);
  img.format = PNG_FORMAT_GRAY;
  png_bytep pix = malloc(PNG_IMAGE_SIZE(img));
  if (!pix || !png_image_finish_read(&img, NULL, pix, 0, NULL)) {
    printf("%s: cannot decode: %s\n", argv[1], img.message);
    return 1;
  }
  int ok = (int)img.width == want_w && (int)img.height == want_h;
  if (argc == 4) {
    ok &= check_region(pix, img.width, 0, 0, img.width, img.height);
  } else {
    for (int i = 4; ok && i < argc; i += 4) {
      int x = atoi(argv[i]), y = atoi(argv[i + 1]), w = atoi(argv[i + 2]), h = atoi(argv[i + 3]);
      if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > (int)img.width || y + h > (int)img.height) {
        printf("region %d,%d %dx%d is outside the image\n", x, y, w, h);
        ok = 0;
      } else {
        ok &= check_region(pix, img.width, x, y, w, h);
      }
    }
  }
  free(pix);
  return ok ? 0 : 1;
}
