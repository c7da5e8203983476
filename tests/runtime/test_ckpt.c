// test_ckpt.c — checkpoints: round trip (parameters, optimiser state,
// training state, best parameters), damaged files (flipped byte, truncated,
// bad magic, another model's hash, another shape, another optimiser),
// subset loading by prefix, and that a failed save keeps the old file.
#include <signal.h>
#include <sys/resource.h>
#include <zlib.h>

#include "ckpt.h"
#include "testutil.h"

typedef struct {
  NetModel m;
  NetTensor t[4];
  float p[256], g[256];
} Toy;

// encoder_dense1_w [4, 3], encoder_dense1_b [4], head_w [2, 4], head_b [2];
// wide changes head_w to [2, 5] (another shape).
static void toy_init(Toy *y, int wide) {
  memset(y, 0, sizeof *y);
  static const char *names[4] = {"encoder_dense1_w", "encoder_dense1_b", "head_w", "head_b"};
  int dims[4][2] = {{4, 3}, {4, 0}, {2, wide ? 5 : 4}, {2, 0}};
  size_t off = 0;
  for (int i = 0; i < 4; i++) {
    NetTensor *t = &y->t[i];
    t->name = names[i];
    t->rank = dims[i][1] ? 2 : 1;
    t->dim[0] = dims[i][0];
    t->dim[1] = dims[i][1];
    t->numel = (size_t)dims[i][0] * (dims[i][1] ? dims[i][1] : 1);
    t->offset = off;
    t->fan_in = dims[i][1] ? dims[i][1] : 3;
    off += t->numel;
  }
  y->m.name = wide ? "toy-wide" : "toy";
  y->m.n_tensors = 4;
  y->m.tensors = y->t;
  y->m.n_params = y->m.n_trainable = off;
  y->m.params = y->p;
  y->m.grads = y->g;
  y->m.structure_hash = model_hash_structure(&y->m);
  for (size_t i = 0; i < off; i++) y->p[i] = (float)i * 0.25f - 3;
}

static char dir[256];
// DIR/name, in one of 64 static slots (each call takes a new one; the test
// makes fewer than 64 paths).
static const char *path_of(const char *name) {
  static char p[64][512];
  static int k;
  char *s = p[k++ % 64];
  snprintf(s, 512, "%s/%s", dir, name);
  return s;
}

static void copy_file(const char *from, const char *to, long cut, long flip) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  unsigned char buf[65536];
  long n = (long)fread(buf, 1, sizeof buf, a);
  if (flip >= 0 && flip < n) buf[flip] ^= 0x10;
  fwrite(buf, 1, cut >= 0 && cut < n ? cut : n, b);
  fclose(a);
  fclose(b);
}

