// emit.c — the C emitter: `netc MODEL.net -o DIR` writes DIR/MODEL.h and
// DIR/MODEL.c, a NetModel (runtime/model.h) specialised to the model's
// shapes, for forward and backward.
//
// Execution model of the emitted code.  A batch of at most BATCH examples
// is cut into chunks of CHUNK examples; OpenMP threads take whole chunks
// (schedule(static)).  A chunk runs every op of the gradient graph in graph
// order on its CHUNK examples inside its thread's chunk arena, whose layout
// is the static memory plan (plan.c); the partial sums of the parameter
// gradients go to the chunk's own gradient block.  After the parallel loop
// the blocks are added up in chunk order, so results are the same whatever
// the number of threads or the schedule.  A last, smaller batch pads its
// last chunk with zero examples whose loss seed is 0: they contribute
// exactly nothing.  Every loop bound and offset is a literal.
//
// Kernels (runtime/xsmm/kernels.h): convolutions and transposed
// convolutions per image as im2col + one libxsmm GEMM with the bias +
// activation epilogue; dense layers as one GEMM per chunk; the backward
// ops of one layer run as one loop reading the ReLU-masked gradient.
#include "emit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autodiff.h"
#include "emit_passes.h"
#include "ops.h"
#include "../runtime/xsmm/kernels_act.h"

#ifndef NETC_VERSION
#define NETC_VERSION "0.1.0"
#endif

#define MAX_GEMM 128

typedef struct {
  int m, n, k, lda, ldb, ldc, acc;
  const char *what;
} GemmDesc;

typedef struct {
  FILE *out;
  const Graph *g;
  const Fusion *f;
  const Plan *p;
  EmitOptions opt;
  int chunk, nchunk;
  long *poff;                // per param: offset in the parameter block
  long n_params, n_trainable;
  int *grad_of;              // node -> trainable param whose gradient it is, or -1
  bool *in_grad_block;
  char **name;               // node -> C name of its buffer
  long *wt;                  // per param: offset of its transpose in S, or -1
  long shared;               // floats of S (transposed weights)
  long col, maskbuf, dyt;    // scratch sizes (floats) in the chunk arena
  GemmDesc gemm[MAX_GEMM];
  int ngemm;
} CEmit;

static void out(CEmit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(CEmit *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(e->out, fmt, ap);
  va_end(ap);
}

static const Node *nd(const CEmit *e, int id) { return &e->g->nodes[id]; }
static long numel(const CEmit *e, int id) { return (long)shape_numel(nd(e, id)->shape); }

static void fail(const Node *n, const char *msg) {
  fprintf(stderr, "%s:%d:%d: error: code generation: %s (op %s)\n",
          n->loc.file ? n->loc.file : "?", n->loc.line, n->loc.col, msg, ir_op_name(n->op));
  exit(1);
}

// A GEMM kernel index, dispatched once at init; equal shapes share one.
static int gemm(CEmit *e, const char *what, int m, int n, int k, int lda, int ldb, int ldc, int acc) {
  for (int i = 0; i < e->ngemm; i++) {
    GemmDesc *d = &e->gemm[i];
    if (d->m == m && d->n == n && d->k == k && d->lda == lda && d->ldb == ldb &&
        d->ldc == ldc && d->acc == acc)
      return i;
  }
  if (e->ngemm == MAX_GEMM) {
    fprintf(stderr, "netc: error: more than %d distinct GEMM shapes\n", MAX_GEMM);
    exit(1);
  }
  e->gemm[e->ngemm] = (GemmDesc){m, n, k, lda, ldb, ldc, acc, what};
  return e->ngemm++;
}

// ---- Names -------------------------------------------------------------

static char *sanitize(const char *s) {
  char *r = strdup(s);
  for (char *p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      *p = '_';
  return r;
}

// Names come from the model: a parameter's name, "d_" + it for its
// gradient, "v_" + the node's own name (the prefix keeps names like x or n
// clear of the C code's own), else "t<id>" (forward) / "g<id>" (backward).
// A repeated name gets "_<id>".
static void name_nodes(CEmit *e) {
  const Graph *g = e->g;
  e->name = xcalloc(g->nnodes, sizeof(char *));
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    char buf[256];
    if (n->op == OP_PARAM)
      snprintf(buf, sizeof buf, "%s", g->params[n->param].name);
    else if (e->grad_of[i] >= 0)
      snprintf(buf, sizeof buf, "d_%s", g->params[e->grad_of[i]].name);
    else if (n->name)
      snprintf(buf, sizeof buf, "v_%s", n->name);
    else
      snprintf(buf, sizeof buf, "%c%d", i < g->nforward ? 't' : 'g', i);
    e->name[i] = sanitize(buf);
  }
  for (int i = 0; i < g->nnodes; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(e->name[i], e->name[j])) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s_%d", e->name[i], i);
        e->name[i] = strdup(buf);
        break;
      }
}

// ---- Operand access ----------------------------------------------------

// A float literal that reads back as v exactly ("0.5f", "2.0f", "1e-05f").
static const char *flit(char *buf, size_t cap, double v) {
  char num[40];
  snprintf(num, sizeof num, "%.9g", v);
  snprintf(buf, cap, "%s%sf", num, strpbrk(num, ".eEn") ? "" : ".0");
  return buf;
}

// C expression for element (image i, element k) of node id as read by an
// element-wise op (scalars broadcast): X[i * numel + k], X[i], X[k], X[0]
// or a literal.
static void operand(CEmit *e, char *buf, size_t cap, int id, bool batched_loop) {
  const Node *n = nd(e, id);
  if (n->op == OP_CONST) {
    flit(buf, cap, n->attr.scalar);
    return;
  }
  long ne = numel(e, id);
  const char *nm = e->name[id];
  if (n->batched && batched_loop)
    snprintf(buf, cap, ne == 1 ? "%s[i]" : "%s[i * %ld + k]", nm, ne);
  else
    snprintf(buf, cap, ne == 1 ? "%s[0]" : "%s[k]", nm);
}

