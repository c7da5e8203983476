// netc-data — what a trainer would load from a data path: the format, the
// splits, each one's count, example shape and classes, a checksum of the
// values (equal checksums: equal data, whatever the format), and with
// --bench the load time and the speed of shuffled batch assembly.
//   netc-data PATH [--coarse] [--quiet] [--resize HxW] [--bench]
//   netc-data --train-images F [--train-labels F] [--test-images F [--test-labels F]] [--bench]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataset.h"
#include "mnist.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// The process's CPU time: the load is single-threaded, and on a shared
// machine this is what it costs, whatever the others run.
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// FNV-1a over the float bits and the labels.
static uint64_t checksum(const Dataset *d) {
  uint64_t h = 1469598103934665603ull;
  const unsigned char *p = (const unsigned char *)d->x;
  for (size_t i = 0; i < (size_t)d->n * d->size * sizeof(float); i++)
    h = (h ^ p[i]) * 1099511628211ull;
  for (int i = 0; d->y && i < d->n; i++)
    h = (h ^ (uint64_t)d->y[i]) * 1099511628211ull;
  return h;
}

static void show(const char *split, const Dataset *d) {
  if (!d->n) {
    printf("%s: none\n", split);
    return;
  }
  printf("%s: %d x [", split, d->n);
  for (int i = 0; i < d->rank; i++)
    printf(i ? ", %d" : "%d", d->shape[i]);
  printf("], %d classes, checksum %016llx  (%s)\n", d->classes, (unsigned long long)checksum(d),
         d->name);
}

// Shuffled batches of 256 over the whole set, as the driver gathers them.
static void bench_batches(const Dataset *d) {
  int batch = 256;
  int *order = malloc((size_t)d->n * sizeof *order);
  float *x = malloc((size_t)batch * d->size * sizeof *x);
  int32_t *y = malloc((size_t)batch * sizeof *y);
  if (!order || !x || !y) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  mnist_shuffle(order, d->n, 1);
  double t0 = now(), sink = 0;
  int reps = 3;
  for (int r = 0; r < reps; r++)
    for (int s = 0; s < d->n; s += batch) {
      int nb = d->n - s < batch ? d->n - s : batch;
      dataset_batch(d, order, s, nb, x, y);
      sink += x[0] + y[0];
    }
  double t = now() - t0;
  printf("batch assembly: %.0f images/s (%.1f GB/s), batch %d, shuffled  [%g]\n",
         reps * (double)d->n / t, reps * (double)d->n * d->size * 4 / t / 1e9, batch, sink * 0);
  free(order), free(x), free(y);
}

// The trainers' path (mnist_load_any, mnist_batch_prep): shuffled batches
// of 256 as they are, normalised, augmented (crop=4,flip where the
// examples are images), and both.
static void bench_driver(const char *path, const DataOptions *o) {
  Mnist d;
  double t0 = now();
  if (mnist_load_any_resized(&d, path, o->resize_h, o->resize_w))
    return;
  printf("trainer load: %.3f s (%d train, %d val, %d test)\n", now() - t0, d.train.n, d.val.n, d.test.n);
  const int batch = 256, reps = 3;
  int *order = malloc((size_t)d.train.n * sizeof *order);
  float *x = malloc((size_t)batch * d.train.size * sizeof *x);
  int32_t *y = malloc(sizeof *y * batch);
  if (!order || !x || !y) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  MnistNorm norm;
  MnistAugment aug = {4, 1};
  int can_aug = d.rank >= 2 && d.dim[d.rank - 1] > 4 && d.dim[d.rank - 2] > 4;
  double t1 = now();
  if (mnist_norm_auto(&d, &norm))
    norm.channels = 0;
  printf("trainer --normalize auto: %.3f s\n", now() - t1);
  mnist_shuffle(order, d.train.n, 1);
  const char *names[4] = {"plain", "--normalize auto", "--augment crop=4,flip", "both"};
  for (int v = 0; v < 4; v++) {
    if (v >= 2 && !can_aug)
      break;
    double sink = 0;
    t1 = now();
    for (int r = 0; r < reps; r++)
      for (int st = 0; st < d.train.n; st += batch) {
        int nb = d.train.n - st < batch ? d.train.n - st : batch;
        mnist_batch_prep(&d, &d.train, order, st, nb, x, y, v & 1 ? &norm : NULL, v & 2 ? &aug : NULL,
                         (uint64_t)r);
        sink += x[0];
      }
    double t = now() - t1;
    printf("trainer batches, %s: %.0f images/s  [%g]\n", names[v], reps * (double)d.train.n / t, sink * 0);
  }
  free(order), free(x), free(y);
  mnist_free(&d);
}

