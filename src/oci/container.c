/* container.c - the lifecycle: create, start, run, kill, delete, pause, update, state.
 *
 * The runtime side of container creation: validate everything, make the
 * state directory, clone the init into its namespaces, write its id maps,
 * put it in its cgroup, run the runtime-namespace hooks, and record it. Any
 * failure kills the init and removes the state directory and cgroup, so bad
 * input leaves nothing behind.
 */
#include "oci/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "oci/caps.h"
#include "oci/cgroup.h"
#include "oci/console.h"
#include "oci/container_internal.h"
#include "oci/hooks.h"
#include "oci/intelrdt.h"
#include "oci/seccomp.h"
#include "oci/spec.h"
#include "oci/state.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name;
	int flag;
	const char *proc;
} ns_table[] = {
	{ "user", CLONE_NEWUSER, "user" },  { "ipc", CLONE_NEWIPC, "ipc" },
	{ "uts", CLONE_NEWUTS, "uts" },	    { "network", CLONE_NEWNET, "net" },
	{ "pid", CLONE_NEWPID, "pid" },	    { "time", CLONE_NEWTIME, "time" },
	{ "cgroup", CLONE_NEWCGROUP, "cgroup" }, { "mount", CLONE_NEWNS, "mnt" },
};

static int ns_flag(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (strcmp(ns_table[i].name, name) == 0)
			return ns_table[i].flag;
	return 0;
}

int pidfd_open_checked(pid_t pid, unsigned long long start_time)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* The pid could have been recycled between reading state.json and here. */
	if (proc_start_time(pid) != start_time) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* Wait up to timeout_ms for the process behind pidfd to exit. */
static bool pidfd_wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static int write_pid_file(const char *path, pid_t pid, berth_err *err)
{
	if (!path)
		return 0;
	_cleanup_free_ char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *name = copy;
	_cleanup_close_ int dfd = -1;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		dfd = open(slash == copy ? "/" : copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0)
		return berth_error_errno(err, "--pid-file %s", path);
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = file_write_atomic_flags(dfd, name, buf, (size_t)n, 0644, FILE_NO_SYNC, err);
	return r < 0 ? berth_error_wrap(err, "--pid-file") : 0;
}

static int write_id_map(pid_t pid, const char *file, json_t *maps, berth_err *err)
{
	struct strbuf_lite {
		char *buf;
		size_t len;
	} sb = { xcalloc(1, 1), 0 };
	size_t i;
	json_t *m;
	json_array_foreach (maps, i, m) {
		char *line = xasprintf("%s%lld %lld %lld\n", sb.buf,
				       (long long)json_integer_value(json_object_get(m, "containerID")),
				       (long long)json_integer_value(json_object_get(m, "hostID")),
				       (long long)json_integer_value(json_object_get(m, "size")));
		free(sb.buf);
		sb.buf = line;
		sb.len = strlen(line);
	}
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = 0;
	if (fd < 0 || fd_write_all(fd, sb.buf, sb.len) < 0)
		r = berth_error_errno(err, "linux.%s: cannot write %s",
				      strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings", file);
	free(sb.buf);
	return r;
}

static int write_time_offsets(json_t *offsets, berth_err *err)
{
	const char *k;
	json_t *o;
	_cleanup_free_ char *text = xstrdup("");
	json_object_foreach (offsets, k, o) {
		char *t = xasprintf("%s%s %lld %lld\n", text, k,
				    (long long)json_integer_value(json_object_get(o, "secs")),
				    (long long)json_integer_value(json_object_get(o, "nanosecs")));
		free(text);
		text = t;
	}
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fd_write_all(fd, text, strlen(text)) < 0)
		return berth_error_errno(err, "linux.timeOffsets: cannot write timens_offsets");
	return 0;
}

/* fork-like clone3, with namespaces and, when cgfd >= 0, straight into that
 * v2 cgroup (no migration afterwards). */
pid_t clone_child(unsigned long flags, int cgfd)
{
	struct clone_args ca = { .flags = flags, .exit_signal = SIGCHLD };
	if (cgfd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (unsigned long)cgfd;
	}
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && errno == ENOSYS && cgfd < 0)
		pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	return (pid_t)pid;
}