// for-loops over the examples of the chunk (if the node is batched) and
// its elements, opened; close with close_loops.
static void open_loops(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (n->batched)
    out(e, "  for (int i = 0; i < CHUNK; i++)\n  ");
  out(e, "  for (int k = 0; k < %ld; k++)\n  ", numel(e, id));
}

static void store(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (n->batched)
    out(e, "    %s[i * %ld + k] = ", e->name[id], numel(e, id));
  else
    out(e, "    %s[k] = ", e->name[id]);
}

// ---- Element-wise and per-example ops ----------------------------------

static void emit_elementwise(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long size = numel(e, id);
  char a[128] = "", b[128] = "", c[128] = "", d[128] = "";
  bool bl = n->batched;
  if (n->nin > 0) operand(e, a, sizeof a, n->in[0], bl);
  if (n->nin > 1) operand(e, b, sizeof b, n->in[1], bl);
  if (n->op == OP_SIGMOID_GRAD && e->f->skip[n->in[0]]) {
    // Folded mse_grad(dl, y, t): dy = dl * 2 (y - t) / numel.
    const Node *m = nd(e, n->in[0]);
    operand(e, a, sizeof a, m->in[0], bl);
    operand(e, c, sizeof c, m->in[1], bl);
    operand(e, d, sizeof d, m->in[2], bl);
    open_loops(e, id);
    store(e, id);
    out(e, "(%s * 2.0f * (%s - %s) / %ld.0f) * %s * (1.0f - %s);\n", a, c, d,
        (long)shape_numel(nd(e, m->in[1])->shape), b, b);
    return;
  }
  open_loops(e, id);
  store(e, id);
  switch (n->op) {
  case OP_RELU:         out(e, "%s > 0.0f ? %s : 0.0f;\n", a, a); break;
  case OP_SIGMOID:      out(e, "1.0f / (1.0f + expf(-%s));\n", a); break;
  case OP_EXP:          out(e, "expf(%s);\n", a); break;
  case OP_LOG:          out(e, "logf(%s);\n", a); break;
  case OP_NEG:          out(e, "-%s;\n", a); break;
  case OP_ADD:          out(e, "%s + %s;\n", a, b); break;
  case OP_SUB:          out(e, "%s - %s;\n", a, b); break;
  case OP_MUL:          out(e, "%s * %s;\n", a, b); break;
  case OP_DIV:          out(e, "%s / %s;\n", a, b); break;
  case OP_BROADCAST:    out(e, "%s;\n", a); break;
  case OP_RELU_GRAD:    out(e, "%s > 0.0f ? %s : 0.0f;\n", b, a); break;
  case OP_SIGMOID_GRAD: out(e, "%s * %s * (1.0f - %s);\n", a, b, b); break;
  case OP_MSE_GRAD:
    operand(e, c, sizeof c, n->in[2], bl);
    out(e, "%s * 2.0f * (%s - %s) / %ld.0f;\n", a, b, c, size);
    break;
  default:
    fail(n, "no element-wise emitter");
  }
}

// Per-example reductions and row ops; x is the first input.
static void emit_rowwise(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const char *o = e->name[id];
  const char *x = n->nin > 0 ? e->name[n->in[0]] : "";
  long nx = n->nin > 0 ? numel(e, n->in[0]) : 0;
  long no = numel(e, id);
  if (n->nin > 0 && !nd(e, n->in[0])->batched && n->op != OP_SUM_BATCH)
    fail(n, "per-example reduction of an unbatched value is not supported");
  out(e, "  for (int i = 0; i < CHUNK; i++) {\n");
  switch (n->op) {
  case OP_SUM:
  case OP_MEAN:
    out(e, n->op == OP_SUM ? "    %s[i] = kern_sum(%s + i * %ld, %ld);\n"
                           : "    %s[i] = kern_sum(%s + i * %ld, %ld) / %ld.0f;\n", o, x, nx, nx, nx);
    break;
  case OP_MSE:
    out(e, "    %s[i] = kern_sqdiff_sum(%s + i * %ld, %s + i * %ld, %ld) / %ld.0f;\n", o, x, nx,
        e->name[n->in[1]], nx, nx, nx);
    break;
  case OP_NLL:
    out(e, "    %s[i] = -%s[i * %ld + (int)%s[i]];\n", o, x, nx, e->name[n->in[1]]);
    break;
  case OP_LOG_SOFTMAX:
    out(e, "    const float *r = %s + i * %ld;\n    float mx = r[0], acc = 0.0f;\n"
           "    for (int k = 1; k < %ld; k++)\n      mx = r[k] > mx ? r[k] : mx;\n"
           "    for (int k = 0; k < %ld; k++)\n      acc += expf(r[k] - mx);\n"
           "    const float lse = mx + logf(acc);\n"
           "    for (int k = 0; k < %ld; k++)\n      %s[i * %ld + k] = r[k] - lse;\n",
        x, nx, nx, nx, nx, o, no);
    break;
  case OP_LOG_SOFTMAX_GRAD:
    if (e->f->skip[n->in[0]]) {
      // Folded nll_grad(dl, label): dy = -dl at the label, so sum(dy) = -dl
      // and dx = dy + dl * exp(y).
      const Node *m = nd(e, n->in[0]);
      char dl[128];
      operand(e, dl, sizeof dl, m->in[0], true);
      out(e, "    const int lab = (int)%s[i];\n", e->name[m->in[1]]);
      out(e, "    for (int k = 0; k < %ld; k++)\n"
             "      %s[i * %ld + k] = (k == lab ? -%s : 0.0f) + %s * expf(%s[i * %ld + k]);\n",
          no, o, no, dl, dl, e->name[n->in[1]], no);
    } else {
      out(e, "    float acc = 0.0f;\n    for (int k = 0; k < %ld; k++)\n      acc += %s[i * %ld + k];\n", no, x, no);
      out(e, "    for (int k = 0; k < %ld; k++)\n"
             "      %s[i * %ld + k] = %s[i * %ld + k] - expf(%s[i * %ld + k]) * acc;\n",
          no, o, no, x, no, e->name[n->in[1]], no);
    }
    break;
  case OP_NLL_GRAD: {
    char dl[128];
    operand(e, dl, sizeof dl, n->in[0], true);
    out(e, "    for (int k = 0; k < %ld; k++)\n"
           "      %s[i * %ld + k] = k == (int)%s[i] ? -%s : 0.0f;\n",
        no, o, no, e->name[n->in[1]], dl);
    break;
  }
  case OP_LOSS_SEED:
    out(e, "    %s[i] = i < nc ? 1.0f / (float)n : 0.0f;\n", o);
    break;
  default:
    fail(n, "no per-example emitter");
  }
  out(e, "  }\n");
}

