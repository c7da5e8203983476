// interp_stub.c — placeholder until the interpreter lands (delete then).
#include <stdio.h>

#include "interp.h"

int interp_main(Graph *g, int argc, char **argv) {
  (void)g, (void)argc, (void)argv;
  fprintf(stderr, "netc: error: 'netc run' is not implemented yet\n");
  return 2;
}
