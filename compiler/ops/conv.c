// conv.c — conv2d and deconv2d (transposed convolution), their input and
// weight gradients (_dx, _dw) and bias_grad: shape rules, gradients,
// interpreter kernels (im2col / col2im + one sgemm per chunk of the batch)
// and emitters (per image im2col + one libxsmm GEMM with the bias +
// activation epilogue; the backward ops of one layer in one loop).
//
// Channel-major batch layout in the interpreter: for one big sgemm per
// chunk of 32 examples, im2col writes the columns of example i at
// [i*P, (i+1)*P) of a [K, c*P] matrix, so the product comes out as
// [O, c, P] and is reordered to the IR's [n, O, P].
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"
#include "layers.h"

// ---- Shape rules ----

// The output's spatial size of a conv2d (or, transposed, a deconv2d) of x
// [C, H, W] with the attributes a, into hw[2].
static bool conv_spatial(ShapeCx *cx, Shape x, const Attrs *a, bool transposed, int hw[2]) {
  const char *op = transposed ? "deconv2d" : "conv2d";
  char s1[64];
  if (x.rank != 3)
    return shape_error(cx, "%s expects a 3-D input [channels, height, width], got %s", op, shape_str(x, s1));
  for (int i = 0; i < 2; i++) {
    int64_t h = x.dim[1 + i], v;
    if (!transposed) {
      int64_t span = h + 2 * (int64_t)a->pad - a->k;
      if (span < 0)
        return shape_error(cx, "conv2d kernel %d is larger than the padded input %dx%d (pad %d)", a->k, x.dim[1],
                           x.dim[2], a->pad);
      v = span / a->stride + 1;
    } else {
      if (a->outpad >= a->stride)
        return shape_error(cx, "deconv2d outpad must be smaller than stride, got outpad=%d, stride=%d", a->outpad,
                           a->stride);
      v = (h - 1) * a->stride - 2 * (int64_t)a->pad + a->k + a->outpad;
      if (v < 1)
        return shape_error(cx, "deconv2d output would be empty: (%lld - 1) * %d - 2 * %d + %d + %d = %lld",
                           (long long)h, a->stride, a->pad, a->k, a->outpad, (long long)v);
    }
    if (v > MAX_NUMEL)
      return shape_error(cx, "%s output is too large", op);
    hw[i] = (int)v;
  }
  return true;
}

// A layer's output, weight and bias from x and the attributes; given the
// weight and bias (ops_verify), they must be those.
static bool shape_layer(ShapeCx *cx, Shape *out, bool transposed) {
  Shape x = cx->in[0];
  const Attrs *a = cx->attr;
  int hw[2];
  if (!conv_spatial(cx, x, a, transposed, hw))
    return false;
  *out = shape_make(3, (int[]){a->out, hw[0], hw[1]});
  cx->param[0] = transposed ? shape_make(4, (int[]){x.dim[0], a->out, a->k, a->k})
                            : shape_make(4, (int[]){a->out, x.dim[0], a->k, a->k});
  cx->param[1] = shape_make(1, (int[]){a->out});
  if (!shape_fits(cx, *out, "the output") || !shape_fits(cx, cx->param[0], "the weight"))
    return false;
  char s1[64], s2[64];
  for (int j = 1; j < cx->nin && j < 3; j++)
    if (!shape_eq(cx->in[j], cx->param[j - 1]))
      return shape_error(cx, "%s: %s %s, expected %s", cx->op, j == 1 ? "weight" : "bias",
                         shape_str(cx->in[j], s1), shape_str(cx->param[j - 1], s2));
  return true;
}

static bool shape_conv2d(ShapeCx *cx, Shape *out) { return shape_layer(cx, out, false); }
static bool shape_deconv2d(ShapeCx *cx, Shape *out) { return shape_layer(cx, out, true); }

