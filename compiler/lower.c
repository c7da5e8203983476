// lower.c — the checked AST of a model → the forward Graph (ir.h).
//
// Graph layout: the inputs (tensors and label, in the model's order), then every parameter (trainable
// first, frozen after, as the runtime's parameter block wants them), then
// the model's statements in order, each net call expanded inline.
//
// Parameter names follow the call path: the instances from the model
// down, then the layer, then w or b: encoder(x) → trunk → conv1 gives
// encoder_trunk_conv1_w.  check.c names the instances (a label, the net's
// name, or <net>1, <net>2 for a net applied more than once); applications
// under one label reach the same names, so they share their weights.
#include <stdlib.h>
#include <string.h>

#include "netc.h"

typedef struct {
  const char *name;          // "encoder_trunk_conv1" (the layer; params add _w, _b)
  const void *key;           // the Layer or Expr that declares it
  OpKind op;                 // the layer's op
  Shape wshape, bshape;
  Token at;
  bool frozen;
  int w, b;                  // OP_PARAM nodes
  int rm, rv;                // batch norm's running mean and variance (buffers)
} LayerParams;

typedef struct {
  Unit *u;
  Graph *g;
  LayerParams *lp; int nlp;
  bool ok;
  // While expanding a net: its parameter prefix and its values' nodes
  // (Net.locals); NULL in the model.
  const char *prefix;
  int *locals;
} Lower;

static char *join(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  char *s = xcalloc(n + m + 2, 1);
  memcpy(s, a, n);
  s[n] = '_';
  memcpy(s + n + 1, b, m);
  return s;
}

static SrcLoc src(Token t) { return loc_src(t.loc); }

// The prefix of a net applied (or a layer) named pname where lw is.
static const char *path(const char *prefix, const char *pname) { return prefix ? join(prefix, pname) : pname; }

// ---- Pass 1: which parameters exist, in first-use order ----

static void collect_layer(Lower *lw, const void *key, OpKind op, const char *name, Shape w, Shape b, Token at,
                          bool frozen) {
  for (int j = 0; j < lw->nlp; j++) {
    if (strcmp(lw->lp[j].name, name))
      continue;
    if (lw->lp[j].key != key) {
      diag_error(at.loc, "two layers get the parameter name '%s_w'; label one of them", name);
      lw->ok = false;
    }
    return;                  // the same layer reached again: a tied instance
  }
  lw->lp = xpush(lw->lp, lw->nlp, sizeof *lw->lp);
  lw->lp[lw->nlp++] = (LayerParams){.name = name, .key = key, .op = op, .wshape = w, .bshape = b, .at = at, .frozen = frozen};
}

static void collect_net(Lower *lw, const Net *n, const char *prefix, bool frozen);

// The layers and nets e applies, the applied before their arguments.
static void collect_expr(Lower *lw, const Expr *e, const char *prefix, bool frozen) {
  if (!e || e->vk == V_CONST)
    return;
  switch (e->kind) {
  case E_CALL:
    if (e->net)
      collect_net(lw, e->net, path(prefix, e->pname), frozen);
    else if (op_def(e->opi->ir)->flags & OPF_LAYER)
      collect_layer(lw, e, e->opi->ir, path(prefix, e->pname), e->wshape, e->bshape, e->tok, frozen);
    for (int i = 0; i < e->nargs; i++)
      collect_expr(lw, e->args[i].val, prefix, frozen);
    break;
  case E_NEG:
    collect_expr(lw, e->lhs, prefix, frozen);
    break;
  case E_BINARY:
    collect_expr(lw, e->lhs, prefix, frozen);
    collect_expr(lw, e->rhs, prefix, frozen);
    break;
  default:
    break;
  }
}

