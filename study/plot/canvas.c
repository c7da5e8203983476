// canvas.c — axes, ticks, text and marks on a cairo image surface.
#include "canvas.h"

#include <math.h>
#include <stdio.h>

const double CANVAS_TAB10[10][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
    {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
    {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
    {0.090, 0.745, 0.812}};

int canvas_open(Canvas *c, int w, int h) {
  c->w = w, c->h = h, c->cr = NULL;
  // RGB24: every figure is opaque, and the PNG needs no alpha channel.
  c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "cannot create a %dx%d cairo image: %s\n", w, h,
            cairo_status_to_string(cairo_surface_status(c->surface)));
    cairo_surface_destroy(c->surface);
    return -1;
  }
  c->cr = cairo_create(c->surface);
  cairo_set_source_rgb(c->cr, 1, 1, 1);
  cairo_paint(c->cr);
  cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_line_width(c->cr, 1);
  return 0;
}

void canvas_free(Canvas *c) {
  cairo_destroy(c->cr);
  cairo_surface_destroy(c->surface);
  c->cr = NULL, c->surface = NULL;
}

int canvas_save(Canvas *c, const char *png) {
  cairo_surface_flush(c->surface);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", png);
  cairo_status_t st = cairo_surface_write_to_png(c->surface, tmp);
  canvas_free(c);
  if (st != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "%s: %s\n", png, cairo_status_to_string(st));
    remove(tmp);
    return -1;
  }
  if (rename(tmp, png) != 0) {
    perror(png);
    remove(tmp);
    return -1;
  }
  return 0;
}

void canvas_rgb(Canvas *c, const double rgb[3], double alpha) {
  cairo_set_source_rgba(c->cr, rgb[0], rgb[1], rgb[2], alpha);
}

void canvas_viridis(double u, double rgb[3]) {
  static const double v[5][3] = {{0.267, 0.005, 0.329}, {0.229, 0.322, 0.546},
                                 {0.128, 0.567, 0.551}, {0.369, 0.789, 0.383},
                                 {0.993, 0.906, 0.144}};
  u = fmin(fmax(u, 0), 1) * 4;
  int i = (int)u < 4 ? (int)u : 3;
  double f = u - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = v[i][k] + f * (v[i + 1][k] - v[i][k]);
}

void canvas_text(Canvas *c, const char *s, double x, double y, double ax,
                 double ay, double size) {
  cairo_text_extents_t e;
  cairo_set_font_size(c->cr, size);
  cairo_text_extents(c->cr, s, &e);
  cairo_move_to(c->cr, x - e.x_bearing - ax * e.width,
                y - e.y_bearing - ay * e.height);
  cairo_show_text(c->cr, s);
  cairo_new_path(c->cr); // show_text leaves a current point
}

void canvas_text_up(Canvas *c, const char *s, double x, double y, double size) {
  cairo_save(c->cr);
  cairo_translate(c->cr, x, y);
  cairo_rotate(c->cr, -M_PI / 2);
  canvas_text(c, s, 0, 0, 0.5, 0.5, size);
  cairo_restore(c->cr);
}

void canvas_bold(Canvas *c, int on) {
  cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         on ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
}

double axes_x(const Axes *a, double x) {
  return a->px0 + (x - a->x0) / (a->x1 - a->x0) * (a->px1 - a->px0);
}

double axes_y(const Axes *a, double y) {
  if (a->ylog)
    y = log10(y);
  return a->py1 - (y - a->y0) / (a->y1 - a->y0) * (a->py1 - a->py0);
}

