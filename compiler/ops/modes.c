// modes.c — the ops that behave differently in training and in evaluation
// (Interp.train; GenChunk.train in generated code): dropout and batch norm.
//
// dropout(x, p) is lowered (lower.c) to two nodes: a mask leaf,
// dropout_mask, and the product dropout(x, mask).  The mask is a random
// leaf like normal: in training, example i draws one rng_uniformf per
// element from its own stream rng_stream(seed, i), in node-id order with
// the other random nodes, and keeps the element (value 1/(1-p)) when the
// draw is below 1-p, else zeroes it (0): PyTorch's inverted dropout,
// bernoulli(1-p) / (1-p).  In evaluation the mask is 1 and draws nothing.
// The gradient of the product w.r.t. x is dy * mask: the same mask.
#include <math.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"
#include "../../runtime/xsmm/kernels_act.h"

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
// In evaluation the mask (1 everywhere) is not written: its only forward
// reader, the dropout, then reads x alone (x * 1 is x, bit for bit), and
// the backward pass that reads it runs in training only.
//
// The draws: one xoshiro step per element, a chain of dependent 64-bit
// operations per stream (3% of cnn_bn's training step), so the chunk's
// streams are stepped side by side (rng_dropout_mask), each still drawing
// its elements in order: the same masks, bit for bit.
static void emit_dropout_mask(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long ne = numel(e, id);
  char keep[64], scale[64];
  out(e, "  if (train)\n    rng_dropout_mask(R, nc, CHUNK, %ld, %s, %s, %s);\n", ne,
      flit(keep, sizeof keep, keep_of(n)), flit(scale, sizeof scale, scale_of(n)), e->name[id]);
}

static void emit_dropout(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char a[128], b[128];
  operand(e, a, sizeof a, n->in[0], n->batched);
  operand(e, b, sizeof b, n->in[1], n->batched);
  open_loops(e, id);
  store(e, id);
  out(e, "train ? %s * %s : %s;\n", a, b, a);
}


// ---- Batch norm ----
//
// batch_norm (a layer with weight w and bias b, PyTorch's BatchNorm1d /
// BatchNorm2d) over the channels, dim 0 of the example's shape: a [C, H, W]
// example has C channels of H·W positions, an [N] example N features of
// one position.  lower.c makes two forward nodes:
//
//   stats = bn_stats(x, running_mean, running_var)   [2, C], not batched
//   y     = batch_norm(x, stats, w, b)
//
// In training, stats holds the batch's mean and 1/sqrt(var + eps), var the
// biased variance over the M = n·positions values of the channel (two
// passes in double, as torch's CPU kernel), and bn_stats updates the
// running statistics: running = (1 - momentum) running + momentum stat,
// with the unbiased variance var·M/(M - 1).  In evaluation, stats holds
// the running mean and 1/sqrt(running_var + eps) and nothing is written.
// y = x·alpha + beta per channel, alpha = invstd·w, beta = b - mean·alpha
// (torch's order of operations).  bn_stats is a constant to autodiff
// (OPF_NO_GRAD): batch_norm's rule for x goes through the statistics:
//
//   gstats = bn_grad_stats(dy, x, stats, w)   [4, C]: mean, k, grad_mean, invstd·w
//   dx     = batch_norm_dx(dy, x, gstats)     (dy - grad_mean - (x - mean)·k)·invstd·w
//
// with grad_mean = Σdy/M and k = Σ(x - mean)dy · invstd²/M in training,
// both 0 in evaluation (torch's batch_norm_backward); dw = Σ dy·(x -
// mean)·invstd, db = Σ dy.

// Channels and positions per channel of an example of shape s.
static int bn_channels(Shape s) { return s.dim[0]; }
static int bn_positions(Shape s) { return (int)(shape_numel(s) / s.dim[0]); }

static bool bn_x_ok(ShapeCx *cx, Shape x) {
  if (x.rank == 0)
    return shape_error(cx, "%s expects channels or features ([C, ...] or [N]), got a scalar []", cx->op);
  return true;
}

