// arrayout.c — .npy and CSV arrays, written atomically (arrayout.h).
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrayout.h"
#include "ckpt.h"

static int fail(ArrayOut *a, const char *what) {
  if (!a->err)
    fprintf(stderr, "%s: %s: %s\n", a->path, what, strerror(errno ? errno : EIO));
  a->err = 1;
  return -1;
}

static char *join(const char *dir, const char *name, const char *ext) {
  size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s%s", dir, name, ext);
  return p;
}

// numpy's header: magic, version 1.0, little-endian u16 length, then a
// Python dict literal padded with spaces so that the data starts at a
// multiple of 64 bytes, ending in a newline.
static int npy_header(ArrayOut *a) {
  char dict[256], shape[128];
  if (a->rank > 0) {
    int k = snprintf(shape, sizeof shape, "(%zu", a->rows);
    for (int i = 0; i < a->rank; i++)
      k += snprintf(shape + k, sizeof shape - (size_t)k, ", %d", a->dim[i]);
    snprintf(shape + k, sizeof shape - (size_t)k, ")");
  } else if (a->cols && a->rank < 0) snprintf(shape, sizeof shape, "(%zu, %zu)", a->rows, a->cols);
  else snprintf(shape, sizeof shape, "(%zu,)", a->rows);
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   a->type == ARRAY_F32 ? "<f4" : "<i8", shape);
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  size_t hlen = (size_t)n + pad + 1;
  head[8] = (unsigned char)(hlen & 0xff);
  head[9] = (unsigned char)(hlen >> 8);
  if (fwrite(head, 1, 10, a->f) != 10 || fwrite(dict, 1, (size_t)n, a->f) != (size_t)n)
    return -1;
  for (size_t i = 0; i < pad; i++)
    if (fputc(' ', a->f) == EOF) return -1;
  return fputc('\n', a->f) == EOF ? -1 : 0;
}

int arrayout_open(ArrayOut *a, const char *dir, const char *name, int csv, int type, size_t rows,
                  size_t cols) {
  int dim[1] = {(int)cols};
  return arrayout_open_shape(a, dir, name, csv, type, rows, cols ? -1 : 0, dim);
}

int arrayout_open_shape(ArrayOut *a, const char *dir, const char *name, int csv, int type, size_t rows,
                        int rank, const int *dim) {
  size_t cols = 1;
  for (int i = 0; i < rank; i++)
    cols *= (size_t)dim[i];
  if (rank < 0)
    cols = (size_t)dim[0];
  memset(a, 0, sizeof *a);
  a->rank = rank > 4 ? 4 : rank;
  for (int i = 0; i < a->rank; i++)
    a->dim[i] = dim[i];
  a->csv = csv;
  a->type = type;
  a->rows = rows;
  a->cols = cols;
  a->path = join(dir, name, csv ? ".csv" : ".npy");
  a->tmp = a->path ? join(dir, name, csv ? ".csv.tmp" : ".npy.tmp") : NULL;
  if (!a->tmp) {
    fprintf(stderr, "%s/%s: out of memory\n", dir, name);
    free(a->path);
    a->path = NULL;
    return -1;
  }
  errno = 0;
  if (!(a->f = fopen(a->tmp, "wb"))) {
    fail(a, "cannot create");
    arrayout_close(a, 0);
    return -1;
  }
  if (!csv && npy_header(a)) {
    fail(a, "write failed");
    arrayout_close(a, 0);
    return -1;
  }
  return 0;
}

int arrayout_write(ArrayOut *a, const void *values, size_t n) {
  if (a->err)
    return -1;
  size_t per = a->cols ? a->cols : 1, count = n * per;
  errno = 0;
  if (!a->csv) {
    // .npy is little-endian: the hosts netc supports are (checkpoints
    // refuse the others).
    if (fwrite(values, a->type == ARRAY_F32 ? 4 : 8, count, a->f) != count)
      return fail(a, "write failed");
  } else {
    for (size_t i = 0; i < count; i++) {
      int rc = a->type == ARRAY_F32 ? fprintf(a->f, "%.9g", (double)((const float *)values)[i])
                                    : fprintf(a->f, "%" PRId64, ((const int64_t *)values)[i]);
      if (rc < 0 || fputc((i + 1) % per ? ',' : '\n', a->f) == EOF)
        return fail(a, "write failed");
    }
  }
  a->written += n;
  return 0;
}

int arrayout_close(ArrayOut *a, int commit) {
  int ok = commit && !a->err;
  if (ok && a->written != a->rows) {
    fprintf(stderr, "%s: %zu rows written of %zu\n", a->path, a->written, a->rows);
    ok = 0;
  }
  errno = 0;
  if (a->f) {
    if (ok && (fflush(a->f) != 0 || fsync(fileno(a->f)) != 0))
      ok = fail(a, "write failed") == 0;
    if (fclose(a->f) != 0 && ok)
      ok = fail(a, "close failed") == 0;
  }
  if (ok && rename(a->tmp, a->path) != 0)
    ok = fail(a, "cannot rename the temporary file over it") == 0;
  if (ok && ckpt_fsync_dir(a->path) != 0)
    fprintf(stderr, "%s: warning: cannot fsync its directory: %s\n", a->path, strerror(errno));
  if (!ok && a->tmp)
    remove(a->tmp);
  int rc = ok || !commit ? 0 : -1;
  free(a->path);
  free(a->tmp);
  memset(a, 0, sizeof *a);
  return rc;
}
