// genmodel.c — the NetModel around a generated model's chunk code
// (genmodel.h).
#include "genmodel.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "driver.h"

static int nchunk(const GenSpec *sp) { return (sp->batch + sp->chunk - 1) / sp->chunk; }

// Zeroed and 64-byte aligned (the kernels' vector loads), or NULL.
static void *alloc_zero(size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 1))
    return NULL;
  memset(p, 0, bytes ? bytes : 1);
  return p;
}

// Fills err (which may be NULL) and returns its code.
__attribute__((format(printf, 3, 4)))
static int set_error(NetError *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

static int ok(NetError *err) {
  if (err) {
    err->code = NET_OK;
    err->message[0] = 0;
  }
  return NET_OK;
}

// Inside the step's parallel region: the weights' slices of 16 rows shared
// out among the threads (the MLP's 256 x 784 weight alone was 12% of a
// 2-thread inference step when one thread transposed it while the other
// waited); the barrier at the end of the loop keeps the chunks from
// reading S before it is written.
static void transpose_weights(GenModel *s) {
  const GenSpec *sp = s->spec;
  int total = 0;
  for (int i = 0; i < sp->n_transposes; i++)
    total += (sp->tensors[sp->transposes[i].tensor].dim[0] + 15) / 16;
  #pragma omp for schedule(static)
  for (int q = 0; q < total; q++) {
    int i = 0, sl = q;
    while (sl >= (sp->tensors[sp->transposes[i].tensor].dim[0] + 15) / 16)
      sl -= (sp->tensors[sp->transposes[i++].tensor].dim[0] + 15) / 16;
    const NetTensor *t = &sp->tensors[sp->transposes[i].tensor];
    int rows = t->dim[0], cols = (int)(t->numel / (size_t)t->dim[0]), r0 = sl * 16;
    kern_transpose_ld(s->m.params + t->offset + (size_t)r0 * cols, rows - r0 < 16 ? rows - r0 : 16, cols,
                      s->arena + sp->transposes[i].to + r0, rows);
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

// ---- Phased models (batch norm): every chunk keeps its own arena ----

static float *chunk_arena(const GenModel *s, int c) {
  return s->arena + s->spec->arena_threads + (size_t)c * s->spec->arena_chunk;
}

static int chunk_nc(const GenSpec *sp, int n, int c) {
  return n - c * sp->chunk < sp->chunk ? n - c * sp->chunk : sp->chunk;
}

// Combines the chunks' (mean, M2) per channel in chunk order (Chan, Golub
// and LeVeque's pairwise update, in double), writes the batch's (mean,
// 1/sqrt(var + eps)) back to every chunk and moves the running statistics:
// running = (1 - momentum) running + momentum stat, the variance unbiased.
static void reduce_bn_stats(GenModel *s, const GenReduce *r, int n, int nch) {
  const GenSpec *sp = s->spec;
  const int C = r->channels;
  float *rm = s->m.params + r->rm, *rv = s->m.params + r->rv;
  for (int c = 0; c < C; c++) {
    double cnt = 0, mean = 0, m2 = 0;
    for (int ch = 0; ch < nch; ch++) {
      const float *a = chunk_arena(s, ch) + r->at;
      double nb = (double)chunk_nc(sp, n, ch) * r->positions, d = a[c] - mean, tot = cnt + nb;
      mean += d * nb / tot;
      m2 += a[C + c] + d * d * cnt * nb / tot;
      cnt = tot;
    }
    double var = m2 / cnt;
    float fm = (float)mean, fi = (float)(1.0 / sqrt(var + (double)r->eps));
    for (int ch = 0; ch < nch; ch++) {
      float *a = chunk_arena(s, ch) + r->at;
      a[c] = fm;
      a[C + c] = fi;
    }
    double mom = r->momentum;
    rm[c] = (float)(mom * mean + (1.0 - mom) * rm[c]);
    rv[c] = (float)(mom * (cnt > 1 ? m2 / (cnt - 1) : var) + (1.0 - mom) * rv[c]);
  }
}

// Sums the chunks' (sum dy, sum (x - mean) dy) (doubles in the first half
// of the [4][C] buffer) in chunk order, then
// torch's backward coefficients: mean, k = dotp invstd^2 / M, grad_mean =
// sum / M, invstd w (evaluation: k and grad_mean 0), to every chunk.
static void reduce_bn_grad(GenModel *s, const GenReduce *r, int n, int nch, int train) {
  const int C = r->channels;
  const float *st = chunk_arena(s, 0) + r->stats_at, *w = s->m.params + r->w;
  double M = (double)n * r->positions;
  // All the sums first: the results overwrite the parts.
  double *sums = s->bn_sums;
  for (int c = 0; c < 2 * C; c++) {
    double v = 0;
    for (int ch = 0; ch < nch; ch++)
      v += ((const double *)(chunk_arena(s, ch) + r->at))[c];   // the chunk's parts, as doubles
    sums[c] = v;
  }
  for (int c = 0; c < C; c++) {
    double sum = sums[c], dotp = sums[C + c];
    double invstd = st[C + c];
    float v[4] = {st[c], train ? (float)(dotp * invstd * invstd / M) : 0.0f, train ? (float)(sum / M) : 0.0f,
                  (float)(invstd * w[c])};
    for (int ch = 0; ch < nch; ch++)
      for (int j = 0; j < 4; j++)
        chunk_arena(s, ch)[r->at + j * C + c] = v[j];
  }
}

static void run_reduce(GenModel *s, const GenReduce *r, int n, int nch, int train) {
  if (r->kind == GEN_REDUCE_BN_STATS && train)
    reduce_bn_stats(s, r, n, nch);
  else if (r->kind == GEN_REDUCE_BN_GRAD)
    reduce_bn_grad(s, r, n, nch, train);
}

// Chunk c's gradient block.  Chunk 0's is the model's grads, where the sum
// in chunk order starts and ends (run_batch): one pass fewer over the
// gradients than copying a block of the arena there first.
static float *chunk_grads(NetModel *m, int c) {
  const GenModel *s = m->impl;
  return c == 0 ? m->grads : s->arena + s->spec->arena_grads + (size_t)c * s->spec->n_trainable;
}

static GenChunk chunk_of(NetModel *m, int c, const float *x, const int32_t *labels, int n, uint64_t seed,
                         int train) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  return (GenChunk){
    .model = s, .P = m->params, .S = s->arena, .A = chunk_arena(s, c),
    .G = chunk_grads(m, c),
    .x = x, .labels = labels, .i0 = c * sp->chunk, .nc = chunk_nc(sp, n, c), .n = n,
    .seed = seed, .train = train, .R = s->rng + (size_t)c * sp->chunk,
  };
}

// The phases in order, each on every chunk then its reduction (one
// thread, after the barrier); the outputs after the forward phases.
static void run_phases(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed, int train,
                       float **outputs, int nch) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  // Evaluation: no phase needs another chunk (a batch norm reads its
  // running statistics, which the chunk's own code writes), so each chunk
  // runs every forward phase at once, in its thread's arena (the first
  // `threads` arenas): no barrier between the phases, and a chunk's values
  // are read back while they are still in cache instead of after every
  // other chunk ran the phase.  The same code on the same values: the
  // same results.
  if (!train) {
    #pragma omp for schedule(static)
    for (int c = 0; c < nch; c++) {
      GenChunk ch = chunk_of(m, c, x, labels, n, seed, train);
      ch.A = chunk_arena(s, omp_get_thread_num());
      for (int i = 0; i < ch.nc; i++)
        ch.R[i] = rng_stream(seed, (uint64_t)(c * sp->chunk + i));
      for (int p = 0; p < sp->n_phases && !sp->phases[p].backward; p++)
        if (sp->phases[p].run)
          sp->phases[p].run(&ch);
      s->loss[c] = chunk_outputs(sp, &ch, outputs);
    }
    return;
  }
  #pragma omp for schedule(static)
  for (int c = 0; c < nch; c++) {
    Rng *R = s->rng + (size_t)c * sp->chunk;
    for (int i = 0; i < chunk_nc(sp, n, c); i++)
      R[i] = rng_stream(seed, (uint64_t)(c * sp->chunk + i));
  }
  for (int p = 0; p < sp->n_phases; p++) {
    const GenPhase *ph = &sp->phases[p];
    if (ph->backward && !train)
      break;
    if (ph->backward && (p == 0 || !sp->phases[p - 1].backward)) {
      #pragma omp for schedule(static)
      for (int c = 0; c < nch; c++) {
        GenChunk ch = chunk_of(m, c, x, labels, n, seed, train);
        s->loss[c] = chunk_outputs(sp, &ch, outputs);
      }
    }
    if (ph->run) {
      #pragma omp for schedule(static)
      for (int c = 0; c < nch; c++) {
        GenChunk ch = chunk_of(m, c, x, labels, n, seed, train);
        ph->run(&ch);
      }
    }
    if (ph->reduce.kind != GEN_REDUCE_NONE) {
      #pragma omp single
      run_reduce(s, &ph->reduce, n, nch, train);
    }
  }
  // Without a backward phase run, the outputs are still to be read.
  int any_bwd = 0;
  for (int p = 0; p < sp->n_phases; p++)
    any_bwd |= sp->phases[p].backward;
  if (!train || !any_bwd) {
    #pragma omp for schedule(static)
    for (int c = 0; c < nch; c++) {
      GenChunk ch = chunk_of(m, c, x, labels, n, seed, train);
      s->loss[c] = chunk_outputs(sp, &ch, outputs);
    }
  }
}

// Each chunk's whole work, forward then backward, in its thread's arena.
static void run_chunks(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed, int train,
                       float **outputs, int nch) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  const int chunk = sp->chunk;
  #pragma omp for schedule(static)
  for (int c = 0; c < nch; c++) {
    GenChunk ch = {
      .model = s, .P = m->params, .S = s->arena,
      .A = s->arena + sp->arena_threads + (size_t)omp_get_thread_num() * sp->arena_chunk,
      .G = chunk_grads(m, c),
      .x = x, .labels = labels,
      .i0 = c * chunk, .nc = n - c * chunk < chunk ? n - c * chunk : chunk, .n = n,
      .seed = seed, .train = train,
    };
    sp->forward(&ch);
    s->loss[c] = chunk_outputs(sp, &ch, outputs);
    if (train && sp->backward)
      sp->backward(&ch);
  }
}

