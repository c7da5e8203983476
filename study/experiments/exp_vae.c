// exp_vae.c — the report's section 5: the variational autoencoder
// (models/vae.net) with loss MSE + λ/2 Σ(σ² + μ² − 1 − ln σ²).  Writes
//   OUT/vae.ckpt
//   OUT/vae-traversal.png  a test "6" (first tile), then decoded from its
//                          mean code with the 0-th component z0 replaced by
//                          z0 (1 + k/5), k = 0..10: steps of one fifth of
//                          its value (Figure 4; read left to right, top row first)
//   OUT/vae-traversal-spread.png  the same "6" (first column), then row j decoded
//                          with component j swept over its spread on the
//                          test set, mean - 3 sd .. mean + 3 sd of mu_j in 11
//                          steps, the others kept at the 6's code: what each
//                          component encodes (row 0 is Figure 4's z0).  The
//                          report's rule moves z0 by fifths of the 6's own
//                          value, which may be a small part of z0's spread
//                          (then the digit barely changes)
//   OUT/samples.png        images decoded from the same 64 draws z ~ N(0, I):
//                          the autoencoder's decoder on the left (Figure 15),
//                          the VAE's on the right (Figure 16); the left half
//                          needs OUT/autoencoder.ckpt (--autoencoder FILE)
//   OUT/vae-codes.bin      the test set's mean codes μ (latent-analysis)
//
// λ: experiment-vae is compiled with EXP_VAE_LAMBDA (the report's 1e-5).
// With -D lambda=X for another X, training runs in a trainer that netc
// generates and cc compiles for that λ (netc-variant, cached in
// OUT/vae-lambda-X/, rebuilt when older than the model, netc-variant or
// this program), and this program loads its checkpoint: λ changes the
// loss, not the tensors, so the checkpoint fits this program's VAE.  The
// test loss is computed here from the exports (μ, log σ², y) with the λ
// asked for, whichever way the model was trained.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt.h"
#include "exp.h"
#include "latent.h"
#include "png_grid.h"
#include "vae.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define TRAVERSE_STEPS 11  // z0 (1 + k/5), k = 0..10
#define TRAVERSE_COLS 6
#define SPREAD_STEPS 11    // mean + (k - 5) 0.6 sd, k = 0..10: -3 sd .. +3 sd
#define SAMPLES_SIDE 8     // 8 x 8 samples per model

// The value of "key": in a JSON line, or NAN.
static double json_get(const char *line, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(line, pat);
  return p ? strtod(p + strlen(pat), NULL) : NAN;
}

// Runs argv (no shell), its stdout's last line into last.  Returns the exit status.
static int run_capture(char *const argv[], char *last, size_t size) {
  int fd[2];
  if (pipe(fd)) {
    perror("pipe");
    return 1;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    execv(argv[0], argv);
    fprintf(stderr, "error: %s: cannot run it\n", argv[0]);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  char line[4096];
  last[0] = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (line[0] != '{')
      fputs(line, stdout);      // the trainer's summary passes through
    snprintf(last, size, "%s", line);
  }
  if (f)
    fclose(f);
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) < 0)
    return 1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

// Whether the cached trainer is missing or older than what built it: the
// model, netc-variant, or this program (rebuilt with the runtime and netc).
static int variant_stale(const char *train) {
  struct stat t, s;
  if (stat(train, &t))
    return 1;
  const char *deps[] = {EXP_VAE_MODEL, EXP_NETC_VARIANT, "/proc/self/exe"};
  for (int i = 0; i < 3; i++)
    if (stat(deps[i], &s) == 0 && s.st_mtime >= t.st_mtime)
      return 1;
  return 0;
}

