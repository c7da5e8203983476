// table.c — the op table (ops.h): the rows of every family file collected
// from ops.def, the builtins' lookup, the table's completeness check, and
// ops_verify, which runs every node through its row's shape rule.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"
#include "ops.h"

#define OP(id) extern const OpDef op_def_##id;
#include "ops.def"
#undef OP

const OpDef *const op_table[OP_COUNT] = {
#define OP(id) [OP_##id] = &op_def_##id,
#include "ops.def"
#undef OP
};

const OpInfo *op_lookup(const char *name) {
  for (int op = 0; op < OP_COUNT; op++)
    for (int j = 0; j < 2; j++) {
      const OpInfo *o = &op_table[op]->surface[j];
      if (o->name && !strcmp(o->name, name))
        return o;
    }
  return NULL;
}

void op_each_builtin(void (*fn)(const OpInfo *o, void *user), void *user) {
  for (int op = 0; op < OP_COUNT; op++)
    for (int j = 0; j < 2; j++)
      if (op_table[op]->surface[j].name)
        fn(&op_table[op]->surface[j], user);
}

void *interp_alloc(size_t floats) {
  void *p = malloc((floats ? floats : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "netc run: out of memory (%zu floats)\n", floats);
    exit(2);
  }
  return p;
}

// ---- Shape rules' helpers ----

bool shape_error(ShapeCx *cx, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cx->report(cx, msg);
  return false;
}

bool shape_fits(ShapeCx *cx, Shape s, const char *what) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++) {
    n *= s.dim[i];
    if (n > MAX_NUMEL) {
      char buf[64];
      return shape_error(cx, "%s %s is too large (more than %d elements)", what, shape_str(s, buf), MAX_NUMEL);
    }
  }
  return true;
}

// ---- The table's own check ----

static bool row_problem(int op, const char *what) {
  fprintf(stderr, "netc: internal error: op table row %d (%s): %s\n", op,
          op_table[op] && op_table[op]->name ? op_table[op]->name : "?", what);
  return false;
}

static bool check_surface(int op, const OpInfo *o) {
  if (o->ir != (OpKind)op)
    return row_problem(op, "a surface form names another op");
  if (o->nattrs < 0 || o->nattrs > MAX_ATTRS || o->ninputs < 0 || o->ninputs > IR_MAX_IN)
    return row_problem(op, "a surface form's attribute or input count is out of range");
  if (o->chain && o->ninputs != 1)
    return row_problem(op, "a chainable form must take one tensor input");
  if (o->ninputs > op_table[op]->arity)
    return row_problem(op, "a surface form takes more inputs than the op");
  if ((op_table[op]->flags & OPF_VARIADIC) && (o->ninputs < 2 || o->chain))
    return row_problem(op, "a variadic form takes 2 or more inputs, in expressions only");
  for (int i = 0; i < o->nattrs; i++) {
    const AttrSpec *a = &o->attrs[i];
    if (!a->name)
      return row_problem(op, "an attribute has no name");
    if (a->type == A_DIMS && o->nattrs != 1)
      return row_problem(op, "a shape argument must be the form's only attribute");
    if (a->type != A_DIMS && a->offset + sizeof(int) > sizeof(Attrs))
      return row_problem(op, "an attribute's offset is outside Attrs");
    if ((a->type == A_PAIR_POS || a->type == A_PAIR_NONNEG) &&
        (!a->offset2 || a->offset2 + sizeof(int) > sizeof(Attrs)))
      return row_problem(op, "a pair attribute's second offset is outside Attrs");
  }
  return true;
}

