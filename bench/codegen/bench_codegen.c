// bench_codegen.c — throughput of one model's generated code and of the
// interpreter on the same weights and batch, and the machine's sgemm rate.
//
//   bench-codegen [--threads N] [--runs R] [--what gen|interp|sgemm|all]
//                 [--clock wall|cpu] [--batch B[,B...]]
//
// --batch times the generated trainer's step at the given batch sizes
// (each at most the model's batch, 256) instead of at the full batch only:
// one row per size, with the same number of images per run, so that a
// small batch's cost per image can be set against the full batch's.
// Each measurement: warm-up, then R timed runs (each a fixed number of
// steps of a full batch); prints the median and min/max of the runs, one
// JSON object per line.  FLOPs are counted from the gradient graph: 2 per
// multiply-add of every convolution, transposed convolution and dense op
// (forward, input gradient, weight gradient); element-wise ops are not
// counted.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxsmm.h>

#include "autodiff.h"
#include "autoencoder.h"
#include "interp.h"
#include "mnist.h"
#include "model.h"
#include "netc.h"
#include "../bench_util.h"

void openblas_set_num_threads(int);

// Wall-clock time, or with --cpu the process's CPU time (on a shared,
// loaded machine, CPU time over 1 thread is what an idle core would do).
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) { return bench_seconds(clock_id); }

// Multiply-adds of a layer op per example.
static double macs(const Graph *g, const Node *n) {
  switch (n->op) {
  case OP_CONV2D: case OP_CONV2D_DX: case OP_CONV2D_DW: {
    // dy / y [Co, Ho, Wo]; x [Ci, H, W]
    const Node *y = n->op == OP_CONV2D ? n : &g->nodes[n->in[0]];
    const Node *x = n->op == OP_CONV2D ? &g->nodes[n->in[0]] : n->op == OP_CONV2D_DX ? n : &g->nodes[n->in[1]];
    return (double)shape_numel(y->shape) * x->shape.dim[0] * n->attr.k * n->attr.k;
  }
  case OP_DECONV2D: case OP_DECONV2D_DX: case OP_DECONV2D_DW: {
    // x [Ci, Hi, Wi] (the deconv's input): each input pixel scatters Co*k*k.
    const Node *y = n->op == OP_DECONV2D ? n : &g->nodes[n->in[0]];
    const Node *x = n->op == OP_DECONV2D ? &g->nodes[n->in[0]] : n->op == OP_DECONV2D_DX ? n : &g->nodes[n->in[1]];
    return (double)shape_numel(x->shape) * y->shape.dim[0] * n->attr.k * n->attr.k;
  }
  case OP_DENSE: return (double)shape_numel(g->nodes[n->in[0]].shape) * shape_numel(n->shape);
  case OP_DENSE_DX: return (double)shape_numel(n->shape) * shape_numel(g->nodes[n->in[0]].shape);
  case OP_DENSE_DW: return (double)shape_numel(g->nodes[n->in[1]].shape) * shape_numel(g->nodes[n->in[0]].shape);
  default: return 0;
  }
}

typedef struct { double median, lo, hi; } Stat;

static Stat stat(double *v, int n) {
  qsort(v, n, sizeof *v, bench_cmp_double);
  return (Stat){n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
}

// images/s of `steps` calls, median over runs.
static Stat measure(NetModel *m, const float *x, int B, int steps, int runs, int train, float **outs) {
  double v[64];
  for (int w = 0; w < 2; w++)
    train ? m->train_step(m, x, NULL, B, 1) : m->forward(m, x, NULL, B, 1, outs);
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (int s = 0; s < steps; s++)
      train ? m->train_step(m, x, NULL, B, (uint64_t)s) : m->forward(m, x, NULL, B, (uint64_t)s, outs);
    v[r] = steps * (double)B / (now() - t0);
  }
  return stat(v, runs);
}

static void report(const char *who, const char *what, int threads, Stat s, double flops_per_image) {
  printf("{\"impl\":\"%s\",\"what\":\"%s\",\"threads\":%d,\"images_per_second\":%.1f,"
         "\"min\":%.1f,\"max\":%.1f,\"gflops\":%.2f}\n",
         who, what, threads, s.median, s.lo, s.hi, s.median * flops_per_image * 1e-9);
  fflush(stdout);
}

static const char usage[] =
    "usage: bench-codegen [--threads N] [--runs R] [--what gen|interp|sgemm|all]\n"
    "                     [--clock wall|cpu] [--batch B[,B...]]\n"
    "One JSON line per measurement: images/s (median, min, max of R runs) of the\n"
    "generated autoencoder and of the interpreter, and OpenBLAS sgemm 2048^3.\n"
    "--batch: the generated trainer's train and inference steps at these batch\n"
    "sizes only (each <= 256), the same number of images per run for each.\n";

