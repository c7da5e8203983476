// exp_finetune.c — the report's section 4: the autoencoder's trained
// encoder, frozen, under a small head (models/classifier.net: 1,290
// trainable parameters) trained with the NLL loss and early stopping on the
// validation loss.  Reads the encoder from the autoencoder experiment's
// checkpoint; checks after training that its weights are bit-identical to
// the checkpoint's; writes
//   OUT/classifier.ckpt
//   OUT/classifier-confusion.png   confusion matrix of the test set: row = true
//                                  digit, column = predicted, headed by test
//                                  images of the digits; darker = more (sqrt scale)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "classifier.h"
#include "exp.h"
#include "png_grid.h"

// Compares m's encoder_* tensors with those of a fresh copy loaded from
// path.  Returns the number of tensors that differ in any bit (or -1).
static int encoder_changed(NetModel *m, const char *path, int *compared) {
  NetModel *ref = classifier_new();
  int loaded = ckpt_load_subset(path, ref, "encoder_"), changed = 0;
  *compared = loaded;
  for (int t = 0; loaded > 0 && t < m->n_tensors; t++) {
    const NetTensor *a = &m->tensors[t];
    if (strncmp(a->name, "encoder_", 8))
      continue;
    if (memcmp(m->params + a->offset, ref->params + ref->tensors[t].offset, sizeof(float) * a->numel))
      changed++;
  }
  ref->free(ref);
  return loaded < 0 ? -1 : changed;
}

// The 10x10 matrix as a picture; counts[true][pred].
static int confusion_save(const char *path, const long counts[10][10], const MnistSet *test) {
  const int cell = 28 * GRID_SCALE, step = cell + GRID_MARGIN;
  Canvas c;
  if (canvas_init(&c, grid_width(11, 28), grid_height(11, 28), GRID_BG))
    return -1;
  float img[MNIST_PIXELS];
  for (int digit = 0; digit < 10; digit++) {   // headers: the first test image of each digit
    int i = 0;
    while (i < test->n && test->labels[i] != digit)
      i++;
    if (i == test->n)
      continue;
    mnist_batch(test, NULL, i, 1, img, NULL);
    canvas_tile(&c, GRID_MARGIN + (digit + 1) * step, GRID_MARGIN, img, 28, 28, GRID_SCALE);
    canvas_tile(&c, GRID_MARGIN, GRID_MARGIN + (digit + 1) * step, img, 28, 28, GRID_SCALE);
  }
  for (int t = 0; t < 10; t++) {
    long total = 0;
    for (int p = 0; p < 10; p++)
      total += counts[t][p];
    for (int p = 0; p < 10; p++) {
      double f = total ? sqrt((double)counts[t][p] / total) : 0;
      canvas_fill(&c, GRID_MARGIN + (p + 1) * step, GRID_MARGIN + (t + 1) * step, cell, cell,
                  (uint8_t)lrint(235.0 * (1.0 - f)));   // light grey for 0: cells stay visible
    }
  }
  int rc = canvas_save(&c, path);
  canvas_free(&c);
  return rc;
}

int main(int argc, char **argv) {
  NetModel *m = classifier_new();
  // The report: at most 100 epochs, early stopping (it stopped after 49).
  static const char *const defaults[] = {"--epochs", "100", "--patience", "5", "--lr", "2e-3", NULL};
  const char *encoder = NULL;
  ExpFlag flags[] = {
    {"--encoder", "FILE", "the autoencoder's checkpoint (default OUT/autoencoder.ckpt)", &encoder},
    {0},
  };
  Exp e;
  int rc = exp_parse(&e, m, "the frozen-encoder classifier of the report's section 4", defaults,
                     flags, argc, argv);
  if (rc) {
    exp_free(&e);
    m->free(m);
    return rc == 1 ? 0 : rc;
  }
  if (!encoder)
    encoder = exp_path(&e, "autoencoder.ckpt");
  if (e.user_load) {
    fprintf(stderr, "error: the encoder comes from --encoder FILE; --load and --resume are not "
                    "options of this experiment\n");
    exp_free(&e);
    m->free(m);
    return 2;
  }
  e.drv.load = encoder;
  e.drv.load_prefix = "encoder_";
  if (!e.user_save)
    e.drv.save = exp_path(&e, "classifier.ckpt");
  FILE *f = fopen(encoder, "rb");
  if (!f) {
    fprintf(stderr, "error: %s: no autoencoder checkpoint; run experiment-autoencoder first "
                    "(with the same --out) or give --encoder FILE\n", encoder);
    exp_free(&e);
    m->free(m);
    return 1;
  }
  fclose(f);
  Mnist d;
  if (mnist_load(&d, e.drv.data)) {
    m->free(m);
    exp_free(&e);
    return 1;
  }
  // Freed at out: on errors too (LeakSanitizer checks the error exits).
  float **outs = NULL, *logp = NULL;
  DriverResult r;
  if ((rc = driver_run(m, &e.drv, &d, &r)))
    goto out;
  rc = 1;

  int compared, changed = encoder_changed(m, encoder, &compared);
  if (changed < 0)
    goto out;

  const int n = d.test.n, jl = exp_output(m, "logp");
  outs = exp_alloc(sizeof(float *) * m->n_outputs);
  logp = outs[jl] = exp_alloc(sizeof(float) * n * 10);
  double test_loss = exp_forward_set(m, &d.test, EXP_EVAL_SEED, outs);
  long counts[10][10] = {{0}}, correct = 0;
  for (int i = 0; i < n; i++) {
    int best = 0;
    for (int k = 1; k < 10; k++)
      if (logp[i * 10 + k] > logp[i * 10 + best])
        best = k;
    counts[d.test.labels[i]][best]++;
    correct += best == d.test.labels[i];
  }
  double accuracy = (double)correct / n;
  const char *fig_path = exp_path(&e, "classifier-confusion.png");
  if (confusion_save(fig_path, counts, &d.test))
    goto out;

  if (!e.drv.quiet) {
    printf("classifier (frozen encoder from %s): stopped after epoch %d, best epoch %d; "
           "test accuracy %.4f, test NLL %.4f; %.1f s training\n",
           encoder, r.epochs_run, r.best_epoch, accuracy, test_loss, r.seconds);
    printf("  encoder: %d tensors, %s\n", compared,
           changed ? "CHANGED by training (the freeze is broken)" : "bit-identical to the checkpoint");
    printf("  confusion (rows true 0-9, columns predicted 0-9):\n");
    for (int t = 0; t < 10; t++) {
      printf("   ");
      for (int p = 0; p < 10; p++)
        printf(" %5ld", counts[t][p]);
      printf("\n");
    }
    printf("  checkpoint %s\n  figure     %s\n", e.drv.save, fig_path);
  }
  if (e.drv.json) {
    exp_json_begin("finetune");
    exp_json_run(&r);
    exp_json_int("stopped_epoch", r.epochs_run);
    exp_json_num("test_accuracy", accuracy);
    exp_json_num("test_loss", test_loss);
    exp_json_int("encoder_tensors", compared);
    exp_json_int("encoder_unchanged", changed == 0);
    exp_json_str("encoder", encoder);
    exp_json_str("checkpoint", e.drv.save);
    exp_json_str("figure", fig_path);
    exp_json_end();
  }
  rc = changed ? 1 : 0;
out:
  free(logp);
  free(outs);
  mnist_free(&d);
  m->free(m);
  exp_free(&e);
  return rc;
}
