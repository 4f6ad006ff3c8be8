/* seccomp_default.c - Berth's default seccomp profile, and Docker-format profiles.
 *
 * The default is an allow-list: anything not named below fails with EPERM, so
 * a syscall added to the kernel after this list was written is denied until
 * someone decides it is safe (the same stance as Docker's default). The
 * lists are grouped by purpose; a call that only does something with a
 * capability is allowed when the container's bounding set holds it, so
 * --cap-add SYS_ADMIN also lets mount(2) through the filter.
 */
#include "engine/seccomp_default.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <linux/capability.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

/* Always allowed: one flat array, grouped by purpose. Names the running libseccomp
 * does not know (newer calls, other architectures' calls) are skipped when the
 * profile is compiled (src/oci/seccomp.c). */
// clang-format off
static const char *const allow_always[] = {
	/* files: open, read, write, metadata */
	"access", "faccessat", "faccessat2", "open", "openat", "openat2", "creat", "close",
	"close_range", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev",
	"pwrite64", "pwritev", "pwritev2", "lseek", "_llseek", "stat", "stat64", "lstat", "lstat64",
	"fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs", "statfs64", "fstatfs",
	"fstatfs64", "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate", "fadvise64",
	"fadvise64_64", "readahead", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
	"copy_file_range", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "cachestat",
	"flock", "fcntl", "fcntl64", "dup", "dup2", "dup3", "ioctl",
	/* directories and names */
	"getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2",
	"link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat",
	"getdents", "getdents64", "mknod", "mknodat", "umask",
	/* ownership, modes, times, extended attributes */
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32",
	"fchownat", "lchown", "lchown32", "utime", "utimes", "utimensat", "utimensat_time64",
	"futimesat", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr",
	"listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
	"name_to_handle_at",
	/* file events */
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark",
	/* memory */
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
	"mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "memfd_create",
	"memfd_secret", "membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect",
	"map_shadow_stack",
	/* processes and threads */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
	"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_time64",
	"futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "gettid", "getpid", "getppid",
	"getpgid", "setpgid", "getpgrp", "getsid", "setsid", "prctl", "capget", "capset",
	"getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "getpriority",
	"setpriority", "ioprio_get", "ioprio_set", "sched_yield", "sched_getaffinity",
	"sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam",
	"sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "getcpu",
	"restart_syscall", "seccomp", "set_thread_area", "get_thread_area", "pidfd_open",
	"pidfd_send_signal", "process_mrelease", "landlock_create_ruleset", "landlock_add_rule",
	"landlock_restrict_self",
	/* credentials (the capabilities decide what they may do) */
	"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
	"getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
	"setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
	"setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid",
	"setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32",
	/* signals */
	"kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
	"rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask", "sigreturn",
	"signalfd", "signalfd4", "pause",
	/* time: reading clocks, timers, sleeping (setting a clock needs CAP_SYS_TIME) */
	"time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
	"clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "adjtimex",
	"clock_adjtime", "clock_adjtime64", "alarm", "getitimer", "setitimer", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
	"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
	"timerfd_settime", "timerfd_settime64", "times",
	/* waiting on descriptors */
	"select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
	"epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
	/* asynchronous I/O (io_uring stays denied: a large attack surface) */
	"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64",
	/* sockets */
	"socket", "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown", "send", "sendto",
	"sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
	/* System V and POSIX IPC (namespaced) */
	"ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl", "semtimedop",
	"semtimedop_time64", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink",
	"mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_notify", "mq_getsetattr",
	/* system information */
	"uname", "sysinfo", "getrandom",
};
// clang-format on

/* ptrace and reading another process's memory: safe from kernel 4.8, where seccomp is
 * re-checked after a tracer changes the syscall; before that only with CAP_SYS_PTRACE. */
static const char *const ptrace_calls[] = { "ptrace", "process_vm_readv", "process_vm_writev" };