static bool shape_batch_norm(ShapeCx *cx, Shape *out) {
  const Attrs *a = cx->attr;
  if (!(a->momentum >= 0.0f && a->momentum <= 1.0f))
    return shape_error(cx, "batch_norm: momentum must be in [0, 1], got %g", a->momentum);
  if (!(a->eps > 0.0f))
    return shape_error(cx, "batch_norm: eps must be positive, got %g", a->eps);
  Shape x = cx->in[0];
  if (!bn_x_ok(cx, x))
    return false;
  Shape c = shape_make(1, (int[]){bn_channels(x)});
  cx->param[0] = cx->param[1] = c;
  if (cx->nin == 4) {
    char buf[64];
    if (!shape_eq(cx->in[1], shape_make(2, (int[]){2, bn_channels(x)})))
      return shape_error(cx, "batch_norm: statistics %s, expected [2, %d]", shape_str(cx->in[1], buf), bn_channels(x));
    if (!shape_eq(cx->in[2], c) || !shape_eq(cx->in[3], c))
      return shape_error(cx, "batch_norm: weight and bias must be [%d]", bn_channels(x));
  }
  *out = x;
  return true;
}

static bool shape_bn_stats(ShapeCx *cx, Shape *out) {
  Shape x = cx->in[0];
  if (!bn_x_ok(cx, x))
    return false;
  Shape c = shape_make(1, (int[]){bn_channels(x)});
  if (!shape_eq(cx->in[1], c) || !shape_eq(cx->in[2], c))
    return shape_error(cx, "bn_stats: running statistics must be [%d]", bn_channels(x));
  *out = shape_make(2, (int[]){2, bn_channels(x)});
  return true;
}

static bool shape_bn_grad_stats(ShapeCx *cx, Shape *out) {
  Shape x = cx->in[1];
  if (!bn_x_ok(cx, x) || !shape_eq(cx->in[0], x))
    return shape_error(cx, "bn_grad_stats: dy and x differ in shape");
  *out = shape_make(2, (int[]){4, bn_channels(x)});
  return true;
}

static bool shape_batch_norm_dx(ShapeCx *cx, Shape *out) {
  if (!shape_eq(cx->in[0], cx->in[1]))
    return shape_error(cx, "batch_norm_dx: dy and x differ in shape");
  *out = cx->in[1];
  return true;
}

static bool shape_batch_norm_dwb(ShapeCx *cx, Shape *out) {
  if (!bn_x_ok(cx, cx->in[0]))
    return false;
  *out = shape_make(1, (int[]){bn_channels(cx->in[0])});
  return true;
}

static int grad_batch_norm(AdState *ad, const Node *n, int which, int dy) {
  Shape xs = ad_at(ad, n->in[0])->shape;
  Shape c = shape_make(1, (int[]){bn_channels(xs)});
  int id;
  switch (which) {
  case 0: {
    int gs = ad_node_in(ad, OP_BN_GRAD_STATS, shape_make(2, (int[]){4, c.dim[0]}), false, 4,
                        (int[]){dy, n->in[0], n->in[1], n->in[2]});
    id = ad_node(ad, OP_BATCH_NORM_DX, xs, true, 3, dy, n->in[0], gs);
    break;
  }
  case 2: id = ad_node(ad, OP_BATCH_NORM_DW, c, false, 3, dy, n->in[0], n->in[1]); break;
  case 3: id = ad_node(ad, OP_BATCH_NORM_DB, c, false, 1, dy, 0, 0); break;
  default: return -1;        // the statistics: OPF_NO_GRAD, never asked
  }
  return id;
}

