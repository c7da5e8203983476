// test_torch_gen.c — the PyTorch parity test of the interpreter
// (tests/interp/test_torch.c, fixtures from make_fixtures.py) run against
// the generated code instead: same fixtures, same weights, same
// tolerances.  Only for models without random draws (autoencoder,
// classifier, conv_opts): the fixtures supply torch's samples through an interpreter
// hook that generated code does not have.
//
// Built with GEN_NEW = the generated constructor (autoencoder_new).
#include "interp.h"   // first: its declarations stay untouched by the macros below
#include "model.h"

NetModel *GEN_NEW(void);

static Interp unused_interp;   // receives the draws hook, which nothing reads

#define interp_model_new(g) ((void)(g), GEN_NEW())
#define interp_model_interp(m) ((void)(m), &unused_interp)
#include "../interp/test_torch.c"
