// ref_forward.h — a second, independent forward evaluator for the tests:
// double precision, direct loops (no im2col, no BLAS), written from the
// ops' definitions (ops.def, models/README.md; PyTorch's semantics), not
// from the interpreter's kernels.  The model-level gradient check
// differentiates this one by central differences (in double, so eps can
// be small enough that ReLU kinks and float rounding do not matter) and
// compares with the float interpreter's analytic gradients.
//
// It evaluates a whole batch, node by node, each node over every example
// (its value is [n, numel] when batched, [numel] when not), so batch
// norm's training statistics are the batch's: mean and biased variance
// over the n·positions values of a channel.  In evaluation it uses the
// running statistics (the model's buffers, read like parameters) and
// dropout is the identity.
//
// Random nodes draw from the runtime's per-example streams as the
// interpreter does (interp.h, compiler/ops/modes.c): example i owns
// rng_stream(seed, i), and its random nodes draw from it in node order
// (normal: rng_normal per element; noise: noise.h's mu, sigma, then one
// noise_normal per element; dropout_mask: one rng_uniformf per element,
// kept when the draw is below the float 1 - p).  The generator is the
// runtime's (rng.h, noise.h), shared rather than re-implemented: what is
// checked here is the draw order and what is done with the numbers.
#ifndef REF_FORWARD_H
#define REF_FORWARD_H

#include "ir.h"
#include "noise.h"
#include "rng.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

// A convolution's geometry from its attributes: the width's values and
// dilation, groups default (0 in Attrs) to the height's and 1.
typedef struct {
  int kh, kw, sh, sw, ph, pw, dh, dw, g;
} RefConv;

static inline RefConv ref_conv(const Attrs *a) {
  int dh = a->dil ? a->dil : 1;
  return (RefConv){a->k, a->kw ? a->kw : a->k, a->stride, a->stridew ? a->stridew : a->stride, a->pad,
                   a->kw ? a->padw : a->pad, dh, a->dilw ? a->dilw : dh, a->groups ? a->groups : 1};
}

// One batch and how to run it.
typedef struct {
  int n;                       // examples
  const float *const *inputs;  // inputs[j]: tensor input j (attr.index j), [n, its numel]
  const int32_t *labels;       // [n], NULL when the model reads no label
  uint64_t seed;               // the step's seed: example i draws from rng_stream(seed, i)
  bool train;                  // training mode (batch statistics, dropout) or evaluation
  // When set (and training), the running statistics are updated as a
  // training step does: buffer = (1 - momentum) buffer + momentum stat,
  // the unbiased variance (var·M/(M - 1)); param[] is written.
  bool update_running;
  // Incremental evaluation, for finite differences of one tensor: base
  // holds every forward node's value from an evaluation of this batch
  // (ref_values), and only parameter `changed` differs since; the nodes
  // that do not read it, directly or not, take their base values.
  // Random nodes always draw again, to keep the streams in step.
  double *const *base;
  int changed;
} RefBatch;

// ---- Per-example kernels: a [C, H, W] example in, one out ----

static void ref_conv2d(const Node *n, const Shape xs, const double *a, const double *w, const double *bias,
                       double *o) {
  int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], O = n->shape.dim[0], OH = n->shape.dim[1], OW = n->shape.dim[2];
  RefConv q = ref_conv(&n->attr);
  int Cg = C / q.g, Og = O / q.g;
  for (int oc = 0; oc < O; oc++) {
    double *oo = o + (size_t)oc * OH * OW;
    for (int j = 0; j < OH * OW; j++)
      oo[j] = bias ? bias[oc] : 0;
    for (int c = 0; c < Cg; c++) {
      const double *ac = a + (size_t)((oc / Og) * Cg + c) * H * W;
      for (int ki = 0; ki < q.kh; ki++)
        for (int kj = 0; kj < q.kw; kj++) {
          double wv = w[((oc * Cg + c) * q.kh + ki) * q.kw + kj];
          int off = kj * q.dw - q.pw, lo = 0, hi = OW;   // the outputs whose input column is inside
          while (lo < OW && lo * q.sw + off < 0)
            lo++;
          while (hi > lo && (hi - 1) * q.sw + off >= W)
            hi--;
          for (int oh = 0; oh < OH; oh++) {
            int ih = oh * q.sh - q.ph + ki * q.dh;
            if (ih < 0 || ih >= H)
              continue;
            for (int ow = lo; ow < hi; ow++)
              oo[oh * OW + ow] += wv * ac[ih * W + ow * q.sw + off];
          }
        }
    }
  }
}

