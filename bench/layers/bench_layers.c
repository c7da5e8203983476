// bench_layers.c — where the autoencoder's training step goes: time and
// GFLOP/s of every layer's forward, input gradient and weight gradient at
// batch 256, one thread (issue [performance], "Measure against the limit").
//
//   bench-layers [--runs N] [--peak GFLOPS] [--json]
//
// The generated file itself is compiled into this program (#include of the
// netc output below), so the GEMMs are its GenGemm table, dispatched by
// genmodel_new exactly as the trainer does, and the buffers are its memory
// plan: the chunk code below is generated/autoencoder.c's forward_chunk and
// backward_chunk, call for call with the same arguments, with a timer mark
// between the pieces.  Each run times one full batch (8 chunks of 32) and
// adds every piece's time to its (layer, pass) cell; the table gives the
// median over the runs of each cell.
//
// Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared,
// loaded machine that is what an idle core would do.  A mark costs a
// system call; its measured cost is subtracted from every interval, and
// the backward's per-example loops are timed twice (TL and TE below).  The
// table's sum is printed next to the real step (the trainer's train_step
// on the same batch, uninstrumented, timed in every run): the gap is the
// marks' residual cost and the work no row names (the chunks' loss sums,
// the parallel region).  The optimiser is not part of train_step.
//
// FLOPs are 2 m n k of every GEMM call.  A forward row includes its fused
// bias + activation epilogue and im2col / col2im; an input- or weight-
// gradient row its im2col / col2im / transpose; the element-wise row the
// ReLU mask, the bias gradient and the gradient blocks' zeroing (the mse
// row's: the loss seed and the folded sigmoid / mse gradient).  "of peak" divides by the
// single-thread FMA peak: --peak, else the best of bench-peak's (AVX2 and,
// where the CPU has it, AVX-512) measured in CPU time too (--clock cpu),
// run from this program's directory.
#define NETC_NO_MAIN
#include "autoencoder.c"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libxsmm.h>

#include "mnist.h"
#include "model.h"
#include "../bench_util.h"

enum { L_INPUT, L_CONV1, L_CONV2, L_CONV3, L_TDENSE, L_CODE, L_DDENSE1, L_DDENSE2,
       L_DECONV1, L_DECONV2, L_DECONV3, L_LOSS, L_TRANSPOSE, L_REDUCE, NLAYER };
enum { P_FWD, P_DX, P_DW, P_ELT, NPASS };

static const char *layer_name[NLAYER] = {
  "input copy", "encoder conv1", "encoder conv2", "encoder conv3", "encoder dense1",
  "code dense", "decoder dense1", "decoder dense2", "decoder deconv1", "decoder deconv2",
  "decoder deconv3", "mse loss", "weight transposes", "gradient reduction",
};
static const char *layer_shape[NLAYER] = {
  "[1,28,28]", "1x28x28 -> 8x14x14, k3 s2 p1", "8x14x14 -> 16x7x7, k3 s2 p1",
  "16x7x7 -> 32x3x3, k3 s2 p0", "288 -> 64", "64 -> 9", "9 -> 64", "64 -> 288",
  "32x3x3 -> 16x7x7, k3 s2 p0", "16x7x7 -> 8x14x14, k3 s2 p1", "8x14x14 -> 1x28x28, k3 s2 p1",
  "784", "9 weights", "8 chunks x 50186",
};
static const char *pass_name[NPASS] = {"forward", "input grad", "weight grad", "element-wise"};

