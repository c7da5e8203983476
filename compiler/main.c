// main.c — the netc command line.
//
// Every command runs the same front-end pipeline (front.c):
//     load: lex + parse, with imports   (lex.re, parse.c)
//     check: names, constants, shapes   (check.c)
//     lower: AST → forward Graph        (lower.c)
// and then does one thing with the result: report it (check, summary,
// dump-ast, dump-ir), interpret it (run: interp.c) or emit C (-o: emit.c).
//
// Exit status: 0 success, 1 an error in a model (or a model file that
// cannot be read), 2 a usage error (bad flag, bad -D).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "interp.h"
#include "autodiff.h"
#include "ops.h"
#include "netc.h"

static const char usage[] =
    "usage: netc [-D name=value]... COMMAND\n"
    "\n"
    "commands:\n"
    "  check FILE...          check models (syntax, names, constants, shapes, gradients)\n"
    "  summary FILE...        per-net table of layers, output shapes and parameters\n"
    "  dump-ast FILE          the checked program, one node per line, with shapes\n"
    "  dump-ir FILE           the forward IR graph, one node per line\n"
    "  dump-grad FILE         the forward and gradient graph (autodiff.c)\n"
    "  run FILE [flags]       train/evaluate FILE with the interpreter (flags: run --help)\n"
    "  run FILE --net NAME [flags]  net instance NAME alone, forward only: --load C\n"
    "                         --predict-input F --predict DIR runs it over F's examples\n"
    "  FILE -o DIR            generate the C trainer for FILE into DIR\n"
    "  FILE --net NAME -o DIR generate net instance NAME of the model alone, forward only\n"
    "                         (MODEL_NAME.c/h: its inference, on tensors named as the model's)\n"
    "                         (--no-fuse: every op on its own, for testing)\n"
    "\n"
    "options:\n"
    "  -D name=value          override the model's constant name (repeatable), e.g. -D latent=4;\n"
    "                         `batch` (default 256) is always defined\n"
    "  -h, --help             this help\n"
    "  --version              the version\n"
    "\n"
    "-o writes MODEL.c and MODEL.h, MODEL the name of the file's `model` (not the\n"
    "file's): a trainer (main() unless NETC_NO_MAIN) and a typed inference API\n"
    "(MODEL_open, MODEL_predict, ...: docs/embedding.md).\n"
    "\n"
    "Exit status: 0 ok, 1 error in a model, 2 usage error.  The language: models/README.md.\n"
    "\n"
    "examples:\n"
    "  netc check models/autoencoder.net\n"
    "  netc -D latent=4 models/autoencoder.net -o gen      # gen/autoencoder.c, .h\n"
    "  netc models/autoencoder.net --net decoder -o gen    # gen/autoencoder_decoder.c, .h\n"
    "  netc run examples/mlp.net --epochs 2                # train with the interpreter\n"
    "  netc run models/autoencoder.net --net decoder --load AE.ckpt --predict-input codes.npy \\\n"
    "      --predict out                                   # out/y.npy, out/y.png: decoded codes\n";

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "netc: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see netc --help)\n");
  return 2;
}

typedef struct {
  Define defs[64]; int ndefs;
  const char *outdir;
  bool no_fuse;              // -o: emit every op on its own (emit.c)
  const char *net;           // -o: emit this net instance alone (lower_net_alone)
  char **args; int nargs;    // command and files, in order
  int rest;                  // for run: argv index after the model path
} Cmdline;

static int worst(int a, int b) { return a > b ? a : b; }

// check / summary / dump-*: run the pipeline on each file.
static int report(const char *cmd, Cmdline *cl) {
  int status = 0;
  if (cl->nargs < 2)
    return usage_error("'%s' needs a model file", cmd);
  bool single = !strcmp(cmd, "dump-ast") || !strcmp(cmd, "dump-ir") || !strcmp(cmd, "dump-grad");
  if (single && cl->nargs > 2)
    return usage_error("'%s' takes one model file", cmd);
  for (int i = 1; i < cl->nargs; i++) {
    const char *path = cl->args[i];
    Unit *u;
    int st;
    Graph *g = netc_compile_unit(path, cl->defs, cl->ndefs, &u, &st);
    status = worst(status, st);
    if (!strcmp(cmd, "dump-ast") && u && st != 2) {
      dump_ast(stdout, u);
      continue;
    }
    if (!g)
      continue;
    if (!strcmp(cmd, "check")) {
      // Everything that can fail before code generation, so a model that
      // passes check never fails later on a model error: the gradient
      // (an op without a rule on a parameter's path) and the verifier.
      if (!autodiff(g) || !ops_verify(g)) {
        status = worst(status, 1);
        continue;
      }
      int64_t n = 0;
      char buf[32];
      for (int p = 0; p < g->nparams; p++)
        if (!g->params[p].buffer)   // running statistics are not parameters
          n += shape_numel(g->params[p].shape);
      printf("%s: ok (model %s, %s parameters)\n", path, g->model, fmt_count(n, buf));
    } else if (!strcmp(cmd, "summary")) {
      if (i > 1)
        printf("\n");
      summary_print(stdout, u, g);
    } else if (!strcmp(cmd, "dump-ir")) {
      ir_print(stdout, g);
    } else if (!strcmp(cmd, "dump-grad")) {
      if (autodiff(g) && ops_verify(g))
        ir_print(stdout, g);
      else
        status = worst(status, 1);
    }
  }
  fflush(stdout);
  return status;
}

