/* test_log.c - log records as runc/logrus writes them: JSON lines that parse,
 * logrus text quoting, level threshold, whole lines under concurrent writers. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/log.h"

struct fixture {
	char dir[64];
	char file[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-log-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/log.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	log_close();
	unlink(f->file);
	int r = rmdir(f->dir);
	free(f);
	return r;
}

/* Start each test with an empty log file. */
static int before(void **state)
{
	struct fixture *f = *state;
	log_close();
	if (unlink(f->file) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static char *slurp(const struct fixture *f)
{
	char *data = NULL;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(file_read(f->file, &data, NULL, &err), 0);
	return data;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t rx;
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	int r = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	if (r != 0)
		fail_msg("\"%s\" does not match /%s/", s, re);
}

#define TIME_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*[1-9])?Z"

static void test_json_record(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(log_init(f->file, LOG_FMT_JSON, LOG_LVL_INFO, &err), 0);
	struct stat st;
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(log_fd() > STDERR_FILENO);

	errno = EXDEV;
	log_error("container %s: \"quoted\" back\\slash\nnew\tline \x01 <b>&", "abc");
	assert_int_equal(errno, EXDEV); /* logging does not clobber errno */
	log_warn("careful");
	log_info("bad utf8 \xff\xfe and good \xc3\xa9");
	log_debug("not shown at info");
	log_close();

	_cleanup_free_ char *data = slurp(f);
	char *save = NULL;
	const char *want_level[] = { "error", "warning", "info" };
	const char *want_msg[] = {
		"container abc: \"quoted\" back\\slash\nnew\tline \x01 <b>&",
		"careful",
		"bad utf8 \xef\xbf\xbd\xef\xbf\xbd and good \xc3\xa9",
	};
	int n = 0;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		assert_true(n < 3);
		/* Key order and form exactly as logrus writes them. */
		assert_matches(line, "^\\{\"level\":\"[a-z]+\",\"msg\":\".*\",\"time\":\"" TIME_RE "\"\\}$");
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);
		if (!j)
			fail_msg("line %d is not JSON: %s: %s", n, jerr.text, line);
		assert_string_equal(json_string_value(json_object_get(j, "level")), want_level[n]);
		assert_string_equal(json_string_value(json_object_get(j, "msg")), want_msg[n]);
		assert_int_equal(json_object_size(j), 3);
		json_decref(j);
	}
	assert_int_equal(n, 3);
	/* Go's HTML escaping and \u escapes for control characters. */
	assert_non_null(strstr(data, "\\u003cb\\u003e\\u0026"));
}

static void test_text_record(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(log_init(f->file, LOG_FMT_TEXT, LOG_LVL_DEBUG, &err), 0);
	log_debug("plain-word.ok/1");
	log_error("needs \"quotes\"\n");
	log_close();
	char *data = slurp(f);
	size_t first = strcspn(data, "\n");
	assert_int_equal(data[first], '\n');
	data[first] = '\0';
	assert_matches(data, "^time=\"" TIME_RE "\" level=debug msg=plain-word\\.ok/1$");
	assert_matches(data + first + 1,
		       "^time=\"" TIME_RE "\" level=error msg=\"needs \\\\\"quotes\\\\\"\\\\n\"\n$");
	free(data);
}

static void test_levels(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(log_init(f->file, LOG_FMT_JSON, LOG_LVL_ERROR, &err), 0);
	assert_int_equal(log_get_level(), LOG_LVL_ERROR);
	log_warn("w1");
	log_info("i1");
	log_error("e1");
	log_set_level(LOG_LVL_WARN);
	log_warn("w2");
	log_info("i2");
	log_close();
	_cleanup_free_ char *data = slurp(f);
	assert_null(strstr(data, "w1"));
	assert_null(strstr(data, "i1"));
	assert_null(strstr(data, "i2"));
	assert_non_null(strstr(data, "\"msg\":\"e1\""));
	assert_non_null(strstr(data, "\"level\":\"warning\",\"msg\":\"w2\""));
}

static void test_init_errors_and_parse(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(log_init("/nonexistent/dir/log", LOG_FMT_JSON, LOG_LVL_INFO, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/log"));
	berth_err_clear(&err);
	assert_int_equal(log_init(NULL, LOG_FMT_TEXT, LOG_LVL_INFO, &err), 0);
	assert_int_equal(log_fd(), STDERR_FILENO);

	enum log_format fmt = LOG_FMT_TEXT;
	assert_int_equal(log_format_parse("json", &fmt), 0);
	assert_int_equal(fmt, LOG_FMT_JSON);
	assert_int_equal(log_format_parse("text", &fmt), 0);
	assert_int_equal(fmt, LOG_FMT_TEXT);
	assert_int_equal(log_format_parse("JSON", &fmt), -EINVAL);
	assert_int_equal(log_format_parse("", &fmt), -EINVAL);
}

static void test_stderr_default(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	assert_int_equal(log_init(NULL, LOG_FMT_JSON, LOG_LVL_INFO, &err), 0);
	log_error("to stderr");
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	_cleanup_free_ char *data = slurp(f);
	assert_matches(data, "^\\{\"level\":\"error\",\"msg\":\"to stderr\",\"time\":\"" TIME_RE "\"\\}\n$");
}

/* Several processes append big records to one file: every line must parse whole. */
static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	enum { WRITERS = 4, RECORDS = 150, PAYLOAD = 6000 };
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			if (log_init(f->file, LOG_FMT_JSON, LOG_LVL_INFO, NULL) < 0)
				_exit(1);
			char *payload = malloc(PAYLOAD + 1);
			if (!payload)
				_exit(1);
			memset(payload, 'a' + w, PAYLOAD);
			payload[PAYLOAD] = '\0';
			for (int i = 0; i < RECORDS; i++)
				log_error("w%d r%d %s", w, i, payload);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	_cleanup_free_ char *data = slurp(f);
	int count[WRITERS] = { 0 };
	int lines = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);
		if (!j)
			fail_msg("torn record: %s", jerr.text);
		const char *msg = json_string_value(json_object_get(j, "msg"));
		int w = -1, r = -1, off = 0;
		assert_int_equal(sscanf(msg, "w%d r%d %n", &w, &r, &off), 2);
		assert_true(w >= 0 && w < WRITERS);
		assert_int_equal(strlen(msg + off), PAYLOAD);
		assert_int_equal(strspn(msg + off, (char[]){ (char)('a' + w), 0 }), PAYLOAD);
		count[w]++;
		json_decref(j);
	}
	assert_int_equal(lines, WRITERS * RECORDS);
	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(count[w], RECORDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_json_record, before),
		cmocka_unit_test_setup(test_text_record, before),
		cmocka_unit_test_setup(test_levels, before),
		cmocka_unit_test_setup(test_init_errors_and_parse, before),
		cmocka_unit_test_setup(test_stderr_default, before),
		cmocka_unit_test_setup(test_concurrent_writers, before),
	};
	return cmocka_run_group_tests_name("log", tests, setup, teardown);
}
