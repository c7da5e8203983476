// png_grid.c — grey canvases written with libpng (see png_grid.h).
#include "png_grid.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int canvas_init(Canvas *c, int width, int height, uint8_t bg) {
  c->width = width;
  c->height = height;
  c->pix = malloc((size_t)width * height);
  if (!c->pix) {
    fprintf(stderr, "error: out of memory for a %dx%d image\n", width, height);
    return -1;
  }
  memset(c->pix, bg, (size_t)width * height);
  return 0;
}

void canvas_free(Canvas *c) {
  free(c->pix);
  c->pix = NULL;
}

void canvas_fill(Canvas *c, int x, int y, int w, int h, uint8_t v) {
  for (int r = y < 0 ? 0 : y; r < y + h && r < c->height; r++)
    for (int q = x < 0 ? 0 : x; q < x + w && q < c->width; q++)
      c->pix[(size_t)r * c->width + q] = v;
}

void canvas_tile(Canvas *c, int x, int y, const float *img, int h, int w, int scale) {
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) {
      float v = img[i * w + j];
      v = v < 0 ? 0 : v > 1 ? 1 : v;     // also maps NaN to 1: visible, not hidden
      canvas_fill(c, x + j * scale, y + i * scale, scale, scale, (uint8_t)(v * 255.0f + 0.5f));
    }
}

int grid_width(int cols, int w) { return GRID_MARGIN + cols * (w * GRID_SCALE + GRID_MARGIN); }
int grid_height(int rows, int h) { return GRID_MARGIN + rows * (h * GRID_SCALE + GRID_MARGIN); }

void canvas_grid(Canvas *c, int x, int y, const float *imgs, int rows, int cols, int h, int w) {
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++)
      canvas_tile(c, x + GRID_MARGIN + q * (w * GRID_SCALE + GRID_MARGIN),
                  y + GRID_MARGIN + r * (h * GRID_SCALE + GRID_MARGIN),
                  imgs + (size_t)(r * cols + q) * h * w, h, w, GRID_SCALE);
}

int canvas_save(const Canvas *c, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info || setjmp(png_jmpbuf(png))) {   // libpng reports errors by longjmp
    fprintf(stderr, "%s: cannot write the PNG\n", path);
    png_destroy_write_struct(&png, info ? &info : NULL);
    fclose(f);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, c->width, c->height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int r = 0; r < c->height; r++)
    png_write_row(png, c->pix + (size_t)r * c->width);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  if (fclose(f)) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int png_grid_save(const char *path, const float *imgs, int rows, int cols, int h, int w) {
  Canvas c;
  if (canvas_init(&c, grid_width(cols, w), grid_height(rows, h), GRID_BG))
    return -1;
  canvas_grid(&c, 0, 0, imgs, rows, cols, h, w);
  int rc = canvas_save(&c, path);
  canvas_free(&c);
  return rc;
}
