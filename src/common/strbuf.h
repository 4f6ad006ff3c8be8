/* strbuf.h - a growable string buffer (after git's strbuf).
 *
 * Invariants: after any strbuf_* call, sb->buf is non-NULL, NUL-terminated at
 * sb->buf[sb->len], and sb->len < sb->alloc (or sb->alloc == 0 and buf points at
 * a static empty string). Binary data may contain NULs; len is authoritative.
 * Allocation failure aborts (see xalloc.h).
 *
 *   STRBUF_INIT                     an empty buffer, no allocation
 *   strbuf_grow()                   make room for at least extra more bytes
 *   strbuf_add/addstr/addch/addf    append bytes / a string / a char / printf output
 *   strbuf_setlen()                 truncate (len <= sb->len)
 *   strbuf_reset()                  empty, keep memory
 *   strbuf_release()                free, back to STRBUF_INIT
 *   strbuf_detach()                 hand over the buffer (always malloc'd), reset sb
 *   _cleanup_strbuf_                release on scope exit
 */
#ifndef BERTH_STRBUF_H
#define BERTH_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

extern char strbuf_empty[];

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

#define STRBUF_INIT { 0, 0, strbuf_empty }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);

static inline void cleanup_strbufp(struct strbuf *sb)
{
	strbuf_release(sb);
}
#define _cleanup_strbuf_ __attribute__((cleanup(cleanup_strbufp)))

#endif
