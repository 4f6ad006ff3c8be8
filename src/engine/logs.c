/* logs.c - `berth logs` over the json-file log and its rotated files.
 *
 * All files are opened before reading, so a rotation while we read renames
 * what we already hold. --tail counts lines backwards from the end of the
 * newest files (no parsing) to find where to start, then reads forward from
 * there: the cost is the size of what is printed, not of the whole log.
 * Like Docker, --tail counts entries before the stream and time filters.
 */
#include "engine/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define READ_CHUNK     (64 * 1024)
#define OUT_FLUSH      (64 * 1024)
#define FOLLOW_POLL_MS 250
/* The writer's longest line is 16 KiB escaped (6 bytes a byte at worst) in
 * its frame; anything much longer without a newline is not an entry. */
#define PENDING_MAX (1024 * 1024)
#define NS_PER_SEC  1000000000LL

struct reader {
	const struct logs_opts *o;
	bool want_stdout, want_stderr;
	int out_fd, err_fd;
	struct strbuf out; /* pending output for out_cur */
	int out_cur;
	struct strbuf pending; /* bytes of the current file after its last newline */
	bool out_failed;       /* the error came from writing out_fd/err_fd */
};

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dm[m - 1];
}

/* Exactly n digits at *p, advancing it. */
static bool digits(const char **p, const char *end, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if (*p >= end || **p < '0' || **p > '9')
			return false;
		x = x * 10 + (*(*p)++ - '0');
	}
	*v = x;
	return true;
}

/* A fraction ".ddd" (1 to 9 digits kept, more ignored) as nanoseconds. */
static bool fraction(const char **p, const char *end, int64_t *ns)
{
	int64_t v = 0, scale = NS_PER_SEC;
	const char *start = *p;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (scale > 1) {
			scale /= 10;
			v += (**p - '0') * scale;
		}
		(*p)++;
	}
	*ns = v;
	return *p > start;
}

/* "2006-01-02", optionally "T15", "T15:04", "T15:04:05", a fraction, and a
 * zone "Z" or "+07:00". Without a zone the time is local, unless
 * need_zone refuses that. */
static int parse_datetime(const char *s, size_t n, bool need_zone, int64_t *out)
{
	const char *p = s, *end = s + n;
	int y, mo, d, h = 0, mi = 0, se = 0;
	int64_t frac = 0;

	if (!digits(&p, end, 4, &y) || p >= end || *p++ != '-' || !digits(&p, end, 2, &mo) ||
	    p >= end || *p++ != '-' || !digits(&p, end, 2, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	if (p < end && (*p == 'T' || *p == 't')) {
		p++;
		if (!digits(&p, end, 2, &h))
			return -EINVAL;
		if (p < end && *p == ':') {
			p++;
			if (!digits(&p, end, 2, &mi))
				return -EINVAL;
			if (p < end && *p == ':') {
				p++;
				if (!digits(&p, end, 2, &se))
					return -EINVAL;
				if (p < end && (*p == '.' || *p == ',')) {
					p++;
					if (!fraction(&p, end, &frac))
						return -EINVAL;
				}
			}
		}
		if (h > 23 || mi > 59 || se > 59)
			return -EINVAL;
	}

	bool zoned = false;
	int64_t offset = 0;
	if (p < end && (*p == 'Z' || *p == 'z')) {
		zoned = true;
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (!digits(&p, end, 2, &oh) || p >= end || *p++ != ':' ||
		    !digits(&p, end, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		zoned = true;
		offset = sign * (oh * 3600 + om * 60);
	}
	if (p != end || (need_zone && !zoned))
		return -EINVAL;
	/* int64 nanoseconds reach 1677..2262 */
	if (y < 1678 || y > 2261)
		return -ERANGE;

	int64_t sec;
	if (zoned) {
		sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	} else {
		struct tm tm = { .tm_year = y - 1900,
				 .tm_mon = mo - 1,
				 .tm_mday = d,
				 .tm_hour = h,
				 .tm_min = mi,
				 .tm_sec = se,
				 .tm_isdst = -1 };
		errno = 0;
		time_t t = mktime(&tm);
		if (t == (time_t)-1 && errno)
			return -EINVAL;
		sec = t;
	}
	*out = sec * NS_PER_SEC + frac;
	return 0;
}

/* Go's time.ParseDuration: "[-+]" then one or more "<number><unit>", the
 * number with an optional fraction; units ns us µs ms s m h; "0" alone. */
static int parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 },
		{ "ms", 1000000 },
		{ "s", NS_PER_SEC },
		{ "m", 60 * NS_PER_SEC },
		{ "h", 3600 * NS_PER_SEC },
	};
	const char *p = s;
	int sign = 1;
	int64_t total = 0;

	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if (strcmp(p, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	while (*p) {
		int64_t whole = 0;
		const char *start = p;
		bool overflow = false;
		while (*p >= '0' && *p <= '9') {
			if (__builtin_mul_overflow(whole, 10, &whole) ||
			    __builtin_add_overflow(whole, *p - '0', &whole))
				overflow = true;
			p++;
		}
		const char *frac_start = NULL, *frac_end = NULL;
		if (*p == '.') {
			frac_start = ++p;
			while (*p >= '0' && *p <= '9')
				p++;
			frac_end = p;
		}
		if (p == start || (p == start + 1 && *start == '.'))
			return -EINVAL; /* no digits */
		size_t ul = 0;
		int64_t unit = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].name);
			if (strncmp(p, units[i].name, l) == 0 && l > ul) {
				ul = l;
				unit = units[i].ns;
			}
		}
		if (!unit)
			return -EINVAL;
		p += ul;
		int64_t v;
		if (overflow || __builtin_mul_overflow(whole, unit, &v))
			return -ERANGE;
		int64_t scale = unit;
		for (const char *f = frac_start; f && f < frac_end && scale > 1; f++) {
			scale /= 10;
			v += (*f - '0') * scale;
		}
		if (__builtin_add_overflow(total, v, &total))
			return -ERANGE;
	}
	*out = sign * total;
	return 0;
}

