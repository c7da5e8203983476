// interp_conv.c — the layer kernels: conv2d and deconv2d by im2col/col2im
// and sgemm over chunks of the batch, dense by one sgemm over the batch,
// and their gradients.
//
// Channel-major batch layout: for one big sgemm per chunk of 32 examples,
// im2col writes the columns of example i at [i*P, (i+1)*P) of a [K, c*P]
// matrix, so the product comes out as [O, c, P] and is reordered to the
// IR's [n, O, P].
#include "interp.h"

#include <cblas.h>
#include <string.h>
#include <stdlib.h>

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

// The inner loops, kept small so they compile to tight code.
// src is an image row; tap ow reads src[ow * s + off].
static void gather_row(float *restrict r, const float *restrict src, int off, int lo, int hi, int OW, int s) {
  for (int ow = 0; ow < lo; ow++)
    r[ow] = 0.0f;
  if (s == 1)
    memcpy(r + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
  else
    for (int ow = lo; ow < hi; ow++)
      r[ow] = src[ow * s + off];
  for (int ow = hi; ow < OW; ow++)
    r[ow] = 0.0f;
}

static void scatter_row(float *restrict dst, const float *restrict r, int off, int lo, int hi, int s) {
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

// Examples per im2col + sgemm: the column matrix of a chunk (at most
// ~450 KB here) stays in L2, where a whole batch of 256 would not.
#define CHUNK 32

static int min_int(int a, int b) { return a < b ? a : b; }

// Batch im2col: x [n, C, H, W] -> col [C*k*k, n*OH*OW].
static void im2col_batch(const float *x, int n, int C, int H, int W, int k, int s, int p, int OH, int OW,
                         float *col) {
  size_t P = (size_t)OH * OW, ld = (size_t)n * P;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    im2col(x + (size_t)i * C * H * W, C, H, W, k, s, p, OH, OW, col + i * P, ld);
}

// Batch col2im: col [C*k*k, n*OH*OW] -> img [n, C, H, W].
static void col2im_batch(const float *col, int n, int C, int H, int W, int k, int s, int p, int OH, int OW,
                         float *img) {
  size_t P = (size_t)OH * OW, ld = (size_t)n * P;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++)
    col2im(col + i * P, ld, C, H, W, k, s, p, OH, OW, img + (size_t)i * C * H * W);
}

// [n, C, P] -> [C, n*P]
static void to_channel_major(const float *src, int n, int C, size_t P, float *dst) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < n; i++)
    for (int c = 0; c < C; c++)
      memcpy(dst + ((size_t)c * n + i) * P, src + ((size_t)i * C + c) * P, P * sizeof(float));
}

// [C, n*P] -> [n, C, P], adding bias[c] when bias is not NULL.
static void from_channel_major(const float *src, int n, int C, size_t P, const float *bias, float *dst) {
#pragma omp parallel for collapse(2) schedule(static)
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
  int n = ip->n, cmax = min_int(n, CHUNK);                         \
  (void)img_sz

// ---- conv2d: x [n, C, H, W], w [O, C, k, k], b [O] -> y [n, O, OH, OW].

void interp_conv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  float *col = interp_alloc((size_t)K * cmax * P), *t = interp_alloc((size_t)q.O * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q.O, cP, K, 1.0f, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, q.O, P, in[2], y + i0 * q.O * P);
  }
  free(col);
  free(t);
}

// dx = col2im(W^T dy): dy [n, O, OH, OW], w [O, C, k, k] -> dx [n, C, H, W].
void interp_conv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  float *dyc = interp_alloc((size_t)q.O * cmax * P), *dcol = interp_alloc((size_t)K * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cP, q.O, 1.0f, in[1], K, dyc, cP, 0.0f, dcol, cP);
    col2im_batch(dcol, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, dx + i0 * img_sz);
  }
  free(dyc);
  free(dcol);
}

