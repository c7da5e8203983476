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
//
// PyTorch's options: k, stride, pad, outpad, dilation per dimension
// (height, width), groups (one sgemm / GEMM per group on strided
// pointers), no bias.  The square, undilated, ungrouped layers (the
// study's) keep their specialised runtime kernels, with or without a bias
// (NULL); the others call the general ones (kern_convg_*, kern_deconvg_*).
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emitter.h"
#include "layers.h"
#include "../../runtime/xsmm/kernels_direct.h"

// ---- Geometry ----

// A convolution's attributes with the defaults filled in: Attrs keeps the
// height's k, stride, pad, outpad where the square case always had them,
// the width's and dilation and groups beside them, 0 meaning "as the
// height's" (or 1), so graphs built by hand with k, stride, pad are square.
typedef struct {
  int k[2], s[2], p[2], d[2], op[2], groups;
} ConvAttr;

static int or_default(int v, int dflt) { return v ? v : dflt; }

static ConvAttr conv_attr(const Attrs *a) {
  return (ConvAttr){{a->k, or_default(a->kw, a->k)},
                    {a->stride, or_default(a->stridew, a->stride)},
                    {a->pad, a->kw ? a->padw : a->pad},
                    {or_default(a->dil, 1), or_default(a->dilw, or_default(a->dil, 1))},
                    {a->outpad, a->kw ? a->outpadw : a->outpad},
                    or_default(a->groups, 1)};
}

// The study's case, whose kernels are specialised: square, undilated,
// ungrouped (with or without a bias: the epilogue takes a NULL one).
// Everything else takes the general kernels.
static bool conv_plain(const Node *n) {
  ConvAttr c = conv_attr(&n->attr);
  return c.k[0] == c.k[1] && c.s[0] == c.s[1] && c.p[0] == c.p[1] && c.op[0] == c.op[1] && c.d[0] == 1 &&
         c.d[1] == 1 && c.groups == 1;
}

// ---- Shape rules ----

// The output's spatial size of a conv2d (or, transposed, a deconv2d) of x
// [C, H, W] with the attributes a, into hw[2]: PyTorch's formulas,
// conv ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1, deconv (H−1)s − 2p + d(k−1) + outpad + 1.
static bool conv_spatial(ShapeCx *cx, Shape x, const Attrs *a, bool transposed, int hw[2]) {
  const char *op = transposed ? "deconv2d" : "conv2d";
  const char *dim[2] = {"height", "width"};
  ConvAttr c = conv_attr(a);
  char s1[64];
  if (x.rank != 3)
    return shape_error(cx, "%s expects a 3-D input [channels, height, width], got %s", op, shape_str(x, s1));
  bool plain = c.k[0] == c.k[1] && c.p[0] == c.p[1] && c.d[0] == 1 && c.d[1] == 1;
  for (int i = 0; i < 2; i++) {
    int64_t h = x.dim[1 + i], v, k = c.k[i], s = c.s[i], p = c.p[i], d = c.d[i], op_ = c.op[i];
    int64_t span = d * (k - 1) + 1;   // the kernel's extent on the input
    if (!transposed) {
      if (h + 2 * p - span < 0) {
        if (plain)
          return shape_error(cx, "conv2d kernel %d is larger than the padded input %dx%d (pad %d)", a->k,
                             x.dim[1], x.dim[2], a->pad);
        return shape_error(cx, "conv2d kernel %s %lld with dilation %lld spans %lld, more than the padded input %s "
                           "%lld (pad %lld)", dim[i], (long long)k, (long long)d, (long long)span, dim[i],
                           (long long)h + 2 * p, (long long)p);
      }
      v = (h + 2 * p - span) / s + 1;
    } else {
      if (op_ >= s && op_ >= d) {
        if (d == 1)
          return shape_error(cx, "deconv2d outpad must be smaller than stride, got outpad=%lld, stride=%lld",
                             (long long)op_, (long long)s);
        return shape_error(cx, "deconv2d outpad must be smaller than stride or dilation, got outpad=%lld, "
                           "stride=%lld, dilation=%lld", (long long)op_, (long long)s, (long long)d);
      }
      v = (h - 1) * s - 2 * p + span - 1 + op_ + 1;
      if (v < 1) {
        if (plain)
          return shape_error(cx, "deconv2d output would be empty: (%lld - 1) * %lld - 2 * %lld + %lld + %lld = %lld",
                             (long long)h, (long long)s, (long long)p, (long long)k, (long long)op_, (long long)v);
        return shape_error(cx, "deconv2d output %s would be empty: (%lld - 1) * %lld - 2 * %lld + %lld * (%lld - 1) "
                           "+ %lld + 1 = %lld", dim[i], (long long)h, (long long)s, (long long)p, (long long)d,
                           (long long)k, (long long)op_, (long long)v);
      }
    }
    if (v > MAX_NUMEL)
      return shape_error(cx, "%s output is too large", op);
    hw[i] = (int)v;
  }
  return true;
}

