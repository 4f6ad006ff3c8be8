/* test_jsonlog.c - the monitor's writer produces Docker's json-file lines that
 * a JSON parser reads back byte for byte, splits long and partial lines as
 * Docker does, escapes as Go does, and rotates keeping max-file files. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "monitor/jsonlog.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-jsonlog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctr-json.log", f->dir);
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
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* One entry of a log file, decoded. */
struct entry {
	char *log;
	size_t len;
	char stream[8];
	char time[48];
};

struct entries {
	struct entry e[4096];
	size_t n;
};

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->e[i].log);
	es->n = 0;
}

static bool time_looks_right(const char *t)
{
	/* 2026-11-29T05:30:00[.1-9 digits, no trailing 0]Z */
	size_t n = strlen(t);
	if (n < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
	    t[n - 1] != 'Z')
		return false;
	if (n == 20)
		return true;
	if (t[19] != '.' || n < 22 || n > 30 || t[n - 2] == '0')
		return false;
	for (size_t i = 20; i < n - 1; i++)
		if (t[i] < '0' || t[i] > '9')
			return false;
	return true;
}

/* Parse every line of a file: each must be a complete JSON object with
 * exactly log, stream and time, and end with a newline. */
static void read_entries(const char *path, struct entries *es)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		assert_int_equal(line[n - 1], '\n');
		json_error_t jerr;
		json_t *o = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
		if (!o)
			fail_msg("not JSON: %s (%s)", line, jerr.text);
		assert_true(json_is_object(o));
		assert_int_equal(json_object_size(o), 3);
		json_t *log = json_object_get(o, "log");
		json_t *stream = json_object_get(o, "stream");
		json_t *time = json_object_get(o, "time");
		assert_true(json_is_string(log) && json_is_string(stream) && json_is_string(time));
		assert_true(es->n < 4096);
		struct entry *e = &es->e[es->n++];
		e->len = json_string_length(log);
		e->log = malloc(e->len + 1);
		assert_non_null(e->log);
		memcpy(e->log, json_string_value(log), e->len + 1);
		snprintf(e->stream, sizeof(e->stream), "%s", json_string_value(stream));
		snprintf(e->time, sizeof(e->time), "%s", json_string_value(time));
		assert_true(time_looks_right(e->time));
		json_decref(o);
	}
	free(line);
	fclose(fp);
}

static off_t file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

static void test_lines_and_streams(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "hello\nworld\n", 12), 0);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDERR, "oops\n", 5), 0);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "\n", 1), 0);
	assert_int_equal(jsonlog_flush(l), 0);
	jsonlog_close(l);

	struct entries es = { .n = 0 };
	read_entries(f->path, &es);
	assert_int_equal(es.n, 4);
	assert_string_equal(es.e[0].log, "hello\n");
	assert_string_equal(es.e[0].stream, "stdout");
	assert_string_equal(es.e[1].log, "world\n");
	assert_string_equal(es.e[2].log, "oops\n");
	assert_string_equal(es.e[2].stream, "stderr");
	assert_string_equal(es.e[3].log, "\n");
	entries_free(&es);

	/* the exact bytes of a line: Docker's key order, no spaces */
	FILE *fp = fopen(f->path, "r");
	char buf[256];
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	const char *prefix = "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"";
	assert_int_equal(strncmp(buf, prefix, strlen(prefix)), 0);
	assert_string_equal(buf + strlen(buf) - 4, "Z\"}\n");

	/* reopening appends */
	l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "again\n", 6), 0);
	jsonlog_close(l);
	read_entries(f->path, &es);
	assert_int_equal(es.n, 5);
	assert_string_equal(es.e[4].log, "again\n");
	entries_free(&es);
}

static void test_partial_lines(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "abc", 3), 0);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDERR, "e1", 2), 0);
	assert_int_equal(file_size(f->path), 0); /* held, nothing written */
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "def\nghi", 7), 0);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDERR, "\n", 1), 0);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "", 0), 0);
	assert_int_equal(jsonlog_flush(l), 0);
	assert_int_equal(jsonlog_flush(l), 0); /* nothing held any more */
	jsonlog_close(l);

	struct entries es = { .n = 0 };
	read_entries(f->path, &es);
	assert_int_equal(es.n, 3);
	assert_string_equal(es.e[0].log, "abcdef\n");
	assert_string_equal(es.e[1].log, "e1\n");
	assert_string_equal(es.e[1].stream, "stderr");
	assert_string_equal(es.e[2].log, "ghi"); /* flushed without newline */
	assert_string_equal(es.e[2].stream, "stdout");
	entries_free(&es);
}

