/* process.c - the attributes of the user process, applied just before execve.
 *
 * Shared by the container's init and by `exec`. Runs inside the container
 * (after pivot_root, or after joining the namespaces), in this order:
 *
 *   process_resolve_exec()   find args[0] on the process's PATH inside the container,
 *                            so a missing binary fails `create`, not later
 *   process_set_attrs()      keyring, rlimits, oom_score_adj, personality, I/O priority,
 *                            scheduler, LSM labels
 *   process_set_user_caps()  bounding set, groups, gid, uid, capabilities, no_new_privs, umask
 *   process_open_tty()       a pty from the container's devpts, master sent to the runtime
 *   process_final_fds()      everything past 2 + preserve_fds becomes close-on-exec
 *   process_exec()           chdir + execve, reporting a failure on stderr
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/caps.h"
#include "oci/console.h"
#include "oci/container_internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(json_t *env, const char *name)
{
	size_t n = strlen(name);
	size_t i;
	json_t *e;
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, name, n) == 0 && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

static bool is_executable(const char *path, int *why)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		*why = errno;
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = EISDIR;
		return false;
	}
	if (access(path, X_OK) < 0) {
		*why = errno;
		return false;
	}
	return true;
}

/* Worded as runc words it (Go's lowercase error strings): dockerd turns
 * "no such file or directory" into exit code 127 and "permission denied" into
 * 126 by matching these exact words. */
static int exec_error(berth_err *err, int why, const char *arg0)
{
	const char *text = why == ENOENT ? "no such file or directory"
			   : why == EACCES ? "permission denied"
			   : strerror(why);
	return berth_error_code(err, why, "exec: \"%s\": stat %s: %s", arg0, arg0, text);
}

int process_resolve_exec(json_t *process, char **path, berth_err *err)
{
	const char *arg0 = json_string_value(json_array_get(json_object_get(process, "args"), 0));
	int why = ENOENT;
	if (strchr(arg0, '/')) {
		if (!is_executable(arg0, &why))
			return exec_error(err, why, arg0);
		*path = xstrdup(arg0);
		return 0;
	}
	const char *search = env_get(json_object_get(process, "env"), "PATH");
	if (!search)
		search = DEFAULT_PATH;
	const char *p = search;
	int first_err = 0;
	while (true) {
		const char *e = strchrnul(p, ':');
		_cleanup_free_ char *cand = xasprintf("%.*s%s%s", (int)(e - p), p, e == p ? "" : "/", arg0);
		if (is_executable(cand, &why)) {
			*path = TAKE_PTR(cand);
			return 0;
		}
		if (why != ENOENT && why != ENOTDIR && !first_err)
			first_err = why;
		if (!*e)
			break;
		p = e + 1;
	}
	if (first_err)
		return exec_error(err, first_err, arg0);
	return berth_error_code(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

/* HOME is set from the container's /etc/passwd when the config leaves it out, as runc does. */
static char *home_of(uid_t uid)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *fields[7] = { 0 };
		char *s = line;
		for (int i = 0; i < 7 && s; i++) {
			fields[i] = s;
			s = strchr(s, ':');
			if (s)
				*s++ = '\0';
		}
		if (fields[5] && fields[2] && strtoul(fields[2], NULL, 10) == uid) {
			fields[5][strcspn(fields[5], "\n")] = '\0';
			return xstrdup(fields[5]);
		}
	}
	return NULL;
}

char **process_envp(json_t *process)
{
	json_t *env = json_object_get(process, "env");
	size_t n = json_array_size(env);
	char **envp = xcalloc(n + 2, sizeof(char *));
	size_t i, k = 0;
	json_t *e;
	json_array_foreach (env, i, e)
		envp[k++] = xstrdup(json_string_value(e));
	if (!env_get(env, "HOME")) {
		uid_t uid = (uid_t)json_integer_value(json_object_get(json_object_get(process, "user"), "uid"));
		_cleanup_free_ char *home = home_of(uid);
		envp[k++] = xasprintf("HOME=%s", home ? home : "/");
	}
	envp[k] = NULL;
	return envp;
}

