// emit_api.c — the inference API of a generated model (issue [use]): the
// typed functions its header declares for a program that embeds it
// (docs/embedding.md), written after the rest of MODEL.h and MODEL.c by
// emit.c.  Each is a few lines over the runtime's genmodel_* functions
// (runtime/genmodel.h), which slice any batch size, return errors and
// never print or exit.
//
//   MODEL_open(checkpoint, err)                a model with a checkpoint's parameters
//   MODEL_load(m, checkpoint, err)             replace its parameters
//   MODEL_predict(m, x, n, export..., err)     forward in evaluation mode, no loss
//   MODEL_classify(m, x, n, classes, err)      models with a classification loss
//   MODEL_free(m)
//
// A file of one net alone (`netc MODEL.net --net NET`, named MODEL_NET)
// has the same functions for its own NetModel, and MODEL_NET(model, in, n,
// out, err), which runs the net on the whole model's parameters.
#include "emitter.h"
#include "netc.h"

#include <string.h>

static const char *c_keywords[] = {
  "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
  "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
  "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
  "volatile", "while", "bool", "true", "false", "NULL", NULL,
};

// A C parameter name for a model's value: its own name, unless that is a C
// keyword or one of the API's other parameters (then with a trailing _).
static const char *arg_name(const char *name, const char *taken) {
  static const char *api[] = {"m", "n", "err", "model", "classes", "checkpoint", NULL};
  bool clash = taken && !strcmp(name, taken);
  for (int i = 0; c_keywords[i]; i++)
    clash |= !strcmp(name, c_keywords[i]);
  for (int i = 0; api[i]; i++)
    clash |= !strcmp(name, api[i]);
  if (!clash)
    return name;
  char *r = xcalloc(strlen(name) + 2, 1);
  strcpy(r, name);
  strcat(r, "_");
  return r;
}

