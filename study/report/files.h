// files.h — reading the small text files the pipeline leaves in its output
// folder: whole files, "key=value" lines (run.txt, stage markers), one
// field of a JSON line (the programs' --json results), the CSV training
// logs (epoch,train_loss,val_loss,...).
#ifndef REPORT_FILES_H
#define REPORT_FILES_H

#include <stddef.h>

// The whole file, NUL-terminated, allocated; NULL if it cannot be read.
char *file_read(const char *path);
int file_exists(const char *path);

// The value of "key=" in text of key=value lines, allocated; NULL if absent.
char *kv_get(const char *text, const char *key);

// The number after "key": in a JSON object text; NAN if absent or not a number.
double json_num(const char *json, const char *key);

// The epochs of a driver CSV log: columns found by name in the header.
typedef struct {
  int n;
  double *epoch, *train, *val, *val_acc;   // [n]; val_acc -1 when unlabelled
} Curve;

// Reads path; returns 0 (c filled, possibly n = 0) or -1 (no file / no header).
int curve_load(const char *path, Curve *c);
void curve_free(Curve *c);

// "dir/name" in a static ring of buffers (a few live at a time).
const char *path_join(const char *dir, const char *name);

#endif
