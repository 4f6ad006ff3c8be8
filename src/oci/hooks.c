/* hooks.c - OCI lifecycle hooks: run each with the state on stdin, a timeout,
 * and an error naming the hook when it fails; see hooks.h. */
#include "oci/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"

static const char *const kind_names[] = {
	[HOOK_PRESTART] = "prestart",	      [HOOK_CREATE_RUNTIME] = "createRuntime",
	[HOOK_CREATE_CONTAINER] = "createContainer", [HOOK_START_CONTAINER] = "startContainer",
	[HOOK_POSTSTART] = "poststart",	      [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_name(enum hook_kind kind)
{
	return kind_names[kind];
}

int hooks_validate(json_t *hooks, berth_err *err)
{
	const char *k;
	json_t *arr;
	json_object_foreach (hooks, k, arr) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
			known |= strcmp(k, kind_names[i]) == 0;
		if (!known)
			continue; /* future hook kinds are not ours to refuse */
		if (!json_is_array(arr))
			return berth_error_code(err, EINVAL, "hooks.%s: must be an array", k);
		size_t i;
		json_t *h;
		json_array_foreach (arr, i, h) {
			if (!json_is_object(h))
				return berth_error_code(err, EINVAL, "hooks.%s[%zu]: must be an object", k, i);
			json_t *path = json_object_get(h, "path");
			if (!json_is_string(path) || json_string_value(path)[0] != '/')
				return berth_error_code(err, EINVAL, "hooks.%s[%zu].path: must be an absolute path", k, i);
			static const char *const lists[] = { "args", "env" };
			for (size_t l = 0; l < 2; l++) {
				json_t *a = json_object_get(h, lists[l]);
				if (!a)
					continue;
				size_t j;
				json_t *s;
				if (!json_is_array(a))
					return berth_error_code(err, EINVAL, "hooks.%s[%zu].%s: must be an array of strings", k, i, lists[l]);
				json_array_foreach (a, j, s)
					if (!json_is_string(s))
						return berth_error_code(err, EINVAL, "hooks.%s[%zu].%s[%zu]: must be a string", k, i, lists[l], j);
			}
			json_t *t = json_object_get(h, "timeout");
			if (t && (!json_is_integer(t) || json_integer_value(t) <= 0))
				return berth_error_code(err, EINVAL, "hooks.%s[%zu].timeout: must be a positive integer", k, i);
		}
	}
	return 0;
}

static char **strv_from_json(json_t *arr, const char *first)
{
	size_t n = json_array_size(arr);
	char **v = xcalloc(n + 2, sizeof(char *));
	size_t k = 0;
	if (!n && first)
		v[k++] = xstrdup(first);
	size_t i;
	json_t *s;
	json_array_foreach (arr, i, s)
		v[k++] = xstrdup(json_string_value(s));
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_one(json_t *h, const char *where, const char *state, berth_err *err)
{
	const char *path = json_string_value(json_object_get(h, "path"));
	json_t *t = json_object_get(h, "timeout");
	long long deadline = t ? now_ms() + json_integer_value(t) * 1000 : -1;
	_cleanup_strv_ char **argv = strv_from_json(json_object_get(h, "args"), path);
	_cleanup_strv_ char **envp = strv_from_json(json_object_get(h, "env"), NULL);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return berth_error_errno(err, "%s: pipe", where);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return berth_error_errno(err, "%s: pipe", where);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return berth_error(err, e, "%s: fork", where);
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 2);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull >= 0 ? devnull : out[1], 1);
		execve(path, argv, envp);
		dprintf(2, "cannot execute %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	_cleanup_close_ int rd = out[0];
	/* The state goes in whole or the hook sees EOF early; a hook that does not
	 * read it must not block us, hence O_NONBLOCK and the poll loop. */
	_cleanup_close_ int wr = in[1];
	fcntl(wr, F_SETFL, O_NONBLOCK);
	fcntl(rd, F_SETFL, O_NONBLOCK);
	size_t off = 0, len = strlen(state);
	char errbuf[512];
	size_t errlen = 0;
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;
	bool done = false, timed_out = false;
	while (!done) {
		struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN }, { .fd = rd, .events = POLLIN },
				       { .fd = wr, .events = POLLOUT } };
		int timeout = -1;
		if (deadline >= 0) {
			long long left = deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		int r = poll(p, wr >= 0 ? 3 : 2, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (wr >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(wr, state + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if (n < 0 && errno != EAGAIN)
				off = len;
			if (off >= len) {
				close(wr);
				wr = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char buf[512];
			ssize_t n = read(rd, buf, sizeof(buf));
			if (n > 0 && errlen < sizeof(errbuf) - 1) {
				size_t take = (size_t)n < sizeof(errbuf) - 1 - errlen ? (size_t)n : sizeof(errbuf) - 1 - errlen;
				memcpy(errbuf + errlen, buf, take);
				errlen += take;
			}
		}
		if (p[0].revents & POLLIN)
			done = true;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	errbuf[errlen] = '\0';
	errbuf[strcspn(errbuf, "\n")] = '\0';
	if (timed_out)
		return berth_error_code(err, ETIMEDOUT, "%s (%s): timed out after %lld s", where, path,
					(long long)json_integer_value(t));
	if (WIFSIGNALED(status))
		return berth_error_code(err, ECANCELED, "%s (%s): killed by signal %d%s%s", where, path,
					WTERMSIG(status), errlen ? ": " : "", errbuf);
	if (WEXITSTATUS(status) != 0)
		return berth_error_code(err, ECANCELED, "%s (%s): exited with status %d%s%s", where, path,
					WEXITSTATUS(status), errlen ? ": " : "", errbuf);
	return 0;
}

int hooks_run(json_t *hooks, enum hook_kind kind, const char *state_json, berth_err *err)
{
	json_t *arr = json_object_get(hooks, kind_names[kind]);
	/* Our caller may ignore SIGCHLD, which would make waitpid fail. */
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigaction(SIGCHLD, &dfl, &old);
	/* A hook that exits without reading its stdin must not kill us with SIGPIPE. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);
	/* A failing poststart or poststop hook is only a warning for the caller
	 * and the hooks after it still run (runtime spec); the first error is kept. */
	bool go_on = kind == HOOK_POSTSTART || kind == HOOK_POSTSTOP;
	int r = 0;
	size_t i;
	json_t *h;
	json_array_foreach (arr, i, h) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", kind_names[kind], i);
		berth_err one = BERTH_ERR_INIT;
		int q = run_one(h, where, state_json, &one);
		if (q < 0 && r == 0) {
			r = q;
			if (err) {
				berth_err_clear(err);
				*err = one;
				one = (berth_err)BERTH_ERR_INIT;
			}
		}
		berth_err_clear(&one);
		if (q < 0 && !go_on)
			break;
	}
	sigaction(SIGCHLD, &old, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return r;
}
