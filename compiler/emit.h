// emit.h — the C emitter's entry point (`netc MODEL.net -o DIR`), see
// emit.c; its passes are in emit_passes.h (fuse.c, plan.c).
#ifndef NETC_EMIT_H
#define NETC_EMIT_H

#include <stdbool.h>

#include "ir.h"

typedef struct {
  int batch;                 // examples per step (-D batch=N), default 256
  int chunk;                 // examples per chunk (unit of threading), default 32
  bool fuse;                 // false: `--no-fuse`, every op on its own
  const char *net;           // `--net NAME` (one net alone), for the header's command; or NULL
} EmitOptions;

EmitOptions emit_options_default(void);

// Writes DIR/MODEL.h and DIR/MODEL.c for the model g (differentiated here
// unless it already holds a backward pass).  Returns the process exit status (0, 1 model/IO error, 2 usage).
int emit_model(Graph *g, const char *outdir, const EmitOptions *opt);

#endif
