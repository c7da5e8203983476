// fuzz_ckpt.c — the checkpoint loader (runtime/ckpt.c).  The input is a
// checkpoint of the toy model (toy.h); it is loaded with and without
// optimiser and training state, by prefix, and without a model
// (ckpt_read: netc-ckpt's reader).  Every file ends in a CRC-32
// of the bytes before it, which random mutations almost never match, so
// each input is also loaded a second time with its CRC recomputed: that
// reaches the header, table and bounds checks behind the CRC.
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ckpt.h"
#include "fuzz.h"
#include "toy.h"

static void load_all(const char *path) {
  CkptFile cf;
  ckpt_read(path, &cf);
  ckpt_file_free(&cf);
  Toy y;
  toy_init(&y);
  ckpt_load(path, &y.m, NULL, NULL);
  int channels;
  float mean[CKPT_NORM_MAX], std[CKPT_NORM_MAX];
  if (ckpt_load_norm(path, &channels, mean, std) == 0 && (channels < 0 || channels > CKPT_NORM_MAX))
    __builtin_trap();
  toy_init(&y);
  ckpt_load_subset(path, &y.m, "encoder_");
  for (int kind = OPTIM_SGD; kind <= OPTIM_ADAM; kind++) {
    OptimConfig cfg = optim_config_default((OptimKind)kind);
    if (kind == OPTIM_SGD)
      cfg.momentum = 0.9;
    Optim opt;
    if (optim_init(&opt, &cfg, y.m.n_trainable))
      abort();
    float best[26];
    CkptTrain tr = {.best_params = best};
    toy_init(&y);
    ckpt_load(path, &y.m, &opt, &tr);
    optim_free(&opt);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1 << 20))
    return 0;
  const char *path = fuzz_path("model.ckpt");
  fuzz_write(path, data, size);
  load_all(path);
  if (size >= 4) {
    uint8_t *fixed = malloc(size);
    memcpy(fixed, data, size);
    uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
    for (int i = 0; i < 4; i++)
      fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    fuzz_write(path, fixed, size);
    free(fixed);
    load_all(path);
  }
  return 0;
}
