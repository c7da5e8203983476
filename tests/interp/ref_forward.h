// ref_forward.h — a second, independent forward evaluator for the tests:
// double precision, one example at a time, direct loops (no im2col, no
// BLAS).  The model-level gradient check differentiates this one by
// central differences (in double, so eps can be small enough that ReLU
// kinks and float rounding do not matter) and compares with the float
// interpreter's analytic gradients.
//
// Random nodes draw exactly as the interpreter does (interp.h): example
// i's stream rng_stream(seed, i), random nodes in node order.
#ifndef REF_FORWARD_H
#define REF_FORWARD_H

#include "ir.h"
#include "noise.h"
#include "rng.h"

#include <math.h>
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

// Loss of example (x [input numel], label) with parameters param[p] (double).
static inline double ref_example_loss(const Graph *g, double *const *param, const float *x, int label,
                                      uint64_t seed, int example) {
  int nf = g->nforward > 0 ? g->nforward : g->nnodes;
  double **v = calloc(nf, sizeof(double *));
  Rng rng = rng_stream(seed, (uint64_t)example);
  for (int id = 0; id < nf; id++) {
    const Node *n = &g->nodes[id];
    int64_t m = shape_numel(n->shape);
    double *o = calloc(m ? m : 1, sizeof(double));
    const double *a = n->nin > 0 ? v[n->in[0]] : NULL, *b = n->nin > 1 ? v[n->in[1]] : NULL;
    int64_t ma = n->nin > 0 ? shape_numel(g->nodes[n->in[0]].shape) : 0;
    int64_t mb = n->nin > 1 ? shape_numel(g->nodes[n->in[1]].shape) : 0;
    const Attrs *at = &n->attr;
    switch (n->op) {
    case OP_INPUT: for (int64_t k = 0; k < m; k++) o[k] = x[k]; break;
    case OP_LABEL: o[0] = label; break;
    case OP_PARAM: memcpy(o, param[n->param], m * sizeof(double)); break;
    case OP_CONST: for (int64_t k = 0; k < m; k++) o[k] = at->scalar; break;
    case OP_NORMAL: for (int64_t k = 0; k < m; k++) o[k] = rng_normal(&rng); break;
    case OP_NOISE: {   // noise.h's draws: mu, sigma, then one normal per element
      double mu = at->mean + at->mean_std * noise_normal(&rng);
      double sigma = fabs(at->std + at->std_std * noise_normal(&rng));
      for (int64_t k = 0; k < m; k++) o[k] = a[k] + mu + sigma * noise_normal(&rng);
      break;
    }
    case OP_CONV2D: {   // PyTorch's Conv2d: groups, dilation, per-dimension k, s, p; bias optional
      const Shape xs = g->nodes[n->in[0]].shape;
      int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], O = n->shape.dim[0], OH = n->shape.dim[1], OW = n->shape.dim[2];
      RefConv q = ref_conv(at);
      int Cg = C / q.g, Og = O / q.g;
      const double *w = b, *bias = n->nin > 2 ? v[n->in[2]] : NULL;
      for (int oc = 0; oc < O; oc++)
        for (int oh = 0; oh < OH; oh++)
          for (int ow = 0; ow < OW; ow++) {
            double acc = bias ? bias[oc] : 0;
            for (int c = 0; c < Cg; c++)
              for (int ki = 0; ki < q.kh; ki++)
                for (int kj = 0; kj < q.kw; kj++) {
                  int ih = oh * q.sh - q.ph + ki * q.dh, iw = ow * q.sw - q.pw + kj * q.dw;
                  if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    acc += w[((oc * Cg + c) * q.kh + ki) * q.kw + kj] * a[(((oc / Og) * Cg + c) * H + ih) * W + iw];
                }
            o[(oc * OH + oh) * OW + ow] = acc;
          }
      break;
    }
    case OP_DECONV2D: {   // PyTorch's ConvTranspose2d, w [C, O/groups, kh, kw]
      const Shape xs = g->nodes[n->in[0]].shape;
      int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], O = n->shape.dim[0], OH = n->shape.dim[1], OW = n->shape.dim[2];
      RefConv q = ref_conv(at);
      int Cg = C / q.g, Og = O / q.g;
      const double *w = b, *bias = n->nin > 2 ? v[n->in[2]] : NULL;
      for (int oc = 0; oc < O; oc++)
        for (int j = 0; j < OH * OW; j++)
          o[oc * OH * OW + j] = bias ? bias[oc] : 0;
      for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
          for (int ww = 0; ww < W; ww++)
            for (int oj = 0; oj < Og; oj++)
              for (int ki = 0; ki < q.kh; ki++)
                for (int kj = 0; kj < q.kw; kj++) {
                  int oc = (c / Cg) * Og + oj;
                  int oh = h * q.sh - q.ph + ki * q.dh, ow = ww * q.sw - q.pw + kj * q.dw;
                  if (oh >= 0 && oh < OH && ow >= 0 && ow < OW)
                    o[(oc * OH + oh) * OW + ow] += a[(c * H + h) * W + ww] * w[((c * Og + oj) * q.kh + ki) * q.kw + kj];
                }
      break;
    }
    case OP_DENSE: {
      const double *w = b, *bias = v[n->in[2]];
      for (int64_t r = 0; r < m; r++) {
        double acc = bias[r];
        for (int64_t i = 0; i < ma; i++)
          acc += w[r * ma + i] * a[i];
        o[r] = acc;
      }
      break;
    }
    case OP_RESHAPE: memcpy(o, a, m * sizeof(double)); break;
    case OP_RELU: for (int64_t k = 0; k < m; k++) o[k] = a[k] > 0 ? a[k] : 0; break;
    case OP_SIGMOID: for (int64_t k = 0; k < m; k++) o[k] = ref_sigmoid(a[k]); break;
    case OP_TANH: for (int64_t k = 0; k < m; k++) o[k] = tanh(a[k]); break;
    case OP_EXP: for (int64_t k = 0; k < m; k++) o[k] = exp(a[k]); break;
    case OP_LOG: for (int64_t k = 0; k < m; k++) o[k] = log(a[k]); break;
    case OP_NEG: for (int64_t k = 0; k < m; k++) o[k] = -a[k]; break;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
      for (int64_t k = 0; k < m; k++) {
        double p = a[ma == m ? k : 0], q = b[mb == m ? k : 0];
        o[k] = n->op == OP_ADD ? p + q : n->op == OP_SUB ? p - q : n->op == OP_MUL ? p * q : p / q;
      }
      break;
    case OP_LOG_SOFTMAX: {
      double mx = a[0], s = 0;
      for (int64_t k = 1; k < m; k++) mx = fmax(mx, a[k]);
      for (int64_t k = 0; k < m; k++) s += exp(a[k] - mx);
      for (int64_t k = 0; k < m; k++) o[k] = a[k] - mx - log(s);
      break;
    }
    case OP_SUM: case OP_MEAN:
      for (int64_t k = 0; k < ma; k++) o[0] += a[k];
      if (n->op == OP_MEAN) o[0] /= (double)ma;
      break;
    case OP_MSE:
      for (int64_t k = 0; k < ma; k++) o[0] += (a[k] - b[k]) * (a[k] - b[k]);
      o[0] /= (double)ma;
      break;
    case OP_NLL: o[0] = -a[(int)b[0]]; break;
    case OP_MAX_POOL2D: {   // windows clipped to the input (padding is -inf)
      const Shape xs = g->nodes[n->in[0]].shape;
      int C = xs.dim[0], H = xs.dim[1], W = xs.dim[2], OH = n->shape.dim[1], OW = n->shape.dim[2];
      int s = at->stride ? at->stride : at->k;
      for (int c = 0; c < C; c++)
        for (int oh = 0; oh < OH; oh++)
          for (int ow = 0; ow < OW; ow++) {
            double mx = -INFINITY;
            for (int h = oh * s - at->pad; h < oh * s - at->pad + at->k; h++)
              for (int w = ow * s - at->pad; w < ow * s - at->pad + at->k; w++)
                if (h >= 0 && h < H && w >= 0 && w < W && a[(c * H + h) * W + w] > mx)
                  mx = a[(c * H + h) * W + w];
            o[(c * OH + oh) * OW + ow] = mx;
          }
      break;
    }
    default:
      fprintf(stderr, "ref_forward: no reference for %s\n", ir_op_name(n->op));
      exit(1);
    }
    v[id] = o;
  }
  double loss = v[g->loss][0];
  for (int id = 0; id < nf; id++)
    free(v[id]);
  free(v);
  return loss;
}

// Batch-mean loss.
static inline double ref_loss(const Graph *g, double *const *param, const float *x, const uint8_t *labels, int n,
                              uint64_t seed) {
  int64_t in = g->input >= 0 ? shape_numel(g->nodes[g->input].shape) : 0;
  double s = 0;
  for (int i = 0; i < n; i++)
    s += ref_example_loss(g, param, x + i * in, labels ? labels[i] : 0, seed, i);
  return s / n;
}

#endif