// Backward layer ops: the result has the shape of the forward operand it
// is the gradient of (self); the forward rule must map it back to dy.
static bool shape_backward(ShapeCx *cx, Shape *out, bool transposed, bool dw) {
  Shape x = dw ? cx->in[1] : cx->self, w = dw ? cx->self : cx->in[1], y;
  Attrs a = *cx->attr;
  a.out = w.rank == 4 ? w.dim[transposed ? 1 : 0] : 0;
  const Shape *saved = cx->in;
  Shape fwd[3] = {x, w, shape_make(1, (int[]){a.out})};
  ShapeCx f = *cx;
  f.in = fwd;
  f.nin = 3;
  f.attr = &a;
  if (!shape_layer(&f, &y, transposed))
    return false;
  if (!shape_eq(y, saved[0]))
    return shape_error(cx, "%s: dy does not match the %s of the %s", cx->op,
                       transposed ? "deconvolution" : "convolution", dw ? "input" : "result");
  *out = cx->self;
  return true;
}

static bool shape_conv2d_dx(ShapeCx *cx, Shape *out) { return shape_backward(cx, out, false, false); }
static bool shape_conv2d_dw(ShapeCx *cx, Shape *out) { return shape_backward(cx, out, false, true); }
static bool shape_deconv2d_dx(ShapeCx *cx, Shape *out) { return shape_backward(cx, out, true, false); }
static bool shape_deconv2d_dw(ShapeCx *cx, Shape *out) { return shape_backward(cx, out, true, true); }

// bias_grad dy [C, ...] -> [C].
static bool shape_bias_grad(ShapeCx *cx, Shape *out) {
  if (cx->in[0].rank < 1)
    return shape_error(cx, "bias_grad: dy must have a channel dimension");
  *out = shape_make(1, (int[]){cx->in[0].dim[0]});
  return true;
}

// ---- Gradients ----

static int grad_layer(AdState *ad, const Node *n, int which, int dy, OpKind dx, OpKind dw) {
  Shape xs = ad_at(ad, n->in[0])->shape, ws = ad_at(ad, n->in[1])->shape;
  int id;
  switch (which) {
  case 0: id = ad_ew(ad, dx, xs, 2, dy, n->in[1], 0); break;
  case 1: id = ad_node(ad, dw, ws, false, 2, dy, n->in[0], 0); break;
  default: return ad_node(ad, OP_BIAS_GRAD, shape_make(1, (int[]){n->shape.dim[0]}), false, 1, dy, 0, 0);
  }
  ad_at(ad, id)->attr = n->attr;
  return id;
}

static int grad_conv2d(AdState *ad, const Node *n, int which, int dy) {
  return grad_layer(ad, n, which, dy, OP_CONV2D_DX, OP_CONV2D_DW);
}

static int grad_deconv2d(AdState *ad, const Node *n, int which, int dy) {
  return grad_layer(ad, n, which, dy, OP_DECONV2D_DX, OP_DECONV2D_DW);
}

// ---- Interpreter kernels ----

static const Shape *shape_in(const Interp *ip, const Node *n, int j) {
  return &ip->g->nodes[n->in[j]].shape;
}

// Output positions [lo, hi) whose tap kj lands inside [0, W): ow*s - p + kj
// in range.  Outside it the tap reads padding.
static void tap_range(int kj, int s, int p, int W, int OW, int *lo, int *hi) {
  int a = 0, b = OW;
  while (a < OW && a * s - p + kj < 0)
    a++;
  while (b > a && (b - 1) * s - p + kj >= W)
    b--;
  *lo = a;
  *hi = b;
}

// src is an image row; tap ow reads src[ow * s + off].  Not inlined, and
// with the common strides spelled out, so each compiles to a tight loop.
__attribute__((noinline)) static void gather_row(float *restrict r, const float *restrict src, int off, int lo,
                                                 int hi, int OW, int s) {
  for (int ow = 0; ow < lo; ow++)
    r[ow] = 0.0f;
  if (s == 1)
    memcpy(r + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
  else if (s == 2)
    for (int ow = lo; ow < hi; ow++)
      r[ow] = src[2 * ow + off];
  else
    for (int ow = lo; ow < hi; ow++)
      r[ow] = src[ow * s + off];
  for (int ow = hi; ow < OW; ow++)
    r[ow] = 0.0f;
}

__attribute__((noinline)) static void scatter_row(float *restrict dst, const float *restrict r, int off, int lo,
                                                  int hi, int s) {
  if (s == 2)
    for (int ow = lo; ow < hi; ow++)
      dst[2 * ow + off] += r[ow];
  else
    for (int ow = lo; ow < hi; ow++)
      dst[ow * s + off] += r[ow];
}

// img [C, H, W] -> rows (c, ki, kj) of col, output positions [OH*OW] along
// each row, row stride ld.  Out-of-image taps read zero.
static void im2col(const float *img, int C, int H, int W, int k, int s, int p,
                   int OH, int OW, float *col, size_t ld) {
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++) {
        float *row = col + (size_t)((c * k + ki) * k + kj) * ld;
        int lo, hi;
        tap_range(kj, s, p, W, OW, &lo, &hi);
        for (int oh = 0; oh < OH; oh++) {
          int ih = oh * s - p + ki;
          float *r = row + oh * OW;
          if (ih < 0 || ih >= H) {
            memset(r, 0, OW * sizeof(float));
            continue;
          }
          gather_row(r, img + ((size_t)c * H + ih) * W, kj - p, lo, hi, OW, s);
        }
      }
}

