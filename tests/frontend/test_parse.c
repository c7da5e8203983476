// test_parse.c — unit tests of the parser (parse.c): precedence and
// associativity, keyword arguments, labels, one-line bodies, newlines
// inside parentheses, and recovery after syntax errors.
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "netc.h"

static Unit *parse(const char *src) {
  File *f = xcalloc(1, sizeof *f);
  f->path = "<test>";
  f->text = strdup(src);
  f->len = strlen(src);
  f->real = "<test>";
  Unit *u = xcalloc(1, sizeof *u);
  diag_reset();
  parse_file(u, f);
  return u;
}

// The AST dump (unchecked), to compare expression structure.
static char *dump(Unit *u) {
  char *buf;
  size_t len;
  FILE *f = open_memstream(&buf, &len);
  dump_ast(f, u);
  fclose(f);
  return buf;
}

static void expect_in(const char *hay, const char *needle) {
  CHECK(strstr(hay, needle), "dump lacks \"%s\":\n%s", needle, hay);
}

static void test_precedence(void) {
  Unit *u = parse("model m {\n"
                  "  y = a + b * -c - d / e / f\n"
                  "  z = -(a + b) * 2\n"
                  "  w = mse(y,\n     z) + l * 0.5 * sum(exp(v) + m * m - 1)\n"
                  "}\n");
  CHECK(diag_count() == 0);
  CHECK(u->model && u->model->nstmts == 3);
  char *d = dump(u);
  expect_in(d, "y = ((a + (b * (-c))) - ((d / e) / f))");
  expect_in(d, "z = ((-(a + b)) * 2)");
  expect_in(d, "w = (mse(y, z) + ((l * 0.5) * sum(((exp(v) + (m * m)) - 1))))");
}

static void test_nets(void) {
  Unit *u = parse("const latent = 9\n"
                  "net enc(x: [1, 28, 28]) -> [latent] {\n"
                  "    conv2d(8, k=3, stride=2, pad=1) relu   # comment\n"
                  "\n"
                  "    flatten trunk_out: dense(latent)\n"
                  "}\n"
                  "net head(h: [64]) -> [latent] { dense(latent) }\n"
                  "net tail(h: [64]) -> [latent]\n{\n  dense(latent)\n}\n");
  CHECK(diag_count() == 0);
  CHECK(u->nconsts == 1 && u->nnets == 3);
  Net *n = &u->nets[0];
  CHECK(n->nlayers == 4);
  CHECK(n->in_lit.ndims == 3 && n->out_lit.ndims == 1);
  CHECK(n->layers[0].nargs == 4 && n->layers[0].has_args);
  CHECK(n->layers[0].args[0].key.kind != TK_IDENT);
  CHECK(!strcmp(n->layers[0].args[1].key.str, "k") && n->layers[0].args[1].val->value == 3);
  CHECK(!n->layers[1].has_args && !strcmp(n->layers[1].name.str, "relu"));
  CHECK(n->layers[3].label.kind == TK_IDENT && !strcmp(n->layers[3].label.str, "trunk_out"));
  CHECK(u->nets[1].nlayers == 1 && u->nets[2].nlayers == 1);   // one-line body; brace on the next line
  CHECK(u->model == NULL);
}

// Nets as graphs: `NAME =` binds a line, a line may start from a value,
// a net takes several inputs, a label may prefix a call in an expression.
static void test_graph_lines(void) {
  Unit *u = parse("net f(a: [4], b: [4]) -> [4] {\n"
                  "    h = conv2d(a, 8, k=3) relu\n"
                  "    a + h\n"
                  "    g: f(h, b) dense(4)\n"
                  "}\n"
                  "model m {\n  input x: [3, 32, 32]\n  input d: label(10)\n  y = enc: f(x, x)\n}\n");
  CHECK(diag_count() == 0);
  Net *n = &u->nets[0];
  CHECK(n->nin == 2 && !strcmp(n->params[1].str, "b") && n->in_lits[1].ndims == 1);
  CHECK(n->nlayers == 5);
  CHECK(n->layers[0].line_start && n->layers[0].bind.kind == TK_IDENT && !strcmp(n->layers[0].bind.str, "h"));
  CHECK(!n->layers[1].line_start && !strcmp(n->layers[1].name.str, "relu"));
  CHECK(n->layers[2].line_start && n->layers[2].bind.kind != TK_IDENT && n->layers[2].expr->kind == E_BINARY);
  CHECK(n->layers[3].line_start && n->layers[3].label.kind == TK_IDENT && !strcmp(n->layers[3].label.str, "g"));
  CHECK(!n->layers[4].line_start);
  Stmt *s = &u->model->stmts[0];
  CHECK(s->type.kind == TK_LBRACK && s->in_lit.ndims == 3);
  CHECK(u->model->stmts[1].classes && u->model->stmts[1].classes->value == 10);
  CHECK(u->model->stmts[2].expr->label.kind == TK_IDENT && !strcmp(u->model->stmts[2].expr->label.str, "enc"));
}

static void test_model_statements(void) {
  Unit *u = parse("model m {\n"
                  "  input x: image\n  input d: label\n"
                  "  freeze a, b\n"
                  "  z = mu + exp(0.5 * lv) * normal([latent])\n"
                  "  n = noise(x, mean=0, std=0.5)\n"
                  "  loss nll(p, d)\n"
                  "  export z, n\n"
                  "}\n");
  CHECK(diag_count() == 0);
  Model *m = u->model;
  CHECK(m && m->nstmts == 7);
  CHECK(m->stmts[0].kind == S_INPUT && !strcmp(m->stmts[0].type.str, "image"));
  CHECK(m->stmts[2].kind == S_FREEZE && m->stmts[2].nnames == 2);
  CHECK(m->stmts[4].kind == S_LET && m->stmts[4].expr->nargs == 3);
  CHECK(m->stmts[5].kind == S_LOSS);
  CHECK(m->stmts[6].kind == S_EXPORT && m->stmts[6].nnames == 2);
  expect_in(dump(u), "normal([latent])");
}

static void test_recovery(void) {
  // Three bad lines, each reported once; the good lines around them parse.
  Unit *u = parse("net n(x: [4]) -> [4] {\n"
                  "    dense(4\n"
                  "    relu\n"
                  "    dense(4) )\n"
                  "    sigmoid\n"
                  "}\n"
                  "model m {\n"
                  "  y = (1 +\n"
                  "  loss mean(x)\n"
                  "  input x: image\n"
                  "}\n");
  // dense(4 swallows the next line (newlines are skipped inside parentheses).
  CHECK(diag_count() == 3);
  CHECK(u->nnets == 1 && u->nets[0].nlayers == 1);   // sigmoid
  CHECK(u->model && u->model->nstmts == 2);          // input x, and y kept as broken
  // Too deep nesting is an error, not a stack overflow.
  char *deep = xcalloc(20100, 1);
  strcpy(deep, "model m {\n loss ");
  memset(deep + strlen(deep), '(', 20000);
  strcat(deep, "1\n}\n");
  u = parse(deep);
  CHECK(diag_count() == 1);
  // Nothing at all is not a parse error (check.c reports the missing model).
  u = parse("");
  CHECK(diag_count() == 0 && u->nnets == 0 && !u->model);
}

int main(void) {
  test_precedence();
  test_nets();
  test_graph_lines();
  test_model_statements();
  test_recovery();
  return t_finish("test_parse");
}