// dw = dy im2col(x)^T, summed over the batch (chunks accumulate): -> [O, C, k, k].
void interp_conv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 1), *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  float *dyc = interp_alloc((size_t)q.O * cmax * P), *col = interp_alloc((size_t)K * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    im2col_batch(in[1] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q.O, K, cP, 1.0f, dyc, cP, col, cP, i0 ? 1.0f : 0.0f,
                dw, K);
  }
  free(dyc);
  free(col);
}

// ---- deconv2d (transposed convolution): x [n, Ci, H, W], w [Ci, Co, k, k],
// b [Co] -> y [n, Co, OH, OW].  It is the adjoint of a conv2d from y-sized
// images to x-sized positions: y = col2im(W^T x) + b.  In the Geom, the
// image is y (C = Co) and the positions are x (O = Ci).

void interp_deconv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  float *xc = interp_alloc((size_t)Ci * cmax * P), *col = interp_alloc((size_t)K * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    to_channel_major(in[0] + i0 * Ci * P, c, Ci, P, xc);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cP, Ci, 1.0f, in[1], K, xc, cP, 0.0f, col, cP);
    col2im_batch(col, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, y + i0 * img_sz);
  }
  size_t HW = (size_t)q.H * q.W;
  const float *b = in[2];
#pragma omp parallel for collapse(2) schedule(static)
  for (int i = 0; i < n; i++)
    for (int c = 0; c < q.C; c++) {
      float *d = y + ((size_t)i * q.C + c) * HW;
      for (size_t j = 0; j < HW; j++)
        d[j] += b[c];
    }
  free(xc);
  free(col);
}

// dx = W im2col(dy): dy [n, Co, OH, OW] -> dx [n, Ci, H, W].
void interp_deconv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  int Ci = q.O;
  float *col = interp_alloc((size_t)K * cmax * P), *t = interp_alloc((size_t)Ci * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Ci, cP, K, 1.0f, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, Ci, P, NULL, dx + i0 * Ci * P);
  }
  free(col);
  free(t);
}

// dw = x im2col(dy)^T: -> [Ci, Co, k, k], summed over the batch.
void interp_deconv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), *shape_in(ip, nd, 1), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  float *col = interp_alloc((size_t)K * cmax * P), *xc = interp_alloc((size_t)Ci * cmax * P);
  for (int i0 = 0; i0 < n; i0 += CHUNK) {
    int c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    to_channel_major(in[1] + i0 * Ci * P, c, Ci, P, xc);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Ci, K, cP, 1.0f, xc, cP, col, cP, i0 ? 1.0f : 0.0f,
                dw, K);
  }
  free(col);
  free(xc);
}

// ---- dense: x [n, I], w [O, I], b [O] -> y [n, O] = x w^T + b.

void interp_dense(Interp *ip, const Node *nd, float *y, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = shape_in(ip, nd, 0)->dim[0];
  const float *b = in[2];
  for (int i = 0; i < n; i++)
    memcpy(y + (size_t)i * no, b, no * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, no, ni, 1.0f, in[0], ni, in[1], ni, 1.0f, y, no);
}

// dx [n, I] = dy [n, O] w [O, I].
void interp_dense_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  int n = ip->n, ni = nd->shape.dim[0], no = shape_in(ip, nd, 0)->dim[0];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ni, no, 1.0f, in[0], no, in[1], ni, 0.0f, dx, ni);
}

// dw [O, I] = dy^T [O, n] x [n, I], summed over the batch.
void interp_dense_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = nd->shape.dim[1];
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, ni, n, 1.0f, in[0], no, in[1], ni, 0.0f, dw, ni);
}

// db [C] = dy [n, C, ...] summed over the batch and the positions.
void interp_bias_grad(Interp *ip, const Node *nd, float *db, const float *const *in) {
  const Shape *s = shape_in(ip, nd, 0);
  int n = ip->n, C = s->dim[0];
  size_t P = (size_t)shape_numel(*s) / C;
  for (int c = 0; c < C; c++) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
      const float *d = in[0] + ((size_t)i * C + c) * P;
      for (size_t j = 0; j < P; j++)
        acc += d[j];
    }
    db[c] = (float)acc;
  }
}
