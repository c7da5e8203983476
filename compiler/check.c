// check.c — names, constants and shapes.
//
// Resolves every name (constants, nets, model values, builtin ops),
// evaluates constants (with -D overrides), reads builtin ops' arguments by
// their attribute schemas and infers the shape of every layer and
// expression with the op table's rules (PyTorch's), and counts parameters.  Results are
// written into the AST for lower.c, dump and summary.  Every error is
// reported; a layer or expression whose input is already wrong is not
// checked again (its shape is unknown), so one mistake gives one message.
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

// Attribute values are at most this (a kernel size of 16M is no model).
#define MAX_ATTR (1 << 24)
// A net applying nets that apply nets can expand exponentially; bound the
// expanded size (lower.c inlines every application).
#define MAX_EXPANDED 100000

// The builtins and their attribute schemas are the op table's (ops.h):
// an attribute is stored where its AttrSpec says.
static void set_attr(const OpInfo *o, int i, double v, Attrs *a) {
  const AttrSpec *s = &o->attrs[i];
  if (s->type == A_REAL)
    *(float *)((char *)a + s->offset) = (float)v;
  else if (s->type != A_DIMS)
    *(int *)((char *)a + s->offset) = (int)v;
}

static bool has_params(const OpInfo *o) { return op_def(o->ir)->flags & OPF_LAYER; }

// ---- Names ----

typedef struct {
  Unit *u;
  Model *m;                  // while checking the model
  int nstmt;                 // statements of m checked so far (names bound)
  int64_t expanded;          // layers the model's net calls expand to
} Ctx;

Net *unit_net(const Unit *u, const char *name) {
  for (int i = 0; i < u->nnets; i++)
    if (!strcmp(u->nets[i].name.str, name))
      return &u->nets[i];
  return NULL;
}

Const *unit_const_def(const Unit *u, const char *name) {
  for (int i = 0; i < u->nconsts; i++)
    if (!strcmp(u->consts[i].name.str, name))
      return &u->consts[i];
  return NULL;
}

double unit_const(const Unit *u, const char *name) {
  Const *c = unit_const_def(u, name);
  return c && c->state == EVAL_DONE ? c->value : NAN;
}

// A model value (input or `name = ...`) bound before statement `upto`.
static Stmt *model_value(Model *m, const char *name, int upto) {
  for (int i = 0; i < upto && i < m->nstmts; i++) {
    Stmt *s = &m->stmts[i];
    if ((s->kind == S_INPUT || s->kind == S_LET) && !strcmp(s->name.str, name))
      return s;
  }
  return NULL;
}

static const char *kind_of(Ctx *c, const char *name) {
  if (unit_const_def(c->u, name)) return "a constant";
  if (unit_net(c->u, name)) return "a net";
  if (op_lookup(name)) return "a builtin op";
  return NULL;
}