// A layer's output, weight and bias from x and the attributes; given the
// weight and bias (ops_verify), they must be those.  Weights as PyTorch's:
// conv [out, C/groups, kh, kw], deconv [C, out/groups, kh, kw].  Without a
// bias (bias=false, or a graph node with only (x, w)) the bias shape is [0].
static bool shape_layer(ShapeCx *cx, Shape *out, bool transposed) {
  Shape x = cx->in[0];
  const Attrs *a = cx->attr;
  ConvAttr c = conv_attr(a);
  int hw[2];
  if (!conv_spatial(cx, x, a, transposed, hw))
    return false;
  const char *op = transposed ? "deconv2d" : "conv2d";
  if (x.dim[0] % c.groups)
    return shape_error(cx, "%s: the input's %d channels are not divisible by groups=%d", op, x.dim[0], c.groups);
  if (a->out % c.groups)
    return shape_error(cx, "%s: out=%d is not divisible by groups=%d", op, a->out, c.groups);
  bool bias = cx->nin == 1 ? a->bias : cx->nin == 3;
  *out = shape_make(3, (int[]){a->out, hw[0], hw[1]});
  cx->param[0] = transposed ? shape_make(4, (int[]){x.dim[0], a->out / c.groups, c.k[0], c.k[1]})
                            : shape_make(4, (int[]){a->out, x.dim[0] / c.groups, c.k[0], c.k[1]});
  cx->param[1] = shape_make(1, (int[]){bias ? a->out : 0});
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
  a.out = w.rank == 4 ? w.dim[transposed ? 1 : 0] * (transposed ? conv_attr(&a).groups : 1) : 0;
  const Shape *saved = cx->in;
  Shape fwd[2] = {x, w};
  ShapeCx f = *cx;
  f.in = fwd;
  f.nin = 2;
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


// Output positions [lo, hi) whose tap at offset off lands inside [0, W):
// ow*s + off in range (off = kj*d - p).  Outside it the tap reads padding.
static void tap_range(int off, int s, int W, int OW, int *lo, int *hi) {
  int a = 0, b = OW;
  while (a < OW && a * s + off < 0)
    a++;
  while (b > a && (b - 1) * s + off >= W)
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

// The geometry of a convolution from its input (image side) and output
// (position side), with k, s, p, d per dimension (height, width) and G
// groups.  For deconv2d the roles swap: the "image" is y.
typedef struct {
  int C, H, W, O, OH, OW, G;
  ConvAttr a;
} Geom;

// img [C, H, W] -> rows (c, ki, kj) of col, output positions [OH*OW] along
// each row, row stride ld.  Out-of-image taps read zero.
static void im2col(const float *img, const Geom *q, float *col, size_t ld) {
  int kh = q->a.k[0], kw = q->a.k[1];
  for (int c = 0; c < q->C; c++)
    for (int ki = 0; ki < kh; ki++)
      for (int kj = 0; kj < kw; kj++) {
        float *row = col + (size_t)((c * kh + ki) * kw + kj) * ld;
        int off = kj * q->a.d[1] - q->a.p[1], lo, hi;
        tap_range(off, q->a.s[1], q->W, q->OW, &lo, &hi);
        for (int oh = 0; oh < q->OH; oh++) {
          int ih = oh * q->a.s[0] - q->a.p[0] + ki * q->a.d[0];
          float *r = row + oh * q->OW;
          if (ih < 0 || ih >= q->H) {
            memset(r, 0, q->OW * sizeof(float));
            continue;
          }
          gather_row(r, img + ((size_t)c * q->H + ih) * q->W, off, lo, hi, q->OW, q->a.s[1]);
        }
      }
}

// The adjoint of im2col: img [C, H, W] = sum of the taps in col (img zeroed here).
static void col2im(const float *col, size_t ld, const Geom *q, float *img) {
  int kh = q->a.k[0], kw = q->a.k[1];
  memset(img, 0, (size_t)q->C * q->H * q->W * sizeof(float));
  for (int c = 0; c < q->C; c++)
    for (int ki = 0; ki < kh; ki++)
      for (int kj = 0; kj < kw; kj++) {
        const float *row = col + (size_t)((c * kh + ki) * kw + kj) * ld;
        int off = kj * q->a.d[1] - q->a.p[1], lo, hi;
        tap_range(off, q->a.s[1], q->W, q->OW, &lo, &hi);
        for (int oh = 0; oh < q->OH; oh++) {
          int ih = oh * q->a.s[0] - q->a.p[0] + ki * q->a.d[0];
          if (ih < 0 || ih >= q->H)
            continue;
          scatter_row(img + ((size_t)c * q->H + ih) * q->W, row + oh * q->OW, off, lo, hi, q->a.s[1]);
        }
      }
}

// Batch im2col: x [n, C, H, W] -> col [C*kh*kw, n*OH*OW].
static void im2col_batch(const float *x, int n, const Geom *q, float *col) {
  size_t P = (size_t)q->OH * q->OW, ld = (size_t)n * P;
  for (int i = 0; i < n; i++)
    im2col(x + (size_t)i * q->C * q->H * q->W, q, col + i * P, ld);
}

// Batch col2im: col [C*kh*kw, n*OH*OW] -> img [n, C, H, W].
static void col2im_batch(const float *col, int n, const Geom *q, float *img) {
  size_t P = (size_t)q->OH * q->OW, ld = (size_t)n * P;
  for (int i = 0; i < n; i++)
    col2im(col + i * P, ld, q, img + (size_t)i * q->C * q->H * q->W);
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

static Geom geom(Shape img, Shape pos, const Attrs *a) {
  ConvAttr c = conv_attr(a);
  return (Geom){img.dim[0], img.dim[1], img.dim[2], pos.dim[0], pos.dim[1], pos.dim[2], c.groups, c};
}

// Per-example sizes: image, positions (P), image-side rows of col (K) and
// per group (Kg), position-side channels per group (Og).
#define SIZES(q)                                                   \
  size_t img_sz = (size_t)(q).C * (q).H * (q).W;                   \
  size_t P = (size_t)(q).OH * (q).OW;                              \
  int K = (q).C * (q).a.k[0] * (q).a.k[1];                         \
  int Kg = K / (q).G, Og = (q).O / (q).G;                          \
  int n = ip->n, cmax = min_int(n, LAYER_CHUNK);                  \
  int nchunks = (n + LAYER_CHUNK - 1) / LAYER_CHUNK;               \
  (void)img_sz, (void)cmax

// The three products of a (grouped) convolution over a chunk's columns of
// width cP, with w [O, Kg] (conv's [O, C/G, kh, kw]; deconv's [Ci, Co/G,
// kh, kw] as a conv from y-space to x-space), one sgemm per group (group g
// is w's rows [g*Og, ...), col's rows [g*Kg, ...), t's rows [g*Og, ...)):
//   t [O, cP]    = W col            (conv forward, deconv dx)
//   col [K, cP]  = Wᵀ t             (conv dx, deconv forward)
//   dw [O, Kg]   = t colᵀ           (conv dw, deconv dw)
static void gemm_w_col(Interp *ip, const Geom *q, const float *w, const float *col, size_t cP, float *t) {
  int K = q->C * q->a.k[0] * q->a.k[1], Kg = K / q->G, Og = q->O / q->G;
  for (int g = 0; g < q->G; g++)
    ip->sgemm(false, false, Og, cP, Kg, w + (size_t)g * Og * Kg, Kg, col + g * Kg * cP, cP, 0.0f,
              t + g * Og * cP, cP);
}

static void gemm_wt_t(Interp *ip, const Geom *q, const float *w, const float *t, size_t cP, float *col) {
  int K = q->C * q->a.k[0] * q->a.k[1], Kg = K / q->G, Og = q->O / q->G;
  for (int g = 0; g < q->G; g++)
    ip->sgemm(true, false, Kg, cP, Og, w + (size_t)g * Og * Kg, Kg, t + g * Og * cP, cP, 0.0f,
              col + g * Kg * cP, cP);
}

static void gemm_t_colt(Interp *ip, const Geom *q, const float *t, const float *col, size_t cP, float *dw) {
  int K = q->C * q->a.k[0] * q->a.k[1], Kg = K / q->G, Og = q->O / q->G;
  for (int g = 0; g < q->G; g++)
    ip->sgemm(false, true, Og, Kg, cP, t + g * Og * cP, cP, col + g * Kg * cP, cP, 0.0f,
              dw + (size_t)g * Og * Kg, Kg);
}

// The bias of a layer node: NULL when it has none (bias=false).
static const float *bias_in(const Node *nd, const float *const *in) { return nd->nin == 3 ? in[2] : NULL; }

// ---- conv2d: x [n, C, H, W], w [O, C/G, kh, kw], b [O] -> y [n, O, OH, OW].

static void interp_conv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  (void)Kg, (void)Og;
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)q.O * cP);
    im2col_batch(in[0] + i0 * img_sz, c, &q, col);
    gemm_w_col(ip, &q, in[1], col, cP, t);
    from_channel_major(t, c, q.O, P, bias_in(nd, in), y + i0 * q.O * P);
    free(col);
    free(t);
  }
}

