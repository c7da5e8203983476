// tsne.h — t-distributed stochastic neighbour embedding into 2-D with
// Barnes–Hut gradients, for ~10^4 points in O(N log N) per iteration.
//
//   L. van der Maaten, G. Hinton, "Visualizing data using t-SNE",
//     JMLR 9, 2008 (the method, momentum, gains, early exaggeration).
//   L. van der Maaten, "Accelerating t-SNE using tree-based algorithms",
//     JMLR 15, 2014 (sparse P on 3*perplexity exact neighbours from a
//     vantage-point tree; Barnes–Hut repulsion, theta 0.5).
//   G. Linderman, S. Steinerberger, "Clustering with t-SNE, provably",
//     SIAM J. Math. Data Sci. 1, 2019, and Belkina et al., Nat. Commun.
//     10, 2019 (learning rate N / early exaggeration).
//
// Defaults and schedule follow scikit-learn 1.2 (sklearn.manifold.TSNE,
// method='barnes_hut', init='pca', learning_rate='auto'):
//   * P: conditional Gaussians on the k = floor(3 perplexity + 1) nearest
//     neighbours' squared distances, bandwidth by binary search on beta to
//     entropy log(perplexity) within 1e-5 (100 steps at most), then
//     P = (P + P^T) / sum.
//   * 1000 iterations; the first 250 with P x 12 and momentum 0.5, the rest
//     with momentum 0.8; gains (delta-bar-delta) +0.2 / x0.8, at least
//     0.01; update and gains are reset when the second phase starts, as
//     sklearn calls its optimiser afresh for each phase.
//   * Learning rate.  We compute the gradient without the constant factor
//     4 of dKL/dy, as bhtsne, openTSNE and FIt-SNE do, so the learning
//     rate is in their units: auto = max(N / early_exaggeration, 200)
//     (openTSNE's rule).  sklearn keeps the 4 in its gradient and divides
//     its rate by 4: learning_rate='auto' = max(N / early_exaggeration / 4,
//     50).  The two give the same update step; N = 10,000 gives 833.3 here
//     and 208.3 in sklearn.
//   * PCA initialisation, scaled so that the first coordinate has standard
//     deviation 1e-4 (sklearn's init='pca').  Component signs follow
//     pca.h (largest loading positive), so the layout may be a mirror
//     image of sklearn's.
//   * Unlike sklearn, every iteration runs (no stopping on stalled KL).
#ifndef NETANALYSIS_TSNE_H
#define NETANALYSIS_TSNE_H

#include <stdint.h>

enum { TSNE_INIT_PCA, TSNE_INIT_RANDOM };

typedef struct {
  double perplexity;         // 30
  double early_exaggeration; // 12
  int exaggeration_iters;    // 250
  int iters;                 // 1000, including the exaggerated ones
  double learning_rate;      // <= 0: auto (see above); openTSNE units
  double momentum_early;     // 0.5
  double momentum_late;      // 0.8
  double min_gain;           // 0.01
  double theta;              // 0.5; must stay below 0.7
  int init;                  // TSNE_INIT_PCA
  uint64_t seed;             // vantage points, random init
  int threads;               // <= 0: the OpenMP default
  int verbose;               // 1: progress every 50 iterations on stderr
} TsneOptions;

typedef struct {
  double kl;            // exact KL(P || Q) of the final embedding
  double learning_rate; // the rate used (openTSNE units)
  double seconds_p;   // neighbours + binary search + symmetrisation
  double seconds_opt; // the gradient descent
  double seconds_kl;  // the exact KL at the end
} TsneStats;

// The symmetric joint probabilities, CSR, rows sum to ~1/N each.
typedef struct {
  int n;
  int *row; // (n + 1)
  int *col; // (nnz)
  double *val; // (nnz)
} TsneP;

void tsne_defaults(TsneOptions *o);

// P for x (n, d) as described above.  Returns 0, or -1 (message on stderr).
int tsne_affinities(const float *x, int n, int d, double perplexity,
                    uint64_t seed, int threads, TsneP *P);
void tsne_p_free(TsneP *P);

// Exact KL(P || Q) of embedding y (n, 2): the normaliser of Q sums all
// n (n - 1) pairs, O(n^2), per-row partial sums added in a fixed order.
double tsne_kl(const TsneP *P, const float *y, int threads);

// Embeds x (n, d) into y (n, 2).  st may be NULL.  Returns 0 or -1.
// The same input, options and thread count give the same bits; in fact the
// thread count does not matter either (all sums are per point).
int tsne_run(const float *x, int n, int d, const TsneOptions *o, float *y,
             TsneStats *st);

#endif
