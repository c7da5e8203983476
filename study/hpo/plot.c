// plot.c — the study's three figures on the study's canvas (study/plot):
// the optimisation history (value per trial and the best so far), the
// intermediate values of every trial (pruned ones in red), and parallel
// coordinates of the parameters coloured by value, with a colour bar.
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "hpo.h"

enum { W = 900, H = 540 };
static const double ML = 80, MR = 30, MT = 46, MB = 60;   // margins of the plot area
static const double BLUE[3] = {0.12, 0.47, 0.71}, RED[3] = {0.85, 0.2, 0.1},
                    GREY[3] = {0.5, 0.5, 0.5};

// A canvas with its title; a -> the plot area, x ticks on whole numbers
// (trials, epochs).
static int open_plot(Canvas *c, Axes *a, const char *title) {
  if (canvas_open(c, W, H) != 0)
    return -1;
  *a = (Axes){.px0 = ML, .px1 = W - MR, .py0 = MT, .py1 = H - MB, .xint = 1,
              .xticks = 10, .yticks = 8, .font = 11};
  canvas_bold(c, 1);
  cairo_set_source_rgb(c->cr, 0, 0, 0);
  canvas_text(c, title, W / 2.0, 16, 0.5, 0, 16);
  canvas_bold(c, 0);
  return 0;
}

static int save(Canvas *c, const char *path) {
  int rc = canvas_save(c, path);
  if (rc)
    fprintf(stderr, "error: %s: cannot write the plot\n", path);
  return rc;
}

// Value range of the finite values, padded; log10 if they span > 1 decade.
static void y_range(Axes *a, double lo, double hi) {
  if (!(lo <= hi))
    lo = 0, hi = 1;
  a->ylog = lo > 0 && hi / lo > 10;
  axes_fit_y(a, lo, hi, 0.05);
}

static void legend(Canvas *c, int row, const double rgb[3], const char *s) {
  canvas_key(c, W - MR - 170, MT + 12 + 18 * row, CANVAS_KEY_BOX, rgb, s, 11);
}

int plot_history(const char *path, const HpoTrial *t, int n) {
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (t[i].state == HPO_COMPLETE && isfinite(t[i].value))
      lo = fmin(lo, t[i].value), hi = fmax(hi, t[i].value);
  Canvas c;
  Axes a;
  if (open_plot(&c, &a, "Optimisation history") != 0)
    return -1;
  a.x0 = -0.5, a.x1 = n > 1 ? n - 0.5 : 1;
  y_range(&a, lo, hi);
  canvas_axes(&c, &a, "trial", "objective (validation loss)");
  // The best value so far: a step line from each improvement to the next.
  double best = INFINITY;
  int started = 0;
  canvas_rgb(&c, RED, 1);
  cairo_set_line_width(c.cr, 2);
  for (int i = 0; i < n; i++) {
    if (t[i].state != HPO_COMPLETE || !isfinite(t[i].value) || t[i].value >= best)
      continue;
    double x = axes_x(&a, t[i].number);
    if (started)
      cairo_line_to(c.cr, x, axes_y(&a, best));
    else
      cairo_move_to(c.cr, x, axes_y(&a, t[i].value)), started = 1;
    best = t[i].value;
    cairo_line_to(c.cr, x, axes_y(&a, best));
  }
  if (started)
    cairo_line_to(c.cr, axes_x(&a, a.x1), axes_y(&a, best)), cairo_stroke(c.cr);
  canvas_rgb(&c, BLUE, 1);
  for (int i = 0; i < n; i++)
    if (t[i].state == HPO_COMPLETE && isfinite(t[i].value))
      canvas_dot(&c, axes_x(&a, t[i].number), axes_y(&a, t[i].value), 4);
  legend(&c, 0, BLUE, "objective value");
  legend(&c, 1, RED, "best value so far");
  return save(&c, path);
}

