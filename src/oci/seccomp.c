/* seccomp.c - the spec's linux.seccomp object: validation, compilation to BPF with
 * libseccomp, an on-disk cache of compiled programs, loading, and handing the
 * notify listener to an agent.
 *
 * One walk over the object serves both validation and compilation, so what
 * validate accepts is exactly what prepare builds. Flags are not compiled into
 * the program: Berth loads the BPF itself with seccomp(2), so they travel in
 * struct seccomp_prog and a cached program stays valid whatever they are.
 */
#include "oci/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/sha256.h"
#include "common/xalloc.h"
#include "oci/spec.h"

#define F "linux.seccomp"

/* Bumped when the cache layout or the way rules are built changes. */
#define CACHE_FORMAT "berth-seccomp-bpf-2"

struct named {
	const char *name;
	uint32_t value;
};

static const struct named arch_table[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#ifdef SCMP_ARCH_LOONGARCH64
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#endif
#ifdef SCMP_ARCH_M68K
	{ "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#endif
#ifdef SCMP_ARCH_SH
	{ "SCMP_ARCH_SH", SCMP_ARCH_SH },
	{ "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#endif
};

static const struct named flag_table[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static const struct named op_table[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },	  { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },	  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },	  { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

#define ACT_TAKES_ERRNO 0x1
#define ACT_NOTIFY 0x2

static const struct {
	const char *name;
	uint32_t base;
	unsigned int kind;
} action_table[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, 0 },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 0 },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 0 },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, 0 },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ACT_TAKES_ERRNO },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ACT_TAKES_ERRNO },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0 },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, 0 },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_NOTIFY },
};

/* Syscalls the container's init still makes after loading the filter and before
 * the listener fd reaches an agent: notifying on them would hang the start. */
static const char *const notify_forbidden[] = { "write", "sendmsg" };

static const struct named *lookup(const struct named *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

/* A JSON number that is a whole number in [0, max]. jansson keeps integers as
 * signed 64-bit; a real is accepted when it is integral, for values above that. */
static bool json_uint(json_t *v, uint64_t max, uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0 || (uint64_t)i > max)
			return false;
		*out = (uint64_t)i;
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!(d >= 0) || d >= 18446744073709551616.0 || d != (double)(uint64_t)d)
			return false;
		if ((uint64_t)d > max)
			return false;
		*out = (uint64_t)d;
		return true;
	}
	return false;
}

/* Action from "<field>" and its errno from "<errno_field>". */
static int parse_action(json_t *action, json_t *errno_ret, const char *field,
			const char *errno_field, uint32_t *out, unsigned int *kind, berth_err *err)
{
	if (!action)
		return berth_error_code(err, EINVAL, "%s: required", field);
	if (!json_is_string(action))
		return berth_error_code(err, EINVAL, "%s: must be a string", field);
	const char *name = json_string_value(action);
	for (size_t i = 0; i < ARRAY_SIZE(action_table); i++) {
		if (strcmp(action_table[i].name, name) != 0)
			continue;
		uint32_t act = action_table[i].base;
		*kind = action_table[i].kind;
		if (errno_ret && !json_is_null(errno_ret)) {
			uint64_t e;
			if (!(*kind & ACT_TAKES_ERRNO))
				return berth_error_code(err, EINVAL,
							"%s: %s does not return an errno", errno_field,
							name);
			if (!json_uint(errno_ret, SECCOMP_RET_DATA, &e))
				return berth_error_code(err, EINVAL,
							"%s: must be an integer from 0 to %u",
							errno_field, SECCOMP_RET_DATA);
			act |= (uint32_t)e;
		} else if (*kind & ACT_TAKES_ERRNO) {
			act |= EPERM;
		}
		*out = act;
		return 0;
	}
	return berth_error_code(err, EINVAL, "%s: unknown action %s", field, name);
}

/* Probe the kernel for a filter flag: an unknown flag is EINVAL, a known one gets as
 * far as reading the (NULL) program and fails with EFAULT. */