// The GEMM (index in gemm[]) of each (layer, pass) and its calls per chunk:
// the convolutions call theirs once per example, the dense layers and the
// chunked convolutions' forward and input gradient (conv3, deconv1: one
// GEMM over the chunk's images) once per chunk.  -1: no GEMM (conv1 has no input gradient; the element-wise pass).
// The direct convolutions (conv2, deconv2's forward and input gradient:
// one batch-reduce GEMM per block of images, kernels.h) are counted by
// direct_flops instead: the convolution's own 2 P Co Ci k k per image, as
// the im2col GEMM it replaces, not the padded rows the kernel computes and
// discards, so that the GFLOP/s compare.
// The weight gradients of conv1 and deconv3 (dot products along the
// positions, kernels_dwdot.h: no GEMM) are counted by dwdot_flops, the
// 2 K O P per image of the GEMM they replace.
static const int layer_gemm[NLAYER][3] = {
  {-1, -1, -1}, {0, -1, -1}, {-1, -1, 10}, {2, 7, 11}, {3, 6, 15}, {4, 5, 14},
  {5, 4, 13}, {6, 3, 12}, {7, 2, 11}, {-1, -1, 10}, {9, 0, -1}, {-1, -1, -1},
  {-1, -1, -1}, {-1, -1, -1},
};
static const double direct_flops = 2.0 * 49 * 16 * 72;   // per image: conv2 / deconv2, 16x7x7 <-> 8x14x14
static const double dwdot_flops = 2.0 * 9 * 8 * 196;     // per image: conv1 / deconv3, K 9, 8 channels, 196 positions
static const int layer_calls[NLAYER][3] = {
  {0, 0, 0}, {CHUNK, CHUNK, CHUNK}, {CHUNK, CHUNK, CHUNK}, {1, 1, CHUNK}, {1, 1, 1}, {1, 1, 1},
  {1, 1, 1}, {1, 1, 1}, {1, 1, CHUNK}, {CHUNK, CHUNK, CHUNK}, {CHUNK, CHUNK, CHUNK}, {0, 0, 0},
  {0, 0, 0}, {0, 0, 0},
};

static double acc[NLAYER][NPASS];   // seconds of the current run
static double mark_cost, last;

static double tnow(void) { return bench_seconds(CLOCK_THREAD_CPUTIME_ID); }

// The time since the previous mark goes to (l, p).
#define T(l, p) do { double t_ = tnow(); acc[l][p] += t_ - last - mark_cost; last = t_; } while (0)

// Inside the backward's per-example loops a mark after every call would
// be thousands of system calls per step, and they cost more than
// mark_cost (they disturb the caches and branch predictors the kernels
// use: the sum came out 6-20% above the real step).  So each run times the
// batch twice: fine (a mark after every call in those loops: TL, into
// loop_fine) and coarse (one mark per loop: TE, into loop_all).  The
// layer's loop time is the coarse one, split between its passes in the
// proportions of the fine one; every other mark is once per chunk.
static int fine;
static double loop_fine[NLAYER][NPASS], loop_all[NLAYER];
#define TL(l, p) do { if (fine) { double t_ = tnow(); loop_fine[l][p] += t_ - last - mark_cost; last = t_; } } while (0)
#define TE(l) do { if (!fine) { double t_ = tnow(); loop_all[l] += t_ - last - mark_cost; last = t_; } } while (0)

