// canvas.h — the study's one plotting library (libnetplot): a white cairo
// image, axes with ticks, grid and labels, text anchored by its ink box,
// lines, points and legend keys, written as a PNG.  The search's figures
// (study/hpo/plot.c), the latent analysis's (study/analysis/plot.c) and the
// report's learning curves (study/report/curves.c) draw with it, so every
// figure of the study has the same look.  Anything not here is drawn with
// cairo directly on c->cr.
#ifndef NETPLOT_CANVAS_H
#define NETPLOT_CANVAS_H

#include <cairo.h>

typedef struct {
  cairo_surface_t *surface;
  cairo_t *cr;
  int w, h; // pixels
} Canvas;

// A data range shown in a pixel rectangle of the canvas.  With ylog, y0 and
// y1 are log10 of the range and the y values given to axes_y, canvas_line
// and canvas_points are plain (positive) data values.
typedef struct {
  double x0, x1, y0, y1;     // data range shown
  double px0, px1, py0, py1; // plot area in pixels (py0 at the top)
  int ylog;                  // y axis in log10: ticks at 1, 2, 5 per decade
  int xint;                  // x ticks on whole numbers only (trials, epochs)
  int xgrid;                 // vertical grid lines too (always horizontal ones)
  int xticks, yticks;        // about this many ticks (0: 6)
  double font;               // tick labels' size; axis labels +2 (0: 11)
} Axes;

// Legend keys.
enum { CANVAS_KEY_BOX, CANVAS_KEY_LINE, CANVAS_KEY_DOT };

// matplotlib's "tab10": ten colours told apart easily (digits 0..9).
extern const double CANVAS_TAB10[10][3];

// A w x h white canvas with a sans-serif font.  Returns 0, or -1 with a
// message on stderr.
int canvas_open(Canvas *c, int w, int h);
// Writes the PNG beside png, then renames it (a reader never sees half a
// file), and frees the canvas.  Returns 0, or -1 with "png: reason" on stderr.
int canvas_save(Canvas *c, const char *png);
// Frees the canvas without writing it.
void canvas_free(Canvas *c);

void canvas_rgb(Canvas *c, const double rgb[3], double alpha);
// Viridis at u in [0, 1] (dark blue to yellow), five anchors interpolated.
void canvas_viridis(double u, double rgb[3]);

// Text at (x, y) in pixels, anchored at the fraction (ax, ay) of its ink
// box: (0, 0) top left, (0.5, 0.5) centre, (1, 1) bottom right.
void canvas_text(Canvas *c, const char *s, double x, double y, double ax,
                 double ay, double size);
// The same, rotated a quarter turn (reads bottom to top), centred at (x, y).
void canvas_text_up(Canvas *c, const char *s, double x, double y, double size);
void canvas_bold(Canvas *c, int on);

// Pixel position of a data value.
double axes_x(const Axes *a, double x);
double axes_y(const Axes *a, double y);
// Step of about span / n rounded to 1, 2 or 5 times a power of ten.
double axes_step(double span, int n);
// Sets [x0, x1] (or [y0, y1], in log10 when ylog) to [lo, hi] widened by
// the fraction pad of its length on each side; an empty range becomes
// [lo - 1, hi + 1].
void axes_fit_x(Axes *a, double lo, double hi, double pad);
void axes_fit_y(Axes *a, double lo, double hi, double pad);
// Widens one axis so that a data unit is as long on both (linear axes).
void axes_equal(Axes *a);

// Grid, ticks with their labels, the frame, and the axis labels (either
// may be NULL) in the margins left of and below the plot area.
void canvas_axes(Canvas *c, const Axes *a, const char *xlabel, const char *ylabel);

// A polyline through the points (x[i], y[i]) in data units, in the current
// colour and line width; a non-finite value (or y <= 0 on a log axis)
// lifts the pen.
void canvas_line(Canvas *c, const Axes *a, const double *x, const double *y, int n);
// A disc of radius r pixels at each valid point.
void canvas_points(Canvas *c, const Axes *a, const double *x, const double *y,
                   int n, double r);
void canvas_dot(Canvas *c, double px, double py, double r);
// One legend entry: a key of kind CANVAS_KEY_* in colour rgb at (x, y) (its
// left end, vertical centre), then the text.
void canvas_key(Canvas *c, double x, double y, int kind, const double rgb[3],
                const char *text, double size);

#endif
