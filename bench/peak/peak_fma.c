// peak_fma.c — the machine's measured single-precision FMA peak, the
// denominator every other benchmark's GFLOP/s is divided by.
//
// Each thread runs independent chains of vector FMAs on registers (no
// memory traffic): enough chains to cover the FMA latency on every FMA
// pipe (latency 4 × 2 pipes on current x86 cores needs at least 8; 12 are
// used, which fits the 16 AVX2 / 32 AVX-512 registers).  The AVX2 and
// AVX-512 loops are compiled for their ISA with target attributes and
// chosen at run time (__builtin_cpu_supports), so one binary measures both
// on a machine that has both and only AVX2 on one that has only AVX2.
// A core whose AVX-512 units are 256 bits wide (double-pumped, e.g. AMD
// Zen 4) shows the same peak for both: that is a fact of the core.
//
// Usage: bench-peak [--runs N] [--threads N] [--json] [--clock wall|cpu]
// --clock cpu times the master thread's CPU time instead of the wall clock
// (and so measures 1 thread only): on a shared, loaded machine that is the
// peak an idle core would show, the denominator for benchmarks that also
// use CPU time (bench-layers).
// prints a Markdown table, or with --json one JSON line per measurement
// (and one naming the CPU) for bench/codegen/bench.py.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../bench_util.h"

#define CHAINS 12   // the unroll pragmas below say 12 too: keep them equal
#define ITERS 20000000L   // per thread and run: ~0.1-0.3 s on a 3-4 GHz core

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// The result is summed and returned so the compiler cannot drop the chains.
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
  __m256 acc[CHAINS];
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int c = 0; c < CHAINS; c++)
    acc[c] = _mm256_set1_ps((float)c);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; c++)
      acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 s = acc[0];
  for (int c = 1; c < CHAINS; c++)
    s = _mm256_add_ps(s, acc[c]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
  __m512 acc[CHAINS];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int c = 0; c < CHAINS; c++)
    acc[c] = _mm512_set1_ps((float)c);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; c++)
      acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  __m512 s = acc[0];
  for (int c = 1; c < CHAINS; c++)
    s = _mm512_add_ps(s, acc[c]);
  return _mm512_reduce_add_ps(s);
}

typedef float (*FmaLoop)(long);

// GFLOP/s of one run on `threads` threads (2 FLOPs per lane per FMA).
static double run_once(FmaLoop f, int lanes, int threads, volatile float *sink) {
  double t0 = 0, t1 = 0;
  float total = 0;
  #pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    #pragma omp barrier
    #pragma omp master
    t0 = now();
    total += f(ITERS);
    #pragma omp barrier
    #pragma omp master
    t1 = now();
  }
  *sink = total;
  return 2.0 * lanes * CHAINS * (double)ITERS * threads / (t1 - t0) / 1e9;
}

int main(int argc, char **argv) {
  int runs = 5, max_threads = omp_get_num_procs(), json = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      max_threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--clock") && i + 1 < argc && !strcmp(argv[i + 1], "cpu"))
      clock_id = CLOCK_THREAD_CPUTIME_ID, i++;
    else if (!strcmp(argv[i], "--clock") && i + 1 < argc && !strcmp(argv[i + 1], "wall"))
      clock_id = CLOCK_MONOTONIC, i++;
    else {
      fprintf(stderr, "usage: %s [--runs N] [--threads N] [--json] [--clock wall|cpu]\n"
                      "Measures the single-precision FMA peak (GFLOP/s) with AVX2 and, where the\n"
                      "CPU has it, AVX-512, on 1..N threads; prints the median of N runs.\n", argv[0]);
      return 2;
    }
  }
  if (runs < 1 || runs > 99 || max_threads < 1) {
    fprintf(stderr, "%s: --runs must be 1..99 and --threads at least 1\n", argv[0]);
    return 2;
  }
  if (clock_id != CLOCK_MONOTONIC)
    max_threads = 1;   // one thread's CPU time says nothing of the others
  __builtin_cpu_init();
  struct { const char *isa; FmaLoop f; int lanes; int ok; } isas[] = {
    {"AVX2", fma_avx2, 8, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
    {"AVX-512", fma_avx512, 16, !!__builtin_cpu_supports("avx512f")},
  };
  char cpu[256];
  bench_cpu_name(cpu, sizeof cpu);
  if (json) {
    printf("{\"cpu\":\"%s\",\"processors\":%d,\"avx2\":%d,\"avx512\":%d}\n", cpu,
           omp_get_num_procs(), isas[0].ok, isas[1].ok);
  } else {
    printf("# CPU: %s, %d processors; AVX2 %s, AVX-512 %s\n", cpu, omp_get_num_procs(),
           isas[0].ok ? "yes" : "no", isas[1].ok ? "yes" : "no");
    printf("| ISA | threads | peak GFLOP/s (median of %d) | per thread |\n|---|---:|---:|---:|\n", runs);
  }
  volatile float sink;
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
    if (!isas[k].ok)
      continue;
    for (int t = 1; t <= max_threads; t++) {
      double g[99];
      run_once(isas[k].f, isas[k].lanes, t, &sink);   // warm-up: clocks and thread start
      for (int r = 0; r < runs; r++)
        g[r] = run_once(isas[k].f, isas[k].lanes, t, &sink);
      qsort(g, runs, sizeof g[0], bench_cmp_double);
      if (json)
        printf("{\"impl\":\"peak\",\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.2f}\n", isas[k].isa, t,
               g[runs / 2]);
      else
        printf("| %s | %d | %.1f | %.1f |\n", isas[k].isa, t, g[runs / 2], g[runs / 2] / t);
      fflush(stdout);
    }
  }
  return 0;
}