// sum_batch: the chunk's partial sum over its examples (padding adds 0).
static void emit_sum_batch(CEmit *e, int id) {
  long no = numel(e, id);
  const char *x = e->name[nd(e, id)->in[0]];
  out(e, "  for (int k = 0; k < %ld; k++) {\n    float acc = 0.0f;\n"
         "    for (int i = 0; i < CHUNK; i++)\n      acc += %s[i * %ld + k];\n"
         "    %s[k] = acc;\n  }\n", no, x, no, e->name[id]);
}

// ---- Leaves --------------------------------------------------------------

static void emit_input(CEmit *e, int id) {
  long ne = numel(e, id);
  out(e, "  for (int i = 0; i < CHUNK; i++)\n    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = i < nc ? x[(size_t)(i0 + i) * %ld + k] : 0.0f;\n",
      ne, e->name[id], ne, ne);
}

static void emit_label(CEmit *e, int id) {
  out(e, "  for (int i = 0; i < CHUNK; i++)\n"
         "    %s[i] = i < nc && labels ? (float)labels[i0 + i] : 0.0f;\n", e->name[id]);
}

// Random draws come from the example's own stream R[i] (rng_stream(seed,
// example index)), node after node in graph order, as the interpreter does.
static void emit_normal(CEmit *e, int id) {
  long ne = numel(e, id);
  out(e, "  for (int i = 0; i < CHUNK; i++)\n    for (int k = 0; k < %ld; k++)\n"
         "      %s[i * %ld + k] = i < nc ? (float)rng_normal(&R[i]) : 0.0f;\n",
      ne, e->name[id], ne);
}

static void emit_noise(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long ne = numel(e, id);
  out(e, "  memcpy(%s, %s, sizeof(float) * CHUNK * %ld);\n", e->name[id], e->name[n->in[0]], ne);
  char a[64], b[64], c[64], d[64];
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    noise_apply(%s + i * %ld, %ld, %s, %s, %s, %s, &R[i]);\n",
      e->name[id], ne, ne, flit(a, sizeof a, n->attr.a), flit(b, sizeof b, n->attr.b),
      flit(c, sizeof c, n->attr.c), flit(d, sizeof d, n->attr.d));
}

// ---- Layers ----------------------------------------------------------------

static const char *act_name(int act) {
  return act == KERN_ACT_RELU ? "KERN_ACT_RELU" : act == KERN_ACT_SIGMOID ? "KERN_ACT_SIGMOID"
                                                                          : "KERN_ACT_NONE";
}

static void need_param(const CEmit *e, const Node *n, int id) {
  if (nd(e, id)->op != OP_PARAM)
    fail(n, "a layer's weight must be a parameter");
}

static void emit_conv(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  int Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int k = n->attr.k, P = Ho * Wo, K = Ci * k * k;
  int gi = gemm(e, "conv forward", P, Co, K, P, K, P, 0);
  if ((long)K * P > e->col) e->col = (long)K * P;
  out(e, "  for (int i = 0; i < CHUNK; i++)\n"
         "    kern_conv_fwd(&s->k[%d], %s + i * %d, %s, %s, %s + i * %d, COL,\n"
         "                  %d, %d, %d, %d, %d, %d, %d, %d, %d, %s);\n",
      gi, e->name[n->in[0]], Ci * H * W, e->name[n->in[1]], e->name[n->in[2]], e->name[id],
      Co * P, Ci, H, W, Co, k, n->attr.stride, n->attr.pad, Ho, Wo, act_name(e->f->act[id]));
}

static void emit_deconv(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  int Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int k = n->attr.k, Pi = Hi * Wi, K = Co * k * k;
  need_param(e, n, n->in[1]);
  int gi = gemm(e, "deconv forward", Pi, K, Ci, Pi, Ci, Pi, 0);
  if ((long)K * Pi > e->col) e->col = (long)K * Pi;
  out(e, "  for (int i = 0; i < CHUNK; i++)\n"
         "    kern_deconv_fwd(&s->k[%d], %s + i * %d, S + %ld, %s, %s + i * %d, COL,\n"
         "                    %d, %d, %d, %d, %d, %d, %d, %d, %s);\n",
      gi, e->name[n->in[0]], Ci * Pi, e->wt[nd(e, n->in[1])->param], e->name[n->in[2]],
      e->name[id], Co * Ho * Wo, Co, Ho, Wo, k, n->attr.stride, n->attr.pad, Hi, Wi,
      act_name(e->f->act[id]));
}