bool ops_check_table(void) {
  for (int op = 0; op < OP_COUNT; op++) {
    const OpDef *d = op_table[op];
    if (!d || !d->name)
      return row_problem(op, "no row");
    if (!d->shape)
      return row_problem(op, "no shape rule");
    if (!d->kernel && op != OP_PARAM)   // parameters are read in place
      return row_problem(op, "no interpreter kernel");
    if (!d->emit && !(d->flags & (OPF_ALIAS | OPF_NOCODE)))
      return row_problem(op, "no emitter");
    if (d->arity < 0 || d->arity > IR_MAX_IN)
      return row_problem(op, "arity out of range");
    if ((d->flags & OPF_LAYER) && (!d->prefix || d->arity < 3))
      return row_problem(op, "a layer needs an auto-name prefix and (x, w, b) (batch norm: (x, stats, w, b))");
    if (d->act && !d->act_name)
      return row_problem(op, "an epilogue activation needs its name");
    if ((d->flags & (OPF_BWD_CHUNK | OPF_BWD_OVERWRITE)) && !(d->flags & OPF_LAYER_BWD))
      return row_problem(op, "a backward group's flags without OPF_LAYER_BWD");
    if ((d->flags & (OPF_EW_PRODUCT | OPF_EW_PASS) || d->ew_addsub) && !(d->flags & OPF_EW))
      return row_problem(op, "element-wise facts without OPF_EW");
    if (d->ew_addsub >> d->arity)
      return row_problem(op, "ew_addsub names an input beyond the arity");
    if (d->fold && d->arity != 1)
      return row_problem(op, "only a unary op folds a constant");
    for (int j = 0; j < 2; j++)
      if (d->surface[j].name && !check_surface(op, &d->surface[j]))
        return false;
  }
  return true;
}

// ---- Verification of a graph ----

// The verifier's reporter: the reason into the caller's 256-byte buffer.
static void to_string(ShapeCx *cx, const char *msg) { snprintf(cx->user, 256, "%s", msg); }

#define FAIL(...) do { snprintf(err, 256, __VA_ARGS__); return false; } while (0)

bool op_node_shape(const Graph *g, const Node *n, Shape *out, char *err) {
  const OpDef *d = op_def(n->op);
  // A layer without bias (bias=false) has (x, w); concat 2 to arity inputs.
  if ((d->flags & OPF_VARIADIC) ? n->nin < 2 || n->nin > d->arity
                                : n->nin != d->arity && !((d->flags & OPF_LAYER) && n->nin == d->arity - 1))
    FAIL("%s takes %d inputs, has %d", d->name, d->arity, n->nin);
  Shape in[IR_MAX_IN];
  for (int j = 0; j < n->nin; j++) {
    if (n->in[j] < 0 || n->in[j] >= n->id)
      FAIL("input %d (%%%d) is not an earlier node", j, n->in[j]);
    in[j] = g->nodes[n->in[j]].shape;
  }
  ShapeCx cx = {.op = d->name, .in = in, .nin = n->nin, .attr = &n->attr, .self = n->shape,
                .report = to_string, .user = err};
  return d->shape(&cx, out);
}

static bool verify_node(const Graph *g, const Node *n, char *err) {
  const OpDef *d = op_def(n->op);
  Shape s;
  if (!op_node_shape(g, n, &s, err))
    return false;
  bool any_batched = false;
  for (int j = 0; j < n->nin; j++)
    any_batched |= g->nodes[n->in[j]].batched;
  char a[64], b[64];
  if (!shape_eq(s, n->shape))
    FAIL("shape %s, but the rule gives %s", shape_str(n->shape, a), shape_str(s, b));
  bool unbatched = d->flags & OPF_UNBATCHED;
  if (n->nin > 0 && n->batched != (any_batched && !unbatched))
    FAIL("batched flag is %d, expected %d", n->batched, any_batched && !unbatched);
  if (n->op == OP_SUM_BATCH && !g->nodes[n->in[0]].batched)
    FAIL("sum_batch of an unbatched value");
  return true;
}

bool ops_verify(const Graph *g) {
  char err[256];
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    if (!verify_node(g, n, err)) {
      diag_error_src(n->loc, "IR check: %%%d = %s: %s", n->id, ir_op_name(n->op), err);
      return false;
    }
  }
  return true;
}
