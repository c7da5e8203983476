// util.c — see util.h.
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

// Since nothing is freed by design, LeakSanitizer would report every AST
// node and graph: it is off in every program that uses compiler memory
// (this file), and the leak test (tests/hardening) turns it back on with
// suppressions.
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static void oom(void) {
  fprintf(stderr, "netc: out of memory\n");
  exit(2);
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    oom();
  return p;
}

void *xpush(void *a, int n, size_t size) {
  if (n == 0 || (n & (n - 1)) == 0) {      // capacity is the next power of two
    size_t cap = n ? (size_t)n * 2 : 4;
    a = realloc(a, cap * size);
    if (!a)
      oom();
  }
  memset((char *)a + (size_t)n * size, 0, size);
  return a;
}

uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

char *fmt_count(int64_t n, char *buf) {
  char tmp[32];
  int len = snprintf(tmp, sizeof tmp, "%lld", (long long)(n < 0 ? -n : n));
  char *p = buf;
  if (n < 0)
    *p++ = '-';
  for (int i = 0; i < len; i++) {
    if (i && (len - i) % 3 == 0)
      *p++ = ',';
    *p++ = tmp[i];
  }
  *p = 0;
  return buf;
}

// ---- Source files ----

// A model is a few kilobytes; anything this large is not one.
#define MAX_FILE_SIZE (16 << 20)

static void file_error(const Loc *from, const char *path, const char *why) {
  if (from)
    diag_error(*from, "cannot open '%s': %s", path, why);
  else
    diag_plain("cannot open '%s': %s", path, why);
}

File *file_read(const char *path, const Loc *from) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    file_error(from, path, strerror(errno));
    return NULL;
  }
  File *f = xcalloc(1, sizeof *f);
  f->path = path;
  size_t cap = 4096;
  f->text = xcalloc(cap, 1);
  for (;;) {
    size_t n = fread(f->text + f->len, 1, cap - f->len - 1, fp);
    f->len += n;
    if (n == 0)
      break;
    if (f->len > MAX_FILE_SIZE) {
      fclose(fp);
      file_error(from, path, "file too large for a model (more than 16 MiB)");
      return NULL;
    }
    if (cap - f->len - 1 == 0) {
      cap *= 2;
      f->text = realloc(f->text, cap);
      if (!f->text)
        oom();
    }
  }
  if (ferror(fp)) {
    int e = errno;
    fclose(fp);
    file_error(from, path, strerror(e));
    return NULL;
  }
  fclose(fp);
  f->text[f->len] = 0;
  f->real = realpath(path, NULL);
  if (!f->real)
    f->real = strdup(path);
  diag_register(f);
  return f;
}

