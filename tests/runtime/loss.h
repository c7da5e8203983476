// loss.h — reference losses with their gradients, for the tests: the
// PyTorch-fixture test (test_loss) and the hand-written model of the
// driver tests (logreg.c).  No trainer links them (the interpreter and
// the generated code have their own loss kernels), so they live here.
// Sums are accumulated in double.  Shapes: n examples, c classes.
#ifndef TESTS_RUNTIME_LOSS_H
#define TESTS_RUNTIME_LOSS_H

#include <stddef.h>
#include <stdint.h>

// F.mse_loss(y, t) (reduction 'mean'): mean over all count elements of
// (y - t)^2.  If dy is not NULL it receives d loss / d y = 2 (y - t) / count.
float loss_mse(const float *y, const float *t, size_t count, float *dy);

// F.log_softmax(x, dim=1) for x [n, c]: out = x - max - log(sum(exp(x - max))).
void loss_log_softmax(const float *x, int n, int c, float *out);

// Backward of log_softmax given its output out [n, c] and the upstream
// gradient dout [n, c]: dx = dout - exp(out) * sum_j dout_j (per row).
void loss_log_softmax_backward(const float *out, const float *dout, int n, int c,
                               float *dx);

// F.nll_loss(logp, labels) (reduction 'mean'): -mean_i logp[i, labels[i]].
// If dlogp is not NULL it receives the gradient: -1/n at each label, else 0.
float loss_nll(const float *logp, const int32_t *labels, int n, int c, float *dlogp);

// Gaussian KL term of a VAE, KL(N(mu, exp(lv)) || N(0, 1)) summed over the
// count elements: 0.5 * sum(exp(lv) + mu^2 - 1 - lv) (Kingma & Welling
// 2014, appendix B, with the sign that makes it a penalty).  Gradients
// (if not NULL): dmu = mu, dlv = 0.5 (exp(lv) - 1).  The caller scales by
// 1/n for a batch mean.
float loss_kl(const float *mu, const float *lv, size_t count, float *dmu, float *dlv);

#endif
