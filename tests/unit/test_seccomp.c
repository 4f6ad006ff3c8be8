/* test_seccomp.c - linux.seccomp validation, the BPF cache, and filters loaded in children. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/seccomp.h>
#include <seccomp.h> /* libseccomp: tests/unit is not on the include path */

#include "common/cleanup.h"
#include "oci/seccomp.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void expect_invalid(const char *profile, const char *msg)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *j = parse(profile);
	assert_true(seccomp_validate(j, &err) < 0);
	assert_non_null(err.msg);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("expected \"%s\", got \"%s\"", msg, err.msg);
	/* prepare must refuse the same object with the same words */
	berth_err_clear(&err);
	struct seccomp_prog *p = NULL;
	assert_true(seccomp_prepare(j, NULL, &p, &err) < 0);
	assert_null(p);
	assert_string_equal(err.msg, msg);
	json_decref(j);
}

static void test_validate_errors(void **state)
{
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		       "{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		       "{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		       "{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		       "{\"names\":[\"d\"],\"action\":\"SCMP_ACT_FOO\"}]}",
		       "linux.seccomp.syscalls[3].action: unknown action SCMP_ACT_FOO");
	expect_invalid("{}", "linux.seccomp.defaultAction: required");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
		       "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}",
		       "linux.seccomp.architectures[1]: unknown architecture SCMP_ARCH_VAX");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}",
		       "linux.seccomp.flags[0]: unknown flag SECCOMP_FILTER_FLAG_FOO");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"getpid\"],"
		       "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,"
		       "\"op\":\"SCMP_CMP_FOO\"}]}]}",
		       "linux.seccomp.syscalls[0].args[0].op: unknown operator SCMP_CMP_FOO");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"getpid\"],"
		       "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,"
		       "\"op\":\"SCMP_CMP_EQ\"}]}]}",
		       "linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"getpid\"],"
		       "\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":5}]}",
		       "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW does not return an errno");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_KILL\",\"defaultErrnoRet\":5}",
		       "linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL does not return an errno");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],"
		       "\"action\":\"SCMP_ACT_ERRNO\"}]}",
		       "linux.seccomp.syscalls[0].names: must be a non-empty array of strings");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
		       "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		       "linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"x\"}",
		       "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath");
	expect_invalid("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
		       "linux.seccomp.defaultErrnoRet: must be an integer from 0 to 65535");
}

static void test_validate_accepts(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	/* A name libseccomp does not know is skipped, not an error (newer syscalls). */
	json_t *j = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":"
			  "[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
			  "\"syscalls\":[{\"names\":[\"no_such_syscall_2099\",\"getppid\"],"
			  "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":3}]}");
	assert_int_equal(seccomp_validate(j, &err), 0);
	struct seccomp_prog *p = NULL;
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	assert_true(p->len > 0);
	assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	assert_false(p->notify);
	assert_false(p->from_cache);
	seccomp_prog_free(p);
	json_decref(j);

	j = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\","
		  "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\"],"
		  "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	assert_true(p->notify);
	assert_int_equal(p->flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
					   SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
	seccomp_prog_free(p);
	json_decref(j);
}

/* A temp dir per test, removed by the teardown even when an assertion fails. */
static int tmpdir_setup(void **state)
{
	char *d = strdup("/tmp/berth-test-seccomp-XXXXXX");
	if (!d || !mkdtemp(d))
		return -1;
	*state = d;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	char *d = *state;
	char *cmd = NULL;
	int r = asprintf(&cmd, "rm -rf '%s'", d) > 0 ? system(cmd) : -1;
	free(cmd);
	free(d);
	return r == 0 ? 0 : -1;
}

static size_t count_bpf_files(const char *dir)
{
	_cleanup_dir_ DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".bpf") && strlen(strstr(e->d_name, ".bpf")) == 4)
			n++;
	return n;
}

static const char *bench_profile_path(void)
{
	/* The test runs from the build directory; __FILE__ is relative to it or absolute. */
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", __FILE__);
	char *slash = strrchr(path, '/');
	assert_non_null(slash);
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path),
		 "../../bench/seccomp-profile.json");
	return path;
}

