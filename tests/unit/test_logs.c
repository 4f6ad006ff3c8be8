/* test_logs.c - `berth logs` reads back what the monitor's writer wrote:
 * all of it, the last N lines across rotated files, one stream, a time
 * window, with timestamps, and following a log that is written and rotated
 * while it is read. And --since/--until accept what Docker accepts. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "engine/logs.h"
#include "monitor/jsonlog.h"

struct fixture {
	char dir[64];
	char path[96];
	int out, err; /* where logs_read prints: two files in dir */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char name[128];
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-logs-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctr-json.log", f->dir);
	snprintf(name, sizeof(name), "%s/out", f->dir);
	f->out = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	snprintf(name, sizeof(name), "%s/err", f->dir);
	f->err = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->out < 0 || f->err < 0)
		return -1;
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->out);
	close(f->err);
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

static struct logs_opts opts_all(void)
{
	return (struct logs_opts){ .want_stdout = true, .want_stderr = true, .tail = -1 };
}

static size_t last_len;

/* What logs_read printed to fd since the last call (the file is emptied);
 * its length in last_len, as it may hold NULs. */
static char *take_output(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char *s = malloc((size_t)st.st_size + 1);
	assert_non_null(s);
	assert_int_equal(pread(fd, s, (size_t)st.st_size, 0), st.st_size);
	s[st.st_size] = '\0';
	last_len = (size_t)st.st_size;
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return s;
}

static void read_logs(struct fixture *f, const struct logs_opts *o, char **out, char **err)
{
	berth_err e = BERTH_ERR_INIT;
	int r = logs_read(f->path, o, f->out, f->err, &e);
	if (r < 0)
		fail_msg("logs_read: %s", e.msg);
	*out = take_output(f->out);
	*err = take_output(f->err); /* last_len is err's */
}

static void write_str(struct jsonlog *l, enum jsonlog_stream s, const char *str)
{
	assert_int_equal(jsonlog_write(l, s, str, strlen(str)), 0);
}

/* n numbered lines "line 0000\n", written through the writer. */
static void write_numbered(const char *path, int64_t max_size, int max_files, int from, int to)
{
	struct jsonlog *l = jsonlog_open(path, max_size, max_files);
	assert_non_null(l);
	for (int i = from; i < to; i++) {
		char line[32];
		snprintf(line, sizeof(line), "line %04d\n", i);
		write_str(l, JSONLOG_STDOUT, line);
	}
	jsonlog_close(l);
}

static void expect_numbered(const char *got, int from, int to)
{
	struct strbuf want = STRBUF_INIT;
	for (int i = from; i < to; i++)
		strbuf_addf(&want, "line %04d\n", i);
	assert_string_equal(got, want.buf);
	strbuf_release(&want);
}

static void append_raw(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	write_str(l, JSONLOG_STDOUT, "hello\n");
	write_str(l, JSONLOG_STDERR, "warning: <x> & \"y\"\n");
	write_str(l, JSONLOG_STDOUT, "tab\there\r\nno newline");
	assert_int_equal(jsonlog_write(l, JSONLOG_STDERR, "nul\0byte\n", 9), 0);
	assert_int_equal(jsonlog_flush(l), 0);
	jsonlog_close(l);

	struct logs_opts o = opts_all();
	char *out, *err;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "hello\ntab\there\r\nno newline");
	assert_int_equal(last_len, sizeof("warning: <x> & \"y\"\nnul\0byte\n") - 1);
	assert_memory_equal(err, "warning: <x> & \"y\"\nnul\0byte\n",
			    sizeof("warning: <x> & \"y\"\nnul\0byte\n") - 1);
	free(out);
	free(err);

	/* one stream only */
	o.want_stderr = false;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "hello\ntab\there\r\nno newline");
	assert_string_equal(err, "");
	free(out);
	free(err);
	o = opts_all();
	o.want_stdout = false;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "");
	assert_int_equal(err[0], 'w');
	free(out);
	free(err);
}

static void test_missing_and_malformed(void **state)
{
	struct fixture *f = *state;
	struct logs_opts o = opts_all();
	char *out, *err;

	/* no log yet: nothing, no error */
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "");
	free(out);
	free(err);

	append_raw(f->path,
		   "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
		   "garbage\n"
		   "\n"
		   "{\"log\":1,\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
		   "{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
		   "[1,2]\n"
		   "{\"log\":\"two\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
		   "{\"log\":\"half");
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "one\ntwo\n"); /* the unfinished line is not shown */
	assert_string_equal(err, "");
	free(out);
	free(err);
	o.tail = 1;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "two\n");
	free(out);
	free(err);
}

