// knn.h — exact k nearest neighbours with a vantage-point tree
// (Yianilos 1993), as in van der Maaten's bhtsne: O(n log n) queries in
// the low dimensions of latent codes (2-64), exact at any dimension.
#ifndef NETANALYSIS_KNN_H
#define NETANALYSIS_KNN_H

#include <stdint.h>

// Squared Euclidean distance between a (d) and b (d), accumulated in double.
double knn_dist2(const float *a, const float *b, int d);

// For every point i of x (n, d): its k nearest other points, nearest first
// (ties broken by smaller index), into idx (n, k) and their squared
// distances into dist2 (n, k).  k < n.  seed picks the vantage points; the
// result depends neither on it nor on the thread count (threads <= 0: the
// OpenMP default).  Returns 0 or -1.
int knn_all(const float *x, int n, int d, int k, uint64_t seed, int threads,
            int *idx, double *dist2);

// The same by brute force, O(n^2 d): the reference for tests.
int knn_brute(const float *x, int n, int d, int k, int threads, int *idx,
              double *dist2);

#endif