/* What create makes, so a failure can take it all back. */
struct creation {
	struct container_state st;
	struct init_args args;
	struct caps_sets caps;
	pid_t pid;
	int sync_fd;
	int pty_master;
	int lock_fd;
	bool dir_made;
	bool cgroup_made;
};

static void creation_abort(struct creation *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c->cgroup_made && c->st.cgroup)
		cgroup_destroy(c->st.cgroup, NULL);
	if (c->cgroup_made)
		intelrdt_remove(json_object_get(json_object_get(c->st.config, "linux"), "intelRdt"), c->st.id);
	if (c->dir_made)
		state_remove(c->st.dir, NULL);
}

static void creation_release(struct creation *c)
{
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	if (c->pty_master >= 0)
		close(c->pty_master);
	if (c->args.fifo_fd >= 0)
		close(c->args.fifo_fd);
	if (c->args.seccomp)
		seccomp_prog_free(c->args.seccomp);
	cgroup_join_fds_close(c->args.cgroup_fds);
	container_state_release(&c->st);
}

/* The child of clone when namespaces must be joined by path or a time namespace
 * made: it enters them, then clones the init as a sibling (CLONE_PARENT). */
static void __attribute__((noreturn)) intermediate_main(struct init_args *a, int clone_flags,
							json_t *nss)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	child_tie_to_runtime(a);
	/* The user namespace first: it owns the others. The mount namespace last:
	 * after it, paths resolve in the container's view. */
	for (size_t t = 0; t < ARRAY_SIZE(ns_table); t++) {
		size_t i;
		json_t *o;
		json_array_foreach (nss, i, o) {
			const char *type = json_string_value(json_object_get(o, "type"));
			const char *path = json_string_value(json_object_get(o, "path"));
			if (!path || strcmp(type, ns_table[t].name) != 0)
				continue;
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, ns_table[t].flag) < 0) {
				berth_error_errno(&err, "linux.namespaces[%zu].path: cannot join %s namespace %s",
						  i, type, path);
				sync_send_error(a->sync_fd, &err);
				_exit(1);
			}
			close(fd);
		}
	}
	if (clone_flags & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0) {
			berth_error_errno(&err, "linux.namespaces: cannot create a time namespace");
			sync_send_error(a->sync_fd, &err);
			_exit(1);
		}
		json_t *off = json_object_get(json_object_get(a->spec, "linux"), "timeOffsets");
		if (off && write_time_offsets(off, &err) < 0) {
			sync_send_error(a->sync_fd, &err);
			_exit(1);
		}
		clone_flags &= ~CLONE_NEWTIME;
	}
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)clone_flags | CLONE_PARENT, NULL, NULL, NULL, 0);
	if (pid < 0) {
		berth_error_errno(&err, "clone of the container process");
		sync_send_error(a->sync_fd, &err);
		_exit(1);
	}
	if (pid == 0)
		init_main(a);
	sync_send(a->sync_fd, SYNC_PID, pid, NULL, -1);
	_exit(0);
}

static int run_hooks_with_state(struct container_state *st, enum hook_kind kind, const char *status,
				berth_err *err)
{
	json_t *hooks = json_object_get(st->config, "hooks");
	if (!json_array_size(json_object_get(hooks, hook_kind_name(kind))))
		return 0;
	_cleanup_free_ char *text = state_to_oci_string(st, status);
	return hooks_run(hooks, kind, text, err);
}

/* A capability the runtime itself does not hold cannot be granted: the runtime
 * spec says to warn and go on, and so the container gets the rest. */
void warn_ungrantable_caps(struct caps_sets *caps)
{
	uint64_t missing = 0;
	caps_filter_available(caps, &missing);
	if (missing) {
		_cleanup_free_ char *names = caps_mask_names(missing);
		log_warn("process.capabilities: cannot grant %s: not in the runtime's bounding set", names);
	}
}

static int resolve_bundle(const char *bundle, char **out, berth_err *err)
{
	char *abs = realpath(bundle ? bundle : ".", NULL);
	if (!abs)
		return berth_error_errno(err, "bundle %s", bundle ? bundle : ".");
	*out = abs;
	return 0;
}

