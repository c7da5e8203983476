// dataset_png.c — a folder of PNG images with one subfolder per class, as
// torchvision's ImageFolder: DIR/CLASS/*.png, classes sorted by name
// (byte order) and numbered from 0, images within a class sorted by name.
//
// Differences from ImageFolder, on purpose: only .png files directly in a
// class folder are read (no recursion, so symlink loops cannot trap the
// walk; a class entry that cannot be followed is an error naming it); grey
// images stay 1 channel and colour ones 3 (ImageFolder converts all to
// RGB): all images must share one size and channel count, and the first
// that differs is named.  Palette and 16-bit images are expanded to 8-bit
// grey or RGB, alpha is dropped.  Pixels / 255, channels first.
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"

#define PNG_MAX_SIDE 4096          // larger than any image a small CNN reads
#define FOLDER_MAX_CLASSES 100000

static int fail(const char *path, const char *what) {
  fprintf(stderr, "%s: %s\n", path, what);
  return -1;
}

typedef struct {
  char **v;
  int n, cap;
} Names;

static int names_add(Names *s, const char *name) {
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 64;
    char **v = realloc(s->v, (size_t)cap * sizeof *v);
    if (!v)
      return -1;
    s->v = v, s->cap = cap;
  }
  return (s->v[s->n] = strdup(name)) ? (s->n++, 0) : -1;
}

static void names_free(Names *s) {
  for (int i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_png_ext(const char *s) {
  size_t n = strlen(s);
  return n > 4 && !strcasecmp(s + n - 4, ".png");
}

// Sorted entries of dir: subfolders (want_dirs) or .png files.
static int list(const char *dir, int want_dirs, Names *out) {
  char msg[512], p[4096];
  DIR *dp = opendir(dir);
  if (!dp) {
    snprintf(msg, sizeof msg, "cannot open folder: %s", strerror(errno));
    return fail(dir, msg);
  }
  struct dirent *e;
  while ((e = readdir(dp))) {
    if (e->d_name[0] == '.')
      continue;
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) {
      closedir(dp);
      names_free(out);
      return fail(dir, "path too long");
    }
    if (stat(p, &st)) {          // a dangling link or a symlink loop
      snprintf(msg, sizeof msg, "cannot follow: %s", strerror(errno));
      closedir(dp);
      names_free(out);
      return fail(p, msg);
    }
    int ok = want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && has_png_ext(e->d_name);
    if (ok && names_add(out, e->d_name)) {
      closedir(dp);
      names_free(out);
      return fail(dir, "out of memory");
    }
  }
  closedir(dp);
  if (out->n)
    qsort(out->v, (size_t)out->n, sizeof *out->v, cmp);
  return 0;
}

typedef struct {
  int w, h, c;
} Geom;

// libpng explains a refused header (e.g. a side above the user limit) in
// a warning before the error ("Invalid IHDR data"): the message keeps the
// last warning and appends the error.
static void on_error(png_structp png, png_const_charp msg) {
  char *buf = png_get_error_ptr(png);
  size_t n = strlen(buf);
  snprintf(buf + n, 256 - n, n ? " (%s)" : "%s", msg);
  longjmp(png_jmpbuf(png), 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  snprintf((char *)png_get_error_ptr(png), 256, "%s", msg);
}

// Decodes path; with out NULL only reads the header into *g.  With out,
// the image must have geometry *g and goes to out [c, h, w] / 255.
static int read_png(const char *path, Geom *g, float *out) {
  char msg[256] = "";
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
    return fail(path, msg);
  }
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  // Volatile: assigned between setjmp and a possible longjmp.
  unsigned char *volatile row = NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    fclose(f);
    return fail(path, "out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(row);
    char why[300];
    snprintf(why, sizeof why, "not a readable PNG: %s", msg);
    return fail(path, why);
  }
  png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_init_io(png, f);
  png_read_info(png, info);
  int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
  int ct = png_get_color_type(png, info);
  png_set_expand(png);              // palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  int c = ct & PNG_COLOR_MASK_COLOR ? 3 : 1;
  if (!out) {
    *g = (Geom){w, h, c};
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
  }
  if (w != g->w || h != g->h || c != g->c) {
    snprintf(msg, sizeof msg, "image is %dx%d with %d channel%s; the first image is %dx%d with %d "
             "(all images must have one size)", w, h, c, c > 1 ? "s" : "", g->w, g->h, g->c);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return fail(path, msg);
  }
  if (png_get_rowbytes(png, info) != (size_t)w * (size_t)c) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return fail(path, "unexpected PNG row layout");
  }
  row = malloc((size_t)w * (size_t)c);
  if (!row)
    longjmp(png_jmpbuf(png), 1);
  int passes = png_set_interlace_handling(png);
  // Interlaced images would need the whole image in memory before the
  // float conversion; data sets don't use them.
  if (passes != 1) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(row);
    return fail(path, "interlaced PNGs are not supported (re-save without interlacing)");
  }
  for (int y = 0; y < h; y++) {
    png_read_row(png, row, NULL);
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++)
        out[((size_t)k * h + y) * w + x] = (float)row[(size_t)x * c + k] / 255.0f;
  }
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
  free(row);
  return 0;
}

