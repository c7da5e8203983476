// imagegrid.h — a grid of image-shaped examples as one PNG (libpng),
// written atomically as arrayout.h's arrays are: PATH.tmp, fsync, rename,
// fsync of the folder.  The predict mode of the driver (driver.h,
// --predict-grid) draws image-shaped exports with it.
//
// Examples are [c, h, w] float, channels first (c = 1: grey, 3: RGB),
// values in [0, 1]: each is clamped to it (NaN shows as 1, visible) and
// scaled to 0..255.  Tiles of h x w pixels, IMAGEGRID_MARGIN pixels of
// mid grey between them and at the border, ceil(sqrt(n)) columns, the
// examples row by row.
#ifndef NETRT_IMAGEGRID_H
#define NETRT_IMAGEGRID_H

#define IMAGEGRID_MARGIN 2
#define IMAGEGRID_BG 128

// The grid's columns and the PNG's size for n tiles of h x w.
int imagegrid_cols(int n);
void imagegrid_size(int n, int h, int w, int *width, int *height);

// Writes n examples imgs [n, c, h, w] to PATH.  Returns 0, or -1 after
// printing "PATH: reason".
int imagegrid_write(const char *path, const float *imgs, int n, int c, int h, int w);

#endif