// The interpreter's statistics: the whole batch at once (the oracle).
static void interp_bn_stats(Interp *ip, const Node *n, float *out, const float *const *in) {
  Shape xs = ip->g->nodes[n->in[0]].shape;
  int C = bn_channels(xs), P = bn_positions(xs);
  size_t m = (size_t)shape_numel(xs);
  float *rm = (float *)in[1], *rv = (float *)in[2];   // the buffers: a training step writes them
  double eps = n->attr.eps, mom = n->attr.momentum;
  for (int c = 0; c < C; c++) {
    if (!ip->train) {
      out[c] = rm[c];
      out[C + c] = (float)(1.0 / sqrt((double)rv[c] + eps));
      continue;
    }
    double sum = 0, ss = 0, M = (double)ip->n * P;
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++)
        sum += in[0][i * m + (size_t)c * P + q];
    double mean = sum / M;
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++) {
        double d = in[0][i * m + (size_t)c * P + q] - mean;
        ss += d * d;
      }
    double var = ss / M;
    out[c] = (float)mean;
    out[C + c] = (float)(1.0 / sqrt(var + eps));
    rm[c] = (float)(mom * mean + (1.0 - mom) * rm[c]);
    rv[c] = (float)(mom * (M > 1 ? ss / (M - 1) : var) + (1.0 - mom) * rv[c]);
  }
}

// y = x·alpha + beta, alpha = invstd·w, beta = b - mean·alpha (floats, as torch).
static void interp_batch_norm(Interp *ip, const Node *n, float *out, const float *const *in) {
  int C = bn_channels(n->shape), P = bn_positions(n->shape);
  size_t m = (size_t)shape_numel(n->shape);
  for (int c = 0; c < C; c++) {
    float alpha = in[1][C + c] * in[2][c];
    float beta = in[3][c] - in[1][c] * alpha;
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++) {
        size_t k = i * m + (size_t)c * P + q;
        // In double: the product of two floats is exact there, so the
        // value does not depend on whether the compiler contracts the
        // multiply-add into an FMA (the oracle must not move with -O).
        out[k] = (float)((double)in[0][k] * alpha + beta);
      }
  }
}

// Per channel: mean, k, grad_mean, invstd·w (sums in double).
static void interp_bn_grad_stats(Interp *ip, const Node *n, float *out, const float *const *in) {
  Shape xs = ip->g->nodes[n->in[1]].shape;
  int C = bn_channels(xs), P = bn_positions(xs);
  size_t m = (size_t)shape_numel(xs);
  const float *dy = in[0], *x = in[1], *st = in[2], *w = in[3];
  for (int c = 0; c < C; c++) {
    double mean = st[c], invstd = st[C + c], sum = 0, dotp = 0, M = (double)ip->n * P;
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++) {
        size_t k = i * m + (size_t)c * P + q;
        sum += dy[k];
        dotp += (x[k] - mean) * dy[k];
      }
    out[c] = (float)mean;
    out[C + c] = ip->train ? (float)(dotp * invstd * invstd / M) : 0.0f;
    out[2 * C + c] = ip->train ? (float)(sum / M) : 0.0f;
    out[3 * C + c] = (float)(invstd * w[c]);
  }
}

static void interp_batch_norm_dx(Interp *ip, const Node *n, float *out, const float *const *in) {
  int C = bn_channels(n->shape), P = bn_positions(n->shape);
  size_t m = (size_t)shape_numel(n->shape);
  const float *dy = in[0], *x = in[1], *gs = in[2];
  for (int c = 0; c < C; c++)
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++) {
        size_t k = i * m + (size_t)c * P + q;
        // In double, for the same reason as interp_batch_norm's (and the
        // terms cancel: float rounding here is amplified upstream).
        out[k] = (float)(((double)dy[k] - gs[2 * C + c] - ((double)x[k] - gs[c]) * gs[C + c]) * gs[3 * C + c]);
      }
}

// dw = Σ dy·(x - mean)·invstd (torch: dotp·invstd); db = Σ dy.
static void interp_batch_norm_dw(Interp *ip, const Node *n, float *out, const float *const *in) {
  Shape xs = ip->g->nodes[n->in[1]].shape;
  int C = bn_channels(xs), P = bn_positions(xs);
  size_t m = (size_t)shape_numel(xs);
  for (int c = 0; c < C; c++) {
    double dotp = 0, mean = in[2][c];
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++) {
        size_t k = i * m + (size_t)c * P + q;
        dotp += (in[1][k] - mean) * in[0][k];
      }
    out[c] = (float)(dotp * in[2][C + c]);
  }
}

