// diag.c — diagnostics in the gcc/chibicc format:
//
//   models/x.net:12:5: error: dense expects a 1-D input, got [32, 3, 3]
//       dense(64) relu
//       ^~~~~
//
// Bytes that are not printable ASCII or valid UTF-8 are shown as '?', so a
// file of garbage cannot garble the terminal; long lines are cut to a
// window around the culprit.
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

static int nerrors;

// Every file loaded (file_read registers it), so that later stages, which
// know a node's location only as path:line:col (the IR's SrcLoc), report
// through diag_error with the source line and caret as the front end does.
static File **loaded;
static int nloaded;

void diag_register(File *f) {
  loaded = xpush(loaded, nloaded, sizeof *loaded);
  loaded[nloaded++] = f;
}

int diag_count(void) { return nerrors; }
void diag_reset(void) { nerrors = 0; }

SrcLoc loc_src(Loc loc) {
  return (SrcLoc){.file = loc.file ? loc.file->path : NULL, .line = loc.line, .col = loc.col};
}

// Length of the valid UTF-8 sequence at p (2..4), or 0.
static int utf8_len(const unsigned char *p, const unsigned char *end) {
  int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
  if (p[0] >= 0xf8 || n == 0 || end - p < n)
    return 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

// Prints bytes [b, e) of a source line; returns the display width of
// [b, stop) so the caret can be placed (tabs are kept, and counted as 1
// column: the caret line repeats them).
static void print_source(const char *b, const char *e, const char *stop, int len) {
  enum { WINDOW = 70 };
  const unsigned char *p = (const unsigned char *)b, *end = (const unsigned char *)e;
  const unsigned char *at = (const unsigned char *)stop;
  if (len > WINDOW)
    len = WINDOW;
  bool cut_left = false, cut_right = false;
  if (at - p > WINDOW) {
    p = at - WINDOW;
    while (p < at && (*p & 0xc0) == 0x80)   // don't start inside a UTF-8 sequence
      p++;
    cut_left = true;
  }
  if (end - at > WINDOW + len) {
    end = at + WINDOW + len;
    cut_right = true;
  }
  char line[1024], caret[1024];
  int nl = 0, nc = 0;
  if (cut_left) {
    memcpy(line, "...", 3), nl = 3;
    memset(caret, ' ', 3), nc = 3;
  }
  for (const unsigned char *q = p; q < end;) {
    int n = *q >= 0x80 ? utf8_len(q, end) : 1;
    char shown = *q == '\t' ? '\t' : (*q >= 0x20 && *q < 0x7f) ? (char)*q : '?';
    if (n >= 2) {
      memcpy(line + nl, q, (size_t)n), nl += n;
    } else {
      line[nl++] = shown;
      n = 1;
    }
    if (q < at)
      caret[nc++] = *q == '\t' ? '\t' : ' ';
    else if (q == at)
      caret[nc++] = '^';
    else if (q < at + len)
      caret[nc++] = '~';
    q += n;
  }
  if (at >= end)             // the culprit is the end of the line (or file)
    caret[nc++] = '^';
  if (cut_right)
    memcpy(line + nl, "...", 3), nl += 3;
  fprintf(stderr, "    %.*s\n    %.*s\n", nl, line, nc, caret);
}

static void report(Loc loc, const char *kind, const char *fmt, va_list ap) {
  fflush(stdout);
  if (!loc.file) {
    fprintf(stderr, "netc: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    return;
  }
  fprintf(stderr, "%s:%d:%d: %s: ", loc.file->path, loc.line, loc.col, kind);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  // The line holding loc.at.
  const char *text = loc.file->text, *end = text + loc.file->len;
  const char *b = loc.at, *e = loc.at;
  while (b > text && b[-1] != '\n')
    b--;
  while (e < end && *e != '\n')
    e++;
  if (e > b && e[-1] == '\r')
    e--;
  int len = loc.len < 1 ? 1 : loc.len;
  if (loc.at + len > e)
    len = (int)(e - loc.at) > 1 ? (int)(e - loc.at) : 1;
  print_source(b, e, loc.at, len);
}

void diag_error(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(loc, "error", fmt, ap);
  va_end(ap);
  if (++nerrors >= DIAG_MAX_ERRORS) {
    fprintf(stderr, "%s: too many errors (%d), stopping\n",
            loc.file ? loc.file->path : "netc", nerrors);
    exit(1);
  }
}

// The front-end Loc of a SrcLoc: the loaded file with that path, the byte
// at line:col, underlining the identifier that starts there.
static bool loc_of(SrcLoc src, Loc *loc) {
  File *f = NULL;
  for (int i = 0; i < nloaded && !f; i++)
    if (src.file && !strcmp(loaded[i]->path, src.file))
      f = loaded[i];
  if (!f || src.line < 1 || src.col < 1)
    return false;
  const char *p = f->text, *end = f->text + f->len;
  for (int l = 1; l < src.line && p < end; p++)
    if (*p == '\n')
      l++;
  for (int c = 1; c < src.col && p < end && *p != '\n'; c++)
    p++;
  int len = 0;
  while (p + len < end && (p[len] == '_' || (p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z') ||
                           (p[len] >= '0' && p[len] <= '9')))
    len++;
  *loc = (Loc){.file = f, .at = p, .len = len ? len : 1, .line = src.line, .col = src.col};
  return true;
}

void diag_error_src(SrcLoc src, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Loc loc;
  if (loc_of(src, &loc)) {
    report(loc, "error", fmt, ap);
  } else {               // a graph built without a file (tests): the position alone
    fflush(stdout);
    fprintf(stderr, "%s:%d:%d: error: ", src.file ? src.file : "<graph>", src.line, src.col);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
  }
  va_end(ap);
  if (++nerrors >= DIAG_MAX_ERRORS) {
    fprintf(stderr, "%s: too many errors (%d), stopping\n", src.file ? src.file : "netc", nerrors);
    exit(1);
  }
}

void diag_note(Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(loc, "note", fmt, ap);
  va_end(ap);
}

void diag_plain(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout);
  fprintf(stderr, "netc: error: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  nerrors++;
}