static int creation_prepare(const struct create_opts *o, bool run_mode, struct creation *c,
			    berth_err *err)
{
	int r;
	if (!container_id_valid(o->id))
		return berth_error_code(err, EINVAL, "invalid container id \"%s\"", o->id);
	/* Not dumpable, and so neither is the init until it execs the user's
	 * program: a process in the container cannot open /proc/PID/exe of the
	 * runtime that waits there (CVE-2019-5736), nor ptrace it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	_cleanup_free_ char *bundle = NULL;
	if ((r = resolve_bundle(o->bundle, &bundle, err)) < 0)
		return r;
	json_t *spec = NULL;
	if (o->spec) {
		if ((r = spec_validate(o->spec, err)) < 0)
			return r;
		spec = json_incref(o->spec);
	} else if ((r = spec_load(bundle, &spec, err)) < 0) {
		return r;
	}
	c->st.config = spec;
	json_t *process = json_object_get(spec, "process");
	if (!process)
		return berth_error_code(err, EINVAL, "config.json: process: required to create a container");
	json_t *linux_ = json_object_get(spec, "linux");
	bool has_mnt = false;
	size_t i;
	json_t *ns;
	json_array_foreach (json_object_get(linux_, "namespaces"), i, ns)
		if (strcmp(json_string_value(json_object_get(ns, "type")), "mount") == 0 &&
		    !json_object_get(ns, "path"))
			has_mnt = true;
	if (!has_mnt)
		return berth_error_code(err, EINVAL,
					"config.json: linux.namespaces: a new mount namespace is required");
	if (json_is_true(json_object_get(process, "terminal")) && !o->console_socket && !run_mode)
		return berth_error_code(err, EINVAL,
					"process.terminal is true: --console-socket is required when the runtime does not stay attached");
	if (json_is_true(json_object_get(process, "terminal")) && !o->console_socket && run_mode && o->detach)
		return berth_error_code(err, EINVAL,
					"process.terminal is true: --console-socket is required with --detach");
	const char *rp = json_string_value(json_object_get(json_object_get(spec, "root"), "path"));
	_cleanup_free_ char *rjoined = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);
	char *rootfs = realpath(rjoined, NULL);
	if (!rootfs)
		return berth_error_errno(err, "config.json: root.path: %s", rjoined);
	c->st.rootfs = rootfs;
	struct stat sb;
	if (stat(rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return berth_error_code(err, ENOTDIR, "config.json: root.path: %s is not a directory", rootfs);
	json_t *capo = json_object_get(process, "capabilities");
	if (capo) {
		if ((r = caps_from_json(capo, "process.capabilities", &c->caps, err)) < 0)
			return r;
		warn_ungrantable_caps(&c->caps);
		c->args.caps = c->caps;
		c->args.has_caps = true;
	}
	json_t *sc = json_object_get(linux_, "seccomp");
	if (sc) {
		_cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", o->root);
		if ((r = mkdir_parents(o->root, 0711)) < 0)
			return berth_error(err, -r, "cannot create %s", o->root);
		if (mkdir(cache, 0700) < 0 && errno != EEXIST)
			return berth_error_errno(err, "cannot create %s", cache);
		if ((r = seccomp_prepare(sc, cache, &c->args.seccomp, err)) < 0)
			return berth_error_wrap(err, "linux.seccomp");
	}
	c->st.id = xstrdup(o->id);
	c->st.root_dir = xstrdup(o->root);
	c->st.dir = xasprintf("%s/%s", o->root, o->id);
	c->st.bundle = TAKE_PTR(bundle);
	c->st.created = rfc3339_now();
	struct passwd *pw = getpwuid(geteuid());
	c->st.owner = xstrdup(pw ? pw->pw_name : "");
	if ((r = cgroup_manager_new(json_string_value(json_object_get(linux_, "cgroupsPath")), o->id,
				    o->systemd_cgroup, &c->st.cgroup, err)) < 0)
		return r;
	return 0;
}

/* linux.resources with the device rules every container needs: like runc,
 * the standard devices stay usable. They go right after a leading "deny all"
 * so that the config's own later rules (a deny of c 1:3, say) still win. */
static json_t *effective_resources(json_t *linux_)
{
	json_t *res = json_deep_copy(json_object_get(linux_, "resources"));
	if (!res)
		res = json_object();
	json_t *devs = json_object_get(res, "devices");
	if (!devs)
		return res; /* no device rules asked for: the cgroup's default (all allowed) */
	static const struct { const char *type; int major, minor; const char *access; } std[] = {
		{ "c", -1, -1, "m" }, { "b", -1, -1, "m" }, /* mknod of anything; access is what counts */
		{ "c", 1, 3, "rwm" },  { "c", 1, 5, "rwm" },  { "c", 1, 7, "rwm" },  { "c", 1, 8, "rwm" },
		{ "c", 1, 9, "rwm" },  { "c", 5, 0, "rwm" },  { "c", 5, 1, "rwm" },  { "c", 5, 2, "rwm" },
		{ "c", 136, -1, "rwm" }, { "c", 10, 200, "rwm" },
	};
	json_t *out = json_array();
	size_t i = 0;
	json_t *first = json_array_get(devs, 0);
	const char *t0 = json_string_value(json_object_get(first, "type"));
	if (first && !json_is_true(json_object_get(first, "allow")) && (!t0 || strcmp(t0, "a") == 0)) {
		json_array_append(out, first);
		i = 1;
	}
	for (size_t k = 0; k < ARRAY_SIZE(std); k++)
		json_array_append_new(out, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type", std[k].type, "major",
						     (json_int_t)std[k].major, "minor", (json_int_t)std[k].minor,
						     "access", std[k].access));
	for (; i < json_array_size(devs); i++)
		json_array_append(out, json_array_get(devs, i));
	json_object_set_new(res, "devices", out);
	return res;
}