static void test_timestamps(void **state)
{
	struct fixture *f = *state;
	append_raw(f->path,
		   "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T05:30:00."
		   "123456789Z\"}\n"
		   "{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-29T05:30:01Z\"}\n");
	struct logs_opts o = opts_all();
	o.timestamps = true;
	char *out, *err;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "2026-11-29T05:30:00.123456789Z a\n");
	assert_string_equal(err, "2026-11-29T05:30:01Z b\n");
	free(out);
	free(err);

	/* the writer's own times come back as stored */
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	write_str(l, JSONLOG_STDOUT, "c\n");
	jsonlog_close(l);
	o.tail = 1;
	read_logs(f, &o, &out, &err);
	size_t n = strlen(out);
	assert_true(n > 23);
	assert_string_equal(out + n - 4, "Z c\n");
	assert_memory_equal(out, "20", 2);
	assert_int_equal(out[10], 'T');
	free(out);
	free(err);
}

static void test_since_until(void **state)
{
	struct fixture *f = *state;
	/* 1700000000 is 2023-11-14T22:13:20Z */
	append_raw(
		f->path,
		"{\"log\":\"t0\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
		"{\"log\":\"t1\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:21.5Z\"}\n"
		"{\"log\":\"t2\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T23:13:22+01:00\"}\n"
		"{\"log\":\"t3\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:23Z\"}\n"
		"{\"log\":\"bad time\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}\n");
	struct logs_opts o = opts_all();
	char *out, *err;

	o.since_ns = 1700000001LL * 1000000000;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "t1\nt3\n");
	assert_string_equal(err, "t2\n");
	free(out);
	free(err);

	o.since_ns = 1700000001LL * 1000000000 + 500000000; /* inclusive */
	o.until_ns = 1700000003LL * 1000000000;             /* exclusive */
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "t1\n");
	assert_string_equal(err, "t2\n");
	free(out);
	free(err);

	/* --tail counts before the time filter, as Docker's does */
	o = opts_all();
	o.tail = 2;
	o.until_ns = 1700000003LL * 1000000000;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "");
	free(out);
	free(err);
	o.tail = 3;
	read_logs(f, &o, &out, &err);
	assert_string_equal(err, "t2\n");
	free(out);
	free(err);
}

static void test_tail_rotated(void **state)
{
	struct fixture *f = *state;
	write_numbered(f->path, 1024, 3, 0, 300);
	struct logs_opts o = opts_all();
	char *out, *err;

	o.tail = 5;
	read_logs(f, &o, &out, &err);
	expect_numbered(out, 295, 300);
	free(out);
	free(err);

	o.tail = 0;
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* everything there is: consecutive, oldest first, from path.2 */
	o.tail = -1;
	read_logs(f, &o, &out, &err);
	int first = atoi(out + 5);
	assert_true(first > 0);
	expect_numbered(out, first, 300);
	size_t total = 300 - (size_t)first;
	free(out);
	free(err);

	/* more than there is */
	o.tail = 100000;
	read_logs(f, &o, &out, &err);
	expect_numbered(out, first, 300);
	free(out);
	free(err);

	/* every count, so the start falls in each file and on each boundary */
	for (long n = 1; n <= (long)total; n++) {
		o.tail = n;
		read_logs(f, &o, &out, &err);
		expect_numbered(out, 300 - (int)n, 300);
		free(out);
		free(err);
	}
}

