// kernels.c — libxsmm dispatch with a plain-loop fallback (kernels.h).
#include "kernels.h"

#include <stdio.h>

void kern_gemm_ref(int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float *c, int ldc, int accumulate) {
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      float s = accumulate ? c[j * ldc + i] : 0.0f;
      for (int l = 0; l < k; l++)
        s += a[l * lda + i] * b[j * ldb + l];
      c[j * ldc + i] = s;
    }
}

void kern_gemm_init(KernGemm *g, const char *what, int m, int n, int k,
                    int lda, int ldb, int ldc, int accumulate) {
  // Trap 1 of the libxsmm notes: beta = NULL would mean beta = 1, so beta
  // is always passed explicitly; alpha must be 1.
  const float alpha = 1.0f, beta = accumulate == 1 ? 1.0f : 0.0f;
  const int flags = LIBXSMM_GEMM_FLAG_NONE, prefetch = LIBXSMM_PREFETCH_NONE;
  const libxsmm_blasint la = lda, lb = ldb, lc = ldc;
  *g = (KernGemm){.m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
                  .accumulate = accumulate};
  if (accumulate == KERN_GEMM_BATCH) {
    // libxsmm 1.17's batch-reduce GEMM with the A_t, B_t given by address
    // (libxsmm_smmdispatch_reducebatch_addr): C = beta C + sum_t A_t B_t,
    // the reduction kept in registers across t.  Same traps as the plain
    // GEMM: beta explicit, alpha 1, no transposed A.
    g->br = libxsmm_smmdispatch_reducebatch_addr(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags,
                                                 &prefetch);
    if (!g->br)
      fprintf(stderr, "netc kernels: libxsmm has no batch-reduce kernel for %s (m=%d n=%d k=%d "
                      "lda=%d ldb=%d ldc=%d); using a plain loop\n",
              what, m, n, k, lda, ldb, ldc);
    return;
  }
  g->f = libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, &prefetch);
  if (!g->f)
    fprintf(stderr, "netc kernels: libxsmm has no kernel for %s (m=%d n=%d k=%d "
                    "lda=%d ldb=%d ldc=%d beta=%d); using a plain loop\n",
            what, m, n, k, lda, ldb, ldc, accumulate);
}
