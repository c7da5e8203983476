// exp.h — what the four experiment programs share: their command line
// (the trainer's options, driver.h, plus a few of their own), the output
// folder, evaluation of a whole MNIST set with the model's exports, the
// encoded-test-set files that latent-analysis reads, and the JSON line.
#ifndef EXPERIMENTS_EXP_H
#define EXPERIMENTS_EXP_H

#include <stdint.h>
#include <stdio.h>

#include "driver.h"
#include "mnist.h"
#include "model.h"

// Seeds of the evaluation randomness (denoiser noise, VAE sampling) and
// of the figures: fixed, independent of --seed, so that test losses of
// runs with different seeds are measured on the same noise and the figures
// are reproducible.
#define EXP_EVAL_SEED 20211126u
#define EXP_FIGURE_SEED 1228022u

// A flag of the program besides the trainer's: "--encoder FILE".
typedef struct {
  const char *name;          // "--encoder", or "-D"
  const char *arg;           // "FILE" (for --help)
  const char *help;
  const char **value;        // receives the value; keeps its default if absent
} ExpFlag;

typedef struct {
  const char *prog;
  DriverOptions drv;         // the trainer's options
  const char *out;           // --out DIR: checkpoints, figures, codes [experiments-out]
  int user_save, user_load;  // --save / --load or --resume given by the user
  char **train_argv;         // the trainer's options as given (defaults first)
  int train_argc;
  char *paths[16];           // exp_path's results, freed by exp_free
  int npaths;
} Exp;

// Parses argv.  defaults (NULL-terminated, may be NULL) are trainer
// options applied before the user's ("--epochs", "20"); flags (ending
// with a zero entry) the program's own.  Creates --out.  Returns 0 to
// run, 1 after --help (exit 0), 2 after a usage error (exit 2).
int exp_parse(Exp *e, const NetModel *m, const char *about, const char *const *defaults,
              const ExpFlag *flags, int argc, char **argv);

// "OUT/name", valid until exp_free(e).
const char *exp_path(Exp *e, const char *name);

// Frees what exp_parse and exp_path allocated.
void exp_free(Exp *e);

// The model's forward pass over the whole set s in batches of max_batch;
// randomness of the batch starting at example k from rng_hash2(seed, k),
// as the driver's evaluation draws it.  outs NULL, or [n_outputs]
// pointers, each NULL (not wanted) or [s->n, size].  Returns the mean loss.
double exp_forward_set(NetModel *m, const MnistSet *s, uint64_t seed, float **outs);

// The forward pass on x [n, input_size] (any n), outs as above but [n, size].
double exp_forward(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed,
                   float **outs);

// Images [n, 784] in [0, 1] of examples idx[0..n) of s.
void exp_images(const MnistSet *s, const int *idx, int n, float *x);

// Writes codes [n, d] with the labels in the binary format of
// study/analysis/codes.h (what latent-analysis reads).  Returns 0 or -1.
int exp_save_codes(const char *path, const float *codes, const int32_t *labels, int n, int d);

// Index of the output called name; exits with an error if the model has none.
int exp_output(const NetModel *m, const char *name);

// The parameters of tensor name (numel floats); exits if m has none.
float *exp_tensor(const NetModel *m, const char *name, size_t *numel);

// The JSON line: exp_json_begin("autoencoder"), fields, exp_json_end().
void exp_json_begin(const char *experiment);
void exp_json_num(const char *key, double v);
void exp_json_int(const char *key, long v);
void exp_json_str(const char *key, const char *v);
void exp_json_end(void);

// Common fields of a training run: epochs, best epoch, losses, seconds.
void exp_json_run(const DriverResult *r);

void *exp_alloc(size_t bytes);   // exits on failure

#endif
