// model.h — the interface between a model and the runtime's training driver.
//
// A model is either interpreted (`netc run`) or generated (`train-NAME`);
// both fill in a NetModel and hand it to driver_main() (driver.h), so every trainer
// speaks the same command line and writes the same logs and checkpoints.
//
// Memory: all parameters live in one float block, trainable tensors first
// (so an optimiser makes one pass over [0, n_trainable)), frozen after.
// Gradients live in a second block of the same layout.
#ifndef NETRT_MODEL_H
#define NETRT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define NET_MAX_RANK 4
// Labels are int32 from the data to the generated code; a model has at
// most 2^24 classes (labels 0 .. 2^24 - 1), the integers a float holds
// exactly, as the label node carries them (netc's label(K) bound,
// compiler/ops.h MAX_CLASSES).
#define NET_MAX_CLASSES (1 << 24)

typedef struct {
  const char *name;          // "encoder_trunk_conv1_w"
  int rank;
  int dim[NET_MAX_RANK];     // PyTorch layout
  size_t offset;             // into the parameter / gradient blocks, in floats
  size_t numel;
  int fan_in;                // for PyTorch's default initialisation
  int frozen;
} NetTensor;

// NetModel.tensor_init: PyTorch's default for weights and biases, or a
// constant (batch norm: weight and running variance 1, bias and running
// mean 0).
enum { NET_INIT_DEFAULT, NET_INIT_ONES, NET_INIT_ZEROS };

typedef struct {
  const char *name;          // "code", "y"
  size_t size;               // floats per example
  int rank;                  // the per-example shape: [9] is rank 1, [1, 28, 28]
  int dim[NET_MAX_RANK];     //   rank 3; a per-example scalar has rank 0, size 1
} NetOutput;

// The inference API's errors (generated headers, genmodel.h): every call
// returns 0 or one of these, and fills a NetError the caller passes (or
// NULL) with a message naming what failed and why.  Nothing is printed and
// nothing exits.
enum {
  NET_OK = 0,
  NET_ERR_ARGUMENT,          // NULL model or input, n < 0, the wrong model
  NET_ERR_MEMORY,            // out of memory
  NET_ERR_IO,                // a file cannot be opened or read
  NET_ERR_CHECKPOINT,        // not a checkpoint of this model (tensors, shapes, damage)
};

typedef struct {
  int code;                  // NET_OK or NET_ERR_*
  char message[512];         // "file: reason"; empty when code is NET_OK
} NetError;

typedef struct NetModel NetModel;
struct NetModel {
  const char *name;          // "autoencoder"
  uint64_t structure_hash;   // identifies names and shapes of the tensors (checkpoints check it)
  int needs_labels;          // the loss reads the digit labels
  int input_size;            // floats per example (784), of all tensor inputs together
  int max_batch;             // the largest batch a step accepts (generated code: fixed)

  int n_tensors;
  NetTensor *tensors;
  size_t n_params;           // floats in the parameter block
  size_t n_trainable;        // trainable floats: [0, n_trainable) of the block
  float *params;
  float *grads;              // same layout; frozen part unused

  int n_outputs;
  NetOutput *outputs;
  int class_output;          // output whose argmax is the predicted digit, or -1

  // One training step on n <= max_batch examples: x is [n, input_size],
  // labels [n] (classes 0 .. n_classes - 1; NULL when !needs_labels).  A
  // model with several tensor inputs reads them all from x: each example's
  // row is its inputs one after the other, in declaration order
  // (inputs[0].size floats of the first, then inputs[1].size of the
  // second, ...).  Writes the gradient of
  // the batch-mean loss into grads (overwriting) and returns that loss.
  // Randomness (noise, sampling) for example i is drawn from
  // rng_stream(seed, i), so results do not depend on threads.
  float (*train_step)(NetModel *m, const float *x, const int32_t *labels,
                      int n, uint64_t seed);

  // Forward only.  Returns the batch-mean loss; if outputs is not NULL,
  // outputs[j] receives export j as [n, outputs[j].size].
  float (*forward)(NetModel *m, const float *x, const int32_t *labels,
                   int n, uint64_t seed, float **outputs);

  // Number of threads the model's kernels may use (OpenMP).
  void (*set_threads)(NetModel *m, int threads);

  void (*free)(NetModel *m);
  void *impl;                // the implementation's state
  // The model's inputs, which the data loader checks its data against.
  int n_inputs;              // tensor inputs, all fed through x (see train_step)
  int input_rank;            // the first input's per-example shape ([1, 28, 28]);
  int input_dim[3];          //   rank 0: unknown, only input_size is checked
  int n_classes;             // K: labels must be < K; 0 when unknown (no check)

  // Per tensor, NULL when every entry would be 0 (models without batch norm):
  const uint8_t *tensor_init;    // NET_INIT_*: how model_init_params fills it
  // 1: a buffer, not a parameter: state that training steps write (batch
  // norm's running statistics).  Frozen (no gradient, no optimiser state),
  // after every parameter, saved in checkpoints with them.
  const uint8_t *tensor_buffer;
  // Every tensor input in declaration order (name, floats, per-example
  // shape), which is also their order in a row of x; NULL when the model
  // has one (input_size, input_rank and input_dim describe it).
  const NetOutput *inputs;
};

// Initialise every tensor as PyTorch's defaults do (Kaiming-uniform with
// a = sqrt(5) for weights, U(+-1/sqrt(fan_in)) for biases), from seed.
void model_init_params(NetModel *m, uint64_t seed);

// FNV-1a over every tensor's name, rank, dims
// and frozen flag, in order: a default structure_hash for models that do
// not compute their own (checkpoints compare it).
uint64_t model_hash_structure(const NetModel *m);

// Index of the tensor called name, or -1.
int model_find_tensor(const NetModel *m, const char *name);

// Index of the output called name, or -1.
int model_find_output(const NetModel *m, const char *name);

// "[d0, d1, ...]" into buf (cut to size), for messages; returns buf.
const char *model_shape_text(char *buf, size_t size, int rank, const int *dim);

#endif
