// plot.c — the study's three figures, drawn with cairo as PNG: the
// optimisation history (value per trial and the best so far), the
// intermediate values of every trial (pruned ones in red), and parallel
// coordinates of the parameters coloured by value, with a colour bar.
#include <cairo.h>
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpo.h"

enum { W = 900, H = 540 };
static const double ML = 80, MR = 30, MT = 46, MB = 60;   // margins of the plot area

typedef struct { double x0, x1, y0, y1; int ylog; } Axes;   // data ranges

static double px(const Axes *a, double x) { return ML + (x - a->x0) / (a->x1 - a->x0) * (W - ML - MR); }
static double py(const Axes *a, double y) {
  if (a->ylog) y = log10(y);
  return H - MB - (y - a->y0) / (a->y1 - a->y0) * (H - MT - MB);
}

static void text(cairo_t *cr, double x, double y, const char *s, double align, double size) {
  cairo_text_extents_t e;
  cairo_set_font_size(cr, size);
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - align * e.width, y);
  cairo_show_text(cr, s);
}

// "Nice" tick step for a range (1, 2 or 5 times a power of ten).
static double tick_step(double span, int target) {
  double raw = span / target, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void frame(cairo_t *cr, const Axes *a, const char *title, const char *xl, const char *yl) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb(cr, 0, 0, 0);
  text(cr, W / 2.0, 28, title, 0.5, 16);
  text(cr, W / 2.0, H - 14, xl, 0.5, 13);
  cairo_save(cr);
  cairo_translate(cr, 20, H / 2.0);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, 0, 0, yl, 0.5, 13);
  cairo_restore(cr);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
  cairo_stroke(cr);
  char b[32];
  double st = fmax(1, tick_step(a->x1 - a->x0, 10));   // x is a trial or an epoch
  for (double x = ceil(a->x0 / st) * st + 0.0; x <= a->x1 + 1e-9; x += st) {
    cairo_move_to(cr, px(a, x), H - MB);
    cairo_line_to(cr, px(a, x), H - MB + 5);
    cairo_stroke(cr);
    snprintf(b, sizeof b, "%g", x == 0 ? 0.0 : x);
    text(cr, px(a, x), H - MB + 18, b, 0.5, 11);
  }
  // y ticks: nice linear steps, or 1-2-5 per decade on a log axis.
  double ticks[64];
  int nt = 0;
  if (a->ylog) {
    for (int d = (int)floor(a->y0); d <= (int)ceil(a->y1) && nt < 60; d++)
      for (int m = 0; m < 3; m++) {
        double y = d + log10((double[]){1, 2, 5}[m]);
        if (y >= a->y0 && y <= a->y1) ticks[nt++] = y;
      }
  } else {
    st = tick_step(a->y1 - a->y0, 8);
    for (double y = ceil(a->y0 / st) * st; y <= a->y1 + 1e-9 * st && nt < 60; y += st) ticks[nt++] = y;
  }
  for (int i = 0; i < nt; i++) {
    double y = ticks[i], yy = H - MB - (y - a->y0) / (a->y1 - a->y0) * (H - MT - MB);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, ML, yy);
    cairo_line_to(cr, W - MR, yy);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(b, sizeof b, "%g", a->ylog ? pow(10, y) : (fabs(y) < 1e-12 * st ? 0.0 : y));
    text(cr, ML - 6, yy + 4, b, 1, 11);
  }
}

static int save(cairo_surface_t *s, cairo_t *cr, const char *path) {
  cairo_destroy(cr);
  int rc = cairo_surface_write_to_png(s, path) == CAIRO_STATUS_SUCCESS ? 0 : -1;
  cairo_surface_destroy(s);
  if (rc) fprintf(stderr, "error: %s: cannot write the plot\n", path);
  return rc;
}

// Value range of the finite values, padded; log10 if they span > 1 decade.
static void y_range(Axes *a, double lo, double hi) {
  if (!(lo <= hi)) lo = 0, hi = 1;
  a->ylog = lo > 0 && hi / lo > 10;
  if (a->ylog) lo = log10(lo), hi = log10(hi);
  double pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
  a->y0 = lo - pad, a->y1 = hi + pad;
}

static void legend(cairo_t *cr, int row, double r, double g, double b, const char *s) {
  double x = W - MR - 170, y = MT + 16 + 18 * row;
  cairo_set_source_rgb(cr, r, g, b);
  cairo_rectangle(cr, x, y - 8, 14, 8);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  text(cr, x + 20, y, s, 0, 11);
}

