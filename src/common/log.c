/* log.c - runc-compatible log records (logrus text or JSON lines) to stderr or a file.
 *
 * Each record is built in memory and written with one write(2) on an O_APPEND
 * fd, so records from several processes sharing the file (runtime, init, hooks)
 * never interleave. Timestamps are UTC in Go's RFC3339Nano (trailing zeros of
 * the fraction dropped), which is what logrus prints and containerd parses.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

static int log_dest = -1; /* a file we opened; -1 means stderr */
static enum log_format log_fmt = LOG_FMT_TEXT;
static enum log_level log_threshold = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning", /* logrus's name for warn */
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

int log_init(const char *path, enum log_format fmt, enum log_level level, berth_err *err)
{
	int fd = -1;
	if (path) {
		fd = TEMP_FAILURE_RETRY_INT(
			open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
		if (fd < 0)
			return berth_error_errno(err, "opening log file %s", path);
	}
	log_close();
	log_dest = fd;
	log_fmt = fmt;
	log_threshold = level;
	return 0;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (s && strcmp(s, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (s && strcmp(s, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_fd(void)
{
	return log_dest >= 0 ? log_dest : STDERR_FILENO;
}

void log_close(void)
{
	if (log_dest >= 0)
		close(log_dest);
	log_dest = -1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are invalid. */
	static const uint32_t min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string, escaped as Go's encoding/json does (invalid UTF-8 becomes U+FFFD). */
static void add_json_string(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		switch (c) {
		case '"':
			strbuf_addstr(sb, "\\\"");
			i++;
			continue;
		case '\\':
			strbuf_addstr(sb, "\\\\");
			i++;
			continue;
		case '\n':
			strbuf_addstr(sb, "\\n");
			i++;
			continue;
		case '\r':
			strbuf_addstr(sb, "\\r");
			i++;
			continue;
		case '\t':
			strbuf_addstr(sb, "\\t");
			i++;
			continue;
		case '<':
		case '>':
		case '&':
			/* Go escapes these by default; keep the bytes identical to runc's. */
			strbuf_addf(sb, "\\u%04x", c);
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20) {
			strbuf_addf(sb, "\\u%04x", c);
			i++;
			continue;
		}
		size_t l = utf8_len(p + i, n - i);
		if (l == 0) {
			strbuf_addstr(sb, "\\ufffd");
			i++;
		} else if (l == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			/* U+2028/U+2029 break JavaScript parsers; Go escapes them. */
			strbuf_addf(sb, "\\u%s", p[i + 2] == 0xa8 ? "2028" : "2029");
			i += 3;
		} else {
			strbuf_add(sb, p + i, l);
			i += l;
		}
	}
	strbuf_addch(sb, '"');
}

/* logrus quotes a text value unless every char is in [A-Za-z0-9-._/@^+]. */
static bool text_needs_quoting(const char *s)
{
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+'))
			return true;
	}
	return false;
}

/* A value as logrus's text formatter writes it: bare, or quoted as Go's %q. */
static void add_text_value(struct strbuf *sb, const char *s)
{
	if (!text_needs_quoting(s)) {
		strbuf_addstr(sb, s);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\v': esc = "\\v"; break;
		default: break;
		}
		if (esc) {
			strbuf_addstr(sb, esc);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\x%02x", c);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				strbuf_addf(sb, "\\x%02x", c);
				i++;
			} else {
				strbuf_add(sb, p + i, l);
				i += l;
			}
		}
	}
	strbuf_addch(sb, '"');
}

/* Go's time.RFC3339Nano in UTC: 2026-11-28T17:55:01.1234Z (fraction without trailing zeros). */
static void add_timestamp(struct strbuf *sb)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm)) {
		strbuf_addstr(sb, "1970-01-01T00:00:00Z");
		return;
	}
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_add(sb, buf, n);
	if (ts.tv_nsec > 0) {
		int len = snprintf(buf, sizeof(buf), ".%09ld", ts.tv_nsec);
		while (len > 1 && buf[len - 1] == '0')
			len--;
		strbuf_add(sb, buf, (size_t)len);
	}
	strbuf_addch(sb, 'Z');
}

static void write_record(const struct strbuf *line)
{
	int fd = log_fd();
	const char *p = line->buf;
	size_t left = line->len;
	/* One write(2) on O_APPEND is what keeps concurrent writers' lines whole;
	 * the loop only finishes a short write, which files do not do in practice. */
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to report a logging failure */
		p += n;
		left -= (size_t)n;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	int saved_errno = errno;
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		level = LOG_LVL_DEBUG;

	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);

	_cleanup_strbuf_ struct strbuf line = STRBUF_INIT;
	strbuf_grow(&line, msg.len + 96);
	if (log_fmt == LOG_FMT_JSON) {
		/* Keys in logrus's (sorted) order. */
		strbuf_addstr(&line, "{\"level\":\"");
		strbuf_addstr(&line, level_names[level]);
		strbuf_addstr(&line, "\",\"msg\":");
		add_json_string(&line, msg.buf);
		strbuf_addstr(&line, ",\"time\":\"");
		add_timestamp(&line);
		strbuf_addstr(&line, "\"}\n");
	} else {
		strbuf_addstr(&line, "time=\"");
		add_timestamp(&line);
		strbuf_addstr(&line, "\" level=");
		strbuf_addstr(&line, level_names[level]);
		strbuf_addstr(&line, " msg=");
		add_text_value(&line, msg.buf);
		strbuf_addch(&line, '\n');
	}
	write_record(&line);
	errno = saved_errno;
}
