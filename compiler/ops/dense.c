// dense.c — the dense (fully connected) layer and its input and weight
// gradients: shape rule, gradient, interpreter kernels (one sgemm per chunk
// of rows) and emitters (one GEMM per chunk of examples).  Its bias
// gradient is bias_grad (conv.c).
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"
#include "layers.h"

// ---- Shape rules ----

// dense: x [I] -> [out]; weight [out, I], bias [out].
static bool shape_dense(ShapeCx *cx, Shape *out) {
  char s1[64], s2[64];
  Shape x = cx->in[0];
  const Attrs *a = cx->attr;
  if (x.rank != 1)
    return shape_error(cx, "dense expects a 1-D input, got %s%s", shape_str(x, s1),
                       x.rank > 1 ? " (flatten it first)" : "");
  *out = shape_make(1, (int[]){a->out});
  cx->param[0] = shape_make(2, (int[]){a->out, x.dim[0]});
  cx->param[1] = shape_make(1, (int[]){a->out});
  if (!shape_fits(cx, cx->param[0], "the weight"))
    return false;
  for (int j = 1; j < cx->nin && j < 3; j++)
    if (!shape_eq(cx->in[j], cx->param[j - 1]))
      return shape_error(cx, "dense: %s %s, expected %s", j == 1 ? "weight" : "bias", shape_str(cx->in[j], s1),
                         shape_str(cx->param[j - 1], s2));
  return true;
}

// dense_dx (dy [O], w [O, I]) -> [I].
static bool shape_dense_dx(ShapeCx *cx, Shape *out) {
  Shape dy = cx->in[0], w = cx->in[1];
  if (dy.rank != 1 || w.rank != 2 || w.dim[0] != dy.dim[0])
    return shape_error(cx, "dense_dx: dy [O] and w [O, I] do not fit");
  *out = shape_make(1, (int[]){w.dim[1]});
  return true;
}

// dense_dw (dy [O], x [I]) -> [O, I].
static bool shape_dense_dw(ShapeCx *cx, Shape *out) {
  Shape dy = cx->in[0], x = cx->in[1];
  if (dy.rank != 1 || x.rank != 1)
    return shape_error(cx, "dense_dw: dy and x must be vectors");
  *out = shape_make(2, (int[]){dy.dim[0], x.dim[0]});
  return true;
}

// ---- Gradient ----

static int grad_dense(AdState *ad, const Node *n, int which, int dy) {
  switch (which) {
  case 0: return ad_ew(ad, OP_DENSE_DX, ad_at(ad, n->in[0])->shape, 2, dy, n->in[1], 0);
  case 1: return ad_node(ad, OP_DENSE_DW, ad_at(ad, n->in[1])->shape, false, 2, dy, n->in[0], 0);
  default: return ad_node(ad, OP_BIAS_GRAD, n->shape, false, 1, dy, 0, 0);
  }
}

// ---- Interpreter kernels ----

static const Shape *shape_in(const Interp *ip, const Node *n, int j) {
  return &ip->g->nodes[n->in[j]].shape;
}

// ---- dense: x [n, I], w [O, I], b [O] -> y [n, O] = x w^T + b, a chunk
// of rows per sgemm.

static void interp_dense(Interp *ip, const Node *nd, float *y, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = shape_in(ip, nd, 0)->dim[0];
  int nchunks = (n + LAYER_CHUNK - 1) / LAYER_CHUNK;
  const float *b = in[2];
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    float *yc = y + (size_t)i0 * no;
    for (int i = 0; i < c; i++)
      memcpy(yc + (size_t)i * no, b, no * sizeof(float));
    ip->sgemm(false, true, c, no, ni, in[0] + (size_t)i0 * ni, ni, in[1], ni,
                1.0f, yc, no);
  }
}

// dx [n, I] = dy [n, O] w [O, I].
static void interp_dense_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  int n = ip->n, ni = nd->shape.dim[0], no = shape_in(ip, nd, 0)->dim[0];
  int nchunks = (n + LAYER_CHUNK - 1) / LAYER_CHUNK;
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    ip->sgemm(false, false, c, ni, no, in[0] + (size_t)i0 * no, no, in[1], ni,
                0.0f, dx + (size_t)i0 * ni, ni);
  }
}

// dw [O, I] = dy^T [O, n] x [n, I], summed over the batch.
static void interp_dense_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = nd->shape.dim[1];
  int nchunks = (n + LAYER_CHUNK - 1) / LAYER_CHUNK;
  size_t m = (size_t)no * ni;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    ip->sgemm(true, false, no, ni, c, in[0] + (size_t)i0 * no, no,
                in[1] + (size_t)i0 * ni, ni, 0.0f, part + j * m, ni);
  }
  layer_sum_chunks(part, nchunks, m, dw);
  free(part);
}

// ---- Emitters ----

static void emit_dense(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int in = (int)numel(e, n->in[0]), o = (int)numel(e, id);
  need_param(e, n, n->in[1]);
  int gi = gemm(e, "dense forward", o, e->chunk, in, o, in, o, 0);
  out(e, "  kern_dense_fwd(&s->k[%d], %s, S + %ld, %s, %s, nc, %d, %s);\n", gi,
      root_name(e, n->in[0]), e->wt[nd(e, n->in[1])->param], root_name(e, n->in[2]), e->name[id], o,
      layer_act(e, id));
  layer_act_alpha(e, id);
}

// Members of a dense layer's backward group: one GEMM over the chunk each,
// reading dy<lead> (emit_backward_group).
static void emit_dense_dx(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int o = (int)numel(e, e->f->dy[id]), in = (int)numel(e, id);
  int gi = gemm(e, "dense dx", in, e->chunk, o, in, o, in, 0);
  out(e, "  kern_dense_dx(&s->k[%d], dy%d, %s, %s);\n", gi, e->bwd_lead, root_name(e, n->in[1]), e->name[id]);
}

static void emit_dense_dw(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int o = (int)numel(e, e->f->dy[id]), in = (int)numel(e, n->in[1]);
  int gi = gemm(e, "dense dw", in, o, e->chunk, in, e->chunk, in, 0);
  out(e, "  kern_dense_dw(&s->k[%d], dy%d, %s, %s, DYT, CHUNK, nc, %d, %d);\n", gi, e->bwd_lead,
      root_name(e, n->in[1]), e->name[id], in, o);
  if ((long)o * e->chunk > e->dyt) e->dyt = (long)o * e->chunk;
}

// ---- Rows ----

const OpDef op_def_DENSE = {"dense", 3, OPF_LAYER | OPF_WEIGHT_T, .prefix = "dense",
                            .surface = {{"dense", OP_DENSE, 1, true, 1, {ATTR_REQ("out", A_INT_POS, out)}}},
                            .shape = shape_dense, .grad = grad_dense, .kernel = interp_dense, .emit = emit_dense};
const OpDef op_def_DENSE_DX = {"dense_dx", 2, OPF_LAYER_BWD | OPF_BWD_CHUNK | OPF_BWD_OVERWRITE, .shape = shape_dense_dx, .kernel = interp_dense_dx,
                               .emit = emit_dense_dx};
const OpDef op_def_DENSE_DW = {"dense_dw", 2, OPF_LAYER_BWD | OPF_BWD_CHUNK | OPF_BWD_OVERWRITE | OPF_UNBATCHED, .shape = shape_dense_dw,
                               .kernel = interp_dense_dw, .emit = emit_dense_dw};