static void emit_dense(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int in = (int)numel(e, n->in[0]), o = (int)numel(e, id);
  need_param(e, n, n->in[1]);
  int gi = gemm(e, "dense forward", o, e->chunk, in, o, in, o, 0);
  out(e, "  kern_dense_fwd(&s->k[%d], %s, S + %ld, %s, %s, CHUNK, %d, %s);\n", gi,
      e->name[n->in[0]], e->wt[nd(e, n->in[1])->param], e->name[n->in[2]], e->name[id], o,
      act_name(e->f->act[id]));
}

// The backward ops of one layer (lead and the ops grouped with it): one
// loop over the examples reading dy, masked on the fly by the ReLU output.
static void emit_backward_group(CEmit *e, int lead) {
  const Graph *g = e->g;
  const Fusion *f = e->f;
  int dy = f->dy[lead], mask = f->mask[lead];
  int members[8], nm = 0;
  bool dense = false;
  for (int j = lead; j < g->nnodes && nm < 8; j++)
    if (f->live[j] && !f->skip[j] && f->lead[j] == lead) {
      members[nm++] = j;
      if (g->nodes[j].op == OP_DENSE_DX || g->nodes[j].op == OP_DENSE_DW)
        dense = true;
    }
  const Shape ds = nd(e, dy)->shape;
  long dyn = numel(e, dy);
  for (int a = 0; a < nm; a++) {
    int j = members[a];
    if (g->nodes[j].op != OP_CONV2D_DX && g->nodes[j].op != OP_DECONV2D_DX && g->nodes[j].op != OP_DENSE_DX)
      out(e, "  memset(%s, 0, sizeof(float) * %ld);\n", e->name[j], numel(e, j));
  }
  if (dense) {
    // Dense: one GEMM per op over the whole chunk.
    if (mask >= 0) {
      out(e, "  const float *dy%d = kern_mask(%s, %s, CHUNK * %ld, MASK);\n", lead,
          e->name[dy], e->name[fuse_root(f, mask)], dyn);
      if (dyn * e->chunk > e->maskbuf) e->maskbuf = dyn * e->chunk;
    } else {
      out(e, "  const float *dy%d = %s;\n", lead, e->name[dy]);
    }
    for (int a = 0; a < nm; a++) {
      int j = members[a];
      const Node *n = nd(e, j);
      int o = (int)dyn;
      if (n->op == OP_DENSE_DX) {
        int in = (int)numel(e, j);
        int gi = gemm(e, "dense dx", in, e->chunk, o, in, o, in, 0);
        out(e, "  kern_dense_dx(&s->k[%d], dy%d, %s, %s);\n", gi, lead, e->name[n->in[1]], e->name[j]);
      } else if (n->op == OP_DENSE_DW) {
        int in = (int)numel(e, n->in[1]);
        int gi = gemm(e, "dense dw", in, o, e->chunk, in, e->chunk, in, 1);
        out(e, "  kern_dense_dw(&s->k[%d], dy%d, %s, %s, DYT, CHUNK, %d);\n", gi, lead,
            e->name[n->in[1]], e->name[j], o);
        if ((long)o * e->chunk > e->dyt) e->dyt = (long)o * e->chunk;
      } else if (n->op == OP_BIAS_GRAD) {
        out(e, "  for (int i = 0; i < CHUNK; i++)\n    kern_bias_grad(dy%d + i * %ld, %d, %ld, %s);\n",
            lead, dyn, ds.dim[0], dyn / ds.dim[0], e->name[j]);
      } else {
        fail(n, "mixed backward group");
      }
    }
    return;
  }
  out(e, "  for (int i = 0; i < CHUNK; i++) {\n");
  if (mask >= 0) {
    out(e, "    const float *dy = kern_mask(%s + i * %ld, %s + i * %ld, %ld, MASK);\n",
        e->name[dy], dyn, e->name[fuse_root(f, mask)], dyn, dyn);
    if (dyn > e->maskbuf) e->maskbuf = dyn;
  } else {
    out(e, "    const float *dy = %s + i * %ld;\n", e->name[dy], dyn);
  }
  for (int a = 0; a < nm; a++) {
    int j = members[a];
    const Node *n = nd(e, j);
    int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
    switch (n->op) {
    case OP_CONV2D_DX: case OP_CONV2D_DW: {
      // dy [Co][Ho][Wo]; x / dx [Ci][H][W].
      Shape xs = n->op == OP_CONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
      int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2];
      int P = Ho * Wo, K = Ci * k * k;
      if ((long)K * P > e->col) e->col = (long)K * P;
      if (n->op == OP_CONV2D_DX) {
        need_param(e, n, n->in[1]);
        int gi = gemm(e, "conv dx", P, K, Co, P, Co, P, 0);
        out(e, "    kern_conv_dx(&s->k[%d], dy, S + %ld, %s + i * %d, COL, %d, %d, %d, %d, %d, %d, %d, %d);\n",
            gi, e->wt[nd(e, n->in[1])->param], e->name[j], Ci * H * W, Ci, H, W, k, st, pd, Ho, Wo);
      } else {
        int gi = gemm(e, "conv dw", K, Co, P, K, P, K, 1);
        out(e, "    kern_conv_dw(&s->k[%d], dy, %s + i * %d, %s, COL, %d, %d, %d, %d, %d, %d, %d, %d);\n",
            gi, e->name[n->in[1]], Ci * H * W, e->name[j], Ci, H, W, k, st, pd, Ho, Wo);
      }
      break;
    }
    case OP_DECONV2D_DX: case OP_DECONV2D_DW: {
      // dy [Co][Ho][Wo] (the deconv's output); x / dx [Ci][Hi][Wi].
      Shape xs = n->op == OP_DECONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
      int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2];
      int Pi = Hi * Wi, K = Co * k * k;
      if ((long)K * Pi > e->col) e->col = (long)K * Pi;
      if (n->op == OP_DECONV2D_DX) {
        int gi = gemm(e, "deconv dx", Pi, Ci, K, Pi, K, Pi, 0);
        out(e, "    kern_deconv_dx(&s->k[%d], dy, %s, %s + i * %d, COL, %d, %d, %d, %d, %d, %d, %d, %d);\n",
            gi, e->name[n->in[1]], e->name[j], Ci * Pi, Co, Ho, Wo, k, st, pd, Hi, Wi);
      } else {
        int gi = gemm(e, "deconv dw", K, Ci, Pi, K, Pi, K, 1);
        out(e, "    kern_deconv_dw(&s->k[%d], dy, %s + i * %d, %s, COL, %d, %d, %d, %d, %d, %d, %d, %d);\n",
            gi, e->name[n->in[1]], Ci * Pi, e->name[j], Co, Ho, Wo, k, st, pd, Hi, Wi);
      }
      break;
    }
    case OP_BIAS_GRAD:
      out(e, "    kern_bias_grad(dy, %d, %ld, %s);\n", ds.dim[0], dyn / ds.dim[0], e->name[j]);
      break;
    default:
      fail(n, "mixed backward group");
    }
  }
  out(e, "  }\n");
}

