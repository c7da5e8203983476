// tsne-bench: our t-SNE on a code file, timed, with its quality; or, with
// --eval, the quality of an embedding made elsewhere (scikit-learn) under
// the same P and the same metrics.  Used by bench_tsne.sh.
//
//   tsne-bench --codes FILE [--threads 2] [--seed 0] [--iters 1000]
//              [--out EMBEDDING] [--eval EMBEDDING] [--verbose]
// Prints one line "key=value ..." (seconds: wall time of the t-SNE without
// the final exact KL; cpu: its process CPU time, KL included; kl, trust5,
// knn10).
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codes.h"
#include "quality.h"
#include "tsne.h"

static int usage(void) {
  fprintf(stderr, "usage: tsne-bench --codes FILE [--threads N] [--seed S] "
                  "[--iters N] [--out FILE] [--eval FILE] [--verbose]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *codes = NULL, *out = NULL, *eval = NULL;
  TsneOptions o;
  tsne_defaults(&o);
  o.threads = 2;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--codes") && a + 1 < argc) codes = argv[++a];
    else if (!strcmp(argv[a], "--out") && a + 1 < argc) out = argv[++a];
    else if (!strcmp(argv[a], "--eval") && a + 1 < argc) eval = argv[++a];
    else if (!strcmp(argv[a], "--threads") && a + 1 < argc) o.threads = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--seed") && a + 1 < argc) o.seed = strtoull(argv[++a], NULL, 10);
    else if (!strcmp(argv[a], "--iters") && a + 1 < argc) o.iters = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--verbose")) o.verbose = 1;
    else return usage();
  }
  if (!codes)
    return usage();
  Codes c, e;
  if (codes_load(codes, &c) != 0)
    return 1;
  if (codes_alloc(&e, c.n, 2) != 0)
    return 1;
  double seconds = 0, cpu = 0, kl;
  if (eval) {
    codes_free(&e);
    if (codes_load(eval, &e) != 0)
      return 1;
    if (e.n != c.n || e.d != 2) {
      fprintf(stderr, "%s: expected %d x 2, got %d x %d\n", eval, c.n, e.n, e.d);
      return 1;
    }
    TsneP P;
    if (tsne_affinities(c.x, c.n, c.d, o.perplexity, o.seed, o.threads, &P) != 0)
      return 1;
    kl = tsne_kl(&P, e.x, o.threads);
    tsne_p_free(&P);
  } else {
    TsneStats st;
    double t0 = omp_get_wtime();
    clock_t c0 = clock();
    if (tsne_run(c.x, c.n, c.d, &o, e.x, &st) != 0)
      return 1;
    seconds = omp_get_wtime() - t0 - st.seconds_kl;
    // Process CPU time of all threads, the exact KL at the end included.
    cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    kl = st.kl;
    fprintf(stderr, "tsne-bench: P %.2f s, descent %.2f s, exact KL %.2f s, "
                    "learning rate %.1f\n",
            st.seconds_p, st.seconds_opt, st.seconds_kl, st.learning_rate);
    memcpy(e.label, c.label, (size_t)c.n * sizeof(int));
    if (out && codes_save(out, &e) != 0)
      return 1;
  }
  double t5 = quality_trustworthiness(c.x, c.d, e.x, 2, c.n, 5, o.threads);
  double acc = quality_knn_accuracy(e.x, 2, c.label, c.n, 10, o.threads);
  printf("n=%d d=%d threads=%d seconds=%.3f cpu=%.3f kl=%.4f trust5=%.4f "
         "knn10=%.4f\n", c.n, c.d, o.threads, seconds, cpu, kl, t5, acc);
  codes_free(&c), codes_free(&e);
  return 0;
}
