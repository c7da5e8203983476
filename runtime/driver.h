// driver.h — the training driver every trainer shares (interpreted or
// generated): the command line, the epoch loop, validation, early stopping,
// checkpoints, the CSV log and the --json summary.
//
//   --data PATH         MNIST directory (X or X.gz names), or any format of
//                       docs/data.md (mnist_load_any); default: the
//                       committed subset runtime/mnist
//   --train-images F --train-labels F --test-images F --test-labels F
//                       instead of --data: the four files (IDX or .npy)
//   --val-fraction X    0.1 (the last tenth)   --val-count N   instead, a count
//   --val-images F --val-labels F   a validation set of its own
//   --train-input NAME=F  the data of tensor input NAME (repeatable; and
//                       --val-input, --test-input); --train-targets F feeds
//                       the second input (and --val-targets, --test-targets)
//   --normalize SPEC    auto | none | MEAN,STD | M1,..,Mc:S1,..,Sc (saved in checkpoints)
//   --augment SPEC      crop=PAD,flip (training only)
//   --resize HxW|auto   image folders: every image resized (antialiased bilinear)
//   --epochs N          10          --batch N        256 (clamped to max_batch)
//   --optimizer K       adam|adamw|sgd|rmsprop       --lr X   1e-3
//   --momentum X        0 (SGD, RMSprop)             --dampening X    0 (SGD)
//   --nesterov          (SGD: momentum > 0, no dampening)
//   --beta1 X, --beta2 X  0.9, 0.999 (Adam, AdamW)   --amsgrad (Adam, AdamW)
//   --eps X             1e-8 (Adam, AdamW, RMSprop)
//   --alpha X           0.99 (RMSprop)               --centered (RMSprop)
//   --schedule K        none|step|multistep|exponential|cosine|onecycle|plateau
//                       (schedule.h), with --step-size, --milestones, --gamma,
//                       --t-max, --eta-min, --pct-start, --div-factor,
//                       --final-div-factor, --factor, --plateau-patience,
//                       --threshold, --cooldown, --min-lr;
//                       --warmup N [--warmup-factor X] chains a linear warm-up
//   --no-bias-decay     no weight decay for 1-d tensors (biases, normalisation)
//   --clip-norm X       clip the gradient's global 2-norm (0: off)
//   --clip-value X      clamp each gradient entry to [-X, X] (0: off)
//   --weight-decay X    0 (adamw: 1e-2, torch's default)
//   --seed N            1
//   --threads N         OMP_NUM_THREADS or the number of processors
//   --save FILE         checkpoint after every epoch (atomic)
//   --load FILE         initial parameters from a checkpoint
//   --load-prefix P     with --load: only tensors whose names start with P
//   --resume FILE       continue a run: parameters, optimiser, epoch, RNG
//   --log FILE.csv      one row per epoch
//   --patience N        early stopping on the validation loss (0: off)
//   --predict DIR       after the run, write the exports over a split (below)
//   --predict-split S   test|val|train (test)   --predict-format F  npy|csv (npy)
//   --predict-grid N    PNG grid of N image-shaped examples (64; 0: none)
//   --predict-input F   predict over F's examples (a file or PNG folder) instead;
//                       NAME=F for a further tensor input (repeatable)
//   --json              last stdout line: one JSON object with the results
//   --quiet             no progress output
// (the table in driver.c is the reference: --help prints it, with the
// defaults a run uses; a mistyped option gets the nearest one suggested)
//
// Semantics:
// - Parameters start from PyTorch's default initialisation with --seed
//   (model_init_params); --load then overwrites all or the P* tensors;
//   --resume restores parameters, optimiser state, epoch count, seed and
//   the early-stopping state, and continues (the log is appended to).
// - Randomness: epoch e is shuffled with hash(seed, e); step s of epoch e
//   calls train_step with hash(seed, e, s); validation and test use one
//   fixed seed each, so their losses are comparable across epochs.  A
//   resumed run therefore equals an uninterrupted one bit for bit.
// - Split: the last tenth of the training file is the validation set
//   (mnist.h; --val-fraction, --val-count or --val-images change it); the
//   test set is evaluated once, at the end (data without one: the summary
//   says so, test_loss null).
// - --normalize: (x - mean) / std per channel at batch assembly for every
//   split; auto computes them on the training split.  Checkpoints carry
//   it: --load and --resume use the checkpoint's unless --normalize is
//   given, which must then equal it.  --augment: training batches only,
//   example k of epoch e cropped/flipped from rng_stream(hash(seed, e), k),
//   and its further tensor inputs (targets) by the same draw.
// - With --patience N > 0 the best epoch's parameters (lowest validation
//   loss) are kept: restored at the end, tested, and saved; without it the
//   last epoch's are.
// - --save writes FILE atomically after every epoch, so a kill loses at
//   most the epoch in progress.  A NaN or infinite loss stops the run with
//   the epoch and step named, leaves FILE at the last good epoch and exits
//   with DRIVER_EXIT_DIVERGED (3).  Usage errors exit 2, other errors 1.
// - --epochs 0 evaluates a checkpoint: it needs --load or --resume (random
//   weights are a usage error: almost surely a mistake), trains nothing,
//   writes no checkpoint or log (--save, --log refused), and evaluates the
//   validation and test sets as a training run's last epoch and end do
//   (same code, seeds and batches: the same numbers bit for bit, given
//   the run's --seed and --batch).  The summary's train_loss is null.
// - --predict DIR runs the kept parameters forward (eval mode) over the
//   split's examples in file order, in batches seeded as evaluation is,
//   and writes into DIR (created if missing, one level): NAME.npy per
//   export (float32, shape [n, d0, d1, ...], NetOutput's per-example
//   shape), labels.npy (int64, [n]) and, for a classifier (class_output),
//   predicted.npy (int64 argmax, [n]); for an export of per-example shape
//   [1|3, H, W], NAME.png, a grid of its first --predict-grid examples
//   clamped to [0, 1] (imagegrid.h).  --predict-format csv writes NAME.csv
//   instead (one line per example, 2-d whatever the shape).  Each file is
//   written atomically (arrayout.h); an error names the file, exit 1.
//   The train split is the training file without its validation tail.
// - --predict-input F (needs --load and --predict) predicts over F's
//   examples (IDX, .npy, F.npz:ARRAY, a CIFAR batch, or a PNG folder
//   whose classes are ignored; a further tensor input's data as
//   --predict-input NAME=F) instead: checked against the input shape, normalised as the
//   checkpoint says, no labels (no labels.npy, no loss), no training, the
//   batches and seeds of --predict over a test set.  A model without a
//   train_step (one net alone, netc run --net) runs only this way; its
//   tensors are loaded by name from the whole model's checkpoint.
#ifndef NETRT_DRIVER_H
#define NETRT_DRIVER_H