static bool kernel_has_flag(unsigned long flag)
{
	/* WAIT_KILLABLE_RECV is refused on its own: it qualifies a listener. */
	if (flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
	return r < 0 && errno == EFAULT;
}

struct walk {
	scmp_filter_ctx ctx; /* NULL: validate only */
	uint32_t default_action;
	unsigned int flags;
	bool notify;
};

static int add_rule(struct walk *w, size_t si, const char *name, uint32_t action,
		    const struct scmp_arg_cmp *conds, size_t nconds, bool separate,
		    berth_err *err)
{
	/* Validation needs no syscall numbers: resolving names is a linear search
	 * in libseccomp, and a Docker-sized profile has hundreds of them. */
	if (!w->ctx)
		return 0;
	int nr = seccomp_syscall_resolve_name(name);
	/* A name libseccomp does not know is usually a syscall newer than it; the
	 * rule cannot match anything it can filter, so it is left out (as runc does). */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	/* libseccomp refuses rules repeating the default; they change nothing. */
	if (action == w->default_action)
		return 0;
	int r;
	if (separate) {
		/* Conditions sharing an argument cannot all hold at once when AND-ed;
		 * profiles written for runc mean them as alternatives. */
		for (size_t i = 0; i < nconds; i++) {
			r = seccomp_rule_add_array(w->ctx, action, nr, 1, &conds[i]);
			if (r < 0)
				return berth_error(err, -r, F ".syscalls[%zu]: adding a rule for %s",
						   si, name);
		}
		return 0;
	}
	r = seccomp_rule_add_array(w->ctx, action, nr, (unsigned int)nconds, conds);
	if (r < 0)
		return berth_error(err, -r, F ".syscalls[%zu]: adding a rule for %s", si, name);
	return 0;
}

static int walk_syscall(struct walk *w, size_t si, json_t *sc, berth_err *err)
{
	char field[96], field2[96];
	if (!json_is_object(sc))
		return berth_error_code(err, EINVAL, F ".syscalls[%zu]: must be an object", si);

	json_t *names = json_object_get(sc, "names");
	if (!names)
		return berth_error_code(err, EINVAL, F ".syscalls[%zu].names: required", si);
	if (!json_is_array(names) || json_array_size(names) == 0)
		return berth_error_code(err, EINVAL,
					F ".syscalls[%zu].names: must be a non-empty array of strings",
					si);
	size_t ni;
	json_t *n;
	json_array_foreach (names, ni, n)
		if (!json_is_string(n) || json_string_length(n) == 0)
			return berth_error_code(err, EINVAL,
						F ".syscalls[%zu].names[%zu]: must be a syscall name",
						si, ni);

	uint32_t action;
	unsigned int kind;
	snprintf(field, sizeof(field), F ".syscalls[%zu].action", si);
	snprintf(field2, sizeof(field2), F ".syscalls[%zu].errnoRet", si);
	int r = parse_action(json_object_get(sc, "action"), json_object_get(sc, "errnoRet"), field,
			     field2, &action, &kind, err);
	if (r < 0)
		return r;
	if (kind & ACT_NOTIFY) {
		w->notify = true;
		json_array_foreach (names, ni, n)
			for (size_t k = 0; k < ARRAY_SIZE(notify_forbidden); k++)
				if (strcmp(json_string_value(n), notify_forbidden[k]) == 0)
					return berth_error_code(
						err, EINVAL,
						"%s: SCMP_ACT_NOTIFY cannot be used for %s: the "
						"container's init needs it before the agent has "
						"the listener",
						field, notify_forbidden[k]);
	}

	json_t *args = json_object_get(sc, "args");
	size_t nconds = 0;
	struct scmp_arg_cmp conds[6 * 4];
	unsigned int per_index[6] = { 0 };
	bool separate = false;
	if (args && !json_is_null(args)) {
		if (!json_is_array(args))
			return berth_error_code(err, EINVAL,
						F ".syscalls[%zu].args: must be an array", si);
		if (json_array_size(args) > ARRAY_SIZE(conds))
			return berth_error_code(err, EINVAL,
						F ".syscalls[%zu].args: more than %zu conditions",
						si, ARRAY_SIZE(conds));
		size_t ai;
		json_t *a;
		json_array_foreach (args, ai, a) {
			if (!json_is_object(a))
				return berth_error_code(err, EINVAL,
							F ".syscalls[%zu].args[%zu]: must be an object",
							si, ai);
			uint64_t index, value, value2 = 0;
			json_t *jv = json_object_get(a, "index");
			if (!jv || !json_uint(jv, 5, &index))
				return berth_error_code(
					err, EINVAL,
					F ".syscalls[%zu].args[%zu].index: must be an integer from 0 to 5",
					si, ai);
			jv = json_object_get(a, "value");
			if (!jv || !json_uint(jv, UINT64_MAX, &value))
				return berth_error_code(
					err, EINVAL,
					F ".syscalls[%zu].args[%zu].value: must be an unsigned integer",
					si, ai);
			jv = json_object_get(a, "valueTwo");
			if (jv && !json_is_null(jv) && !json_uint(jv, UINT64_MAX, &value2))
				return berth_error_code(
					err, EINVAL,
					F ".syscalls[%zu].args[%zu].valueTwo: must be an unsigned integer",
					si, ai);
			jv = json_object_get(a, "op");
			if (!jv || !json_is_string(jv))
				return berth_error_code(err, EINVAL,
							F ".syscalls[%zu].args[%zu].op: required string",
							si, ai);
			const struct named *op =
				lookup(op_table, ARRAY_SIZE(op_table), json_string_value(jv));
			if (!op)
				return berth_error_code(err, EINVAL,
							F ".syscalls[%zu].args[%zu].op: unknown operator %s",
							si, ai, json_string_value(jv));
			if (++per_index[index] > 1)
				separate = true;
			conds[nconds++] = (struct scmp_arg_cmp){
				.arg = (unsigned int)index,
				.op = (enum scmp_compare)op->value,
				.datum_a = value,
				.datum_b = value2,
			};
		}
	}

	if (!w->ctx)
		return 0;
	json_array_foreach (names, ni, n) {
		r = add_rule(w, si, json_string_value(n), action, conds, nconds, separate, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Check the object; with w->ctx set, also add its architectures and rules. */
static int walk(json_t *obj, struct walk *w, berth_err *err)
{
	if (!json_is_object(obj))
		return berth_error_code(err, EINVAL, F ": must be an object");

	unsigned int kind;
	int r = parse_action(json_object_get(obj, "defaultAction"),
			     json_object_get(obj, "defaultErrnoRet"), F ".defaultAction",
			     F ".defaultErrnoRet", &w->default_action, &kind, err);
	if (r < 0)
		return r;
	if (kind & ACT_NOTIFY)
		return berth_error_code(err, EINVAL,
					F ".defaultAction: SCMP_ACT_NOTIFY cannot be the default: the "
					"container's init would block before the agent has the "
					"listener");

	json_t *arches = json_object_get(obj, "architectures");
	if (arches && !json_is_null(arches)) {
		if (!json_is_array(arches))
			return berth_error_code(err, EINVAL,
						F ".architectures: must be an array of strings");
		size_t i;
		json_t *a;
		json_array_foreach (arches, i, a) {
			const struct named *arch =
				json_is_string(a) ? lookup(arch_table, ARRAY_SIZE(arch_table),
							   json_string_value(a))
						  : NULL;
			if (!arch)
				return berth_error_code(err, EINVAL,
							F ".architectures[%zu]: unknown architecture %s",
							i, json_is_string(a) ? json_string_value(a)
									     : "(not a string)");
			if (w->ctx) {
				r = seccomp_arch_add(w->ctx, arch->value);
				if (r < 0 && r != -EEXIST)
					return berth_error(err, -r, F ".architectures[%zu]: adding %s",
							   i, arch->name);
			}
		}
	}

	w->flags = 0;
	json_t *flags = json_object_get(obj, "flags");
	if (flags && !json_is_null(flags)) {
		if (!json_is_array(flags))
			return berth_error_code(err, EINVAL, F ".flags: must be an array of strings");
		size_t i;
		json_t *f;
		json_array_foreach (flags, i, f) {
			const struct named *flag =
				json_is_string(f) ? lookup(flag_table, ARRAY_SIZE(flag_table),
							   json_string_value(f))
						  : NULL;
			if (!flag)
				return berth_error_code(err, EINVAL, F ".flags[%zu]: unknown flag %s",
							i,
							json_is_string(f) ? json_string_value(f)
									  : "(not a string)");
			if (!kernel_has_flag(flag->value))
				return berth_error_code(err, EINVAL,
							F ".flags[%zu]: %s is not supported by the "
							"running kernel",
							i, flag->name);
			w->flags |= flag->value;
		}
	}

	json_t *lpath = json_object_get(obj, "listenerPath");
	if (lpath && !json_is_null(lpath)) {
		if (!json_is_string(lpath) || json_string_length(lpath) == 0)
			return berth_error_code(err, EINVAL, F ".listenerPath: must be a path");
		struct sockaddr_un sun;
		if (json_string_length(lpath) >= sizeof(sun.sun_path))
			return berth_error_code(err, EINVAL,
						F ".listenerPath: longer than a unix socket path "
						"(%zu bytes)",
						sizeof(sun.sun_path) - 1);
	} else {
		lpath = NULL;
	}
	json_t *meta = json_object_get(obj, "listenerMetadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_string(meta))
			return berth_error_code(err, EINVAL, F ".listenerMetadata: must be a string");
		if (!lpath)
			return berth_error_code(err, EINVAL,
						F ".listenerMetadata: set without " F ".listenerPath");
	}

	w->notify = false;
	json_t *syscalls = json_object_get(obj, "syscalls");
	if (syscalls && !json_is_null(syscalls)) {
		if (!json_is_array(syscalls))
			return berth_error_code(err, EINVAL, F ".syscalls: must be an array");
		size_t i;
		json_t *sc;
		json_array_foreach (syscalls, i, sc) {
			r = walk_syscall(w, i, sc, err);
			if (r < 0)
				return r;
		}
	}
	if (w->notify && !lpath)
		return berth_error_code(err, EINVAL,
					F ".listenerPath: required when an action is SCMP_ACT_NOTIFY");
	if (!w->notify) {
		/* Meaningless without a listener, and the kernel refuses it alone. */
		w->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	} else {
		w->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* With TSYNC alone a failed sync returns a thread id, which the kernel
		 * cannot tell apart from the listener fd; TSYNC_ESRCH makes it an error. */
		if (w->flags & SECCOMP_FILTER_FLAG_TSYNC)
			w->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	return 0;
}

int seccomp_validate(json_t *seccomp, berth_err *err)
{
	struct walk w = { 0 };
	return walk(seccomp, &w, err);
}

/* A program read back from the cache or from libseccomp must look like one of
 * libseccomp's: whole instructions, within the kernel's limit, starting with the
 * architecture check and ending in a return. */
static bool bpf_plausible(const void *buf, size_t size)
{
	if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return false;
	const struct sock_filter *f = buf;
	size_t n = size / sizeof(*f);
	return f[0].code == (BPF_LD | BPF_W | BPF_ABS) &&
	       f[0].k == offsetof(struct seccomp_data, arch) && BPF_CLASS(f[n - 1].code) == BPF_RET;
}

static void cache_key(json_t *obj, char hex[SHA256_HEX_LEN + 1])
{
	_cleanup_free_ char *dump = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	const struct scmp_version *v = seccomp_version();
	_cleanup_free_ char *extra =
		xasprintf("\n%s arch=%#x libseccomp=%u.%u.%u", CACHE_FORMAT,
			  (unsigned int)seccomp_arch_native(), v ? v->major : 0, v ? v->minor : 0,
			  v ? v->micro : 0);
	struct sha256_ctx c;
	sha256_init(&c);
	if (dump)
		sha256_update(&c, dump, strlen(dump));
	sha256_update(&c, extra, strlen(extra));
	sha256_final_hex(&c, hex);
}

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int compile(json_t *obj, struct walk *w, void **insns, size_t *size, berth_err *err)
{
	if (!json_is_object(obj))
		return berth_error_code(err, EINVAL, F ": must be an object");
	/* The default is needed before the context exists; walk() checks it again. */
	uint32_t def;
	unsigned int kind;
	int r = parse_action(json_object_get(obj, "defaultAction"),
			     json_object_get(obj, "defaultErrnoRet"), F ".defaultAction",
			     F ".defaultErrnoRet", &def, &kind, err);
	if (r < 0)
		return r;
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return berth_error_code(err, EINVAL, F ".defaultAction: libseccomp rejected it");
	/* A binary search over syscall numbers instead of libseccomp's default
	 * linear chain: every syscall of the container runs the filter, and the
	 * kernel itself runs it once per syscall number when the filter is loaded
	 * (to build its cache of always-allowed calls): ~1.2 ms for a linear
	 * Docker-sized profile on this machine. Older libseccomp lacks the
	 * attribute; the linear program is still correct there. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	w->ctx = ctx;
	r = walk(obj, w, err);
	w->ctx = NULL;
	if (r < 0)
		return r;

	_cleanup_close_ int mfd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (mfd < 0)
		return berth_error_errno(err, F ": creating a memfd for the program");
	r = seccomp_export_bpf(ctx, mfd);
	if (r < 0)
		return berth_error(err, -r, F ": exporting the program");
	if (lseek(mfd, 0, SEEK_SET) < 0)
		return berth_error_errno(err, F ": rewinding the program");
	char *buf = NULL;
	size_t len = 0;
	r = fd_read_all(mfd, &buf, &len);
	if (r < 0)
		return berth_error(err, -r, F ": reading the program back");
	if (!bpf_plausible(buf, len)) {
		size_t n = len / sizeof(struct sock_filter);
		free(buf);
		if (n > BPF_MAXINSNS)
			return berth_error_code(err, E2BIG,
						F ": the compiled program has %zu instructions; the "
						"kernel allows %d",
						n, BPF_MAXINSNS);
		return berth_error_code(err, EINVAL,
					F ": libseccomp produced an unexpected program (%zu bytes)",
					len);
	}
	*insns = buf;
	*size = len;
	return 0;
}

static bool cache_load(int dirfd, const char *name, void **insns, size_t *size)
{
	berth_err ignored = BERTH_ERR_INIT;
	char *buf = NULL;
	size_t len = 0;
	if (file_read_at(dirfd, name, &buf, &len, &ignored) < 0) {
		berth_err_clear(&ignored);
		return false;
	}
	if (!bpf_plausible(buf, len)) {
		free(buf);
		return false;
	}
	*insns = buf;
	*size = len;
	return true;
}

static int open_cache_dir(const char *dir)
{
	int fd = TEMP_FAILURE_RETRY_INT(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0 && errno == ENOENT && mkdir(dir, 0700) == 0)
		fd = TEMP_FAILURE_RETRY_INT(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	return fd;
}

int seccomp_prepare(json_t *seccomp, const char *cache_dir, struct seccomp_prog **out,
		    berth_err *err)
{
	struct walk w = { 0 };
	void *insns = NULL;
	size_t size = 0;
	bool hit = false;
	_cleanup_close_ int dirfd = -1;
	char hex[SHA256_HEX_LEN + 1];
	char name[SHA256_HEX_LEN + 8];

	if (cache_dir) {
		cache_key(seccomp, hex);
		snprintf(name, sizeof(name), "%s.bpf", hex);
		dirfd = open_cache_dir(cache_dir);
		if (dirfd >= 0 && cache_load(dirfd, name, &insns, &size)) {
			/* Flags and notify come from the object, not the cache. */
			int r = walk(seccomp, &w, err);
			if (r < 0) {
				free(insns);
				return r;
			}
			hit = true;
		}
	}
	if (!hit) {
		int r = compile(seccomp, &w, &insns, &size, err);
		if (r < 0)
			return r;
		/* The cache only saves time: a read-only or full cache directory must
		 * not stop a container, so a failed write is dropped. */
		if (dirfd >= 0) {
			berth_err ignored = BERTH_ERR_INIT;
			if (file_write_atomic(dirfd, name, insns, size, 0600, &ignored) < 0)
				berth_err_clear(&ignored);
		}
	}

	struct seccomp_prog *p = xcalloc(1, sizeof(*p));
	p->insns = insns;
	p->len = size / sizeof(struct sock_filter);
	p->flags = w.flags;
	p->notify = w.notify;
	p->from_cache = hit;
	*out = p;
	return 0;
}

int seccomp_install(const struct seccomp_prog *p, int *listener_fd, berth_err *err)
{
	if (listener_fd)
		*listener_fd = -1;
	struct sock_fprog prog = {
		.len = (unsigned short)p->len,
		.filter = p->insns,
	};
	long r = TEMP_FAILURE_RETRY_INT(
		syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned long)p->flags, &prog));
	if (r < 0) {
		if (errno == EACCES)
			return berth_error_errno(err, "loading the seccomp filter (needs "
						      "no_new_privs or CAP_SYS_ADMIN)");
		return berth_error_errno(err, "loading the seccomp filter");
	}
	if (p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
		if (listener_fd)
			*listener_fd = (int)r;
		else
			close((int)r);
	} else if (r > 0) {
		return berth_error_code(err, EAGAIN,
					"loading the seccomp filter: thread %ld could not be "
					"synchronised (SECCOMP_FILTER_FLAG_TSYNC)",
					r);
	}
	return 0;
}

static int send_with_fd(int sock, int fd, const char *data, size_t len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));

	ssize_t n = TEMP_FAILURE_RETRY_INT(sendmsg(sock, &msg, MSG_NOSIGNAL));
	if (n < 0)
		return -errno;
	/* The spec allows several writes, with the fd only in the first one. */
	for (size_t done = (size_t)n; done < len; done += (size_t)n) {
		n = TEMP_FAILURE_RETRY_INT(send(sock, data + done, len - done, MSG_NOSIGNAL));
		if (n < 0)
			return -errno;
	}
	return 0;
}