// Edit distance, for "did you mean" hints.
static int distance(const char *a, const char *b) {
  int n = (int)strlen(a), m = (int)strlen(b);
  if (n > 32 || m > 32)
    return 99;
  int d[33][33];
  for (int i = 0; i <= n; i++)
    d[i][0] = i;
  for (int j = 0; j <= m; j++)
    d[0][j] = j;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

typedef struct {
  const char *name;
  const char **best;
  int *bd;
} Hint;

static void hint_builtin(const OpInfo *o, void *user) {
  Hint *h = user;
  int d = distance(h->name, o->name);
  if (d < *h->bd) *h->bd = d, *h->best = o->name;
}

// "; did you mean 'relu'?" when an op or net is spelled almost like name.
static const char *hint(Ctx *c, const char *name, char *buf, size_t n) {
  const char *best = NULL;
  int bd = 3;
  Hint h = {name, &best, &bd};
  op_each_builtin(hint_builtin, &h);
  for (int i = 0; i < c->u->nnets; i++) {
    int d = distance(name, c->u->nets[i].name.str);
    if (d < bd) bd = d, best = c->u->nets[i].name.str;
  }
  if (best && bd <= (int)strlen(name) / 2)
    snprintf(buf, n, "; did you mean '%s'?", best);
  else
    buf[0] = 0;
  return buf;
}

// ---- Constants ----

static bool eval_const(Ctx *c, Const *k);

static const char *op_verb(char op) {
  return op == '+' ? "add" : op == '-' ? "subtract" : op == '*' ? "multiply" : "divide";
}

static double fold(char op, double a, double b) {
  return op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
}

// Evaluates a constant expression (numbers, constants, + - * /).
static bool const_eval(Ctx *c, Expr *e, double *out) {
  switch (e->kind) {
  case E_NUM:
    *out = e->value;
    return true;
  case E_NAME: {
    Const *k = unit_const_def(c->u, e->tok.str);
    if (k) {
      if (!eval_const(c, k))
        return false;
      *out = k->value;
      return true;
    }
    const char *what = kind_of(c, e->tok.str);
    if (!what && c->m && model_value(c->m, e->tok.str, c->m->nstmts))
      what = "a model value";
    if (what)
      diag_error(e->tok.loc, "'%s' is %s, not a constant", e->tok.str, what);
    else
      diag_error(e->tok.loc, "undefined name '%s'", e->tok.str);
    return false;
  }
  case E_NEG:
    if (!const_eval(c, e->lhs, out))
      return false;
    *out = -*out;
    return true;
  case E_BINARY: {
    double a, b;
    bool ok = const_eval(c, e->lhs, &a);
    ok = const_eval(c, e->rhs, &b) && ok;
    if (!ok)
      return false;
    if (e->op == '/' && b == 0) {
      diag_error(e->tok.loc, "division by zero in a constant expression");
      return false;
    }
    *out = fold(e->op, a, b);
    if (!isfinite(*out)) {
      diag_error(e->tok.loc, "constant expression overflows");
      return false;
    }
    return true;
  }
  case E_CALL:
    diag_error(e->tok.loc, "a call cannot be a constant: '%s(...)'", e->tok.str);
    return false;
  case E_SHAPE:
    diag_error(e->tok.loc, "a shape cannot be a constant");
    return false;
  }
  return false;
}

static bool eval_const(Ctx *c, Const *k) {
  if (k->state == EVAL_DONE)
    return true;
  if (k->state == EVAL_FAILED)
    return false;
  if (k->state == EVAL_BUSY) {
    diag_error(k->name.loc, "constant '%s' is defined in terms of itself", k->name.str);
    k->state = EVAL_FAILED;
    return false;
  }
  if (k->def) {
    k->value = k->def->value;
    k->state = EVAL_DONE;
    return true;
  }
  k->state = EVAL_BUSY;
  double v;
  bool ok = const_eval(c, k->val, &v);
  if (k->state == EVAL_FAILED)
    return false;
  k->value = v;
  k->state = ok ? EVAL_DONE : EVAL_FAILED;
  return ok;
}

// If e is a constant set by -D, say so (the value's origin is not in the file).
static void note_define(Ctx *c, Expr *e) {
  if (e->kind != E_NAME)
    return;
  Const *k = unit_const_def(c->u, e->tok.str);
  if (k && k->def)
    diag_note((Loc){0}, "'%s' is set by -D %s", k->name.str, k->def->text);
}

// A constant integer in [lo, MAX_ATTR] (or MAX_NUMEL for dimensions).
static bool const_int(Ctx *c, Expr *e, const char *what, int lo, int64_t hi, int *out) {
  double v;
  if (!const_eval(c, e, &v))
    return false;
  if (v != floor(v) || v < lo || v > (double)hi) {
    char num[64];
    snprintf(num, sizeof num, "%.6g", v);
    if (v != floor(v) || v < lo)
      diag_error(e->tok.loc, "%s must be %s integer, got %s", what,
                 lo > 0 ? "a positive" : "a non-negative", num);
    else
      diag_error(e->tok.loc, "%s is too large: %s (at most %lld)", what, num, (long long)hi);
    note_define(c, e);
    return false;
  }
  *out = (int)v;
  return true;
}

// Shapes: rank <= IR_MAX_RANK, dimensions >= 1, element count fits an int.
static bool dims_fit(Shape s, Loc loc, const char *what) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++) {
    n *= s.dim[i];
    if (n > MAX_NUMEL) {
      char buf[64];
      diag_error(loc, "%s %s is too large (more than %d elements)", what, shape_str(s, buf), MAX_NUMEL);
      return false;
    }
  }
  return true;
}

static bool eval_dims(Ctx *c, Expr **dims, int n, Loc loc, Shape *out) {
  if (n > IR_MAX_RANK) {
    diag_error(loc, "a tensor has at most %d dimensions, this shape has %d", IR_MAX_RANK, n);
    return false;
  }
  bool ok = true;
  Shape s = {.rank = n};
  for (int i = 0; i < n; i++)
    ok = const_int(c, dims[i], "a dimension", 1, MAX_NUMEL, &s.dim[i]) && ok;
  if (ok && !dims_fit(s, loc, "shape"))
    ok = false;
  *out = s;
  return ok;
}

// Constants become floats in the graph.
static bool fits_float(Expr *e, double v) {
  if (fabs(v) <= FLT_MAX)
    return true;
  diag_error(e->tok.loc, "%g is too large for a float", v);
  return false;
}

// ---- Op arguments ----

// What op_args gathers from one call's arguments: which attributes were
// given, and for a shape-taking op (reshape, normal) its dimensions.
typedef struct {
  bool seen[MAX_ATTRS];
  Expr *dimv[IR_MAX_RANK + 8];
  int ndims;
  bool dims_shape;           // given as one [..] shape
  Loc dims_loc;
} ArgState;

