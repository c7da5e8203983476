// tsne.c — affinities, Barnes–Hut gradient descent, exact KL.
#include "tsne.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bhtree.h"
#include "knn.h"
#include "pca.h"
#include "rng.h"

void tsne_defaults(TsneOptions *o) {
  *o = (TsneOptions){
      .perplexity = 30,
      .early_exaggeration = 12,
      .exaggeration_iters = 250,
      .iters = 1000,
      .learning_rate = 0,
      .momentum_early = 0.5,
      .momentum_late = 0.8,
      .min_gain = 0.01,
      .theta = 0.5,
      .init = TSNE_INIT_PCA,
      .seed = 0,
      .threads = 0,
      .verbose = 0,
  };
}

static int threads_or_default(int t) {
  return t > 0 ? t : omp_get_max_threads();
}

// Row p (k) of conditional probabilities p_{j|i} from squared distances
// d2 (k), by sklearn's binary search (_utils._binary_search_perplexity).
static void perplexity_search(const double *d2, int k, double perplexity,
                              double *p) {
  double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
  double target = log(perplexity);
  for (int step = 0; step < 100; step++) {
    double sum = 0;
    for (int j = 0; j < k; j++)
      sum += p[j] = exp(-d2[j] * beta);
    if (sum == 0)
      sum = 1e-8;
    double sum_dp = 0;
    for (int j = 0; j < k; j++) {
      p[j] /= sum;
      sum_dp += d2[j] * p[j];
    }
    double diff = log(sum) + beta * sum_dp - target; // entropy - target
    if (fabs(diff) <= 1e-5)
      break;
    if (diff > 0) {
      beta_min = beta;
      beta = beta_max == INFINITY ? beta * 2 : (beta + beta_max) / 2;
    } else {
      beta_max = beta;
      beta = beta_min == -INFINITY ? beta / 2 : (beta + beta_min) / 2;
    }
  }
}

static int col_cmp(const void *a, const void *b) {
  const int *x = a, *y = b; // (col, position) pairs
  return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : 1);
}

// P = (C + C^T) / sum for the conditional rows C (n, k) on idx (n, k).
static int symmetrise(const int *idx, const double *c, int n, int k,
                      TsneP *P) {
  int *cnt = calloc((size_t)n + 1, sizeof(int));
  int *pos = malloc((size_t)n * sizeof(int));
  int *ecol = malloc((size_t)2 * n * k * sizeof(int));
  double *eval = malloc((size_t)2 * n * k * sizeof(double));
  int *pair = malloc((size_t)4 * k * n * sizeof(int)); // sort scratch
  P->n = n;
  P->row = malloc(((size_t)n + 1) * sizeof(int));
  P->col = malloc((size_t)2 * n * k * sizeof(int));
  P->val = malloc((size_t)2 * n * k * sizeof(double));
  if (!cnt || !pos || !ecol || !eval || !pair || !P->row || !P->col ||
      !P->val) {
    free(cnt), free(pos), free(ecol), free(eval), free(pair);
    tsne_p_free(P);
    return -1;
  }
  for (int i = 0; i < n; i++)
    for (int a = 0; a < k; a++)
      cnt[i + 1]++, cnt[idx[(size_t)i * k + a] + 1]++;
  for (int i = 0; i < n; i++)
    cnt[i + 1] += cnt[i];
  memcpy(pos, cnt, (size_t)n * sizeof(int));
  for (int i = 0; i < n; i++)
    for (int a = 0; a < k; a++) {
      int j = idx[(size_t)i * k + a];
      double v = c[(size_t)i * k + a];
      ecol[pos[i]] = j, eval[pos[i]++] = v;
      ecol[pos[j]] = i, eval[pos[j]++] = v;
    }
  // Per row: sort entries by column, add duplicates (j in knn(i) and i in
  // knn(j)).  The fill order above is fixed, so the sums are too.
  int nnz = 0;
  for (int i = 0; i < n; i++) {
    P->row[i] = nnz;
    int lo = cnt[i], m = cnt[i + 1] - lo;
    for (int e = 0; e < m; e++)
      pair[2 * e] = ecol[lo + e], pair[2 * e + 1] = lo + e;
    qsort(pair, (size_t)m, 2 * sizeof(int), col_cmp);
    for (int e = 0; e < m; e++) {
      int j = pair[2 * e];
      double v = eval[pair[2 * e + 1]];
      if (nnz > P->row[i] && P->col[nnz - 1] == j)
        P->val[nnz - 1] += v;
      else
        P->col[nnz] = j, P->val[nnz++] = v;
    }
  }
  P->row[n] = nnz;
  double sum = 0;
  for (int e = 0; e < nnz; e++)
    sum += P->val[e];
  sum = fmax(sum, DBL_EPSILON);
  for (int e = 0; e < nnz; e++)
    P->val[e] /= sum;
  free(cnt), free(pos), free(ecol), free(eval), free(pair);
  return 0;
}