static void interp_batch_norm_db(Interp *ip, const Node *n, float *out, const float *const *in) {
  Shape xs = ip->g->nodes[n->in[0]].shape;
  int C = bn_channels(xs), P = bn_positions(xs);
  size_t m = (size_t)shape_numel(xs);
  (void)n;
  for (int c = 0; c < C; c++) {
    double sum = 0;
    for (int i = 0; i < ip->n; i++)
      for (int q = 0; q < P; q++)
        sum += in[0][i * m + (size_t)c * P + q];
    out[c] = (float)sum;
  }
}

// ---- Batch norm's emitters ----
//
// The batch-wide values cross chunks: the code of bn_stats and
// bn_grad_stats computes a chunk's part, over its nc real examples (the
// padding never enters a statistic), and ends a phase of the chunk work;
// the runtime then combines the parts in chunk order and writes the
// batch's values back into every chunk's buffer (runtime/genmodel.h,
// GEN_REDUCE_*) before the next phase reads them.  See emit.c (phases).

// Element (example i, channel ch, position q) of node id's buffer: the
// channel is ch, not c, which names the chunk in a chunk function.
static void bn_at(char *buf, size_t cap, const CEmit *e, int id, long m, int P) {
  if (P == 1)
    snprintf(buf, cap, "%s[i * %ld + ch]", root_name(e, id), m);
  else
    snprintf(buf, cap, "%s[i * %ld + ch * %d + q]", root_name(e, id), m, P);
}

static void bn_loops(CEmit *e, const char *bound, int P, const char *indent) {
  out(e, "%s  for (int i = 0; i < %s; i++)\n", indent, bound);
  if (P > 1)
    out(e, "%s    for (int q = 0; q < %d; q++)\n", indent, P);
}

// Batch norm's per-channel sums over the chunk's nc real examples, in
// double: for every channel ch, suma = sum of A and sumb = sum of B (B
// may be NULL), A and B being C expressions of pa[k] and pb[k] (element k
// of channel ch of one example, in buffers a and b) and of ctr (the
// channel's centre: the double expression center, of ch; NULL when A and
// B need none).  Then `finish` runs once per channel, with ch, suma, sumb
// (and ctr) defined.  Every line is indented by ind more spaces.
//
// These sums are what the statistics cost: a scalar double sum is a chain
// of dependent adds, one element per add's latency.  Here each channel
// sums in BN_LANES independent lanes (the positions q + l of a [C, H, W]
// example; for a [C] example the channels themselves are the lanes), a
// loop gcc vectorises (float to double conversion, then add or FMA),
// and the lanes are added in order at the end: the same result for any
// thread count, every term still in double as the interpreter's.  The
// `#pragma GCC unroll 1` keeps gcc from unrolling the lane loop completely
// before its vectoriser runs, which would leave scalar code (gcc reads 0
// and 1 alike; clang accepts only 1).
#define BN_LANES 16

