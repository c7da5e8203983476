// dataset_npy.c — NumPy .npy files and .npz archives.
//
// .npy (numpy/lib/format.py): "\x93NUMPY", major, minor, a little-endian
// header length (u16 in version 1, u32 in 2 and 3), then a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, 28, 28), }
// padded with spaces, then the data.  Read: '|u1' '|i1' '<i2' '<i4' '<i8'
// '<f4' '<f8' in C order; big-endian and Fortran order are refused with the
// reason.  .npz: a zip of NAME.npy members, read with minizip; a member's
// declared size must equal what its .npy header promises, checked before
// anything is inflated, so a zip bomb is refused up front.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unzip.h>

#include "dataset.h"
#include "idx.h"

#define NPY_MAX_HEADER 65536       // numpy writes < 200 bytes; anything bigger is hostile

typedef struct {
  int type, elem, ndim;
  uint64_t dim[8], count;
  size_t header;                   // bytes before the data
} NpyHeader;

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

// The value after 'key': in the dict text, or NULL.
static const char *dict_value(const char *h, const char *key) {
  char k[32];
  snprintf(k, sizeof k, "'%s'", key);
  const char *p = strstr(h, k);
  if (!p)
    return NULL;
  p += strlen(k);
  while (*p == ' ') p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

// Parses the 10+ bytes of preamble and the dict in buf[0..len); sets *why.
static int parse_header(const unsigned char *buf, size_t len, NpyHeader *h, char *why, size_t wn) {
  memset(h, 0, sizeof *h);
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6)) {
    snprintf(why, wn, "not a .npy file (no \\x93NUMPY magic)");
    return -1;
  }
  int major = buf[6];
  size_t pre = major == 1 ? 10 : 12;
  if (major < 1 || major > 3) {
    snprintf(why, wn, "unsupported .npy version %d.%d", major, buf[7]);
    return -1;
  }
  if (len < pre) {
    snprintf(why, wn, "truncated .npy preamble");
    return -1;
  }
  uint64_t hl = major == 1 ? (uint64_t)buf[8] | (uint64_t)buf[9] << 8
                           : (uint64_t)buf[8] | (uint64_t)buf[9] << 8 | (uint64_t)buf[10] << 16 |
                                 (uint64_t)buf[11] << 24;
  if (hl > NPY_MAX_HEADER) {
    snprintf(why, wn, "header of %llu bytes, more than the %d a .npy header can sensibly have",
             (unsigned long long)hl, NPY_MAX_HEADER);
    return -1;
  }
  if (len < pre + hl) {
    snprintf(why, wn, "truncated: the header needs %llu bytes, %zu present",
             (unsigned long long)(pre + hl), len);
    return -1;
  }
  char text[NPY_MAX_HEADER + 1];
  memcpy(text, buf + pre, hl);
  text[hl] = 0;
  h->header = pre + hl;
  const char *d = dict_value(text, "descr"), *f = dict_value(text, "fortran_order"),
             *s = dict_value(text, "shape");
  if (!d || !f || !s || *d != '\'' || *s != '(') {
    snprintf(why, wn, "bad header: expected 'descr', 'fortran_order' and 'shape'");
    return -1;
  }
  static const struct { const char *descr; int type; } types[] = {
    {"'|u1'", IDX_U8}, {"'<u1'", IDX_U8}, {"'|i1'", IDX_I8}, {"'<i1'", IDX_I8}, {"'<i2'", IDX_I16},
    {"'<i4'", IDX_I32}, {"'<i8'", DATASET_I64}, {"'<f4'", IDX_F32}, {"'<f8'", IDX_F64},
  };
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    if (!strncmp(d, types[i].descr, strlen(types[i].descr)))
      h->type = types[i].type;
  if (!h->type) {
    int n = 0;
    while (d[n + 1] && d[n + 1] != '\'' && n < 16) n++;
    snprintf(why, wn, "element type '%.*s' not supported%s (read: |u1 |i1 <i2 <i4 <i8 <f4 <f8)", n,
             d + 1, d[1] == '>' ? ": big-endian, convert with arr.astype(arr.dtype.newbyteorder('<'))" : "");
    return -1;
  }
  h->elem = h->type == DATASET_I64 ? 8 : idx_type_size(h->type);
  if (strncmp(f, "False", 5)) {
    snprintf(why, wn, "Fortran order is not supported: save np.ascontiguousarray(arr)");
    return -1;
  }
  h->count = 1;
  const char *p = s + 1;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')')
      break;
    if (*p < '0' || *p > '9' || h->ndim == 8) {
      snprintf(why, wn, "bad shape in header");
      return -1;
    }
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
      if (v > (1ull << 40)) {
        snprintf(why, wn, "absurd dimension in shape");
        return -1;
      }
      v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (v && h->count > IDX_MAX_ELEMS / v) {
      snprintf(why, wn, "shape declares more than %llu elements", (unsigned long long)IDX_MAX_ELEMS);
      return -1;
    }
    h->dim[h->ndim++] = v;
    h->count *= v;
  }
  return 0;
}

