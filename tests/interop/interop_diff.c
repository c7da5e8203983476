// interop_diff.c — tensor-by-tensor comparison for the interop tests
// (test_interop.py), without torch or numpy:
//
//   interop_diff npz A.npz B.npz     the same keys, dtypes, shapes, bytes
//   interop_diff ckpt A.ckpt B.ckpt  the same tensors (names, shapes, bits);
//                                    optimizer and training state not compared
//
// One line per tensor with its largest difference; CHECKs that it is 0
// bit for bit.  Exit status 0 when everything matches.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "ckpt.h"
#include "dataset.h"
#include "idx.h"

// The largest |a - b| of two float arrays, and whether they are bitwise equal.
static double max_diff(const float *a, const float *b, size_t n, int *same) {
  double m = 0;
  *same = memcmp(a, b, n * 4) == 0;
  for (size_t i = 0; i < n; i++)
    if (fabs((double)a[i] - b[i]) > m) m = fabs((double)a[i] - b[i]);
  return m;
}

static int elem_size(int type) { return type == DATASET_I64 || type == IDX_F64 ? 8 : type == IDX_I32 || type == IDX_F32 ? 4 : type == IDX_I16 ? 2 : 1; }

static void diff_npz(const char *pa, const char *pb) {
  NpzArray *a, *b;
  int na = dataset_npz_read_all(pa, &a), nb = dataset_npz_read_all(pb, &b);
  CHECK(na > 0 && nb > 0, "both archives read");
  CHECK(na == nb, "%s has %d arrays, %s %d", pa, na, pb, nb);
  for (int i = 0; i < na; i++) {
    const NpzArray *x = &a[i], *y = NULL;
    for (int j = 0; j < nb && !y; j++)
      if (!strcmp(b[j].key, x->key)) y = &b[j];
    CHECK(y, "%s: no %s", pb, x->key);
    if (!y)
      continue;
    int shape = x->ndim == y->ndim && !memcmp(x->dim, y->dim, sizeof x->dim);
    CHECK(x->type == y->type && shape, "%s: dtype or shape differs", x->key);
    if (x->type != y->type || !shape)
      continue;
    int same = !memcmp(x->data, y->data, x->count * elem_size(x->type));
    double d = x->type == IDX_F32 ? max_diff(x->data, y->data, x->count, &same) : !same;
    printf("%-36s max |diff| %g%s\n", x->key, d, same ? "" : " (bits differ)");
    CHECK(same, "%s: bits differ", x->key);
  }
  dataset_npz_free(a, na > 0 ? na : 0);
  dataset_npz_free(b, nb > 0 ? nb : 0);
}

static void diff_ckpt(const char *pa, const char *pb) {
  CkptFile a, b;
  int ra = ckpt_read(pa, &a), rb = ckpt_read(pb, &b);
  CHECK(ra == 0 && rb == 0, "both checkpoints read");
  if (ra == 0 && rb == 0) {
    CHECK(a.n_tensors == b.n_tensors, "%d tensors against %d", a.n_tensors, b.n_tensors);
    CHECK(a.structure_hash == b.structure_hash, "structure hashes differ");
    for (int i = 0; i < a.n_tensors && i < b.n_tensors; i++) {
      const CkptTensor *x = &a.tensors[i], *y = &b.tensors[i];
      int shape = x->rank == y->rank && !memcmp(x->dim, y->dim, sizeof x->dim);
      CHECK(!strcmp(x->name, y->name) && shape, "tensor %d: %s against %s, or the shape differs", i,
            x->name, y->name);
      if (strcmp(x->name, y->name) || !shape)
        continue;
      int same;
      double d = max_diff(x->data, y->data, x->numel, &same);
      printf("%-36s max |diff| %g%s\n", x->name, d, same ? "" : " (bits differ)");
      CHECK(same, "%s: bits differ", x->name);
    }
  }
  ckpt_file_free(&a);
  ckpt_file_free(&b);
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "npz") && strcmp(argv[1], "ckpt"))) {
    fprintf(stderr, "usage: interop_diff npz|ckpt A B\n");
    return 2;
  }
  if (!strcmp(argv[1], "npz"))
    diff_npz(argv[2], argv[3]);
  else
    diff_ckpt(argv[2], argv[3]);
  return t_finish("interop_diff");
}
