// noise.c — the denoiser's Gaussian noise with Gaussian parameters, and
// the ziggurat normal it draws from.
#include "noise.h"

#include <pthread.h>
#include <string.h>

// 256 layers of equal area V under f(x) = exp(-x^2 / 2), x >= 0: the base
// layer (a box of width V / f(R) and height f(R), with the tail beyond R
// glued on) and 255 boxes stacked on it; R is the Marsaglia-Tsang constant
// for 256 layers.  X[i] is the width of layer i (X[0] = V / f(R), X[1] = R,
// decreasing to X[256] = 0), F[i] = f(X[i]).
#define ZIG_LAYERS 256
#define ZIG_R 3.6541528853610088

static double zig_x[ZIG_LAYERS + 1], zig_f[ZIG_LAYERS + 1];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void) {
  double f = exp(-0.5 * ZIG_R * ZIG_R);
  // V = R f(R) + the tail's area, int_R^inf f = sqrt(pi / 2) erfc(R / sqrt 2).
  double v = ZIG_R * f + sqrt(M_PI / 2) * erfc(ZIG_R / M_SQRT2);
  zig_x[0] = v / f;
  zig_x[1] = ZIG_R;
  // Layer i - 1 spans heights f(X[i - 1]) .. f(X[i]), width X[i - 1]: equal
  // areas give f(X[i]) = f(X[i - 1]) + V / X[i - 1].
  for (int i = 2; i < ZIG_LAYERS; i++)
    zig_x[i] = sqrt(-2 * log(v / zig_x[i - 1] + exp(-0.5 * zig_x[i - 1] * zig_x[i - 1])));
  zig_x[ZIG_LAYERS] = 0;
  for (int i = 0; i <= ZIG_LAYERS; i++)
    zig_f[i] = exp(-0.5 * zig_x[i] * zig_x[i]);
}

// Beyond R: Marsaglia's tail method (1964), exact for x > R.
static double zig_tail(Rng *r) {
  double a, b;
  do {
    a = -log(1.0 - rng_uniform(r)) / ZIG_R;
    b = -log(1.0 - rng_uniform(r));
  } while (b + b < a * a);
  return ZIG_R + a;
}

// x with the sign bit of w's bit 8: branch-free, since a branch on a
// random bit is mispredicted half the time.
static inline double zig_signed(double x, uint64_t w) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  b ^= (w & 0x100) << 55;
  memcpy(&x, &b, sizeof x);
  return x;
}

// Bits 0-7 of w: the layer i; bit 8: the sign; bits 11-63: the abscissa x
// in [0, X[i]) (converted as a signed integer: cheaper than from unsigned
// on x86).
static inline double zig_abscissa(uint64_t w) {
  return (double)(int64_t)(w >> 11) * 0x1.0p-53 * zig_x[w & (ZIG_LAYERS - 1)];
}

// The rare case (~1 % of draws): the first word w fell outside the
// rectangles, into the tail or a wedge; then retries with fresh words.
// Out of line, so the common case keeps the generator's state in
// registers.
static __attribute__((noinline)) double zig_slow(Rng *r, uint64_t w) {
  for (;;) {
    int i = (int)(w & (ZIG_LAYERS - 1));
    double x = zig_abscissa(w);
    if (x < zig_x[i + 1])   // inside the box under the next layer: always accepted
      return zig_signed(x, w);
    if (i == 0)             // the base layer's part beyond R is the tail
      return zig_signed(zig_tail(r), w);
    // A wedge: accept a uniform height between F[i] and F[i + 1] if under f(x).
    double y = zig_f[i] + rng_uniform(r) * (zig_f[i + 1] - zig_f[i]);
    if (y < exp(-0.5 * x * x))
      return zig_signed(x, w);
    w = rng_next(r);
  }
}

// The sampler (the tables must be initialised: zig_once).  The slow path
// works on a copy t of the state: were s's address to escape, the compiler
// would keep it in memory and store it on every draw, which costs more than
// the draw itself.
static inline double zig_normal(Rng *s) {
  uint64_t w = rng_next(s);
  double x = zig_abscissa(w);
  if (__builtin_expect(x < zig_x[(w & (ZIG_LAYERS - 1)) + 1], 1))
    return zig_signed(x, w);
  Rng t = *s;
  x = zig_slow(&t, w);
  *s = t;
  return x;
}

double noise_normal(Rng *r) {
  pthread_once(&zig_once, zig_init);
  return zig_normal(r);
}

void noise_apply(float *x, int n, float mean, float mean_std, float std,
                 float std_std, Rng *r) {
  pthread_once(&zig_once, zig_init);
  Rng s = *r;
  double mu = mean + mean_std * zig_normal(&s);
  double sigma = fabs(std + std_std * zig_normal(&s));
  for (int i = 0; i < n; i++)
    x[i] += (float)(mu + sigma * zig_normal(&s));
  *r = s;
}
