// ops.h — the op table: every op described once (QBE's ops.h idea).
//
// The op list is ops.def (X-macro); each op's row is an OpDef defined in
// the file of its family (compiler/ops/*.c) and collected by
// compiler/ops/table.c.  A row holds everything a stage needs to know about
// the op: its surface forms in the language and their attribute schema,
// its one shape rule, its gradient rule, its interpreter kernel, its C
// emitter, and the flags the stages read instead of switching on op kinds.
// Stages keep their algorithms and read the row.
//
// Adding an op: a line in ops.def, a row (and its functions) in the family
// file, the runtime kernel the emitted code calls, tests, docs.  netc checks
// at start that every row is complete (ops_check_table).
#ifndef NETC_OPS_H
#define NETC_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

typedef struct AdState AdState;   // autodiff.c
typedef struct CEmit CEmit;       // emitter.h

// ---- Surface forms and attributes ----

// A_PAIR_POS / A_PAIR_NONNEG: an int or a pair [h, w] (PyTorch's
// int-or-tuple), stored at offset (h) and offset2 (w).  A_BOOL: the
// identifier true or false, stored as an int 1 / 0.
typedef enum { A_INT_POS, A_INT_NONNEG, A_REAL, A_DIMS, A_PAIR_POS, A_PAIR_NONNEG, A_BOOL } AttrType;

// One attribute: its name, type, whether it must be given, its default,
// and where it lives in Attrs (an int for A_INT_* and A_BOOL, a float for
// A_REAL, two ints at offset and offset2 for A_PAIR_*; an A_DIMS attribute
// is the node's shape, not stored in Attrs).
typedef struct {
  const char *name;
  AttrType type;
  bool required;
  double dflt;
  size_t offset;
  size_t offset2;            // A_PAIR_*: where the second (width) value lives
} AttrSpec;

#define ATTR_REQ(name, type, field) {name, type, true, 0, offsetof(Attrs, field), 0}
#define ATTR_OPT(name, type, dflt, field) {name, type, false, dflt, offsetof(Attrs, field), 0}
#define ATTR_DIMS {"dims", A_DIMS, true, 0, 0, 0}
#define ATTR_PAIR_REQ(name, type, f1, f2) {name, type, true, 0, offsetof(Attrs, f1), offsetof(Attrs, f2)}
#define ATTR_PAIR_OPT(name, type, dflt, f1, f2) {name, type, false, dflt, offsetof(Attrs, f1), offsetof(Attrs, f2)}

#define MAX_ATTRS 8

// One builtin of the language: `flatten` and `reshape` are two forms of
// OP_RESHAPE.  Attributes are taken positionally (after the tensor
// inputs) or by name.
typedef struct OpInfo {
  const char *name;
  OpKind ir;
  int ninputs;               // tensor operands in expression form: 0 to IR_MAX_IN (OPF_VARIADIC: 2 to ninputs)
  bool chain;                // usable in a net line (the running value is input 0)
  int nattrs;
  AttrSpec attrs[MAX_ATTRS];
} OpInfo;

// ---- The shape rule ----

// What a shape rule sees, and where it reports.  The checker passes the
// data inputs' shapes (a layer's weight and bias do not exist yet: the rule
// derives them into param[]) and reports at the op's file:line:col with a
// caret; ops_verify passes every input's shape (the rule then also checks
// the weight and bias) and gets the reason as a string.
typedef struct ShapeCx ShapeCx;
struct ShapeCx {
  const char *op;            // the name the user wrote ("flatten") or the IR name
  const Shape *in;
  int nin;
  const Attrs *attr;
  Shape self;                // the node's own shape: leaves, reshape/normal dims, backward results
  Shape param[2];            // out: a layer's weight and bias shapes
  void (*report)(ShapeCx *cx, const char *msg);
  void *user;                // the reporter's state
};

// Output shape from the inputs' shapes and the attributes; on a mismatch
// reports (shape_error) and returns false.
typedef bool (*ShapeFn)(ShapeCx *cx, Shape *out);

