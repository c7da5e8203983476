// test_api.c — the inference API of generated headers (emit_api.c,
// genmodel.h), as a program that embeds a model calls it: batches of 1,
// of the compiled maximum + 1 and of 10,000 through classifier_predict,
// classifier_classify and autoencoder_predict agree with the interpreter's
// forward on the same parameters; the decoder run alone on the
// autoencoder's parameters (autoencoder_decoder) reproduces the whole
// model's y; a checkpoint opens; the error paths (a missing file, another
// model's checkpoint, a damaged one, the wrong model, bad arguments) return
// their codes and messages and leave the model as it was.  A model of 1000
// classes (tests/data/many_classes.net) classifies into indices above 255.
#include "autoencoder.h"
#include "autoencoder_decoder.h"
#include "classifier.h"
#include "many_classes.h"
#include "ckpt.h"
#include "interp.h"
#include "mnist.h"
#include "netc.h"
#include "rng.h"
#include "../check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG 10000

// max |a - b| / max(max |b|, 1e-6)
static double rel_diff(const float *a, const float *b, size_t n) {
  double md = 0, mx = 1e-6;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, fabs((double)a[i] - b[i]));
    mx = fmax(mx, fabs(b[i]));
  }
  return md / mx;
}

static NetModel *interp_of(const char *path, const NetModel *gen) {
  int status;
  Graph *g = netc_compile(path, NULL, 0, &status);
  if (!g)
    return NULL;
  NetModel *ref = interp_model_new(g);
  CHECK(ref->n_params == gen->n_params);
  memcpy(ref->params, gen->params, sizeof(float) * gen->n_params);
  ref->set_threads(ref, 2);
  return ref;
}

// The classifier: predict and classify on n examples against the
// interpreter's logp.
static void check_classifier(NetModel *m, NetModel *ref, const float *x, int n) {
  size_t K = CLASSIFIER_LOGP_SIZE;
  float *lp = malloc(sizeof(float) * n * K), *lr = malloc(sizeof(float) * n * K);
  int *cls = malloc(sizeof(int) * n);
  NetError err;
  CHECK(classifier_predict(m, x, n, lp, &err) == NET_OK && err.code == NET_OK && !err.message[0]);
  CHECK(classifier_classify(m, x, n, cls, &err) == NET_OK);
  ref->forward(ref, x, NULL, n, 0, &lr);
  double d = rel_diff(lp, lr, (size_t)n * K);
  int agree = 0;
  for (int i = 0; i < n; i++) {
    int best = 0;
    for (size_t k = 1; k < K; k++)
      if (lp[i * K + k] > lp[i * K + best])
        best = (int)k;
    agree += cls[i] == best;
  }
  printf("classifier, %5d examples: logp vs interpreter %.3g; classify = argmax of predict for %d\n", n, d,
         agree);
  CHECK(d <= 1e-5 && agree == n, "n = %d", n);
  free(lp);
  free(lr);
  free(cls);
}

static void check_autoencoder(NetModel *m, NetModel *ref, const float *x, int n) {
  float *code = malloc(sizeof(float) * n * AUTOENCODER_CODE_SIZE), *y = malloc(sizeof(float) * n * AUTOENCODER_Y_SIZE);
  float *rc = malloc(sizeof(float) * n * AUTOENCODER_CODE_SIZE), *ry = malloc(sizeof(float) * n * AUTOENCODER_Y_SIZE);
  float *dy = malloc(sizeof(float) * n * AUTOENCODER_Y_SIZE);
  float *outs[2] = {rc, ry};
  NetError err;
  CHECK(autoencoder_predict(m, x, n, code, y, &err) == NET_OK);
  ref->forward(ref, x, NULL, n, 0, outs);
  double dc = rel_diff(code, rc, (size_t)n * AUTOENCODER_CODE_SIZE);
  double dyr = rel_diff(y, ry, (size_t)n * AUTOENCODER_Y_SIZE);
  // The decoder alone on the model's codes: the model's y (same kernels).
  CHECK(autoencoder_decoder(m, code, n, dy, &err) == NET_OK, "%s", err.message);
  double dd = rel_diff(dy, y, (size_t)n * AUTOENCODER_Y_SIZE);
  printf("autoencoder, %5d examples: code %.3g, y %.3g vs interpreter; decoder alone vs y %.3g\n", n, dc, dyr,
         dd);
  CHECK(dc <= 1e-5 && dyr <= 1e-5 && dd <= 1e-6, "n = %d", n);
  // Exports not wanted: NULL.
  CHECK(autoencoder_predict(m, x, n, NULL, y, &err) == NET_OK);
  free(code);
  free(y);
  free(rc);
  free(ry);
  free(dy);
}