// Trains with a trainer compiled for lambda (built, or rebuilt when
// stale, by netc-variant into OUT/vae-lambda-X/); fills r from its JSON line.
static int train_variant(Exp *e, const char *lambda, DriverResult *r) {
  char dir[4096], def[128], train[4200];
  snprintf(dir, sizeof dir, "%s", exp_path(e, "vae-lambda-"));
  snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "%s", lambda);
  snprintf(def, sizeof def, "lambda=%s", lambda);
  snprintf(train, sizeof train, "%s/train", dir);
  if (variant_stale(train)) {
    fprintf(stderr, "building a VAE trainer for lambda %s in %s\n", lambda, dir);
    char *build[] = {EXP_NETC_VARIANT, dir, EXP_VAE_MODEL, "-D", def, NULL};
    char sink[16];
    if (run_capture(build, sink, sizeof sink)) {
      fprintf(stderr, "error: %s failed\n", EXP_NETC_VARIANT);
      return 1;
    }
  }
  char **av = exp_alloc(sizeof(char *) * (e->train_argc + 4));
  int ac = 0;
  av[ac++] = train;
  for (int i = 1; i < e->train_argc; i++)
    av[ac++] = e->train_argv[i];
  av[ac++] = "--save";
  av[ac++] = (char *)e->drv.save;
  av[ac++] = "--json";
  av[ac] = NULL;
  char last[4096];
  int rc = run_capture(av, last, sizeof last);
  free(av);
  if (rc)
    return rc;
  memset(r, 0, sizeof *r);
  r->epochs_run = (int)json_get(last, "epochs");
  r->best_epoch = r->epochs_run;   // the trainer's JSON does not say
  r->train_loss = json_get(last, "train_loss");
  r->val_loss = json_get(last, "val_loss");
  r->seconds = json_get(last, "seconds");
  r->train_images_per_second = json_get(last, "train_images_per_second");
  return 0;
}

// Two grids side by side (the left one may be NULL: left empty).
static int samples_save(const char *path, const float *left, const float *right) {
  const int gw = grid_width(SAMPLES_SIDE, 28), gap = 6 * GRID_MARGIN;
  Canvas c;
  if (canvas_init(&c, 2 * gw + gap, grid_height(SAMPLES_SIDE, 28), GRID_BG))
    return -1;
  if (left)
    canvas_grid(&c, 0, 0, left, SAMPLES_SIDE, SAMPLES_SIDE, 28, 28);
  canvas_grid(&c, gw + gap, 0, right, SAMPLES_SIDE, SAMPLES_SIDE, 28, 28);
  int rc = canvas_save(&c, path);
  canvas_free(&c);
  return rc;
}

