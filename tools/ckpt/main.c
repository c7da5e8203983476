// netc-ckpt — show, verify and convert netc checkpoints (runtime/ckpt.h):
// to and from PyTorch's state_dict as .npz (docs/pytorch.md).
//
//   show CKPT [--model F.net] [--json]   what the file holds
//   verify CKPT [--model F.net]          CRC and structure; loads into the model
//   export CKPT -o F.npz [--model F.net] tensors under PyTorch's names
//   import F.npz -o CKPT --model F.net   the reverse
//
// Checkpoints are read by ckpt_read (the fuzzed reader), .npz files by
// dataset_npz_read_all (also fuzzed).  Exit status: 0 ok, 1 error (the
// file, the model, I/O), 2 usage.
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "ckpt_tool.h"
#include "dataset.h"
#include "idx.h"
#include "interp.h"
#include "model.h"
#include "netc.h"
#include "npz_write.h"
#include "ops.h"

#define KEY_MAX 1024

static const char HELP[] =
  "NAME\n"
  "    netc-ckpt - show, verify and convert netc checkpoints\n"
  "\n"
  "SYNOPSIS\n"
  "    netc-ckpt show CKPT [--model FILE.net] [--json]\n"
  "    netc-ckpt verify CKPT [--model FILE.net]\n"
  "    netc-ckpt export CKPT -o FILE.npz [--model FILE.net] [--best]\n"
  "    netc-ckpt import FILE.npz -o CKPT --model FILE.net\n"
  "    netc-ckpt --help | --version\n"
  "\n"
  "DESCRIPTION\n"
  "    A checkpoint is what a trainer's --save writes (train-NAME, netc run):\n"
  "    the model's tensors, optionally the optimizer's state and the training\n"
  "    state.  netc-ckpt reads one without the model; --model FILE.net (the\n"
  "    model's source, with -D name=value as netc takes them) adds what only\n"
  "    the model knows.\n"
  "\n"
  "    show     The format version and size; the model's structure hash (a\n"
  "             checkpoint does not record the model's name: with --model,\n"
  "             whether the hash is that model's); every tensor with its shape\n"
  "             and kind (a trainable or frozen parameter, or a buffer such as\n"
  "             batch norm's running statistics; without --model the kind is\n"
  "             inferred: buffers by their name, trainable tensors by the\n"
  "             optimizer state's length); the optimizer (kind, step, state\n"
  "             arrays); the training state (epochs done, seed, time, images);\n"
  "             early stopping (best epoch, its validation loss, epochs since,\n"
  "             whether its parameters are saved); the plateau schedule's state\n"
  "             (the other schedules are functions of the epoch and the step);\n"
  "             the input normalisation of --normalize (per-channel mean and\n"
  "             std; none for a run without it).\n"
  "             --json prints one JSON object instead.\n"
  "\n"
  "    verify   Checks the magic number, version, size, CRC-32 and every\n"
  "             offset; with --model, that the checkpoint loads into the model\n"
  "             as --load would (same tensors, shapes and structure hash) and\n"
  "             that its optimizer state, if any, fits the model's trainable\n"
  "             tensors as --resume needs.  Prints \"CKPT: ok (...)\".\n"
  "\n"
  "    export   Writes the tensors to FILE.npz (numpy.savez's format, written\n"
  "             atomically) under PyTorch's state_dict keys and layouts, so\n"
  "             that\n"
  "                 sd = {k: torch.from_numpy(v) for k, v in np.load(F).items()}\n"
  "                 module.load_state_dict(sd, strict=True)\n"
  "             loads them into the equivalent torch.nn module.  Names: a\n"
  "             tensor PATH_w, PATH_b, PATH_running_mean, PATH_running_var\n"
  "             becomes PATH'.weight, .bias, .running_mean, .running_var, where\n"
  "             PATH' is PATH with '_' between two levels of the call path\n"
  "             replaced by '.' (encoder_trunk_conv1_w ->\n"
  "             encoder.trunk.conv1.weight); with --model, '_' inside a net's\n"
  "             name or a label (mu_head_dense1_w -> mu_head.dense1.weight) is\n"
  "             kept, without it every '_' separates levels.  Each batch norm\n"
  "             also gets PATH'.num_batches_tracked (int64: the optimizer's\n"
  "             step, else 0).  Layouts are PyTorch's already: float32, conv\n"
  "             [out, in/groups, kh, kw], transposed conv [in, out/groups, kh,\n"
  "             kw], dense [out, in], batch norm [C].  --best exports the\n"
  "             parameters of early stopping's best epoch (saved by a run with\n"
  "             --patience) instead of the last.\n"
  "\n"
  "    import   The reverse: reads a state_dict saved with\n"
  "                 np.savez(F, **{k: v.numpy() for k, v in sd.items()})\n"
  "             and writes a checkpoint of the model's tensors (no optimizer\n"
  "             or training state) that --load accepts.  Every key must name\n"
  "             a tensor of the model (num_batches_tracked: any integer\n"
  "             scalar, ignored), every tensor must have its key, with the\n"
  "             model's shape and dtype float32; each mismatch is reported\n"
  "             with its key.  CKPT is written atomically.\n"
  "\n"
  "OPTIONS\n"
  "    --model FILE.net   the model the checkpoint belongs to\n"
  "    -D name=value      override a constant of the model (as netc -D)\n"
  "    -o FILE            the file export or import writes\n"
  "    --json             show: one JSON object on stdout\n"
  "    --best             export: the best epoch's parameters (early stopping)\n"
  "\n"
  "EXIT STATUS\n"
  "    0 ok, 1 error (an unreadable or damaged file, a mismatch, a model\n"
  "    error, I/O), 2 usage (also a -D naming no constant of the model).\n"
  "    Errors are printed as \"PATH: reason\"; the model's as netc prints them.\n"
  "\n"
  "EXAMPLES\n"
  "    netc-ckpt show c.ckpt\n"
  "    netc-ckpt verify c.ckpt --model models/classifier.net\n"
  "    netc-ckpt export c.ckpt -o c.npz --model models/classifier.net\n"
  "    netc-ckpt import c.npz -o c2.ckpt --model models/classifier.net\n"
  "    train-classifier --epochs 0 --load c2.ckpt\n";

