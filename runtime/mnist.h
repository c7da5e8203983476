// mnist.h — the MNIST data set in memory: u8 images, converted to float
// per batch.
//
// The training file is split once, deterministically: the last
// MNIST_VAL_FRACTION of it is the validation set (hyperparameter search
// and early stopping score on it, never on the test set).  With the full
// MNIST that is 54,000 train / 6,000 validation; with the committed subset
// 9,000 / 1,000.
#ifndef NETRT_MNIST_H
#define NETRT_MNIST_H

#include <stdint.h>

#define MNIST_PIXELS 784           // 28 x 28
#define MNIST_VAL_FRACTION 10      // validation = last 1/10 of the training file

typedef struct {
  int n;
  const uint8_t *images;           // [n, 784], pixels 0..255 (MNIST's IDX files)
  const uint8_t *labels;           // [n], below the data's classes
  const float *x;                  // [n, size] already float (other formats), else NULL
  int size;                        // floats per example (784 for MNIST)
} MnistSet;

typedef struct {
  MnistSet train, val, test;
  int rank, dim[3];                // the examples' shape ([1, 28, 28] for MNIST)
  uint8_t *mem[4];                 // the loaded files (train/val share)
  char *path[4];                   // their paths: train images, labels, test images, labels
  float *fmem[2];                  // the float data of other formats (train, test)
} Mnist;

// Directory of the committed subset (compiled in), used when no --data.
const char *mnist_default_dir(void);

// Loads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each either raw or
// with .gz appended.  Returns 0, or -1 after printing what is wrong.
int mnist_load(Mnist *d, const char *dir);

// PATH in any format runtime/data reads (docs/data.md): a folder with the
// MNIST file names (or a missing path) goes to mnist_load unchanged;
// anything else is loaded by dataset_open and must have labels below 256
// and a test set; its examples' shape is checked against the model's
// input by mnist_check_input.  Split as mnist_load.
int mnist_load_any(Mnist *d, const char *path);
// The same from four named files (IDX or .npy, any names).
int mnist_load_files(Mnist *d, const char *train_images, const char *train_labels,
                     const char *test_images, const char *test_labels);
void mnist_free(Mnist *d);

// The data against a model's first input, per example rank/dim (rank 0:
// only size, the element count, is known): the shapes must be equal, or
// the input a vector of the examples' element count, which reads them
// flattened (a [784] input on MNIST's [1, 28, 28]).  Returns 0, or -1
// after printing "FILE: examples are [1, 28, 28], model M expects [3, 32, 32]".
int mnist_check_input(const Mnist *d, const char *model, int rank, const int *dim, int size);

// Every label < k (the model's classes; k <= 0: no check).  Returns 0, or
// -1 after printing the file and the first label out of range.
int mnist_check_labels(const Mnist *d, const char *model, int k);

// order[0..n) = a permutation of 0..n-1 from seed (Fisher–Yates), the same
// on every machine and thread count.
void mnist_shuffle(int *order, int n, uint64_t seed);

// Batch of n examples s[order[start + i]] (order NULL: consecutive from
// start), x [n, s->size] (MNIST's bytes / 255; other formats as loaded),
// labels [n] (may be NULL).
void mnist_batch(const MnistSet *s, const int *order, int start, int n,
                 float *x, uint8_t *labels);

#endif
