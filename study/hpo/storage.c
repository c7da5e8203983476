// storage.c — the storage interface: choosing a backend, worker ids, and
// failing the trials of dead workers (the part of resuming that is the same
// for every backend).
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "hpo.h"

double hpo_now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

HpoStorage *storage_open(const char *url, char *err, size_t errlen) {
  if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
    return storage_pg_open(url, err, errlen);
  if (strncmp(url, "sqlite:///", 10) == 0) url += 10;   // Optuna-style URL
  return storage_sqlite_open(url, err, errlen);
}

void storage_close(HpoStorage *st) {
  if (st) st->ops->close(st);
}

// Field 22 of /proc/PID/stat: the process's start time in clock ticks since
// boot.  With the pid it identifies a process uniquely until reboot.  A
// zombie (state Z: killed, not yet reaped by its new parent) counts as gone:
// 0 is returned, as for no process.
static unsigned long long proc_starttime(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');   // the command name may contain spaces
  if (!p) return 0;
  unsigned long long v = 0;
  if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')) return 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ') field++;
  if (field == 22) v = strtoull(p, NULL, 10);
  return v;
}

static void host_name(char *out, size_t len) {
  if (gethostname(out, len) != 0) snprintf(out, len, "localhost");
  out[len - 1] = 0;
}

void worker_id(char *out, size_t len) {
  char host[64];
  host_name(host, sizeof host);
  long pid = (long)getpid();
  snprintf(out, len, "%s:%ld:%llu", host, pid, proc_starttime(pid));
}

int worker_is_dead(const HpoTrial *t, double now, double grace) {
  if (t->heartbeat > 0 && now - t->heartbeat > grace) return 1;
  char host[64], whost[96];
  host_name(host, sizeof host);
  const char *c2 = strrchr(t->worker, ':');
  if (!c2) return 0;
  const char *c1 = c2 - 1;
  while (c1 > t->worker && *c1 != ':') c1--;
  if (c1 <= t->worker || *c1 != ':') return 0;
  snprintf(whost, sizeof whost, "%.*s", (int)(c1 - t->worker), t->worker);
  if (strcmp(whost, host) != 0) return 0;   // another machine: heartbeat only
  long pid = strtol(c1 + 1, NULL, 10);
  unsigned long long st = strtoull(c2 + 1, NULL, 10);
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 1;
  // Gone (or a zombie), or the pid now belongs to another process.
  return proc_starttime(pid) != st;
}

int storage_fail_dead(HpoStorage *st, int64_t study_id, const HpoSpace *space, double now,
                      double grace) {
  HpoTrial *t;
  int n, failed = 0;
  if (st->ops->trials_load(st, study_id, space, &t, &n) != 0) return -1;
  for (int i = 0; i < n; i++) {
    if (t[i].state != HPO_RUNNING || !worker_is_dead(&t[i], now, grace)) continue;
    int rc = st->ops->trial_tell(st, t[i].id, HPO_FAIL, NAN, now);
    if (rc < 0) { failed = -1; break; }
    failed += rc == 0;
  }
  trials_free(t, n);
  return failed;
}
