// idx.h — reader for the IDX files MNIST ships in (LeCun & Cortes), raw or
// gzip-compressed (zlib's gz* functions read both transparently).
//
// Format: big-endian u32 magic 0x00000803 (u8 images, 3 dims) or 0x00000801
// (u8 labels, 1 dim), then one big-endian u32 per dimension, then the
// bytes.  Everything is checked: magic, 28x28 images, the data length
// against the header (a short or over-long file is an error), labels in
// 0..9.  Hostile headers cannot cause a huge allocation: the buffer grows
// only as data actually arrives, and counts above IDX_MAX_COUNT are
// refused.  Errors go to stderr as "PATH: reason"; functions return -1.
#ifndef NETRT_IDX_H
#define NETRT_IDX_H

#include <stdint.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_ROWS 28
#define IDX_COLS 28
#define IDX_MAX_COUNT 10000000     // 7.8 GB of images: far above MNIST's 70,000

// Reads an image file: *images = malloc'ed [count, 28, 28] u8.
int idx_load_images(const char *path, uint8_t **images, int *count);

// Reads a label file: *labels = malloc'ed [count] u8, each in 0..9.
int idx_load_labels(const char *path, uint8_t **labels, int *count);

// Any IDX file: magic 0x0000TTNN with element type TT and NN (1..8)
// dimensions.  Types: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
// 0x0E f64, each stored big-endian; idx_read converts the data to the
// machine's byte order.  The element count is checked against
// IDX_MAX_ELEMS and max_bytes (the caller's memory budget, 0 = none) before
// anything is allocated, and the buffer grows only as data arrives.
#define IDX_MAX_DIMS 8
#define IDX_MAX_ELEMS (1ull << 34)
enum { IDX_U8 = 0x08, IDX_I8 = 0x09, IDX_I16 = 0x0B, IDX_I32 = 0x0C, IDX_F32 = 0x0D, IDX_F64 = 0x0E };

typedef struct {
  int type;                        // IDX_U8 ...
  int elem;                        // bytes per element
  int ndim;
  uint64_t dim[IDX_MAX_DIMS];
  uint64_t count;                  // product of dim
  void *data;                      // malloc'ed [count] of type, host order
} IdxArray;

int idx_read(const char *path, IdxArray *a, uint64_t max_bytes);
// Element size of an IDX type code, 0 when unknown.
int idx_type_size(int type);

#endif
