// bench_util.h — what every benchmark program needs besides its subject:
// a clock, a comparison for qsort of timings (medians), and the CPU's name
// for the table's header.  Header-only: each benchmark is one program.
#ifndef NETC_BENCH_UTIL_H
#define NETC_BENCH_UTIL_H

#include <stdio.h>
#include <string.h>
#include <time.h>

// Seconds on clock c: CLOCK_MONOTONIC (wall), CLOCK_PROCESS_CPUTIME_ID or
// CLOCK_THREAD_CPUTIME_ID (on a shared, loaded machine, CPU time over one
// thread is what an idle core would do).
static inline double bench_seconds(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// qsort comparison of doubles, ascending.
static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// /proc/cpuinfo's "model name" into buf, or "unknown".
static inline void bench_cpu_name(char *buf, size_t n) {
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10)) {
      char *p = strchr(line, ':');
      if (p) {
        p += 2;
        p[strcspn(p, "\n")] = 0;
        snprintf(buf, n, "%s", p);
      }
      break;
    }
  fclose(f);
}

#endif
