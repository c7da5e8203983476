// knn.c — vantage-point tree.  The tree is implicit in a permutation of the
// points: the range [lo, hi) has its vantage point at lo, the points nearer
// than radius[lo] in [lo+1, mid) and the others in [mid, hi), where
// mid = lo + 1 + (hi - lo - 1) / 2.
#include "knn.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "rng.h"

typedef struct {
  double d; // distance (or squared distance) to the query / vantage point
  int i;
} Cand;

double knn_dist2(const float *a, const float *b, int d) {
  double s = 0;
  for (int j = 0; j < d; j++) {
    double t = (double)a[j] - b[j];
    s += t * t;
  }
  return s;
}

// Total order (distance, index): makes every result unique.
static int cand_less(Cand a, Cand b) {
  return a.d < b.d || (a.d == b.d && a.i < b.i);
}

static int cand_cmp(const void *pa, const void *pb) {
  Cand a = *(const Cand *)pa, b = *(const Cand *)pb;
  return cand_less(a, b) ? -1 : cand_less(b, a) ? 1 : 0;
}

typedef struct {
  const float *x;
  int n, d;
  int *perm;      // (n) tree order
  double *radius; // (n) radius of the node whose vantage point sits there
  Cand *scratch;  // (n)
} VpTree;

static void vp_build(VpTree *t, int lo, int hi, Rng *rng) {
  if (hi - lo <= 1)
    return;
  int v = lo + (int)rng_below(rng, (uint64_t)(hi - lo));
  int tmp = t->perm[lo];
  t->perm[lo] = t->perm[v];
  t->perm[v] = tmp;
  const float *pv = t->x + (size_t)t->perm[lo] * t->d;
  Cand *c = t->scratch;
  int m = hi - lo - 1;
  for (int j = 0; j < m; j++) {
    int p = t->perm[lo + 1 + j];
    c[j] = (Cand){sqrt(knn_dist2(pv, t->x + (size_t)p * t->d, t->d)), p};
  }
  qsort(c, (size_t)m, sizeof(Cand), cand_cmp);
  for (int j = 0; j < m; j++)
    t->perm[lo + 1 + j] = c[j].i;
  int mid = lo + 1 + m / 2;
  t->radius[lo] = c[m / 2].d;
  vp_build(t, lo + 1, mid, rng);
  vp_build(t, mid, hi, rng);
}

// Max-heap of the k best candidates so far, ordered by cand_less.
typedef struct {
  Cand *c;
  int size, k;
} Heap;

