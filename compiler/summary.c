// summary.c — `netc summary`: a table per net the model calls (layer,
// op, output shape, parameters), like a Keras / torchinfo summary, then
// the model's totals.  Per-net counts come from check.c; the totals from
// the lowered graph's parameters, so the two are computed independently.
#include <string.h>

#include "netc.h"

static void rows(FILE *out, const Net *n, const char *prefix, bool frozen) {
  char shape[64], count[32], name[256];
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->pname)
      snprintf(name, sizeof name, "%s_%s", prefix, l->pname);
    if (l->net) {
      rows(out, l->net, name, frozen || l->net->frozen);
      continue;
    }
    fprintf(out, "  %-28s %-12s %-16s %12s%s\n", l->pname ? name : "", l->name.str, shape_str(l->out, shape),
            fmt_count(l->nparams, count), frozen && l->nparams ? "  frozen" : "");
  }
}

// The nets called by e, innermost first (in evaluation order), once each.
static void calls(const Expr *e, const Net **seen, int *nseen) {
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
  if (!e->net)
    return;
  for (int j = 0; j < *nseen; j++)
    if (seen[j] == e->net)
      return;
  seen[(*nseen)++] = e->net;
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
  const Net **seen = xcalloc((size_t)u->nnets + 1, sizeof *seen);
  int nseen = 0;
  for (int i = 0; i < m->nstmts; i++)
    calls(m->stmts[i].expr, seen, &nseen);
  for (int i = 0; i < nseen; i++) {
    const Net *n = seen[i];
    fprintf(out, "\nnet %s: %s -> %s%s\n", n->name.str, shape_str(n->in, s1), shape_str(n->out, s2),
            n->frozen ? " (frozen)" : "");
    fprintf(out, "  %-28s %-12s %-16s %12s\n", "layer", "op", "output shape", "params");
    rows(out, n, n->name.str, n->frozen);
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
