// exp_denoiser.c — the report's section 3: train the autoencoder's networks
// to reconstruct clean images from noisy ones (models/denoiser.net, the
// report's noise: per image mu ~ N(0, 1), sigma = |N(0.5, 0.5)|, every
// pixel + N(mu, sigma^2)).  The test loss is measured with noise from a
// fixed seed (EXP_EVAL_SEED), the figure's with another (EXP_FIGURE_SEED),
// so both are reproducible and independent of --seed.  Writes
//   OUT/denoiser.ckpt
//   OUT/denoiser-triplets.png   rows of originals, noisy inputs (clamped to [0, 1]
//                               for display only), denoised (Figure 3)
//   OUT/denoiser-codes.bin      codes of the noisy test set (latent-analysis)
#include <stdio.h>
#include <stdlib.h>

#include "denoiser.h"
#include "exp.h"
#include "png_grid.h"

#define FIG_COLS 10
#define FIG_TRIPLETS 2   // blocks of three rows: original, noisy, denoised

static double mse(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double)(a[i] - b[i]) * (a[i] - b[i]);
  return s / n;
}

int main(int argc, char **argv) {
  NetModel *m = denoiser_new();
  static const char *const defaults[] = {"--epochs", "20", "--batch", "64", "--lr", "2e-3", NULL};
  Exp e;
  int rc = exp_parse(&e, m, "the denoiser of the report's section 3", defaults, NULL, argc, argv);
  if (rc) {
    exp_free(&e);
    m->free(m);
    return rc == 1 ? 0 : rc;
  }
  if (!e.user_save)
    e.drv.save = exp_path(&e, "denoiser.ckpt");
  Mnist d;
  if (mnist_load(&d, e.drv.data)) {
    m->free(m);
    exp_free(&e);
    return 1;
  }
  // Freed at out: on errors too (LeakSanitizer checks the error exits).
  float **outs = NULL, *code = NULL, *noisy = NULL, *clean = NULL;
  float **fouts = NULL, *fnoisy = NULL, *fy = NULL, *fig = NULL;
  DriverResult r;
  if ((rc = driver_run(m, &e.drv, &d, &r)))
    goto out;
  rc = 1;

  // Test loss: reconstruction of the clean image from its noisy version.
  const int n = d.test.n, jc = exp_output(m, "code"), jn = exp_output(m, "noisy"),
            jy = exp_output(m, "y");
  const int latent = (int)m->outputs[jc].size;
  outs = exp_alloc(sizeof(float *) * m->n_outputs);
  code = outs[jc] = exp_alloc(sizeof(float) * n * latent);
  noisy = outs[jn] = exp_alloc(sizeof(float) * n * MNIST_PIXELS);
  clean = exp_alloc(sizeof(float) * n * MNIST_PIXELS);
  double test_loss = exp_forward_set(m, &d.test, EXP_EVAL_SEED, outs);
  exp_images(&d.test, NULL, n, clean);
  double noisy_mse = mse(noisy, clean, (size_t)n * MNIST_PIXELS);   // doing nothing scores this
  const char *codes_path = exp_path(&e, "denoiser-codes.bin");
  if (exp_save_codes(codes_path, code, d.test.labels, n, latent))
    goto out;

  // The figure: its own noise draw on the first images of the test set.
  const int nfig = FIG_COLS * FIG_TRIPLETS;
  fouts = exp_alloc(sizeof(float *) * m->n_outputs);
  fnoisy = fouts[jn] = exp_alloc(sizeof(float) * nfig * MNIST_PIXELS);
  fy = fouts[jy] = exp_alloc(sizeof(float) * nfig * MNIST_PIXELS);
  exp_forward(m, clean, d.test.labels, nfig, EXP_FIGURE_SEED, fouts);
  fig = exp_alloc(sizeof(float) * 3 * nfig * MNIST_PIXELS);
  const float *src[3] = {clean, fnoisy, fy};
  for (int i = 0; i < nfig; i++)
    for (int k = 0; k < 3; k++) {
      int row = 3 * (i / FIG_COLS) + k, col = i % FIG_COLS;
      for (int p = 0; p < MNIST_PIXELS; p++)
        fig[(size_t)(row * FIG_COLS + col) * MNIST_PIXELS + p] = src[k][(size_t)i * MNIST_PIXELS + p];
    }
  const char *fig_path = exp_path(&e, "denoiser-triplets.png");
  if (png_grid_save(fig_path, fig, 3 * FIG_TRIPLETS, FIG_COLS, 28, 28))
    goto out;

  if (!e.drv.quiet) {
    printf("denoiser: %d epochs, test loss %.5f (MSE to the clean image; the noisy input's is %.4f), "
           "%.1f s training\n", r.epochs_run, test_loss, noisy_mse, r.seconds);
    printf("  checkpoint %s\n  figure     %s\n  codes      %s\n", e.drv.save, fig_path, codes_path);
  }
  if (e.drv.json) {
    exp_json_begin("denoiser");
    exp_json_run(&r);
    exp_json_num("test_loss", test_loss);
    exp_json_num("noisy_input_mse", noisy_mse);
    exp_json_int("noise_seed", EXP_EVAL_SEED);
    exp_json_str("checkpoint", e.drv.save);
    exp_json_str("figure", fig_path);
    exp_json_str("codes", codes_path);
    exp_json_end();
  }
  rc = 0;
out:
  free(fig), free(fnoisy), free(fy), free(fouts);
  free(code), free(noisy), free(clean), free(outs);
  mnist_free(&d);
  m->free(m);
  exp_free(&e);
  return rc;
}
