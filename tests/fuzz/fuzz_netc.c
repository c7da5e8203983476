// fuzz_netc.c — the netc front end: source text → diagnostics.  The input
// is a model file; it is lexed, parsed, checked and lowered to IR exactly
// as `netc check` does.  Errors are expected; crashes, sanitizer reports,
// hangs and huge allocations are findings.
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "netc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Beyond a few kilobytes the fuzzer only makes the same code slower;
  // tests/frontend's hostile tests cover 10 MB inputs.
  if (size > 65536)
    return 0;
  const char *path = fuzz_path("model.net");
  fuzz_write(path, data, size);
  diag_reset();
  // Leading lines "#D name=value" (comments to netc) are also given as
  // -D overrides, so the fuzzer reaches define_parse and the overrides.
  static char args[4][256];
  Define defs[4];
  int ndefs = 0;
  size_t at = 0;
  while (ndefs < 4 && at + 3 <= size && data[at] == '#' && data[at + 1] == 'D' && data[at + 2] == ' ') {
    size_t end = at + 3;
    while (end < size && data[end] != '\n' && end - at - 3 < sizeof args[0] - 1)
      end++;
    memcpy(args[ndefs], data + at + 3, end - at - 3);
    args[ndefs][end - at - 3] = 0;
    at = end + 1;
    volatile int ok = 0;               // set inside FUZZ_TRY (setjmp)
    FUZZ_TRY { ok = define_parse(args[ndefs], &defs[ndefs]); }
    if (ok)
      ndefs++;
  }
  FUZZ_TRY {
    int status = -1;
    Graph *g = netc_compile(path, defs, ndefs, &status);
    // The contract of netc_compile (netc.h): a graph iff status 0.
    if ((g != NULL) != (status == 0) || status < 0 || status > 2) {
      fprintf(stderr, "fuzz_netc: netc_compile returned %p with status %d\n", (void *)g, status);
      __builtin_trap();
    }
  }
  return 0;
}
