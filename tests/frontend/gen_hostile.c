// gen_hostile.c — writes a hostile "model" for the robustness tests:
//   gen_hostile random  FILE BYTES   random bytes (xorshift64*, fixed seed)
//   gen_hostile parens  FILE BYTES   a loss of BYTES nested '('
//   gen_hostile layers  FILE BYTES   one net line of BYTES/10 dense layers
//   gen_hostile chain   FILE BYTES   a loss of BYTES/4 terms: x + x + ...
//   gen_hostile nets    FILE BYTES   nets that each apply the previous one twice
// Deterministic, so a failure can be reproduced.
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: gen_hostile random|parens|layers FILE BYTES\n");
    return 2;
  }
  FILE *f = fopen(argv[2], "wb");
  if (!f) {
    perror(argv[2]);
    return 2;
  }
  long n = atol(argv[3]);
  if (!strcmp(argv[1], "random")) {
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++) {
      s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
      fputc((int)((s * 0x2545f4914f6cdd1dULL) >> 56), f);
    }
  } else if (!strcmp(argv[1], "parens")) {
    fputs("model m {\n    input x: image\n    loss mean(x) * ", f);
    for (long i = 0; i < n; i++)
      fputc('(', f);
    fputs("1\n}\n", f);
  } else if (!strcmp(argv[1], "chain")) {
    fputs("model m {\n    input x: image\n    loss mean(x", f);
    for (long i = 0; i < n / 4; i++)
      fputs(" + x", f);
    fputs(")\n}\n", f);
  } else if (!strcmp(argv[1], "nets")) {
    fputs("net n0(x: [4]) -> [4] { dense(4) }\n", f);
    long i;
    for (i = 1; i < n / 40 && i < 4000; i++)
      fprintf(f, "net n%ld(x: [4]) -> [4] { a: n%ld b: n%ld }\n", i, i - 1, i - 1);
    fprintf(f, "model m {\n    input x: image\n    loss mean(n%ld(dense_input(x)))\n}\n", i - 1);
  } else {
    fputs("net n(x: [4]) -> [4] {\n    ", f);
    for (long i = 0; i < n / 10; i++)
      fputs("dense(4)  ", f);
    fputs("\n}\nmodel m {\n    input x: image\n    loss mean(x)\n}\n", f);
  }
  return fclose(f) ? 2 : 0;
}
