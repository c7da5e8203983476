// genmodel.c — the NetModel around a generated model's chunk code
// (genmodel.h).
#include "genmodel.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static int nchunk(const GenSpec *sp) { return (sp->batch + sp->chunk - 1) / sp->chunk; }

// Zeroed and 64-byte aligned (the kernels' vector loads).
static void *alloc_zero(const GenSpec *sp, size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 1)) {
    fprintf(stderr, "%s: out of memory\n", sp->name);
    exit(1);
  }
  memset(p, 0, bytes ? bytes : 1);
  return p;
}

static void transpose_weights(GenModel *s) {
  const GenSpec *sp = s->spec;
  for (int i = 0; i < sp->n_transposes; i++) {
    const NetTensor *t = &sp->tensors[sp->transposes[i].tensor];
    int rows = t->dim[0], cols = (int)(t->numel / (size_t)t->dim[0]);
    kern_transpose(s->m.params + t->offset, rows, cols, s->arena + sp->transposes[i].to);
  }
}

// The chunk's exports to the caller's buffers and its loss sum (its nc real
// examples only).
static double chunk_outputs(const GenSpec *sp, const GenChunk *c, float **outputs) {
  if (outputs)
    for (int j = 0; j < sp->n_outputs; j++)
      if (outputs[j]) {
        size_t size = sp->outputs[j].size;
        memcpy(outputs[j] + (size_t)c->i0 * size, c->A + sp->output_at[j],
               sizeof(float) * (size_t)c->nc * size);
      }
  double loss = 0.0;
  if (sp->loss_at >= 0)
    for (int i = 0; i < c->nc; i++)
      loss += c->A[sp->loss_at + i];
  return loss;
}

static double run_batch(NetModel *m, const float *x, const uint8_t *labels, int n,
                        uint64_t seed, int train, float **outputs) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  if (n < 1 || n > sp->batch) {
    fprintf(stderr, "%s: batch of %d examples (1..%d supported)\n", sp->name, n, sp->batch);
    abort();
  }
  transpose_weights(s);
  const int chunk = sp->chunk, nch = (n + chunk - 1) / chunk;
  const size_t ntr = sp->n_trainable;
  double *loss = s->loss;
  // One parallel region per step: the chunks, then (after the implicit
  // barrier) the chunk gradients added in chunk order, so the sum does
  // not depend on the threads.
  #pragma omp parallel num_threads(s->threads)
  {
    #pragma omp for schedule(static)
    for (int c = 0; c < nch; c++) {
      GenChunk ch = {
        .model = s, .P = m->params, .S = s->arena,
        .A = s->arena + sp->arena_threads + (size_t)omp_get_thread_num() * sp->arena_chunk,
        .G = s->arena + sp->arena_grads + (size_t)c * ntr,
        .x = x, .labels = labels,
        .i0 = c * chunk, .nc = n - c * chunk < chunk ? n - c * chunk : chunk, .n = n,
        .seed = seed, .train = train,
      };
      sp->forward(&ch);
      loss[c] = chunk_outputs(sp, &ch, outputs);
      if (train && sp->backward)
        sp->backward(&ch);
    }
    if (train) {
      const float *G = s->arena + sp->arena_grads;
      #pragma omp for schedule(static)
      for (size_t j = 0; j < ntr; j++) {
        float v = G[j];
        for (int c = 1; c < nch; c++)
          v += G[(size_t)c * ntr + j];
        m->grads[j] = v;
      }
    }
  }
  double total = 0.0;
  for (int c = 0; c < nch; c++)
    total += loss[c];
  return total / n;
}

static float genmodel_train_step(NetModel *m, const float *x, const uint8_t *labels, int n,
                                 uint64_t seed) {
  return (float)run_batch(m, x, labels, n, seed, 1, NULL);
}

static float genmodel_forward(NetModel *m, const float *x, const uint8_t *labels, int n,
                              uint64_t seed, float **outputs) {
  return (float)run_batch(m, x, labels, n, seed, 0, outputs);
}

// The arena is sized for the thread count, so it is (re)allocated here,
// never inside a step.
static void genmodel_set_threads(NetModel *m, int threads) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  if (threads < 1)
    threads = 1;
  if (threads > nchunk(sp))
    threads = nchunk(sp);
  if (s->arena && threads == s->threads)
    return;
  free(s->arena);
  s->threads = threads;
  s->arena = alloc_zero(sp, sizeof(float) * (sp->arena_threads + (size_t)threads * sp->arena_chunk));
}

static void genmodel_free(NetModel *m) {
  GenModel *s = m->impl;
  free(s->arena);
  free(s->loss);
  free(m->params);
  free(m->grads);
  free(s);
}

NetModel *genmodel_new(const GenSpec *sp) {
  GenModel *s = calloc(1, sizeof *s + sizeof(KernGemm) * (size_t)sp->n_gemm);
  if (!s) {
    fprintf(stderr, "%s: out of memory\n", sp->name);
    exit(1);
  }
  s->spec = sp;
  s->loss = alloc_zero(sp, sizeof(double) * (size_t)nchunk(sp));
  NetModel *m = &s->m;
  m->name = sp->name;
  m->needs_labels = sp->needs_labels;
  m->input_size = sp->input_size;
  m->max_batch = sp->batch;
  m->n_tensors = sp->n_tensors;
  m->tensors = sp->tensors;
  m->n_params = sp->n_params;
  m->n_trainable = sp->n_trainable;
  m->params = alloc_zero(sp, sizeof(float) * sp->n_params);
  m->grads = alloc_zero(sp, sizeof(float) * sp->n_params);
  m->n_outputs = sp->n_outputs;
  m->outputs = sp->outputs;
  m->class_output = sp->class_output;
  m->train_step = genmodel_train_step;
  m->forward = genmodel_forward;
  m->set_threads = genmodel_set_threads;
  m->free = genmodel_free;
  m->impl = s;
  m->structure_hash = model_hash_structure(m);
  libxsmm_init();
  for (int i = 0; i < sp->n_gemm; i++) {
    const GenGemm *g = &sp->gemm[i];
    kern_gemm_init(&s->k[i], g->what, g->m, g->n, g->k, g->lda, g->ldb, g->ldc, g->accumulate);
  }
  genmodel_set_threads(m, omp_get_max_threads());
  return m;
}

int genmodel_main(const GenSpec *spec, int argc, char **argv) {
  NetModel *m = genmodel_new(spec);
  int status = driver_main(m, argc, argv);
  m->free(m);
  return status;
}
