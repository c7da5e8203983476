// test_ops_table.c — the op table (compiler/ops.h) is complete and
// consistent: every op of ops.def has a row with a shape rule, a kernel and
// an emitter (ops_check_table, which netc also runs at start), IR names and
// the language's builtin names are unique, every builtin finds its row,
// and the flags the stages read agree with the rows' arity.
#include <string.h>

#include "ops.h"
#include "../check.h"

typedef struct {
  const char *names[64];
  int n;
} Names;

static void collect(const OpInfo *o, void *user) {
  Names *ns = user;
  if (ns->n < 64)
    ns->names[ns->n++] = o->name;
}

int main(void) {
  CHECK(ops_check_table(), "the table has an incomplete row (see above)");
  for (int a = 0; a < OP_COUNT; a++) {
    const OpDef *d = op_def(a);
    CHECK(d && d->name, "op %d has no row", a);
    if (!d || !d->name)
      continue;
    CHECK(!strcmp(ir_op_name(a), d->name), "ir_op_name(%d) is not the row's name", a);
    for (int b = 0; b < a; b++)
      CHECK(strcmp(op_def(b)->name, d->name), "two ops are named %s", d->name);
    if (d->flags & OPF_LAYER)
      CHECK((d->arity == 3 || (a == OP_BATCH_NORM && d->arity == 4)) && d->prefix && d->grad,
            "layer %s: (x, w, b) (batch norm: (x, stats, w, b)), a prefix and a gradient", d->name);
    if (d->flags & OPF_LAYER_BWD)
      CHECK(!d->surface[0].name, "%s is made by autodiff and has no surface form", d->name);
    if (d->act)
      CHECK(d->arity == 1 && d->surface[0].chain, "epilogue activation %s must be a chainable unary op", d->name);
  }
  Names ns = {0};
  op_each_builtin(collect, &ns);
  CHECK(ns.n >= 16, "%d builtins", ns.n);
  for (int i = 0; i < ns.n; i++) {
    const OpInfo *o = op_lookup(ns.names[i]);
    CHECK(o && !strcmp(o->name, ns.names[i]), "op_lookup(%s)", ns.names[i]);
    for (int j = 0; j < i; j++)
      CHECK(strcmp(ns.names[i], ns.names[j]), "two builtins are named %s", ns.names[i]);
  }
  CHECK(op_lookup("flatten") && op_lookup("flatten")->ir == OP_RESHAPE, "flatten is a reshape");
  CHECK(!op_lookup("conv2d_dx"), "backward ops are not in the language");
  return t_finish("test_ops_table");
}
