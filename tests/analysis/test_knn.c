// The vantage-point tree and the vectorised scan find exactly the
// brute-force neighbours (ties included: duplicated points), for any seed
// and thread count.
#include <string.h>

#include "check.h"
#include "knn.h"

static void run(int n, int d, int k, int dup) {
  float *x = malloc((size_t)n * d * sizeof(float));
  int *i1 = malloc((size_t)n * k * sizeof(int)), *i2 = malloc((size_t)n * k * sizeof(int));
  double *d1 = malloc((size_t)n * k * sizeof(double)), *d2 = malloc((size_t)n * k * sizeof(double));
  for (int i = 0; i < n; i++) {
    Rng r = rng_stream(3, (uint64_t)i);
    for (int j = 0; j < d; j++)
      x[(size_t)i * d + j] = (float)rng_normal(&r);
  }
  // Every dup-th point repeats an earlier one: equal distances everywhere.
  if (dup)
    for (int i = dup; i < n; i += dup)
      memcpy(x + (size_t)i * d, x + (size_t)(i / 2) * d, (size_t)d * sizeof(float));
  CHECK(knn_brute(x, n, d, k, 2, i2, d2) == 0, "brute");
  for (int method = 0; method < 3; method++)
    for (int seed = 0; seed < 2; seed++)
      for (int threads = 1; threads <= 2; threads++) {
        static const char *name[] = {"vptree", "scan", "all"};
        if (method == 1 && seed > 0) // the scan has no seed
          continue;
        int rc = method == 0   ? knn_vptree(x, n, d, k, (uint64_t)seed, threads, i1, d1)
                 : method == 1 ? knn_scan(x, n, d, k, threads, i1, d1)
                               : knn_all(x, n, d, k, (uint64_t)seed, threads, i1, d1);
        CHECK(rc == 0, "%s", name[method]);
        long diff = 0;
        for (long e = 0; e < (long)n * k; e++)
          diff += i1[e] != i2[e] || d1[e] != d2[e];
        printf("knn: %-6s n=%d d=%d k=%d dup=%d seed=%d threads=%d: %ld of %ld "
               "neighbours differ from brute force\n", name[method], n, d, k, dup,
               seed, threads, diff, (long)n * k);
        CHECK(diff == 0, "%ld", diff);
      }
  free(x), free(i1), free(i2), free(d1), free(d2);
}

int main(void) {
  run(1500, 2, 10, 0);
  run(1500, 9, 91, 0);
  run(800, 40, 30, 0);
  run(800, 3, 15, 7);
  return t_finish("test_knn");
}
