// make_jpegs.c — the JPEG side of the synthetic data sets (tests/data),
// written with libjpeg(-turbo) and libpng, as make_datasets.py writes the
// rest (Python's standard library has no JPEG encoder).  Deterministic.
//
// usage: make_jpegs OUT            data sets and hostile files (below)
//        make_jpegs --seeds DIR    the fuzz seeds of tests/fuzz/corpus/data_jpeg
//        make_jpegs --bench N SIDE DIR   N RGB JPEGs in 10 classes, DIR/train/C/*.jpg,
//                                  SIDE x SIDE, or (SIDE 0) 24 to 64 a side: for
//                                  measuring load speed (docs/data.md)
//
//   OUT/jpeg/        train/{cat,dog,frog}/ 4 RGB 8x8 images each, test/ 2:
//                    baseline and progressive JPEGs named .jpg, .JPEG,
//                    .jpeg, a .png, and a .jpg that is a PNG (read by its
//                    magic); mixed PNG and JPEG in one class
//   OUT/jpeg-npy/    the same pixels as .npy files (decoded here with the
//                    reader's settings), labels int64: the twin
//   OUT/jpeg-grey/   train/{a,b}/ 2 grey 4x4 JPEGs each
//   OUT/jpeg-sizes/  train/ 3 classes x 4, test/ x 2: RGB images of 5 to
//                    24 pixels a side, JPEG and PNG (for --resize)
//   OUT/bad/jpeg-*   hostile folders, each with its expected error appended
//                    to OUT/bad/EXPECTED (make_datasets.py writes the file)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

static uint64_t lcg = 1;

static int byte(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (int)(lcg >> 56);
}

static void die(const char *what, const char *path) {
  fprintf(stderr, "make_jpegs: %s: %s\n", path, what);
  exit(1);
}

static void mkdirs(const char *path) {
  char p[4096];
  snprintf(p, sizeof p, "%s", path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, 0755) && errno != EEXIST)
        die(strerror(errno), p);
      *s = '/';
    }
}

static void write_file(const char *path, const void *data, size_t n) {
  mkdirs(path);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n || fclose(f))
    die("cannot write", path);
}

// An image of random colours on a smooth ramp: [h, w, c] bytes.
static unsigned char *pixels(int w, int h, int c) {
  unsigned char *p = malloc((size_t)w * h * c);
  int base = byte();
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++)
        p[((size_t)y * w + x) * c + k] = (unsigned char)((base + 17 * x + 29 * y + 80 * k + byte() / 4) & 255);
  return p;
}

// JPEG in memory: c = 1 grey, 3 RGB (stored as YCbCr), 4 CMYK.
static unsigned char *jpeg(const unsigned char *pix, int w, int h, int c, int progressive, unsigned long *n) {
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  jpeg_mem_dest(&ci, &out, n);
  ci.image_width = (JDIMENSION)w, ci.image_height = (JDIMENSION)h;
  ci.input_components = c;
  ci.in_color_space = c == 1 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 90, TRUE);
  if (progressive)
    jpeg_simple_progression(&ci);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)pix + (size_t)ci.next_scanline * w * c;
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  return out;
}

// Decoded as runtime/data/image_jpeg.c decodes (JDCT_ISLOW, defaults).
static void unjpeg(const unsigned char *data, unsigned long n, unsigned char *pix) {
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, data, n);
  jpeg_read_header(&ci, TRUE);
  ci.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&ci);
  int stride = (int)(ci.output_width * ci.output_components);
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW row = pix + (size_t)ci.output_scanline * stride;
    jpeg_read_scanlines(&ci, &row, 1);
  }
  jpeg_finish_decompress(&ci);
  jpeg_destroy_decompress(&ci);
}

static void png(const char *path, const unsigned char *pix, int w, int h, int c) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  im.width = (png_uint_32)w, im.height = (png_uint_32)h;
  im.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  mkdirs(path);
  if (!png_image_write_to_file(&im, path, 0, pix, 0, NULL))
    die(im.message, path);
}

// An image file at path: PNG when the name ends in .png or as_png, else
// a JPEG; pix becomes the pixels a reader gets back.
static void image(const char *path, unsigned char *pix, int w, int h, int c, int progressive, int as_png) {
  size_t len = strlen(path);
  if (as_png || (len > 4 && !strcmp(path + len - 4, ".png"))) {
    png(path, pix, w, h, c);
    return;
  }
  unsigned long n;
  unsigned char *data = jpeg(pix, w, h, c, progressive, &n);
  write_file(path, data, n);
  unjpeg(data, n, pix);
  free(data);
}

