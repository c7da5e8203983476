// emit.c — the C emitter: `netc MODEL.net -o DIR` writes DIR/MODEL.h and
// DIR/MODEL.c, a NetModel (runtime/model.h) specialised to the model's
// shapes, for forward and backward.
//
// Execution model of the emitted code.  A batch of at most BATCH examples
// is cut into chunks of CHUNK examples; OpenMP threads take whole chunks
// (schedule(static)).  A chunk runs every op of the gradient graph in graph
// order on its CHUNK examples inside its thread's chunk arena, whose layout
// is the static memory plan (plan.c); the partial sums of the parameter
// gradients go to the chunk's own gradient block.  After the parallel loop
// the blocks are added up in chunk order, so results are the same whatever
// the number of threads or the schedule.  A last, smaller batch pads its
// last chunk with zero examples whose loss seed is 0: they contribute
// exactly nothing.  Every loop bound and offset is a literal.
//
// Kernels (runtime/xsmm/kernels.h): convolutions and transposed
// convolutions per image as im2col + one libxsmm GEMM with the bias +
// activation epilogue; dense layers as one GEMM per chunk; the backward
// ops of one layer run as one loop reading the ReLU-masked gradient.  Each
// op's code is written by its row's emitter (the op table, compiler/ops/*.c,
// with the helpers of emitter.h); this file writes the rest of the file and
// groups a layer's backward ops.
#include "emitter.h"
#include "netc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autodiff.h"
#include "emit_passes.h"
#include "ops.h"

#ifndef NETC_VERSION
#define NETC_VERSION "0.1.0"
#endif

void out(CEmit *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(e->out, fmt, ap);
  va_end(ap);
}

void fail(const Node *n, const char *msg) {
  diag_error_src(n->loc, "code generation: %s (op %s)", msg, ir_op_name(n->op));
  exit(1);
}

int gemm(CEmit *e, const char *what, int m, int n, int k, int lda, int ldb, int ldc, int acc) {
  for (int i = 0; i < e->ngemm; i++) {
    GemmDesc *d = &e->gemm[i];
    if (d->m == m && d->n == n && d->k == k && d->lda == lda && d->ldb == ldb &&
        d->ldc == ldc && d->acc == acc)
      return i;
  }
  e->gemm = xpush(e->gemm, e->ngemm, sizeof *e->gemm);
  e->gemm[e->ngemm] = (GemmDesc){m, n, k, lda, ldb, ldc, acc, what};
  return e->ngemm++;
}

// ---- Names -------------------------------------------------------------

static char *sanitize(const char *s) {
  char *r = strdup(s);
  for (char *p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      *p = '_';
  return r;
}

// Names come from the model: a parameter's name, "d_" + it for its
// gradient, "v_" + the node's own name (the prefix keeps names like x or n
// clear of the C code's own), else "t<id>" (forward) / "g<id>" (backward).
// A repeated name gets "_<id>".
static void name_nodes(CEmit *e) {
  const Graph *g = e->g;
  e->name = xcalloc(g->nnodes, sizeof(char *));
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    char buf[256];
    if (n->op == OP_PARAM)
      snprintf(buf, sizeof buf, "%s", g->params[n->param].name);
    else if (e->grad_of[i] >= 0)
      snprintf(buf, sizeof buf, "d_%s", g->params[e->grad_of[i]].name);
    else if (n->name)
      snprintf(buf, sizeof buf, "v_%s", n->name);
    else
      snprintf(buf, sizeof buf, "%c%d", i < g->nforward ? 't' : 'g', i);
    e->name[i] = sanitize(buf);
  }
  for (int i = 0; i < g->nnodes; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(e->name[i], e->name[j])) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s_%d", e->name[i], i);
        e->name[i] = strdup(buf);
        break;
      }
}

// ---- Operand access ----------------------------------------------------

const char *flit(char *buf, size_t cap, double v) {
  char num[40];
  snprintf(num, sizeof num, "%.9g", v);
  snprintf(buf, cap, "%s%sf", num, strpbrk(num, ".eEn") ? "" : ".0");
  return buf;
}

