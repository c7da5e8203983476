// test_rng.c — xoshiro256** against its reference definition,
// reproducibility, stream independence and the distributions.
#include "rng.h"
#include "testutil.h"

int main(void) {
  // Reference: xoshiro256** from state {1, 2, 3, 4} (Vigna's xoshiro256starstar.c):
  // the first output is rotl(2 * 5, 7) * 9 = 11520, the second 0 (s[1]
  // becomes 0 after the first update: s1 ^= s2 = 2 ^ (3 ^ 1)... computed below).
  Rng r = {{1, 2, 3, 4}};
  uint64_t a = rng_next(&r);
  CHECK(a == 11520u, "first xoshiro256** output %llu, want 11520", (unsigned long long)a);
  // Independent re-implementation of one step for the second output.
  uint64_t s[4] = {1, 2, 3, 4};
  for (int k = 0; k < 2; k++) {
    uint64_t res = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rng_rotl(s[3], 45);
    if (k == 1) {
      uint64_t b = rng_next(&r);
      CHECK(b == res, "second output %llu vs %llu", (unsigned long long)b, (unsigned long long)res);
    }
  }

  // Reproducible: the same (seed, stream) gives the same sequence.
  Rng x = rng_stream(42, 7), y = rng_stream(42, 7);
  int same = 1;
  for (int i = 0; i < 1000; i++) same &= rng_next(&x) == rng_next(&y);
  CHECK(same, "same seed and stream reproduce");

  // Streams and seeds differ; adjacent streams are uncorrelated.
  Rng s0 = rng_stream(42, 0), s1 = rng_stream(42, 1), t0 = rng_stream(43, 0);
  int diff01 = 0, diffseed = 0;
  double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
  const int N = 200000;
  for (int i = 0; i < N; i++) {
    double u = rng_uniform(&s0), v = rng_uniform(&s1), w = rng_uniform(&t0);
    diff01 += u != v;
    diffseed += u != w;
    sx += u; sy += v; sxy += u * v; sxx += u * u; syy += v * v;
  }
  double cov = sxy / N - (sx / N) * (sy / N);
  double corr = cov / sqrt((sxx / N - sx * sx / N / N) * (syy / N - sy * sy / N / N));
  printf("rng: correlation of streams 0 and 1: %.5f (|.| < 0.01)\n", corr);
  CHECK(diff01 > N - 5 && diffseed > N - 5, "streams differ (%d, %d of %d)", diff01, diffseed, N);
  CHECK(fabs(corr) < 0.01, "stream correlation %.5f", corr);

  // Uniform: range, mean 1/2, variance 1/12.  Normal: mean 0, variance 1,
  // kurtosis 3, tail mass beyond 3 sigma 0.0027.
  Rng u = rng_stream(1, 99);
  double m = 0, v = 0, nm = 0, nv = 0, n4 = 0;
  int out = 0, tail = 0;
  const int M = 1000000;
  float fmin = 1, fmax = 0;
  for (int i = 0; i < M; i++) {
    double d = rng_uniform(&u);
    float f = rng_uniformf(&u);
    out += d < 0 || d >= 1 || f < 0 || f >= 1;
    fmin = f < fmin ? f : fmin;
    fmax = f > fmax ? f : fmax;
    m += d; v += (d - 0.5) * (d - 0.5);
    double z = rng_normal(&u);
    nm += z; nv += z * z; n4 += z * z * z * z;
    tail += fabs(z) > 3;
  }
  m /= M; v /= M; nm /= M; nv /= M; n4 /= M;
  printf("rng: uniform mean %.5f var %.5f; normal mean %.5f var %.5f kurtosis %.4f tail %.5f\n",
         m, v, nm, nv, n4, (double)tail / M);
  CHECK(out == 0, "%d uniforms outside [0, 1)", out);
  CHECK(fabs(m - 0.5) < 0.002 && fabs(v - 1.0 / 12) < 0.001, "uniform moments");
  CHECK(fabs(nm) < 0.005 && fabs(nv - 1) < 0.005 && fabs(n4 - 3) < 0.03, "normal moments");
  CHECK(fabs((double)tail / M - 0.0027) < 0.0004, "normal tails");

  // rng_below: in range and every value hit about equally.
  int hist[10] = {0};
  for (int i = 0; i < 100000; i++) {
    uint64_t k = rng_below(&u, 10);
    if (k < 10) hist[k]++;
    else CHECK(0, "rng_below out of range");
  }
  for (int k = 0; k < 10; k++)
    CHECK(abs(hist[k] - 10000) < 500, "rng_below bucket %d: %d", k, hist[k]);

  // hash2 separates its arguments.
  CHECK(rng_hash2(1, 2) != rng_hash2(2, 1) && rng_hash2(0, 0) != rng_hash2(0, 1), "rng_hash2 order");
  return t_finish("test_rng");
}
