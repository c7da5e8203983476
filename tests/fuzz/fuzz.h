// fuzz.h — what the three fuzz targets share: the libFuzzer entry point
// they each define, a private directory for the input file (the code under
// test reads paths, not buffers), and a trap for exit().
//
// netc's front end calls exit() after DIAG_MAX_ERRORS errors and when
// memory runs out; inside a fuzzer that would end the run, so the targets
// are linked with -Wl,--wrap=exit and __wrap_exit longjmps back to the
// entry point while an input is being processed.
#ifndef FUZZ_H
#define FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// DIR/name in a directory made once per process (mkdtemp), removed at exit.
const char *fuzz_path(const char *name);

// Writes data to path; aborts on failure (a broken harness, not a finding).
void fuzz_write(const char *path, const uint8_t *data, size_t size);

// FUZZ_TRY { code that may call exit() } — true when the body ran to its
// end, false when it called exit().
extern jmp_buf fuzz_exit_jmp;
extern int fuzz_exit_armed;
#define FUZZ_TRY for (int fuzz_once_ = (fuzz_exit_armed = 1, setjmp(fuzz_exit_jmp) == 0); \
                      fuzz_once_; fuzz_once_ = 0, fuzz_exit_armed = 0)

#endif