static double run_batch(NetModel *m, const float *x, const int32_t *labels, int n,
                        uint64_t seed, int train, float **outputs) {
  GenModel *s = m->impl;
  const GenSpec *sp = s->spec;
  if (n < 1 || n > sp->batch) {   // the driver never asks; genmodel_predict slices
    fprintf(stderr, "%s: batch of %d examples (1..%d supported)\n", sp->name, n, sp->batch);
    return NAN;
  }
  const int chunk = sp->chunk, nch = (n + chunk - 1) / chunk;
  const size_t ntr = sp->n_trainable;
  double *loss = s->loss;
  // One parallel region per step: the weight transposes, the chunks (or
  // their phases), then (after the implicit barrier) the chunk gradients
  // added in chunk order, so the sum does not depend on the threads.
  #pragma omp parallel num_threads(s->threads)
  {
    transpose_weights(s);
    if (sp->n_phases > 0)
      run_phases(m, x, labels, n, seed, train, outputs, nch);
    else
      run_chunks(m, x, labels, n, seed, train, outputs, nch);
    if (train) {
      // Onto chunk 0's block (the grads), in blocks of 1024 floats, a pass
      // per chunk: the same sum per element in the same order, but
      // contiguous (vectorised) where the loop over the chunks per element
      // was a scalar add of a strided load (14% of the MLP's training step).
      const float *G = s->arena + sp->arena_grads;
      const size_t blk = 1024, nblk = (ntr + blk - 1) / blk;
      float *dw = m->grads;
      #pragma omp for schedule(static)
      for (size_t b = 0; b < nblk; b++) {
        size_t j0 = b * blk, j1 = ntr - j0 < blk ? ntr : j0 + blk;
        for (int c = 1; c < nch; c++) {
          const float *Gc = G + (size_t)c * ntr;
          for (size_t j = j0; j < j1; j++)
            dw[j] += Gc[j];
        }
      }
    }
  }
  double total = 0.0;
  for (int c = 0; c < nch; c++)
    total += loss[c];
  return total / n;
}

