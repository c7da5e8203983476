// storage_pg.c — studies in PostgreSQL (libpq), for workers on several
// machines, like Optuna's RDBStorage.  Same tables as the SQLite backend.
//
//  - Each state change is one transaction.  ask locks the study's row with
//    SELECT ... FOR UPDATE, so concurrent asks of one study serialise: the
//    budget check and the next number are read and the trial inserted
//    under the lock.  UNIQUE(study_id, number) backs this up.
//  - Creating the tables and the study takes a transaction-scoped advisory
//    lock, since concurrent CREATE TABLE IF NOT EXISTS can collide.
//  - A lost connection is reopened once per call (PQreset) and the
//    transaction retried; serialisation failures and deadlocks are retried.
//  - Values are sent as text with 17 significant digits (round-trips).
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpo.h"

typedef struct { PGconn *c; } Pg;

static const char *schema =
    "CREATE TABLE IF NOT EXISTS studies(id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " space TEXT NOT NULL, direction TEXT NOT NULL DEFAULT 'minimize');"
    "CREATE TABLE IF NOT EXISTS trials(id BIGSERIAL PRIMARY KEY,"
    " study_id BIGINT NOT NULL REFERENCES studies(id), number INTEGER NOT NULL,"
    " state TEXT NOT NULL, value DOUBLE PRECISION, worker TEXT, started DOUBLE PRECISION,"
    " finished DOUBLE PRECISION, heartbeat DOUBLE PRECISION, UNIQUE(study_id, number));"
    "CREATE TABLE IF NOT EXISTS trial_params(trial_id BIGINT NOT NULL REFERENCES trials(id),"
    " name TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY(trial_id, name));"
    "CREATE TABLE IF NOT EXISTS trial_values(trial_id BIGINT NOT NULL REFERENCES trials(id),"
    " step INTEGER NOT NULL, value DOUBLE PRECISION, PRIMARY KEY(trial_id, step));";

// A query with text parameters; returns the result (caller clears) or NULL
// with st->err set.  ok is PGRES_COMMAND_OK or PGRES_TUPLES_OK.
static PGresult *q(HpoStorage *st, const char *sql, int n, const char *const *v) {
  Pg *p = st->impl;
  // PQexec (no parameters) accepts several statements, as the schema needs.
  PGresult *r = n ? PQexecParams(p->c, sql, n, NULL, v, NULL, NULL, 0) : PQexec(p->c, sql);
  ExecStatusType s = PQresultStatus(r);
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return r;
  snprintf(st->err, sizeof st->err, "postgresql: %s", PQerrorMessage(p->c));
  PQclear(r);
  return NULL;
}

static int exec0(HpoStorage *st, const char *sql, int n, const char *const *v) {
  PGresult *r = q(st, sql, n, v);
  if (!r) return -1;
  PQclear(r);
  return 0;
}

// Body of a transaction: returns -1 on error, else a result for the caller.
typedef int (*TxBody)(HpoStorage *st, void *arg);

static int retryable(HpoStorage *st) {
  Pg *p = st->impl;
  if (PQstatus(p->c) != CONNECTION_OK) {
    PQreset(p->c);
    return PQstatus(p->c) == CONNECTION_OK;
  }
  // serialization_failure, deadlock_detected, unique_violation (two
  // creators of the schema or the same study at once)
  return strstr(st->err, "deadlock") || strstr(st->err, "serializ") ||
         strstr(st->err, "duplicate key");
}

static int pg_tx(HpoStorage *st, TxBody body, void *arg) {
  for (int attempt = 0;; attempt++) {
    int rc = exec0(st, "BEGIN", 0, NULL);
    if (rc == 0) rc = body(st, arg);
    if (rc >= 0 && exec0(st, "COMMIT", 0, NULL) == 0) return rc;
    char keep[sizeof st->err];
    memcpy(keep, st->err, sizeof keep);
    Pg *p = st->impl;
    if (PQstatus(p->c) == CONNECTION_OK) exec0(st, "ROLLBACK", 0, NULL);
    memcpy(st->err, keep, sizeof keep);
    if (attempt >= 20 || !retryable(st)) return -1;
    usleep((useconds_t)(2000 * (attempt + 1)));
  }
}

static void fmt_d(char *b, double v) { snprintf(b, 32, "%.17g", v); }
static void fmt_i(char *b, int64_t v) { snprintf(b, 32, "%lld", (long long)v); }

typedef struct { const char *name, *space; int64_t id; char *space_out; size_t len; } OpenArg;