/* "1700000000" or "1700000000.5": seconds since the epoch. */
static int parse_unix(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t sec = 0, frac = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(sec, 10, &sec) ||
		    __builtin_add_overflow(sec, *p - '0', &sec))
			return -ERANGE;
		p++;
	}
	if (*p == '.') {
		p++;
		if (!fraction(&p, p + strlen(p), &frac))
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &sec))
		return -ERANGE;
	*out = sec + frac;
	return 0;
}

int logs_parse_time(const char *s, int64_t now_ns, int64_t *out_ns, berth_err *err)
{
	int64_t v;

	if (!s || !*s)
		return berth_error_code(err, EINVAL, "invalid time value \"\": empty");
	/* as Docker: "0" is the epoch, not a zero duration */
	if (strcmp(s, "0") != 0 && parse_duration(s, &v) == 0) {
		if (__builtin_sub_overflow(now_ns, v, out_ns))
			return berth_error_code(err, ERANGE, "time value \"%s\" is out of range",
						s);
		return 0;
	}
	if (parse_unix(s, &v) == 0 || parse_datetime(s, strlen(s), false, &v) == 0) {
		*out_ns = v;
		return 0;
	}
	return berth_error_code(err, EINVAL,
				"invalid time value \"%s\": expected RFC3339 "
				"(2006-01-02T15:04:05Z), a date, a Unix timestamp or a "
				"duration such as 10m",
				s);
}

/* ---- output ---- */

static int out_flush(struct reader *r)
{
	if (r->out.len == 0)
		return 0;
	int ret = fd_write_all(r->out_cur, r->out.buf, r->out.len);
	strbuf_reset(&r->out);
	if (ret < 0)
		r->out_failed = true;
	return ret;
}

static int out_add(struct reader *r, int fd, const char *a, size_t al, const char *b, size_t bl)
{
	int ret;
	if (fd != r->out_cur && (ret = out_flush(r)) < 0)
		return ret;
	r->out_cur = fd;
	strbuf_add(&r->out, a, al);
	strbuf_add(&r->out, b, bl);
	return r->out.len >= OUT_FLUSH ? out_flush(r) : 0;
}

