// leaves.c — the leaves (input, label, param, const, normal, noise), the
// shape move (reshape, flatten) and the glue autodiff adds (loss_seed,
// broadcast, sum_batch): shape rules, gradients, interpreter kernels and
// emitters.
//
// Randomness: example i of a step draws from its own stream
// rng_stream(seed, i); NORMAL and NOISE consume it in node-id order, in the
// interpreter (through Interp.normal / Interp.noise) and in the generated
// code (R[i]) alike, so both draw the same numbers.
#include <string.h>

#include "autodiff.h"
#include "emitter.h"

// ---- Shape rules ----

// Leaves carry their shape (normal: the shape it was given).
static bool shape_leaf(ShapeCx *cx, Shape *out) {
  *out = cx->self;
  return true;
}

static bool shape_same(ShapeCx *cx, Shape *out) {
  *out = cx->in[0];
  return true;
}

// flatten: x -> [numel]; reshape: to the given dims, same element count.
static bool shape_reshape(ShapeCx *cx, Shape *out) {
  char s1[64], s2[64];
  Shape x = cx->in[0];
  if (!strcmp(cx->op, "flatten")) {
    if (x.rank == 0)
      return shape_error(cx, "flatten expects a tensor, got a scalar []");
    *out = shape_make(1, (int[]){(int)shape_numel(x)});
    return true;
  }
  if (shape_numel(cx->self) != shape_numel(x))
    return shape_error(cx, "reshape to %s (%lld elements) from %s (%lld elements)", shape_str(cx->self, s1),
                       (long long)shape_numel(cx->self), shape_str(x, s2), (long long)shape_numel(x));
  *out = cx->self;
  return true;
}

static bool shape_broadcast(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank != 0)
    return shape_error(cx, "broadcast: input must be a scalar");
  *out = cx->self;
  return true;
}

// ---- Gradients ----

static int grad_reshape(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_RESHAPE, ad_at(ad, n->in[0])->shape, 1, dy, 0, 0);
}

// ---- Interpreter kernels ----

// The batch x is [n, input_size]: each example's row holds every tensor
// input in declaration order (attr.index), so input j starts at the
// floats of inputs 0..j-1 (runtime/model.h).  Returns the row's floats
// and sets *offset to input `index`'s start in it.
static long input_layout(const Graph *g, int index, long *offset) {
  long total = 0;
  *offset = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_INPUT) {
      long ne = (long)shape_numel(g->nodes[i].shape);
      total += ne;
      if (g->nodes[i].attr.index < index)
        *offset += ne;
    }
  return total;
}

static void interp_input(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t ne = (size_t)shape_numel(n->shape);
  if (ip->inputs) {
    memcpy(out, ip->inputs[n->attr.index], (size_t)ip->n * ne * sizeof(float));
    return;
  }
  long off, total = input_layout(ip->g, n->attr.index, &off);
  for (int i = 0; i < ip->n; i++)
    memcpy(out + (size_t)i * ne, ip->x + (size_t)i * (size_t)total + (size_t)off, ne * sizeof(float));
}

static void interp_label(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)n; (void)in;
  for (int i = 0; i < ip->n; i++)
    out[i] = ip->labels ? (float)ip->labels[i] : 0.0f;
}

static void interp_const(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);
  for (size_t k = 0; k < total; k++)
    out[k] = n->attr.scalar;
}

static void interp_loss_seed(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)n; (void)in;
  for (int i = 0; i < ip->n; i++)
    out[i] = 1.0f / (float)ip->n;
}

static const float *override(const Interp *ip, const Node *n) {
  return ip->draws ? ip->draws[n->id] : NULL;
}

// A standard normal per element, from example i's stream, elements in order.
static void interp_normal(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t m = (size_t)shape_numel(n->shape);
  const float *given = override(ip, n);
  if (given) {
    memcpy(out, given, (size_t)ip->n * m * sizeof(float));
    return;
  }
  for (int i = 0; i < ip->n; i++)
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = (float)ip->normal(ip, i);
}

// x + N(mu, sigma^2) per pixel with per-image mu, sigma (noise_apply).
static void interp_noise(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  const float *given = override(ip, n);
  memcpy(out, in[0], (size_t)ip->n * m * sizeof(float));
  for (int i = 0; i < ip->n; i++) {
    float *o = out + (size_t)i * m;
    if (given)
      for (size_t k = 0; k < m; k++)
        o[k] += given[(size_t)i * m + k];
    else
      ip->noise(ip, i, o, (int)m, &n->attr);
  }
}

