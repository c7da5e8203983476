// knn.h — exact k nearest neighbours: a vantage-point tree (Yianilos 1993,
// as in van der Maaten's bhtsne) for 2-D embeddings, where it prunes well,
// and a vectorised scan for codes of 5+ dimensions, where the tree visits
// 40 % (9-D) to ~100 % (64-D) of the points per query anyway.  Both are
// exact and tested against plain brute force.
#ifndef NETANALYSIS_KNN_H
#define NETANALYSIS_KNN_H

#include <stdint.h>

// Squared Euclidean distance between a (d) and b (d), accumulated in double.
double knn_dist2(const float *a, const float *b, int d);

// For every point i of x (n, d): its k nearest other points, nearest first
// (ties broken by smaller index), into idx (n, k) and their squared
// distances into dist2 (n, k).  k < n.  The result depends neither on the
// method, nor on the seed, nor on the thread count (threads <= 0: the
// OpenMP default).  Returns 0 or -1.  Picks knn_vptree for d <= 4, else
// knn_scan (measured at n = 10^4, k = 91: 9-D 0.76 s vs 0.41 s, 64-D
// 4.9 s vs 1.1 s, 2-D 0.16 s vs 0.37 s, one core).
int knn_all(const float *x, int n, int d, int k, uint64_t seed, int threads,
            int *idx, double *dist2);

// The vantage-point tree; seed picks the vantage points.
int knn_vptree(const float *x, int n, int d, int k, uint64_t seed,
               int threads, int *idx, double *dist2);

// The same by brute force over a transposed copy: float distances to all
// points in a loop that vectorises, as a filter, then the exact distance
// for the candidates.  O(n^2 d) but ~10x cheaper per pair than the tree's
// walk; faster than the tree above ~4 dimensions at n = 10^4.
int knn_scan(const float *x, int n, int d, int k, int threads, int *idx,
             double *dist2);

// The same by plain brute force, O(n^2 d): the reference for tests.
int knn_brute(const float *x, int n, int d, int k, int threads, int *idx,
              double *dist2);

#endif
