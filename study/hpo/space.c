// space.c — search spaces: parsing, printing, snapping values onto a
// parameter's domain.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

static int fail(char *err, size_t len, const char *what, const char *text) {
  snprintf(err, len, "search space: %s in '%s'", what, text);
  return -1;
}

// One "name=kind:args" item.
static int parse_item(HpoParam *p, char *item, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  char *eq = strchr(item, '=');
  if (!eq || eq == item || eq - item >= HPO_NAME_MAX) return fail(err, errlen, "expected name=kind:...", item);
  memcpy(p->name, item, (size_t)(eq - item));
  char *f[8];
  int nf = 0;
  for (char *tok = strtok(eq + 1, ":"); tok && nf < 8; tok = strtok(NULL, ":")) f[nf++] = tok;
  if (nf == 0) return fail(err, errlen, "missing kind", item);
  if (strcmp(f[0], "cat") == 0) {
    p->kind = HPO_CAT;
    if (nf != 2) return fail(err, errlen, "cat needs one list of choices", p->name);
    for (char *c = strtok(f[1], ","); c; c = strtok(NULL, ",")) {
      if (p->n_choices == HPO_MAX_CHOICES || strlen(c) >= HPO_NAME_MAX)
        return fail(err, errlen, "too many or too long choices", p->name);
      strcpy(p->choices[p->n_choices++], c);
    }
    if (p->n_choices < 1) return fail(err, errlen, "no choices", p->name);
    return 0;
  }
  if (strcmp(f[0], "float") == 0) p->kind = HPO_FLOAT;
  else if (strcmp(f[0], "int") == 0) p->kind = HPO_INT, p->step = 1;
  else return fail(err, errlen, "kind is not float, int or cat", p->name);
  if (nf < 3) return fail(err, errlen, "needs LOW:HIGH", p->name);
  char *end;
  p->low = strtod(f[1], &end);
  if (*end) return fail(err, errlen, "bad LOW", p->name);
  p->high = strtod(f[2], &end);
  if (*end) return fail(err, errlen, "bad HIGH", p->name);
  for (int i = 3; i < nf; i++) {
    if (strcmp(f[i], "log") == 0) p->log = 1;
    else if (strncmp(f[i], "step=", 5) == 0) p->step = strtod(f[i] + 5, NULL);
    else return fail(err, errlen, "unknown option", f[i]);
  }
  if (!(p->low <= p->high)) return fail(err, errlen, "LOW > HIGH", p->name);
  if (p->log && p->low <= 0) return fail(err, errlen, "log needs LOW > 0", p->name);
  if (p->kind == HPO_INT && (p->low != floor(p->low) || p->high != floor(p->high) || p->step < 1 ||
                             p->step != floor(p->step)))
    return fail(err, errlen, "int bounds and step must be integers", p->name);
  if (p->log && p->step != 0 && !(p->kind == HPO_INT && p->step == 1))
    return fail(err, errlen, "log and step exclude each other (as in Optuna)", p->name);
  return 0;
}

int space_parse(HpoSpace *s, const char *text, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  char *copy = strdup(text), *save = NULL;
  int rc = 0;
  for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
    if (s->n == HPO_MAX_PARAMS) { rc = fail(err, errlen, "too many parameters", text); break; }
    if ((rc = parse_item(&s->p[s->n], item, err, errlen)) != 0) break;
    if (space_find(s, s->p[s->n].name) >= 0) { rc = fail(err, errlen, "duplicate name", s->p[s->n].name); break; }
    s->n++;
  }
  if (rc == 0 && s->n == 0) rc = fail(err, errlen, "no parameters", text);
  free(copy);
  return rc;
}

void space_format(const HpoSpace *s, char *out, size_t len) {
  size_t k = 0;
  out[0] = 0;
  for (int i = 0; i < s->n && k < len; i++) {
    const HpoParam *p = &s->p[i];
    k += (size_t)snprintf(out + k, len - k, "%s%s=", i ? ";" : "", p->name);
    if (k >= len) break;
    if (p->kind == HPO_CAT) {
      k += (size_t)snprintf(out + k, len - k, "cat:");
      for (int c = 0; c < p->n_choices && k < len; c++)
        k += (size_t)snprintf(out + k, len - k, "%s%s", c ? "," : "", p->choices[c]);
      continue;
    }
    k += (size_t)snprintf(out + k, len - k, "%s:%.17g:%.17g", p->kind == HPO_INT ? "int" : "float",
                          p->low, p->high);
    if (k < len && p->log) k += (size_t)snprintf(out + k, len - k, ":log");
    if (k < len && p->step != 0 && !(p->kind == HPO_INT && p->step == 1))
      k += (size_t)snprintf(out + k, len - k, ":step=%.17g", p->step);
  }
}

int space_find(const HpoSpace *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->p[i].name, name) == 0) return i;
  return -1;
}

double space_snap(const HpoParam *p, double x) {
  if (p->kind == HPO_CAT) {
    x = round(x);
    return x < 0 ? 0 : x > p->n_choices - 1 ? p->n_choices - 1 : x;
  }
  if (p->step > 0) x = p->low + round((x - p->low) / p->step) * p->step;
  if (x < p->low) x = p->low;
  if (x > p->high) x = p->high;
  return x;
}

void space_value_str(const HpoParam *p, double v, char *out, size_t len) {
  if (isnan(v)) snprintf(out, len, "-");
  else if (p->kind == HPO_CAT) snprintf(out, len, "%s", p->choices[(int)space_snap(p, v)]);
  else if (p->kind == HPO_INT) snprintf(out, len, "%.0f", v);
  else snprintf(out, len, "%.6g", v);
}