typedef struct {
  const char *cmd, *file, *out, *model;
  int json, best;
  Define defs[64];
  int ndefs;
} Args;

static int usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "netc-ckpt: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(netc-ckpt --help for usage)\n");
  va_end(ap);
  return 2;
}

static int parse_args(Args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  if (argc < 2)
    return usage("a command is needed: show, verify, export or import");
  a->cmd = argv[1];
  if (strcmp(a->cmd, "show") && strcmp(a->cmd, "verify") && strcmp(a->cmd, "export") &&
      strcmp(a->cmd, "import"))
    return usage("unknown command '%s' (show, verify, export, import)", a->cmd);
  for (int i = 2; i < argc; i++) {
    const char *s = argv[i];
    const char **val = !strcmp(s, "-o") ? &a->out : !strcmp(s, "--model") ? &a->model : NULL;
    if (val || !strcmp(s, "-D")) {
      if (i + 1 >= argc)
        return usage("%s expects a value", s);
      if (val)
        *val = argv[++i];
      else if (a->ndefs == 64)
        return usage("too many -D options");
      else if (!define_parse(argv[++i], &a->defs[a->ndefs++]))
        return 2;
    } else if (!strcmp(s, "--json")) {
      a->json = 1;
    } else if (!strcmp(s, "--best")) {
      a->best = 1;
    } else if (s[0] == '-' && s[1]) {
      return usage("unknown option '%s'", s);
    } else if (a->file) {
      return usage("one file only ('%s' and '%s')", a->file, s);
    } else {
      a->file = s;
    }
  }
  int exp = !strcmp(a->cmd, "export"), imp = !strcmp(a->cmd, "import");
  if (!a->file)
    return usage("%s needs a file", a->cmd);
  if ((exp || imp) && !a->out)
    return usage("%s needs -o FILE", a->cmd);
  if (!exp && !imp && a->out)
    return usage("-o is for export and import");
  if (imp && !a->model)
    return usage("import needs --model FILE.net (the tensors to fill)");
  if (a->json && strcmp(a->cmd, "show"))
    return usage("--json is for show");
  if (a->best && !exp)
    return usage("--best is for export");
  return 0;
}

// ---------------------------------------------------------------- the model

typedef struct {
  Unit *u;
  NetModel *m;
} Loaded;

// Compiles path (diagnostics printed) into a NetModel whose tensors are
// the trainers' (interp_model_new: same names, order and structure hash).
// Returns 0, or netc's status: 1 (a model error), 2 (-D names no constant).
static int model_load(Loaded *md, const Args *a) {
  int status = 0;
  Graph *g = netc_compile_unit(a->model, a->defs, a->ndefs, &md->u, &status);
  if (!g)
    return status ? status : 1;
  md->m = interp_model_new(g);
  return 0;
}

