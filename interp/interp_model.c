// interp_model.c — an interpreted Graph as a NetModel (runtime/model.h),
// and `netc run`, which hands that model to the runtime's driver so the
// interpreter speaks the same command line and JSON as a generated trainer.
#include "interp.h"

#include "autodiff.h"
#include "driver.h"
#include "model.h"
#include "netc.h"
#include "ops.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  Graph *g;
  Interp *ip;
  float **param;             // [g->nparams] into m->params
  size_t *offset;            // [g->nparams] in floats
} InterpModel;

static float model_train_step(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed) {
  InterpModel *im = m->impl;
  Graph *g = im->g;
  im->ip->train = true;
  double loss = interp_run(im->ip, g->nnodes, x, labels, n, seed);
  for (int p = 0; p < g->nparams; p++) {
    const Param *pr = &g->params[p];
    if (pr->frozen || pr->grad < 0)
      continue;
    memcpy(m->grads + im->offset[p], interp_value(im->ip, pr->grad), shape_numel(pr->shape) * sizeof(float));
  }
  interp_release(im->ip);
  return (float)loss;
}

static float model_forward(NetModel *m, const float *x, const int32_t *labels, int n, uint64_t seed,
                           float **outputs) {
  InterpModel *im = m->impl;
  Graph *g = im->g;
  im->ip->train = false;     // forward() evaluates: validation, test, inference
  double loss = interp_run(im->ip, g->nforward, x, labels, n, seed);
  for (int e = 0; outputs && e < g->nexports; e++) {
    if (!outputs[e])
      continue;
    const Node *nd = &g->nodes[g->exports[e].node];
    size_t sz = (size_t)shape_numel(nd->shape);
    const float *v = interp_value(im->ip, nd->id);
    for (int i = 0; i < n; i++)
      memcpy(outputs[e] + i * sz, v + (nd->batched ? i * sz : 0), sz * sizeof(float));
  }
  interp_release(im->ip);
  return (float)loss;
}

static void model_set_threads(NetModel *m, int threads) {
  (void)m;
  if (threads < 1)
    threads = 1;
  omp_set_num_threads(threads);
  openblas_set_num_threads(1);   // threads take whole chunks (compiler/ops/layers.h)
}

static void model_free(NetModel *m) {
  InterpModel *im = m->impl;
  interp_free(im->ip);
  free(im->param);
  free(im->offset);
  free(im);
  free(m->tensors);
  free((void *)m->tensor_init);
  free((void *)m->tensor_buffer);
  free(m->outputs);
  free((void *)m->inputs);
  free(m->params);
  free(m->grads);
  free(m);
}

