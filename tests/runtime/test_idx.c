// test_idx.c — the IDX reader and MNIST loader: damaged files made here
// (bad magic, truncated raw and gzip, extra data, wrong dimensions, labels
// out of range, a 4-billion-image header, image/label count mismatch), then
// the committed subset: split, shuffle and batches.
#include <sys/resource.h>
#include <zlib.h>

#include "idx.h"
#include "mnist.h"
#include "testutil.h"

static char dir[256];

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

// Writes an IDX file: header (magic, dims) then `bytes` bytes of data
// (pixels i*7; labels i mod (label_max+1), the last = label_max).  gz: gzip-compressed.
static void write_idx(const char *name, int gz, uint32_t magic, int ndim, const uint32_t *dim,
                      size_t bytes, int label_max) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  unsigned char h[16];
  put32(h, magic);
  for (int i = 0; i < ndim; i++) put32(h + 4 + 4 * i, dim[i]);
  unsigned char *d = malloc(bytes ? bytes : 1);
  for (size_t i = 0; i < bytes; i++) d[i] = (unsigned char)(label_max ? i % (label_max + 1) : i * 7);
  if (label_max && bytes) d[bytes - 1] = (unsigned char)label_max;   // the largest label occurs
  if (gz) {
    gzFile f = gzopen(path, "wb");
    gzwrite(f, h, 4 + 4 * ndim);
    if (bytes) gzwrite(f, d, (unsigned)bytes);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    fwrite(h, 1, 4 + 4 * ndim, f);
    fwrite(d, 1, bytes, f);
    fclose(f);
  }
  free(d);
}

static const char *path_of(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

// Loading `name` must fail with a message containing `want` and the path.
static void expect_images_error(const char *name, const char *want) {
  uint8_t *img = NULL;
  int n = -1;
  printf("images %s:\n", name);
  t_stderr_begin();
  int rc = idx_load_images(path_of(name), &img, &n);
  const char *msg = t_stderr_end();
  CHECK(rc == -1 && img == NULL, "%s: load must fail", name);
  CHECK(strstr(msg, want) != NULL, "%s: message should say '%s'", name, want);
  CHECK(strstr(msg, name) != NULL, "%s: message should name the file", name);
  free(img);
}

static void expect_labels_error(const char *name, const char *want) {
  uint8_t *lab = NULL;
  int n = -1;
  printf("labels %s:\n", name);
  t_stderr_begin();
  int rc = idx_load_labels(path_of(name), &lab, &n);
  const char *msg = t_stderr_end();
  CHECK(rc == -1 && lab == NULL, "%s: load must fail", name);
  CHECK(strstr(msg, want) != NULL, "%s: message should say '%s'", name, want);
  free(lab);
}

static void test_damaged(void) {
  uint32_t d10[3] = {10, 28, 28}, l10[1] = {10}, l9[1] = {9};
  // Good files, raw and gzip, load.
  write_idx("good-images", 0, IDX_MAGIC_IMAGES, 3, d10, 10 * 784, 0);
  write_idx("good-images.gz", 1, IDX_MAGIC_IMAGES, 3, d10, 10 * 784, 0);
  for (int gz = 0; gz < 2; gz++) {
    uint8_t *img;
    int n;
    int rc = idx_load_images(path_of(gz ? "good-images.gz" : "good-images"), &img, &n);
    CHECK(rc == 0 && n == 10, "good file (gz %d) loads", gz);
    if (rc == 0) {
      CHECK(img[785] == (unsigned char)(785 * 7), "data intact");
      free(img);
    }
  }
  write_idx("magic", 0, 0x00000802, 3, d10, 10 * 784, 0);
  expect_images_error("magic", "bad magic");
  write_idx("labels-as-images", 0, IDX_MAGIC_LABELS, 1, l10, 10, 9);
  expect_images_error("labels-as-images", "bad magic");
  write_idx("short", 0, IDX_MAGIC_IMAGES, 3, d10, 5 * 784 + 17, 0);
  expect_images_error("short", "truncated");
  write_idx("short.gz", 1, IDX_MAGIC_IMAGES, 3, d10, 9 * 784, 0);
  expect_images_error("short.gz", "truncated");
  write_idx("long", 0, IDX_MAGIC_IMAGES, 3, d10, 11 * 784, 0);
  expect_images_error("long", "more data");
  uint32_t d27[3] = {10, 28, 27};
  write_idx("dims", 0, IDX_MAGIC_IMAGES, 3, d27, 10 * 28 * 27, 0);
  expect_images_error("dims", "28x27");
  write_idx("header-only", 0, IDX_MAGIC_IMAGES, 1, d10, 0, 0);
  expect_images_error("header-only", "header");
  // A gzip file cut in the middle of its compressed stream.
  {
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s/good-images.gz", dir);
    snprintf(dst, sizeof dst, "%s/cut.gz", dir);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n / 2, out);
    fclose(in);
    fclose(out);
    expect_images_error("cut.gz", "truncated");
  }
  // Hostile headers: 4 billion images is refused outright; 9,999,999 (under
  // the cap, 7.8 GB) with 10 images of data must fail as truncated without
  // first allocating 7.8 GB, which the address-space limit below forbids.
  uint32_t huge[3] = {4000000000u, 28, 28}, big[3] = {9999999, 28, 28};
  write_idx("huge", 0, IDX_MAGIC_IMAGES, 3, huge, 10 * 784, 0);
  expect_images_error("huge", "limit");
  write_idx("big.gz", 1, IDX_MAGIC_IMAGES, 3, big, 10 * 784, 0);
#if !defined(__SANITIZE_ADDRESS__)
  struct rlimit old, lim;
  getrlimit(RLIMIT_AS, &old);
  lim = old;
  lim.rlim_cur = (rlim_t)2 << 30;
  setrlimit(RLIMIT_AS, &lim);
#endif
  expect_images_error("big.gz", "truncated");
#if !defined(__SANITIZE_ADDRESS__)
  setrlimit(RLIMIT_AS, &old);
#endif
  // Labels: out of range, bad magic, truncated.
  write_idx("labels-range", 0, IDX_MAGIC_LABELS, 1, l10, 10, 10);
  expect_labels_error("labels-range", "out of range");
  write_idx("labels-magic", 0, IDX_MAGIC_IMAGES, 1, l10, 10, 9);
  expect_labels_error("labels-magic", "bad magic");
  write_idx("labels-short.gz", 1, IDX_MAGIC_LABELS, 1, l10, 7, 9);
  expect_labels_error("labels-short.gz", "truncated");
  expect_labels_error("no-such-file", "cannot open");

  // Image/label count mismatch in a data directory (mixing raw and .gz).
  write_idx("train-images-idx3-ubyte", 0, IDX_MAGIC_IMAGES, 3, d10, 10 * 784, 0);
  write_idx("train-labels-idx1-ubyte.gz", 1, IDX_MAGIC_LABELS, 1, l9, 9, 9);
  write_idx("t10k-images-idx3-ubyte.gz", 1, IDX_MAGIC_IMAGES, 3, d10, 10 * 784, 0);
  write_idx("t10k-labels-idx1-ubyte", 0, IDX_MAGIC_LABELS, 1, l10, 10, 9);
  Mnist m;
  printf("mnist count mismatch:\n");
  t_stderr_begin();
  int rc = mnist_load(&m, dir);
  const char *msg = t_stderr_end();
  CHECK(rc == -1 && strstr(msg, "9 labels") && strstr(msg, "10 images"), "count mismatch reported");
  write_idx("train-labels-idx1-ubyte.gz", 1, IDX_MAGIC_LABELS, 1, l10, 10, 9);
  rc = mnist_load(&m, dir);
  CHECK(rc == 0 && m.train.n == 9 && m.val.n == 1 && m.test.n == 10, "tiny set loads, split 9/1");
  if (rc == 0) mnist_free(&m);
}