// Reads a whole .npy file: header, then checks the file size equals it.
static int read_npy(const char *path, NpyHeader *h, void **data) {
  char why[256];
  *data = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
    return fail(path, why);
  }
  static unsigned char buf[12 + NPY_MAX_HEADER];
  size_t got = fread(buf, 1, 12, f);
  if (got >= 10 && !memcmp(buf, "\x93NUMPY", 6)) {
    size_t pre = buf[6] == 1 ? 10 : 12;
    uint64_t hl = buf[6] == 1 ? (uint64_t)buf[8] | (uint64_t)buf[9] << 8
                              : (uint64_t)buf[8] | (uint64_t)buf[9] << 8 | (uint64_t)buf[10] << 16 |
                                    (uint64_t)buf[11] << 24;
    if (hl <= NPY_MAX_HEADER && pre + hl > got)
      got += fread(buf + got, 1, pre + hl - got, f);
  }
  if (parse_header(buf, got, h, why, sizeof why)) {
    fclose(f);
    return fail(path, why);
  }
  fseek(f, 0, SEEK_END);
  long end = ftell(f);
  uint64_t bytes = h->count * (uint64_t)h->elem;
  if (end < 0 || (uint64_t)end != h->header + bytes) {
    snprintf(why, sizeof why, "the header promises %llu bytes of data but the file has %lld",
             (unsigned long long)bytes, (long long)end - (long long)h->header);
    fclose(f);
    return fail(path, why);
  }
  if (bytes > dataset_budget() / 2) {
    snprintf(why, sizeof why, "needs %.2f GB, more than this process may use", bytes / 1e9);
    fclose(f);
    return fail(path, why);
  }
  *data = malloc(bytes ? bytes : 1);
  if (!*data) {
    fclose(f);
    return fail(path, "out of memory");
  }
  fseek(f, (long)h->header, SEEK_SET);
  if (fread(*data, 1, bytes, f) != bytes) {
    free(*data);
    *data = NULL;
    fclose(f);
    return fail(path, "read error");
  }
  fclose(f);
  return 0;
}

static int set_labels(Dataset *d, const char *path, const NpyHeader *h, const void *data) {
  if (h->ndim != 1) {
    dataset_free(d);
    return fail(path, "labels must have 1 dimension");
  }
  if (dataset_set_labels(d, path, data, h->type, h->dim[0], 0)) {
    dataset_free(d);
    return -1;
  }
  return 0;
}

int dataset_load_npy(Dataset *d, const char *images, const char *labels) {
  memset(d, 0, sizeof *d);
  NpyHeader h;
  void *data;
  if (read_npy(images, &h, &data))
    return -1;
  int r = dataset_set_images(d, images, data, h.type, h.ndim, h.dim);
  free(data);
  if (r || !labels)
    return r;
  if (read_npy(labels, &h, &data)) {
    dataset_free(d);
    return -1;
  }
  r = set_labels(d, labels, &h, data);
  free(data);
  return r;
}

// ---------------------------------------------------------------- .npz