int tsne_affinities(const float *x, int n, int d, double perplexity,
                    uint64_t seed, int threads, TsneP *P) {
  memset(P, 0, sizeof *P);
  int k = (int)(3 * perplexity + 1);
  if (k > n - 1)
    k = n - 1;
  if (n < 2 || k < 1) {
    fprintf(stderr, "tsne: need at least 2 points (got %d)\n", n);
    return -1;
  }
  int *idx = malloc((size_t)n * k * sizeof(int));
  double *d2 = malloc((size_t)n * k * sizeof(double));
  double *c = malloc((size_t)n * k * sizeof(double));
  int rc = -1;
  if (!idx || !d2 || !c) {
    fprintf(stderr, "tsne: out of memory for %d x %d neighbours\n", n, k);
    goto done;
  }
  int nt = threads_or_default(threads);
  if (knn_all(x, n, d, k, seed, nt, idx, d2) != 0) {
    fprintf(stderr, "tsne: nearest-neighbour search failed\n");
    goto done;
  }
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int i = 0; i < n; i++)
    perplexity_search(d2 + (size_t)i * k, k, perplexity, c + (size_t)i * k);
  rc = symmetrise(idx, c, n, k, P);
  if (rc != 0)
    fprintf(stderr, "tsne: out of memory building P\n");
done:
  free(idx), free(d2), free(c);
  return rc;
}

void tsne_p_free(TsneP *P) {
  free(P->row), free(P->col), free(P->val);
  P->row = P->col = NULL;
  P->val = NULL;
}

double tsne_kl(const TsneP *P, const float *y, int threads) {
  int n = P->n, nt = threads_or_default(threads);
  double *zrow = malloc((size_t)n * sizeof(double));
  if (!zrow)
    return NAN;
#pragma omp parallel for schedule(dynamic, 64) num_threads(nt)
  for (int i = 0; i < n; i++) {
    double s = 0, xi = y[2 * i], yi = y[2 * i + 1];
    for (int j = 0; j < n; j++) {
      double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      s += j == i ? 0 : 1.0 / (1.0 + dx * dx + dy * dy);
    }
    zrow[i] = s;
  }
  double z = 0;
  for (int i = 0; i < n; i++)
    z += zrow[i];
  free(zrow);
  double kl = 0;
  for (int i = 0; i < n; i++)
    for (int e = P->row[i]; e < P->row[i + 1]; e++) {
      int j = P->col[e];
      double dx = (double)y[2 * i] - y[2 * j], dy = (double)y[2 * i + 1] - y[2 * j + 1];
      double q = 1.0 / (1.0 + dx * dx + dy * dy) / z, p = P->val[e];
      kl += p * log(fmax(p, DBL_EPSILON) / fmax(q, DBL_EPSILON));
    }
  return kl;
}

