// plot.c — the latent figures on the study's canvas (study/plot): a
// scatter coloured by digit and the per-digit ellipses, each with a legend.
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "canvas.h"
#include "rng.h"

enum { MARGIN_L = 90, MARGIN_R = 120, MARGIN_T = 70, MARGIN_B = 70 };

static void set_label_colour(Canvas *c, int label, double alpha) {
  static const double GREY[3] = {0.3, 0.3, 0.3};
  canvas_rgb(c, label >= 0 && label < ELLIPSE_CLASSES ? CANVAS_TAB10[label] : GREY, alpha);
}

// The canvas and the plot area of o's size (default 900 x 760).
static int open_plot(Canvas *c, Axes *a, const char *png, const PlotOptions *o) {
  if (canvas_open(c, o->width > 0 ? o->width : 900, o->height > 0 ? o->height : 760) != 0) {
    fprintf(stderr, "%s: cannot create a cairo image\n", png);
    return -1;
  }
  *a = (Axes){.px0 = MARGIN_L, .px1 = c->w - MARGIN_R, .py0 = MARGIN_T,
              .py1 = c->h - MARGIN_B, .xgrid = 1, .font = 13};
  return 0;
}

// The data range [x0, x1] x [y0, y1] plus 5 % padding, widened on one axis
// when the aspect ratio must be equal; then the axes, title and note.
static void draw_frame(Canvas *c, Axes *a, double x0, double x1, double y0,
                       double y1, const PlotOptions *o) {
  axes_fit_x(a, x0, x1, 0.05);
  axes_fit_y(a, y0, y1, 0.05);
  if (o->equal_aspect)
    axes_equal(a);
  canvas_axes(c, a, o->xlabel, o->ylabel);
  canvas_bold(c, 1);
  if (o->title)
    canvas_text(c, o->title, c->w / 2.0, 14, 0.5, 0, 18);
  canvas_bold(c, 0);
  if (o->note) {
    cairo_set_source_rgb(c->cr, 0.4, 0.4, 0.4);
    canvas_text(c, o->note, c->w / 2.0, 40, 0.5, 0, 12);
  }
}

// Legend: a disc and the digit for each class present.
static void legend(Canvas *c, const Axes *a, const int present[ELLIPSE_CLASSES]) {
  double x = a->px1 + 22, y = a->py0 + 10;
  cairo_set_source_rgb(c->cr, 0, 0, 0);
  canvas_text(c, "digit", x - 4, y, 0, 0, 14);
  y += 30;
  for (int k = 0; k < ELLIPSE_CLASSES; k++) {
    if (!present[k])
      continue;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", k);
    canvas_key(c, x, y, CANVAS_KEY_DOT, CANVAS_TAB10[k], buf, 14);
    y += 24;
  }
}

int plot_scatter(const char *png, const float *xy, const int *labels, int n,
                 const PlotOptions *o) {
  Canvas c;
  Axes a;
  if (n < 1) {
    fprintf(stderr, "%s: cannot create an empty image\n", png);
    return -1;
  }
  if (open_plot(&c, &a, png, o) != 0)
    return -1;
  double x0 = xy[0], x1 = xy[0], y0 = xy[1], y1 = xy[1];
  int present[ELLIPSE_CLASSES] = {0};
  for (int i = 0; i < n; i++) {
    x0 = fmin(x0, xy[2 * i]), x1 = fmax(x1, xy[2 * i]);
    y0 = fmin(y0, xy[2 * i + 1]), y1 = fmax(y1, xy[2 * i + 1]);
    if (labels[i] >= 0 && labels[i] < ELLIPSE_CLASSES)
      present[labels[i]] = 1;
  }
  draw_frame(&c, &a, x0, x1, y0, y1, o);
  // Draw in a fixed shuffled order so that no digit is always on top.
  int *perm = malloc((size_t)n * sizeof(int));
  if (!perm) {
    canvas_free(&c);
    return -1;
  }
  Rng r = rng_stream(1, 0);
  for (int i = 0; i < n; i++)
    perm[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)rng_below(&r, (uint64_t)i + 1), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  double rad = n > 5000 ? 1.8 : n > 1000 ? 2.4 : 3.2;
  cairo_rectangle(c.cr, a.px0, a.py0, a.px1 - a.px0, a.py1 - a.py0);
  cairo_clip(c.cr);
  for (int k = 0; k < n; k++) {
    int i = perm[k];
    set_label_colour(&c, labels[i], 0.75);
    canvas_dot(&c, axes_x(&a, xy[2 * i]), axes_y(&a, xy[2 * i + 1]), rad);
  }
  cairo_reset_clip(c.cr);
  free(perm);
  legend(&c, &a, present);
  return canvas_save(&c, png);
}

int plot_ellipses(const char *png, const ClassSpread s[ELLIPSE_CLASSES],
                  const PlotOptions *o) {
  Canvas c;
  Axes a;
  if (open_plot(&c, &a, png, o) != 0)
    return -1;
  int present[ELLIPSE_CLASSES] = {0}, any = 0;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int k = 0; k < ELLIPSE_CLASSES; k++) {
    if (!s[k].count)
      continue;
    present[k] = any = 1;
    x0 = fmin(x0, s[k].mean[0] - s[k].std[0]);
    x1 = fmax(x1, s[k].mean[0] + s[k].std[0]);
    y0 = fmin(y0, s[k].mean[1] - s[k].std[1]);
    y1 = fmax(y1, s[k].mean[1] + s[k].std[1]);
  }
  if (!any)
    x0 = y0 = -1, x1 = y1 = 1;
  draw_frame(&c, &a, x0, x1, y0, y1, o);
  cairo_t *cr = c.cr;
  double ux = (a.px1 - a.px0) / (a.x1 - a.x0), uy = (a.py1 - a.py0) / (a.y1 - a.y0);
  for (int pass = 0; pass < 2; pass++) // fills first, then outlines on top
    for (int k = 0; k < ELLIPSE_CLASSES; k++) {
      if (!s[k].count)
        continue;
      double cx = axes_x(&a, s[k].mean[0]), cy = axes_y(&a, s[k].mean[1]);
      double rx = fmax(s[k].std[0] * ux, 0.5), ry = fmax(s[k].std[1] * uy, 0.5);
      cairo_new_path(cr);
      cairo_save(cr);
      cairo_translate(cr, cx, cy);
      cairo_scale(cr, rx, ry);
      cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
      cairo_restore(cr);
      if (pass == 0) {
        set_label_colour(&c, k, 0.18);
        cairo_fill(cr);
        continue;
      }
      set_label_colour(&c, k, 1);
      cairo_set_line_width(cr, 2.2);
      cairo_stroke(cr);
      canvas_dot(&c, cx, cy, 3.5);
      char buf[8];
      snprintf(buf, sizeof buf, "%d", k);
      cairo_set_source_rgb(cr, 0, 0, 0);
      canvas_text(&c, buf, cx + 6, cy - 6, 0, 1, 15);
    }
  legend(&c, &a, present);
  return canvas_save(&c, png);
}