static void interp_copy(Interp *ip, const Node *n, float *out, const float *const *in) {
  memcpy(out, in[0], (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
}

// Scalar -> the node's shape.
static void interp_broadcast(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = in[0][i];
}

// Batched -> shared: the sum over the batch.
static void interp_sum_batch(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  for (size_t k = 0; k < m; k++) {
    double s = 0;
    for (int i = 0; i < ip->n; i++)
      s += in[0][(size_t)i * m + k];
    out[k] = (float)s;
  }
}

// ---- Emitters ----

static void emit_input(CEmit *e, int id) {
  long ne = numel(e, id), off, total = input_layout(e->g, e->g->nodes[id].attr.index, &off);
  if (total == ne) {   // the only input: the row is the input
    out(e, "  for (int i = 0; i < nc; i++)\n    for (int k = 0; k < %ld; k++)\n"
           "      %s[i * %ld + k] = x[(size_t)(i0 + i) * %ld + k];\n",
        ne, e->name[id], ne, ne);
    return;
  }
  out(e, "  for (int i = 0; i < nc; i++)\n    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = x[(size_t)(i0 + i) * %ld + %ld + k];\n",
      ne, e->name[id], ne, total, off);
}

static void emit_label(CEmit *e, int id) {
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    %s[i] = labels ? (float)labels[i0 + i] : 0.0f;\n", e->name[id]);
}

// Random draws come from the example's own stream R[i] (rng_stream(seed,
// example index)), node after node in graph order, as the interpreter does.
static void emit_normal(CEmit *e, int id) {
  long ne = numel(e, id);
  out(e, "  for (int i = 0; i < nc; i++)\n    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = (float)rng_normal(&R[i]);\n",
      ne, e->name[id], ne);
}

static void emit_noise(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long ne = numel(e, id);
  out(e, "  memcpy(%s, %s, sizeof(float) * nc * %ld);\n", e->name[id], root_name(e, n->in[0]), ne);
  char a[64], b[64], c[64], d[64];
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    noise_apply(%s + i * %ld, %ld, %s, %s, %s, %s, &R[i]);\n",
      e->name[id], ne, ne, flit(a, sizeof a, n->attr.mean), flit(b, sizeof b, n->attr.mean_std),
      flit(c, sizeof c, n->attr.std), flit(d, sizeof d, n->attr.std_std));
}

static void emit_loss_seed(CEmit *e, int id) {
  out(e, "  for (int i = 0; i < nc; i++) {\n");
  out(e, "    %s[i] = 1.0f / (float)n;\n", e->name[id]);
  out(e, "  }\n");
}

static void emit_broadcast(CEmit *e, int id) {
  char a[128];
  operand(e, a, sizeof a, nd(e, id)->in[0], nd(e, id)->batched);
  open_loops(e, id);
  store(e, id);
  out(e, "%s;\n", a);
}

// sum_batch: the chunk's partial sum over its real examples.
static void emit_sum_batch(CEmit *e, int id) {
  long no = numel(e, id);
  const char *x = root_name(e, nd(e, id)->in[0]);
  out(e, "  for (int k = 0; k < %ld; k++) {\n    float acc = 0.0f;\n"
         "    for (int i = 0; i < nc; i++)\n      acc += %s[i * %ld + k];\n"
         "    %s[k] = acc;\n  }\n", no, x, no, e->name[id]);
}

// ---- Dumps ----

static void print_const(FILE *out, const Node *n) { fprintf(out, " %g", n->attr.scalar); }

static void print_noise(FILE *out, const Node *n) {
  fprintf(out, " mean=%g mean_std=%g std=%g std_std=%g", n->attr.mean, n->attr.mean_std, n->attr.std,
          n->attr.std_std);
}

// ---- Rows ----

const OpDef op_def_INPUT = {"input", 0, .shape = shape_leaf, .kernel = interp_input, .emit = emit_input};
const OpDef op_def_LABEL = {"label", 0, .shape = shape_leaf, .kernel = interp_label, .emit = emit_label};
const OpDef op_def_PARAM = {"param", 0, OPF_UNBATCHED | OPF_NOCODE, .shape = shape_leaf};  // bound to the parameter block
const OpDef op_def_CONST = {"const", 0, OPF_NOCODE, .shape = shape_leaf, .kernel = interp_const,
                            .print_attrs = print_const};
const OpDef op_def_NORMAL = {
  "normal", 0,
  .surface = {{"normal", OP_NORMAL, 0, false, 1, {ATTR_DIMS}}},
  .shape = shape_leaf, .kernel = interp_normal, .emit = emit_normal};
const OpDef op_def_NOISE = {
  "noise", 1,
  .surface = {{"noise", OP_NOISE, 1, true, 4,
               {ATTR_OPT("mean", A_REAL, 0, mean), ATTR_OPT("mean_std", A_REAL, 1, mean_std),
                ATTR_OPT("std", A_REAL, 0.5, std), ATTR_OPT("std_std", A_REAL, 0.5, std_std)}}},
  .shape = shape_same, .kernel = interp_noise, .emit = emit_noise, .print_attrs = print_noise};
const OpDef op_def_RESHAPE = {
  "reshape", 1, OPF_ALIAS,
  .surface = {{"flatten", OP_RESHAPE, 1, true, 0, {{0}}}, {"reshape", OP_RESHAPE, 1, true, 1, {ATTR_DIMS}}},
  .shape = shape_reshape, .grad = grad_reshape, .kernel = interp_copy};
const OpDef op_def_LOSS_SEED = {"loss_seed", 0, .shape = shape_leaf, .kernel = interp_loss_seed,
                                .emit = emit_loss_seed};
const OpDef op_def_BROADCAST = {"broadcast", 1, OPF_EW | OPF_EW_PASS, .shape = shape_broadcast, .kernel = interp_broadcast,
                                .emit = emit_broadcast};
const OpDef op_def_SUM_BATCH = {"sum_batch", 1, OPF_UNBATCHED, .shape = shape_same, .kernel = interp_sum_batch,
                                .emit = emit_sum_batch};
