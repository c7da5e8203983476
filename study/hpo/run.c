// run.c — one trial as a subprocess: start the trainer, follow its CSV log
// as epochs land (each row's val_loss is an intermediate value for the
// pruner), stop it when pruned, read the final JSON line of its stdout.
//
// The trainer runs in its own process group (so pruning kills a shell
// wrapper and everything under it) and gets SIGKILL when the worker dies
// (PR_SET_PDEATHSIG), so a worker killed with kill -9 leaves no orphan
// training behind to write into a trial that resumes as FAIL.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hpo.h"

double hpo_json_number(const char *line, const char *key) {
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(line, pat);
  if (!p) return NAN;
  p += strlen(pat);
  while (*p == ' ' || *p == ':') p++;
  char *end;
  double v = strtod(p, &end);
  return end == p ? NAN : v;   // also "null", "NaN"
}

// Follows a CSV file that grows: remembers how far it read and which
// columns hold the epoch and the validation loss.
typedef struct {
  FILE *f;
  int epoch_col, val_col, have_header;
  char line[4096];
  size_t len;
} Follow;

static int csv_col(const char *header, const char *name) {
  int col = 0;
  const char *p = header;
  size_t n = strlen(name);
  for (;;) {
    while (*p == ' ') p++;
    if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\n' || p[n] == '\r' || !p[n]))
      return col;
    p = strchr(p, ',');
    if (!p) return -1;
    p++, col++;
  }
}

static double csv_field(const char *line, int col) {
  for (int c = 0; c < col; c++) {
    line = strchr(line, ',');
    if (!line) return NAN;
    line++;
  }
  char *end;
  double v = strtod(line, &end);
  return end == line ? NAN : v;
}

// Reads the complete lines that arrived since the last call.
static int follow_poll(Follow *fw, const char *path, const HpoRun *r, int *epochs) {
  if (!fw->f && !(fw->f = fopen(path, "r"))) return 0;
  int c;
  clearerr(fw->f);
  while ((c = fgetc(fw->f)) != EOF) {
    if (fw->len < sizeof fw->line - 1) fw->line[fw->len++] = (char)c;
    if (c != '\n') continue;
    fw->line[fw->len] = 0;
    fw->len = 0;
    if (!fw->have_header) {
      fw->have_header = 1;
      fw->epoch_col = csv_col(fw->line, "epoch");
      fw->val_col = csv_col(fw->line, "val_loss");
      continue;
    }
    if (fw->val_col < 0) continue;
    double e = fw->epoch_col >= 0 ? csv_field(fw->line, fw->epoch_col) : *epochs + 1;
    double v = csv_field(fw->line, fw->val_col);
    *epochs = (int)e;
    if (r->on_epoch && r->on_epoch(r->ctx, (int)e, v)) return 1;
  }
  return 0;
}

static void kill_group(pid_t pid) {
  kill(-pid, SIGTERM);
  for (int i = 0; i < 50; i++) {   // up to 1 s to exit cleanly
    if (waitpid(pid, NULL, WNOHANG) == pid) { kill(-pid, SIGKILL); return; }
    usleep(20000);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

HpoRunResult run_trial(const HpoRun *r, double *value, int *epochs, char *err, size_t errlen) {
  *value = NAN;
  *epochs = 0;
  unlink(r->log_path);
  int pfd[2];
  if (pipe(pfd) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return HPO_RUN_FAILED;
  }
  if (r->out_path) close(open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return HPO_RUN_FAILED;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);   // the worker died before prctl
    // stdout (the JSON line) through the pipe; stderr straight to the file.
    int efd = r->out_path ? open(r->out_path, O_WRONLY | O_APPEND) : open("/dev/null", O_WRONLY);
    dup2(pfd[1], 1);
    if (efd >= 0) dup2(efd, 2), close(efd);
    close(pfd[0]), close(pfd[1]);
    execl("/bin/sh", "sh", "-c", r->cmd, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  close(pfd[1]);
  fcntl(pfd[0], F_SETFL, O_NONBLOCK);
  FILE *out = r->out_path ? fopen(r->out_path, "a") : NULL;
  Follow fw = {0};
  char last[4096] = "", cur[4096];
  size_t curlen = 0;
  int eof = 0, status = 0;
  HpoRunResult res = HPO_RUN_DONE;
  for (;;) {
    struct pollfd pf = {pfd[0], POLLIN, 0};
    if (!eof) poll(&pf, 1, 100);
    else usleep(20000);
    char buf[4096];
    ssize_t k;
    while (!eof && (k = read(pfd[0], buf, sizeof buf)) != 0) {
      if (k < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) eof = 1;
        break;
      }
      if (out) fwrite(buf, 1, (size_t)k, out), fflush(out);
      for (ssize_t i = 0; i < k; i++) {   // keep the last non-empty line
        if (buf[i] == '\n') {
          cur[curlen] = 0;
          if (curlen) memcpy(last, cur, curlen + 1);
          curlen = 0;
        } else if (curlen < sizeof cur - 1) {
          cur[curlen++] = buf[i];
        }
      }
    }
    if (follow_poll(&fw, r->log_path, r, epochs)) { res = HPO_RUN_PRUNED; break; }
    if (r->on_tick && r->on_tick(r->ctx)) { res = HPO_RUN_STOPPED; break; }
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = 0;
      // Drain what is left, then the rows written just before exiting.
      while ((k = read(pfd[0], buf, sizeof buf)) > 0) {
        if (out) fwrite(buf, 1, (size_t)k, out);
        for (ssize_t i = 0; i < k; i++) {
          if (buf[i] == '\n') {
            cur[curlen] = 0;
            if (curlen) memcpy(last, cur, curlen + 1);
            curlen = 0;
          } else if (curlen < sizeof cur - 1) {
            cur[curlen++] = buf[i];
          }
        }
      }
      if (curlen) { cur[curlen] = 0; memcpy(last, cur, curlen + 1); }
      if (follow_poll(&fw, r->log_path, r, epochs)) res = HPO_RUN_PRUNED;
      break;
    }
  }
  if (pid > 0) kill_group(pid);
  close(pfd[0]);
  if (out) fclose(out);
  if (fw.f) fclose(fw.f);
  if (res != HPO_RUN_DONE) return res;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status)) snprintf(err, errlen, "trainer killed by signal %d", WTERMSIG(status));
    else snprintf(err, errlen, "trainer exited with status %d", WEXITSTATUS(status));
    return HPO_RUN_FAILED;
  }
  *value = hpo_json_number(last, "val_loss");
  if (isnan(*value)) {
    snprintf(err, errlen, "no val_loss in the trainer's last line: %.200s", last);
    return HPO_RUN_FAILED;
  }
  // The driver's JSON summary names the epochs it ran "epochs".
  double e = hpo_json_number(last, "epochs");
  if (!isnan(e)) *epochs = (int)e;
  return HPO_RUN_DONE;
}
