/* init.c - the container's first process, from clone to execve.
 *
 * Runs in the new namespaces, talking to the runtime over the sync socket
 * (see container_internal.h). Any failure is sent to the runtime as one
 * message and the process exits; the runtime then removes what was made.
 *
 *   init_main()        setup of a new container, then wait for start, then exec
 *   exec_child_main()  setup of a process joining a running container, then exec
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "oci/cgroup.h"
#include "oci/container_internal.h"
#include "oci/hooks.h"
#include "oci/rootfs.h"
#include "oci/seccomp.h"
#include "oci/spec.h"

static void __attribute__((noreturn)) fail(const struct init_args *a, berth_err *e)
{
	sync_send_error(a->sync_fd, e);
	_exit(1);
}

static int set_sysctls(json_t *sysctl, berth_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach (sysctl, k, v) {
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s", k);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		const char *val = json_string_value(v);
		_cleanup_close_ int fd = path_open_no_symlinks(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0, NULL);
		if (fd < 0 || fd_write_all(fd, val, strlen(val)) < 0)
			return berth_error_errno(err, "linux.sysctl.%s: cannot set it to \"%s\"", k, val);
	}
	return 0;
}

/* A new network namespace has a loopback device that is down: bring it up, as
 * every runtime does, so 127.0.0.1 works in the container. */
