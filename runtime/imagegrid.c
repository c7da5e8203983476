// imagegrid.c — examples as a PNG grid (imagegrid.h).
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "imagegrid.h"

int imagegrid_cols(int n) {
  int c = 1;
  while (c * c < n)
    c++;
  return c;
}

void imagegrid_size(int n, int h, int w, int *width, int *height) {
  int cols = imagegrid_cols(n), rows = n > 0 ? (n + cols - 1) / cols : 0;
  *width = IMAGEGRID_MARGIN + cols * (w + IMAGEGRID_MARGIN);
  *height = IMAGEGRID_MARGIN + rows * (h + IMAGEGRID_MARGIN);
}

static unsigned char to_byte(float v) {
  v = v >= 0 ? v : v < 0 ? 0 : 1;        // NaN fails both tests: 1
  v = v > 1 ? 1 : v;
  return (unsigned char)(v * 255.0f + 0.5f);
}

// The canvas, c bytes a pixel: background, then each tile.
static unsigned char *draw(const float *imgs, int n, int c, int h, int w, int width, int height) {
  unsigned char *pix = malloc((size_t)width * height * c);
  if (!pix)
    return NULL;
  memset(pix, IMAGEGRID_BG, (size_t)width * height * c);
  int cols = imagegrid_cols(n);
  for (int k = 0; k < n; k++) {
    const float *img = imgs + (size_t)k * c * h * w;     // [c, h, w]
    int x0 = IMAGEGRID_MARGIN + k % cols * (w + IMAGEGRID_MARGIN);
    int y0 = IMAGEGRID_MARGIN + k / cols * (h + IMAGEGRID_MARGIN);
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++)
        for (int ch = 0; ch < c; ch++)
          pix[((size_t)(y0 + i) * width + x0 + j) * c + ch] = to_byte(img[((size_t)ch * h + i) * w + j]);
  }
  return pix;
}

static int save(FILE *f, const char *path, const unsigned char *pix, int c, int width, int height) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info || setjmp(png_jmpbuf(png))) {   // libpng reports errors by longjmp
    fprintf(stderr, "%s: cannot write the PNG\n", path);
    png_destroy_write_struct(&png, info ? &info : NULL);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int r = 0; r < height; r++)
    png_write_row(png, (png_bytep)(pix + (size_t)r * width * c));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

int imagegrid_write(const char *path, const float *imgs, int n, int c, int h, int w) {
  int width, height;
  imagegrid_size(n, h, w, &width, &height);
  size_t len = strlen(path) + 5;
  char *tmp = malloc(len);
  unsigned char *pix = tmp ? draw(imgs, n, c, h, w, width, height) : NULL;
  if (!pix) {
    fprintf(stderr, "%s: out of memory for a %dx%d image\n", path, width, height);
    free(tmp);
    return -1;
  }
  snprintf(tmp, len, "%s.tmp", path);
  errno = 0;
  FILE *f = fopen(tmp, "wb");
  int ok = f != NULL;
  if (!ok)
    fprintf(stderr, "%s: cannot create: %s\n", path, strerror(errno));
  ok = ok && save(f, path, pix, c, width, height) == 0;
  if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
    fprintf(stderr, "%s: write failed: %s\n", path, strerror(errno ? errno : EIO));
    ok = 0;
  }
  if (f && fclose(f) != 0 && ok) {
    fprintf(stderr, "%s: close failed: %s\n", path, strerror(errno ? errno : EIO));
    ok = 0;
  }
  if (ok && rename(tmp, path) != 0) {
    fprintf(stderr, "%s: cannot rename the temporary file over it: %s\n", path, strerror(errno));
    ok = 0;
  }
  if (ok && ckpt_fsync_dir(path) != 0)
    fprintf(stderr, "%s: warning: cannot fsync its directory: %s\n", path, strerror(errno));
  if (!ok && f)
    remove(tmp);
  free(pix);
  free(tmp);
  return ok ? 0 : -1;
}
