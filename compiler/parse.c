// parse.c — recursive-descent parser: tokens → AST (netc.h), loading
// imports as it meets them.
//
// Newlines end net lines and model statements, except inside ( ) and
// [ ], where the parser skips them.  A syntax error is reported and the
// parser resumes at the next line (inside a net or model body) or at the
// next top-level declaration, so independent errors are all reported.
// The grammar (models/README.md has it in EBNF) is repeated above each
// function.
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

// Expressions and shapes nest at most this deep; deeper input is an
// error, not a stack overflow.
#define MAX_DEPTH 64
// Later stages recurse over expression trees; a long chain such as
// a + a + ... + a is a tall tree, so the tree height is bounded too.
#define MAX_HEIGHT 256
// Bounds on lists, so that hostile input cannot make the (sometimes
// quadratic) checks slow: no real model comes near them.
#define MAX_ITEMS 4096

typedef struct {
  Unit *u;
  File *file;
  Lexer lx;
  Token buf[4]; int nbuf;    // lookahead
  int paren;                 // open ( and [: newlines are skipped inside
  int depth;                 // expression nesting
  jmp_buf *on_error;         // where a syntax error resumes
} Parser;

static void parse_into(Unit *u, File *f);

// ---- Tokens ----

static Token *peek_n(Parser *p, int n) {
  for (;;) {
    if (p->paren > 0) {      // drop newlines buffered before the '(' was seen
      int k = 0;
      for (int i = 0; i < p->nbuf; i++)
        if (p->buf[i].kind != TK_NEWLINE)
          p->buf[k++] = p->buf[i];
      p->nbuf = k;
    }
    if (p->nbuf > n)
      return &p->buf[n];
    p->buf[p->nbuf++] = lex_next(&p->lx);
  }
}

static Token *peek(Parser *p) { return peek_n(p, 0); }
static bool at(Parser *p, TokenKind k) { return peek(p)->kind == k; }

static Token next(Parser *p) {
  Token t = *peek(p);
  memmove(p->buf, p->buf + 1, (size_t)(p->nbuf - 1) * sizeof(Token));
  p->nbuf--;
  return t;
}

static bool accept(Parser *p, TokenKind k) {
  if (!at(p, k))
    return false;
  next(p);
  return true;
}

// Reports a syntax error at tok and resumes at the enclosing recovery point.
__attribute__((noreturn, format(printf, 3, 4)))
static void fail(Parser *p, Token *tok, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(tok->loc, "%s", msg);
  longjmp(*p->on_error, 1);
}

// "'x'" for a name, else the kind ("end of line").
static const char *describe(Token *t, char *buf, size_t n) {
  if (t->kind == TK_IDENT)
    snprintf(buf, n, "'%.40s'", t->str);
  else if (t->kind == TK_NUM)
    snprintf(buf, n, "number '%.*s'", t->loc.len > 40 ? 40 : t->loc.len, t->loc.at);
  else
    snprintf(buf, n, "%s", token_kind_str(t->kind));
  return buf;
}

static Token expect(Parser *p, TokenKind k, const char *what) {
  Token *t = peek(p);
  if (t->kind != k) {
    char buf[64];
    fail(p, t, "expected %s, got %s", what ? what : token_kind_str(k), describe(t, buf, sizeof buf));
  }
  return next(p);
}

static void open_paren(Parser *p, TokenKind k) {
  expect(p, k, NULL);
  p->paren++;
}

static void close_paren(Parser *p, TokenKind k, Token *opening) {
  if (!at(p, k)) {
    char buf[64];
    Token *t = peek(p);
    diag_error(t->loc, "expected %s, got %s", token_kind_str(k), describe(t, buf, sizeof buf));
    diag_note(opening->loc, "to match this %s", token_kind_str(opening->kind));
    longjmp(*p->on_error, 1);
  }
  p->paren--;
  next(p);
}