// dx = col2im(W^T dy): dy [n, O, OH, OW], w [O, C/G, kh, kw] -> dx [n, C, H, W].
static void interp_conv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  (void)Kg, (void)Og;
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *dcol = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    gemm_wt_t(ip, &q, in[1], dyc, cP, dcol);
    col2im_batch(dcol, c, &q, dx + i0 * img_sz);
    free(dyc);
    free(dcol);
  }
}

// dw = dy im2col(x)^T per group, summed over the batch: -> [O, C/G, kh, kw].
static void interp_conv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 1), *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  (void)Og;
  size_t m = (size_t)q.O * Kg;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    im2col_batch(in[1] + i0 * img_sz, c, &q, col);
    gemm_t_colt(ip, &q, dyc, col, cP, part + j * m);
    free(dyc);
    free(col);
  }
  layer_sum_chunks(part, nchunks, m, dw);
  free(part);
}

// ---- deconv2d (transposed convolution): x [n, Ci, H, W], w [Ci, Co/G, kh,
// kw], b [Co] -> y [n, Co, OH, OW].  It is the adjoint of a conv2d from
// y-sized images to x-sized positions: y = col2im(W^T x) + b.  In the Geom,
// the image is y (C = Co) and the positions are x (O = Ci).

static void interp_deconv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  (void)Kg, (void)Og;
  int Ci = q.O;
  size_t HW = (size_t)q.H * q.W;
  const float *b = bias_in(nd, in);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *xc = interp_alloc((size_t)Ci * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * Ci * P, c, Ci, P, xc);
    gemm_wt_t(ip, &q, in[1], xc, cP, col);
    float *yc = y + i0 * img_sz;
    col2im_batch(col, c, &q, yc);
    for (int e = 0; b && e < c; e++)
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
  (void)Kg, (void)Og;
  int Ci = q.O;
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, &q, col);
    gemm_w_col(ip, &q, in[1], col, cP, t);
    from_channel_major(t, c, Ci, P, NULL, dx + i0 * Ci * P);
    free(col);
    free(t);
  }
}

// dw = x im2col(dy)^T per group: -> [Ci, Co/G, kh, kw], summed over the batch.
static void interp_deconv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), *shape_in(ip, nd, 1), &nd->attr);
  SIZES(q);
  (void)Og;
  int Ci = q.O;
  size_t m = (size_t)Ci * Kg;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * LAYER_CHUNK, c = min_int(LAYER_CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *xc = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, &q, col);
    to_channel_major(in[1] + i0 * Ci * P, c, Ci, P, xc);
    gemm_t_colt(ip, &q, xc, col, cP, part + j * m);
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

// The general path (conv_plain false): kern_convg_* / kern_deconvg_* with
// the geometry as a KernConv literal: the convolution from the image side
// [C][H][W] to the positions [Ho][Wo] (a deconv's image side is its output).
static void emit_geom(CEmit *e, int indent, int C, int H, int W, const ConvAttr *c, int Ho, int Wo) {
  out(e, "%*s&(KernConv){/* C H W */ %d, %d, %d, /* k */ %d, %d, /* s */ %d, %d, /* p */ %d, %d, /* d */ %d, %d,\n"
         "%*s/* Ho Wo */ %d, %d, /* groups */ %d}",
      indent, "", C, H, W, c->k[0], c->k[1], c->s[0], c->s[1], c->p[0], c->p[1], c->d[0], c->d[1], indent + 12, "",
      Ho, Wo, c->groups);
}

static const char *bias_name(const CEmit *e, const Node *n) { return n->nin == 3 ? root_name(e, n->in[2]) : "NULL"; }

// The chunk scratch COL must hold floats for this layer (the largest wins).
static void need_col(CEmit *e, long floats) {
  if (floats > e->col) e->col = floats;
}

// kern_*_chunk's scratch (kernels.h): the patches [K][N*P], then the GEMM's
// other side (O channels of N*P) or the chunk's image-minor image (R floats
// an image), whichever is larger: they take the same space in turn.
static long chunk_scratch(int K, int O, int P, long R, int N) {
  long other = (long)O * N * P, image = R * N;
  return (long)K * N * P + (other > image ? other : image);
}

// The weights, bias, output and activation a convolution's forward kernel
// takes: its own; or, when a batch norm is folded in for evaluation
// (fuse.c, Fusion.eval_bn), chosen by train at run time: in evaluation
// FOLD's weights w·alpha and bias b·alpha + beta (written first, once per
// chunk: Co·K products), the batch norm's output buffer and its
// activation.  alpha and beta are the batch norm's evaluation-mode values
// (modes.c: emit_bn_stats, emit_batch_norm), computed as there.
typedef struct {
  char w[160], b[160], y[192], act[96];
} ConvArgs;

