// curves.c — the learning curves of the four trainings, one panel each:
// training and validation loss per epoch (log scale: the losses fall by
// orders of magnitude in the first epochs), drawn with cairo into a PNG.
#include "curves.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>

enum { PANEL_W = 560, PANEL_H = 360, COLS = 2 };
static const double ML = 78, MR = 20, MT = 40, MB = 52;   // plot area margins in a panel

static void text(cairo_t *cr, double x, double y, const char *s, double align, double size) {
  cairo_text_extents_t e;
  cairo_set_font_size(cr, size);
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - align * e.width, y);
  cairo_show_text(cr, s);
}

static void panel(cairo_t *cr, double ox, double oy, const char *title, const Curve *c) {
  const double x0 = ox + ML, x1 = ox + PANEL_W - MR, y0 = oy + MT, y1 = oy + PANEL_H - MB;
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  text(cr, ox + PANEL_W / 2.0, oy + 24, title, 0.5, 15);
  if (!c || c->n == 0) {
    text(cr, ox + PANEL_W / 2.0, oy + PANEL_H / 2.0, "no finished training", 0.5, 13);
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
    text(cr, ox + PANEL_W / 2.0, oy + PANEL_H / 2.0, "no finite loss", 0.5, 13);
    return;
  }
  lo = floor(lo * 10 - 0.5) / 10;
  hi = ceil(hi * 10 + 0.5) / 10;
  const double emin = c->epoch[0] < 1 ? 0 : 1;
  double span_e = emax - emin > 0 ? emax - emin : 1;
#define PX(e) (x0 + ((e) - emin) / span_e * (x1 - x0))
#define PY(v) (y1 - (log10(v) - lo) / (hi - lo) * (y1 - y0))
  // Grid and ticks: y at 1, 2, 5 x 10^k inside the range, x at whole epochs.
  cairo_set_line_width(cr, 1);
  char b[32];
  for (int k = (int)floor(lo) - 1; k <= (int)ceil(hi); k++)
    for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
      double v = m * pow(10, k), l = log10(v);
      if (l < lo || l > hi)
        continue;
      cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
      cairo_move_to(cr, x0, PY(v));
      cairo_line_to(cr, x1, PY(v));
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
      snprintf(b, sizeof b, "%g", v);
      text(cr, x0 - 6, PY(v) + 4, b, 1, 11);
    }
  int step = (int)ceil(span_e / 10);
  for (int e = (int)emin; e <= (int)emax; e += step) {
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_move_to(cr, PX(e), y1);
    cairo_line_to(cr, PX(e), y1 + 4);
    cairo_stroke(cr);
    snprintf(b, sizeof b, "%d", e);
    text(cr, PX(e), y1 + 17, b, 0.5, 11);
  }
  text(cr, (x0 + x1) / 2, y1 + 38, "epoch", 0.5, 12);
  cairo_save(cr);
  cairo_translate(cr, ox + 18, (y0 + y1) / 2);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, 0, 0, "loss (log scale)", 0.5, 12);
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
  cairo_stroke(cr);
  // The two curves, with a dot per epoch, and a legend.
  static const double COLOUR[2][3] = {{0.12, 0.47, 0.71}, {0.84, 0.37, 0.05}};
  static const char *const NAME[2] = {"training", "validation"};
  for (int k = 0; k < 2; k++) {
    const double *v = k ? c->val : c->train;
    cairo_set_source_rgb(cr, COLOUR[k][0], COLOUR[k][1], COLOUR[k][2]);
    cairo_set_line_width(cr, 2);
    int pen = 0;
    for (int i = 0; i < c->n; i++) {
      if (!(v[i] > 0) || !isfinite(v[i])) {
        pen = 0;
        continue;
      }
      if (pen)
        cairo_line_to(cr, PX(c->epoch[i]), PY(v[i]));
      else
        cairo_move_to(cr, PX(c->epoch[i]), PY(v[i]));
      pen = 1;
    }
    cairo_stroke(cr);
    for (int i = 0; i < c->n; i++)
      if (v[i] > 0 && isfinite(v[i])) {
        cairo_arc(cr, PX(c->epoch[i]), PY(v[i]), 3, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    double lx = x1 - 110, ly = y0 + 16 + 18 * k;
    cairo_move_to(cr, lx, ly - 4);
    cairo_line_to(cr, lx + 22, ly - 4);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    text(cr, lx + 28, ly, NAME[k], 0, 12);
  }
#undef PX
#undef PY
}

int curves_plot(const char *png, const char *const titles[CURVES_N], const Curve *const c[CURVES_N]) {
  const int rows = (CURVES_N + COLS - 1) / COLS;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, COLS * PANEL_W, rows * PANEL_H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  for (int i = 0; i < CURVES_N; i++)
    panel(cr, (i % COLS) * PANEL_W, (i / COLS) * PANEL_H, titles[i], c[i]);
  cairo_destroy(cr);
  // Written beside, then renamed: a reader never sees half a PNG.
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", png);
  int rc = cairo_surface_write_to_png(s, tmp) == CAIRO_STATUS_SUCCESS && rename(tmp, png) == 0 ? 0 : -1;
  cairo_surface_destroy(s);
  if (rc)
    remove(tmp);
  return rc;
}
