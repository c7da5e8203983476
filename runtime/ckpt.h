// ckpt.h — checkpoints: a model's parameters, optionally the optimiser
// state and the training state, in one binary file.
//
// Layout (all integers little-endian; see ckpt.c for the exact fields):
//   header   "NETCKPT\0", version, file size, structure hash, tensor count,
//            optimiser section (kind, step, state count, offset), training state
//            (version 2: and the plateau schedule's state)
//   table    per tensor: name, rank, dims, data offset
//   data     float32 tensors, then the optimiser state ([count][n_trainable])
//   crc      CRC-32 (zlib) of every byte before it
// Saving is atomic: FILE.tmp is written, fsync'ed and renamed over FILE,
// then the directory is fsync'ed, so a crash leaves either the old or the
// new checkpoint.  Every failure prints "PATH: reason" and returns -1.
#ifndef NETRT_CKPT_H
#define NETRT_CKPT_H

#include <stdint.h>

#include "model.h"
#include "optim.h"
#include "schedule.h"

// Version 2 adds the plateau schedule's state after version 1's header; a
// checkpoint without it is written as version 1, byte for byte as before.
// Both are read.
// Version 3 adds the input normalisation (driver --normalize) after
// version 2's header; it is written only by runs that normalise, so every
// other checkpoint stays version 1 or 2.  All three are read; a checkpoint
// without the section means no normalisation.
#define CKPT_VERSION 3
#define CKPT_NORM_MAX 64

// What --resume needs besides parameters and optimiser state.
typedef struct {
  int32_t epoch;            // epochs completed
  uint64_t seed;            // the run's seed (step seeds derive from it)
  int32_t best_epoch;       // early stopping: epoch of the best validation loss (0: none)
  int32_t since_best;       // epochs since then
  double best_val_loss;
  double seconds;           // training time so far
  double images;            // training images processed so far
  // Early stopping keeps the best epoch's parameters: [n_params] floats.
  // Save: written if not NULL.  Load: if not NULL and the file has them,
  // filled and has_best set.
  float *best_params;
  int has_best;
  // The plateau schedule's state (schedule.h), saved if has_plateau; on
  // load, has_plateau says whether the file had one.
  int has_plateau;
  Plateau plateau;
  // The input normalisation (x - norm_mean[c]) / norm_std[c] the run's
  // data went through (mnist.h MnistNorm): saved if norm_channels > 0; on
  // load, 0 when the file has none.
  int norm_channels;
  float norm_mean[CKPT_NORM_MAX], norm_std[CKPT_NORM_MAX];
} CkptTrain;

// Writes m's parameters, opt's state (if opt is not NULL) and tr (if not NULL).
int ckpt_save(const char *path, const NetModel *m, const Optim *opt, const CkptTrain *tr);

// Loads every tensor of m from path; the checkpoint must hold exactly m's
// tensors with m's shapes and structure hash.  If opt is not NULL the
// checkpoint must carry state for the same optimiser kind, which is
// restored (step count, moments).  If tr is not NULL it receives the
// training state (zeroed if the checkpoint has none; tr->epoch then 0).
int ckpt_load(const char *path, NetModel *m, Optim *opt, CkptTrain *tr);

// Loads only m's tensors whose names start with prefix, from a checkpoint
// of any model (the classifier takes encoder_* from an autoencoder's).
// Each must exist in the checkpoint with the same shape.  Returns the
// number of tensors loaded, or -1; loading none is an error.
int ckpt_load_subset(const char *path, NetModel *m, const char *prefix);

// The normalisation saved in path (as CkptTrain's norm_*; *channels 0:
// none), for --load, which reads no training state.  The file is checked
// as ckpt_load checks it.  Returns 0 or -1.
int ckpt_load_norm(const char *path, int *channels, float *mean, float *std);

// Fsyncs the directory holding path (after renaming a file into it, so
// the rename survives a crash).  Returns 0 or -1 (errno set).
int ckpt_fsync_dir(const char *path);

// A checkpoint read without a model (netc-ckpt: show, verify, export):
// every tensor with its data, the optimiser's state and the training
// state as the file holds them.  The checks are ckpt_load's (magic,
// version, size, CRC, every offset inside the file), less those that need
// a model (names, shapes, structure hash).
typedef struct {
  char *name;
  int rank;
  int dim[NET_MAX_RANK];
  size_t numel;
  float *data;               // [numel], a copy
} CkptTensor;

typedef struct {
  uint32_t version;
  uint64_t size;             // bytes
  uint64_t structure_hash;
  int n_tensors;
  CkptTensor *tensors;       // in the file's order: trainable, frozen, buffers
  size_t n_params;           // floats in all tensors
  int has_optim;
  int optim_kind;            // OptimKind, when has_optim
  int optim_arrays;          // state arrays (0 to OPTIM_MAX_STATE)
  int64_t optim_step;
  size_t optim_n;            // floats per state array: the trainable floats
  float *optim_state;        // [optim_arrays][optim_n], a copy (NULL if none)
  int has_train;             // tr is the file's training state
  CkptTrain train;           // best_params: a copy [n_params] when has_best
} CkptFile;

// Reads path without a model.  Returns 0, or -1 after printing
// "PATH: reason".  ckpt_file_free releases it (also after a failure).
int ckpt_read(const char *path, CkptFile *cf);
void ckpt_file_free(CkptFile *cf);

#endif
