// storage_sqlite.c — studies in one SQLite file, the embedded default.
//
// Concurrency and crash safety:
//  - WAL journal: readers never block the writer and a process killed at
//    any point (kill -9) leaves the last committed state; synchronous=FULL
//    makes commits durable, not only atomic.
//  - Every state change is one transaction started with BEGIN IMMEDIATE
//    (takes the write lock up front, so two workers never both read the
//    trial count and then both insert).  busy_timeout waits for the lock;
//    a transaction that still meets SQLITE_BUSY is rolled back and retried
//    with a growing pause, so a busy database is never an error.
//  - UNIQUE(study_id, number) makes a duplicated trial number impossible
//    even if the logic above were wrong.
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpo.h"

typedef struct { sqlite3 *db; } Sq;

static const char *schema =
    "CREATE TABLE IF NOT EXISTS studies(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " space TEXT NOT NULL, direction TEXT NOT NULL DEFAULT 'minimize');"
    "CREATE TABLE IF NOT EXISTS trials(id INTEGER PRIMARY KEY,"
    " study_id INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL,"
    " state TEXT NOT NULL, value REAL, worker TEXT, started REAL, finished REAL, heartbeat REAL,"
    " UNIQUE(study_id, number));"
    "CREATE TABLE IF NOT EXISTS trial_params(trial_id INTEGER NOT NULL REFERENCES trials(id),"
    " name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(trial_id, name));"
    "CREATE TABLE IF NOT EXISTS trial_values(trial_id INTEGER NOT NULL REFERENCES trials(id),"
    " step INTEGER NOT NULL, value REAL, PRIMARY KEY(trial_id, step));";

