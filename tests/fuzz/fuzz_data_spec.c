// fuzz_data_spec.c — the trainers' data option values (runtime/mnist.c):
// the input, up to its first newline, is parsed as a --normalize SPEC and
// expanded to 1 and 3 channels; the rest as an --augment SPEC.  A parse
// that succeeds must give what the option promises: 1..MNIST_NORM_MAX
// channels of finite means and positive stds, a crop in 1..1024.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mnist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = 0;
  char *nl = strchr(s, '\n'), *aug = nl ? nl + 1 : "flip";
  if (nl)
    *nl = 0;
  MnistNorm n;
  int is_auto;
  if (mnist_norm_parse(s, &n, &is_auto) == 0) {
    if (n.channels < 0 || n.channels > MNIST_NORM_MAX || (is_auto && n.channels))
      __builtin_trap();
    for (int c = 0; c < n.channels; c++)
      if (!isfinite(n.mean[c]) || !(n.std[c] > 0) || !isfinite(n.std[c]))
        __builtin_trap();
    MnistNorm m = n;
    if (mnist_norm_expand(&m, 3, "fuzz") == 0 && m.channels != 0 && m.channels != 3)
      __builtin_trap();
    m = n;
    mnist_norm_expand(&m, 1, "fuzz");
    char text[2048];
    mnist_norm_text(text, sizeof text, &n);
  }
  MnistAugment a;
  if (mnist_augment_parse(aug, &a) == 0 && (a.crop < 0 || a.crop > 1024 || (!a.crop && !a.flip)))
    __builtin_trap();
  free(s);
  return 0;
}
