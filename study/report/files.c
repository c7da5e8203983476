// files.c — see files.h.
#include "files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *file_read(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  for (size_t got; b && (got = fread(b + n, 1, cap - n - 1, f)) > 0;) {
    n += got;
    if (n + 1 == cap) {
      char *nb = realloc(b, cap *= 2);
      if (!nb)
        free(b);
      b = nb;
    }
  }
  fclose(f);
  if (b)
    b[n] = 0;
  return b;
}

int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

char *kv_get(const char *text, const char *key) {
  size_t k = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (!strncmp(p, key, k) && p[k] == '=') {
      const char *v = p + k + 1, *e = strchr(v, '\n');
      size_t len = e ? (size_t)(e - v) : strlen(v);
      char *s = malloc(len + 1);
      if (s) {
        memcpy(s, v, len);
        s[len] = 0;
      }
      return s;
    }
  }
  return NULL;
}

double json_num(const char *json, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = json ? strstr(json, pat) : NULL;
  if (!p)
    return NAN;
  p += strlen(pat);
  while (*p == ' ' || *p == ':')
    p++;
  char *end;
  double v = strtod(p, &end);
  return end == p ? NAN : v;
}

// Index of column name in a CSV header line, or -1.
static int column(const char *header, const char *name) {
  int i = 0;
  size_t k = strlen(name);
  for (const char *p = header; p; p = strchr(p, ','), p = p ? p + 1 : NULL, i++)
    if (!strncmp(p, name, k) && (p[k] == ',' || p[k] == '\n' || p[k] == '\r' || !p[k]))
      return i;
  return -1;
}

int curve_load(const char *path, Curve *c) {
  memset(c, 0, sizeof *c);
  char *text = file_read(path);
  if (!text)
    return -1;
  int ce = column(text, "epoch"), ct = column(text, "train_loss"), cv = column(text, "val_loss"),
      ca = column(text, "val_accuracy");
  if (ce < 0 || ct < 0 || cv < 0) {
    free(text);
    return -1;
  }
  int lines = 0;
  for (char *p = text; *p; p++)
    lines += *p == '\n';
  c->epoch = calloc(lines + 1, sizeof(double));
  c->train = calloc(lines + 1, sizeof(double));
  c->val = calloc(lines + 1, sizeof(double));
  c->val_acc = calloc(lines + 1, sizeof(double));
  if (!c->epoch || !c->train || !c->val || !c->val_acc) {
    curve_free(c);
    free(text);
    return -1;
  }
  char *line = strchr(text, '\n');
  while (line && *++line) {
    char *next = strchr(line, '\n');
    if (!next)
      break;   // a row still being written
    double v[16];
    int nv = 0;
    for (char *p = line; p < next && nv < 16; nv++) {
      v[nv] = strtod(p, &p);
      while (p < next && *p != ',')
        p++;
      p++;
    }
    if (nv > ce && nv > ct && nv > cv) {
      c->epoch[c->n] = v[ce];
      c->train[c->n] = v[ct];
      c->val[c->n] = v[cv];
      c->val_acc[c->n] = ca >= 0 && nv > ca ? v[ca] : -1;
      c->n++;
    }
    line = next;
  }
  free(text);
  return 0;
}

void curve_free(Curve *c) {
  free(c->epoch);
  free(c->train);
  free(c->val);
  free(c->val_acc);
  memset(c, 0, sizeof *c);
}

const char *path_join(const char *dir, const char *name) {
  static char ring[8][4096];
  static int next;
  char *b = ring[next++ % 8];
  snprintf(b, sizeof ring[0], "%s/%s", dir, name);
  return b;
}