static float genmodel_train_step(NetModel *m, const float *x, const int32_t *labels, int n,
                                 uint64_t seed) {
  return (float)run_batch(m, x, labels, n, seed, 1, NULL);
}

static float genmodel_forward(NetModel *m, const float *x, const int32_t *labels, int n,
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
  // Phased models keep every chunk's arena through the step.
  size_t arenas = sp->n_phases > 0 ? (size_t)nchunk(sp) : (size_t)threads;
  float *a = alloc_zero(sizeof(float) * (sp->arena_threads + arenas * sp->arena_chunk));
  if (!a) {   // out of memory: keep the arena and thread count there are
    if (s->arena)
      return;
    fprintf(stderr, "%s: out of memory\n", sp->name);
    exit(1);
  }
  free(s->arena);
  s->arena = a;
  s->threads = threads;
}

// A net run alone on its model's parameters (genmodel_run_net).
typedef struct GenNet {
  const GenSpec *spec;
  NetModel *m;
  struct GenNet *next;
} GenNet;

static void genmodel_free(NetModel *m) {
  if (!m)
    return;
  GenModel *s = m->impl;
  for (GenNet *n = s->nets, *next; n; n = next) {
    next = n->next;
    n->m->free(n->m);
    free(n);
  }
  free(s->arena);
  free(s->loss);
  free(s->rng);
  free(s->bn_sums);
  free(m->params);
  free(m->grads);
  free(s);
}

