// summary.c — `netc summary`: a table per net instance the model applies (layer,
// op, output shape, parameters), like a Keras / torchinfo summary, then
// the model's totals.  Per-net counts come from check.c; the totals from
// the lowered graph's parameters, so the two are computed independently.
#include <string.h>

#include "netc.h"

static void row(FILE *out, const char *name, const char *op, Shape shape, int64_t nparams, bool frozen) {
  char sh[64], count[32];
  fprintf(out, "  %-28s %-12s %-16s %12s%s\n", name, op, shape_str(shape, sh), fmt_count(nparams, count),
          frozen && nparams ? "  frozen" : "");
}

static void rows(FILE *out, const Net *n, const char *prefix, bool frozen);

// The instances a net's table has shown: a tied one's second application
// gets one row.
typedef struct {
  const char *name[64];
  int n;
} Shown;

// The rows of net instance `name` (applied as net), or one row when its
// instance was shown already (tied).
static void net_rows(FILE *out, const Net *net, const char *name, Shape shape, bool frozen, Shown *sh) {
  for (int i = 0; i < sh->n; i++)
    if (!strcmp(sh->name[i], name)) {
      char op[80];
      snprintf(op, sizeof op, "%s (tied)", net->name.str);
      row(out, name, op, shape, 0, frozen);
      return;
    }
  if (sh->n < 64)
    sh->name[sh->n++] = strdup(name);
  rows(out, net, name, frozen || net->frozen);
}

// The ops and nets of a value line, in evaluation order.
static void rows_expr(FILE *out, const Expr *e, const char *prefix, bool frozen, Shown *sh) {
  if (!e || e->vk == V_CONST)
    return;
  char name[256];
  switch (e->kind) {
  case E_CALL:
    for (int i = 0; i < e->nargs; i++)
      rows_expr(out, e->args[i].val, prefix, frozen, sh);
    if (e->pname)
      snprintf(name, sizeof name, "%s_%s", prefix, e->pname);
    if (e->net) {
      net_rows(out, e->net, name, e->shape, frozen, sh);
      return;
    }
    if (e->opi)
      row(out, e->pname ? name : "", e->tok.str, e->shape,
          e->pname ? shape_numel(e->wshape) + shape_numel(e->bshape) : 0, frozen);
    return;
  case E_NEG:
  case E_BINARY: {
    rows_expr(out, e->lhs, prefix, frozen, sh);
    rows_expr(out, e->rhs, prefix, frozen, sh);
    char op[4] = {e->kind == E_NEG ? '-' : e->op, 0};
    row(out, "", op, e->shape, 0, frozen);
    return;
  }
  default:
    return;
  }
}

static void rows(FILE *out, const Net *n, const char *prefix, bool frozen) {
  char name[256];
  Shown sh = {0};
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->value) {
      rows_expr(out, l->expr, prefix, frozen, &sh);
      continue;
    }
    if (l->pname)
      snprintf(name, sizeof name, "%s_%s", prefix, l->pname);
    if (l->net) {
      net_rows(out, l->net, name, l->out, frozen, &sh);
      continue;
    }
    row(out, l->pname ? name : "", l->name.str, l->out, l->nparams, frozen);
  }
}

// The net instances the model applies (innermost first, in evaluation
// order), once each, with how often each is applied (tied when > 1).
typedef struct {
  const Net *net;
  const char *pname;
  int uses;
} Inst;

static void calls(const Expr *e, Inst *seen, int *nseen) {
  if (!e)
    return;
  if (e->kind == E_BINARY || e->kind == E_NEG) {
    calls(e->lhs, seen, nseen);
    calls(e->rhs, seen, nseen);
  }
  if (e->kind != E_CALL)
    return;
  for (int i = 0; i < e->nargs; i++)
    calls(e->args[i].val, seen, nseen);
  if (!e->net || !e->pname)
    return;
  for (int j = 0; j < *nseen; j++)
    if (!strcmp(seen[j].pname, e->pname)) {
      seen[j].uses++;
      return;
    }
  seen[(*nseen)++] = (Inst){e->net, e->pname, 1};
}

static int count_calls(const Expr *e) {
  if (!e)
    return 0;
  int n = e->kind == E_CALL && e->net;
  n += count_calls(e->lhs) + count_calls(e->rhs);
  for (int i = 0; i < e->nargs; i++)
    n += count_calls(e->args[i].val);
  return n;
}

// Buffers (batch norm's running statistics) are state, not parameters:
// listed apart, after the totals, and only when the model has some.
static void buffers_print(FILE *out, const Graph *g) {
  int64_t total = 0;
  char s[64], c[32];
  for (int i = 0; i < g->nparams; i++) {
    const Param *p = &g->params[i];
    if (!p->buffer)
      continue;
    if (total == 0)
      fprintf(out, "\nbuffers (running statistics: saved in checkpoints, not trained)\n");
    fprintf(out, "  %-40s %-16s %12s\n", p->name, shape_str(p->shape, s), fmt_count(shape_numel(p->shape), c));
    total += shape_numel(p->shape);
  }
  if (total > 0)
    fprintf(out, "Total buffers: %s\n", fmt_count(total, c));
}

void summary_print(FILE *out, const Unit *u, const Graph *g) {
  const Model *m = u->model;
  char s1[64], s2[64], c1[32], c2[32], c3[32];
  fprintf(out, "model %s (%s)\n", m->name.str, u->files[0]->path);
  int ncalls = 0;
  for (int i = 0; i < m->nstmts; i++)
    ncalls += count_calls(m->stmts[i].expr);
  Inst *seen = xcalloc((size_t)ncalls + 1, sizeof *seen);
  int nseen = 0;
  for (int i = 0; i < m->nstmts; i++)
    calls(m->stmts[i].expr, seen, &nseen);
  for (int i = 0; i < nseen; i++) {
    const Net *n = seen[i].net;
    fprintf(out, "\nnet %s", n->name.str);
    if (strcmp(seen[i].pname, n->name.str))
      fprintf(out, " as %s", seen[i].pname);
    fprintf(out, ": %s", shape_str(n->ins[0], s1));
    for (int j = 1; j < n->nin; j++)
      fprintf(out, ", %s", shape_str(n->ins[j], s1));
    fprintf(out, " -> %s%s", shape_str(n->out, s2), n->frozen ? " (frozen)" : "");
    if (seen[i].uses > 1)
      fprintf(out, " (tied: %d applications share it)", seen[i].uses);
    fprintf(out, "\n  %-28s %-12s %-16s %12s\n", "layer", "op", "output shape", "params");
    rows(out, n, seen[i].pname, n->frozen);
    fprintf(out, "  %-28s %-12s %-16s %12s\n", "total", "", "", fmt_count(n->nparams, c1));
  }
  int64_t total = 0, frozen = 0;
  for (int i = 0; i < g->nparams; i++) {
    if (g->params[i].buffer)
      continue;
    int64_t k = shape_numel(g->params[i].shape);
    total += k;
    if (g->params[i].frozen)
      frozen += k;
  }
  fprintf(out, "\nTotal params: %s\nTrainable params: %s\nFrozen params: %s\n", fmt_count(total, c1),
          fmt_count(total - frozen, c2), fmt_count(frozen, c3));
  buffers_print(out, g);
}
