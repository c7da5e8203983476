// front.c — the front end's driver: -D values, and
// netc_compile(), which chains load → parse → check → lower.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

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

Unit *unit_load(const char *path, const Define *defs, int ndefs) {
  File *f = file_read(path, NULL);
  if (!f)
    return NULL;
  Unit *u = xcalloc(1, sizeof *u);
  u->defs = defs;
  u->ndefs = ndefs;
  parse_file(u, f);
  // The hash covers the model and its imports, in load order.
  uint64_t h = FNV1A_INIT;
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