NetModel *genmodel_create(const GenSpec *sp, NetError *err) {
  GenModel *s = calloc(1, sizeof *s + sizeof(KernGemm) * (size_t)sp->n_gemm);
  if (!s) {
    set_error(err, NET_ERR_MEMORY, "%s: out of memory", sp->name);
    return NULL;
  }
  s->spec = sp;
  NetModel *m = &s->m;
  m->impl = s;
  m->free = genmodel_free;
  s->loss = alloc_zero(sizeof(double) * (size_t)nchunk(sp));
  m->params = alloc_zero(sizeof(float) * sp->n_params);
  m->grads = alloc_zero(sizeof(float) * sp->n_params);
  int bad = !s->loss || !m->params || !m->grads;
  if (sp->n_phases > 0) {
    s->rng = alloc_zero(sizeof(Rng) * (size_t)nchunk(sp) * (size_t)sp->chunk);
    int cmax = 1;
    for (int p = 0; p < sp->n_phases; p++)
      cmax = sp->phases[p].reduce.channels > cmax ? sp->phases[p].reduce.channels : cmax;
    s->bn_sums = alloc_zero(sizeof(double) * 2 * (size_t)cmax);
    bad |= !s->rng || !s->bn_sums;
  }
  // The arena for as many threads as OpenMP offers, or for one.
  int threads = omp_get_max_threads();
  threads = threads > nchunk(sp) ? nchunk(sp) : threads < 1 ? 1 : threads;
  size_t arenas = sp->n_phases > 0 ? (size_t)nchunk(sp) : (size_t)threads;
  s->arena = bad ? NULL : alloc_zero(sizeof(float) * (sp->arena_threads + arenas * sp->arena_chunk));
  if (!s->arena && !bad && sp->n_phases == 0 && threads > 1) {
    threads = 1;
    s->arena = alloc_zero(sizeof(float) * (sp->arena_threads + sp->arena_chunk));
  }
  if (bad || !s->arena) {
    genmodel_free(m);
    set_error(err, NET_ERR_MEMORY, "%s: out of memory", sp->name);
    return NULL;
  }
  s->threads = threads;
  m->name = sp->name;
  m->needs_labels = sp->needs_labels;
  m->input_size = sp->input_size;
  m->n_inputs = sp->n_inputs;
  m->input_rank = sp->input_rank;
  for (int i = 0; i < 3; i++)
    m->input_dim[i] = sp->input_dim[i];
  m->n_classes = sp->n_classes;
  m->inputs = sp->inputs;
  m->max_batch = sp->batch;
  m->n_tensors = sp->n_tensors;
  m->tensors = sp->tensors;
  m->n_params = sp->n_params;
  m->n_trainable = sp->n_trainable;
  m->n_outputs = sp->n_outputs;
  m->outputs = sp->outputs;
  m->class_output = sp->class_output;
  m->tensor_init = sp->tensor_init;
  m->tensor_buffer = sp->tensor_buffer;
  m->train_step = genmodel_train_step;
  m->forward = genmodel_forward;
  m->set_threads = genmodel_set_threads;
  m->structure_hash = model_hash_structure(m);
  libxsmm_init();
  for (int i = 0; i < sp->n_gemm; i++) {
    const GenGemm *g = &sp->gemm[i];
    kern_gemm_init(&s->k[i], g->what, g->m, g->n, g->k, g->lda, g->ldb, g->ldc, g->accumulate);
  }
  ok(err);
  return m;
}