int plot_intermediate(const char *path, const HpoTrial *t, int n) {
  double lo = INFINITY, hi = -INFINITY;
  int maxstep = 1, npruned = 0, maxn = 1;
  for (int i = 0; i < n; i++) {
    npruned += t[i].state == HPO_PRUNED;
    maxn = t[i].n_inter > maxn ? t[i].n_inter : maxn;
    for (int j = 0; j < t[i].n_inter; j++)
      if (isfinite(t[i].inter[j])) {
        lo = fmin(lo, t[i].inter[j]), hi = fmax(hi, t[i].inter[j]);
        if (t[i].steps[j] > maxstep)
          maxstep = t[i].steps[j];
      }
  }
  char title[96];
  snprintf(title, sizeof title, "Intermediate values (%d trials, %d pruned)", n, npruned);
  Canvas c;
  Axes a;
  double *x = malloc((size_t)maxn * sizeof *x);
  if (!x || open_plot(&c, &a, title) != 0) {
    free(x);
    return -1;
  }
  a.x0 = 0.5, a.x1 = maxstep + 0.5;
  y_range(&a, lo, hi);
  canvas_axes(&c, &a, "epoch", "validation loss");
  cairo_set_line_width(c.cr, 1.5);
  for (int pass = 0; pass < 2; pass++)   // pruned trials on top
    for (int i = 0; i < n; i++) {
      int pruned = t[i].state == HPO_PRUNED;
      if (pruned != pass || t[i].n_inter == 0)
        continue;
      if (pruned)
        cairo_set_source_rgba(c.cr, 0.85, 0.15, 0.1, 0.9);
      else if (t[i].state == HPO_COMPLETE)
        canvas_rgb(&c, BLUE, 0.8);
      else
        canvas_rgb(&c, GREY, 0.6);
      for (int j = 0; j < t[i].n_inter; j++)
        x[j] = t[i].steps[j];
      canvas_line(&c, &a, x, t[i].inter, t[i].n_inter);
      if (pruned) {   // a cross where the trial was stopped
        int j = t[i].n_inter - 1;
        double px = axes_x(&a, x[j]), py = axes_y(&a, t[i].inter[j]);
        cairo_move_to(c.cr, px - 4, py - 4), cairo_line_to(c.cr, px + 4, py + 4);
        cairo_move_to(c.cr, px - 4, py + 4), cairo_line_to(c.cr, px + 4, py - 4);
        cairo_stroke(c.cr);
      }
    }
  free(x);
  legend(&c, 0, BLUE, "complete");
  legend(&c, 1, (const double[]){0.85, 0.15, 0.1}, "pruned (x: stopped)");
  legend(&c, 2, GREY, "failed / running");
  return save(&c, path);
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
  double cl = logv ? log10(lo) : lo, ch = logv ? log10(hi) : hi, rgb[3];
  char title[96];
  snprintf(title, sizeof title, "Parallel coordinates (%d complete trials)", nc);
  Canvas c;
  Axes unused;
  if (open_plot(&c, &unused, title) != 0)
    return -1;
  cairo_t *cr = c.cr;
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
    double u = ((logv ? log10(tr->value) : tr->value) - cl) / (ch - cl);
    canvas_viridis(1 - u, rgb);   // bright = good (low loss)
    canvas_rgb(&c, rgb, 0.85);
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
    canvas_text(&c, k == 0 ? "objective" : sp->p[k - 1].name, ax[k], bot + 12, 0.5, 0, 12);
    if (k == 0) {
      for (int q = 0; q <= 4; q++) {
        double v = cl + q * (ch - cl) / 4;
        snprintf(b, sizeof b, "%.3g", logv ? pow(10, v) : v);
        canvas_text(&c, b, ax[k] - 4, bot - q / 4.0 * (bot - top), 1, 0.5, 10);
      }
      continue;
    }
    const HpoParam *p = &sp->p[k - 1];
    if (p->kind == HPO_CAT) {
      for (int ci = 0; ci < p->n_choices; ci++)
        canvas_text(&c, p->choices[ci], ax[k] - 4, bot - axis_pos(p, ci) * (bot - top), 1, 0.5, 10);
      continue;
    }
    for (int q = 0; q <= 4; q++) {
      double v = p->log ? exp(log(p->low) + q * (log(p->high) - log(p->low)) / 4)
                        : p->low + q * (p->high - p->low) / 4;
      snprintf(b, sizeof b, p->kind == HPO_INT ? "%.0f" : "%.2g", v);
      canvas_text(&c, b, ax[k] - 4, bot - q / 4.0 * (bot - top), 1, 0.5, 10);
    }
  }
  // Colour bar.
  double bx = W - 90, bw = 18;
  for (int y = 0; y < (int)(bot - top); y++) {
    canvas_viridis(y / (bot - top), rgb);
    canvas_rgb(&c, rgb, 1);
    cairo_rectangle(cr, bx, top + y, bw, 1.5);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, bx, top, bw, bot - top);
  cairo_stroke(cr);
  for (int q = 0; q <= 4; q++) {
    double v = cl + q * (ch - cl) / 4;
    snprintf(b, sizeof b, "%.3g", logv ? pow(10, v) : v);
    canvas_text(&c, b, bx + bw + 4, bot - q / 4.0 * (bot - top), 0, 0.5, 10);
  }
  canvas_text(&c, "value", bx + bw / 2, top - 8, 0.5, 1, 11);
  return save(&c, path);
}
