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
  if (s->type == A_PAIR_POS || s->type == A_PAIR_NONNEG)   // a scalar: both
    *(int *)((char *)a + s->offset2) = (int)v;
}

static bool has_params(const OpInfo *o) { return op_def(o->ir)->flags & OPF_LAYER; }

// ---- Names ----

// Instances: the names a net body (or the model) gives to the layers and
// net applications it holds.  A net applied more than once without a
// label gets one instance per application, <net>1, <net>2, ...; one label
// on several applications of one net ties them to one instance.
typedef struct {
  const Net *net;
  int total, seen;           // unlabelled applications in the scope; named so far
} NetUse;

typedef struct {
  const char *name;          // "conv1", "trunk", "enc", "encoder2"
  Token at;                  // the label, or the op / net name
  const Net *net;            // a net application; NULL for a layer op
  bool labelled;
} Named;

typedef struct {
  const char *what;          // "net 'encoder' has two layers", "model 'm' has two nets"
  NetUse *uses; int nuses;
  Named *names; int nnames;
} Scope;

// While checking a net body.
typedef struct {
  Net *net;
  int nvisible;              // Net.locals bound so far (inputs, earlier lines)
  int counts[OP_COUNT];      // layers of each op kind so far: auto-names
  int64_t size, nparams;     // what the expressions checked so far add to the net
  Scope scope;
} NetCx;