// Opens member KEY.npy of an open archive and reads it: the header first,
// then — once its size agrees with the zip's declared size and the budget —
// the data.  name: "ARCHIVE:KEY.npy" for messages.
static int read_member(unzFile z, const char *name, NpyHeader *h, void **data) {
  char why[256];
  unz_file_info64 info;
  *data = NULL;
  if (unzGetCurrentFileInfo64(z, &info, NULL, 0, NULL, 0, NULL, 0) != UNZ_OK ||
      unzOpenCurrentFile(z) != UNZ_OK)
    return fail(name, "damaged zip entry");
  static unsigned char buf[12 + NPY_MAX_HEADER];
  int got = unzReadCurrentFile(z, buf, 12);
  if (got >= 10 && !memcmp(buf, "\x93NUMPY", 6)) {
    size_t pre = buf[6] == 1 ? 10 : 12;
    uint64_t hl = buf[6] == 1 ? (uint64_t)buf[8] | (uint64_t)buf[9] << 8
                              : (uint64_t)buf[8] | (uint64_t)buf[9] << 8 | (uint64_t)buf[10] << 16 |
                                    (uint64_t)buf[11] << 24;
    if (hl <= NPY_MAX_HEADER && pre + hl > (size_t)got) {
      int more = unzReadCurrentFile(z, buf + got, (unsigned)(pre + hl - (size_t)got));
      got += more > 0 ? more : 0;
    }
  }
  if (parse_header(buf, got > 0 ? (size_t)got : 0, h, why, sizeof why)) {
    unzCloseCurrentFile(z);
    return fail(name, why);
  }
  uint64_t bytes = h->count * (uint64_t)h->elem;
  if (info.uncompressed_size != h->header + bytes) {
    snprintf(why, sizeof why,
             "the zip declares %llu bytes but the .npy header promises %llu: refused before "
             "inflating", (unsigned long long)info.uncompressed_size,
             (unsigned long long)(h->header + bytes));
    unzCloseCurrentFile(z);
    return fail(name, why);
  }
  if (bytes > dataset_budget() / 2) {
    snprintf(why, sizeof why, "needs %.2f GB, more than this process may use", bytes / 1e9);
    unzCloseCurrentFile(z);
    return fail(name, why);
  }
  unsigned char *p = malloc(bytes ? bytes : 1);
  if (!p) {
    unzCloseCurrentFile(z);
    return fail(name, "out of memory");
  }
  uint64_t have = 0;
  while (have < bytes) {
    uint64_t want = bytes - have;
    int r = unzReadCurrentFile(z, p + have, want > (1u << 30) ? (1u << 30) : (unsigned)want);
    if (r <= 0)
      break;
    have += (uint64_t)r;
  }
  // minizip stops at the declared size and checks the CRC on close.
  if (have != bytes || unzCloseCurrentFile(z) != UNZ_OK) {
    snprintf(why, sizeof why, "damaged member: %llu of %llu bytes inflated, or a CRC mismatch",
             (unsigned long long)have, (unsigned long long)bytes);
    free(p);
    return fail(name, why);
  }
  *data = p;
  return 0;
}

static unzFile open_zip(const char *path) {
  unzFile z = unzOpen64(path);
  if (!z)
    fail(path, "cannot open as a zip archive (.npz)");
  return z;
}

int dataset_npz_has(const char *path, const char *key) {
  unzFile z = unzOpen64(path);
  if (!z)
    return 0;
  char member[256];
  snprintf(member, sizeof member, "%s.npy", key);
  int r = unzLocateFile(z, member, 1) == UNZ_OK;
  unzClose(z);
  return r;
}

// "x_train, y_train, ..." : the archive's arrays (members NAME.npy), for
// the message about one it does not have.
static void npz_list(unzFile z, char *buf, size_t size) {
  char member[256];
  size_t k = 0;
  buf[0] = 0;
  for (int r = unzGoToFirstFile(z), i = 0; r == UNZ_OK && k + 1 < size; r = unzGoToNextFile(z), i++) {
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(z, &info, member, sizeof member, NULL, 0, NULL, 0) != UNZ_OK)
      break;
    size_t len = strlen(member);
    if (len > 4 && !strcmp(member + len - 4, ".npy"))
      member[len - 4] = 0;
    if (i == 20) {
      snprintf(buf + k, size - k, ", ...");
      break;
    }
    k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? ", " : "", member);
  }
}

// The archive has no member KEY.npy: name it, and what the archive holds.
static int npz_missing(unzFile z, const char *path, const char *key) {
  char have[1024], why[1400];
  npz_list(z, have, sizeof have);
  unzClose(z);
  snprintf(why, sizeof why, "no array '%s' (it holds %s; write it with np.savez(F, %s=...))", key,
           have[0] ? have : "none", key);
  return fail(path, why);
}

int dataset_npz_labels(Dataset *d, const char *path, const char *key) {
  unzFile z = open_zip(path);
  if (!z)
    return -1;
  char member[256], name[4096];
  NpyHeader h;
  void *data;
  snprintf(member, sizeof member, "%s.npy", key);
  snprintf(name, sizeof name, "%s:%s", path, key);
  if (strlen(key) + 5 > sizeof member || unzLocateFile(z, member, 1) != UNZ_OK)
    return npz_missing(z, path, key);
  int r = read_member(z, name, &h, &data);
  unzClose(z);
  if (r)
    return -1;
  r = set_labels(d, name, &h, data);
  free(data);
  return r;
}

