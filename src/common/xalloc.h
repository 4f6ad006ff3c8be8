/* xalloc.h - allocation that cannot fail.
 *
 * Berth treats running out of memory for small bookkeeping allocations as
 * fatal (as git does): the process prints one line and aborts. This keeps
 * error paths for real failures (bad input, syscalls) readable.
 *
 *   xmalloc / xcalloc / xrealloc / xstrdup / xstrndup   as libc, abort on NULL
 *   xasprintf(fmt, ...)                                  formatted, newly allocated
 */
#ifndef BERTH_XALLOC_H
#define BERTH_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