// generated/autoencoder.c's forward_chunk, with marks.
static void forward_timed(const GenChunk *c) {
  const GenModel *s = c->model;
  const float *P = c->P;
  const float *S = c->S;
  float *A = c->A;
  const float *x = c->x;
  const int i0 = c->i0;
  const int nc = c->nc;

  last = tnow();
  for (int i = 0; i < nc; i++)
    for (int k = 0; k < 784; k++)
      v_x[i * 784 + k] = x[(size_t)(i0 + i) * 784 + k];
  T(L_INPUT, P_FWD);
  for (int i = 0; i < nc; i++)
    kern_conv_fwd(&s->k[0], v_x + i * 784, encoder_trunk_conv1_w, encoder_trunk_conv1_b,
                  v_encoder_trunk_conv1 + i * 1568, COL,
                  /* Ci H W */ 1, 28, 28, /* Co k s p */ 8, 3, 2, 1, /* Ho Wo */ 14, 14, KERN_ACT_RELU);
  T(L_CONV1, P_FWD);
  kern_direct_conv(&s->k[1], v_encoder_trunk_conv1, encoder_trunk_conv2_w, encoder_trunk_conv2_b,
                   v_encoder_trunk_conv2, COL, nc, /* B */ 4,
                   /* Ci H W */ 8, 14, 14, /* Co k s p */ 16, 3, 2, 1, /* Ho Wo */ 7, 7, KERN_ACT_RELU);
  T(L_CONV2, P_FWD);
  kern_conv_fwd_chunk(&s->k[2], v_encoder_trunk_conv2, encoder_trunk_conv3_w, encoder_trunk_conv3_b,
                      v_encoder_trunk_conv3, COL, CHUNK,
                      /* Ci H W */ 16, 7, 7, /* Co k s p */ 32, 3, 2, 0, /* Ho Wo */ 3, 3, KERN_ACT_RELU);
  T(L_CONV3, P_FWD);
  kern_dense_fwd(&s->k[3], v_encoder_trunk_conv3, S + 0, encoder_trunk_dense1_b, v_encoder_trunk_dense1, nc, 64, KERN_ACT_RELU);
  T(L_TDENSE, P_FWD);
  kern_dense_fwd(&s->k[4], v_encoder_trunk_dense1, S + 18432, encoder_dense1_b, v_encoder_dense1, nc, 9, KERN_ACT_NONE);
  T(L_CODE, P_FWD);
  kern_dense_fwd(&s->k[5], v_encoder_dense1, S + 19008, decoder_dense1_b, v_decoder_dense1, nc, 64, KERN_ACT_RELU);
  T(L_DDENSE1, P_FWD);
  kern_dense_fwd(&s->k[6], v_decoder_dense1, S + 19584, decoder_dense2_b, v_decoder_dense2, nc, 288, KERN_ACT_RELU);
  T(L_DDENSE2, P_FWD);
  kern_deconv_fwd_chunk(&s->k[7], v_decoder_dense2, S + 38016, decoder_deconv1_b,
                        v_decoder_deconv1, COL, CHUNK, /* Ci */ 32,
                        /* Co Ho Wo */ 16, 7, 7, /* k s p */ 3, 2, 0, /* Hi Wi */ 3, 3, KERN_ACT_RELU);
  T(L_DECONV1, P_FWD);
  kern_direct_convt(&s->k[8], v_decoder_deconv1, decoder_deconv2_w, decoder_deconv2_b,
                    v_decoder_deconv2, COL, nc, /* B */ 4,
                    /* O Ho Wo */ 16, 7, 7, /* C H W */ 8, 14, 14, /* k s p */ 3, 2, 1, KERN_ACT_RELU);
  T(L_DECONV2, P_FWD);
  for (int i = 0; i < nc; i++)
    kern_deconv_fwd(&s->k[9], v_decoder_deconv2 + i * 1568, S + 42624, decoder_deconv3_b,
                    v_decoder_deconv3 + i * 784, COL,
                    /* Co Ho Wo */ 1, 28, 28, /* k s p */ 3, 2, 1, /* Hi Wi */ 14, 14, KERN_ACT_SIGMOID);
  T(L_DECONV3, P_FWD);
  for (int i = 0; i < nc; i++) {
    t42[i] = kern_sqdiff_sum(v_decoder_deconv3 + i * 784, v_x + i * 784, 784) / 784.0f;
  }
  T(L_LOSS, P_FWD);
}