static long file_size(const char *p) {
  FILE *f = fopen(p, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static void expect_load_error(const char *what, const char *file, NetModel *m, Optim *o,
                              const char *want) {
  printf("%s:\n", what);
  float before[256];
  memcpy(before, m->params, sizeof(float) * m->n_params);
  t_stderr_begin();
  int rc = ckpt_load(file, m, o, NULL);
  const char *msg = t_stderr_end();
  CHECK(rc == -1, "%s: load must fail", what);
  CHECK(strstr(msg, want) != NULL, "%s: message should say '%s'", what, want);
  CHECK(memcmp(before, m->params, sizeof(float) * m->n_params) == 0,
        "%s: a failed load leaves the parameters alone", what);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/netrt-test-ckpt-XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  Toy a, b;
  toy_init(&a, 0);
  toy_init(&b, 0);
  for (size_t i = 0; i < b.m.n_params; i++) b.p[i] = 0;

  // Round trip with Adam state and training state.
  OptimConfig c = optim_config_default(OPTIM_ADAM);
  Optim oa, ob;
  optim_init(&oa, &c, a.m.n_trainable);
  optim_init(&ob, &c, b.m.n_trainable);
  for (size_t i = 0; i < a.m.n_params; i++) a.g[i] = (float)(i % 7) - 3;
  optim_step(&oa, a.p, a.g);
  optim_step(&oa, a.p, a.g);
  float best[256];
  for (size_t i = 0; i < a.m.n_params; i++) best[i] = (float)i;
  CkptTrain tr = {.epoch = 7, .seed = 12345678901234ull, .best_epoch = 5, .since_best = 2,
                  .best_val_loss = 0.0164, .seconds = 12.5, .images = 63000, .best_params = best};
  const char *good = path_of("good.ckpt");
  CHECK(ckpt_save(good, &a.m, &oa, &tr) == 0, "save");
  float saved[256];
  memcpy(saved, a.p, sizeof saved);
  float best2[256] = {0};
  CkptTrain tr2 = {.best_params = best2};
  CHECK(ckpt_load(good, &b.m, &ob, &tr2) == 0, "load");
  CHECK(memcmp(a.p, b.p, sizeof(float) * a.m.n_params) == 0, "parameters round trip");
  CHECK(ob.step == 2 && memcmp(oa.m, ob.m, sizeof(float) * oa.n) == 0 &&
        memcmp(oa.v, ob.v, sizeof(float) * oa.n) == 0, "optimizer state round trips");
  CHECK(tr2.epoch == 7 && tr2.seed == 12345678901234ull && tr2.best_epoch == 5 &&
        tr2.since_best == 2 && tr2.best_val_loss == 0.0164 && tr2.seconds == 12.5 &&
        tr2.images == 63000 && tr2.has_best, "training state round trips");
  CHECK(memcmp(best, best2, sizeof(float) * a.m.n_params) == 0, "best parameters round trip");
  // The optimiser continues identically after a reload.
  optim_step(&oa, a.p, a.g);
  optim_step(&ob, b.p, a.g);
  CHECK(memcmp(a.p, b.p, sizeof(float) * a.m.n_params) == 0, "resumed optimizer matches");
  CHECK(access(path_of("good.ckpt.tmp"), F_OK) != 0, "no temporary file left behind");

  // Damaged files.
  long size = file_size(good);
  copy_file(good, path_of("flip.ckpt"), -1, size / 2);
  expect_load_error("flipped byte", path_of("flip.ckpt"), &b.m, NULL, "CRC mismatch");
  copy_file(good, path_of("flip-table.ckpt"), -1, 130);
  expect_load_error("flipped byte in the table", path_of("flip-table.ckpt"), &b.m, NULL, "CRC mismatch");
  copy_file(good, path_of("cut.ckpt"), size - 9, -1);
  expect_load_error("truncated", path_of("cut.ckpt"), &b.m, NULL, "truncated");
  copy_file(good, path_of("stub.ckpt"), 20, -1);
  expect_load_error("truncated header", path_of("stub.ckpt"), &b.m, NULL, "truncated");
  copy_file(good, path_of("magic.ckpt"), -1, 0);
  expect_load_error("bad magic", path_of("magic.ckpt"), &b.m, NULL, "bad magic");
  expect_load_error("missing file", path_of("none.ckpt"), &b.m, NULL, "cannot open");
  // Version: patch the version field and fix the CRC so only the version is wrong.
  {
    FILE *f = fopen(good, "rb");
    unsigned char buf[65536];
    long n = (long)fread(buf, 1, sizeof buf, f);
    fclose(f);
    buf[8] = 99;
    f = fopen(path_of("version.ckpt"), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_load_error("another version", path_of("version.ckpt"), &b.m, NULL, "version 99");
  }
  // A table entry pointing past the end, with a valid CRC (so only the
  // bounds check can catch it): the first tensor's data offset (header
  // 120 bytes + u32 length + 16-byte name + rank + 4 dims = byte 160).
  {
    FILE *f = fopen(good, "rb");
    unsigned char buf[65536];
    long n = (long)fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (int i = 0; i < 8; i++) buf[160 + i] = (unsigned char)((1ull << 40) >> (8 * i));
    uLong crc = crc32(0L, buf, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) buf[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    f = fopen(path_of("table.ckpt"), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_load_error("table past the end", path_of("table.ckpt"), &b.m, NULL,
                      "data of tensor encoder_dense1_w lies past the end");
  }
  // Another structure hash (same tensors): "another model".
  Toy h;
  toy_init(&h, 0);
  h.m.structure_hash ^= 1;
  expect_load_error("another structure hash", good, &h.m, NULL, "structure hash differs");
  // Another shape: names the tensor and both shapes.
  Toy w;
  toy_init(&w, 1);
  expect_load_error("another shape", good, &w.m, NULL, "head_w has shape [2, 4] in the checkpoint, the model expects [2, 5]");
  // Another optimiser on resume.
  OptimConfig cs = optim_config_default(OPTIM_SGD);
  cs.momentum = 0.9;
  Optim os;
  optim_init(&os, &cs, b.m.n_trainable);
  expect_load_error("another optimizer", good, &b.m, &os, "optimizer state is for adam");
  optim_free(&os);
  // No optimizer state but --resume asks for it.
  const char *plain = path_of("plain.ckpt");
  CHECK(ckpt_save(plain, &a.m, NULL, NULL) == 0, "save without optimizer");
  expect_load_error("resume without state", plain, &b.m, &ob, "no optimizer state");
  CkptTrain tr3 = {.epoch = 99};
  CHECK(ckpt_load(plain, &b.m, NULL, &tr3) == 0 && tr3.epoch == 0 && !tr3.has_best,
        "no training state: zeroed");

  // The plateau schedule's state makes a version-2 file (32 more header
  // bytes); without it the file stays version 1.
  CkptTrain tp = {.epoch = 3, .seed = 1, .has_plateau = 1, .plateau = {2.5e-4, 0.0731, 1, 2}};
  const char *pl = path_of("plateau.ckpt");
  CHECK(ckpt_save(pl, &a.m, &oa, &tp) == 0, "save with the plateau state");
  CkptTrain tp2 = {0};
  CHECK(ckpt_load(pl, &b.m, &ob, &tp2) == 0 && tp2.has_plateau && tp2.epoch == 3 &&
        tp2.plateau.lr == 2.5e-4 && tp2.plateau.best == 0.0731 && tp2.plateau.bad_epochs == 1 &&
        tp2.plateau.cooldown == 2, "plateau state round trips");
  // (good.ckpt also holds the best parameters, n_params floats.)
  CHECK(file_size(pl) == file_size(good) + 32 - (long)sizeof(float) * (long)a.m.n_params,
        "version 2 is version 1 plus 32 header bytes (%ld vs %ld)", file_size(pl), file_size(good));
  {
    unsigned char buf[65536];
    FILE *f = fopen(pl, "rb");
    long n = (long)fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(buf[8] == 2, "plateau checkpoint is version 2");
    f = fopen(good, "rb");
    CHECK(fread(buf + 32768, 1, 12, f) == 12 && buf[32768 + 8] == 1, "checkpoint without it is version 1");
    fclose(f);
    // A NaN rate with a valid CRC: refused as damaged.
    double nan = NAN;
    memcpy(buf + 120, &nan, 8);
    uLong crc = crc32(0L, buf, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) buf[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    f = fopen(path_of("plateau-nan.ckpt"), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_load_error("NaN plateau rate", path_of("plateau-nan.ckpt"), &b.m, NULL, "plateau");
  }

  // Subset: the wide model shares encoder_* with good.ckpt; head_w differs.
  for (size_t i = 0; i < w.m.n_params; i++) w.p[i] = -1;
  int n = ckpt_load_subset(good, &w.m, "encoder_");
  CHECK(n == 2, "subset loads the 2 encoder tensors (got %d)", n);
  CHECK(memcmp(w.p, saved, sizeof(float) * 16) == 0 && w.p[16] == -1, "only encoder tensors changed");
  printf("subset with a mismatching tensor:\n");
  t_stderr_begin();
  n = ckpt_load_subset(good, &w.m, "head_");
  const char *msg = t_stderr_end();
  CHECK(n == -1 && strstr(msg, "head_w has shape"), "subset shape mismatch named");
  // A prefix the checkpoint lacks tensors for: rename a tensor in a model.
  Toy r;
  toy_init(&r, 0);
  r.t[0].name = "encoder_conv1_w";
  printf("subset with a missing tensor:\n");
  t_stderr_begin();
  n = ckpt_load_subset(good, &r.m, "encoder_");
  msg = t_stderr_end();
  CHECK(n == -1 && strstr(msg, "no tensor encoder_conv1_w"), "missing tensor named");
  printf("subset with no matching tensors:\n");
  t_stderr_begin();
  n = ckpt_load_subset(good, &r.m, "decoder_");
  msg = t_stderr_end();
  CHECK(n == -1 && strstr(msg, "no tensor whose name starts with 'decoder_'"), "empty prefix refused");

  // A failed save (file size limit: the write fails part-way) must report
  // the file and leave the previous checkpoint intact and loadable.
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 400;    // the checkpoint is 744 bytes; the captured messages fit
  setrlimit(RLIMIT_FSIZE, &lim);
  printf("save with the file size limited to 400 bytes:\n");
  for (size_t i = 0; i < a.m.n_params; i++) a.p[i] += 1;
  t_stderr_begin();
  int rc = ckpt_save(good, &a.m, &oa, &tr);
  msg = t_stderr_end();
  setrlimit(RLIMIT_FSIZE, &old);
  CHECK(rc == -1 && strstr(msg, "good.ckpt.tmp") && strstr(msg, "unchanged"), "failed save reported");
  CHECK(file_size(good) == size && ckpt_load(good, &b.m, NULL, NULL) == 0, "previous checkpoint intact");
  CHECK(access(path_of("good.ckpt.tmp"), F_OK) != 0, "temporary file removed");
  printf("save into a missing directory:\n");
  t_stderr_begin();
  rc = ckpt_save(path_of("no/such/dir.ckpt"), &a.m, NULL, NULL);
  msg = t_stderr_end();
  CHECK(rc == -1 && strstr(msg, "cannot create"), "missing directory reported");

  optim_free(&oa);
  optim_free(&ob);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("warning: could not remove %s\n", dir);
  return t_finish("test_ckpt");
}