static int rlimit_resource(const char *name)
{
	static const struct { const char *name; int res; } table[] = {
		{ "RLIMIT_AS", RLIMIT_AS },	      { "RLIMIT_CORE", RLIMIT_CORE },
		{ "RLIMIT_CPU", RLIMIT_CPU },	      { "RLIMIT_DATA", RLIMIT_DATA },
		{ "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
		{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
		{ "RLIMIT_NICE", RLIMIT_NICE },	      { "RLIMIT_NOFILE", RLIMIT_NOFILE },
		{ "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
		{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
		{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].res;
	return -1;
}

static int set_rlimits(json_t *rlimits, berth_err *err)
{
	size_t i;
	json_t *o;
	json_array_foreach (rlimits, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		struct rlimit rl = {
			.rlim_cur = (rlim_t)(unsigned long long)json_integer_value(json_object_get(o, "soft")),
			.rlim_max = (rlim_t)(unsigned long long)json_integer_value(json_object_get(o, "hard")),
		};
		if (setrlimit(rlimit_resource(type), &rl) < 0) {
			int e = errno;
			struct rlimit cur = { 0 };
			getrlimit(rlimit_resource(type), &cur);
			if (e == EPERM && rl.rlim_max > cur.rlim_max)
				return berth_error_code(err, e,
							"process.rlimits[%zu]: cannot set %s hard limit to %llu: above the current hard limit %llu, which this host does not let even root raise",
							i, type, (unsigned long long)rl.rlim_max,
							(unsigned long long)cur.rlim_max);
			return berth_error(err, e, "process.rlimits[%zu]: cannot set %s", i, type);
		}
	}
	return 0;
}

static int set_ioprio(json_t *io, berth_err *err)
{
	const char *cls = json_string_value(json_object_get(io, "class"));
	int c = strcmp(cls, "IOPRIO_CLASS_RT") == 0 ? 1 : strcmp(cls, "IOPRIO_CLASS_BE") == 0 ? 2 : 3;
	int prio = (int)json_integer_value(json_object_get(io, "priority"));
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (c << 13) | prio) < 0)
		return berth_error_errno(err, "process.ioPriority: ioprio_set");
	return 0;
}

struct sched_attr_compat {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int set_scheduler(json_t *s, berth_err *err)
{
	static const char *const policies[] = { "SCHED_OTHER", "SCHED_FIFO",  "SCHED_RR",
						"SCHED_BATCH", "SCHED_ISO",   "SCHED_IDLE",
						"SCHED_DEADLINE" };
	static const char *const flags[] = { "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
					     "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
					     "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
					     "SCHED_FLAG_UTIL_CLAMP_MAX" };
	struct sched_attr_compat attr = { .size = sizeof(attr) };
	const char *pol = json_string_value(json_object_get(s, "policy"));
	for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
		if (strcmp(pol, policies[i]) == 0)
			attr.sched_policy = (uint32_t)i;
	size_t i;
	json_t *f;
	json_array_foreach (json_object_get(s, "flags"), i, f)
		for (size_t k = 0; k < ARRAY_SIZE(flags); k++)
			if (strcmp(json_string_value(f), flags[k]) == 0)
				attr.sched_flags |= 1ull << k;
	attr.sched_nice = (int32_t)json_integer_value(json_object_get(s, "nice"));
	attr.sched_priority = (uint32_t)json_integer_value(json_object_get(s, "priority"));
	attr.sched_runtime = (uint64_t)json_integer_value(json_object_get(s, "runtime"));
	attr.sched_deadline = (uint64_t)json_integer_value(json_object_get(s, "deadline"));
	attr.sched_period = (uint64_t)json_integer_value(json_object_get(s, "period"));
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return berth_error_errno(err, "process.scheduler: sched_setattr(%s)", pol);
	return 0;
}

static bool lsm_enabled(const char *name)
{
	if (strcmp(name, "apparmor") == 0) {
		_cleanup_free_ char *v = NULL;
		size_t n;
		return file_read("/sys/module/apparmor/parameters/enabled", &v, &n, NULL) == 0 && v[0] == 'Y';
	}
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int set_lsm(json_t *process, berth_err *err)
{
	/* A label for an LSM the host does not run has nothing to apply to: the
	 * process is exactly as confined as on that host without Berth. */
	const char *aa = json_string_value(json_object_get(process, "apparmorProfile"));
	if (aa && *aa && lsm_enabled("apparmor")) {
		_cleanup_free_ char *v = xasprintf("exec %s", aa);
		_cleanup_close_ int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fd_write_all(fd, v, strlen(v)) < 0)
			return berth_error_errno(err, "process.apparmorProfile: cannot apply \"%s\"", aa);
	}
	const char *se = json_string_value(json_object_get(process, "selinuxLabel"));
	if (se && *se && lsm_enabled("selinux")) {
		_cleanup_close_ int fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fd_write_all(fd, se, strlen(se)) < 0)
			return berth_error_errno(err, "process.selinuxLabel: cannot apply \"%s\"", se);
	}
	return 0;
}

int process_set_attrs(const struct init_args *a, berth_err *err)
{
	json_t *p = a->process;
	int r;
	if (!a->no_new_keyring && !a->is_exec) {
		/* A session keyring of its own, so the container cannot read the host's keys. */
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, a->id) < 0 && errno != ENOSYS)
			return berth_error_errno(err, "cannot create a session keyring");
	}
	if ((r = set_rlimits(json_object_get(p, "rlimits"), err)) < 0)
		return r;
	json_t *oom = json_object_get(p, "oomScoreAdj");
	if (oom) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d", (int)json_integer_value(oom));
		_cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fd_write_all(fd, buf, (size_t)n) < 0)
			return berth_error_errno(err, "process.oomScoreAdj: cannot set %s", buf);
	}
	json_t *pers = a->is_exec ? NULL : json_object_get(json_object_get(a->spec, "linux"), "personality");
	if (pers) {
		const char *dom = json_string_value(json_object_get(pers, "domain"));
		if (personality(strcmp(dom, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX) < 0)
			return berth_error_errno(err, "linux.personality: cannot set %s", dom);
	}
	json_t *io = json_object_get(p, "ioPriority");
	if (io && (r = set_ioprio(io, err)) < 0)
		return r;
	json_t *sched = json_object_get(p, "scheduler");
	if (sched && (r = set_scheduler(sched, err)) < 0)
		return r;
	return set_lsm(p, err);
}