int seccomp_notify_send(const char *listener_path, int listener_fd, const char *state_json,
			berth_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen = strlen(listener_path);
	if (plen == 0 || plen >= sizeof(sun.sun_path))
		return berth_error_code(err, EINVAL,
					F ".listenerPath: %s is not a usable unix socket path",
					listener_path);
	memcpy(sun.sun_path, listener_path, plen + 1);

	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return berth_error_errno(err, F ".listenerPath: creating a socket");
	if (TEMP_FAILURE_RETRY_INT(connect(sock, (struct sockaddr *)&sun, sizeof(sun))) < 0)
		return berth_error_errno(err, F ".listenerPath: connecting to %s", listener_path);
	int r = send_with_fd(sock, listener_fd, state_json, strlen(state_json));
	if (r < 0)
		return berth_error(err, -r, F ".listenerPath: sending the state to %s",
				   listener_path);
	return 0;
}

char *seccomp_notify_state(json_t *seccomp, int pid, json_t *state)
{
	json_t *o = json_object();
	json_object_set_new(o, "ociVersion", json_string(OCI_VERSION));
	json_t *fds = json_array();
	json_array_append_new(fds, json_string("seccompFd"));
	json_object_set_new(o, "fds", fds);
	json_object_set_new(o, "pid", json_integer(pid));
	json_t *meta = seccomp ? json_object_get(seccomp, "listenerMetadata") : NULL;
	if (json_is_string(meta))
		json_object_set(o, "metadata", meta);
	json_object_set_new(o, "state", state ? json_incref(state) : json_object());
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort(); /* jansson fails only without memory, fatal here as in xalloc */
	return s;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	if (!p)
		return;
	free(p->insns);
	free(p);
}
