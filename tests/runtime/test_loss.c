// test_loss.c — reference losses and gradients against PyTorch
// (fixtures/losses.txt from make_fixtures.py).
#include "loss.h"
#include "testutil.h"

static void cmp(const char *what, const float *got, const float *want, size_t n) {
  double d = t_maxdiff(got, want, n);
  printf("loss %-22s max rel diff vs torch %.3g\n", what, d);
  CHECK(d <= 1e-6, "%s: max relative difference %.3g", what, d);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "fixtures";
  char path[1024];
  snprintf(path, sizeof path, "%s/losses.txt", dir);
  Fixture f;
  if (fixture_read(&f, path))
    return t_finish("test_loss");
  float buf[8192], buf2[8192];
  int n;

  float *y = fixture_get(&f, "mse_y", &n), *t = fixture_get(&f, "mse_t", NULL);
  float l = loss_mse(y, t, (size_t)n, buf);
  cmp("mse value", &l, fixture_get(&f, "mse_loss", NULL), 1);
  cmp("mse gradient", buf, fixture_get(&f, "mse_dy", NULL), (size_t)n);

  float *x = fixture_get(&f, "ls_x", &n), *lab = fixture_get(&f, "nll_labels", NULL);
  int rows = n / 10;
  loss_log_softmax(x, rows, 10, buf);
  cmp("log_softmax value", buf, fixture_get(&f, "ls_out", NULL), (size_t)n);
  int32_t labels[16];
  for (int i = 0; i < rows; i++) labels[i] = (int32_t)lab[i];
  float *logp = fixture_get(&f, "ls_out", NULL);   // torch's log-probabilities
  l = loss_nll(logp, labels, rows, 10, buf2);
  cmp("nll value", &l, fixture_get(&f, "nll_loss", NULL), 1);
  cmp("nll gradient", buf2, fixture_get(&f, "nll_dlogp", NULL), (size_t)n);
  float dx[64];
  loss_log_softmax_backward(logp, buf2, rows, 10, dx);
  cmp("log_softmax+nll grad", dx, fixture_get(&f, "ls_dx", NULL), (size_t)n);

  float *x2 = fixture_get(&f, "ls2_x", &n);
  loss_log_softmax(x2, n / 10, 10, buf);
  cmp("log_softmax value 2", buf, fixture_get(&f, "ls2_out", NULL), (size_t)n);
  loss_log_softmax_backward(fixture_get(&f, "ls2_out", NULL), fixture_get(&f, "ls2_up", NULL),
                            n / 10, 10, dx);
  cmp("log_softmax backward", dx, fixture_get(&f, "ls2_dx", NULL), (size_t)n);

  float *mu = fixture_get(&f, "kl_mu", &n), *lv = fixture_get(&f, "kl_lv", NULL);
  l = loss_kl(mu, lv, (size_t)n, buf, buf2);
  cmp("kl value", &l, fixture_get(&f, "kl_loss", NULL), 1);
  cmp("kl dmu", buf, fixture_get(&f, "kl_dmu", NULL), (size_t)n);
  cmp("kl dlogvar", buf2, fixture_get(&f, "kl_dlv", NULL), (size_t)n);
  fixture_free(&f);
  return t_finish("test_loss");
}