static bool takes_dims(const OpInfo *o) { return o->nattrs == 1 && o->attrs[0].type == A_DIMS; }

// The attribute keyword argument a names, or -1 (reported).
static int keyword_slot(const OpInfo *o, const Arg *a) {
  int slot;
  for (slot = 0; slot < o->nattrs && strcmp(o->attrs[slot].name, a->key.str); slot++)
    ;
  if (slot < o->nattrs && o->attrs[slot].type != A_DIMS)
    return slot;
  char list[128] = "";
  for (int j = 0; j < o->nattrs; j++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", o->attrs[j].name);
  if (o->nattrs && o->attrs[0].type != A_DIMS)
    diag_error(a->key.loc, "%s has no argument '%s' (its arguments: %s)", o->name, a->key.str, list);
  else
    diag_error(a->key.loc, "%s takes no keyword arguments", o->name);
  return -1;
}

// A positional argument of a shape-taking op: reshape(32, 3, 3), normal([9]).
static bool dims_arg(const OpInfo *o, ArgState *st, Expr *v) {
  bool ok = true;
  if (v->kind == E_SHAPE) {
    if (st->ndims || st->dims_shape) {
      diag_error(v->tok.loc, "%s takes one shape", o->name);
      return false;
    }
    st->dims_shape = true;
    st->dims_loc = v->tok.loc;
    for (int j = 0; j < v->ndims && st->ndims < IR_MAX_RANK + 8; j++)
      st->dimv[st->ndims++] = v->dims[j];
    if (v->ndims > IR_MAX_RANK + 8)
      st->ndims = IR_MAX_RANK + 8;
  } else if (st->dims_shape) {
    diag_error(v->tok.loc, "%s takes one shape", o->name);
    ok = false;
  } else if (st->ndims < IR_MAX_RANK + 8) {
    if (!st->ndims)
      st->dims_loc = v->tok.loc;
    st->dimv[st->ndims++] = v;
  }
  st->seen[0] = true;
  return ok;
}

// Evaluates the value of attribute slot into attr, by its type's rules.
static bool attr_value(Ctx *c, const OpInfo *o, int slot, Expr *val, Attrs *attr) {
  char what[64];
  snprintf(what, sizeof what, "%s's %s", o->name, o->attrs[slot].name);
  double v;
  int iv;
  switch (o->attrs[slot].type) {
  case A_INT_POS:
  case A_INT_NONNEG:
    if (!const_int(c, val, what, o->attrs[slot].type == A_INT_POS ? 1 : 0, MAX_ATTR, &iv))
      return false;
    set_attr(o, slot, iv, attr);
    return true;
  case A_REAL:
    if (!const_eval(c, val, &v) || !fits_float(val, v))
      return false;
    set_attr(o, slot, v, attr);
    return true;
  case A_DIMS:
    break;
  }
  return true;
}

// Attributes not given: an error when required (unless an argument was
// already bad: likely a misspelling of it), else their defaults.
static bool attr_defaults(const OpInfo *o, const ArgState *st, bool ok, const Token *name, Attrs *attr) {
  for (int i = 0; i < o->nattrs; i++) {
    if (st->seen[i])
      continue;
    if (o->attrs[i].required && ok) {
      if (o->attrs[i].type == A_DIMS)
        diag_error(name->loc, "%s needs a shape, e.g. %s(32, 3, 3)", o->name, o->name);
      else
        diag_error(name->loc, "%s needs argument '%s'", o->name, o->attrs[i].name);
      ok = false;
    } else if (o->attrs[i].required) {
      ok = false;
    } else {
      set_attr(o, i, o->attrs[i].dflt, attr);
    }
  }
  return ok;
}

// Arguments of a builtin op, by its attribute schema (the op table's).  In
// a net line the running value is the implicit input (ntensor = 0); in an
// expression the first ntensor positional arguments are the inputs,
// returned in tensors[].
static bool op_args(Ctx *c, const OpInfo *o, Token *name, Arg *args, int nargs, int ntensor,
                    Expr **tensors, Attrs *attr, Shape *dims) {
  bool ok = true, keyword = false;
  int npos = 0;
  ArgState st = {.dims_loc = name->loc};
  for (int i = 0; i < nargs; i++) {
    Arg *a = &args[i];
    int slot;
    if (a->key.kind == TK_IDENT) {
      keyword = true;
      if ((slot = keyword_slot(o, a)) < 0) {
        ok = false;
        continue;
      }
    } else {
      if (keyword) {
        diag_error(a->val->tok.loc, "positional argument after a keyword argument");
        ok = false;
        continue;
      }
      int pos = npos++;
      if (pos < ntensor) {
        tensors[pos] = a->val;
        continue;
      }
      if (takes_dims(o)) {
        ok = dims_arg(o, &st, a->val) && ok;
        continue;
      }
      slot = pos - ntensor;
      if (slot >= o->nattrs) {
        if (o->nattrs + ntensor == 0)
          diag_error(a->val->tok.loc, "%s takes no arguments", o->name);
        else
          diag_error(a->val->tok.loc, "%s takes at most %d argument%s", o->name, o->nattrs + ntensor,
                     o->nattrs + ntensor == 1 ? "" : "s");
        ok = false;
        continue;
      }
    }
    if (st.seen[slot]) {
      diag_error(a->key.kind == TK_IDENT ? a->key.loc : a->val->tok.loc, "%s: argument '%s' is given twice",
                 o->name, o->attrs[slot].name);
      ok = false;
      continue;
    }
    st.seen[slot] = true;
    ok = attr_value(c, o, slot, a->val, attr) && ok;
  }
  if (npos < ntensor) {
    diag_error(name->loc, "%s expects %d input%s, got %d", o->name, ntensor, ntensor == 1 ? "" : "s", npos);
    ok = false;
  }
  ok = attr_defaults(o, &st, ok, name, attr);
  if (ok && takes_dims(o))
    ok = eval_dims(c, st.dimv, st.ndims, st.dims_loc, dims);
  return ok;
}

// ---- Shape rules (the op table's, reported here with a caret) ----

static void report_at(ShapeCx *cx, const char *msg) { diag_error(*(Loc *)cx->user, "%s", msg); }

// The output shape of builtin o on the data inputs in[] (and its weight and
// bias shapes when it is a layer); reports at loc.
static bool builtin_shape(const OpInfo *o, const Attrs *a, Shape dims, const Shape *in, int nin, Loc loc,
                          Shape *out, Shape *w, Shape *b) {
  ShapeCx cx = {.op = o->name, .in = in, .nin = nin, .attr = a, .self = dims, .report = report_at,
                .user = &loc};
  if (!op_def(o->ir)->shape(&cx, out))
    return false;
  *w = cx.param[0];
  *b = cx.param[1];
  return true;
}

// ---- Nets ----

static void check_net(Ctx *c, Net *n);

// The n-th layer of a kind in a net is PREFIXn (conv1, conv2, dense1);
// counts[op] is per op kind.
static const char *auto_name(const OpInfo *o, int *counts) {
  char buf[32];
  snprintf(buf, sizeof buf, "%s%d", op_def(o->ir)->prefix, ++counts[o->ir]);
  return strdup(buf);
}

static bool check_layer(Ctx *c, Net *n, Layer *l, Shape cur, bool cur_ok, int *counts) {
  l->in = cur;
  l->ok = false;
  const char *nm = l->name.str;
  l->opi = op_lookup(nm);
  l->net = l->opi ? NULL : unit_net(c->u, nm);
  if (l->opi) {
    const OpInfo *o = l->opi;
    if (has_params(o))
      l->pname = auto_name(o, counts);
    if (!o->chain) {
      if (op_def(o->ir)->flags & OPF_VARIADIC)
        diag_error(l->name.loc, "%s takes 2 to %d inputs, so it cannot be a layer; use it in the model", nm,
                   o->ninputs);
      else
        diag_error(l->name.loc, "%s takes %d inputs, so it cannot be a layer; use it in the model", nm, o->ninputs);
      return false;
    }
    Shape dims = {0};
    if (!op_args(c, o, &l->name, l->args, l->nargs, 0, NULL, &l->attr, &dims))
      return false;
    if (l->label.kind == TK_IDENT && !has_params(o)) {
      diag_error(l->label.loc, "only layers with parameters (conv2d, deconv2d, dense) or nets take a label");
      return false;
    }
    if (has_params(o) && l->label.kind == TK_IDENT)
      l->pname = l->label.str;
    if (!cur_ok)
      return false;
    if (!builtin_shape(o, &l->attr, dims, &cur, 1, l->name.loc, &l->out, &l->wshape, &l->bshape))
      return false;
    l->nparams = has_params(o) ? shape_numel(l->wshape) + shape_numel(l->bshape) : 0;
    l->ok = true;
    return true;
  }
  if (l->net) {
    Net *callee = l->net;
    l->pname = l->label.kind == TK_IDENT ? l->label.str : callee->name.str;
    if (l->has_args) {
      diag_error(l->name.loc, "net '%s' takes no arguments in a net line: it is applied to the running value", nm);
      return false;
    }
    if (callee->state == EVAL_BUSY) {
      diag_error(l->name.loc, "net '%s' uses itself (through net '%s')", nm, n->name.str);
      return false;
    }
    check_net(c, callee);
    l->nparams = callee->nparams;
    if (!cur_ok || !callee->shapes_ok)
      return false;
    if (!shape_eq(cur, callee->in)) {
      char s1[64], s2[64];
      diag_error(l->name.loc, "net '%s' expects %s, got %s", nm, shape_str(callee->in, s1), shape_str(cur, s2));
      return false;
    }
    l->out = callee->out;
    l->ok = true;
    return true;
  }
  if (unit_const_def(c->u, nm)) {
    diag_error(l->name.loc, "'%s' is a constant, not a layer", nm);
  } else {
    char h[96];
    diag_error(l->name.loc, "unknown layer '%s' (not a builtin op or a net)%s", nm, hint(c, nm, h, sizeof h));
  }
  return false;
}

static void check_net(Ctx *c, Net *n) {
  if (n->state != EVAL_TODO)
    return;
  n->state = EVAL_BUSY;
  bool in_ok = eval_dims(c, n->in_lit.dims, n->in_lit.ndims, n->in_lit.tok.loc, &n->in);
  bool out_ok = eval_dims(c, n->out_lit.dims, n->out_lit.ndims, n->out_lit.tok.loc, &n->out);
  n->shapes_ok = in_ok && out_ok;
  Shape cur = n->in;
  bool ok = in_ok;
  int counts[OP_COUNT] = {0};
  n->nparams = 0;
  for (int i = 0; i < n->nlayers; i++) {
    Layer *l = &n->layers[i];
    ok = check_layer(c, n, l, cur, ok, counts);
    cur = l->out;
    int64_t add = l->net ? l->net->size : 1;
    if (n->size > MAX_EXPANDED || add > MAX_EXPANDED) {   // reported already
      n->size = MAX_EXPANDED + 1;
      ok = false;
    } else {
      n->nparams += l->nparams;
      n->size += add;
      if (n->size > MAX_EXPANDED) {
        diag_error(l->name.loc, "net '%s' expands to more than %d layers", n->name.str, MAX_EXPANDED);
        ok = false;
      }
    }
    for (int j = 0; j < i && l->pname; j++) {
      if (n->layers[j].pname && !strcmp(n->layers[j].pname, l->pname)) {
        diag_error(l->label.kind == TK_IDENT ? l->label.loc : l->name.loc,
                   "net '%s' has two layers named '%s'; their parameters would clash", n->name.str, l->pname);
        diag_note(n->layers[j].label.kind == TK_IDENT ? n->layers[j].label.loc : n->layers[j].name.loc,
                  "the first '%s' is here", l->pname);
        break;
      }
    }
  }
  if (ok && out_ok && !shape_eq(cur, n->out)) {
    char s1[64], s2[64];
    diag_error(n->out_lit.tok.loc, "net '%s' declares output %s but its body produces %s", n->name.str,
               shape_str(n->out, s1), shape_str(cur, s2));
  }
  n->state = EVAL_DONE;
}

// ---- Model expressions ----

static void check_expr(Ctx *c, Expr *e);

static void mark_used(Net *n) {
  if (n->used)
    return;
  n->used = true;
  for (int i = 0; i < n->nlayers; i++)
    if (n->layers[i].net)
      mark_used(n->layers[i].net);
}

// A tensor operand: constants and labels are errors here.
static bool want_tensor(Expr *e, const char *who) {
  if (e->vk == V_TENSOR)
    return true;
  if (e->vk == V_LABEL)
    diag_error(e->tok.loc, "'%s' is a label; only nll can use it", e->tok.str);
  else if (e->vk == V_CONST)
    diag_error(e->tok.loc, "%s expects a tensor, got the constant %g", who, e->value);
  return false;
}

// A call of builtin o in a model expression: its arguments by the op's
// schema, its inputs, and its shape by the op's rule (or a folded constant).
static void check_builtin_call(Ctx *c, Expr *e, const OpInfo *o) {
  const char *nm = e->tok.str;
  e->opi = o;
  if (has_params(o)) {
    diag_error(e->tok.loc, "%s has parameters, so it belongs in a net line, not in the model", nm);
    return;
  }
  Expr *t[IR_MAX_IN] = {0};
  Shape dims = {0};
  int nt = o->ninputs;
  if (op_def(o->ir)->flags & OPF_VARIADIC) {   // concat: its positional arguments, 2 to ninputs
    nt = 0;
    for (int i = 0; i < e->nargs; i++)
      nt += e->args[i].key.kind != TK_IDENT;
    nt = nt < 2 ? 2 : nt > o->ninputs ? o->ninputs : nt;
  }
  bool ok = op_args(c, o, &e->tok, e->args, e->nargs, nt, t, &e->attr, &dims);
  for (int i = 0; i < nt; i++)
    if (t[i])
      check_expr(c, t[i]);
  if (!ok)
    return;
  // exp and log of a constant fold to a constant (the row's fold).
  if (op_def(o->ir)->fold && t[0]->vk == V_CONST) {
    e->vk = V_CONST;
    e->value = op_def(o->ir)->fold(t[0]->value);
    if (!isfinite(e->value)) {
      diag_error(e->tok.loc, "%s(%g) is not a finite number", nm, t[0]->value);
      e->vk = V_ERROR;
    }
    return;
  }
  Shape in[IR_MAX_IN] = {0};
  for (int i = 0; i < nt; i++) {
    if (o->ir == OP_NLL && i == 1) {
      if (t[1]->vk == V_LABEL)
        continue;
      if (t[1]->vk != V_ERROR)
        diag_error(t[1]->tok.loc, "nll's second input must be the label input");
      ok = false;
      continue;
    }
    if (!want_tensor(t[i], nm))
      ok = false;
    else
      in[i] = t[i]->shape;
  }
  if (!ok)
    return;
  Shape w, b;
  if (!builtin_shape(o, &e->attr, dims, in, nt, e->tok.loc, &e->shape, &w, &b))
    return;
  e->vk = V_TENSOR;
}

static void check_call(Ctx *c, Expr *e) {
  const char *nm = e->tok.str;
  Net *n = unit_net(c->u, nm);
  const OpInfo *o = n ? NULL : op_lookup(nm);
  e->vk = V_ERROR;
  if (n) {
    e->net = n;
    for (int i = 0; i < e->nargs; i++)
      check_expr(c, e->args[i].val);
    if (e->nargs != 1 || e->args[0].key.kind == TK_IDENT) {
      diag_error(e->tok.loc, "net '%s' takes one input: %s(x)", nm, nm);
      return;
    }
    mark_used(n);
    c->expanded += n->size;
    if (n->size <= MAX_EXPANDED && c->expanded > MAX_EXPANDED) {
      diag_error(e->tok.loc, "the model's net calls expand to more than %d layers", MAX_EXPANDED);
      c->expanded = INT64_MIN / 2;   // report once
    }
    Expr *x = e->args[0].val;
    if (!want_tensor(x, nm) || !n->shapes_ok)
      return;
    if (!shape_eq(x->shape, n->in)) {
      char s1[64], s2[64];
      diag_error(x->tok.loc, "net '%s' expects %s, got %s", nm, shape_str(n->in, s1), shape_str(x->shape, s2));
      return;
    }
    e->vk = V_TENSOR;
    e->shape = n->out;
    return;
  }
  if (!o) {
    for (int i = 0; i < e->nargs; i++)
      check_expr(c, e->args[i].val);
    const char *what = kind_of(c, nm);
    if (!what && model_value(c->m, nm, c->m->nstmts))
      what = "a model value";
    if (what)
      diag_error(e->tok.loc, "'%s' is %s, not a function", nm, what);
    else {
      char h[96];
      diag_error(e->tok.loc, "unknown function '%s'%s", nm, hint(c, nm, h, sizeof h));
    }
    return;
  }
  check_builtin_call(c, e, o);
}

static void check_binary(Ctx *c, Expr *e) {
  check_expr(c, e->lhs);
  check_expr(c, e->rhs);
  Expr *l = e->lhs, *r = e->rhs;
  e->vk = V_ERROR;
  if (l->vk == V_ERROR || r->vk == V_ERROR)
    return;
  if (l->vk == V_LABEL || r->vk == V_LABEL) {
    Expr *x = l->vk == V_LABEL ? l : r;
    diag_error(x->tok.loc, "'%s' is a label; only nll can use it", x->tok.str);
    return;
  }
  if (l->vk == V_CONST && r->vk == V_CONST) {
    if (e->op == '/' && r->value == 0) {
      diag_error(e->tok.loc, "division by zero");
      return;
    }
    e->vk = V_CONST;
    e->value = fold(e->op, l->value, r->value);
    return;
  }
  if ((l->vk == V_CONST && !fits_float(l, l->value)) || (r->vk == V_CONST && !fits_float(r, r->value)))
    return;
  e->vk = V_TENSOR;
  if (l->vk == V_CONST || (r->vk == V_TENSOR && l->shape.rank == 0)) {
    e->shape = r->shape;
    return;
  }
  if (r->vk == V_CONST || r->shape.rank == 0 || shape_eq(l->shape, r->shape)) {
    e->shape = l->shape;
    return;
  }
  char s1[64], s2[64];
  diag_error(e->tok.loc, "cannot %s %s and %s: shapes must be equal, or one side a scalar", op_verb(e->op),
             shape_str(l->shape, s1), shape_str(r->shape, s2));
  e->vk = V_ERROR;
}

static void check_expr(Ctx *c, Expr *e) {
  e->vk = V_ERROR;
  switch (e->kind) {
  case E_NUM:
    e->vk = V_CONST;
    return;
  case E_NAME: {
    const char *nm = e->tok.str;
    Stmt *s = model_value(c->m, nm, c->nstmt);
    if (s) {
      e->bind = s;
      e->vk = s->vk;
      e->shape = s->shape;
      if (s->vk == V_CONST)
        e->value = s->expr->value;
      return;
    }
    Const *k = unit_const_def(c->u, nm);
    if (k) {
      if (eval_const(c, k)) {
        e->vk = V_CONST;
        e->value = k->value;
      }
      return;
    }
    if (unit_net(c->u, nm))
      diag_error(e->tok.loc, "'%s' is a net; apply it: %s(x)", nm, nm);
    else if (op_lookup(nm))
      diag_error(e->tok.loc, "'%s' is a builtin op; apply it: %s(x)", nm, nm);
    else if ((s = model_value(c->m, nm, c->m->nstmts)))
      diag_error(e->tok.loc, "'%s' is used before it is defined (line %d)", nm, s->name.loc.line);
    else
      diag_error(e->tok.loc, "undefined name '%s'", nm);
    return;
  }
  case E_CALL:
    check_call(c, e);
    return;
  case E_NEG:
    check_expr(c, e->lhs);
    if (e->lhs->vk == V_CONST) {
      e->vk = V_CONST;
      e->value = -e->lhs->value;
    } else if (e->lhs->vk == V_TENSOR) {
      e->vk = V_TENSOR;
      e->shape = e->lhs->shape;
    } else if (e->lhs->vk == V_LABEL) {
      diag_error(e->lhs->tok.loc, "'%s' is a label; only nll can use it", e->lhs->tok.str);
    }
    return;
  case E_BINARY:
    check_binary(c, e);
    return;
  case E_SHAPE:
    diag_error(e->tok.loc, "a shape [...] can only be the argument of normal or reshape");
    return;
  }
}

// ---- The model ----

// A name bound in the model must not hide a constant, net or op.
static void check_fresh(Ctx *c, Stmt *s) {
  const char *nm = s->name.str;
  Stmt *prev = model_value(c->m, nm, c->nstmt);
  const char *what = kind_of(c, nm);
  if (prev) {
    diag_error(s->name.loc, "duplicate name '%s'", nm);
    diag_note(prev->name.loc, "'%s' is first defined here", nm);
  } else if (what) {
    diag_error(s->name.loc, "'%s' is already %s", nm, what);
  }
}

// What a model binds once: its image and label inputs and its loss.
typedef struct {
  Stmt *image, *label, *loss;
} ModelParts;

static void check_input(Ctx *c, Stmt *s, ModelParts *mp) {
  check_fresh(c, s);
  bool is_image = !strcmp(s->type.str, "image");
  if (!is_image && strcmp(s->type.str, "label")) {
    diag_error(s->type.loc, "unknown input type '%s' (expected image or label)", s->type.str);
    return;
  }
  Stmt **slot = is_image ? &mp->image : &mp->label;
  if (*slot) {
    diag_error(s->type.loc, "the model already has %s input", is_image ? "an image" : "a label");
    diag_note((*slot)->name.loc, "'%s' is the first", (*slot)->name.str);
    return;
  }
  *slot = s;
  s->vk = is_image ? V_TENSOR : V_LABEL;
  s->shape = is_image ? shape_make(3, (int[]){1, 28, 28}) : shape_scalar();
}

static void check_loss(Ctx *c, Stmt *s, ModelParts *mp) {
  check_expr(c, s->expr);
  if (mp->loss) {
    diag_error(s->tok.loc, "the model has one loss; this is the second");
    diag_note(mp->loss->tok.loc, "the first is here");
    return;
  }
  mp->loss = s;
  if (s->expr->vk == V_TENSOR && (s->expr->shape.rank != 0)) {
    char buf[64];
    diag_error(s->expr->tok.loc, "the loss must be a scalar per example, got %s (use mean, sum or mse)",
               shape_str(s->expr->shape, buf));
  } else if (s->expr->vk == V_CONST) {
    diag_error(s->expr->tok.loc, "the loss is a constant; it must depend on the model");
  } else if (s->expr->vk == V_LABEL) {
    diag_error(s->expr->tok.loc, "the loss cannot be the label");
  }
}

static void check_stmt(Ctx *c, Stmt *s, ModelParts *mp) {
  s->vk = V_ERROR;
  if (s->broken) {           // a syntax error, reported: bind the name, count the loss
    if (s->kind == S_INPUT || s->kind == S_LET)
      check_fresh(c, s);
    if (s->kind == S_LOSS && !mp->loss)
      mp->loss = s;
    return;
  }
  switch (s->kind) {
  case S_INPUT:
    check_input(c, s, mp);
    break;
  case S_LET:
    check_fresh(c, s);
    check_expr(c, s->expr);
    s->vk = s->expr->vk;
    s->shape = s->expr->shape;
    break;
  case S_LOSS:
    check_loss(c, s, mp);
    break;
  case S_FREEZE:
    for (int i = 0; i < s->nnames; i++) {
      Net *n = unit_net(c->u, s->names[i].str);
      if (!n)
        diag_error(s->names[i].loc, "freeze: '%s' is not a net", s->names[i].str);
      else
        n->frozen = true;
    }
    break;
  case S_EXPORT:
    break;                   // after all names are bound
  }
}

// After every statement: frozen nets the model does not use, and exports,
// which may name any value of the model wherever it is bound.
static void check_exports(Ctx *c, Model *m) {
  for (int i = 0; i < m->nstmts; i++) {
    Stmt *s = &m->stmts[i];
    if (s->kind == S_FREEZE) {
      for (int j = 0; j < s->nnames; j++) {
        Net *n = unit_net(c->u, s->names[j].str);
        if (n && !n->used)
          diag_error(s->names[j].loc, "net '%s' is frozen but model '%s' does not use it", n->name.str, m->name.str);
      }
    }
    if (s->kind != S_EXPORT)
      continue;
    for (int j = 0; j < s->nnames; j++) {
      Token *t = &s->names[j];
      Stmt *v = model_value(m, t->str, m->nstmts);
      if (!v) {
        diag_error(t->loc, "export: '%s' is not a value of the model", t->str);
        continue;
      }
      if (v->vk == V_LABEL || v->vk == V_CONST)
        diag_error(t->loc, "export: '%s' is %s; only tensors can be exported", t->str,
                   v->vk == V_LABEL ? "the label" : "a constant");
      for (int k = 0; k < j; k++)
        if (!strcmp(s->names[k].str, t->str))
          diag_error(t->loc, "'%s' is exported twice", t->str);
    }
  }
}

static void check_model(Ctx *c, Model *m) {
  c->m = m;
  ModelParts mp = {0};
  for (c->nstmt = 0; c->nstmt < m->nstmts; c->nstmt++)
    check_stmt(c, &m->stmts[c->nstmt], &mp);
  check_exports(c, m);
  if (!mp.loss)
    diag_error(m->name.loc, "model '%s' has no loss (add: loss mse(y, x))", m->name.str);
}

// ---- The unit ----

static void check_duplicates(Unit *u) {
  for (int i = 0; i < u->nconsts; i++) {
    Token *t = &u->consts[i].name;
    for (int j = 0; j < i; j++)
      if (!strcmp(u->consts[j].name.str, t->str)) {
        diag_error(t->loc, "duplicate definition of constant '%s'", t->str);
        diag_note(u->consts[j].name.loc, "'%s' is first defined here", t->str);
        break;
      }
    if (op_lookup(t->str))
      diag_error(t->loc, "'%s' is a builtin op; choose another name", t->str);
  }
  for (int i = 0; i < u->nnets; i++) {
    Token *t = &u->nets[i].name;
    for (int j = 0; j < i; j++)
      if (!strcmp(u->nets[j].name.str, t->str)) {
        diag_error(t->loc, "duplicate definition of net '%s'", t->str);
        diag_note(u->nets[j].name.loc, "'%s' is first defined here", t->str);
        break;
      }
    Const *k = unit_const_def(u, t->str);
    if (k) {
      diag_error(t->loc, "'%s' is already a constant", t->str);
      diag_note(k->name.loc, "'%s' is defined here", t->str);
    }
    if (op_lookup(t->str))
      diag_error(t->loc, "'%s' is a builtin op; choose another name", t->str);
  }
}

bool check_unit(Unit *u) {
  int before = diag_count();
  Ctx c = {.u = u};
  // `batch` is a builtin constant (the training batch size, used by the
  // code generator); a model may redefine it, -D may override it.
  if (!unit_const_def(u, "batch")) {
    Expr *e = xcalloc(1, sizeof *e);
    e->kind = E_NUM;
    e->value = 256;
    u->consts = xpush(u->consts, u->nconsts, sizeof *u->consts);
    u->consts[u->nconsts++] = (Const){.name = {.kind = TK_IDENT, .str = "batch"}, .val = e};
  }
  for (int i = 0; i < u->ndefs; i++) {
    Const *k = unit_const_def(u, u->defs[i].name);
    if (k)
      k->def = &u->defs[i];
  }
  check_duplicates(u);
  for (int i = 0; i < u->nconsts; i++)
    eval_const(&c, &u->consts[i]);
  Const *batch = unit_const_def(u, "batch");
  if (batch->state == EVAL_DONE && (batch->value != floor(batch->value) || batch->value < 1 || batch->value > 65536)) {
    if (batch->def || !batch->name.loc.file)
      diag_plain("batch must be an integer in [1, 65536], got %g", batch->value);
    else
      diag_error(batch->name.loc, "batch must be an integer in [1, 65536], got %g", batch->value);
  }
  for (int i = 0; i < u->nnets; i++)
    check_net(&c, &u->nets[i]);
  if (!u->model) {
    File *f = u->files[0];
    diag_error((Loc){.file = f, .at = f->text, .len = 1, .line = 1, .col = 1},
               "'%s' defines no model (add: model name { ... })", f->path);
  } else {
    check_model(&c, u->model);
  }
  return diag_count() == before;
}
