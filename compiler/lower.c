// lower.c — the checked AST of a model → the forward Graph (ir.h).
//
// Graph layout: the inputs (image, label), then every parameter (trainable
// first, frozen after, as the runtime's parameter block wants them), then
// the model's statements in order, each net call expanded inline.
//
// Parameter names follow the call path: the nets from the model down,
// then the layer, then w or b: encoder(x) → trunk → conv1 gives
// encoder_trunk_conv1_w.  Calling the same net twice from the same place
// (encoder(x) and encoder(noisy)) reaches the same names, so the calls
// share their weights.
#include <stdlib.h>
#include <string.h>

#include "netc.h"

typedef struct {
  const char *name;          // "encoder_trunk_conv1" (the layer; params add _w, _b)
  const Layer *layer;
  bool frozen;
  int w, b;                  // OP_PARAM nodes
  int rm, rv;                // batch norm's running mean and variance (buffers)
} LayerParams;

typedef struct {
  Unit *u;
  Graph *g;
  LayerParams *lp; int nlp;
  bool ok;
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

// ---- Pass 1: which parameters exist, in first-use order ----

static void collect_net(Lower *lw, const Net *n, const char *prefix, bool frozen) {
  frozen = frozen || n->frozen;
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->net) {
      collect_net(lw, l->net, join(prefix, l->pname), frozen);
      continue;
    }
    if (!(op_def(l->opi->ir)->flags & OPF_LAYER))
      continue;
    char *name = join(prefix, l->pname);
    bool found = false;
    for (int j = 0; j < lw->nlp; j++) {
      if (strcmp(lw->lp[j].name, name))
        continue;
      found = true;
      if (lw->lp[j].layer != l) {
        diag_error(l->name.loc, "two layers get the parameter name '%s_w'; label one of them", name);
        lw->ok = false;
      }
    }
    if (found)
      continue;
    lw->lp = xpush(lw->lp, lw->nlp, sizeof *lw->lp);
    lw->lp[lw->nlp++] = (LayerParams){.name = name, .layer = l, .frozen = frozen};
  }
}

static void collect_expr(Lower *lw, const Expr *e) {
  if (!e || e->vk == V_CONST)
    return;
  switch (e->kind) {
  case E_CALL:
    if (e->net)
      collect_net(lw, e->net, e->net->name.str, false);
    for (int i = 0; i < e->nargs; i++)
      collect_expr(lw, e->args[i].val);
    break;
  case E_NEG:
    collect_expr(lw, e->lhs);
    break;
  case E_BINARY:
    collect_expr(lw, e->lhs);
    collect_expr(lw, e->rhs);
    break;
  default:
    break;
  }
}

static void add_params(Lower *lw, bool frozen) {
  for (int i = 0; i < lw->nlp; i++) {
    LayerParams *p = &lw->lp[i];
    if (p->frozen != frozen)
      continue;
    const Layer *l = p->layer;
    // PyTorch's fan_in: weight.size(1) times the receptive field, for the
    // bias too (conv: in*k*k, deconv: out*k*k, dense: in).
    int fan_in = (int)(shape_numel(l->wshape) / l->wshape.dim[0]);
    p->w = ir_add_param(lw->g, join(p->name, "w"), l->wshape, frozen, fan_in, src(l->name));
    p->b = ir_add_param(lw->g, join(p->name, "b"), l->bshape, frozen, fan_in, src(l->name));
    if (l->opi->ir == OP_BATCH_NORM) {   // torch.nn.BatchNorm*d: weight 1, bias 0
      lw->g->params[lw->g->nodes[p->w].param].init = PARAM_INIT_ONES;
      lw->g->params[lw->g->nodes[p->b].param].init = PARAM_INIT_ZEROS;
    }
  }
}

// Batch norm's running statistics, after every parameter (trainable and
// frozen): buffers are frozen tensors that training steps write.
static int add_buffer(Lower *lw, const LayerParams *p, const char *what, int init) {
  const Layer *l = p->layer;
  int id = ir_add_param(lw->g, join(p->name, what), l->bshape, true, 1, src(l->name));
  Param *pr = &lw->g->params[lw->g->nodes[id].param];
  pr->init = init;
  pr->buffer = true;
  return id;
}

static void add_buffers(Lower *lw) {
  for (int i = 0; i < lw->nlp; i++) {
    LayerParams *p = &lw->lp[i];
    if (p->layer->opi->ir != OP_BATCH_NORM)
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

// Applies net n to node x; returns the net's output node.
static int lower_net(Lower *lw, const Net *n, const char *prefix, int x) {
  for (int i = 0; i < n->nlayers; i++) {
    const Layer *l = &n->layers[i];
    if (l->net) {
      x = lower_net(lw, l->net, join(prefix, l->pname), x);
      continue;
    }
    if (op_def(l->opi->ir)->flags & OPF_LAYER) {
      char *name = join(prefix, l->pname);
      LayerParams *p = params_of(lw, name);
      if (l->opi->ir == OP_BATCH_NORM) {   // the statistics, then the normalisation
        Shape st = shape_make(2, (int[]){2, l->out.dim[0]});
        int s = ir_add(lw->g, OP_BN_STATS, (int[]){x, p->rm, p->rv}, 3, st, false, src(l->name));
        lw->g->nodes[s].attr = l->attr;
        x = add(lw, OP_BATCH_NORM, (int[]){x, s, p->w, p->b}, 4, l->out, l->name, l->attr);
      } else {
        x = add(lw, l->opi->ir, (int[]){x, p->w, p->b}, 3, l->out, l->name, l->attr);
      }
      lw->g->nodes[x].name = name;
    } else if (l->opi->ir == OP_DROPOUT) {
      x = add_dropout(lw, x, l->out, l->name, l->attr);
    } else {
      x = add(lw, l->opi->ir, (int[]){x}, 1, l->out, l->name, l->attr);
    }
  }
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
    return e->bind->node;
  case E_CALL: {
    if (e->net)
      return lower_net(lw, e->net, e->net->name.str, lower_expr(lw, e->args[0].val));
    const OpInfo *o = e->opi;
    int in[2], nin = 0;
    for (int i = 0; i < e->nargs && nin < o->ninputs; i++)
      if (e->args[i].key.kind != TK_IDENT)
        in[nin++] = lower_expr(lw, e->args[i].val);
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
      bool image = s->vk == V_TENSOR;
      s->node = ir_add(g, image ? OP_INPUT : OP_LABEL, NULL, 0, s->shape, true, src(s->name));
      g->nodes[s->node].name = s->name.str;
      *(image ? &g->input : &g->label) = s->node;
    }
    if (s->kind == S_LET || s->kind == S_LOSS)
      collect_expr(&lw, s->expr);
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