// The adjoint of im2col: img [C, H, W] = sum of the taps in col (img zeroed here).
static void col2im(const float *col, size_t ld, int C, int H, int W, int k, int s, int p,
                   int OH, int OW, float *img) {
  memset(img, 0, (size_t)C * H * W * sizeof(float));
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++) {
        const float *row = col + (size_t)((c * k + ki) * k + kj) * ld;
        int lo, hi;
        tap_range(kj, s, p, W, OW, &lo, &hi);
        for (int oh = 0; oh < OH; oh++) {
          int ih = oh * s - p + ki;
          if (ih < 0 || ih >= H)
            continue;
          scatter_row(img + ((size_t)c * H + ih) * W, row + oh * OW, kj - p, lo, hi, s);
        }
      }
}

// Batch im2col: x [n, C, H, W] -> col [C*k*k, n*OH*OW].
static void im2col_batch(const float *x, int n, int C, int H, int W, int k, int s, int p, int OH, int OW,
                         float *col) {
  size_t P = (size_t)OH * OW, ld = (size_t)n * P;
  for (int i = 0; i < n; i++)
    im2col(x + (size_t)i * C * H * W, C, H, W, k, s, p, OH, OW, col + i * P, ld);
}

// Batch col2im: col [C*k*k, n*OH*OW] -> img [n, C, H, W].
static void col2im_batch(const float *col, int n, int C, int H, int W, int k, int s, int p, int OH, int OW,
                         float *img) {
  size_t P = (size_t)OH * OW, ld = (size_t)n * P;
  for (int i = 0; i < n; i++)
    col2im(col + i * P, ld, C, H, W, k, s, p, OH, OW, img + (size_t)i * C * H * W);
}

// [n, C, P] -> [C, n*P]
static void to_channel_major(const float *src, int n, int C, size_t P, float *dst) {
  for (int i = 0; i < n; i++)
    for (int c = 0; c < C; c++)
      memcpy(dst + ((size_t)c * n + i) * P, src + ((size_t)i * C + c) * P, P * sizeof(float));
}

// [C, n*P] -> [n, C, P], adding bias[c] when bias is not NULL.
static void from_channel_major(const float *src, int n, int C, size_t P, const float *bias, float *dst) {
  for (int i = 0; i < n; i++)
    for (int c = 0; c < C; c++) {
      const float *s = src + ((size_t)c * n + i) * P;
      float *d = dst + ((size_t)i * C + c) * P;
      float b = bias ? bias[c] : 0.0f;
      for (size_t q = 0; q < P; q++)
        d[q] = s[q] + b;
    }
}

typedef struct {
  int C, H, W, O, OH, OW, k, s, p;
} Geom;

// Geometry of a convolution from its input (image side) and output
// (position side).  For deconv2d the roles swap: the "image" is y.
static Geom geom(Shape img, Shape pos, const Attrs *a) {
  return (Geom){img.dim[0], img.dim[1], img.dim[2], pos.dim[0], pos.dim[1], pos.dim[2], a->k, a->stride, a->pad};
}

