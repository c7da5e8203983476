// pool.c — pooling, upsampling and concatenation, and their gradients:
// shape rules, gradients, interpreter kernels and emitters.
//
// Semantics are PyTorch's (CPU): max_pool2d is MaxPool2d (floor mode, the
// padding is -inf, the gradient goes to the first maximum of a window in
// row-major order, as torch's `val > maxval || isnan(val)` scan picks it);
// avg_pool2d is AvgPool2d with count_include_pad (in floor mode with
// pad <= k/2 every window lies inside the padded input, so the divisor is
// always k*k); global_avg_pool is AdaptiveAvgPool2d(1) + flatten; upsample
// is Upsample(scale_factor=s, mode='nearest') for an integer s (source
// index h / s), upsample_bilinear the same with mode='bilinear',
// align_corners=False; concat is torch.cat along the first per-example axis.
//
// A value of a batched node is [n, numel] (example-major).  The emitted
// code is plain loops with literal bounds over the chunk's examples; a
// gradient op writes its whole output (the pools' scatter zeroes it first).
#include <math.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"

static inline int min_int(int a, int b) { return a < b ? a : b; }

// max_pool2d's and avg_pool2d's stride: 0 (the default) is the window.
static int pool_stride(const Attrs *a) { return a->stride ? a->stride : a->k; }

// ---- Shape rules ----

static bool want_chw(ShapeCx *cx, Shape x) {
  char s[64];
  if (x.rank != 3)
    return shape_error(cx, "%s expects [C, H, W], got %s", cx->op, shape_str(x, s));
  return true;
}

// [C, H, W] -> [C, H', W'], H' = (H + 2 pad - k) / stride + 1 (floor), as
// torch's pooling_output_shape; torch also requires pad <= k/2.
static bool pool_out(ShapeCx *cx, Shape x, Shape *out) {
  const Attrs *a = cx->attr;
  int k = a->k, s = pool_stride(a), p = a->pad;
  if (!want_chw(cx, x))
    return false;
  if (k < 1 || s < 1 || p < 0)
    return shape_error(cx, "%s: k and stride must be positive, pad non-negative", cx->op);
  if (p > k / 2)
    return shape_error(cx, "%s: pad %d is more than half the window (k %d): at most %d", cx->op, p, k, k / 2);
  char sh[64];
  int64_t ph = x.dim[1] + 2 * (int64_t)p, pw = x.dim[2] + 2 * (int64_t)p;   // no int overflow
  if (ph < k || pw < k) {
    if (p)
      return shape_error(cx, "%s: the %dx%d window is larger than the %s input padded by %d on each side", cx->op,
                         k, k, shape_str(x, sh), p);
    return shape_error(cx, "%s: the %dx%d window is larger than the %s input", cx->op, k, k, shape_str(x, sh));
  }
  *out = shape_make(3, (int[]){x.dim[0], (int)((ph - k) / s + 1), (int)((pw - k) / s + 1)});
  return true;
}

static bool shape_pool(ShapeCx *cx, Shape *out) { return pool_out(cx, cx->in[0], out); }

static bool shape_global_avg_pool(ShapeCx *cx, Shape *out) {
  if (!want_chw(cx, cx->in[0]))
    return false;
  *out = shape_make(1, (int[]){cx->in[0].dim[0]});
  return true;
}

static bool shape_upsample(ShapeCx *cx, Shape *out) {
  Shape x = cx->in[0];
  if (!want_chw(cx, x))
    return false;
  int64_t s = cx->attr->stride, h = x.dim[1] * s, w = x.dim[2] * s;
  if (s < 1)
    return shape_error(cx, "%s: the scale must be positive", cx->op);
  if (h > MAX_NUMEL || w > MAX_NUMEL)
    return shape_error(cx, "%s: the result is too large", cx->op);
  *out = shape_make(3, (int[]){x.dim[0], (int)h, (int)w});
  return shape_fits(cx, *out, "the result");
}

// Along the first axis: the other axes must agree.
static bool shape_concat(ShapeCx *cx, Shape *out) {
  char s1[64], s2[64];
  Shape a = cx->in[0];
  if (a.rank == 0)
    return shape_error(cx, "%s joins tensors along their first axis; got a scalar []", cx->op);
  int64_t d0 = 0;
  for (int j = 0; j < cx->nin; j++) {
    Shape b = cx->in[j];
    bool same = b.rank == a.rank;
    for (int r = 1; r < a.rank && same; r++)
      same = b.dim[r] == a.dim[r];
    if (!same)
      return shape_error(cx, "%s: %s and %s differ %s", cx->op, shape_str(a, s1), shape_str(b, s2),
                         b.rank == a.rank ? "beyond the first axis" : "in rank");
    d0 += b.dim[0];
  }
  *out = a;
  out->dim[0] = d0 > MAX_NUMEL ? 0 : (int)d0;
  if (d0 > MAX_NUMEL)
    return shape_error(cx, "%s: the result is too large", cx->op);
  return shape_fits(cx, *out, "the result");
}

// Backward ops: the result has the shape of the forward input (self); the
// forward rule must map it back to dy.
static bool shape_back(ShapeCx *cx, Shape *out, ShapeFn fwd) {
  Shape y;
  ShapeCx f = *cx;
  f.in = &cx->self;
  f.nin = 1;
  if (!fwd(&f, &y))
    return false;
  if (!shape_eq(y, cx->in[0]))
    return shape_error(cx, "%s: dy does not match the forward op's result", cx->op);
  *out = cx->self;
  return true;
}

static bool shape_max_pool2d_grad(ShapeCx *cx, Shape *out) {
  if (!shape_eq(cx->in[1], cx->self))
    return shape_error(cx, "%s: x and dx differ in shape", cx->op);
  return shape_back(cx, out, shape_pool);
}

