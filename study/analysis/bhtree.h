// bhtree.h — the Barnes–Hut quadtree of a 2-D embedding and the repulsive
// t-SNE forces it approximates (van der Maaten, "Accelerating t-SNE using
// tree-based algorithms", JMLR 15, 2014; Barnes & Hut, Nature 324, 1986).
//
// The tree is rebuilt every iteration from the points sorted along a
// Z-order (Morton) curve: each node is a contiguous range of sorted points
// and children sit next to each other in one node array.  Instead of one
// walk per point, the points of each subtree of at most 128 points share
// one walk (the cell-opening test made at the group's nearest point, so it
// holds for all of them) and then sum the resulting interaction list in a
// SIMD loop: ~6x faster than per-point walks and slightly more accurate.
// Every sum is per point and written to a per-point slot, so the result
// does not depend on the thread count.
#ifndef NETANALYSIS_BHTREE_H
#define NETANALYSIS_BHTREE_H

#include <stdint.h>

typedef struct {
  double cx, cy; // centre of mass
  double w2;     // squared side of the cell
  int count;     // points below
  int child;     // first child (children are contiguous); 0 for a leaf
  int nchild;
  int lo, hi;    // range of the node's points in Morton order
} BhNode;

typedef struct {
  int n;             // points
  int nnode, cap;    // nodes used / allocated
  BhNode *node;      // (cap)
  int *order;        // (n) point index at Morton position s
  uint32_t *key;     // (n) sorted Morton keys
  double *sy;        // (n, 2) positions in Morton order
  uint32_t *tmpkey;  // (n) radix-sort scratch
  int *tmporder;     // (n)
  int *group;        // (cap) node ids of the groups, in Morton order
  int ngroup;
} BhTree;

// A thread's interaction list (scratch of bhtree_repulsion_shared).
typedef struct {
  float *x, *y, *m;
  int len, cap;
} BhList;

void bhlist_free(BhList *l);

int bhtree_init(BhTree *t, int n);
void bhtree_free(BhTree *t);

// Rebuilds the tree over y (n, 2).  Leaves hold at most a few points, or
// any number of coincident ones at the deepest level (16).
void bhtree_build(BhTree *t, const double *y);

// For every point i: force (n, 2) = sum_j q_ij^2 (y_i - y_j) and
// zpart[i] = sum_j q_ij over j != i, with q_ij = 1 / (1 + |y_i - y_j|^2)
// and a cell summarised by its centre of mass when
// side^2 < theta^2 |y_i - com|^2 (sklearn's criterion), tested at the
// group's nearest point (see bhtree.c).  The caller divides force by
// Z = sum_i zpart[i].  nthreads <= 0: the OpenMP default.  Returns 0, or
// -1 when out of memory.
int bhtree_repulsion(const BhTree *t, double theta, int nthreads,
                     double *force, double *zpart);

// The same, called by every thread of an enclosing OpenMP parallel region,
// which shares the groups out (omp for nowait: the caller's region ends
// with a barrier).  l is the calling thread's scratch list, kept between
// calls so a step allocates nothing.  Returns 0, or -1 on this thread
// when out of memory.
int bhtree_repulsion_shared(const BhTree *t, double theta, BhList *l,
                            double *force, double *zpart);

#endif
