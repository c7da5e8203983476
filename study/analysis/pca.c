// pca.c — PCA: covariance in double (cblas_dsyrk), eigenvectors by the
// divide-and-conquer symmetric solver (LAPACKE_dsyevd).  d is small (codes
// of 2-64 dims, at most 784 pixels), so forming the d x d covariance is
// cheaper and simpler than an SVD of the n x d data.
#include "pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

// Flips v (d) so that its largest-magnitude entry is positive.
static void sign_fix(float *v, int d) {
  int arg = 0;
  for (int j = 1; j < d; j++)
    if (fabsf(v[j]) > fabsf(v[arg]))
      arg = j;
  if (v[arg] < 0)
    for (int j = 0; j < d; j++)
      v[j] = -v[j];
}

int pca_fit(Pca *p, const float *x, int n, int d, int k) {
  p->d = d;
  p->k = k;
  p->mean = calloc((size_t)d, sizeof(float));
  p->components = malloc((size_t)k * d * sizeof(float));
  p->variance = malloc((size_t)k * sizeof(float));
  p->variance_ratio = malloc((size_t)k * sizeof(float));
  double *mean = calloc((size_t)d, sizeof(double));
  double *xc = calloc((size_t)n * d, sizeof(double)); // (n, d) centred
  double *cov = malloc((size_t)d * d * sizeof(double)); // (d, d)
  double *w = malloc((size_t)d * sizeof(double));
  if (!p->mean || !p->components || !p->variance || !p->variance_ratio ||
      !mean || !xc || !cov || !w) {
    fprintf(stderr, "pca: out of memory (n=%d, d=%d)\n", n, d);
    free(mean), free(xc), free(cov), free(w);
    pca_free(p);
    return -1;
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mean[j] += x[(size_t)i * d + j];
  for (int j = 0; j < d; j++)
    mean[j] /= n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      xc[(size_t)i * d + j] = x[(size_t)i * d + j] - mean[j];
  // Upper triangle of cov = xc^T xc / (n - 1).
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, n, 1.0 / (n - 1), xc,
              d, 0.0, cov, d);
  // Eigenvalues ascending in w; eigenvector c is column c of cov.
  int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', d, cov, d, w);
  if (info != 0) {
    fprintf(stderr, "pca: LAPACKE_dsyevd failed (info=%d)\n", info);
    free(mean), free(xc), free(cov), free(w);
    pca_free(p);
    return -1;
  }
  double total = 0;
  for (int j = 0; j < d; j++)
    total += w[j] > 0 ? w[j] : 0;
  for (int c = 0; c < k; c++) {
    int col = d - 1 - c;
    for (int j = 0; j < d; j++)
      p->components[(size_t)c * d + j] = (float)cov[(size_t)j * d + col];
    sign_fix(p->components + (size_t)c * d, d);
    double var = w[col] > 0 ? w[col] : 0;
    p->variance[c] = (float)var;
    p->variance_ratio[c] = total > 0 ? (float)(var / total) : 0.0f;
  }
  for (int j = 0; j < d; j++)
    p->mean[j] = (float)mean[j];
  free(mean), free(xc), free(cov), free(w);
  return 0;
}

void pca_transform(const Pca *p, const float *x, int n, float *out) {
  int d = p->d, k = p->k;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < k; c++) {
      const float *v = p->components + (size_t)c * d;
      double s = 0;
      for (int j = 0; j < d; j++)
        s += (double)(x[(size_t)i * d + j] - p->mean[j]) * v[j];
      out[(size_t)i * k + c] = (float)s;
    }
}

void pca_free(Pca *p) {
  free(p->mean);
  free(p->components);
  free(p->variance);
  free(p->variance_ratio);
  p->mean = p->components = p->variance = p->variance_ratio = NULL;
}