static void collect_net(Lower *lw, const Net *n, const char *prefix, bool frozen) {
  frozen = frozen || n->frozen;
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->value)
      collect_expr(lw, l->expr, prefix, frozen);
    else if (l->net)
      collect_net(lw, l->net, join(prefix, l->pname), frozen);
    else if (op_def(l->opi->ir)->flags & OPF_LAYER)
      collect_layer(lw, l, l->opi->ir, join(prefix, l->pname), l->wshape, l->bshape, l->name, frozen);
  }
}

static void add_params(Lower *lw, bool frozen) {
  for (int i = 0; i < lw->nlp; i++) {
    LayerParams *p = &lw->lp[i];
    if (p->frozen != frozen)
      continue;
    // PyTorch's fan_in: weight.size(1) times the receptive field, for the
    // bias too (conv: in/groups*kh*kw, deconv: out/groups*kh*kw, dense: in).
    int fan_in = (int)(shape_numel(p->wshape) / p->wshape.dim[0]);
    p->w = ir_add_param(lw->g, join(p->name, "w"), p->wshape, frozen, fan_in, src(p->at));
    // bias=false: no bias tensor at all (its shape rule gives [0]).
    p->b = shape_numel(p->bshape) ? ir_add_param(lw->g, join(p->name, "b"), p->bshape, frozen, fan_in, src(p->at)) : -1;
    if (p->op == OP_BATCH_NORM) {   // torch.nn.BatchNorm*d: weight 1, bias 0
      lw->g->params[lw->g->nodes[p->w].param].init = PARAM_INIT_ONES;
      lw->g->params[lw->g->nodes[p->b].param].init = PARAM_INIT_ZEROS;
    }
  }
}

// Batch norm's running statistics, after every parameter (trainable and
// frozen): buffers are frozen tensors that training steps write.
static int add_buffer(Lower *lw, const LayerParams *p, const char *what, int init) {
  int id = ir_add_param(lw->g, join(p->name, what), p->bshape, true, 1, src(p->at));
  Param *pr = &lw->g->params[lw->g->nodes[id].param];
  pr->init = init;
  pr->buffer = true;
  return id;
}

static void add_buffers(Lower *lw) {
  for (int i = 0; i < lw->nlp; i++) {
    LayerParams *p = &lw->lp[i];
    if (p->op != OP_BATCH_NORM)
      continue;
    p->rm = add_buffer(lw, p, "running_mean", PARAM_INIT_ZEROS);
    p->rv = add_buffer(lw, p, "running_var", PARAM_INIT_ONES);
  }
}

// ---- Pass 2: the nodes ----

static LayerParams *params_of(Lower *lw, const char *name) {
  for (int i = 0; i < lw->nlp; i++)
    if (!strcmp(lw->lp[i].name, name))
      return &lw->lp[i];
  return NULL;
}

static int add(Lower *lw, OpKind op, const int *in, int nin, Shape s, Token at, Attrs attr) {
  int id = ir_add(lw->g, op, in, nin, s, true, src(at));
  lw->g->nodes[id].attr = attr;
  return id;
}

// dropout(x) is two nodes: its mask, a random leaf, and dropout(x, mask),
// whose gradient reads that mask (ops/modes.c).
static int add_dropout(Lower *lw, int x, Shape s, Token at, Attrs attr) {
  int mask = add(lw, OP_DROPOUT_MASK, NULL, 0, s, at, attr);
  return add(lw, OP_DROPOUT, (int[]){x, mask}, 2, s, at, attr);
}

// A layer op (x, w, b) whose parameters are named name; batch norm is its
// statistics, then the normalisation.
static int add_layer(Lower *lw, OpKind op, int x, const char *name, Shape s, Token at, Attrs attr) {
  LayerParams *p = params_of(lw, name);
  int id;
  if (op == OP_BATCH_NORM) {
    Shape st = shape_make(2, (int[]){2, s.dim[0]});
    int stats = ir_add(lw->g, OP_BN_STATS, (int[]){x, p->rm, p->rv}, 3, st, false, src(at));
    lw->g->nodes[stats].attr = attr;
    id = add(lw, OP_BATCH_NORM, (int[]){x, stats, p->w, p->b}, 4, s, at, attr);
  } else {
    id = add(lw, op, (int[]){x, p->w, p->b}, p->b >= 0 ? 3 : 2, s, at, attr);
  }
  lw->g->nodes[id].name = name;
  return id;
}

