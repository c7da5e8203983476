// arrayout.h — writing a 2-d array (rows of examples) as .npy or CSV,
// atomically: NAME.tmp is written and fsync'ed, then renamed over the file
// and its directory fsync'ed, as checkpoints are (ckpt.h).  The predict
// mode of the driver (driver.h, --predict) writes the exports with it.
//
// .npy: format 1.0, little-endian float32 ('<f4') or int64 ('<i8'), C
// order, shape (rows, cols), or (rows,) when cols is 0, or (rows, d0, d1,
// ...) given a per-row shape (arrayout_open_shape).  CSV: one line per row
// (a row's values flattened in C order), values separated by commas,
// floats with 9 significant digits (they read back to the same float32),
// no header.
// Every failure prints "PATH: reason" (the final path) and returns -1.
#ifndef NETRT_ARRAYOUT_H
#define NETRT_ARRAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { ARRAY_F32, ARRAY_I64 };

typedef struct {
  FILE *f;
  char *path, *tmp;          // DIR/NAME.npy (or .csv) and its temporary
  int csv, type;
  size_t rows, cols, written;
  int rank;                  // the per-row shape in the .npy header (-1: (rows, cols) as cols says)
  int dim[4];
  int err;
} ArrayOut;

// Starts DIR/NAME.npy (csv: DIR/NAME.csv) for rows x cols (cols 0: a vector).
int arrayout_open(ArrayOut *a, const char *dir, const char *name, int csv, int type, size_t rows,
                  size_t cols);

// The same with each row of shape dim[0..rank) (rank <= 4; rank 0: one
// value a row, the shape (rows,)); cols is their product.
int arrayout_open_shape(ArrayOut *a, const char *dir, const char *name, int csv, int type, size_t rows,
                        int rank, const int *dim);

// Appends n rows (n * max(cols, 1) values of the array's type).
int arrayout_write(ArrayOut *a, const void *values, size_t n);

// Finishes the file (commit: fsync and rename; it must have every row), or
// drops the temporary (commit 0).  Frees a.  Returns 0 or -1.
int arrayout_close(ArrayOut *a, int commit);

#endif