void operand(CEmit *e, char *buf, size_t cap, int id, bool batched_loop) {
  const Node *n = nd(e, id);
  if (n->op == OP_CONST) {
    flit(buf, cap, n->attr.scalar);
    return;
  }
  long ne = numel(e, id);
  const char *nm = root_name(e, id);
  if (n->batched && batched_loop)
    snprintf(buf, cap, ne == 1 ? "%s[i]" : "%s[i * %ld + k]", nm, ne);
  else
    snprintf(buf, cap, ne == 1 ? "%s[0]" : "%s[k]", nm);
}

// A scalar ([]) gets no element loop, an unbatched value no example loop;
// e->ew_indent is where the store's statement starts.
void open_loops(CEmit *e, int id) {
  const Node *n = nd(e, id);
  e->ew_indent = 2;
  if (n->batched) {
    out(e, "  for (int i = 0; i < CHUNK; i++)\n");
    e->ew_indent += 2;
  }
  if (numel(e, id) != 1) {
    out(e, "%*sfor (int k = 0; k < %ld; k++)\n", e->ew_indent, "", numel(e, id));
    e->ew_indent += 2;
  }
}

void store(CEmit *e, int id) {
  const Node *n = nd(e, id);
  long ne = numel(e, id);
  out(e, "%*s%s", e->ew_indent, "", e->name[id]);
  if (n->batched)
    out(e, ne == 1 ? "[i] = " : "[i * %ld + k] = ", ne);
  else
    out(e, ne == 1 ? "[0] = " : "[k] = ");
}

// ---- Layers' helpers -------------------------------------------------------

