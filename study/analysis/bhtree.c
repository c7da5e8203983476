// bhtree.c — Morton-ordered quadtree and Barnes–Hut repulsion.
#include "bhtree.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { LEAF_SIZE = 8, MAX_DEPTH = 16, GROUP_SIZE = 128 };

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
  t->group = malloc((size_t)t->cap * sizeof(int));
  if (!t->node || !t->order || !t->key || !t->sy || !t->tmpkey ||
      !t->tmporder || !t->group) {
    bhtree_free(t);
    return -1;
  }
  return 0;
}

void bhtree_free(BhTree *t) {
  free(t->node), free(t->order), free(t->key), free(t->sy);
  free(t->tmpkey), free(t->tmporder), free(t->group);
  memset(t, 0, sizeof *t);
}

// Node ids of the groups (see bhtree_repulsion_shared): maximal subtrees
// of at most GROUP_SIZE points.
static int collect_groups(const BhTree *t, int id, int *groups, int ng) {
  const BhNode *nd = &t->node[id];
  if (nd->count <= GROUP_SIZE || nd->child == 0) {
    groups[ng++] = id;
    return ng;
  }
  for (int c = 0; c < nd->nchild; c++)
    ng = collect_groups(t, nd->child + c, groups, ng);
  return ng;
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
  t->ngroup = collect_groups(t, 0, t->group, 0);
}

// Group traversal: the points of one subtree (a "group", at most
// GROUP_SIZE points, contiguous in Morton order) share one walk of the
// tree.  A cell is summarised by its centre of mass when the criterion
// holds for the nearest point of the group's bounding box, so for every
// point of the group (never less accurate than the per-point walk with the
// same theta); a cell overlapping the group is opened; leaves are taken
// point by point.  The walk yields one list of (x, y, mass) that every
// point of the group then sums over in a SIMD loop.  Coordinates in the
// list are relative to the group's corner, in float, like sklearn's
// float32 Barnes–Hut.

typedef BhList List;

void bhlist_free(BhList *l) {
  free(l->x), free(l->y), free(l->m);
  memset(l, 0, sizeof *l);
}

static int list_push(List *l, float x, float y, float m) {
  if (l->len == l->cap) {
    int cap = l->cap ? 2 * l->cap : 1024;
    float *nx = realloc(l->x, (size_t)cap * sizeof(float));
    if (nx) l->x = nx;
    float *ny = realloc(l->y, (size_t)cap * sizeof(float));
    if (ny) l->y = ny;
    float *nm = realloc(l->m, (size_t)cap * sizeof(float));
    if (nm) l->m = nm;
    if (!nx || !ny || !nm)
      return -1;
    l->cap = cap;
  }
  l->x[l->len] = x, l->y[l->len] = y, l->m[l->len++] = m;
  return 0;
}

// Builds the interaction list of group g into l.
static int group_list(const BhTree *t, const BhNode *g, double theta2,
                      double ox, double oy, List *l) {
  double gx0 = INFINITY, gx1 = -INFINITY, gy0 = INFINITY, gy1 = -INFINITY;
  for (int s = g->lo; s < g->hi; s++) {
    gx0 = fmin(gx0, t->sy[2 * s]), gx1 = fmax(gx1, t->sy[2 * s]);
    gy0 = fmin(gy0, t->sy[2 * s + 1]), gy1 = fmax(gy1, t->sy[2 * s + 1]);
  }
  int stack[4 * MAX_DEPTH + 8], top = 0;
  stack[top++] = 0;
  l->len = 0;
  while (top > 0) {
    const BhNode *nd = &t->node[stack[--top]];
    int overlaps = nd->lo < g->hi && g->lo < nd->hi;
    if (!overlaps) {
      double dx = fmax(fmax(gx0 - nd->cx, nd->cx - gx1), 0);
      double dy = fmax(fmax(gy0 - nd->cy, nd->cy - gy1), 0);
      if (nd->w2 < theta2 * (dx * dx + dy * dy)) {
        if (list_push(l, (float)(nd->cx - ox), (float)(nd->cy - oy),
                      (float)nd->count))
          return -1;
        continue;
      }
    }
    if (nd->child == 0) {
      for (int j = nd->lo; j < nd->hi; j++)
        if (list_push(l, (float)(t->sy[2 * j] - ox),
                      (float)(t->sy[2 * j + 1] - oy), 1.0f))
          return -1;
      continue;
    }
    for (int c = nd->nchild - 1; c >= 0; c--)
      stack[top++] = nd->child + c;
  }
  return 0;
}

// Sums the list for one point at (px, py) relative to the list's origin.
// The point itself is in the list (as part of its own leaf): its term is
// q = 1 with zero force, removed by the caller from z.
static void list_sum(const List *l, float px, float py, double out[3]) {
  float fx = 0, fy = 0, z = 0;
  const float *lx = l->x, *ly = l->y, *lm = l->m;
#pragma omp simd reduction(+ : fx, fy, z)
  for (int k = 0; k < l->len; k++) {
    float dx = px - lx[k], dy = py - ly[k];
    float q = 1.0f / (1.0f + dx * dx + dy * dy);
    float mq = lm[k] * q;
    z += mq;
    mq *= q;
    fx += mq * dx;
    fy += mq * dy;
  }
  out[0] = fx, out[1] = fy, out[2] = (double)z - 1.0;
}

int bhtree_repulsion_shared(const BhTree *t, double theta, BhList *l,
                            double *force, double *zpart) {
  double theta2 = theta * theta;
  int fail = 0;
#pragma omp for schedule(dynamic, 2) nowait
  for (int a = 0; a < t->ngroup; a++) {
    const BhNode *g = &t->node[t->group[a]];
    double ox = t->sy[2 * g->lo], oy = t->sy[2 * g->lo + 1];
    if (fail || group_list(t, g, theta2, ox, oy, l) != 0) {
      fail = 1; // out of memory for a list of a few thousand floats
      continue;
    }
    for (int s = g->lo; s < g->hi; s++) {
      double r[3];
      list_sum(l, (float)(t->sy[2 * s] - ox), (float)(t->sy[2 * s + 1] - oy), r);
      int i = t->order[s];
      force[2 * i] = r[0];
      force[2 * i + 1] = r[1];
      zpart[i] = r[2];
    }
  }
  return fail ? -1 : 0;
}

int bhtree_repulsion(const BhTree *t, double theta, int nthreads,
                     double *force, double *zpart) {
  if (nthreads <= 0)
    nthreads = omp_get_max_threads();
  int fail = 0;
#pragma omp parallel num_threads(nthreads) reduction(| : fail)
  {
    BhList l = {0};
    fail |= bhtree_repulsion_shared(t, theta, &l, force, zpart) != 0;
    bhlist_free(&l);
  }
  return fail ? -1 : 0;
}
