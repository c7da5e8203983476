// interp_ew.c — leaves, element-wise ops, reductions and their gradients.
//
// A value of a batched node is [n, numel] (example-major); an unbatched
// one is [numel] and is shared by every example.  Reductions accumulate in
// double: the per-example losses are means of 784 squared errors.
#include "interp.h"

#include "noise.h"

#include <math.h>
#include <string.h>

static const Node *input(const Interp *ip, const Node *n, int j) { return &ip->g->nodes[n->in[j]]; }

// Offset of example i in a node's value: 0 when the value is shared.
static size_t at(const Interp *ip, const Node *n, int i) {
  (void)ip;
  return n->batched ? (size_t)i * (size_t)shape_numel(n->shape) : 0;
}

// Only very big loops are split over threads.  These loops are memory-bound
// and cheap next to the layers, and every parallel region costs a
// fork/join, which on a loaded machine means waiting for the other thread
// to be scheduled; at batch 256 the autoencoder's largest (401,408
// floats) runs on one thread.
#define PAR_MIN (1 << 20)

// ---- Leaves.

void interp_input(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  memcpy(out, ip->x, (size_t)ip->n * shape_numel(n->shape) * sizeof(float));
}

void interp_label(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)n; (void)in;
  for (int i = 0; i < ip->n; i++)
    out[i] = ip->labels ? (float)ip->labels[i] : 0.0f;
}

void interp_const(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);
  for (size_t k = 0; k < total; k++)
    out[k] = n->attr.scalar;
}

void interp_loss_seed(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)n; (void)in;
  for (int i = 0; i < ip->n; i++)
    out[i] = 1.0f / (float)ip->n;
}

static const float *override(const Interp *ip, const Node *n) {
  return ip->draws ? ip->draws[n->id] : NULL;
}

// A standard normal per element, from example i's stream, elements in order.
void interp_normal(Interp *ip, const Node *n, float *out, const float *const *in) {
  (void)in;
  size_t m = (size_t)shape_numel(n->shape);
  const float *given = override(ip, n);
  if (given) {
    memcpy(out, given, (size_t)ip->n * m * sizeof(float));
    return;
  }
  for (int i = 0; i < ip->n; i++)
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = (float)rng_normal(&ip->rng[i]);
}

// x + N(mu, sigma^2) per pixel with per-image mu, sigma (noise_apply).
void interp_noise(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  const float *given = override(ip, n);
  memcpy(out, in[0], (size_t)ip->n * m * sizeof(float));
  for (int i = 0; i < ip->n; i++) {
    float *o = out + (size_t)i * m;
    if (given)
      for (size_t k = 0; k < m; k++)
        o[k] += given[(size_t)i * m + k];
    else
      noise_apply(o, (int)m, n->attr.mean, n->attr.mean_std, n->attr.std, n->attr.std_std, &ip->rng[i]);
  }
}

// ---- Element-wise.

void interp_copy(Interp *ip, const Node *n, float *out, const float *const *in) {
  memcpy(out, in[0], (size_t)interp_rows(ip, n) * shape_numel(n->shape) * sizeof(float));
}

// One-input maps over all the node's elements.
#define UNARY(fn, expr)                                                         \
  void fn(Interp *ip, const Node *n, float *out, const float *const *in) {      \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *a = in[0];                                                     \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++) {                                        \
      float x = a[k];                                                           \
      out[k] = (expr);                                                          \
    }                                                                           \
  }

UNARY(interp_relu, x > 0.0f ? x : 0.0f)
UNARY(interp_sigmoid, 1.0f / (1.0f + expf(-x)))
UNARY(interp_exp, expf(x))
UNARY(interp_log, logf(x))
UNARY(interp_neg, -x)

// Two-input maps: (dy, y) pairs of the same shape and batching.
#define PAIR(fn, expr)                                                          \
  void fn(Interp *ip, const Node *n, float *out, const float *const *in) {      \
    size_t total = (size_t)interp_rows(ip, n) * shape_numel(n->shape);          \
    const float *d = in[0], *y = in[1];                                         \
    _Pragma("omp parallel for schedule(static) if (total > PAR_MIN)")           \
    for (size_t k = 0; k < total; k++)                                          \
      out[k] = (expr);                                                          \
  }

PAIR(interp_relu_grad, y[k] > 0.0f ? d[k] : 0.0f)
PAIR(interp_sigmoid_grad, d[k] * y[k] * (1.0f - y[k]))

// add/sub/mul/div with either side batched or shared, and either side
// possibly a scalar broadcast over the other.
void interp_binary(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *na = input(ip, n, 0), *nb = input(ip, n, 1);
  size_t m = (size_t)shape_numel(n->shape);
  int sa = shape_numel(na->shape) == (int64_t)m, sb = shape_numel(nb->shape) == (int64_t)m;  // 0: scalar side
  int rows = interp_rows(ip, n);
  OpKind op = n->op;
#pragma omp parallel for schedule(static) if ((size_t)rows * m > PAR_MIN)
  for (int i = 0; i < rows; i++) {
    const float *a = in[0] + at(ip, na, i), *b = in[1] + at(ip, nb, i);
    float *o = out + (size_t)i * m;
    for (size_t k = 0; k < m; k++) {
      float x = a[sa ? k : 0], y = b[sb ? k : 0];
      switch (op) {
      case OP_ADD: o[k] = x + y; break;
      case OP_SUB: o[k] = x - y; break;
      case OP_MUL: o[k] = x * y; break;
      default: o[k] = x / y; break;
      }
    }
  }
}