static void test_tail_big(void **state)
{
	struct fixture *f = *state;
	/* lines of many lengths across many 64 KiB blocks */
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	char line[512];
	for (int i = 0; i < 20000; i++) {
		int pad = (i * 37) % 300;
		int n = snprintf(
			line, sizeof(line), "%06d %.*s\n", i, pad,
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		assert_int_equal(
			jsonlog_write(l, i % 3 ? JSONLOG_STDOUT : JSONLOG_STDERR, line, (size_t)n),
			0);
	}
	jsonlog_close(l);

	long counts[] = { 1, 2, 3, 1000, 4321, 19999, 20000 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct logs_opts o = opts_all();
		o.tail = counts[c];
		char *out, *err;
		read_logs(f, &o, &out, &err);
		int first = 20000 - (int)counts[c];
		/* the first line printed is the N-th last, whichever stream it is on */
		const char *fs = first % 3 ? out : err;
		assert_int_equal(atoi(fs), first);
		size_t lines = 0;
		for (const char *p = out; *p; p++)
			lines += *p == '\n';
		for (const char *p = err; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, counts[c]);
		free(out);
		free(err);
	}
}

static void test_output_error(void **state)
{
	struct fixture *f = *state;
	write_numbered(f->path, 0, 1, 0, 3);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (full < 0)
		skip();
	struct logs_opts o = opts_all();
	berth_err e = BERTH_ERR_INIT;
	/* a failed write is the output's fault, not the log's */
	assert_int_equal(logs_read(f->path, &o, full, f->err, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "writing the logs of"));
	berth_err_clear(&e);
	close(full);
}

/* ---- follow ---- */

struct writer_args {
	const char *path;
	atomic_bool done;
	int lines;
};

static void *writer_thread(void *opaque)
{
	struct writer_args *a = opaque;
	/* rotation on: the reader must follow the renames without a gap */
	struct jsonlog *l = jsonlog_open(a->path, 4096, 100);
	assert_non_null(l);
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	for (int i = 0; i < a->lines; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %04d\n", i);
		/* a line in two writes, to show partial lines are held */
		jsonlog_write(l, JSONLOG_STDOUT, line, 4);
		jsonlog_write(l, JSONLOG_STDOUT, line + 4, (size_t)n - 4);
		if (i % 50 == 0)
			nanosleep(&pause, NULL);
	}
	write_str(l, JSONLOG_STDERR, "bye");
	jsonlog_flush(l);
	jsonlog_close(l);
	atomic_store(&a->done, true);
	return NULL;
}

static bool writer_alive(void *opaque)
{
	struct writer_args *a = opaque;
	return !atomic_load(&a->done);
}

static void test_follow(void **state)
{
	struct fixture *f = *state;
	/* some lines before, then the rest while following */
	write_numbered(f->path, 0, 1, 0, 10);
	struct writer_args a = { .path = f->path, .lines = 2000 };
	atomic_init(&a.done, false);

	struct logs_opts o = opts_all();
	o.follow = true;
	o.tail = 3;
	o.alive = writer_alive;
	o.opaque = &a;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_thread, &a), 0);
	char *out, *err;
	read_logs(f, &o, &out, &err);
	assert_int_equal(pthread_join(t, NULL), 0);

	struct strbuf want = STRBUF_INIT;
	for (int i = 7; i < 10; i++)
		strbuf_addf(&want, "line %04d\n", i);
	for (int i = 0; i < 2000; i++)
		strbuf_addf(&want, "line %04d\n", i);
	assert_string_equal(out, want.buf);
	assert_string_equal(err, "bye");
	strbuf_release(&want);
	free(out);
	free(err);
	/* it did rotate */
	char name[128];
	snprintf(name, sizeof(name), "%s.3", f->path);
	assert_int_equal(access(name, F_OK), 0);
}

struct burst {
	const char *path;
	int calls;
};

/* On its first call, while the reader holds the first file open, the log
 * rotates seven times; after that the container has stopped. */
static bool burst_alive(void *opaque)
{
	struct burst *b = opaque;
	if (b->calls++ == 0) {
		write_numbered(b->path, 1024, 20, 10, 100);
		return true;
	}
	return false;
}

static void test_follow_missed_rotations(void **state)
{
	struct fixture *f = *state;
	write_numbered(f->path, 1024, 20, 0, 10);
	struct burst b = { .path = f->path, .calls = 0 };
	struct logs_opts o = opts_all();
	o.follow = true;
	o.alive = burst_alive;
	o.opaque = &b;
	char *out, *err;
	read_logs(f, &o, &out, &err);
	/* the files rotated past while the reader was in the first are read too */
	expect_numbered(out, 0, 100);
	assert_true(b.calls >= 2);
	char name[128];
	snprintf(name, sizeof(name), "%s.5", f->path);
	assert_int_equal(access(name, F_OK), 0);
	free(out);
	free(err);
}

/* With max-file 1 the file is emptied in place: once, while followed. */
static bool truncate_alive(void *opaque)
{
	struct burst *b = opaque;
	if (b->calls++ == 0) {
		write_numbered(b->path, 1024, 1, 10, 15);
		return true;
	}
	return false;
}

