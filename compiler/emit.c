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
// exactly nothing.  Every loop bound and offset is a literal.  The batch
// loop, the reduction and the model's lifecycle are the same for every
// model and live in the runtime (runtime/genmodel.c); a generated file
// holds the tensor table, the memory plan, the two chunk functions and the
// GenSpec that ties them together.
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
#include "../runtime/xsmm/kernels_act.h"

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
// A node that only reinterprets another's buffer (a reshape, an activation
// folded into its layer) is called by that buffer's name, so the code
// reads the layer's name, not an alias.  Among the nodes that own their
// buffer, a repeated name gets "_<id>".
static bool aliased(const CEmit *e, int id) {
  return e->f->alias[id] >= 0 && nd(e, id)->op != OP_PARAM && !e->in_grad_block[id];
}

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
  for (int i = 0; i < g->nnodes; i++) {
    if (aliased(e, i))
      continue;
    for (int j = 0; j < i; j++)
      if (!aliased(e, j) && !strcmp(e->name[i], e->name[j])) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s_%d", e->name[i], i);
        e->name[i] = strdup(buf);
        break;
      }
  }
  for (int i = 0; i < g->nnodes; i++)
    if (aliased(e, i))
      e->name[i] = e->name[fuse_root(e->f, i)];
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
  if (e->ew_lead >= 0 && e->f->local[id])
    snprintf(buf, cap, "%s", nm);
  else if (n->batched && batched_loop)
    snprintf(buf, cap, ne == 1 ? "%s[i]" : "%s[i * %ld + k]", nm, ne);
  else
    snprintf(buf, cap, ne == 1 ? "%s[0]" : "%s[k]", nm);
}

