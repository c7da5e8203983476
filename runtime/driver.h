// driver.h — the training driver every trainer shares (interpreted or
// generated): the command line, the epoch loop, validation, early stopping,
// checkpoints, the CSV log and the --json summary.
//
//   --data DIR          MNIST directory (X or X.gz names); default: the
//                       committed subset runtime/mnist
//   --epochs N          10          --batch N        256 (clamped to max_batch)
//   --optimizer K       adam|adamw|sgd               --lr X   1e-3
//   --momentum X        0 (SGD)     --nesterov       (SGD)
//   --weight-decay X    0           --seed N         1
//   --threads N         OMP_NUM_THREADS or the number of processors
//   --save FILE         checkpoint after every epoch (atomic)
//   --load FILE         initial parameters from a checkpoint
//   --load-prefix P     with --load: only tensors whose names start with P
//   --resume FILE       continue a run: parameters, optimiser, epoch, RNG
//   --log FILE.csv      one row per epoch
//   --patience N        early stopping on the validation loss (0: off)
//   --json              last stdout line: one JSON object with the results
//   --quiet             no progress output
#ifndef NETRT_DRIVER_H
#define NETRT_DRIVER_H

#include <stdint.h>

#include "mnist.h"
#include "model.h"
#include "optim.h"

typedef struct {
  const char *data;
  int epochs;
  int batch;
  OptimConfig optim;
  uint64_t seed;
  int threads;
  const char *save, *load, *load_prefix, *resume, *log;
  int patience;
  int json, quiet;
} DriverOptions;

typedef struct {
  int epochs_run;             // epochs completed, counting resumed ones
  int best_epoch;             // epoch with the lowest validation loss (1-based)
  double train_loss;          // mean over the last epoch's steps
  double val_loss, val_accuracy;   // of the best epoch (accuracy: -1 without labels)
  double test_loss, test_accuracy; // of the parameters kept (best epoch)
  double seconds;
  double train_images_per_second;
} DriverResult;

// Exit statuses besides 0, 1 (error) and 2 (usage).
#define DRIVER_EXIT_DIVERGED 3     // the loss became NaN or infinite

// Defaults as listed above (threads from the environment).
void driver_options_default(DriverOptions *o);

// Parses argv[1..].  Returns 0 to run, 1 after printing --help (exit 0),
// 2 after printing a usage error (exit 2).  max_batch clamps --batch.
int driver_parse(DriverOptions *o, const NetModel *m, int argc, char **argv);

// Trains m on d as o says (what driver_main does after parsing and
// loading the data; the hyperparameter search calls it directly).
// Initialises the parameters from o->seed unless resuming.  Fills r and
// returns an exit status: 0, 1 on an I/O or checkpoint error, or
// DRIVER_EXIT_DIVERGED.
int driver_run(NetModel *m, const DriverOptions *o, const Mnist *d, DriverResult *r);

#endif
