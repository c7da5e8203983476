// trial.c — trials and their intermediate values.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

static const char *state_names[] = {"RUNNING", "COMPLETE", "PRUNED", "FAIL"};

const char *trial_state_name(HpoState s) { return state_names[s]; }

int trial_state_parse(const char *s) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, state_names[i]) == 0) return i;
  return -1;
}

void trial_init(HpoTrial *t, int n_params) {
  memset(t, 0, sizeof *t);
  t->value = NAN;
  for (int i = 0; i < HPO_MAX_PARAMS; i++) t->params[i] = NAN;
  (void)n_params;
}

// Keeps steps sorted; a repeated step overwrites (a re-read log row).
void trial_add_inter(HpoTrial *t, int step, double value) {
  for (int i = 0; i < t->n_inter; i++)
    if (t->steps[i] == step) { t->inter[i] = value; return; }
  if (t->n_inter == t->cap_inter) {
    t->cap_inter = t->cap_inter ? 2 * t->cap_inter : 16;
    t->steps = realloc(t->steps, (size_t)t->cap_inter * sizeof *t->steps);
    t->inter = realloc(t->inter, (size_t)t->cap_inter * sizeof *t->inter);
  }
  int i = t->n_inter++;
  while (i > 0 && t->steps[i - 1] > step) {
    t->steps[i] = t->steps[i - 1];
    t->inter[i] = t->inter[i - 1];
    i--;
  }
  t->steps[i] = step;
  t->inter[i] = value;
}

int trial_last_step(const HpoTrial *t) { return t->n_inter ? t->steps[t->n_inter - 1] : -1; }

void trials_free(HpoTrial *t, int n) {
  for (int i = 0; i < n; i++) {
    free(t[i].steps);
    free(t[i].inter);
  }
  free(t);
}
