// test_resize.c — image_resize (runtime/data/image_resize.c) against
// torch's F.interpolate(mode="bilinear", align_corners=False,
// antialias=True) on the cases of fixtures/resize.bin, which
// make_resize_fixture.py writes with torch (this test needs none).
//
// Tolerance 1e-6 on values in [0, 1]: the weights are computed with
// torch's float arithmetic, step for step, and each output sums its taps
// in torch's order, so the results agree to a few roundings of float
// (2^-24 ~ 6e-8 each); torch's kernels are compiled for AVX2 with fused
// multiply-adds, which can round each product-sum once instead of twice.
// A wrong tap, weight or centre is off by 1e-3 or more.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "image.h"

#define TOL 1e-6

static int read_all(const char *path, unsigned char **buf, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  *buf = malloc(*n);
  int ok = *buf && fread(*buf, 1, *n, f) == *n;
  fclose(f);
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "tests/data/fixtures/resize.bin";
  unsigned char *buf;
  size_t n;
  if (read_all(path, &buf, &n) || n < 12 || memcmp(buf, "NRSZ", 4)) {
    fprintf(stderr, "%s: cannot read the fixture\n", path);
    return 1;
  }
  uint32_t cases;
  memcpy(&cases, buf + 8, 4);
  size_t at = 12;
  ImageResize rs = {0};
  for (uint32_t k = 0; k < cases; k++) {
    int32_t g[5];
    memcpy(g, buf + at, sizeof g);
    at += sizeof g;
    int c = g[0], h = g[1], w = g[2], oh = g[3], ow = g[4];
    Image im = {.w = w, .h = h, .c = c, .pix = buf + at};
    at += (size_t)h * w * c;
    size_t m = (size_t)c * oh * ow;
    float *want = malloc(m * sizeof *want), *got = malloc(m * sizeof *got);
    memcpy(want, buf + at, m * sizeof *want);
    at += m * sizeof *want;
    double worst = 0;
    if (image_resize(&im, oh, ow, got, &rs)) {
      worst = INFINITY;
    } else {
      for (size_t i = 0; i < m; i++)
        worst = fmax(worst, fabs((double)got[i] - want[i]));
    }
    printf("[%d, %d, %d] -> [%d, %d]: max |netc - torch| = %.2e\n", c, h, w, oh, ow, worst);
    CHECK(worst <= TOL, "[%d, %d, %d] -> [%d, %d]", c, h, w, oh, ow);
    free(want);
    free(got);
  }
  image_resize_free(&rs);
  free(buf);
  CHECK(at == n, "%s: %zu bytes left over", path, n - at);
  return t_finish("test_resize");
}