static void npy(const char *path, const char *descr, int ndim, const int *dim, const void *data, size_t n) {
  char shape[128] = "", head[256];
  for (int i = 0; i < ndim; i++)
    snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%d,%s", dim[i], i + 1 < ndim ? " " : "");
  int k = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
  while ((10 + k + 1) % 64)
    head[k++] = ' ';
  head[k++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(k & 255), (unsigned char)(k >> 8)};
  mkdirs(path);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(pre, 1, 10, f) != 10 || fwrite(head, 1, (size_t)k, f) != (size_t)k || fwrite(data, 1, n, f) != n ||
      fclose(f))
    die("cannot write", path);
}

static const char *const classes[] = {"cat", "dog", "frog"};

// OUT/jpeg and its twin OUT/jpeg-npy.
static void gen_jpeg(const char *out) {
  static const char *const ext[] = {".jpg", ".JPEG", ".jpeg", ".png", ".jpg", ".jpg"};
  for (int s = 0; s < 2; s++) {
    const char *split = s ? "test" : "train";
    int per = s ? 2 : 4, n = 3 * per, k = 0;
    unsigned char *x = malloc((size_t)n * 192);
    int64_t *y = malloc((size_t)n * sizeof *y);
    for (int ci = 0; ci < 3; ci++)
      for (int j = 0; j < per; j++, k++) {
        // Train varies the kinds over the classes; test is plain JPEG.
        int kind = s ? 0 : (ci * per + j) % 6;
        char p[4096];
        snprintf(p, sizeof p, "%s/jpeg/%s/%s/%03d%s", out, split, classes[ci], j, ext[kind]);
        unsigned char *pix = pixels(8, 8, 3);
        image(p, pix, 8, 8, 3, kind == 5, kind == 4);
        for (int c = 0; c < 3; c++)
          for (int i = 0; i < 64; i++)
            x[(size_t)k * 192 + c * 64 + i] = pix[i * 3 + c];
        y[k] = ci;
        free(pix);
      }
    char p[4096];
    int dim[4] = {n, 3, 8, 8};
    snprintf(p, sizeof p, "%s/jpeg-npy/x_%s.npy", out, split);
    npy(p, "|u1", 4, dim, x, (size_t)n * 192);
    snprintf(p, sizeof p, "%s/jpeg-npy/y_%s.npy", out, split);
    npy(p, "<i8", 1, dim, y, (size_t)n * sizeof *y);
    free(x);
    free(y);
  }
  for (int ci = 0; ci < 2; ci++)
    for (int j = 0; j < 2; j++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/jpeg-grey/train/%c/%d.jpg", out, 'a' + ci, j);
      unsigned char *pix = pixels(4, 4, 1);
      image(p, pix, 4, 4, 1, 0, 0);
      free(pix);
    }
  for (int s = 0; s < 2; s++)
    for (int ci = 0; ci < 3; ci++)
      for (int j = 0; j < (s ? 2 : 4); j++) {
        char p[4096];
        int w = 5 + byte() % 20, h = 5 + byte() % 20;
        snprintf(p, sizeof p, "%s/jpeg-sizes/%s/%s/%03d.%s", out, s ? "test" : "train", classes[ci], j,
                 j % 3 == 1 ? "png" : "jpg");
        unsigned char *pix = pixels(w, h, 3);
        image(p, pix, w, h, 3, 0, 0);
        free(pix);
      }
}

// Sets the frame header's height and width (SOF0 or SOF2).
static void set_size(unsigned char *d, unsigned long n, int w, int h) {
  for (unsigned long i = 0; i + 8 < n; i++)
    if (d[i] == 0xFF && (d[i + 1] == 0xC0 || d[i + 1] == 0xC2)) {
      d[i + 5] = (unsigned char)(h >> 8), d[i + 6] = (unsigned char)h;
      d[i + 7] = (unsigned char)(w >> 8), d[i + 8] = (unsigned char)w;
      return;
    }
  die("no frame header", "set_size");
}