#if defined(__x86_64__) || defined(__i386__)
static const char *const allow_arch[] = { "arch_prctl", "modify_ldt" };
#elif defined(__aarch64__) || defined(__arm__)
static const char *const allow_arch[] = { "arm_fadvise64_64", "arm_sync_file_range",
					  "sync_file_range2", "breakpoint",
					  "cacheflush",       "set_tls" };
#else
static const char *const allow_arch[] = { "sync_file_range2" };
#endif

/* Calls that only make sense with a capability, allowed when the container has it. */
static const struct {
	int cap;
	const char *names[16];
} by_cap[] = {
	{ CAP_SYS_ADMIN,
	  { "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen",
	    "fsconfig", "fsmount", "fspick", "unshare", "setns", "sethostname", "setdomainname",
	    "quotactl", "quotactl_fd" } },
	{ CAP_SYS_ADMIN,
	  { "fanotify_init", "lookup_dcookie", "bpf", "perf_event_open", "syslog", "clone3" } },
	{ CAP_SYS_PTRACE,
	  { "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	    "process_madvise" } },
	{ CAP_SYS_MODULE, { "init_module", "finit_module", "delete_module" } },
	{ CAP_SYS_TIME, { "settimeofday", "stime", "clock_settime", "clock_settime64" } },
	{ CAP_SYS_BOOT, { "reboot" } },
	{ CAP_SYS_CHROOT, { "chroot" } },
	{ CAP_SYS_NICE,
	  { "mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "move_pages" } },
	{ CAP_SYS_PACCT, { "acct" } },
	{ CAP_SYS_TTY_CONFIG, { "vhangup" } },
	{ CAP_DAC_READ_SEARCH, { "open_by_handle_at" } },
	{ CAP_SYSLOG, { "syslog" } },
	{ CAP_BPF, { "bpf" } },
	{ CAP_PERFMON, { "perf_event_open" } },
#if defined(__x86_64__) || defined(__i386__)
	{ CAP_SYS_RAWIO, { "iopl", "ioperm" } },
#endif
};

/* The namespace flags of clone(2): without CAP_SYS_ADMIN a clone asking for one is
 * refused by the filter. The kernel would refuse most of them itself, but not
 * CLONE_NEWUSER, which needs no capability and opens the namespaced-capability
 * attack surface of the kernel to the container. */
#define CLONE_NS_FLAGS 0x7E020000u /* NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

/* personality(2) values that change nothing dangerous: PER_LINUX, UNAME26, PER_LINUX32,
 * PER_LINUX32|UNAME26, and 0xffffffff (query). */
static const unsigned long personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

static void add_names(json_t *arr, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n && names[i]; i++)
		json_array_append_new(arr, json_string(names[i]));
}

static json_t *rule(json_t *names, const char *action)
{
	return json_pack("{s:o,s:s}", "names", names, "action", action);
}

/* "x86_64" -> the architectures its containers may run binaries of. */
static json_t *native_arches(void)
{
#if defined(__x86_64__)
	return json_pack("[s,s,s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__i386__)
	return json_pack("[s]", "SCMP_ARCH_X86");
#elif defined(__aarch64__)
	return json_pack("[s,s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#elif defined(__arm__)
	return json_pack("[s]", "SCMP_ARCH_ARM");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return json_pack("[s]", "SCMP_ARCH_PPC64LE");
#elif defined(__s390x__)
	return json_pack("[s,s]", "SCMP_ARCH_S390X", "SCMP_ARCH_S390");
#elif defined(__riscv) && __riscv_xlen == 64
	return json_pack("[s]", "SCMP_ARCH_RISCV64");
#else
	return json_array();
#endif
}

/* Kernel version as major * 1000 + minor, 0 when unknown. */
static long kernel_version(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return 0;
	unsigned int major = 0, minor = 0;
	if (sscanf(u.release, "%u.%u", &major, &minor) < 1)
		return 0;
	return (long)major * 1000 + minor;
}

json_t *seccomp_default_profile(uint64_t caps)
{
	json_t *syscalls = json_array();
	json_t *names = json_array();
	add_names(names, allow_always, ARRAY_SIZE(allow_always));
	add_names(names, allow_arch, ARRAY_SIZE(allow_arch));
	if (kernel_version() >= 4008 && !(caps & CAPBIT(CAP_SYS_PTRACE)))
		add_names(names, ptrace_calls, ARRAY_SIZE(ptrace_calls));
	/* Capability-gated calls join the one allow rule; a name twice would be refused. */
	for (size_t i = 0; i < ARRAY_SIZE(by_cap); i++) {
		if (!(caps & CAPBIT(by_cap[i].cap)))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(by_cap[i].names) && by_cap[i].names[k]; k++) {
			bool dup = false;
			size_t j;
			json_t *n;
			json_array_foreach (names, j, n)
				if (strcmp(json_string_value(n), by_cap[i].names[k]) == 0)
					dup = true;
			if (!dup)
				json_array_append_new(names, json_string(by_cap[i].names[k]));
		}
	}
	json_array_append_new(syscalls, rule(names, "SCMP_ACT_ALLOW"));

	for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
		json_t *r = rule(json_pack("[s]", "personality"), "SCMP_ACT_ALLOW");
		json_object_set_new(r, "args",
				    json_pack("[{s:i,s:I,s:s}]", "index", 0, "value",
					      (json_int_t)personalities[i], "op", "SCMP_CMP_EQ"));
		json_array_append_new(syscalls, r);
	}

	if (caps & CAPBIT(CAP_SYS_ADMIN)) {
		json_array_append_new(syscalls, rule(json_pack("[s]", "clone"), "SCMP_ACT_ALLOW"));
	} else {
		/* s390 passes the flags in the second argument. */
#if defined(__s390x__)
		int flags_arg = 1;
#else
		int flags_arg = 0;
#endif
		json_t *r = rule(json_pack("[s]", "clone"), "SCMP_ACT_ALLOW");
		json_object_set_new(r, "args",
				    json_pack("[{s:i,s:I,s:i,s:s}]", "index", flags_arg, "value",
					      (json_int_t)CLONE_NS_FLAGS, "valueTwo", 0, "op",
					      "SCMP_CMP_MASKED_EQ"));
		json_array_append_new(syscalls, r);
		/* clone3 passes its flags in memory the filter cannot read: ENOSYS sends
		 * libc back to clone, where the flags are checked. */
		r = rule(json_pack("[s]", "clone3"), "SCMP_ACT_ERRNO");
		json_object_set_new(r, "errnoRet", json_integer(ENOSYS));
		json_array_append_new(syscalls, r);
	}

	return json_pack("{s:s,s:i,s:o,s:o}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet",
			 EPERM, "architectures", native_arches(), "syscalls", syscalls);
}

/* --- Docker's profile format ------------------------------------------------ */

#if defined(__x86_64__)
static const char *const native_arch_names[] = { "amd64", "x86_64", "SCMP_ARCH_X86_64", NULL };
#elif defined(__i386__)
static const char *const native_arch_names[] = { "386", "x86", "SCMP_ARCH_X86", NULL };
#elif defined(__aarch64__)
static const char *const native_arch_names[] = { "arm64", "aarch64", "SCMP_ARCH_AARCH64", NULL };
#elif defined(__arm__)
static const char *const native_arch_names[] = { "arm", "SCMP_ARCH_ARM", NULL };
#elif defined(__powerpc64__)
static const char *const native_arch_names[] = { "ppc64le", "SCMP_ARCH_PPC64LE", NULL };
#elif defined(__s390x__)
static const char *const native_arch_names[] = { "s390x", "SCMP_ARCH_S390X", NULL };
#elif defined(__riscv)
static const char *const native_arch_names[] = { "riscv64", "SCMP_ARCH_RISCV64", NULL };
#else
static const char *const native_arch_names[] = { NULL };
#endif

static bool is_native_arch(const char *name)
{
	for (const char *const *p = native_arch_names; *p; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

static bool list_has_native(json_t *arr)
{
	size_t i;
	json_t *a;
	json_array_foreach (arr, i, a)
		if (json_is_string(a) && is_native_arch(json_string_value(a)))
			return true;
	return false;
}

/* "CAP_SYS_ADMIN" in a profile -> its bit; unknown names never match. */
static int cap_of(const char *name)
{
	static const struct {
		const char *name;
		int cap;
	} t[] = {
		{ "CAP_SYS_ADMIN", CAP_SYS_ADMIN },
		{ "CAP_SYS_PTRACE", CAP_SYS_PTRACE },
		{ "CAP_SYS_MODULE", CAP_SYS_MODULE },
		{ "CAP_SYS_TIME", CAP_SYS_TIME },
		{ "CAP_SYS_BOOT", CAP_SYS_BOOT },
		{ "CAP_SYS_NICE", CAP_SYS_NICE },
		{ "CAP_SYS_PACCT", CAP_SYS_PACCT },
		{ "CAP_SYS_RAWIO", CAP_SYS_RAWIO },
		{ "CAP_SYS_TTY_CONFIG", CAP_SYS_TTY_CONFIG },
		{ "CAP_SYSLOG", CAP_SYSLOG },
		{ "CAP_BPF", CAP_BPF },
		{ "CAP_PERFMON", CAP_PERFMON },
		{ "CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH },
		{ "CAP_SYS_CHROOT", CAP_SYS_CHROOT },
		{ "CAP_NET_ADMIN", CAP_NET_ADMIN },
		{ "CAP_SYS_RESOURCE", CAP_SYS_RESOURCE },
		{ "CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE },
		{ "CAP_IPC_LOCK", CAP_IPC_LOCK },
		{ "CAP_NET_RAW", CAP_NET_RAW },
		{ "CAP_MKNOD", CAP_MKNOD },
		{ "CAP_AUDIT_WRITE", CAP_AUDIT_WRITE },
		{ "CAP_WAKE_ALARM", CAP_WAKE_ALARM },
		{ "CAP_LEASE", CAP_LEASE },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcasecmp(t[i].name, name) == 0)
			return t[i].cap;
	return -1;
}

static bool caps_all_held(json_t *arr, uint64_t caps)
{
	size_t i;
	json_t *c;
	json_array_foreach (arr, i, c) {
		int n = json_is_string(c) ? cap_of(json_string_value(c)) : -1;
		if (n < 0 || !(caps & CAPBIT(n)))
			return false;
	}
	return true;
}

static bool caps_any_held(json_t *arr, uint64_t caps)
{
	size_t i;
	json_t *c;
	json_array_foreach (arr, i, c) {
		int n = json_is_string(c) ? cap_of(json_string_value(c)) : -1;
		if (n >= 0 && (caps & CAPBIT(n)))
			return true;
	}
	return false;
}

static long parse_kernel(const char *s)
{
	unsigned int major = 0, minor = 0;
	if (!s || sscanf(s, "%u.%u", &major, &minor) != 2)
		return -1;
	return (long)major * 1000 + minor;
}

/* Whether a syscalls[] entry applies to this container (includes all hold, excludes
 * none does). */
static int entry_applies(json_t *sc, size_t i, uint64_t caps, long kver, bool *applies,
			 berth_err *err)
{
	*applies = false;
	json_t *inc = json_object_get(sc, "includes"), *exc = json_object_get(sc, "excludes");
	if (json_array_size(json_object_get(exc, "arches")) &&
	    list_has_native(json_object_get(exc, "arches")))
		return 0;
	if (json_array_size(json_object_get(exc, "caps")) &&
	    caps_any_held(json_object_get(exc, "caps"), caps))
		return 0;
	if (json_array_size(json_object_get(inc, "arches")) &&
	    !list_has_native(json_object_get(inc, "arches")))
		return 0;
	if (json_array_size(json_object_get(inc, "caps")) &&
	    !caps_all_held(json_object_get(inc, "caps"), caps))
		return 0;
	json_t *mk = json_object_get(inc, "minKernel");
	if (mk && !json_is_null(mk)) {
		long want = parse_kernel(json_string_value(mk));
		if (want < 0)
			return berth_error_code(
				err, EINVAL,
				"seccomp profile: syscalls[%zu].includes.minKernel: "
				"not a kernel version like \"4.8\"",
				i);
		if (kver && kver < want)
			return 0;
	}
	*applies = true;
	return 0;
}

int seccomp_from_docker(json_t *profile, uint64_t caps, json_t **out, berth_err *err)
{
	if (!json_is_object(profile))
		return berth_error_code(err, EINVAL, "seccomp profile: must be a JSON object");
	json_t *arches = json_object_get(profile, "architectures");
	json_t *archmap = json_object_get(profile, "archMap");
	if (json_array_size(arches) && json_array_size(archmap))
		return berth_error_code(err, EINVAL,
					"seccomp profile: both 'architectures' and 'archMap' are "
					"specified, use either 'architectures' or 'archMap'");
	_cleanup_json_ json_t *res = json_object();
	static const char *const copied[] = { "defaultAction", "defaultErrnoRet", "flags",
					      "listenerPath", "listenerMetadata" };
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		json_t *v = json_object_get(profile, copied[i]);
		if (v && !json_is_null(v))
			json_object_set(res, copied[i], v);
	}
	if (!json_object_get(res, "defaultAction"))
		return berth_error_code(err, EINVAL, "seccomp profile: defaultAction: required");

	json_t *oarches = json_array();
	json_object_set_new(res, "architectures", oarches);
	if (json_array_size(arches)) {
		json_array_extend(oarches, arches);
	} else {
		/* Only the entry of the running architecture, with its sub-architectures. */
		size_t i;
		json_t *m;
		json_array_foreach (archmap, i, m) {
			const char *a = json_string_value(json_object_get(m, "architecture"));
			if (!a || !is_native_arch(a))
				continue;
			json_array_append_new(oarches, json_string(a));
			json_array_extend(oarches, json_object_get(m, "subArchitectures"));
		}
	}

	json_t *osys = json_array();
	json_object_set_new(res, "syscalls", osys);
	long kver = kernel_version();
	size_t i;
	json_t *sc;
	json_array_foreach (json_object_get(profile, "syscalls"), i, sc) {
		if (!json_is_object(sc))
			return berth_error_code(err, EINVAL,
						"seccomp profile: syscalls[%zu]: must be an object",
						i);
		json_t *name = json_object_get(sc, "name"), *names = json_object_get(sc, "names");
		if (name && !json_is_null(name) && json_array_size(names))
			return berth_error_code(
				err, EINVAL,
				"seccomp profile: syscalls[%zu]: use either 'name' or "
				"'names'",
				i);
		bool applies;
		int r = entry_applies(sc, i, caps, kver, &applies, err);
		if (r < 0)
			return r;
		if (!applies)
			continue;
		json_t *o = json_object();
		if (name && json_is_string(name))
			json_object_set_new(o, "names", json_pack("[O]", name));
		else
			json_object_set(o, "names", names ? names : json_null());
		static const char *const keys[] = { "action", "errnoRet", "args" };
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			json_t *v = json_object_get(sc, keys[k]);
			if (v && !json_is_null(v))
				json_object_set(o, keys[k], v);
		}
		json_array_append_new(osys, o);
	}
	*out = TAKE_PTR(res);
	return 0;
}
