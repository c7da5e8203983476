// interp.c — runs the graph op by op (see interp.h), with each op's
// kernel from the op table.
//
// Like an eager framework: every node's value is malloc'ed when the node
// runs and freed right after the last node that reads it; parameters are
// read in place.  The loss, the exports and the parameter gradients are
// kept until interp_release() so the caller can read them.
#include "interp.h"

#include <cblas.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "netc.h"
#include "noise.h"
#include "rng.h"

// The executor: the kernels' view first, so an Interp * is an Exec *.
typedef struct {
  Interp k;
  float **param;             // [nparams] each parameter's values
  float **val;               // [nnodes] node values of the current step
  int *last_fwd, *last_all;  // [nnodes] last node reading it (forward only / whole graph)
  bool *keep;                // [nnodes] values read after the step (loss, exports, grads)
  Rng *rng;                  // [n] per-example streams of this step
  int cap_n;                 // size the rng array was allocated for
} Exec;

static Exec *exec_of(Interp *ip) { return (Exec *)ip; }

// ---- The kernels' services ----

static void sgemm(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
              lda, b, ldb, beta, c, ldc);
}

static double normal(Interp *ip, int i) { return rng_normal(&exec_of(ip)->rng[i]); }

static float uniform(Interp *ip, int i) { return rng_uniformf(&exec_of(ip)->rng[i]); }

static void noise(Interp *ip, int i, float *x, int m, const Attrs *a) {
  noise_apply(x, m, a->mean, a->mean_std, a->std, a->std_std, &exec_of(ip)->rng[i]);
}

Interp *interp_new(Graph *g, float **param) {
  // Keep freed memory in the process, as a framework's caching allocator
  // does: otherwise glibc maps and unmaps every large activation each step
  // and the step pays a page fault per 4 KiB.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  Exec *ip = xcalloc(1, sizeof *ip);
  int nn = g->nnodes;
  int nf = g->nforward > 0 ? g->nforward : nn;
  ip->k = (Interp){.g = g, .sgemm = sgemm, .normal = normal, .noise = noise, .train = true, .uniform = uniform};
  ip->param = param;
  ip->val = xcalloc(nn, sizeof(float *));
  ip->last_fwd = xcalloc(nn, sizeof(int));
  ip->last_all = xcalloc(nn, sizeof(int));
  ip->keep = xcalloc(nn, sizeof(bool));
  for (int i = 0; i < nn; i++)
    ip->last_fwd[i] = ip->last_all[i] = i;
  for (int i = 0; i < nn; i++)
    for (int j = 0; j < g->nodes[i].nin; j++) {
      int src = g->nodes[i].in[j];
      ip->last_all[src] = i;
      if (i < nf)
        ip->last_fwd[src] = i;
    }
  if (g->loss >= 0)
    ip->keep[g->loss] = true;
  for (int e = 0; e < g->nexports; e++)
    ip->keep[g->exports[e].node] = true;
  for (int p = 0; p < g->nparams; p++)
    if (g->params[p].grad >= 0)
      ip->keep[g->params[p].grad] = true;
  return &ip->k;
}

// Frees a node's value unless it is a parameter (not ours).
static void drop(Exec *ip, int id) {
  if (ip->k.g->nodes[id].op != OP_PARAM)
    free(ip->val[id]);
  ip->val[id] = NULL;
}

void interp_release(Interp *k) {
  Exec *ip = exec_of(k);
  for (int i = 0; i < k->g->nnodes; i++)
    if (ip->val[i])
      drop(ip, i);
}

void interp_free(Interp *k) {
  if (!k)
    return;
  Exec *ip = exec_of(k);
  interp_release(k);
  free(ip->val);
  free(ip->last_fwd);
  free(ip->last_all);
  free(ip->keep);
  free(ip->rng);
  free(ip);
}

const float *interp_value(const Interp *ip, int node) { return ((const Exec *)ip)->val[node]; }

double interp_run(Interp *k, int upto, const float *x, const int32_t *labels, int n, uint64_t seed) {
  Exec *ip = exec_of(k);
  Graph *g = k->g;
  interp_release(k);
  if (n > ip->cap_n) {
    free(ip->rng);
    ip->rng = xcalloc(n, sizeof(Rng));
    ip->cap_n = n;
  }
  for (int i = 0; i < n; i++)
    ip->rng[i] = rng_stream(seed, (uint64_t)i);
  k->n = n;
  k->x = x;
  k->labels = labels;
  const int *last = upto > g->nforward ? ip->last_all : ip->last_fwd;

  for (int id = 0; id < upto; id++) {
    const Node *nd = &g->nodes[id];
    if (nd->op == OP_PARAM) {
      ip->val[id] = ip->param[nd->param];
      continue;
    }
    const float *in[IR_MAX_IN] = {0};
    for (int j = 0; j < nd->nin; j++)
      in[j] = ip->val[nd->in[j]];
    float *out = interp_alloc((size_t)interp_rows(k, nd) * (size_t)shape_numel(nd->shape));
    op_def(nd->op)->kernel(k, nd, out, in);
    ip->val[id] = out;
    // Free the inputs this node was the last reader of.
    for (int j = 0; j < nd->nin; j++) {
      int src = nd->in[j];
      if (last[src] == id && !ip->keep[src] && ip->val[src])
        drop(ip, src);
    }
    if (last[id] == id && !ip->keep[id])
      drop(ip, id);
  }

  if (g->loss < 0 || g->loss >= upto)
    return 0;
  double sum = 0;
  const float *l = ip->val[g->loss];
  for (int i = 0; i < n; i++)
    sum += l[i];
  return sum / n;
}

int interp_run_net(Unit *u, NetModel *m, const char *name, const float *const *inputs, int n, uint64_t seed,
                   float *out) {
  Graph *g = lower_net_alone(u, name);
  if (!g) {
    fprintf(stderr, "netc: error: model %s applies no net instance '%s'\n", u->model->name.str, name);
    return -1;
  }
  float **param = xcalloc((size_t)g->nparams + 1, sizeof *param);
  for (int p = 0; p < g->nparams; p++) {
    int t = model_find_tensor(m, g->params[p].name);
    if (t < 0) {
      fprintf(stderr, "netc: error: model %s has no tensor %s\n", m->name, g->params[p].name);
      return -1;
    }
    param[p] = m->params + m->tensors[t].offset;
  }
  Interp *ip = interp_new(g, param);
  ip->inputs = inputs;
  interp_run(ip, g->nforward, inputs[0], NULL, n, seed);
  int y = g->exports[0].node;
  memcpy(out, interp_value(ip, y), sizeof(float) * (size_t)n * (size_t)shape_numel(g->nodes[y].shape));
  interp_free(ip);
  return 0;
}
