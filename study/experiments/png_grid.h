// png_grid.h — figures of digit images as 8-bit grey PNG files (libpng):
// a canvas to paste upscaled 28x28 tiles into, and a grid layout with a
// small margin between tiles.
#ifndef EXPERIMENTS_PNG_GRID_H
#define EXPERIMENTS_PNG_GRID_H

#include <stdint.h>

#define GRID_SCALE 3     // a 28x28 digit becomes 84x84 pixels
#define GRID_MARGIN 4    // pixels of background between tiles and at the border
#define GRID_BG 255      // background: white, digits are white on black

typedef struct {
  int width, height;
  uint8_t *pix;          // [height, width], row-major
} Canvas;

// A width x height canvas filled with bg.  Returns 0 or -1 (out of memory).
int canvas_init(Canvas *c, int width, int height, uint8_t bg);
void canvas_free(Canvas *c);

// Pastes img [h, w] (values clamped to [0, 1], 1 = white) at (x, y), each
// pixel repeated scale x scale times.  Parts outside the canvas are cut.
void canvas_tile(Canvas *c, int x, int y, const float *img, int h, int w, int scale);

// Fills the rectangle [x, x + w) x [y, y + h) with v (cut to the canvas).
void canvas_fill(Canvas *c, int x, int y, int w, int h, uint8_t v);

// Writes the canvas as an 8-bit greyscale PNG.  Returns 0, or -1 after
// printing "path: reason".
int canvas_save(const Canvas *c, const char *path);

// The pixel size of a rows x cols grid of h x w tiles at GRID_SCALE with
// GRID_MARGIN around every tile.
int grid_width(int cols, int w);
int grid_height(int rows, int h);

// Pastes imgs [rows * cols, h * w] (row-major over tiles) as a grid with
// its top-left corner at (x, y).
void canvas_grid(Canvas *c, int x, int y, const float *imgs, int rows, int cols, int h, int w);

// One grid as a PNG file.  Returns 0 or -1.
int png_grid_save(const char *path, const float *imgs, int rows, int cols, int h, int w);

#endif
