// test_prep.c — batch assembly's normalisation and augmentation
// (mnist_batch_prep), the parsers of --normalize and --augment, the
// validation re-split, and the checkpoint's normalisation section, on
// small hand-made data sets whose every value is known.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "mnist.h"

static int failures;

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  failures += !ok;
}

enum { N = 8, C = 3, H = 5, W = 4, SIZE = C * H * W };

// Example k, channel c, pixel (y, x) = 1 + k*1000 + c*100 + y*10 + x: every
// value names its place, so a crop or flip is read off the output.
static float src[N * SIZE];
static int32_t lab[N];

static Mnist make(void) {
  for (int k = 0; k < N; k++) {
    lab[k] = k % 3;
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          src[k * SIZE + (c * H + y) * W + x] = (float)(1 + k * 1000 + c * 100 + y * 10 + x);
  }
  Mnist d;
  memset(&d, 0, sizeof d);
  d.train = (MnistSet){.n = N - 2, .labels = lab, .x = src, .size = SIZE};
  d.val = (MnistSet){.n = 2, .labels = lab + N - 2, .x = src + (N - 2) * SIZE, .size = SIZE};
  d.rank = 3;
  d.dim[0] = C, d.dim[1] = H, d.dim[2] = W;
  d.path[0] = "test";
  return d;
}

// Where output (c, y, x) of example k came from: (dy, dx, flipped), or
// found = 0 when the output is no crop-and-flip of the source.
static int decode(const float *out, int k, int pad, int *dy, int *dx, int *flip) {
  for (*flip = 0; *flip < 2; (*flip)++)
    for (*dy = -pad; *dy <= pad; (*dy)++)
      for (*dx = -pad; *dx <= pad; (*dx)++) {
        int same = 1;
        for (int c = 0; c < C && same; c++)
          for (int y = 0; y < H && same; y++)
            for (int x = 0; x < W && same; x++) {
              int sy = y + *dy, sx = (*flip ? W - 1 - x : x) + *dx;
              float want = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[k * SIZE + (c * H + sy) * W + sx] : 0;
              same = out[(c * H + y) * W + x] == want;
            }
        if (same)
          return 1;
      }
  return 0;
}

static void test_augment(void) {
  Mnist d = make();
  float x[N * SIZE], y[N * SIZE];
  int32_t l[N];
  int order[N - 2] = {5, 0, 3, 1, 4, 2};

  // No augmentation, no normalisation: exactly mnist_batch.
  mnist_batch_prep(&d, &d.train, order, 0, N - 2, x, l, NULL, NULL, 7);
  mnist_batch(&d.train, order, 0, N - 2, y, l);
  check(!memcmp(x, y, sizeof(float) * (N - 2) * SIZE), "no options: mnist_batch's bytes");

  // Flip only: every example is itself or its mirror image, both occur,
  // and a mirrored row reads right to left.
  MnistAugment flip = {0, 1};
  int flips = 0, ok = 1;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    mnist_batch_prep(&d, &d.train, order, 0, N - 2, x, l, NULL, &flip, seed);
    for (int i = 0; i < N - 2; i++) {
      int dy, dx, f;
      ok &= decode(x + i * SIZE, order[i], 0, &dy, &dx, &f) && l[i] == lab[order[i]];
      flips += f;
      if (f)   // first row of channel 0 of a flipped example: x = 3, 2, 1, 0
        ok &= x[i * SIZE] == src[order[i] * SIZE + W - 1] && x[i * SIZE + W - 1] == src[order[i] * SIZE];
    }
  }
  check(ok && flips > 0 && flips < 4 * (N - 2), "flip: each example itself or mirrored, both seen");

  // Crop 2 and flip: every example a shifted (zero-filled) crop, offsets
  // in [-2, 2]; the same example gets the same crop whatever its place in
  // the batch (its own stream), a different seed another one somewhere.
  MnistAugment cf = {2, 1};
  int shifted = 0;
  ok = 1;
  mnist_batch_prep(&d, &d.train, order, 0, N - 2, x, l, NULL, &cf, 11);
  mnist_batch_prep(&d, &d.train, NULL, 0, N - 2, y, l, NULL, &cf, 11);
  for (int i = 0; i < N - 2; i++) {
    int dy, dx, f;
    ok &= decode(x + i * SIZE, order[i], 2, &dy, &dx, &f);
    ok &= !memcmp(x + i * SIZE, y + order[i] * SIZE, sizeof(float) * SIZE);
    shifted += dy != 0 || dx != 0;
  }
  check(ok && shifted > 0, "crop=2,flip: shifted zero-padded crops, one per example whatever the order");
  mnist_batch_prep(&d, &d.train, NULL, 0, N - 2, x, l, NULL, &cf, 12);
  check(memcmp(x, y, sizeof x) != 0, "crop=2,flip: another seed, other crops");
}