static bool shape_avg_pool2d_grad(ShapeCx *cx, Shape *out) { return shape_back(cx, out, shape_pool); }
static bool shape_gap_grad(ShapeCx *cx, Shape *out) { return shape_back(cx, out, shape_global_avg_pool); }
static bool shape_upsample_grad(ShapeCx *cx, Shape *out) { return shape_back(cx, out, shape_upsample); }

// dy [D, ...] -> rows [start, start + self.dim[0]) of its first axis.
static bool shape_slice(ShapeCx *cx, Shape *out) {
  Shape d = cx->in[0], s = cx->self;
  bool ok = d.rank == s.rank && d.rank > 0 && cx->attr->start >= 0 &&
            (int64_t)cx->attr->start + s.dim[0] <= d.dim[0];
  for (int r = 1; r < d.rank && ok; r++)
    ok = d.dim[r] == s.dim[r];
  if (!ok)
    return shape_error(cx, "%s: the result is not a slice of dy along its first axis", cx->op);
  *out = s;
  return true;
}

// ---- Gradients ----

static int with_attrs(AdState *ad, int id, const Attrs *a) {
  ad_at(ad, id)->attr = *a;
  return id;
}

static int grad_max_pool2d(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = ad_at(ad, n->in[0])->shape;
  return with_attrs(ad, ad_ew(ad, OP_MAX_POOL2D_GRAD, xs, 2, dy, n->in[0], 0), &n->attr);
}

static int grad_avg_pool2d(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = ad_at(ad, n->in[0])->shape;
  return with_attrs(ad, ad_ew(ad, OP_AVG_POOL2D_GRAD, xs, 1, dy, 0, 0), &n->attr);
}

static int grad_global_avg_pool(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  return ad_ew(ad, OP_GLOBAL_AVG_POOL_GRAD, ad_at(ad, n->in[0])->shape, 1, dy, 0, 0);
}

static int grad_upsample(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = ad_at(ad, n->in[0])->shape;
  return with_attrs(ad, ad_ew(ad, OP_UPSAMPLE_GRAD, xs, 1, dy, 0, 0), &n->attr);
}

static int grad_upsample_bilinear(AdState *ad, const Node *n, int which, int dy) {
  (void)which;
  Shape xs = ad_at(ad, n->in[0])->shape;
  return with_attrs(ad, ad_ew(ad, OP_UPSAMPLE_BILINEAR_GRAD, xs, 1, dy, 0, 0), &n->attr);
}

// Input j's gradient is its rows of dy.
static int grad_concat(AdState *ad, const Node *n, int which, int dy) {
  int start = 0;
  for (int j = 0; j < which; j++)
    start += ad_at(ad, n->in[j])->shape.dim[0];
  int id = ad_ew(ad, OP_SLICE, ad_at(ad, n->in[which])->shape, 1, dy, 0, 0);
  ad_at(ad, id)->attr.start = start;
  return id;
}

// ---- Interpreter kernels ----
//
// Examples are independent: threads take them in static blocks, and the
// results do not depend on the number of threads.

static const Node *input(const Interp *ip, const Node *n, int j) { return &ip->g->nodes[n->in[j]]; }

// Offset of example i in a node's value: 0 when the value is shared.
static size_t at(const Node *n, int i) {
  return n->batched ? (size_t)i * (size_t)shape_numel(n->shape) : 0;
}

// The geometry of a pooling: input [C, H, W], output [C, OH, OW].
typedef struct {
  int C, H, W, OH, OW, k, s, p;
} Pool;

static Pool pool_of(const Shape *x, const Shape *y, const Attrs *a) {
  return (Pool){x->dim[0], x->dim[1], x->dim[2], y->dim[1], y->dim[2], a->k, pool_stride(a), a->pad};
}

// Window (oh, ow) clipped to the input: rows [*h0, *h1), columns [*w0, *w1).
static void pool_window(const Pool *q, int oh, int ow, int *h0, int *h1, int *w0, int *w1) {
  int hs = oh * q->s - q->p, ws = ow * q->s - q->p;
  *h0 = hs < 0 ? 0 : hs;
  *w0 = ws < 0 ? 0 : ws;
  *h1 = min_int(hs + q->k, q->H);
  *w1 = min_int(ws + q->k, q->W);
}

// Index (in one channel plane) of the window's maximum: the first in
// row-major order, NaN taken as torch takes it.
static int window_argmax(const Pool *q, const float *plane, int oh, int ow) {
  int h0, h1, w0, w1;
  pool_window(q, oh, ow, &h0, &h1, &w0, &w1);
  int best = h0 * q->W + w0;
  float m = -INFINITY;
  for (int h = h0; h < h1; h++)
    for (int w = w0; w < w1; w++) {
      float v = plane[h * q->W + w];
      if (v > m || isnan(v)) {
        m = v;
        best = h * q->W + w;
      }
    }
  return best;
}

static void interp_max_pool2d(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *x = input(ip, n, 0);
  Pool q = pool_of(&x->shape, &n->shape, &n->attr);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < q.C; c++) {
      const float *plane = in[0] + at(x, i) + (size_t)c * q.H * q.W;
      float *o = out + at(n, i) + (size_t)c * q.OH * q.OW;
      for (int oh = 0; oh < q.OH; oh++)
        for (int ow = 0; ow < q.OW; ow++)
          o[oh * q.OW + ow] = plane[window_argmax(&q, plane, oh, ow)];
    }
}

// (dy, x) -> dx: each dy to its window's maximum (overlapping windows add).
static void interp_max_pool2d_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0), *x = input(ip, n, 1);
  Pool q = pool_of(&n->shape, &dy->shape, &n->attr);
  memset(out, 0, (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < q.C; c++) {
      const float *plane = in[1] + at(x, i) + (size_t)c * q.H * q.W;
      const float *d = in[0] + at(dy, i) + (size_t)c * q.OH * q.OW;
      float *o = out + at(n, i) + (size_t)c * q.H * q.W;
      for (int oh = 0; oh < q.OH; oh++)
        for (int ow = 0; ow < q.OW; ow++)
          o[window_argmax(&q, plane, oh, ow)] += d[oh * q.OW + ow];
    }
}