int plot_history(const char *path, const HpoTrial *t, int n) {
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (t[i].state == HPO_COMPLETE && isfinite(t[i].value))
      lo = fmin(lo, t[i].value), hi = fmax(hi, t[i].value);
  Axes a = {-0.5, n > 1 ? n - 0.5 : 1, 0, 1, 0};
  y_range(&a, lo, hi);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  frame(cr, &a, "Optimisation history", "trial", "objective (validation loss)");
  double best = INFINITY;
  int started = 0;
  cairo_set_source_rgb(cr, 0.85, 0.2, 0.1);
  cairo_set_line_width(cr, 2);
  for (int i = 0; i < n; i++) {
    if (t[i].state != HPO_COMPLETE || !isfinite(t[i].value) || t[i].value >= best) continue;
    if (started) cairo_line_to(cr, px(&a, t[i].number), py(&a, best));
    best = t[i].value;
    if (!started) cairo_move_to(cr, px(&a, t[i].number), py(&a, best)), started = 1;
    else cairo_line_to(cr, px(&a, t[i].number), py(&a, best));
  }
  if (started) cairo_line_to(cr, px(&a, a.x1), py(&a, best)), cairo_stroke(cr);
  for (int i = 0; i < n; i++) {
    if (t[i].state != HPO_COMPLETE || !isfinite(t[i].value)) continue;
    cairo_set_source_rgb(cr, 0.12, 0.47, 0.71);
    cairo_arc(cr, px(&a, t[i].number), py(&a, t[i].value), 4, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  legend(cr, 0, 0.12, 0.47, 0.71, "objective value");
  legend(cr, 1, 0.85, 0.2, 0.1, "best value so far");
  return save(s, cr, path);
}

int plot_intermediate(const char *path, const HpoTrial *t, int n) {
  double lo = INFINITY, hi = -INFINITY;
  int maxstep = 1, npruned = 0;
  for (int i = 0; i < n; i++) {
    npruned += t[i].state == HPO_PRUNED;
    for (int j = 0; j < t[i].n_inter; j++)
      if (isfinite(t[i].inter[j])) {
        lo = fmin(lo, t[i].inter[j]), hi = fmax(hi, t[i].inter[j]);
        if (t[i].steps[j] > maxstep) maxstep = t[i].steps[j];
      }
  }
  Axes a = {0.5, maxstep + 0.5, 0, 1, 0};
  y_range(&a, lo, hi);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  char title[96];
  snprintf(title, sizeof title, "Intermediate values (%d trials, %d pruned)", n, npruned);
  frame(cr, &a, title, "epoch", "validation loss");
  cairo_set_line_width(cr, 1.5);
  for (int pass = 0; pass < 2; pass++)   // pruned trials on top
    for (int i = 0; i < n; i++) {
      int pruned = t[i].state == HPO_PRUNED;
      if (pruned != pass || t[i].n_inter == 0) continue;
      if (pruned) cairo_set_source_rgba(cr, 0.85, 0.15, 0.1, 0.9);
      else if (t[i].state == HPO_COMPLETE) cairo_set_source_rgba(cr, 0.12, 0.47, 0.71, 0.8);
      else cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.6);
      int moved = 0;
      for (int j = 0; j < t[i].n_inter; j++) {
        if (!isfinite(t[i].inter[j])) continue;
        double x = px(&a, t[i].steps[j]), y = py(&a, t[i].inter[j]);
        if (moved) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y), moved = 1;
      }
      cairo_stroke(cr);
      if (pruned) {   // a cross where the trial was stopped
        int j = t[i].n_inter - 1;
        double x = px(&a, t[i].steps[j]), y = py(&a, t[i].inter[j]);
        cairo_move_to(cr, x - 4, y - 4), cairo_line_to(cr, x + 4, y + 4);
        cairo_move_to(cr, x - 4, y + 4), cairo_line_to(cr, x + 4, y - 4);
        cairo_stroke(cr);
      }
    }
  legend(cr, 0, 0.12, 0.47, 0.71, "complete");
  legend(cr, 1, 0.85, 0.15, 0.1, "pruned (x: stopped)");
  legend(cr, 2, 0.5, 0.5, 0.5, "failed / running");
  return save(s, cr, path);
}

