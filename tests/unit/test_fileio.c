/* test_fileio.c - atomic writes leave no temp files, knob writes neither create
 * nor truncate, reads handle /proc files and large files. */
#include <dirent.h>
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

#include "common/cleanup.h"
#include "common/fileio.h"

struct fixture {
	char dir[64];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-fileio-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0)
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
	close(f->dirfd);
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* Entries in the fixture dir: count, and whether any temp file is left. */
static int count_entries(const struct fixture *f, bool *tmp_left)
{
	_cleanup_dir_ DIR *d = opendir(f->dir);
	assert_non_null(d);
	int n = 0;
	*tmp_left = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (strstr(de->d_name, ".tmp."))
			*tmp_left = true;
	}
	return n;
}

static void test_atomic_write_and_replace(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	bool tmp_left;

	assert_int_equal(file_write_atomic(f->dirfd, "state.json", "{\"a\":1}", 7, 0600, &err), 0);
	struct stat st1;
	assert_int_equal(fstatat(f->dirfd, "state.json", &st1, 0), 0);
	assert_int_equal(st1.st_mode & 07777, 0600);

	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	assert_int_equal(file_read_at(f->dirfd, "state.json", &data, &len, &err), 0);
	assert_int_equal(len, 7);
	assert_string_equal(data, "{\"a\":1}");

	/* Replacing: a new inode takes the name, the content is the new one. */
	assert_int_equal(file_write_atomic(f->dirfd, "state.json", "{}", 2, 0644, &err), 0);
	struct stat st2;
	assert_int_equal(fstatat(f->dirfd, "state.json", &st2, 0), 0);
	assert_int_not_equal(st1.st_ino, st2.st_ino);
	free(data);
	data = NULL;
	assert_int_equal(file_read_at(f->dirfd, "state.json", &data, &len, &err), 0);
	assert_string_equal(data, "{}");

	assert_int_equal(count_entries(f, &tmp_left), 1);
	assert_false(tmp_left);
	assert_int_equal(unlinkat(f->dirfd, "state.json", 0), 0);
}

static void test_atomic_write_failure_removes_temp(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	bool tmp_left;

	/* A non-empty directory in the way: rename(2) fails, the temp file must go. */
	assert_int_equal(mkdirat(f->dirfd, "blocked", 0755), 0);
	assert_int_equal(mkdirat(f->dirfd, "blocked/inner", 0755), 0);
	int r = file_write_atomic(f->dirfd, "blocked", "x", 1, 0644, &err);
	assert_true(r < 0);
	assert_int_equal(-r, err.code);
	assert_non_null(strstr(err.msg, "writing blocked"));
	assert_non_null(strstr(err.msg, "rename"));
	berth_err_clear(&err);
	assert_int_equal(count_entries(f, &tmp_left), 1);
	assert_false(tmp_left);

	/* Missing directory: the temp cannot even be created. */
	r = file_write_atomic(f->dirfd, "nodir/file", "x", 1, 0644, &err);
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(err.msg, "nodir/file"));
	berth_err_clear(&err);

	assert_int_equal(unlinkat(f->dirfd, "blocked/inner", AT_REMOVEDIR), 0);
	assert_int_equal(unlinkat(f->dirfd, "blocked", AT_REMOVEDIR), 0);
}

static void test_write_at_no_create_no_truncate(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	bool tmp_left;

	int r = file_write_at(f->dirfd, "memory.limit_in_bytes", "100", 3, &err);
	assert_int_equal(r, -ENOENT);
	assert_non_null(err.msg);
	assert_string_equal(err.msg, "writing memory.limit_in_bytes: No such file or directory");
	berth_err_clear(&err);
	assert_int_equal(count_entries(f, &tmp_left), 0);

	assert_int_equal(file_write_atomic(f->dirfd, "knob", "hello world", 11, 0644, &err), 0);
	assert_int_equal(file_write_at(f->dirfd, "knob", "HI", 2, &err), 0);
	_cleanup_free_ char *data = NULL;
	assert_int_equal(file_read_at(f->dirfd, "knob", &data, NULL, &err), 0);
	assert_string_equal(data, "HIllo world");
	assert_int_equal(unlinkat(f->dirfd, "knob", 0), 0);
}

static void test_write_kernel_knob(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *old = NULL;
	assert_int_equal(file_read("/proc/self/comm", &old, NULL, &err), 0);
	assert_int_equal(file_write_at(AT_FDCWD, "/proc/self/comm", "berth-knob", 10, &err), 0);
	_cleanup_free_ char *now = NULL;
	assert_int_equal(file_read("/proc/self/comm", &now, NULL, &err), 0);
	assert_string_equal(now, "berth-knob\n");
	assert_int_equal(file_write_at(AT_FDCWD, "/proc/self/comm", old, strlen(old), &err), 0);
}

static void test_read_proc_and_large(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;

	/* st_size is 0 for these; the content is still all there. */
	_cleanup_free_ char *status = NULL;
	size_t len = 0;
	assert_int_equal(file_read("/proc/self/status", &status, &len, &err), 0);
	assert_true(len > 100);
	assert_int_equal(strlen(status), len);
	assert_non_null(strstr(status, "Name:"));
	assert_non_null(strstr(status, "voluntary_ctxt_switches"));

	/* Larger than any initial guess, with NULs inside: len is authoritative. */
	size_t big = 300000;
	_cleanup_free_ char *src = malloc(big);
	assert_non_null(src);
	for (size_t i = 0; i < big; i++)
		src[i] = (char)(i * 7);
	assert_int_equal(file_write_atomic(f->dirfd, "big", src, big, 0644, &err), 0);
	_cleanup_free_ char *back = NULL;
	assert_int_equal(file_read_at(f->dirfd, "big", &back, &len, &err), 0);
	assert_int_equal(len, big);
	assert_memory_equal(back, src, big);
	assert_int_equal(back[big], '\0');
	assert_int_equal(unlinkat(f->dirfd, "big", 0), 0);

	_cleanup_free_ char *none = NULL;
	assert_int_equal(file_read("/nonexistent/berth", &none, &len, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "reading /nonexistent/berth"));
	assert_null(none);
	berth_err_clear(&err);
}

static void test_fd_pipe(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fd_write_all(p[1], "abc\0def", 7), 0);
	assert_int_equal(fd_write_all(p[1], "", 0), 0);
	close(p[1]);
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	assert_int_equal(fd_read_all(p[0], &out, &len), 0);
	close(p[0]);
	assert_int_equal(len, 7);
	assert_memory_equal(out, "abc\0def", 8);

	assert_int_equal(fd_write_all(-1, "x", 1), -EBADF);
	char *never = NULL;
	assert_int_equal(fd_read_all(-1, &never, &len), -EBADF);
	assert_null(never);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write_and_replace),
		cmocka_unit_test(test_atomic_write_failure_removes_temp),
		cmocka_unit_test(test_write_at_no_create_no_truncate),
		cmocka_unit_test(test_write_kernel_knob),
		cmocka_unit_test(test_read_proc_and_large),
		cmocka_unit_test(test_fd_pipe),
	};
	umask(022);
	return cmocka_run_group_tests_name("fileio", tests, setup, teardown);
}
