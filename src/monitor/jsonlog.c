/* jsonlog.c - Docker's json-file writer for berth-monitor.
 *
 * The monitor is tiny and long-lived, so this file uses libc only and one
 * allocation per log: the held partial lines of both streams and the buffer
 * one encoded line is built in. A line is bounded (JSONLOG_LINE_MAX bytes of
 * text, each at most 6 bytes escaped), so fixed buffers are enough; the
 * output buffer's pages are only touched when a line is that large.
 */
#include "monitor/jsonlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Worst case for one escaped byte: "\u0000" or "\ufffd". */
#define ESCAPED_MAX (JSONLOG_LINE_MAX * 6)
/* {"log":"","stream":"stdout","time":""}\n plus the time. */
#define FRAME_MAX 64
#define OUT_MAX   (ESCAPED_MAX + FRAME_MAX + JSONLOG_TIME_MAX)

struct jsonlog {
	int fd;
	int64_t max_size;
	int max_files;
	int64_t size; /* bytes in the current file: this process is its only writer */
	size_t held[2];
	char hold[2][JSONLOG_LINE_MAX];
	char out[OUT_MAX];
	char path[]; /* the current file; rotated ones are path.N */
};

static const char hexdigits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when invalid:
 * the rules of Go's utf8.DecodeRune (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* How many bytes at the end of p[0..n) start a UTF-8 sequence that is cut
 * off: those are held back when a long line is split, so the character is
 * not turned into U+FFFD in both halves. */
static size_t utf8_cut_tail(const unsigned char *p, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = p[n - k];
		size_t need;
		if (c >= 0x80 && c <= 0xbf)
			continue; /* a continuation byte: look further back */
		if (c >= 0xc2 && c <= 0xdf)
			need = 2;
		else if (c >= 0xe0 && c <= 0xef)
			need = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 4;
		else
			return 0;
		return need > k ? k : 0;
	}
	return 0;
}

size_t jsonlog_escape(const char *in, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	char *o = out;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t len = utf8_valid_len(p + i, n - i);
			if (len == 0) {
				memcpy(o, "\\ufffd", 6);
				o += 6;
				i++;
			} else if (len == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
				   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
				/* U+2028, U+2029: line breaks to JavaScript */
				memcpy(o, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				o += 6;
				i += 3;
			} else {
				memcpy(o, p + i, len);
				o += len;
				i += len;
			}
			continue;
		}
		switch (c) {
		case '"':
			*o++ = '\\';
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			*o++ = '\\';
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&') {
				memcpy(o, "\\u00", 4);
				o[4] = hexdigits[c >> 4];
				o[5] = hexdigits[c & 0xf];
				o += 6;
			} else
				*o++ = (char)c;
		}
		i++;
	}
	return (size_t)(o - out);
}

/* The UTC date of a day count since 1970-01-01 (Howard Hinnant's algorithm):
 * gmtime_r() would load the time zone database into the monitor for nothing. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

size_t jsonlog_format_time(const struct timespec *ts, char *buf)
{
	int64_t sec = ts->tv_sec, days = sec / 86400, rem = sec % 86400, y;
	int m, d;
	char frac[10];
	int fl = 0;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (ts->tv_nsec > 0 && ts->tv_nsec < 1000000000L) {
		/* RFC3339Nano: the fraction without its trailing zeros, none when zero */
		long ns = ts->tv_nsec;
		fl = 9;
		while (ns % 10 == 0) {
			ns /= 10;
			fl--;
		}
		for (int i = fl - 1; i >= 0; i--) {
			frac[i] = (char)('0' + ns % 10);
			ns /= 10;
		}
	}
	frac[fl] = '\0';
	int n = snprintf(buf, JSONLOG_TIME_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d%s%sZ",
			 (long long)y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
			 (int)(rem % 60), fl ? "." : "", frac);
	if (n < 0 || n >= JSONLOG_TIME_MAX) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static int rotated_name(const struct jsonlog *l, int n, char *buf, size_t size)
{
	int r = snprintf(buf, size, "%s.%d", l->path, n);
	return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
}

/* path.(max-2) -> path.(max-1), ..., path -> path.1, then a new path; with
 * max_files 1 the one file is emptied in place. */
