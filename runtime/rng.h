// rng.h — seeded random numbers: xoshiro256** (Blackman & Vigna 2018),
// state filled by splitmix64.
//
// Every consumer that must be reproducible across thread counts takes its
// own stream: rng_stream(seed, i) for example i of a step.  The interpreter
// and the generated code call the same inline functions, so they draw the
// same numbers bit for bit.
#ifndef NETRT_RNG_H
#define NETRT_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
  uint64_t s[4];
} Rng;

// splitmix64 (Steele, Lea, Flood 2014): advances *x, returns a mixed word.
static inline uint64_t rng_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A hash of (a, b) with good avalanche, used to derive seeds (run seed,
// epoch, step) -> step seed.
static inline uint64_t rng_hash2(uint64_t a, uint64_t b) {
  uint64_t x = a;
  uint64_t h = rng_splitmix64(&x);
  x = h ^ (b + 0x632be59bd9b4e019ull);
  return rng_splitmix64(&x);
}

// Stream `stream` of `seed`: seed and stream are hashed together, then the
// four state words are drawn from splitmix64, so nearby seeds/streams give
// unrelated states (and never the all-zero state in practice).
static inline Rng rng_stream(uint64_t seed, uint64_t stream) {
  Rng r;
  uint64_t x = rng_hash2(seed, stream);
  for (int i = 0; i < 4; i++)
    r.s[i] = rng_splitmix64(&x);
  return r;
}

static inline uint64_t rng_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// xoshiro256**: the next 64 random bits.
static inline uint64_t rng_next(Rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng_rotl(s[3], 45);
  return result;
}

// Uniform double in [0, 1): the top 53 bits.
static inline double rng_uniform(Rng *r) {
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

// Uniform float in [0, 1): the top 24 bits.
static inline float rng_uniformf(Rng *r) {
  return (float)(rng_next(r) >> 40) * 0x1.0p-24f;
}

// rng_uniformf on n streams at once, their states side by side (word j
// of stream i at s[j * n + i]): the next uniform float of every stream
// into u[i], the same bits as rng_uniformf.  Written over the streams, so
// that a compiler vectorises the xoshiro steps across them (the dropout
// masks of a chunk's examples: one stream per example, each still drawing
// its elements in order).
static inline void rng_uniformf_lanes(uint64_t *restrict s, int n, float *restrict u) {
  uint64_t *restrict s0 = s, *restrict s1 = s + n, *restrict s2 = s + 2 * n, *restrict s3 = s + 3 * n;
  for (int i = 0; i < n; i++) {
    uint64_t result = rng_rotl(s1[i] * 5, 7) * 9;
    uint64_t t = s1[i] << 17;
    s2[i] ^= s0[i];
    s3[i] ^= s1[i];
    s1[i] ^= s2[i];
    s0[i] ^= s3[i];
    s2[i] ^= t;
    s3[i] = rng_rotl(s3[i], 45);
    u[i] = (float)(result >> 40) * 0x1.0p-24f;
  }
}

// Dropout masks for a chunk's examples: m[i * ne + k] = scale if example
// i's k-th uniform is below keep, else 0, for i < nc, each stream R[i]
// drawing its ne uniforms in order (the same masks as ne rng_uniformf
// calls per example).  The streams are stepped side by side in `lanes`
// lanes (rng_uniformf_lanes; lanes >= nc, the chunk size), the padding
// lanes stepping zero states that are never stored.  The padding lanes are
// zeroed in a loop of their own: a read of R[i] under i < nc is a
// conditional read, which gcc 12.2 miscompiles for AVX2 (kernels.h,
// kern_relu_grad).
static inline void rng_dropout_mask(Rng *R, int nc, int lanes, long ne, float keep, float scale, float *m) {
  uint64_t rs[4 * lanes];
  float u[lanes];
  for (int j = 0; j < 4; j++) {
    for (int i = 0; i < nc; i++)
      rs[j * lanes + i] = R[i].s[j];
    for (int i = nc; i < lanes; i++)
      rs[j * lanes + i] = 0;
  }
  for (long k = 0; k < ne; k++) {
    rng_uniformf_lanes(rs, lanes, u);
    for (int i = 0; i < nc; i++)
      m[i * ne + k] = u[i] < keep ? scale : 0.0f;
  }
  for (int i = 0; i < nc; i++)
    for (int j = 0; j < 4; j++)
      R[i].s[j] = rs[j * lanes + i];
}

// Standard normal by the basic Box–Muller transform, using only the cosine
// branch: two uniforms per sample and no cached spare, so the Rng is just
// the xoshiro state and a stream's n-th normal is always the same number
// whatever else was drawn before on other streams.  1 - u keeps the
// logarithm's argument in (0, 1].
static inline double rng_normal(Rng *r) {
  double u1 = 1.0 - rng_uniform(r);
  double u2 = rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the bias is
// below 2^-32 for the n used here, shuffles of at most 10^7 items).
static inline uint64_t rng_below(Rng *r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

#endif