static int creation_clone(const struct create_opts *o, bool run_mode, struct creation *c, berth_err *err)
{
	int r;
	json_t *spec = c->st.config;
	json_t *linux_ = json_object_get(spec, "linux");
	if ((r = state_dir_create(o->root, o->id, err)) < 0)
		return r;
	c->dir_made = true;
	/* Held until create is done: delete and start wait instead of racing it. */
	if ((r = state_lock(c->st.dir, err)) < 0)
		return r;
	c->lock_fd = c->args.lock_fd = r;
	if (!run_mode) {
		_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", c->st.dir);
		if (mkfifo(fifo, 0622) < 0)
			return berth_error_errno(err, "cannot create %s", fifo);
		c->args.fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->args.fifo_fd < 0)
			return berth_error_errno(err, "cannot open %s", fifo);
	}
	/* The state, with the cgroup directories about to be made, is on disk
	 * before they exist: a create killed from here on leaves nothing that
	 * `delete` does not know about. */
	cgroup_plan(c->st.cgroup);
	if ((r = state_save(&c->st, err)) < 0)
		return r;
	/* The cgroup is made and limited before the init exists: it is born (v2)
	 * or moves itself (v1) into a cgroup whose limits already hold. */
	c->cgroup_made = true;
	if ((r = cgroup_create(c->st.cgroup, 0, err)) < 0)
		return r;
	json_t *res = effective_resources(linux_);
	r = cgroup_apply(c->st.cgroup, res, err);
	json_decref(res);
	if (r < 0)
		return r;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berth_error_errno(err, "socketpair");
	c->sync_fd = sv[0];
	if (chdir(c->st.bundle) < 0) {
		close(sv[1]);
		return berth_error_errno(err, "cannot change to the bundle %s", c->st.bundle);
	}
	int flags = 0;
	bool intermediate = false;
	json_t *nss = json_object_get(linux_, "namespaces");
	size_t i;
	json_t *ns;
	json_array_foreach (nss, i, ns) {
		const char *type = json_string_value(json_object_get(ns, "type"));
		if (json_object_get(ns, "path")) {
			intermediate = true;
			continue;
		}
		int f = ns_flag(type);
		if (f == CLONE_NEWTIME)
			intermediate = true;
		if (f == CLONE_NEWUSER)
			c->args.new_userns = true;
		if (f == CLONE_NEWNET)
			c->args.new_netns = true;
		if (f == CLONE_NEWCGROUP) {
			c->args.new_cgroupns = true;
			continue; /* unshared by the init once it is in its cgroup */
		}
		flags |= f;
	}
	c->args.spec = spec;
	c->args.process = json_object_get(spec, "process");
	c->args.id = c->st.id;
	c->args.rootfs = c->st.rootfs;
	c->args.bundle = c->st.bundle;
	c->args.sync_fd = sv[1];
	c->args.preserve_fds = o->preserve_fds;
	c->args.no_pivot = o->no_pivot;
	c->args.no_new_keyring = o->no_new_keyring;
	c->args.new_mntns = true;
	c->args.wait_socket = run_mode;
	c->args.cgroup = c->st.cgroup;

	_cleanup_close_ int cgfd = intermediate ? -1 : cgroup_v2_fd(c->st.cgroup);
	c->args.cgroup_fds = cgroup_join_fds(c->st.cgroup, cgfd >= 0, err);
	if (!c->args.cgroup_fds) {
		close(sv[1]);
		return -EINVAL;
	}
	pid_t pid = clone_child((unsigned long)(intermediate ? 0 : flags), cgfd);
	if (pid < 0) {
		int e = errno;
		close(sv[1]);
		return berth_error(err, e, "clone of the container process");
	}
	if (pid == 0) {
		close(sv[0]);
		if (intermediate)
			intermediate_main(&c->args, flags, nss);
		init_main(&c->args);
	}
	close(sv[1]);
	c->args.sync_fd = -1;
	cgroup_join_fds_close(c->args.cgroup_fds);
	c->args.cgroup_fds = NULL;
	if (c->args.fifo_fd >= 0) {
		close(c->args.fifo_fd);
		c->args.fifo_fd = -1;
	}
	if (intermediate) {
		int32_t child = 0;
		c->pid = pid; /* killed on failure until we know the real init */
		r = sync_recv(c->sync_fd, SYNC_PID, &child, NULL, err);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
		if (r < 0)
			return r;
		pid = child;
	}
	c->pid = pid;
	/* Not saved yet: until SYNC_COMMITTED the init dies with this process,
	 * and state.json already names the cgroup, so a kill -9 from here on
	 * leaves only what `delete` removes. */
	c->st.pid = pid;
	c->st.start_time = proc_start_time(pid);
	if (c->args.new_userns) {
		if ((r = write_id_map(pid, "uid_map", json_object_get(linux_, "uidMappings"), err)) < 0 ||
		    (r = write_id_map(pid, "gid_map", json_object_get(linux_, "gidMappings"), err)) < 0)
			return r;
	}
	json_t *rdt = json_object_get(linux_, "intelRdt");
	if (rdt && (r = intelrdt_apply(rdt, c->st.id, pid, err)) < 0)
		return r;
	if ((r = sync_send(c->sync_fd, SYNC_GO, 0, NULL, -1)) < 0)
		return berth_error(err, -r, "starting the container process");
	return 0;
}

