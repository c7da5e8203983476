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

#endif
