// ops.h — the table of per-op facts that every stage after the front end
// uses (QBE's ops.h idea): arity, shape rule, gradient rule, interpreter
// kernel, and a slot for the C emitter.  The op list itself is ops.def.
//
// Adding an op: a line in ops.def, a row in ops.c, its shape rule, its
// gradient rule (autodiff.c) if it can sit on a parameter's path, its
// interpreter kernel (interp_*.c), its emitter.
#ifndef NETC_OPS_H
#define NETC_OPS_H

#include "ir.h"

typedef struct AdState AdState;   // autodiff.c
typedef struct Interp Interp;     // interp.h
typedef struct Emitter Emitter;   // the C emitter's state (codegen)

// Output shape of n from its inputs' shapes and attributes.  Returns false
// and writes a reason into err (128 bytes) if the inputs do not fit.
typedef bool (*ShapeFn)(const Graph *g, const Node *n, Shape *out, char *err);

// Contribution of n's gradient dy to the gradient of input `which`, as a
// new node in g (not yet reduced to the input's shape: autodiff sums a
// broadcast scalar or a batched contribution to an unbatched input).
// Returns -1 when the op has no gradient with respect to that input.
typedef int (*GradFn)(AdState *ad, const Node *n, int which, int dy);

// Computes n's value for a batch: out has n->shape per example (times the
// batch when n->batched); in[j] is input j's value, batched or not as
// that input node says.
typedef void (*KernelFn)(Interp *ip, const Node *n, float *out, const float *const *in);

// Left for the emitter (codegen): how the op is written as C.
typedef void (*EmitFn)(Emitter *e, const Graph *g, const Node *n);

typedef struct {
  const char *name;
  int arity;                 // -1 = variadic
  ShapeFn shape;
  GradFn grad;               // NULL: no gradient through this op
  KernelFn kernel;
  EmitFn emit;               // filled in by codegen; NULL until then
} IrOpInfo;

extern const IrOpInfo op_info[OP_COUNT];

// Checks every node's arity and shape against its rule (a verification
// pass to run after lowering and after autodiff).  Prints the first
// problem to stderr and returns false.
bool ops_verify(const Graph *g);

#endif
