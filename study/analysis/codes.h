// codes.h — files of labelled vectors: encoded test sets (latent codes) and
// embeddings.  Two formats, told apart by the first 8 bytes:
//
// Binary (little-endian), what trainers write:
//   char     magic[8] = "NETCODES"
//   uint32   version  = 1
//   uint32   n        rows
//   uint32   d        floats per row
//   uint32   reserved = 0
//   n rows of { int32 label; float32 x[d]; }
// numpy: np.fromfile(f, dtype=[('label','<i4'),('x','<f4',(d,))], offset=24)
//
// CSV, for hand-made input: one row per line, "label,x1,...,xd"; blank
// lines and lines starting with '#' are skipped; every row has the same d.
#ifndef NETANALYSIS_CODES_H
#define NETANALYSIS_CODES_H

typedef struct {
  int n, d;
  int *label; // (n)
  float *x;   // (n, d)
} Codes;

// Loads either format.  Returns 0, or -1 with "path: reason" on stderr.
int codes_load(const char *path, Codes *c);

// Writes the binary format.  Returns 0, or -1 with "path: reason" on stderr.
int codes_save(const char *path, const Codes *c);

// Allocates n x d (zeroed).  Returns 0 or -1.
int codes_alloc(Codes *c, int n, int d);
void codes_free(Codes *c);

#endif