const char *act_name(int act) {
  static char buf[64];
  for (int op = 0; op < OP_COUNT; op++)
    if (act && op_def(op)->act == act) {
      snprintf(buf, sizeof buf, "KERN_ACT_");
      for (const char *p = op_def(op)->act_name; *p; p++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%c", *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
      return buf;
    }
  return "KERN_ACT_NONE";
}

static const char *act_op_name(int act) {
  for (int op = 0; op < OP_COUNT; op++)
    if (act && op_def(op)->act == act)
      return op_def(op)->act_name;
  return "none";
}

void need_param(const CEmit *e, const Node *n, int id) {
  if (nd(e, id)->op != OP_PARAM)
    fail(n, "a layer's weight must be a parameter");
}

// The backward ops of one layer (lead and the ops grouped with it): one
// loop over the examples reading dy, masked on the fly by the ReLU output;
// each member's own emitter writes its call inside (e->bwd_*).
static void emit_backward_group(CEmit *e, int lead) {
  const Graph *g = e->g;
  const Fusion *f = e->f;
  int dy = f->dy[lead], mask = f->mask[lead];
  int members[8], nm = 0;
  bool dense = false;
  for (int j = lead; j < g->nnodes && nm < 8; j++)
    if (f->live[j] && !f->skip[j] && f->lead[j] == lead) {
      members[nm++] = j;
      if (op_def(g->nodes[j].op)->flags & OPF_BWD_CHUNK)
        dense = true;
    }
  long dyn = numel(e, dy);
  for (int a = 0; a < nm; a++) {
    int j = members[a];
    if (!(op_def(g->nodes[j].op)->flags & OPF_BWD_OVERWRITE))
      out(e, "  memset(%s, 0, sizeof(float) * %ld);\n", e->name[j], numel(e, j));
  }
  e->bwd_lead = lead;
  e->bwd_dense = dense;
  if (dense) {
    // Dense: one GEMM per op over the whole chunk.
    if (mask >= 0) {
      out(e, "  const float *dy%d = kern_mask(%s, %s, CHUNK * %ld, MASK);\n", lead,
          root_name(e, dy), root_name(e, mask), dyn);
      if (dyn * e->chunk > e->maskbuf) e->maskbuf = dyn * e->chunk;
    } else {
      out(e, "  const float *dy%d = %s;\n", lead, root_name(e, dy));
    }
    for (int a = 0; a < nm; a++)
      op_def(g->nodes[members[a]].op)->emit(e, members[a]);
    return;
  }
  out(e, "  for (int i = 0; i < CHUNK; i++) {\n");
  if (mask >= 0) {
    out(e, "    const float *dy = kern_mask(%s + i * %ld, %s + i * %ld, %ld, MASK);\n",
        root_name(e, dy), dyn, root_name(e, mask), dyn, dyn);
    if (dyn > e->maskbuf) e->maskbuf = dyn;
  } else {
    out(e, "    const float *dy = %s + i * %ld;\n", root_name(e, dy), dyn);
  }
  for (int a = 0; a < nm; a++)
    op_def(g->nodes[members[a]].op)->emit(e, members[a]);
  out(e, "  }\n");
}

// ---- One node ---------------------------------------------------------------

static void emit_comment(CEmit *e, int id) {
  const Node *n = nd(e, id);
  char sh[64];
  out(e, "  /* ");
  if (n->loc.line)
    out(e, "%s:%d: ", n->loc.file, n->loc.line);
  out(e, "%s %s%s", ir_op_name(n->op), n->batched ? "" : "param ", shape_str(n->shape, sh));
  if (e->f->act[id])
    out(e, " + %s", act_op_name(e->f->act[id]));
  if ((op_def(n->op)->flags & OPF_LAYER_BWD) && e->f->mask[id] >= 0)
    out(e, ", relu mask folded");
  if ((n->op == OP_SIGMOID_GRAD || n->op == OP_LOG_SOFTMAX_GRAD) && e->f->skip[n->in[0]])
    out(e, ", %s folded", ir_op_name(nd(e, n->in[0])->op));
  out(e, " -> %s */\n", e->name[id]);
}

static void emit_node(CEmit *e, int id) {
  const Fusion *f = e->f;
  const Node *n = nd(e, id);
  if (f->skip[id])
    return;
  if (op_def(n->op)->flags & OPF_LAYER_BWD) {
    if (f->lead[id] != id)
      return;
    for (int j = id; j < e->g->nnodes; j++)
      if (f->live[j] && !f->skip[j] && f->lead[j] == id)
        emit_comment(e, j);
    emit_backward_group(e, id);
    return;
  }
  emit_comment(e, id);
  op_def(n->op)->emit(e, id);
}

// ---- Setup: parameters, gradient block, transposed weights --------------

static void layout_params(CEmit *e) {
  const Graph *g = e->g;
  e->poff = xcalloc(g->nparams, sizeof(long));
  e->wt = xcalloc(g->nparams, sizeof(long));
  e->grad_of = xcalloc(g->nnodes, sizeof(int));
  e->in_grad_block = xcalloc(g->nnodes, sizeof(bool));
  for (int i = 0; i < g->nnodes; i++)
    e->grad_of[i] = -1;
  long off = 0;
  for (int p = 0; p < g->nparams; p++) {
    e->poff[p] = off;
    off += (long)shape_numel(g->params[p].shape);
    if (!g->params[p].frozen)
      e->n_trainable = off;
    e->wt[p] = -1;
    if (!g->params[p].frozen && g->params[p].grad >= 0) {
      e->grad_of[g->params[p].grad] = p;
      e->in_grad_block[g->params[p].grad] = true;
    }
  }
  e->n_params = off;
  // Weights read transposed (OPF_WEIGHT_T): conv in dx, deconv and dense in forward.
  long s = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    if (!e->f->live[i] || e->f->skip[i])
      continue;
    if (op_def(n->op)->flags & OPF_WEIGHT_T) {
      need_param(e, n, n->in[1]);
      int p = nd(e, n->in[1])->param;
      if (e->wt[p] < 0) {
        e->wt[p] = s;
        s += ((long)shape_numel(g->params[p].shape) + 15) & ~15L;
      }
    }
  }
  e->shared = s;
}

// ---- Files ----------------------------------------------------------------

static void emit_header_comment(CEmit *e, const char *file) {
  const Graph *g = e->g;
  out(e, "// %s — generated by netc %s from %s (source hash %016llx).\n", file, NETC_VERSION,
      g->path, (unsigned long long)g->source_hash);
  out(e, "// Do not edit: regenerate with `netc %s -o DIR`%s.\n", g->path, e->opt.fuse ? "" : " --no-fuse");
}