// Viridis, 5 anchors interpolated linearly (good enough for a colour bar).
static void viridis(double u, double *r, double *g, double *b) {
  static const double c[5][3] = {{0.267, 0.005, 0.329}, {0.229, 0.322, 0.546}, {0.128, 0.567, 0.551},
                                 {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};
  u = fmin(fmax(u, 0), 1) * 4;
  int i = (int)u < 4 ? (int)u : 3;
  double f = u - i;
  *r = c[i][0] + f * (c[i + 1][0] - c[i][0]);
  *g = c[i][1] + f * (c[i + 1][1] - c[i][1]);
  *b = c[i][2] + f * (c[i + 1][2] - c[i][2]);
}

// Position in [0, 1] of value v on parameter p's axis (log axes for log
// parameters, categories evenly spaced).
static double axis_pos(const HpoParam *p, double v) {
  if (p->kind == HPO_CAT) return p->n_choices > 1 ? v / (p->n_choices - 1) : 0.5;
  if (p->high == p->low) return 0.5;
  if (p->log) return (log(v) - log(p->low)) / (log(p->high) - log(p->low));
  return (v - p->low) / (p->high - p->low);
}

static int cmp_worse_first(const void *a, const void *b, void *ctx) {
  const HpoTrial *t = ctx;
  double x = t[*(const int *)a].value, y = t[*(const int *)b].value;
  return x > y ? -1 : x < y;
}

int plot_parallel(const char *path, const HpoSpace *sp, const HpoTrial *t, int n) {
  double lo = INFINITY, hi = -INFINITY;
  int nc = 0;
  for (int i = 0; i < n; i++)
    if (t[i].state == HPO_COMPLETE && isfinite(t[i].value))
      lo = fmin(lo, t[i].value), hi = fmax(hi, t[i].value), nc++;
  if (!(hi > lo)) hi = lo + 1;
  int logv = lo > 0 && hi / lo > 10;   // colour by log value when it spans decades
  double cl = logv ? log10(lo) : lo, ch = logv ? log10(hi) : hi;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb(cr, 0, 0, 0);
  char title[96];
  snprintf(title, sizeof title, "Parallel coordinates (%d complete trials)", nc);
  text(cr, W / 2.0, 28, title, 0.5, 16);
  int na = sp->n + 1;   // the objective is the first axis
  double x0 = 70, x1 = W - 150, top = MT + 20, bot = H - MB;
  double ax[HPO_MAX_PARAMS + 1];
  for (int k = 0; k < na; k++) ax[k] = x0 + (na > 1 ? k * (x1 - x0) / (na - 1) : 0);
  // Worst trials first, so the best lines are drawn on top.
  int order[n > 0 ? n : 1];
  for (int i = 0; i < n; i++) order[i] = i;
  qsort_r(order, (size_t)n, sizeof *order, cmp_worse_first, (void *)t);
  for (int o = 0; o < n; o++) {
    const HpoTrial *tr = &t[order[o]];
    if (tr->state != HPO_COMPLETE || !isfinite(tr->value)) continue;
    double u = ((logv ? log10(tr->value) : tr->value) - cl) / (ch - cl), r, g, b;
    viridis(1 - u, &r, &g, &b);   // bright = good (low loss)
    cairo_set_source_rgba(cr, r, g, b, 0.85);
    cairo_set_line_width(cr, 1.6);
    cairo_move_to(cr, ax[0], bot - u * (bot - top));
    for (int k = 0; k < sp->n; k++)
      cairo_line_to(cr, ax[k + 1], bot - axis_pos(&sp->p[k], tr->params[k]) * (bot - top));
    cairo_stroke(cr);
  }
  cairo_set_line_width(cr, 1);
  char b[64];
  for (int k = 0; k < na; k++) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, ax[k], top);
    cairo_line_to(cr, ax[k], bot);
    cairo_stroke(cr);
    text(cr, ax[k], bot + 22, k == 0 ? "objective" : sp->p[k - 1].name, 0.5, 12);
    if (k == 0) {
      for (int q = 0; q <= 4; q++) {
        double v = cl + q * (ch - cl) / 4;
        snprintf(b, sizeof b, "%.3g", logv ? pow(10, v) : v);
        text(cr, ax[k] - 4, bot - q / 4.0 * (bot - top) + 4, b, 1, 10);
      }
      continue;
    }
    const HpoParam *p = &sp->p[k - 1];
    if (p->kind == HPO_CAT) {
      for (int c = 0; c < p->n_choices; c++)
        text(cr, ax[k] - 4, bot - axis_pos(p, c) * (bot - top) + 4, p->choices[c], 1, 10);
      continue;
    }
    for (int q = 0; q <= 4; q++) {
      double v = p->log ? exp(log(p->low) + q * (log(p->high) - log(p->low)) / 4)
                        : p->low + q * (p->high - p->low) / 4;
      snprintf(b, sizeof b, p->kind == HPO_INT ? "%.0f" : "%.2g", v);
      text(cr, ax[k] - 4, bot - q / 4.0 * (bot - top) + 4, b, 1, 10);
    }
  }
  // Colour bar.
  double bx = W - 90, bw = 18;
  for (int y = 0; y < (int)(bot - top); y++) {
    double u = 1 - y / (bot - top), r, g, bb;
    viridis(1 - u, &r, &g, &bb);
    cairo_set_source_rgb(cr, r, g, bb);
    cairo_rectangle(cr, bx, top + y, bw, 1.5);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, bx, top, bw, bot - top);
  cairo_stroke(cr);
  for (int q = 0; q <= 4; q++) {
    double v = cl + q * (ch - cl) / 4;
    snprintf(b, sizeof b, "%.3g", logv ? pow(10, v) : v);
    text(cr, bx + bw + 4, bot - q / 4.0 * (bot - top) + 4, b, 0, 10);
  }
  text(cr, bx + bw / 2, top - 8, "value", 0.5, 11);
  return save(s, cr, path);
}