static ConvArgs conv_args(CEmit *e, int id) {
  const Node *n = nd(e, id);
  ConvArgs a;
  snprintf(a.w, sizeof a.w, "%s", root_name(e, n->in[1]));
  snprintf(a.b, sizeof a.b, "%s", bias_name(e, n));
  snprintf(a.y, sizeof a.y, "%s", e->name[id]);
  snprintf(a.act, sizeof a.act, "%s", layer_act(e, id));
  int bn = e->f->eval_bn[id];
  if (bn < 0)
    return a;
  const Node *b = nd(e, bn), *st = nd(e, b->in[1]);
  int Co = n->shape.dim[0];
  long K = numel(e, n->in[1]) / Co;
  if (Co * K + Co > e->fold)
    e->fold = Co * K + Co;
  char eps[64];
  out(e, "  /* evaluation: + batch_norm%s -> %s, folded into the weights and bias */\n",
      e->f->act[bn] ? " + relu" : "", e->name[bn]);
  out(e, "  if (!train)\n    for (int o = 0; o < %d; o++) {\n", Co);
  out(e, "      const float alpha = (float)(1.0 / sqrt((double)%s[o] + (double)%s)) * %s[o];\n",
      e->name[st->in[2]], flit(eps, sizeof eps, st->attr.eps), e->name[b->in[2]]);
  out(e, "      const float beta = %s[o] - %s[o] * alpha;\n", e->name[b->in[3]], e->name[st->in[1]]);
  out(e, "      for (int j = 0; j < %ld; j++)\n        FOLD[o * %ld + j] = %s[o * %ld + j] * alpha;\n", K, K, a.w, K);
  if (n->nin == 3)
    out(e, "      FOLD[%ld + o] = %s[o] * alpha + beta;\n    }\n", Co * K, a.b);
  else
    out(e, "      FOLD[%ld + o] = beta;\n    }\n", Co * K);
  snprintf(a.w, sizeof a.w, "train ? %s : FOLD", root_name(e, n->in[1]));
  snprintf(a.b, sizeof a.b, "train ? %s : FOLD + %ld", bias_name(e, n), Co * K);
  snprintf(a.y, sizeof a.y, "(train ? %s : %s)", e->name[id], e->name[bn]);
  snprintf(a.act, sizeof a.act, "train ? %s : ", layer_act(e, id));
  snprintf(a.act + strlen(a.act), sizeof a.act - strlen(a.act), "%s", act_name(e->f->act[bn]));
  return a;
}

static void emit_conv_general(CEmit *e, int id, const ConvArgs *a) {
  const Node *n = nd(e, id);
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  ConvAttr c = conv_attr(&n->attr);
  int Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int P = Ho * Wo, K = Ci * c.k[0] * c.k[1], Kg = K / c.groups;
  int gi = gemm(e, "conv forward", P, Co / c.groups, Kg, P, Kg, P, 0);
  need_col(e, (long)K * P);
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    kern_convg_fwd(&s->k[%d], %s + i * %d, %s, %s,\n"
         "                   %s + i * %d, COL, /* Co */ %d,\n",
      gi, root_name(e, n->in[0]), Ci * H * W, a->w, a->b, a->y, Co * P, Co);
  emit_geom(e, 19, Ci, H, W, &c, Ho, Wo);
  out(e, ", %s);\n", a->act);
  layer_act_alpha(e, id);
}

static void emit_deconv_general(CEmit *e, int id) {
  const Node *n = nd(e, id);
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  ConvAttr c = conv_attr(&n->attr);
  int Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int Pi = Hi * Wi, K = Co * c.k[0] * c.k[1], Kg = K / c.groups;
  need_param(e, n, n->in[1]);
  int gi = gemm(e, "deconv forward", Pi, Kg, Ci / c.groups, Pi, Ci, Pi, 0);
  need_col(e, (long)K * Pi);
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    kern_deconvg_fwd(&s->k[%d], %s + i * %d, S + %ld, %s,\n"
         "                     %s + i * %d, COL, /* Ci */ %d,\n",
      gi, root_name(e, n->in[0]), Ci * Pi, e->wt[nd(e, n->in[1])->param], bias_name(e, n), e->name[id],
      Co * Ho * Wo, Ci);
  emit_geom(e, 21, Co, Ho, Wo, &c, Hi, Wi);
  out(e, ", %s);\n", layer_act(e, id));
  layer_act_alpha(e, id);
}

// A general layer's backward op, inside its group's loop over the examples.
static void emit_general_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  bool deconv = n->op == OP_DECONV2D_DX || n->op == OP_DECONV2D_DW;
  bool dx = n->op == OP_CONV2D_DX || n->op == OP_DECONV2D_DX;
  // dy [Co][Ho][Wo] (the layer's output); x / dx [Ci][Hi][Wi].
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = dx ? n->shape : nd(e, n->in[1])->shape;
  ConvAttr c = conv_attr(&n->attr);
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2];
  // The convolution's image side and positions: conv x -> dy, deconv dy -> x.
  int C = deconv ? Co : Ci, H = deconv ? Ho : Hi, W = deconv ? Wo : Wi, O = deconv ? Ci : Co;
  int P = deconv ? Hi * Wi : Ho * Wo, K = C * c.k[0] * c.k[1], Kg = K / c.groups, Og = O / c.groups;
  need_col(e, (long)K * P);
  int gi;
  const char *fn;
  char w[64];
  if (dx && !deconv) {       // dcol = dy wt: reads the transposed weight
    need_param(e, n, n->in[1]);
    gi = gemm(e, "conv dx", P, Kg, Og, P, O, P, 0);
    fn = "kern_convg_dx";
    snprintf(w, sizeof w, "S + %ld", e->wt[nd(e, n->in[1])->param]);
  } else if (dx) {           // dx = col w
    gi = gemm(e, "deconv dx", P, Og, Kg, P, Kg, P, 0);
    fn = "kern_deconvg_dx";
    snprintf(w, sizeof w, "%s", root_name(e, n->in[1]));
  } else {                   // dw += colt (dy or x)
    gi = gemm(e, deconv ? "deconv dw" : "conv dw", Kg, Og, P, K, P, Kg, 1);
    fn = deconv ? "kern_deconvg_dw" : "kern_convg_dw";
    snprintf(w, sizeof w, "%s + i * %d", root_name(e, n->in[1]), Ci * Hi * Wi);
  }
  if (dx)
    out(e, "    %s(&s->k[%d], dy, %s, %s + i * %d, COL, /* %s */ %d,\n", fn, gi, w,
        e->name[id], Ci * Hi * Wi, deconv ? "Ci" : "Co", deconv ? Ci : Co);
  else
    out(e, "    %s(&s->k[%d], dy, %s, %s, COL, /* %s */ %d,\n", fn, gi, w, e->name[id],
        deconv ? "Ci" : "Co", deconv ? Ci : Co);
  emit_geom(e, (int)strlen(fn) + 5, C, H, W, &c, deconv ? Hi : Ho, deconv ? Wi : Wo);
  out(e, ");\n");
}

// Layers whose GEMMs have at most CHUNK_POSITIONS positions per image (a
// 3x3 side: conv3, deconv1 of the autoencoder) run the chunk's images in
// one GEMM (kern_*_chunk): 9-row GEMMs per image ran at 40% of the FMA
// peak.  Their backward group then runs per chunk, as a dense layer's
// (conv_chunked, emit_backward_group).  Larger images keep the per-image
// kernels, whose im2col scratch stays in L1 / L2.
enum { CHUNK_POSITIONS = 16 };

