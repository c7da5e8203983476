// torch_names.c — netc's tensor names and PyTorch's state_dict keys.
//
// netc names a layer's tensors after its call path joined by '_' plus a
// suffix (compiler/lower.c): encoder_trunk_conv1_w.  The twin torch module
// nests a submodule per level of that path, so its key joins the same
// levels by '.' and ends in torch's attribute name:
//
//   netc                          PyTorch
//   PATH_w                        PATH'.weight
//   PATH_b                        PATH'.bias
//   PATH_running_mean / _var      PATH'.running_mean / .running_var
//   (batch norm, none)            PATH'.num_batches_tracked (int64, export only)
//
// where PATH' is PATH with the '_' between two levels replaced by '.'.  A
// level's own name may hold '_' (a net `mu_head`, a label `enc_a`): those
// come from the model (its net names and labels), and stay.  Without a
// model every '_' of PATH separates levels.  The reverse (import) needs no
// model: '.' becomes '_' and the attribute its suffix.
#include <stdlib.h>
#include <string.h>

#include "ckpt_tool.h"
#include "netc.h"

static const struct {
  const char *netc, *torch;
} SUFFIX[] = {
  {"_running_mean", "running_mean"}, {"_running_var", "running_var"}, {"_w", "weight"}, {"_b", "bias"},
};

static int has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  return n > k && !strcmp(s + n - k, suf);
}

static void vocab_add(Vocab *v, const char *w) {
  if (!w || !strchr(w, '_'))
    return;
  for (int i = 0; i < v->n; i++)
    if (!strcmp(v->words[i], w))
      return;
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 16;
    v->words = realloc(v->words, v->cap * sizeof *v->words);
    if (!v->words)
      abort();
  }
  v->words[v->n++] = w;
}

static void vocab_expr(Vocab *v, const Expr *e) {
  if (!e)
    return;
  vocab_add(v, e->pname);
  if (e->label.kind == TK_IDENT)
    vocab_add(v, e->label.str);
  vocab_expr(v, e->lhs);
  vocab_expr(v, e->rhs);
  for (int i = 0; i < e->nargs; i++)
    vocab_expr(v, e->args[i].val);
}

void vocab_from_unit(Vocab *v, const Unit *u) {
  for (int i = 0; i < u->nnets; i++) {
    const Net *n = &u->nets[i];
    vocab_add(v, n->name.str);
    for (int j = 0; j < n->nlayers; j++) {
      const Layer *l = &n->layers[j];
      vocab_add(v, l->pname);
      if (l->label.kind == TK_IDENT)
        vocab_add(v, l->label.str);
      vocab_expr(v, l->expr);
    }
  }
  if (u->model)
    for (int i = 0; i < u->model->nstmts; i++)
      vocab_expr(v, u->model->stmts[i].expr);
}

void vocab_free(Vocab *v) {
  free(v->words);
  memset(v, 0, sizeof *v);
}

int torch_key(const Vocab *v, const char *name, char *out, size_t size) {
  size_t n = strlen(name);
  int s = -1;
  for (int i = 0; i < (int)(sizeof SUFFIX / sizeof *SUFFIX) && s < 0; i++)
    if (has_suffix(name, SUFFIX[i].netc))
      s = i;
  if (s < 0)
    return -1;
  size_t plen = n - strlen(SUFFIX[s].netc), k = 0;
  if (plen + 1 + strlen(SUFFIX[s].torch) + 1 > size)
    return -1;
  for (size_t p = 0; p < plen;) {
    // The longest level name of the model that starts here and ends at a
    // '_' or the end of the path; else up to the next '_'.
    size_t len = 0;
    for (int i = 0; v && i < v->n; i++) {
      size_t w = strlen(v->words[i]);
      if (w > len && p + w <= plen && !strncmp(name + p, v->words[i], w) &&
          (p + w == plen || name[p + w] == '_'))
        len = w;
    }
    if (!len)
      while (p + len < plen && name[p + len] != '_') len++;
    memcpy(out + k, name + p, len);
    k += len;
    p += len;
    if (p < plen) {      // the '_' between two levels
      out[k++] = '.';
      p++;
    }
  }
  out[k++] = '.';
  strcpy(out + k, SUFFIX[s].torch);
  return 0;
}

int netc_name(const char *key, char *out, size_t size) {
  const char *dot = strrchr(key, '.');
  if (!dot || dot == key)
    return -1;
  int s = -1;
  for (int i = 0; i < (int)(sizeof SUFFIX / sizeof *SUFFIX) && s < 0; i++)
    if (!strcmp(dot + 1, SUFFIX[i].torch))
      s = i;
  size_t plen = (size_t)(dot - key);
  if (s < 0 || plen + strlen(SUFFIX[s].netc) + 1 > size)
    return -1;
  for (size_t i = 0; i < plen; i++)
    out[i] = key[i] == '.' ? '_' : key[i];
  strcpy(out + plen, SUFFIX[s].netc);
  return 0;
}