static void interp_avg_pool2d(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *x = input(ip, n, 0);
  Pool q = pool_of(&x->shape, &n->shape, &n->attr);
  float div = (float)(q.k * q.k);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < q.C; c++) {
      const float *plane = in[0] + at(x, i) + (size_t)c * q.H * q.W;
      float *o = out + at(n, i) + (size_t)c * q.OH * q.OW;
      for (int oh = 0; oh < q.OH; oh++)
        for (int ow = 0; ow < q.OW; ow++) {
          int h0, h1, w0, w1;
          pool_window(&q, oh, ow, &h0, &h1, &w0, &w1);
          float s = 0.0f;
          for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
              s += plane[h * q.W + w];
          o[oh * q.OW + ow] = s / div;
        }
    }
}

static void interp_avg_pool2d_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0);
  Pool q = pool_of(&n->shape, &dy->shape, &n->attr);
  float div = (float)(q.k * q.k);
  memset(out, 0, (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < q.C; c++) {
      const float *d = in[0] + at(dy, i) + (size_t)c * q.OH * q.OW;
      float *o = out + at(n, i) + (size_t)c * q.H * q.W;
      for (int oh = 0; oh < q.OH; oh++)
        for (int ow = 0; ow < q.OW; ow++) {
          int h0, h1, w0, w1;
          pool_window(&q, oh, ow, &h0, &h1, &w0, &w1);
          float g = d[oh * q.OW + ow] / div;
          for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
              o[h * q.W + w] += g;
        }
    }
}

static void interp_global_avg_pool(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *x = input(ip, n, 0);
  int C = x->shape.dim[0], hw = x->shape.dim[1] * x->shape.dim[2];
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      const float *a = in[0] + at(x, i) + (size_t)c * hw;
      float s = 0.0f;
      for (int k = 0; k < hw; k++)
        s += a[k];
      out[at(n, i) + c] = s / (float)hw;
    }
}

static void interp_global_avg_pool_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0);
  int C = n->shape.dim[0], hw = n->shape.dim[1] * n->shape.dim[2];
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      float g = in[0][at(dy, i) + c] / (float)hw;
      float *o = out + at(n, i) + (size_t)c * hw;
      for (int k = 0; k < hw; k++)
        o[k] = g;
    }
}

// [C, H, W] -> [C, H s, W s]: y[c, h, w] = x[c, h / s, w / s].
static void interp_upsample(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *x = input(ip, n, 0);
  int C = x->shape.dim[0], H = x->shape.dim[1], W = x->shape.dim[2], s = n->attr.stride;
  int OH = H * s, OW = W * s;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      const float *a = in[0] + at(x, i) + (size_t)c * H * W;
      float *o = out + at(n, i) + (size_t)c * OH * OW;
      for (int h = 0; h < OH; h++)
        for (int w = 0; w < OW; w++)
          o[h * OW + w] = a[(h / s) * W + w / s];
    }
}

// dx[c, h, w] = the sum of dy over the s x s block it was copied to.
static void interp_upsample_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0);
  int C = n->shape.dim[0], H = n->shape.dim[1], W = n->shape.dim[2], s = n->attr.stride;
  int OH = H * s, OW = W * s;
  memset(out, 0, (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      const float *d = in[0] + at(dy, i) + (size_t)c * OH * OW;
      float *o = out + at(n, i) + (size_t)c * H * W;
      for (int h = 0; h < OH; h++)
        for (int w = 0; w < OW; w++)
          o[(h / s) * W + w / s] += d[h * OW + w];
    }
}

// Bilinear upsampling by an integer s with align_corners=False, as torch's
// CPU kernel computes it in float: output index d reads input indices i0
// and i1 (= i0 + 1 but at the border) with weights 1 - l and l, source
// position (d + 1/2) / s - 1/2 clamped at 0 (area_pixel_compute_source_index
// with the scale 1/s that scale_factor=s gives).
typedef struct {
  int i0, i1;
  float l;
} Lerp;

static Lerp bilinear_src(int d, int s, int in) {
  float scale = (float)(1.0 / s);
  float src = scale * ((float)d + 0.5f) - 0.5f;
  if (src < 0.0f)
    src = 0.0f;
  int i = (int)src;
  return (Lerp){i, i + (i < in - 1), src - (float)i};
}

static void interp_upsample_bilinear(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *x = input(ip, n, 0);
  int C = x->shape.dim[0], H = x->shape.dim[1], W = x->shape.dim[2], s = n->attr.stride;
  int OH = H * s, OW = W * s;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      const float *a = in[0] + at(x, i) + (size_t)c * H * W;
      float *o = out + at(n, i) + (size_t)c * OH * OW;
      for (int h = 0; h < OH; h++) {
        Lerp v = bilinear_src(h, s, H);
        for (int w = 0; w < OW; w++) {
          Lerp u = bilinear_src(w, s, W);
          const float *r0 = a + v.i0 * W, *r1 = a + v.i1 * W;
          o[h * OW + w] = (1.0f - v.l) * ((1.0f - u.l) * r0[u.i0] + u.l * r0[u.i1]) +
                          v.l * ((1.0f - u.l) * r1[u.i0] + u.l * r1[u.i1]);
        }
      }
    }
}

