// quality.c — trustworthiness and k-NN accuracy, exact.
#include "quality.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "knn.h"

double quality_trustworthiness(const float *x, int dx, const float *y, int dy,
                               int n, int k, int threads) {
  int nt = threads > 0 ? threads : omp_get_max_threads();
  int *nb = malloc((size_t)n * k * sizeof(int));
  double *nd = malloc((size_t)n * k * sizeof(double));
  double *pen = malloc((size_t)n * sizeof(double));
  double t = NAN;
  if (2 * k >= n || !nb || !nd || !pen || knn_all(y, n, dy, k, 0, nt, nb, nd) != 0)
    goto done;
#pragma omp parallel num_threads(nt)
  {
    double *dist = malloc((size_t)n * sizeof(double));
#pragma omp for schedule(dynamic, 32)
    for (int i = 0; i < n; i++) {
      const float *xi = x + (size_t)i * dx;
      for (int l = 0; l < n; l++)
        dist[l] = knn_dist2(xi, x + (size_t)l * dx, dx);
      double p = 0;
      for (int a = 0; a < k; a++) {
        int j = nb[(size_t)i * k + a];
        double dj = dist[j];
        long rank = 1; // 1 + points strictly before j in (distance, index)
        for (int l = 0; l < n; l++)
          rank += l != i && (dist[l] < dj || (dist[l] == dj && l < j));
        if (rank > k)
          p += (double)(rank - k);
      }
      pen[i] = p;
    }
    free(dist);
  }
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += pen[i];
  t = 1.0 - sum * (2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0)));
done:
  free(nb), free(nd), free(pen);
  return t;
}

double quality_knn_accuracy(const float *y, int dy, const int *labels, int n,
                            int k, int threads) {
  int nt = threads > 0 ? threads : omp_get_max_threads();
  int *nb = malloc((size_t)n * k * sizeof(int));
  double *nd = malloc((size_t)n * k * sizeof(double));
  double acc = NAN;
  if (!nb || !nd || knn_all(y, n, dy, k, 0, nt, nb, nd) != 0)
    goto done;
  long correct = 0;
  for (int i = 0; i < n; i++) {
    const int *row = nb + (size_t)i * k;
    int best = -1, bestc = 0;
    for (int a = 0; a < k; a++) { // first label reaching the top count wins
      int c = 0;
      for (int b = 0; b < k; b++)
        c += labels[row[b]] == labels[row[a]];
      if (c > bestc)
        best = labels[row[a]], bestc = c;
    }
    correct += best == labels[i];
  }
  acc = (double)correct / n;
done:
  free(nb), free(nd);
  return acc;
}
