// fuzz_netc.c — the netc front end: source text → diagnostics.  The input
// is a model file; it is lexed, parsed, checked and lowered to IR exactly
// as `netc check` does.  Errors are expected; crashes, sanitizer reports,
// hangs and huge allocations are findings.
#include <stdio.h>

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
  FUZZ_TRY {
    int status = -1;
    Graph *g = netc_compile(path, NULL, 0, &status);
    // The contract of netc_compile (netc.h): a graph iff status 0.
    if ((g != NULL) != (status == 0) || status < 0 || status > 2) {
      fprintf(stderr, "fuzz_netc: netc_compile returned %p with status %d\n", (void *)g, status);
      __builtin_trap();
    }
  }
  return 0;
}
