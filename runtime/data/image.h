// image.h — one image file decoded to bytes, and its conversion to the
// float examples a Dataset holds (optionally resized).  The image folder
// reader (dataset_folder.c) is the user; each decoder is a file of its own.
//
// An Image is [h, w, c] unsigned bytes as the file stores them, c = 1
// (grey) or 3 (RGB); its buffer grows as needed and is reused from one
// image to the next (no allocation per image once it is large enough).
#ifndef NETRT_IMAGE_H
#define NETRT_IMAGE_H

#include <stddef.h>
#include <stdio.h>

#define IMAGE_MAX_SIDE 4096        // larger than any image a small CNN reads

typedef struct {
  int w, h, c;
  unsigned char *pix;              // [h, w, c]
  size_t cap;                      // bytes allocated at pix
} Image;

void image_free(Image *im);
// Makes room for the image's w*h*c bytes; 0 or -1 (out of memory).
int image_reserve(Image *im);

// Decoders over an open file (positioned at its start) named path for
// messages: with header_only, only w, h and c are set.  Returns 0, or -1
// after printing "PATH: reason".
int image_read_png(FILE *f, const char *path, Image *im, int header_only);   // libpng
int image_read_jpeg(FILE *f, const char *path, Image *im, int header_only);  // libjpeg(-turbo)

// The image as float [c, h, w], bytes / 255 (torchvision's ToTensor).
void image_to_float(const Image *im, float *out);

// The image resized to [c, oh, ow]: torch's
//   F.interpolate(x[None], size=(oh, ow), mode="bilinear", align_corners=False,
//                 antialias=True)[0]
// of x = the float image above (torchvision's Resize on a float tensor):
// separable, width first, with a triangle filter stretched by the scale
// when shrinking, so downscaling averages instead of aliasing.  scratch
// is reused between calls (free it with image_resize_free).
typedef struct {
  float *buf;                      // the float image and the width pass
  size_t cap;
  float *wx, *wy;                  // weights per output column / row
  int *x0, *nx, *y0, *ny;          // first input index and count of each
  int kx, ky;                      // weights stored per output index
  int in_w, in_h, out_w, out_h;    // what wx/wy were computed for
} ImageResize;

int image_resize(const Image *im, int oh, int ow, float *out, ImageResize *s);
void image_resize_free(ImageResize *s);

#endif