#include <stdint.h>
#include <stdio.h>

#include "mnist.h"
#include "model.h"
#include "optim.h"
#include "schedule.h"

#define DRIVER_MAX_INPUT_ARGS 16    // --train-input etc.: values per option

typedef struct {
  int n;
  const char *arg[DRIVER_MAX_INPUT_ARGS];   // "NAME=F" (or "F") as given
} DriverInputArgs;

typedef struct {
  const char *data;
  int epochs;
  int batch;
  OptimConfig optim;
  SchedConfig sched;          // learning-rate schedule (schedule.h)
  double clip_norm;           // clip the gradient's global 2-norm to this (0: off)
  double clip_value;          // clamp every gradient entry to +-this (0: off)
  int no_bias_decay;          // 1-d tensors (biases, normalisation) get no weight decay
  uint64_t seed;
  int threads;
  const char *save, *load, *load_prefix, *resume, *log;
  int patience;
  int json, quiet;
  const char *train_images, *train_labels, *test_images, *test_labels;   // instead of data
  const char *predict;        // write the exports over a split into this folder (NULL: no)
  int predict_split;          // DRIVER_SPLIT_*
  int predict_format;         // 0: .npy, 1: CSV
  int predict_grid;           // PNG grid of the first N image-shaped examples (0: none)
  const char *predict_input;  // predict over this file's examples instead of a split (NULL: no)
  // Data options (docs/data.md), all off by default:
  double val_fraction;        // validation = this last share of the training file (0.1)
  int val_count;              // or this many last examples (0: use val_fraction)
  int resplit;                // --val-fraction or --val-count given: driver_main resplits
  const char *val_images, *val_labels;   // or a validation set of its own
  const char *normalize;      // --normalize SPEC (NULL: the checkpoint's, else none)
  const char *augment;        // --augment SPEC (NULL: none)
  MnistAugment aug;           // parsed from augment
  // The data of a model's second tensor input (docs/data.md, "Targets").
  const char *train_targets, *test_targets, *val_targets;
  // Every tensor input's data by its name (docs/data.md, "Inputs"):
  // --train-input NAME=F, --val-input, --test-input, --predict-input
  // (F alone: the first input), each repeatable, as given; driver_parse
  // resolves them against the model's inputs into input_file[set][j]
  // (j >= 1; the first input's go to train_images, val_images,
  // test_images, predict_input), --train-targets and its twins into j = 1.
  DriverInputArgs input_args[4];   // DRIVER_SET_*
  const char *input_file[4][MNIST_MAX_INPUTS];
  // --resize HxW|auto: image folders' images resized at load (docs/data.md).
  const char *resize;
  int resize_h, resize_w;     // parsed from resize (auto: the model's input's); 0: none
} DriverOptions;

