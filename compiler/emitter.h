// emitter.h — the C emitter's state and the helpers the per-op emitters
// (each op's `emit` in its family file, compiler/ops/) write code with.
// The emitter itself (the file, the tables, the chunk function) is emit.c.
#ifndef NETC_EMITTER_H
#define NETC_EMITTER_H

#include <stdbool.h>
#include <stdio.h>

#include "emit.h"
#include "emit_passes.h"
#include "ops.h"

typedef struct {
  int m, n, k, lda, ldb, ldc, acc;
  const char *what;
} GemmDesc;

struct CEmit {
  FILE *out;
  const Graph *g;
  const Fusion *f;
  const Plan *p;
  EmitOptions opt;
  int chunk, nchunk;
  long *poff;                // per param: offset in the parameter block
  long n_params, n_trainable;
  int *grad_of;              // node -> trainable param whose gradient it is, or -1
  bool *in_grad_block;
  char **name;               // node -> C name of its buffer
  long *wt;                  // per param: offset of its transpose in S, or -1
  long shared;               // floats of S (transposed weights)
  long col, maskbuf, dyt;    // scratch sizes (floats) in the chunk arena
  long fold;                 // scratch FOLD: a convolution's weights and bias with a batch
                             // norm folded in (evaluation mode, Fusion.eval_bn); 0: none
  GemmDesc *gemm;            // the distinct GEMM shapes, dispatched once at init
  int ngemm;
  // While a layer's backward group is emitted (emit_backward_group): the
  // group's lead, and whether it runs per chunk (dense: one GEMM per op
  // over the chunk, reading dy<lead>) or per example (conv: inside one
  // loop over the examples, reading dy).
  int bwd_lead;
  bool bwd_dense;
  int ew_indent;             // open_loops: the element-wise statement's indentation
  // While an element-wise group is emitted (emit_ew_group): its lead, else
  // -1.  Its loops are open: open_loops opens none, store declares a local
  // for a value only the group reads (Fusion.local), operand names it.
  int ew_lead;
  // The model runs in phases (batch norm, emit.c): chunk functions take
  // the examples' streams from the chunk (c->R), kept across phases.
  bool phased;
  bool kinds;                // the file has tensor_init / tensor_buffer tables
};

void out(CEmit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline const Node *nd(const CEmit *e, int id) { return &e->g->nodes[id]; }
static inline long numel(const CEmit *e, int id) { return (long)shape_numel(nd(e, id)->shape); }
// The C name of the buffer holding node id's value: the root's, when id
// is an alias (a reshape, an activation folded into its layer), so call
// sites read v_encoder_conv1, not the alias t24.
static inline const char *root_name(const CEmit *e, int id) { return e->name[fuse_root(e->f, id)]; }
// A model error found while emitting: file:line:col and exit 1.
void fail(const Node *n, const char *msg) __attribute__((noreturn));
// A GEMM kernel index, dispatched once at init; equal shapes share one.
int gemm(CEmit *e, const char *what, int m, int n, int k, int lda, int ldb, int ldc, int acc);
// A float literal that reads back as v exactly ("0.5f", "2.0f", "1e-05f").
const char *flit(char *buf, size_t cap, double v);
// C expression for element (image i, element k) of node id as read by an
// element-wise op (scalars broadcast): X[i * numel + k], X[i], X[k], X[0],
// a literal, or inside an element-wise group a local's name.
void operand(CEmit *e, char *buf, size_t cap, int id, bool batched_loop);
// for-loops over the examples of the chunk (if the node is batched) and its
// elements (unless it is a scalar), then the store of the element:
// "X[i * n + k] = ", "X[i] = ", "X[k] = " or "X[0] = ".  Inside an
// element-wise group the loops are the group's, and a local is declared:
// "float X = ".
void open_loops(CEmit *e, int id);
void store(CEmit *e, int id);
// The KERN_ACT_* constant a layer's epilogue applies.
const char *act_name(int act);
// The act argument of layer id's kernel (KERN_ACT_NONE for an activation
// with a parameter), and the call that applies such an activation to the
// layer's chunk output after the kernel (nothing for the others).
const char *layer_act(const CEmit *e, int id);
void layer_act_alpha(CEmit *e, int id);
// A layer's weight read transposed must be a parameter (its transpose is
// made once per step).
void need_param(const CEmit *e, const Node *n, int id);
// batch_norm_dx node id's value for example i (the loop variable of the
// code around) into dst, [C][P] floats: a layer's backward group reads it
// as its dy when fuse.c folded the batch norm's input gradient into the
// group (ops/modes.c).  Lines indented by ind spaces.
void bn_dx_example(CEmit *e, int id, const char *dst, int ind);
// Whether layer op id runs its chunk's images in one GEMM (ops/conv.c);
// its backward group then runs per chunk, as a dense layer's.
bool conv_chunked(const CEmit *e, int id);
// Whether a convolution layer runs as a direct convolution (no im2col,
// and its weights read as stored: no transposed copy).
bool conv_direct(const CEmit *e, int id);

// The inference API (emit_api.c): declarations at the end of MODEL.h, the
// functions at the end of MODEL.c (after the spec).
void emit_api_h(CEmit *e);
void emit_api_c(CEmit *e);

#endif