static int creation_finish(const struct create_opts *o, struct creation *c, berth_err *err)
{
	int r;
	c->st.pid = c->pid;
	if ((r = sync_recv(c->sync_fd, SYNC_HOOKS, NULL, NULL, err)) < 0)
		return r;
	if ((r = run_hooks_with_state(&c->st, HOOK_PRESTART, "creating", err)) < 0 ||
	    (r = run_hooks_with_state(&c->st, HOOK_CREATE_RUNTIME, "creating", err)) < 0)
		return r;
	if ((r = sync_send(c->sync_fd, SYNC_HOOKS_DONE, 0, NULL, -1)) < 0)
		return berth_error(err, -r, "resuming the container process");
	if (json_is_true(json_object_get(c->args.process, "terminal"))) {
		if ((r = sync_recv(c->sync_fd, SYNC_PTY, NULL, &c->pty_master, err)) < 0)
			return r;
		if (o->console_socket) {
			r = console_send_master(o->console_socket, c->pty_master, "/dev/pts/0", err);
			close(c->pty_master);
			c->pty_master = -1;
			if (r < 0)
				return berth_error_wrap(err, "--console-socket");
		}
	}
	if ((r = sync_recv(c->sync_fd, SYNC_READY, NULL, NULL, err)) < 0)
		return r;
	c->st.ready = true;
	if ((r = state_save(&c->st, err)) < 0 || (r = write_pid_file(o->pid_file, c->pid, err)) < 0)
		return r;
	if ((r = sync_send(c->sync_fd, SYNC_COMMITTED, 0, NULL, -1)) < 0)
		return berth_error(err, -r, "the container process is gone");
	return sync_recv(c->sync_fd, SYNC_UNTIED, NULL, NULL, err);
}