static int write_h(CEmit *e, const char *dir) {
  const Graph *g = e->g;
  char path[4096], file[512];
  snprintf(file, sizeof file, "%s.h", g->model);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  e->out = fopen(path, "w");
  if (!e->out) {
    fprintf(stderr, "netc: error: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  emit_header_comment(e, file);
  char *up = sanitize(g->model);
  for (char *p = up; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p -= 32;
  out(e, "#ifndef NETC_GEN_%s_H\n#define NETC_GEN_%s_H\n\n#include \"model.h\"\n\n", up, up);
  out(e, "// The %s model for batches of at most %d examples.  Parameters start\n"
         "// at zero: model_init_params or a checkpoint fills them.\n", g->model, e->opt.batch);
  out(e, "NetModel *%s_new(void);\n\n#endif\n", g->model);
  return fclose(e->out) ? 1 : 0;
}

static void emit_tables(CEmit *e) {
  const Graph *g = e->g;
  out(e, "static NetTensor tensors[%d] = {\n", g->nparams > 0 ? g->nparams : 1);
  for (int p = 0; p < g->nparams; p++) {
    const Param *pr = &g->params[p];
    out(e, "  {\"%s\", %d, {", pr->name, pr->shape.rank);
    for (int d = 0; d < 4; d++)
      out(e, "%s%d", d ? ", " : "", d < pr->shape.rank ? pr->shape.dim[d] : 0);
    out(e, "}, %ld, %lld, %d, %d},\n", e->poff[p], (long long)shape_numel(pr->shape), pr->fan_in,
        pr->frozen ? 1 : 0);
  }
  out(e, "};\n\n");
  out(e, "static NetOutput outputs[%d] = {\n", g->nexports > 0 ? g->nexports : 1);
  for (int i = 0; i < g->nexports; i++)
    out(e, "  {\"%s\", %lld},\n", g->exports[i].name, (long long)shape_numel(nd(e, g->exports[i].node)->shape));
  out(e, "};\n\n");
}

static void emit_buffers(CEmit *e) {
  const Graph *g = e->g;
  char sh[64];
  out(e, "// Buffers: the chunk arena A (per thread; offsets from the memory plan),\n"
         "// parameters P, the chunk's gradient block G, transposed weights S.\n");
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    if (!e->f->live[i] || n->op == OP_CONST)
      continue;
    if (n->op == OP_PARAM) {
      out(e, "#define %s (P + %ld)   /* %s */\n", e->name[i], e->poff[n->param], shape_str(n->shape, sh));
    } else if (e->in_grad_block[i]) {
      out(e, "#define %s (G + %ld)   /* %s */\n", e->name[i], e->poff[e->grad_of[i]], shape_str(n->shape, sh));
    } else if (e->f->alias[i] >= 0) {
      out(e, "#define %s %s   /* %s, same buffer */\n", e->name[i], e->name[fuse_root(e->f, i)],
          shape_str(n->shape, sh));
    } else if (e->p->offset[i] >= 0) {
      out(e, "#define %s (A + %ld)   /* %s%s, steps %ld..%ld */\n", e->name[i], e->p->offset[i],
          n->batched ? "CHUNK x " : "", shape_str(n->shape, sh), e->p->first[i], e->p->last[i]);
    }
  }
  long at = e->p->arena;
  out(e, "#define COL (A + %ld)    /* im2col scratch, %ld floats */\n", at, e->col);
  at += (e->col + 15) & ~15L;
  out(e, "#define MASK (A + %ld)   /* masked gradient tile, %ld floats */\n", at, e->maskbuf);
  at += (e->maskbuf + 15) & ~15L;
  out(e, "#define DYT (A + %ld)    /* transposed gradient, %ld floats */\n\n", at, e->dyt);
}

static void emit_chunk_fn(CEmit *e) {
  const Graph *g = e->g;
  out(e, "// One chunk: examples [i0, i0 + nc) of a batch of n; returns the sum of\n"
         "// their losses; with train, G receives the chunk's gradient sums.\n");
  out(e, "static double chunk_run(Impl *s, float *A, float *G, const float *x, const uint8_t *labels,\n"
         "                        int i0, int nc, int n, uint64_t seed, int train, float **outputs) {\n");
  out(e, "  const float *P = s->m.params;\n  const float *S = s->arena;\n  Rng R[CHUNK];\n"
         "  for (int i = 0; i < nc; i++)\n    R[i] = rng_stream(seed, (uint64_t)(i0 + i));\n"
         "  (void)P, (void)S, (void)R, (void)G, (void)labels, (void)n, (void)x;\n\n");
  for (int i = 0; i < g->nforward; i++)
    emit_node(e, i);
  out(e, "\n  /* exports and the loss */\n  if (outputs) {\n");
  for (int j = 0; j < g->nexports; j++) {
    int id = g->exports[j].node;
    long ne = numel(e, id);
    out(e, "    if (outputs[%d])\n      memcpy(outputs[%d] + (size_t)i0 * %ld, %s, sizeof(float) * nc * %ld);\n",
        j, j, ne, e->name[id], ne);
  }
  out(e, "  }\n  double loss = 0.0;\n");
  if (g->loss >= 0)
    out(e, "  for (int i = 0; i < nc; i++)\n    loss += %s[i];\n", e->name[g->loss]);
  out(e, "  if (!train)\n    return loss;\n\n");
  for (int i = g->nforward; i < g->nnodes; i++)
    emit_node(e, i);
  out(e, "  return loss;\n}\n\n");
}

static void emit_step_fns(CEmit *e) {
  const Graph *g = e->g;
  out(e, "// Transposes of the weights that kernels read transposed (trap 3 of the\n"
         "// libxsmm notes: no transposed A), once per step.\n"
         "static void transpose_weights(Impl *s) {\n  const float *P = s->m.params;\n  float *S = s->arena;\n  (void)P, (void)S;\n");
  for (int p = 0; p < g->nparams; p++) {
    if (e->wt[p] < 0)
      continue;
    Shape sh = g->params[p].shape;
    long rows = sh.dim[0], cols = shape_numel(sh) / sh.dim[0];
    out(e, "  kern_transpose(%s, %ld, %ld, S + %ld);\n", e->name[g->params[p].node], rows, cols, e->wt[p]);
  }
  out(e, "}\n\n");
  out(e,
      "static double run_batch(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                        uint64_t seed, int train, float **outputs) {\n"
      "  Impl *s = m->impl;\n"
      "  if (n < 1 || n > BATCH) {\n"
      "    fprintf(stderr, \"%s: batch of %%d examples (1..%%d supported)\\n\", n, BATCH);\n"
      "    abort();\n  }\n"
      "  transpose_weights(s);\n"
      "  const int nch = (n + CHUNK - 1) / CHUNK;\n"
      "  double loss[NCHUNK];\n"
      "  // One parallel region per step: the chunks, then (after the implicit\n"
      "  // barrier) the chunk gradients added in chunk order, so the sum does\n"
      "  // not depend on the threads.\n"
      "  #pragma omp parallel num_threads(s->threads)\n"
      "  {\n"
      "    #pragma omp for schedule(static)\n"
      "    for (int c = 0; c < nch; c++) {\n"
      "      float *A = s->arena + ARENA_THREADS + (size_t)omp_get_thread_num() * ARENA_CHUNK;\n"
      "      float *G = s->arena + ARENA_GRADS + (size_t)c * N_TRAINABLE;\n"
      "      int nc = n - c * CHUNK < CHUNK ? n - c * CHUNK : CHUNK;\n"
      "      loss[c] = chunk_run(s, A, G, x, labels, c * CHUNK, nc, n, seed, train, outputs);\n"
      "    }\n"
      "    if (train) {\n"
      "      const float *G = s->arena + ARENA_GRADS;\n"
      "      #pragma omp for schedule(static)\n"
      "      for (size_t j = 0; j < N_TRAINABLE; j++) {\n"
      "        float v = G[j];\n"
      "        for (int c = 1; c < nch; c++)\n"
      "          v += G[(size_t)c * N_TRAINABLE + j];\n"
      "        m->grads[j] = v;\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "  double total = 0.0;\n"
      "  for (int c = 0; c < nch; c++)\n"
      "    total += loss[c];\n"
      "  return total / n;\n}\n\n",
      g->model);
  out(e,
      "static float model_train_step(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                              uint64_t seed) {\n"
      "  return (float)run_batch(m, x, labels, n, seed, 1, NULL);\n}\n\n"
      "static float model_forward(NetModel *m, const float *x, const uint8_t *labels, int n,\n"
      "                           uint64_t seed, float **outputs) {\n"
      "  return (float)run_batch(m, x, labels, n, seed, 0, outputs);\n}\n\n");
}

static void emit_lifecycle(CEmit *e) {
  const Graph *g = e->g;
  out(e,
      "static void *alloc_floats(size_t n) {\n"
      "  void *p = NULL;\n"
      "  if (posix_memalign(&p, 64, sizeof(float) * (n ? n : 1))) {\n"
      "    fprintf(stderr, \"%s: out of memory\\n\");\n    exit(1);\n  }\n"
      "  memset(p, 0, sizeof(float) * (n ? n : 1));\n  return p;\n}\n\n", g->model);
  out(e,
      "// The arena is sized for the thread count, so it is (re)allocated here,\n"
      "// never inside a step.\n"
      "static void model_set_threads(NetModel *m, int threads) {\n"
      "  Impl *s = m->impl;\n"
      "  if (threads < 1)\n    threads = 1;\n"
      "  if (threads > NCHUNK)\n    threads = NCHUNK;\n"
      "  if (s->arena && threads == s->threads)\n    return;\n"
      "  free(s->arena);\n"
      "  s->threads = threads;\n"
      "  s->arena = alloc_floats(ARENA_THREADS + (size_t)threads * ARENA_CHUNK);\n}\n\n"
      "static void model_free(NetModel *m) {\n"
      "  Impl *s = m->impl;\n"
      "  free(s->arena);\n  free(m->params);\n  free(m->grads);\n  free(s);\n}\n\n");
  out(e, "NetModel *%s_new(void) {\n", g->model);
  out(e,
      "  Impl *s = calloc(1, sizeof *s);\n"
      "  if (!s) {\n    fprintf(stderr, \"%s: out of memory\\n\");\n    exit(1);\n  }\n"
      "  NetModel *m = &s->m;\n"
      "  m->name = \"%s\";\n"
      "  m->needs_labels = %d;\n"
      "  m->input_size = %lld;\n"
      "  m->max_batch = BATCH;\n"
      "  m->n_tensors = %d;\n  m->tensors = tensors;\n"
      "  m->n_params = N_PARAMS;\n  m->n_trainable = N_TRAINABLE;\n"
      "  m->params = alloc_floats(N_PARAMS);\n  m->grads = alloc_floats(N_PARAMS);\n"
      "  m->n_outputs = %d;\n  m->outputs = outputs;\n"
      "  m->class_output = %d;\n"
      "  m->train_step = model_train_step;\n  m->forward = model_forward;\n"
      "  m->set_threads = model_set_threads;\n  m->free = model_free;\n  m->impl = s;\n"
      "  m->structure_hash = model_hash_structure(m);\n"
      "  libxsmm_init();\n",
      g->model, g->model, g->label >= 0, g->input >= 0 ? (long long)shape_numel(nd(e, g->input)->shape) : 0LL,
      g->nparams, g->nexports, ir_class_output(g));
  for (int i = 0; i < e->ngemm; i++) {
    GemmDesc *d = &e->gemm[i];
    out(e, "  kern_gemm_init(&s->k[%d], \"%s\", %d, %d, %d, %d, %d, %d, %d);\n", i, d->what, d->m,
        d->n, d->k, d->lda, d->ldb, d->ldc, d->acc);
  }
  out(e, "  model_set_threads(m, omp_get_max_threads());\n  return m;\n}\n\n");
  out(e, "#ifndef NETC_NO_MAIN\nint main(int argc, char **argv) {\n"
         "  NetModel *m = %s_new();\n  int status = driver_main(m, argc, argv);\n"
         "  m->free(m);\n  return status;\n}\n#endif\n", g->model);
}

static int write_c(CEmit *e, const char *dir) {
  const Graph *g = e->g;
  char path[4096], file[512];
  snprintf(file, sizeof file, "%s.c", g->model);
  snprintf(path, sizeof path, "%s/%s", dir, file);

  // The chunk function is generated first into memory: it decides the GEMM
  // kernels and scratch sizes that the file's preamble lists.
  char *body = NULL;
  size_t blen = 0;
  e->out = open_memstream(&body, &blen);
  emit_chunk_fn(e);
  emit_step_fns(e);
  emit_lifecycle(e);
  fclose(e->out);

  long chunk_arena = e->p->arena + ((e->col + 15) & ~15L) + ((e->maskbuf + 15) & ~15L) + ((e->dyt + 15) & ~15L);
  long grads = ((e->n_trainable + 15) & ~15L) * e->nchunk;
  e->out = fopen(path, "w");
  if (!e->out) {
    fprintf(stderr, "netc: error: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  emit_header_comment(e, file);
  out(e, "//\n// Batch %d in %d chunks of %d examples%s.  Parameters: %ld floats (%ld trainable).\n",
      e->opt.batch, e->nchunk, e->chunk, e->opt.fuse ? ", fused" : ", unfused (--no-fuse)",
      e->n_params, e->n_trainable);
  out(e, "// Memory plan: chunk arena %ld floats (%ld without sharing) + %ld scratch, per thread;\n"
         "// chunk gradient blocks %ld floats; transposed weights %ld floats.\n"
         "// Arena: %ld + threads x %ld floats (%.1f KiB with 2 threads).\n\n",
      e->p->arena, e->p->naive, chunk_arena - e->p->arena, grads, e->shared, e->shared + grads,
      chunk_arena, 4.0 * (e->shared + grads + 2 * chunk_arena) / 1024.0);
  out(e, "#include <math.h>\n#include <omp.h>\n#include <stdint.h>\n#include <stdio.h>\n"
         "#include <stdlib.h>\n#include <string.h>\n\n#include \"%s.h\"\n#include \"kernels.h\"\n"
         "#include \"model.h\"\n#include \"noise.h\"\n#include \"rng.h\"\n\n", g->model);
  out(e, "#define BATCH %d\n#define CHUNK %d\n#define NCHUNK %d\n#define N_PARAMS %ld\n"
         "#define N_TRAINABLE %ldu\n",
      e->opt.batch, e->chunk, e->nchunk, e->n_params, e->n_trainable);
  out(e, "#define ARENA_GRADS %ld\n#define ARENA_THREADS %ld\n#define ARENA_CHUNK %ld\n\n",
      e->shared, e->shared + grads, chunk_arena);
  emit_tables(e);
  out(e, "typedef struct {\n  NetModel m;\n  int threads;\n  float *arena;\n  KernGemm k[%d];\n} Impl;\n\n",
      e->ngemm > 0 ? e->ngemm : 1);
  emit_buffers(e);
  fwrite(body, 1, blen, e->out);
  free(body);
  return fclose(e->out) ? 1 : 0;
}

int emit_model(Graph *g, const char *outdir, const EmitOptions *opt) {
  CEmit e = {.g = g, .opt = *opt};
  bool has_backward = false;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_LOSS_SEED)
      has_backward = true;
  if (!has_backward && g->loss >= 0 && !autodiff(g))
    return 1;
  if (!ops_verify(g))
    return 1;
  if (e.opt.batch < 1) {
    fprintf(stderr, "netc: error: batch must be at least 1\n");
    return 2;
  }
  e.chunk = e.opt.chunk > 0 ? e.opt.chunk : 32;
  if (e.chunk > e.opt.batch)
    e.chunk = e.opt.batch;
  e.nchunk = (e.opt.batch + e.chunk - 1) / e.chunk;
  e.f = fuse_graph(g, e.opt.fuse);
  layout_params(&e);
  bool *pinned = xcalloc(g->nnodes, sizeof(bool));
  if (g->loss >= 0)
    pinned[g->loss] = true;
  for (int i = 0; i < g->nexports; i++)
    pinned[g->exports[i].node] = true;
  e.p = plan_memory(g, e.f, e.chunk, pinned, e.in_grad_block);
  name_nodes(&e);
  if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "netc: error: cannot create %s: %s\n", outdir, strerror(errno));
    return 1;
  }
  if (write_h(&e, outdir) || write_c(&e, outdir))
    return 1;
  return 0;
}

EmitOptions emit_options_default(void) {
  return (EmitOptions){.batch = 256, .chunk = 32, .fuse = true};
}