static void test_subset(const char *data) {
  Mnist m;
  int rc = mnist_load(&m, data);
  CHECK(rc == 0, "committed subset loads from %s", data);
  if (rc) return;
  printf("subset: train %d, validation %d, test %d\n", m.train.n, m.val.n, m.test.n);
  CHECK(m.train.n == 9000 && m.val.n == 1000 && m.test.n == 2000, "split sizes");
  // Facts about MNIST itself: the first training labels are 5 0 4 1 9 2 1 3 1 4,
  // the first test labels 7 2 1 0 4 1 4 9 5 9.
  static const int32_t tr[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, te[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  CHECK(memcmp(m.train.labels, tr, sizeof tr) == 0, "first training labels");
  CHECK(memcmp(m.test.labels, te, sizeof te) == 0, "first test labels");
  CHECK(m.val.images == m.train.images + 9000 * 784 && m.val.labels == m.train.labels + 9000,
        "validation = last tenth of the training file");
  int hist[10] = {0};
  for (int i = 0; i < m.train.n; i++) hist[m.train.labels[i]]++;
  for (int k = 0; k < 10; k++) CHECK(hist[k] > 700, "digit %d present (%d)", k, hist[k]);

  // Shuffle: a permutation, reproducible, seed-dependent.
  int *a = malloc(sizeof(int) * m.train.n), *b = malloc(sizeof(int) * m.train.n);
  char *seen = calloc(m.train.n, 1);
  mnist_shuffle(a, m.train.n, 11);
  mnist_shuffle(b, m.train.n, 11);
  int perm = 1, fixed = 0;
  for (int i = 0; i < m.train.n; i++) {
    perm &= a[i] >= 0 && a[i] < m.train.n && !seen[a[i]];
    if (a[i] >= 0 && a[i] < m.train.n) seen[a[i]] = 1;
    fixed += a[i] == i;
  }
  CHECK(perm, "shuffle is a permutation");
  CHECK(memcmp(a, b, sizeof(int) * m.train.n) == 0, "shuffle reproducible");
  CHECK(fixed < 20, "shuffle moves items (%d fixed points)", fixed);
  mnist_shuffle(b, m.train.n, 12);
  CHECK(memcmp(a, b, sizeof(int) * m.train.n) != 0, "another seed, another order");

  // Batches: pixel / 255 in [0, 1], labels follow the order, partial last batch.
  float *x = malloc(sizeof(float) * 256 * 784);
  int32_t lab[256];
  int last = m.train.n - m.train.n % 256;     // 8960: a partial batch of 40
  mnist_batch(&m.train, a, last, m.train.n - last, x, lab);
  int ok = 1;
  for (int i = 0; i < m.train.n - last; i++) {
    int k = a[last + i];
    ok &= lab[i] == m.train.labels[k];
    for (int p = 0; p < 784; p++)
      ok &= x[i * 784 + p] == m.train.images[(size_t)k * 784 + p] / 255.0f &&
            x[i * 784 + p] >= 0 && x[i * 784 + p] <= 1;
  }
  CHECK(ok, "partial last batch converted correctly");
  free(x); free(a); free(b); free(seen);
  mnist_free(&m);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/netrt-test-idx-XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  test_damaged();
  const char *data = getenv("NETRT_MNIST");
  test_subset(data ? data : mnist_default_dir());
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("warning: could not remove %s\n", dir);
  return t_finish("test_idx");
}