int dataset_load_npz(Dataset *d, const char *path, const char *xkey, const char *ykey) {
  memset(d, 0, sizeof *d);
  unzFile z = open_zip(path);
  if (!z)
    return -1;
  char member[256], name[4096];
  NpyHeader h;
  void *data;
  snprintf(member, sizeof member, "%s.npy", xkey);
  snprintf(name, sizeof name, "%s:%s", path, member);
  if (strcmp(xkey, "x_train") && (strlen(xkey) + 5 > sizeof member || unzLocateFile(z, member, 1) != UNZ_OK))
    return npz_missing(z, path, xkey);   // an array asked for by name
  if (unzLocateFile(z, member, 1) != UNZ_OK) {
    unzClose(z);
    snprintf(name, sizeof name, "no array %s (save with np.savez(F, x_train=..., y_train=..., x_test=..., y_test=...))", xkey);
    return fail(path, name);
  }
  if (read_member(z, name, &h, &data)) {
    unzClose(z);
    return -1;
  }
  int r = dataset_set_images(d, name, data, h.type, h.ndim, h.dim);
  free(data);
  snprintf(member, sizeof member, "%s.npy", ykey ? ykey : "");
  if (!r && ykey && unzLocateFile(z, member, 1) == UNZ_OK) {
    snprintf(name, sizeof name, "%s:%s", path, member);
    if (read_member(z, name, &h, &data)) {
      dataset_free(d);
      r = -1;
    } else {
      r = set_labels(d, name, &h, data);
      free(data);
    }
  }
  unzClose(z);
  return r;
}

void dataset_npz_free(NpzArray *a, int n) {
  for (int i = 0; a && i < n; i++) {
    free(a[i].key);
    free(a[i].data);
  }
  free(a);
}

int dataset_npz_read_all(const char *path, NpzArray **arrays) {
  *arrays = NULL;
  unzFile z = open_zip(path);
  if (!z)
    return -1;
  unz_global_info64 gi;
  if (unzGetGlobalInfo64(z, &gi) != UNZ_OK) {
    unzClose(z);
    return fail(path, "damaged zip directory");
  }
  if (gi.number_entry > NPZ_MAX_ARRAYS) {
    char why[128];
    snprintf(why, sizeof why, "%llu members, more than the %d an .npz of weights may have",
             (unsigned long long)gi.number_entry, NPZ_MAX_ARRAYS);
    unzClose(z);
    return fail(path, why);
  }
  NpzArray *a = calloc(gi.number_entry ? gi.number_entry : 1, sizeof *a);
  if (!a) {
    unzClose(z);
    return fail(path, "out of memory");
  }
  int n = 0, r = unzGoToFirstFile(z);
  char member[512], name[4096];
  uint64_t total = 0;         // bytes read: all members together stay in the budget
  while (r == UNZ_OK) {
    unz_file_info64 info;
    if (n == (int)gi.number_entry ||
        unzGetCurrentFileInfo64(z, &info, member, sizeof member, NULL, 0, NULL, 0) != UNZ_OK) {
      fail(path, "damaged zip directory");
      goto bad;
    }
    size_t len = strlen(member);
    snprintf(name, sizeof name, "%s:%s", path, member);
    if (info.size_filename >= sizeof member || len < 5 || strcmp(member + len - 4, ".npy")) {
      fail(name, "not an .npy member (an .npz holds NAME.npy arrays)");
      goto bad;
    }
    member[len - 4] = 0;
    for (int i = 0; i < n; i++)
      if (!strcmp(a[i].key, member)) {
        fail(name, "a second member of this name");
        goto bad;
      }
    NpyHeader h;
    if (read_member(z, name, &h, &a[n].data))
      goto bad;
    total += h.count * (uint64_t)h.elem;
    if (total > dataset_budget() / 2) {
      free(a[n].data);
      fail(name, "the arrays together need more memory than this process may use");
      goto bad;
    }
    if (!(a[n].key = strdup(member))) {
      free(a[n].data);
      fail(path, "out of memory");
      goto bad;
    }
    a[n].type = h.type;
    a[n].ndim = h.ndim;
    memcpy(a[n].dim, h.dim, sizeof a[n].dim);
    a[n].count = h.count;
    n++;
    r = unzGoToNextFile(z);
  }
  if (r != UNZ_END_OF_LIST_OF_FILE) {
    fail(path, "damaged zip directory");
    goto bad;
  }
  unzClose(z);
  *arrays = a;
  return n;
bad:
  unzClose(z);
  dataset_npz_free(a, n);
  return -1;
}
