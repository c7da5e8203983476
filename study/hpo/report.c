// report.c — the summary table of a study and its best trial.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hpo.h"

int report_best(const HpoTrial *t, int n) {
  int best = -1;
  for (int i = 0; i < n; i++)
    if (t[i].state == HPO_COMPLETE && !isnan(t[i].value) && (best < 0 || t[i].value < t[best].value))
      best = i;
  return best;
}

// One row per trial: number, state, parameters, value, epochs run (the last
// step reported), seconds.
void report_table(FILE *f, const HpoSpace *s, const HpoTrial *t, int n) {
  fprintf(f, "%6s  %-8s", "trial", "state");
  for (int j = 0; j < s->n; j++) fprintf(f, "  %12s", s->p[j].name);
  fprintf(f, "  %12s  %6s  %8s\n", "value", "epochs", "seconds");
  for (int i = 0; i < n; i++) {
    fprintf(f, "%6d  %-8s", t[i].number, trial_state_name(t[i].state));
    for (int j = 0; j < s->n; j++) {
      char v[64];
      space_value_str(&s->p[j], t[i].params[j], v, sizeof v);
      fprintf(f, "  %12s", v);
    }
    int ep = trial_last_step(&t[i]);
    double sec = t[i].finished > 0 ? t[i].finished - t[i].started : NAN;
    if (isnan(t[i].value)) fprintf(f, "  %12s", "-");
    else fprintf(f, "  %12.6g", t[i].value);
    fprintf(f, "  %6d  %8.1f\n", ep < 0 ? 0 : ep, sec);
  }
  int counts[4] = {0};
  for (int i = 0; i < n; i++) counts[t[i].state]++;
  fprintf(f, "%d trials: %d complete, %d pruned, %d failed, %d running\n", n, counts[HPO_COMPLETE],
          counts[HPO_PRUNED], counts[HPO_FAIL], counts[HPO_RUNNING]);
  int b = report_best(t, n);
  if (b < 0) return;
  fprintf(f, "best: trial %d, value %.6g:", t[b].number, t[b].value);
  for (int j = 0; j < s->n; j++) {
    char v[64];
    space_value_str(&s->p[j], t[b].params[j], v, sizeof v);
    fprintf(f, " %s=%s", s->p[j].name, v);
  }
  fprintf(f, "\n");
}