// Each dy to its four inputs with the forward's weights (torch's order).
static void interp_upsample_bilinear_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0);
  int C = n->shape.dim[0], H = n->shape.dim[1], W = n->shape.dim[2], s = n->attr.stride;
  int OH = H * s, OW = W * s;
  memset(out, 0, (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (int c = 0; c < C; c++) {
      const float *d = in[0] + at(dy, i) + (size_t)c * OH * OW;
      float *o = out + at(n, i) + (size_t)c * H * W;
      for (int h = 0; h < OH; h++) {
        Lerp v = bilinear_src(h, s, H);
        for (int w = 0; w < OW; w++) {
          Lerp u = bilinear_src(w, s, W);
          float g = d[h * OW + w];
          o[v.i0 * W + u.i0] += (1.0f - v.l) * (1.0f - u.l) * g;
          o[v.i0 * W + u.i1] += (1.0f - v.l) * u.l * g;
          o[v.i1 * W + u.i0] += v.l * (1.0f - u.l) * g;
          o[v.i1 * W + u.i1] += v.l * u.l * g;
        }
      }
    }
}

static void interp_concat(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    size_t off = 0;
    for (int j = 0; j < n->nin; j++) {
      const Node *x = input(ip, n, j);
      size_t mj = (size_t)shape_numel(x->shape);
      memcpy(out + i * m + off, in[j] + at(x, i), mj * sizeof(float));
      off += mj;
    }
  }
}

static void interp_slice(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *dy = input(ip, n, 0);
  size_t m = (size_t)shape_numel(n->shape), inner = m / (size_t)n->shape.dim[0];
  for (int i = 0; i < interp_rows(ip, n); i++)
    memcpy(out + at(n, i), in[0] + at(dy, i) + (size_t)n->attr.start * inner, m * sizeof(float));
}

// ---- Emitters: one loop nest over the chunk's examples ----

static void batched_only(CEmit *e, int id) {
  const Node *n = nd(e, id);
  for (int j = 0; j < n->nin; j++)
    if (!nd(e, n->in[j])->batched)
      fail(n, "an unbatched input is not supported");
}

// The loops over (example, channel, output row, output column) of a pooling,
// and the window's clipped bounds h0..h1, w0..w1 (literal offsets when no
// padding: every window is inside the input).
static void pool_loops(CEmit *e, const Pool *q) {
  out(e, "  for (int i = 0; i < nc * %d; i++)\n", q->C);
  out(e, "    for (int oh = 0; oh < %d; oh++)\n      for (int ow = 0; ow < %d; ow++) {\n", q->OH, q->OW);
  if (q->p == 0) {
    out(e, "        const int h0 = oh * %d, h1 = h0 + %d, w0 = ow * %d, w1 = w0 + %d;\n", q->s, q->k, q->s, q->k);
  } else {
    out(e, "        const int hs = oh * %d - %d, ws = ow * %d - %d;\n", q->s, q->p, q->s, q->p);
    out(e, "        const int h0 = hs < 0 ? 0 : hs, h1 = hs + %d < %d ? hs + %d : %d;\n", q->k, q->H, q->k, q->H);
    out(e, "        const int w0 = ws < 0 ? 0 : ws, w1 = ws + %d < %d ? ws + %d : %d;\n", q->k, q->W, q->k, q->W);
  }
}

// The window's maximum (NaN as torch takes it) of the plane xp into m,
// and with `index` the index of its first occurrence into at.
static void emit_max(CEmit *e, const Pool *q, bool index) {
  out(e, "        float m = -INFINITY;\n");
  if (!index) {
    out(e, "        for (int h = h0; h < h1; h++)\n          for (int w = w0; w < w1; w++) {\n"
           "            const float v = xp[h * %d + w];\n            m = v > m || isnan(v) ? v : m;\n"
           "          }\n",
        q->W);
    return;
  }
  out(e, "        int at = h0 * %d + w0;\n", q->W);
  out(e, "        for (int h = h0; h < h1; h++)\n          for (int w = w0; w < w1; w++) {\n"
         "            const float v = xp[h * %d + w];\n"
         "            if (v > m || isnan(v)) {\n              m = v;\n              at = h * %d + w;\n"
         "            }\n          }\n",
      q->W, q->W);
}

// The common case, small windows that tile the input (stride k, no
// padding, k <= 4), gets its own loops (the forward ops also when windows
// overlap, as long as there is no padding): the innermost runs along a row of
// outputs with the window's k*k taps written out (literal offsets) and the
// maximum picked without branches (`|`, not `||`), so the compiler
// vectorises it; the gradient writes each window's k x k block of dx
// directly instead of scattering into a zeroed buffer.  The general loops
// (clipped windows, a loop over the taps) are not vectorised: with them
// LeNet-5's pooling took a quarter of a training step.
// The forward ops take the same loops whenever every window lies inside
// the input (no padding), overlapping or not.
static bool pool_inside(const Pool *q) { return q->p == 0 && q->k <= 4; }
static bool pool_tiles(const Pool *q) { return pool_inside(q) && q->s == q->k; }

// Loops over (example and channel, output row, output column) of a pooling
// whose windows lie inside the input; p points at the window's top-left
// input.
static void tile_loops(CEmit *e, const Pool *q, const char *x) {
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++)\n", q->C, q->OH);
  out(e, "      for (int ow = 0; ow < %d; ow++) {\n", q->OW);
  out(e, "        const float *p = %s + i * %d + oh * %d + ow * %d;\n", x, q->H * q->W, q->s * q->W, q->s);
}

// m = the window's maximum, NaN as torch takes it; with `index`, at = the
// tap (u * k + v) of its first occurrence in row-major order (small tap
// numbers, not offsets u * W + v: gcc 12 vectorises the loop only so).
static void emit_taps(CEmit *e, const Pool *q, bool index) {
  out(e, "        float m = p[0];\n");
  if (index)
    out(e, "        int at = 0;\n");
  for (int j = 1; j < q->k * q->k; j++) {
    int off = j / q->k * q->W + j % q->k;
    if (index)
      out(e, "        { const float t = p[%d]; const int take = (t > m) | isnan(t); m = take ? t : m; "
             "at = take ? %d : at; }\n", off, j);
    else
      out(e, "        { const float t = p[%d]; m = (t > m) | isnan(t) ? t : m; }\n", off);
  }
}