NetModel *genmodel_new(const GenSpec *sp) {
  NetError err;
  NetModel *m = genmodel_create(sp, &err);
  if (!m) {
    fprintf(stderr, "%s\n", err.message);
    exit(1);
  }
  return m;
}

int genmodel_main(const GenSpec *spec, int argc, char **argv) {
  NetModel *m = genmodel_new(spec);
  int status = driver_main(m, argc, argv);
  m->free(m);
  return status;
}

// ---- The inference API ----

// m must be a generated model of spec (what MODEL_new or MODEL_open made).
static int check_model(const GenSpec *sp, const NetModel *m, NetError *err) {
  if (!m)
    return set_error(err, NET_ERR_ARGUMENT, "%s: no model (NULL)", sp->name);
  if (m->forward != genmodel_forward || ((const GenModel *)m->impl)->spec != sp)
    return set_error(err, NET_ERR_ARGUMENT, "%s: the model given is %s, not one made by %s_new or %s_open",
                     sp->name, m->name ? m->name : "(unnamed)", sp->name, sp->name);
  return NET_OK;
}

int genmodel_load(const GenSpec *sp, NetModel *m, const char *path, int subset, NetError *err) {
  int st = check_model(sp, m, err);
  if (st)
    return st;
  if (!path)
    return set_error(err, NET_ERR_ARGUMENT, "%s: no checkpoint path (NULL)", sp->name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return set_error(err, NET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  fclose(f);
  // ckpt.c writes into the parameter block as it reads: keep a copy to
  // restore, so a failed load leaves the model as it was.
  float *keep = malloc(sizeof(float) * (m->n_params ? m->n_params : 1));
  if (!keep)
    return set_error(err, NET_ERR_MEMORY, "%s: out of memory", sp->name);
  memcpy(keep, m->params, sizeof(float) * m->n_params);
  int r = subset ? ckpt_load_subset(path, m, "") : ckpt_load(path, m, NULL, NULL);
  if (r < 0) {
    memcpy(m->params, keep, sizeof(float) * m->n_params);
    free(keep);
    return set_error(err, NET_ERR_CHECKPOINT,
                     "%s: not a checkpoint of model %s (another model's tensors or shapes, or a damaged "
                     "file; ckpt.c's reason is on stderr)", path, sp->name);
  }
  free(keep);
  return ok(err);
}

int genmodel_predict(const GenSpec *sp, NetModel *m, const float *x, int n, float **outputs, NetError *err) {
  int st = check_model(sp, m, err);
  if (st)
    return st;
  if (n < 0)
    return set_error(err, NET_ERR_ARGUMENT, "%s: %d examples", sp->name, n);
  if (n > 0 && !x)
    return set_error(err, NET_ERR_ARGUMENT, "%s: no input (NULL)", sp->name);
  float *outs[sp->n_outputs > 0 ? sp->n_outputs : 1];
  for (int i0 = 0, slice = 0; i0 < n; i0 += sp->batch, slice++) {
    int nb = n - i0 < sp->batch ? n - i0 : sp->batch;
    for (int j = 0; j < sp->n_outputs; j++)
      outs[j] = outputs && outputs[j] ? outputs[j] + (size_t)i0 * sp->outputs[j].size : NULL;
    run_batch(m, x + (size_t)i0 * (size_t)sp->input_size, NULL, nb, (uint64_t)slice, 0, outs);
  }
  return ok(err);
}

int genmodel_classify(const GenSpec *sp, NetModel *m, const float *x, int n, int *classes, NetError *err) {
  int st = check_model(sp, m, err);
  if (st)
    return st;
  const int j = sp->class_output;
  if (j < 0)
    return set_error(err, NET_ERR_ARGUMENT, "%s: the model has no classification loss, so no classes",
                     sp->name);
  if (n < 0)
    return set_error(err, NET_ERR_ARGUMENT, "%s: %d examples", sp->name, n);
  if (n > 0 && (!x || !classes))
    return set_error(err, NET_ERR_ARGUMENT, "%s: no input or classes buffer (NULL)", sp->name);
  const size_t K = sp->outputs[j].size;
  // The scores of one slice at a time: at most one batch's memory.
  float *scores = malloc(sizeof(float) * K * (size_t)(n < sp->batch ? (n > 0 ? n : 1) : sp->batch));
  float *outs[sp->n_outputs];
  if (!scores)
    return set_error(err, NET_ERR_MEMORY, "%s: out of memory", sp->name);
  for (int k = 0; k < sp->n_outputs; k++)
    outs[k] = NULL;
  outs[j] = scores;
  // Slice by slice as genmodel_predict, with its seeds.
  for (int i0 = 0; i0 < n; i0 += sp->batch) {
    int nb = n - i0 < sp->batch ? n - i0 : sp->batch;
    run_batch(m, x + (size_t)i0 * (size_t)sp->input_size, NULL, nb, (uint64_t)(i0 / sp->batch), 0, outs);
    for (int i = 0; i < nb; i++) {
      const float *s = scores + (size_t)i * K;
      size_t best = 0;
      for (size_t k = 1; k < K; k++)
        if (s[k] > s[best])
          best = k;
      classes[i0 + i] = (int)best;
    }
  }
  free(scores);
  return ok(err);
}

int genmodel_run_net(const GenSpec *net, NetModel *model, const float *x, int n, float **outputs,
                     NetError *err) {
  if (!model || model->forward != genmodel_forward)
    return set_error(err, NET_ERR_ARGUMENT, "%s: the model given is not a generated model (NULL or "
                     "interpreted)", net->name);
  GenModel *s = model->impl;
  GenNet *g = s->nets;
  while (g && g->spec != net)
    g = g->next;
  if (!g) {
    // Every tensor of the net must be the model's, with the same size.
    for (int t = 0; t < net->n_tensors; t++) {
      int f = model_find_tensor(model, net->tensors[t].name);
      if (f < 0 || model->tensors[f].numel != net->tensors[t].numel)
        return set_error(err, NET_ERR_ARGUMENT, "%s: model %s has no tensor %s of %zu floats: not the "
                         "model this net belongs to", net->name, model->name, net->tensors[t].name,
                         net->tensors[t].numel);
    }
    g = calloc(1, sizeof *g);
    NetModel *m = g ? genmodel_create(net, err) : NULL;
    if (!m) {
      free(g);
      return set_error(err, NET_ERR_MEMORY, "%s: out of memory", net->name);
    }
    *g = (GenNet){net, m, s->nets};
    s->nets = g;
  }
  g->m->set_threads(g->m, s->threads);
  // The model's current parameters, every call: a load or a training step
  // in between is seen (a copy costs far less than the net's forward).
  for (int t = 0; t < net->n_tensors; t++) {
    const NetTensor *nt = &net->tensors[t];
    const NetTensor *mt = &model->tensors[model_find_tensor(model, nt->name)];
    memcpy(g->m->params + nt->offset, model->params + mt->offset, sizeof(float) * nt->numel);
  }
  return genmodel_predict(net, g->m, x, n, outputs, err);
}