int main(int argc, char **argv) {
  int threads = 1, runs = 5;
  const char *what = "all", *batches = NULL;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 0;
    }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--what")) what = argv[i + 1];
    else if (!strcmp(argv[i], "--clock")) clock_id = strcmp(argv[i + 1], "cpu") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
    else if (!strcmp(argv[i], "--batch")) batches = argv[i + 1];
  }
  if (runs < 1) runs = 1;
  if (runs > 64) runs = 64;
  int all = !strcmp(what, "all");

  if (all || !strcmp(what, "sgemm")) {
    // The machine's sgemm rate on the same cores: OpenBLAS, 2048^3.
    const int N = 2048;
    float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N), *c = malloc(sizeof(float) * N * N);
    for (long i = 0; i < (long)N * N; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    openblas_set_num_threads(threads);
    double v[64];
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c, N);
    for (int r = 0; r < runs; r++) {
      double t0 = now();
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, a, N, b, N, 0, c, N);
      v[r] = 2.0 * N * N * N / (now() - t0) * 1e-9;
    }
    Stat s = stat(v, runs);
    printf("{\"impl\":\"openblas\",\"what\":\"sgemm\",\"threads\":%d,\"gflops\":%.2f,\"min\":%.2f,\"max\":%.2f}\n",
           threads, s.median, s.lo, s.hi);
    free(a); free(b); free(c);
  }
  if (!all && strcmp(what, "gen") && strcmp(what, "interp"))
    return 0;

  int status;
  Graph *g = netc_compile(NETC_MODEL_PATH, NULL, 0, &status);
  if (!g || !autodiff(g))
    return 1;
  double fwd = 0, train = 0;
  for (int i = 0; i < g->nnodes; i++) {
    double f = 2.0 * macs(g, &g->nodes[i]);
    train += f;
    if (i < g->nforward) fwd += f;
  }
  printf("{\"flops_per_image\":{\"train\":%.0f,\"forward\":%.0f}}\n", train, fwd);

  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  NetModel *gen = autoencoder_new();
  // Which ISA libxsmm JITs for (it picks by itself from the CPU): part of
  // every figure's context, next to the CPU model bench-peak reports.
  printf("{\"xsmm_target\":\"%s\"}\n", libxsmm_get_target_arch());
  const int B = gen->max_batch;
  float *x = malloc(sizeof(float) * B * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, B, x, NULL);
  float *o0 = malloc(sizeof(float) * B * gen->outputs[0].size), *o1 = malloc(sizeof(float) * B * gen->outputs[1].size);
  float *outs[2] = {o0, o1};
  model_init_params(gen, 1);

  if (batches) {
    // Small batches: every size sees the same images per run (40 and 100
    // full batches' worth), so the rows compare cost per image directly.
    gen->set_threads(gen, threads);
    for (const char *p = batches; *p;) {
      int b = atoi(p);
      if (b < 1 || b > B) {
        fprintf(stderr, "bench-codegen: --batch %d: must be 1..%d\n", b, B);
        return 2;
      }
      Stat t = measure(gen, x, b, (40 * B + b - 1) / b, runs, 1, outs);
      Stat f = measure(gen, x, b, (100 * B + b - 1) / b, runs, 0, outs);
      printf("{\"impl\":\"generated\",\"batch\":%d,\"threads\":%d,\"train_images_per_second\":%.1f,"
             "\"train_min\":%.1f,\"train_max\":%.1f,\"inference_images_per_second\":%.1f,"
             "\"inference_min\":%.1f,\"inference_max\":%.1f}\n",
             b, threads, t.median, t.lo, t.hi, f.median, f.lo, f.hi);
      fflush(stdout);
      while (*p && *p != ',') p++;
      if (*p == ',') p++;
    }
    what = "";
    all = 0;
  }
  if (all || !strcmp(what, "gen")) {
    gen->set_threads(gen, threads);
    report("generated", "train", threads, measure(gen, x, B, 40, runs, 1, outs), train);
    report("generated", "inference", threads, measure(gen, x, B, 100, runs, 0, outs), fwd);
  }
  if (all || !strcmp(what, "interp")) {
    NetModel *ref = interp_model_new(g);
    memcpy(ref->params, gen->params, sizeof(float) * gen->n_params);
    ref->set_threads(ref, threads);
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    report("interpreter", "train", threads, measure(ref, x, B, 4, runs, 1, outs), train);
    report("interpreter", "inference", threads, measure(ref, x, B, 10, runs, 0, outs), fwd);
    ref->free(ref);
  }
  gen->free(gen);
  mnist_free(&d);
  free(x); free(o0); free(o1);
  return 0;
}
