// curves.h — the learning-curve figure of the report page.
#ifndef REPORT_CURVES_H
#define REPORT_CURVES_H

#include "files.h"

#define CURVES_N 4   // autoencoder, denoiser, classifier, VAE

// A 2 x 2 grid of panels: training and validation loss per epoch of each
// run (c[i] may be NULL or empty: the panel says so).  Returns 0 or -1.
int curves_plot(const char *png, const char *const titles[CURVES_N], const Curve *const c[CURVES_N]);

#endif
