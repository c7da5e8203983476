// dataset.h — data sets in the formats people have, held in memory as
// float, for any small CNN (issue [data]).
//
// A Dataset is n examples of one shape (rank 1..3, e.g. [784] or
// [3, 32, 32], channels first as torch's ToTensor gives them), stored as
// float [n, size], with int32 labels 0..classes-1.  Values: unsigned bytes
// are divided by 255 (torchvision's ToTensor); every other element type
// (i8, i16, i32, f32, f64) is converted to float unscaled.
//
// Readers (one file each): IDX of any rank and type, raw or gzip
// (dataset_idx.c); CIFAR-10/100 binary batches (dataset_cifar.c); NumPy
// .npy and .npz (dataset_npy.c, zip via minizip); a folder of PNG and JPEG
// images with one subfolder per class (dataset_folder.c; decoding in
// image_png.c over libpng and image_jpeg.c over libjpeg-turbo, resizing
// in image_resize.c).  dataset_open() picks the
// reader from what a path points at.
//
// Every failure prints "PATH: reason" on stderr and returns -1, leaving
// the Dataset empty; nothing a file declares is allocated before it is
// checked against the memory the machine has (dataset_budget()), so a
// data set too large fails up front with the size it needs.
#ifndef NETRT_DATASET_H
#define NETRT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define DATASET_MAX_RANK 3

typedef struct {
  char name[512];                  // the file or folder, for messages
  int n;                           // examples
  int rank;
  int shape[DATASET_MAX_RANK];     // per example
  size_t size;                     // elements per example
  float *x;                        // [n, size]
  int32_t *y;                      // [n] labels, or NULL when there are none
  int classes;                     // largest label + 1 (0 without labels)
} Dataset;

// A training file and an optional test file (test.n == 0: none).  The
// validation split is the driver's (a share of train) unless the layout
// has one of its own (val.n > 0: an image folder's val/).
typedef struct {
  Dataset train, test;
  Dataset val;
} DataSplits;

typedef enum { DATA_AUTO, DATA_IDX, DATA_CIFAR10, DATA_CIFAR100, DATA_NPY, DATA_NPZ, DATA_FOLDER } DataFormat;

typedef struct {
  DataFormat format;               // DATA_AUTO: detect
  int coarse;                      // CIFAR-100: the 20 coarse labels instead of the 100 fine
  int quiet;                       // no progress line for large folders
  int resize_h, resize_w;          // image folders: every image resized to this (0: none, sizes must agree)
} DataOptions;

// Element types: the IDX codes (idx.h: IDX_U8 ... IDX_F64) plus int64,
// which NumPy labels usually are.
#define DATASET_I64 0x10

void dataset_free(Dataset *d);
void datasplits_free(DataSplits *s);

// Bytes the process may allocate for data: physical memory, or less when
// RLIMIT_AS is set (the smaller of the two).
uint64_t dataset_budget(void);

// Checks n examples of `size` floats (plus labels) fit the budget;
// prints "NAME: needs X GB ..." and returns -1 when not.
int dataset_check_size(const char *name, uint64_t n, uint64_t size);

// Labels as int32 from an integer array (type: an IDX type code); checks
// every label is >= 0 and below limit (0: NET_MAX_CLASSES, model.h) and
// sets classes.
// Images from an array [n, d1..dk] (k <= 3) of `type`: checks the budget,
// allocates d->x and converts; data itself is left to the caller.
int dataset_set_images(Dataset *d, const char *path, const void *data, int type, int ndim,
                       const uint64_t *dim);
int dataset_set_labels(Dataset *d, const char *path, const void *data, int type, uint64_t n,
                       int limit);

