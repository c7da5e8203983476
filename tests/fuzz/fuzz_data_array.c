// fuzz_data_array.c — arrays by name (FILE:ARRAY, docs/data.md): the
// input's first line is a spec for dataset_spec_parse, whose split must
// give back the spec (FILE ":" ARRAY, the array a name); the rest is an
// .npz archive, whose array named by the spec's ARRAY part (or x_train)
// is read as the examples and its y_train as their labels, by name, as
// --train-images F.npz:ARRAY --train-labels F.npz:y_train read them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_data.h"

static void check_spec(const char *spec) {
  char file[256], array[64];
  int r = dataset_spec_parse(spec, file, sizeof file, array, sizeof array);
  size_t len = strlen(spec);
  if (r == 0 && (strcmp(file, spec) || array[0]))
    __builtin_trap();
  if (r == 1) {
    size_t fl = strlen(file), al = strlen(array);
    if (!fl || !al || fl + 1 + al != len || memcmp(spec, file, fl) || spec[fl] != ':' || strcmp(spec + fl + 1, array))
      __builtin_trap();
    for (const char *p = array; *p; p++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
        __builtin_trap();
  }
  if (r == -1 && len > 0 && len < sizeof file && !strchr(spec, ':'))
    __builtin_trap();          // a spec without a colon is always a file
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size < 300 ? size : 300);
  if (!nl)
    return 0;
  char spec[301];
  size_t n = (size_t)(nl - data);
  memcpy(spec, data, n);
  spec[n] = 0;
  if (strlen(spec) != n)
    return 0;                  // a NUL inside: not a command-line value
  check_spec(spec);
  const char *path = fuzz_path("a.npz");
  fuzz_write(path, nl + 1, size - n - 1);
  char file[256], array[64], images[400], labels[400];
  if (dataset_spec_parse(spec, file, sizeof file, array, sizeof array) != 1)
    snprintf(array, sizeof array, "x_train");
  snprintf(images, sizeof images, "%s:%s", path, array);
  snprintf(labels, sizeof labels, "%s:y_train", path);
  DataSplits s;
  int ok = dataset_open_files(&s, images, labels, NULL, NULL) == 0;
  fuzz_check_dataset(&s.train, ok);
  if (ok)
    datasplits_free(&s);
  ok = dataset_open_files(&s, images, NULL, NULL, NULL) == 0;
  fuzz_check_dataset(&s.train, ok);
  if (ok)
    datasplits_free(&s);
  return 0;
}