static void heap_push(Heap *h, Cand x) {
  if (h->size == h->k) {
    if (!cand_less(x, h->c[0]))
      return;
    // Replace the root by x and sift it down.
    int i = 0;
    for (;;) {
      int l = 2 * i + 1, r = l + 1, big = -1;
      Cand best = x;
      if (l < h->size && cand_less(best, h->c[l]))
        big = l, best = h->c[l];
      if (r < h->size && cand_less(best, h->c[r]))
        big = r;
      if (big < 0)
        break;
      h->c[i] = h->c[big];
      i = big;
    }
    h->c[i] = x;
    return;
  }
  int i = h->size++;
  while (i > 0 && cand_less(h->c[(i - 1) / 2], x)) {
    h->c[i] = h->c[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->c[i] = x;
}

static double heap_tau(const Heap *h) {
  return h->size < h->k ? DBL_MAX : sqrt(h->c[0].d);
}

static void vp_search(const VpTree *t, int lo, int hi, const float *q, int self,
                      Heap *h) {
  if (lo >= hi)
    return;
  int p = t->perm[lo];
  double d2 = knn_dist2(q, t->x + (size_t)p * t->d, t->d);
  if (p != self)
    heap_push(h, (Cand){d2, p});
  if (hi - lo == 1)
    return;
  double dist = sqrt(d2), r = t->radius[lo];
  int mid = lo + 1 + (hi - lo - 1) / 2;
  // Inclusive tests with a little slack for rounding keep points exactly at
  // distance tau, whose index may still win the tie.
  double slack = 1e-9 * (dist + r);
  if (dist < r) {
    if (dist - heap_tau(h) <= r + slack)
      vp_search(t, lo + 1, mid, q, self, h);
    if (dist + heap_tau(h) >= r - slack)
      vp_search(t, mid, hi, q, self, h);
  } else {
    if (dist + heap_tau(h) >= r - slack)
      vp_search(t, mid, hi, q, self, h);
    if (dist - heap_tau(h) <= r + slack)
      vp_search(t, lo + 1, mid, q, self, h);
  }
}

// Sorts the heap's k candidates into row i of idx / dist2.
static void heap_emit(Heap *h, int i, int *idx, double *dist2) {
  qsort(h->c, (size_t)h->size, sizeof(Cand), cand_cmp);
  for (int j = 0; j < h->size; j++) {
    idx[(size_t)i * h->k + j] = h->c[j].i;
    dist2[(size_t)i * h->k + j] = h->c[j].d;
  }
}

int knn_all(const float *x, int n, int d, int k, uint64_t seed, int threads,
            int *idx, double *dist2) {
  return d <= 4 ? knn_vptree(x, n, d, k, seed, threads, idx, dist2)
                : knn_scan(x, n, d, k, threads, idx, dist2);
}

int knn_vptree(const float *x, int n, int d, int k, uint64_t seed,
               int threads, int *idx, double *dist2) {
  if (k >= n || k < 1)
    return -1;
  VpTree t = {x, n, d, malloc((size_t)n * sizeof(int)),
              malloc((size_t)n * sizeof(double)),
              malloc((size_t)n * sizeof(Cand))};
  if (!t.perm || !t.radius || !t.scratch) {
    free(t.perm), free(t.radius), free(t.scratch);
    return -1;
  }
  for (int i = 0; i < n; i++)
    t.perm[i] = i;
  Rng rng = rng_stream(seed, 0x7670747265ull); // "vptre"
  vp_build(&t, 0, n, &rng);
  int fail = 0, nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel reduction(| : fail) num_threads(nt)
  {
    Heap h = {malloc((size_t)k * sizeof(Cand)), 0, k};
    if (!h.c)
      fail = 1;
#pragma omp for schedule(dynamic, 64)
    for (int i = 0; i < n; i++) {
      if (!h.c)
        continue;
      h.size = 0;
      vp_search(&t, 0, n, x + (size_t)i * d, i, &h);
      heap_emit(&h, i, idx, dist2);
    }
    free(h.c);
  }
  free(t.perm), free(t.radius), free(t.scratch);
  return fail ? -1 : 0;
}

int knn_brute(const float *x, int n, int d, int k, int threads, int *idx,
              double *dist2) {
  if (k >= n || k < 1)
    return -1;
  int fail = 0, nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel reduction(| : fail) num_threads(nt)
  {
    Heap h = {malloc((size_t)k * sizeof(Cand)), 0, k};
    if (!h.c)
      fail = 1;
#pragma omp for schedule(static)
    for (int i = 0; i < n; i++) {
      if (!h.c)
        continue;
      h.size = 0;
      for (int j = 0; j < n; j++)
        if (j != i)
          heap_push(&h, (Cand){knn_dist2(x + (size_t)i * d,
                                         x + (size_t)j * d, d), j});
      heap_emit(&h, i, idx, dist2);
    }
    free(h.c);
  }
  return fail ? -1 : 0;
}

int knn_scan(const float *x, int n, int d, int k, int threads, int *idx,
             double *dist2) {
  if (k >= n || k < 1)
    return -1;
  float *xt = malloc((size_t)n * d * sizeof(float)); // (d, n)
  if (!xt)
    return -1;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < d; c++)
      xt[(size_t)c * n + i] = x[(size_t)i * d + c];
  // Float sums of d positive terms are within (d + 2) 2^-24 of the exact
  // value; this margin keeps every point that may belong to the k nearest.
  const double slack = 1 + 1e-6 * (d + 2);
  int fail = 0, nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel reduction(| : fail) num_threads(nt)
  {
    Heap h = {malloc((size_t)k * sizeof(Cand)), 0, k};
    float *dd = malloc((size_t)n * sizeof(float));
    if (!h.c || !dd)
      fail = 1;
#pragma omp for schedule(dynamic, 16)
    for (int i = 0; i < n; i++) {
      if (!h.c || !dd)
        continue;
      const float *xi = x + (size_t)i * d;
      for (int j = 0; j < n; j++)
        dd[j] = 0;
      for (int c = 0; c < d; c++) {
        const float v = xi[c], *col = xt + (size_t)c * n;
        for (int j = 0; j < n; j++) {
          float t = v - col[j];
          dd[j] += t * t;
        }
      }
      h.size = 0;
      float bound = INFINITY;
      for (int j = 0; j < n; j++) {
        if (dd[j] > bound || j == i)
          continue;
        heap_push(&h, (Cand){knn_dist2(xi, x + (size_t)j * d, d), j});
        if (h.size == k)
          bound = (float)(h.c[0].d * slack) * (1 + 1e-6f);
      }
      heap_emit(&h, i, idx, dist2);
    }
    free(h.c), free(dd);
  }
  free(xt);
  return fail ? -1 : 0;
}
