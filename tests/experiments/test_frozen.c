// test_frozen AUTOENCODER.ckpt CLASSIFIER.ckpt — the fine-tuning froze the
// encoder: every encoder_* tensor of the trained classifier's checkpoint is
// bit-identical to the autoencoder checkpoint's it started from, while the
// head did train (differs from its initialisation).  Reads both files from
// disk, independently of experiment-finetune's own check.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "ckpt.h"
#include "classifier.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_frozen AUTOENCODER.ckpt CLASSIFIER.ckpt\n");
    return 2;
  }
  NetModel *trained = classifier_new(), *ref = classifier_new(), *init = classifier_new();
  if (ckpt_load(argv[2], trained, NULL, NULL))
    return 1;
  int loaded = ckpt_load_subset(argv[1], ref, "encoder_");
  if (loaded < 1)
    return 1;
  int encoder = 0, differ = 0, head_moved = 0;
  double maxdiff = 0, head_maxdiff = 0;
  model_init_params(init, 1);   // the experiment's default --seed
  for (int t = 0; t < trained->n_tensors; t++) {
    const NetTensor *a = &trained->tensors[t];
    const float *p = trained->params + a->offset;
    if (!strncmp(a->name, "encoder_", 8)) {
      const float *q = ref->params + a->offset;
      encoder++;
      differ += memcmp(p, q, sizeof(float) * a->numel) != 0;
      for (size_t i = 0; i < a->numel; i++)
        maxdiff = fmax(maxdiff, fabs((double)p[i] - q[i]));
      CHECK(a->frozen, "%s is not marked frozen", a->name);
    } else {
      const float *q = init->params + a->offset;
      for (size_t i = 0; i < a->numel; i++)
        head_maxdiff = fmax(head_maxdiff, fabs((double)p[i] - q[i]));
      head_moved += memcmp(p, q, sizeof(float) * a->numel) != 0;
    }
  }
  printf("encoder: %d tensors (%d loaded from %s), %d differ, max |difference| %g\n", encoder,
         loaded, argv[1], differ, maxdiff);
  printf("head: %d of %d tensors moved from their initialisation, max |change| %g\n", head_moved,
         trained->n_tensors - encoder, head_maxdiff);
  CHECK(encoder > 0 && encoder == loaded, "%d encoder tensors, %d loaded", encoder, loaded);
  CHECK(differ == 0, "%d encoder tensors changed in training", differ);
  CHECK(head_moved == trained->n_tensors - encoder, "%d head tensors did not train",
        trained->n_tensors - encoder - head_moved);
  trained->free(trained), ref->free(ref), init->free(init);
  return t_finish("test_frozen");
}
