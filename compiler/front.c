// front.c — the front end's driver: reading files, -D values, and
// netc_compile(), which chains load → parse → check → lower.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

// A model is a few kilobytes; anything this large is not one.
#define MAX_FILE_SIZE (16 << 20)

static void oom(void) {
  fprintf(stderr, "netc: out of memory\n");
  exit(2);
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
  return f;
}

bool define_parse(const char *arg, Define *d) {
  const char *eq = strchr(arg, '=');
  if (!eq) {
    diag_plain("-D expects name=value, got '%s'", arg);
    return false;
  }
  size_t n = (size_t)(eq - arg);
  bool ok = n > 0 && (arg[0] == '_' || (arg[0] >= 'a' && arg[0] <= 'z') || (arg[0] >= 'A' && arg[0] <= 'Z'));
  for (size_t i = 0; i < n; i++)
    ok = ok && (arg[i] == '_' || (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
                (arg[i] >= '0' && arg[i] <= '9'));
  if (!ok) {
    diag_plain("-D %s: '%.*s' is not a constant's name", arg, (int)n, arg);
    return false;
  }
  const char *v = eq + 1;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (!*v || *end || v[0] == ' ' || v[0] == '\t') {
    diag_plain("-D %s: '%s' is not a number", arg, v);
    return false;
  }
  if (!isfinite(x) || errno == ERANGE) {
    diag_plain("-D %s: '%s' is out of range", arg, v);
    return false;
  }
  char *name = xcalloc(n + 1, 1);
  memcpy(name, arg, n);
  *d = (Define){.name = name, .value = x, .text = arg};
  return true;
}

// FNV-1a, 64 bit.
static uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

Unit *unit_load(const char *path, const Define *defs, int ndefs) {
  File *f = file_read(path, NULL);
  if (!f)
    return NULL;
  Unit *u = xcalloc(1, sizeof *u);
  u->defs = defs;
  u->ndefs = ndefs;
  parse_file(u, f);
  // The hash covers the model and its imports, in load order.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int i = 0; i < u->nfiles; i++)
    h = fnv1a(h, u->files[i]->text, u->files[i]->len);
  u->source_hash = h;
  return u;
}

// -D names no constant: a usage error, reported after loading.
static bool defines_known(const Unit *u) {
  bool ok = true;
  for (int i = 0; i < u->ndefs; i++) {
    if (!unit_const_def(u, u->defs[i].name) && strcmp(u->defs[i].name, "batch")) {
      diag_plain("-D %s: the model has no constant '%s'", u->defs[i].text, u->defs[i].name);
      ok = false;
    }
  }
  return ok;
}

// The front-end pipeline: load (lex + parse, with imports) → check → lower.
Graph *netc_compile_unit(const char *path, const Define *defs, int ndefs, Unit **unit, int *status) {
  diag_reset();
  if (unit)
    *unit = NULL;
  Unit *u = unit_load(path, defs, ndefs);
  if (!u) {
    *status = 1;
    return NULL;
  }
  if (unit)
    *unit = u;
  if (diag_count() == 0 && !defines_known(u)) {
    *status = 2;
    return NULL;
  }
  if (!check_unit(u) || diag_count()) {
    *status = 1;
    return NULL;
  }
  Graph *g = lower_unit(u);
  *status = g ? 0 : 1;
  return g;
}

Graph *netc_compile(const char *path, const Define *defs, int ndefs, int *status) {
  return netc_compile_unit(path, defs, ndefs, NULL, status);
}