static void test_cache(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	const char *dir = *state;
	_cleanup_free_ char *cache = NULL;
	assert_true(asprintf(&cache, "%s/cache", dir) > 0); /* created on first use */
	json_t *j = json_load_file(bench_profile_path(), 0, NULL);
	assert_non_null(j);

	struct seccomp_prog *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(seccomp_prepare(j, cache, &a, &err), 0);
	assert_false(a->from_cache);
	assert_int_equal(count_bpf_files(cache), 1);
	assert_int_equal(seccomp_prepare(j, cache, &b, &err), 0);
	assert_true(b->from_cache);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->insns, b->insns, a->len * 8);
	assert_int_equal(a->flags, b->flags);

	/* A damaged entry is rebuilt, not loaded. */
	_cleanup_dir_ DIR *d = opendir(cache);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			int fd = openat(dirfd(d), e->d_name, O_WRONLY | O_TRUNC);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, "garbage", 7), 7);
			close(fd);
		}
	assert_int_equal(seccomp_prepare(j, cache, &c, &err), 0);
	assert_false(c->from_cache);
	assert_memory_equal(a->insns, c->insns, a->len * 8);

	/* A different object is a different entry. */
	json_object_set_new(j, "defaultErrnoRet", json_integer(38));
	struct seccomp_prog *other = NULL;
	assert_int_equal(seccomp_prepare(j, cache, &other, &err), 0);
	assert_false(other->from_cache);
	assert_int_equal(count_bpf_files(cache), 2);

	seccomp_prog_free(a);
	seccomp_prog_free(b);
	seccomp_prog_free(c);
	seccomp_prog_free(other);
	json_decref(j);
}

/* Fork, load p in the child, run fn there; its 32-bit results come back via a pipe. */
static int run_filtered(const struct seccomp_prog *p, void (*fn)(long *res), long *res, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		berth_err err = BERTH_ERR_INIT;
		int lfd;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, &lfd, &err) < 0)
			_exit(100);
		long out[8] = { 0 };
		fn(out);
		_exit(write(fds[1], out, sizeof(out)) == sizeof(out) ? 0 : 101);
	}
	close(fds[1]);
	long out[8];
	ssize_t got = read(fds[0], out, sizeof(out));
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (got == sizeof(out))
		memcpy(res, out, n * sizeof(long));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void child_getpid_uname(long *res)
{
	errno = 0;
	res[0] = syscall(SYS_getpid);
	res[1] = errno;
	struct utsname u;
	errno = 0;
	res[2] = uname(&u);
	res[3] = errno;
	res[4] = syscall(SYS_getppid) > 0;
}

static void test_install_errno(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *j = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			  "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
			  "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}");
	struct seccomp_prog *p = NULL;
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	long res[5];
	assert_int_equal(run_filtered(p, child_getpid_uname, res, 5), 0);
	assert_int_equal(res[0], -1);
	assert_int_equal(res[1], EPERM);
	assert_int_equal(res[2], -1);
	assert_int_equal(res[3], 42);
	assert_int_equal(res[4], 1); /* everything else still allowed */
	seccomp_prog_free(p);
	json_decref(j);
}

static void child_personality(long *res)
{
	long vals[] = { 0xffffffffL, PER_LINUX, 0x8, 0x20000 };
	for (size_t i = 0; i < 4; i++) {
		errno = 0;
		long r = syscall(SYS_personality, vals[i]);
		res[i] = r < 0 ? -errno : 0;
	}
}

static void test_arg_conditions(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	/* Everything but a query of the persona is refused. */
	json_t *j = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
			  "[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
			  "\"value\":4294967295,\"op\":\"SCMP_CMP_NE\"}]}]}");
	struct seccomp_prog *p = NULL;
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	long res[4];
	assert_int_equal(run_filtered(p, child_personality, res, 4), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], -EPERM);
	assert_int_equal(res[2], -EPERM);
	assert_int_equal(res[3], -EPERM);
	seccomp_prog_free(p);
	json_decref(j);

	/* Two conditions on one argument are alternatives (as runc reads them), not a
	 * conjunction that could never hold. */
	j = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":7,\"args\":["
		  "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
		  "{\"index\":0,\"value\":131072,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	assert_int_equal(run_filtered(p, child_personality, res, 4), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], -7);
	assert_int_equal(res[3], -7);
	seccomp_prog_free(p);
	json_decref(j);
}