static int creation_run(const struct create_opts *o, bool run_mode, struct creation *c, berth_err *err)
{
	int r;
	if ((r = creation_prepare(o, run_mode, c, err)) < 0)
		return r;
	if ((r = creation_clone(o, run_mode, c, err)) < 0 || (r = creation_finish(o, c, err)) < 0) {
		creation_abort(c);
		return r;
	}
	return 0;
}

int container_create(const struct create_opts *o, berth_err *err)
{
	struct creation c = { .sync_fd = -1, .pty_master = -1, .lock_fd = -1, .args.fifo_fd = -1, .args.lock_fd = -1 };
	int r = creation_run(o, false, &c, err);
	creation_release(&c);
	return r;
}

static int load_checked(const char *root, const char *id, struct container_state *st, int *lockfd,
			berth_err *err)
{
	int r = state_load(root, id, st, err);
	if (r < 0)
		return r;
	if (lockfd) {
		r = state_lock(st->dir, err);
		if (r < 0) {
			container_state_release(st);
			return r;
		}
		*lockfd = r;
		st->locked = true;
		/* The lock may have waited for a create to finish: read what it left. */
		struct container_state fresh;
		if (state_load(root, id, &fresh, NULL) == 0) {
			container_state_release(st);
			*st = fresh;
			st->locked = true;
		}
	}
	return 0;
}

static int start_locked(struct container_state *st, berth_err *err)
{
	const char *status = state_status(st);
	if (strcmp(status, "created") != 0)
		return berth_error_code(err, EINVAL, "cannot start a container that is %s", status);
	_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", st->dir);
	_cleanup_close_ int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? berth_error_code(err, ESRCH, "container %s: its init is gone", st->id)
				      : berth_error_errno(err, "cannot open %s", fifo);
	if (write(fd, "0", 1) != 1)
		return berth_error_errno(err, "cannot signal the container to start");
	unlink(fifo);
	/* The init holds the read end until it execs the user's process (or
	 * dies): the write end then reports POLLERR. Only then is the process
	 * started, and only then may the poststart hooks run. */
	struct pollfd p = { .fd = fd, .events = 0 };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	st->started = true;
	int r = state_save(st, err);
	if (r < 0)
		return r;
	_cleanup_err_ berth_err herr = BERTH_ERR_INIT;
	/* A failing poststart hook is logged; the container stays running (runtime spec). */
	if (run_hooks_with_state(st, HOOK_POSTSTART, "running", &herr) < 0)
		log_warn("%s", herr.msg);
	return 0;
}

int container_start(const char *root, const char *id, berth_err *err)
{
	struct container_state st;
	_cleanup_close_ int lock = -1;
	int r = load_checked(root, id, &st, &lock, err);
	if (r < 0)
		return r;
	r = start_locked(&st, err);
	container_state_release(&st);
	return r;
}