static void bn_sums(CEmit *e, int ind, Shape xs, const char *a, const char *b, const char *center, const char *A,
                    const char *B, const char *finish) {
  int C = bn_channels(xs), P = bn_positions(xs);
  long m = (long)shape_numel(xs);
  const char *ctr = center ? "const double ctr = " : NULL;
  if (P == 1) {
    out(e, "%*s{\n%*s  double sa[%d] = {0.0}", ind, "", ind, "", C);
    if (B)
      out(e, ", sb[%d] = {0.0}", C);
    out(e, ";\n");
    if (center)
      out(e, "%*s  double ctr_c[%d];\n%*s  for (int ch = 0; ch < %d; ch++)\n%*s    ctr_c[ch] = %s;\n", ind, "", C, ind,
          "", C, ind, "", center);
    out(e, "%*s  for (int i = 0; i < nc; i++) {\n", ind, "");
    out(e, "%*s    const float *pa = %s + i * %ld%s", ind, "", a, m, b ? ", *pb = " : ";\n");
    if (b)
      out(e, "%s + i * %ld;\n", b, m);
    out(e, "#pragma GCC unroll 1\n%*s    for (int ch = 0; ch < %d; ch++) {\n", ind, "", C);
    out(e, "%*s      const int k = ch;\n", ind, "");
    if (center)
      out(e, "%*s      %sctr_c[ch];\n", ind, "", ctr);
    out(e, "%*s      sa[ch] += %s;\n", ind, "", A);
    if (B)
      out(e, "%*s      sb[ch] += %s;\n", ind, "", B);
    out(e, "%*s    }\n%*s  }\n", ind, "", ind, "");
    out(e, "%*s  for (int ch = 0; ch < %d; ch++) {\n", ind, "", C);
    if (center && strstr(finish, "ctr"))
      out(e, "%*s    %sctr_c[ch];\n", ind, "", ctr);
    out(e, "%*s    const double suma = sa[ch]%s;\n", ind, "", B ? ", sumb = sb[ch]" : "");
    for (const char *l = finish; *l;) {     // one level deeper than below
      const char *nl = strchr(l, '\n');
      out(e, "  %.*s", (int)(nl - l + 1), l);
      l = nl + 1;
    }
    out(e, "%*s  }\n%*s}\n", ind, "", ind, "");
    return;
  }
  int L = P < BN_LANES ? P : BN_LANES, main = P / BN_LANES * BN_LANES, rem = P - main;
  out(e, "%*sfor (int ch = 0; ch < %d; ch++) {\n", ind, "", C);
  if (center)
    out(e, "%*s  %s%s;\n", ind, "", ctr, center);
  out(e, "%*s  double sa[%d] = {0.0}", ind, "", L);
  if (B)
    out(e, ", sb[%d] = {0.0}", L);
  out(e, ";\n%*s  for (int i = 0; i < nc; i++) {\n", ind, "");
  out(e, "%*s    const float *pa = %s + i * %ld + ch * %d", ind, "", a, m, P);
  if (b)
    out(e, ", *pb = %s + i * %ld + ch * %d", b, m, P);
  out(e, ";\n");
  for (int part = 0; part < 2; part++) {
    int lanes = part ? rem : L;
    if (lanes == 0 || (part == 0 && main == 0))
      continue;
    int in = ind + 4;
    if (part == 0) {
      out(e, "%*sfor (int q = 0; q < %d; q += %d)\n", in, "", main, BN_LANES);
      in += 2;
    }
    out(e, "#pragma GCC unroll 1\n%*sfor (int l = 0; l < %d; l++) {\n", in, "", lanes);
    out(e, part ? "%*s  const int k = %d + l;\n" : "%*s  const int k = q + l;\n", in, "", main);
    out(e, "%*s  sa[l] += %s;\n", in, "", A);
    if (B)
      out(e, "%*s  sb[l] += %s;\n", in, "", B);
    out(e, "%*s}\n", in, "");
  }
  out(e, "%*s  }\n", ind, "");
  out(e, "%*s  double suma = 0.0%s;\n%*s  for (int l = 0; l < %d; l++)\n", ind, "", B ? ", sumb = 0.0" : "", ind, "", L);
  out(e, "%*s    suma += sa[l]%s;\n", ind, "", B ? ", sumb += sb[l]" : "");
  out(e, "%s%*s}\n", finish, ind, "");
}