// Positions per image of the layer's GEMMs: a convolution's output, a
// transposed convolution's input.
static int layer_positions(const CEmit *e, int id) {
  const Node *n = nd(e, id);
  switch (n->op) {
  case OP_CONV2D: return n->shape.dim[1] * n->shape.dim[2];
  case OP_DECONV2D: {
    Shape xs = nd(e, n->in[0])->shape;
    return xs.dim[1] * xs.dim[2];
  }
  case OP_CONV2D_DX:
  case OP_CONV2D_DW: {
    Shape ds = nd(e, e->f->dy[id])->shape;
    return ds.dim[1] * ds.dim[2];
  }
  case OP_DECONV2D_DX: return n->shape.dim[1] * n->shape.dim[2];
  case OP_DECONV2D_DW: {
    Shape xs = nd(e, n->in[1])->shape;
    return xs.dim[1] * xs.dim[2];
  }
  default: return 0;
  }
}

// ---- Direct convolution (kernels.h, "Direct convolution"): the forward
// and input gradient of a layer without im2col / col2im, B images of the
// chunk per batch-reduce GEMM.  Chosen per layer by measurement
// (docs/benchmarks.md, "Direct convolution"): it wins where the im2col
// copy is large next to the GEMM (3x3 stride 2 with 8-16 channels, the
// zoo's stride-1 3x3 layers), and loses where a side has one channel (a
// GEMM with k or n = 1: conv1, deconv3 keep im2col), where the positions
// are few (the chunked 3x3-side layers keep their chunk GEMM) and where
// the padded rows would compute over half as much again as the real
// positions (an 8x8 image with pad 1: 100 rows for 64).  Layers with 4
// to 7 channels on a side would win too (3x on 4 -> 4 channels at 28x28)
// but stay on im2col for now: on tests/interp/conv_opts.net (4 channels,
// no bias, gradients near zero) the reordered sums flip ReLU kinks that
// Adam turns into parameter differences of 2e-4 against the interpreter
// after 20 steps (the test allows 1e-4; im2col sums in the interpreter's
// order).  The weight gradients keep im2col (per image, as before).

// The layer's convolution from its image side [C][H][W] to its positions
// [O][Ho][Wo] (a conv's input and output; a deconv's output and input),
// for any of its six ops.
typedef struct {
  int C, H, W, O, Ho, Wo, k, s, p;
} ConvSides;

static ConvSides conv_sides(const CEmit *e, int id) {
  const Node *n = nd(e, id);
  Shape img, pos;
  switch (n->op) {
  case OP_CONV2D: img = nd(e, n->in[0])->shape, pos = n->shape; break;
  case OP_DECONV2D: img = n->shape, pos = nd(e, n->in[0])->shape; break;
  case OP_CONV2D_DX: img = n->shape, pos = nd(e, e->f->dy[id])->shape; break;
  case OP_CONV2D_DW: img = nd(e, n->in[1])->shape, pos = nd(e, e->f->dy[id])->shape; break;
  case OP_DECONV2D_DX: img = nd(e, e->f->dy[id])->shape, pos = n->shape; break;
  default: img = nd(e, e->f->dy[id])->shape, pos = nd(e, n->in[1])->shape; break;   // OP_DECONV2D_DW
  }
  return (ConvSides){img.dim[0], img.dim[1], img.dim[2], pos.dim[0], pos.dim[1], pos.dim[2],
                     n->attr.k, n->attr.stride, n->attr.pad};
}

enum { DIRECT_MIN_CHANNELS = 8, DIRECT_ROWS = 256 };

// Images per GEMM: about DIRECT_ROWS rows, at most a chunk.  Longer blocks
// measured no faster (conv2: B = 1, 4, 16 within 2%), and a chunk that is
// not full computes its last block whole: with B = 16, a batch of 7 ran
// 15% slower than with im2col.
static int direct_block(const CEmit *e, int plane) {
  int b = DIRECT_ROWS / plane;
  return b < 1 ? 1 : b > e->chunk ? e->chunk : b;
}

static KernDirect direct_gather(const CEmit *e, const ConvSides *c) {
  KernDirect q = kern_direct_gather_geom(1, c->k, c->s, c->Ho, c->Wo);
  return kern_direct_gather_geom(direct_block(e, q.plane), c->k, c->s, c->Ho, c->Wo);
}

static KernDirect direct_scatter(const CEmit *e, const ConvSides *c) {
  KernDirect q = kern_direct_scatter_geom(1, c->k, c->s, c->p, c->H, c->W, c->Ho, c->Wo);
  return kern_direct_scatter_geom(direct_block(e, q.plane), c->k, c->s, c->p, c->H, c->W, c->Ho, c->Wo);
}

bool conv_direct(const CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!conv_plain(n) || layer_positions(e, id) <= CHUNK_POSITIONS)
    return false;
  ConvSides c = conv_sides(e, id);
  if (c.C < DIRECT_MIN_CHANNELS || c.O < DIRECT_MIN_CHANNELS)
    return false;
  KernDirect g = kern_direct_gather_geom(1, c.k, c.s, c.Ho, c.Wo);
  KernDirect t = kern_direct_scatter_geom(1, c.k, c.s, c.p, c.H, c.W, c.Ho, c.Wo);
  return 2 * g.plane <= 3 * c.Ho * c.Wo && 2 * c.s * c.s * t.plane <= 3 * c.H * c.W;
}

// The gather form over a chunk: y = conv(x) with w [O][C][k][k] as stored
// (a conv's forward: x its input, w its weight; a deconv's input gradient:
// x = dy, w its weight [Ci][Co] = [O][C]), bias and activation or none.
static void emit_direct_gather(CEmit *e, const char *x, const char *w, const char *b, const char *y,
                               const char *act, const ConvSides *c) {
  KernDirect q = direct_gather(e, c);
  int B = q.M / q.plane;
  int gi = gemm(e, "direct conv", q.M, c->O, c->C, q.L, c->C, q.M, KERN_GEMM_BATCH);
  need_col(e, (long)c->k * c->k * c->O * c->C + (long)c->s * c->s * c->C * q.L + (long)c->O * q.M);
  out(e, "  kern_direct_conv(&s->k[%d], %s, %s, %s,\n"
         "                   %s, COL, nc, /* B */ %d,\n"
         "                   /* Ci H W */ %d, %d, %d, /* Co k s p */ %d, %d, %d, %d, /* Ho Wo */ %d, %d, %s);\n",
      gi, x, w, b, y, B, c->C, c->H, c->W, c->O, c->k, c->s, c->p, c->Ho, c->Wo, act);
}