// Trains (or has a λ variant train) m on d, then writes the test loss,
// codes and figures.  Frees what it allocates on every return; m, d and e
// stay the caller's.  Returns the exit status.
static int vae_run(Exp *e, NetModel *m, const Mnist *d, double lambda, const char *lambda_text,
                   const char *ae_ckpt) {
  float **outs = NULL, *mu = NULL, *logvar = NULL, *y = NULL, *x = NULL;
  float *trav = NULL, *z = NULL, *vae_s = NULL, *ae_s = NULL, *spread = NULL, *zs = NULL;
  NetModel *dec = NULL;
  DriverResult r;
  int rc;
  if (lambda == EXP_VAE_LAMBDA) {
    if ((rc = driver_run(m, &e->drv, d, &r)))
      return rc;
  } else {
    if ((rc = train_variant(e, lambda_text, &r)))
      return rc;
    if (ckpt_load(e->drv.save, m, NULL, NULL))
      return 1;
  }
  rc = 1;
  if (m->set_threads)
    m->set_threads(m, e->drv.threads);

  // Test loss, from the exports: z drawn with EXP_EVAL_SEED.
  const int n = d->test.n, jm = exp_output(m, "mu"), jv = exp_output(m, "logvar"),
            jy = exp_output(m, "y");
  const int latent = (int)m->outputs[jm].size;
  outs = exp_alloc(sizeof(float *) * m->n_outputs);
  mu = outs[jm] = exp_alloc(sizeof(float) * n * latent);
  logvar = outs[jv] = exp_alloc(sizeof(float) * n * latent);
  y = outs[jy] = exp_alloc(sizeof(float) * n * MNIST_PIXELS);
  x = exp_alloc(sizeof(float) * n * MNIST_PIXELS);
  exp_forward_set(m, &d->test, EXP_EVAL_SEED, outs);
  exp_images(&d->test, NULL, n, x);
  double se = 0, kl = 0;
  for (size_t i = 0; i < (size_t)n * MNIST_PIXELS; i++)
    se += (double)(y[i] - x[i]) * (y[i] - x[i]);
  for (size_t i = 0; i < (size_t)n * latent; i++)
    kl += 0.5 * (exp(logvar[i]) + (double)mu[i] * mu[i] - 1 - logvar[i]);
  const double test_mse = se / ((double)n * MNIST_PIXELS), test_kl = kl / n;
  const double test_loss = test_mse + lambda * test_kl;
  const char *codes_path = exp_path(e, "vae-codes.bin");
  if (exp_save_codes(codes_path, mu, d->test.labels, n, latent))
    goto out;

  // Figures: the VAE's decoder, and the autoencoder's if its checkpoint exists.
  dec = latent_decoder_new(e->drv.threads);
  if (latent_size(dec) != latent) {
    fprintf(stderr, "error: decoder latent %d, VAE latent %d\n", latent_size(dec), latent);
    goto out;
  }
  if (latent_decoder_load(dec, e->drv.save))
    goto out;
  int six = 0;
  while (six < n && d->test.labels[six] != 6)
    six++;
  trav = exp_alloc(sizeof(float) * (TRAVERSE_STEPS + 1) * MNIST_PIXELS);
  z = exp_alloc(sizeof(float) * SAMPLES_SIDE * SAMPLES_SIDE * latent);
  if (six < n) {
    for (int k = 0; k < TRAVERSE_STEPS; k++) {
      memcpy(z + k * latent, mu + (size_t)six * latent, sizeof(float) * latent);
      z[k * latent] *= 1.0f + k / 5.0f;
    }
    memcpy(trav, x + (size_t)six * MNIST_PIXELS, sizeof(float) * MNIST_PIXELS);
    latent_decode(dec, z, TRAVERSE_STEPS, trav + MNIST_PIXELS);
  }
  const char *trav_path = exp_path(e, "vae-traversal.png");
  if (six < n && png_grid_save(trav_path, trav, (TRAVERSE_STEPS + 1) / TRAVERSE_COLS,
                               TRAVERSE_COLS, 28, 28))
    goto out;

  // Each component over its spread on the test set (mean and sd of mu_j).
  const int scols = SPREAD_STEPS + 1;
  double z0_mean = 0, z0_sd = 0;
  spread = exp_alloc(sizeof(float) * latent * scols * MNIST_PIXELS);
  zs = exp_alloc(sizeof(float) * SPREAD_STEPS * latent);
  const char *spread_path = exp_path(e, "vae-traversal-spread.png");
  if (six < n) {
    for (int j = 0; j < latent; j++) {
      double s1 = 0, s2 = 0;
      for (int i = 0; i < n; i++) {
        double v = mu[(size_t)i * latent + j];
        s1 += v, s2 += v * v;
      }
      double mean = s1 / n, sd = sqrt(fmax(s2 / n - mean * mean, 0));
      if (j == 0)
        z0_mean = mean, z0_sd = sd;
      for (int k = 0; k < SPREAD_STEPS; k++) {
        memcpy(zs + k * latent, mu + (size_t)six * latent, sizeof(float) * latent);
        zs[k * latent + j] = (float)(mean + (k - SPREAD_STEPS / 2) * (6.0 / (SPREAD_STEPS - 1)) * sd);
      }
      float *row = spread + (size_t)j * scols * MNIST_PIXELS;
      memcpy(row, x + (size_t)six * MNIST_PIXELS, sizeof(float) * MNIST_PIXELS);
      latent_decode(dec, zs, SPREAD_STEPS, row + MNIST_PIXELS);
    }
    if (png_grid_save(spread_path, spread, latent, scols, 28, 28))
      goto out;
  }

  const int ns = SAMPLES_SIDE * SAMPLES_SIDE;
  latent_draw(EXP_FIGURE_SEED, ns, latent, z);
  vae_s = exp_alloc(sizeof(float) * ns * MNIST_PIXELS);
  latent_decode(dec, z, ns, vae_s);
  if (access(ae_ckpt, R_OK) == 0) {
    if (latent_decoder_load(dec, ae_ckpt))
      goto out;
    ae_s = exp_alloc(sizeof(float) * ns * MNIST_PIXELS);
    latent_decode(dec, z, ns, ae_s);
  } else {
    fprintf(stderr, "note: %s: no autoencoder checkpoint, samples.png has the VAE's half only "
                    "(run experiment-autoencoder first or give --autoencoder FILE)\n", ae_ckpt);
  }
  const char *samples_path = exp_path(e, "samples.png");
  if (samples_save(samples_path, ae_s, vae_s))
    goto out;

  if (!e->drv.quiet) {
    printf("vae (lambda %s): %d epochs, test loss %.5f = MSE %.5f + lambda x KL %.3f; %.1f s training\n",
           lambda_text, r.epochs_run, test_loss, test_mse, test_kl, r.seconds);
    printf("  checkpoint %s\n  figures    %s, %s, %s%s\n  codes      %s\n", e->drv.save,
           six < n ? trav_path : "(no test 6)", six < n ? spread_path : "(no test 6)", samples_path,
           ae_s ? "" : " (VAE only)", codes_path);
    if (six < n)
      printf("  traversal  the 6's z0 = %.3f; z0 on the test set: mean %.3f, sd %.3f\n",
             mu[(size_t)six * latent], z0_mean, z0_sd);
  }
  if (e->drv.json) {
    exp_json_begin("vae");
    exp_json_num("lambda", lambda);
    exp_json_run(&r);
    exp_json_num("test_loss", test_loss);
    exp_json_num("test_mse", test_mse);
    exp_json_num("test_kl", test_kl);
    exp_json_int("traversal_index", six < n ? six : -1);
    exp_json_int("autoencoder_samples", ae_s != NULL);
    exp_json_str("checkpoint", e->drv.save);
    exp_json_str("traversal", trav_path);
    if (six < n) {
      exp_json_str("traversal_spread", spread_path);
      exp_json_num("traversal_z0", mu[(size_t)six * latent]);
      exp_json_num("z0_test_mean", z0_mean);
      exp_json_num("z0_test_sd", z0_sd);
    }
    exp_json_str("samples", samples_path);
    exp_json_str("codes", codes_path);
    exp_json_end();
  }
  rc = 0;
out:
  free(ae_s), free(vae_s), free(z), free(trav), free(spread), free(zs);
  free(mu), free(logvar), free(y), free(x), free(outs);
  if (dec)
    dec->free(dec);
  return rc;
}

