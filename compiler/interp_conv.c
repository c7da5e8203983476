// interp_conv.c — the layer kernels: conv2d and deconv2d by im2col/col2im
// and one sgemm per chunk of the batch, dense by one sgemm per chunk of
// rows, and their gradients.
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

// Threads take whole chunks of CHUNK examples: im2col, one single-threaded
// sgemm and col2im of a chunk run on one core, and the column matrix (at
// most ~450 KB here) stays in its L2.  One parallel region per op and no
// second thread pool: OpenBLAS runs single-threaded (set_threads), since
// its pthreads spinning next to OpenMP's only steal each other's cores.
// Weight gradients are summed per chunk, then over the chunks in order,
// so results do not depend on the number of threads.
#define CHUNK 32

static int min_int(int a, int b) { return a < b ? a : b; }

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
  int n = ip->n, cmax = min_int(n, CHUNK);                         \
  int nchunks = (n + CHUNK - 1) / CHUNK;                           \
  (void)img_sz, (void)cmax

// Chunk j of the batch: examples [i0, i0 + c).
#define CHUNK_LOOP(j)                                              \
  _Pragma("omp parallel for schedule(static)")                     \
  for (int j = 0; j < nchunks; j++)

// dw = sum of the chunks' partial gradients part [nchunks, m], in chunk order.
static void sum_chunks(const float *part, int nchunks, size_t m, float *dw) {
#pragma omp parallel for schedule(static) if (m > 4096)
  for (size_t k = 0; k < m; k++) {
    float acc = 0.0f;
    for (int j = 0; j < nchunks; j++)
      acc += part[(size_t)j * m + k];
    dw[k] = acc;
  }
}

// ---- conv2d: x [n, C, H, W], w [O, C, k, k], b [O] -> y [n, O, OH, OW].

void interp_conv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)q.O * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q.O, cP, K, 1.0f, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, q.O, P, in[2], y + i0 * q.O * P);
    free(col);
    free(t);
  }
}

// dx = col2im(W^T dy): dy [n, O, OH, OW], w [O, C, k, k] -> dx [n, C, H, W].
void interp_conv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *dcol = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cP, q.O, 1.0f, in[1], K, dyc, cP, 0.0f, dcol, cP);
    col2im_batch(dcol, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, dx + i0 * img_sz);
    free(dyc);
    free(dcol);
  }
}

// dw = dy im2col(x)^T, summed over the batch: -> [O, C, k, k].
void interp_conv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 1), *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  size_t m = (size_t)q.O * K;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *dyc = interp_alloc((size_t)q.O * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * q.O * P, c, q.O, P, dyc);
    im2col_batch(in[1] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q.O, K, cP, 1.0f, dyc, cP, col, cP, 0.0f, part + j * m, K);
    free(dyc);
    free(col);
  }
  sum_chunks(part, nchunks, m, dw);
  free(part);
}

// ---- deconv2d (transposed convolution): x [n, Ci, H, W], w [Ci, Co, k, k],
// b [Co] -> y [n, Co, OH, OW].  It is the adjoint of a conv2d from y-sized
// images to x-sized positions: y = col2im(W^T x) + b.  In the Geom, the
// image is y (C = Co) and the positions are x (O = Ci).

void interp_deconv2d(Interp *ip, const Node *nd, float *y, const float *const *in) {
  Geom q = geom(nd->shape, *shape_in(ip, nd, 0), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  size_t HW = (size_t)q.H * q.W;
  const float *b = in[2];
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *xc = interp_alloc((size_t)Ci * cP), *col = interp_alloc((size_t)K * cP);
    to_channel_major(in[0] + i0 * Ci * P, c, Ci, P, xc);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cP, Ci, 1.0f, in[1], K, xc, cP, 0.0f, col, cP);
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
void interp_deconv2d_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), nd->shape, &nd->attr);
  SIZES(q);
  int Ci = q.O;
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *t = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Ci, cP, K, 1.0f, in[1], K, col, cP, 0.0f, t, cP);
    from_channel_major(t, c, Ci, P, NULL, dx + i0 * Ci * P);
    free(col);
    free(t);
  }
}

// dw = x im2col(dy)^T: -> [Ci, Co, k, k], summed over the batch.
void interp_deconv2d_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  Geom q = geom(*shape_in(ip, nd, 0), *shape_in(ip, nd, 1), &nd->attr);
  SIZES(q);
  int Ci = q.O;
  size_t m = (size_t)Ci * K;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    size_t cP = (size_t)c * P;
    float *col = interp_alloc((size_t)K * cP), *xc = interp_alloc((size_t)Ci * cP);
    im2col_batch(in[0] + i0 * img_sz, c, q.C, q.H, q.W, q.k, q.s, q.p, q.OH, q.OW, col);
    to_channel_major(in[1] + i0 * Ci * P, c, Ci, P, xc);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Ci, K, cP, 1.0f, xc, cP, col, cP, 0.0f, part + j * m, K);
    free(col);
    free(xc);
  }
  sum_chunks(part, nchunks, m, dw);
  free(part);
}

// ---- dense: x [n, I], w [O, I], b [O] -> y [n, O] = x w^T + b, a chunk
// of rows per sgemm.

void interp_dense(Interp *ip, const Node *nd, float *y, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = shape_in(ip, nd, 0)->dim[0];
  int nchunks = (n + CHUNK - 1) / CHUNK;
  const float *b = in[2];
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    float *yc = y + (size_t)i0 * no;
    for (int i = 0; i < c; i++)
      memcpy(yc + (size_t)i * no, b, no * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, no, ni, 1.0f, in[0] + (size_t)i0 * ni, ni, in[1], ni,
                1.0f, yc, no);
  }
}

// dx [n, I] = dy [n, O] w [O, I].
void interp_dense_dx(Interp *ip, const Node *nd, float *dx, const float *const *in) {
  int n = ip->n, ni = nd->shape.dim[0], no = shape_in(ip, nd, 0)->dim[0];
  int nchunks = (n + CHUNK - 1) / CHUNK;
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c, ni, no, 1.0f, in[0] + (size_t)i0 * no, no, in[1], ni,
                0.0f, dx + (size_t)i0 * ni, ni);
  }
}

// dw [O, I] = dy^T [O, n] x [n, I], summed over the batch.
void interp_dense_dw(Interp *ip, const Node *nd, float *dw, const float *const *in) {
  int n = ip->n, no = nd->shape.dim[0], ni = nd->shape.dim[1];
  int nchunks = (n + CHUNK - 1) / CHUNK;
  size_t m = (size_t)no * ni;
  float *part = interp_alloc(nchunks * m);
  CHUNK_LOOP(j) {
    int i0 = j * CHUNK, c = min_int(CHUNK, n - i0);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, ni, c, 1.0f, in[0] + (size_t)i0 * no, no,
                in[1] + (size_t)i0 * ni, ni, 0.0f, part + j * m, ni);
  }
  sum_chunks(part, nchunks, m, dw);
  free(part);
}

// db [C] = dy [n, C, ...] summed over the batch and the positions (each
// example's row in float, which vectorises; the batch sum in double).
static float row_sum(const float *restrict d, size_t P) {
  float acc = 0.0f;
  for (size_t j = 0; j < P; j++)
    acc += d[j];
  return acc;
}

void interp_bias_grad(Interp *ip, const Node *nd, float *db, const float *const *in) {
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
