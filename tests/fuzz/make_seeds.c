// make_seeds.c — writes the generated part of the seed corpus: small valid
// and damaged IDX files (corpus/idx) and checkpoints of the toy model
// (corpus/ckpt).  Run once; its output is committed.
//   make_seeds CORPUS_DIR
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "ckpt.h"
#include "toy.h"

static char root[512];

static const char *out(const char *sub, const char *name) {
  static char p[1024];
  snprintf(p, sizeof p, "%s/%s/%s", root, sub, name);
  return p;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

// An IDX file: magic, dims, then `bytes` bytes (value i*37 mod (mod)).
static void idx(const char *name, int gz, uint32_t magic, int ndim, const uint32_t *dim,
                size_t bytes, int mod) {
  unsigned char buf[8192];
  put32(buf, magic);
  for (int i = 0; i < ndim; i++)
    put32(buf + 4 + 4 * i, dim[i]);
  size_t n = 4 + 4 * (size_t)ndim;
  for (size_t i = 0; i < bytes && n < sizeof buf; i++)
    buf[n++] = (unsigned char)((i * 37) % (size_t)mod);
  if (gz) {
    gzFile f = gzopen(out("idx", name), "wb9");
    gzwrite(f, buf, (unsigned)n);
    gzclose(f);
  } else {
    FILE *f = fopen(out("idx", name), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
  }
}

static void copy(const char *from, const char *to, long cut, long flip, long at, uint32_t val) {
  unsigned char buf[65536];
  FILE *a = fopen(out("ckpt", from), "rb");
  long n = (long)fread(buf, 1, sizeof buf, a);
  fclose(a);
  if (flip >= 0 && flip < n) buf[flip] ^= 0x40;
  if (at >= 0 && at + 4 <= n)
    for (int i = 0; i < 4; i++) buf[at + i] = (unsigned char)(val >> (8 * i));
  if (cut >= 0 && cut < n) n = cut;
  if (at >= 0) {                         // keep the CRC valid: only the bounds checks see it
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) buf[n - 4 + i] = (unsigned char)(crc >> (8 * i));
  }
  FILE *b = fopen(out("ckpt", to), "wb");
  fwrite(buf, 1, (size_t)n, b);
  fclose(b);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  snprintf(root, sizeof root, "%s", argv[1]);
  uint32_t two[3] = {2, 28, 28}, zero[3] = {0, 28, 28}, huge[3] = {4000000000u, 28, 28};
  uint32_t wide[3] = {1, 29, 28}, five = 5, big = 4294967295u;
  idx("images-2", 0, 0x803, 3, two, 2 * 784, 256);
  idx("images-2.gz", 1, 0x803, 3, two, 2 * 784, 256);
  idx("images-0", 0, 0x803, 3, zero, 0, 256);
  idx("images-short", 0, 0x803, 3, two, 784 + 100, 256);
  idx("images-long", 0, 0x803, 3, two, 2 * 784 + 3, 256);
  idx("images-4-billion", 0, 0x803, 3, huge, 784, 256);
  idx("images-4-billion.gz", 1, 0x803, 3, huge, 784, 256);
  idx("images-29-rows", 0, 0x803, 3, wide, 29 * 28, 256);
  idx("labels-5", 0, 0x801, 1, &five, 5, 10);
  idx("labels-5.gz", 1, 0x801, 1, &five, 5, 10);
  idx("labels-out-of-range", 0, 0x801, 1, &five, 5, 256);
  idx("labels-4-billion", 0, 0x801, 1, &big, 5, 10);
  idx("bad-magic", 0, 0x802, 3, two, 2 * 784, 256);

  Toy y;
  toy_init(&y);
  if (ckpt_save(out("ckpt", "params-only"), &y.m, NULL, NULL))
    return 1;
  OptimConfig cfg = optim_config_default(OPTIM_ADAM);
  Optim opt;
  optim_init(&opt, &cfg, y.m.n_trainable);
  for (size_t i = 0; i < opt.n; i++)
    opt.m[i] = 0.01f * (float)i, opt.v[i] = 0.001f * (float)i;
  opt.step = 7;
  float best[26];
  for (int i = 0; i < 26; i++)
    best[i] = (float)i;
  CkptTrain tr = {.epoch = 3, .seed = 42, .best_epoch = 2, .since_best = 1, .best_val_loss = 0.5,
                  .seconds = 1.5, .images = 30000, .best_params = best};
  if (ckpt_save(out("ckpt", "adam-train-best"), &y.m, &opt, &tr))
    return 1;
  optim_free(&opt);
  cfg = optim_config_default(OPTIM_SGD);
  cfg.momentum = 0.9;
  optim_init(&opt, &cfg, y.m.n_trainable);
  tr.best_params = NULL;
  if (ckpt_save(out("ckpt", "sgd-train"), &y.m, &opt, &tr))
    return 1;
  optim_free(&opt);
  copy("adam-train-best", "truncated", 100, -1, -1, 0);
  copy("adam-train-best", "flipped", -1, 120, -1, 0);
  copy("params-only", "empty", 0, -1, -1, 0);
  // Fields pointing past the end, with a valid CRC.  Header: tensor count
  // at 12, optimiser state offset at 56, best parameters at 112; the first
  // table entry (at 120: name length, 16-byte name, rank, 4 dims) has its
  // data offset at 160 and its element count at 168.
  copy("adam-train-best", "table-offset-past-end", -1, -1, 160, 0x7fffffffu);
  copy("adam-train-best", "table-numel-huge", -1, -1, 168, 0xffffffffu);
  copy("adam-train-best", "tensor-count-huge", -1, -1, 12, 0xffffffffu);
  copy("adam-train-best", "state-past-end", -1, -1, 56, 0x7fffff00u);
  copy("adam-train-best", "best-past-end", -1, -1, 112, 0x7fffff00u);
  copy("adam-train-best", "name-length-huge", -1, -1, 120, 0xfffffff0u);
  // Version 3: the normalisation section (channels at 156, its offset at
  // 160), valid and damaged.
  tr.norm_channels = 3;
  for (int c = 0; c < 3; c++)
    tr.norm_mean[c] = 0.5f - 0.01f * c, tr.norm_std[c] = 0.25f;
  tr.has_plateau = 1;
  tr.plateau = (Plateau){.lr = 1e-3, .best = 0.5};
  if (ckpt_save(out("ckpt", "norm-plateau"), &y.m, NULL, &tr))
    return 1;
  copy("norm-plateau", "norm-past-end", -1, -1, 160, 0x7fffff00u);
  copy("norm-plateau", "norm-channels-huge", -1, -1, 156, 0xffffffffu);
  struct stat st;                        // the stds are the last 12 bytes before the CRC
  if (stat(out("ckpt", "norm-plateau"), &st))
    return 1;
  copy("norm-plateau", "norm-std-zero", -1, -1, (long)st.st_size - 4 - 12, 0);
  return 0;
}
