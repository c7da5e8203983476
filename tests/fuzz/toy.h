// toy.h — the small model the checkpoint fuzz target loads into and the
// seed generator saves from: encoder_dense1_w [4, 3], encoder_dense1_b [4],
// head_w [2, 4], head_b [2] (26 floats, head_* frozen), as in
// tests/runtime/test_ckpt.c.  Small tensors keep valid checkpoints short,
// so the fuzzer's mutations reach every field.
#ifndef FUZZ_TOY_H
#define FUZZ_TOY_H

#include <string.h>

#include "model.h"

typedef struct {
  NetModel m;
  NetTensor t[4];
  float p[26], g[26];
} Toy;

static inline void toy_init(Toy *y) {
  static const char *names[4] = {"encoder_dense1_w", "encoder_dense1_b", "head_w", "head_b"};
  static const int dims[4][2] = {{4, 3}, {4, 0}, {2, 4}, {2, 0}};
  memset(y, 0, sizeof *y);
  size_t off = 0;
  for (int i = 0; i < 4; i++) {
    NetTensor *t = &y->t[i];
    t->name = names[i];
    t->rank = dims[i][1] ? 2 : 1;
    t->dim[0] = dims[i][0];
    t->dim[1] = dims[i][1];
    t->numel = (size_t)dims[i][0] * (size_t)(dims[i][1] ? dims[i][1] : 1);
    t->offset = off;
    t->fan_in = dims[i][1] ? dims[i][1] : 3;
    t->frozen = i >= 2;
    off += t->numel;
  }
  y->m.name = "toy";
  y->m.n_tensors = 4;
  y->m.tensors = y->t;
  y->m.n_params = off;
  y->m.n_trainable = y->t[2].offset;
  y->m.params = y->p;
  y->m.grads = y->g;
  y->m.structure_hash = model_hash_structure(&y->m);
  for (size_t i = 0; i < off; i++)
    y->p[i] = (float)i * 0.25f - 3;
}

#endif
