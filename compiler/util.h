// util.h — the compiler's memory, file and hashing helpers, used by every
// stage.  Compiler memory is allocated and never freed: netc is a
// short-lived process (as chibicc is); allocation failure exits with
// status 2.
#ifndef NETC_UTIL_H
#define NETC_UTIL_H

#include <stddef.h>
#include <stdint.h>

// Zeroed allocation that never fails.
void *xcalloc(size_t n, size_t size);

// The one growable array: appends a zeroed element to an array of n
// elements and returns the (possibly moved) array.  The capacity is
// implicit (the next power of two), so an array needs no capacity field.
// Use: a = xpush(a, n++, sizeof *a).
void *xpush(void *a, int n, size_t size);

// FNV-1a, 64 bit, continuing from h (start with FNV1A_INIT).
#define FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t fnv1a(uint64_t h, const char *p, size_t n);

// Formats n with thousands separators: 50186 -> "50,186".  buf >= 32 bytes.
char *fmt_count(int64_t n, char *buf);

#endif