// The scatter form: dx = convᵀ(dy) (a conv's input gradient, no bias; a
// deconv's forward: dy = its input, with bias and activation).
static void emit_direct_scatter(CEmit *e, int id, const char *dy, const char *w, const char *b,
                                const char *act, const ConvSides *c) {
  KernDirect q = direct_scatter(e, c);
  int B = q.M / q.plane;
  int gi = gemm(e, "direct convt", q.M, c->C, c->O, q.L, c->O, q.M, KERN_GEMM_BATCH);
  need_col(e, (long)c->k * c->k * c->O * c->C + (long)c->O * q.L + (long)c->s * c->s * c->C * q.M);
  out(e, "  kern_direct_convt(&s->k[%d], %s, %s, %s,\n"
         "                    %s, COL, nc, /* B */ %d,\n"
         "                    /* O Ho Wo */ %d, %d, %d, /* C H W */ %d, %d, %d, /* k s p */ %d, %d, %d, %s);\n",
      gi, dy, w, b, e->name[id], B, c->O, c->Ho, c->Wo, c->C, c->H, c->W, c->k, c->s, c->p, act);
}

bool conv_chunked(const CEmit *e, int id) {
  const Node *n = nd(e, id);
  switch (n->op) {
  case OP_CONV2D: case OP_DECONV2D: case OP_CONV2D_DX: case OP_CONV2D_DW:
  case OP_DECONV2D_DX: case OP_DECONV2D_DW:
    break;
  default:
    return false;
  }
  // A direct layer's backward group runs per chunk too (its input
  // gradient is one call over the chunk).
  return conv_plain(n) && (layer_positions(e, id) <= CHUNK_POSITIONS || conv_direct(e, id));
}

static void emit_conv(CEmit *e, int id) {
  const Node *n = nd(e, id);
  ConvArgs a = conv_args(e, id);
  if (!conv_plain(n)) {
    emit_conv_general(e, id, &a);
    return;
  }
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  int Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int k = n->attr.k, P = Ho * Wo, K = Ci * k * k;
  if (conv_direct(e, id)) {
    ConvSides c = conv_sides(e, id);
    emit_direct_gather(e, root_name(e, n->in[0]), a.w, a.b, a.y, a.act, &c);
    layer_act_alpha(e, id);
    return;
  }
  if (conv_chunked(e, id)) {
    int NP = e->chunk * P;
    int gi = gemm(e, "conv forward", NP, Co, K, NP, K, NP, 0);
    need_col(e, chunk_scratch(K, Co, P, (long)Ci * H * W, e->chunk));
    out(e, "  kern_conv_fwd_chunk(&s->k[%d], %s, %s, %s,\n"
           "                      %s, COL, CHUNK,\n"
           "                      /* Ci H W */ %d, %d, %d, /* Co k s p */ %d, %d, %d, %d, /* Ho Wo */ %d, %d, %s);\n",
        gi, root_name(e, n->in[0]), a.w, a.b, a.y,
        Ci, H, W, Co, k, n->attr.stride, n->attr.pad, Ho, Wo, a.act);
    layer_act_alpha(e, id);
    return;
  }
  int gi = gemm(e, "conv forward", P, Co, K, P, K, P, 0);
  need_col(e, (long)K * P);
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    kern_conv_fwd(&s->k[%d], %s + i * %d, %s, %s,\n"
         "                  %s + i * %d, COL,\n"
         "                  /* Ci H W */ %d, %d, %d, /* Co k s p */ %d, %d, %d, %d, /* Ho Wo */ %d, %d, %s);\n",
      gi, root_name(e, n->in[0]), Ci * H * W, a.w, a.b, a.y,
      Co * P, Ci, H, W, Co, k, n->attr.stride, n->attr.pad, Ho, Wo, a.act);
  layer_act_alpha(e, id);
}

static void emit_deconv(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!conv_plain(n)) {
    emit_deconv_general(e, id);
    return;
  }
  const Shape xs = nd(e, n->in[0])->shape, ys = n->shape;
  int Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2], Co = ys.dim[0], Ho = ys.dim[1], Wo = ys.dim[2];
  int k = n->attr.k, Pi = Hi * Wi, K = Co * k * k;
  need_param(e, n, n->in[1]);
  if (conv_direct(e, id)) {
    ConvSides c = conv_sides(e, id);
    emit_direct_scatter(e, id, root_name(e, n->in[0]), root_name(e, n->in[1]), bias_name(e, n), layer_act(e, id),
                        &c);
    layer_act_alpha(e, id);
    return;
  }
  if (conv_chunked(e, id)) {
    int NP = e->chunk * Pi;
    int gi = gemm(e, "deconv forward", NP, K, Ci, NP, Ci, NP, 0);
    need_col(e, chunk_scratch(K, Ci, Pi, (long)Co * Ho * Wo, e->chunk));
    out(e, "  kern_deconv_fwd_chunk(&s->k[%d], %s, S + %ld, %s,\n"
           "                        %s, COL, CHUNK, /* Ci */ %d,\n"
           "                        /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d, %s);\n",
        gi, root_name(e, n->in[0]), e->wt[nd(e, n->in[1])->param], bias_name(e, n), e->name[id], Ci,
        Co, Ho, Wo, k, n->attr.stride, n->attr.pad, Hi, Wi, layer_act(e, id));
    layer_act_alpha(e, id);
    return;
  }
  int gi = gemm(e, "deconv forward", Pi, K, Ci, Pi, Ci, Pi, 0);
  need_col(e, (long)K * Pi);
  out(e, "  for (int i = 0; i < nc; i++)\n"
         "    kern_deconv_fwd(&s->k[%d], %s + i * %d, S + %ld, %s,\n"
         "                    %s + i * %d, COL,\n"
         "                    /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d, %s);\n",
      gi, root_name(e, n->in[0]), Ci * Pi, e->wt[nd(e, n->in[1])->param], bias_name(e, n),
      e->name[id], Co * Ho * Wo, Co, Ho, Wo, k, n->attr.stride, n->attr.pad, Hi, Wi,
      layer_act(e, id));
  layer_act_alpha(e, id);
}

// Members of a convolution's backward group, inside its loop over the
// examples (emit_backward_group): dy is example i's gradient of the output.