static int rotate(struct jsonlog *l)
{
	char from[PATH_MAX], to[PATH_MAX];
	int r;

	if (l->max_files <= 1) {
		if (ftruncate(l->fd, 0) < 0)
			return -errno;
		l->size = 0;
		return 0;
	}
	for (int i = l->max_files - 1; i >= 2; i--) {
		if ((r = rotated_name(l, i - 1, from, sizeof(from))) < 0 ||
		    (r = rotated_name(l, i, to, sizeof(to))) < 0)
			return r;
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	if ((r = rotated_name(l, 1, to, sizeof(to))) < 0)
		return r;
	if (rename(l->path, to) < 0)
		return -errno;
	int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno; /* keep appending to the renamed file rather than lose lines */
	close(l->fd);
	l->fd = fd;
	l->size = 0;
	return 0;
}

/* One write(2) normally; after a short write the rest follows. When it fails
 * midway the file is cut back, so it still holds whole lines only. */
static int write_line(struct jsonlog *l, const char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(l->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			if (done > 0 && ftruncate(l->fd, l->size) < 0)
				l->size += (int64_t)done; /* the half line stays; count it */
			return -e;
		}
		done += (size_t)w;
	}
	l->size += (int64_t)n;
	return 0;
}

static int emit(struct jsonlog *l, enum jsonlog_stream s, const char *text, size_t n,
		const char *time, size_t time_len)
{
	static const char head[] = "{\"log\":\"";
	const char *mid = s == JSONLOG_STDERR ? "\",\"stream\":\"stderr\",\"time\":\""
					      : "\",\"stream\":\"stdout\",\"time\":\"";
	char *o = l->out;
	int r = 0;

	memcpy(o, head, sizeof(head) - 1);
	o += sizeof(head) - 1;
	o += jsonlog_escape(text, n, o);
	size_t ml = strlen(mid);
	memcpy(o, mid, ml);
	o += ml;
	memcpy(o, time, time_len);
	o += time_len;
	memcpy(o, "\"}\n", 3);
	o += 3;

	size_t len = (size_t)(o - l->out);
	if (l->max_size > 0 && l->size > 0 && l->size + (int64_t)len > l->max_size)
		r = rotate(l);
	int w = write_line(l, l->out, len);
	return r < 0 ? r : w;
}

struct jsonlog *jsonlog_open(const char *path, int64_t max_size, int max_files)
{
	size_t plen = strlen(path);
	struct stat st;

	/* room for ".N" of any int */
	if (plen == 0 || plen + 12 >= PATH_MAX || max_size < 0) {
		errno = plen == 0 || max_size < 0 ? EINVAL : ENAMETOOLONG;
		return NULL;
	}
	struct jsonlog *l = malloc(sizeof(*l) + plen + 1);
	if (!l)
		return NULL;
	memcpy(l->path, path, plen + 1);
	l->max_size = max_size;
	l->max_files = max_files < 1 ? 1 : max_files;
	l->held[0] = l->held[1] = 0;
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0 || fstat(l->fd, &st) < 0) {
		int e = errno;
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		errno = e;
		return NULL;
	}
	l->size = st.st_size;
	return l;
}

int jsonlog_write(struct jsonlog *l, enum jsonlog_stream s, const char *buf, size_t n)
{
	char time[JSONLOG_TIME_MAX];
	size_t time_len;
	struct timespec ts;
	int first_err = 0;

	if (s != JSONLOG_STDOUT && s != JSONLOG_STDERR)
		return -EINVAL;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	time_len = jsonlog_format_time(&ts, time);

	char *h = l->hold[s];
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) + 1 : n;
		size_t room = JSONLOG_LINE_MAX - l->held[s];
		int complete = nl && take <= room;
		if (take > room)
			take = room;
		memcpy(h + l->held[s], buf, take);
		l->held[s] += take;
		buf += take;
		n -= take;

		size_t out_len, keep = 0;
		if (complete)
			out_len = l->held[s];
		else if (l->held[s] == JSONLOG_LINE_MAX) {
			keep = utf8_cut_tail((const unsigned char *)h, l->held[s]);
			out_len = l->held[s] - keep;
		} else
			continue; /* partial: wait for more */
		int r = emit(l, s, h, out_len, time, time_len);
		if (r < 0 && !first_err)
			first_err = r; /* the line is lost; later ones are still tried */
		memmove(h, h + out_len, keep);
		l->held[s] = keep;
	}
	return first_err;
}

int jsonlog_flush(struct jsonlog *l)
{
	char time[JSONLOG_TIME_MAX];
	size_t time_len;
	struct timespec ts;
	int first_err = 0;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	time_len = jsonlog_format_time(&ts, time);
	for (int s = JSONLOG_STDOUT; s <= JSONLOG_STDERR; s++) {
		if (l->held[s] == 0)
			continue;
		int r = emit(l, (enum jsonlog_stream)s, l->hold[s], l->held[s], time, time_len);
		if (r < 0 && !first_err)
			first_err = r;
		l->held[s] = 0;
	}
	return first_err;
}

void jsonlog_close(struct jsonlog *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}
