// main.c — the netc command line (being built up: see compiler/README.md).
#include <stdio.h>
#include <string.h>

#include "netc.h"
#include "emit.h"
#include "interp.h"

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--version")) {
    printf("netc %s\n", NETC_VERSION);
    return 0;
  }
  fprintf(stderr, "netc: not implemented yet\n");
  return 2;
}
