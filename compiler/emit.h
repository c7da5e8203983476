// emit.h — the C emitter's entry point (`netc MODEL.net -o DIR`).
#ifndef NETC_EMIT_H
#define NETC_EMIT_H

#include "ir.h"

// Writes the specialised C for the forward graph g into outdir.  Returns
// the process exit status.
int emit_main(Graph *g, const char *outdir);

#endif