static const char help[] =
    "usage: netc-data PATH [--coarse] [--quiet] [--resize HxW] [--bench]\n"
    "       netc-data --train-images F [--train-labels F] [--test-images F [--test-labels F]] [--bench]\n"
    "\n"
    "Shows what a trainer's --data PATH (or its --train-images ... files) would load:\n"
    "the format found, the training and test splits, each one's example count,\n"
    "example shape and classes, and a checksum of the values (equal checksums:\n"
    "equal data, whatever the format).  Formats: MNIST-named IDX folders (raw or\n"
    ".gz), IDX of any rank and type, CIFAR-10/100, .npy/.npz, folders of PNG and\n"
    "JPEG images by class (docs/data.md).\n"
    "\n"
    "options:\n"
    "  PATH                 a data folder or file\n"
    "  --train-images F     instead of PATH: the training examples (IDX or .npy)\n"
    "  --train-labels F     their labels [none]\n"
    "  --test-images F      the test examples [none]\n"
    "  --test-labels F      their labels [none]\n"
    "  --coarse             CIFAR-100: the 20 coarse labels instead of the 100 fine [off]\n"
    "  --quiet              no progress line while reading large folders [off]\n"
    "  --resize HxW         image folders: every image resized to HxW as the trainers'\n"
    "                       --resize does (torch's antialiased bilinear) [none]\n"
    "  --bench              also the load time and the speed of shuffled batch assembly,\n"
    "                       by the readers and by the trainers' path (plain, normalised,\n"
    "                       augmented) [off]\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 1 the data cannot be read (the message names the file),\n"
    "2 usage error.\n"
    "\n"
    "Example:\n"
    "  netc-data share/netc/mnist           # the committed MNIST subset of an install\n";

int main(int argc, char **argv) {
  const char *path = NULL, *ti = NULL, *tl = NULL, *vi = NULL, *vl = NULL;
  DataOptions o = {0};
  int bench = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(help, stdout);
      return 0;
    }
    if (!strcmp(a, "--coarse")) o.coarse = 1;
    else if (!strcmp(a, "--quiet")) o.quiet = 1;
    else if (!strcmp(a, "--bench")) bench = 1;
    else if (i + 1 < argc && !strcmp(a, "--resize")) {
      char x, end;
      if (sscanf(argv[++i], "%d%c%d%c", &o.resize_h, &x, &o.resize_w, &end) != 3 || (x != 'x' && x != 'X') ||
          o.resize_h < 1 || o.resize_w < 1 || o.resize_h > 4096 || o.resize_w > 4096) {
        fprintf(stderr, "netc-data: --resize '%s' is not HxW (e.g. 32x32, each 1 to 4096)\n", argv[i]);
        return 2;
      }
    } else if (i + 1 < argc && !strcmp(a, "--train-images")) ti = argv[++i];
    else if (i + 1 < argc && !strcmp(a, "--train-labels")) tl = argv[++i];
    else if (i + 1 < argc && !strcmp(a, "--test-images")) vi = argv[++i];
    else if (i + 1 < argc && !strcmp(a, "--test-labels")) vl = argv[++i];
    else if (a[0] != '-' && !path) path = a;
    else {
      fprintf(stderr, "usage: netc-data PATH [--coarse] [--quiet] [--bench]\n"
                      "       netc-data --train-images F [--train-labels F] [--test-images F [--test-labels F]]\n"
                      "(netc-data --help)\n");
      return 2;
    }
  }
  if (!path == !ti) {
    fprintf(stderr, "netc-data: give a PATH or --train-images\n");
    return 2;
  }
  DataSplits s;
  double t0 = now(), c0 = cpu_now();
  if (path ? dataset_open(&s, path, &o) : dataset_open_files(&s, ti, tl, vi, vl))
    return 1;
  double t = now() - t0, c = cpu_now() - c0;
  show("train", &s.train);
  show("test", &s.test);
  if (s.val.n)
    show("val", &s.val);
  if (bench) {
    uint64_t n = (uint64_t)s.train.n + (uint64_t)s.test.n + (uint64_t)s.val.n;
    printf("load: %.3f s (cpu %.3f s, %.0f examples/s of cpu)\n", t, c, c > 0 ? (double)n / c : 0.0);
    bench_batches(&s.train);
  }
  datasplits_free(&s);
  if (bench && path)
    bench_driver(path, &o);
  return 0;
}
