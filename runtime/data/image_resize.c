// image_resize.c — bytes to float examples, and antialiased bilinear
// resizing as torch computes it (image.h says which definition).
//
// torch (aten/src/ATen/native/cpu/UpSampleKernel.cpp, the antialias path,
// after PIL's ImagingResample) resamples each dimension that changes
// separately, the last (width) first, then the height, in float:
//   scale   = in / out                      (float)
//   support = scale >= 1 ? scale : 1        (the triangle's half-width)
//   center  = scale * (i + 0.5)
//   first   = max((int)(center - support + 0.5), 0)
//   count   = min((int)(center + support + 0.5), in) - first
//   w[j]    = tri((first + j - center + 0.5) / max(scale, 1)),  tri(x) = max(1 - |x|, 0)
// normalised to sum 1, out[i] = sum_j in[first + j] * w[j] in order.  The
// casts and the float/double mix below are torch's, so the weights are
// the same bits.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

void image_free(Image *im) {
  free(im->pix);
  memset(im, 0, sizeof *im);
}

int image_reserve(Image *im) {
  size_t need = (size_t)im->w * im->h * im->c;
  if (need <= im->cap)
    return 0;
  unsigned char *p = realloc(im->pix, need);
  if (!p)
    return -1;
  im->pix = p, im->cap = need;
  return 0;
}

// b / 255 for every byte b: the same floats as dividing, without a
// division per pixel.
static float scale255[256];
static pthread_once_t scale255_once = PTHREAD_ONCE_INIT;

static void scale255_init(void) {
  for (int b = 0; b < 256; b++)
    scale255[b] = (float)b / 255.0f;
}

void image_to_float(const Image *im, float *out) {
  size_t plane = (size_t)im->w * im->h;
  int c = im->c;
  pthread_once(&scale255_once, scale255_init);
  for (int k = 0; k < c; k++) {
    const unsigned char *p = im->pix + k;
    float *o = out + k * plane;
    for (size_t i = 0; i < plane; i++)
      o[i] = scale255[p[i * c]];
  }
}

static float tri(float x) {
  if (x < 0.0f)
    x = -x;
  return x < 1.0f ? 1.0f - x : 0.0f;
}

// The weights of resampling `in` values to `out`: k per output index
// (the most any index uses), first[i] and count[i].  Returns k, or -1.
static int weights(int in, int out, float **wp, int **firstp, int **countp) {
  float scale = (float)in / (float)out;
  float support = scale >= 1.0f ? (float)(1.0 * scale) : 1.0f;
  float invscale = scale >= 1.0f ? (float)(1.0 / scale) : 1.0f;
  int k = (int)ceil(support) * 2 + 1;
  float *w = malloc((size_t)out * k * sizeof *w);
  int *first = malloc((size_t)out * sizeof *first), *count = malloc((size_t)out * sizeof *count);
  if (!w || !first || !count) {
    free(w), free(first), free(count);
    return -1;
  }
  for (int i = 0; i < out; i++) {
    float center = (float)(scale * (i + 0.5));
    long lo = (long)(center - support + 0.5);
    long hi = (long)(center + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    long n = (hi < in ? hi : in) - lo;
    n = n < 0 ? 0 : n > k ? k : n;   // torch: rounding can add one
    float *wi = w + (size_t)i * k, total = 0.0f;
    for (long j = 0; j < n; j++) {
      wi[j] = tri((float)(((float)(j + lo) - center + 0.5) * invscale));
      total += wi[j];
    }
    for (long j = 0; j < n && total != 0.0f; j++)
      wi[j] /= total;
    first[i] = (int)lo, count[i] = (int)n;
  }
  *wp = w, *firstp = first, *countp = count;
  return k;
}

static int prepare(ImageResize *s, int in_w, int in_h, int out_w, int out_h) {
  if (s->wx && s->in_w == in_w && s->out_w == out_w && s->in_h == in_h && s->out_h == out_h)
    return 0;
  free(s->wx), free(s->x0), free(s->nx);
  free(s->wy), free(s->y0), free(s->ny);
  s->wx = s->wy = NULL;
  s->x0 = s->nx = s->y0 = s->ny = NULL;
  s->kx = weights(in_w, out_w, &s->wx, &s->x0, &s->nx);
  s->ky = s->kx < 0 ? -1 : weights(in_h, out_h, &s->wy, &s->y0, &s->ny);
  if (s->ky < 0) {
    image_resize_free(s);
    return -1;
  }
  s->in_w = in_w, s->in_h = in_h, s->out_w = out_w, s->out_h = out_h;
  return 0;
}

void image_resize_free(ImageResize *s) {
  free(s->buf);
  free(s->wx), free(s->x0), free(s->nx);
  free(s->wy), free(s->y0), free(s->ny);
  memset(s, 0, sizeof *s);
}

// dst [rows, ow] from src [rows, w]: each row resampled along its length.
static void pass_width(const float *src, int rows, int w, int ow, const ImageResize *s, float *dst) {
  for (int r = 0; r < rows; r++) {
    const float *in = src + (size_t)r * w;
    float *out = dst + (size_t)r * ow;
    for (int i = 0; i < ow; i++) {
      const float *wi = s->wx + (size_t)i * s->kx, *t = in + s->x0[i];
      float acc = t[0] * wi[0];
      for (int j = 1; j < s->nx[i]; j++)
        acc += t[j] * wi[j];
      out[i] = acc;
    }
  }
}

// dst [c, oh, w] from src [c, h, w]: each column resampled, a row at a time.
static void pass_height(const float *src, int c, int h, int w, int oh, const ImageResize *s, float *dst) {
  for (int k = 0; k < c; k++)
    for (int i = 0; i < oh; i++) {
      const float *wi = s->wy + (size_t)i * s->ky, *t = src + ((size_t)k * h + s->y0[i]) * w;
      float *out = dst + ((size_t)k * oh + i) * w;
      for (int x = 0; x < w; x++)
        out[x] = t[x] * wi[0];
      for (int j = 1; j < s->ny[i]; j++)
        for (int x = 0; x < w; x++)
          out[x] += t[(size_t)j * w + x] * wi[j];
    }
}

int image_resize(const Image *im, int oh, int ow, float *out, ImageResize *s) {
  int w = im->w, h = im->h, c = im->c;
  if (w == ow && h == oh) {
    image_to_float(im, out);
    return 0;
  }
  // The float image, then the width pass beside it.
  size_t a = (size_t)c * h * w, b = (size_t)c * h * ow, need = a + b;
  if (need > s->cap) {
    float *p = realloc(s->buf, need * sizeof *p);
    if (!p)
      return -1;
    s->buf = p, s->cap = need;
  }
  if (prepare(s, w, h, ow, oh))
    return -1;
  // A dimension that keeps its size is not resampled (as torch skips it).
  float *x = s->buf, *t = s->buf + a;
  image_to_float(im, x);
  if (h == oh) {
    pass_width(x, c * h, w, ow, s, out);
  } else if (w == ow) {
    pass_height(x, c, h, w, oh, s, out);
  } else {
    pass_width(x, c * h, w, ow, s, t);
    pass_height(t, c, h, ow, oh, s, out);
  }
  return 0;
}