// Format readers.  Images and labels: a pair of files; labels may be NULL.
int dataset_load_idx(Dataset *d, const char *images, const char *labels);
int dataset_load_npy(Dataset *d, const char *images, const char *labels);
// An .npz with arrays named XKEY and YKEY (e.g. "x_train", "y_train");
// YKEY NULL: the images alone.
int dataset_load_npz(Dataset *d, const char *path, const char *xkey, const char *ykey);
// Whether the .npz holds KEY.npy (no message when not).
int dataset_npz_has(const char *path, const char *key);
// Every array of an .npz, in archive order (netc-ckpt import reads a
// state_dict saved with numpy.savez): key = the member's name without
// ".npy", type an element type above, shape dim[0..ndim) (ndim 0: a
// scalar), data the raw little-endian elements.  Members are checked as
// dataset_load_npz's are (headers, declared sizes, the memory budget);
// a member not named *.npy, a key twice, or more than NPZ_MAX_ARRAYS
// arrays is refused.  Returns the count, or -1 after printing
// "PATH[:MEMBER]: reason"; dataset_npz_free releases the arrays.
#define NPZ_MAX_ARRAYS 4096
typedef struct {
  char *key;
  int type, ndim;
  uint64_t dim[8], count;
  void *data;
} NpzArray;
int dataset_npz_read_all(const char *path, NpzArray **arrays);
void dataset_npz_free(NpzArray *a, int n);
// CIFAR batches: nfiles files concatenated; cifar100 selects the 2-label
// records (coarse, fine).
int dataset_load_cifar(Dataset *d, const char *const *files, int nfiles, int cifar100, int coarse);
// DIR/CLASS/*.png|*.jpg|*.jpeg, classes sorted by name (torchvision's
// ImageFolder).  _opts: with o->resize_h/w every image is resized to that
// size (image.h: torch's antialiased bilinear); without, sizes must agree.
int dataset_load_folder(Dataset *d, const char *dir, int quiet);
int dataset_load_folder_opts(Dataset *d, const char *dir, const DataOptions *o);
// One PNG or JPEG file as a data set of one example (label 0), resized
// as a folder's images are; dataset_is_image: whether PATH's first bytes
// are a PNG's or a JPEG's (0 for anything else, or a file that cannot be
// opened).
int dataset_load_image(Dataset *d, const char *path, const DataOptions *o);
int dataset_is_image(const char *path);
// Whether TEST's class folders have the names of TRAIN's (the labels are
// numbered by name); -1 with the first folder that differs named.
int dataset_folder_classes_match(const char *train, const char *test);

// What PATH is (see docs/data.md, "Detection"), or -1 with a message.
DataFormat dataset_detect(const char *path);

// Loads train (and test, if the layout has one) from PATH.
int dataset_open(DataSplits *s, const char *path, const DataOptions *o);

// Explicit files: test_images may be NULL (no test set); labels may be
// NULL (unlabelled).  The format of each file is found from its magic:
// IDX, .npy, a CIFAR batch (its records carry the labels: labels NULL),
// or FILE:ARRAY, an .npz's array by name (labels then NULL or an array too,
// FILE:ARRAY of any archive).
int dataset_open_files(DataSplits *s, const char *train_images, const char *train_labels,
                       const char *test_images, const char *test_labels);

// "FILE:ARRAY", an array of an .npz by name (docs/data.md, "Arrays by
// name"): split at the last ':' into file and array when what follows it
// is a name (letters, digits, '_', '.', '-'; numpy's keys), else the whole
// spec is the file (array "").  Returns 1 (split), 0 (a file), or -1 when
// the spec is empty or longer than fsize, the array part empty ("F:") or
// longer than asize, or the file part empty (":A").  Callers try the whole
// spec as a file first, so a file name with a colon still opens.
int dataset_spec_parse(const char *spec, char *file, size_t fsize, char *array, size_t asize);

// Array KEY of the .npz at PATH as the labels of d (d->n of them, integers,
// one dimension).  A missing array is named with the archive's arrays.
int dataset_npz_labels(Dataset *d, const char *path, const char *key);

// Batch of n examples d[order[start + i]] (order NULL: consecutive):
// x [n, size], labels [n] (may be NULL).  No allocation.
void dataset_batch(const Dataset *d, const int *order, int start, int n, float *x,
                   int32_t *labels);

#endif
