// PCA recovers the axes and variances of synthetic data built from known
// orthonormal directions, and its signs do not depend on the data's sign.
#include <string.h>

#include "check.h"
#include "pca.h"

enum { N = 4000, D = 6, K = 4 };

int main(void) {
  static float x[N * D], xneg[N * D], proj[N * K];
  // Orthonormal basis v (D, D): Gram–Schmidt of seeded normal vectors.
  double v[D][D];
  Rng r = rng_stream(7, 0);
  for (int a = 0; a < D; a++) {
    for (int j = 0; j < D; j++)
      v[a][j] = rng_normal(&r);
    for (int b = 0; b < a; b++) {
      double dot = 0;
      for (int j = 0; j < D; j++)
        dot += v[a][j] * v[b][j];
      for (int j = 0; j < D; j++)
        v[a][j] -= dot * v[b][j];
    }
    double nrm = 0;
    for (int j = 0; j < D; j++)
      nrm += v[a][j] * v[a][j];
    for (int j = 0; j < D; j++)
      v[a][j] /= sqrt(nrm);
  }
  const double sd[D] = {5, 3, 1.5, 0.8, 0.2, 0.1}, offset[D] = {10, -3, 2, 0, 1, 7};
  double total = 0;
  for (int a = 0; a < D; a++)
    total += sd[a] * sd[a];
  for (int i = 0; i < N; i++) {
    Rng ri = rng_stream(8, (uint64_t)i);
    double z[D];
    for (int a = 0; a < D; a++)
      z[a] = sd[a] * rng_normal(&ri);
    for (int j = 0; j < D; j++) {
      double s = offset[j];
      for (int a = 0; a < D; a++)
        s += z[a] * v[a][j];
      x[i * D + j] = (float)s;
      xneg[i * D + j] = (float)(-s);
    }
  }
  Pca p, q;
  CHECK(pca_fit(&p, x, N, D, K) == 0, "fit");
  CHECK(pca_fit(&q, xneg, N, D, K) == 0, "fit of -x");
  double worst_axis = 0, worst_ratio = 0, worst_sign = 0;
  for (int c = 0; c < K; c++) {
    double dot = 0;
    for (int j = 0; j < D; j++)
      dot += p.components[c * D + j] * v[c][j];
    worst_axis = fmax(worst_axis, 1 - fabs(dot));
    double want = sd[c] * sd[c] / total;
    worst_ratio = fmax(worst_ratio, fabs(p.variance_ratio[c] - want) / want);
    // Sign rule: the largest-magnitude loading is positive...
    int arg = 0;
    for (int j = 1; j < D; j++)
      if (fabsf(p.components[c * D + j]) > fabsf(p.components[c * D + arg]))
        arg = j;
    CHECK(p.components[c * D + arg] > 0, "component %d: largest loading %g", c,
          p.components[c * D + arg]);
    // ...so -x has the very same components.
    for (int j = 0; j < D; j++)
      worst_sign = fmax(worst_sign, fabs(p.components[c * D + j] - q.components[c * D + j]));
  }
  printf("pca: max 1-|cos(axis, true)| %.2e, max rel. error of variance ratio "
         "%.2e, max |comp(x) - comp(-x)| %.2e\n", worst_axis, worst_ratio, worst_sign);
  CHECK(worst_axis < 1e-3, "axes %g", worst_axis);
  CHECK(worst_ratio < 0.08, "variance ratio %g", worst_ratio); // sampling, n=4000
  CHECK(worst_sign < 1e-4, "signs %g", worst_sign);
  for (int c = 0; c + 1 < K; c++)
    CHECK(p.variance[c] >= p.variance[c + 1], "order %d", c);
  // The projection has the fitted variances and zero mean.
  pca_transform(&p, x, N, proj);
  double worst_var = 0;
  for (int c = 0; c < K; c++) {
    double m = 0, s = 0;
    for (int i = 0; i < N; i++)
      m += proj[i * K + c];
    m /= N;
    for (int i = 0; i < N; i++)
      s += (proj[i * K + c] - m) * (proj[i * K + c] - m);
    s /= N - 1;
    worst_var = fmax(worst_var, fabs(s - p.variance[c]) / p.variance[c]);
    CHECK(fabs(m) < 1e-3 * sd[0], "projection mean %g", m);
  }
  printf("pca: max rel. difference of projected vs fitted variance %.2e\n", worst_var);
  CHECK(worst_var < 1e-4, "%g", worst_var);
  pca_free(&p), pca_free(&q);
  return t_finish("test_pca");
}