static int is_buffer_name(const char *s) {
  size_t n = strlen(s);
  return (n > 13 && !strcmp(s + n - 13, "_running_mean")) || (n > 12 && !strcmp(s + n - 12, "_running_var"));
}

// ---------------------------------------------------------------- show

typedef enum { K_TRAINABLE, K_FROZEN, K_BUFFER, K_PARAM } Kind;
static const char *KIND_NAME[] = {"parameter", "parameter (frozen)", "buffer", "parameter"};

// Tensor i's kind: from the model when it has the tensor, else inferred.
static Kind tensor_kind(const CkptFile *cf, int i, size_t start, const NetModel *m) {
  const CkptTensor *t = &cf->tensors[i];
  int j = m ? model_find_tensor(m, t->name) : -1;
  if (j >= 0) {
    if (m->tensor_buffer && m->tensor_buffer[j])
      return K_BUFFER;
    return m->tensors[j].frozen ? K_FROZEN : K_TRAINABLE;
  }
  if (is_buffer_name(t->name))
    return K_BUFFER;
  if (!cf->has_optim)
    return K_PARAM;
  return start < cf->optim_n ? K_TRAINABLE : K_FROZEN;
}

static const char *state_names(int kind, int n) {
  switch (kind) {
  case OPTIM_SGD: return "momentum_buffer";
  case OPTIM_ADAM:
  case OPTIM_ADAMW: return n == 3 ? "exp_avg, exp_avg_sq, max_exp_avg_sq" : "exp_avg, exp_avg_sq";
  default:
    return n == 1 ? "square_avg" : n == 3 ? "momentum_buffer, square_avg, grad_avg"
                                          : "square_avg and momentum_buffer or grad_avg";
  }
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void json_num(double v) {
  if (isfinite(v)) printf("%.17g", v);
  else printf("null");
}

static void show_json(const char *path, const CkptFile *cf, const Args *a, const NetModel *m) {
  const CkptTrain *tr = &cf->train;
  printf("{\"file\":");
  json_str(path);
  printf(",\"format_version\":%u,\"bytes\":%" PRIu64 ",\"structure_hash\":\"%016" PRIx64 "\"",
         cf->version, cf->size, cf->structure_hash);
  printf(",\"model\":");
  if (m) {
    printf("{\"name\":");
    json_str(m->name);
    printf(",\"file\":");
    json_str(a->model);
    printf(",\"hash_matches\":%s}", m->structure_hash == cf->structure_hash ? "true" : "false");
  } else {
    printf("null");
  }
  printf(",\"tensors\":[");
  size_t start = 0;
  for (int i = 0; i < cf->n_tensors; i++) {
    const CkptTensor *t = &cf->tensors[i];
    Kind k = tensor_kind(cf, i, start, m);
    printf("%s{\"name\":", i ? "," : "");
    json_str(t->name);
    printf(",\"shape\":[");
    for (int d = 0; d < t->rank; d++) printf("%s%d", d ? "," : "", t->dim[d]);
    printf("],\"kind\":\"%s\",\"trainable\":%s}", k == K_BUFFER ? "buffer" : "parameter",
           k == K_TRAINABLE ? "true" : k == K_PARAM ? "null" : "false");
    start += t->numel;
  }
  printf("],\"floats\":%zu,\"optimizer\":", cf->n_params);
  if (cf->has_optim)
    printf("{\"kind\":\"%s\",\"step\":%" PRId64 ",\"state_arrays\":%d,\"floats_per_array\":%zu}",
           optim_kind_name((OptimKind)cf->optim_kind), cf->optim_step, cf->optim_arrays, cf->optim_n);
  else
    printf("null");
  printf(",\"training\":");
  if (cf->has_train) {
    printf("{\"epoch\":%d,\"seed\":%" PRIu64 ",\"seconds\":", tr->epoch, tr->seed);
    json_num(tr->seconds);
    printf(",\"images\":");
    json_num(tr->images);
    printf("},\"early_stopping\":{\"best_epoch\":%d,\"best_val_loss\":", tr->best_epoch);
    json_num(tr->best_val_loss);
    printf(",\"epochs_since_best\":%d,\"best_parameters\":%s}", tr->since_best,
           tr->has_best ? "true" : "false");
    printf(",\"plateau\":");
    if (tr->has_plateau) {
      printf("{\"lr\":");
      json_num(tr->plateau.lr);
      printf(",\"best\":");
      json_num(tr->plateau.best);
      printf(",\"bad_epochs\":%d,\"cooldown\":%d}", tr->plateau.bad_epochs, tr->plateau.cooldown);
    } else {
      printf("null");
    }
  } else {
    printf("null,\"early_stopping\":null,\"plateau\":null");
  }
  printf(",\"normalize\":");
  if (tr->norm_channels) {
    printf("{\"mean\":[");
    for (int c = 0; c < tr->norm_channels; c++) {
      printf(c ? "," : "");
      json_num(tr->norm_mean[c]);
    }
    printf("],\"std\":[");
    for (int c = 0; c < tr->norm_channels; c++) {
      printf(c ? "," : "");
      json_num(tr->norm_std[c]);
    }
    printf("]}");
  } else {
    printf("null");
  }
  printf("}\n");
}

static void show_text(const char *path, const CkptFile *cf, const Args *a, const NetModel *m) {
  const CkptTrain *tr = &cf->train;
  printf("%s: netc checkpoint, format version %u, %" PRIu64 " bytes, CRC ok\n", path, cf->version,
         cf->size);
  if (m)
    printf("model: %s (%s): structure hash %016" PRIx64 " %s\n", m->name, a->model, cf->structure_hash,
           m->structure_hash == cf->structure_hash ? "matches" : "differs: a checkpoint of another model");
  else
    printf("model: structure hash %016" PRIx64 " (the file does not record the model's name: "
           "--model FILE.net checks it)\n", cf->structure_hash);
  size_t counts[4] = {0}, start = 0;
  size_t w = 4;
  for (int i = 0; i < cf->n_tensors; i++)
    if (strlen(cf->tensors[i].name) > w) w = strlen(cf->tensors[i].name);
  for (int i = 0; i < cf->n_tensors; i++) {
    counts[tensor_kind(cf, i, start, m)] += cf->tensors[i].numel;
    start += cf->tensors[i].numel;
  }
  printf("tensors: %d, %zu floats", cf->n_tensors, cf->n_params);
  if (counts[K_PARAM])      // no optimizer state, no model: trainable or frozen is unknown
    printf(" (%zu in parameters, %zu in buffers)", counts[K_PARAM] + counts[K_TRAINABLE] + counts[K_FROZEN],
           counts[K_BUFFER]);
  else
    printf(" (%zu trainable, %zu frozen, %zu in buffers)", counts[K_TRAINABLE], counts[K_FROZEN],
           counts[K_BUFFER]);
  printf("\n  %-*s  %-16s  %s\n", (int)w, "name", "shape", "kind");
  start = 0;
  for (int i = 0; i < cf->n_tensors; i++) {
    const CkptTensor *t = &cf->tensors[i];
    char s[96];
    printf("  %-*s  %-16s  %s\n", (int)w, t->name, model_shape_text(s, sizeof s, t->rank, t->dim),
           KIND_NAME[tensor_kind(cf, i, start, m)]);
    start += t->numel;
  }
  if (cf->has_optim)
    printf("optimizer: %s, step %" PRId64 ", %d state array%s of %zu floats (%s)\n",
           optim_kind_name((OptimKind)cf->optim_kind), cf->optim_step, cf->optim_arrays,
           cf->optim_arrays == 1 ? "" : "s", cf->optim_n,
           cf->optim_arrays ? state_names(cf->optim_kind, cf->optim_arrays) : "none needed");
  else
    printf("optimizer: no state (parameters only: --load, not --resume)\n");
  // The driver's --normalize, applied to every input after scaling; a
  // file of version 1 or 2 has none.
  if (tr->norm_channels) {
    printf("normalize: (x - mean) / std per channel, mean");
    for (int c = 0; c < tr->norm_channels; c++)
      printf("%s%.9g", c ? "," : " ", tr->norm_mean[c]);
    printf(", std");
    for (int c = 0; c < tr->norm_channels; c++)
      printf("%s%.9g", c ? "," : " ", tr->norm_std[c]);
    printf("\n");
  } else {
    printf("normalize: none\n");
  }
  if (!cf->has_train) {
    printf("training: no state\n");
    return;
  }
  printf("training: %d epoch%s done, seed %" PRIu64 ", %.1f s, %.0f images\n", tr->epoch,
         tr->epoch == 1 ? "" : "s", tr->seed, tr->seconds, tr->images);
  if (tr->best_epoch)
    printf("early stopping: best epoch %d (validation loss %.9g), %d epoch%s since, best parameters %s\n",
           tr->best_epoch, tr->best_val_loss, tr->since_best, tr->since_best == 1 ? "" : "s",
           tr->has_best ? "saved" : "not saved");
  else
    printf("early stopping: no best epoch recorded\n");
  if (tr->has_plateau)
    printf("schedule: plateau, lr %.9g, best %.9g, %d bad epoch%s, cooldown %d\n", tr->plateau.lr,
           tr->plateau.best, tr->plateau.bad_epochs, tr->plateau.bad_epochs == 1 ? "" : "s",
           tr->plateau.cooldown);
  else
    printf("schedule: no plateau state (other schedules follow from the epoch and step above)\n");
}

// ---------------------------------------------------------------- verify

// The checks --load and --resume make against the model.
static int check_against(const char *path, const CkptFile *cf, NetModel *m) {
  if (ckpt_load(path, m, NULL, NULL))
    return -1;
  if (cf->has_optim && cf->optim_n != m->n_trainable) {
    fprintf(stderr, "%s: optimizer state for %zu floats, model %s trains %zu: --resume would refuse it\n",
            path, cf->optim_n, m->name, m->n_trainable);
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------- export

static int cmd_export(const char *path, const CkptFile *cf, const Args *a, const Loaded *md) {
  Vocab v = {0};
  if (md->u)
    vocab_from_unit(&v, md->u);
  char key[KEY_MAX];
  int rc = 0;
  // Keys first: a tensor without a torch name writes nothing.
  for (int i = 0; i < cf->n_tensors; i++)
    if (torch_key(&v, cf->tensors[i].name, key, sizeof key)) {
      fprintf(stderr, "%s: tensor %s is not a layer's weight, bias or running statistic: no PyTorch name\n",
              path, cf->tensors[i].name);
      rc = -1;
    }
  NpzOut o;
  if (rc || npz_open(&o, a->out)) {
    vocab_free(&v);
    return -1;
  }
  if (a->best && !cf->train.has_best) {
    fprintf(stderr, "%s: no best parameters saved (a run with --patience saves them)\n", path);
    vocab_free(&v);
    npz_close(&o, 0);
    return -1;
  }
  int64_t tracked = cf->has_optim ? cf->optim_step : 0;
  size_t start = 0;         // the tensor's offset in the best parameters
  for (int i = 0; i < cf->n_tensors && !rc; i++) {
    const CkptTensor *t = &cf->tensors[i];
    const float *data = a->best ? cf->train.best_params + start : t->data;
    start += t->numel;
    int64_t dim[NET_MAX_RANK];
    for (int d = 0; d < t->rank; d++) dim[d] = t->dim[d];
    torch_key(&v, t->name, key, sizeof key);
    rc = npz_add(&o, key, "<f4", t->rank, dim, data, t->numel * 4);
    size_t n = strlen(key);
    if (!rc && n > 12 && !strcmp(key + n - 12, ".running_var")) {
      strcpy(key + n - 11, "num_batches_tracked");
      rc = npz_add(&o, key, "<i8", 0, NULL, &tracked, 8);
    }
  }
  vocab_free(&v);
  if (npz_close(&o, !rc) || rc)
    return -1;
  printf("%s: %d tensors of %s%s under PyTorch's names\n", a->out, cf->n_tensors, path,
         a->best ? " (best epoch)" : "");
  return 0;
}

// ---------------------------------------------------------------- import

static const char *dtype_name(int type) {
  switch (type) {
  case IDX_U8: return "uint8";
  case IDX_I8: return "int8";
  case IDX_I16: return "int16";
  case IDX_I32: return "int32";
  case DATASET_I64: return "int64";
  case IDX_F32: return "float32";
  case IDX_F64: return "float64";
  }
  return "?";
}

static int cmd_import(const char *path, const Args *a, NetModel *m) {
  NpzArray *arr;
  int n = dataset_npz_read_all(path, &arr);
  if (n < 0)
    return -1;
  char name[KEY_MAX], key[KEY_MAX], s1[96], s2[96];
  int bad = 0;
  int *used = calloc((size_t)m->n_tensors + 1, sizeof *used);
  if (!used) {
    dataset_npz_free(arr, n);
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    const NpzArray *x = &arr[i];
    size_t kl = strlen(x->key);
    if (kl > 20 && !strcmp(x->key + kl - 20, ".num_batches_tracked")) {
      // Batch norm's count: kept by torch for momentum=None only; netc's
      // running statistics use a fixed momentum, so it is checked, not kept.
      snprintf(name, sizeof name, "%.*s.running_var", (int)(kl - 20), x->key);
      int j = netc_name(name, key, sizeof key) ? -1 : model_find_tensor(m, key);
      if (j < 0) {
        fprintf(stderr, "%s: %s: the model %s has no batch norm %.*s\n", path, x->key, m->name,
                (int)(kl - 20), x->key);
        bad = 1;
      } else if (x->ndim != 0 || x->type == IDX_F32 || x->type == IDX_F64) {
        fprintf(stderr, "%s: %s: %s with %d dimension%s, expected an integer scalar (int64, shape ())\n",
                path, x->key, dtype_name(x->type), x->ndim, x->ndim == 1 ? "" : "s");
        bad = 1;
      }
      continue;
    }
    int j = netc_name(x->key, name, sizeof name) ? -1 : model_find_tensor(m, name);
    if (j < 0) {
      fprintf(stderr, "%s: %s: the model %s has no such tensor%s%s%s\n", path, x->key, m->name,
              netc_name(x->key, name, sizeof name) ? " (not a .weight, .bias, .running_mean or .running_var)"
                                                   : " (netc name ",
              netc_name(x->key, name, sizeof name) ? "" : name,
              netc_name(x->key, name, sizeof name) ? "" : ")");
      bad = 1;
      continue;
    }
    const NetTensor *t = &m->tensors[j];
    used[j] = 1;
    int same = x->ndim == t->rank;
    for (int d = 0; same && d < t->rank; d++) same = x->dim[d] == (uint64_t)t->dim[d];
    if (!same) {
      int xd[8];
      for (int d = 0; d < x->ndim; d++) xd[d] = (int)x->dim[d];
      fprintf(stderr, "%s: %s: shape %s, the model's %s is %s\n", path, x->key,
              model_shape_text(s1, sizeof s1, x->ndim, xd), t->name, model_shape_text(s2, sizeof s2, t->rank, t->dim));
      bad = 1;
    } else if (x->type != IDX_F32) {
      fprintf(stderr, "%s: %s: dtype %s, netc's tensors are float32 (save tensor.float().numpy())\n",
              path, x->key, dtype_name(x->type));
      bad = 1;
    } else {
      memcpy(m->params + t->offset, x->data, t->numel * 4);
    }
  }
  for (int j = 0; j < m->n_tensors; j++)
    if (!used[j]) {
      const NetTensor *t = &m->tensors[j];
      fprintf(stderr, "%s: missing %s (netc's %s, shape %s)\n", path,
              torch_key(NULL, t->name, key, sizeof key) ? t->name : key, t->name,
              model_shape_text(s1, sizeof s1, t->rank, t->dim));
      bad = 1;
    }
  free(used);
  dataset_npz_free(arr, n);
  if (bad) {
    fprintf(stderr, "%s: not imported into model %s (%s); %s not written\n", path, m->name, a->model,
            a->out);
    return -1;
  }
  if (ckpt_save(a->out, m, NULL, NULL))
    return -1;
  printf("%s: %d tensors of model %s from %s\n", a->out, m->n_tensors, m->name, path);
  return 0;
}

// ---------------------------------------------------------------- main

int main(int argc, char **argv) {
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(HELP, stdout);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("netc-ckpt %s\n", NETC_VERSION);
    return 0;
  }
  Args a;
  int rc = parse_args(&a, argc, argv);
  if (rc)
    return rc;
  if (!ops_check_table())
    return 1;
  Loaded md = {0};
  if (a.model && (rc = model_load(&md, &a)))
    return rc;
  if (!strcmp(a.cmd, "import"))
    return cmd_import(a.file, &a, md.m) ? 1 : 0;
  CkptFile cf;
  if (ckpt_read(a.file, &cf))
    return 1;
  if (!strcmp(a.cmd, "show")) {
    if (a.json)
      show_json(a.file, &cf, &a, md.m);
    else
      show_text(a.file, &cf, &a, md.m);
  } else if (md.m && check_against(a.file, &cf, md.m)) {
    rc = 1;
  } else if (!strcmp(a.cmd, "verify")) {
    printf("%s: ok (format version %u, %d tensors, %zu floats, CRC ok%s%s)\n", a.file, cf.version,
           cf.n_tensors, cf.n_params, md.m ? "; loads into model " : "", md.m ? md.m->name : "");
  } else {
    rc = cmd_export(a.file, &cf, &a, &md) ? 1 : 0;
  }
  ckpt_file_free(&cf);
  return rc;
}