// A chunked layer's backward op (conv_chunked): the group runs per chunk,
// dy<lead> is the chunk's (masked) gradient of the output.
static void emit_chunk_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  bool deconv = n->op == OP_DECONV2D_DX || n->op == OP_DECONV2D_DW;
  bool dx = n->op == OP_CONV2D_DX || n->op == OP_DECONV2D_DX;
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = dx ? n->shape : nd(e, n->in[1])->shape;
  int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2];
  // The GEMM's positions per image and the other side's channels.
  int P = deconv ? Hi * Wi : Ho * Wo, K = (deconv ? Co : Ci) * k * k, O = deconv ? Ci : Co;
  int NP = e->chunk * P, gi;
  if (dx && conv_direct(e, id)) {
    ConvSides c = conv_sides(e, id);
    char dyl[32];
    snprintf(dyl, sizeof dyl, "dy%d", e->bwd_lead);
    if (deconv)
      emit_direct_gather(e, dyl, root_name(e, n->in[1]), "NULL", e->name[id], "KERN_ACT_NONE", &c);
    else
      emit_direct_scatter(e, id, dyl, root_name(e, n->in[1]), "NULL", "KERN_ACT_NONE", &c);
    return;
  }
  // A direct layer's weight gradient is per image: its im2col scratch only.
  long R = deconv ? (long)Co * Ho * Wo : (long)Ci * Hi * Wi;   // the image side of the chunk kernels
  need_col(e, conv_direct(e, id) ? (long)K * P : chunk_scratch(K, O, P, R, e->chunk));
  char w[64], dst[64];
  if (dx && !deconv) {
    need_param(e, n, n->in[1]);
    gi = gemm(e, "conv dx", NP, K, Co, NP, Co, NP, 0);
    snprintf(w, sizeof w, "S + %ld", e->wt[nd(e, n->in[1])->param]);
  } else if (dx) {
    gi = gemm(e, "deconv dx", NP, Ci, K, NP, K, NP, 0);
    snprintf(w, sizeof w, "%s", root_name(e, n->in[1]));
  } else {
    // The weight gradient per image, as outside a chunked group: batched,
    // its sums would change order (kernels.h, "A chunk's images").
    long dyn = (long)Co * Ho * Wo;
    if (deconv) {
      gi = gemm(e, "deconv dw", K, Ci, P, K, P, K, 1);
      out(e, "  for (int i = 0; i < nc; i++)\n"
             "    kern_deconv_dw(&s->k[%d], dy%d + i * %ld, %s + i * %d, %s, COL,\n"
             "                   /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n",
          gi, e->bwd_lead, dyn, root_name(e, n->in[1]), Ci * P, e->name[id], Co, Ho, Wo, k, st, pd, Hi, Wi);
    } else {
      gi = gemm(e, "conv dw", K, Co, P, K, P, K, 1);
      out(e, "  for (int i = 0; i < nc; i++)\n"
             "    kern_conv_dw(&s->k[%d], dy%d + i * %ld, %s + i * %d, %s, COL,\n"
             "                 /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
          gi, e->bwd_lead, dyn, root_name(e, n->in[1]), Ci * Hi * Wi, e->name[id], Ci, Hi, Wi, k, st, pd, Ho, Wo);
    }
    return;
  }
  snprintf(dst, sizeof dst, "%s", e->name[id]);
  const char *fn = deconv ? "kern_deconv_dx_chunk" : "kern_conv_dx_chunk";
  int ind = (int)strlen(fn) + 3;
  out(e, "  %s(&s->k[%d], dy%d, %s, %s, COL, CHUNK,\n", fn, gi, e->bwd_lead, w, dst);
  if (deconv)
    out(e, "%*s/* Ci */ %d, /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n", ind, "",
        Ci, Co, Ho, Wo, k, st, pd, Hi, Wi);
  else
    out(e, "%*s/* Co */ %d, /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n", ind, "",
        Co, Ci, Hi, Wi, k, st, pd, Ho, Wo);
}

// The weight gradient of a side with few patch rows as dot products along
// the positions (kernels_dwdot.h: kern_conv_dw_dot, kern_deconv_dw_dot):
// where K = C*k*k <= DWDOT_MAX_K and an image has at least DWDOT_MIN_P
// positions.  libxsmm's GEMM (m = K, n = O, k = P) vectorises m, a third
// to a half of its 16 lanes used there; the dot products run the long
// reduction over P in the lanes (plain C without AVX-512: 1.5x faster
// than libxsmm's AVX2 code on conv1).  Measured (docs/benchmarks.md,
// "Session 7"): the autoencoder's conv1 (K 9, O 8, P 196) 0.226 -> 0.164
// ms a step, its deconv3 (patches shared with its input gradient) 0.229
// -> 0.126, lenet5's training +13% (K 25, P 784); a microbenchmark ranked
// the zoo's first layers (K 9-27, P 784-1024) and a 1x1 convolution to
// one channel (K 8, O 1) as wins, and the autoencoder's conv2 (K 72, P
// 49) as a loss: it keeps the GEMM.
enum { DWDOT_MAX_K = 32, DWDOT_MIN_P = 128 };

static bool conv_dwdot(const CEmit *e, int id) {
  ConvSides c = conv_sides(e, id);
  return conv_plain(nd(e, id)) && c.C * c.k * c.k <= DWDOT_MAX_K && c.Ho * c.Wo >= DWDOT_MIN_P;
}

// Where the lanes acc [O][K][16] start in COL: past the patches [K][P], on
// a 64-byte boundary (COL's own is one).
static long dwdot_acc_at(int K, int P) { return ((long)K * P + 15) / 16 * 16; }

// Whether the input gradient of the transposed convolution whose weight
// gradient is dw runs in the same per-example loop before it
// (kern_deconv_dx: its patches of dy are in COL when dw runs).
static bool dwdot_has_col(const CEmit *e, int dw) {
  for (int j = e->bwd_lead; j < dw; j++)
    if (e->f->live[j] && !e->f->skip[j] && e->f->lead[j] == e->bwd_lead && nd(e, j)->op == OP_DECONV2D_DX &&
        nd(e, j)->in[0] == nd(e, dw)->in[0])
      return true;
  return false;
}