static int open_body(HpoStorage *st, void *vp) {
  OpenArg *a = vp;
  if (exec0(st, "SELECT pg_advisory_xact_lock(7177001)", 0, NULL) != 0) return -1;
  if (exec0(st, schema, 0, NULL) != 0) return -1;
  const char *v[2] = {a->name, a->space};
  if (exec0(st, "INSERT INTO studies(name, space) VALUES($1, $2) ON CONFLICT (name) DO NOTHING",
            2, v) != 0)
    return -1;
  PGresult *r = q(st, "SELECT id, space FROM studies WHERE name = $1", 1, v);
  if (!r) return -1;
  a->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  snprintf(a->space_out, a->len, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  return 0;
}

static int pg_study_open(HpoStorage *st, const char *name, const char *space, int64_t *id,
                         char *space_out, size_t len) {
  OpenArg a = {name, space, 0, space_out, len};
  if (pg_tx(st, open_body, &a) < 0) return -1;
  *id = a.id;
  return 0;
}

typedef struct { int64_t study; int max; const char *worker; double now; int64_t id; int number; } AskArg;

static int ask_body(HpoStorage *st, void *vp) {
  AskArg *a = vp;
  char sid[32], now[32], num[32];
  fmt_i(sid, a->study);
  const char *v1[1] = {sid};
  PGresult *r = q(st, "SELECT id FROM studies WHERE id = $1 FOR UPDATE", 1, v1);
  if (!r) return -1;
  PQclear(r);
  r = q(st, "SELECT COUNT(*) FILTER (WHERE state IN ('RUNNING','COMPLETE','PRUNED')),"
            " COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = $1", 1, v1);
  if (!r) return -1;
  int active = atoi(PQgetvalue(r, 0, 0));
  a->number = atoi(PQgetvalue(r, 0, 1));
  PQclear(r);
  if (a->max > 0 && active >= a->max) return 1;
  fmt_i(num, a->number);
  fmt_d(now, a->now);
  const char *v[5] = {sid, num, a->worker, now, now};
  r = q(st, "INSERT INTO trials(study_id, number, state, worker, started, heartbeat)"
            " VALUES($1, $2, 'RUNNING', $3, $4, $5) RETURNING id", 5, v);
  if (!r) return -1;
  a->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return 0;
}

static int pg_trial_ask(HpoStorage *st, int64_t study, int max, const char *worker, double now,
                        int64_t *id, int *number) {
  AskArg a = {study, max, worker, now, 0, 0};
  int rc = pg_tx(st, ask_body, &a);
  if (rc != 0) return rc;
  *id = a.id;
  *number = a.number;
  return 0;
}

typedef struct { int64_t id; const HpoSpace *space; const double *params; } ParamsArg;

static int params_body(HpoStorage *st, void *vp) {
  ParamsArg *a = vp;
  char id[32], val[32];
  fmt_i(id, a->id);
  for (int i = 0; i < a->space->n; i++) {
    fmt_d(val, a->params[i]);
    const char *v[3] = {id, a->space->p[i].name, val};
    if (exec0(st, "INSERT INTO trial_params VALUES($1, $2, $3) ON CONFLICT (trial_id, name)"
                  " DO UPDATE SET value = EXCLUDED.value", 3, v) != 0)
      return -1;
  }
  return 0;
}

static int pg_trial_set_params(HpoStorage *st, int64_t id, const HpoSpace *space,
                               const double *params) {
  ParamsArg a = {id, space, params};
  return pg_tx(st, params_body, &a);
}

typedef struct { int64_t id; int step; double value, now; HpoState state; } TellArg;

static int report_body(HpoStorage *st, void *vp) {
  TellArg *a = vp;
  char id[32], step[32], val[32], now[32];
  fmt_i(id, a->id), fmt_i(step, a->step), fmt_d(val, a->value), fmt_d(now, a->now);
  const char *v[3] = {id, step, isnan(a->value) ? NULL : val};
  if (exec0(st, "INSERT INTO trial_values VALUES($1, $2, $3) ON CONFLICT (trial_id, step)"
                " DO UPDATE SET value = EXCLUDED.value", 3, v) != 0)
    return -1;
  const char *h[2] = {now, id};
  return exec0(st, "UPDATE trials SET heartbeat = $1 WHERE id = $2", 2, h);
}

static int pg_trial_report(HpoStorage *st, int64_t id, int step, double value, double now) {
  TellArg a = {id, step, value, now, 0};
  return pg_tx(st, report_body, &a);
}

static int heartbeat_body(HpoStorage *st, void *vp) {
  TellArg *a = vp;
  char id[32], now[32];
  fmt_i(id, a->id), fmt_d(now, a->now);
  const char *h[2] = {now, id};
  return exec0(st, "UPDATE trials SET heartbeat = $1 WHERE id = $2", 2, h);
}

static int pg_trial_heartbeat(HpoStorage *st, int64_t id, double now) {
  TellArg a = {id, 0, 0, now, 0};
  return pg_tx(st, heartbeat_body, &a);
}

static int tell_body(HpoStorage *st, void *vp) {
  TellArg *a = vp;
  char id[32], val[32], now[32];
  fmt_i(id, a->id), fmt_d(val, a->value), fmt_d(now, a->now);
  const char *v[4] = {trial_state_name(a->state), isnan(a->value) ? NULL : val, now, id};
  PGresult *r = q(st, "UPDATE trials SET state = $1, value = $2, finished = $3"
                      " WHERE id = $4 AND state = 'RUNNING'", 4, v);
  if (!r) return -1;
  int changed = atoi(PQcmdTuples(r));
  PQclear(r);
  return changed == 1 ? 0 : 1;
}

static int pg_trial_tell(HpoStorage *st, int64_t id, HpoState state, double value, double now) {
  TellArg a = {id, 0, value, now, state};
  return pg_tx(st, tell_body, &a);
}

typedef struct { int64_t study; const HpoSpace *space; HpoTrial *t; int n; } LoadArg;

static double getd(PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

static HpoTrial *find_id(HpoTrial *t, int n, int64_t id) {
  for (int i = 0; i < n; i++)
    if (t[i].id == id) return &t[i];
  return NULL;
}

static int load_body(HpoStorage *st, void *vp) {
  LoadArg *a = vp;
  char sid[32];
  fmt_i(sid, a->study);
  const char *v[1] = {sid};
  // REPEATABLE READ (set below) makes the three reads one snapshot.
  PGresult *r = q(st, "SELECT id, number, state, value, worker, started, finished, heartbeat"
                      " FROM trials WHERE study_id = $1 ORDER BY number", 1, v);
  if (!r) return -1;
  int n = PQntuples(r);
  a->t = calloc((size_t)n + 1, sizeof *a->t);
  a->n = n;
  for (int i = 0; i < n; i++) {
    HpoTrial *x = &a->t[i];
    trial_init(x, a->space->n);
    x->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    x->number = atoi(PQgetvalue(r, i, 1));
    x->state = trial_state_parse(PQgetvalue(r, i, 2));
    x->value = getd(r, i, 3);
    snprintf(x->worker, sizeof x->worker, "%s", PQgetvalue(r, i, 4));
    x->started = getd(r, i, 5);
    x->finished = getd(r, i, 6);
    x->heartbeat = getd(r, i, 7);
    if (isnan(x->finished)) x->finished = 0;
  }
  PQclear(r);
  r = q(st, "SELECT p.trial_id, p.name, p.value FROM trial_params p JOIN trials t"
            " ON t.id = p.trial_id WHERE t.study_id = $1", 1, v);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    HpoTrial *x = find_id(a->t, n, strtoll(PQgetvalue(r, i, 0), NULL, 10));
    int pi = space_find(a->space, PQgetvalue(r, i, 1));
    if (x && pi >= 0) x->params[pi] = getd(r, i, 2);
  }
  PQclear(r);
  r = q(st, "SELECT v.trial_id, v.step, v.value FROM trial_values v JOIN trials t"
            " ON t.id = v.trial_id WHERE t.study_id = $1 ORDER BY v.trial_id, v.step", 1, v);
  if (!r) return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    HpoTrial *x = find_id(a->t, n, strtoll(PQgetvalue(r, i, 0), NULL, 10));
    if (x) trial_add_inter(x, atoi(PQgetvalue(r, i, 1)), getd(r, i, 2));
  }
  PQclear(r);
  return 0;
}

