// mnist.h — the MNIST data set in memory: u8 images, converted to float
// per batch.
//
// The training file is split once, deterministically: the last
// MNIST_VAL_FRACTION of it is the validation set (hyperparameter search
// and early stopping score on it, never on the test set).  With the full
// MNIST that is 54,000 train / 6,000 validation; with the committed subset
// 9,000 / 1,000.  The driver's --val-count and --val-fraction re-split
// (mnist_resplit); --val-images and an image folder's val/ bring a
// validation set of its own (then all of the training file trains).
#ifndef NETRT_MNIST_H
#define NETRT_MNIST_H

#include <stddef.h>
#include <stdint.h>

#define MNIST_PIXELS 784           // 28 x 28
#define MNIST_VAL_FRACTION 10      // validation = last 1/10 of the training file
#define MNIST_MAX_INPUTS 8         // tensor inputs the data feeds: the examples and 7 more

typedef struct {
  int n;
  const uint8_t *images;           // [n, 784], pixels 0..255 (MNIST's IDX files)
  const int32_t *labels;           // [n], 0 .. the data's classes - 1
  const float *x;                  // [n, size] already float (other formats), else NULL
  int size;                        // floats per example (784 for MNIST)
  // The data of the model's tensor input j >= 1 (a target, a second
  // image; mnist_load_input), else NULL; t[0] is unused (x or images).
  const float *t[MNIST_MAX_INPUTS];
  int tsize[MNIST_MAX_INPUTS];     // floats per example of t[j] (0: none)
} MnistSet;

// The data of one of the model's further tensor inputs: a file per set
// (training, its train and val sharing it; test; a validation file of
// its own), example k's with example k's input through every split,
// shuffle and batch.
typedef struct {
  char *name;                      // the model's name for the input
  float *mem[3];                   // training, test, validation
  char *path[3];
  int rank, dim[3];                // per example, of the first file loaded
} MnistInput;

typedef struct {
  MnistSet train, val, test;
  int rank, dim[3];                // the examples' shape ([1, 28, 28] for MNIST)
  uint8_t *mem[2];                 // MNIST's image bytes: training file (train/val share), test file
  int32_t *lab[2];                 // the labels: training file (train/val share), test file
  char *path[4];                   // their paths: train images, labels, test images, labels
  float *fmem[2];                  // the float data of other formats (train, test)
  // A separate validation file (mnist_load_val): then train is the whole
  // training file and val these.
  float *vfmem;
  int32_t *vlab;
  char *vpath[2];                  // its images and labels
  int unlabelled;                  // the examples came without labels (all read as 0)
  // The model's tensor inputs after the first (j >= 1; in[0] unused):
  // a dense target, the clean image of a pair, a second image.
  MnistInput in[MNIST_MAX_INPUTS];
} Mnist;

// Per-channel normalisation (x - mean[c]) / std[c], in float as
// torchvision's Normalize, after the scaling of docs/data.md (bytes / 255).
// Channel c is the examples' first dimension when they have rank 3
// ([C, H, W]); examples of rank 1 or 2 have one channel.
#define MNIST_NORM_MAX 64
typedef struct {
  int channels;                    // 0: none
  float mean[MNIST_NORM_MAX], std[MNIST_NORM_MAX];
} MnistNorm;

// Training augmentation (the CIFAR recipe): a random crop of the example's
// own size from the example padded with `crop` zeros on each side, then a
// horizontal flip with probability 1/2.  Examples of rank 2 or 3 only.
typedef struct {
  int crop;                        // padding (0: no crop)
  int flip;
} MnistAugment;

// Directory of the committed subset (compiled in), used when no --data.
const char *mnist_default_dir(void);

// Loads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each either raw or
// with .gz appended: MNIST's u8 images, labels of any integer IDX type
// (MNIST's u8 digits, EMNIST's 47 classes, ...) as int32.  Returns 0, or
// -1 after printing what is wrong.
int mnist_load(Mnist *d, const char *dir);

// PATH in any format runtime/data reads (docs/data.md): a folder with the
// MNIST file names (or a missing path) goes to mnist_load unchanged;
// anything else is loaded by dataset_open, its labels int32 as read (or
// none: then Mnist.unlabelled, every label 0); its examples' shape is checked against the model's
// input by mnist_check_input.  Split as mnist_load.
int mnist_load_any(Mnist *d, const char *path);
// The same with an image folder's images resized to resize_h x resize_w
// (0, 0: not resized; other formats are refused when given a size).
int mnist_load_any_resized(Mnist *d, const char *path, int resize_h, int resize_w);
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

// Every label in 0..k-1 (k the model's classes; k <= 0: no check).  Returns 0, or
// -1 after printing the file and the first label out of range.
int mnist_check_labels(const Mnist *d, const char *model, int k);