// generated/autoencoder.c's backward_chunk, with marks.  The generated code
// runs mask, dx, dw and bias gradient per example in one loop; a mark
// after each call keeps that order (and its cache behaviour).
static void backward_timed(const GenChunk *c) {
  const GenModel *s = c->model;
  const float *P = c->P;
  const float *S = c->S;
  float *A = c->A;
  float *G = c->G;
  const int nc = c->nc;
  const int n = c->n;

  last = tnow();
  for (int i = 0; i < nc; i++) {
    g43[i] = 1.0f / (float)n;
  }
  for (int i = 0; i < nc; i++)
    for (int k = 0; k < 784; k++)
      g45[i * 784 + k] = (g43[i] * 2.0f * (v_decoder_deconv3[i * 784 + k] - v_x[i * 784 + k]) / 784.0f) * v_decoder_deconv3[i * 784 + k] * (1.0f - v_decoder_deconv3[i * 784 + k]);
  T(L_LOSS, P_ELT);
  memset(d_decoder_deconv3_w, 0, sizeof(float) * 72);
  memset(d_decoder_deconv3_b, 0, sizeof(float) * 1);
  T(L_DECONV3, P_ELT);
  for (int i = 0; i < nc; i++) {
    const float *dy = g45 + i * 784;
    kern_deconv_dx(&s->k[0], dy, decoder_deconv3_w, g46 + i * 1568, COL,
                   /* Co Ho Wo */ 1, 28, 28, /* k s p */ 3, 2, 1, /* Hi Wi */ 14, 14);
    TL(L_DECONV3, P_DX);
    kern_deconv_dw_dot(dy, v_decoder_deconv2 + i * 1568, d_decoder_deconv3_w, COL,
                       /* have_col */ 1, COL + 1776, i, nc, /* Ci */ 8,
                       /* Co Ho Wo */ 1, 28, 28, /* k s p */ 3, 2, 1, /* Hi Wi */ 14, 14);
    TL(L_DECONV3, P_DW);
    kern_bias_grad(dy, 1, 784, d_decoder_deconv3_b);
    TL(L_DECONV3, P_ELT);
  }
  TE(L_DECONV3);
  memset(d_decoder_deconv2_w, 0, sizeof(float) * 1152);
  memset(d_decoder_deconv2_b, 0, sizeof(float) * 8);
  T(L_DECONV2, P_ELT);
  const float *dy50 = kern_mask(g46, v_decoder_deconv2, nc * 1568, MASK);
  T(L_DECONV2, P_ELT);
  kern_direct_conv(&s->k[1], dy50, decoder_deconv2_w, NULL,
                   g50, COL, nc, /* B */ 4,
                   /* Ci H W */ 8, 14, 14, /* Co k s p */ 16, 3, 2, 1, /* Ho Wo */ 7, 7, KERN_ACT_NONE);
  T(L_DECONV2, P_DX);
  for (int i = 0; i < nc; i++)
    kern_deconv_dw(&s->k[10], dy50 + i * 1568, v_decoder_deconv1 + i * 784, d_decoder_deconv2_w, COL,
                   /* Co Ho Wo */ 8, 14, 14, /* k s p */ 3, 2, 1, /* Hi Wi */ 7, 7);
  T(L_DECONV2, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy50 + i * 1568, 8, 196, d_decoder_deconv2_b);
  T(L_DECONV2, P_ELT);
  memset(d_decoder_deconv1_w, 0, sizeof(float) * 4608);
  memset(d_decoder_deconv1_b, 0, sizeof(float) * 16);
  T(L_DECONV1, P_ELT);
  const float *dy54 = kern_mask(g50, v_decoder_deconv1, nc * 784, MASK);
  T(L_DECONV1, P_ELT);
  kern_deconv_dx_chunk(&s->k[2], dy54, decoder_deconv1_w, g54, COL, CHUNK,
                       /* Ci */ 32, /* Co Ho Wo */ 16, 7, 7, /* k s p */ 3, 2, 0, /* Hi Wi */ 3, 3);
  T(L_DECONV1, P_DX);
  for (int i = 0; i < nc; i++)
    kern_deconv_dw(&s->k[11], dy54 + i * 784, v_decoder_dense2 + i * 288, d_decoder_deconv1_w, COL,
                   /* Co Ho Wo */ 16, 7, 7, /* k s p */ 3, 2, 0, /* Hi Wi */ 3, 3);
  T(L_DECONV1, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy54 + i * 784, 16, 49, d_decoder_deconv1_b);
  T(L_DECONV1, P_ELT);
  memset(d_decoder_dense2_b, 0, sizeof(float) * 288);
  const float *dy59 = kern_mask(g54, v_decoder_dense2, nc * 288, MASK);
  T(L_DDENSE2, P_ELT);
  kern_dense_dx(&s->k[3], dy59, decoder_dense2_w, g59);
  T(L_DDENSE2, P_DX);
  kern_dense_dw(&s->k[12], dy59, v_decoder_dense1, d_decoder_dense2_w, DYT, CHUNK, nc, 64, 288);
  T(L_DDENSE2, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy59 + i * 288, 288, 1, d_decoder_dense2_b);
  T(L_DDENSE2, P_ELT);
  memset(d_decoder_dense1_b, 0, sizeof(float) * 64);
  T(L_DDENSE1, P_ELT);
  const float *dy63 = kern_mask(g59, v_decoder_dense1, nc * 64, MASK);
  T(L_DDENSE1, P_ELT);
  kern_dense_dx(&s->k[4], dy63, decoder_dense1_w, g63);
  T(L_DDENSE1, P_DX);
  kern_dense_dw(&s->k[13], dy63, v_encoder_dense1, d_decoder_dense1_w, DYT, CHUNK, nc, 9, 64);
  T(L_DDENSE1, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy63 + i * 64, 64, 1, d_decoder_dense1_b);
  T(L_DDENSE1, P_ELT);
  memset(d_encoder_dense1_b, 0, sizeof(float) * 9);
  T(L_CODE, P_ELT);
  const float *dy66 = g63;
  kern_dense_dx(&s->k[5], dy66, encoder_dense1_w, g66);
  T(L_CODE, P_DX);
  kern_dense_dw(&s->k[14], dy66, v_encoder_trunk_dense1, d_encoder_dense1_w, DYT, CHUNK, nc, 64, 9);
  T(L_CODE, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy66 + i * 9, 9, 1, d_encoder_dense1_b);
  T(L_CODE, P_ELT);
  memset(d_encoder_trunk_dense1_b, 0, sizeof(float) * 64);
  T(L_TDENSE, P_ELT);
  const float *dy70 = kern_mask(g66, v_encoder_trunk_dense1, nc * 64, MASK);
  T(L_TDENSE, P_ELT);
  kern_dense_dx(&s->k[6], dy70, encoder_trunk_dense1_w, g70);
  T(L_TDENSE, P_DX);
  kern_dense_dw(&s->k[15], dy70, v_encoder_trunk_conv3, d_encoder_trunk_dense1_w, DYT, CHUNK, nc, 288, 64);
  T(L_TDENSE, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy70 + i * 64, 64, 1, d_encoder_trunk_dense1_b);
  T(L_TDENSE, P_ELT);
  memset(d_encoder_trunk_conv3_w, 0, sizeof(float) * 4608);
  memset(d_encoder_trunk_conv3_b, 0, sizeof(float) * 32);
  T(L_CONV3, P_ELT);
  const float *dy75 = kern_mask(g70, v_encoder_trunk_conv3, nc * 288, MASK);
  T(L_CONV3, P_ELT);
  kern_conv_dx_chunk(&s->k[7], dy75, S + 42704, g75, COL, CHUNK,
                     /* Co */ 32, /* Ci H W */ 16, 7, 7, /* k s p */ 3, 2, 0, /* Ho Wo */ 3, 3);
  T(L_CONV3, P_DX);
  for (int i = 0; i < nc; i++)
    kern_conv_dw(&s->k[11], dy75 + i * 288, v_encoder_trunk_conv2 + i * 784, d_encoder_trunk_conv3_w, COL,
                 /* Ci H W */ 16, 7, 7, /* k s p */ 3, 2, 0, /* Ho Wo */ 3, 3);
  T(L_CONV3, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy75 + i * 288, 32, 9, d_encoder_trunk_conv3_b);
  T(L_CONV3, P_ELT);
  memset(d_encoder_trunk_conv2_w, 0, sizeof(float) * 1152);
  memset(d_encoder_trunk_conv2_b, 0, sizeof(float) * 16);
  T(L_CONV2, P_ELT);
  const float *dy79 = kern_mask(g75, v_encoder_trunk_conv2, nc * 784, MASK);
  T(L_CONV2, P_ELT);
  kern_direct_convt(&s->k[8], dy79, encoder_trunk_conv2_w, NULL,
                    g79, COL, nc, /* B */ 4,
                    /* O Ho Wo */ 16, 7, 7, /* C H W */ 8, 14, 14, /* k s p */ 3, 2, 1, KERN_ACT_NONE);
  T(L_CONV2, P_DX);
  for (int i = 0; i < nc; i++)
    kern_conv_dw(&s->k[10], dy79 + i * 784, v_encoder_trunk_conv1 + i * 1568, d_encoder_trunk_conv2_w, COL,
                 /* Ci H W */ 8, 14, 14, /* k s p */ 3, 2, 1, /* Ho Wo */ 7, 7);
  T(L_CONV2, P_DW);
  for (int i = 0; i < nc; i++)
    kern_bias_grad(dy79 + i * 784, 16, 49, d_encoder_trunk_conv2_b);
  T(L_CONV2, P_ELT);
  memset(d_encoder_trunk_conv1_w, 0, sizeof(float) * 72);
  memset(d_encoder_trunk_conv1_b, 0, sizeof(float) * 8);
  T(L_CONV1, P_ELT);
  for (int i = 0; i < nc; i++) {
    const float *dy = kern_mask(g79 + i * 1568, v_encoder_trunk_conv1 + i * 1568, 1568, MASK);
    TL(L_CONV1, P_ELT);
    kern_conv_dw_dot(dy, v_x + i * 784, d_encoder_trunk_conv1_w, COL, COL + 1776, i, nc,
                     /* Co */ 8, /* Ci H W */ 1, 28, 28, /* k s p */ 3, 2, 1, /* Ho Wo */ 14, 14);
    TL(L_CONV1, P_DW);
    kern_bias_grad(dy, 8, 196, d_encoder_trunk_conv1_b);
    TL(L_CONV1, P_ELT);
  }
  TE(L_CONV1);
}