typedef struct {
  Unit *u;
  Model *m;                  // while checking the model (NULL inside a net)
  int nstmt;                 // statements of m checked so far (names bound)
  int64_t expanded;          // layers the model's net calls expand to
  NetCx *nc;                 // while checking a net body, else NULL
  Scope *sc;                 // the names of the net body or model being checked
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
  if (!m)
    return NULL;
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
    snprintf(num, sizeof num, v == floor(v) && fabs(v) < 1e15 ? "%.0f" : "%.6g", v);   // 16777217, not 1.67772e+07
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

// An int-or-pair attribute (PyTorch's int or tuple): k=3 or k=[3, 5],
// the height's value then the width's.
static bool pair_value(Ctx *c, const OpInfo *o, int slot, Expr *val, const char *what, Attrs *attr) {
  const AttrSpec *s = &o->attrs[slot];
  int lo = s->type == A_PAIR_POS ? 1 : 0, v[2];
  if (val->kind != E_SHAPE) {
    if (!const_int(c, val, what, lo, MAX_ATTR, &v[0]))
      return false;
    set_attr(o, slot, v[0], attr);
    return true;
  }
  if (val->ndims != 2) {
    diag_error(val->tok.loc, "%s takes one number or a pair [height, width], got %d value%s", what,
               val->ndims, val->ndims == 1 ? "" : "s");
    return false;
  }
  bool ok = const_int(c, val->dims[0], what, lo, MAX_ATTR, &v[0]);
  ok = const_int(c, val->dims[1], what, lo, MAX_ATTR, &v[1]) && ok;
  if (!ok)
    return false;
  *(int *)((char *)attr + s->offset) = v[0];
  *(int *)((char *)attr + s->offset2) = v[1];
  return true;
}

// A boolean attribute: the identifier true or false.
static bool bool_value(const OpInfo *o, int slot, Expr *val, const char *what, Attrs *attr) {
  if (val->kind != E_NAME || (strcmp(val->tok.str, "true") && strcmp(val->tok.str, "false"))) {
    diag_error(val->tok.loc, "%s must be true or false", what);
    return false;
  }
  set_attr(o, slot, !strcmp(val->tok.str, "true"), attr);
  return true;
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
  case A_PAIR_POS:
  case A_PAIR_NONNEG:
    return pair_value(c, o, slot, val, what, attr);
  case A_BOOL:
    return bool_value(o, slot, val, what, attr);
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
static void check_expr(Ctx *c, Expr *e);

// ---- Instances and layer names ----

static NetUse *net_use(Scope *sc, const Net *n) {
  for (int i = 0; i < sc->nuses; i++)
    if (sc->uses[i].net == n)
      return &sc->uses[i];
  sc->uses = xpush(sc->uses, sc->nuses, sizeof *sc->uses);
  sc->uses[sc->nuses] = (NetUse){.net = n};
  return &sc->uses[sc->nuses++];
}

// Counts the unlabelled net applications in e (top: e is a whole net line
// element, where a bare net name applies the net).
static void count_uses(Ctx *c, Scope *sc, const Expr *e, bool top) {
  if (!e)
    return;
  if ((e->kind == E_CALL || (top && e->kind == E_NAME)) && e->label.kind != TK_IDENT && !op_lookup(e->tok.str)) {
    Net *n = unit_net(c->u, e->tok.str);
    if (n)
      net_use(sc, n)->total++;
  }
  count_uses(c, sc, e->lhs, false);
  count_uses(c, sc, e->rhs, false);
  for (int i = 0; i < e->nargs; i++)
    count_uses(c, sc, e->args[i].val, false);
}

// The instance name of one application of net n: its label, else the
// net's name, numbered when the scope applies n more than once unlabelled.
static const char *instance_name(Scope *sc, const Net *n, Token label) {
  if (label.kind == TK_IDENT)
    return label.str;
  NetUse *use = net_use(sc, n);
  if (use->total <= 1)
    return n->name.str;
  char buf[256];
  snprintf(buf, sizeof buf, "%s%d", n->name.str, ++use->seen);
  return strdup(buf);
}

// Records that name prefixes parameters in the scope.  The same label on
// applications of one net ties them (one instance); any other clash is an
// error, since two layers would share or mix parameters.  Returns false
// for a tied application (its parameters are already counted).
static bool claim(Scope *sc, const char *name, Token label, Token at, const Net *net) {
  bool labelled = label.kind == TK_IDENT;
  Token where = labelled ? label : at;
  for (int j = 0; j < sc->nnames; j++) {
    Named *f = &sc->names[j];
    if (strcmp(f->name, name))
      continue;
    if (net && f->net == net && labelled && f->labelled)
      return false;
    diag_error(where.loc, "%s named '%s'; their parameters would clash", sc->what, name);
    diag_note(f->at.loc, "the first '%s' is here", name);
    return true;
  }
  sc->names = xpush(sc->names, sc->nnames, sizeof *sc->names);
  sc->names[sc->nnames++] = (Named){.name = name, .at = where, .net = net, .labelled = labelled};
  return true;
}

// The n-th layer of a kind in a net is PREFIXn (conv1, conv2, dense1);
// counts[op] is per op kind.
static const char *auto_name(const OpInfo *o, int *counts) {
  char buf[32];
  snprintf(buf, sizeof buf, "%s%d", op_def(o->ir)->prefix, ++counts[o->ir]);
  return strdup(buf);
}

// ---- Net lines ----

static int local_index(const Net *n, const char *name) {
  for (int i = 0; i < n->nlocals; i++)
    if (!strcmp(n->locals[i].name.str, name))
      return i;
  return -1;
}

// Does e read a value of the net (an input or a bound name)?  A net
// applied with arguments reads its arguments.
static bool reads_local(Ctx *c, const Net *n, const Expr *e) {
  if (!e)
    return false;
  switch (e->kind) {
  case E_NAME:
    return local_index(n, e->tok.str) >= 0 && !unit_net(c->u, e->tok.str) && !op_lookup(e->tok.str);
  case E_CALL:
    if (e->nargs > 0 && unit_net(c->u, e->tok.str))
      return true;
    for (int i = 0; i < e->nargs; i++)
      if (reads_local(c, n, e->args[i].val))
        return true;
    return false;
  case E_NEG:
  case E_BINARY:
    return reads_local(c, n, e->lhs) || reads_local(c, n, e->rhs);
  default:
    return false;
  }
}

// An element that is a value, not a layer: arithmetic, a number, or a
// name or call that reads the net's values (`h`, `block(h)`, `relu(x + h)`).
static bool is_value(Ctx *c, const Net *n, const Expr *e) {
  if (e->kind != E_NAME && e->kind != E_CALL)
    return true;
  return reads_local(c, n, e);
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
    l->pname = instance_name(c->sc, callee, l->label);
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
    if (callee->nin != 1) {
      diag_error(l->name.loc, "net '%s' takes %d inputs, so it cannot be a layer; apply it: %s(a, b)", nm,
                 callee->nin, nm);
      return false;
    }
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
  if (local_index(n, nm) >= 0) {
    diag_error(l->name.loc, "'%s' is a value; a value can only start a line (later elements are layers applied "
               "to the running value)", nm);
  } else if (unit_const_def(c->u, nm)) {
    diag_error(l->name.loc, "'%s' is a constant, not a layer", nm);
  } else {
    char h[96];
    diag_error(l->name.loc, "unknown layer '%s' (not a builtin op or a net)%s", nm, hint(c, nm, h, sizeof h));
  }
  return false;
}

// The first element of a line that is a value: an expression over the
// net's values, with ops and nets in expression form.
static bool check_value(Ctx *c, Layer *l) {
  l->value = true;
  int64_t params0 = c->nc->nparams;
  check_expr(c, l->expr);
  l->nparams = c->nc->nparams - params0;
  l->in = l->out = l->expr->shape;
  if (l->expr->vk == V_CONST)
    diag_error(l->expr->tok.loc, "a net line starts from a tensor, not the constant %g", l->expr->value);
  l->ok = l->expr->vk == V_TENSOR;
  return l->ok;
}

// The net's values: its inputs, then every `NAME =` of the body.  A bound
// name must be new (not an input, another binding, a constant, net or op).
static void bind_locals(Ctx *c, Net *n) {
  for (int i = 0; i < n->nlayers; i++) {
    Layer *l = &n->layers[i];
    l->bind_local = -1;
    if (!l->line_start || l->bind.kind != TK_IDENT)
      continue;
    const char *nm = l->bind.str;
    int prev = local_index(n, nm);
    const char *what = unit_const_def(c->u, nm) ? "a constant" : unit_net(c->u, nm) ? "a net"
                       : op_lookup(nm) ? "a builtin op" : NULL;
    if (prev >= 0) {
      diag_error(l->bind.loc, "'%s' is bound twice in net '%s'", nm, n->name.str);
      diag_note(n->locals[prev].name.loc, "'%s' is first defined here", nm);
      continue;
    }
    if (what) {
      diag_error(l->bind.loc, "'%s' is already %s", nm, what);
      continue;
    }
    l->bind_local = n->nlocals;
    n->locals = xpush(n->locals, n->nlocals, sizeof *n->locals);
    n->locals[n->nlocals++] = (Local){.name = l->bind};
  }
}

static void check_net(Ctx *c, Net *n) {
  if (n->state != EVAL_TODO)
    return;
  n->state = EVAL_BUSY;
  NetCx *outer = c->nc;
  Model *outer_m = c->m;
  Scope *outer_sc = c->sc;
  NetCx *nc = xcalloc(1, sizeof *nc);
  char what[160];
  snprintf(what, sizeof what, "net '%.100s' has two layers", n->name.str);
  nc->net = n;
  nc->scope.what = strdup(what);
  c->nc = nc;
  c->m = NULL;
  c->sc = &nc->scope;

  bool in_ok = true;
  n->ins = xcalloc((size_t)n->nin, sizeof *n->ins);
  for (int i = 0; i < n->nin; i++) {
    bool ok = eval_dims(c, n->in_lits[i].dims, n->in_lits[i].ndims, n->in_lits[i].tok.loc, &n->ins[i]);
    int prev = local_index(n, n->params[i].str);
    if (prev >= 0) {
      diag_error(n->params[i].loc, "net '%s' has two inputs named '%s'", n->name.str, n->params[i].str);
      ok = false;
    }
    n->locals = xpush(n->locals, n->nlocals, sizeof *n->locals);
    n->locals[n->nlocals++] = (Local){.name = n->params[i], .shape = n->ins[i], .ok = ok};
    in_ok = in_ok && ok;
  }
  n->in = n->ins[0];
  nc->nvisible = n->nin;
  bool out_ok = eval_dims(c, n->out_lit.dims, n->out_lit.ndims, n->out_lit.tok.loc, &n->out);
  n->shapes_ok = in_ok && out_ok;
  bind_locals(c, n);
  for (int i = 0; i < n->nlayers; i++)
    count_uses(c, &nc->scope, n->layers[i].expr, true);

  Shape cur = n->in;
  bool ok = n->nlocals > 0 && n->locals[0].ok;
  int bind = -1;
  n->nparams = 0;
  for (int i = 0; i < n->nlayers; i++) {
    Layer *l = &n->layers[i];
    int64_t size0 = nc->size;
    if (l->line_start)
      bind = l->bind_local;
    if (l->line_start && is_value(c, n, l->expr)) {
      ok = check_value(c, l);
    } else if (!l->line_start && (l->expr->kind != E_NAME && l->expr->kind != E_CALL)) {
      diag_error(l->expr->tok.loc, "only the first element of a line can be a value; later elements are layers "
                 "applied to the running value");
      l->ok = ok = false;
    } else if (!l->line_start && is_value(c, n, l->expr)) {
      diag_error(l->name.loc, "'%s(...)' reads a value, so it can only start a line; later elements are layers "
                 "applied to the running value", l->name.str);
      l->ok = ok = false;
    } else {
      ok = check_layer(c, n, l, cur, ok, nc->counts);
      if (l->pname && !claim(&nc->scope, l->pname, l->label, l->name, l->net))
        l->tied = true;
    }
    cur = l->out;
    int64_t add = l->value ? nc->size - size0 : l->net ? l->net->size : 1;
    if (n->size > MAX_EXPANDED || add > MAX_EXPANDED) {   // reported already
      n->size = MAX_EXPANDED + 1;
      ok = false;
    } else {
      n->nparams += l->tied ? 0 : l->nparams;
      n->size += add;
      if (n->size > MAX_EXPANDED) {
        diag_error(l->name.loc, "net '%s' expands to more than %d layers", n->name.str, MAX_EXPANDED);
        ok = false;
      }
    }
    bool line_end = i + 1 == n->nlayers || n->layers[i + 1].line_start;
    if (line_end && bind >= 0) {
      n->locals[bind].shape = cur;
      n->locals[bind].ok = ok;
      nc->nvisible = bind + 1;
    }
  }
  if (ok && out_ok && !shape_eq(cur, n->out)) {
    char s1[64], s2[64];
    diag_error(n->out_lit.tok.loc, "net '%s' declares output %s but its body produces %s", n->name.str,
               shape_str(n->out, s1), shape_str(cur, s2));
  }
  n->state = EVAL_DONE;
  c->nc = outer;
  c->m = outer_m;
  c->sc = outer_sc;
}

// ---- Model expressions ----

static void mark_used(Net *n);
static bool check_classes(Expr *op, Expr *label, Shape logp);

static void mark_expr(const Expr *e) {
  if (!e)
    return;
  if (e->net)
    mark_used(e->net);
  mark_expr(e->lhs);
  mark_expr(e->rhs);
  for (int i = 0; i < e->nargs; i++)
    mark_expr(e->args[i].val);
}

static void mark_used(Net *n) {
  if (n->used)
    return;
  n->used = true;
  for (int i = 0; i < n->nlayers; i++) {
    if (n->layers[i].net)
      mark_used(n->layers[i].net);
    if (n->layers[i].value)
      mark_expr(n->layers[i].expr);
  }
}

// A tensor operand: constants and labels are errors here.
static bool want_tensor(Expr *e, const char *who) {
  if (e->vk == V_TENSOR)
    return true;
  if (e->vk == V_LABEL)
    diag_error(e->tok.loc, "'%s' is a label; only a classification loss (nll, cross_entropy) can use it", e->tok.str);
  else if (e->vk == V_CONST)
    diag_error(e->tok.loc, "%s expects a tensor, got the constant %g", who, e->value);
  return false;
}

// A call of builtin o in a model expression: its arguments by the op's
// schema, its inputs, and its shape by the op's rule (or a folded constant).
static void check_builtin_call(Ctx *c, Expr *e, const OpInfo *o) {
  const char *nm = e->tok.str;
  e->opi = o;
  if (has_params(o) && !c->nc) {
    diag_error(e->tok.loc, "%s has parameters, so it belongs in a net, not in the model", nm);
    return;
  }
  if (has_params(o)) {       // named before its arguments: in source order
    e->pname = e->label.kind == TK_IDENT ? e->label.str : auto_name(o, c->nc->counts);
    claim(c->sc, e->pname, e->label, e->tok, NULL);
  } else if (e->label.kind == TK_IDENT) {
    diag_error(e->label.loc, "only layers with parameters (conv2d, deconv2d, dense) or nets take a label");
  }
  if (c->nc)
    c->nc->size++;
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
    if ((op_def(o->ir)->flags & OPF_CLASS_LOSS) && i == 1) {
      if (t[1]->vk == V_LABEL)
        continue;
      if (t[1]->vk != V_ERROR)
        diag_error(t[1]->tok.loc, "%s's second input must be the label input", nm);
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
  if (!builtin_shape(o, &e->attr, dims, in, nt, e->tok.loc, &e->shape, &e->wshape, &e->bshape))
    return;
  if ((op_def(o->ir)->flags & OPF_CLASS_LOSS) && !check_classes(e, t[1], in[0]))
    return;
  if (has_params(o))
    c->nc->nparams += shape_numel(e->wshape) + shape_numel(e->bshape);
  e->vk = V_TENSOR;
}

// A net applied as a function: f(x), f(a, b), enc: encoder(x).
static void check_net_call(Ctx *c, Expr *e, Net *n) {
  const char *nm = e->tok.str;
  e->net = n;
  e->pname = instance_name(c->sc, n, e->label);
  bool fresh = claim(c->sc, e->pname, e->label, e->tok, n);
  for (int i = 0; i < e->nargs; i++)
    check_expr(c, e->args[i].val);
  if (c->nc) {
    if (n->state == EVAL_BUSY) {
      diag_error(e->tok.loc, "net '%s' uses itself (through net '%s')", nm, c->nc->net->name.str);
      return;
    }
    check_net(c, n);
  }
  bool keyword = false;
  for (int i = 0; i < e->nargs; i++)
    keyword = keyword || e->args[i].key.kind == TK_IDENT;
  if (e->nargs != n->nin || keyword) {
    if (n->nin == 1)
      diag_error(e->tok.loc, "net '%s' takes one input: %s(x)", nm, nm);
    else
      diag_error(e->tok.loc, "net '%s' takes %d inputs, got %d", nm, n->nin, e->nargs);
    return;
  }
  mark_used(n);
  if (c->nc) {
    c->nc->size += n->size;
    c->nc->nparams += fresh ? n->nparams : 0;
  } else {
    c->expanded += n->size;
    if (n->size <= MAX_EXPANDED && c->expanded > MAX_EXPANDED) {
      diag_error(e->tok.loc, "the model's net calls expand to more than %d layers", MAX_EXPANDED);
      c->expanded = INT64_MIN / 2;   // report once
    }
  }
  bool ok = n->shapes_ok;
  for (int i = 0; i < e->nargs; i++) {
    Expr *x = e->args[i].val;
    if (!want_tensor(x, nm)) {
      ok = false;
      continue;
    }
    if (n->shapes_ok && !shape_eq(x->shape, n->ins[i])) {
      char s1[64], s2[64];
      if (n->nin == 1)
        diag_error(x->tok.loc, "net '%s' expects %s, got %s", nm, shape_str(n->in, s1), shape_str(x->shape, s2));
      else
        diag_error(x->tok.loc, "net '%s' expects %s for '%s', got %s", nm, shape_str(n->ins[i], s1),
                   n->params[i].str, shape_str(x->shape, s2));
      ok = false;
    }
  }
  if (!ok)
    return;
  e->vk = V_TENSOR;
  e->shape = n->out;
}

static void check_call(Ctx *c, Expr *e) {
  const char *nm = e->tok.str;
  Net *n = unit_net(c->u, nm);
  const OpInfo *o = n ? NULL : op_lookup(nm);
  e->vk = V_ERROR;
  if (n) {
    check_net_call(c, e, n);
    return;
  }
  if (!o) {
    for (int i = 0; i < e->nargs; i++)
      check_expr(c, e->args[i].val);
    const char *what = kind_of(c, nm);
    if (!what && model_value(c->m, nm, c->m ? c->m->nstmts : 0))
      what = "a model value";
    if (!what && c->nc && local_index(c->nc->net, nm) >= 0)
      what = "a value of the net";
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
    diag_error(x->tok.loc, "'%s' is a label; only a classification loss (nll, cross_entropy) can use it", x->tok.str);
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
    if (e->label.kind == TK_IDENT) {
      diag_error(e->label.loc, "a label names a net's instance or a layer's parameters: label: %s(...)", nm);
      return;
    }
    if (c->nc) {             // a value of the net: an input or an earlier line's name
      int li = local_index(c->nc->net, nm);
      if (li >= c->nc->nvisible) {
        diag_error(e->tok.loc, "'%s' is used before it is defined (line %d)", nm, c->nc->net->locals[li].name.loc.line);
        return;
      }
      if (li >= 0) {
        e->local = li;
        if (c->nc->net->locals[li].ok) {
          e->vk = V_TENSOR;
          e->shape = c->nc->net->locals[li].shape;
        }
        return;
      }
    }
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
    else if (c->m && (s = model_value(c->m, nm, c->m->nstmts)))
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
      diag_error(e->lhs->tok.loc, "'%s' is a label; only a classification loss (nll, cross_entropy) can use it",
                 e->lhs->tok.str);
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

// What a model binds once: its label input and its loss.
typedef struct {
  Stmt *label, *loss;
} ModelParts;

// `input x: image` ([1, 28, 28]), `input t: [dims]` (rank 1 to 3), `input
// d: label` or `label(K)` (2 <= K <= MAX_CLASSES; without K, the
// classification loss that reads the label gives it).
static void check_input(Ctx *c, Stmt *s, ModelParts *mp) {
  check_fresh(c, s);
  if (s->type.kind == TK_LBRACK) {
    if (!eval_dims(c, s->in_lit.dims, s->in_lit.ndims, s->in_lit.tok.loc, &s->shape))
      return;
    if (s->shape.rank < 1 || s->shape.rank > 3) {
      diag_error(s->in_lit.tok.loc, "an input has 1 to 3 dimensions, this one has %d", s->shape.rank);
      return;
    }
    s->vk = V_TENSOR;
    return;
  }
  bool is_image = !strcmp(s->type.str, "image");
  if (!is_image && strcmp(s->type.str, "label")) {
    diag_error(s->type.loc, "unknown input type '%s' (expected image, label or a shape [C, H, W])", s->type.str);
    return;
  }
  if (is_image && s->classes) {
    diag_error(s->classes->tok.loc, "image takes no argument (a shape is written [C, H, W])");
    return;
  }
  if (is_image) {
    s->vk = V_TENSOR;
    s->shape = shape_make(3, (int[]){1, 28, 28});
    return;
  }
  if (mp->label) {
    diag_error(s->type.loc, "the model already has a label input");
    diag_note(mp->label->name.loc, "'%s' is the first", mp->label->name.str);
    return;
  }
  if (s->classes && !const_int(c, s->classes, "label's number of classes", 1, MAX_CLASSES, &s->nclasses))
    return;
  if (s->classes && s->nclasses < 2) {
    diag_error(s->classes->tok.loc, "a label has K >= 2 classes, got %d", s->nclasses);
    note_define(c, s->classes);
    return;
  }
  mp->label = s;
  s->vk = V_LABEL;
  s->shape = shape_scalar();
}

// A classification loss (OPF_CLASS_LOSS) reads label e over logp's last
// dimension: the label's K is that dimension, declared or inferred here.
static bool check_classes(Expr *op, Expr *label, Shape logp) {
  Stmt *s = label->bind;
  if (!s || logp.rank < 1)
    return true;
  int k = logp.dim[logp.rank - 1];
  if (k > MAX_CLASSES) {
    char buf[64];
    diag_error(op->tok.loc, "%s reads %s, %d classes, more than a label can have (at most %d)", op->tok.str,
               shape_str(logp, buf), k, MAX_CLASSES);
    return false;
  }
  if (!s->nclasses) {
    s->nclasses = k;
    s->classes_from = op->tok.loc;
    return true;
  }
  if (s->nclasses == k)
    return true;
  char buf[64];
  diag_error(op->tok.loc, "%s reads %s, %d classes, but label '%s' has %d", op->tok.str, shape_str(logp, buf), k,
             s->name.str, s->nclasses);
  if (s->classes_from.line)
    diag_note(s->classes_from, "%d classes were inferred here", s->nclasses);
  else
    diag_note(s->classes->tok.loc, "declared here");
  return false;
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
  char what[160];
  snprintf(what, sizeof what, "model '%.100s' has two nets", m->name.str);
  Scope sc = {.what = what};
  c->sc = &sc;
  for (int i = 0; i < m->nstmts; i++)
    if (!m->stmts[i].broken)
      count_uses(c, &sc, m->stmts[i].expr, false);
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