static int load_tx(HpoStorage *st, void *vp) {
  if (exec0(st, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", 0, NULL) != 0) return -1;
  LoadArg *a = vp;
  int rc = load_body(st, vp);
  if (rc < 0) {
    trials_free(a->t, a->n);
    a->t = NULL, a->n = 0;
  }
  return rc;
}

static int pg_trials_load(HpoStorage *st, int64_t study, const HpoSpace *space, HpoTrial **out,
                          int *n) {
  LoadArg a = {study, space, NULL, 0};
  if (pg_tx(st, load_tx, &a) < 0) return -1;
  *out = a.t;
  *n = a.n;
  return 0;
}

static void pg_close(HpoStorage *st) {
  Pg *p = st->impl;
  PQfinish(p->c);
  free(p);
  free(st);
}

static const HpoStorageOps pg_ops = {
    pg_study_open, pg_trial_ask, pg_trial_set_params, pg_trial_report,
    pg_trial_heartbeat, pg_trial_tell, pg_trials_load, pg_close,
};

HpoStorage *storage_pg_open(const char *conninfo, char *err, size_t errlen) {
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    snprintf(err, errlen, "postgresql: cannot connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PGresult *r = PQexec(c, "SET client_min_messages = warning");
  PQclear(r);
  HpoStorage *st = calloc(1, sizeof *st);
  Pg *p = calloc(1, sizeof *p);
  p->c = c;
  st->ops = &pg_ops;
  st->impl = p;
  return st;
}