// The batch's chunks one after another, as run_chunks runs them on one
// thread: thread 0's chunk arena, chunk c's gradient block.
static void batch_timed(NetModel *m, const float *x) {
  GenModel *gm = m->impl;
  const GenSpec *sp = gm->spec;
  for (int c = 0; c < sp->batch / sp->chunk; c++) {
    GenChunk ch = {
      .model = gm, .P = m->params, .S = gm->arena,
      .A = gm->arena + sp->arena_threads,
      .G = gm->arena + sp->arena_grads + (size_t)c * sp->n_trainable,
      .x = x, .labels = NULL,
      .i0 = c * sp->chunk, .nc = sp->chunk, .n = sp->batch, .seed = 1, .train = 1,
    };
    forward_timed(&ch);
    backward_timed(&ch);
  }
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// bench-peak's single-thread peak of the widest ISA it measured, run from
// the directory of argv0; 0 if it cannot be run.  *isa names the ISA.
static double run_peak(const char *argv0, char *isa, size_t n) {
  char cmd[4096];
  const char *slash = strrchr(argv0, '/');
  int dir = slash ? (int)(slash - argv0) + 1 : 0;
  snprintf(cmd, sizeof cmd, "%.*sbench-peak --json --clock cpu --runs 5", dir, argv0);
  FILE *f = popen(cmd, "r");
  if (!f)
    return 0;
  char line[512];
  double best = 0;
  while (fgets(line, sizeof line, f)) {
    char *pi = strstr(line, "\"isa\":\""), *pg = strstr(line, "\"gflops\":");
    if (!pi || !pg)
      continue;
    double g = atof(pg + 9);
    if (g > best) {
      best = g;
      pi += 7;
      snprintf(isa, n, "%.*s", (int)strcspn(pi, "\""), pi);
    }
  }
  pclose(f);
  return best;
}

#define MAXRUNS 99

int main(int argc, char **argv) {
  int runs = 11, json = 0;
  double peak = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--peak") && i + 1 < argc)
      peak = atof(argv[++i]);
    else if (!strcmp(argv[i], "--json"))
      json = 1;
    else {
      fprintf(stderr, "usage: %s [--runs N] [--peak GFLOPS] [--json]\n"
                      "Times every layer of the autoencoder's training step (batch 256, one thread,\n"
                      "thread CPU time): forward, input gradient, weight gradient, element-wise work.\n",
              argv[0]);
      return 2;
    }
  }
  if (runs < 1 || runs > MAXRUNS) {
    fprintf(stderr, "%s: --runs must be 1..%d\n", argv[0], MAXRUNS);
    return 2;
  }
  char isa[64] = "given";
  if (peak <= 0)
    peak = run_peak(argv[0], isa, sizeof isa);

  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  NetModel *m = autoencoder_new();
  m->set_threads(m, 1);
  model_init_params(m, 1);
  GenModel *gm = m->impl;
  const GenSpec *sp = gm->spec;
  const int B = sp->batch, nch = B / sp->chunk;
  float *x = malloc(sizeof(float) * B * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, B, x, NULL);

  // The real step, uninstrumented, is timed in every run next to the
  // instrumented batch (so both see the same load); warm-up first.
  double steps[MAXRUNS];
  for (int w = 0; w < 3; w++)
    m->train_step(m, x, NULL, B, 1);

  // A mark's own cost (the median of many back-to-back reads).
  {
    double v[MAXRUNS];
    for (int r = 0; r < runs; r++) {
      double t0 = tnow();
      for (int i = 0; i < 1000; i++)
        last = tnow();
      v[r] = (last - t0) / 1000;
    }
    mark_cost = median(v, runs);
  }

  // The instrumented chunks, on the model's own arena (S holds the weights
  // the last train_step transposed; the thread's chunk arena and chunk
  // gradient blocks as run_chunks lays them out).
  static double cell[NLAYER][NPASS][MAXRUNS];
  for (int r = -2; r < runs; r++) {   // two warm-up runs
    static double split[NLAYER][NPASS];
    double t0 = tnow();
    m->train_step(m, x, NULL, B, 1);
    if (r >= 0)
      steps[r] = tnow() - t0;
    memset(loop_fine, 0, sizeof loop_fine);
    fine = 1;
    batch_timed(m, x);
    memcpy(split, loop_fine, sizeof split);
    memset(acc, 0, sizeof acc);
    memset(loop_all, 0, sizeof loop_all);
    fine = 0;
    batch_timed(m, x);
    // The step's work outside the chunks, as run_batch does it (one
    // thread): the weights kernels read transposed, then the chunk
    // gradient blocks added in chunk order.
    last = tnow();
    for (int i = 0; i < sp->n_transposes; i++) {
      const NetTensor *q = &sp->tensors[sp->transposes[i].tensor];
      int rows = q->dim[0], cols = (int)(q->numel / (size_t)q->dim[0]);
      kern_transpose(m->params + q->offset, rows, cols, gm->arena + sp->transposes[i].to);
    }
    T(L_TRANSPOSE, P_ELT);
    {
      const float *Gb = gm->arena + sp->arena_grads;
      const size_t ntr = sp->n_trainable;
      for (size_t j = 0; j < ntr; j++) {
        float v = Gb[j];
        for (int c = 1; c < nch; c++)
          v += Gb[(size_t)c * ntr + j];
        m->grads[j] = v;
      }
    }
    T(L_REDUCE, P_ELT);
    if (r < 0)
      continue;
    for (int l = 0; l < NLAYER; l++) {
      double f = 0;
      for (int p = 0; p < NPASS; p++)
        f += split[l][p];
      for (int p = 0; p < NPASS; p++)
        cell[l][p][r] = acc[l][p] + (f > 0 ? loop_all[l] * split[l][p] / f : 0.0);
    }
  }

  double step = median(steps, runs);

  // The instrumented code must be the trainer's: the gradient the last
  // instrumented batch left in m->grads against train_step's on the same
  // weights and batch.
  float *ours = malloc(sizeof(float) * sp->n_trainable);
  memcpy(ours, m->grads, sizeof(float) * sp->n_trainable);
  m->train_step(m, x, NULL, B, 1);
  double maxdiff = 0;
  for (size_t j = 0; j < sp->n_trainable; j++) {
    double dd = fabs((double)ours[j] - (double)m->grads[j]);
    maxdiff = dd > maxdiff ? dd : maxdiff;
  }
  free(ours);
  double t[NLAYER][NPASS], flops[NLAYER][NPASS] = {{0}}, sum = 0, layer_sum[NLAYER] = {0};
  for (int l = 0; l < NLAYER; l++)
    for (int p = 0; p < NPASS; p++) {
      t[l][p] = median(cell[l][p], runs);
      sum += t[l][p];
      layer_sum[l] += t[l][p];
      if (p < 3 && layer_gemm[l][p] >= 0) {
        const GenGemm *q = &gemm[layer_gemm[l][p]];
        flops[l][p] = 2.0 * q->m * q->n * q->k * layer_calls[l][p] * nch;
      } else if (p < 2 && (l == L_CONV2 || l == L_DECONV2)) {
        flops[l][p] = direct_flops * sp->chunk * nch;
      } else if (p == P_DW && (l == L_CONV1 || l == L_DECONV3)) {
        flops[l][p] = dwdot_flops * sp->chunk * nch;
      }
    }

  char cpu[256];
  bench_cpu_name(cpu, sizeof cpu);
  const char *target = libxsmm_get_target_arch();
  if (json) {
    printf("{\"cpu\":\"%s\",\"xsmm_target\":\"%s\",\"peak_isa\":\"%s\",\"peak_gflops\":%.2f,"
           "\"batch\":%d,\"chunk\":%d,\"runs\":%d,\"mark_cost_s\":%.3g,\"grad_maxdiff\":%.3g}\n",
           cpu, target, isa, peak, B, sp->chunk, runs, mark_cost, maxdiff);
    for (int l = 0; l < NLAYER; l++)
      for (int p = 0; p < NPASS; p++) {
        if (t[l][p] <= 0 && flops[l][p] == 0)
          continue;
        printf("{\"layer\":\"%s\",\"pass\":\"%s\",\"flops\":%.0f,\"seconds\":%.6g,\"gflops\":%.3f,"
               "\"share\":%.4f}\n", layer_name[l], pass_name[p], flops[l][p], t[l][p],
               flops[l][p] > 0 ? flops[l][p] / t[l][p] * 1e-9 : 0.0, t[l][p] / step);
      }
    printf("{\"step_seconds\":%.6g,\"sum_seconds\":%.6g,\"unattributed_seconds\":%.6g}\n", step, sum,
           step - sum);
    return 0;
  }
  printf("# CPU: %s; libxsmm target %s; FMA peak 1 thread %.1f GFLOP/s (%s)\n", cpu, target, peak, isa);
  printf("# batch %d in %d chunks of %d, 1 thread, thread CPU time, median of %d runs;"
         " a timer mark costs %.2f us (subtracted)\n", B, nch, sp->chunk, runs, mark_cost * 1e6);
  printf("# the instrumented code's gradient %s train_step's (max |difference| %.3g)\n",
         maxdiff == 0 ? "equals" : "DIFFERS FROM", maxdiff);
  printf("| layer | shape | pass | MFLOP | ms | GFLOP/s | share of step | of peak |\n"
         "|---|---|---|---:|---:|---:|---:|---:|\n");
  for (int l = 0; l < NLAYER; l++)
    for (int p = 0; p < NPASS; p++) {
      if (t[l][p] <= 0 && flops[l][p] == 0)
        continue;
      if (flops[l][p] > 0) {
        double g = flops[l][p] / t[l][p] * 1e-9;
        printf("| %s | %s | %s | %.1f | %.3f | %.2f | %.1f%% | %.1f%% |\n", layer_name[l], layer_shape[l],
               pass_name[p], flops[l][p] * 1e-6, t[l][p] * 1e3, g, 100 * t[l][p] / step,
               peak > 0 ? 100 * g / peak : 0.0);
      } else {
        printf("| %s | %s | %s | | %.3f | | %.1f%% | |\n", layer_name[l], layer_shape[l], pass_name[p],
               t[l][p] * 1e3, 100 * t[l][p] / step);
      }
    }
  printf("\n| layer | ms | share of step |\n|---|---:|---:|\n");
  for (int l = 0; l < NLAYER; l++)
    printf("| %s | %.3f | %.1f%% |\n", layer_name[l], layer_sum[l] * 1e3, 100 * layer_sum[l] / step);
  printf("\n| pass | MFLOP | ms | GFLOP/s | share of step |\n|---|---:|---:|---:|---:|\n");
  double all_flops = 0;
  for (int p = 0; p < NPASS; p++) {
    double f = 0, tp = 0;
    for (int l = 0; l < NLAYER; l++)
      f += flops[l][p], tp += t[l][p];
    all_flops += f;
    if (f > 0)
      printf("| %s | %.1f | %.3f | %.2f | %.1f%% |\n", pass_name[p], f * 1e-6, tp * 1e3, f / tp * 1e-9,
             100 * tp / step);
    else
      printf("| %s | | %.3f | | %.1f%% |\n", pass_name[p], tp * 1e3, 100 * tp / step);
  }
  printf("\nsum of the table: %.3f ms (%.1f%% of the step); real step (train_step, uninstrumented): "
         "%.3f ms, %.2f GFLOP/s (%.1f%% of peak)\n", sum * 1e3, 100 * sum / step, step * 1e3,
         all_flops / step * 1e-9, peak > 0 ? 100 * all_flops / step * 1e-9 / peak : 0.0);
  printf("unattributed: %.3f ms (the chunks' loss sums, the parallel region, the timer marks' "
         "residual cost; the optimiser is not in train_step)\n", (step - sum) * 1e3);
  m->free(m);
  mnist_free(&d);
  free(x);
  return 0;
}
