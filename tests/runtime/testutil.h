// testutil.h — tiny helpers shared by the runtime tests: the counting
// checks (tests/check.h), the fixture reader (format in make_fixtures.py), stderr capture
// and the relative-difference measure.
#ifndef NETRT_TESTUTIL_H
#define NETRT_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

// Relative difference with a floor on the denominator, so entries that
// are exactly or nearly zero are compared absolutely at 1e-6 * 1e-6.
static inline double t_reldiff(double got, double want) {
  double d = fabs(got - want), s = fabs(want);
  return d / (s > 1e-6 ? s : 1e-6);
}

// Largest t_reldiff over n entries.
static inline double t_maxdiff(const float *got, const float *want, size_t n) {
  double mx = 0;
  for (size_t i = 0; i < n; i++) {
    double r = t_reldiff(got[i], want[i]);
    if (!(r <= mx)) mx = r;     // NaN propagates
  }
  return mx;
}

// ---------------------------------------------------------------- fixtures

typedef struct {
  int n;
  char name[64][64];
  int count[64];
  float *data[64];
} Fixture;

static inline int fixture_read(Fixture *f, const char *path) {
  memset(f, 0, sizeof *f);
  FILE *fp = fopen(path, "r");
  if (!fp) {
    printf("FAIL: cannot open fixture %s\n", path);
    t_failures++;
    return -1;
  }
  char line[256];
  for (;;) {
    if (!fgets(line, sizeof line, fp)) break;
    if (line[0] == '#') continue;
    char name[64];
    int count;
    if (sscanf(line, "%63s %d", name, &count) != 2 || f->n == 64) break;
    float *d = malloc(sizeof(float) * (count ? count : 1));
    for (int i = 0; i < count; i++)
      if (fscanf(fp, "%f", &d[i]) != 1) { fclose(fp); return -1; }
    if (!fgets(line, sizeof line, fp)) { /* end of file after the last value */ }
    strcpy(f->name[f->n], name);
    f->count[f->n] = count;
    f->data[f->n++] = d;
  }
  fclose(fp);
  return 0;
}

// The array called name (its length in *count if not NULL), or NULL.
static inline float *fixture_get(const Fixture *f, const char *name, int *count) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->name[i], name) == 0) {
      if (count) *count = f->count[i];
      return f->data[i];
    }
  printf("FAIL: fixture has no array %s\n", name);
  t_failures++;
  return NULL;
}

// Record `name` of a fixture as doubles (the float reader would round
// them); returns the count read, or -1.
static inline int fixture_doubles(const char *path, const char *name, double *out, int max) {
  FILE *fp = fopen(path, "r");
  if (!fp)
    return -1;
  char line[256], key[64];
  int count = -1;
  while (fgets(line, sizeof line, fp)) {
    if (line[0] == '#' || sscanf(line, "%63s %d", key, &count) != 2) {
      count = -1;
      continue;
    }
    if (strcmp(key, name) != 0) {
      count = -1;
      continue;
    }
    for (int i = 0; i < count; i++)
      if (i >= max || fscanf(fp, "%lf", &out[i]) != 1) {
        count = -1;
        break;
      }
    break;
  }
  fclose(fp);
  return count;
}

static inline void fixture_free(Fixture *f) {
  for (int i = 0; i < f->n; i++)
    free(f->data[i]);
}

// ---------------------------------------------------------------- stderr

// Runs with stderr redirected to a temporary file; t_stderr_end() restores
// it and returns what was written (static buffer), also echoed to stdout
// so a test log shows the messages.
static int t_saved_fd = -1;
static FILE *t_capture;

static inline void t_stderr_begin(void) {
  fflush(stderr);
  t_capture = tmpfile();
  t_saved_fd = dup(2);
  dup2(fileno(t_capture), 2);
}

static inline const char *t_stderr_end(void) {
  static char buf[8192];
  fflush(stderr);
  dup2(t_saved_fd, 2);
  close(t_saved_fd);
  rewind(t_capture);
  size_t n = fread(buf, 1, sizeof buf - 1, t_capture);
  buf[n] = 0;
  fclose(t_capture);
  printf("  stderr: %s", n ? buf : "(empty)\n");
  return buf;
}

#endif
