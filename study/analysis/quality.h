// quality.h — how faithful a 2-D embedding is to its input.
#ifndef NETANALYSIS_QUALITY_H
#define NETANALYSIS_QUALITY_H

// Trustworthiness (Venna & Kaski 2001), as sklearn.manifold.trustworthiness:
//   T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_i} max(0, r(i,j) - k)
// where U_i are the k nearest neighbours of i in the embedding y (n, dy)
// and r(i, j) the rank of j among i's neighbours in the input x (n, dx)
// (1 = nearest; ties by index).  Exact, O(n^2 dx).  NAN unless k < n / 2
// (or when out of memory).
double quality_trustworthiness(const float *x, int dx, const float *y, int dy,
                               int n, int k, int threads);

// Leave-one-out k-NN classification accuracy in y (n, dy): each point gets
// the majority label of its k nearest other points; a tie goes to the tied
// label met first walking out from the point.  NAN unless k < n.
double quality_knn_accuracy(const float *y, int dy, const int *labels, int n,
                            int k, int threads);

#endif