// Per-example sizes: image, positions (P), image-side rows of col (K).
#define SIZES(q)                                                   \
  size_t img_sz = (size_t)(q).C * (q).H * (q).W;                   \
  size_t P = (size_t)(q).OH * (q).OW;                              \
  int K = (q).C * (q).k * (q).k;                                   \
  int n = ip->n, cmax = min_int(n, LAYER_CHUNK);                  \
  int nchunks = (n + LAYER_CHUNK - 1) / LAYER_CHUNK;               \
  (void)img_sz, (void)cmax

// ---- conv2d: x [n, C, H, W], w [O, C, k, k], b [O] -> y [n, O, OH, OW].

static void interp_conv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)q.O * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    ip->sgemm(false, false, q.O, cP, K, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, q.O, P, in[2], y + i0 * q.O * P);
    free(col);
    free(t);
  }
}

// dx = col2im(W^T dy): dy [n, O, OH, OW], w [O, C, k, k] -> dx [n, C, H, W].
static void interp_conv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *dcol = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    ip->sgemm(true, false, K, cP, q.O, in[1], K, dyc, cP, 0.0f, dcol, cP);
    col2im_batch(dcol, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, dx + i0 * img_sz);
    free(dyc);
    free(dcol);
  }
}

// dw = dy im2col(x)^T, summed over the batch: -> [O, C, k, k].
static void interp_conv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 1), *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  size_t m = (size_t)q.O * K;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    im2col_batch(in[1] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    ip->sgemm(false, true, q.O, K, cP, dyc, cP, col, cP, 0.0f, part + j * m, K);
    free(dyc);
    free(col);
  }
  layer_sum_chunks(part, nchunks, m, dw);
  free(part);
}

// ---- deconv2d (transposed convolution): x [n, Ci, H, W], w [Ci, Co, k, k],
// b [Co] -> y [n, Co, OH, OW].  It is the adjoint of a conv2d from y-sized
// images to x-sized positions: y = col2im(W^T x) + b.  In the Geom, the
// image is y (C = Co) and the positions are x (O = Ci).

static void interp_deconv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  size_t HW = (size_t)q.H * q.W;
  const float *b = in[2];
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *xc = interp_alloc((size_t)Ci * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * Ci * P, c, Ci, P, xc);
    ip->sgemm(true, false, K, cP, Ci, in[1], K, xc, cP, 0.0f, col, cP);
    float *yc = y + i0 * img_sz;
    col2im_batch(col, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, yc);
    for (int e = 0; e < c; e++)
      for (int ch = 0; ch < q.C; ch++) {
        float *d = yc + ((size_t)e * q.C + ch) * HW;
        for (size_t t = 0; t < HW; t++)
          d[t] += b[ch];
      }
    free(xc);
    free(col);
  }
}

// dx = W im2col(dy): dy [n, Co, OH, OW] -> dx [n, Ci, H, W].
static void interp_deconv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  int Ci = q.O;
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    ip->sgemm(false, false, Ci, cP, K, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, Ci, P, NULL, dx + i0 * Ci * P);
    free(col);
    free(t);
  }
}

// dw = x im2col(dy)^T: -> [Ci, Co, k, k], summed over the batch.
static void interp_deconv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), *shape_in(ip, nd, 1), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  size_t m = (size_t)Ci * K;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *xc = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    to_channel_major(in[1] + i0 * Ci * P, c, Ci, P, xc);
    ip->sgemm(false, true, Ci, K, cP, xc, cP, col, cP, 0.0f, part + j * m, K);
    free(col);
    free(xc);
  }
  layer_sum_chunks(part, nchunks, m, dw);
  free(part);
}

void layer_sum_chunks(const float *part, int nchunks, size_t m, float *dw) {
#pragma omp parallel for schedule(static) if (m > 4096)
  for (size_t k = 0; k < m; k++) {
    float acc = 0.0f;
    for (int j = 0; j < nchunks; j++)
      acc += part[(size_t)j * m + k];
    dw[k] = acc;
  }
}

// db [C] = dy [n, C, ...] summed over the batch and the positions (each
// example's row in float, which vectorises; the batch sum in double).
static float row_sum(const float *restrict d, size_t P) {
  float acc = 0.0f;
  for (size_t j = 0; j < P; j++)
    acc += d[j];
  return acc;
}

