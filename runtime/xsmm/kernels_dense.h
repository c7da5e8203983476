// kernels_dense.h — what netc (compiler/ops/dense.c, which dispatches the
// dense layers' GEMMs) and kernels.h (which runs them) must agree on.
#ifndef NETC_KERNELS_DENSE_H
#define NETC_KERNELS_DENSE_H

// A GEMM dispatched with accumulate = KERN_GEMM_TRANS_B: C = A B^T (beta
// 0), B stored n x k (ldb >= n), which libxsmm supports for f32 (a
// transposed A it does not: notes trap 3).  The dense weight gradient
// reads its dy so, as it is.
enum { KERN_GEMM_TRANS_B = 16 };

#endif