static void test_long_line_split(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);

	size_t n = 40000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\n';
	/* in uneven chunks, as a pipe delivers them */
	for (size_t off = 0; off < n + 1; off += 3001) {
		size_t c = n + 1 - off < 3001 ? n + 1 - off : 3001;
		assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, big + off, c), 0);
	}
	/* a two-byte character across the 16 KiB boundary stays whole */
	memset(big, 'b', JSONLOG_LINE_MAX - 1);
	memcpy(big + JSONLOG_LINE_MAX - 1, "\xc3\xa9\n", 3);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, big, JSONLOG_LINE_MAX + 2), 0);
	/* exactly 16 KiB of text then its newline */
	memset(big, 'c', JSONLOG_LINE_MAX);
	big[JSONLOG_LINE_MAX] = '\n';
	assert_int_equal(jsonlog_write(l, JSONLOG_STDERR, big, JSONLOG_LINE_MAX + 1), 0);
	jsonlog_close(l);
	free(big);

	struct entries es = { .n = 0 };
	read_entries(f->path, &es);
	assert_int_equal(es.n, 7);
	assert_int_equal(es.e[0].len, JSONLOG_LINE_MAX);
	assert_int_equal(es.e[1].len, JSONLOG_LINE_MAX);
	assert_int_equal(es.e[2].len, 40000 - 2 * JSONLOG_LINE_MAX + 1);
	assert_int_equal(es.e[2].log[es.e[2].len - 1], '\n');
	assert_int_equal(es.e[0].log[JSONLOG_LINE_MAX - 1], 'a');
	assert_int_equal(es.e[3].len, JSONLOG_LINE_MAX - 1);
	assert_string_equal(es.e[4].log, "\xc3\xa9\n");
	assert_int_equal(es.e[5].len, JSONLOG_LINE_MAX);
	assert_string_equal(es.e[5].stream, "stderr");
	assert_string_equal(es.e[6].log, "\n");
	entries_free(&es);
}

static void check_escape(const char *in, size_t n, const char *want)
{
	char out[512];
	assert_true(n * 6 <= sizeof(out));
	size_t len = jsonlog_escape(in, n, out);
	out[len] = '\0';
	assert_string_equal(out, want);
}

static void test_escaping(void **state)
{
	struct fixture *f = *state;

	check_escape("plain text", 10, "plain text");
	check_escape("q\"b\\", 4, "q\\\"b\\\\");
	check_escape("\n\r\t", 3, "\\n\\r\\t");
	check_escape("\x01\x08\x0c\x1f\x7f", 5, "\\u0001\\u0008\\u000c\\u001f\x7f");
	check_escape("a\0b", 3, "a\\u0000b");
	check_escape("<a href=x>&amp;", 15, "\\u003ca href=x\\u003e\\u0026amp;");
	/* valid multibyte passes through; U+2028/2029 are escaped */
	check_escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3", 9,
		     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3");
	check_escape("\xe2\x80\xa8\xe2\x80\xa9", 6, "\\u2028\\u2029");
	/* invalid UTF-8: each bad byte is U+FFFD */
	check_escape("\xff", 1, "\\ufffd");
	check_escape("a\xc3", 2, "a\\ufffd");                                /* truncated */
	check_escape("\xc0\xaf", 2, "\\ufffd\\ufffd");                       /* overlong */
	check_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");            /* surrogate */
	check_escape("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
	check_escape("\xe2\x82x", 3, "\\ufffd\\ufffdx");

	/* through the file, a JSON parser gives back the bytes (bad ones as U+FFFD) */
	struct jsonlog *l = jsonlog_open(f->path, 0, 1);
	assert_non_null(l);
	const char in[] = "c\0t\x01\x1b[31m\"<&>\\\xe2\x80\xa8\xff\n";
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, in, sizeof(in) - 1), 0);
	jsonlog_close(l);
	struct entries es = { .n = 0 };
	read_entries(f->path, &es);
	assert_int_equal(es.n, 1);
	const char want[] = "c\0t\x01\x1b[31m\"<&>\\\xe2\x80\xa8\xef\xbf\xbd\n";
	assert_int_equal(es.e[0].len, sizeof(want) - 1);
	assert_memory_equal(es.e[0].log, want, sizeof(want) - 1);
	entries_free(&es);
}