static void emit_max_pool2d_tiles(CEmit *e, int id, const Pool *q) {
  const Node *n = nd(e, id);
  tile_loops(e, q, root_name(e, n->in[0]));
  emit_taps(e, q, false);
  out(e, "        %s[(i * %d + oh) * %d + ow] = m;\n      }\n", e->name[id], q->OH, q->OW);
}

// Rows and columns no window covers (H or W not a multiple of k) are
// zeroed first.
static void emit_max_pool2d_grad_tiles(CEmit *e, int id, const Pool *q) {
  const Node *n = nd(e, id);
  if (q->H % q->k || q->W % q->k)
    out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", e->name[id], numel(e, id));
  tile_loops(e, q, root_name(e, n->in[1]));
  emit_taps(e, q, true);
  out(e, "        const float g = %s[(i * %d + oh) * %d + ow];\n", root_name(e, n->in[0]), q->OH, q->OW);
  out(e, "        float *d = %s + i * %d + oh * %d + ow * %d;\n", e->name[id], q->H * q->W, q->k * q->W, q->k);
  for (int j = 0; j < q->k * q->k; j++)
    out(e, "        d[%d] = at == %d ? g : 0.0f;\n", j / q->k * q->W + j % q->k, j);
  out(e, "      }\n");
}

// Output indices [*lo, *hi) whose windows lie inside an input of n: oh s -
// pad >= 0 and oh s - pad + k <= n.
static void inside_range(const Pool *q, int n, int out_n, int *lo, int *hi) {
  *lo = min_int((q->p + q->s - 1) / q->s, out_n);
  *hi = n + q->p - q->k < 0 ? 0 : min_int((n + q->p - q->k) / q->s + 1, out_n);
  if (*hi < *lo)
    *hi = *lo;
}

// Padded small windows (k <= 4): the windows inside the input (most of
// them) take the branchless scan of the written-out taps, the border
// windows the clipped loops.  An output row is three loops: the clipped
// windows left of the inside ones, the inside ones, the clipped ones right
// of them (a border row: all clipped in the first).  The forward stores the maximum; the
// gradient (grad) adds dy at it, the inside windows in two loops: their
// maxima's offsets (vectorised), then the adds (windows overlap).
static void emit_max_padded(CEmit *e, int id, const Pool *q, bool grad) {
  const Node *n = nd(e, id);
  const char *x = root_name(e, n->in[grad ? 1 : 0]), *o = e->name[id];
  int rlo, rhi, clo, chi;
  inside_range(q, q->H, q->OH, &rlo, &rhi);
  inside_range(q, q->W, q->OW, &clo, &chi);
  if (grad)
    out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", o, numel(e, id));
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++) {\n", q->C, q->OH);
  out(e, "      const int in = oh >= %d && oh < %d;\n", rlo, rhi);
  if (grad)
    out(e, "      int a[%d];\n", q->OW);
  char tail[256];
  if (grad)
    snprintf(tail, sizeof tail, "%s[(i * %d + oh) * %d + ow]", root_name(e, n->in[0]), q->OH, q->OW);
  else
    snprintf(tail, sizeof tail, "%s[(i * %d + oh) * %d + ow] = m", o, q->OH, q->OW);
  for (int part = 0; part < (chi < q->OW ? 3 : 2); part++) {   // no third loop when nothing is right of chi
    if (part == 0)
      out(e, "      for (int ow = 0; ow < (in ? %d : %d); ow++) {\n", clo, q->OW);
    else if (part == 1)
      out(e, "      for (int ow = %d; in && ow < %d; ow++) {\n", clo, chi);
    else
      out(e, "      for (int ow = in ? %d : %d; ow < %d; ow++) {\n", chi, q->OW, q->OW);
    if (part == 1) {
      out(e, "        const float *p = %s + i * %d + (oh * %d - %d) * %d + ow * %d - %d;\n", x, q->H * q->W, q->s,
          q->p, q->W, q->s, q->p);
      emit_taps(e, q, grad);
      if (grad) {   // the maxima's offsets; the adds follow in their own loop
        out(e, "        a[ow] = at;\n      }\n");
        out(e, "      for (int ow = %d; in && ow < %d; ow++) {\n", clo, chi);
        out(e, "        %s[i * %d + (oh * %d - %d) * %d + ow * %d - %d + a[ow] / %d * %d + a[ow] %% %d] += %s;\n", o,
            q->H * q->W, q->s, q->p, q->W, q->s, q->p, q->k, q->W, q->k, tail);
      } else {
        out(e, "        %s;\n", tail);
      }
    } else {
      out(e, "        const int hs = oh * %d - %d, ws = ow * %d - %d;\n", q->s, q->p, q->s, q->p);
      out(e, "        const int h0 = hs < 0 ? 0 : hs, h1 = hs + %d < %d ? hs + %d : %d;\n", q->k, q->H, q->k, q->H);
      out(e, "        const int w0 = ws < 0 ? 0 : ws, w1 = ws + %d < %d ? ws + %d : %d;\n", q->k, q->W, q->k, q->W);
      out(e, "        const float *xp = %s + i * %d;\n", x, q->H * q->W);
      emit_max(e, q, grad);
      if (grad)
        out(e, "        %s[i * %d + at] += %s;\n", o, q->H * q->W, tail);
      else
        out(e, "        %s;\n", tail);
    }
    out(e, "      }\n");
  }
  out(e, "    }\n");
}

static void emit_max_pool2d(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  Pool q = pool_of(&nd(e, n->in[0])->shape, &n->shape, &n->attr);
  if (pool_inside(&q)) {
    emit_max_pool2d_tiles(e, id, &q);
    return;
  }
  if (q.k <= 4) {
    emit_max_padded(e, id, &q, false);
    return;
  }
  pool_loops(e, &q);
  out(e, "        const float *xp = %s + i * %d;\n", root_name(e, n->in[0]), q.H * q.W);
  emit_max(e, &q, false);
  out(e, "        %s[(i * %d + oh) * %d + ow] = m;\n      }\n", e->name[id], q.OH, q.OW);
}