static int sq_err(HpoStorage *st, const char *what) {
  Sq *s = st->impl;
  snprintf(st->err, sizeof st->err, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
  return -1;
}

static int is_busy(int rc) {
  rc &= 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

// Runs body inside BEGIN IMMEDIATE ... COMMIT, retrying the whole
// transaction while the database is busy.  body returns an SQLite result
// code on failure (SQLITE_OK or SQLITE_DONE for success), or a positive
// value >= 1000 meaning "success, report rc - 1000 to the caller".
typedef int (*TxBody)(sqlite3 *db, void *arg);
static int sq_tx(HpoStorage *st, TxBody body, void *arg, const char *what) {
  Sq *s = st->impl;
  for (int attempt = 0;; attempt++) {
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int out = 0;
    if (rc == SQLITE_OK) {
      rc = body(s->db, arg);
      if (rc >= 1000) out = rc - 1000, rc = SQLITE_OK;
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
      if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
      if (rc != SQLITE_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) return out;
    if (!is_busy(rc) || attempt > 200) return sq_err(st, what);
    usleep((useconds_t)(1000 * (1 + attempt % 50)));   // 1..50 ms, then again
  }
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return NULL;
  return q;
}

// Steps a statement to completion; returns SQLITE_DONE or the error.
static int run1(sqlite3_stmt *q) {
  if (!q) return SQLITE_ERROR;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {}
  sqlite3_finalize(q);
  return rc;
}

// ---- study_open

typedef struct { const char *name, *space; int64_t id; char *space_out; size_t len; } OpenArg;

static int open_body(sqlite3 *db, void *vp) {
  OpenArg *a = vp;
  sqlite3_stmt *q = prep(db, "INSERT OR IGNORE INTO studies(name, space) VALUES(?, ?)");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_text(q, 1, a->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, a->space, -1, SQLITE_STATIC);
  int rc = run1(q);
  if (rc != SQLITE_DONE) return rc;
  q = prep(db, "SELECT id, space FROM studies WHERE name = ?");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_text(q, 1, a->name, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    a->id = sqlite3_column_int64(q, 0);
    snprintf(a->space_out, a->len, "%s", (const char *)sqlite3_column_text(q, 1));
    rc = SQLITE_DONE;
  }
  sqlite3_finalize(q);
  return rc;
}

static int sq_study_open(HpoStorage *st, const char *name, const char *space, int64_t *id,
                         char *space_out, size_t len) {
  OpenArg a = {name, space, 0, space_out, len};
  if (sq_tx(st, open_body, &a, "open study") < 0) return -1;
  *id = a.id;
  return 0;
}

// ---- trial_ask

typedef struct { int64_t study; int max; const char *worker; double now; int64_t id; int number; } AskArg;

static int ask_body(sqlite3 *db, void *vp) {
  AskArg *a = vp;
  sqlite3_stmt *q = prep(db,
      "SELECT COUNT(*) FILTER (WHERE state IN ('RUNNING','COMPLETE','PRUNED')),"
      " COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_int64(q, 1, a->study);
  int rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) { sqlite3_finalize(q); return rc; }
  int active = sqlite3_column_int(q, 0);
  a->number = sqlite3_column_int(q, 1);
  sqlite3_finalize(q);
  if (a->max > 0 && active >= a->max) return 1000 + 1;   // budget used up
  q = prep(db, "INSERT INTO trials(study_id, number, state, worker, started, heartbeat)"
               " VALUES(?, ?, 'RUNNING', ?, ?, ?)");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_int64(q, 1, a->study);
  sqlite3_bind_int(q, 2, a->number);
  sqlite3_bind_text(q, 3, a->worker, -1, SQLITE_STATIC);
  sqlite3_bind_double(q, 4, a->now);
  sqlite3_bind_double(q, 5, a->now);
  rc = run1(q);
  a->id = sqlite3_last_insert_rowid(db);
  return rc;
}

static int sq_trial_ask(HpoStorage *st, int64_t study, int max, const char *worker, double now,
                        int64_t *id, int *number) {
  AskArg a = {study, max, worker, now, 0, 0};
  int rc = sq_tx(st, ask_body, &a, "ask");
  if (rc != 0) return rc;
  *id = a.id;
  *number = a.number;
  return 0;
}

// ---- trial_set_params

typedef struct { int64_t id; const HpoSpace *space; const double *params; } ParamsArg;

static int params_body(sqlite3 *db, void *vp) {
  ParamsArg *a = vp;
  for (int i = 0; i < a->space->n; i++) {
    sqlite3_stmt *q = prep(db, "INSERT OR REPLACE INTO trial_params VALUES(?, ?, ?)");
    if (!q) return SQLITE_ERROR;
    sqlite3_bind_int64(q, 1, a->id);
    sqlite3_bind_text(q, 2, a->space->p[i].name, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 3, a->params[i]);
    int rc = run1(q);
    if (rc != SQLITE_DONE) return rc;
  }
  return SQLITE_DONE;
}

static int sq_trial_set_params(HpoStorage *st, int64_t id, const HpoSpace *space,
                               const double *params) {
  ParamsArg a = {id, space, params};
  return sq_tx(st, params_body, &a, "set params");
}

// ---- trial_report, trial_heartbeat, trial_tell

typedef struct { int64_t id; int step; double value, now; HpoState state; } TellArg;

static int report_body(sqlite3 *db, void *vp) {
  TellArg *a = vp;
  sqlite3_stmt *q = prep(db, "INSERT OR REPLACE INTO trial_values VALUES(?, ?, ?)");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_int64(q, 1, a->id);
  sqlite3_bind_int(q, 2, a->step);
  if (isnan(a->value)) sqlite3_bind_null(q, 3);
  else sqlite3_bind_double(q, 3, a->value);
  int rc = run1(q);
  if (rc != SQLITE_DONE) return rc;
  q = prep(db, "UPDATE trials SET heartbeat = ? WHERE id = ?");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_double(q, 1, a->now);
  sqlite3_bind_int64(q, 2, a->id);
  return run1(q);
}

static int sq_trial_report(HpoStorage *st, int64_t id, int step, double value, double now) {
  TellArg a = {id, step, value, now, 0};
  return sq_tx(st, report_body, &a, "report");
}

static int heartbeat_body(sqlite3 *db, void *vp) {
  TellArg *a = vp;
  sqlite3_stmt *q = prep(db, "UPDATE trials SET heartbeat = ? WHERE id = ?");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_double(q, 1, a->now);
  sqlite3_bind_int64(q, 2, a->id);
  return run1(q);
}

static int sq_trial_heartbeat(HpoStorage *st, int64_t id, double now) {
  TellArg a = {id, 0, 0, now, 0};
  return sq_tx(st, heartbeat_body, &a, "heartbeat");
}

static int tell_body(sqlite3 *db, void *vp) {
  TellArg *a = vp;
  sqlite3_stmt *q = prep(db, "UPDATE trials SET state = ?, value = ?, finished = ?"
                             " WHERE id = ? AND state = 'RUNNING'");
  if (!q) return SQLITE_ERROR;
  sqlite3_bind_text(q, 1, trial_state_name(a->state), -1, SQLITE_STATIC);
  if (isnan(a->value)) sqlite3_bind_null(q, 2);
  else sqlite3_bind_double(q, 2, a->value);
  sqlite3_bind_double(q, 3, a->now);
  sqlite3_bind_int64(q, 4, a->id);
  int rc = run1(q);
  if (rc != SQLITE_DONE) return rc;
  return sqlite3_changes(db) == 1 ? SQLITE_DONE : 1000 + 1;
}

static int sq_trial_tell(HpoStorage *st, int64_t id, HpoState state, double value, double now) {
  TellArg a = {id, 0, value, now, state};
  return sq_tx(st, tell_body, &a, "tell");
}

// ---- trials_load: one read transaction, so the snapshot is consistent

static int sq_trials_load(HpoStorage *st, int64_t study, const HpoSpace *space, HpoTrial **out,
                          int *n_out) {
  Sq *s = st->impl;
  sqlite3 *db = s->db;
  HpoTrial *t = NULL;
  int n = 0, cap = 0, rc;
  for (int attempt = 0;; attempt++) {
    rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *q = prep(db, "SELECT id, number, state, value, worker, started, finished,"
                               " heartbeat FROM trials WHERE study_id = ? ORDER BY number");
    if (rc != SQLITE_OK || !q) goto fail;
    sqlite3_bind_int64(q, 1, study);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      if (n == cap) t = realloc(t, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *t);
      HpoTrial *x = &t[n++];
      trial_init(x, space->n);
      x->id = sqlite3_column_int64(q, 0);
      x->number = sqlite3_column_int(q, 1);
      x->state = trial_state_parse((const char *)sqlite3_column_text(q, 2));
      x->value = sqlite3_column_type(q, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 3);
      const unsigned char *w = sqlite3_column_text(q, 4);
      snprintf(x->worker, sizeof x->worker, "%s", w ? (const char *)w : "");
      x->started = sqlite3_column_double(q, 5);
      x->finished = sqlite3_column_double(q, 6);
      x->heartbeat = sqlite3_column_double(q, 7);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) goto fail;
    // Rows are joined back by trial id; trials come sorted by number, ids
    // grow with numbers, so a binary search by id finds the trial.
    q = prep(db, "SELECT p.trial_id, p.name, p.value FROM trial_params p JOIN trials t"
                 " ON t.id = p.trial_id WHERE t.study_id = ?");
    if (!q) goto fail;
    sqlite3_bind_int64(q, 1, study);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(q, 0);
      int pi = space_find(space, (const char *)sqlite3_column_text(q, 1));
      for (int i = 0; i < n && pi >= 0; i++)
        if (t[i].id == id) { t[i].params[pi] = sqlite3_column_double(q, 2); break; }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) goto fail;
    q = prep(db, "SELECT v.trial_id, v.step, v.value FROM trial_values v JOIN trials t"
                 " ON t.id = v.trial_id WHERE t.study_id = ? ORDER BY v.trial_id, v.step");
    if (!q) goto fail;
    sqlite3_bind_int64(q, 1, study);
    int last = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(q, 0);
      double v = sqlite3_column_type(q, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 2);
      if (n == 0) break;
      if (t[last].id != id)
        for (last = 0; last < n - 1 && t[last].id != id; last++) {}
      if (t[last].id == id) trial_add_inter(&t[last], sqlite3_column_int(q, 1), v);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) goto fail;
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    *out = t;
    *n_out = n;
    return 0;
  fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    trials_free(t, n);
    t = NULL, n = 0, cap = 0;
    if (!is_busy(rc) || attempt > 200) return sq_err(st, "load trials");
    usleep(5000);
  }
}

static void sq_close(HpoStorage *st) {
  Sq *s = st->impl;
  sqlite3_close(s->db);
  free(s);
  free(st);
}

static const HpoStorageOps sqlite_ops = {
    sq_study_open, sq_trial_ask, sq_trial_set_params, sq_trial_report,
    sq_trial_heartbeat, sq_trial_tell, sq_trials_load, sq_close,
};

HpoStorage *storage_sqlite_open(const char *path, char *err, size_t errlen) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  // journal_mode=WAL needs the write lock when it converts the file; retry.
  int rc = SQLITE_BUSY;
  for (int i = 0; i < 200 && is_busy(rc); i++) {
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                          " PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
    if (is_busy(rc)) usleep(10000);
  }
  for (int i = 0; i < 200 && (rc == SQLITE_OK || is_busy(rc)); i++) {
    rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    if (!is_busy(rc)) break;
    usleep(10000);
  }
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  HpoStorage *st = calloc(1, sizeof *st);
  Sq *s = calloc(1, sizeof *s);
  s->db = db;
  st->ops = &sqlite_ops;
  st->impl = s;
  return st;
}
