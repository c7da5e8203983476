// fake_objective.h — the synthetic objective of the search tests (see
// fake_trainer.c): minimum 0.05 at lr = 10^-2.5, weight decay = 10^-4.5,
// Adam, latent 10.
#ifndef FAKE_OBJECTIVE_H
#define FAKE_OBJECTIVE_H
#include <math.h>

static inline double fake_objective(double lr, double wd, int sgd, int latent) {
  double a = log10(lr) + 2.5, b = log10(wd) + 4.5, c = latent - 10;
  return 0.05 + 0.1 * a * a + 0.03 * b * b + 0.15 * sgd + 0.004 * c * c;
}
#endif
