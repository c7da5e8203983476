// plot.c — axes, ticks, legend and marks with cairo's image surface.
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

// matplotlib's "tab10": ten colours told apart easily.
static const double PALETTE[ELLIPSE_CLASSES][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
    {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
    {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
    {0.090, 0.745, 0.812}};

enum { MARGIN_L = 90, MARGIN_R = 120, MARGIN_T = 70, MARGIN_B = 70 };

typedef struct {
  cairo_surface_t *surface;
  cairo_t *cr;
  int w, h;
  double x0, x1, y0, y1; // data range shown
  double px0, px1, py0, py1; // plot area in pixels (py0 at the top)
} Canvas;

static void set_label_colour(cairo_t *cr, int label, double alpha) {
  if (label >= 0 && label < ELLIPSE_CLASSES)
    cairo_set_source_rgba(cr, PALETTE[label][0], PALETTE[label][1],
                          PALETTE[label][2], alpha);
  else
    cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, alpha);
}

static double to_px(const Canvas *c, double x) {
  return c->px0 + (x - c->x0) / (c->x1 - c->x0) * (c->px1 - c->px0);
}

static double to_py(const Canvas *c, double y) {
  return c->py1 - (y - c->y0) / (c->y1 - c->y0) * (c->py1 - c->py0);
}

// Step of about (hi - lo) / 6 rounded to 1, 2 or 5 times a power of ten.
static double nice_step(double lo, double hi) {
  double raw = (hi - lo) / 6, p = pow(10, floor(log10(raw)));
  double m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

// Sets the data range to [x0, x1] x [y0, y1] plus 5 % padding, widened
// on one axis when the aspect ratio must be equal.
static void canvas_range(Canvas *c, double x0, double x1, double y0, double y1,
                         int equal) {
  if (!(x1 > x0))
    x0 -= 1, x1 += 1;
  if (!(y1 > y0))
    y0 -= 1, y1 += 1;
  double padx = 0.05 * (x1 - x0), pady = 0.05 * (y1 - y0);
  x0 -= padx, x1 += padx, y0 -= pady, y1 += pady;
  if (equal) {
    double sx = (x1 - x0) / (c->px1 - c->px0), sy = (y1 - y0) / (c->py1 - c->py0);
    if (sx > sy) {
      double mid = (y0 + y1) / 2, half = sx * (c->py1 - c->py0) / 2;
      y0 = mid - half, y1 = mid + half;
    } else {
      double mid = (x0 + x1) / 2, half = sy * (c->px1 - c->px0) / 2;
      x0 = mid - half, x1 = mid + half;
    }
  }
  c->x0 = x0, c->x1 = x1, c->y0 = y0, c->y1 = y1;
}

static int canvas_open(Canvas *c, const PlotOptions *o) {
  c->w = o->width > 0 ? o->width : 900;
  c->h = o->height > 0 ? o->height : 760;
  c->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, c->w, c->h);
  if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS)
    return -1;
  c->cr = cairo_create(c->surface);
  c->px0 = MARGIN_L, c->px1 = c->w - MARGIN_R;
  c->py0 = MARGIN_T, c->py1 = c->h - MARGIN_B;
  cairo_set_source_rgb(c->cr, 1, 1, 1);
  cairo_paint(c->cr);
  cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);
  return 0;
}

// Text with its anchor at (x, y): ax, ay in {0, 0.5, 1} of its extent.
static void text_at(cairo_t *cr, const char *s, double x, double y, double ax,
                    double ay) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - e.x_bearing - ax * e.width,
                y - e.y_bearing - ay * e.height);
  cairo_show_text(cr, s);
}

static void format_tick(char *buf, size_t len, double v, double step) {
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (fabs(v) < step * 1e-6)
    v = 0;
  snprintf(buf, len, "%.*f", dec, v);
}

// Frame, grid, ticks, labels and title.
static void canvas_axes(Canvas *c, const PlotOptions *o) {
  cairo_t *cr = c->cr;
  char buf[64];
  cairo_set_font_size(cr, 13);
  cairo_set_line_width(cr, 1);
  double sx = nice_step(c->x0, c->x1), sy = nice_step(c->y0, c->y1);
  for (double v = ceil(c->x0 / sx) * sx; v <= c->x1; v += sx) {
    double px = round(to_px(c, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_move_to(cr, px, c->py0), cairo_line_to(cr, px, c->py1);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, px, c->py1), cairo_line_to(cr, px, c->py1 + 6);
    cairo_stroke(cr);
    format_tick(buf, sizeof buf, v, sx);
    text_at(cr, buf, px, c->py1 + 10, 0.5, 0);
  }
  for (double v = ceil(c->y0 / sy) * sy; v <= c->y1; v += sy) {
    double py = round(to_py(c, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_move_to(cr, c->px0, py), cairo_line_to(cr, c->px1, py);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, c->px0 - 6, py), cairo_line_to(cr, c->px0, py);
    cairo_stroke(cr);
    format_tick(buf, sizeof buf, v, sy);
    text_at(cr, buf, c->px0 - 10, py, 1, 0.5);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, c->px0 + 0.5, c->py0 + 0.5, c->px1 - c->px0,
                  c->py1 - c->py0);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 15);
  if (o->xlabel)
    text_at(cr, o->xlabel, (c->px0 + c->px1) / 2, c->h - 22, 0.5, 1);
  if (o->ylabel) {
    cairo_save(cr);
    cairo_translate(cr, 22, (c->py0 + c->py1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, o->ylabel, 0, 0, 0.5, 0.5);
    cairo_restore(cr);
  }
  cairo_set_font_size(cr, 18);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_BOLD);
  if (o->title)
    text_at(cr, o->title, c->w / 2.0, 14, 0.5, 0);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);
  if (o->note) {
    cairo_set_font_size(cr, 12);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    text_at(cr, o->note, c->w / 2.0, 40, 0.5, 0);
  }
}

