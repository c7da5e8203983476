// ir.c — building and printing the graph (see ir.h).
#include "ir.h"

#include "ops.h"

#include <stdlib.h>
#include <string.h>

const char *ir_op_name(OpKind op) { return op_def(op)->name; }

Graph *ir_new(const char *model, const char *path) {
  Graph *g = xcalloc(1, sizeof *g);
  g->model = model;
  g->path = path;
  g->input = g->label = g->loss = -1;
  return g;
}

int ir_add(Graph *g, OpKind op, const int *in, int nin, Shape shape, bool batched, SrcLoc loc) {
  g->nodes = xpush(g->nodes, g->nnodes, sizeof(Node));
  Node *n = &g->nodes[g->nnodes];
  n->id = g->nnodes;
  n->op = op;
  n->nin = nin;
  for (int i = 0; i < nin; i++)
    n->in[i] = in[i];
  n->shape = shape;
  n->batched = batched;
  n->param = -1;
  n->loc = loc;
  return g->nnodes++;
}

int ir_add_param(Graph *g, const char *name, Shape shape, bool frozen, int fan_in, SrcLoc loc) {
  g->params = xpush(g->params, g->nparams, sizeof(Param));
  int p = g->nparams++;
  int node = ir_add(g, OP_PARAM, NULL, 0, shape, false, loc);
  g->nodes[node].param = p;
  g->nodes[node].name = name;
  g->params[p] = (Param){.name = name, .shape = shape, .frozen = frozen,
                         .fan_in = fan_in, .node = node, .grad = -1};
  return node;
}

void ir_export(Graph *g, const char *name, int node) {
  g->exports = xpush(g->exports, g->nexports, sizeof(Export));
  g->exports[g->nexports++] = (Export){.name = name, .node = node};
}

int ir_class_output(const Graph *g) {
  for (int i = 0; i < g->nforward; i++) {
    const Node *n = &g->nodes[i];
    if (!(op_def(n->op)->flags & OPF_CLASS_LOSS))
      continue;
    for (int e = 0; e < g->nexports; e++)
      if (g->exports[e].node == n->in[0])
        return e;
  }
  return -1;
}

int64_t shape_numel(Shape s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++)
    n *= s.dim[i];
  return n;
}

bool shape_eq(Shape a, Shape b) {
  if (a.rank != b.rank)
    return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dim[i] != b.dim[i])
      return false;
  return true;
}

Shape shape_make(int rank, const int *dim) {
  Shape s = {.rank = rank};
  for (int i = 0; i < rank; i++)
    s.dim[i] = dim[i];
  return s;
}

Shape shape_scalar(void) { return (Shape){0}; }

char *shape_str(Shape s, char *buf) {
  char *p = buf;
  p += sprintf(p, "[");
  for (int i = 0; i < s.rank; i++)
    p += sprintf(p, "%s%d", i ? ", " : "", s.dim[i]);
  sprintf(p, "]");
  return buf;
}

void ir_print(FILE *out, const Graph *g) {
  char buf[64];
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    if (i == g->nforward && g->nforward < g->nnodes)
      fprintf(out, "# backward\n");
    fprintf(out, "%%%d = %s(", n->id, ir_op_name(n->op));
    for (int j = 0; j < n->nin; j++)
      fprintf(out, "%s%%%d", j ? ", " : "", n->in[j]);
    fprintf(out, ")");
    if (op_def(n->op)->print_attrs)
      op_def(n->op)->print_attrs(out, n);
    fprintf(out, " : %s%s", n->batched ? "" : "param ", shape_str(n->shape, buf));
    if (n->name)
      fprintf(out, "  %s", n->name);
    if (n->loc.line)
      fprintf(out, "  # %s:%d", n->loc.file, n->loc.line);
    fprintf(out, "\n");
  }
}
