// dataset_folder.c — a folder of images with one subfolder per class, as
// torchvision's ImageFolder: DIR/CLASS/*.png|*.jpg|*.jpeg, classes sorted
// by name (byte order) and numbered from 0, images within a class sorted
// by name.  The files are decoded by image_png.c and image_jpeg.c, chosen
// by the file's first bytes, not its name (a .jpg that is a PNG is read
// as the PNG it is); the extension only says which files are images.
//
// Differences from ImageFolder, on purpose: only image files directly in a
// class folder are read (no recursion, so symlink loops cannot trap the
// walk; a class entry that cannot be followed is an error naming it); grey
// images stay 1 channel and colour ones 3 (ImageFolder converts all to
// RGB): all images must share one channel count, and one size unless
// resizing is asked for (DataOptions.resize_h/w, image.h says how); the
// first that differs is named.  Pixels / 255, channels first.
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
#include "image.h"

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

static int has_ext(const char *s, const char *ext) {
  size_t n = strlen(s), k = strlen(ext);
  return n > k && !strcasecmp(s + n - k, ext);
}

static int is_image_name(const char *s) {
  return has_ext(s, ".png") || has_ext(s, ".jpg") || has_ext(s, ".jpeg");
}

// Sorted entries of dir: subfolders (want_dirs) or image files.
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
    int ok = want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && is_image_name(e->d_name);
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

// 'p' (PNG), 'j' (JPEG) or 0 by a file's first n bytes.
static int image_kind(const unsigned char *magic, size_t n) {
  if (n >= 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8))
    return 'p';
  if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
    return 'j';
  return 0;
}

// Decodes path (header_only: its size and channels) by its first bytes.
static int read_image(const char *path, Image *im, int header_only) {
  char msg[300];
  unsigned char magic[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
    return fail(path, msg);
  }
  size_t n = fread(magic, 1, sizeof magic, f);
  rewind(f);
  int r, kind = image_kind(magic, n);
  if (kind == 'p')
    r = image_read_png(f, path, im, header_only);
  else if (kind == 'j')
    r = image_read_jpeg(f, path, im, header_only);
  else
    r = fail(path, "not a PNG or JPEG image (by its first bytes)");
  fclose(f);
  return r;
}

int dataset_is_image(const char *path) {
  unsigned char magic[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(magic, 1, sizeof magic, f);
  fclose(f);
  return image_kind(magic, n) != 0;
}

// The example of image im: [c, h, w] as in the file, or resized to the
// folder's size.  g: the first image's geometry, which every image must
// have (only its channels when resizing).
static int store_image(const char *path, const Image *im, const Image *g, int resize, ImageResize *rs,
                       float *out) {
  char msg[400];
  if (im->c != g->c || (!resize && (im->w != g->w || im->h != g->h))) {
    if (resize)
      snprintf(msg, sizeof msg, "image has %d channel%s, the first image %d (all images must have one "
               "channel count)", im->c, im->c > 1 ? "s" : "", g->c);
    else
      snprintf(msg, sizeof msg, "image is %dx%d with %d channel%s; the first image is %dx%d with %d "
               "(all images must have one size, or give --resize HxW to resize them)", im->w, im->h, im->c,
               im->c > 1 ? "s" : "", g->w, g->h, g->c);
    return fail(path, msg);
  }
  if (!resize) {
    image_to_float(im, out);
    return 0;
  }
  return image_resize(im, g->h, g->w, out, rs) ? fail(path, "out of memory") : 0;
}

int dataset_load_folder(Dataset *d, const char *dir, int quiet) {
  DataOptions o = {.quiet = quiet};
  return dataset_load_folder_opts(d, dir, &o);
}

int dataset_load_folder_opts(Dataset *d, const char *dir, const DataOptions *o) {
  char msg[512], p[4096];
  Image im = {0}, g = {0};         // the image being read; the first one's geometry
  ImageResize rs = {0};
  memset(d, 0, sizeof *d);
  Names classes = {0};
  if (list(dir, 1, &classes))
    return -1;
  if (classes.n == 0)
    return fail(dir, "no class folders (expected DIR/CLASS/*.png or *.jpg, one subfolder per class)");
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
      snprintf(msg, sizeof msg, "class folder '%s' has no images (.png, .jpg, .jpeg)", classes.v[i]);
      fail(p, msg);
      goto done;
    }
    n += (uint64_t)files[i].n;
  }
  int resize = o->resize_h > 0 && o->resize_w > 0;
  snprintf(p, sizeof p, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
  if (read_image(p, &g, 1))
    goto done;
  if (resize)
    g.h = o->resize_h, g.w = o->resize_w;
  if (dataset_check_size(dir, n, (uint64_t)g.c * g.h * g.w))
    goto done;
  size_t size = (size_t)g.c * g.h * g.w;
  d->x = malloc((size_t)n * size * sizeof(float));
  d->y = malloc((size_t)n * sizeof(int32_t));
  if (!d->x || !d->y) {
    fail(dir, "out of memory");
    goto done;
  }
  // The count on a terminal only: a log or a pipe gets no carriage returns.
  int progress = !o->quiet && n >= 10000 && isatty(2);
  uint64_t k = 0;
  for (int i = 0; i < classes.n; i++) {
    for (int j = 0; j < files[i].n; j++, k++) {
      snprintf(p, sizeof p, "%s/%s/%s", dir, classes.v[i], files[i].v[j]);
      if (read_image(p, &im, 0) || store_image(p, &im, &g, resize, &rs, d->x + k * size))
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
  image_free(&im);
  image_resize_free(&rs);
  for (int i = 0; i < classes.n; i++)
    names_free(&files[i]);
  free(files);
  names_free(&classes);
  if (r)
    dataset_free(d);
  return r;
}

int dataset_load_image(Dataset *d, const char *path, const DataOptions *o) {
  Image im = {0}, g = {0};
  ImageResize rs = {0};
  memset(d, 0, sizeof *d);
  int resize = o->resize_h > 0 && o->resize_w > 0, r = -1;
  if (read_image(path, &im, 0))
    goto done;
  g = im;                          // its own geometry, or the size asked for
  if (resize)
    g.h = o->resize_h, g.w = o->resize_w;
  d->size = (size_t)g.c * g.h * g.w;
  d->x = malloc(d->size * sizeof(float));
  d->y = calloc(1, sizeof(int32_t));
  if (!d->x || !d->y) {
    fail(path, "out of memory");
    goto done;
  }
  if (store_image(path, &im, &g, resize, &rs, d->x))
    goto done;
  snprintf(d->name, sizeof d->name, "%s", path);
  d->n = 1;
  d->rank = 3;
  d->shape[0] = g.c, d->shape[1] = g.h, d->shape[2] = g.w;
  d->classes = 1;
  r = 0;
done:
  image_free(&im);
  image_resize_free(&rs);
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