bool shape_error(ShapeCx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Dimensions and element counts must fit an int (the IR's Shape).
#define MAX_NUMEL 2147483647
// Classes of a label (label(K), or the [K] a classification loss reads):
// labels are int32 in the data and the trainers, but the label node holds
// them as float values, which are exact integers up to 2^24.  The runtime
// and the data readers use the same bound (runtime/model.h NET_MAX_CLASSES).
#define MAX_CLASSES (1 << 24)
// s has at most MAX_NUMEL elements; else reports "WHAT [..] is too large".
bool shape_fits(ShapeCx *cx, Shape s, const char *what);
// A classification loss (nll, cross_entropy): SCORES [K] over K >= 2
// classes and the label, which the checker passes as a scalar (it checks
// the label input and K itself, by OPF_CLASS_LOSS) -> [].
bool shape_class_loss(ShapeCx *cx, Shape *out, const char *scores);

// ---- The interpreter's view ----

// What an interpreter kernel sees of a step.  The interpreter (interp/)
// fills it; GEMMs, random draws and the noise model come through its
// function pointers so the kernels, which live with their op's other rules
// in the compiler, need no BLAS and no runtime library.
typedef struct Interp Interp;
struct Interp {
  Graph *g;
  int n;                     // examples in the current step
  const float *x;            // [n, every tensor input's numel, in declaration order]
  const int32_t *labels;     // [n], NULL when the graph reads no label
  // Test hook: when draws && draws[id], random node id takes its values
  // from draws[id] ([n, numel]) instead of the streams: the samples for
  // NORMAL, the added noise for NOISE.  Lets PyTorch fixtures supply the
  // randomness.
  const float *const *draws;
  // C[m, n] = op(A) op(B) + beta C, row-major, op = transpose when ta / tb
  // (cblas_sgemm with alpha 1).
  void (*sgemm)(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc);
  // The next standard normal of example i's stream.
  double (*normal)(Interp *ip, int i);
  // x[0..m) += noise as the runtime's noise_apply draws it, from example i's stream.
  void (*noise)(Interp *ip, int i, float *x, int m, const Attrs *a);
  // When set, tensor input j (OP_INPUT with attr.index j) reads inputs[j],
  // [n, its numel]; else x feeds input 0 (a net run alone, interp_run_net).
  const float *const *inputs;
  // The mode of the step: training (dropout draws masks) or evaluation
  // (dropout is the identity).  interp_new starts in training mode.
  bool train;
  // The next uniform float in [0, 1) of example i's stream (rng_uniformf).
  float (*uniform)(Interp *ip, int i);
};

// Computes n's value for a batch: out has n->shape per example (times the
// batch when n->batched); in[j] is input j's value, batched or not as
// that input node says.
typedef void (*KernelFn)(Interp *ip, const Node *n, float *out, const float *const *in);
// A kernel's buffer of floats (malloc; exits when memory runs out).
void *interp_alloc(size_t floats);
// Examples a node's value holds: the batch, or 1 when unbatched.
static inline int interp_rows(const Interp *ip, const Node *n) { return n->batched ? ip->n : 1; }

// ---- Gradient rule and emitter ----

// Contribution of n's gradient dy to the gradient of input `which`, as a
// new node in g (not yet reduced to the input's shape: autodiff sums a
// broadcast scalar or a batched contribution to an unbatched input).
// Returns -1 when the op has no gradient with respect to that input.
typedef int (*GradFn)(AdState *ad, const Node *n, int which, int dy);

// Writes node id's C code into the chunk function (emitter.h).
typedef void (*EmitFn)(CEmit *e, int id);

// ---- The row ----

enum {
  OPF_UNBATCHED = 1 << 0,    // one value for the whole batch whatever its inputs
  OPF_LAYER = 1 << 1,        // (x, w, b) with parameters: only in nets; auto-named
  OPF_LAYER_BWD = 1 << 2,    // a layer's backward op: emitted in one loop with its layer's others
  OPF_ALIAS = 1 << 3,        // its value is its input's buffer: no code (reshape)
  OPF_NOCODE = 1 << 4,       // read in place (param) or as a literal (const): no code
  OPF_WEIGHT_T = 1 << 5,     // the emitted kernel reads its weight (input 1) transposed
  OPF_BWD_CHUNK = 1 << 6,    // OPF_LAYER_BWD, one GEMM over the whole chunk (dense): its
                             // group runs per chunk, not in a loop over the examples
  OPF_BWD_OVERWRITE = 1 << 7, // OPF_LAYER_BWD that writes its output (an input gradient, dense_dw),
                             // where the others accumulate into a zeroed one
  // Element-wise: one expression per element, written through open_loops /
  // store / operand (emitter.h), so fuse.c may run a chain of them in one loop.
  OPF_EW = 1 << 8,
  // OPF_EW whose expression ends in a multiplication (mul, a * b * (1 - b)):
  // an add / sub reading it in the same loop would be contracted into an FMA.
  OPF_EW_PRODUCT = 1 << 9,
  // OPF_EW whose value is its input's up to the sign (neg, broadcast): a
  // product stays an FMA candidate through it (-(a * b) + c).
  OPF_EW_PASS = 1 << 10,
  // A classification loss (nll, cross_entropy): input 0 holds K class
  // scores whose argmax is the prediction, input 1 is the model's label, a
  // class index into input 0's last dimension.  The checker infers or
  // checks label(K) by it; the driver reports accuracy from the export
  // feeding input 0 (ir_class_output).
  OPF_CLASS_LOSS = 1 << 11,
  // Takes 2 to `arity` inputs (concat), in the IR and in its surface form.
  OPF_VARIADIC = 1 << 12,
  // Its value is a constant to autodiff: no gradient flows through it to
  // its inputs (batch norm's statistics: the consumer's rule accounts for
  // them).
  OPF_NO_GRAD = 1 << 13,
};

typedef struct OpDef {
  const char *name;          // the IR name ("conv2d_dx")
  int arity;                 // tensor inputs in the IR
  unsigned flags;            // OPF_*
  const char *prefix;        // OPF_LAYER: auto-name of the n-th layer in a net ("conv" -> conv1)
  int act;                   // an activation a layer's epilogue can apply: KERN_ACT_*, 0 if not
  const char *act_name;      // its name in the generated comments ("relu")
  OpInfo surface[2];         // language forms (name NULL when absent; backward ops have none)
  ShapeFn shape;
  GradFn grad;               // NULL: no gradient through this op
  KernelFn kernel;
  EmitFn emit;
  void (*print_attrs)(FILE *out, const Node *n);   // NULL: no attributes in dumps
  double (*fold)(double);    // the op of a constant, folded by the checker (exp, log); NULL: an error
  unsigned ew_addsub;        // OPF_EW: bit j set when the expression adds or subtracts input j
                             // (x + y, 1 - y): with a product there it would become an FMA
} OpDef;

extern const OpDef *const op_table[OP_COUNT];
static inline const OpDef *op_def(OpKind op) { return op_table[op]; }

// The builtin spelled name, or NULL.
const OpInfo *op_lookup(const char *name);
// Calls fn on every builtin (for "did you mean" hints).
void op_each_builtin(void (*fn)(const OpInfo *o, void *user), void *user);

// Every row present and complete (name, shape rule, kernel, emitter, a
// surface form's attributes well-formed, flags consistent).  Prints the
// first problem and returns false: netc runs it at start.
bool ops_check_table(void);

// Node n's shape by its row's rule from its inputs in g; false with the
// reason in err (256 bytes) when they do not fit.
bool op_node_shape(const Graph *g, const Node *n, Shape *out, char *err);

// Checks every node's arity, shape and batching against its row (a
// verification pass to run after lowering and after autodiff).  Reports
// the first problem at the node's source line and returns false.
bool ops_verify(const Graph *g);

#endif
