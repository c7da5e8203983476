// image_png.c — a PNG file to bytes (libpng): grey, grey+alpha, RGB, RGBA,
// palette, 1 to 16 bits, interlaced or not.  Palette images become RGB,
// grey below 8 bits 8-bit grey, 16 bits are reduced to 8 (libpng's
// png_set_strip_16: the high byte), alpha is dropped.
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

// libpng explains a refused header (e.g. a side above the user limit) in
// a warning before the error ("Invalid IHDR data"): the message keeps the
// last warning and appends the error.
static void on_error(png_structp png, png_const_charp msg) {
  char *buf = png_get_error_ptr(png);
  size_t n = strlen(buf);
  snprintf(buf + n, 256 - n, n ? " (%s)" : "%s", msg);
  longjmp(png_jmpbuf(png), 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  snprintf((char *)png_get_error_ptr(png), 256, "%s", msg);
}

int image_read_png(FILE *f, const char *path, Image *im, int header_only) {
  char msg[256] = "";
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return fail(path, "out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    char why[300];
    snprintf(why, sizeof why, "not a readable PNG: %s", msg);
    return fail(path, why);
  }
  png_set_user_limits(png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_init_io(png, f);
  png_read_info(png, info);
  int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
  int ct = png_get_color_type(png, info);
  png_set_expand(png);              // palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int c = ct & PNG_COLOR_MASK_COLOR ? 3 : 1;
  im->w = w, im->h = h, im->c = c;
  if (header_only) {
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
  }
  if (png_get_rowbytes(png, info) != (size_t)w * (size_t)c) {
    png_destroy_read_struct(&png, &info, NULL);
    return fail(path, "unexpected PNG row layout");
  }
  if (image_reserve(im)) {
    png_destroy_read_struct(&png, &info, NULL);
    return fail(path, "out of memory");
  }
  // Each pass of an interlaced image fills in more pixels of the rows.
  for (int p = 0; p < passes; p++)
    for (int y = 0; y < h; y++)
      png_read_row(png, im->pix + (size_t)y * w * c, NULL);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  return 0;
}
