// test_genmodel.c — the generated models' common part (genmodel.h) on a
// hand-written spec: y = w x (w [2, 3] read through its transpose in S),
// loss = y0 + 2 y1 + f per example (f a frozen scalar), batch 5 in chunks
// of 2 (the last chunk ragged).  Checks the loss, the gradient (chunk sums
// added in chunk order), the exports, ragged batches, the thread clamp, and
// that 1 and 3 threads give bitwise equal results.
#include <math.h>
#include <string.h>

#include "../check.h"
#include "genmodel.h"

#define CHUNK 2
#define Y_AT 0        // y [CHUNK][2] in the chunk arena
#define LOSS_AT 16    // loss [CHUNK]

static NetTensor tensors[2] = {
  {"w", 2, {2, 3, 0, 0}, 0, 6, 3, 0},
  {"f", 1, {1, 0, 0, 0}, 6, 1, 1, 1},
};
static NetOutput outputs[1] = {{"y", 2, 1, {2}}};
static const size_t output_at[1] = {Y_AT};
static const GenTranspose transposes[1] = {{0, 0}};

// Padding examples (i >= nc) get zero loss and add nothing to G.
static void forward_chunk(const GenChunk *c) {
  for (int i = 0; i < CHUNK; i++) {
    float *y = c->A + Y_AT + i * 2;
    for (int j = 0; j < 2; j++) {
      y[j] = 0.0f;
      for (int k = 0; k < 3 && i < c->nc; k++)
        y[j] += c->S[k * 2 + j] * c->x[(c->i0 + i) * 3 + k];
    }
    c->A[LOSS_AT + i] = i < c->nc ? y[0] + 2.0f * y[1] + c->P[6] : 0.0f;
  }
}

static void backward_chunk(const GenChunk *c) {
  for (int j = 0; j < 2; j++)
    for (int k = 0; k < 3; k++) {
      float acc = 0.0f;
      for (int i = 0; i < c->nc; i++)
        acc += (j == 0 ? 1.0f : 2.0f) * c->x[(c->i0 + i) * 3 + k] / (float)c->n;
      c->G[j * 3 + k] = acc;
    }
}

static const GenSpec spec = {
  .name = "toy",
  .batch = 5,
  .chunk = CHUNK,
  .input_size = 3,
  .needs_labels = 0,
  .n_tensors = 2,
  .tensors = tensors,
  .n_params = 7,
  .n_trainable = 6,
  .n_outputs = 1,
  .outputs = outputs,
  .output_at = output_at,
  .class_output = -1,
  .loss_at = LOSS_AT,
  .arena_grads = 16,
  .arena_threads = 16 + 3 * 16,
  .arena_chunk = 32,
  .n_transposes = 1,
  .transposes = transposes,
  .forward = forward_chunk,
  .backward = backward_chunk,
};

static const float x[5 * 3] = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f, -2.0f, 1.0f, 0.5f,
                               0.125f, 3.0f, -1.5f, 1.0f, 1.0f, 1.0f};

// Reference in double: y = w x, mean loss, d loss / d w.
static void reference(const float *w, float f, int n, double *loss, double *dw, double *y) {
  *loss = 0.0;
  memset(dw, 0, sizeof(double) * 6);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 2; j++) {
      y[i * 2 + j] = 0.0;
      for (int k = 0; k < 3; k++) {
        y[i * 2 + j] += (double)w[j * 3 + k] * x[i * 3 + k];
        dw[j * 3 + k] += (j == 0 ? 1.0 : 2.0) * x[i * 3 + k] / n;
      }
    }
    *loss += (y[i * 2] + 2.0 * y[i * 2 + 1] + f) / n;
  }
}

int main(void) {
  NetModel *m = genmodel_new(&spec);
  CHECK(m->max_batch == 5 && m->n_params == 7 && m->n_trainable == 6, "model fields");
  CHECK(m->structure_hash == model_hash_structure(m), "structure hash");
  const float w[6] = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f};
  memcpy(m->params, w, sizeof w);
  m->params[6] = 0.25f;

  float grads1[6], loss1 = 0.0f;
  for (int threads = 1; threads <= 4; threads++) {
    m->set_threads(m, threads);
    GenModel *s = m->impl;
    CHECK(s->threads == (threads < 3 ? threads : 3), "threads %d -> %d (3 chunks)", threads, s->threads);
    for (int n = 1; n <= 5; n++) {
      double ref_loss, ref_dw[6], ref_y[10];
      reference(w, 0.25f, n, &ref_loss, ref_dw, ref_y);
      float y[10] = {0};
      float *outs[1] = {y};
      float lf = m->forward(m, x, NULL, n, 7, outs);
      CHECK(fabs(lf - ref_loss) < 1e-6, "forward n=%d: loss %g, reference %g", n, lf, ref_loss);
      for (int k = 0; k < n * 2; k++)
        CHECK(fabs(y[k] - ref_y[k]) < 1e-6, "n=%d: y[%d] %g, reference %g", n, k, y[k], ref_y[k]);
      float lt = m->train_step(m, x, NULL, n, 7);
      CHECK(lt == lf, "n=%d: train loss %g, forward loss %g", n, lt, lf);
      for (int k = 0; k < 6; k++)
        CHECK(fabs(m->grads[k] - ref_dw[k]) < 1e-6, "n=%d: grad[%d] %g, reference %g", n, k,
              m->grads[k], ref_dw[k]);
      if (n == 5 && threads == 1) {
        memcpy(grads1, m->grads, sizeof grads1);
        loss1 = lt;
      } else if (n == 5) {
        CHECK(lt == loss1 && !memcmp(grads1, m->grads, sizeof grads1),
              "%d threads: not bitwise equal to 1 thread", threads);
      }
    }
  }
  m->free(m);
  return t_finish("test_genmodel");
}
