// pca.h — principal component analysis by eigendecomposition of the
// covariance matrix (LAPACKE dsyevd), with deterministic component signs so
// that figures are reproducible.
#ifndef NETANALYSIS_PCA_H
#define NETANALYSIS_PCA_H

typedef struct {
  int d, k;              // input dimension, components kept (k <= d)
  float *mean;           // (d)
  float *components;     // (k, d): unit principal axes, by decreasing variance
  float *variance;       // (k): eigenvalues of the covariance (ddof = 1)
  float *variance_ratio; // (k): variance / total variance
} Pca;

// Fits k components to x (n, d), n >= 2.  The largest-magnitude entry of
// every component is made positive (first one on ties).  Returns 0, or -1
// (message on stderr) if LAPACK fails or memory runs out.
int pca_fit(Pca *p, const float *x, int n, int d, int k);

// out (n, k) = (x - mean) components^T.
void pca_transform(const Pca *p, const float *x, int n, float *out);

void pca_free(Pca *p);

#endif
