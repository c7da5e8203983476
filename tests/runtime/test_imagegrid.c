// test_imagegrid.c — --predict's PNG grids (runtime/imagegrid.h): the size
// of the canvas, grey and RGB tiles at their places, channels first in,
// interleaved out, values clamped to [0, 1] (NaN white), the margins grey,
// no temporary left, and an unwritable path reported.
#include <math.h>
#include <png.h>

#include "imagegrid.h"
#include "testutil.h"

// The PNG at path as 8-bit grey or RGB (libpng's simplified reader).
static unsigned char *read_png(const char *path, int *w, int *h, int *c) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&im, path))
    return NULL;
  *c = im.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
  im.format = *c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  unsigned char *pix = malloc(PNG_IMAGE_SIZE(im));
  if (!pix || !png_image_finish_read(&im, NULL, pix, 0, NULL)) {
    free(pix);
    return NULL;
  }
  *w = (int)im.width;
  *h = (int)im.height;
  return pix;
}

int main(void) {
  char dir[] = "/tmp/netrt-imagegrid-XXXXXX", path[256];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  int w, h, c;

  CHECK(imagegrid_cols(1) == 1 && imagegrid_cols(4) == 2 && imagegrid_cols(5) == 3 && imagegrid_cols(64) == 8,
        "ceil(sqrt(n)) columns");
  imagegrid_size(5, 28, 28, &w, &h);
  CHECK(w == 2 + 3 * 30 && h == 2 + 2 * 30, "5 tiles of 28x28: %dx%d", w, h);

  // Grey: 3 examples [1, 2, 3]; example k's pixel (i, j) = v.
  float grey[3 * 6] = {0, 0.5f, 1, -1, 2, NAN, 0.25f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  snprintf(path, sizeof path, "%s/g.png", dir);
  CHECK(imagegrid_write(path, grey, 3, 1, 2, 3) == 0, "grey grid written");
  unsigned char *p = read_png(path, &w, &h, &c);
  CHECK(p && c == 1 && w == 2 + 2 * 5 && h == 2 + 2 * 4, "grey: 2 x 2 tiles of 2x3 (%dx%d, %d)", w, h, c);
  if (p) {
    const unsigned char want0[6] = {0, 128, 255, 0, 255, 255};     // 0.5 rounds to 128; -1, 2, NaN clamp
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++)
        CHECK(p[(2 + i) * w + 2 + j] == want0[i * 3 + j], "example 0 (%d, %d): %d", i, j, p[(2 + i) * w + 2 + j]);
    CHECK(p[2 * w + 2 + 5] == 64, "example 1 at its tile (0.25 -> 64): %d", p[2 * w + 7]);
    CHECK(p[(2 + 4 + 1) * w + 2 + 2] == 255, "example 2 at the second row: %d", p[(7) * w + 4]);
    CHECK(p[0] == IMAGEGRID_BG && p[(2 + 4 + 1) * w + 2 + 5 + 1] == IMAGEGRID_BG, "margins and the empty tile grey");
  }
  free(p);

  // RGB: one example [3, 2, 2], channel planes in, RGB triples out.
  float rgb[12] = {1, 1, 1, 1, 0, 0.5f, 0, 0, 0, 0, 0, 1};
  snprintf(path, sizeof path, "%s/c.png", dir);
  CHECK(imagegrid_write(path, rgb, 1, 3, 2, 2) == 0, "RGB grid written");
  p = read_png(path, &w, &h, &c);
  CHECK(p && c == 3 && w == 6 && h == 6, "RGB: one tile of 2x2 (%dx%d, %d)", w, h, c);
  if (p) {
    const unsigned char *px = p + (2 * w + 2) * 3;          // example pixel (0, 0)
    CHECK(px[0] == 255 && px[1] == 0 && px[2] == 0, "(0, 0) red: %d %d %d", px[0], px[1], px[2]);
    px = p + (2 * w + 3) * 3;                               // (0, 1)
    CHECK(px[0] == 255 && px[1] == 128 && px[2] == 0, "(0, 1) orange: %d %d %d", px[0], px[1], px[2]);
    px = p + (3 * w + 3) * 3;                               // (1, 1)
    CHECK(px[0] == 255 && px[1] == 0 && px[2] == 255, "(1, 1) magenta: %d %d %d", px[0], px[1], px[2]);
  }
  free(p);
  snprintf(path, sizeof path, "%s/c.png.tmp", dir);
  CHECK(access(path, F_OK) != 0, "no temporary left");

  // An unwritable place: -1, the path named on stderr (not checked here).
  CHECK(imagegrid_write("/proc/netrt-no-such/x.png", grey, 1, 1, 2, 3) == -1, "unwritable path: -1");

  snprintf(path, sizeof path, "%s/g.png", dir);
  remove(path);
  snprintf(path, sizeof path, "%s/c.png", dir);
  remove(path);
  rmdir(dir);
  return t_finish("test_imagegrid");
}
