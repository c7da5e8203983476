// fuzz_util.c — the input file's directory and the exit() trap (fuzz.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

jmp_buf fuzz_exit_jmp;
int fuzz_exit_armed;

void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) {
  if (fuzz_exit_armed) {
    fuzz_exit_armed = 0;
    longjmp(fuzz_exit_jmp, 1);
  }
  __real_exit(status);
}

static char dir[64];

static void dir_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

const char *fuzz_path(const char *name) {
  static char path[128];
  if (!dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/netc-fuzz-XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
      perror("fuzz: mkdtemp");
      abort();
    }
    atexit(dir_remove);
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

void fuzz_write(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    perror(path);
    abort();
  }
}