// Reads the options and the command with its files into cl; returns -1 to
// go on, or the exit status (--help, --version, a usage error).
static int parse_cmdline(int argc, char **argv, Cmdline *cl) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage, stdout);
      return 0;
    }
    if (!strcmp(a, "--version")) {
      printf("netc %s\n", NETC_VERSION);
      return 0;
    }
    if (!strncmp(a, "-D", 2)) {
      const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v)
        return usage_error("%s expects name=value", "-D");
      if (cl->ndefs == 64)
        return usage_error("too many %s options", "-D");
      if (!define_parse(v, &cl->defs[cl->ndefs++]))
        return 2;
      continue;
    }
    if (!strcmp(a, "--no-fuse")) {
      cl->no_fuse = true;
      continue;
    }
    if (!strcmp(a, "--net")) {
      if (i + 1 >= argc)
        return usage_error("%s expects a net instance's name", "--net");
      cl->net = argv[++i];
      continue;
    }
    if (!strcmp(a, "-o")) {
      if (i + 1 >= argc)
        return usage_error("%s expects a directory", "-o");
      cl->outdir = argv[++i];
      continue;
    }
    if (a[0] == '-' && a[1])
      return usage_error("unknown option '%s'", a);
    cl->args[cl->nargs++] = argv[i];
    // `run MODEL [trainer flags]`: the flags after the model are the trainer's.
    if (cl->nargs == 2 && !strcmp(cl->args[0], "run")) {
      cl->rest = i + 1;
      break;
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  // A half-added op fails every run, not only the model that first uses it.
  if (!ops_check_table())
    return 2;
  Cmdline cl = {.args = xcalloc((size_t)argc + 1, sizeof(char *))};   // compiler memory: never freed
  int st = parse_cmdline(argc, argv, &cl);
  if (st >= 0)
    return st;
  if (cl.nargs == 0) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = cl.args[0];
  if (!strcmp(cmd, "check") || !strcmp(cmd, "summary") || !strcmp(cmd, "dump-ast") || !strcmp(cmd, "dump-ir") ||
      !strcmp(cmd, "dump-grad"))
    return report(cmd, &cl);

  int status;
  if (!strcmp(cmd, "run")) {
    if (cl.nargs < 2)
      return usage_error("'%s' needs a model file", "run");
    // `--net NAME` among the trainer flags (or before the model): that net
    // alone, forward only; the driver gets the other flags.
    int targc = argc - cl.rest + 1;
    char **targv = argv + cl.rest - 1;
    for (int i = 1; i < targc; i++)
      if (!strcmp(targv[i], "--net")) {
        if (i + 1 >= targc)
          return usage_error("%s expects a net instance's name", "--net");
        cl.net = targv[i + 1];
        memmove(targv + i, targv + i + 2, sizeof *targv * (size_t)(targc - i - 2));
        targc -= 2;
        break;
      }
    if (cl.net) {
      Unit *u;
      if (!netc_compile_unit(cl.args[1], cl.defs, cl.ndefs, &u, &status))
        return status;
      return interp_main_net(u, cl.net, targc, targv);
    }
    Graph *g = netc_compile(cl.args[1], cl.defs, cl.ndefs, &status);
    if (!g)
      return status;
    // interp_main sees the trainer flags as its own argv (argv[0] = model).
    return interp_main(g, targc, targv);
  }
  if (!cl.outdir) {
    if (strstr(cmd, ".net"))
      return usage_error("what to do with '%s'? (netc check FILE, netc FILE -o DIR, ...)", cmd);
    return usage_error("unknown command '%s'", cmd);
  }
  if (cl.nargs != 1)
    return usage_error("-o takes one model file, got '%s' too", cl.args[1]);
  Unit *u;
  Graph *g = netc_compile_unit(cmd, cl.defs, cl.ndefs, &u, &status);
  if (!g)
    return status;
  if (cl.net) {
    // One net of the model alone: forward only, its parameters named as in
    // the model's trainer, so a caller copies them over by name.
    g = lower_net_alone(u, cl.net);
    if (!g) {
      fprintf(stderr, "netc: error: model %s applies no net instance '%s'\n", u->model->name.str, cl.net);
      return 1;
    }
    if (g->ninputs > 1) {
      fprintf(stderr, "netc: error: --net %s: the net has %d inputs; generated code feeds one\n", cl.net,
              g->ninputs);
      return 1;
    }
  }
  EmitOptions eo = emit_options_default();
  eo.batch = g->batch;
  eo.fuse = !cl.no_fuse;
  eo.net = cl.net;
  return emit_model(g, cl.outdir, &eo);
}