enum { DRIVER_SET_TRAIN, DRIVER_SET_VAL, DRIVER_SET_TEST, DRIVER_SET_PREDICT };

enum { DRIVER_SPLIT_TEST, DRIVER_SPLIT_VAL, DRIVER_SPLIT_TRAIN };

typedef struct {
  int epochs_run;             // epochs completed, counting resumed ones
  int best_epoch;             // epoch with the lowest validation loss (1-based)
  double train_loss;          // mean over the last epoch's steps
  double val_loss, val_accuracy;   // of the best epoch (accuracy: -1 without labels)
  double test_loss, test_accuracy; // of the parameters kept (best epoch)
  double seconds;
  double train_images_per_second;
  double lr;                  // the learning rate of the last step taken
  int has_test;               // 0: the data has no test set (test_loss NaN, JSON "test_set":"none")
} DriverResult;

// Exit statuses besides 0, 1 (error) and 2 (usage).
#define DRIVER_EXIT_DIVERGED 3     // the loss became NaN or infinite

// The trainer's main: parses argv as above (argv[0] names the program in
// the usage line), loads the data, trains, evaluates, saves, prints the
// summary.  Returns the process exit status.
int driver_main(NetModel *m, int argc, char **argv);

// Defaults as listed above (threads from the environment).
void driver_options_default(DriverOptions *o);

// Parses argv[1..].  Returns 0 to run, 1 after printing --help (exit 0),
// 2 after printing a usage error (exit 2).  max_batch clamps --batch.
int driver_parse(DriverOptions *o, const NetModel *m, int argc, char **argv);

// The --help text, each option's default read from defaults (a program
// with defaults of its own, as the experiments, shows those).
void driver_usage(FILE *f, const char *prog, const NetModel *m, const DriverOptions *defaults);

// The trainer's option names ("--epochs", ...; --help not included), at
// most max of them into names; returns the count.  For a program that
// adds options of its own and suggests among all of them.
int driver_option_names(const char **names, int max);

// Trains m on d as o says (what driver_main does after parsing and
// loading the data; the hyperparameter search calls it directly).
// Initialises the parameters from o->seed unless resuming.  Fills r and
// returns an exit status: 0, 1 on an I/O or checkpoint error, or
// DRIVER_EXIT_DIVERGED.
int driver_run(NetModel *m, const DriverOptions *o, const Mnist *d, DriverResult *r);

#endif