/* Kill what remains and take the container's traces off the host. */
static int destroy(struct container_state *st, berth_err *err)
{
	pid_t *left = NULL;
	size_t nleft = 0;
	/* Freezing to kill costs a round trip through the freezer: only when
	 * something is left (no pid namespace, or delete --force). */
	if (st->cgroup && (cgroup_pids(st->cgroup, &left, &nleft, NULL) < 0 || nleft > 0)) {
		cgroup_kill_all(st->cgroup, SIGKILL, NULL);
		for (int i = 0; i < 1000; i++) {
			pid_t *pids = NULL;
			size_t n = 0;
			if (cgroup_pids(st->cgroup, &pids, &n, NULL) < 0 || n == 0) {
				free(pids);
				break;
			}
			free(pids);
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	free(left);
	_cleanup_err_ berth_err herr = BERTH_ERR_INIT;
	if (st->config && run_hooks_with_state(st, HOOK_POSTSTOP, "stopped", &herr) < 0)
		log_warn("%s", herr.msg);
	if (st->cgroup) {
		int r = cgroup_destroy(st->cgroup, err);
		if (r < 0)
			return r;
	}
	if (st->config)
		intelrdt_remove(json_object_get(json_object_get(st->config, "linux"), "intelRdt"), st->id);
	return state_remove(st->dir, err);
}

int container_kill(const char *root, const char *id, int sig, bool all, berth_err *err)
{
	struct container_state st;
	int r = load_checked(root, id, &st, NULL, err);
	if (r < 0)
		return r;
	const char *status = state_status(&st);
	if (strcmp(status, "stopped") == 0) {
		r = berth_error_code(err, ESRCH, "cannot signal container \"%s\": container not running", id);
	} else if (all && st.cgroup) {
		r = cgroup_kill_all(st.cgroup, sig, err);
	} else {
		int pfd = pidfd_open_checked(st.pid, st.start_time);
		if (pfd < 0) {
			r = berth_error_code(err, ESRCH, "cannot signal container \"%s\": container not running", id);
		} else {
			if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
				r = berth_error_errno(err, "cannot signal container \"%s\"", id);
			close(pfd);
		}
	}
	container_state_release(&st);
	return r;
}

int container_delete(const char *root, const char *id, bool force, berth_err *err)
{
	struct container_state st;
	_cleanup_close_ int lock = -1;
	int r = load_checked(root, id, &st, &lock, err);
	if (r < 0)
		return r;
	const char *status = state_status(&st);
	if (strcmp(status, "stopped") != 0) {
		/* "creating" under our lock means its create was killed half way. */
		if (strcmp(status, "created") != 0 && strcmp(status, "creating") != 0 && !force) {
			r = berth_error_code(err, EBUSY, "cannot delete container \"%s\" that is not stopped: %s",
					     id, status);
			goto out;
		}
		int pfd = pidfd_open_checked(st.pid, st.start_time);
		if (pfd >= 0) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			if (st.cgroup)
				cgroup_kill_all(st.cgroup, SIGKILL, NULL);
			if (!pidfd_wait_exit(pfd, 10000)) {
				close(pfd);
				r = berth_error_code(err, ETIMEDOUT, "container \"%s\" did not die after SIGKILL", id);
				goto out;
			}
			close(pfd);
		}
	}
	r = destroy(&st, err);
out:
	container_state_release(&st);
	return r;
}

int container_pause(const char *root, const char *id, bool pause, berth_err *err)
{
	struct container_state st;
	_cleanup_close_ int lock = -1;
	int r = load_checked(root, id, &st, &lock, err);
	if (r < 0)
		return r;
	const char *status = state_status(&st);
	const char *want = pause ? "running" : "paused";
	if (strcmp(status, want) != 0)
		r = berth_error_code(err, EINVAL, "container \"%s\" is %s, not %s", id, status, want);
	else if (!st.cgroup)
		r = berth_error_code(err, ENOTSUP, "container \"%s\" has no cgroup to freeze", id);
	else
		r = cgroup_freeze(st.cgroup, pause, err);
	container_state_release(&st);
	return r;
}

int container_update(const char *root, const char *id, json_t *resources, berth_err *err)
{
	struct container_state st;
	_cleanup_close_ int lock = -1;
	int r = load_checked(root, id, &st, &lock, err);
	if (r < 0)
		return r;
	if (strcmp(state_status(&st), "stopped") == 0) {
		r = berth_error_code(err, ESRCH, "cannot update container \"%s\": container not running", id);
		goto out;
	}
	if ((r = cgroup_resources_validate(resources, err)) < 0)
		goto out;
	if ((r = cgroup_apply(st.cgroup, resources, err)) < 0)
		goto out;
	/* Remember the new limits, so that the state shows what is in force. */
	json_t *linux_ = json_object_get(st.config, "linux");
	if (!linux_)
		json_object_set_new(st.config, "linux", linux_ = json_object());
	json_t *cur = json_object_get(linux_, "resources");
	if (!cur)
		json_object_set_new(linux_, "resources", cur = json_object());
	json_object_update_recursive(cur, resources);
	st.config_saved = false;
	r = state_save(&st, err);
out:
	container_state_release(&st);
	return r;
}

int container_state(const char *root, const char *id, json_t **out, berth_err *err)
{
	struct container_state st;
	int r = load_checked(root, id, &st, NULL, err);
	if (r < 0)
		return r;
	*out = state_to_oci_json(&st, state_status(&st));
	container_state_release(&st);
	return 0;
}

int container_list(const char *root, json_t **out, berth_err *err)
{
	json_t *arr = json_array();
	_cleanup_dir_ DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT) {
			*out = arr;
			return 0;
		}
		json_decref(arr);
		return berth_error_errno(err, "cannot read %s", root);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !container_id_valid(de->d_name))
			continue;
		struct container_state st;
		if (state_load(root, de->d_name, &st, NULL) < 0)
			continue;
		json_array_append_new(arr, state_to_oci_json(&st, state_status(&st)));
		container_state_release(&st);
	}
	*out = arr;
	return 0;
}

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, berth_err *err)
{
	struct container_state st;
	int r = load_checked(root, id, &st, NULL, err);
	if (r < 0)
		return r;
	if (!st.cgroup)
		r = berth_error_code(err, ENOENT, "container \"%s\" has no cgroup", id);
	else
		r = cgroup_pids(st.cgroup, pids, n, err);
	container_state_release(&st);
	return r;
}

