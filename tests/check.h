// check.h — the counting check every C test uses: CHECK(cond) or
// CHECK(cond, fmt, ...) prints the failed condition with its file and line
// (and the message, if given) and carries on, so one run reports every
// failure; t_finish() prints the verdict and gives the exit status.
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>

static int t_failures;

// (__VA_OPT__: GCC 8 and Clang 12 accept it in C11 as an extension.)
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      t_failures++;                                                        \
      fprintf(stdout, "FAIL %s:%d: %s", __FILE__, __LINE__, #cond);        \
      __VA_OPT__(fputs(": ", stdout); fprintf(stdout, __VA_ARGS__);)       \
      fputc('\n', stdout);                                                 \
    }                                                                      \
  } while (0)

static inline int t_finish(const char *name) {
  if (t_failures) {
    printf("%s: %d check(s) failed\n", name, t_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