// 1000 classes: many_classes_classify's indices are the argmax of
// many_classes_predict's logits, over the whole range (most above 255).
static void check_many_classes(void) {
  enum { N = 300 };
  NetError err;
  NetModel *m = many_classes_open(NULL, &err);
  CHECK(m && err.code == NET_OK, "%s", err.message);
  if (!m)
    return;
  model_init_params(m, 5);
  float *x = malloc(sizeof(float) * N * MANY_CLASSES_INPUT_SIZE);
  float *logits = malloc(sizeof(float) * N * MANY_CLASSES_LOGITS_SIZE);
  int cls[N], agree = 0, above = 0;
  Rng r = rng_stream(6, 0);
  for (int i = 0; i < N * MANY_CLASSES_INPUT_SIZE; i++)
    x[i] = 2 * rng_uniformf(&r) - 1;
  CHECK(many_classes_predict(m, x, N, logits, &err) == NET_OK, "%s", err.message);
  CHECK(many_classes_classify(m, x, N, cls, &err) == NET_OK, "%s", err.message);
  for (int i = 0; i < N; i++) {
    const float *l = logits + (size_t)i * MANY_CLASSES_LOGITS_SIZE;
    int best = 0;
    for (int k = 1; k < MANY_CLASSES_LOGITS_SIZE; k++)
      if (l[k] > l[best])
        best = k;
    agree += cls[i] == best;
    above += cls[i] > 255;
  }
  printf("many_classes, %d examples: classify = argmax of predict for %d, %d classes above 255\n", N, agree, above);
  CHECK(agree == N && above > 0);
  free(x);
  free(logits);
  many_classes_free(m);
}

static void check_errors(NetModel *cls, NetModel *ae, const char *dir) {
  NetError err;
  char path[4096];
  // A missing file: I/O, naming it.
  CHECK(!classifier_open("/nonexistent/c.ckpt", &err) && err.code == NET_ERR_IO &&
        strstr(err.message, "/nonexistent/c.ckpt"), "%s", err.message);
  // Another model's checkpoint: refused, the model keeps its parameters.
  snprintf(path, sizeof path, "%s/ae.ckpt", dir);
  CHECK(ckpt_save(path, ae, NULL, NULL) == 0);
  float *keep = malloc(sizeof(float) * cls->n_params);
  memcpy(keep, cls->params, sizeof(float) * cls->n_params);
  CHECK(classifier_load(cls, path, &err) == NET_ERR_CHECKPOINT && strstr(err.message, "classifier"), "%s",
        err.message);
  CHECK(!memcmp(keep, cls->params, sizeof(float) * cls->n_params));
  CHECK(!classifier_open(path, &err) && err.code == NET_ERR_CHECKPOINT);
  // A damaged file (the first 100 bytes of the checkpoint).
  snprintf(path, sizeof path, "%s/short.ckpt", dir);
  FILE *f = fopen(path, "wb");
  fwrite("NETCKPT", 1, 8, f);
  fclose(f);
  CHECK(classifier_load(cls, path, &err) == NET_ERR_CHECKPOINT);
  CHECK(!memcmp(keep, cls->params, sizeof(float) * cls->n_params));
  // The decoder alone takes its tensors out of the autoencoder's checkpoint.
  snprintf(path, sizeof path, "%s/ae.ckpt", dir);
  NetModel *dec = autoencoder_decoder_open(path, &err);
  CHECK(dec && err.code == NET_OK, "%s", err.message);
  autoencoder_decoder_free(dec);
  // The wrong model, bad arguments; a NULL err is allowed.
  float x[784] = {0}, out[784];
  int c;
  CHECK(classifier_predict(ae, x, 1, out, &err) == NET_ERR_ARGUMENT && strstr(err.message, "autoencoder"),
        "%s", err.message);
  CHECK(classifier_predict(NULL, x, 1, out, NULL) == NET_ERR_ARGUMENT);
  CHECK(classifier_predict(cls, x, -1, out, &err) == NET_ERR_ARGUMENT);
  CHECK(classifier_predict(cls, NULL, 1, out, &err) == NET_ERR_ARGUMENT);
  CHECK(classifier_predict(cls, x, 0, out, &err) == NET_OK);
  CHECK(classifier_classify(cls, x, 1, NULL, &err) == NET_ERR_ARGUMENT);
  CHECK(classifier_classify(cls, x, 1, &c, &err) == NET_OK && c >= 0 && c < 10);
  CHECK(autoencoder_decoder(cls, x, 1, out, &err) == NET_ERR_ARGUMENT && strstr(err.message, "decoder_"),
        "%s", err.message);
  CHECK(classifier_load(cls, NULL, &err) == NET_ERR_ARGUMENT);
  free(keep);
}

