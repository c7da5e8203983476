// npz_write.c — the .npz writer (npz_write.h).
//
// A member is a .npy file, format 1.0 (numpy/lib/format.py): "\x93NUMPY",
// 1, 0, a u16 header length, the dict {'descr': '<f4', 'fortran_order':
// False, 'shape': (8, 1, 3, 3), } padded with spaces and a newline so that
// the data start at a multiple of 64 bytes, as numpy writes it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "ckpt.h"
#include "npz_write.h"

static int fail(NpzOut *o, const char *what) {
  fprintf(stderr, "%s: %s\n", o->path, what);
  o->err = 1;
  return -1;
}

int npz_open(NpzOut *o, const char *path) {
  memset(o, 0, sizeof *o);
  size_t n = strlen(path);
  o->path = strdup(path);
  o->tmp = malloc(n + 5);
  if (!o->path || !o->tmp) {
    fprintf(stderr, "%s: out of memory\n", path);
    free(o->path);
    free(o->tmp);
    return -1;
  }
  memcpy(o->tmp, path, n);
  memcpy(o->tmp + n, ".tmp", 5);
  errno = 0;
  o->zip = zipOpen64(o->tmp, APPEND_STATUS_CREATE);
  if (!o->zip) {
    fprintf(stderr, "%s: cannot create: %s\n", o->tmp, strerror(errno ? errno : EIO));
    free(o->path);
    free(o->tmp);
    return -1;
  }
  return 0;
}

// The .npy header for descr and shape into h (at least 256 bytes), its length.
static size_t npy_header(char *h, const char *descr, int ndim, const int64_t *dim) {
  char shape[160];
  size_t k = 0;
  shape[k++] = '(';
  for (int i = 0; i < ndim; i++)
    k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", i ? ", " : "", (long long)dim[i]);
  k += (size_t)snprintf(shape + k, sizeof shape - k, "%s)", ndim == 1 ? "," : "");
  int len = snprintf(h + 10, 240, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
  size_t total = 10 + (size_t)len + 1;                 // + the newline
  size_t padded = (total + 63) / 64 * 64;
  memset(h + 10 + len, ' ', padded - total);
  h[padded - 1] = '\n';
  memcpy(h, "\x93NUMPY\x01\x00", 8);
  h[8] = (char)((padded - 10) & 0xff);
  h[9] = (char)((padded - 10) >> 8);
  return padded;
}

int npz_add(NpzOut *o, const char *key, const char *descr, int ndim, const int64_t *dim,
            const void *data, size_t bytes) {
  if (o->err)
    return -1;
  if (ndim < 0 || ndim > 8)
    return fail(o, "an array of more than 8 dimensions");
  char name[512], h[320];
  if (snprintf(name, sizeof name, "%s.npy", key) >= (int)sizeof name)
    return fail(o, "an array name too long");
  size_t hl = npy_header(h, descr, ndim, dim);
  zip_fileinfo zi;
  memset(&zi, 0, sizeof zi);
  zi.tmz_date.tm_year = 1980;    // minizip stores tm_year as the full year
  zi.tmz_date.tm_mday = 1;
  int zip64 = hl + bytes >= 0xffffffffu;
  // Method 0: stored, as numpy.savez writes.
  if (zipOpenNewFileInZip64(o->zip, name, &zi, NULL, 0, NULL, 0, NULL, 0, 0, zip64) != ZIP_OK)
    return fail(o, "cannot add a member to the archive");
  int ok = zipWriteInFileInZip(o->zip, h, (unsigned)hl) == ZIP_OK;
  const char *p = data;
  for (size_t left = bytes; ok && left;) {
    unsigned k = left > (1u << 30) ? (1u << 30) : (unsigned)left;
    ok = zipWriteInFileInZip(o->zip, p, k) == ZIP_OK;
    p += k;
    left -= k;
  }
  if (zipCloseFileInZip(o->zip) != ZIP_OK || !ok) {
    char msg[600];
    snprintf(msg, sizeof msg, "writing %s failed: %s", name, strerror(errno ? errno : EIO));
    return fail(o, msg);
  }
  return 0;
}

int npz_close(NpzOut *o, int commit) {
  int ok = !o->err && commit;
  if (zipClose(o->zip, NULL) != ZIP_OK && ok) {
    fprintf(stderr, "%s: close failed: %s\n", o->tmp, strerror(errno ? errno : EIO));
    ok = 0;
  }
  if (ok) {
    int fd = open(o->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
      fprintf(stderr, "%s: flush failed: %s\n", o->tmp, strerror(errno));
      ok = 0;
    }
    if (fd >= 0)
      close(fd);
  }
  if (ok && rename(o->tmp, o->path) != 0) {
    fprintf(stderr, "%s: cannot rename %s over it: %s\n", o->path, o->tmp, strerror(errno));
    ok = 0;
  }
  if (!ok)
    remove(o->tmp);
  else if (ckpt_fsync_dir(o->path) != 0)
    fprintf(stderr, "%s: warning: cannot fsync its directory: %s\n", o->path, strerror(errno));
  if (!ok && commit)
    fprintf(stderr, "%s: not written; the previous file, if any, is unchanged\n", o->path);
  free(o->path);
  free(o->tmp);
  memset(o, 0, sizeof *o);
  return ok ? 0 : -1;
}