double axes_step(double span, int n) {
  double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void fit(double lo, double hi, double pad, double *r0, double *r1) {
  if (!(hi > lo))
    lo -= 1, hi += 1;
  double d = pad * (hi - lo);
  *r0 = lo - d, *r1 = hi + d;
}

void axes_fit_x(Axes *a, double lo, double hi, double pad) {
  fit(lo, hi, pad, &a->x0, &a->x1);
}

void axes_fit_y(Axes *a, double lo, double hi, double pad) {
  if (a->ylog)
    lo = log10(lo), hi = log10(hi);
  fit(lo, hi, pad, &a->y0, &a->y1);
}

void axes_equal(Axes *a) {
  double sx = (a->x1 - a->x0) / (a->px1 - a->px0);
  double sy = (a->y1 - a->y0) / (a->py1 - a->py0);
  if (sx > sy) {
    double mid = (a->y0 + a->y1) / 2, half = sx * (a->py1 - a->py0) / 2;
    a->y0 = mid - half, a->y1 = mid + half;
  } else {
    double mid = (a->x0 + a->x1) / 2, half = sy * (a->px1 - a->px0) / 2;
    a->x0 = mid - half, a->x1 = mid + half;
  }
}

// A linear tick's label with as many decimals as the step needs.
static void tick_label(char *buf, size_t len, double v, double step) {
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (fabs(v) < step * 1e-6)
    v = 0;
  snprintf(buf, len, "%.*f", dec, v);
}

// The ticks of one axis: linear (about n steps of 1, 2 or 5 x 10^k, whole
// numbers only with integral), or log10 (1, 2, 5 per decade).  Returns the
// count written to t (positions in axis units) and labels.
enum { MAX_TICKS = 64 };
static int ticks(double lo, double hi, int n, int logy, int integral,
                 double t[MAX_TICKS], char label[MAX_TICKS][32]) {
  int nt = 0;
  if (logy) {
    for (int d = (int)floor(lo); d <= (int)ceil(hi); d++)
      for (int m = 0; m < 3 && nt < MAX_TICKS; m++) {
        double v = (double[]){1, 2, 5}[m] * pow(10, d), l = log10(v);
        if (l < lo || l > hi)
          continue;
        t[nt] = l;
        snprintf(label[nt++], 32, "%g", v);
      }
    return nt;
  }
  double step = axes_step(hi - lo, n > 0 ? n : 6);
  if (integral)
    step = fmax(1, round(step));
  for (double v = ceil(lo / step) * step; v <= hi + 1e-9 * step && nt < MAX_TICKS;
       v += step) {
    t[nt] = v;
    tick_label(label[nt++], 32, v, step);
  }
  return nt;
}

void canvas_axes(Canvas *c, const Axes *a, const char *xlabel, const char *ylabel) {
  cairo_t *cr = c->cr;
  double font = a->font > 0 ? a->font : 11, t[MAX_TICKS];
  char label[MAX_TICKS][32];
  cairo_set_line_width(cr, 1);
  int nx = ticks(a->x0, a->x1, a->xticks, 0, a->xint, t, label);
  for (int i = 0; i < nx; i++) {
    double px = round(axes_x(a, t[i])) + 0.5;
    if (a->xgrid) {
      cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
      cairo_move_to(cr, px, a->py0), cairo_line_to(cr, px, a->py1);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, px, a->py1), cairo_line_to(cr, px, a->py1 + 5);
    cairo_stroke(cr);
    canvas_text(c, label[i], px, a->py1 + 9, 0.5, 0, font);
  }
  int ny = ticks(a->y0, a->y1, a->yticks, a->ylog, 0, t, label);
  for (int i = 0; i < ny; i++) {
    double py = round(a->py1 - (t[i] - a->y0) / (a->y1 - a->y0) * (a->py1 - a->py0)) + 0.5;
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_move_to(cr, a->px0, py), cairo_line_to(cr, a->px1, py);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, a->px0 - 5, py), cairo_line_to(cr, a->px0, py);
    cairo_stroke(cr);
    canvas_text(c, label[i], a->px0 - 9, py, 1, 0.5, font);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, round(a->px0) + 0.5, round(a->py0) + 0.5,
                  round(a->px1 - a->px0), round(a->py1 - a->py0));
  cairo_stroke(cr);
  if (xlabel)
    canvas_text(c, xlabel, (a->px0 + a->px1) / 2, a->py1 + 2 * font + 12, 0.5, 0,
                font + 2);
  if (ylabel)
    canvas_text_up(c, ylabel, a->px0 - 5 * font - 4, (a->py0 + a->py1) / 2, font + 2);
}

static int valid(const Axes *a, double x, double y) {
  return isfinite(x) && isfinite(y) && (!a->ylog || y > 0);
}

void canvas_line(Canvas *c, const Axes *a, const double *x, const double *y, int n) {
  int pen = 0;
  cairo_new_path(c->cr);
  for (int i = 0; i < n; i++) {
    if (!valid(a, x[i], y[i])) {
      pen = 0;
      continue;
    }
    if (pen)
      cairo_line_to(c->cr, axes_x(a, x[i]), axes_y(a, y[i]));
    else
      cairo_move_to(c->cr, axes_x(a, x[i]), axes_y(a, y[i]));
    pen = 1;
  }
  cairo_stroke(c->cr);
}

void canvas_dot(Canvas *c, double px, double py, double r) {
  cairo_new_path(c->cr);
  cairo_arc(c->cr, px, py, r, 0, 2 * M_PI);
  cairo_fill(c->cr);
}

void canvas_points(Canvas *c, const Axes *a, const double *x, const double *y,
                   int n, double r) {
  for (int i = 0; i < n; i++)
    if (valid(a, x[i], y[i]))
      canvas_dot(c, axes_x(a, x[i]), axes_y(a, y[i]), r);
}

void canvas_key(Canvas *c, double x, double y, int kind, const double rgb[3],
                const char *text, double size) {
  cairo_t *cr = c->cr;
  canvas_rgb(c, rgb, 1);
  switch (kind) {
  case CANVAS_KEY_BOX:
    cairo_rectangle(cr, x, y - 4, 14, 8);
    cairo_fill(cr);
    break;
  case CANVAS_KEY_LINE:
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, x, y), cairo_line_to(cr, x + 22, y);
    cairo_stroke(cr);
    cairo_arc(cr, x + 11, y, 3, 0, 2 * M_PI);
    cairo_fill(cr);
    break;
  default:
    canvas_dot(c, x + 6, y, 6);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  canvas_text(c, text, x + (kind == CANVAS_KEY_LINE ? 28 : 20), y, 0, 0.5, size);
}
