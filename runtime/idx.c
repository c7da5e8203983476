// idx.c — IDX reader with full validation (see idx.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "idx.h"

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

// Reads exactly n bytes into buf.  Returns 0, or -1 with *why set on a
// read error or when the data ends early (truncated or damaged gzip).
static int read_exact(gzFile f, void *buf, size_t n, size_t *got, const char **why) {
  *got = 0;
  while (*got < n) {
    size_t want = n - *got;
    unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
    int r = gzread(f, (char *)buf + *got, chunk);
    if (r < 0) {
      int err;
      *why = gzerror(f, &err);
      return -1;
    }
    if (r == 0) {
      int err;
      const char *msg = gzerror(f, &err);
      *why = err != Z_OK && msg && *msg ? msg : "unexpected end of file";
      return -1;
    }
    *got += (size_t)r;
  }
  return 0;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Opens path, checks the magic and reads the ndim dimensions after it.
static gzFile open_header(const char *path, uint32_t magic, int ndim, uint32_t *dim) {
  char msg[256];
  errno = 0;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno ? errno : ENOENT));
    fail(path, msg);
    return NULL;
  }
  unsigned char h[16];
  size_t got;
  const char *why;
  size_t hlen = 4 + 4 * (size_t)ndim;
  if (read_exact(f, h, hlen, &got, &why)) {
    snprintf(msg, sizeof msg, "not an IDX file: header is %zu bytes, expected %zu (%s)",
             got, hlen, why);
    goto bad;
  }
  if (be32(h) != magic) {
    snprintf(msg, sizeof msg, "bad magic number 0x%08x, expected 0x%08x (%s)", be32(h),
             magic, magic == IDX_MAGIC_IMAGES ? "u8 images, 3 dimensions" : "u8 labels, 1 dimension");
    goto bad;
  }
  for (int i = 0; i < ndim; i++)
    dim[i] = be32(h + 4 + 4 * i);
  if (dim[0] > IDX_MAX_COUNT) {
    snprintf(msg, sizeof msg, "header claims %u items, more than the limit of %d",
             dim[0], IDX_MAX_COUNT);
    goto bad;
  }
  return f;
bad:
  fail(path, msg);
  gzclose(f);
  return NULL;
}