/* One line of the file: print it when it passes the filters. A line that is
 * not an entry is skipped: the rest of the log is still worth reading. */
static int handle_line(struct reader *r, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	_cleanup_json_ json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	json_t *log = json_object_get(o, "log");
	json_t *stream = json_object_get(o, "stream");
	json_t *time = json_object_get(o, "time");
	if (!json_is_string(log) || !json_is_string(stream) || !json_is_string(time))
		return 0;

	const char *sv = json_string_value(stream);
	bool is_err = strcmp(sv, "stderr") == 0;
	if (!is_err && strcmp(sv, "stdout") != 0)
		return 0;
	if (is_err ? !r->want_stderr : !r->want_stdout)
		return 0;

	const char *tv = json_string_value(time);
	size_t tl = json_string_length(time);
	if (r->o->since_ns || r->o->until_ns) {
		int64_t t;
		if (parse_datetime(tv, tl, true, &t) < 0)
			return 0;
		if (r->o->since_ns && t < r->o->since_ns)
			return 0;
		if (r->o->until_ns && t >= r->o->until_ns)
			return 0;
	}

	int fd = is_err ? r->err_fd : r->out_fd;
	int ret;
	if (r->o->timestamps && (ret = out_add(r, fd, tv, tl, " ", 1)) < 0)
		return ret;
	return out_add(r, fd, json_string_value(log), json_string_length(log), "", 0);
}

/* Read fd from where it is to its end, printing each complete line. The
 * bytes after the last newline wait in r->pending for the rest; with final
 * (a file that will not grow) they are tried as a line of their own. */
static int read_forward(struct reader *r, int fd, bool final)
{
	int ret;
	for (;;) {
		strbuf_grow(&r->pending, READ_CHUNK);
		ssize_t n = read(fd, r->pending.buf + r->pending.len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		size_t old = r->pending.len;
		strbuf_setlen(&r->pending, old + (size_t)n);
		/* lines end only in the new bytes: search from there */
		char *start = r->pending.buf, *end = r->pending.buf + r->pending.len;
		char *p = r->pending.buf + old, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			if ((ret = handle_line(r, start, (size_t)(nl - start) + 1)) < 0)
				return ret;
			start = p = nl + 1;
		}
		size_t rest = (size_t)(end - start);
		if (rest > PENDING_MAX)
			rest = 0; /* its end will not parse either: skipped there */
		memmove(r->pending.buf, start, rest);
		strbuf_setlen(&r->pending, rest);
	}
	if (final && r->pending.len) {
		ret = handle_line(r, r->pending.buf, r->pending.len);
		strbuf_reset(&r->pending);
		if (ret < 0)
			return ret;
	}
	return out_flush(r);
}

/* The error of read_forward(), said as what failed: the log or the output. */
static int read_error(struct reader *r, berth_err *err, int ret, const char *path)
{
	if (r->out_failed)
		return berth_error(err, -ret, "writing the logs of %s", path);
	return berth_error(err, -ret, "reading %s", path);
}

/* ---- files ---- */

struct logfiles {
	int *fd; /* oldest first; the last is path itself, -1 when missing */
	size_t n;
};

static void logfiles_close(struct logfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	free(f->fd);
	f->fd = NULL;
	f->n = 0;
}

static void reader_release(struct reader *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->pending);
}

