// Trustworthiness and 10-NN accuracy against scikit-learn on a committed
// fixture (make_fixtures.py), plus the extremes: an embedding that is the
// input itself is perfectly trustworthy.
#include <string.h>

#include "check.h"
#include "codes.h"
#include "quality.h"

// Reads "# key value" from the fixture's comment lines.
static double fixture_value(const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  char line[256], k[64];
  double v = NAN, t;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "# %63s %lf", k, &t) == 2 && !strcmp(k, key))
      v = t;
  if (f)
    fclose(f);
  return v;
}

int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/quality.csv", argc > 1 ? argv[1] : "fixtures");
  Codes c;
  if (codes_load(path, &c) != 0 || c.d != 7) {
    printf("FAIL: cannot read %s as 7 columns\n", path);
    return 1;
  }
  int n = c.n;
  float *x = malloc((size_t)n * 5 * sizeof(float)), *y = malloc((size_t)n * 2 * sizeof(float));
  for (int i = 0; i < n; i++) {
    memcpy(x + i * 5, c.x + i * 7, 5 * sizeof(float));
    memcpy(y + i * 2, c.x + i * 7 + 5, 2 * sizeof(float));
  }
  double want_t = fixture_value(path, "trustworthiness5");
  double want_a = fixture_value(path, "knn10");
  for (int threads = 1; threads <= 2; threads++) {
    double t = quality_trustworthiness(x, 5, y, 2, n, 5, threads);
    double a = quality_knn_accuracy(y, 2, c.label, n, 10, threads);
    printf("quality: threads %d: trustworthiness %.10f (sklearn %.10f, diff "
           "%.1e), 10-NN accuracy %.6f (reference %.6f)\n",
           threads, t, want_t, fabs(t - want_t), a, want_a);
    CHECK(fabs(t - want_t) < 1e-9, "trustworthiness %g vs %g", t, want_t);
    CHECK(fabs(a - want_a) < 1e-9, "accuracy %g vs %g", a, want_a);
  }
  // y = the first two input coordinates of a 2-D input: T = 1.
  float *x2 = malloc((size_t)n * 2 * sizeof(float));
  for (int i = 0; i < n; i++)
    x2[2 * i] = x[5 * i], x2[2 * i + 1] = x[5 * i + 1];
  double t1 = quality_trustworthiness(x2, 2, x2, 2, n, 5, 2);
  printf("quality: identity embedding: trustworthiness %.10f\n", t1);
  CHECK(t1 == 1.0, "%g", t1);
  // Labels that are a function of the cluster and well separated: acc 1.
  int lab[40];
  float sep[80];
  for (int i = 0; i < 40; i++)
    lab[i] = i / 20, sep[2 * i] = (float)(i / 20 * 100 + i % 20 * 0.1),
    sep[2 * i + 1] = (float)(i % 7);
  double a1 = quality_knn_accuracy(sep, 2, lab, 40, 10, 2);
  printf("quality: two far clusters: 10-NN accuracy %.4f\n", a1);
  CHECK(a1 == 1.0, "%g", a1);
  free(x), free(y), free(x2);
  codes_free(&c);
  return t_finish("test_quality");
}