// Over the last dimension, numerically stable (subtract the row maximum).
void interp_log_softmax(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[n->shape.rank - 1];
  size_t rows = (size_t)interp_rows(ip, n) * shape_numel(n->shape) / K;
  for (size_t r = 0; r < rows; r++) {
    const float *x = in[0] + r * K;
    float *y = out + r * K;
    float mx = x[0];
    for (int k = 1; k < K; k++)
      mx = x[k] > mx ? x[k] : mx;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += exp((double)x[k] - mx);
    float lse = mx + (float)log(s);
    for (int k = 0; k < K; k++)
      y[k] = x[k] - lse;
  }
}

// dx = dy - softmax(x) sum(dy) = dy - exp(y) sum(dy), per row.
void interp_log_softmax_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[n->shape.rank - 1];
  size_t rows = (size_t)interp_rows(ip, n) * shape_numel(n->shape) / K;
  for (size_t r = 0; r < rows; r++) {
    const float *dy = in[0] + r * K, *y = in[1] + r * K;
    double s = 0;
    for (int k = 0; k < K; k++)
      s += dy[k];
    for (int k = 0; k < K; k++)
      out[r * K + k] = dy[k] - expf(y[k]) * (float)s;
  }
}

// Scalar -> the node's shape.
void interp_broadcast(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  for (int i = 0; i < interp_rows(ip, n); i++)
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = in[0][i];
}

// ---- Reductions to a per-example scalar.

static void reduce(Interp *ip, const Node *n, float *out, const float *const *in, double scale) {
  const Node *x = input(ip, n, 0);
  size_t m = (size_t)shape_numel(x->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[0] + at(ip, x, i);
    double s = 0;
    for (size_t k = 0; k < m; k++)
      s += a[k];
    out[i] = (float)(s * scale);
  }
}

void interp_sum(Interp *ip, const Node *n, float *out, const float *const *in) {
  reduce(ip, n, out, in, 1.0);
}

void interp_mean(Interp *ip, const Node *n, float *out, const float *const *in) {
  reduce(ip, n, out, in, 1.0 / (double)shape_numel(input(ip, n, 0)->shape));
}

// mean((a - b)^2) over the example's elements.
void interp_mse(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *na = input(ip, n, 0), *nb = input(ip, n, 1);
  size_t m = (size_t)shape_numel(na->shape);
  for (int i = 0; i < interp_rows(ip, n); i++) {
    const float *a = in[0] + at(ip, na, i), *b = in[1] + at(ip, nb, i);
    double s = 0;
    for (size_t k = 0; k < m; k++) {
      double d = (double)a[k] - b[k];
      s += d * d;
    }
    out[i] = (float)(s / (double)m);
  }
}

// (dl, a, b) -> dl * 2 (a - b) / numel.
void interp_mse_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  const Node *nl = input(ip, n, 0), *na = input(ip, n, 1), *nb = input(ip, n, 2);
  size_t m = (size_t)shape_numel(n->shape);
  int rows = interp_rows(ip, n);
#pragma omp parallel for schedule(static) if ((size_t)rows * m > PAR_MIN)
  for (int i = 0; i < rows; i++) {
    const float *a = in[1] + at(ip, na, i), *b = in[2] + at(ip, nb, i);
    float c = in[0][at(ip, nl, i)] * 2.0f / (float)m;
    for (size_t k = 0; k < m; k++)
      out[(size_t)i * m + k] = c * (a[k] - b[k]);
  }
}

// -logp[label].
void interp_nll(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = input(ip, n, 0)->shape.dim[0];
  for (int i = 0; i < ip->n; i++)
    out[i] = -in[0][(size_t)i * K + (int)in[1][i]];
}

// (dl, label) -> [K]: -dl at the label, 0 elsewhere.
void interp_nll_grad(Interp *ip, const Node *n, float *out, const float *const *in) {
  int K = n->shape.dim[0];
  memset(out, 0, (size_t)ip->n * K * sizeof(float));
  for (int i = 0; i < ip->n; i++)
    out[(size_t)i * K + (int)in[1][i]] = -in[0][i];
}

// Batched -> shared: the sum over the batch.
void interp_sum_batch(Interp *ip, const Node *n, float *out, const float *const *in) {
  size_t m = (size_t)shape_numel(n->shape);
  for (size_t k = 0; k < m; k++) {
    double s = 0;
    for (int i = 0; i < ip->n; i++)
      s += in[0][(size_t)i * m + k];
    out[k] = (float)s;
  }
}