// order[0..n) = a permutation of 0..n-1 from seed (Fisher–Yates), the same
// on every machine and thread count.
void mnist_shuffle(int *order, int n, uint64_t seed);

// Batch of n examples s[order[start + i]] (order NULL: consecutive from
// start), x [n, s->size] (MNIST's bytes / 255; other formats as loaded),
// labels [n] (may be NULL).
void mnist_batch(const MnistSet *s, const int *order, int start, int n,
                 float *x, int32_t *labels);

// The data of the model's tensor input j (1 <= j < MNIST_MAX_INPUTS; its
// name `name`) from files[0..2]: the training file's (one per example of
// the training file, train and validation tail), the test set's and
// (after mnist_load_val) the validation file's, each in any format
// dataset_open_files reads (IDX, .npy, FILE.npz:ARRAY, a CIFAR batch),
// all of one shape.  A set that exists needs its file, a file needs its
// set; opts[0..2] name the options in those messages ("--test-targets",
// "--test-input": "--test-input t=F").  Returns 0, or -1 after printing "FILE: reason".
int mnist_load_input(Mnist *d, int j, const char *name, const char *const files[3], const char *const opts[3]);

// Input j's data against the model's input (rank/dim/size as
// mnist_check_input).  Returns 0, or -1 after printing
// "FILE: examples are [..], model M's input NAME expects [..]".
int mnist_check_extra(const Mnist *d, int j, const char *model, int rank, const int *dim, int size);

// Rows of a model with several tensor inputs: row i of x is example
// s[order[start + i]]'s input (mnist_batch_prep: augmented, normalised)
// then the data of each further input j (s->t[j]) in order, each moved by
// the same crop and flip as the input (the draw of mnist_batch_prep, not
// a second one) and not normalised.  labels as mnist_batch.
void mnist_batch_inputs(const Mnist *d, const MnistSet *s, const int *order, int start, int n, float *x,
                        int32_t *labels, const MnistNorm *norm, const MnistAugment *aug, uint64_t seed);

// Floats per example of all the inputs together (the row of
// mnist_batch_inputs).
int mnist_row_size(const MnistSet *s);

// The examples' channels for normalisation (see MnistNorm).
int mnist_channels(const Mnist *d);

// "auto", "none", "MEAN,STD" (every channel) or "M1,..,Mc:S1,..,Sc" (one
// per channel; "MEAN:STD" is one channel) into n; *is_auto set for
// "auto" (n then empty), n->channels 0 for "none".  Every std must be
// positive.  Returns 0, or -1 after printing what is wrong.
int mnist_norm_parse(const char *spec, MnistNorm *n, int *is_auto);

// n (parsed) for data of `channels` channels: one value pair is repeated
// to every channel; otherwise the counts must be equal.  Returns 0 or -1
// (message printed).
int mnist_norm_expand(MnistNorm *n, int channels, const char *what);

// Per-channel mean and standard deviation (population, ddof 0, as
// numpy's std) of the training split's values (scaled, not normalised),
// summed in double in example order, so the same on every machine and
// thread count.  Returns 0, or -1 if a channel is constant (std 0).
int mnist_norm_auto(const Mnist *d, MnistNorm *n);

// "0.1307:0.3081" or "0.49,0.48,0.45:0.25,0.24,0.26" (%.9g: parses back to
// the same floats).
void mnist_norm_text(char *buf, size_t size, const MnistNorm *n);

// "crop=4,flip", "flip", "crop=4" into a.  Returns 0 or -1 (message printed).
int mnist_augment_parse(const char *spec, MnistAugment *a);

// Whether the examples can be augmented as a says (rank 2 or 3, the crop
// padding below their height and width), and every further input with
// them (an image of the examples' height and width, any channels).
// Returns 0 or -1 (message printed).
int mnist_augment_check(const Mnist *d, const MnistAugment *a);

// Uses the last nval examples of the training file for validation
// (instead of the last tenth), nval in [1, n - 1].  Returns 0 or -1.
int mnist_resplit(Mnist *d, int nval);

// A validation set from its own files (IDX or .npy, as mnist_load_files):
// the whole training file then trains.  Same example size as training.
int mnist_load_val(Mnist *d, const char *images, const char *labels);

// mnist_batch, then (aug not NULL) example k of the set augmented with
// rng_stream(seed, k) — the same crop and flip for example k whatever
// the batch or thread count — then (norm not NULL) normalised.  No
// allocation: augmented values are read from the source through the crop
// and flip.  Both NULL: exactly mnist_batch.
void mnist_batch_prep(const Mnist *d, const MnistSet *s, const int *order, int start, int n, float *x,
                      int32_t *labels, const MnistNorm *norm, const MnistAugment *aug, uint64_t seed);

#endif