static void test_follow_truncated(void **state)
{
	struct fixture *f = *state;
	write_numbered(f->path, 1024, 1, 0, 10);
	struct burst b = { .path = f->path, .calls = 0 };
	struct logs_opts o = opts_all();
	o.follow = true;
	o.alive = truncate_alive;
	o.opaque = &b;
	char *out, *err;
	read_logs(f, &o, &out, &err);

	/* what was there, then the emptied file from its start */
	struct logs_opts all = opts_all();
	char *now, *nerr;
	read_logs(f, &all, &now, &nerr);
	assert_true(strlen(now) > 0 && strlen(now) < 10 * strlen("line 0000\n"));
	struct strbuf want = STRBUF_INIT;
	for (int i = 0; i < 10; i++)
		strbuf_addf(&want, "line %04d\n", i);
	strbuf_addstr(&want, now);
	assert_string_equal(out, want.buf);
	strbuf_release(&want);
	free(out);
	free(err);
	free(now);
	free(nerr);
}

static bool never_alive(void *opaque)
{
	(void)opaque;
	return false;
}

static void test_follow_stopped(void **state)
{
	struct fixture *f = *state;
	write_numbered(f->path, 0, 1, 0, 3);
	append_raw(f->path, "{\"log\":\"un");
	struct logs_opts o = opts_all();
	o.follow = true;
	o.alive = never_alive;
	char *out, *err;
	/* a stopped container: what is there, then done */
	read_logs(f, &o, &out, &err);
	expect_numbered(out, 0, 3);
	free(out);
	free(err);
	/* and with no log at all */
	assert_int_equal(unlink(f->path), 0);
	read_logs(f, &o, &out, &err);
	assert_string_equal(out, "");
	free(out);
	free(err);
}

/* ---- logs_parse_time ---- */

#define SEC 1000000000LL

static void check_time(const char *s, int64_t now, int64_t want)
{
	berth_err e = BERTH_ERR_INIT;
	int64_t got = -1;
	int r = logs_parse_time(s, now, &got, &e);
	if (r < 0)
		fail_msg("%s: %s", s, e.msg);
	if (got != want)
		fail_msg("%s: got %lld, want %lld", s, (long long)got, (long long)want);
}

static void check_bad_time(const char *s)
{
	berth_err e = BERTH_ERR_INIT;
	int64_t got = 0;
	assert_int_equal(logs_parse_time(s, 1700000000 * SEC, &got, &e), -EINVAL);
	assert_non_null(e.msg);
	if (!strstr(e.msg, s))
		fail_msg("error for \"%s\" does not name it: %s", s, e.msg);
	berth_err_clear(&e);
}

static void test_parse_time(void **state)
{
	(void)state;
	int64_t now = 1700000000 * SEC;
	const int64_t base = 1700000000 * SEC; /* 2023-11-14T22:13:20Z */

	check_time("2023-11-14T22:13:20Z", now, base);
	check_time("2023-11-14T22:13:20.5Z", now, base + 500000000);
	check_time("2023-11-14T22:13:20.123456789Z", now, base + 123456789);
	check_time("2023-11-14T23:13:20+01:00", now, base);
	check_time("2023-11-14T20:43:20-01:30", now, base);
	check_time("1700000000", now, base);
	check_time("1700000000.5", now, base + 500000000);
	check_time("1700000000.000000001", now, base + 1);
	check_time("0", now, 0);
	check_time("10m", now, now - 600 * SEC);
	check_time("1h30m", now, now - 5400 * SEC);
	check_time("90s", now, now - 90 * SEC);
	check_time("250ms", now, now - 250000000);
	check_time("1.5h", now, now - 5400 * SEC);
	check_time("1h2m3s4ms5us6ns", now, now - 3723 * SEC - 4005006);
	check_time("-10m", now, now + 600 * SEC);

	/* without a zone: local time */
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "UTC0", 1);
	tzset();
	check_time("2023-11-14T22:13:20", now, base);
	check_time("2023-11-14T22:13:20.25", now, base + 250000000);
	check_time("2023-11-14", now, (1700000000 - 80000) * SEC);
	setenv("TZ", "XXX-2", 1); /* two hours east of UTC */
	tzset();
	check_time("2023-11-14T22:13:20", now, base - 7200 * SEC);
	check_time("2023-11-14T22:13:20Z", now, base);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();

	check_bad_time("yesterday");
	check_bad_time("10x");
	check_bad_time("1h30");
	check_bad_time("2023-13-01");
	check_bad_time("2023-02-30");
	check_bad_time("2023-11-14T25:00:00Z");
	check_bad_time("2023-11-14T22:13:20+1");
	check_bad_time("12:00");
	check_bad_time("1700000000.");
	check_bad_time("-");
	check_bad_time(".s");

	berth_err e = BERTH_ERR_INIT;
	int64_t got;
	assert_true(logs_parse_time("", now, &got, &e) < 0);
	assert_non_null(e.msg);
	berth_err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_until, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_rotated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_missed_rotations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_stopped, setup, teardown),
		cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
