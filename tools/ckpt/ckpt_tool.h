// ckpt_tool.h — netc-ckpt's parts: the naming rule between netc's tensor
// names and PyTorch's state_dict keys (torch_names.c); the .npz writer is
// npz_write.h.
#ifndef NETC_CKPT_TOOL_H
#define NETC_CKPT_TOOL_H

#include <stddef.h>

// The level names of a model's call paths that hold '_' (net names,
// labels): they are not split at their '_'.
typedef struct {
  const char **words;
  int n, cap;
} Vocab;

typedef struct Unit Unit;
void vocab_from_unit(Vocab *v, const Unit *u);
void vocab_free(Vocab *v);

// netc name -> torch key ("encoder_trunk_conv1_w" -> "encoder.trunk.conv1.weight");
// v may be NULL (every '_' separates levels).  -1: not a layer's weight,
// bias or running statistic, or out too small.
int torch_key(const Vocab *v, const char *name, char *out, size_t size);

// torch key -> netc name (the reverse, needing no model).  -1: not
// PATH.weight / .bias / .running_mean / .running_var.
int netc_name(const char *key, char *out, size_t size);

#endif
