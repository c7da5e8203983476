// bench_zoo.c — training throughput of a zoo model's generated code
// (models/zoo/*.net), as bench-codegen measures the autoencoder's: a full
// batch of MNIST training images with their labels (a model of another
// input shape, resnet8's [3, 32, 32]: a synthetic batch of uniform values
// and labels, which costs the same), warm-up, then R timed
// runs of a fixed number of train_step calls; prints the median and
// min/max images/s of the runs as one JSON object.  With --what infer,
// the forward pass in evaluation mode (NetModel.forward: what --predict,
// validation and the embedding API run) instead of train_step.  The model
// is chosen at build time (GEN_HEADER, GEN_NEW: bench-zoo-MODEL).
//
//   bench-zoo-MODEL [--threads N] [--runs R] [--steps S] [--clock wall|cpu] [--what train|infer]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include GEN_HEADER
#include "mnist.h"
#include "model.h"
#include "rng.h"
#include "../bench_util.h"

// Wall-clock time, or with --clock cpu the process's CPU time (on a shared,
// loaded machine, CPU time over 1 thread is what an idle core would do).
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) { return bench_seconds(clock_id); }

int main(int argc, char **argv) {
  int threads = 1, runs = 5, steps = 20, infer = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--clock")) clock_id = strcmp(argv[i + 1], "cpu") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
    else if (!strcmp(argv[i], "--what")) infer = !strcmp(argv[i + 1], "infer");
  }
  runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
  steps = steps < 1 ? 1 : steps;

  Mnist d;
  if (mnist_load(&d, mnist_default_dir()))
    return 1;
  NetModel *m = GEN_NEW();
  const int B = m->max_batch;
  float *x = malloc(sizeof(float) * B * m->input_size);
  int32_t *y = malloc(sizeof *y * B);
  if (m->input_size == MNIST_PIXELS) {
    mnist_batch(&d.train, NULL, 0, B, x, y);
  } else {
    Rng r = rng_stream(1, 0);
    for (size_t i = 0; i < (size_t)B * m->input_size; i++)
      x[i] = rng_uniformf(&r);
    for (int i = 0; i < B; i++)
      y[i] = (int32_t)rng_below(&r, m->n_classes >= 2 ? (uint64_t)m->n_classes : 10);
  }
  model_init_params(m, 1);
  m->set_threads(m, threads);

  // Inference runs on the parameters (and running statistics) after the
  // warm-up's training steps, as a trained model's would.
  double v[64];
  for (int w = 0; w < 2; w++)
    m->train_step(m, x, y, B, 1);
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (int s = 0; s < steps; s++)
      if (infer)
        m->forward(m, x, y, B, (uint64_t)s, NULL);
      else
        m->train_step(m, x, y, B, (uint64_t)s);
    v[r] = steps * (double)B / (now() - t0);
  }
  qsort(v, runs, sizeof *v, bench_cmp_double);
  double med = runs % 2 ? v[runs / 2] : 0.5 * (v[runs / 2 - 1] + v[runs / 2]);
  printf("{\"impl\":\"generated\",\"model\":\"%s\",\"what\":\"%s\",\"threads\":%d,\"batch\":%d,"
         "\"clock\":\"%s\",\"images_per_second\":%.1f,\"min\":%.1f,\"max\":%.1f}\n",
         m->name, infer ? "infer" : "train", threads, B, clock_id == CLOCK_MONOTONIC ? "wall" : "cpu", med, v[0], v[runs - 1]);
  m->free(m);
  mnist_free(&d);
  free(x);
  free(y);
  return 0;
}