static void emit_conv_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (e->bwd_dense && conv_chunked(e, id)) {
    emit_chunk_bwd(e, id);
    return;
  }
  if (e->bwd_dense)
    fail(n, "mixed backward group");
  if (!conv_plain(n)) {
    emit_general_bwd(e, id);
    return;
  }
  // dy [Co][Ho][Wo]; x / dx [Ci][H][W].
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = n->op == OP_CONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
  int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], H = xs.dim[1], W = xs.dim[2];
  int P = Ho * Wo, K = Ci * k * k;
  need_col(e, (long)K * P);
  if (n->op == OP_CONV2D_DX) {
    need_param(e, n, n->in[1]);
    int gi = gemm(e, "conv dx", P, K, Co, P, Co, P, 0);
    out(e, "    kern_conv_dx(&s->k[%d], dy, S + %ld, %s + i * %d, COL,\n"
           "                 /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
        gi, e->wt[nd(e, n->in[1])->param], e->name[id], Ci * H * W, Ci, H, W, k, st, pd, Ho, Wo);
  } else if (conv_dwdot(e, id)) {
    long at = dwdot_acc_at(K, P);
    need_col(e, at + (long)Co * K * 16);
    out(e, "    kern_conv_dw_dot(dy, %s + i * %d, %s, COL, COL + %ld, i, nc,\n"
           "                     /* Co */ %d, /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
        root_name(e, n->in[1]), Ci * H * W, e->name[id], at, Co, Ci, H, W, k, st, pd, Ho, Wo);
  } else {
    int gi = gemm(e, "conv dw", K, Co, P, K, P, K, 1);
    out(e, "    kern_conv_dw(&s->k[%d], dy, %s + i * %d, %s, COL,\n"
           "                 /* Ci H W */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Ho Wo */ %d, %d);\n",
        gi, root_name(e, n->in[1]), Ci * H * W, e->name[id], Ci, H, W, k, st, pd, Ho, Wo);
  }
}

static void emit_deconv_bwd(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (e->bwd_dense && conv_chunked(e, id)) {
    emit_chunk_bwd(e, id);
    return;
  }
  if (e->bwd_dense)
    fail(n, "mixed backward group");
  if (!conv_plain(n)) {
    emit_general_bwd(e, id);
    return;
  }
  // dy [Co][Ho][Wo] (the deconv's output); x / dx [Ci][Hi][Wi].
  const Shape ds = nd(e, e->f->dy[id])->shape;
  Shape xs = n->op == OP_DECONV2D_DX ? n->shape : nd(e, n->in[1])->shape;
  int k = n->attr.k, st = n->attr.stride, pd = n->attr.pad;
  int Co = ds.dim[0], Ho = ds.dim[1], Wo = ds.dim[2], Ci = xs.dim[0], Hi = xs.dim[1], Wi = xs.dim[2];
  int Pi = Hi * Wi, K = Co * k * k;
  need_col(e, (long)K * Pi);
  if (n->op == OP_DECONV2D_DX) {
    int gi = gemm(e, "deconv dx", Pi, Ci, K, Pi, K, Pi, 0);
    out(e, "    kern_deconv_dx(&s->k[%d], dy, %s, %s + i * %d, COL,\n"
           "                   /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n",
        gi, root_name(e, n->in[1]), e->name[id], Ci * Pi, Co, Ho, Wo, k, st, pd, Hi, Wi);
  } else if (conv_dwdot(e, id)) {
    long at = dwdot_acc_at(K, Pi);
    need_col(e, at + (long)Ci * K * 16);
    out(e, "    kern_deconv_dw_dot(dy, %s + i * %d, %s, COL,\n"
           "                       /* have_col */ %d, COL + %ld, i, nc, /* Ci */ %d,\n"
           "                       /* Co Ho Wo */ %d, %d, %d, /* k s p */ %d, %d, %d, /* Hi Wi */ %d, %d);\n",
        root_name(e, n->in[1]), Ci * Pi, e->name[id], dwdot_has_col(e, id), at, Ci, Co, Ho, Wo, k, st, pd, Hi, Wi);
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
    out(e, "  for (int i = 0; i < nc; i++)\n    kern_bias_grad(dy%d + i * %ld, %d, %ld, %s);\n",
        e->bwd_lead, dyn, ds.dim[0], dyn / ds.dim[0], e->name[id]);
  else
    out(e, "    kern_bias_grad(dy, %d, %ld, %s);\n", ds.dim[0], dyn / ds.dim[0], e->name[id]);
}

// ---- Dumps ----

// k=3 s=2 p=1 [op=1] in the square case; else per dimension where they
// differ (k=3x5), and d=, g= when not 1.
static void print_pair(FILE *out, const char *name, const int v[2], bool always) {
  if (v[0] != v[1])
    fprintf(out, " %s=%dx%d", name, v[0], v[1]);
  else if (always || v[0])
    fprintf(out, " %s=%d", name, v[0]);
}

static void print_conv(FILE *out, const Node *n) {
  ConvAttr c = conv_attr(&n->attr);
  print_pair(out, "k", c.k, true);
  print_pair(out, "s", c.s, true);
  print_pair(out, "p", c.p, true);
  print_pair(out, "op", c.op, false);
  if (c.d[0] != 1 || c.d[1] != 1)
    print_pair(out, "d", c.d, true);
  if (c.groups != 1)
    fprintf(out, " g=%d", c.groups);
}

// ---- Rows ----

const OpDef op_def_CONV2D = {
  "conv2d", 3, OPF_LAYER, .prefix = "conv",
  .surface = {{"conv2d", OP_CONV2D, 1, true, 7,
               {ATTR_REQ("out", A_INT_POS, out), ATTR_PAIR_REQ("k", A_PAIR_POS, k, kw),
                ATTR_PAIR_OPT("stride", A_PAIR_POS, 1, stride, stridew),
                ATTR_PAIR_OPT("pad", A_PAIR_NONNEG, 0, pad, padw),
                ATTR_PAIR_OPT("dilation", A_PAIR_POS, 1, dil, dilw), ATTR_OPT("groups", A_INT_POS, 1, groups),
                ATTR_OPT("bias", A_BOOL, 1, bias)}}},
  .shape = shape_conv2d, .grad = grad_conv2d, .kernel = interp_conv2d, .emit = emit_conv,
  .print_attrs = print_conv};
const OpDef op_def_DECONV2D = {
  "deconv2d", 3, OPF_LAYER | OPF_WEIGHT_T, .prefix = "deconv",
  .surface = {{"deconv2d", OP_DECONV2D, 1, true, 8,
               {ATTR_REQ("out", A_INT_POS, out), ATTR_PAIR_REQ("k", A_PAIR_POS, k, kw),
                ATTR_PAIR_OPT("stride", A_PAIR_POS, 1, stride, stridew),
                ATTR_PAIR_OPT("pad", A_PAIR_NONNEG, 0, pad, padw),
                ATTR_PAIR_OPT("outpad", A_PAIR_NONNEG, 0, outpad, outpadw), ATTR_OPT("groups", A_INT_POS, 1, groups),
                ATTR_OPT("bias", A_BOOL, 1, bias), ATTR_PAIR_OPT("dilation", A_PAIR_POS, 1, dil, dilw)}}},
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