int main(void) {
  Mnist d;
  if (mnist_load(&d, NETC_SOURCE_DIR "/runtime/mnist"))
    return 1;
  float *x = malloc(sizeof(float) * BIG * MNIST_PIXELS);
  mnist_batch(&d.train, NULL, 0, BIG, x, NULL);

  // Parameters: PyTorch's initialisation, then a checkpoint round trip
  // through MODEL_open.
  char dir[] = "/tmp/netc-embed-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[4096];
  NetError err;
  NetModel *cls0 = classifier_new(), *ae = autoencoder_open(NULL, &err);
  CHECK(ae && err.code == NET_OK);
  model_init_params(cls0, 3);
  model_init_params(ae, 4);
  snprintf(path, sizeof path, "%s/c.ckpt", dir);
  CHECK(ckpt_save(path, cls0, NULL, NULL) == 0);
  NetModel *cls = classifier_open(path, &err);
  CHECK(cls && err.code == NET_OK, "%s", err.message);
  if (!cls || !ae)
    return t_finish("test_embed_api");
  CHECK(!memcmp(cls->params, cls0->params, sizeof(float) * cls->n_params));
  cls->set_threads(cls, 2);
  ae->set_threads(ae, 2);

  NetModel *rc = interp_of(NETC_SOURCE_DIR "/models/classifier.net", cls);
  NetModel *ra = interp_of(NETC_SOURCE_DIR "/models/autoencoder.net", ae);
  CHECK(rc && ra);
  if (!rc || !ra)
    return t_finish("test_embed_api");
  // The exports' per-example shapes, generated and interpreted.
  for (int k = 0; k < 2; k++) {
    const NetModel *mm = k ? ra : ae;
    int jc = model_find_output(mm, "code"), jy = model_find_output(mm, "y");
    CHECK(jc >= 0 && jy >= 0);
    if (jc < 0 || jy < 0)
      continue;
    const NetOutput *c = &mm->outputs[jc], *y = &mm->outputs[jy];
    CHECK(c->rank == 1 && c->dim[0] == 9 && c->size == 9, "%s code", k ? "interpreter" : "generated");
    CHECK(y->rank == 3 && y->dim[0] == 1 && y->dim[1] == 28 && y->dim[2] == 28 && y->size == 784);
  }
  int sizes[] = {1, CLASSIFIER_MAX_BATCH + 1, BIG};
  for (int i = 0; i < 3; i++) {
    check_classifier(cls, rc, x, sizes[i]);
    check_autoencoder(ae, ra, x, sizes[i]);
  }
  check_errors(cls, ae, dir);
  check_many_classes();

  classifier_free(cls);
  classifier_free(cls0);
  autoencoder_free(ae);
  autoencoder_free(NULL);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  CHECK(system(path) == 0);
  return t_finish("test_embed_api");
}