// Training: the chunk's (mean, sum of squared deviations) per channel, in
// one pass over x: the sums of d = x - ctr and d², ctr being the chunk's
// first value of the channel (shifted data: no cancellation unless the
// channel's spread is tiny next to its distance from that value).
// Evaluation: the running statistics, as the reduction would make them.
static void emit_bn_stats(CEmit *e, int id) {
  const Node *n = nd(e, id);
  Shape xs = nd(e, n->in[0])->shape;
  int C = bn_channels(xs), P = bn_positions(xs);
  char eps[64], center[256], finish[512];
  const char *x = root_name(e, n->in[0]);
  const char *s = e->name[id], *rm = e->name[n->in[1]], *rv = e->name[n->in[2]];
  if (e->f->eval_bn[id] >= 0) {   // evaluation: folded into the convolution (conv.c, conv_args)
    out(e, "  if (train) {\n");
  } else {
    out(e, "  if (!train) {\n    for (int ch = 0; ch < %d; ch++) {\n", C);
    out(e, "      %s[ch] = %s[ch];\n      %s[%d + ch] = (float)(1.0 / sqrt((double)%s[ch] + (double)%s));\n    }\n"
           "  } else {\n", s, rm, s, C, rv, flit(eps, sizeof eps, n->attr.eps));
  }
  snprintf(center, sizeof center, "%s[ch * %d]", x, P);
  snprintf(finish, sizeof finish,
           "      const double cnt = (double)nc * %d, m2 = sumb - suma * (suma / cnt);\n"
           "      %s[ch] = (float)(ctr + suma / cnt);\n      %s[%d + ch] = (float)(m2 > 0.0 ? m2 : 0.0);\n",
           P, s, s, C);
  bn_sums(e, 4, xs, x, NULL, center, "(double)pa[k] - ctr", "((double)pa[k] - ctr) * ((double)pa[k] - ctr)", finish);
  out(e, "  }\n");
}
// y = x * alpha + beta per channel, then the epilogue activation when one
// is folded in (the same expressions as the element-wise ops').
static void emit_batch_norm(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int C = bn_channels(n->shape), P = bn_positions(n->shape);
  long m = (long)shape_numel(n->shape);
  char x[256], y[256];
  bn_at(x, sizeof x, e, n->in[0], m, P);
  snprintf(y, sizeof y, P == 1 ? "%s[i * %ld + ch]" : "%s[i * %ld + ch * %d + q]", e->name[id], m, P);
  const char *st = root_name(e, n->in[1]);
  if (e->f->eval_bn[id] >= 0)
    out(e, "  if (train)   /* evaluation: the convolution's folded kernel wrote %s */\n", e->name[id]);
  out(e, "  for (int ch = 0; ch < %d; ch++) {\n", C);
  out(e, "    const float alpha = %s[%d + ch] * %s[ch];\n", st, C, e->name[n->in[2]]);
  out(e, "    const float beta = %s[ch] - %s[ch] * alpha;\n", e->name[n->in[3]], st);
  bn_loops(e, "nc", P, "  ");
  const char *ind = P > 1 ? "  " : "";
  switch (e->f->act[id]) {
  case KERN_ACT_RELU:
    out(e, "%s      {\n%s        const float v = %s * alpha + beta;\n%s        %s = v > 0.0f ? v : 0.0f;\n%s      }\n",
        ind, ind, x, ind, y, ind);
    break;
  case KERN_ACT_SIGMOID:
    out(e, "%s      %s = 1.0f / (1.0f + expf(-(%s * alpha + beta)));\n", ind, y, x);
    break;
  case KERN_ACT_TANH:
    out(e, "%s      %s = tanhf(%s * alpha + beta);\n", ind, y, x);
    break;
  default:
    out(e, "%s      %s = %s * alpha + beta;\n", ind, y, x);
  }
  out(e, "  }\n");
}