static void test_bench_profile_runs_true(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *j = json_load_file(bench_profile_path(), 0, NULL);
	assert_non_null(j);
	size_t names = json_array_size(
		json_object_get(json_array_get(json_object_get(j, "syscalls"), 0), "names"));
	assert_true(names >= 300);
	assert_int_equal(seccomp_validate(j, &err), 0);
	struct seccomp_prog *p = NULL;
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, NULL, &err) < 0)
			_exit(100);
		/* denied by default, with errnoRet 1 */
		if (unshare(0) != -1 || errno != EPERM)
			_exit(101);
		/* clone with a namespace flag is refused, clone3 sends libc back to clone */
		if (syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM)
			_exit(102);
		if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
			_exit(103);
		if (syscall(SYS_personality, 0x20008) < 0 || syscall(SYS_personality, 0x1) != -1)
			_exit(104);
		syscall(SYS_personality, PER_LINUX);
		pid_t c = fork();
		if (c < 0)
			_exit(105);
		if (c == 0) {
			char *argv[] = { "/bin/true", NULL };
			char *envp[] = { NULL };
			execve(argv[0], argv, envp);
			_exit(106);
		}
		int st;
		if (waitpid(c, &st, 0) != c)
			_exit(107);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 108);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	seccomp_prog_free(p);
	json_decref(j);
}

/* End to end: a NOTIFY rule, the listener sent to an agent socket with the state,
 * the agent answering the intercepted call. */
static void test_notify(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	const char *dir = *state;
	_cleanup_free_ char *sock_path = NULL;
	assert_true(asprintf(&sock_path, "%s/agent.sock", dir) > 0);
	_cleanup_free_ char *profile = NULL;
	assert_true(asprintf(&profile,
			     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
			     "\"listenerMetadata\":\"hello\",\"syscalls\":[{\"names\":[\"getppid\"],"
			     "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
			     sock_path) > 0);
	json_t *j = parse(profile);
	struct seccomp_prog *p = NULL;
	assert_int_equal(seccomp_prepare(j, NULL, &p, &err), 0);
	assert_true(p->notify);

	int lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, sock_path);
	assert_int_equal(bind(lsock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lsock, 1), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int lfd = -1;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, &lfd, &err) < 0 ||
		    lfd < 0)
			_exit(100);
		json_t *st = json_pack("{s:s,s:s}", "id", "c1", "status", "creating");
		char *msg = seccomp_notify_state(j, getpid(), st);
		if (seccomp_notify_send(sock_path, lfd, msg, &err) < 0)
			_exit(101);
		close(lfd);
		/* intercepted: the agent answers 4242 */
		_exit(syscall(SYS_getppid) == 4242 ? 0 : 102);
	}

	int conn = accept(lsock, NULL, NULL);
	assert_true(conn >= 0);
	char buf[4096];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(conn, &msg, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	int nfd;
	memcpy(&nfd, CMSG_DATA(c), sizeof(int));
	/* The rest of the state may follow in later reads. */
	ssize_t more;
	while ((size_t)n < sizeof(buf) - 1 && (more = read(conn, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += more;
	buf[n] = '\0';
	json_t *stj = parse(buf);
	assert_string_equal(json_string_value(json_object_get(stj, "metadata")), "hello");
	assert_string_equal(json_string_value(json_array_get(json_object_get(stj, "fds"), 0)),
			    "seccompFd");
	assert_int_equal(json_integer_value(json_object_get(stj, "pid")), pid);
	assert_string_equal(json_string_value(json_object_get(json_object_get(stj, "state"), "id")),
			    "c1");
	json_decref(stj);

	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
	assert_int_equal(seccomp_notify_receive(nfd, req), 0);
	assert_int_equal(req->data.nr, SYS_getppid);
	resp->id = req->id;
	resp->val = 4242;
	resp->error = 0;
	resp->flags = 0;
	assert_int_equal(seccomp_notify_respond(nfd, resp), 0);
	seccomp_notify_free(req, resp);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(nfd);
	close(conn);
	close(lsock);
	seccomp_prog_free(p);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_validate_accepts),
		cmocka_unit_test_setup_teardown(test_cache, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_install_errno),
		cmocka_unit_test(test_arg_conditions),
		cmocka_unit_test(test_bench_profile_runs_true),
		cmocka_unit_test_setup_teardown(test_notify, tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
