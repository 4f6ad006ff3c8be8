/* caps.c - capability names, the spec's five sets, and applying them to the calling thread.
 *
 * Names come from a table built on the kernel header's constants, so a name
 * and its number cannot drift apart. Sets are 64-bit masks: the kernel's
 * capability numbers are far below 64.
 *
 * What a runtime cannot grant it reports: on some hosts the runtime itself
 * runs without a capability (CAP_SYS_RESOURCE is missing from the bounding
 * set on Berth's own machines), and a container asking for it must get an
 * error naming the capability rather than a bare EPERM from capset(2).
 */
#include "oci/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

static const char *const cap_names[] = {
	[CAP_CHOWN] = "CAP_CHOWN",
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_FOWNER] = "CAP_FOWNER",
	[CAP_FSETID] = "CAP_FSETID",
	[CAP_KILL] = "CAP_KILL",
	[CAP_SETGID] = "CAP_SETGID",
	[CAP_SETUID] = "CAP_SETUID",
	[CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
	[CAP_NET_ADMIN] = "CAP_NET_ADMIN",
	[CAP_NET_RAW] = "CAP_NET_RAW",
	[CAP_IPC_LOCK] = "CAP_IPC_LOCK",
	[CAP_IPC_OWNER] = "CAP_IPC_OWNER",
	[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
	[CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
	[CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
	[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_PACCT] = "CAP_SYS_PACCT",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
	[CAP_SYS_BOOT] = "CAP_SYS_BOOT",
	[CAP_SYS_NICE] = "CAP_SYS_NICE",
	[CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_SYS_TIME] = "CAP_SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
	[CAP_MKNOD] = "CAP_MKNOD",
	[CAP_LEASE] = "CAP_LEASE",
	[CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
	[CAP_SETFCAP] = "CAP_SETFCAP",
	[CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
	[CAP_SYSLOG] = "CAP_SYSLOG",
	[CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "CAP_AUDIT_READ",
	[CAP_PERFMON] = "CAP_PERFMON",
	[CAP_BPF] = "CAP_BPF",
	[CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
	NULL, /* terminator for caps_all_names() */
};

/* A kernel header with a capability this table lacks must fail the build, not
 * leave a NULL hole in the middle of the table. */
_Static_assert(ARRAY_SIZE(cap_names) == CAP_LAST_CAP + 2, "cap_names out of date with CAP_LAST_CAP");
_Static_assert(CAP_LAST_CAP < 64, "capability sets are 64-bit masks");

#define CAP_BIT(c) (UINT64_C(1) << (c))

static const struct {
	const char *key;
	size_t offset;
} cap_set_fields[] = {
	{ "bounding", offsetof(struct caps_sets, bounding) },
	{ "effective", offsetof(struct caps_sets, effective) },
	{ "inheritable", offsetof(struct caps_sets, inheritable) },
	{ "permitted", offsetof(struct caps_sets, permitted) },
	{ "ambient", offsetof(struct caps_sets, ambient) },
};

static uint64_t *set_field(struct caps_sets *s, size_t i)
{
	return (uint64_t *)((char *)s + cap_set_fields[i].offset);
}

static uint64_t set_field_const(const struct caps_sets *s, size_t i)
{
	return *(const uint64_t *)((const char *)s + cap_set_fields[i].offset);
}

int cap_number(const char *name)
{
	if (!name || strncasecmp(name, "CAP_", 4) != 0)
		return -EINVAL;
	for (int i = 0; i <= CAP_LAST_CAP; i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *cap_name(int cap)
{
	if (cap < 0 || cap > CAP_LAST_CAP)
		return NULL;
	return cap_names[cap];
}

int cap_last_cap(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;

	int last = CAP_LAST_CAP;
	_cleanup_close_ int fd = TEMP_FAILURE_RETRY_INT(
		open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC));
	if (fd >= 0) {
		char buf[32];
		ssize_t n = TEMP_FAILURE_RETRY_INT(read(fd, buf, sizeof(buf) - 1));
		if (n > 0) {
			buf[n] = '\0';
			char *end;
			errno = 0;
			long v = strtol(buf, &end, 10);
			if (errno == 0 && end != buf && v >= 0 && v < 64)
				last = (int)v;
		}
	} else {
		/* No /proc (early in a container's init): probe the bounding set, which
		 * answers EINVAL past the kernel's last capability. */
		last = 0;
		while (last < 63 && prctl(PR_CAPBSET_READ, (unsigned long)last + 1, 0, 0, 0) >= 0)
			last++;
	}
	/* Capabilities the kernel knows but our table does not cannot be named; the
	 * masks still cover them up to 63. */
	cached = last;
	return cached;
}

/* Mask of the capabilities both we and the running kernel know. */
static uint64_t known_mask(void)
{
	int last = cap_last_cap();
	if (last > CAP_LAST_CAP)
		last = CAP_LAST_CAP;
	return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

int caps_from_json(json_t *caps, const char *field, struct caps_sets *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!field)
		field = "process.capabilities";
	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return berth_error_code(err, EINVAL, "%s: must be an object", field);

	uint64_t kernel = known_mask();
	for (size_t i = 0; i < ARRAY_SIZE(cap_set_fields); i++) {
		json_t *arr = json_object_get(caps, cap_set_fields[i].key);
		if (!arr || json_is_null(arr))
			continue;
		if (!json_is_array(arr))
			return berth_error_code(err, EINVAL, "%s.%s: must be an array of strings", field,
					   cap_set_fields[i].key);
		uint64_t mask = 0;
		size_t idx;
		json_t *v;
		json_array_foreach (arr, idx, v) {
			if (!json_is_string(v))
				return berth_error_code(err, EINVAL, "%s.%s[%zu]: must be a string",
						   field, cap_set_fields[i].key, idx);
			int c = cap_number(json_string_value(v));
			if (c < 0)
				return berth_error_code(err, EINVAL, "%s.%s[%zu]: unknown capability %s",
						   field, cap_set_fields[i].key, idx,
						   json_string_value(v));
			/* A capability newer than the running kernel: the kernel cannot
			 * grant it and nothing can rely on it, so it is left out (as runc
			 * does) instead of failing every container on an older host. */
			if (CAP_BIT(c) & kernel)
				mask |= CAP_BIT(c);
		}
		*set_field(out, i) = mask;
	}
	return 0;
}

static uint64_t read_bounding(void)
{
	uint64_t mask = 0;
	int last = cap_last_cap();
	for (int c = 0; c <= last && c < 64; c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
			mask |= CAP_BIT(c);
	return mask;
}

char *caps_mask_names(uint64_t mask)
{
	char *out = xstrdup("");
	size_t len = 0;
	for (int c = 0; c < 64; c++) {
		if (!(mask & CAP_BIT(c)))
			continue;
		_cleanup_free_ char *num = NULL;
		const char *name = cap_name(c);
		if (!name)
			name = num = xasprintf("capability %d", c);
		size_t add = strlen(name) + (len ? 2 : 0);
		out = xrealloc(out, len + add + 1);
		if (len) {
			memcpy(out + len, ", ", 2);
			len += 2;
		}
		memcpy(out + len, name, strlen(name) + 1);
		len += strlen(name);
	}
	return out;
}

int caps_filter_available(struct caps_sets *s, uint64_t *missing)
{
	uint64_t have = read_bounding();
	uint64_t lost = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cap_set_fields); i++) {
		uint64_t *m = set_field(s, i);
		lost |= *m & ~have;
		*m &= have;
	}
	if (missing)
		*missing = lost;
	return 0;
}

int caps_drop_bounding(const struct caps_sets *s, berth_err *err)
{
	int last = cap_last_cap();
	for (int c = 0; c <= last && c < 64; c++) {
		if (s->bounding & CAP_BIT(c))
			continue;
		int in = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);
		if (in < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			return berth_error_errno(err, "reading the bounding set for %s",
						 cap_name(c) ? cap_name(c) : "a capability");
		}
		if (in == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
			if (cap_name(c))
				return berth_error_errno(
					err, "process.capabilities.bounding: dropping %s",
					cap_name(c));
			return berth_error_errno(
				err, "process.capabilities.bounding: dropping capability %d", c);
		}
	}
	/* A requested bounding capability the runtime lacks is not an error: the
	 * bounding set is a limit, and the missing capability is simply not there.
	 * Sets that grant a capability are checked in caps_apply(). */
	return 0;
}

static int fill_cap_flag(cap_t c, cap_flag_t flag, uint64_t mask)
{
	for (int i = 0; i < 64; i++) {
		if (!(mask & CAP_BIT(i)))
			continue;
		cap_value_t v = i;
		if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

int caps_apply(const struct caps_sets *s, berth_err *err)
{
	uint64_t kernel = known_mask();
	uint64_t wanted = (s->effective | s->permitted | s->inheritable | s->ambient) & kernel;

	__attribute__((cleanup(cap_freep))) cap_t cur = cap_get_proc();
	if (!cur)
		return berth_error_errno(err, "reading the runtime's capabilities");
	uint64_t held = 0;
	for (int c = 0; c < 64; c++) {
		if (!(kernel & CAP_BIT(c)))
			continue;
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(cur, (cap_value_t)c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			held |= CAP_BIT(c);
	}
	uint64_t missing = wanted & ~held;
	if (missing) {
		_cleanup_free_ char *names = caps_mask_names(missing);
		uint64_t bnd = read_bounding();
		return berth_error_code(err, EPERM,
				   "process.capabilities: cannot grant %s: not in the runtime's %s set",
				   names, (missing & ~bnd) ? "bounding" : "permitted");
	}
	uint64_t extra = s->effective & ~s->permitted & kernel;
	if (extra) {
		_cleanup_free_ char *names = caps_mask_names(extra);
		return berth_error_code(err, EINVAL,
				   "process.capabilities.effective: %s not in permitted", names);
	}
	uint64_t amb = s->ambient & kernel;
	uint64_t amb_bad = amb & ~(s->permitted & s->inheritable);
	if (amb_bad) {
		_cleanup_free_ char *names = caps_mask_names(amb_bad);
		return berth_error_code(
			err, EINVAL,
			"process.capabilities.ambient: %s must also be permitted and inheritable",
			names);
	}

	__attribute__((cleanup(cap_freep))) cap_t c = cap_init();
	if (!c)
		return berth_error_errno(err, "allocating a capability state");
	int r;
	if ((r = fill_cap_flag(c, CAP_EFFECTIVE, s->effective & kernel)) < 0 ||
	    (r = fill_cap_flag(c, CAP_PERMITTED, s->permitted & kernel)) < 0 ||
	    (r = fill_cap_flag(c, CAP_INHERITABLE, s->inheritable & kernel)) < 0)
		return berth_error(err, -r, "building the capability sets");
	if (cap_set_proc(c) < 0)
		return berth_error_errno(err, "process.capabilities: setting capabilities");

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return berth_error_errno(err, "process.capabilities.ambient: clearing");
	for (int i = 0; i < 64; i++) {
		if (!(amb & CAP_BIT(i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)i, 0, 0) < 0)
			return berth_error_errno(err, "process.capabilities.ambient: raising %s",
						 cap_name(i));
	}
	return 0;
}

json_t *caps_to_json(const struct caps_sets *s)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(cap_set_fields); i++) {
		json_t *arr = json_array();
		uint64_t m = set_field_const(s, i);
		for (int c = 0; c <= CAP_LAST_CAP; c++)
			if (m & CAP_BIT(c))
				json_array_append_new(arr, json_string(cap_names[c]));
		json_object_set_new(obj, cap_set_fields[i].key, arr);
	}
	return obj;
}

const char *const *caps_all_names(void)
{
	return cap_names;
}