static int lower_expr(Lower *lw, const Expr *e);

// Applies net n to the nodes args[0..n->nin); returns the net's output node.
static int lower_net(Lower *lw, const Net *n, const char *prefix, const int *args) {
  int *locals = xcalloc((size_t)n->nlocals + 1, sizeof *locals);
  for (int i = 0; i < n->nin; i++)
    locals[i] = args[i];
  const char *outer_prefix = lw->prefix;
  int *outer_locals = lw->locals;
  lw->prefix = prefix;
  lw->locals = locals;
  int x = args[0], bind = -1;
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->line_start)
      bind = l->bind_local;
    if (l->value)
      x = lower_expr(lw, l->expr);
    else if (l->net)
      x = lower_net(lw, l->net, join(prefix, l->pname), &x);
    else if (op_def(l->opi->ir)->flags & OPF_LAYER)
      x = add_layer(lw, l->opi->ir, x, join(prefix, l->pname), l->out, l->name, l->attr);
    else if (l->opi->ir == OP_DROPOUT)
      x = add_dropout(lw, x, l->out, l->name, l->attr);
    else
      x = add(lw, l->opi->ir, (int[]){x}, 1, l->out, l->name, l->attr);
    if (bind >= 0 && (i + 1 == n->nlayers || n->layers[i + 1].line_start))
      locals[bind] = x;
  }
  lw->prefix = outer_prefix;
  lw->locals = outer_locals;
  return x;
}

static int lower_expr(Lower *lw, const Expr *e) {
  Graph *g = lw->g;
  if (e->vk == V_CONST) {    // scalars are unbatched constants
    int id = ir_add(g, OP_CONST, NULL, 0, shape_scalar(), false, src(e->tok));
    g->nodes[id].attr.scalar = (float)e->value;
    return id;
  }
  switch (e->kind) {
  case E_NAME:
    return e->local >= 0 ? lw->locals[e->local] : e->bind->node;
  case E_CALL: {
    if (e->net) {
      int args[64];
      for (int i = 0; i < e->nargs; i++)
        args[i] = lower_expr(lw, e->args[i].val);
      return lower_net(lw, e->net, path(lw->prefix, e->pname), args);
    }
    const OpInfo *o = e->opi;
    int in[IR_MAX_IN], nin = 0;
    for (int i = 0; i < e->nargs && nin < o->ninputs; i++)
      if (e->args[i].key.kind != TK_IDENT)
        in[nin++] = lower_expr(lw, e->args[i].val);
    if (op_def(o->ir)->flags & OPF_LAYER)
      return add_layer(lw, o->ir, in[0], path(lw->prefix, e->pname), e->shape, e->tok, e->attr);
    if (o->ir == OP_DROPOUT)
      return add_dropout(lw, in[0], e->shape, e->tok, e->attr);
    return add(lw, o->ir, in, nin, e->shape, e->tok, e->attr);
  }
  case E_NEG: {
    int x = lower_expr(lw, e->lhs);
    return add(lw, OP_NEG, &x, 1, e->shape, e->tok, (Attrs){0});
  }
  case E_BINARY: {
    int in[2] = {lower_expr(lw, e->lhs), lower_expr(lw, e->rhs)};
    OpKind op = e->op == '+' ? OP_ADD : e->op == '-' ? OP_SUB : e->op == '*' ? OP_MUL : OP_DIV;
    return add(lw, op, in, 2, e->shape, e->tok, (Attrs){0});
  }
  default:
    return -1;               // not reached: check.c rejected it
  }
}