// PyTorch's ConvTranspose2d, w [C, O/groups, kh, kw]: each input scatters.
static void ref_deconv2d(const Node *n, const Shape xs, const double *a, const double *w, const double *bias,
                         double *o) {
  int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], O = n->shape.dim[0], OH = n->shape.dim[1], OW = n->shape.dim[2];
  RefConv q = ref_conv(&n->attr);
  int Cg = C / q.g, Og = O / q.g;
  for (int oc = 0; oc < O; oc++)
    for (int j = 0; j < OH * OW; j++)
      o[(size_t)oc * OH * OW + j] = bias ? bias[oc] : 0;
  for (int c = 0; c < C; c++)
    for (int oj = 0; oj < Og; oj++)
      for (int ki = 0; ki < q.kh; ki++)
        for (int kj = 0; kj < q.kw; kj++) {
          int oc = (c / Cg) * Og + oj;
          double wv = w[((c * Og + oj) * q.kh + ki) * q.kw + kj];
          for (int h = 0; h < H; h++) {
            int oh = h * q.sh - q.ph + ki * q.dh;
            if (oh < 0 || oh >= OH)
              continue;
            for (int ww = 0; ww < W; ww++) {
              int ow = ww * q.sw - q.pw + kj * q.dw;
              if (ow >= 0 && ow < OW)
                o[((size_t)oc * OH + oh) * OW + ow] += a[((size_t)c * H + h) * W + ww] * wv;
            }
          }
        }
}

// max_pool2d (padding -inf: windows clipped to the input) and avg_pool2d
// (padding counted as zeros: PyTorch's count_include_pad, divisor k·k).
static void ref_pool(const Node *n, const Shape xs, const double *a, double *o) {
  int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], OH = n->shape.dim[1], OW = n->shape.dim[2];
  int k = n->attr.k, s = n->attr.stride ? n->attr.stride : k, p = n->attr.pad;
  bool mx = n->op == OP_MAX_POOL2D;
  for (int c = 0; c < C; c++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        double r = mx ? -INFINITY : 0;
        for (int h = oh * s - p; h < oh * s - p + k; h++)
          for (int w = ow * s - p; w < ow * s - p + k; w++) {
            if (h < 0 || h >= H || w < 0 || w >= W)
              continue;
            double v = a[((size_t)c * H + h) * W + w];
            r = mx ? fmax(r, v) : r + v;
          }
        o[((size_t)c * OH + oh) * OW + ow] = mx ? r : r / ((double)k * k);
      }
}

// PyTorch's interpolate(scale_factor=s, mode='bilinear',
// align_corners=False): output d reads source (d + 0.5)/s - 0.5, clamped
// at 0, between floor and the next index (clamped at the last).
static void ref_bilinear_src(int d, int s, int in, int *i0, int *i1, double *l) {
  double src = (d + 0.5) / s - 0.5;
  if (src < 0)
    src = 0;
  *i0 = (int)src;
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l = src - *i0;
}

static void ref_upsample(const Node *n, const Shape xs, const double *a, double *o) {
  int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], s = n->attr.stride, OH = H * s, OW = W * s;
  for (int c = 0; c < C; c++)
    for (int h = 0; h < OH; h++)
      for (int w = 0; w < OW; w++) {
        const double *ac = a + (size_t)c * H * W;
        double r;
        if (n->op == OP_UPSAMPLE) {
          r = ac[(h / s) * W + w / s];
        } else {
          int h0, h1, w0, w1;
          double lh, lw;
          ref_bilinear_src(h, s, H, &h0, &h1, &lh);
          ref_bilinear_src(w, s, W, &w0, &w1, &lw);
          r = (1 - lh) * ((1 - lw) * ac[h0 * W + w0] + lw * ac[h0 * W + w1]) +
              lh * ((1 - lw) * ac[h1 * W + w0] + lw * ac[h1 * W + w1]);
        }
        o[((size_t)c * OH + h) * OW + w] = r;
      }
}

