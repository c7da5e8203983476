// ellipse.h — per-digit spread of a 2-D embedding (the report's Figures 11
// and 14) and the statistic of its Table 1.
#ifndef NETANALYSIS_ELLIPSE_H
#define NETANALYSIS_ELLIPSE_H

enum { ELLIPSE_CLASSES = 10 };

typedef struct {
  int count;
  double mean[2]; // centre of the ellipse
  double std[2];  // semi-axes: standard deviation (ddof 0, as numpy's std)
                  // along each embedding axis
} ClassSpread;

// Spread of every label 0..9 in y (n, 2); labels outside are ignored.
void ellipse_stats(const float *y, const int *labels, int n,
                   ClassSpread s[ELLIPSE_CLASSES]);

// Table 1: the mean over labels present of |std[0] - std[1]|.
double ellipse_table1(const ClassSpread s[ELLIPSE_CLASSES]);

#endif