// The chunk's (sum dy, sum (x - mean) dy) per channel, as doubles in the
// first half of the [4, C] buffer; the reduction makes it (mean, k,
// grad_mean, invstd * w).  The chunk's parts of dw (sum (x - mean) dy
// invstd) and db (sum dy) are these sums too: when fuse.c folded them
// here, they are written from the same pass, not from two more.
static void emit_bn_grad_stats(CEmit *e, int id) {
  const Node *n = nd(e, id);
  Shape xs = nd(e, n->in[1])->shape;
  int C = bn_channels(xs);
  const char *st = root_name(e, n->in[2]), *gs = e->name[id];
  int dw = fuse_bn_part(e->g, e->f, id, false), db = fuse_bn_part(e->g, e->f, id, true);
  char center[256], finish[1024];
  for (int j = 0; j < 2; j++) {
    int f = j ? db : dw;
    if (f >= 0)
      out(e, "  /* %s param [%d] -> %s, from the same sums */\n", ir_op_name(nd(e, f)->op), C, e->name[f]);
  }
  snprintf(center, sizeof center, "(double)%s[ch]", st);
  int len = snprintf(finish, sizeof finish, "    ((double *)%s)[ch] = suma;\n    ((double *)%s)[%d + ch] = sumb;\n", gs,
                     gs, C);
  if (dw >= 0)
    len += snprintf(finish + len, sizeof finish - len, "    %s[ch] = (float)(sumb * %s[%d + ch]);\n", e->name[dw], st, C);
  if (db >= 0)
    snprintf(finish + len, sizeof finish - len, "    %s[ch] = (float)suma;\n", e->name[db]);
  bn_sums(e, 2, xs, root_name(e, n->in[0]), root_name(e, n->in[1]), center, "pa[k]", "((double)pb[k] - ctr) * pa[k]",
          finish);
}

// Padding examples get 0: their dy is 0, but the batch terms are not.
static void emit_batch_norm_dx(CEmit *e, int id) {
  const Node *n = nd(e, id);
  int C = bn_channels(n->shape), P = bn_positions(n->shape);
  long m = (long)shape_numel(n->shape);
  char dy[256], x[256], dx[256];
  bn_at(dy, sizeof dy, e, n->in[0], m, P);
  bn_at(x, sizeof x, e, n->in[1], m, P);
  snprintf(dx, sizeof dx, P == 1 ? "%s[i * %ld + ch]" : "%s[i * %ld + ch * %d + q]", e->name[id], m, P);
  const char *gs = root_name(e, n->in[2]);
  if (P == 1) {              // the channels are the contiguous, vector dimension
    out(e, "  for (int i = 0; i < nc; i++)\n    for (int ch = 0; ch < %d; ch++)\n", C);
    out(e, "      %s = (%s - %s[%d + ch] - (%s - %s[ch]) * %s[%d + ch]) * %s[%d + ch];\n", dx, dy, gs, 2 * C, x, gs, gs,
        C, gs, 3 * C);
  } else {
    out(e, "  for (int ch = 0; ch < %d; ch++) {\n", C);
    out(e, "    const float mean = %s[ch], k = %s[%d + ch], grad_mean = %s[%d + ch], iw = %s[%d + ch];\n", gs, gs, C,
        gs, 2 * C, gs, 3 * C);
    bn_loops(e, "nc", P, "  ");
    out(e, "        %s = (%s - grad_mean - (%s - mean) * k) * iw;\n  }\n", dx, dy, x);
  }
  out(e, "  if (nc < CHUNK)\n    memset(%s + nc * %ld, 0, sizeof(float) * (CHUNK - nc) * %ld);\n", e->name[id], m, m);
}