// The hostile files: each a one-class folder bad/NAME/train/a/0.jpg.
static void gen_bad(const char *out) {
  char p[4096];
  snprintf(p, sizeof p, "%s/bad/EXPECTED", out);
  FILE *expected = fopen(p, "a");
  if (!expected)
    die("cannot append (run make_datasets.py first)", p);
  unsigned char *pix = pixels(16, 16, 4);
  unsigned long n;
  unsigned char *rgb = jpeg(pix, 16, 16, 3, 0, &n);
  struct { const char *name, *why; unsigned long len; int w, h; } cases[] = {
    {"jpeg-truncated", "Premature end of JPEG file", n / 2, 0, 0},
    {"jpeg-65535", "not a readable JPEG", n, 65535, 65535},
    {"jpeg-large", "larger than 4096 on a side", n, 5000, 300},
  };
  for (int i = 0; i < 3; i++) {
    unsigned char *d = malloc(n);
    memcpy(d, rgb, n);
    if (cases[i].w)
      set_size(d, n, cases[i].w, cases[i].h);
    snprintf(p, sizeof p, "%s/bad/%s/train/a/0.jpg", out, cases[i].name);
    write_file(p, d, cases[i].len);
    fprintf(expected, "%s\t%s\n", cases[i].name, cases[i].why);
    free(d);
  }
  unsigned long m;
  unsigned char *cmyk = jpeg(pix, 16, 16, 4, 0, &m);
  snprintf(p, sizeof p, "%s/bad/jpeg-cmyk/train/a/0.jpg", out);
  write_file(p, cmyk, m);
  fprintf(expected, "jpeg-cmyk\tJPEG colour space CMYK is not supported\n");
  snprintf(p, sizeof p, "%s/bad/jpeg-not-image/train/a/0.jpg", out);
  write_file(p, "GIF89a not really", 17);
  fprintf(expected, "jpeg-not-image\tnot a PNG or JPEG image\n");
  // Two sizes without --resize: the error says how to resize.
  snprintf(p, sizeof p, "%s/bad/jpeg-sizes/train/a/0.jpg", out);
  write_file(p, rgb, n);
  unsigned char *small = jpeg(pix, 8, 8, 3, 0, &m);    // the first 8 rows of 16 pixels would do; any 8x8
  snprintf(p, sizeof p, "%s/bad/jpeg-sizes/train/b/0.jpg", out);
  write_file(p, small, m);
  fprintf(expected, "jpeg-sizes\tgive --resize HxW\n");
  fclose(expected);
  free(pix), free(rgb), free(cmyk), free(small);
}

// Seeds for fuzz_data_jpeg: small files of every kind the reader meets.
static void gen_seeds(const char *dir) {
  char p[4096];
  unsigned long n;
  struct { const char *name; int w, h, c, progressive; } kinds[] = {
    {"rgb8x8.jpg", 8, 8, 3, 0}, {"grey4x4.jpg", 4, 4, 1, 0}, {"progressive.jpg", 8, 8, 3, 1},
    {"cmyk.jpg", 4, 4, 4, 0}, {"odd13x7.jpg", 13, 7, 3, 0},
  };
  for (int i = 0; i < 5; i++) {
    unsigned char *pix = pixels(kinds[i].w, kinds[i].h, kinds[i].c);
    unsigned char *d = jpeg(pix, kinds[i].w, kinds[i].h, kinds[i].c, kinds[i].progressive, &n);
    snprintf(p, sizeof p, "%s/%s", dir, kinds[i].name);
    write_file(p, d, n);
    if (i == 0) {
      snprintf(p, sizeof p, "%s/truncated.jpg", dir);
      write_file(p, d, n / 2);
      set_size(d, n, 65535, 65535);
      snprintf(p, sizeof p, "%s/huge.jpg", dir);
      write_file(p, d, n);
      snprintf(p, sizeof p, "%s/png-named.jpg", dir);
      png(p, pix, 8, 8, 3);
    }
    free(pix), free(d);
  }
}

static void gen_bench(int n, int side, const char *dir) {
  for (int i = 0; i < n; i++) {
    char p[4096];
    int w = side ? side : 24 + byte() % 41, h = side ? side : 24 + byte() % 41;
    snprintf(p, sizeof p, "%s/train/%d/%05d.jpg", dir, i % 10, i);
    unsigned char *pix = pixels(w, h, 3);
    unsigned long len;
    unsigned char *d = jpeg(pix, w, h, 3, 0, &len);
    write_file(p, d, len);
    free(pix), free(d);
  }
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "--bench")) {
    gen_bench(atoi(argv[2]), atoi(argv[3]), argv[4]);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "--seeds")) {
    gen_seeds(argv[2]);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: make_jpegs OUT | make_jpegs --seeds DIR\n");
    return 2;
  }
  gen_jpeg(argv[1]);
  gen_bad(argv[1]);
  return 0;
}