// A scalar ([]) gets no element loop, an unbatched value no example loop;
// e->ew_indent is where the store's statement starts.
void open_loops(CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (e->ew_lead >= 0)
    return;                  // the group's loops (emit_ew_group)
  e->ew_indent = 2;
  if (n->batched) {
    out(e, "  for (int i = 0; i < nc; i++)\n");
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
  if (e->ew_lead >= 0 && e->f->local[id]) {
    out(e, "%*sfloat %s = ", e->ew_indent, "", e->name[id]);
    return;
  }
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

// The activation node folded into layer id's epilogue (fuse.c), or -1.
static int act_node(const CEmit *e, int id) {
  for (int i = id + 1; i < e->g->nnodes; i++)
    if (e->f->alias[i] == id && e->f->skip[i] && op_def(nd(e, i)->op)->act)
      return i;
  return -1;
}

const char *layer_act(const CEmit *e, int id) {
  int act = e->f->act[id];
  return KERN_ACT_HAS_ALPHA(act) ? "KERN_ACT_NONE" : act_name(act);
}

void layer_act_alpha(CEmit *e, int id) {
  int act = e->f->act[id], a = act_node(e, id);
  char lit[48];
  if (!KERN_ACT_HAS_ALPHA(act) || a < 0)
    return;
  out(e, "  kern_act_alpha(%s, nc * %ld, %s, %s);\n", e->name[id], numel(e, id), act_name(act),
      flit(lit, sizeof lit, nd(e, a)->attr.alpha));
}

void need_param(const CEmit *e, const Node *n, int id) {
  if (nd(e, id)->op != OP_PARAM)
    fail(n, "a layer's weight must be a parameter");
}

// Whether the gradient folded into a backward group is that of an
// activation with a parameter (leaky_relu, elu: y is its output); then
// args gets kern_mask_alpha's last two arguments ("KERN_ACT_ELU, 1.0f").
static bool mask_alpha(const CEmit *e, int y, char *args) {
  const Node *n = nd(e, y);
  int act = op_def(n->op)->act;
  char lit[48];
  if (!KERN_ACT_HAS_ALPHA(act))
    return false;
  snprintf(args, 112, "%s, %s", act_name(act), flit(lit, sizeof lit, n->attr.alpha));
  return true;
}

// The backward ops of one layer (lead and the ops grouped with it): one
// loop over the examples reading dy, masked on the fly by the ReLU output;
// each member's own emitter writes its call inside (e->bwd_*).
static void emit_backward_group(CEmit *e, int lead) {
  const Graph *g = e->g;
  const Fusion *f = e->f;
  int dy = f->dy[lead], mask = f->mask[lead];
  int members[8], nm = 0;
  char alpha[112];
  bool dense = false;
  for (int j = lead; j < g->nnodes && nm < 8; j++)
    if (f->live[j] && !f->skip[j] && f->lead[j] == lead) {
      members[nm++] = j;
      if ((op_def(g->nodes[j].op)->flags & OPF_BWD_CHUNK) || conv_chunked(e, j))
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
    if (mask >= 0 && mask_alpha(e, mask, alpha)) {
      out(e, "  const float *dy%d = kern_mask_alpha(%s, %s, nc * %ld, MASK, %s);\n", lead,
          root_name(e, dy), root_name(e, mask), dyn, alpha);
      if (dyn * e->chunk > e->maskbuf) e->maskbuf = dyn * e->chunk;
    } else if (mask >= 0) {
      out(e, "  const float *dy%d = kern_mask(%s, %s, nc * %ld, MASK);\n", lead,
          root_name(e, dy), root_name(e, mask), dyn);
      if (dyn * e->chunk > e->maskbuf) e->maskbuf = dyn * e->chunk;
    } else if (nd(e, dy)->op == OP_BATCH_NORM_DX && f->skip[dy]) {
      // Folded (fuse_bn_dx): the chunk's examples into MASK, the padding 0.
      out(e, "  for (int i = 0; i < nc; i++) {\n");
      char dst[64];
      snprintf(dst, sizeof dst, "(MASK + i * %ld)", dyn);
      bn_dx_example(e, dy, dst, 4);
      out(e, "  }\n  if (nc < CHUNK)\n    memset(MASK + nc * %ld, 0, sizeof(float) * (CHUNK - nc) * %ld);\n", dyn, dyn);
      out(e, "  const float *dy%d = MASK;\n", lead);
      if (dyn * e->chunk > e->maskbuf) e->maskbuf = dyn * e->chunk;
    } else {
      out(e, "  const float *dy%d = %s;\n", lead, root_name(e, dy));
    }
    for (int a = 0; a < nm; a++)
      op_def(g->nodes[members[a]].op)->emit(e, members[a]);
    return;
  }
  out(e, "  for (int i = 0; i < nc; i++) {\n");
  if (mask >= 0 && mask_alpha(e, mask, alpha)) {
    out(e, "    const float *dy = kern_mask_alpha(%s + i * %ld, %s + i * %ld, %ld, MASK, %s);\n",
        root_name(e, dy), dyn, root_name(e, mask), dyn, dyn, alpha);
    if (dyn > e->maskbuf) e->maskbuf = dyn;
  } else if (mask >= 0) {
    out(e, "    const float *dy = kern_mask(%s + i * %ld, %s + i * %ld, %ld, MASK);\n",
        root_name(e, dy), dyn, root_name(e, mask), dyn, dyn);
    if (dyn > e->maskbuf) e->maskbuf = dyn;
  } else if (nd(e, dy)->op == OP_BATCH_NORM_DX && f->skip[dy]) {
    bn_dx_example(e, dy, "MASK", 4);   // folded (fuse_bn_dx)
    out(e, "    const float *dy = MASK;\n");
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
    out(e, ", %s mask folded", op_def(nd(e, e->f->mask[id])->op)->act_name);
  if (e->f->fold[id] >= 0)
    out(e, ", %s folded", ir_op_name(nd(e, e->f->fold[id])->op));
  out(e, " -> %s */\n", e->name[id]);
}

// A run of element-wise ops (fuse.c, group_elementwise): their comments,
// then one loop nest (the members' batching and size, braced) in which
// each member's own emitter writes one statement, in graph order.  The
// members are the emitted ops from lead up to the first that is not one.
static int ew_group_end(const CEmit *e, int lead) {
  int j = lead + 1;
  while (j < e->g->nnodes && (e->f->skip[j] || e->f->lead[j] == lead))
    j++;
  return j;
}

static void emit_ew_group(CEmit *e, int lead) {
  const Node *n = nd(e, lead);
  long ne = numel(e, lead);
  int end = ew_group_end(e, lead);
  for (int j = lead; j < end; j++)
    if (!e->f->skip[j])
      emit_comment(e, j);
  int ind = 2;
  if (n->batched) {
    out(e, "  for (int i = 0; i < nc; i++)%s\n", ne == 1 ? " {" : "");
    ind += 2;
  }
  if (ne != 1) {
    out(e, "%*sfor (int k = 0; k < %ld; k++) {\n", ind, "", ne);
    ind += 2;
  } else if (!n->batched) {
    out(e, "  {\n");
    ind += 2;
  }
  e->ew_lead = lead;
  e->ew_indent = ind;
  for (int j = lead; j < end; j++)
    if (!e->f->skip[j])
      op_def(nd(e, j)->op)->emit(e, j);
  e->ew_lead = -1;
  out(e, "%*s}\n", ind - 2, "");
}

static void emit_node(CEmit *e, int id) {
  const Fusion *f = e->f;
  const Node *n = nd(e, id);
  if (f->skip[id])
    return;
  if ((op_def(n->op)->flags & OPF_EW) && f->lead[id] >= 0) {
    if (f->lead[id] == id)
      emit_ew_group(e, id);
    return;
  }
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
  // Weights read transposed (OPF_WEIGHT_T): conv in dx, deconv and dense in
  // forward; a direct convolution reads them as stored.
  long s = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    if (!e->f->live[i] || e->f->skip[i] || conv_direct(e, i))
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
  out(e, "// Do not edit: regenerate with `netc %s%s%s -o DIR`%s.\n", g->path,
      e->opt.net ? " --net " : "", e->opt.net ? e->opt.net : "", e->opt.fuse ? "" : " --no-fuse");
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
  out(e, "NetModel *%s_new(void);\n\n", g->model);
  emit_api_h(e);
  out(e, "#endif\n");
  return fclose(e->out) ? 1 : 0;
}

static void emit_tables(CEmit *e) {
  const Graph *g = e->g;
  out(e, "// The parameter block (runtime/model.h): name, rank, dims, offset, floats,\n"
         "// fan-in, frozen.  Trainable tensors first.\n");
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
  out(e, "// The exports: name, floats per example, per-example shape.\n");
  out(e, "static NetOutput outputs[%d] = {\n", g->nexports > 0 ? g->nexports : 1);
  for (int i = 0; i < g->nexports; i++) {
    Shape s = nd(e, g->exports[i].node)->shape;
    out(e, "  {\"%s\", %lld, %d, {", g->exports[i].name, (long long)shape_numel(s), s.rank);
    for (int d = 0; d < 4; d++)
      out(e, "%s%d", d ? ", " : "", d < s.rank ? s.dim[d] : 0);
    out(e, "}},\n");
  }
  out(e, "};\n\n");
}

// Where node id's define points: 'P' (parameters), 'G' (the chunk's
// gradient block), 'A' (the chunk arena), or 0 if it has no define of its
// own (consts, dead values, aliases: those use their root's name).
static char buffer_base(const CEmit *e, int id) {
  const Node *n = nd(e, id);
  if (!e->f->live[id] || n->op == OP_CONST)
    return 0;
  if (n->op == OP_PARAM)
    return 'P';
  if (e->in_grad_block[id])
    return 'G';
  if (aliased(e, id) || e->p->offset[id] < 0)
    return 0;
  return 'A';
}

// Scratch of the chunk arena, after the values of the memory plan.
static long col_at(const CEmit *e) { return e->p->arena; }
static long mask_at(const CEmit *e) { return col_at(e) + ((e->col + 15) & ~15L); }
static long dyt_at(const CEmit *e) { return mask_at(e) + ((e->maskbuf + 15) & ~15L); }
static long fold_at(const CEmit *e) { return dyt_at(e) + ((e->dyt + 15) & ~15L); }
static long chunk_arena(const CEmit *e) { return fold_at(e) + ((e->fold + 15) & ~15L); }
static long grad_blocks(const CEmit *e) { return ((e->n_trainable + 15) & ~15L) * e->nchunk; }

static void emit_buffers(CEmit *e) {
  const Graph *g = e->g;
  char sh[64];
  out(e, "// Buffers: the chunk arena A (per thread; offsets from the memory plan),\n"
         "// parameters P, the chunk's gradient block G, transposed weights S.\n");
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = nd(e, i);
    switch (buffer_base(e, i)) {
    case 'P':
      out(e, "#define %s (P + %ld)   /* %s */\n", e->name[i], e->poff[n->param], shape_str(n->shape, sh));
      break;
    case 'G':
      out(e, "#define %s (G + %ld)   /* %s */\n", e->name[i], e->poff[e->grad_of[i]], shape_str(n->shape, sh));
      break;
    case 'A':
      out(e, "#define %s (A + %ld)   /* %s%s, steps %ld..%ld */\n", e->name[i], e->p->offset[i],
          n->batched ? "CHUNK x " : "", shape_str(n->shape, sh), e->p->first[i], e->p->last[i]);
      break;
    }
  }
  out(e, "#define COL (A + %ld)    /* im2col scratch, %ld floats */\n", col_at(e), e->col);
  out(e, "#define MASK (A + %ld)   /* masked gradient tile, %ld floats */\n", mask_at(e), e->maskbuf);
  out(e, "#define DYT (A + %ld)    /* transposed gradient, %ld floats */\n", dyt_at(e), e->dyt);
  if (e->fold > 0)
    out(e, "#define FOLD (A + %ld)   /* batch norm folded into a convolution (evaluation), %ld floats */\n",
        fold_at(e), e->fold);
  out(e, "\n");
}

static bool ident_char(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Whether C text uses the identifier id: outside comments, string and
// character literals and numbers, and not as a member name (x.id, x->id).
static bool uses_ident(const char *t, const char *id) {
  size_t len = strlen(id);
  bool member = false;   // the last token was . or ->
  while (*t) {
    if (t[0] == '/' && t[1] == '*') {
      const char *end = strstr(t + 2, "*/");
      t = end ? end + 2 : t + strlen(t);
    } else if (t[0] == '/' && t[1] == '/') {
      t += strcspn(t, "\n");
    } else if (*t == '"' || *t == '\'') {
      char q = *t++;
      while (*t && *t != q)
        t += t[0] == '\\' && t[1] ? 2 : 1;
      t += *t != 0;
    } else if (*t >= '0' && *t <= '9') {   // a number: 32, 0.5f, 1e-05f
      while (ident_char(*t) || *t == '.')
        t++;
      member = false;
    } else if (ident_char(*t)) {
      const char *s = t;
      while (ident_char(*t))
        t++;
      if (!member && (size_t)(t - s) == len && !memcmp(s, id, len))
        return true;
      member = false;
    } else if (*t == '.' || (t[0] == '-' && t[1] == '>')) {
      t += *t == '.' ? 1 : 2;
      member = true;
    } else {
      if (*t != ' ' && *t != '\n')
        member = false;
      t++;
    }
  }
  return false;
}

// Whether the code uses a define whose buffer is in base.
static bool uses_base(const CEmit *e, const char *body, char base) {
  char b[2] = {base, 0};
  if (uses_ident(body, b))
    return true;
  if (base == 'A' && (uses_ident(body, "COL") || uses_ident(body, "MASK") || uses_ident(body, "DYT") ||
                      uses_ident(body, "FOLD")))
    return true;
  for (int i = 0; i < e->g->nnodes; i++)
    if (buffer_base(e, i) == base && uses_ident(body, e->name[i]))
      return true;
  return false;
}

// One chunk function: the ops [from, to) in graph order after a prologue
// that takes from the GenChunk only what they use.  What they use is read
// off the emitted text, so the per-op emitters need not declare which of
// x, labels, nc, R, ... they touch, and the C compiler sees no unused
// variable.  Returns false (and emits nothing) if no op has code.
static bool emit_chunk_fn(CEmit *e, const char *fn, int from, int to, const char *doc) {
  FILE *file = e->out;
  char *body = NULL;
  size_t len = 0;
  e->out = open_memstream(&body, &len);
  for (int i = from; i < to; i++)
    emit_node(e, i);
  fclose(e->out);
  e->out = file;
  if (len == 0) {
    free(body);
    return false;
  }
  out(e, "%sstatic void %s(const GenChunk *c) {\n", doc, fn);
  if (uses_ident(body, "s"))
    out(e, "  const GenModel *s = c->model;\n");
  if (uses_base(e, body, 'P'))
    out(e, "  const float *P = c->P;\n");
  if (uses_ident(body, "S"))
    out(e, "  const float *S = c->S;\n");
  if (uses_base(e, body, 'A'))
    out(e, "  float *A = c->A;\n");
  if (uses_base(e, body, 'G'))
    out(e, "  float *G = c->G;\n");
  if (uses_ident(body, "x"))
    out(e, "  const float *x = c->x;\n");
  if (uses_ident(body, "labels"))
    out(e, "  const int32_t *labels = c->labels;\n");
  static const char *ints[] = {"i0", "nc", "n"};
  for (int i = 0; i < 3; i++)
    if (uses_ident(body, ints[i]))
      out(e, "  const int %s = c->%s;\n", ints[i], ints[i]);
  if (uses_ident(body, "train"))
    out(e, "  const int train = c->train;\n");
  if (uses_ident(body, "seed"))
    out(e, "  const uint64_t seed = c->seed;\n");
  if (uses_ident(body, "R") && e->phased)
    out(e, "  Rng *R = c->R;   /* the runtime set them up; phases continue them */\n");
  else if (uses_ident(body, "R"))
    out(e, "  Rng R[CHUNK];\n  for (int i = 0; i < c->nc; i++)\n"
           "    R[i] = rng_stream(c->seed, (uint64_t)(c->i0 + i));\n");
  out(e, "\n");
  fwrite(body, 1, len, e->out);
  free(body);
  out(e, "}\n\n");
  return true;
}

// Chunk-arena offset of the buffer holding node id, which must be a value
// computed per example (an export or the loss).
static long arena_at(const CEmit *e, int id, const char *what) {
  int r = fuse_root(e->f, id);
  if (!nd(e, r)->batched || e->p->offset[r] < 0)
    fail(nd(e, id), what);
  return e->p->offset[r];
}

// ---- Phases (batch norm) ----
//
// A node whose value needs the whole batch (bn_stats, bn_grad_stats) ends
// a phase: its code computes the chunk's part, then the runtime combines
// the chunks' parts (GenReduce) before any chunk runs the next phase.  A
// model without such a node has no phases and the code of before.

static bool is_barrier(const CEmit *e, int i) {
  OpKind op = nd(e, i)->op;
  return (op == OP_BN_STATS || op == OP_BN_GRAD_STATS) && e->f->live[i] && !e->f->skip[i];
}

static bool has_barrier(const CEmit *e) {
  for (int i = 0; i < e->g->nnodes; i++)
    if (is_barrier(e, i))
      return true;
  return false;
}

// The reduction after barrier node i, as a GenReduce initialiser.
static void emit_reduce(CEmit *e, int i) {
  const Node *n = nd(e, i);
  char a[64], b[64];
  if (n->op == OP_BN_STATS) {
    Shape xs = nd(e, n->in[0])->shape;
    out(e, "{.kind = GEN_REDUCE_BN_STATS, .at = %ld, .channels = %d, .positions = %lld, .rm = %ld, .rv = %ld, "
           ".momentum = %s, .eps = %s}",
        e->p->offset[i], xs.dim[0], (long long)(shape_numel(xs) / xs.dim[0]), e->poff[nd(e, n->in[1])->param],
        e->poff[nd(e, n->in[2])->param], flit(a, sizeof a, n->attr.momentum), flit(b, sizeof b, n->attr.eps));
  } else {
    Shape xs = nd(e, n->in[1])->shape;
    out(e, "{.kind = GEN_REDUCE_BN_GRAD, .at = %ld, .channels = %d, .positions = %lld, .stats_at = %ld, .w = %ld}",
        e->p->offset[i], xs.dim[0], (long long)(shape_numel(xs) / xs.dim[0]), e->p->offset[fuse_root(e->f, n->in[2])],
        e->poff[nd(e, n->in[3])->param]);
  }
}

// The phase functions of [from, to) cut after each barrier, and their rows
// of the phases table (written to rf).  Returns the number of phases.
static int emit_phase_fns(CEmit *e, int from, int to, bool backward, FILE *rf) {
  int k = 0, start = from;
  for (int i = from; i < to; i++) {
    bool cut = is_barrier(e, i);
    if (!cut && i != to - 1)
      continue;
    char fn[64];
    snprintf(fn, sizeof fn, "%s_phase%d", backward ? "backward" : "forward", k);
    bool has = emit_chunk_fn(e, fn, start, i + 1,
                             cut ? "// One phase of the chunk work: up to a value of the whole batch, whose\n"
                                   "// chunk part it leaves for the runtime to combine (phases[]).\n"
                                 : "// The last phase of the chunk work.\n");
    if (!has && !cut) {
      start = i + 1;
      continue;
    }
    FILE *keep = e->out;
    e->out = rf;
    out(e, "  {%s, %d, ", has ? fn : "NULL", backward);
    if (cut)
      emit_reduce(e, i);
    else
      out(e, "{.kind = GEN_REDUCE_NONE}");
    out(e, "},\n");
    e->out = keep;
    k++;
    start = i + 1;
  }
  return k;
}

// Every phase, forward then backward, and the table the spec points at.
static int emit_phases(CEmit *e, bool *backward) {
  const Graph *g = e->g;
  char *rows = NULL;
  size_t rlen = 0;
  FILE *rf = open_memstream(&rows, &rlen);
  int n = emit_phase_fns(e, 0, g->nforward, false, rf);
  int nb = emit_phase_fns(e, g->nforward, g->nnodes, true, rf);
  fclose(rf);
  *backward = nb > 0;
  out(e, "// The chunk work in phases (runtime/genmodel.h): function, backward, then\n"
         "// the reduction over the batch that the next phase needs.\n"
         "static const GenPhase phases[%d] = {\n", n + nb);
  fwrite(rows, 1, rlen, e->out);
  free(rows);
  out(e, "};\n\n");
  return n + nb;
}

// Per tensor, how model_init_params fills it and whether it is a buffer
// (runtime/model.h); only for models that have such tensors.
static bool emit_tensor_kinds(CEmit *e) {
  const Graph *g = e->g;
  bool any = false;
  for (int p = 0; p < g->nparams; p++)
    any |= g->params[p].init != PARAM_INIT_DEFAULT || g->params[p].buffer;
  if (!any)
    return false;
  out(e, "// Per tensor: NET_INIT_* (0 default, 1 ones, 2 zeros), and 1 for a buffer.\n"
         "static const uint8_t tensor_init[%d] = {", g->nparams);
  for (int p = 0; p < g->nparams; p++)
    out(e, "%s%d", p ? ", " : "", g->params[p].init);
  out(e, "};\nstatic const uint8_t tensor_buffer[%d] = {", g->nparams);
  for (int p = 0; p < g->nparams; p++)
    out(e, "%s%d", p ? ", " : "", g->params[p].buffer ? 1 : 0);
  out(e, "};\n\n");
  return true;
}

// The GenSpec (runtime/genmodel.h) that makes the chunk functions a
// NetModel: tables, memory plan sizes, GEMMs, transposes.
static void emit_spec(CEmit *e, bool backward, int nphases) {
  const Graph *g = e->g;
  if (g->nexports > 0) {
    out(e, "// Where each export is in the chunk arena.\nstatic const size_t output_at[%d] = {\n",
        g->nexports);
    for (int i = 0; i < g->nexports; i++) {
      int id = g->exports[i].node;
      out(e, "  %ld,   /* %s: %s */\n", arena_at(e, id, "an export must be computed per example"),
          g->exports[i].name, e->name[id]);
    }
    out(e, "};\n\n");
  }
  if (e->ngemm > 0) {
    out(e, "// The GEMMs of s->k[], dispatched once: m, n, k, lda, ldb, ldc, accumulate.\n"
           "static const GenGemm gemm[%d] = {\n", e->ngemm);
    for (int i = 0; i < e->ngemm; i++) {
      GemmDesc *d = &e->gemm[i];
      out(e, "  {\"%s\", %d, %d, %d, %d, %d, %d, %d},\n", d->what, d->m, d->n, d->k, d->lda, d->ldb,
          d->ldc, d->acc);
    }
    out(e, "};\n\n");
  }
  int ntr = 0;
  for (int p = 0; p < g->nparams; p++)
    ntr += e->wt[p] >= 0;
  if (ntr > 0) {
    out(e, "// Weights the kernels read transposed (libxsmm's GEMM has no transposed\n"
           "// A): tensor, offset in S; refreshed before every step.\n"
           "static const GenTranspose transposes[%d] = {\n", ntr);
    for (int p = 0; p < g->nparams; p++)
      if (e->wt[p] >= 0)
        out(e, "  {%d, %ld},   /* %s */\n", p, e->wt[p], g->params[p].name);
    out(e, "};\n\n");
  }
  // Several tensor inputs: their names and shapes, in the order of the
  // batch rows (runtime/model.h), which the data loader checks.
  long in_size = 0;
  for (int j = 0; j < g->ninputs; j++)
    for (int i = 0; i < g->nnodes; i++)
      if (g->nodes[i].op == OP_INPUT && g->nodes[i].attr.index == j)
        in_size += (long)shape_numel(g->nodes[i].shape);
  if (g->ninputs > 1) {
    out(e, "static const NetOutput inputs[%d] = {\n", g->ninputs);
    for (int j = 0; j < g->ninputs; j++)
      for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_INPUT || n->attr.index != j)
          continue;
        out(e, "  {\"%s\", %lld, %d, {", n->name ? n->name : "", (long long)shape_numel(n->shape), n->shape.rank);
        for (int k = 0; k < n->shape.rank; k++)
          out(e, "%s%d", k ? ", " : "", n->shape.dim[k]);
        out(e, "}},\n");
      }
    out(e, "};\n\n");
  }
  out(e, "static const GenSpec spec = {\n");
  out(e, "  .name = \"%s\",\n  .batch = %d,\n  .chunk = CHUNK,\n", g->model, e->opt.batch);
  out(e, "  .input_size = %ld,\n  .needs_labels = %d,\n", in_size, g->label >= 0);
  out(e, "  .n_tensors = %d,\n  .tensors = tensors,\n  .n_params = %ld,\n  .n_trainable = %ld,\n",
      g->nparams, e->n_params, e->n_trainable);
  out(e, "  .n_outputs = %d,\n  .outputs = outputs,\n  .output_at = %s,\n  .class_output = %d,\n",
      g->nexports, g->nexports > 0 ? "output_at" : "NULL", ir_class_output(g));
  if (g->loss >= 0)
    out(e, "  .loss_at = %ld,   /* %s */\n", arena_at(e, g->loss, "the loss must be computed per example"),
        e->name[g->loss]);
  else
    out(e, "  .loss_at = -1,   /* no loss */\n");
  out(e, "  .arena_grads = %ld,\n  .arena_threads = %ld,\n  .arena_chunk = %ld,\n", e->shared,
      e->shared + grad_blocks(e), chunk_arena(e));
  out(e, "  .n_gemm = %d,\n  .gemm = %s,\n", e->ngemm, e->ngemm > 0 ? "gemm" : "NULL");
  out(e, "  .n_transposes = %d,\n  .transposes = %s,\n", ntr, ntr > 0 ? "transposes" : "NULL");
  if (nphases > 0)
    out(e, "  .forward = NULL,\n  .backward = NULL,\n  .n_phases = %d,\n  .phases = phases,\n", nphases);
  else
    out(e, "  .forward = forward_chunk,\n  .backward = %s,\n", backward ? "backward_chunk" : "NULL");
  if (e->kinds)
    out(e, "  .tensor_init = tensor_init,\n  .tensor_buffer = tensor_buffer,\n");
  // The inputs' shapes and the label's classes, which the data loader checks.
  Shape in = g->input >= 0 ? nd(e, g->input)->shape : shape_scalar();
  out(e, "  .n_inputs = %d,\n  .input_rank = %d,\n  .input_dim = {", g->ninputs, in.rank);
  for (int i = 0; i < in.rank && i < 3; i++)
    out(e, "%s%d", i ? ", " : "", in.dim[i]);
  out(e, "},\n  .n_classes = %d,\n", g->n_classes);
  if (g->ninputs > 1)
    out(e, "  .inputs = inputs,\n");
  out(e, "};\n\n");
}

static void emit_lifecycle(CEmit *e) {
  const Graph *g = e->g;
  out(e, "NetModel *%s_new(void) {\n  return genmodel_new(&spec);\n}\n\n", g->model);
  out(e, "#ifndef NETC_NO_MAIN\nint main(int argc, char **argv) {\n"
         "  return genmodel_main(&spec, argc, argv);\n}\n#endif\n");
}

static int write_c(CEmit *e, const char *dir) {
  const Graph *g = e->g;
  char path[4096], file[512];
  snprintf(file, sizeof file, "%s.c", g->model);
  snprintf(path, sizeof path, "%s/%s", dir, file);

  // The chunk functions are generated first into memory: they decide the
  // GEMM kernels and scratch sizes that the file's preamble lists.
  char *body = NULL;
  size_t blen = 0;
  e->out = open_memstream(&body, &blen);
  bool backward;
  int nphases = 0;
  if (e->phased) {
    nphases = emit_phases(e, &backward);
  } else {
    emit_chunk_fn(e, "forward_chunk", 0, g->nforward,
                  "// The forward ops on one chunk: the exports and the per-example loss\n"
                  "// land in the chunk arena (output_at, loss_at of the spec).\n");
    backward = emit_chunk_fn(e, "backward_chunk", g->nforward, g->nnodes,
                             "// The backward ops on one chunk, after forward_chunk: G receives\n"
                             "// the chunk's sums of the parameter gradients.\n");
  }
  e->kinds = emit_tensor_kinds(e);
  emit_spec(e, backward, nphases);
  emit_lifecycle(e);
  emit_api_c(e);
  fclose(e->out);

  long arena = chunk_arena(e), grads = grad_blocks(e);
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
         "// Arena: %ld + threads x %ld floats (%.1f KiB with 2 threads).\n",
      e->p->arena, e->p->naive, arena - e->p->arena, grads, e->shared, e->shared + grads,
      arena, 4.0 * (e->shared + grads + 2 * arena) / 1024.0);
  if (e->phased)
    out(e, "// Batch norm: the chunk work runs in phases, and every chunk keeps its own\n"
           "// arena through the step: %ld + %d chunks x %ld floats.\n", e->shared + grads, e->nchunk, arena);
  out(e, "// The batch loop, threads and allocation are the runtime's (genmodel.h).\n\n");
  out(e, "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n#include \"%s.h\"\n"
         "#include \"genmodel.h\"\n#include \"kernels.h\"\n#include \"noise.h\"\n#include \"rng.h\"\n\n",
      g->model);
  out(e, "#define CHUNK %d\n\n", e->chunk);
  emit_tables(e);
  emit_buffers(e);
  fwrite(body, 1, blen, e->out);
  free(body);
  return fclose(e->out) ? 1 : 0;
}

int emit_model(Graph *g, const char *outdir, const EmitOptions *opt) {
  CEmit e = {.g = g, .opt = *opt, .ew_lead = -1};
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
  e.phased = has_barrier(&e);
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