// The end of a line: a newline, or (inside a body) the closing '}', or EOF.
static void expect_eol(Parser *p) {
  if (at(p, TK_NEWLINE)) {
    next(p);
    return;
  }
  if (at(p, TK_RBRACE) || at(p, TK_EOF))
    return;
  char buf[64];
  fail(p, peek(p), "expected end of line, got %s", describe(peek(p), buf, sizeof buf));
}

// After an error: skip to the end of the line.  In a body, stop before a
// '}' that closes it.
static void sync_line(Parser *p, bool in_body) {
  p->paren = 0;
  p->depth = 0;
  for (;;) {
    Token *t = peek(p);
    if (t->kind == TK_EOF || (in_body && t->kind == TK_RBRACE))
      return;
    next(p);
    if (t->kind == TK_NEWLINE)
      return;
  }
}

// After an error in a declaration: skip to a newline outside braces.
static void sync_decl(Parser *p) {
  p->paren = 0;
  p->depth = 0;
  int braces = 0;
  for (;;) {
    Token t = next(p);
    if (t.kind == TK_EOF)
      return;
    if (t.kind == TK_LBRACE)
      braces++;
    if (t.kind == TK_RBRACE && braces > 0)
      braces--;
    if (t.kind == TK_NEWLINE && braces == 0)
      return;
  }
}

static void skip_newlines(Parser *p) {
  while (accept(p, TK_NEWLINE))
    ;
}

// ---- Expressions ----

static Expr *new_expr(ExprKind kind, Token tok) {
  Expr *e = xcalloc(1, sizeof *e);
  e->kind = kind;
  e->tok = tok;
  e->local = -1;
  return e;
}

static Expr *expr(Parser *p);
static Token ident(Parser *p, const char *what);

// Sets e's height from its operands; too tall a tree is an error.
static Expr *sealed(Parser *p, Expr *e) {
  int h = 0;
  if (e->lhs && e->lhs->height > h) h = e->lhs->height;
  if (e->rhs && e->rhs->height > h) h = e->rhs->height;
  for (int i = 0; i < e->nargs; i++)
    if (e->args[i].val->height > h) h = e->args[i].val->height;
  for (int i = 0; i < e->ndims; i++)
    if (e->dims[i]->height > h) h = e->dims[i]->height;
  e->height = h + 1;
  if (e->height > MAX_HEIGHT)
    fail(p, &e->tok, "expression too long or nested too deeply (more than %d operations deep)", MAX_HEIGHT);
  return e;
}

