// test_storage.c — the storage interface on one backend (a SQLite file, or
// the postgresql:// URL given as argv[1]): values round-trip exactly, the
// trial budget is enforced at ask, a trial ends once (a second tell is
// refused), and the RUNNING trial of a dead worker is failed on resume
// while a live worker's is kept.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "hpo.h"


#define SPACE "lr=float:1e-4:1e-1:log;optimizer=cat:adam,sgd;latent=int:2:16"

int main(int argc, char **argv) {
  char path[256], err[512], name[64], stored[1024];
  snprintf(path, sizeof path, "/tmp/hpo-storage-%d.db", (int)getpid());
  const char *url = argc > 1 ? argv[1] : path;
  snprintf(name, sizeof name, "storage-test-%d", (int)getpid());
  HpoSpace sp;
  space_parse(&sp, SPACE, err, sizeof err);
  HpoStorage *st = storage_open(url, err, sizeof err);
  if (!st) { printf("FAIL: %s\n", err); return 1; }
  const HpoStorageOps *op = st->ops;
  int64_t study, id[4];
  int num[4];
  CHECK(op->study_open(st, name, SPACE, &study, stored, sizeof stored) == 0, "%s", st->err);
  CHECK(strcmp(stored, SPACE) == 0, "stored space '%s'", stored);
  double now = hpo_now();
  char me[96];
  worker_id(me, sizeof me);
  // Budget 3: three asks succeed, the fourth is refused.
  for (int i = 0; i < 3; i++) {
    CHECK(op->trial_ask(st, study, 3, me, now, &id[i], &num[i]) == 0, "ask %d: %s", i, st->err);
    CHECK(num[i] == i, "trial number %d, expected %d", num[i], i);
  }
  CHECK(op->trial_ask(st, study, 3, me, now, &id[3], &num[3]) == 1, "ask over the budget accepted");
  // Exact round trip of parameters and values.
  double params[3] = {0.0012345678901234567, 1, 7};
  CHECK(op->trial_set_params(st, id[0], &sp, params) == 0, "%s", st->err);
  CHECK(op->trial_report(st, id[0], 1, 0.1234567890123456789, now) == 0, "%s", st->err);
  CHECK(op->trial_report(st, id[0], 2, 1.0 / 3.0, now) == 0, "%s", st->err);
  CHECK(op->trial_tell(st, id[0], HPO_COMPLETE, M_PI / 10, now) == 0, "%s", st->err);
  // Ended once: a second tell is refused and changes nothing.
  CHECK(op->trial_tell(st, id[0], HPO_FAIL, NAN, now) == 1, "second tell accepted");
  // A FAIL frees its place in the budget.
  CHECK(op->trial_tell(st, id[1], HPO_FAIL, NAN, now) == 0, "%s", st->err);
  CHECK(op->trial_ask(st, study, 3, me, now, &id[3], &num[3]) == 0 && num[3] == 3,
        "ask after a FAIL: %d", num[3]);
  // Trials 2 and 3 are RUNNING, by this (live) process.
  HpoTrial *t;
  int n;
  CHECK(op->trials_load(st, study, &sp, &t, &n) == 0 && n == 4, "load: %s (n=%d)", st->err, n);
  if (n == 4) {
    CHECK(t[0].state == HPO_COMPLETE && t[0].value == M_PI / 10, "value %.17g", t[0].value);
    CHECK(t[0].params[0] == params[0] && t[0].params[1] == 1 && t[0].params[2] == 7,
          "params %.17g %g %g", t[0].params[0], t[0].params[1], t[0].params[2]);
    CHECK(t[0].n_inter == 2 && t[0].inter[0] == 0.1234567890123456789 && t[0].inter[1] == 1.0 / 3.0,
          "intermediate values");
    CHECK(t[1].state == HPO_FAIL && t[2].state == HPO_RUNNING, "states");
    CHECK(!worker_is_dead(&t[3], now, 60), "a live worker declared dead");
    HpoTrial dead = t[2];
    snprintf(dead.worker, sizeof dead.worker, "%s", me);
    *strrchr(dead.worker, ':') = 0;
    char *c = strrchr(dead.worker, ':');
    snprintf(c, sizeof dead.worker - (size_t)(c - dead.worker), ":999999999:1");
    CHECK(worker_is_dead(&dead, now, 60), "a dead worker (%s) declared alive", dead.worker);
    dead.heartbeat = now - 100;
    snprintf(dead.worker, sizeof dead.worker, "elsewhere:1:1");
    CHECK(worker_is_dead(&dead, now, 60), "stale heartbeat of another host not dead");
    dead.heartbeat = now - 10;
    CHECK(!worker_is_dead(&dead, now, 60), "fresh heartbeat of another host declared dead");
  }
  trials_free(t, n);
  // Resume: with a grace of -1 s every heartbeat is stale, so both RUNNING
  // trials (2 and 3) are failed; the COMPLETE one is untouched.
  int k = storage_fail_dead(st, study, &sp, now + 1, -1);
  CHECK(k == 2, "fail_dead failed %d trials, expected the 2 RUNNING ones", k);
  CHECK(op->trials_load(st, study, &sp, &t, &n) == 0, "%s", st->err);
  int running = 0;
  for (int i = 0; i < n; i++) running += t[i].state == HPO_RUNNING;
  CHECK(running == 0 && t[0].state == HPO_COMPLETE && t[0].value == M_PI / 10,
        "after fail_dead: %d running, trial 0 %s", running, trial_state_name(t[0].state));
  trials_free(t, n);
  storage_close(st);
  if (argc <= 1) {
    unlink(path);
    char p2[300];
    snprintf(p2, sizeof p2, "%s-wal", path), unlink(p2);
    snprintf(p2, sizeof p2, "%s-shm", path), unlink(p2);
  }
  printf("%s: %s\n", argc > 1 ? "postgresql" : "sqlite",
         t_failures ? "FAILED" : "all storage checks passed");
  return t_failures != 0;
}
