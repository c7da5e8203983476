// kernels_direct.h — the geometry of the direct convolutions (kernels.h,
// "Direct convolution"), shared by netc (which sizes their GEMMs and
// scratch from it) and kernels.h (which lays the buffers out by it), so
// the two cannot disagree.
//
// A convolution from the image side [C][H][W] to the positions [O][Ho][Wo]
// (kernel k, stride s, padding p) runs as one batch-reduce GEMM over its
// k*k taps per block of B images, each image's positions laid out on rows
// of a fixed width so that every tap reads its operand at a constant
// offset.  The rows are wider (and more) than the real positions: the
// extra ones are computed and discarded.
#ifndef NETC_KERNELS_DIRECT_H
#define NETC_KERNELS_DIRECT_H

// A GEMM dispatched with accumulate = KERN_GEMM_BATCH is a batch-reduce
// GEMM, C = sum_t A_t B_t (beta 0), called by kern_brgemm with count
// pointers A_t, B_t (one A_t B_t per kernel tap).
enum { KERN_GEMM_BATCH = 2 };

typedef struct {
  int T, Tl;      // scatter: zero rows above / columns left of dy in its padded copy
  int Hq, Wq;     // rows and row width of one image's plane
  int plane;      // Hq * Wq: the GEMM rows per image
  int M;          // B * plane: the GEMM's m
  int L;          // floats per channel of a padded / phase buffer: M plus the slack the last taps read
} KernDirect;

// Gather form (convolution forward, transposed convolution's input
// gradient): the input zero-padded by p and split into its s*s stride
// phases, ph_ab[c][i][j] = xp[c][s*i + a][s*j + b], each Hq x Wq with Hq =
// Ho + (k-1)/s; output (oy, ox) at row q = oy*Wq + ox, tap (ky, kx) reads
// phase (ky%s, kx%s) at q + (ky/s)*Wq + kx/s.
static inline KernDirect kern_direct_gather_geom(int B, int k, int s, int Ho, int Wo) {
  int D = (k - 1) / s, Hq = Ho + D, Wq = Wo + D;
  return (KernDirect){0, 0, Hq, Wq, Hq * Wq, B * Hq * Wq, B * Hq * Wq + D * (Wq + 1)};
}

// One dimension of the scatter form (below): the zero rows T above dy, the
// rows Hq of a plane, the largest phase origin omax.  Output phase a (rows
// u = s*i + a of the padded image, needed for p <= u < p + H) starts at i_a
// = ceil((p - a)/s) and has n_a rows; its tap ky = a + s*dy reads dy row
// i - dy, that is padded row qi + i_a - dy + T for output row qi.
static inline void kern_direct_scatter_dim(int k, int s, int p, int H, int Ho, int *T, int *Hq,
                                           int *omax) {
  int t = 0, n = 0, om = 0;
  for (int a = 0; a < s; a++) {
    int ia = p > a ? (p - a + s - 1) / s : 0;
    int last = p + H - 1 - a >= 0 ? (p + H - 1 - a) / s : -1;
    if (last - ia + 1 > n) n = last - ia + 1;
    if (ia > om) om = ia;
    for (int dy = 0; a + s * dy < k; dy++)
      if (dy - ia > t) t = dy - ia;
  }
  *T = t;
  *omax = om;
  *Hq = t + Ho > n + om + t ? t + Ho : n + om + t;
}

// Scatter form (convolution input gradient, transposed convolution
// forward), dx [C][H][W] from dy [O][Ho][Wo]: the padded image's s*s phases
// are computed one at a time, each a batch-reduce GEMM over the taps of
// that phase reading dy (copied with T zero rows above, Tl zero columns to
// the left, zeros after) at a constant offset per tap.
static inline KernDirect kern_direct_scatter_geom(int B, int k, int s, int p, int H, int W, int Ho,
                                                  int Wo) {
  KernDirect q;
  int omy, omx;
  kern_direct_scatter_dim(k, s, p, H, Ho, &q.T, &q.Hq, &omy);
  kern_direct_scatter_dim(k, s, p, W, Wo, &q.Tl, &q.Wq, &omx);
  q.plane = q.Hq * q.Wq;
  q.M = B * q.plane;
  q.L = q.M + (omy + q.T) * q.Wq + omx + q.Tl;
  return q;
}

#endif
