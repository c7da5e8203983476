// codes.c — reading and writing code files (format in codes.h).
#include "codes.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'N', 'E', 'T', 'C', 'O', 'D', 'E', 'S'};

int codes_alloc(Codes *c, int n, int d) {
  c->n = n, c->d = d;
  c->label = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
  c->x = calloc((size_t)(n > 0 ? n : 1) * (d > 0 ? d : 1), sizeof(float));
  if (!c->label || !c->x) {
    codes_free(c);
    return -1;
  }
  return 0;
}

void codes_free(Codes *c) {
  free(c->label), free(c->x);
  c->label = NULL, c->x = NULL;
  c->n = c->d = 0;
}

static int load_binary(const char *path, FILE *f, Codes *c) {
  uint32_t h[4];
  if (fread(h, sizeof h, 1, f) != 1) {
    fprintf(stderr, "%s: truncated header\n", path);
    return -1;
  }
  if (h[0] != 1) {
    fprintf(stderr, "%s: unsupported version %u (expected 1)\n", path, h[0]);
    return -1;
  }
  if (h[1] == 0 || h[2] == 0 || h[1] > (1u << 26) || h[2] > 4096) {
    fprintf(stderr, "%s: implausible size %u x %u\n", path, h[1], h[2]);
    return -1;
  }
  if (codes_alloc(c, (int)h[1], (int)h[2]) != 0) {
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  for (int i = 0; i < c->n; i++) {
    int32_t lab;
    if (fread(&lab, 4, 1, f) != 1 ||
        fread(c->x + (size_t)i * c->d, 4, (size_t)c->d, f) != (size_t)c->d) {
      fprintf(stderr, "%s: truncated at row %d of %d\n", path, i, c->n);
      codes_free(c);
      return -1;
    }
    c->label[i] = lab;
  }
  return 0;
}

// Parses "label,x1,...,xd" into lab / v (cap); returns d or -1.
static int parse_row(char *s, int *lab, float *v, int cap) {
  char *end;
  long l = strtol(s, &end, 10);
  if (end == s)
    return -1;
  *lab = (int)l;
  int d = 0;
  for (s = end; *s == ' ' || *s == '\t'; s++)
    ;
  while (*s == ',') {
    s++;
    float t = strtof(s, &end);
    if (end == s || d == cap)
      return -1;
    v[d++] = t;
    for (s = end; *s == ' ' || *s == '\t'; s++)
      ;
  }
  return (*s == '\n' || *s == '\r' || *s == 0) ? d : -1;
}

static int load_csv(const char *path, FILE *f, Codes *c) {
  enum { CAP = 4096 };
  char *line = NULL;
  size_t len = 0;
  float *v = malloc(CAP * sizeof(float));
  int cap = 0, lineno = 0, rc = -1;
  c->n = 0, c->d = -1, c->label = NULL, c->x = NULL;
  while (v && getline(&line, &len, f) > 0) {
    lineno++;
    char *s = line;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '#' || *s == '\n' || *s == '\r' || *s == 0)
      continue;
    int lab, d = parse_row(s, &lab, v, CAP);
    if (d <= 0 || (c->d >= 0 && d != c->d)) {
      fprintf(stderr, "%s:%d: expected \"label,x1,...,x%d\"\n", path, lineno,
              c->d > 0 ? c->d : 1);
      goto done;
    }
    c->d = d;
    if (c->n == cap) {
      cap = cap ? 2 * cap : 1024;
      int *nl = realloc(c->label, (size_t)cap * sizeof(int));
      if (nl)
        c->label = nl;
      float *nx = realloc(c->x, (size_t)cap * d * sizeof(float));
      if (nx)
        c->x = nx;
      if (!nl || !nx) {
        fprintf(stderr, "%s: out of memory\n", path);
        goto done;
      }
    }
    c->label[c->n] = lab;
    memcpy(c->x + (size_t)c->n * d, v, (size_t)d * sizeof(float));
    c->n++;
  }
  if (c->n == 0)
    fprintf(stderr, "%s: no rows\n", path);
  else
    rc = 0;
done:
  free(line), free(v);
  if (rc != 0)
    codes_free(c);
  return rc;
}

int codes_load(const char *path, Codes *c) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  char magic[8];
  int rc;
  if (fread(magic, 8, 1, f) == 1 && memcmp(magic, MAGIC, 8) == 0) {
    rc = load_binary(path, f, c);
  } else {
    rewind(f);
    rc = load_csv(path, f, c);
  }
  fclose(f);
  return rc;
}

int codes_save(const char *path, const Codes *c) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  uint32_t h[4] = {1, (uint32_t)c->n, (uint32_t)c->d, 0};
  int ok = fwrite(MAGIC, 8, 1, f) == 1 && fwrite(h, sizeof h, 1, f) == 1;
  for (int i = 0; ok && i < c->n; i++) {
    int32_t lab = c->label[i];
    ok = fwrite(&lab, 4, 1, f) == 1 &&
         fwrite(c->x + (size_t)i * c->d, 4, (size_t)c->d, f) == (size_t)c->d;
  }
  if (fclose(f) != 0)
    ok = 0;
  if (!ok)
    fprintf(stderr, "%s: write failed: %s\n", path, strerror(errno));
  return ok ? 0 : -1;
}