static char *upper(const char *s) {
  char *r = xcalloc(strlen(s) + 1, 1);
  for (size_t i = 0; s[i]; i++)
    r[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
  return r;
}

static const char *input_name(const Graph *g) {
  const char *nm = g->input >= 0 ? g->nodes[g->input].name : NULL;
  return arg_name(nm ? nm : "x", NULL);
}

static const char *export_arg(const Graph *g, int j) {
  return arg_name(g->exports[j].name, input_name(g));
}

// "[n, 1, 28, 28]"
static void shape_n(CEmit *e, Shape s) {
  out(e, "[n");
  for (int d = 0; d < s.rank; d++)
    out(e, ", %d", s.dim[d]);
  out(e, "]");
}

// One net alone: the model it belongs to ("autoencoder" of
// "autoencoder_decoder"), else NULL.
static char *parent_model(const CEmit *e) {
  const char *m = e->g->model, *net = e->opt.net;
  size_t lm = strlen(m), ln = net ? strlen(net) : 0;
  if (!net || lm <= ln + 1 || strcmp(m + lm - ln, net) || m[lm - ln - 1] != '_')
    return NULL;
  char *r = xcalloc(lm - ln, 1);
  memcpy(r, m, lm - ln - 1);
  return r;
}

static bool can_predict(const Graph *g) { return g->ninputs == 1 && g->input >= 0; }

// The exports as the predict functions' parameters: ", float *code, float *y".
static void export_params(CEmit *e) {
  for (int j = 0; j < e->g->nexports; j++)
    out(e, ", float *%s", export_arg(e->g, j));
}

void emit_api_h(CEmit *e) {
  const Graph *g = e->g;
  const char *M = g->model, *x = input_name(g);
  char *UP = upper(M), *parent = parent_model(e);
  out(e, "// ---- Inference: a program that embeds the model (docs/embedding.md) ----\n"
         "// Every function returns NET_OK (0) or a NET_ERR_* code and fills err (or\n"
         "// NULL) with the reason (runtime/model.h); none prints or exits.  A model\n"
         "// runs one call at a time, on m->set_threads(m, k) threads (OpenMP's count\n"
         "// by default).  Shapes are per call, row-major, float32.\n");
  if (can_predict(g)) {
    Shape in = nd(e, g->input)->shape;
    out(e, "//   %s ", x);
    shape_n(e, in);
    out(e, "   the %s, as the trainer reads it%s\n", parent ? "net's input" : "input",
        in.rank == 3 && !parent ? " (images: pixels / 255)" : "");
  }
  for (int j = 0; j < g->nexports; j++) {
    out(e, "//   %s ", export_arg(g, j));
    shape_n(e, nd(e, g->exports[j].node)->shape);
    out(e, "   export %s\n", g->exports[j].name);
  }
  out(e, "#define %s_MAX_BATCH %d   /* examples per step: larger n run in slices */\n", UP, e->opt.batch);
  if (g->input >= 0)
    out(e, "#define %s_INPUT_SIZE %lld   /* floats per example of %s */\n", UP,
        (long long)shape_numel(nd(e, g->input)->shape), x);
  for (int j = 0; j < g->nexports; j++) {
    char *X = upper(g->exports[j].name);
    out(e, "#define %s_%s_SIZE %lld   /* floats per example of export %s */\n", UP, X,
        (long long)shape_numel(nd(e, g->exports[j].node)->shape), g->exports[j].name);
  }
  out(e, "\n// The %s with the parameters of a checkpoint (`train-%s --save FILE`%s),\n"
         "// or with parameters at zero if checkpoint is NULL; NULL on error.\n",
      parent ? "net" : "model", parent ? parent : M, parent ? "; by name" : "");
  out(e, "NetModel *%s_open(const char *checkpoint, NetError *err);\n", M);
  out(e, "// Replaces m's parameters by a checkpoint's; on error m keeps its own.\n");
  out(e, "int %s_load(NetModel *m, const char *checkpoint, NetError *err);\n", M);
  if (can_predict(g)) {
    out(e, "// The forward pass in evaluation mode (dropout off, batch norm's running\n"
           "// statistics) on any n >= 0 examples, without a loss: no labels needed.\n"
           "// Each export goes to its buffer (NULL: not wanted).  Random nodes (a\n"
           "// VAE's sampling) draw for example i from rng_stream(i / %d, i %% %d).\n",
        e->opt.batch, e->opt.batch);
    out(e, "int %s_predict(NetModel *m, const float *%s, int n", M, x);
    export_params(e);
    out(e, ", NetError *err);\n");
    int c = ir_class_output(g);
    if (c >= 0)
      out(e, "// The predicted class of each example, classes [n]: the argmax (first\n"
             "// maximum) of export %s, which the loss reads.\n"
             "int %s_classify(NetModel *m, const float *%s, int n, int *classes, NetError *err);\n",
          g->exports[c].name, M, x);
    if (parent) {
      out(e, "// Net %s alone on the parameters of model, a %s (what %s_open\n"
             "// or %s_new returned), read at each call.\n", e->opt.net, parent, parent, parent);
      out(e, "int %s(NetModel *model, const float *%s, int n", M, x);
      export_params(e);
      out(e, ", NetError *err);\n");
    }
  } else {
    out(e, "// No %s_predict: it feeds one tensor input, and the model has %d.\n", M, g->ninputs);
  }
  out(e, "void %s_free(NetModel *m);\n\n", M);
}

// The exports array a predict function hands to the runtime.
static void exports_array(CEmit *e) {
  const Graph *g = e->g;
  out(e, "  float *outputs[%d] = {", g->nexports > 0 ? g->nexports : 1);
  for (int j = 0; j < g->nexports; j++)
    out(e, "%s%s", j ? ", " : "", export_arg(g, j));
  out(e, "%s};\n", g->nexports ? "" : "NULL");
}

void emit_api_c(CEmit *e) {
  const Graph *g = e->g;
  const char *M = g->model, *x = input_name(g);
  char *parent = parent_model(e);
  int subset = parent != NULL;
  // NETC_NO_API: a second copy of the model in one program (the tests'
  // fused and unfused builds) leaves the functions to the first.
  out(e, "\n// The inference API (%s.h): the runtime's genmodel_* on this spec.\n#ifndef NETC_NO_API\n", M);
  out(e, "NetModel *%s_open(const char *checkpoint, NetError *err) {\n"
         "  NetModel *m = genmodel_create(&spec, err);\n"
         "  if (m && checkpoint && genmodel_load(&spec, m, checkpoint, %d, err)) {\n"
         "    m->free(m);\n    return NULL;\n  }\n  return m;\n}\n\n", M, subset);
  out(e, "int %s_load(NetModel *m, const char *checkpoint, NetError *err) {\n"
         "  return genmodel_load(&spec, m, checkpoint, %d, err);\n}\n\n", M, subset);
  if (can_predict(g)) {
    out(e, "int %s_predict(NetModel *m, const float *%s, int n", M, x);
    export_params(e);
    out(e, ", NetError *err) {\n");
    exports_array(e);
    out(e, "  return genmodel_predict(&spec, m, %s, n, outputs, err);\n}\n\n", x);
    if (ir_class_output(g) >= 0)
      out(e, "int %s_classify(NetModel *m, const float *%s, int n, int *classes, NetError *err) {\n"
             "  return genmodel_classify(&spec, m, %s, n, classes, err);\n}\n\n", M, x, x);
    if (parent) {
      out(e, "int %s(NetModel *model, const float *%s, int n", M, x);
      export_params(e);
      out(e, ", NetError *err) {\n");
      exports_array(e);
      out(e, "  return genmodel_run_net(&spec, model, %s, n, outputs, err);\n}\n\n", x);
    }
  }
  out(e, "void %s_free(NetModel *m) {\n  if (m)\n    m->free(m);\n}\n#endif\n", M);
}