static int open_log(const char *name, int *fd, berth_err *err)
{
	*fd = open(name, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return berth_error_errno(err, "opening %s", name);
	return 0;
}

/* Open path.N ... path.1 then path, oldest first. */
static int logfiles_open(const char *path, struct logfiles *f, berth_err *err)
{
	size_t count = 0;
	struct stat st;
	int r;

	for (;;) {
		_cleanup_free_ char *name = xasprintf("%s.%zu", path, count + 1);
		if (stat(name, &st) < 0)
			break;
		count++;
	}
	f->fd = xcalloc(count + 1, sizeof(int));
	f->n = count + 1;
	for (size_t i = 0; i <= count; i++)
		f->fd[i] = -1;
	for (size_t i = 0; i < count; i++) {
		_cleanup_free_ char *name = xasprintf("%s.%zu", path, count - i);
		if ((r = open_log(name, &f->fd[i], err)) < 0)
			return r;
	}
	return open_log(path, &f->fd[count], err);
}

/* Reading a file backwards a block at a time, for --tail. */
struct backwards {
	int fd;
	char *buf;
	off_t start; /* the block in buf: [start, start + len) of the file */
	size_t len;
};

/* The offset of the last '\n' in [lo, hi) of the file, -1 when none;
 * a negative errno (as < -1) on a read error. */
static off_t last_newline(struct backwards *b, off_t lo, off_t hi)
{
	while (hi > lo) {
		if (hi - 1 < b->start || hi - 1 >= b->start + (off_t)b->len) {
			off_t s = hi > READ_CHUNK ? hi - READ_CHUNK : 0;
			size_t len = (size_t)(hi - s);
			ssize_t r = TEMP_FAILURE_RETRY_INT(pread(b->fd, b->buf, len, s));
			if (r < 0)
				return -1 - errno;
			if ((size_t)r != len)
				return -1 - EIO; /* emptied under us (max-file 1) */
			b->start = s;
			b->len = len;
		}
		off_t from = lo > b->start ? lo : b->start;
		char *nl = memrchr(b->buf + (from - b->start), '\n', (size_t)(hi - from));
		if (nl)
			return b->start + (nl - b->buf);
		hi = from;
	}
	return -1;
}

/* Where the last n lines start: a file index and an offset in it. Lines are
 * counted backwards from the end of the newest file, whose bytes after the
 * last newline are a line still being written and do not count. */
static int tail_start(struct logfiles *f, long n, size_t *file, off_t *off)
{
	_cleanup_free_ char *buf = xmalloc(READ_CHUNK);
	long found = 0;

	*file = f->n - 1;
	*off = 0;
	for (size_t i = f->n; i-- > 0;) {
		struct backwards b = { .fd = f->fd[i], .buf = buf, .start = 0, .len = 0 };
		struct stat st;
		char last;
		if (b.fd < 0) {
			if (n == 0)
				return 0; /* no file yet: follow from its start */
			continue;
		}
		if (fstat(b.fd, &st) < 0)
			return -errno;
		off_t end = st.st_size;
		if (i == f->n - 1) {
			off_t nl = last_newline(&b, 0, end);
			if (nl < -1)
				return (int)(nl + 1);
			end = nl + 1;
		}
		*file = i;
		*off = end;
		if (n == 0)
			return 0; /* after the last complete line */
		if (end == 0)
			continue;
		/* the newline ending the last line starts no line */
		if (TEMP_FAILURE_RETRY_INT(pread(b.fd, &last, 1, end - 1)) != 1)
			return -EIO;
		off_t hi = last == '\n' ? end - 1 : end;
		for (;;) {
			off_t nl = last_newline(&b, 0, hi);
			if (nl < -1)
				return (int)(nl + 1);
			*off = nl + 1;
			if (++found >= n || nl < 0)
				break;
			hi = nl;
		}
		if (found >= n)
			return 0;
	}
	/* fewer lines than asked: from the start of the oldest */
	*file = 0;
	*off = 0;
	return 0;
}

/* ---- follow ---- */

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The file written after the rotated one open at fd: if it sits at path.k,
 * path.(k-1) (when more rotations happened while we read), else path (0). */
static int rotated_successor(const char *path, int fd)
{
	struct stat self, st;
	if (fstat(fd, &self) < 0)
		return 0;
	for (int k = 1; k < INT_MAX; k++) {
		_cleanup_free_ char *name = xasprintf("%s.%d", path, k);
		if (stat(name, &st) < 0)
			return 0;
		if (st.st_dev == self.st_dev && st.st_ino == self.st_ino)
			return k - 1;
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Keep reading path as the monitor appends; on rotation finish the old file,
 * then open the new one. Ends once alive() said no and all is read. */
static int follow(struct reader *r, const char *path, int cur, berth_err *err)
{
	const struct logs_opts *o = r->o;
	_cleanup_close_ int fd = cur;
	_cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int ret;

	if (ifd < 0)
		return berth_error_errno(err, "following %s: inotify", path);
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
		return berth_error_errno(err, "following %s: watching %s", path, dir);
	int wd = fd >= 0 ? inotify_add_watch(ifd, path, IN_MODIFY) : -1;
	int next = 0; /* the file to open when fd is done: path.next, or path */

	for (;;) {
		bool dead = o->alive && !o->alive(o->opaque);
		bool past = o->until_ns && now_ns() >= o->until_ns;

		if (fd < 0 && next > 0) {
			/* a file rotated before we got to it: read it whole */
			_cleanup_free_ char *name = xasprintf("%s.%d", path, next);
			fd = open(name, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno != ENOENT)
				return berth_error_errno(err, "opening %s", name);
			next = 0; /* gone already: nothing better than path */
		}
		if (fd < 0) {
			/* not created yet, or between rotation's rename and create */
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno != ENOENT)
				return berth_error_errno(err, "opening %s", path);
			if (fd >= 0 && (wd = inotify_add_watch(ifd, path, IN_MODIFY)) < 0)
				return berth_error_errno(err, "following %s: watching it", path);
		}
		if (fd >= 0) {
			if ((ret = read_forward(r, fd, false)) < 0)
				return read_error(r, err, ret, path);
			struct stat st;
			off_t pos = lseek(fd, 0, SEEK_CUR);
			if (fstat(fd, &st) == 0 && pos >= 0 && st.st_size < pos) {
				/* max-file 1 empties the file in place: start over */
				if (lseek(fd, 0, SEEK_SET) < 0)
					return berth_error_errno(err, "reading %s", path);
				strbuf_reset(&r->pending);
				continue;
			}
			if (!same_file(fd, path)) {
				/* rotated: whatever was written before the rename is
				 * there now; read it, then move to the new file */
				if ((ret = read_forward(r, fd, true)) < 0)
					return read_error(r, err, ret, path);
				if (wd >= 0)
					inotify_rm_watch(ifd, wd);
				wd = -1;
				next = rotated_successor(path, fd);
				close(TAKE_FD(fd));
				continue;
			}
		}
		if (dead || past)
			break;

		struct pollfd pfd = { .fd = ifd, .events = POLLIN };
		int pr = poll(&pfd, 1, FOLLOW_POLL_MS);
		if (pr < 0 && errno != EINTR)
			return berth_error_errno(err, "following %s", path);
		if (pr > 0) {
			/* the events only wake us: the state is checked above */
			char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
		}
	}
	if (fd >= 0 && (ret = read_forward(r, fd, true)) < 0)
		return read_error(r, err, ret, path);
	return 0;
}

int logs_read(const char *path, const struct logs_opts *o, int out_fd, int err_fd, berth_err *err)
{
	__attribute__((cleanup(reader_release))) struct reader r = {
		.o = o,
		/* neither asked for: both, as a zeroed logs_opts would expect */
		.want_stdout = o->want_stdout || !o->want_stderr,
		.want_stderr = o->want_stderr || !o->want_stdout,
		.out_fd = out_fd,
		.err_fd = err_fd,
		.out = STRBUF_INIT,
		.out_cur = out_fd,
		.pending = STRBUF_INIT,
	};
	__attribute__((cleanup(logfiles_close))) struct logfiles f = { NULL, 0 };
	size_t first = 0;
	off_t off = 0;
	int ret;

	if ((ret = logfiles_open(path, &f, err)) < 0)
		return ret;
	if (o->tail >= 0 && (ret = tail_start(&f, o->tail, &first, &off)) < 0)
		return read_error(&r, err, ret, path);
	for (size_t i = first; i < f.n; i++) {
		if (f.fd[i] < 0)
			continue;
		if (lseek(f.fd[i], i == first ? off : 0, SEEK_SET) < 0)
			return berth_error_errno(err, "reading %s", path);
		strbuf_reset(&r.pending);
		/* the newest file's unfinished line waits for follow, or is not shown */
		if ((ret = read_forward(&r, f.fd[i], i != f.n - 1)) < 0)
			return read_error(&r, err, ret, path);
	}
	if (!o->follow)
		return 0;
	return follow(&r, path, TAKE_FD(f.fd[f.n - 1]), err);
}