// Legend: a disc and the digit for each class present.
static void canvas_legend(Canvas *c, const int present[ELLIPSE_CLASSES]) {
  cairo_t *cr = c->cr;
  char buf[16];
  double x = c->px1 + 28, y = c->py0 + 10;
  cairo_set_font_size(cr, 14);
  cairo_set_source_rgb(cr, 0, 0, 0);
  text_at(cr, "digit", x - 10, y, 0, 0);
  y += 30;
  for (int k = 0; k < ELLIPSE_CLASSES; k++) {
    if (!present[k])
      continue;
    set_label_colour(cr, k, 1);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, 6, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(buf, sizeof buf, "%d", k);
    text_at(cr, buf, x + 14, y, 0, 0.5);
    y += 24;
  }
}

static int canvas_close(Canvas *c, const char *png) {
  cairo_destroy(c->cr);
  cairo_status_t st = cairo_surface_write_to_png(c->surface, png);
  cairo_surface_destroy(c->surface);
  if (st != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "%s: %s\n", png, cairo_status_to_string(st));
    return -1;
  }
  return 0;
}

int plot_scatter(const char *png, const float *xy, const int *labels, int n,
                 const PlotOptions *o) {
  Canvas c;
  if (n < 1 || canvas_open(&c, o) != 0) {
    fprintf(stderr, "%s: cannot create a %s image\n", png, n < 1 ? "empty" : "cairo");
    return -1;
  }
  double x0 = xy[0], x1 = xy[0], y0 = xy[1], y1 = xy[1];
  int present[ELLIPSE_CLASSES] = {0};
  for (int i = 0; i < n; i++) {
    x0 = fmin(x0, xy[2 * i]), x1 = fmax(x1, xy[2 * i]);
    y0 = fmin(y0, xy[2 * i + 1]), y1 = fmax(y1, xy[2 * i + 1]);
    if (labels[i] >= 0 && labels[i] < ELLIPSE_CLASSES)
      present[labels[i]] = 1;
  }
  canvas_range(&c, x0, x1, y0, y1, o->equal_aspect);
  canvas_axes(&c, o);
  // Draw in a fixed shuffled order so that no digit is always on top.
  int *perm = malloc((size_t)n * sizeof(int));
  if (!perm) {
    cairo_destroy(c.cr), cairo_surface_destroy(c.surface);
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
  cairo_rectangle(c.cr, c.px0, c.py0, c.px1 - c.px0, c.py1 - c.py0);
  cairo_clip(c.cr);
  for (int a = 0; a < n; a++) {
    int i = perm[a];
    set_label_colour(c.cr, labels[i], 0.75);
    cairo_arc(c.cr, to_px(&c, xy[2 * i]), to_py(&c, xy[2 * i + 1]), rad, 0,
              2 * M_PI);
    cairo_fill(c.cr);
  }
  cairo_reset_clip(c.cr);
  free(perm);
  canvas_legend(&c, present);
  return canvas_close(&c, png);
}

int plot_ellipses(const char *png, const ClassSpread s[ELLIPSE_CLASSES],
                  const PlotOptions *o) {
  Canvas c;
  if (canvas_open(&c, o) != 0) {
    fprintf(stderr, "%s: cannot create a cairo image\n", png);
    return -1;
  }
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
  canvas_range(&c, x0, x1, y0, y1, o->equal_aspect);
  canvas_axes(&c, o);
  cairo_t *cr = c.cr;
  double ux = (c.px1 - c.px0) / (c.x1 - c.x0), uy = (c.py1 - c.py0) / (c.y1 - c.y0);
  for (int pass = 0; pass < 2; pass++) // fills first, then outlines on top
    for (int k = 0; k < ELLIPSE_CLASSES; k++) {
      if (!s[k].count)
        continue;
      double cx = to_px(&c, s[k].mean[0]), cy = to_py(&c, s[k].mean[1]);
      double rx = fmax(s[k].std[0] * ux, 0.5), ry = fmax(s[k].std[1] * uy, 0.5);
      cairo_new_path(cr); // drop the current point left by the last label
      cairo_save(cr);
      cairo_translate(cr, cx, cy);
      cairo_scale(cr, rx, ry);
      cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
      cairo_restore(cr);
      if (pass == 0) {
        set_label_colour(cr, k, 0.18);
        cairo_fill(cr);
        continue;
      }
      set_label_colour(cr, k, 1);
      cairo_set_line_width(cr, 2.2);
      cairo_stroke(cr);
      cairo_arc(cr, cx, cy, 3.5, 0, 2 * M_PI);
      cairo_fill(cr);
      char buf[8];
      snprintf(buf, sizeof buf, "%d", k);
      cairo_set_font_size(cr, 15);
      cairo_set_source_rgb(cr, 0, 0, 0);
      text_at(cr, buf, cx + 6, cy - 6, 0, 1);
    }
  canvas_legend(&c, present);
  return canvas_close(&c, png);
}