// ---- One node ---------------------------------------------------------------

static void emit_comment(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char sh[64];
  out(e, "  /* ");
  if (n->loc.line)
    out(e, "%s:%d: ", n->loc.file, n->loc.line);
  out(e, "%s %s%s", ir_op_name(n->op), n->batched ? "" : "param ", shape_str(n->shape, sh));
  if (e->f->act[id])
    out(e, " + %s", e->f->act[id] == KERN_ACT_RELU ? "relu" : "sigmoid");
  if (op_is_layer_backward(n->op) && e->f->mask[id] >= 0)
    out(e, ", relu mask folded");
  if ((n->op == OP_SIGMOID_GRAD || n->op == OP_LOG_SOFTMAX_GRAD) && e->f->skip[n->in[0]])
    out(e, ", %s folded", ir_op_name(nd(e, n->in[0])->op));
  out(e, " -> %s */\n", e->name[id]);
}

static void emit_node(CEmit *e, int id) {
  const Fusion *f = e->f;
  const Node *n = nd(e, id);
  if (f->skip[id])
    return;
  if (op_is_layer_backward(n->op)) {
    if (f->lead[id] != id)
      return;
    for (int j = id; j < e->g->nnodes; j++)
      if (f->live[j] && !f->skip[j] && f->lead[j] == id)
        emit_comment(e, j);
    emit_backward_group(e, id);
    return;
  }
  emit_comment(e, id);
  switch (n->op) {
  case OP_INPUT:    emit_input(e, id); break;
  case OP_LABEL:    emit_label(e, id); break;
  case OP_NORMAL:   emit_normal(e, id); break;
  case OP_NOISE:    emit_noise(e, id); break;
  case OP_CONV2D:   emit_conv(e, id); break;
  case OP_DECONV2D: emit_deconv(e, id); break;
  case OP_DENSE:    emit_dense(e, id); break;
  case OP_SUM: case OP_MEAN: case OP_MSE: case OP_NLL: case OP_LOG_SOFTMAX:
  case OP_LOG_SOFTMAX_GRAD: case OP_NLL_GRAD: case OP_LOSS_SEED:
    emit_rowwise(e, id);
    break;
  case OP_SUM_BATCH: emit_sum_batch(e, id); break;
  default:
    emit_elementwise(e, id);
  }
}

// ---- Setup: parameters, gradient block, transposed weights --------------

static void layout_params(CEmit *e) {
  const Graph *g = e->g;
  e->poff = xcalloc(g->nparams, sizeof(long));
  e->wt = xcalloc(g->nparams, sizeof(long));
  e->grad_of = xcalloc(g->nnodes, sizeof(int));
  e->in_grad_block = xcalloc(g->nnodes, sizeof(bool));
  for (int i = 0; i < g->nnodes; i++)
    e->grad_of[i] = -1;
  long off = 0;
  for (int p = 0; p < g->nparams; p++) {
    e->poff[p] = off;
    off += (long)shape_numel(g->params[p].shape);
    if (!g->params[p].frozen)
      e->n_trainable = off;
    e->wt[p] = -1;
    if (!g->params[p].frozen && g->params[p].grad >= 0) {
      e->grad_of[g->params[p].grad] = p;
      e->in_grad_block[g->params[p].grad] = true;
    }
  }
  e->n_params = off;
  // Weights read transposed: conv in dx, deconv and dense in forward.
  long s = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    if (!e->f->live[i] || e->f->skip[i])
      continue;
    if (n->op == OP_CONV2D_DX || n->op == OP_DECONV2D || n->op == OP_DENSE) {
      need_param(e, n, n->in[1]);
      int p = nd(e, n->in[1])->param;
      if (e->wt[p] < 0) {
        e->wt[p] = s;
        s += ((long)shape_numel(g->params[p].shape) + 15) & ~15L;
      }
    }
  }
  e->shared = s;
}

// ---- Files ----------------------------------------------------------------

static void emit_header_comment(CEmit *e, const char *file) {
  const Graph *g = e->g;
  out(e, "// %s — generated by netc %s from %s (source hash %016llx).\n", file, NETC_VERSION,
      g->path, (unsigned long long)g->source_hash);
  out(e, "// Do not edit: regenerate with `netc %s -o DIR`%s.\n", g->path, e->opt.fuse ? "" : " --no-fuse");
}

