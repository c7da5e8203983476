// suggest.h — "did you mean": the known option name nearest to a mistyped
// one, for the command lines of the trainers and the study's tools.
// Header-only, so a tool that does not link the runtime (netc-search) can
// use it.  (The compiler keeps its own, for op and net names: it depends on
// no runtime header.)
#ifndef NETRT_SUGGEST_H
#define NETRT_SUGGEST_H

#include <stdio.h>
#include <string.h>

// Levenshtein distance (insertions, deletions, substitutions) of two short
// names; 64 for names longer than 63 characters.
static inline int suggest_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 63 || lb > 63)
    return 64;
  int row[64];
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int up = row[j];
      int sub = diag + (a[i - 1] != b[j - 1]);
      int ins = (up < row[j - 1] ? up : row[j - 1]) + 1;
      row[j] = sub < ins ? sub : ins;
      diag = up;
    }
  }
  return row[lb];
}

// The name of names[0, n) nearest to arg if it is close enough to be a typo
// (at most a third of arg's length, and at least 2, edits away), else NULL.
static inline const char *suggest_nearest(const char *arg, const char *const *names, int n) {
  const char *best = NULL;
  int dist = 1 << 30;
  for (int i = 0; i < n; i++) {
    int d = suggest_distance(arg, names[i]);
    if (d < dist) dist = d, best = names[i];
  }
  int len = (int)strlen(arg), limit = len / 3 > 2 ? len / 3 : 2;
  return dist <= limit ? best : NULL;
}

// Prints "error: unknown option 'arg'", with the nearest of names[0, n)
// when it looks like a typo, to stderr: one wording for every command line.
static inline void suggest_unknown_option(const char *arg, const char *const *names, int n) {
  const char *best = suggest_nearest(arg, names, n);
  if (best)
    fprintf(stderr, "error: unknown option '%s'; did you mean '%s'? (see --help)\n", arg, best);
  else
    fprintf(stderr, "error: unknown option '%s' (see --help)\n", arg);
}

#endif
