// replay_main.c — a plain main() for a fuzz target, for compilers without
// libFuzzer (the main gcc build): runs LLVMFuzzerTestOneInput once on each
// file named on the command line, and on each file of each directory.
// Built with the debug preset's ASan + UBSan, it replays the corpus under
// the sanitizers; a finding aborts with the sanitizer's report.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t cap = 4096, n = 0, got;
  uint8_t *buf = malloc(cap);
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap)
      buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  // An exact-size copy, so ASan sees a read one past the input.
  uint8_t *in = malloc(n ? n : 1);
  memcpy(in, buf, n);
  free(buf);
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput(in, n);
  free(in);
  return 0;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  int files = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad += run_file(argv[i]);
      files++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      names = realloc(names, (n + 1) * sizeof *names);
      size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
      names[n] = malloc(len);
      snprintf(names[n++], len, "%s/%s", argv[i], e->d_name);
    }
    if (d)
      closedir(d);
    if (n)
      qsort(names, n, sizeof *names, cmp);
    for (size_t k = 0; k < n; k++) {
      struct stat fs;
      if (stat(names[k], &fs) == 0 && S_ISREG(fs.st_mode)) {
        bad += run_file(names[k]);
        files++;
      }
      free(names[k]);
    }
    free(names);
  }
  printf("replayed %d inputs, %d unreadable\n", files, bad);
  return bad != 0 || files == 0;
}