static void emit_max_pool2d_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  Pool q = pool_of(&n->shape, &nd(e, n->in[0])->shape, &n->attr);
  if (pool_tiles(&q)) {
    emit_max_pool2d_grad_tiles(e, id, &q);
    return;
  }
  if (q.p > 0 && q.k <= 4) {
    emit_max_padded(e, id, &q, true);
    return;
  }
  out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", e->name[id], numel(e, id));
  if (pool_inside(&q)) {   // overlapping windows: the maxima's offsets in one loop, the adds in another
    out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++) {\n      int a[%d];\n", q.C,
        q.OH, q.OW);
    out(e, "      for (int ow = 0; ow < %d; ow++) {\n", q.OW);
    out(e, "        const float *p = %s + i * %d + oh * %d + ow * %d;\n", root_name(e, n->in[1]), q.H * q.W,
        q.s * q.W, q.s);
    emit_taps(e, &q, true);
    out(e, "        a[ow] = at;\n      }\n      for (int ow = 0; ow < %d; ow++)\n", q.OW);
    out(e, "        %s[i * %d + oh * %d + ow * %d + a[ow] / %d * %d + a[ow] %% %d] += %s[(i * %d + oh) * %d + ow];\n"
           "    }\n", e->name[id], q.H * q.W, q.s * q.W, q.s, q.k, q.W, q.k, root_name(e, n->in[0]), q.OH, q.OW);
    return;
  }
  pool_loops(e, &q);
  out(e, "        const float *xp = %s + i * %d;\n", root_name(e, n->in[1]), q.H * q.W);
  emit_max(e, &q, true);
  out(e, "        %s[i * %d + at] += %s[(i * %d + oh) * %d + ow];\n      }\n", e->name[id],
      q.H * q.W, root_name(e, n->in[0]), q.OH, q.OW);
}

// s = the sum of the k x k taps of p (rows `row` floats apart) in
// row-major order, as the interpreter adds them: written out for k <= 4.
static void emit_sum_taps(CEmit *e, int k, int row) {
  if (k > 4) {
    out(e, "        float s = 0.0f;\n        for (int u = 0; u < %d; u++)\n          for (int v = 0; v < %d; v++)\n"
           "            s += p[u * %d + v];\n", k, k, row);
    return;
  }
  out(e, "        float s = p[0];\n");
  for (int j = 1; j < k * k; j++)
    out(e, "        s += p[%d];\n", j / k * row + j % k);
}

static void emit_avg_pool2d(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  Pool q = pool_of(&nd(e, n->in[0])->shape, &n->shape, &n->attr);
  if (pool_inside(&q)) {
    tile_loops(e, &q, root_name(e, n->in[0]));
    emit_sum_taps(e, q.k, q.W);
    out(e, "        %s[(i * %d + oh) * %d + ow] = s / %d.0f;\n      }\n", e->name[id], q.OH, q.OW, q.k * q.k);
    return;
  }
  pool_loops(e, &q);
  out(e, "        const float *xp = %s + i * %d;\n        float s = 0.0f;\n", root_name(e, n->in[0]), q.H * q.W);
  out(e, "        for (int h = h0; h < h1; h++)\n          for (int w = w0; w < w1; w++)\n"
         "            s += xp[h * %d + w];\n",
      q.W);
  out(e, "        %s[(i * %d + oh) * %d + ow] = s / %d.0f;\n      }\n", e->name[id], q.OH, q.OW, q.k * q.k);
}

static void emit_avg_pool2d_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  Pool q = pool_of(&n->shape, &nd(e, n->in[0])->shape, &n->attr);
  if (pool_tiles(&q)) {   // each window's block of dx is dy / k^2
    if (q.H % q.k || q.W % q.k)
      out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", e->name[id], numel(e, id));
    out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++)\n", q.C, q.OH);
    out(e, "      for (int ow = 0; ow < %d; ow++) {\n", q.OW);
    out(e, "        const float g = %s[(i * %d + oh) * %d + ow] / %d.0f;\n", root_name(e, n->in[0]), q.OH, q.OW,
        q.k * q.k);
    out(e, "        float *d = %s + i * %d + oh * %d + ow * %d;\n", e->name[id], q.H * q.W, q.k * q.W, q.k);
    for (int j = 0; j < q.k * q.k; j++)
      out(e, "        d[%d] = g;\n", j / q.k * q.W + j % q.k);
    out(e, "      }\n");
    return;
  }
  out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", e->name[id], numel(e, id));
  pool_loops(e, &q);
  out(e, "        const float g = %s[(i * %d + oh) * %d + ow] / %d.0f;\n", root_name(e, n->in[0]), q.OH, q.OW,
      q.k * q.k);
  out(e, "        for (int h = h0; h < h1; h++)\n          for (int w = w0; w < w1; w++)\n"
         "            %s[i * %d + h * %d + w] += g;\n      }\n",
      e->name[id], q.H * q.W, q.W);
}

static void emit_global_avg_pool(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  long hw = numel(e, n->in[0]) / n->shape.dim[0];
  out(e, "  for (int i = 0; i < nc * %d; i++) {\n    float s = 0.0f;\n", n->shape.dim[0]);
  out(e, "    for (int k = 0; k < %ld; k++)\n      s += %s[i * %ld + k];\n", hw, root_name(e, n->in[0]), hw);
  out(e, "    %s[i] = s / %ld.0f;\n  }\n", e->name[id], hw);
}

static void emit_global_avg_pool_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  long hw = numel(e, id) / n->shape.dim[0];
  out(e, "  for (int i = 0; i < nc * %d; i++) {\n    const float g = %s[i] / %ld.0f;\n", n->shape.dim[0],
      root_name(e, n->in[0]), hw);
  out(e, "    for (int k = 0; k < %ld; k++)\n      %s[i * %ld + k] = g;\n  }\n", hw, e->name[id], hw);
}