static int loopback_up(berth_err *err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return berth_error_errno(err, "linux.namespaces: socket for the loopback device");
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return berth_error_errno(err, "linux.namespaces: reading the flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return berth_error_errno(err, "linux.namespaces: bringing lo up");
	return 0;
}

static int set_names(json_t *spec, berth_err *err)
{
	const char *h = json_string_value(json_object_get(spec, "hostname"));
	if (h && sethostname(h, strlen(h)) < 0)
		return berth_error_errno(err, "hostname: cannot set \"%s\"", h);
	const char *d = json_string_value(json_object_get(spec, "domainname"));
	if (d && setdomainname(d, strlen(d)) < 0)
		return berth_error_errno(err, "domainname: cannot set \"%s\"", d);
	return 0;
}

/* Blocks until `start` writes to the exec fifo (or, for run, the runtime says go). */
static int wait_for_start(const struct init_args *a, berth_err *err)
{
	if (a->wait_socket)
		return sync_recv(a->sync_fd, SYNC_START, NULL, NULL, err);
	struct pollfd p = { .fd = a->fifo_fd, .events = POLLIN };
	while (true) {
		int r = poll(&p, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berth_error_errno(err, "waiting for start");
		char c;
		ssize_t n = read(a->fifo_fd, &c, 1);
		if (n == 1)
			break;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == 0) {
			/* A writer came and went without a byte; keep waiting. */
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		return berth_error_errno(err, "reading the exec fifo");
	}
	/* The fifo stays open (close-on-exec) until the user's process is
	 * exec'd: `start` waits for it to close, so that poststart hooks run
	 * after the process has started, as the runtime spec requires. */
	return 0;
}

void child_tie_to_runtime(const struct init_args *a)
{
	/* A runtime killed during setup must not leave a half-made container
	 * behind: the child goes with it. (If the runtime died before this
	 * prctl, the next read of the sync socket sees EOF and the child exits;
	 * getppid() cannot tell, it is 0 in a new pid namespace.) */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The flock belongs to the runtime; held here it would outlive create. */
	if (a->lock_fd >= 0)
		close(a->lock_fd);
}

static void untie_from_runtime(void)
{
	/* From here the runtime has recorded the pid (or, for exec, no longer
	 * needs to): a later delete finds it. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
}

static void finish_and_exec(struct init_args *a, const char *exec_path)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	bool nnp = json_is_true(json_object_get(a->process, "noNewPrivileges"));
	int listener = -1;
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before
	 * the capabilities go. With it, as late as possible (runc's order). */
	if (a->seccomp && !nnp && seccomp_install(a->seccomp, &listener, &err) < 0)
		goto fail;
	if (process_set_user_caps(a, &err) < 0)
		goto fail;
	const char *cwd = json_string_value(json_object_get(a->process, "cwd"));
	if (chdir(cwd) < 0) {
		berth_error_errno(&err, "process.cwd: cannot change to \"%s\"", cwd);
		goto fail;
	}
	if (!a->is_exec) {
		if (sync_send(a->sync_fd, SYNC_READY, 0, NULL, -1) < 0)
			_exit(1);
		/* Still tied to the runtime until it has recorded this process. */
		if (sync_recv(a->sync_fd, SYNC_COMMITTED, NULL, NULL, &err) < 0)
			_exit(1);
		untie_from_runtime();
		/* The runtime waits for this before it exits: exiting earlier would
		 * still deliver the parent-death signal. */
		if (sync_send(a->sync_fd, SYNC_UNTIED, 0, NULL, -1) < 0 && !a->wait_socket)
			_exit(1);
		if (wait_for_start(a, &err) < 0)
			goto fail;
		char *state = NULL;
		json_t *hooks = json_object_get(a->spec, "hooks");
		if (json_array_size(json_object_get(hooks, "startContainer"))) {
			json_t *st = json_pack("{s:s,s:s,s:s,s:i,s:s}", "ociVersion", OCI_VERSION, "id", a->id,
					       "status", "created", "pid", (int)getpid(), "bundle", a->bundle);
			state = json_dumps(st, JSON_COMPACT);
			json_decref(st);
			if (hooks_run(hooks, HOOK_START_CONTAINER, state, &err) < 0)
				goto fail;
		}
		free(state);
	} else {
		untie_from_runtime();
		if (sync_send(a->sync_fd, SYNC_READY, 0, NULL, -1) < 0)
			_exit(1);
	}
	if (a->seccomp && nnp && seccomp_install(a->seccomp, &listener, &err) < 0)
		goto fail;
	if (listener >= 0) {
		const char *lp = json_string_value(json_object_get(
			json_object_get(json_object_get(a->spec, "linux"), "seccomp"), "listenerPath"));
		json_t *st = json_pack("{s:s,s:[s],s:i,s:s,s:{s:s,s:s,s:s,s:i,s:s}}", "ociVersion",
				       OCI_VERSION, "fds", "seccompFd", "pid", (int)getpid(), "metadata",
				       "", "state", "ociVersion", OCI_VERSION, "id", a->id, "status",
				       "creating", "pid", (int)getpid(), "bundle", a->bundle);
		char *text = json_dumps(st, JSON_COMPACT);
		json_decref(st);
		int r = seccomp_notify_send(lp, listener, text, &err);
		free(text);
		close(listener);
		if (r < 0)
			goto fail;
	}
	if (process_final_fds(a->preserve_fds, &err) < 0)
		goto fail;
	process_exec(a, exec_path);
fail:
	if (a->wait_socket || a->is_exec)
		fail(a, &err);
	/* After `create` returned nobody listens on the socket: say it where the
	 * user process's output would have gone. */
	dprintf(STDERR_FILENO, "berth-runtime: %s\n", err.msg ? err.msg : "container init failed");
	_exit(1);
}

static int open_rootfs_and_cwd(struct init_args *a, berth_err *err)
{
	_cleanup_close_ int rootfd = open(a->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_errno(err, "root.path: cannot open %s", a->rootfs);
	const char *cwd = json_string_value(json_object_get(a->process, "cwd"));
	int fd = path_mkdir_in_root(rootfd, cwd, 0755, err);
	if (fd < 0)
		return berth_error_wrap(err, "process.cwd");
	close(fd);
	return 0;
}

/* What every child of the runtime does first: die with the runtime until
 * ready, join the cgroup, wait for the go-ahead, take signals again. */
static void child_begin(struct init_args *a, berth_err *err)
{
	child_tie_to_runtime(a);
	if (cgroup_join_self(a->cgroup_fds, err) < 0)
		fail(a, err);
	cgroup_join_fds_close(a->cgroup_fds);
	a->cgroup_fds = NULL;
	if (sync_recv(a->sync_fd, SYNC_GO, NULL, NULL, err) < 0)
		_exit(1);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

void init_main(struct init_args *a)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	child_begin(a, &err);
	/* In its own user namespace the init must be able to open its own /proc
	 * files (oom_score_adj, attr); the runtime made it non-dumpable. */
	if (a->new_userns)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (a->new_netns && loopback_up(&err) < 0)
		fail(a, &err);
	if (a->new_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		berth_error_errno(&err, "linux.uidMappings: cannot become root in the user namespace");
		fail(a, &err);
	}
	if (a->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
		berth_error_errno(&err, "linux.namespaces: cannot create the cgroup namespace");
		fail(a, &err);
	}
	if (set_names(a->spec, &err) < 0)
		fail(a, &err);
	struct rootfs_ctx rc = {
		.spec = a->spec,
		.rootfs = a->rootfs,
		.no_pivot = a->no_pivot,
		.new_userns = a->new_userns,
		.new_cgroupns = a->new_cgroupns,
		.cgroup = a->cgroup,
	};
	if (rootfs_prepare(&rc, &err) < 0)
		fail(a, &err);
	if (sync_send(a->sync_fd, SYNC_HOOKS, 0, NULL, -1) < 0 ||
	    sync_recv(a->sync_fd, SYNC_HOOKS_DONE, NULL, NULL, &err) < 0)
		_exit(1);
	json_t *hooks = json_object_get(a->spec, "hooks");
	if (json_array_size(json_object_get(hooks, "createContainer"))) {
		json_t *st = json_pack("{s:s,s:s,s:s,s:i,s:s}", "ociVersion", OCI_VERSION, "id", a->id,
				       "status", "creating", "pid", (int)getpid(), "bundle", a->bundle);
		char *state = json_dumps(st, JSON_COMPACT);
		json_decref(st);
		int r = hooks_run(hooks, HOOK_CREATE_CONTAINER, state, &err);
		free(state);
		if (r < 0)
			fail(a, &err);
	}
	if (open_rootfs_and_cwd(a, &err) < 0)
		fail(a, &err);
	if (rootfs_pivot(&rc, &err) < 0)
		fail(a, &err);
	json_t *sysctl = json_object_get(json_object_get(a->spec, "linux"), "sysctl");
	if (sysctl && set_sysctls(sysctl, &err) < 0)
		fail(a, &err);
	if (rootfs_finalize(&rc, &err) < 0)
		fail(a, &err);
	if (json_is_true(json_object_get(a->process, "terminal")) && process_open_tty(a, &err) < 0)
		fail(a, &err);
	if (process_set_attrs(a, &err) < 0)
		fail(a, &err);
	_cleanup_free_ char *exec_path = NULL;
	if (process_resolve_exec(a->process, &exec_path, &err) < 0)
		fail(a, &err);
	finish_and_exec(a, exec_path);
	_exit(1);
}

void exec_child_main(struct init_args *a)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	child_begin(a, &err);
	if (json_is_true(json_object_get(a->process, "terminal")) && process_open_tty(a, &err) < 0)
		fail(a, &err);
	if (process_set_attrs(a, &err) < 0)
		fail(a, &err);
	_cleanup_free_ char *exec_path = NULL;
	if (process_resolve_exec(a->process, &exec_path, &err) < 0)
		fail(a, &err);
	finish_and_exec(a, exec_path);
	_exit(1);
}