static void interp_bias_grad(Interp *ip, const Node *nd, float *db, const float *const *in) {
  const Shape *s = shape_in(ip, nd, 0);
  int n = ip->n, C = s->dim[0];
  size_t P = (size_t)shape_numel(*s) / C;
  for (int c = 0; c < C; c++) {
    double acc = 0;
    for (int i = 0; i < n; i++)
      acc += row_sum(in[0] + ((size_t)i * C + c) * P, P);
    db[c] = (float)acc;
  }
}

// ---- Emitters ----

static void emit_conv(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  int Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int k = n->attr.k, P = Ho * Wo, K = Ci * k * k;
  int gi = gemm(e, "conv forward", P, Co, K, P, K, P, 0);
  if ((long)K * P > e->col) e->col = (long)K * P;
  out(e, "  for (int i = 0; i < CHUNK; i++)\n"
         "    kern_conv_fwd(&s->k[%d], %s + i * %d, %s, %s,\n"
         "                  %s + i * %d, COL,\n"
         "                  /* Ci H W */ %d, %d, %d, /* Co k s p */ %d, %d, %d, %d, /* Ho Wo */ %d, %d, %s);\n",
      gi, root_name(e, n->in[0]), Ci * H * W, root_name(e, n->in[1]), root_name(e, n->in[2]), e->name[id],
      Co * P, Ci, H, W, Co, k, n->attr.stride, n->attr.pad, Ho, Wo, layer_act(e, id));
  layer_act_alpha(e, id);
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
         "    kern_deconv_fwd(&s->k[%d], %s + i * %d, S + %ld, %s,\n"
         "                    %s + i * %d, COL,\n"
         "                    /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d, %s);\n",
      gi, root_name(e, n->in[0]), Ci * Pi, e->wt[nd(e, n->in[1])->param], root_name(e, n->in[2]),
      e->name[id], Co * Ho * Wo, Co, Ho, Wo, k, n->attr.stride, n->attr.pad, Hi, Wi,
      layer_act(e, id));
  layer_act_alpha(e, id);
}

// Members of a convolution's backward group, inside its loop over the
// examples (emit_backward_group): dy is example i's gradient of the output.

static void emit_conv_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (e->bwd_dense)
    fail(n, "mixed backward group");
  // dy [Co][Ho][Wo]; x / dx [Ci][H][W].
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = n->op == OP_CONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
  int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2];
  int P = Ho * Wo, K = Ci * k * k;
  if ((long)K * P > e->col) e->col = (long)K * P;
  if (n->op == OP_CONV2D_DX) {
    need_param(e, n, n->in[1]);
    int gi = gemm(e, "conv dx", P, K, Co, P, Co, P, 0);
    out(e, "    kern_conv_dx(&s->k[%d], dy, S + %ld, %s + i * %d, COL,\n"
           "                 /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
        gi, e->wt[nd(e, n->in[1])->param], e->name[id], Ci * H * W, Ci, H, W, k, st, pd, Ho, Wo);
  } else {
    int gi = gemm(e, "conv dw", K, Co, P, K, P, K, 1);
    out(e, "    kern_conv_dw(&s->k[%d], dy, %s + i * %d, %s, COL,\n"
           "                 /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
        gi, root_name(e, n->in[1]), Ci * H * W, e->name[id], Ci, H, W, k, st, pd, Ho, Wo);
  }
}

static void emit_deconv_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (e->bwd_dense)
    fail(n, "mixed backward group");
  // dy [Co][Ho][Wo] (the deconv's output); x / dx [Ci][Hi][Wi].
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = n->op == OP_DECONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
  int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2];
  int Pi = Hi * Wi, K = Co * k * k;
  if ((long)K * Pi > e->col) e->col = (long)K * Pi;
  if (n->op == OP_DECONV2D_DX) {
    int gi = gemm(e, "deconv dx", Pi, Ci, K, Pi, K, Pi, 0);
    out(e, "    kern_deconv_dx(&s->k[%d], dy, %s, %s + i * %d, COL,\n"
           "                   /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n",
        gi, root_name(e, n->in[1]), e->name[id], Ci * Pi, Co, Ho, Wo, k, st, pd, Hi, Wi);
  } else {
    int gi = gemm(e, "deconv dw", K, Ci, Pi, K, Pi, K, 1);
    out(e, "    kern_deconv_dw(&s->k[%d], dy, %s + i * %d, %s, COL,\n"
           "                   /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n",
        gi, root_name(e, n->in[1]), Ci * Pi, e->name[id], Co, Ho, Wo, k, st, pd, Hi, Wi);
  }
}

