// plot.h — the report's latent figures, drawn on the study's canvas
// (study/plot) into PNG files: a scatter of a 2-D embedding coloured by
// digit, and the per-digit ellipses (centre = mean, semi-axes = std).
#ifndef NETANALYSIS_PLOT_H
#define NETANALYSIS_PLOT_H

#include "ellipse.h"

typedef struct {
  const char *title;
  const char *xlabel, *ylabel;
  const char *note;  // small grey line under the title, or NULL
  int width, height; // pixels; 0: 900 x 760
  int equal_aspect;  // one data unit is as long on both axes
} PlotOptions;

// Scatter of xy (n, 2) coloured by labels 0..9 (others grey), legend on the
// right.  Returns 0, or -1 with "path: reason" on stderr.
int plot_scatter(const char *png, const float *xy, const int *labels, int n,
                 const PlotOptions *o);

// One ellipse per class present in s.  Returns 0 or -1.
int plot_ellipses(const char *png, const ClassSpread s[ELLIPSE_CLASSES],
                  const PlotOptions *o);

#endif
