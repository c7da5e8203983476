// modes.c — the ops that behave differently in training and in evaluation
// (Interp.train; GenChunk.train in generated code): dropout.
//
// dropout(x, p) is lowered (lower.c) to two nodes: a mask leaf,
// dropout_mask, and the product dropout(x, mask).  The mask is a random
// leaf like normal: in training, example i draws one rng_uniformf per
// element from its own stream rng_stream(seed, i), in node-id order with
// the other random nodes, and keeps the element (value 1/(1-p)) when the
// draw is below 1-p, else zeroes it (0): PyTorch's inverted dropout,
// bernoulli(1-p) / (1-p).  In evaluation the mask is 1 and draws nothing.
// The gradient of the product w.r.t. x is dy * mask: the same mask.
#include <string.h>

#include "autodiff.h"
#include "emitter.h"

// ---- Shape rules ----

// dropout_mask carries its shape (x's, given by lower.c).
static bool shape_dropout_mask(ShapeCx *cx, Shape *out) {
  *out = cx->self;
  return true;
}

// dropout: in the checker, the chained x (one input), where p is
// checked; in the verifier, (x, mask) of one shape.
static bool shape_dropout(ShapeCx *cx, Shape *out) {
  float p = cx->attr->p;
  if (!(p >= 0.0f && p < 1.0f))
    return shape_error(cx, "dropout: p must be in [0, 1), got %g", p);
  if (cx->nin == 2 && !shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "dropout: x and its mask differ in shape");
  *out = cx->in[0];
  return true;
}

// ---- Gradients ----

static int grad_dropout(AdState *ad, const Node *n, int which, int dy) {
  if (which != 0)
    return -1;               // the mask: a random leaf, never needed
  return ad_ew(ad, OP_MUL, n->shape, 2, dy, n->in[1], 0);
}

// ---- Interpreter kernels ----

static float keep_of(const Node *n) { return (float)(1.0 - (double)n->attr.p); }
static float scale_of(const Node *n) { return 1.0f / keep_of(n); }

static void interp_dropout_mask(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t m = (size_t)shape_numel(n->shape), total = (size_t)ip->n * m;
  const float *given = ip->draws ? ip->draws[n->id] : NULL;
  if (!ip->train) {
    for (size_t k = 0; k < total; k++)
      out[k] = 1.0f;
  } else if (given) {        // the test hook: the mask itself (0 or 1/(1-p))
    memcpy(out, given, total * sizeof(float));
  } else {
    float keep = keep_of(n), scale = scale_of(n);
    for (int i = 0; i < ip->n; i++)
      for (size_t k = 0; k < m; k++)
        out[(size_t)i * m + k] = ip->uniform(ip, i) < keep ? scale : 0.0f;
  }
}

// x may be shared by the examples (unbatched); the mask never is.
static void interp_dropout(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  bool xb = ip->g->nodes[n->in[0]].batched;
  for (int i = 0; i < ip->n; i++)
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = in[0][(xb ? (size_t)i * m : 0) + k] * in[1][(size_t)i * m + k];
}

// ---- Emitters ----

// Padding examples (i >= nc) draw nothing: their streams are not set up.
static void emit_dropout_mask(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long ne = numel(e, id);
  char keep[64], scale[64];
  out(e, "  for (int i = 0; i < CHUNK; i++)\n    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = !train ? 1.0f : i < nc && rng_uniformf(&R[i]) < %s ? %s : 0.0f;\n",
      ne, e->name[id], ne, flit(keep, sizeof keep, keep_of(n)), flit(scale, sizeof scale, scale_of(n)));
}

static void emit_dropout(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char a[128], b[128];
  operand(e, a, sizeof a, n->in[0], n->batched);
  operand(e, b, sizeof b, n->in[1], n->batched);
  open_loops(e, id);
  store(e, id);
  out(e, "%s * %s;\n", a, b);
}

// ---- Dumps ----

static void print_p(FILE *out, const Node *n) { fprintf(out, " p=%g", n->attr.p); }

// ---- Rows ----

const OpDef op_def_DROPOUT_MASK = {"dropout_mask", 0, .shape = shape_dropout_mask, .kernel = interp_dropout_mask,
                                   .emit = emit_dropout_mask, .print_attrs = print_p};
// An element-wise product (as mul): fuse.c may run it in a loop with its
// neighbours.
const OpDef op_def_DROPOUT = {
  "dropout", 2, OPF_EW | OPF_EW_PRODUCT,
  .surface = {{"dropout", OP_DROPOUT, 1, true, 1, {ATTR_OPT("p", A_REAL, 0.5, p)}}},
  .shape = shape_dropout, .grad = grad_dropout, .kernel = interp_dropout, .emit = emit_dropout,
  .print_attrs = print_p};
