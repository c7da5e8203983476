// npz_write.h — writing an .npz (numpy.savez's format: a zip of NAME.npy
// members, stored uncompressed) with minizip's zip.h, atomically as
// checkpoints are (ckpt.h): PATH.tmp is written, fsync'ed and renamed over
// PATH, then the directory is fsync'ed.  Members' dates are fixed
// (1980-01-01), so the same arrays give the same bytes.  Every failure
// prints "PATH: reason" and returns -1.
#ifndef NETC_NPZ_WRITE_H
#define NETC_NPZ_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  void *zip;                 // zipFile
  char *path, *tmp;
  int err;
} NpzOut;

int npz_open(NpzOut *o, const char *path);

// Appends KEY.npy: descr is numpy's ("<f4", "<i8"), shape dim[0..ndim)
// (ndim 0: a scalar), data the C-order elements, bytes their size.
int npz_add(NpzOut *o, const char *key, const char *descr, int ndim, const int64_t *dim,
            const void *data, size_t bytes);

// Finishes the archive (commit: fsync and rename) or drops the temporary
// (commit 0, or after an error).  Returns 0 or -1.
int npz_close(NpzOut *o, int commit);

#endif
