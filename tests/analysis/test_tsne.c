// t-SNE: the Barnes–Hut repulsion against the exact O(n^2) sums, P's
// invariants, the exact KL against a dense recomputation, and end to end:
// well-separated Gaussian clusters come out separated (10-NN accuracy >=
// 0.95, trustworthiness >= 0.9), bit for bit the same for a seed, whatever
// the thread count.
#include <string.h>

#include "bhtree.h"
#include "check.h"
#include "quality.h"
#include "tsne.h"

// Exact repulsion vs the tree on y (n, 2); returns the mean relative force
// error and sets *zerr to the relative error of Z.
static double bh_error(const double *y, int n, double theta, double *zerr) {
  double *f = malloc((size_t)n * 2 * sizeof(double)), *z = malloc((size_t)n * sizeof(double));
  BhTree t;
  CHECK(bhtree_init(&t, n) == 0, "init");
  bhtree_build(&t, y);
  CHECK(bhtree_repulsion(&t, theta, 2, f, z) == 0, "repulsion");
  double zt = 0, ze = 0, err = 0, mag = 0;
  for (int i = 0; i < n; i++) {
    double fx = 0, fy = 0, zz = 0;
    for (int j = 0; j < n; j++) {
      if (j == i)
        continue;
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double q = 1 / (1 + dx * dx + dy * dy);
      zz += q, fx += q * q * dx, fy += q * q * dy;
    }
    zt += z[i], ze += zz;
    err += hypot(f[2 * i] - fx, f[2 * i + 1] - fy);
    mag += hypot(fx, fy);
  }
  bhtree_free(&t);
  free(f), free(z);
  *zerr = fabs(zt - ze) / ze;
  return err / mag;
}

static void test_bhtree(void) {
  enum { N = 3000 };
  static double y[2 * N];
  const double scales[] = {1e-3, 1, 30};
  for (int s = 0; s < 3; s++) {
    for (int i = 0; i < N; i++) { // clumps of different sizes, duplicates
      Rng r = rng_stream(11, (uint64_t)i);
      double cx = (i % 7) * 3.0, cy = (i % 5) * 2.0, w = 0.2 + (i % 3);
      y[2 * i] = scales[s] * (cx + w * rng_normal(&r));
      y[2 * i + 1] = scales[s] * (cy + w * rng_normal(&r));
      if (i % 97 == 0 && i > 0)
        y[2 * i] = y[2 * (i - 1)], y[2 * i + 1] = y[2 * (i - 1) + 1];
    }
    double zerr, ferr = bh_error(y, N, 0.5, &zerr), zerr0, ferr0 = bh_error(y, N, 0, &zerr0);
    printf("bhtree: scale %g: theta 0.5: mean rel. force error %.2e, Z error "
           "%.2e; theta 0: %.2e, %.2e\n", scales[s], ferr, zerr, ferr0, zerr0);
    CHECK(ferr < 2e-2 && zerr < 1e-2, "theta 0.5: %g %g", ferr, zerr);
    CHECK(ferr0 < 1e-5 && zerr0 < 1e-5, "theta 0 must be exact: %g %g", ferr0, zerr0);
  }
}

// Dense KL(P || Q) from scratch.
static double kl_dense(const TsneP *P, const float *y) {
  int n = P->n;
  double z = 0, kl = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (i != j) {
        double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        z += 1 / (1 + dx * dx + dy * dy);
      }
  for (int i = 0; i < n; i++)
    for (int e = P->row[i]; e < P->row[i + 1]; e++) {
      int j = P->col[e];
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double q = 1 / (1 + dx * dx + dy * dy) / z;
      kl += P->val[e] * log(P->val[e] / q);
    }
  return kl;
}

int main(void) {
  test_bhtree();

  enum { N = 1200, D = 9, K = 10 };
  static float x[N * D], y1[N * 2], y2[N * 2], y3[N * 2];
  static int labels[N];
  t_clusters(N, D, K, 12.0, 5, x, labels);

  // P: symmetric, sums to 1, at most 2 * 91 entries per row.
  TsneP P;
  CHECK(tsne_affinities(x, N, D, 30, 0, 2, &P) == 0, "affinities");
  double sum = 0, asym = 0;
  int widest = 0;
  for (int i = 0; i < N; i++) {
    widest = P.row[i + 1] - P.row[i] > widest ? P.row[i + 1] - P.row[i] : widest;
    for (int e = P.row[i]; e < P.row[i + 1]; e++) {
      int j = P.col[e], found = 0;
      sum += P.val[e];
      for (int f = P.row[j]; f < P.row[j + 1]; f++)
        if (P.col[f] == i)
          found = 1, asym = fmax(asym, fabs(P.val[f] - P.val[e]));
      CHECK(found, "P[%d][%d] has no mirror", i, j);
    }
  }
  printf("tsne: P sums to 1 + %.1e, max |P_ij - P_ji| %.1e, widest row %d\n",
         sum - 1, asym, widest);
  CHECK(fabs(sum - 1) < 1e-12 && asym == 0 && widest <= 182, "P");

  TsneOptions o;
  tsne_defaults(&o);
  o.seed = 42, o.threads = 2;
  TsneStats st;
  CHECK(tsne_run(x, N, D, &o, y1, &st) == 0, "run 1");
  CHECK(tsne_run(x, N, D, &o, y2, NULL) == 0, "run 2");
  o.threads = 1;
  CHECK(tsne_run(x, N, D, &o, y3, NULL) == 0, "run 3");
  CHECK(memcmp(y1, y2, sizeof y1) == 0, "same seed, same threads: not bitwise equal");
  CHECK(memcmp(y1, y3, sizeof y1) == 0, "1 vs 2 threads: not bitwise equal");
  double kld = kl_dense(&P, y1);
  double t5 = quality_trustworthiness(x, D, y1, 2, N, 5, 2);
  double acc = quality_knn_accuracy(y1, 2, labels, N, 10, 2);
  printf("tsne: %d points in %d clusters: KL %.4f (dense recomputation %.4f, "
         "diff %.1e), trustworthiness %.4f, 10-NN accuracy %.4f, lr %.1f, "
         "%.2f s\n", N, K, st.kl, kld, fabs(st.kl - kld), t5, acc,
         st.learning_rate, st.seconds_p + st.seconds_opt);
  CHECK(fabs(st.kl - kld) < 1e-6 * fmax(1, kld), "KL %g vs %g", st.kl, kld);
  CHECK(st.kl > 0 && st.kl < 3, "KL %g", st.kl);
  CHECK(acc >= 0.95, "10-NN accuracy %g", acc);
  CHECK(t5 >= 0.9, "trustworthiness %g", t5);
  CHECK(st.learning_rate == 200, "auto learning rate for N=%d: %g", N, st.learning_rate);
  tsne_p_free(&P);
  return t_finish("test_tsne");
}