int process_set_user_caps(const struct init_args *a, berth_err *err)
{
	json_t *user = json_object_get(a->process, "user");
	uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
	gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
	int r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return berth_error_errno(err, "prctl(PR_SET_KEEPCAPS)");
	if (a->has_caps && (r = caps_drop_bounding(&a->caps, err)) < 0)
		return r;
	json_t *gids = json_object_get(user, "additionalGids");
	size_t n = json_array_size(gids);
	_cleanup_free_ gid_t *list = xcalloc(n ? n : 1, sizeof(gid_t));
	for (size_t i = 0; i < n; i++)
		list[i] = (gid_t)json_integer_value(json_array_get(gids, i));
	if (setgroups(n, list) < 0) {
		/* In a user namespace with setgroups denied, only an empty list is possible. */
		if (!(errno == EPERM && n == 0))
			return berth_error_errno(err, "process.user.additionalGids: setgroups");
	}
	if (setresgid(gid, gid, gid) < 0)
		return berth_error_errno(err, "process.user.gid: cannot set gid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		return berth_error_errno(err, "process.user.uid: cannot set uid %u", uid);
	if (a->has_caps) {
		/* The kernel keeps an ambient capability only when it is also permitted
		 * and inheritable. runc's default config (and so many configs in the
		 * wild) lists ambient capabilities without an inheritable set; runc
		 * raises what it can and goes on, and so does Berth. */
		struct caps_sets cs = a->caps;
		cs.ambient &= cs.permitted & cs.inheritable;
		if ((r = caps_apply(&cs, err)) < 0)
			return r;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return berth_error_errno(err, "prctl(PR_SET_KEEPCAPS)");
	if (json_is_true(json_object_get(a->process, "noNewPrivileges")) &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berth_error_errno(err, "process.noNewPrivileges");
	json_t *um = json_object_get(user, "umask");
	umask(um ? (mode_t)json_integer_value(um) : 022);
	return 0;
}

int process_open_tty(const struct init_args *a, berth_err *err)
{
	int master = -1;
	_cleanup_free_ char *slave = NULL;
	int r = console_open_pty(&master, &slave, err);
	if (r < 0)
		return berth_error_wrap(err, "process.terminal");
	json_t *cs = json_object_get(a->process, "consoleSize");
	if (cs)
		console_set_size(master, (unsigned)json_integer_value(json_object_get(cs, "height")),
				 (unsigned)json_integer_value(json_object_get(cs, "width")), NULL);
	r = sync_send(a->sync_fd, SYNC_PTY, 0, slave, master);
	close(master);
	if (r < 0)
		return berth_error(err, -r, "sending the terminal to the runtime");
	return console_make_ctty(slave, err);
}

int process_final_fds(int preserve_fds, berth_err *err)
{
	unsigned int first = 3 + (unsigned int)preserve_fds;
	for (int fd = 3; fd < (int)first; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return berth_error_errno(err, "close_range");
	return 0;
}

void process_exec(const struct init_args *a, const char *path)
{
	json_t *args = json_object_get(a->process, "args");
	size_t n = json_array_size(args);
	char **argv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(args, i));
	char **envp = process_envp(a->process);
	execve(path, argv, envp);
	int e = errno;
	dprintf(STDERR_FILENO, "berth-runtime: exec \"%s\": %s\n", path, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}