static void enter(Parser *p, Token *t) {
  if (++p->depth > MAX_DEPTH)
    fail(p, t, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
}

// args = [ arg { "," arg } ]      arg = [ IDENT "=" ] expr
static Arg *args(Parser *p, int *nargs, TokenKind close) {
  Arg *a = NULL;
  int n = 0;
  if (!at(p, close)) {
    do {
      if (n == 64)
        fail(p, peek(p), "too many arguments (more than 64)");
      a = xpush(a, n, sizeof *a);
      Arg *arg = &a[n++];
      if (peek(p)->kind == TK_IDENT && peek_n(p, 1)->kind == TK_ASSIGN) {
        arg->key = next(p);
        next(p);
      }
      arg->val = expr(p);
    } while (accept(p, TK_COMMA));
  }
  *nargs = n;
  return a;
}

// shape = "[" [ expr { "," expr } ] "]"
static ShapeLit shape_lit(Parser *p) {
  ShapeLit s = {.tok = *peek(p)};
  enter(p, &s.tok);
  open_paren(p, TK_LBRACK);
  if (!at(p, TK_RBRACK)) {
    do {
      if (s.ndims == 64)
        fail(p, peek(p), "too many dimensions (more than 64)");
      s.dims = xpush(s.dims, s.ndims, sizeof *s.dims);
      s.dims[s.ndims++] = expr(p);
    } while (accept(p, TK_COMMA));
  }
  close_paren(p, TK_RBRACK, &s.tok);
  p->depth--;
  return s;
}

// primary = NUMBER | [ IDENT ":" ] IDENT [ "(" args ")" ] | "(" expr ")" | shape
//
// The label (`enc: encoder(x)`, `code: dense(latent)`) names a net's
// instance or a layer's parameters.
static Expr *primary(Parser *p) {
  Token *t = peek(p);
  switch (t->kind) {
  case TK_NUM: {
    Expr *e = new_expr(E_NUM, next(p));
    e->value = e->tok.num;
    return sealed(p, e);
  }
  case TK_IDENT: {
    Token label = {.kind = TK_EOF};
    if (peek_n(p, 1)->kind == TK_COLON) {
      label = next(p);
      next(p);
    }
    Token name = ident(p, "a net or an op after the label");
    if (!at(p, TK_LPAREN)) {
      Expr *e = new_expr(E_NAME, name);
      e->label = label;
      return sealed(p, e);
    }
    Expr *e = new_expr(E_CALL, name);
    e->label = label;
    Token open = *peek(p);
    open_paren(p, TK_LPAREN);
    e->args = args(p, &e->nargs, TK_RPAREN);
    close_paren(p, TK_RPAREN, &open);
    return sealed(p, e);
  }
  case TK_LPAREN: {
    Token open = *t;
    open_paren(p, TK_LPAREN);
    Expr *e = expr(p);
    close_paren(p, TK_RPAREN, &open);
    return e;
  }
  case TK_LBRACK: {
    ShapeLit s = shape_lit(p);
    Expr *e = new_expr(E_SHAPE, s.tok);
    e->dims = s.dims;
    e->ndims = s.ndims;
    return sealed(p, e);
  }
  default: {
    char buf[64];
    fail(p, t, "expected an expression, got %s", describe(t, buf, sizeof buf));
  }
  }
}

// unary = "-" unary | primary
static Expr *unary(Parser *p) {
  Token *t = peek(p);
  enter(p, t);
  Expr *e;
  if (t->kind == TK_MINUS) {
    e = new_expr(E_NEG, next(p));
    e->lhs = unary(p);
    sealed(p, e);
  } else {
    e = primary(p);
  }
  p->depth--;
  return e;
}

static Expr *binary(Parser *p, Token op, Expr *lhs, Expr *rhs) {
  Expr *e = new_expr(E_BINARY, op);
  e->op = op.kind == TK_PLUS ? '+' : op.kind == TK_MINUS ? '-' : op.kind == TK_STAR ? '*' : '/';
  e->lhs = lhs;
  e->rhs = rhs;
  return sealed(p, e);
}

// term = unary { ("*" | "/") unary }
static Expr *term(Parser *p) {
  Expr *e = unary(p);
  while (at(p, TK_STAR) || at(p, TK_SLASH)) {
    Token op = next(p);
    e = binary(p, op, e, unary(p));
  }
  return e;
}

// expr = term { ("+" | "-") term }
static Expr *expr(Parser *p) {
  enter(p, peek(p));
  Expr *e = term(p);
  while (at(p, TK_PLUS) || at(p, TK_MINUS)) {
    Token op = next(p);
    e = binary(p, op, e, term(p));
  }
  p->depth--;
  return e;
}

// ---- Declarations ----

static Token ident(Parser *p, const char *what) { return expect(p, TK_IDENT, what); }

// Removes "dir/../" and "./" from a relative path, so messages show
// models/x.net rather than models/sub/../x.net.
static void normalize(char *path) {
  char *seg[256];
  int n = 0;
  bool abs = path[0] == '/';
  char *copy = strdup(path);
  for (char *t = strtok(copy, "/"); t && n < 256; t = strtok(NULL, "/")) {
    if (!strcmp(t, "."))
      continue;
    if (!strcmp(t, "..") && n > 0 && strcmp(seg[n - 1], ".."))
      n--;
    else
      seg[n++] = t;
  }
  char *out = path;
  if (abs)
    *out++ = '/';
  for (int i = 0; i < n; i++) {
    size_t k = strlen(seg[i]);
    memmove(out, seg[i], k);   // never longer than the original
    out += k;
    if (i + 1 < n)
      *out++ = '/';
  }
  *out = 0;
  free(copy);
}

// import = "import" STRING
static void import_decl(Parser *p) {
  next(p);
  Token s = expect(p, TK_STR, "a file name in quotes");
  expect_eol(p);
  if (!s.str)
    return;                  // unterminated, reported by the lexer
  // Relative to the importing file's directory.
  const char *slash = strrchr(p->file->path, '/');
  char *path;
  if (s.str[0] == '/' || !slash) {
    path = strdup(s.str);
  } else {
    int dir = (int)(slash - p->file->path) + 1;
    path = xcalloc((size_t)dir + strlen(s.str) + 1, 1);
    memcpy(path, p->file->path, (size_t)dir);
    strcpy(path + dir, s.str);
  }
  normalize(path);
  File *f = file_read(path, &s.loc);
  if (!f)
    return;
  Unit *u = p->u;
  for (int i = 0; i < u->nfiles; i++) {
    if (strcmp(u->files[i]->real, f->real))
      continue;
    if (u->files[i]->loading) {
      char chain[1024] = "";
      size_t n = 0;
      int first = 0;
      while (first < u->nstack && strcmp(u->stack[first]->real, f->real))
        first++;
      for (int k = first; k < u->nstack && n < 900; k++)
        n += (size_t)snprintf(chain + n, sizeof chain - n, "%s -> ", u->stack[k]->path);
      snprintf(chain + n, sizeof chain - n, "%s", f->path);
      diag_error(s.loc, "import cycle: %s", chain);
    }
    return;                  // already loaded (or a cycle, reported)
  }
  if (u->nstack == (int)(sizeof u->stack / sizeof u->stack[0])) {
    diag_error(s.loc, "imports nested too deeply (more than %d files)", u->nstack);
    return;
  }
  parse_into(u, f);
}

// const = "const" IDENT "=" expr
static void const_decl(Parser *p) {
  next(p);
  Const c = {.name = ident(p, "a constant name")};
  expect(p, TK_ASSIGN, NULL);
  c.val = expr(p);
  expect_eol(p);
  Unit *u = p->u;
  u->consts = xpush(u->consts, u->nconsts, sizeof *u->consts);
  u->consts[u->nconsts++] = c;
}

// element = expr        (a layer: [ IDENT ":" ] IDENT [ "(" args ")" ])
//
// Every element is read as an expression; check.c decides whether it is a
// value (the first element of a line only) or a layer in chain form.
static Layer element(Parser *p) {
  Layer l = {0};
  l.expr = expr(p);
  l.name = l.expr->tok;
  if (l.expr->kind == E_NAME || l.expr->kind == E_CALL) {
    l.label = l.expr->label;
    l.has_args = l.expr->kind == E_CALL;
    l.args = l.expr->args;
    l.nargs = l.expr->nargs;
  }
  return l;
}

// body = "{" { NL | line } "}"      line = [ IDENT "=" ] element { element } NL
static void net_body(Parser *p, Net *n) {
  skip_newlines(p);            // the brace may open the next line
  Token open = expect(p, TK_LBRACE, NULL);
  jmp_buf here, *outer = p->on_error;
  p->on_error = &here;
  volatile int line_start = 0;
  for (;;) {
    if (setjmp(here)) {
      sync_line(p, true);
      n->nlayers = line_start;   // drop the broken line's layers: no follow-on errors
    }
    skip_newlines(p);
    line_start = n->nlayers;
    if (at(p, TK_RBRACE))
      break;
    if (at(p, TK_EOF)) {
      diag_error(peek(p)->loc, "expected '}' at the end of net '%s'", n->name.str);
      diag_note(open.loc, "the net's body starts here");
      break;
    }
    Token bind = {.kind = TK_EOF};
    if (at(p, TK_IDENT) && peek_n(p, 1)->kind == TK_ASSIGN) {
      bind = next(p);
      next(p);
    }
    do {
      if (n->nlayers == MAX_ITEMS)
        fail(p, peek(p), "net '%s' has too many layers (more than %d)", n->name.str, MAX_ITEMS);
      Layer l = element(p);
      if (n->nlayers == line_start) {
        l.line_start = true;
        l.bind = bind;
      }
      n->layers = xpush(n->layers, n->nlayers, sizeof *n->layers);
      n->layers[n->nlayers++] = l;
    } while (at(p, TK_IDENT));
    expect_eol(p);
  }
  p->on_error = outer;
  accept(p, TK_RBRACE);
}

// net = "net" IDENT "(" input { "," input } ")" "->" shape body
// input = IDENT ":" shape
static void net_decl(Parser *p) {
  next(p);
  Net n = {.file = p->file};
  n.name = ident(p, "a net name");
  Token open = *peek(p);
  open_paren(p, TK_LPAREN);
  do {
    if (n.nin == 64)
      fail(p, peek(p), "too many inputs (more than 64)");
    n.params = xpush(n.params, n.nin, sizeof *n.params);
    n.in_lits = xpush(n.in_lits, n.nin, sizeof *n.in_lits);
    n.params[n.nin] = ident(p, "the input's name");
    expect(p, TK_COLON, NULL);
    n.in_lits[n.nin] = shape_lit(p);
    n.nin++;
  } while (accept(p, TK_COMMA));
  n.param = n.params[0];
  n.in_lit = n.in_lits[0];
  close_paren(p, TK_RPAREN, &open);
  expect(p, TK_ARROW, NULL);
  n.out_lit = shape_lit(p);
  net_body(p, &n);
  expect_eol(p);
  Unit *u = p->u;
  u->nets = xpush(u->nets, u->nnets, sizeof *u->nets);
  u->nets[u->nnets++] = n;
}

static Token *names(Parser *p, int *count, const char *what) {
  Token *a = NULL;
  int n = 0;
  do {
    if (n == 64)
      fail(p, peek(p), "too many names (more than 64)");
    a = xpush(a, n, sizeof *a);
    a[n++] = ident(p, what);
  } while (accept(p, TK_COMMA));
  *count = n;
  return a;
}

// stmt = "input" IDENT ":" ( IDENT [ "(" expr ")" ] | shape ) | IDENT "=" expr | "freeze" names
//      | "loss" expr | "export" names
// Fills *s as it goes: after a syntax error the caller keeps what was
// read (a name to bind, a loss to count), to spare follow-on errors.
static void statement(Parser *p, Stmt *s) {
  s->tok = *peek(p);
  switch (s->tok.kind) {
  case TK_INPUT:
    next(p);
    s->kind = S_INPUT;
    s->name = ident(p, "the input's name");
    expect(p, TK_COLON, NULL);
    if (at(p, TK_LBRACK)) {
      s->type = *peek(p);
      s->in_lit = shape_lit(p);
      break;
    }
    s->type = ident(p, "'image', 'label' or a shape");
    if (at(p, TK_LPAREN)) {      // label(K)
      Token open = *peek(p);
      open_paren(p, TK_LPAREN);
      s->classes = expr(p);
      close_paren(p, TK_RPAREN, &open);
    }
    break;
  case TK_FREEZE:
    next(p);
    s->kind = S_FREEZE;
    s->names = names(p, &s->nnames, "a net name");
    break;
  case TK_EXPORT:
    next(p);
    s->kind = S_EXPORT;
    s->names = names(p, &s->nnames, "a name");
    break;
  case TK_LOSS:
    next(p);
    s->kind = S_LOSS;
    s->expr = expr(p);
    break;
  case TK_IDENT:
    if (peek_n(p, 1)->kind == TK_ASSIGN) {
      s->kind = S_LET;
      s->name = next(p);
      next(p);
      s->expr = expr(p);
      break;
    }
    fail(p, &s->tok, "expected a statement ('name = expression', 'input', 'freeze', 'loss' or 'export')");
  default: {
    char buf[64];
    fail(p, &s->tok, "expected a statement, got %s", describe(&s->tok, buf, sizeof buf));
  }
  }
  expect_eol(p);
}

static void add_stmt(Model *m, Stmt *s) {
  s->line_order = m->nstmts;
  m->stmts = xpush(m->stmts, m->nstmts, sizeof *m->stmts);
  m->stmts[m->nstmts++] = *s;
}

// model = "model" IDENT "{" { NL | stmt NL } "}"
static void model_decl(Parser *p) {
  next(p);
  Model *m = xcalloc(1, sizeof *m);
  m->file = p->file;
  m->name = ident(p, "a model name");
  skip_newlines(p);            // the brace may open the next line
  Token open = expect(p, TK_LBRACE, NULL);
  jmp_buf here, *outer = p->on_error;
  p->on_error = &here;
  Stmt *s = xcalloc(1, sizeof *s);
  for (;;) {
    if (setjmp(here)) {
      sync_line(p, true);
      if (s->name.kind == TK_IDENT || s->kind == S_LOSS) {
        s->broken = true;
        add_stmt(m, s);
      }
    }
    memset(s, 0, sizeof *s);
    skip_newlines(p);
    if (at(p, TK_RBRACE))
      break;
    if (at(p, TK_EOF)) {
      diag_error(peek(p)->loc, "expected '}' at the end of model '%s'", m->name.str);
      diag_note(open.loc, "the model's body starts here");
      break;
    }
    if (m->nstmts == MAX_ITEMS)
      fail(p, peek(p), "model '%s' has too many statements (more than %d)", m->name.str, MAX_ITEMS);
    statement(p, s);
    add_stmt(m, s);
  }
  p->on_error = outer;
  accept(p, TK_RBRACE);
  expect_eol(p);

  Unit *u = p->u;
  if (p->file != u->files[0]) {          // an imported file's model is ignored
    u->other_models = xpush(u->other_models, u->nother, sizeof *u->other_models);
    u->other_models[u->nother++] = m;
  } else if (u->model) {
    diag_error(m->name.loc, "a file defines one model; '%s' is the second", m->name.str);
    diag_note(u->model->name.loc, "the first is '%s'", u->model->name.str);
  } else {
    u->model = m;
  }
}

// file = { NL | decl NL }
static void parse_into(Unit *u, File *f) {
  u->files = xpush(u->files, u->nfiles, sizeof *u->files);
  u->files[u->nfiles++] = f;
  u->stack[u->nstack++] = f;
  f->loading = true;

  Parser *p = xcalloc(1, sizeof *p);   // on the heap: imports recurse
  p->u = u;
  p->file = f;
  lex_init(&p->lx, f);
  jmp_buf here;
  p->on_error = &here;
  if (setjmp(here))
    sync_decl(p);
  for (;;) {
    skip_newlines(p);
    Token *t = peek(p);
    if (t->kind == TK_EOF)
      break;
    if (u->nconsts + u->nnets >= MAX_ITEMS)
      fail(p, t, "too many declarations (more than %d)", MAX_ITEMS);
    switch (t->kind) {
    case TK_IMPORT: import_decl(p); break;
    case TK_CONST: const_decl(p); break;
    case TK_NET: net_decl(p); break;
    case TK_MODEL: model_decl(p); break;
    default: {
      char buf[64];
      fail(p, t, "expected 'import', 'const', 'net' or 'model', got %s", describe(t, buf, sizeof buf));
    }
    }
  }
  f->loading = false;
  u->nstack--;
}

void parse_file(Unit *u, File *f) { parse_into(u, f); }