static void test_norm(void) {
  Mnist d = make();
  MnistNorm n;
  int is_auto;
  check(!mnist_norm_parse("0.5,2", &n, &is_auto) && !is_auto && n.channels == 1 && n.mean[0] == 0.5f &&
            n.std[0] == 2.0f, "--normalize MEAN,STD");
  check(!mnist_norm_expand(&n, 3, "t") && n.channels == 3 && n.mean[2] == 0.5f && n.std[2] == 2.0f,
        "one pair repeats to every channel");
  check(!mnist_norm_parse("1,2,3:4,5,6", &n, &is_auto) && n.channels == 3 && n.mean[1] == 2 && n.std[2] == 6,
        "--normalize M1,M2,M3:S1,S2,S3");
  check(mnist_norm_expand(&n, 2, "t") == -1, "three channels given, two in the data: refused");
  check(!mnist_norm_parse("auto", &n, &is_auto) && is_auto, "--normalize auto");
  check(!mnist_norm_parse("none", &n, &is_auto) && !is_auto && n.channels == 0, "--normalize none");
  const char *bad[] = {"", "1", "1,2,3", "1:0", "1,2:3", "a,b", "1,,2:3,4,5", "1,2:", ":1", "1:-1", "nan,1",
                       "1:2:3", "1,2,"};
  int all = 1;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    MnistNorm m;
    all &= mnist_norm_parse(bad[i], &m, &is_auto) == -1;
  }
  check(all, "malformed --normalize specs refused");
  MnistAugment a;
  check(!mnist_augment_parse("crop=4,flip", &a) && a.crop == 4 && a.flip, "--augment crop=4,flip");
  check(!mnist_augment_parse("flip", &a) && !a.crop && a.flip, "--augment flip");
  const char *abad[] = {"", "crop", "crop=", "crop=0", "crop=x", "flip,", "crop=4,,flip", "flop", "crop=4x"};
  all = 1;
  for (size_t i = 0; i < sizeof abad / sizeof abad[0]; i++)
    all &= mnist_augment_parse(abad[i], &a) == -1;
  check(all, "malformed --augment specs refused");
  a = (MnistAugment){4, 0};
  MnistAugment a3 = {3, 1};
  check(mnist_augment_check(&d, &a) == -1 && mnist_augment_check(&d, &a3) == 0,
        "crop=4 on 5x4 examples refused (padding only), crop=3 taken");

  // auto: per channel over the 6 training examples, population std.
  check(!mnist_norm_auto(&d, &n) && n.channels == C, "--normalize auto computes");
  int good = 1;
  for (int c = 0; c < C; c++) {
    double s = 0, q = 0, cnt = (N - 2) * H * W;
    for (int k = 0; k < N - 2; k++)
      for (int p = 0; p < H * W; p++) s += src[k * SIZE + c * H * W + p];
    for (int k = 0; k < N - 2; k++)
      for (int p = 0; p < H * W; p++) {
        double v = src[k * SIZE + c * H * W + p] - s / cnt;
        q += v * v;
      }
    good &= n.mean[c] == (float)(s / cnt) && n.std[c] == (float)sqrt(q / cnt);
  }
  check(good, "auto: per-channel mean and population std of the training split (not val)");
  float x[2 * SIZE];
  int32_t l[2];
  mnist_batch_prep(&d, &d.val, NULL, 0, 2, x, l, &n, NULL, 0);
  good = 1;
  for (int i = 0; i < 2 * SIZE; i++) {
    int c = i % SIZE / (H * W);
    good &= x[i] == (d.val.x[i] - n.mean[c]) / n.std[c];
  }
  check(good, "normalised batch: (x - mean[c]) / std[c] in float");
}

static void test_split(void) {
  Mnist d = make();
  check(!mnist_resplit(&d, 3) && d.train.n == 5 && d.val.n == 3 && d.val.x == src + 5 * SIZE &&
            d.val.labels == lab + 5, "--val-count 3: the last 3 of the training file");
  check(mnist_resplit(&d, 8) == -1 && mnist_resplit(&d, 0) == -1, "a split leaving no train or no val: refused");
}

// A checkpoint with a normalisation section round-trips; without one it
// is read as none.
static void test_ckpt(void) {
  float params[3] = {1, 2, 3}, grads[3];
  NetTensor t = {.name = "w", .rank = 1, .dim = {3}, .offset = 0, .numel = 3, .fan_in = 3};
  NetModel m = {.name = "m", .n_tensors = 1, .tensors = &t, .n_params = 3, .n_trainable = 3,
                .params = params, .grads = grads};
  m.structure_hash = model_hash_structure(&m);
  char path[] = "/tmp/netc-prep-XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  CkptTrain tr = {.epoch = 1, .seed = 5};
  int ch;
  float mean[CKPT_NORM_MAX], std[CKPT_NORM_MAX];
  check(!ckpt_save(path, &m, NULL, &tr) && !ckpt_load_norm(path, &ch, mean, std) && ch == 0,
        "checkpoint without normalisation: none");
  tr.norm_channels = 2;
  tr.norm_mean[0] = 0.25f, tr.norm_mean[1] = -1;
  tr.norm_std[0] = 0.5f, tr.norm_std[1] = 3;
  CkptTrain back;
  memset(&back, 0, sizeof back);
  check(!ckpt_save(path, &m, NULL, &tr) && !ckpt_load_norm(path, &ch, mean, std) && ch == 2 &&
            mean[1] == -1 && std[0] == 0.5f && !ckpt_load(path, &m, NULL, &back) && back.norm_channels == 2 &&
            back.norm_std[1] == 3 && back.epoch == 1 && !back.has_plateau,
        "checkpoint with normalisation: saved and loaded (version 3)");
  tr.has_plateau = 1;
  tr.plateau.lr = 0.5;
  check(!ckpt_save(path, &m, NULL, &tr) && !ckpt_load(path, &m, NULL, &back) && back.has_plateau &&
            back.plateau.lr == 0.5 && back.norm_mean[0] == 0.25f,
        "version 3 keeps the plateau state");
  remove(path);
}

int main(void) {
  test_augment();
  test_norm();
  test_split();
  test_ckpt();
  return failures ? 1 : 0;
}
