// image_jpeg.c — a JPEG file to bytes (libjpeg-turbo): grey stays grey,
// YCbCr and RGB become RGB; CMYK, YCCK and other colour spaces are refused
// with the file named.
//
// Deterministic: the accurate integer IDCT (JDCT_ISLOW, libjpeg's
// default, whose SIMD versions are bit-exact with its C code) and the
// library's default upsampling and colour conversion; no JDCT_FLOAT or
// JDCT_IFAST, whose results differ by CPU or are approximate.  These are
// also the defaults of PIL and torchvision.io.decode_jpeg, which give the
// same bytes with the same libjpeg-turbo.
//
// libjpeg reports errors through error_exit, which would exit(): ours
// longjmps back with the message.  A file that ends early is an error
// too (libjpeg would fill the rest grey with a warning; PIL refuses it as
// truncated); libjpeg's other warnings (e.g. extraneous bytes before a
// marker) are not, as in PIL.
#include <setjmp.h>
#include <stdio.h>                 // before jpeglib.h, which uses FILE and size_t
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image.h"

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jmp;
  char msg[JMSG_LENGTH_MAX];
} JpegError;

static void on_error(j_common_ptr ci) {
  JpegError *e = (JpegError *)ci->err;
  ci->err->format_message(ci, e->msg);
  longjmp(e->jmp, 1);
}

// Level -1: a warning; 0 and above: trace messages (silent).
static void on_message(j_common_ptr ci, int level) {
  if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF)
    on_error(ci);
  if (level < 0)
    ci->err->num_warnings++;
}

static void on_output(j_common_ptr ci) { (void)ci; }

int image_read_jpeg(FILE *f, const char *path, Image *im, int header_only) {
  struct jpeg_decompress_struct ci;
  JpegError err;
  char why[JMSG_LENGTH_MAX + 64];
  ci.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.pub.output_message = on_output;
  err.msg[0] = 0;
  if (setjmp(err.jmp)) {
    jpeg_destroy_decompress(&ci);
    snprintf(why, sizeof why, "not a readable JPEG: %s", err.msg);
    fprintf(stderr, "%s: %s\n", path, why);
    return -1;
  }
  jpeg_create_decompress(&ci);
  // Memory for a progressive file's coefficients, well above what a
  // 4096 x 4096 image needs; there is no backing store to spill to.
  ci.mem->max_memory_to_use = 512L << 20;
  jpeg_stdio_src(&ci, f);
  jpeg_read_header(&ci, TRUE);
  const char *space = NULL;
  switch (ci.jpeg_color_space) {
  case JCS_GRAYSCALE: ci.out_color_space = JCS_GRAYSCALE; break;
  case JCS_YCbCr: case JCS_RGB: ci.out_color_space = JCS_RGB; break;
  case JCS_CMYK: space = "CMYK"; break;
  case JCS_YCCK: space = "YCCK"; break;
  default: space = "of an unknown kind"; break;
  }
  int w = (int)ci.image_width, h = (int)ci.image_height;
  if (space || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE) {
    jpeg_destroy_decompress(&ci);
    if (space)
      snprintf(why, sizeof why, "JPEG colour space %s is not supported (grey or RGB only: convert it to RGB)",
               space);
    else
      snprintf(why, sizeof why, "image is %dx%d, larger than %d on a side", w, h, IMAGE_MAX_SIDE);
    fprintf(stderr, "%s: %s\n", path, why);
    return -1;
  }
  im->w = w, im->h = h, im->c = ci.out_color_space == JCS_RGB ? 3 : 1;
  if (header_only) {
    jpeg_destroy_decompress(&ci);
    return 0;
  }
  ci.dct_method = JDCT_ISLOW;
  if (image_reserve(im)) {
    jpeg_destroy_decompress(&ci);
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  jpeg_start_decompress(&ci);
  if ((int)ci.output_components != im->c || (int)ci.output_width != w || (int)ci.output_height != h) {
    jpeg_destroy_decompress(&ci);
    fprintf(stderr, "%s: unexpected JPEG output layout\n", path);
    return -1;
  }
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW row = im->pix + (size_t)ci.output_scanline * w * im->c;
    jpeg_read_scanlines(&ci, &row, 1);
  }
  jpeg_finish_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  return 0;
}
