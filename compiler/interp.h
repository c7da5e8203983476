// interp.h — the interpreter's entry point (`netc run MODEL.net ...`).
#ifndef NETC_INTERP_H
#define NETC_INTERP_H

#include "ir.h"

// Trains / evaluates the forward graph g op by op; argv holds the trainer
// flags after the model path.  Returns the process exit status.
int interp_main(Graph *g, int argc, char **argv);

#endif
