// test_optim.c — SGD / Adam / AdamW (betas, eps, AMSGrad) / RMSprop against torch.optim, step by step
// (fixtures/optim_*.txt from make_fixtures.py), plus the frozen-block rule.
#include "optim.h"
#include "testutil.h"

static const char *CASES[] = {
  "sgd_plain", "sgd_momentum", "sgd_dampening", "sgd_nesterov", "sgd_wd",
  "sgd_momentum_wd_nesterov", "adam", "adam_wd", "adamw", "adamw_lr1e-3",
  "adam_betas_eps", "adam_amsgrad", "adamw_amsgrad", "rmsprop", "rmsprop_momentum",
  "rmsprop_centered", "rmsprop_centered_momentum_wd", "sgd_momentum_wd_exempt", "adam_wd_exempt",
  "adamw_exempt", "rmsprop_wd_exempt", NULL};

static void run_case(const char *dir, const char *name) {
  char path[1024], key[16];
  snprintf(path, sizeof path, "%s/optim_%s.txt", dir, name);
  Fixture f;
  if (fixture_read(&f, path))
    return;
  int n;
  float *cfgv = fixture_get(&f, "config", NULL), *p0 = fixture_get(&f, "p0", &n);
  if (!cfgv || !p0)
    return;
  OptimConfig c = optim_config_default((OptimKind)(int)cfgv[0]);
  c.lr = cfgv[1];
  c.momentum = cfgv[2];
  c.dampening = cfgv[3];
  c.nesterov = (int)cfgv[4];
  c.weight_decay = cfgv[5];
  c.beta1 = cfgv[6];
  c.beta2 = cfgv[7];
  c.eps = cfgv[8];
  for (int i = 0; i < f.n; i++)
    c.amsgrad |= strcmp(f.name[i], "amsgrad") == 0;
  double rms[2];
  if (c.kind == OPTIM_RMSPROP && fixture_doubles(path, "rmsprop", rms, 2) == 2) {
    c.alpha = rms[0];
    c.centered = (int)rms[1];
  }
  // The fixture stores lr etc. as %.9g text of the double torch used:
  // re-read them in double precision so 0.1 is 0.1, not (float)0.1.
  FILE *fp = fopen(path, "r");
  char line[256];
  while (fgets(line, sizeof line, fp))
    if (strncmp(line, "config ", 7) == 0) {
      double v[9];
      if (fscanf(fp, "%lf %lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4],
                 &v[5], &v[6], &v[7], &v[8]) == 9) {
        c.lr = v[1]; c.momentum = v[2]; c.dampening = v[3]; c.weight_decay = v[5];
        c.beta1 = v[6]; c.beta2 = v[7]; c.eps = v[8];
      }
      break;
    }
  fclose(fp);

  Optim o;
  CHECK(optim_init(&o, &c, (size_t)n) == 0, "%s: optim_init", name);
  uint8_t decay[256];
  for (int i = 0; i < f.n; i++)
    if (strcmp(f.name[i], "decay") == 0 && f.count[i] == n) {
      for (int k = 0; k < n; k++)
        decay[k] = f.data[i][k] != 0;
      optim_set_decay_mask(&o, decay);
    }
  float p[256];
  memcpy(p, p0, sizeof(float) * n);
  double worst = 0;
  for (int k = 1;; k++) {
    snprintf(key, sizeof key, "g%d", k);
    int has = 0;
    for (int i = 0; i < f.n; i++) has |= strcmp(f.name[i], key) == 0;
    if (!has) break;
    float *g = fixture_get(&f, key, NULL);
    snprintf(key, sizeof key, "p%d", k);
    float *want = fixture_get(&f, key, NULL);
    optim_step(&o, p, g);
    double d = t_maxdiff(p, want, (size_t)n);
    if (d > worst) worst = d;
    CHECK(d <= 1e-6, "%s: step %d: max relative difference %.3g", name, k, d);
  }
  printf("optim %-26s %2lld steps  max rel diff vs torch %.3g\n", name, (long long)o.step, worst);
  optim_free(&o);
  fixture_free(&f);
}

// Frozen tensors sit after n_trainable: a step over n_trainable floats
// must leave the rest alone.
static void test_frozen_block(void) {
  float p[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  OptimConfig c = optim_config_default(OPTIM_ADAM);
  Optim o;
  optim_init(&o, &c, 5);
  optim_step(&o, p, g);
  CHECK(p[0] < 1 && p[4] < 5, "trainable part updated");
  CHECK(p[5] == 6 && p[6] == 7 && p[7] == 8, "frozen part untouched");
  optim_free(&o);
}

static void test_bad_config(void) {
  OptimConfig c = optim_config_default(OPTIM_SGD);
  c.nesterov = 1;   // without momentum: torch refuses too
  Optim o;
  t_stderr_begin();
  int rc = optim_init(&o, &c, 4);
  const char *msg = t_stderr_end();
  CHECK(rc == -1 && strstr(msg, "Nesterov"), "nesterov without momentum refused");
}

// Gradient clipping against torch.nn.utils (fixtures/clip.txt): by norm
// when it clips (1.5) and when it does not (1000), and by value.
static void test_clip(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/clip.txt", dir);
  Fixture f;
  if (fixture_read(&f, path))
    return;
  int n;
  float *g0 = fixture_get(&f, "g", &n), g[64];
  if (!g0 || n > 64)
    return;
  const char *tags[] = {"norm_1.5", "norm_1000"};
  const double max_norm[] = {1.5, 1000};
  for (int t = 0; t < 2; t++) {
    char key[32];
    memcpy(g, g0, sizeof(float) * n);
    double total = optim_clip_norm(g, (size_t)n, max_norm[t]);
    snprintf(key, sizeof key, "%s_total", tags[t]);
    float *want_total = fixture_get(&f, key, NULL);
    snprintf(key, sizeof key, "%s_g", tags[t]);
    float *want = fixture_get(&f, key, NULL);
    if (!want_total || !want)
      continue;
    double dt = t_reldiff((float)total, want_total[0]), dg = t_maxdiff(g, want, (size_t)n);
    printf("clip_grad_norm_ %-10s norm %.6g  max rel diff vs torch: norm %.3g, gradients %.3g\n",
           tags[t], total, dt, dg);
    CHECK(dt <= 1e-6 && dg <= 1e-6, "%s: norm %.3g, gradients %.3g off", tags[t], dt, dg);
  }
  memcpy(g, g0, sizeof(float) * n);
  optim_clip_value(g, (size_t)n, 0.25);
  float *want = fixture_get(&f, "value_0.25_g", NULL);
  if (want) {
    double d = t_maxdiff(g, want, (size_t)n);
    printf("clip_grad_value_ 0.25      max rel diff vs torch %.3g\n", d);
    CHECK(d == 0, "clip by value: %.3g off", d);
  }
  fixture_free(&f);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "fixtures";
  for (int i = 0; CASES[i]; i++)
    run_case(dir, CASES[i]);
  test_clip(dir);
  test_frozen_block();
  test_bad_config();
  return t_finish("test_optim");
}
