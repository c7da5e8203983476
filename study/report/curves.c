// curves.c — the learning curves of the four trainings, one panel each:
// training and validation loss per epoch (log scale: the losses fall by
// orders of magnitude in the first epochs), drawn on the study's canvas
// (study/plot) into a PNG.
#include "curves.h"

#include <math.h>
#include <stdio.h>

#include "canvas.h"

enum { PANEL_W = 560, PANEL_H = 360, COLS = 2 };
static const double ML = 78, MR = 20, MT = 40, MB = 52;   // plot area margins in a panel

static void panel(Canvas *cv, double ox, double oy, const char *title, const Curve *c) {
  cairo_set_source_rgb(cv->cr, 0.15, 0.15, 0.15);
  canvas_bold(cv, 1);
  canvas_text(cv, title, ox + PANEL_W / 2.0, oy + 13, 0.5, 0, 15);
  canvas_bold(cv, 0);
  if (!c || c->n == 0) {
    canvas_text(cv, "no finished training", ox + PANEL_W / 2.0, oy + PANEL_H / 2.0, 0.5, 0.5, 13);
    return;
  }
  // Ranges: epochs 0..max, losses in log10 over both curves.
  double emax = 1, lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < c->n; i++) {
    emax = fmax(emax, c->epoch[i]);
    const double v[2] = {c->train[i], c->val[i]};
    for (int k = 0; k < 2; k++)
      if (v[k] > 0 && isfinite(v[k])) {
        lo = fmin(lo, log10(v[k]));
        hi = fmax(hi, log10(v[k]));
      }
  }
  if (!isfinite(lo)) {
    canvas_text(cv, "no finite loss", ox + PANEL_W / 2.0, oy + PANEL_H / 2.0, 0.5, 0.5, 13);
    return;
  }
  const double emin = c->epoch[0] < 1 ? 0 : 1;
  Axes a = {.x0 = emin, .x1 = emax > emin ? emax : emin + 1,
            .y0 = floor(lo * 10 - 0.5) / 10, .y1 = ceil(hi * 10 + 0.5) / 10,
            .px0 = ox + ML, .px1 = ox + PANEL_W - MR, .py0 = oy + MT,
            .py1 = oy + PANEL_H - MB, .ylog = 1, .xint = 1, .xticks = 10, .font = 11};
  canvas_axes(cv, &a, "epoch", "loss (log scale)");
  // The two curves, with a dot per epoch, and a legend.
  static const double COLOUR[2][3] = {{0.12, 0.47, 0.71}, {0.84, 0.37, 0.05}};
  static const char *const NAME[2] = {"training", "validation"};
  for (int k = 0; k < 2; k++) {
    const double *v = k ? c->val : c->train;
    canvas_rgb(cv, COLOUR[k], 1);
    cairo_set_line_width(cv->cr, 2);
    canvas_line(cv, &a, c->epoch, v, c->n);
    canvas_points(cv, &a, c->epoch, v, c->n, 3);
    canvas_key(cv, a.px1 - 110, a.py0 + 12 + 18 * k, CANVAS_KEY_LINE, COLOUR[k], NAME[k], 12);
  }
}

int curves_plot(const char *png, const char *const titles[CURVES_N], const Curve *const c[CURVES_N]) {
  const int rows = (CURVES_N + COLS - 1) / COLS;
  Canvas cv;
  if (canvas_open(&cv, COLS * PANEL_W, rows * PANEL_H) != 0)
    return -1;
  for (int i = 0; i < CURVES_N; i++)
    panel(&cv, (i % COLS) * PANEL_W, (i / COLS) * PANEL_H, titles[i], c[i]);
  // canvas_save writes beside png and renames: a reader never sees half a PNG.
  return canvas_save(&cv, png);
}