// sklearn's init='pca': the first two principal coordinates, scaled so the
// first has standard deviation (ddof 0) 1e-4.
static int init_pca(const float *x, int n, int d, double *y) {
  float *t = malloc((size_t)n * 2 * sizeof(float));
  Pca p;
  if (!t || d < 2 || pca_fit(&p, x, n, d, 2) != 0) {
    free(t);
    return -1;
  }
  pca_transform(&p, x, n, t);
  pca_free(&p);
  double m = 0, v = 0;
  for (int i = 0; i < n; i++)
    m += t[2 * i];
  m /= n;
  for (int i = 0; i < n; i++)
    v += (t[2 * i] - m) * (t[2 * i] - m);
  double sd = sqrt(v / n);
  double s = sd > 0 ? 1e-4 / sd : 1.0;
  for (int i = 0; i < 2 * n; i++)
    y[i] = t[i] * s;
  free(t);
  return 0;
}

static void init_random(int n, uint64_t seed, double *y) {
  for (int i = 0; i < n; i++) {
    Rng r = rng_stream(seed, (uint64_t)i);
    y[2 * i] = 1e-4 * rng_normal(&r);
    y[2 * i + 1] = 1e-4 * rng_normal(&r);
  }
}

// KL with the tree's normaliser, over the non-zeros of P only: cheap
// progress reports (the exact value is computed once at the end).
static double kl_estimate(const TsneP *P, const double *y, double z) {
  double kl = 0;
  for (int i = 0; i < P->n; i++)
    for (int e = P->row[i]; e < P->row[i + 1]; e++) {
      int j = P->col[e];
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double q = 1.0 / (1.0 + dx * dx + dy * dy) / z, p = P->val[e];
      kl += p * log(fmax(p, DBL_EPSILON) / fmax(q, DBL_EPSILON));
    }
  return kl;
}

// attr (n, 2) = sum_j p_ij q_ij (y_i - y_j), the attractive half of
// dKL/dy_i / 4 (van der Maaten 2014, eq. 4 and 5).  Called by every thread
// of a parallel region (omp for nowait).
static void attract_shared(const TsneP *P, const double *y, double *attr) {
#pragma omp for schedule(dynamic, 256) nowait
  for (int i = 0; i < P->n; i++) {
    double ax = 0, ay = 0, xi = y[2 * i], yi = y[2 * i + 1];
    for (int e = P->row[i]; e < P->row[i + 1]; e++) {
      int j = P->col[e];
      double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      double pq = P->val[e] / (1.0 + dx * dx + dy * dy);
      ax += pq * dx;
      ay += pq * dy;
    }
    attr[2 * i] = ax;
    attr[2 * i + 1] = ay;
  }
}

// One step of momentum gradient descent with per-coordinate gains
// (Jacobs 1988, as in sklearn's _gradient_descent) on the gradient
// exaggeration * attr - rep / z.
static void descend(double *y, double *update, double *gains,
                    const double *attr, const double *rep, double z,
                    double exaggeration, int m, double momentum, double lr,
                    double min_gain) {
  for (int c = 0; c < m; c++) {
    double g = exaggeration * attr[c] - rep[c] / z;
    gains[c] = update[c] * g < 0 ? gains[c] + 0.2 : gains[c] * 0.8;
    if (gains[c] < min_gain)
      gains[c] = min_gain;
    update[c] = momentum * update[c] - lr * gains[c] * g;
    y[c] += update[c];
  }
}

// The working arrays of the descent, allocated once.
typedef struct {
  double *y, *update, *gains, *attr, *rep, *zpart; // (n, 2) or (n)
  BhTree tree;
  BhList *lists; // (threads)
  int have_tree, nlists;
} Work;

static int work_init(Work *w, int n, int nt) {
  size_t m = (size_t)n * 2;
  memset(w, 0, sizeof *w);
  w->y = malloc(m * sizeof(double));
  w->update = calloc(m, sizeof(double));
  w->gains = malloc(m * sizeof(double));
  w->attr = malloc(m * sizeof(double));
  w->rep = malloc(m * sizeof(double));
  w->zpart = malloc((size_t)n * sizeof(double));
  w->lists = calloc((size_t)nt, sizeof(BhList));
  w->nlists = nt;
  if (!w->y || !w->update || !w->gains || !w->attr || !w->rep || !w->zpart ||
      !w->lists)
    return -1;
  w->have_tree = bhtree_init(&w->tree, n) == 0;
  return w->have_tree ? 0 : -1;
}

