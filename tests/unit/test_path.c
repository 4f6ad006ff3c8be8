/* test_path.c - path resolution inside a fake rootfs cannot escape it, with
 * openat2 and with the component-walking fallback; lexical helpers. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/path.h"

struct fixture {
	char dir[64];  /* parent of the root, with a file that must stay unreachable */
	char root[96]; /* the fake rootfs */
	int rootfd;
	bool fallback;
};

static char *mkpath(const struct fixture *f, const char *rel)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", f->root, rel) > 0);
	return p;
}

static void put_file(const struct fixture *f, const char *rel)
{
	_cleanup_free_ char *p = mkpath(f, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void put_dir(const struct fixture *f, const char *rel)
{
	_cleanup_free_ char *p = mkpath(f, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void put_link(const struct fixture *f, const char *rel, const char *target)
{
	_cleanup_free_ char *p = mkpath(f, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state, bool fallback)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-path-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	if (mkdir(f->root, 0755) < 0)
		return -1;
	/* Outside the root: reaching it means an escape. */
	char outside[128];
	snprintf(outside, sizeof(outside), "%s/outside-marker", f->dir);
	int fd = open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);

	put_file(f, "root-marker");
	put_dir(f, "target");
	put_file(f, "target/marker");
	put_dir(f, "real");
	put_file(f, "real/file");
	put_file(f, "plainfile");
	put_link(f, "etc", "/");
	put_link(f, "up", "../../../../");
	put_link(f, "upmarker", "../../../../outside-marker");
	put_link(f, "abs", "/target");
	put_link(f, "real/relup", "../target/marker");
	put_link(f, "loop1", "loop2");
	put_link(f, "loop2", "loop1");
	put_link(f, "dangling", "/made/by/link");

	f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->rootfd < 0)
		return -1;
	f->fallback = fallback;
	path_force_fallback(fallback);
	*state = f;
	return 0;
}

static int setup_openat2(void **state)
{
	return setup(state, false);
}

static int setup_fallback(void **state)
{
	return setup(state, true);
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
	path_force_fallback(false);
	close(f->rootfd);
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* fd refers to the same inode as root/rel. */
#define assert_same(f, fd, rel) assert_same_((f), (fd), (rel), &err)
static void assert_same_(const struct fixture *f, int fd, const char *rel, const berth_err *err)
{
	struct stat a, b;
	if (fd < 0)
		fail_msg("want %s, got %d: %s", rel, fd, err->msg ? err->msg : "(no message)");
	assert_int_equal(fstat(fd, &a), 0);
	_cleanup_free_ char *p = mkpath(f, rel);
	assert_int_equal(lstat(p, &b), 0);
	assert_int_equal(a.st_dev, b.st_dev);
	assert_int_equal(a.st_ino, b.st_ino);
}

static void assert_inside(const struct fixture *f, int fd)
{
	_cleanup_free_ char *p = path_fd_to_path(fd);
	assert_non_null(p);
	assert_true(strncmp(p, f->root, strlen(f->root)) == 0);
}

static void test_etc_link_to_slash_stays_inside(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;

	_cleanup_close_ int fd = path_open_in_root(f->rootfd, "etc/root-marker", O_RDONLY, 0, &err);
	assert_same(f, fd, "root-marker");
	assert_inside(f, fd);

	_cleanup_close_ int fd2 = path_open_in_root(f->rootfd, "/etc/etc/etc/..", O_PATH, 0, &err);
	assert_same(f, fd2, ".");

	/* The host's /etc/passwd must not be what "/etc/passwd" finds. */
	int fd3 = path_open_in_root(f->rootfd, "/etc/passwd", O_RDONLY, 0, &err);
	assert_int_equal(fd3, -ENOENT);
	assert_non_null(err.msg);
	assert_non_null(strstr(err.msg, "/etc/passwd"));
	berth_err_clear(&err);
}

static void test_dotdot_link_stays_inside(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;

	_cleanup_close_ int fd = path_open_in_root(f->rootfd, "up", O_PATH | O_DIRECTORY, 0, &err);
	assert_same(f, fd, ".");

	_cleanup_close_ int fd2 = path_open_in_root(f->rootfd, "up/root-marker", O_RDONLY, 0, &err);
	assert_same(f, fd2, "root-marker");
	assert_inside(f, fd2);

	_cleanup_close_ int fd3 = path_open_in_root(f->rootfd, "../../../../../", O_PATH, 0, &err);
	assert_same(f, fd3, ".");

	/* The file beside the root is never reached, through a link or "..". */
	assert_int_equal(path_open_in_root(f->rootfd, "upmarker", O_RDONLY, 0, &err), -ENOENT);
	berth_err_clear(&err);
	assert_int_equal(path_open_in_root(f->rootfd, "../outside-marker", O_RDONLY, 0, &err),
			 -ENOENT);
	berth_err_clear(&err);
	assert_int_equal(path_open_in_root(f->rootfd, "real/../../outside-marker", O_RDONLY, 0, &err),
			 -ENOENT);
	berth_err_clear(&err);
}

static void test_absolute_target_resolved_at_root(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;

	_cleanup_close_ int fd = path_open_in_root(f->rootfd, "abs/marker", O_RDONLY, 0, &err);
	assert_same(f, fd, "target/marker");

	_cleanup_close_ int fd2 = path_open_in_root(f->rootfd, "real/relup", O_RDONLY, 0, &err);
	assert_same(f, fd2, "target/marker");

	/* O_PATH|O_NOFOLLOW on a final symlink gives the link itself. */
	_cleanup_close_ int fd3 = path_open_in_root(f->rootfd, "abs", O_PATH | O_NOFOLLOW, 0, &err);
	assert_same(f, fd3, "abs");
	struct stat st;
	assert_int_equal(fstat(fd3, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void test_symlink_loop(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(path_open_in_root(f->rootfd, "loop1", O_RDONLY, 0, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "loop1"));
	berth_err_clear(&err);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(path_open_in_root(f->rootfd, "plainfile/x", O_RDONLY, 0, &err), -ENOTDIR);
	assert_int_equal(err.code, ENOTDIR);
	berth_err_clear(&err);
	assert_int_equal(path_open_in_root(f->rootfd, "nope", O_RDONLY, 0, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "nope"));
	berth_err_clear(&err);
	/* A NULL err is allowed. */
	assert_int_equal(path_open_in_root(f->rootfd, "nope", O_RDONLY, 0, NULL), -ENOENT);
}

static void test_open_creat_through_link(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_close_ int fd = path_open_in_root(f->rootfd, "/etc/real/created",
						   O_WRONLY | O_CREAT | O_EXCL, 0600, &err);
	assert_same(f, fd, "real/created");
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* O_EXCL on a dangling link: EEXIST, and nothing is created at its target. */
	assert_int_equal(path_open_in_root(f->rootfd, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0600,
					   &err),
			 -EEXIST);
	berth_err_clear(&err);
	_cleanup_free_ char *made = mkpath(f, "made");
	assert_int_equal(access(made, F_OK), -1);
}

static void test_mkdir_in_root(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	const char *name = f->fallback ? "newdir-fb" : "newdir";
	char path[64];

	/* "/etc" -> "/" and "up" -> "../../../../": new directories land in the root. */
	snprintf(path, sizeof(path), "/etc/%s/sub/", name);
	_cleanup_close_ int fd = path_mkdir_in_root(f->rootfd, path, 0755, &err);
	char rel[64];
	snprintf(rel, sizeof(rel), "%s/sub", name);
	assert_same(f, fd, rel);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "/%s", name);
	assert_int_equal(access(path, F_OK), -1); /* not on the host */

	snprintf(path, sizeof(path), "up/../%s/a/b", name);
	_cleanup_close_ int fd2 = path_mkdir_in_root(f->rootfd, path, 0700, &err);
	snprintf(rel, sizeof(rel), "%s/a/b", name);
	assert_same(f, fd2, rel);
	assert_inside(f, fd2);

	/* Existing: fine, same dir. */
	_cleanup_close_ int fd3 = path_mkdir_in_root(f->rootfd, "abs", 0755, &err);
	assert_same(f, fd3, "target");
	_cleanup_close_ int fd4 = path_mkdir_in_root(f->rootfd, "/", 0755, &err);
	assert_same(f, fd4, ".");

	/* In the way: a file. */
	assert_int_equal(path_mkdir_in_root(f->rootfd, "real/file/sub", 0755, &err), -ENOTDIR);
	assert_non_null(strstr(err.msg, "real/file/sub"));
	berth_err_clear(&err);
	assert_int_equal(path_mkdir_in_root(f->rootfd, "plainfile", 0755, &err), -ENOTDIR);
	assert_non_null(strstr(err.msg, "plainfile"));
	berth_err_clear(&err);
}

static void test_mkfile_in_root(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;
	const char *name = f->fallback ? "nf-fb" : "nf";
	char path[64], rel[64];

	snprintf(path, sizeof(path), "/etc/%s/dir/file", name);
	_cleanup_close_ int fd = path_mkfile_in_root(f->rootfd, path, 0644, &err);
	snprintf(rel, sizeof(rel), "%s/dir/file", name);
	assert_same(f, fd, rel);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	int fl = fcntl(fd, F_GETFL);
	assert_true(fl & O_PATH);

	/* Existing things of any kind are opened, not replaced. */
	_cleanup_close_ int fd2 = path_mkfile_in_root(f->rootfd, "real", 0644, &err);
	assert_same(f, fd2, "real");
	_cleanup_close_ int fd3 = path_mkfile_in_root(f->rootfd, "abs/marker", 0644, &err);
	assert_same(f, fd3, "target/marker");

	/* A dangling absolute link: its target is created inside the root. */
	_cleanup_close_ int fd4 = path_mkfile_in_root(f->rootfd, "dangling", 0644, &err);
	assert_same(f, fd4, "made/by/link");

	assert_int_equal(path_mkfile_in_root(f->rootfd, "plainfile/x", 0644, &err), -ENOTDIR);
	assert_non_null(strstr(err.msg, "plainfile/x"));
	berth_err_clear(&err);
}

static void test_no_symlinks(void **state)
{
	struct fixture *f = *state;
	berth_err err = BERTH_ERR_INIT;

	_cleanup_close_ int fd = path_open_no_symlinks(f->rootfd, "real/file", O_RDONLY, 0, &err);
	assert_same(f, fd, "real/file");

	assert_int_equal(path_open_no_symlinks(f->rootfd, "etc/root-marker", O_RDONLY, 0, &err),
			 -ELOOP);
	assert_non_null(strstr(err.msg, "etc/root-marker"));
	berth_err_clear(&err);
	assert_int_equal(path_open_no_symlinks(f->rootfd, "abs", O_RDONLY, 0, &err), -ELOOP);
	berth_err_clear(&err);
	assert_int_equal(path_open_no_symlinks(f->rootfd, "abs", O_PATH | O_DIRECTORY, 0, &err),
			 -ELOOP);
	berth_err_clear(&err);

	/* O_PATH|O_NOFOLLOW: the trailing link itself, as RESOLVE_NO_SYMLINKS documents. */
	_cleanup_close_ int fd2 = path_open_no_symlinks(f->rootfd, "abs", O_PATH | O_NOFOLLOW, 0, &err);
	assert_same(f, fd2, "abs");

	/* Not clamped: ".." is the real parent. */
	_cleanup_close_ int fd3 =
		path_open_no_symlinks(f->rootfd, "../outside-marker", O_RDONLY, 0, &err);
	assert_true(fd3 >= 0);
	_cleanup_close_ int fd4 = path_open_no_symlinks(AT_FDCWD, f->root, O_PATH, 0, &err);
	assert_same(f, fd4, ".");
}

static bool same_inode(const struct fixture *f, int fd, const char *rel)
{
	struct stat a, b;
	_cleanup_free_ char *p = mkpath(f, rel);
	return fd >= 0 && fstat(fd, &a) == 0 && lstat(p, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* A kernel without openat2 (seccomp makes it ENOSYS in a child): the library
 * notices by itself and the walker keeps lookups inside the root. */
static void test_enosys_falls_back(void **state)
{
	struct fixture *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sock_filter filter[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = ARRAY_SIZE(filter), .filter = filter };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(10);
		struct open_how_probe {
			uint64_t flags, mode, resolve;
		} how = { O_PATH, 0, 0 };
		if (syscall(SYS_openat2, f->rootfd, ".", &how, sizeof(how)) >= 0 || errno != ENOSYS)
			_exit(11);
		path_force_fallback(false);
		int fd = path_open_in_root(f->rootfd, "/etc/up/abs/marker", O_RDONLY, 0, NULL);
		if (!same_inode(f, fd, "target/marker"))
			_exit(12);
		if (path_open_in_root(f->rootfd, "upmarker", O_RDONLY, 0, NULL) != -ENOENT)
			_exit(13);
		fd = path_mkdir_in_root(f->rootfd, "/etc/enosys/d", 0755, NULL);
		if (!same_inode(f, fd, "enosys/d"))
			_exit(14);
		fd = path_mkfile_in_root(f->rootfd, "up/enosys/f", 0644, NULL);
		if (!same_inode(f, fd, "enosys/f"))
			_exit(15);
		if (path_open_no_symlinks(f->rootfd, "etc/root-marker", O_RDONLY, 0, NULL) != -ELOOP)
			_exit(16);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child failed: status %#x", status);
	_cleanup_free_ char *d = mkpath(f, "enosys/d");
	assert_int_equal(rmdir(d), 0);
	_cleanup_free_ char *fl = mkpath(f, "enosys/f");
	assert_int_equal(unlink(fl), 0);
	_cleanup_free_ char *e = mkpath(f, "enosys");
	assert_int_equal(rmdir(e), 0);
}

static void test_clean(void **state)
{
	(void)state;
	static const char *cases[][2] = {
		{ "", "." },
		{ ".", "." },
		{ "/", "/" },
		{ "//", "/" },
		{ "/a/b/", "/a/b" },
		{ "/a//b/./c", "/a/b/c" },
		{ "/a/b/../c", "/a/c" },
		{ "/../../a", "/a" },
		{ "/..", "/" },
		{ "a/../..", ".." },
		{ "../a/../b", "../b" },
		{ "a/b/../../..", ".." },
		{ "./a", "a" },
		{ "a/.", "a" },
		{ "/a/..", "/" },
		{ "abc/def/..", "abc" },
		{ "..a/b..", "..a/b.." },
		{ "/.hidden/./x", "/.hidden/x" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *c = path_clean(cases[i][0]);
		if (strcmp(c, cases[i][1]) != 0)
			fail_msg("path_clean(\"%s\") = \"%s\", want \"%s\"", cases[i][0], c,
				 cases[i][1]);
	}
	assert_true(path_is_abs_clean("/"));
	assert_true(path_is_abs_clean("/a/b"));
	assert_false(path_is_abs_clean("/a/b/"));
	assert_false(path_is_abs_clean("/a/../b"));
	assert_false(path_is_abs_clean("a/b"));
	assert_false(path_is_abs_clean("//a"));
	assert_false(path_is_abs_clean(""));
}

static void test_join_and_proc(void **state)
{
	(void)state;
	static const char *cases[][3] = {
		{ "a", "b", "a/b" },     { "a/", "/b", "a/b" }, { "/", "x", "/x" },
		{ "/", "/x", "/x" },     { "", "x", "x" },      { "/a//", "b/c", "/a/b/c" },
		{ "a", "", "a" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *j = path_join(cases[i][0], cases[i][1]);
		if (strcmp(j, cases[i][2]) != 0)
			fail_msg("path_join(\"%s\", \"%s\") = \"%s\", want \"%s\"", cases[i][0],
				 cases[i][1], j, cases[i][2]);
	}
	char buf[PATH_FD_PROC_MAX];
	assert_string_equal(path_fd_proc(42, buf), "/proc/self/fd/42");
	assert_string_equal(path_fd_proc(INT_MAX, buf), "/proc/self/fd/2147483647");

	_cleanup_close_ int fd = open("/tmp", O_PATH | O_CLOEXEC);
	assert_true(fd >= 0);
	_cleanup_free_ char *p = path_fd_to_path(fd);
	assert_string_equal(p, "/tmp");
}

#define ROOT_TESTS                                                                       \
	cmocka_unit_test(test_etc_link_to_slash_stays_inside),                           \
		cmocka_unit_test(test_dotdot_link_stays_inside),                         \
		cmocka_unit_test(test_absolute_target_resolved_at_root),                 \
		cmocka_unit_test(test_symlink_loop), cmocka_unit_test(test_open_errors), \
		cmocka_unit_test(test_open_creat_through_link),                          \
		cmocka_unit_test(test_mkdir_in_root), cmocka_unit_test(test_mkfile_in_root), \
		cmocka_unit_test(test_no_symlinks), cmocka_unit_test(test_enosys_falls_back)

int main(void)
{
	const struct CMUnitTest root_tests[] = { ROOT_TESTS };
	const struct CMUnitTest pure_tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_join_and_proc),
	};
	umask(022);
	int r = 0;
	r |= _cmocka_run_group_tests("path_openat2", root_tests, ARRAY_SIZE(root_tests),
				     setup_openat2, teardown);
	r |= _cmocka_run_group_tests("path_fallback", root_tests, ARRAY_SIZE(root_tests),
				     setup_fallback, teardown);
	r |= cmocka_run_group_tests_name("path_lexical", pure_tests, NULL, NULL);
	return r;
}