static int write_h(CEmit *e, const char *dir) {
  const Graph *g = e->g;
  char path[4096], file[512];
  snprintf(file, sizeof file, "%s.h", g->model);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  e->out = fopen(path, "w");
  if (!e->out) {
    fprintf(stderr, "netc: error: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  emit_header_comment(e, file);
  char *up = sanitize(g->model);
  for (char *p = up; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p -= 32;
  out(e, "#ifndef NETC_GEN_%s_H\n#define NETC_GEN_%s_H\n\n#include \"model.h\"\n\n", up, up);
  out(e, "// The %s model for batches of at most %d examples.  Parameters start\n"
         "// at zero: model_init_params or a checkpoint fills them.\n", g->model, e->opt.batch);
  out(e, "NetModel *%s_new(void);\n\n#endif\n", g->model);
  return fclose(e->out) ? 1 : 0;
}

static void emit_tables(CEmit *e) {
  const Graph *g = e->g;
  out(e, "static NetTensor tensors[%d] = {\n", g->nparams > 0 ? g->nparams : 1);
  for (int p = 0; p < g->nparams; p++) {
    const Param *pr = &g->params[p];
    out(e, "  {\"%s\", %d, {", pr->name, pr->shape.rank);
    for (int d = 0; d < 4; d++)
      out(e, "%s%d", d ? ", " : "", d < pr->shape.rank ? pr->shape.dim[d] : 0);
    out(e, "}, %ld, %lld, %d, %d},\n", e->poff[p], (long long)shape_numel(pr->shape), pr->fan_in,
        pr->frozen ? 1 : 0);
  }
  out(e, "};\n\n");
  out(e, "static NetOutput outputs[%d] = {\n", g->nexports > 0 ? g->nexports : 1);
  for (int i = 0; i < g->nexports; i++)
    out(e, "  {\"%s\", %lld},\n", g->exports[i].name, (long long)shape_numel(nd(e, g->exports[i].node)->shape));
  out(e, "};\n\n");
}

static void emit_buffers(CEmit *e, long scratch) {
  const Graph *g = e->g;
  char sh[64];
  out(e, "// Buffers: the chunk arena A (per thread; offsets from the memory plan),\n"
         "// parameters P, the chunk's gradient block G, transposed weights S.\n");
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    if (!e->f->live[i] || n->op == OP_CONST)
      continue;
    if (n->op == OP_PARAM) {
      out(e, "#define %s (P + %ld)   /* %s */\n", e->name[i], e->poff[n->param], shape_str(n->shape, sh));
    } else if (e->in_grad_block[i]) {
      out(e, "#define %s (G + %ld)   /* %s */\n", e->name[i], e->poff[e->grad_of[i]], shape_str(n->shape, sh));
    } else if (e->f->alias[i] >= 0) {
      out(e, "#define %s %s   /* %s, same buffer */\n", e->name[i], e->name[fuse_root(e->f, i)],
          shape_str(n->shape, sh));
    } else if (e->p->offset[i] >= 0) {
      out(e, "#define %s (A + %ld)   /* %s%s, steps %ld..%ld */\n", e->name[i], e->p->offset[i],
          n->batched ? "CHUNK x " : "", shape_str(n->shape, sh), e->p->first[i], e->p->last[i]);
    }
  }
  long at = e->p->arena;
  out(e, "#define COL (A + %ld)    /* im2col scratch, %ld floats */\n", at, e->col);
  at += (e->col + 15) & ~15L;
  out(e, "#define MASK (A + %ld)   /* masked gradient tile, %ld floats */\n", at, e->maskbuf);
  at += (e->maskbuf + 15) & ~15L;
  out(e, "#define DYT (A + %ld)    /* transposed gradient, %ld floats */\n\n", at, e->dyt);
  (void)scratch;
}

static void emit_chunk_fn(CEmit *e) {
  const Graph *g = e->g;
  out(e, "// One chunk: examples [i0, i0 + nc) of a batch of n; returns the sum of\n"
         "// their losses; with train, G receives the chunk's gradient sums.\n");
  out(e, "static double chunk_run(Impl *s, float *A, float *G, const float *x, const uint8_t *labels,\n"
         "                        int i0, int nc, int n, uint64_t seed, int train, float **outputs) {\n");
  out(e, "  const float *P = s->m.params;\n  const float *S = s->arena;\n  Rng R[CHUNK];\n"
         "  for (int i = 0; i < nc; i++)\n    R[i] = rng_stream(seed, (uint64_t)(i0 + i));\n"
         "  (void)P, (void)S, (void)R, (void)G, (void)labels, (void)n, (void)x;\n\n");
  for (int i = 0; i < g->nforward; i++)
    emit_node(e, i);
  out(e, "\n  /* exports and the loss */\n  if (outputs) {\n");
  for (int j = 0; j < g->nexports; j++) {
    int id = g->exports[j].node;
    long ne = numel(e, id);
    out(e, "    if (outputs[%d])\n      memcpy(outputs[%d] + (size_t)i0 * %ld, %s, sizeof(float) * nc * %ld);\n",
        j, j, ne, e->name[id], ne);
  }
  out(e, "  }\n  double loss = 0.0;\n");
  if (g->loss >= 0)
    out(e, "  for (int i = 0; i < nc; i++)\n    loss += %s[i];\n", e->name[g->loss]);
  out(e, "  if (!train)\n    return loss;\n\n");
  for (int i = g->nforward; i < g->nnodes; i++)
    emit_node(e, i);
  out(e, "  return loss;\n}\n\n");
}

static void emit_step_fns(CEmit *e) {
  const Graph *g = e->g;
  out(e, "// Transposes of the weights that kernels read transposed (trap 3 of the\n"
         "// libxsmm notes: no transposed A), once per step.\n"
         "static void transpose_weights(Impl *s) {\n  const float *P = s->m.params;\n  float *S = s->arena;\n  (void)P, (void)S;\n");
  for (int p = 0; p < g->nparams; p++) {
    if (e->wt[p] < 0)
      continue;
    Shape sh = g->params[p].shape;
    long rows = sh.dim[0], cols = shape_numel(sh) / sh.dim[0];
    out(e, "  kern_transpose(%s, %ld, %ld, S + %ld);\n", e->name[g->params[p].node], rows, cols, e->wt[p]);
  }
  out(e, "}\n\n");
  out(e,
      "static double run_batch(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                        uint64_t seed, int train, float **outputs) {\n"
      "  Impl *s = m->impl;\n"
      "  if (n < 1 || n > BATCH) {\n"
      "    fprintf(stderr, \"%s: batch of %%d examples (1..%%d supported)\\n\", n, BATCH);\n"
      "    abort();\n  }\n"
      "  transpose_weights(s);\n"
      "  const int nch = (n + CHUNK - 1) / CHUNK;\n"
      "  double loss[NCHUNK];\n"
      "  // One parallel region per step: the chunks, then (after the implicit\n"
      "  // barrier) the chunk gradients added in chunk order, so the sum does\n"
      "  // not depend on the threads.\n"
      "  #pragma omp parallel num_threads(s->threads)\n"
      "  {\n"
      "    #pragma omp for schedule(static)\n"
      "    for (int c = 0; c < nch; c++) {\n"
      "      float *A = s->arena + ARENA_THREADS + (size_t)omp_get_thread_num() * ARENA_CHUNK;\n"
      "      float *G = s->arena + ARENA_GRADS + (size_t)c * N_TRAINABLE;\n"
      "      int nc = n - c * CHUNK < CHUNK ? n - c * CHUNK : CHUNK;\n"
      "      loss[c] = chunk_run(s, A, G, x, labels, c * CHUNK, nc, n, seed, train, outputs);\n"
      "    }\n"
      "    if (train) {\n"
      "      const float *G = s->arena + ARENA_GRADS;\n"
      "      #pragma omp for schedule(static)\n"
      "      for (size_t j = 0; j < N_TRAINABLE; j++) {\n"
      "        float v = G[j];\n"
      "        for (int c = 1; c < nch; c++)\n"
      "          v += G[(size_t)c * N_TRAINABLE + j];\n"
      "        m->grads[j] = v;\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "  double total = 0.0;\n"
      "  for (int c = 0; c < nch; c++)\n"
      "    total += loss[c];\n"
      "  return total / n;\n}\n\n",
      g->model);
  out(e,
      "static float model_train_step(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                              uint64_t seed) {\n"
      "  return (float)run_batch(m, x, labels, n, seed, 1, NULL);\n}\n\n"
      "static float model_forward(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                           uint64_t seed, float **outputs) {\n"
      "  return (float)run_batch(m, x, labels, n, seed, 0, outputs);\n}\n\n");
}

static void emit_lifecycle(CEmit *e) {
  const Graph *g = e->g;
  out(e,
      "static void *alloc_floats(size_t n) {\n"
      "  void *p = NULL;\n"
      "  if (posix_memalign(&p, 64, sizeof(float) * (n ? n : 1))) {\n"
      "    fprintf(stderr, \"%s: out of memory\\n\");\n    exit(1);\n  }\n"
      "  memset(p, 0, sizeof(float) * (n ? n : 1));\n  return p;\n}\n\n", g->model);
  out(e,
      "// The arena is sized for the thread count, so it is (re)allocated here,\n"
      "// never inside a step.\n"
      "static void model_set_threads(NetModel *m, int threads) {\n"
      "  Impl *s = m->impl;\n"
      "  if (threads < 1)\n    threads = 1;\n"
      "  if (threads > NCHUNK)\n    threads = NCHUNK;\n"
      "  if (s->arena && threads == s->threads)\n    return;\n"
      "  free(s->arena);\n"
      "  s->threads = threads;\n"
      "  s->arena = alloc_floats(ARENA_THREADS + (size_t)threads * ARENA_CHUNK);\n}\n\n"
      "static void model_free(NetModel *m) {\n"
      "  Impl *s = m->impl;\n"
      "  free(s->arena);\n  free(m->params);\n  free(m->grads);\n  free(s);\n}\n\n");
  out(e, "NetModel *%s_new(void) {\n", g->model);
  out(e,
      "  Impl *s = calloc(1, sizeof *s);\n"
      "  if (!s) {\n    fprintf(stderr, \"%s: out of memory\\n\");\n    exit(1);\n  }\n"
      "  NetModel *m = &s->m;\n"
      "  m->name = \"%s\";\n"
      "  m->needs_labels = %d;\n"
      "  m->input_size = %lld;\n"
      "  m->max_batch = BATCH;\n"
      "  m->n_tensors = %d;\n  m->tensors = tensors;\n"
      "  m->n_params = N_PARAMS;\n  m->n_trainable = N_TRAINABLE;\n"
      "  m->params = alloc_floats(N_PARAMS);\n  m->grads = alloc_floats(N_PARAMS);\n"
      "  m->n_outputs = %d;\n  m->outputs = outputs;\n"
      "  m->class_output = %d;\n"
      "  m->train_step = model_train_step;\n  m->forward = model_forward;\n"
      "  m->set_threads = model_set_threads;\n  m->free = model_free;\n  m->impl = s;\n"
      "  m->structure_hash = model_hash_structure(m);\n"
      "  libxsmm_init();\n",
      g->model, g->model, g->label >= 0, g->input >= 0 ? (long long)shape_numel(nd(e, g->input)->shape) : 0LL,
      g->nparams, g->nexports, ir_class_output(g));
  for (int i = 0; i < e->ngemm; i++) {
    GemmDesc *d = &e->gemm[i];
    out(e, "  kern_gemm_init(&s->k[%d], \"%s\", %d, %d, %d, %d, %d, %d, %d);\n", i, d->what, d->m,
        d->n, d->k, d->lda, d->ldb, d->ldc, d->acc);
  }
  out(e, "  model_set_threads(m, omp_get_max_threads());\n  return m;\n}\n\n");
  out(e, "#ifndef NETC_NO_MAIN\nint main(int argc, char **argv) {\n"
         "  NetModel *m = %s_new();\n  int status = driver_main(m, argc, argv);\n"
         "  m->free(m);\n  return status;\n}\n#endif\n", g->model);
}

static int write_c(CEmit *e, const char *dir) {
  const Graph *g = e->g;
  char path[4096], file[512];
  snprintf(file, sizeof file, "%s.c", g->model);
  snprintf(path, sizeof path, "%s/%s", dir, file);

  // The chunk function is generated first into memory: it decides the GEMM
  // kernels and scratch sizes that the file's preamble lists.
  char *body = NULL;
  size_t blen = 0;
  e->out = open_memstream(&body, &blen);
  emit_chunk_fn(e);
  emit_step_fns(e);
  emit_lifecycle(e);
  fclose(e->out);

  long chunk_arena = e->p->arena + ((e->col + 15) & ~15L) + ((e->maskbuf + 15) & ~15L) + ((e->dyt + 15) & ~15L);
  long grads = ((e->n_trainable + 15) & ~15L) * e->nchunk;
  e->out = fopen(path, "w");
  if (!e->out) {
    fprintf(stderr, "netc: error: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  emit_header_comment(e, file);
  out(e, "//\n// Batch %d in %d chunks of %d examples%s.  Parameters: %ld floats (%ld trainable).\n",
      e->opt.batch, e->nchunk, e->chunk, e->opt.fuse ? ", fused" : ", unfused (--no-fuse)",
      e->n_params, e->n_trainable);
  out(e, "// Memory plan: chunk arena %ld floats (%ld without sharing) + %ld scratch, per thread;\n"
         "// chunk gradient blocks %ld floats; transposed weights %ld floats.\n"
         "// Arena: %ld + threads x %ld floats (%.1f KiB with 2 threads).\n\n",
      e->p->arena, e->p->naive, chunk_arena - e->p->arena, grads, e->shared, e->shared + grads,
      chunk_arena, 4.0 * (e->shared + grads + 2 * chunk_arena) / 1024.0);
  out(e, "#include <math.h>\n#include <omp.h>\n#include <stdint.h>\n#include <stdio.h>\n"
         "#include <stdlib.h>\n#include <string.h>\n\n#include \"%s.h\"\n#include \"driver.h\"\n"
         "#include \"kernels.h\"\n#include \"model.h\"\n#include \"noise.h\"\n#include \"rng.h\"\n\n", g->model);
  out(e, "#define BATCH %d\n#define CHUNK %d\n#define NCHUNK %d\n#define N_PARAMS %ld\n"
         "#define N_TRAINABLE %ldu\n",
      e->opt.batch, e->chunk, e->nchunk, e->n_params, e->n_trainable);
  out(e, "#define ARENA_GRADS %ld\n#define ARENA_THREADS %ld\n#define ARENA_CHUNK %ld\n\n",
      e->shared, e->shared + grads, chunk_arena);
  emit_tables(e);
  out(e, "typedef struct {\n  NetModel m;\n  int threads;\n  float *arena;\n  KernGemm k[%d];\n} Impl;\n\n",
      e->ngemm > 0 ? e->ngemm : 1);
  emit_buffers(e, chunk_arena);
  fwrite(body, 1, blen, e->out);
  free(body);
  return fclose(e->out) ? 1 : 0;
}

int emit_model(Graph *g, const char *outdir, const EmitOptions *opt) {
  CEmit e = {.g = g, .opt = *opt};
  bool has_backward = false;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_LOSS_SEED)
      has_backward = true;
  if (!has_backward && g->loss >= 0 && !autodiff(g))
    return 1;
  if (!ops_verify(g))
    return 1;
  if (e.opt.batch < 1) {
    fprintf(stderr, "netc: error: batch must be at least 1\n");
    return 2;
  }
  e.chunk = e.opt.chunk > 0 ? e.opt.chunk : 32;
  if (e.chunk > e.opt.batch)
    e.chunk = e.opt.batch;
  e.nchunk = (e.opt.batch + e.chunk - 1) / e.chunk;
  e.f = fuse_graph(g, e.opt.fuse);
  layout_params(&e);
  bool *pinned = xcalloc(g->nnodes, sizeof(bool));
  if (g->loss >= 0)
    pinned[g->loss] = true;
  for (int i = 0; i < g->nexports; i++)
    pinned[g->exports[i].node] = true;
  e.p = plan_memory(g, e.f, e.chunk, pinned, e.in_grad_block);
  name_nodes(&e);
  if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "netc: error: cannot create %s: %s\n", outdir, strerror(errno));
    return 1;
  }
  if (write_h(&e, outdir) || write_c(&e, outdir))
    return 1;
  return 0;
}

EmitOptions emit_options_default(void) {
  return (EmitOptions){.batch = 256, .chunk = 32, .fuse = true};
}

int emit_main(Graph *g, const char *outdir) {
  EmitOptions o = emit_options_default();
  if (g->batch > 0)
    o.batch = g->batch;
  return emit_model(g, outdir, &o);
}
