// fake_trainer.c — a stand-in for a netc trainer in the search tests: it
// speaks the driver's command line (runtime/driver.h), writes one CSV row
// per "epoch" and prints the --json line, but its validation loss is a
// known function of the hyperparameters, so the search machinery (flags,
// log following, pruning, storage) is tested without training anything.
//
//   loss(epoch) = f(params) + 0.5 / epoch
//   f = 0.05 + 0.1 (log10 lr + 2.5)^2 + 0.03 (log10 wd + 4.5)^2
//       + 0.15 [optimizer = sgd] + 0.004 (latent - 10)^2
// --latent K comes from the trainer template ({latent}); --sleep-ms N
// paces the epochs; --tag X marks the process for pgrep; --fail makes it exit 1 after the first epoch.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_objective.h"

int main(int argc, char **argv) {
  double lr = 1e-3, wd = 0, momentum = 0;
  int epochs = 10, latent = 10, sleep_ms = 0, sgd = 0, json = 0, fail = 0;
  const char *log = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--quiet")) {}
    else if (!strcmp(a, "--fail")) fail = 1;
    else if (!strcmp(a, "--lr")) lr = atof(v), i++;
    else if (!strcmp(a, "--weight-decay")) wd = atof(v), i++;
    else if (!strcmp(a, "--momentum")) momentum = atof(v), i++;
    else if (!strcmp(a, "--optimizer")) sgd = !strcmp(v, "sgd"), i++;
    else if (!strcmp(a, "--epochs")) epochs = atoi(v), i++;
    else if (!strcmp(a, "--latent")) latent = atoi(v), i++;
    else if (!strcmp(a, "--sleep-ms")) sleep_ms = atoi(v), i++;
    else if (!strcmp(a, "--log")) log = v, i++;
    else if (!strcmp(a, "--tag") || !strcmp(a, "--data") || !strcmp(a, "--seed") || !strcmp(a, "--threads")) i++;
    else { fprintf(stderr, "fake_trainer: unknown option %s\n", a); return 2; }
  }
  if (sgd && momentum != 0.9) { fprintf(stderr, "fake_trainer: sgd without --momentum 0.9\n"); return 2; }
  FILE *f = log ? fopen(log, "w") : NULL;
  if (log && !f) { perror(log); return 1; }
  if (f) fprintf(f, "epoch,train_loss,val_loss,seconds\n"), fflush(f);
  double best = INFINITY;
  for (int e = 1; e <= epochs; e++) {
    struct timespec ts = {sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    double v = fake_objective(lr, wd, sgd, latent) + 0.5 / e;
    best = fmin(best, v);
    if (f) fprintf(f, "%d,%.17g,%.17g,0\n", e, v * 1.1, v), fflush(f);
    if (fail) return 1;
  }
  if (f) fclose(f);
  if (json) printf("{\"epochs\": %d, \"val_loss\": %.17g, \"test_loss\": null}\n", epochs, best);
  return 0;
}