static void check_time(time_t sec, long nsec, const char *want)
{
	char buf[JSONLOG_TIME_MAX];
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
	size_t n = jsonlog_format_time(&ts, buf);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_time_format(void **state)
{
	(void)state;
	check_time(0, 0, "1970-01-01T00:00:00Z");
	check_time(1700000000, 123000000, "2023-11-14T22:13:20.123Z");
	check_time(1700000000, 1, "2023-11-14T22:13:20.000000001Z");
	check_time(1700000000, 999999999, "2023-11-14T22:13:20.999999999Z");
	check_time(1700000000, 100, "2023-11-14T22:13:20.0000001Z");
	check_time(1795930200, 123456789, "2026-11-29T05:30:00.123456789Z");
	check_time(951782400, 0, "2000-02-29T00:00:00Z"); /* leap day of a 400th year */
	check_time(4107542399, 5, "2100-02-28T23:59:59.000000005Z");
	check_time(4107542400, 0, "2100-03-01T00:00:00Z"); /* 2100 is not leap */
	check_time(-1, 500000000, "1969-12-31T23:59:59.5Z");
}

/* The concatenation of the files, oldest first, is a run of consecutive
 * numbered lines ending with the last one written. */
static void check_rotated(const struct fixture *f, int files, int last)
{
	char name[128];
	struct entries *es = calloc(1, sizeof(*es));
	assert_non_null(es);
	for (int i = files - 1; i >= 0; i--) {
		if (i == 0)
			snprintf(name, sizeof(name), "%s", f->path);
		else
			snprintf(name, sizeof(name), "%s.%d", f->path, i);
		off_t sz = file_size(name);
		assert_true(sz > 0);
		assert_true(sz <= 1024);
		read_entries(name, es);
	}
	snprintf(name, sizeof(name), "%s.%d", f->path, files);
	assert_int_equal(file_size(name), -1);
	assert_true(es->n > 3);
	int first = atoi(es->e[0].log + 5);
	assert_int_equal(first + (int)es->n - 1, last);
	for (size_t i = 0; i < es->n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "line %04d\n", first + (int)i);
		assert_string_equal(es->e[i].log, want);
	}
	entries_free(es);
	free(es);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 1024, 3);
	assert_non_null(l);
	for (int i = 0; i < 300; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %04d\n", i);
		assert_int_equal(
			jsonlog_write(l, i % 2 ? JSONLOG_STDERR : JSONLOG_STDOUT, line, (size_t)n),
			0);
	}
	jsonlog_close(l);
	check_rotated(f, 3, 299);

	/* reopened, the size already there counts toward max-size */
	l = jsonlog_open(f->path, 1024, 3);
	assert_non_null(l);
	for (int i = 300; i < 320; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %04d\n", i);
		assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, line, (size_t)n), 0);
	}
	jsonlog_close(l);
	check_rotated(f, 3, 319);
}

static void test_rotation_single_file(void **state)
{
	struct fixture *f = *state;
	struct jsonlog *l = jsonlog_open(f->path, 1024, 1);
	assert_non_null(l);
	for (int i = 0; i < 100; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %04d\n", i);
		assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, line, (size_t)n), 0);
	}
	jsonlog_close(l);
	check_rotated(f, 1, 99);
}

static void test_write_errors(void **state)
{
	(void)state;
	/* a full disk: the error comes back and the writer keeps working */
	struct jsonlog *l = jsonlog_open("/dev/full", 0, 1);
	if (!l)
		skip();
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "a\nb\n", 4), -ENOSPC);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "partial", 7), 0);
	assert_int_equal(jsonlog_flush(l), -ENOSPC);
	assert_int_equal(jsonlog_write(l, JSONLOG_STDOUT, "c\n", 2), -ENOSPC);
	jsonlog_close(l);

	assert_null(jsonlog_open("", 0, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(jsonlog_open("/nonexistent-dir/x.log", 0, 1));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_and_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_single_file, setup, teardown),
		cmocka_unit_test(test_write_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