int main(int argc, char **argv) {
  NetModel *m = vae_new();
  static const char *const defaults[] = {"--epochs", "20", "--batch", "64", "--lr", "2e-3", NULL};
  const char *define = NULL, *ae_ckpt = NULL;
  ExpFlag flags[] = {
    {"-D", "lambda=X", "weight of the KL term [" STR(EXP_VAE_LAMBDA) ", the report's]", &define},
    {"--autoencoder", "FILE", "checkpoint for Figure 15 (default OUT/autoencoder.ckpt)", &ae_ckpt},
    {0},
  };
  Exp e;
  int rc = exp_parse(&e, m, "the variational autoencoder of the report's section 5", defaults,
                     flags, argc, argv);
  if (rc) {
    exp_free(&e);
    m->free(m);
    return rc == 1 ? 0 : rc;
  }
  const char *lambda_text = STR(EXP_VAE_LAMBDA);
  if (define) {
    char *end;
    if (strncmp(define, "lambda=", 7) || (strtod(define + 7, &end), *end) || end == define + 7) {
      fprintf(stderr, "error: -D %s: only lambda=NUMBER is a constant of this experiment\n", define);
      exp_free(&e);
      m->free(m);
      return 2;
    }
    lambda_text = define + 7;
  }
  const double lambda = strtod(lambda_text, NULL);
  if (!(lambda >= 0) || !isfinite(lambda)) {
    fprintf(stderr, "error: -D lambda=%s: must be a finite number >= 0\n", lambda_text);
    exp_free(&e);
    m->free(m);
    return 2;
  }
  if (!ae_ckpt)
    ae_ckpt = exp_path(&e, "autoencoder.ckpt");
  if (!e.user_save)
    e.drv.save = exp_path(&e, "vae.ckpt");
  Mnist d;
  rc = 1;
  if (mnist_load(&d, e.drv.data) == 0) {
    rc = vae_run(&e, m, &d, lambda, lambda_text, ae_ckpt);
    mnist_free(&d);
  }
  m->free(m);
  exp_free(&e);
  return rc;
}
