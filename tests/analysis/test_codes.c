// Code files: binary round trip, CSV with comments, errors with reasons.
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "codes.h"

int main(void) {
  char dir[] = "/tmp/netc-codes-XXXXXX", bin[64], csv[64], bad[64];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(bin, sizeof bin, "%s/a.bin", dir);
  snprintf(csv, sizeof csv, "%s/a.csv", dir);
  snprintf(bad, sizeof bad, "%s/bad.csv", dir);
  Codes c, r;
  CHECK(codes_alloc(&c, 5, 3) == 0, "alloc");
  for (int i = 0; i < 15; i++)
    c.x[i] = (float)(i * 0.25 - 1.5);
  for (int i = 0; i < 5; i++)
    c.label[i] = 9 - i;
  CHECK(codes_save(bin, &c) == 0, "save");
  CHECK(codes_load(bin, &r) == 0, "load");
  CHECK(r.n == 5 && r.d == 3, "%d x %d", r.n, r.d);
  CHECK(!memcmp(r.x, c.x, 15 * sizeof(float)) && !memcmp(r.label, c.label, 5 * sizeof(int)),
        "binary round trip differs");
  codes_free(&r);
  FILE *f = fopen(csv, "w");
  fprintf(f, "# label,x,y\n\n3, 1.5, -2\n7,0.25,1e3\r\n");
  fclose(f);
  CHECK(codes_load(csv, &r) == 0, "csv");
  CHECK(r.n == 2 && r.d == 2 && r.label[1] == 7 && r.x[3] == 1000.0f && r.x[1] == -2.0f,
        "csv content n=%d d=%d", r.n, r.d);
  codes_free(&r);
  f = fopen(bad, "w");
  fprintf(f, "1,2,3\n4,5\n");
  fclose(f);
  printf("codes: a ragged CSV must be refused; the message is:\n");
  fflush(stdout);
  CHECK(codes_load(bad, &r) != 0, "ragged CSV accepted");
  // A truncated binary file.
  f = fopen(bin, "r+b");
  CHECK(ftruncate(fileno(f), 24 + 16 * 2 + 5) == 0, "truncate");
  fclose(f);
  CHECK(codes_load(bin, &r) != 0, "truncated binary accepted");
  CHECK(codes_load("/nonexistent/codes.bin", &r) != 0, "missing file accepted");
  unlink(bin), unlink(csv), unlink(bad), rmdir(dir);
  codes_free(&c);
  return t_finish("test_codes");
}
