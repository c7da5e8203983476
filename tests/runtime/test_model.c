// test_model.c — PyTorch-default initialisation (bounds and moments),
// determinism, and the lookup helpers.
#include "model.h"
#include "testutil.h"

int main(void) {
  // conv [16, 1, 3, 3] (fan_in 9), bias [16]; dense [10, 400] (fan_in 400), bias [10].
  NetTensor t[4] = {
    {"encoder_conv1_w", 4, {16, 1, 3, 3}, 0, 144, 9, 0},
    {"encoder_conv1_b", 1, {16}, 144, 16, 9, 0},
    {"head_dense1_w", 2, {10, 400}, 160, 4000, 400, 0},
    {"head_dense1_b", 1, {10}, 4160, 10, 400, 1},
  };
  static float p[4170], q[4170];
  NetOutput outs[2] = {{"code", 9, 1, {9}}, {"y", 10, 1, {10}}};
  NetModel m = {.name = "toy", .n_tensors = 4, .tensors = t, .n_params = 4170,
                .n_trainable = 4160, .params = p, .n_outputs = 2, .outputs = outs};
  model_init_params(&m, 1);
  for (int i = 0; i < 4; i++) {
    // kaiming_uniform_(a=sqrt(5)): bound = sqrt(3) * sqrt(2/(1+5)) / sqrt(fan_in) = 1/sqrt(fan_in).
    double bound = 1 / sqrt((double)t[i].fan_in), mx = 0, mean = 0, var = 0;
    for (size_t j = 0; j < t[i].numel; j++) {
      double v = p[t[i].offset + j];
      mx = fabs(v) > mx ? fabs(v) : mx;
      mean += v;
      var += v * v;
    }
    mean /= t[i].numel;
    var /= t[i].numel;
    printf("init %-16s bound %.4f max |w| %.4f mean %+.4f var/(bound^2/3) %.3f\n", t[i].name,
           bound, mx, mean, var / (bound * bound / 3));
    CHECK(mx <= bound && mx > 0.8 * bound, "%s within U(-bound, bound)", t[i].name);
    if (t[i].numel >= 1000)
      CHECK(fabs(mean) < 0.05 * bound && fabs(var / (bound * bound / 3) - 1) < 0.1,
            "%s moments of a uniform", t[i].name);
  }
  memcpy(q, p, sizeof p);
  model_init_params(&m, 1);
  CHECK(memcmp(p, q, sizeof p) == 0, "same seed, same parameters");
  model_init_params(&m, 2);
  CHECK(memcmp(p, q, sizeof p) != 0, "another seed, other parameters");
  CHECK(model_find_tensor(&m, "head_dense1_w") == 2 && model_find_tensor(&m, "nope") == -1, "find tensor");
  CHECK(model_find_output(&m, "y") == 1 && model_find_output(&m, "x") == -1, "find output");
  uint64_t h = model_hash_structure(&m);
  t[2].dim[1] = 401;
  CHECK(model_hash_structure(&m) != h, "hash sees shapes");
  t[2].dim[1] = 400;
  t[3].frozen = 0;
  CHECK(model_hash_structure(&m) != h, "hash sees frozen flags");
  return t_finish("test_model");
}
