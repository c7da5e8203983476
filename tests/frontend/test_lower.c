// test_lower.c — the forward Graph that netc_compile() hands to the
// interpreter and the emitter: parameter names, order (trainable first),
// frozen flags, PyTorch fan_in, constants as unbatched [] nodes, weight
// sharing, topological order, the source hash, -D and `batch`; and the op
// table's verifier (ops_verify) accepts every model's graph.
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "netc.h"
#include "ops.h"

static const char *dir;      // the repository root

static Graph *compile(const char *rel, const Define *defs, int ndefs) {
  char *path = xcalloc(strlen(dir) + strlen(rel) + 2, 1);
  sprintf(path, "%s/%s", dir, rel);
  int status = -1;
  Graph *g = netc_compile(path, defs, ndefs, &status);
  CHECK(g && status == 0);
  if (!g) {
    fprintf(stderr, "cannot compile %s\n", path);
    exit(1);
  }
  return g;
}

static const Param *param(const Graph *g, const char *name) {
  const Param *found = NULL;
  for (int i = 0; i < g->nparams && !found; i++)
    if (!strcmp(g->params[i].name, name))
      found = &g->params[i];
  CHECK(found, "no parameter %s", name);
  static Param none;
  return found ? found : &none;
}

static void check_structure(const Graph *g) {
  CHECK(g->nforward == g->nnodes);
  for (int i = 0; i < g->nnodes; i++)
    for (int j = 0; j < g->nodes[i].nin; j++)
      CHECK(g->nodes[i].in[j] < i);         // topological
  CHECK(g->loss >= 0 && g->nodes[g->loss].shape.rank == 0 && g->nodes[g->loss].batched);
  CHECK(ops_verify(g));
  // Trainable parameters first, frozen after; each read by its PARAM node.
  bool seen_frozen = false;
  for (int i = 0; i < g->nparams; i++) {
    const Param *p = &g->params[i];
    CHECK(!(seen_frozen && !p->frozen));
    seen_frozen = seen_frozen || p->frozen;
    CHECK(g->nodes[p->node].op == OP_PARAM && g->nodes[p->node].param == i && p->grad == -1);
  }
}

static int64_t total(const Graph *g, bool frozen_only) {
  int64_t n = 0;
  for (int i = 0; i < g->nparams; i++)
    if (!frozen_only || g->params[i].frozen)
      n += shape_numel(g->params[i].shape);
  return n;
}

static uint64_t fnv(uint64_t h, const char *path) {
  FILE *f = fopen(path, "rb");
  int c;
  while (f && (c = fgetc(f)) != EOF) {
    h ^= (unsigned char)c;
    h *= 0x100000001b3ULL;
  }
  if (f)
    fclose(f);
  return h;
}

static void test_autoencoder(void) {
  Graph *g = compile("models/autoencoder.net", NULL, 0);
  check_structure(g);
  CHECK(!strcmp(g->model, "autoencoder") && g->batch == 256);
  CHECK(g->nparams == 20 && total(g, false) == 50186 && total(g, true) == 0);
  CHECK(!strcmp(g->params[0].name, "encoder_trunk_conv1_w"));
  const Param *p = param(g, "encoder_trunk_conv1_w");
  CHECK(p->shape.rank == 4 && p->shape.dim[0] == 8 && p->shape.dim[1] == 1 && p->fan_in == 9);
  CHECK(param(g, "encoder_trunk_conv2_b")->fan_in == 8 * 9);
  CHECK(param(g, "encoder_trunk_dense1_w")->fan_in == 288);
  CHECK(param(g, "encoder_dense1_w")->shape.dim[0] == 9);
  p = param(g, "decoder_deconv1_w");        // ConvTranspose2d: [in, out, k, k], fan_in = out*k*k
  CHECK(p->shape.dim[0] == 32 && p->shape.dim[1] == 16 && p->fan_in == 16 * 9);
  CHECK(param(g, "decoder_deconv3_b")->fan_in == 1 * 9);
  CHECK(g->input >= 0 && g->nodes[g->input].op == OP_INPUT && g->label == -1);
  CHECK(g->nexports == 2 && !strcmp(g->exports[0].name, "code") && !strcmp(g->exports[1].name, "y"));
  CHECK(g->nodes[g->exports[0].node].shape.dim[0] == 9);
  CHECK(g->nodes[g->loss].op == OP_MSE);
  char path[1024];
  snprintf(path, sizeof path, "%s/models/autoencoder.net", dir);
  CHECK(g->source_hash == fnv(0xcbf29ce484222325ULL, path));
}

static void test_classifier(void) {
  Graph *g = compile("models/classifier.net", NULL, 0);
  check_structure(g);
  CHECK(total(g, false) == 26259 && total(g, true) == 24969);
  CHECK(!strcmp(g->params[0].name, "head_dense1_w") && !g->params[0].frozen);
  CHECK(param(g, "encoder_trunk_conv1_w")->frozen && !param(g, "head_dense2_b")->frozen);
  CHECK(g->label >= 0 && g->nodes[g->label].op == OP_LABEL && g->nodes[g->label].shape.rank == 0);
  CHECK(g->nodes[g->loss].op == OP_NLL && g->nodes[g->loss].in[1] == g->label);
  // The hash covers the imports: classifier.net, then autoencoder.net.
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s/models/classifier.net", dir);
  snprintf(b, sizeof b, "%s/models/autoencoder.net", dir);
  CHECK(g->source_hash == fnv(fnv(0xcbf29ce484222325ULL, a), b));
}

