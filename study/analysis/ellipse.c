// ellipse.c — two passes (mean, then squared deviations) for accuracy.
#include "ellipse.h"

#include <math.h>
#include <string.h>

void ellipse_stats(const float *y, const int *labels, int n,
                   ClassSpread s[ELLIPSE_CLASSES]) {
  memset(s, 0, ELLIPSE_CLASSES * sizeof *s);
  for (int i = 0; i < n; i++) {
    int c = labels[i];
    if (c < 0 || c >= ELLIPSE_CLASSES)
      continue;
    s[c].count++;
    s[c].mean[0] += y[2 * i];
    s[c].mean[1] += y[2 * i + 1];
  }
  for (int c = 0; c < ELLIPSE_CLASSES; c++)
    if (s[c].count)
      s[c].mean[0] /= s[c].count, s[c].mean[1] /= s[c].count;
  for (int i = 0; i < n; i++) {
    int c = labels[i];
    if (c < 0 || c >= ELLIPSE_CLASSES)
      continue;
    for (int a = 0; a < 2; a++) {
      double t = y[2 * i + a] - s[c].mean[a];
      s[c].std[a] += t * t;
    }
  }
  for (int c = 0; c < ELLIPSE_CLASSES; c++)
    for (int a = 0; a < 2; a++)
      s[c].std[a] = s[c].count ? sqrt(s[c].std[a] / s[c].count) : 0;
}

double ellipse_table1(const ClassSpread s[ELLIPSE_CLASSES]) {
  double sum = 0;
  int m = 0;
  for (int c = 0; c < ELLIPSE_CLASSES; c++)
    if (s[c].count)
      sum += fabs(s[c].std[0] - s[c].std[1]), m++;
  return m ? sum / m : 0;
}
