// bhtree.c — Morton-ordered quadtree and Barnes–Hut repulsion.
#include "bhtree.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { LEAF_SIZE = 4, MAX_DEPTH = 16 };

int bhtree_init(BhTree *t, int n) {
  memset(t, 0, sizeof *t);
  t->n = n;
  t->cap = 2 * n + 16;
  t->node = malloc((size_t)t->cap * sizeof(BhNode));
  t->order = malloc((size_t)n * sizeof(int));
  t->key = malloc((size_t)n * sizeof(uint32_t));
  t->sy = malloc((size_t)n * 2 * sizeof(double));
  t->tmpkey = malloc((size_t)n * sizeof(uint32_t));
  t->tmporder = malloc((size_t)n * sizeof(int));
  if (!t->node || !t->order || !t->key || !t->sy || !t->tmpkey ||
      !t->tmporder) {
    bhtree_free(t);
    return -1;
  }
  return 0;
}

void bhtree_free(BhTree *t) {
  free(t->node), free(t->order), free(t->key), free(t->sy);
  free(t->tmpkey), free(t->tmporder);
  memset(t, 0, sizeof *t);
}

// Spreads the 16 bits of v to the even bit positions of the result.
static uint32_t spread16(uint32_t v) {
  v = (v | (v << 8)) & 0x00ff00ffu;
  v = (v | (v << 4)) & 0x0f0f0f0fu;
  v = (v | (v << 2)) & 0x33333333u;
  v = (v | (v << 1)) & 0x55555555u;
  return v;
}

// Stable LSD radix sort of (key, order) by key, 8 bits per pass.
static void radix_sort(BhTree *t) {
  uint32_t *k = t->key, *k2 = t->tmpkey;
  int *o = t->order, *o2 = t->tmporder;
  for (int shift = 0; shift < 32; shift += 8) {
    int count[257] = {0};
    for (int i = 0; i < t->n; i++)
      count[((k[i] >> shift) & 255) + 1]++;
    for (int b = 0; b < 256; b++)
      count[b + 1] += count[b];
    for (int i = 0; i < t->n; i++) {
      int dst = count[(k[i] >> shift) & 255]++;
      k2[dst] = k[i];
      o2[dst] = o[i];
    }
    uint32_t *tk = k; k = k2; k2 = tk;
    int *to = o; o = o2; o2 = to;
  }
  // Four passes: the sorted data is back in t->key / t->order.
}

// Makes node `id` cover Morton positions [lo, hi) at depth `level`.
static void build_node(BhTree *t, int id, int lo, int hi, int level,
                       double side) {
  BhNode *nd = &t->node[id];
  double sx = 0, sy = 0;
  for (int s = lo; s < hi; s++)
    sx += t->sy[2 * s], sy += t->sy[2 * s + 1];
  nd->cx = sx / (hi - lo);
  nd->cy = sy / (hi - lo);
  double w = ldexp(side, -level);
  nd->w2 = w * w;
  nd->count = hi - lo;
  nd->lo = lo;
  nd->hi = hi;
  nd->child = 0;
  nd->nchild = 0;
  if (hi - lo <= LEAF_SIZE || level == MAX_DEPTH)
    return;
  // Quadrant of each point at this level: 2 bits of the key, nondecreasing
  // over the range because the keys are sorted and share their prefix.
  int shift = 2 * (MAX_DEPTH - 1 - level);
  int start[5], nq = 0, first = t->nnode;
  int s = lo;
  while (s < hi) {
    uint32_t q = (t->key[s] >> shift) & 3;
    int e = s;
    while (e < hi && ((t->key[e] >> shift) & 3) == q)
      e++;
    start[nq++] = s;
    s = e;
  }
  start[nq] = hi;
  t->nnode += nq;
  nd->child = first;
  nd->nchild = nq;
  for (int c = 0; c < nq; c++)
    build_node(t, first + c, start[c], start[c + 1], level + 1, side);
}

void bhtree_build(BhTree *t, const double *y) {
  int n = t->n;
  double minx = y[0], maxx = y[0], miny = y[1], maxy = y[1];
  for (int i = 1; i < n; i++) {
    minx = fmin(minx, y[2 * i]), maxx = fmax(maxx, y[2 * i]);
    miny = fmin(miny, y[2 * i + 1]), maxy = fmax(maxy, y[2 * i + 1]);
  }
  double side = fmax(maxx - minx, maxy - miny);
  side = side > 0 ? side * (1 + 1e-9) + 1e-300 : 1.0;
  double scale = 65536.0 / side;
  for (int i = 0; i < n; i++) {
    double fx = (y[2 * i] - minx) * scale, fy = (y[2 * i + 1] - miny) * scale;
    uint32_t qx = fx >= 65535.0 ? 65535u : (uint32_t)fx;
    uint32_t qy = fy >= 65535.0 ? 65535u : (uint32_t)fy;
    t->key[i] = spread16(qx) | (spread16(qy) << 1);
    t->order[i] = i;
  }
  radix_sort(t);
  for (int s = 0; s < n; s++) {
    t->sy[2 * s] = y[2 * t->order[s]];
    t->sy[2 * s + 1] = y[2 * t->order[s] + 1];
  }
  t->nnode = 1;
  build_node(t, 0, 0, n, 0, side);
}

// Repulsion on the point at Morton position s.
static void repel_one(const BhTree *t, int s, double theta2, double out[3]) {
  double px = t->sy[2 * s], py = t->sy[2 * s + 1];
  double fx = 0, fy = 0, z = 0;
  int stack[4 * MAX_DEPTH + 8], top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const BhNode *nd = &t->node[stack[--top]];
    if (nd->child == 0) {
      for (int j = nd->lo; j < nd->hi; j++) {
        if (j == s)
          continue;
        double dx = px - t->sy[2 * j], dy = py - t->sy[2 * j + 1];
        double q = 1.0 / (1.0 + dx * dx + dy * dy);
        z += q;
        fx += q * q * dx;
        fy += q * q * dy;
      }
      continue;
    }
    double dx = px - nd->cx, dy = py - nd->cy;
    double d2 = dx * dx + dy * dy;
    // A cell holding the point itself is always opened, so no self term.
    if (nd->w2 < theta2 * d2 && (s < nd->lo || s >= nd->hi)) {
      double q = 1.0 / (1.0 + d2);
      double m = nd->count * q;
      z += m;
      fx += m * q * dx;
      fy += m * q * dy;
    } else {
      for (int c = nd->nchild - 1; c >= 0; c--)
        stack[top++] = nd->child + c;
    }
  }
  out[0] = fx, out[1] = fy, out[2] = z;
}

void bhtree_repulsion(const BhTree *t, double theta, int nthreads,
                      double *force, double *zpart) {
  if (nthreads <= 0)
    nthreads = omp_get_max_threads();
  double theta2 = theta * theta;
#pragma omp parallel for schedule(static, 256) num_threads(nthreads)
  for (int s = 0; s < t->n; s++) {
    double r[3];
    repel_one(t, s, theta2, r);
    int i = t->order[s];
    force[2 * i] = r[0];
    force[2 * i + 1] = r[1];
    zpart[i] = r[2];
  }
}