int container_process_template(const char *root, const char *id, json_t **out, berth_err *err)
{
	struct container_state st;
	int r = load_checked(root, id, &st, NULL, err);
	if (r < 0)
		return r;
	json_t *p = json_object_get(st.config, "process");
	*out = p ? json_deep_copy(p) : json_object();
	container_state_release(&st);
	return 0;
}

/* --- run ------------------------------------------------------------------ */

static const int forwarded_signals[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
					 SIGUSR2, SIGPIPE, SIGALRM, SIGCONT, SIGTSTP };

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* Forward signals to pid until it exits; returns its exit code. */
int wait_forwarding(pid_t pid, const sigset_t *mask)
{
	int sfd = signalfd(-1, mask, SFD_CLOEXEC);
	while (true) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return close(sfd), exit_code_of(status);
		if (w < 0 && errno != EINTR)
			return close(sfd), 255;
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD)
			continue;
		kill(pid, (int)si.ssi_signo);
	}
}

void block_forwarded_signals(sigset_t *mask, sigset_t *old)
{
	sigemptyset(mask);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(mask, forwarded_signals[i]);
	sigaddset(mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, mask, old);
}

pid_t start_tty_proxy(int master)
{
	pid_t p = fork();
	if (p == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int r = console_proxy(master, STDIN_FILENO, STDOUT_FILENO, NULL);
		_exit(r < 0 ? 1 : 0);
	}
	return p;
}

/* The sync socket closes when the process execs; an error arrives as a message. */
int wait_exec(int sync_fd, berth_err *err)
{
	int r = sync_recv(sync_fd, SYNC_START, NULL, NULL, err);
	if (r == -EPIPE) {
		berth_err_clear(err);
		return 0;
	}
	return r;
}

/* After create: start the process, run poststart hooks, then (unless
 * detached) wait for it forwarding signals, and remove the container. */
static int run_started(const struct create_opts *o, struct creation *c, const sigset_t *mask, int *exit_code,
		       berth_err *err)
{
	int r;
	close(c->lock_fd);
	c->lock_fd = -1;
	c->st.started = true;
	if ((r = sync_send(c->sync_fd, SYNC_START, 0, NULL, -1)) < 0) {
		r = berth_error(err, -r, "starting the container");
		creation_abort(c);
		return r;
	}
	if ((r = wait_exec(c->sync_fd, err)) < 0) {
		creation_abort(c);
		return r;
	}
	if (o->detach || o->keep)
		state_save(&c->st, NULL); /* "started": a later delete owes it the poststop hooks */
	_cleanup_err_ berth_err herr = BERTH_ERR_INIT;
	if (run_hooks_with_state(&c->st, HOOK_POSTSTART, "running", &herr) < 0)
		log_warn("%s", herr.msg);
	if (o->detach) {
		*exit_code = 0;
		return 0;
	}
	pid_t proxy = c->pty_master >= 0 ? start_tty_proxy(c->pty_master) : -1;
	*exit_code = wait_forwarding(c->pid, mask);
	if (proxy > 0)
		while (waitpid(proxy, NULL, 0) < 0 && errno == EINTR)
			;
	if (o->keep)
		return 0;
	c->st.pid = 0;
	return destroy(&c->st, err);
}

int container_run(const struct create_opts *o, int *exit_code, berth_err *err)
{
	struct creation c = { .sync_fd = -1, .pty_master = -1, .lock_fd = -1, .args.fifo_fd = -1, .args.lock_fd = -1 };
	sigset_t mask, old;
	block_forwarded_signals(&mask, &old);
	int r = creation_run(o, true, &c, err);
	if (r == 0)
		r = run_started(o, &c, &mask, exit_code, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	creation_release(&c);
	return r;
}