// Where input id starts in an example of concat c (floats).
static long concat_offset(const CEmit *e, int c, int id) {
  long off = 0;
  for (int j = 0; j < nd(e, c)->nin && nd(e, c)->in[j] != id; j++)
    off += numel(e, nd(e, c)->in[j]);
  return off;
}

// Per input row: its s copies along the row (an interleaved store the
// compiler vectorises), then the first output row copied s - 1 times.
static void emit_upsample(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  int H = nd(e, n->in[0])->shape.dim[1], W = nd(e, n->in[0])->shape.dim[2], s = n->attr.stride;
  int c = e->f->into[id];
  if (c >= 0)
    out(e, "  /* into %s's [%ld, %ld) of each example: no buffer of its own */\n", e->name[c], concat_offset(e, c, id),
        concat_offset(e, c, id) + numel(e, id));
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int h = 0; h < %d; h++) {\n", n->shape.dim[0], H);
  out(e, "      const float *xr = %s + (i * %d + h) * %d;\n", root_name(e, n->in[0]), H, W);
  if (c >= 0)   // its slot of the concat's buffer (fuse.c, fuse_concat_inputs)
    out(e, "      float *yr = %s + (i / %d) * %ld + %ld + ((i %% %d) * %d + h) * %d;\n", e->name[c], n->shape.dim[0],
        numel(e, c), concat_offset(e, c, id), n->shape.dim[0], H, s * s * W);
  else
    out(e, "      float *yr = %s + (i * %d + h) * %d;\n", e->name[id], H, s * s * W);
  out(e, "      for (int w = 0; w < %d; w++)\n        for (int v = 0; v < %d; v++)\n"
         "          yr[w * %d + v] = xr[w];\n", W, s, s);
  if (s > 1)
    out(e, "      for (int u = 1; u < %d; u++)\n        memcpy(yr + u * %d, yr, sizeof(float) * %d);\n", s, s * W,
        s * W);
  out(e, "    }\n");
}

// dx[h, w] = the sum of its s x s block of dy, in row-major order.
static void emit_upsample_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  int H = n->shape.dim[1], W = n->shape.dim[2], s = n->attr.stride;
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int h = 0; h < %d; h++)\n", n->shape.dim[0], H);
  out(e, "      for (int w = 0; w < %d; w++) {\n", W);
  out(e, "        const float *p = %s + (i * %d + h) * %d + w * %d;\n", root_name(e, n->in[0]), H, s * s * W, s);
  emit_sum_taps(e, s, s * W);
  out(e, "        %s[(i * %d + h) * %d + w] = s;\n      }\n", e->name[id], H, W);
}

// The source rows' and columns' indices and weights as tables (literals).
static void emit_lerp_table(CEmit *e, const char *name, int out_n, int s, int in_n) {
  char b[64];
  out(e, "  static const int %s0[%d] = {", name, out_n);
  for (int d = 0; d < out_n; d++)
    out(e, "%s%d", d ? ", " : "", bilinear_src(d, s, in_n).i0);
  out(e, "};\n  static const int %s1[%d] = {", name, out_n);
  for (int d = 0; d < out_n; d++)
    out(e, "%s%d", d ? ", " : "", bilinear_src(d, s, in_n).i1);
  out(e, "};\n  static const float %sl[%d] = {", name, out_n);
  for (int d = 0; d < out_n; d++)
    out(e, "%s%s", d ? ", " : "", flit(b, sizeof b, bilinear_src(d, s, in_n).l));
  out(e, "};\n");
}

static void emit_upsample_bilinear(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  int H = nd(e, n->in[0])->shape.dim[1], W = nd(e, n->in[0])->shape.dim[2], s = n->attr.stride;
  out(e, "  {\n");
  emit_lerp_table(e, "h", H * s, s, H);
  emit_lerp_table(e, "w", W * s, s, W);
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++) {\n", n->shape.dim[0], H * s);
  out(e, "      const float *r0 = %s + i * %d + h0[oh] * %d, *r1 = %s + i * %d + h1[oh] * %d;\n",
      root_name(e, n->in[0]), H * W, W, root_name(e, n->in[0]), H * W, W);
  out(e, "      const float a = hl[oh];\n      float *y = %s + (i * %d + oh) * %d;\n", e->name[id], H * s, W * s);
  out(e, "      for (int ow = 0; ow < %d; ow++) {\n        const float b = wl[ow];\n", W * s);
  out(e, "        y[ow] = (1.0f - a) * ((1.0f - b) * r0[w0[ow]] + b * r0[w1[ow]]) +\n"
         "                a * ((1.0f - b) * r1[w0[ow]] + b * r1[w1[ow]]);\n      }\n    }\n  }\n");
}

static void emit_upsample_bilinear_grad(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  int H = n->shape.dim[1], W = n->shape.dim[2], s = n->attr.stride;
  out(e, "  {\n");
  emit_lerp_table(e, "h", H * s, s, H);
  emit_lerp_table(e, "w", W * s, s, W);
  out(e, "  memset(%s, 0, sizeof(float) * nc * %ld);\n", e->name[id], numel(e, id));
  out(e, "  for (int i = 0; i < nc * %d; i++)\n    for (int oh = 0; oh < %d; oh++) {\n", n->shape.dim[0], H * s);
  out(e, "      float *r0 = %s + i * %d + h0[oh] * %d, *r1 = %s + i * %d + h1[oh] * %d;\n", e->name[id], H * W, W,
      e->name[id], H * W, W);
  out(e, "      const float a = hl[oh];\n      const float *d = %s + (i * %d + oh) * %d;\n", root_name(e, n->in[0]),
      H * s, W * s);
  out(e, "      for (int ow = 0; ow < %d; ow++) {\n        const float b = wl[ow], g = d[ow];\n", W * s);
  out(e, "        r0[w0[ow]] += (1.0f - a) * (1.0f - b) * g;\n        r0[w1[ow]] += (1.0f - a) * b * g;\n"
         "        r1[w0[ow]] += a * (1.0f - b) * g;\n        r1[w1[ow]] += a * b * g;\n      }\n    }\n  }\n");
}

