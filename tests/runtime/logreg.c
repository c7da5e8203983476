// logreg.c — a trainer with a hand-written model, built like the generated
// ones (fill a NetModel, call driver_main), so the driver can be tested
// without the compiler.  NETRT_TEST_MODEL picks the model:
//   logreg (default)  softmax regression: y = log_softmax(W x + b), NLL loss,
//                     labels, class output "y" (accuracy)
//   linae             linear denoising autoencoder 784 -> 8 -> 784 with the
//                     report's noise on the input, MSE against the clean image
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "loss.h"
#include "model.h"
#include "noise.h"

#define MAXB 512
#define CODE 8

static float scratch_a[MAXB * 784], scratch_b[MAXB * 784], scratch_c[MAXB * 784];

// ---------------------------------------------------------------- logreg
// params: head_w [10, 784] at 0, head_b [10] at 7840.

static float logreg_run(NetModel *m, const float *x, const int32_t *labels, int n,
                        float *logp, int backward) {
  const float *W = m->params, *b = m->params + 7840;
  float *z = scratch_a;                         // [n, 10]
  for (int i = 0; i < n; i++)
    for (int o = 0; o < 10; o++) {
      float s = b[o];
      for (int k = 0; k < 784; k++) s += W[o * 784 + k] * x[i * 784 + k];
      z[i * 10 + o] = s;
    }
  loss_log_softmax(z, n, 10, logp);
  float *dlogp = scratch_b, *dz = scratch_c;
  float loss = loss_nll(logp, labels, n, 10, backward ? dlogp : NULL);
  if (!backward)
    return loss;
  loss_log_softmax_backward(logp, dlogp, n, 10, dz);
  float *dW = m->grads, *db = m->grads + 7840;
  memset(m->grads, 0, sizeof(float) * 7850);
  for (int i = 0; i < n; i++)
    for (int o = 0; o < 10; o++) {
      float g = dz[i * 10 + o];
      db[o] += g;
      for (int k = 0; k < 784; k++) dW[o * 784 + k] += g * x[i * 784 + k];
    }
  return loss;
}

static float logreg_train(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed) {
  static float logp[MAXB * 10];
  (void)seed;
  return logreg_run(m, x, labels, n, logp, 1);
}

static float logreg_forward(NetModel *m, const float *x, const int32_t *labels, int n,
                            uint64_t seed, float **outputs) {
  static float logp[MAXB * 10];
  (void)seed;
  float loss = logreg_run(m, x, labels, n, logp, 0);
  if (outputs && outputs[0]) memcpy(outputs[0], logp, sizeof(float) * n * 10);
  return loss;
}

// ---------------------------------------------------------------- linae
// params: encoder_w [8, 784] 0, encoder_b [8] 6272, decoder_w [784, 8] 6280,
// decoder_b [784] 12552; 13336 floats.

static float linae_run(NetModel *m, const float *x, int n, uint64_t seed, float *code, int backward) {
  const float *W1 = m->params, *b1 = m->params + 6272, *W2 = m->params + 6280, *b2 = m->params + 12552;
  float *xn = scratch_a, *y = scratch_b;
  memcpy(xn, x, sizeof(float) * n * 784);
  for (int i = 0; i < n; i++) {
    Rng r = rng_stream(seed, (uint64_t)i);
    noise_apply(xn + i * 784, 784, 0.0f, 1.0f, 0.5f, 0.5f, &r);
  }
  for (int i = 0; i < n; i++) {
    for (int c = 0; c < CODE; c++) {
      float s = b1[c];
      for (int k = 0; k < 784; k++) s += W1[c * 784 + k] * xn[i * 784 + k];
      code[i * CODE + c] = s;
    }
    for (int k = 0; k < 784; k++) {
      float s = b2[k];
      for (int c = 0; c < CODE; c++) s += W2[k * CODE + c] * code[i * CODE + c];
      y[i * 784 + k] = s;
    }
  }
  float *dy = scratch_c;
  float loss = loss_mse(y, x, (size_t)n * 784, backward ? dy : NULL);
  if (!backward)
    return loss;
  float *dW1 = m->grads, *db1 = m->grads + 6272, *dW2 = m->grads + 6280, *db2 = m->grads + 12552;
  memset(m->grads, 0, sizeof(float) * 13336);
  for (int i = 0; i < n; i++) {
    float dh[CODE] = {0};
    for (int k = 0; k < 784; k++) {
      float g = dy[i * 784 + k];
      db2[k] += g;
      for (int c = 0; c < CODE; c++) {
        dW2[k * CODE + c] += g * code[i * CODE + c];
        dh[c] += g * W2[k * CODE + c];
      }
    }
    for (int c = 0; c < CODE; c++) {
      db1[c] += dh[c];
      for (int k = 0; k < 784; k++) dW1[c * 784 + k] += dh[c] * xn[i * 784 + k];
    }
  }
  return loss;
}

static float linae_train(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed) {
  static float code[MAXB * CODE];
  (void)labels;
  return linae_run(m, x, n, seed, code, 1);
}

static float linae_forward(NetModel *m, const float *x, const int32_t *labels, int n,
                           uint64_t seed, float **outputs) {
  static float code[MAXB * CODE];
  (void)labels;
  float loss = linae_run(m, x, n, seed, code, 0);
  if (outputs && outputs[0]) memcpy(outputs[0], code, sizeof(float) * n * CODE);
  return loss;
}

int main(int argc, char **argv) {
  const char *which = getenv("NETRT_TEST_MODEL");
  int ae = which && strcmp(which, "linae") == 0;
  static NetTensor lr_t[2] = {
    {"head_w", 2, {10, 784}, 0, 7840, 784, 0},
    {"head_b", 1, {10}, 7840, 10, 784, 0},
  };
  static NetTensor ae_t[4] = {
    {"encoder_w", 2, {CODE, 784}, 0, 6272, 784, 0},
    {"encoder_b", 1, {CODE}, 6272, 8, 784, 0},
    {"decoder_w", 2, {784, CODE}, 6280, 6272, CODE, 0},
    {"decoder_b", 1, {784}, 12552, 784, CODE, 0},
  };
  static NetOutput lr_out[1] = {{"y", 10, 1, {10}}}, ae_out[1] = {{"code", CODE, 1, {CODE}}};
  static float params[13336], grads[13336];
  NetModel m = {
    .name = ae ? "linae" : "logreg", .needs_labels = !ae, .input_size = 784, .max_batch = MAXB,
    .n_tensors = ae ? 4 : 2, .tensors = ae ? ae_t : lr_t,
    .n_params = ae ? 13336 : 7850, .n_trainable = ae ? 13336 : 7850,
    .params = params, .grads = grads, .n_outputs = 1, .outputs = ae ? ae_out : lr_out,
    .class_output = ae ? -1 : 0,
    .train_step = ae ? linae_train : logreg_train, .forward = ae ? linae_forward : logreg_forward,
  };
  m.structure_hash = model_hash_structure(&m);
  return driver_main(&m, argc, argv);
}
