// ir.h — the graph that every stage after the front end works on.
//
// A Graph is a list of Nodes in topological order (a node's inputs always
// have smaller ids).  Tensors are per example: the batch dimension is
// implicit.  A node is either `batched` (one value per example: inputs,
// activations, per-example losses) or not (parameters, their gradients,
// the batch loss).  Every node keeps the source location it came from so
// that any stage can point at the .net line.
//
// The op set is listed once, in ops.def (X-macro); the op table (ops.h,
// compiler/ops/) holds each op's row of facts (surface forms, shape rule,
// gradient rule, interpreter kernel, emitter, flags) that all stages use.
#ifndef NETC_IR_H
#define NETC_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define IR_MAX_RANK 4
#define IR_MAX_IN 4

typedef struct {
  int rank;                  // 0 for a scalar
  int dim[IR_MAX_RANK];
} Shape;

typedef struct {
  const char *file;          // path as given on the command line
  int line, col;             // 1-based; 0 when synthesised
} SrcLoc;

typedef enum {
#define OP(id) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

// Attributes; which ones an op uses is said in ops.def and its row.
typedef struct {
  int k, stride, pad, outpad;  // conv2d / deconv2d
  int out;                     // output channels / units
  float scalar;                // CONST value
  float mean, mean_std;        // NOISE: mu ~ N(mean, mean_std^2) per example,
  float std, std_std;          //        sigma = |N(std, std_std^2)|
  // conv2d / deconv2d beyond the square case.  k, stride, pad, outpad are
  // the height's; these are the width's, and 0 means "as the height's" (so
  // graphs built by hand with k, stride, pad stay square).
  int kw, stridew, padw, outpadw;
  int dil, dilw;               // dilation, height and width (0: 1)
  int groups;                  // channel groups (0: 1)
  int bias;                    // bias=true/false as written; in the graph a layer
                               // without bias has 2 inputs
  float alpha;                 // leaky_relu's slope, elu's alpha, smooth_l1's beta, huber's delta
  int index;                   // INPUT: which of the model's tensor inputs (0, 1, ...)
  int start;                   // SLICE: first row of dy's first axis
  float p;                     // DROPOUT, DROPOUT_MASK: the probability of zeroing an element
  float momentum, eps;         // BATCH_NORM and its nodes: running-statistics momentum, variance epsilon
} Attrs;

typedef struct {
  int id;
  OpKind op;
  int nin;
  int in[IR_MAX_IN];         // ids of input nodes
  Shape shape;               // per-example shape (or full shape when !batched)
  bool batched;
  Attrs attr;
  int param;                 // OP_PARAM: index into Graph.params; else -1
  const char *name;          // a readable name ("encoder_trunk_conv1"), may be NULL
  SrcLoc loc;
} Node;

typedef struct {
  const char *name;          // "encoder_trunk_conv1_w"
  Shape shape;               // PyTorch layout: conv [out,in,k,k], deconv [in,out,k,k], dense [out,in]
  bool frozen;               // in a `freeze`d net: no gradient, no optimiser state
  int fan_in;                // for PyTorch's default initialisation
  int node;                  // the OP_PARAM node that reads it
  int grad;                  // node holding its gradient after autodiff; -1 before or if frozen
  int init;                  // PARAM_INIT_*: PyTorch's default for the layer kind
  bool buffer;               // a buffer (batch norm's running statistics): frozen, written by
                             // training steps, not a parameter (netc summary lists it apart)
} Param;

enum { PARAM_INIT_DEFAULT, PARAM_INIT_ONES, PARAM_INIT_ZEROS };   // Param.init, NetTensor.init

typedef struct {
  const char *name;          // "code"
  int node;
} Export;

typedef struct {
  const char *model;         // model name ("autoencoder")
  const char *path;          // model file as given
  uint64_t source_hash;      // FNV-1a of the model text and its imports
  Node *nodes; int nnodes;
  Param *params; int nparams;
  Export *exports; int nexports;
  int input;                 // the first OP_INPUT node (the image), -1 if none
  int label;                 // OP_LABEL node, -1 if none
  int loss;                  // per-example scalar loss node, -1 if none
  int nforward;              // nodes [0, nforward) are the forward pass
  int batch;                 // the model's `batch` constant (default 256, -D batch=N)
  int ninputs;               // OP_INPUT nodes (tensor inputs); `input` is the first
  int n_classes;             // K of the label input (label(K), or the [K] nll reads); 0 without
} Graph;

Graph *ir_new(const char *model, const char *path);
int ir_add(Graph *g, OpKind op, const int *in, int nin, Shape shape, bool batched, SrcLoc loc);
int ir_add_param(Graph *g, const char *name, Shape shape, bool frozen, int fan_in, SrcLoc loc);
void ir_export(Graph *g, const char *name, int node);
// The export that a classification loss (nll, cross_entropy: OPF_CLASS_LOSS)
// reads (its argmax is the predicted digit), or -1.
int ir_class_output(const Graph *g);
const char *ir_op_name(OpKind op);
int64_t shape_numel(Shape s);
bool shape_eq(Shape a, Shape b);
Shape shape_make(int rank, const int *dim);
Shape shape_scalar(void);
// "[8, 14, 14]"; buf must hold 64 bytes.
char *shape_str(Shape s, char *buf);
// One node per line: "%12 = conv2d(%3, %10, %11) k=3 s=2 p=1 : [8, 14, 14]  # models/autoencoder.net:10"
void ir_print(FILE *out, const Graph *g);

#endif