NetModel *interp_model_new(Graph *g) {
  if (g->nforward <= 0)
    g->nforward = g->nnodes;
  NetModel *m = xcalloc(1, sizeof *m);
  InterpModel *im = xcalloc(1, sizeof *im);
  im->g = g;
  im->param = xcalloc(g->nparams, sizeof(float *));
  im->offset = xcalloc(g->nparams, sizeof(size_t));
  m->name = g->model;
  m->needs_labels = g->label >= 0;
  m->n_inputs = g->ninputs;
  // A batch row holds every tensor input in declaration order (model.h).
  NetOutput *in = xcalloc(g->ninputs ? g->ninputs : 1, sizeof *in);
  for (int i = 0; i < g->nnodes; i++) {
    const Node *nd = &g->nodes[i];
    if (nd->op != OP_INPUT)
      continue;
    NetOutput *o = &in[nd->attr.index];
    *o = (NetOutput){nd->name, (size_t)shape_numel(nd->shape), nd->shape.rank, {0}};
    for (int d = 0; d < nd->shape.rank && d < NET_MAX_RANK; d++)
      o->dim[d] = nd->shape.dim[d];
    m->input_size += (int)o->size;
  }
  m->inputs = in;
  if (g->input >= 0) {
    Shape s = g->nodes[g->input].shape;
    m->input_rank = s.rank <= 3 ? s.rank : 0;
    for (int i = 0; i < m->input_rank; i++)
      m->input_dim[i] = s.dim[i];
  }
  m->n_classes = g->n_classes;
  m->max_batch = 1 << 20;   // the interpreter allocates per step: any batch goes

  // Tensors: trainable first, frozen after, each group in graph order.
  m->n_tensors = g->nparams;
  m->tensors = xcalloc(g->nparams, sizeof(NetTensor));
  size_t off = 0;
  int t = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int p = 0; p < g->nparams; p++) {
      const Param *pr = &g->params[p];
      if (pr->frozen != (pass == 1))
        continue;
      NetTensor *nt = &m->tensors[t++];
      nt->name = pr->name;
      nt->rank = pr->shape.rank;
      for (int k = 0; k < pr->shape.rank; k++)
        nt->dim[k] = pr->shape.dim[k];
      nt->offset = off;
      nt->numel = (size_t)shape_numel(pr->shape);
      nt->fan_in = pr->fan_in;
      nt->frozen = pr->frozen;
      if (pr->init != PARAM_INIT_DEFAULT || pr->buffer) {
        if (!m->tensor_init) {
          m->tensor_init = xcalloc(g->nparams, 1);
          m->tensor_buffer = xcalloc(g->nparams, 1);
        }
        ((uint8_t *)m->tensor_init)[t - 1] = (uint8_t)pr->init;
        ((uint8_t *)m->tensor_buffer)[t - 1] = pr->buffer;
      }
      im->offset[p] = off;
      off += nt->numel;
      if (pass == 0)
        m->n_trainable = off;
    }
  m->n_params = off;
  m->params = xcalloc(off, sizeof(float));
  m->grads = xcalloc(off, sizeof(float));
  for (int p = 0; p < g->nparams; p++)
    im->param[p] = m->params + im->offset[p];
  m->structure_hash = model_hash_structure(m);

  m->n_outputs = g->nexports;
  m->outputs = xcalloc(g->nexports, sizeof(NetOutput));
  for (int e = 0; e < g->nexports; e++) {
    Shape s = g->nodes[g->exports[e].node].shape;
    m->outputs[e] = (NetOutput){g->exports[e].name, (size_t)shape_numel(s), s.rank, {0}};
    for (int d = 0; d < s.rank && d < NET_MAX_RANK; d++)
      m->outputs[e].dim[d] = s.dim[d];
  }
  m->class_output = ir_class_output(g);

  m->train_step = model_train_step;
  m->forward = model_forward;
  m->set_threads = model_set_threads;
  m->free = model_free;
  im->ip = interp_new(g, im->param);
  m->impl = im;
  return m;
}

Interp *interp_model_interp(NetModel *m) { return ((InterpModel *)m->impl)->ip; }

// argv[0] is the model file; the driver's usage line names the program
// with it, so it reads "usage: netc run FILE [options]".
static int run_driver(NetModel *m, int argc, char **argv) {
  size_t len = strlen(argv[0]) + sizeof "netc run ";
  char *prog = xcalloc(len, 1);
  snprintf(prog, len, "netc run %s", argv[0]);
  argv[0] = prog;
  int status = driver_main(m, argc, argv);
  m->free(m);
  return status;
}

int interp_main(Graph *g, int argc, char **argv) {
  if (!autodiff(g))
    return 1;
  if (!ops_verify(g))
    return 1;
  return run_driver(interp_model_new(g), argc, argv);
}

// The name the model binds the instance's output to (`y = decoder(code)`:
// "y"), so the net's export is written as the whole model's would be; NULL
// when the call is not a statement of its own.
static const char *instance_output(const Unit *u, const char *name) {
  const Model *md = u->model;
  for (int i = 0; i < md->nstmts; i++) {
    const Stmt *st = &md->stmts[i];
    const Expr *e = st->expr;
    if (st->kind == S_LET && e && e->kind == E_CALL && e->net && e->pname && !strcmp(e->pname, name))
      return st->name.str;
  }
  return NULL;
}

int interp_main_net(Unit *u, const char *name, int argc, char **argv) {
  Graph *g = lower_net_alone(u, name);
  if (!g) {
    fprintf(stderr, "netc: error: model %s applies no net instance '%s'\n", u->model->name.str, name);
    return 1;
  }
  if (!ops_verify(g))
    return 1;
  const char *out = instance_output(u, name);
  if (out)
    g->exports[0].name = out;
  NetModel *m = interp_model_new(g);
  // Forward only: the driver then refuses training and loads the net's
  // tensors by name from a checkpoint of the whole model.
  m->train_step = NULL;
  return run_driver(m, argc, argv);
}