// Reads the body of `size` bytes, growing the buffer as data arrives so a
// lying header costs at most what the file really holds; then checks that
// nothing follows.
static uint8_t *read_body(gzFile f, const char *path, size_t size, size_t item) {
  char msg[256];
  size_t cap = size < (1u << 20) ? size : (1u << 20), have = 0;
  uint8_t *buf = malloc(cap ? cap : 1);
  if (!buf) {
    fail(path, "out of memory");
    return NULL;
  }
  while (have < size) {
    if (have == cap) {
      size_t ncap = cap * 2 < size ? cap * 2 : size;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        fail(path, "out of memory");
        free(buf);
        return NULL;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got;
    const char *why;
    if (read_exact(f, buf + have, cap - have, &got, &why)) {
      have += got;
      snprintf(msg, sizeof msg,
               "truncated: header promises %zu items (%zu bytes of data) but only %zu bytes follow (%s)",
               size / item, size, have, why);
      fail(path, msg);
      free(buf);
      return NULL;
    }
    have += got;
  }
  unsigned char extra;
  if (gzread(f, &extra, 1) != 0) {
    snprintf(msg, sizeof msg, "more data than the header's %zu items (file too long or damaged)",
             size / item);
    fail(path, msg);
    free(buf);
    return NULL;
  }
  return buf;
}

int idx_load_images(const char *path, uint8_t **images, int *count) {
  uint32_t dim[3];
  gzFile f = open_header(path, IDX_MAGIC_IMAGES, 3, dim);
  if (!f)
    return -1;
  if (dim[1] != IDX_ROWS || dim[2] != IDX_COLS) {
    char msg[128];
    snprintf(msg, sizeof msg, "images are %ux%u, expected %dx%d", dim[1], dim[2], IDX_ROWS, IDX_COLS);
    gzclose(f);
    return fail(path, msg);
  }
  size_t item = IDX_ROWS * IDX_COLS;
  uint8_t *buf = read_body(f, path, (size_t)dim[0] * item, item);
  gzclose(f);
  if (!buf)
    return -1;
  *images = buf;
  *count = (int)dim[0];
  return 0;
}

int idx_load_labels(const char *path, uint8_t **labels, int *count) {
  uint32_t dim[1];
  gzFile f = open_header(path, IDX_MAGIC_LABELS, 1, dim);
  if (!f)
    return -1;
  uint8_t *buf = read_body(f, path, dim[0], 1);
  gzclose(f);
  if (!buf)
    return -1;
  for (uint32_t i = 0; i < dim[0]; i++) {
    if (buf[i] > 9) {
      char msg[128];
      snprintf(msg, sizeof msg, "label %u of item %u is out of range 0..9", buf[i], i);
      free(buf);
      return fail(path, msg);
    }
  }
  *labels = buf;
  *count = (int)dim[0];
  return 0;
}

// ---------------------------------------------------------------- any IDX

int idx_type_size(int type) {
  switch (type) {
  case IDX_U8: case IDX_I8: return 1;
  case IDX_I16: return 2;
  case IDX_I32: case IDX_F32: return 4;
  case IDX_F64: return 8;
  }
  return 0;
}

int idx_read(const char *path, IdxArray *a, uint64_t max_bytes) {
  char msg[256];
  memset(a, 0, sizeof *a);
  errno = 0;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno ? errno : ENOENT));
    return fail(path, msg);
  }
  unsigned char h[4 + 4 * IDX_MAX_DIMS];
  size_t got;
  const char *why;
  if (read_exact(f, h, 4, &got, &why)) {
    snprintf(msg, sizeof msg, "not an IDX file: %zu bytes, shorter than the 4-byte magic (%s)", got, why);
    goto bad;
  }
  int type = h[2], ndim = h[3];
  a->elem = idx_type_size(type);
  if (h[0] || h[1] || !a->elem || ndim < 1 || ndim > IDX_MAX_DIMS) {
    snprintf(msg, sizeof msg,
             "bad magic number 0x%08x: expected 0x0000TTNN with type TT one of 08 09 0B 0C 0D 0E "
             "and 1..%d dimensions NN", be32(h), IDX_MAX_DIMS);
    goto bad;
  }
  if (read_exact(f, h + 4, 4 * (size_t)ndim, &got, &why)) {
    snprintf(msg, sizeof msg, "truncated header: %d dimensions need %d bytes, %zu follow (%s)",
             ndim, 4 * ndim, got, why);
    goto bad;
  }
  a->type = type, a->ndim = ndim, a->count = 1;
  for (int i = 0; i < ndim; i++) {
    a->dim[i] = be32(h + 4 + 4 * i);
    // Products of u32s: checked against the limit at each step, so no
    // overflow however many dimensions are huge.
    if (a->dim[i] && a->count > IDX_MAX_ELEMS / a->dim[i]) {
      int k = snprintf(msg, sizeof msg, "header's shape");
      for (int j = 0; j < ndim; j++)
        k += snprintf(msg + k, sizeof msg - (size_t)k, "%s%u", j ? " x " : " ", be32(h + 4 + 4 * j));
      snprintf(msg + k, sizeof msg - (size_t)k, " has more than 2^34 elements");
      goto bad;
    }
    a->count *= a->dim[i];
  }
  uint64_t bytes = a->count * (uint64_t)a->elem;
  if (max_bytes && bytes > max_bytes) {
    snprintf(msg, sizeof msg, "needs %.2f GB for its %llu elements, more than the %.2f GB available",
             bytes / 1e9, (unsigned long long)a->count, max_bytes / 1e9);
    goto bad;
  }
  uint8_t *buf = read_body(f, path, (size_t)bytes, (size_t)a->elem);
  gzclose(f);
  if (!buf)
    return -1;
  // Big-endian on disk: swap each element in place.
  for (uint64_t i = 0; a->elem > 1 && i < a->count; i++) {
    uint8_t *p = buf + i * (uint64_t)a->elem;
    for (int j = 0; j < a->elem / 2; j++) {
      uint8_t t = p[j];
      p[j] = p[a->elem - 1 - j];
      p[a->elem - 1 - j] = t;
    }
  }
  a->data = buf;
  return 0;
bad:
  gzclose(f);
  return fail(path, msg);
}
