// test_dataset.c — the Dataset core (runtime/data/dataset.c): the memory
// budget refuses a data set up front with the size it needs (under a
// 512 MB RLIMIT_AS), labels are range-checked and counted, element types
// convert as documented (u8 / 255, others unscaled), batches gather by
// an order without touching anything else.  The readers themselves are
// tested end to end by tests/data.
#include <sys/resource.h>

#include "dataset.h"
#include "idx.h"
#include "model.h"
#include "testutil.h"

static void test_budget(void) {
  int rc;
  // AddressSanitizer reserves terabytes of shadow memory and cannot run
  // under an address-space limit: the sanitizer build checks the rest.
#ifndef __SANITIZE_ADDRESS__
  struct rlimit r = {512u << 20, 512u << 20};
  CHECK(setrlimit(RLIMIT_AS, &r) == 0, "setrlimit");
  CHECK(dataset_budget() <= (512u << 20), "the budget follows RLIMIT_AS: %llu",
        (unsigned long long)dataset_budget());
  t_stderr_begin();
  rc = dataset_check_size("big.npy", 1000000, 1000);
  const char *err = t_stderr_end();
  CHECK(rc == -1 && strstr(err, "big.npy: 1000000 examples of 1000 values need 4.00 GB"),
        "too large: refused with the size it needs");
#endif
  CHECK(dataset_check_size("small", 1000, 784) == 0, "3 MB fits");
  t_stderr_begin();
  rc = dataset_check_size("huge", 4000000000ull, 4000000000ull);
  t_stderr_end();
  CHECK(rc == -1, "4e9 x 4e9 values: refused without overflow");
}

static void test_convert_and_labels(void) {
  Dataset d = {0};
  uint64_t dim[3] = {2, 2, 3};
  uint8_t u8[12] = {0, 255, 51, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(dataset_set_images(&d, "u8", u8, IDX_U8, 3, dim) == 0, "u8 images");
  CHECK(d.n == 2 && d.rank == 2 && d.shape[0] == 2 && d.shape[1] == 3 && d.size == 6, "shape [2, 3]");
  CHECK(d.x[0] == 0.0f && d.x[1] == 1.0f && d.x[2] == 51.0f / 255.0f, "u8 / 255 as ToTensor");
  int64_t y[2] = {3, 0};
  CHECK(dataset_set_labels(&d, "y", y, DATASET_I64, 2, 0) == 0 && d.classes == 4 && d.y[0] == 3,
        "int64 labels, classes = largest + 1");
  dataset_free(&d);

  int16_t i16[12] = {-300, 300};
  CHECK(dataset_set_images(&d, "i16", i16, IDX_I16, 3, dim) == 0 && d.x[0] == -300.0f && d.x[1] == 300.0f,
        "i16 unscaled");
  int32_t bad[2] = {1, -1};
  t_stderr_begin();
  int rc = dataset_set_labels(&d, "y32", bad, IDX_I32, 2, 0);
  const char *err = t_stderr_end();
  CHECK(rc == -1 && strstr(err, "y32: label -1 of example 1 is out of range"), "negative label named");
  // Labels up to NET_MAX_CLASSES - 1 (2^24 - 1) as int32, int64 too;
  // one more is refused.
  int64_t wide[2] = {999, NET_MAX_CLASSES - 1};
  CHECK(dataset_set_labels(&d, "y64", wide, DATASET_I64, 2, 0) == 0 && d.y[0] == 999 &&
        d.y[1] == NET_MAX_CLASSES - 1 && d.classes == NET_MAX_CLASSES, "int64 labels up to 2^24 - 1");
  free(d.y);
  d.y = NULL;
  int64_t over[2] = {3, NET_MAX_CLASSES};
  t_stderr_begin();
  rc = dataset_set_labels(&d, "y64", over, DATASET_I64, 2, 0);
  err = t_stderr_end();
  CHECK(rc == -1 && strstr(err, "y64: label 16777216 of example 1 is out of range 0..16777215"),
        "a label of 2^24 refused: %s", err);
  uint8_t few[1] = {0};
  t_stderr_begin();
  rc = dataset_set_labels(&d, "y1", few, IDX_U8, 1, 0);
  err = t_stderr_end();
  CHECK(rc == -1 && strstr(err, "y1: 1 labels but i16 has 2 examples"), "count mismatch named");
  dataset_free(&d);

  uint64_t rank5[5] = {1, 1, 1, 2, 2};
  t_stderr_begin();
  rc = dataset_set_images(&d, "r5", u8, IDX_U8, 5, rank5);
  t_stderr_end();
  CHECK(rc == -1 && !d.x, "rank-4 examples refused, nothing allocated");
}

static void test_batch(void) {
  Dataset d = {0};
  uint64_t dim[2] = {4, 3};
  float x[12];
  for (int i = 0; i < 12; i++) x[i] = (float)i;
  CHECK(dataset_set_images(&d, "f", x, IDX_F32, 2, dim) == 0, "f32 images");
  uint8_t y[4] = {0, 1, 2, 3};
  CHECK(dataset_set_labels(&d, "y", y, IDX_U8, 4, 10) == 0, "labels below the limit 10");
  int order[4] = {3, 1, 0, 2};
  float out[3 * 3 + 1];
  int32_t lab[3 + 1];
  out[9] = -7.0f, lab[3] = -7;
  dataset_batch(&d, order, 1, 3, out, lab);
  CHECK(out[0] == 3.0f && out[3] == 0.0f && out[6] == 6.0f && out[8] == 8.0f, "rows by order");
  CHECK(lab[0] == 1 && lab[1] == 0 && lab[2] == 2, "labels by order");
  CHECK(out[9] == -7.0f && lab[3] == -7, "nothing written past n");
  dataset_free(&d);
}

int main(void) {
  test_convert_and_labels();
  test_batch();
  test_budget();
  return t_finish("test_dataset");
}