Graph *lower_unit(Unit *u) {
  Model *m = u->model;
  Lower lw = {.u = u, .g = ir_new(m->name.str, u->files[0]->path), .ok = true};
  Graph *g = lw.g;
  g->source_hash = u->source_hash;
  g->batch = (int)unit_const(u, "batch");

  for (int i = 0; i < m->nstmts; i++) {
    Stmt *s = &m->stmts[i];
    if (s->kind == S_INPUT) {
      bool tensor = s->vk == V_TENSOR;
      s->node = ir_add(g, tensor ? OP_INPUT : OP_LABEL, NULL, 0, s->shape, true, src(s->name));
      g->nodes[s->node].name = s->name.str;
      if (tensor) {
        g->nodes[s->node].attr.index = g->ninputs++;
        if (g->input < 0)
          g->input = s->node;
      } else {
        g->label = s->node;
        g->n_classes = s->nclasses;
      }
    }
    if (s->kind == S_LET || s->kind == S_LOSS)
      collect_expr(&lw, s->expr, NULL, false);
  }
  if (!lw.ok)
    return NULL;
  add_params(&lw, false);
  add_params(&lw, true);
  add_buffers(&lw);

  for (int i = 0; i < m->nstmts; i++) {
    Stmt *s = &m->stmts[i];
    if (s->kind == S_LET)          // (a constant is emitted where it is used)
      s->node = s->vk == V_CONST ? -1 : lower_expr(&lw, s->expr);
    else if (s->kind == S_LOSS)
      g->loss = lower_expr(&lw, s->expr);
  }
  for (int i = 0; i < m->nstmts; i++) {
    Stmt *s = &m->stmts[i];
    if (s->kind != S_EXPORT)
      continue;
    for (int j = 0; j < s->nnames; j++)
      for (int k = 0; k < m->nstmts; k++)
        if ((m->stmts[k].kind == S_LET || m->stmts[k].kind == S_INPUT) &&
            !strcmp(m->stmts[k].name.str, s->names[j].str))
          ir_export(g, s->names[j].str, m->stmts[k].node);
  }
  g->nforward = g->nnodes;
  return g;
}

// ---- One net instance alone ----

static const Expr *find_instance(const Expr *e, const char *name) {
  if (!e)
    return NULL;
  if (e->kind == E_CALL && e->net && e->pname && !strcmp(e->pname, name))
    return e;
  const Expr *found = find_instance(e->lhs, name);
  if (!found)
    found = find_instance(e->rhs, name);
  for (int i = 0; i < e->nargs && !found; i++)
    found = find_instance(e->args[i].val, name);
  return found;
}

Graph *lower_net_alone(Unit *u, const char *name) {
  Model *m = u->model;
  const Expr *call = NULL;
  for (int i = 0; i < m->nstmts && !call; i++)
    call = find_instance(m->stmts[i].expr, name);
  if (!call)
    return NULL;
  const Net *n = call->net;
  char *gname = join(m->name.str, name);
  Lower lw = {.u = u, .g = ir_new(gname, u->files[0]->path), .ok = true};
  Graph *g = lw.g;
  g->source_hash = u->source_hash;
  g->batch = (int)unit_const(u, "batch");
  int *args = xcalloc((size_t)n->nin, sizeof *args);
  for (int i = 0; i < n->nin; i++) {
    args[i] = ir_add(g, OP_INPUT, NULL, 0, n->ins[i], true, src(n->params[i]));
    g->nodes[args[i]].name = n->params[i].str;
    g->nodes[args[i]].attr.index = g->ninputs++;
  }
  g->input = n->nin > 0 ? args[0] : -1;
  collect_net(&lw, n, name, false);
  if (!lw.ok)
    return NULL;
  add_params(&lw, false);
  add_params(&lw, true);
  add_buffers(&lw);
  ir_export(g, "out", lower_net(&lw, n, name, args));
  g->nforward = g->nnodes;
  return g;
}
