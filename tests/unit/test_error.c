/* test_error.c - berth_err messages and codes, context wrapping, and xalloc
 * (including that exhaustion aborts with one line on stderr). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"

static void test_error_with_errno(void **state)
{
	(void)state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	assert_int_equal(berth_error(&err, ENOENT, "opening %s", "config.json"), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "opening config.json: No such file or directory");

	/* A second error replaces the first. */
	assert_int_equal(berth_error(&err, EACCES, "mount %d", 3), -EACCES);
	assert_string_equal(err.msg, "mount 3: Permission denied");

	/* A negative errnum is the same cause. */
	assert_int_equal(berth_error(&err, -EPERM, "setns"), -EPERM);
	assert_int_equal(err.code, EPERM);
	assert_string_equal(err.msg, "setns: Operation not permitted");

	errno = EBUSY;
	assert_int_equal(berth_error_errno(&err, "umount %s", "/proc"), -EBUSY);
	assert_string_equal(err.msg, "umount /proc: Device or resource busy");
}

static void test_error_without_errno(void **state)
{
	(void)state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	/* errnum 0: a plain message, code EINVAL. */
	assert_int_equal(berth_error(&err, 0, "process.args must not be empty"), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "process.args must not be empty");

	assert_int_equal(berth_error_code(&err, ENOTSUP, "cgroup v%d is not mounted", 2), -ENOTSUP);
	assert_int_equal(err.code, ENOTSUP);
	assert_string_equal(err.msg, "cgroup v2 is not mounted");
}

static void test_wrap_chain(void **state)
{
	(void)state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	berth_error(&err, ENOENT, "open %s", "/bin/sh");
	assert_int_equal(berth_error_wrap(&err, "exec"), -ENOENT);
	assert_int_equal(berth_error_wrap(&err, "container %s", "c1"), -ENOENT);
	assert_string_equal(err.msg, "container c1: exec: open /bin/sh: No such file or directory");
	assert_int_equal(err.code, ENOENT);

	/* Wrapping nothing: the cause is EINVAL and the message still reads. */
	berth_err empty = BERTH_ERR_INIT;
	assert_int_equal(berth_error_wrap(&empty, "loading spec"), -EINVAL);
	assert_int_equal(empty.code, EINVAL);
	assert_string_equal(empty.msg, "loading spec: Invalid argument");
	berth_err_clear(&empty);
	assert_null(empty.msg);
	assert_int_equal(empty.code, 0);
}

static void test_null_err(void **state)
{
	(void)state;
	assert_int_equal(berth_error(NULL, ENOMEM, "x"), -ENOMEM);
	assert_int_equal(berth_error(NULL, 0, "x"), -EINVAL);
	assert_int_equal(berth_error_code(NULL, EIO, "x"), -EIO);
	assert_int_equal(berth_error_wrap(NULL, "x"), -EINVAL);
	berth_err_clear(NULL);
}

static void test_xalloc(void **state)
{
	(void)state;
	_cleanup_free_ char *s = xasprintf("%s-%d", "berth", 7);
	assert_string_equal(s, "berth-7");
	_cleanup_free_ char *d = xstrdup("abc");
	assert_string_equal(d, "abc");
	_cleanup_free_ char *n = xstrndup("abcdef", 3);
	assert_string_equal(n, "abc");
	_cleanup_free_ int *z = xcalloc(64, sizeof(int));
	for (int i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	_cleanup_free_ void *zero = xmalloc(0);
	assert_non_null(zero);
	char *r = xmalloc(4);
	memcpy(r, "abc", 4);
	r = xrealloc(r, 1 << 20);
	assert_string_equal(r, "abc");
	free(r);
}

#ifdef __SANITIZE_ADDRESS__
/* Under ASan a huge malloc must return NULL (as libc's does) for xalloc's own
 * out-of-memory path to be the one tested. */
__attribute__((used, visibility("default"))) const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* Exhaustion: one line on stderr, then abort(). */
static void test_xalloc_oom_aborts(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		if (dup2(p[1], STDERR_FILENO) < 0)
			_exit(2);
		volatile size_t huge = SIZE_MAX / 2;
		void *v = xmalloc(huge);
		(void)v;
		_exit(3);
	}
	close(p[1]);
	char buf[1024] = { 0 };
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	/* The last line is xalloc's (a sanitizer may warn before it). */
	const char *want = "berth: out of memory\n";
	assert_true(n >= strlen(want));
	assert_string_equal(buf + n - strlen(want), want);
	assert_true(n == strlen(want) || buf[n - strlen(want) - 1] == '\n');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_with_errno),
		cmocka_unit_test(test_error_without_errno),
		cmocka_unit_test(test_wrap_chain),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_xalloc),
		cmocka_unit_test(test_xalloc_oom_aborts),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
