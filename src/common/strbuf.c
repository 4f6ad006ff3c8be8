/* strbuf.c - growable string buffer; the invariants are stated in strbuf.h. */
#include "strbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

/* Shared by every empty buffer; read-only by convention, so it must never be written. */
char strbuf_empty[1];

static void __attribute__((noreturn)) strbuf_die(const char *what)
{
	/* Misuse of the API (or sizes past SIZE_MAX): a bug, not a runtime condition. */
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "berth: strbuf: %s\n", what);
	if (n > 0) {
		ssize_t r = write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		(void)r;
	}
	abort();
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = 0;
	sb->len = 0;
	sb->buf = strbuf_empty;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (extra > SIZE_MAX - 1 - sb->len)
		strbuf_die("size overflow");
	size_t need = sb->len + extra + 1;
	if (sb->alloc && need <= sb->alloc)
		return;
	bool was_empty = sb->alloc == 0;
	size_t want = sb->alloc < SIZE_MAX / 2 - 16 ? (sb->alloc + 16) * 3 / 2 : SIZE_MAX;
	if (want < need)
		want = need;
	sb->buf = xrealloc(was_empty ? NULL : sb->buf, want);
	sb->alloc = want;
	if (was_empty)
		sb->buf[0] = '\0';
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (sb->alloc == 0) {
		if (len != 0)
			strbuf_die("setlen past the end of an empty buffer");
		return; /* buf is strbuf_empty: already "" */
	}
	if (len >= sb->alloc)
		strbuf_die("setlen past the allocation");
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (len == 0)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	strbuf_setlen(sb, sb->len + len);
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len] = c;
	strbuf_setlen(sb, sb->len + 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	/* Try in the space there is; a first call on an empty buffer grows first so
	 * that vsnprintf never writes into strbuf_empty. */
	if (sb->alloc == 0)
		strbuf_grow(sb, 64);
	va_copy(cp, ap);
	int n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		strbuf_die("bad format");
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
		va_end(cp);
		if (n < 0 || (size_t)n >= sb->alloc - sb->len)
			strbuf_die("format changed its length");
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *r;
	if (len)
		*len = sb->len;
	if (sb->alloc == 0) {
		r = xmalloc(1);
		r[0] = '\0';
	} else {
		r = sb->buf;
	}
	strbuf_init(sb, 0);
	return r;
}
