// exp_autoencoder.c — the report's section 2: train the convolutional
// autoencoder (models/autoencoder.net), measure the test MSE, and write
//   OUT/autoencoder.ckpt               the trained parameters (the fine-tuning
//                                      and VAE experiments read its encoder / decoder)
//   OUT/autoencoder-reconstructions.png  test images above their reconstructions (Figure 8)
//   OUT/autoencoder-codes.bin          the encoded test set with labels (latent-analysis)
#include <stdio.h>
#include <stdlib.h>

#include "autoencoder.h"
#include "exp.h"
#include "png_grid.h"

#define FIG_COLS 10      // images per row
#define FIG_PAIRS 3      // rows of originals, each above its reconstructions

int main(int argc, char **argv) {
  NetModel *m = autoencoder_new();
  static const char *const defaults[] = {"--epochs", "20", "--batch", "64", "--lr", "2e-3", NULL};
  Exp e;
  int rc = exp_parse(&e, m, "the autoencoder of the report's section 2", defaults, NULL, argc, argv);
  if (rc) {
    exp_free(&e);
    m->free(m);
    return rc == 1 ? 0 : rc;
  }
  if (!e.user_save)
    e.drv.save = exp_path(&e, "autoencoder.ckpt");
  Mnist d;
  if (mnist_load(&d, e.drv.data)) {
    m->free(m);
    exp_free(&e);
    return 1;
  }
  // Freed at out: on errors too (LeakSanitizer checks the error exits).
  float **outs = NULL, *code = NULL, *y = NULL, *fig = NULL;
  DriverResult r;
  if ((rc = driver_run(m, &e.drv, &d, &r)))
    goto out;
  rc = 1;

  // Codes and reconstructions of the whole test set, one pass.
  const int n = d.test.n, latent = (int)m->outputs[exp_output(m, "code")].size;
  outs = exp_alloc(sizeof(float *) * m->n_outputs);
  code = outs[exp_output(m, "code")] = exp_alloc(sizeof(float) * n * latent);
  y = outs[exp_output(m, "y")] = exp_alloc(sizeof(float) * n * MNIST_PIXELS);
  double test_mse = exp_forward_set(m, &d.test, EXP_EVAL_SEED, outs);

  const int nfig = FIG_COLS * FIG_PAIRS;
  fig = exp_alloc(sizeof(float) * 2 * nfig * MNIST_PIXELS);
  for (int i = 0; i < nfig && i < n; i++) {
    int row = i / FIG_COLS, col = i % FIG_COLS;
    float *top = fig + (size_t)((2 * row) * FIG_COLS + col) * MNIST_PIXELS;
    exp_images(&d.test, (int[]){i}, 1, top);
    for (int p = 0; p < MNIST_PIXELS; p++)
      top[FIG_COLS * MNIST_PIXELS + p] = y[(size_t)i * MNIST_PIXELS + p];
  }
  const char *fig_path = exp_path(&e, "autoencoder-reconstructions.png");
  const char *codes_path = exp_path(&e, "autoencoder-codes.bin");
  if (png_grid_save(fig_path, fig, 2 * FIG_PAIRS, FIG_COLS, 28, 28) ||
      exp_save_codes(codes_path, code, d.test.labels, n, latent))
    goto out;

  if (!e.drv.quiet) {
    printf("autoencoder (latent %d): %d epochs, test MSE %.5f (%d test images), %.1f s training\n",
           latent, r.epochs_run, test_mse, n, r.seconds);
    printf("  checkpoint %s\n  figure     %s\n  codes      %s\n", e.drv.save, fig_path, codes_path);
  }
  if (e.drv.json) {
    exp_json_begin("autoencoder");
    exp_json_int("latent", latent);
    exp_json_run(&r);
    exp_json_num("test_mse", test_mse);
    exp_json_int("test_images", n);
    exp_json_str("checkpoint", e.drv.save);
    exp_json_str("figure", fig_path);
    exp_json_str("codes", codes_path);
    exp_json_end();
  }
  rc = 0;
out:
  free(fig);
  free(code);
  free(y);
  free(outs);
  mnist_free(&d);
  m->free(m);
  exp_free(&e);
  return rc;
}