// The element-wise losses' per-element terms (torch's, reduction 'mean'
// over the example): p the prediction, t the target, a beta or delta.
static double ref_pointwise_loss(OpKind op, double p, double t, double a) {
  double d = fabs(p - t);
  switch (op) {
  case OP_BCE: return -(t * fmax(log(p), -100.0) + (1 - t) * fmax(log(1 - p), -100.0));
  case OP_BCE_LOGITS: return fmax(p, 0) - p * t + log1p(exp(-fabs(p)));
  case OP_L1: return d;
  case OP_SMOOTH_L1: return d < a ? 0.5 * d * d / a : d - 0.5 * a;
  default: return d < a ? 0.5 * d * d : a * (d - 0.5 * a);   // HUBER
  }
}

// ---- Batch norm over the whole batch ----

// stats [2, C]: mean and 1/sqrt(var + eps) of each channel of x over the
// batch and positions (training: the batch's, biased variance; then the
// running statistics are updated if asked), or the running ones.
static void ref_bn_stats(const Graph *g, const Node *n, const RefBatch *b, const double *x, double *rm,
                         double *rv, double *o) {
  Shape xs = g->nodes[n->in[0]].shape;
  int C = xs.dim[0];
  int64_t m = shape_numel(xs), P = m / C;
  double eps = n->attr.eps, mom = n->attr.momentum;
  for (int c = 0; c < C; c++) {
    if (!b->train) {
      o[c] = rm[c];
      o[C + c] = 1 / sqrt(rv[c] + eps);
      continue;
    }
    double M = (double)b->n * P, sum = 0, ss = 0;
    for (int i = 0; i < b->n; i++)
      for (int64_t q = 0; q < P; q++)
        sum += x[i * m + c * P + q];
    double mean = sum / M;
    for (int i = 0; i < b->n; i++)
      for (int64_t q = 0; q < P; q++)
        ss += (x[i * m + c * P + q] - mean) * (x[i * m + c * P + q] - mean);
    o[c] = mean;
    o[C + c] = 1 / sqrt(ss / M + eps);
    if (b->update_running) {
      rm[c] = (1 - mom) * rm[c] + mom * mean;
      rv[c] = (1 - mom) * rv[c] + mom * (M > 1 ? ss / (M - 1) : ss / M);
    }
  }
}

// ---- The evaluator ----

// Node id's value for example i: its row, or the only one when unbatched.
static inline const double *ref_at(const Graph *g, double *const *v, int id, int i) {
  return v[id] + (g->nodes[id].batched ? (size_t)i * shape_numel(g->nodes[id].shape) : 0);
}

static inline bool ref_random(OpKind op) { return op == OP_NORMAL || op == OP_NOISE || op == OP_DROPOUT_MASK; }

