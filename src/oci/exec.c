/* exec.c - `exec`: start another process inside a running container.
 *
 * The runtime opens a pidfd of the container's init (checked against its
 * start time), forks a helper that joins all of the init's namespaces at
 * once with setns(pidfd), and that helper clones the new process as the
 * runtime's child (so it lands in the container's pid namespace). The
 * runtime puts it in the container's cgroup, then lets it set up and exec.
 * The process is not dumpable until execve, so the container cannot open
 * the runtime through /proc (the class of CVE-2019-5736).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/caps.h"
#include "oci/cgroup.h"
#include "oci/console.h"
#include "oci/container.h"
#include "oci/container_internal.h"
#include "oci/seccomp.h"
#include "oci/state.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int ns_flags_of(pid_t pid)
{
	static const struct { const char *name; int flag; } nss[] = {
		{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC },   { "uts", CLONE_NEWUTS },
		{ "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID },   { "time", CLONE_NEWTIME },
		{ "cgroup", CLONE_NEWCGROUP }, { "mnt", CLONE_NEWNS },
	};
	int flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(nss); i++) {
		char a[64], b[64];
		snprintf(a, sizeof(a), "/proc/self/ns/%s", nss[i].name);
		snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, nss[i].name);
		struct stat sa, sb;
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
			flags |= nss[i].flag;
	}
	return flags;
}

static void __attribute__((noreturn)) joiner_main(struct init_args *a, int pidfd, int flags)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	child_tie_to_runtime(a);
	if (setns(pidfd, flags) < 0) {
		berth_error_errno(&err, "cannot join the container's namespaces");
		sync_send_error(a->sync_fd, &err);
		_exit(1);
	}
	close(pidfd);
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_PARENT, NULL, NULL, NULL, 0);
	if (pid < 0) {
		berth_error_errno(&err, "clone of the exec process");
		sync_send_error(a->sync_fd, &err);
		_exit(1);
	}
	if (pid == 0)
		exec_child_main(a);
	sync_send(a->sync_fd, SYNC_PID, pid, NULL, -1);
	_exit(0);
}

int container_exec(const struct exec_opts *o, int *exit_code, berth_err *err)
{
	struct container_state st;
	int r = state_load(o->root, o->id, &st, err);
	if (r < 0)
		return r;
	struct init_args a = { .fifo_fd = -1, .sync_fd = -1, .lock_fd = -1 };
	_cleanup_close_ int pidfd = -1;
	_cleanup_close_ int sync_fd = -1;
	_cleanup_close_ int master = -1;
	pid_t pid = 0;
	sigset_t mask, old;
	block_forwarded_signals(&mask, &old);
	const char *status = state_status(&st);
	if (strcmp(status, "running") != 0) {
		r = berth_error_code(err, EINVAL, "cannot exec in a container that is %s", status);
		goto out;
	}
	bool tty = json_is_true(json_object_get(o->process, "terminal"));
	if (tty && !o->console_socket && o->detach) {
		r = berth_error_code(err, EINVAL, "--tty with --detach needs --console-socket");
		goto out;
	}
	json_t *capo = json_object_get(o->process, "capabilities");
	if (capo) {
		if ((r = caps_from_json(capo, "process.capabilities", &a.caps, err)) < 0)
			goto out;
		warn_ungrantable_caps(&a.caps);
		a.has_caps = true;
	}
	json_t *sc = json_object_get(json_object_get(st.config, "linux"), "seccomp");
	if (sc) {
		_cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", o->root);
		mkdir(cache, 0700);
		if ((r = seccomp_prepare(sc, cache, &a.seccomp, err)) < 0)
			goto out;
	}
	pidfd = pidfd_open_checked(st.pid, st.start_time);
	if (pidfd < 0) {
		r = berth_error_code(err, ESRCH, "container \"%s\" is not running", o->id);
		goto out;
	}
	int flags = ns_flags_of(st.pid);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = berth_error_errno(err, "socketpair");
		goto out;
	}
	sync_fd = sv[0];
	a.spec = st.config;
	a.process = o->process;
	a.id = st.id;
	a.rootfs = st.rootfs;
	a.bundle = st.bundle;
	a.sync_fd = sv[1];
	a.cgroup = st.cgroup;
	if (st.cgroup && !(a.cgroup_fds = cgroup_join_fds(st.cgroup, false, err))) {
		r = -EINVAL;
		close(sv[1]);
		goto out;
	}
	a.preserve_fds = o->preserve_fds;
	a.is_exec = true;
	/* Not dumpable: a process of the container cannot open /proc/PID/exe of ours. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t joiner = fork();
	if (joiner < 0) {
		r = berth_error_errno(err, "fork");
		close(sv[1]);
		goto out;
	}
	if (joiner == 0) {
		close(sv[0]);
		joiner_main(&a, pidfd, flags);
	}
	close(sv[1]);
	int32_t child = 0;
	r = sync_recv(sync_fd, SYNC_PID, &child, NULL, err);
	while (waitpid(joiner, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		goto out;
	pid = child;
	if ((r = sync_send(sync_fd, SYNC_GO, 0, NULL, -1)) < 0) {
		r = berth_error(err, -r, "starting the exec process");
		goto fail;
	}
	if (tty) {
		if ((r = sync_recv(sync_fd, SYNC_PTY, NULL, &master, err)) < 0)
			goto fail;
		if (o->console_socket) {
			r = console_send_master(o->console_socket, master, "/dev/pts/0", err);
			if (r < 0) {
				berth_error_wrap(err, "--console-socket");
				goto fail;
			}
			close(master);
			master = -1;
		}
	}
	if ((r = sync_recv(sync_fd, SYNC_READY, NULL, NULL, err)) < 0 || (r = wait_exec(sync_fd, err)) < 0)
		goto fail;
	if (o->pid_file) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
		_cleanup_free_ char *tmp = xasprintf("%s.tmp", o->pid_file);
		_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || fd_write_all(fd, buf, (size_t)n) < 0 || rename(tmp, o->pid_file) < 0) {
			r = berth_error_errno(err, "--pid-file %s", o->pid_file);
			goto fail;
		}
	}
	if (o->detach) {
		*exit_code = 0;
		r = 0;
		goto out;
	}
	pid_t proxy = -1;
	if (master >= 0)
		proxy = start_tty_proxy(master);
	*exit_code = wait_forwarding(pid, &mask);
	if (proxy > 0)
		while (waitpid(proxy, NULL, 0) < 0 && errno == EINTR)
			;
	r = 0;
	goto out;
fail:
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (a.seccomp)
		seccomp_prog_free(a.seccomp);
	cgroup_join_fds_close(a.cgroup_fds);
	container_state_release(&st);
	return r;
}
