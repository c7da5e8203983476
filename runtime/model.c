// model.c — helpers over the NetModel descriptor (model.h).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "rng.h"

// PyTorch's defaults (torch/nn/modules/conv.py, linear.py reset_parameters):
// weights kaiming_uniform_(a = sqrt(5)): gain = sqrt(2 / (1 + a^2)),
// std = gain / sqrt(fan_in), bound = sqrt(3) * std (= 1 / sqrt(fan_in));
// biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in.
// Each tensor draws from its own stream (seed, tensor index), so adding a
// tensor does not change the initial values of the others.
static int is_bias(const NetTensor *t) {
  size_t len = strlen(t->name);
  return t->rank == 1 && len >= 2 && strcmp(t->name + len - 2, "_b") == 0;
}

void model_init_params(NetModel *m, uint64_t seed) {
  for (int i = 0; i < m->n_tensors; i++) {
    const NetTensor *t = &m->tensors[i];
    double fan_in = t->fan_in > 0 ? t->fan_in : 1;
    double bound;
    if (is_bias(t)) {
      bound = 1.0 / sqrt(fan_in);
    } else {
      double a = sqrt(5.0);
      double gain = sqrt(2.0 / (1.0 + a * a));
      bound = sqrt(3.0) * gain / sqrt(fan_in);
    }
    Rng r = rng_stream(seed, (uint64_t)i);
    float *p = m->params + t->offset;
    int init = m->tensor_init ? m->tensor_init[i] : NET_INIT_DEFAULT;
    if (init != NET_INIT_DEFAULT) {
      for (size_t j = 0; j < t->numel; j++)
        p[j] = init == NET_INIT_ONES ? 1.0f : 0.0f;
      continue;
    }
    for (size_t j = 0; j < t->numel; j++)
      p[j] = (float)((2.0 * rng_uniform(&r) - 1.0) * bound);
  }
}

int model_find_tensor(const NetModel *m, const char *name) {
  for (int i = 0; i < m->n_tensors; i++)
    if (strcmp(m->tensors[i].name, name) == 0)
      return i;
  return -1;
}

int model_find_output(const NetModel *m, const char *name) {
  for (int i = 0; i < m->n_outputs; i++)
    if (strcmp(m->outputs[i].name, name) == 0)
      return i;
  return -1;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

uint64_t model_hash_structure(const NetModel *m) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < m->n_tensors; i++) {
    const NetTensor *t = &m->tensors[i];
    h = fnv1a(h, t->name, strlen(t->name) + 1);
    int32_t v[2 + NET_MAX_RANK] = {t->rank, t->frozen != 0};
    for (int k = 0; k < t->rank && k < NET_MAX_RANK; k++)
      v[2 + k] = t->dim[k];
    h = fnv1a(h, v, sizeof v);
  }
  return h;
}

const char *model_shape_text(char *buf, size_t size, int rank, const int *dim) {
  size_t k = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < rank && k < size; i++)
    k += (size_t)snprintf(buf + k, size - k, "%s%d", i ? ", " : "", dim[i]);
  if (k < size)
    snprintf(buf + k, size - k, "]");
  return buf;
}