// Every forward node's value with parameters param[p] (double, by graph
// parameter index; buffers included): [nforward] arrays, free with
// ref_values_free (with the same b: base values are not copied).
static inline double **ref_values(const Graph *g, double *const *param, const RefBatch *b) {
  int nf = g->nforward > 0 ? g->nforward : g->nnodes;
  double **v = calloc(nf, sizeof(double *));
  bool *dirty = calloc(nf, sizeof(bool));   // reads parameter b->changed
  Rng *rng = malloc(b->n * sizeof(Rng));
  for (int i = 0; i < b->n; i++)
    rng[i] = rng_stream(b->seed, (uint64_t)i);
  for (int id = 0; id < nf; id++) {
    const Node *n = &g->nodes[id];
    dirty[id] = n->op == OP_PARAM && n->param == b->changed;
    for (int j = 0; j < n->nin; j++)
      dirty[id] |= dirty[n->in[j]];
    if (b->base && !dirty[id] && !ref_random(n->op)) {
      v[id] = b->base[id];
      continue;
    }
    int64_t m = shape_numel(n->shape);
    int rows = n->batched ? b->n : 1;
    double *o = calloc((size_t)rows * (m ? m : 1), sizeof(double));
    v[id] = o;
    const Attrs *at = &n->attr;
    Shape xs = n->nin > 0 ? g->nodes[n->in[0]].shape : (Shape){0};
    int64_t ma = n->nin > 0 ? shape_numel(xs) : 0;
    int64_t mb = n->nin > 1 ? shape_numel(g->nodes[n->in[1]].shape) : 0;
    if (n->op == OP_PARAM) {
      memcpy(o, param[n->param], m * sizeof(double));
      continue;
    }
    if (n->op == OP_CONST) {
      for (int64_t k = 0; k < m; k++)
        o[k] = at->scalar;
      continue;
    }
    if (n->op == OP_BN_STATS) {   // the one forward node that reads the whole batch
      ref_bn_stats(g, n, b, v[n->in[0]], param[g->nodes[n->in[1]].param], param[g->nodes[n->in[2]].param], o);
      continue;
    }
    for (int i = 0; i < rows; i++) {
      double *oi = o + (size_t)i * m;
      const double *a = n->nin > 0 ? ref_at(g, v, n->in[0], i) : NULL;
      const double *bb = n->nin > 1 ? ref_at(g, v, n->in[1], i) : NULL;
      const double *c3 = n->nin > 2 ? ref_at(g, v, n->in[2], i) : NULL;
      switch (n->op) {
      case OP_INPUT:
        for (int64_t k = 0; k < m; k++)
          oi[k] = b->inputs[at->index][(size_t)i * m + k];
        break;
      case OP_LABEL: oi[0] = b->labels ? b->labels[i] : 0; break;
      case OP_NORMAL:
        for (int64_t k = 0; k < m; k++)
          oi[k] = rng_normal(&rng[i]);
        break;
      case OP_NOISE: {   // noise.h's draws: mu, sigma, then one normal per element
        double mu = at->mean + at->mean_std * noise_normal(&rng[i]);
        double sigma = fabs(at->std + at->std_std * noise_normal(&rng[i]));
        for (int64_t k = 0; k < m; k++)
          oi[k] = a[k] + mu + sigma * noise_normal(&rng[i]);
        break;
      }
      case OP_DROPOUT_MASK: {   // inverted dropout: kept with probability 1 - p, scaled by 1/(1 - p)
        float keep = (float)(1.0 - (double)at->p);
        for (int64_t k = 0; k < m; k++)
          oi[k] = !b->train ? 1 : rng_uniformf(&rng[i]) < keep ? 1 / (1 - (double)at->p) : 0;
        break;
      }
      case OP_DROPOUT:
        for (int64_t k = 0; k < m; k++)
          oi[k] = a[k] * bb[k];
        break;
      case OP_CONV2D: ref_conv2d(n, xs, a, bb, c3, oi); break;
      case OP_DECONV2D: ref_deconv2d(n, xs, a, bb, c3, oi); break;
      case OP_DENSE:
        for (int64_t r = 0; r < m; r++) {
          double acc = c3 ? c3[r] : 0;
          for (int64_t k = 0; k < ma; k++)
            acc += bb[r * ma + k] * a[k];
          oi[r] = acc;
        }
        break;
      case OP_RESHAPE: memcpy(oi, a, m * sizeof(double)); break;
      case OP_RELU: for (int64_t k = 0; k < m; k++) oi[k] = a[k] > 0 ? a[k] : 0; break;
      case OP_SIGMOID: for (int64_t k = 0; k < m; k++) oi[k] = ref_sigmoid(a[k]); break;
      case OP_TANH: for (int64_t k = 0; k < m; k++) oi[k] = tanh(a[k]); break;
      case OP_EXP: for (int64_t k = 0; k < m; k++) oi[k] = exp(a[k]); break;
      case OP_LOG: for (int64_t k = 0; k < m; k++) oi[k] = log(a[k]); break;
      case OP_NEG: for (int64_t k = 0; k < m; k++) oi[k] = -a[k]; break;
      case OP_LEAKY_RELU: for (int64_t k = 0; k < m; k++) oi[k] = a[k] > 0 ? a[k] : at->alpha * a[k]; break;
      case OP_ELU: for (int64_t k = 0; k < m; k++) oi[k] = a[k] > 0 ? a[k] : at->alpha * expm1(a[k]); break;
      case OP_GELU: for (int64_t k = 0; k < m; k++) oi[k] = 0.5 * a[k] * (1 + erf(a[k] / sqrt(2.0))); break;
      case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
        for (int64_t k = 0; k < m; k++) {
          double p = a[ma == m ? k : 0], q = bb[mb == m ? k : 0];
          oi[k] = n->op == OP_ADD ? p + q : n->op == OP_SUB ? p - q : n->op == OP_MUL ? p * q : p / q;
        }
        break;
      case OP_LOG_SOFTMAX: case OP_SOFTMAX: {
        double mx = a[0], s = 0;
        for (int64_t k = 1; k < m; k++) mx = fmax(mx, a[k]);
        for (int64_t k = 0; k < m; k++) s += exp(a[k] - mx);
        for (int64_t k = 0; k < m; k++)
          oi[k] = n->op == OP_SOFTMAX ? exp(a[k] - mx) / s : a[k] - mx - log(s);
        break;
      }
      case OP_SUM: case OP_MEAN:
        for (int64_t k = 0; k < ma; k++) oi[0] += a[k];
        if (n->op == OP_MEAN) oi[0] /= (double)ma;
        break;
      case OP_MSE:
        for (int64_t k = 0; k < ma; k++) oi[0] += (a[k] - bb[k]) * (a[k] - bb[k]);
        oi[0] /= (double)ma;
        break;
      case OP_NLL: oi[0] = -a[(int)bb[0]]; break;
      case OP_CROSS_ENTROPY: {   // logsumexp(x) - x[label]
        double mx = a[0], s = 0;
        for (int64_t k = 1; k < ma; k++) mx = fmax(mx, a[k]);
        for (int64_t k = 0; k < ma; k++) s += exp(a[k] - mx);
        oi[0] = mx + log(s) - a[(int)bb[0]];
        break;
      }
      case OP_BCE: case OP_BCE_LOGITS: case OP_L1: case OP_SMOOTH_L1: case OP_HUBER:
        for (int64_t k = 0; k < ma; k++) oi[0] += ref_pointwise_loss(n->op, a[k], bb[k], at->alpha);
        oi[0] /= (double)ma;
        break;
      case OP_MAX_POOL2D: case OP_AVG_POOL2D: ref_pool(n, xs, a, oi); break;
      case OP_GLOBAL_AVG_POOL: {
        int64_t P = ma / xs.dim[0];
        for (int c = 0; c < xs.dim[0]; c++) {
          for (int64_t q = 0; q < P; q++) oi[c] += a[c * P + q];
          oi[c] /= (double)P;
        }
        break;
      }
      case OP_UPSAMPLE: case OP_UPSAMPLE_BILINEAR: ref_upsample(n, xs, a, oi); break;
      case OP_CONCAT: {   // along the first axis: the examples' values one after the other
        int64_t off = 0;
        for (int j = 0; j < n->nin; j++) {
          int64_t mj = shape_numel(g->nodes[n->in[j]].shape);
          memcpy(oi + off, ref_at(g, v, n->in[j], i), mj * sizeof(double));
          off += mj;
        }
        break;
      }
      case OP_BATCH_NORM: {   // (x - mean)·invstd·w + b per channel; bb is the statistics [2, C]
        int C = xs.dim[0];
        int64_t P = m / C;
        const double *w = ref_at(g, v, n->in[2], i), *bias = ref_at(g, v, n->in[3], i);
        for (int c = 0; c < C; c++)
          for (int64_t q = 0; q < P; q++)
            oi[c * P + q] = (a[c * P + q] - bb[c]) * bb[C + c] * w[c] + bias[c];
        break;
      }
      default:
        fprintf(stderr, "ref_forward: no reference for %s\n", ir_op_name(n->op));
        exit(1);
      }
    }
  }
  free(dirty);
  free(rng);
  return v;
}

static inline void ref_values_free(const Graph *g, double **v, const RefBatch *b) {
  int nf = g->nforward > 0 ? g->nforward : g->nnodes;
  for (int id = 0; id < nf; id++)
    if (!b->base || v[id] != b->base[id])
      free(v[id]);
  free(v);
}

// Batch-mean loss.
static inline double ref_loss_batch(const Graph *g, double *const *param, const RefBatch *b) {
  double **v = ref_values(g, param, b);
  double loss = 0;
  for (int i = 0; i < b->n; i++)
    loss += ref_at(g, v, g->loss, i)[0];
  ref_values_free(g, v, b);
  return loss / b->n;
}

// Batch-mean training-mode loss of a model with one tensor input x ([n,
// input numel]) and labels.
static inline double ref_loss(const Graph *g, double *const *param, const float *x, const int32_t *labels, int n,
                              uint64_t seed) {
  const float *inputs[1] = {x};
  RefBatch b = {.n = n, .inputs = inputs, .labels = labels, .seed = seed, .train = true, .changed = -1};
  return ref_loss_batch(g, param, &b);
}

#endif
