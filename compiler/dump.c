// dump.c — `netc dump-ast`: the parsed and checked program, one node per
// line, with every inferred shape.  Expressions are printed fully
// parenthesised, so the dump shows how they were parsed.
#include <string.h>

#include "netc.h"

static void expr(FILE *out, const Expr *e) {
  if (!e) {
    fprintf(out, "<error>");
    return;
  }
  switch (e->kind) {
  case E_NUM:
    fprintf(out, "%g", e->value);
    break;
  case E_NAME:
    if (e->label.kind == TK_IDENT)
      fprintf(out, "%s: ", e->label.str);
    fprintf(out, "%s", e->tok.str);
    break;
  case E_NEG:
    fprintf(out, "(-");
    expr(out, e->lhs);
    fprintf(out, ")");
    break;
  case E_BINARY:
    fprintf(out, "(");
    expr(out, e->lhs);
    fprintf(out, " %c ", e->op);
    expr(out, e->rhs);
    fprintf(out, ")");
    break;
  case E_SHAPE:
    fprintf(out, "[");
    for (int i = 0; i < e->ndims; i++) {
      fprintf(out, "%s", i ? ", " : "");
      expr(out, e->dims[i]);
    }
    fprintf(out, "]");
    break;
  case E_CALL:
    if (e->pname && (e->label.kind == TK_IDENT || !e->net || strcmp(e->pname, e->net->name.str)))
      fprintf(out, "%s: ", e->pname);
    fprintf(out, "%s(", e->tok.str);
    for (int i = 0; i < e->nargs; i++) {
      fprintf(out, "%s", i ? ", " : "");
      if (e->args[i].key.kind == TK_IDENT)
        fprintf(out, "%s=", e->args[i].key.str);
      expr(out, e->args[i].val);
    }
    fprintf(out, ")");
    break;
  }
}

static void value(FILE *out, ValueKind vk, Shape s, double v) {
  char buf[64];
  switch (vk) {
  case V_TENSOR: fprintf(out, " : %s", shape_str(s, buf)); break;
  case V_CONST: fprintf(out, " = %g", v); break;
  case V_LABEL: fprintf(out, " : label"); break;
  case V_ERROR: fprintf(out, " : ?"); break;
  }
}

static void shape_lit(FILE *out, const ShapeLit *s) {
  fprintf(out, "[");
  for (int i = 0; i < s->ndims; i++) {
    fprintf(out, "%s", i ? ", " : "");
    expr(out, s->dims[i]);
  }
  fprintf(out, "]");
}

static void at(FILE *out, Token t) { fprintf(out, "  # %s:%d\n", t.loc.file->path, t.loc.line); }

void dump_ast(FILE *out, const Unit *u) {
  char buf[64];
  for (int i = 0; i < u->nconsts; i++) {
    const Const *c = &u->consts[i];
    if (!c->name.loc.file)
      continue;              // builtin
    fprintf(out, "const %s = ", c->name.str);
    expr(out, c->val);
    if (c->state == EVAL_DONE && (c->def || c->val->kind != E_NUM))
      fprintf(out, " = %g%s", c->value, c->def ? " (-D)" : "");
    at(out, c->name);
  }
  for (int i = 0; i < u->nnets; i++) {
    const Net *n = &u->nets[i];
    fprintf(out, "net %s(", n->name.str);
    for (int j = 0; j < n->nin; j++) {
      fprintf(out, "%s%s: ", j ? ", " : "", n->params[j].str);
      shape_lit(out, &n->in_lits[j]);
    }
    fprintf(out, ") -> ");
    shape_lit(out, &n->out_lit);
    if (n->shapes_ok) {
      for (int j = 0; j < n->nin; j++)
        fprintf(out, "%s%s", j ? ", " : " : ", shape_str(n->ins[j], buf));
      fprintf(out, " -> %s", shape_str(n->out, buf));
    }
    at(out, n->name);
    for (int j = 0; j < n->nlayers; j++) {
      const Layer *l = &n->layers[j];
      fprintf(out, "  ");
      if (l->line_start && l->bind.kind == TK_IDENT)
        fprintf(out, "%s = ", l->bind.str);
      if (l->value) {
        expr(out, l->expr);
        value(out, l->expr->vk, l->expr->shape, l->expr->value);
        if (l->nparams)
          fprintf(out, " params %lld", (long long)l->nparams);
        at(out, l->name);
        continue;
      }
      if (l->pname && (l->label.kind == TK_IDENT || !l->net || strcmp(l->pname, l->net->name.str)))
        fprintf(out, "%s: ", l->pname);
      fprintf(out, "%s", l->name.str);
      if (l->has_args) {
        fprintf(out, "(");
        for (int k = 0; k < l->nargs; k++) {
          fprintf(out, "%s", k ? ", " : "");
          if (l->args[k].key.kind == TK_IDENT)
            fprintf(out, "%s=", l->args[k].key.str);
          expr(out, l->args[k].val);
        }
        fprintf(out, ")");
      }
      if (l->ok)
        fprintf(out, " : %s", shape_str(l->out, buf));
      if (l->nparams)
        fprintf(out, " params %lld", (long long)l->nparams);
      at(out, l->name);
    }
  }
  const Model *m = u->model;
  if (!m)
    return;
  fprintf(out, "model %s", m->name.str);
  at(out, m->name);
  for (int i = 0; i < m->nstmts; i++) {
    const Stmt *s = &m->stmts[i];
    fprintf(out, "  ");
    switch (s->kind) {
    case S_INPUT:
      if (s->type.kind == TK_LBRACK) {
        fprintf(out, "input %s: ", s->name.str);
        shape_lit(out, &s->in_lit);
      } else {
        fprintf(out, "input %s: %s", s->name.str, s->type.str ? s->type.str : "<error>");
      }
      if (s->nclasses)
        fprintf(out, "(%d)", s->nclasses);
      value(out, s->vk, s->shape, 0);
      break;
    case S_LET:
      fprintf(out, "%s = ", s->name.str);
      expr(out, s->expr);
      if (s->expr)
        value(out, s->expr->vk, s->expr->shape, s->expr->value);
      break;
    case S_LOSS:
      fprintf(out, "loss ");
      expr(out, s->expr);
      if (s->expr)
        value(out, s->expr->vk, s->expr->shape, s->expr->value);
      break;
    case S_FREEZE:
    case S_EXPORT:
      fprintf(out, "%s ", s->kind == S_FREEZE ? "freeze" : "export");
      for (int j = 0; j < s->nnames; j++)
        fprintf(out, "%s%s", j ? ", " : "", s->names[j].str);
      break;
    }
    at(out, s->tok);
  }
}