static void test_vae(void) {
  Graph *g = compile("models/vae.net", NULL, 0);
  check_structure(g);
  CHECK(total(g, false) == 50771);
  int consts = 0, normals = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = &g->nodes[i];
    if (n->op == OP_CONST) {
      consts++;
      CHECK(!n->batched && n->shape.rank == 0);
    }
    if (n->op == OP_NORMAL) {
      normals++;
      CHECK(n->batched && n->shape.rank == 1 && n->shape.dim[0] == 9);
    }
  }
  // 0.5 (in exp), lambda * 0.5 folded into one, and 1.
  CHECK(consts == 3 && normals == 1);
  CHECK(g->nodes[g->loss].op == OP_ADD);
}

static void test_defines(void) {
  Define d[2];
  CHECK(define_parse("latent=4", &d[0]) && define_parse("batch=64", &d[1]));
  Graph *g = compile("models/vae.net", d, 2);
  check_structure(g);
  CHECK(g->batch == 64);
  CHECK(param(g, "mu_head_dense1_w")->shape.dim[0] == 4);
  CHECK(param(g, "decoder_dense1_w")->shape.dim[1] == 4);
  Define bad;
  CHECK(!define_parse("latent=abc", &bad) && !define_parse("latent", &bad) && !define_parse("9x=1", &bad));
}

static void test_sharing(void) {
  Graph *g = compile("tests/frontend/good/shared.net", NULL, 0);
  check_structure(g);
  // encoder applied twice under one label: its 10 tensors once; proj
  // applied twice: two instances of mix_w/b, dense2_w/b.
  CHECK(g->nparams == 18 && total(g, false) == 24969 + 4 * (9 * 9 + 9));
  CHECK(param(g, "proj1_mix_w")->shape.dim[1] == 9 && param(g, "proj1_dense2_b")->shape.dim[0] == 9);
  CHECK(param(g, "proj2_mix_w")->node != param(g, "proj1_mix_w")->node);
  CHECK(!strcmp(g->params[0].name, "enc_trunk_conv1_w") && !strcmp(g->params[10].name, "proj1_mix_w"));
  int convs = 0, w = param(g, "enc_trunk_conv1_w")->node;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_CONV2D && g->nodes[i].in[1] == w)
      convs++;
  CHECK(convs == 2);
  // Left-associative: (mean(c*c) * scale) * 0.25 keeps both constants;
  // sum(-a) / four has the third (four = 2 * 2, a model constant).
  float want[] = {2, 0.25f, 4};
  int consts = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_CONST) {
      CHECK(consts < 3 && g->nodes[i].attr.scalar == want[consts]);
      consts++;
    }
  CHECK(consts == 3);
  int noise = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == OP_NOISE) {
      noise++;
      CHECK(g->nodes[i].attr.mean == 0 && g->nodes[i].attr.mean_std == 1 && g->nodes[i].attr.std == 0.5f &&
            g->nodes[i].attr.std_std == 0.5f);
    }
  CHECK(noise == 1);
}

// Nets as graphs: layers in expression form are named by kind in source
// order, a net applied twice unlabelled gets two instances, one label on
// two applications ties them, a residual add reads an earlier value.
static void test_graph(void) {
  Graph *g = compile("tests/interp/graph_small.net", NULL, 0);
  check_structure(g);
  const char *names[] = {"graphnet_conv1_w", "graphnet_conv1_b", "graphnet_block1_conv1_w", "graphnet_block1_conv1_b",
                         "graphnet_block1_conv2_w", "graphnet_block1_conv2_b", "graphnet_block2_conv1_w",
                         "graphnet_block2_conv1_b", "graphnet_block2_conv2_w", "graphnet_block2_conv2_b",
                         "graphnet_merge_gate_w", "graphnet_merge_gate_b", "graphnet_p_dense1_w", "graphnet_p_dense1_b"};
  CHECK(g->nparams == 14);
  for (int i = 0; i < g->nparams && i < 14; i++)
    CHECK(!strcmp(g->params[i].name, names[i]), "param %d is %s, want %s", i, g->params[i].name, names[i]);
  int dense = 0, w = param(g, "graphnet_p_dense1_w")->node, adds = 0;
  for (int i = 0; i < g->nnodes; i++) {
    dense += g->nodes[i].op == OP_DENSE && g->nodes[i].in[1] == w;
    adds += g->nodes[i].op == OP_ADD;
  }
  CHECK(dense == 2 && adds == 3);
  // The checker's count (summary's net total) counts the tied instance once.
  Unit *u;
  int status;
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/interp/graph_small.net", dir);
  CHECK(netc_compile_unit(path, NULL, 0, &u, &status) && unit_net(u, "graphnet")->nparams == total(g, false));
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : ".";
  test_autoencoder();
  test_classifier();
  test_vae();
  test_defines();
  test_sharing();
  test_graph();
  return t_finish("test_lower");
}