void bn_dx_example(CEmit *e, int id, const char *dst, int ind) {
  const Node *n = nd(e, id);
  int C = bn_channels(n->shape), P = bn_positions(n->shape);
  long m = (long)shape_numel(n->shape);
  char dy[256], x[256];
  bn_at(dy, sizeof dy, e, n->in[0], m, P);
  bn_at(x, sizeof x, e, n->in[1], m, P);
  const char *gs = root_name(e, n->in[2]);
  out(e, "%*s/* batch_norm_dx [%ld] of example i -> %s (folded: %s has no buffer) */\n", ind, "", m, dst, e->name[id]);
  if (P == 1) {
    out(e, "%*sfor (int ch = 0; ch < %d; ch++)\n", ind, "", C);
    out(e, "%*s  %s[ch] = (%s - %s[%d + ch] - (%s - %s[ch]) * %s[%d + ch]) * %s[%d + ch];\n", ind, "", dst, dy, gs,
        2 * C, x, gs, gs, C, gs, 3 * C);
    return;
  }
  out(e, "%*sfor (int ch = 0; ch < %d; ch++) {\n", ind, "", C);
  out(e, "%*s  const float mean = %s[ch], k = %s[%d + ch], grad_mean = %s[%d + ch], iw = %s[%d + ch];\n", ind, "", gs,
      gs, C, gs, 2 * C, gs, 3 * C);
  out(e, "%*s  for (int q = 0; q < %d; q++)\n", ind, "", P);
  out(e, "%*s    %s[ch * %d + q] = (%s - grad_mean - (%s - mean) * k) * iw;\n%*s}\n", ind, "", dst, P, dy, x, ind, "");
}

// The chunk's part of dw (sum dy (x - mean) invstd) or db (sum dy), when
// not folded into bn_grad_stats (--no-fuse): the same sums.
static void emit_batch_norm_dwb(CEmit *e, int id) {
  const Node *n = nd(e, id);
  Shape xs = nd(e, n->in[0])->shape;
  char center[256], finish[256];
  if (n->op == OP_BATCH_NORM_DW) {
    const char *st = root_name(e, n->in[2]);
    snprintf(center, sizeof center, "(double)%s[ch]", st);
    snprintf(finish, sizeof finish, "    %s[ch] = (float)(suma * %s[%d + ch]);\n", e->name[id], st, bn_channels(xs));
    bn_sums(e, 2, xs, root_name(e, n->in[0]), root_name(e, n->in[1]), center, "((double)pb[k] - ctr) * pa[k]", NULL,
            finish);
  } else {
    snprintf(finish, sizeof finish, "    %s[ch] = (float)suma;\n", e->name[id]);
    bn_sums(e, 2, xs, root_name(e, n->in[0]), NULL, NULL, "pa[k]", NULL, finish);
  }
}


static void print_bn(FILE *out, const Node *n) { fprintf(out, " momentum=%g eps=%g", n->attr.momentum, n->attr.eps); }

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

const OpDef op_def_BN_STATS = {"bn_stats", 3, OPF_UNBATCHED | OPF_NO_GRAD, .shape = shape_bn_stats,
                               .kernel = interp_bn_stats, .emit = emit_bn_stats, .print_attrs = print_bn};
const OpDef op_def_BATCH_NORM = {
  "batch_norm", 4, OPF_LAYER, .prefix = "bn",
  .surface = {{"batch_norm", OP_BATCH_NORM, 1, true, 2,
               {ATTR_OPT("momentum", A_REAL, 0.1, momentum), ATTR_OPT("eps", A_REAL, 1e-5, eps)}}},
  .shape = shape_batch_norm, .grad = grad_batch_norm, .kernel = interp_batch_norm, .emit = emit_batch_norm,
  .print_attrs = print_bn};
const OpDef op_def_BN_GRAD_STATS = {"bn_grad_stats", 4, OPF_UNBATCHED, .shape = shape_bn_grad_stats,
                                    .kernel = interp_bn_grad_stats, .emit = emit_bn_grad_stats};
const OpDef op_def_BATCH_NORM_DX = {"batch_norm_dx", 3, .shape = shape_batch_norm_dx, .kernel = interp_batch_norm_dx,
                                    .emit = emit_batch_norm_dx};
const OpDef op_def_BATCH_NORM_DW = {"batch_norm_dw", 3, OPF_UNBATCHED, .shape = shape_batch_norm_dwb,
                                    .kernel = interp_batch_norm_dw, .emit = emit_batch_norm_dwb};
const OpDef op_def_BATCH_NORM_DB = {"batch_norm_db", 1, OPF_UNBATCHED, .shape = shape_batch_norm_dwb,
                                    .kernel = interp_batch_norm_db, .emit = emit_batch_norm_dwb};