static void emit_concat(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  long m = numel(e, id), off = 0;
  out(e, "  for (int i = 0; i < nc; i++) {\n");
  for (int j = 0; j < n->nin; j++) {
    long mj = numel(e, n->in[j]);
    if (e->f->into[n->in[j]] == id)
      out(e, "    /* [%ld, %ld): written by %s */\n", off, off + mj, e->name[n->in[j]]);
    else
      out(e, "    memcpy(%s + i * %ld + %ld, %s + i * %ld, sizeof(float) * %ld);\n", e->name[id], m, off,
             root_name(e, n->in[j]), mj, mj);
    off += mj;
  }
  out(e, "  }\n");
}

static void emit_slice(CEmit *e, int id) {
  const Node *n = nd(e, id);
  batched_only(e, id);
  long m = numel(e, id), md = numel(e, n->in[0]), off = m / n->shape.dim[0] * n->attr.start;
  out(e, "  for (int i = 0; i < nc; i++)\n    memcpy(%s + i * %ld, %s + i * %ld + %ld, sizeof(float) * %ld);\n",
      e->name[id], m, root_name(e, n->in[0]), md, off, m);
}

// ---- Rows ----

static void print_pool(FILE *out, const Node *n) {
  fprintf(out, " k=%d s=%d p=%d", n->attr.k, pool_stride(&n->attr), n->attr.pad);
}

static void print_upsample(FILE *out, const Node *n) { fprintf(out, " scale=%d", n->attr.stride); }
static void print_slice(FILE *out, const Node *n) { fprintf(out, " start=%d", n->attr.start); }

// stride 0 is "the window" (torch's stride=None); a stride the user gives
// must be positive.
#define POOL_ATTRS                                                                 \
  3, {ATTR_REQ("k", A_INT_POS, k), ATTR_OPT("stride", A_INT_POS, 0, stride),        \
      ATTR_OPT("pad", A_INT_NONNEG, 0, pad)}

const OpDef op_def_MAX_POOL2D = {"max_pool2d", 1, .surface = {{"max_pool2d", OP_MAX_POOL2D, 1, true, POOL_ATTRS}},
                                 .shape = shape_pool, .grad = grad_max_pool2d, .kernel = interp_max_pool2d,
                                 .emit = emit_max_pool2d, .print_attrs = print_pool};
const OpDef op_def_AVG_POOL2D = {"avg_pool2d", 1, .surface = {{"avg_pool2d", OP_AVG_POOL2D, 1, true, POOL_ATTRS}},
                                 .shape = shape_pool, .grad = grad_avg_pool2d, .kernel = interp_avg_pool2d,
                                 .emit = emit_avg_pool2d, .print_attrs = print_pool};
const OpDef op_def_GLOBAL_AVG_POOL = {
  "global_avg_pool", 1, .surface = {{"global_avg_pool", OP_GLOBAL_AVG_POOL, 1, true, 0, {{0}}}},
  .shape = shape_global_avg_pool, .grad = grad_global_avg_pool, .kernel = interp_global_avg_pool,
  .emit = emit_global_avg_pool};
const OpDef op_def_UPSAMPLE = {"upsample", 1,
                               .surface = {{"upsample", OP_UPSAMPLE, 1, true, 1,
                                            {ATTR_REQ("scale", A_INT_POS, stride)}}},
                               .shape = shape_upsample, .grad = grad_upsample, .kernel = interp_upsample,
                               .emit = emit_upsample, .print_attrs = print_upsample};
const OpDef op_def_CONCAT = {"concat", IR_MAX_IN, OPF_VARIADIC,
                             .surface = {{"concat", OP_CONCAT, IR_MAX_IN, false, 0, {{0}}}},
                             .shape = shape_concat, .grad = grad_concat, .kernel = interp_concat,
                             .emit = emit_concat};
const OpDef op_def_MAX_POOL2D_GRAD = {"max_pool2d_grad", 2, .shape = shape_max_pool2d_grad,
                                      .kernel = interp_max_pool2d_grad, .emit = emit_max_pool2d_grad,
                                      .print_attrs = print_pool};
const OpDef op_def_AVG_POOL2D_GRAD = {"avg_pool2d_grad", 1, .shape = shape_avg_pool2d_grad,
                                      .kernel = interp_avg_pool2d_grad, .emit = emit_avg_pool2d_grad,
                                      .print_attrs = print_pool};
const OpDef op_def_GLOBAL_AVG_POOL_GRAD = {"global_avg_pool_grad", 1, .shape = shape_gap_grad,
                                           .kernel = interp_global_avg_pool_grad,
                                           .emit = emit_global_avg_pool_grad};
const OpDef op_def_UPSAMPLE_GRAD = {"upsample_grad", 1, .shape = shape_upsample_grad,
                                    .kernel = interp_upsample_grad, .emit = emit_upsample_grad,
                                    .print_attrs = print_upsample};
const OpDef op_def_UPSAMPLE_BILINEAR = {
  "upsample_bilinear", 1,
  .surface = {{"upsample_bilinear", OP_UPSAMPLE_BILINEAR, 1, true, 1, {ATTR_REQ("scale", A_INT_POS, stride)}}},
  .shape = shape_upsample, .grad = grad_upsample_bilinear, .kernel = interp_upsample_bilinear,
  .emit = emit_upsample_bilinear, .print_attrs = print_upsample};
const OpDef op_def_UPSAMPLE_BILINEAR_GRAD = {"upsample_bilinear_grad", 1, .shape = shape_upsample_grad,
                                             .kernel = interp_upsample_bilinear_grad,
                                             .emit = emit_upsample_bilinear_grad, .print_attrs = print_upsample};
const OpDef op_def_SLICE = {"slice", 1, .shape = shape_slice, .kernel = interp_slice, .emit = emit_slice,
                            .print_attrs = print_slice};
