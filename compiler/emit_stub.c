// emit_stub.c — placeholder until the C emitter lands (delete then).
#include <stdio.h>

#include "emit.h"

int emit_main(Graph *g, const char *outdir) {
  (void)g, (void)outdir;
  fprintf(stderr, "netc: error: code generation (netc MODEL -o DIR) is not implemented yet\n");
  return 2;
}
