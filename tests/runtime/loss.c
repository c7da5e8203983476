// loss.c — reference losses (see loss.h).
#include <math.h>

#include "loss.h"

float loss_mse(const float *y, const float *t, size_t count, float *dy) {
  double s = 0;
  for (size_t i = 0; i < count; i++) {
    double d = (double)y[i] - t[i];
    s += d * d;
  }
  if (dy) {
    float scale = (float)(2.0 / (double)count);
    for (size_t i = 0; i < count; i++)
      dy[i] = scale * (y[i] - t[i]);
  }
  return (float)(s / (double)count);
}

void loss_log_softmax(const float *x, int n, int c, float *out) {
  for (int i = 0; i < n; i++) {
    const float *xi = x + (size_t)i * c;
    float *oi = out + (size_t)i * c;
    float mx = xi[0];
    for (int j = 1; j < c; j++)
      mx = xi[j] > mx ? xi[j] : mx;
    double s = 0;
    for (int j = 0; j < c; j++)
      s += exp((double)xi[j] - mx);
    double lse = mx + log(s);
    for (int j = 0; j < c; j++)
      oi[j] = (float)(xi[j] - lse);
  }
}

void loss_log_softmax_backward(const float *out, const float *dout, int n, int c,
                               float *dx) {
  for (int i = 0; i < n; i++) {
    const float *oi = out + (size_t)i * c, *gi = dout + (size_t)i * c;
    float *di = dx + (size_t)i * c;
    double s = 0;
    for (int j = 0; j < c; j++)
      s += gi[j];
    for (int j = 0; j < c; j++)
      di[j] = (float)(gi[j] - exp((double)oi[j]) * s);
  }
}

float loss_nll(const float *logp, const int32_t *labels, int n, int c, float *dlogp) {
  double s = 0;
  for (int i = 0; i < n; i++)
    s -= logp[(size_t)i * c + labels[i]];
  if (dlogp) {
    for (size_t k = 0; k < (size_t)n * c; k++)
      dlogp[k] = 0;
    for (int i = 0; i < n; i++)
      dlogp[(size_t)i * c + labels[i]] = (float)(-1.0 / n);
  }
  return (float)(s / n);
}

float loss_kl(const float *mu, const float *lv, size_t count, float *dmu, float *dlv) {
  double s = 0;
  for (size_t i = 0; i < count; i++) {
    double e = exp((double)lv[i]);
    s += e + (double)mu[i] * mu[i] - 1.0 - lv[i];
    if (dmu) dmu[i] = mu[i];
    if (dlv) dlv[i] = (float)(0.5 * (e - 1.0));
  }
  return (float)(0.5 * s);
}