static void work_free(Work *w) {
  free(w->y), free(w->update), free(w->gains), free(w->attr), free(w->rep);
  free(w->zpart);
  for (int t = 0; w->lists && t < w->nlists; t++)
    bhlist_free(&w->lists[t]);
  free(w->lists);
  if (w->have_tree)
    bhtree_free(&w->tree);
}

int tsne_run(const float *x, int n, int d, const TsneOptions *o, float *yout,
             TsneStats *st) {
  TsneStats local;
  if (!st)
    st = &local;
  memset(st, 0, sizeof *st);
  int nt = threads_or_default(o->threads);
  double t0 = omp_get_wtime();
  TsneP P;
  if (tsne_affinities(x, n, d, o->perplexity, o->seed, nt, &P) != 0)
    return -1;
  double t1 = omp_get_wtime();
  st->seconds_p = t1 - t0;

  size_t m = (size_t)n * 2;
  Work w;
  int rc = -1;
  if (work_init(&w, n, nt) != 0) {
    fprintf(stderr, "tsne: out of memory (n=%d)\n", n);
    goto done;
  }
  if (o->init == TSNE_INIT_PCA) {
    if (init_pca(x, n, d, w.y) != 0) {
      fprintf(stderr, "tsne: PCA initialisation failed (d=%d)\n", d);
      goto done;
    }
  } else {
    init_random(n, o->seed, w.y);
  }
  double lr = o->learning_rate > 0 ? o->learning_rate
                                   : fmax(n / o->early_exaggeration, 200.0);
  st->learning_rate = lr;
  for (size_t c = 0; c < m; c++)
    w.gains[c] = 1;
  double seconds_tree = 0, seconds_forces = 0;
  for (int it = 0; it < o->iters; it++) {
    int early = it < o->exaggeration_iters;
    if (it == o->exaggeration_iters)
      for (size_t c = 0; c < m; c++)
        w.update[c] = 0, w.gains[c] = 1;
    double ta = omp_get_wtime();
    bhtree_build(&w.tree, w.y);
    double tb = omp_get_wtime();
    // One parallel region per step: repulsion and attraction share it.
    int fail = 0;
#pragma omp parallel num_threads(nt) reduction(| : fail)
    {
      BhList *l = &w.lists[omp_get_thread_num()];
      fail |= bhtree_repulsion_shared(&w.tree, o->theta, l, w.rep, w.zpart) != 0;
      attract_shared(&P, w.y, w.attr);
    }
    if (fail) {
      fprintf(stderr, "tsne: out of memory in the Barnes-Hut walk\n");
      goto done;
    }
    double tc = omp_get_wtime();
    seconds_tree += tb - ta, seconds_forces += tc - tb;
    double z = 0;
    for (int i = 0; i < n; i++)
      z += w.zpart[i];
    descend(w.y, w.update, w.gains, w.attr, w.rep, z,
            early ? o->early_exaggeration : 1.0, (int)m,
            early ? o->momentum_early : o->momentum_late, lr, o->min_gain);
    if (o->verbose && ((it + 1) % 50 == 0 || it + 1 == o->iters))
      fprintf(stderr, "tsne: iteration %4d  KL~%.4f  (%.2f s)\n", it + 1,
              kl_estimate(&P, w.y, z), omp_get_wtime() - t1);
  }
  double t2 = omp_get_wtime();
  st->seconds_opt = t2 - t1;
  if (o->verbose)
    fprintf(stderr, "tsne: tree %.2f s, forces %.2f s, rest %.2f s\n",
            seconds_tree, seconds_forces, st->seconds_opt - seconds_tree - seconds_forces);
  for (size_t c = 0; c < m; c++)
    yout[c] = (float)w.y[c];
  st->kl = tsne_kl(&P, yout, nt);
  st->seconds_kl = omp_get_wtime() - t2;
  rc = 0;
done:
  work_free(&w);
  tsne_p_free(&P);
  return rc;
}