// Per example inside a convolution's loop (dy), or over the chunk after a
// dense layer's GEMMs (dy<lead>).
static void emit_bias_grad(CEmit *e, int id) {
  const Shape ds = nd(e, e->f->dy[id])->shape;
  long dyn = (long)shape_numel(ds);
  if (e->bwd_dense)
    out(e, "  for (int i = 0; i < CHUNK; i++)\n    kern_bias_grad(dy%d + i * %ld, %d, %ld, %s);\n",
        e->bwd_lead, dyn, ds.dim[0], dyn / ds.dim[0], e->name[id]);
  else
    out(e, "    kern_bias_grad(dy, %d, %ld, %s);\n", ds.dim[0], dyn / ds.dim[0], e->name[id]);
}

// ---- Dumps ----

static void print_conv(FILE *out, const Node *n) {
  fprintf(out, " k=%d s=%d p=%d", n->attr.k, n->attr.stride, n->attr.pad);
  if (n->attr.outpad)
    fprintf(out, " op=%d", n->attr.outpad);
}

// ---- Rows ----

const OpDef op_def_CONV2D = {
  "conv2d", 3, OPF_LAYER, .prefix = "conv",
  .surface = {{"conv2d", OP_CONV2D, 1, true, 4,
               {ATTR_REQ("out", A_INT_POS, out), ATTR_REQ("k", A_INT_POS, k),
                ATTR_OPT("stride", A_INT_POS, 1, stride), ATTR_OPT("pad", A_INT_NONNEG, 0, pad)}}},
  .shape = shape_conv2d, .grad = grad_conv2d, .kernel = interp_conv2d, .emit = emit_conv,
  .print_attrs = print_conv};
const OpDef op_def_DECONV2D = {
  "deconv2d", 3, OPF_LAYER | OPF_WEIGHT_T, .prefix = "deconv",
  .surface = {{"deconv2d", OP_DECONV2D, 1, true, 5,
               {ATTR_REQ("out", A_INT_POS, out), ATTR_REQ("k", A_INT_POS, k),
                ATTR_OPT("stride", A_INT_POS, 1, stride), ATTR_OPT("pad", A_INT_NONNEG, 0, pad),
                ATTR_OPT("outpad", A_INT_NONNEG, 0, outpad)}}},
  .shape = shape_deconv2d, .grad = grad_deconv2d, .kernel = interp_deconv2d, .emit = emit_deconv,
  .print_attrs = print_conv};
const OpDef op_def_CONV2D_DX = {"conv2d_dx", 2, OPF_LAYER_BWD | OPF_BWD_OVERWRITE | OPF_WEIGHT_T, .shape = shape_conv2d_dx,
                                .kernel = interp_conv2d_dx, .emit = emit_conv_bwd, .print_attrs = print_conv};
const OpDef op_def_CONV2D_DW = {"conv2d_dw", 2, OPF_LAYER_BWD | OPF_UNBATCHED, .shape = shape_conv2d_dw,
                                .kernel = interp_conv2d_dw, .emit = emit_conv_bwd, .print_attrs = print_conv};
const OpDef op_def_DECONV2D_DX = {"deconv2d_dx", 2, OPF_LAYER_BWD | OPF_BWD_OVERWRITE, .shape = shape_deconv2d_dx,
                                  .kernel = interp_deconv2d_dx, .emit = emit_deconv_bwd, .print_attrs = print_conv};
const OpDef op_def_DECONV2D_DW = {"deconv2d_dw", 2, OPF_LAYER_BWD | OPF_UNBATCHED, .shape = shape_deconv2d_dw,
                                  .kernel = interp_deconv2d_dw, .emit = emit_deconv_bwd, .print_attrs = print_conv};
const OpDef op_def_BIAS_GRAD = {"bias_grad", 1, OPF_LAYER_BWD | OPF_UNBATCHED, .shape = shape_bias_grad,
                                .kernel = interp_bias_grad, .emit = emit_bias_grad};