int dataset_load_folder(Dataset *d, const char *dir, int quiet) {
  char msg[512], p[4096];
  memset(d, 0, sizeof *d);
  Names classes = {0};
  if (list(dir, 1, &classes))
    return -1;
  if (classes.n == 0)
    return fail(dir, "no class folders (expected DIR/CLASS/*.png, one subfolder per class)");
  if (classes.n > FOLDER_MAX_CLASSES)
    return names_free(&classes), fail(dir, "too many class folders");
  Names *files = calloc((size_t)classes.n, sizeof *files);
  if (!files)
    return names_free(&classes), fail(dir, "out of memory");
  uint64_t n = 0;
  int r = -1;
  for (int i = 0; i < classes.n; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, classes.v[i]);
    if (list(p, 0, &files[i]))
      goto done;
    if (files[i].n == 0) {
      snprintf(msg, sizeof msg, "class folder '%s' has no .png images", classes.v[i]);
      fail(p, msg);
      goto done;
    }
    n += (uint64_t)files[i].n;
  }
  Geom g;
  snprintf(p, sizeof p, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
  if (read_png(p, &g, NULL) || dataset_check_size(dir, n, (uint64_t)g.c * g.h * g.w))
    goto done;
  size_t size = (size_t)g.c * g.h * g.w;
  d->x = malloc((size_t)n * size * sizeof(float));
  d->y = malloc((size_t)n * sizeof(int32_t));
  if (!d->x || !d->y) {
    fail(dir, "out of memory");
    goto done;
  }
  // The count on a terminal only: a log or a pipe gets no carriage returns.
  int progress = !quiet && n >= 10000 && isatty(2);
  uint64_t k = 0;
  for (int i = 0; i < classes.n; i++) {
    for (int j = 0; j < files[i].n; j++, k++) {
      snprintf(p, sizeof p, "%s/%s/%s", dir, classes.v[i], files[i].v[j]);
      if (read_png(p, &g, d->x + k * size))
        goto done;
      d->y[k] = i;
      if (progress && (k % 1000 == 0 || k + 1 == n))
        fprintf(stderr, "\r%s: %llu/%llu images", dir, (unsigned long long)k + 1,
                (unsigned long long)n);
    }
  }
  if (progress)
    fprintf(stderr, "\n");
  snprintf(d->name, sizeof d->name, "%s", dir);
  d->n = (int)n;
  d->rank = 3;
  d->shape[0] = g.c, d->shape[1] = g.h, d->shape[2] = g.w;
  d->size = size;
  d->classes = classes.n;
  r = 0;
done:
  for (int i = 0; i < classes.n; i++)
    names_free(&files[i]);
  free(files);
  names_free(&classes);
  if (r)
    dataset_free(d);
  return r;
}

int dataset_folder_classes_match(const char *train, const char *test) {
  Names a = {0}, b = {0};
  if (list(train, 1, &a))
    return -1;
  if (list(test, 1, &b))
    return names_free(&a), -1;
  // Both sorted: the first difference names the folder missing from one.
  int i = 0;
  while (i < a.n && i < b.n && !strcmp(a.v[i], b.v[i]))
    i++;
  int r = 0;
  if (i < a.n || i < b.n) {
    char msg[768];
    if (i < b.n && (i == a.n || strcmp(b.v[i], a.v[i]) < 0))
      snprintf(msg, sizeof msg, "class folder '%.300s' is not in %.300s (the labels are numbered by the "
               "class names, which must be the same)", b.v[i], train);
    else
      snprintf(msg, sizeof msg, "no class folder '%.300s', which %.300s has (the labels are numbered by the "
               "class names, which must be the same)", a.v[i], train);
    r = fail(test, msg);
  }
  names_free(&a);
  names_free(&b);
  return r;
}
