// The plots are valid PNGs of the requested size, not blank, and show
// every digit's colour (read back with cairo's PNG reader).
#include <cairo.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "plot.h"

// tab10, as plot.c draws digits 0..9 (opaque in the legend).
static const int TAB10[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                 {214, 39, 40}, {148, 103, 189}, {140, 86, 75},
                                 {227, 119, 194}, {127, 127, 127}, {188, 189, 34},
                                 {23, 190, 207}};

// Checks size, ink and colours of a PNG; returns the count of non-white
// pixels.
static long inspect(const char *path, int w, int h) {
  cairo_surface_t *s = cairo_image_surface_create_from_png(path);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    CHECK(0, "%s: not a readable PNG: %s", path,
          cairo_status_to_string(cairo_surface_status(s)));
    return 0;
  }
  int sw = cairo_image_surface_get_width(s), sh = cairo_image_surface_get_height(s);
  CHECK(sw == w && sh == h, "%s: %dx%d, want %dx%d", path, sw, sh, w, h);
  cairo_surface_flush(s);
  const unsigned char *px = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  long ink = 0, seen[10] = {0};
  for (int yy = 0; yy < sh; yy++)
    for (int xx = 0; xx < sw; xx++) {
      uint32_t v;
      memcpy(&v, px + (size_t)yy * stride + 4 * xx, 4);
      int r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
      ink += r < 250 || g < 250 || b < 250;
      for (int k = 0; k < 10; k++)
        seen[k] += abs(r - TAB10[k][0]) <= 2 && abs(g - TAB10[k][1]) <= 2 &&
                   abs(b - TAB10[k][2]) <= 2;
    }
  for (int k = 0; k < 10; k++)
    CHECK(seen[k] > 20, "%s: colour of digit %d on %ld pixels", path, k, seen[k]);
  printf("plot: %s: %dx%d, %ld of %d pixels inked (%.1f %%)\n", path, sw, sh,
         ink, sw * sh, 100.0 * ink / (sw * sh));
  cairo_surface_destroy(s);
  return ink;
}

int main(void) {
  enum { N = 2000 };
  static float y[2 * N];
  static int lab[N];
  for (int i = 0; i < N; i++) {
    Rng r = rng_stream(9, (uint64_t)i);
    lab[i] = i % 10;
    double a = 2 * M_PI * lab[i] / 10;
    y[2 * i] = (float)(10 * cos(a) + rng_normal(&r));
    y[2 * i + 1] = (float)(10 * sin(a) + rng_normal(&r));
  }
  char dir[] = "/tmp/netc-plot-XXXXXX", a[64], b[64];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(a, sizeof a, "%s/scatter.png", dir);
  snprintf(b, sizeof b, "%s/ellipses.png", dir);
  PlotOptions o = {.title = "test scatter", .xlabel = "x", .ylabel = "y",
                   .note = "a note", .width = 640, .height = 480, .equal_aspect = 1};
  CHECK(plot_scatter(a, y, lab, N, &o) == 0, "scatter");
  long ink = inspect(a, 640, 480);
  CHECK(ink > 640 * 480 / 50 && ink < 640 * 480 / 2, "scatter ink %ld", ink);
  ClassSpread s[ELLIPSE_CLASSES];
  ellipse_stats(y, lab, N, s);
  o.title = "test ellipses";
  o.width = o.height = 0; // default size
  CHECK(plot_ellipses(b, s, &o) == 0, "ellipses");
  ink = inspect(b, 900, 760);
  CHECK(ink > 900 * 760 / 50, "ellipse ink %ld", ink);
  CHECK(plot_scatter("/nonexistent-dir/x.png", y, lab, N, &o) != 0,
        "writing into a missing directory must fail");
  unlink(a), unlink(b), rmdir(dir);
  return t_finish("test_plot");
}
