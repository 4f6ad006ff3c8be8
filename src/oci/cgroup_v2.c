/* cgroup_v2.c - the driver for pure cgroup v2 hosts, and the v2 file writer
 * that hybrid hosts use for hugetlb and "unified" keys. v1-style values of
 * the OCI resources are converted as the runtime spec's users expect (the
 * same mapping runc and crun use): shares to weight, blkio weight to io.weight,
 * memory+swap to swap alone. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/mount.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "oci/cgroup_internal.h"

static int w(const char *dir, const char *file, const char *field, berth_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int w(const char *dir, const char *file, const char *field, berth_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *v = NULL;
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	return cg_write(dir, file, v ? v : "", field, err);
}

/* cpu.shares 2..262144 -> cpu.weight 1..10000 (crun's linear mapping). */
static unsigned long long shares_to_weight(unsigned long long shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static const char *max_or(long long v, char buf[32])
{
	if (v < 0)
		return "max";
	snprintf(buf, 32, "%lld", v);
	return buf;
}

int cg_v2_apply(const char *dir, json_t *res, bool only_unified_keys, berth_err *err)
{
	int r;
	char b1[32], b2[32];
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(res, "hugepageLimits"), i, o) {
		char file[96], field[64];
		snprintf(file, sizeof(file), "hugetlb.%s.max", json_string_value(json_object_get(o, "pageSize")));
		snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
		if ((r = w(dir, file, field, err, "%lld", (long long)json_integer_value(json_object_get(o, "limit")))) < 0)
			return r;
	}
	if (!only_unified_keys) {
		json_t *mem = json_object_get(res, "memory");
		json_t *lim = json_object_get(mem, "limit"), *swap = json_object_get(mem, "swap");
		if (lim && (r = cg_write(dir, "memory.max", max_or(json_integer_value(lim), b1), "linux.resources.memory.limit", err)) < 0)
			return r;
		if (swap) {
			long long s = json_integer_value(swap), l = lim ? json_integer_value(lim) : -1;
			long long only_swap = s < 0 ? -1 : (l < 0 ? s : s - l);
			if ((r = cg_write(dir, "memory.swap.max", max_or(only_swap, b1), "linux.resources.memory.swap", err)) < 0)
				return r;
		}
		json_t *resv = json_object_get(mem, "reservation");
		if (resv && (r = cg_write(dir, "memory.low", max_or(json_integer_value(resv), b1), "linux.resources.memory.reservation", err)) < 0)
			return r;
		json_t *kernel = json_object_get(mem, "kernel");
		if (kernel && json_integer_value(kernel) > 0)
			return berth_error_code(err, ENOTSUP, "linux.resources.memory.kernel: cgroup v2 has no kernel memory limit");
		if (json_is_true(json_object_get(mem, "disableOOMKiller")))
			return berth_error_code(err, ENOTSUP, "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
		json_t *cpu = json_object_get(res, "cpu");
		json_t *sh = json_object_get(cpu, "shares");
		if (sh && json_integer_value(sh) &&
		    (r = w(dir, "cpu.weight", "linux.resources.cpu.shares", err, "%llu",
			   shares_to_weight((unsigned long long)json_integer_value(sh)))) < 0)
			return r;
		json_t *q = json_object_get(cpu, "quota"), *p = json_object_get(cpu, "period");
		if (q && !json_integer_value(q))
			q = NULL; /* 0: not set, as on v1 */
		if (p && !json_integer_value(p))
			p = NULL;
		if (q || p) {
			/* cpu.max holds both: an update of one keeps the other in force. */
			char cur_quota[32] = "max";
			long long period = 100000;
			_cleanup_free_ char *cur = NULL;
			if ((!q || !p) && cg_read(dir, "cpu.max", &cur, NULL) == 0 &&
			    sscanf(cur, "%31s %lld", cur_quota, &period) < 1)
				snprintf(cur_quota, sizeof(cur_quota), "max");
			if (p)
				period = json_integer_value(p);
			const char *quota = q ? max_or(json_integer_value(q), b1) : cur_quota;
			if ((r = w(dir, "cpu.max", q ? "linux.resources.cpu.quota" : "linux.resources.cpu.period", err,
				   "%s %lld", quota, period)) < 0)
				return r;
		}
		json_t *burst = json_object_get(cpu, "burst");
		if (burst && (r = w(dir, "cpu.max.burst", "linux.resources.cpu.burst", err, "%lld", (long long)json_integer_value(burst))) < 0)
			return r;
		json_t *idle = json_object_get(cpu, "idle");
		if (idle && (r = w(dir, "cpu.idle", "linux.resources.cpu.idle", err, "%lld", (long long)json_integer_value(idle))) < 0)
			return r;
		const char *cpus = json_string_value(json_object_get(cpu, "cpus"));
		const char *mems = json_string_value(json_object_get(cpu, "mems"));
		if (cpus && *cpus && (r = cg_write(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus", err)) < 0)
			return r;
		if (mems && *mems && (r = cg_write(dir, "cpuset.mems", mems, "linux.resources.cpu.mems", err)) < 0)
			return r;
		json_t *pl = json_object_get(json_object_get(res, "pids"), "limit");
		if (pl && (r = cg_write(dir, "pids.max", max_or(json_integer_value(pl) <= 0 ? -1 : json_integer_value(pl), b2),
					"linux.resources.pids.limit", err)) < 0)
			return r;
		json_t *bw = json_object_get(json_object_get(res, "blockIO"), "weight");
		if (bw && json_integer_value(bw)) {
			/* blkio 10..1000 -> io.weight 1..10000 */
			long long v = 1 + (json_integer_value(bw) - 10) * 9999 / 990;
			if ((r = w(dir, "io.weight", "linux.resources.blockIO.weight", err, "default %lld", v)) < 0 &&
			    (r = w(dir, "io.bfq.weight", "linux.resources.blockIO.weight", err, "%lld", (long long)json_integer_value(bw))) < 0)
				return r;
		}
		static const struct { const char *key, *name; } thr[] = {
			{ "throttleReadBpsDevice", "rbps" }, { "throttleWriteBpsDevice", "wbps" },
			{ "throttleReadIOPSDevice", "riops" }, { "throttleWriteIOPSDevice", "wiops" },
		};
		for (size_t t = 0; t < ARRAY_SIZE(thr); t++)
			json_array_foreach (json_object_get(json_object_get(res, "blockIO"), thr[t].key), i, o) {
				char field[80];
				snprintf(field, sizeof(field), "linux.resources.blockIO.%s[%zu]", thr[t].key, i);
				if ((r = w(dir, "io.max", field, err, "%lld:%lld %s=%lld",
					   (long long)json_integer_value(json_object_get(o, "major")),
					   (long long)json_integer_value(json_object_get(o, "minor")), thr[t].name,
					   (long long)json_integer_value(json_object_get(o, "rate")))) < 0)
					return r;
			}
	}
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(res, "unified"), k, v) {
		char field[160];
		snprintf(field, sizeof(field), "linux.resources.unified.%s", k);
		if ((r = cg_write(dir, k, json_string_value(v), field, err)) < 0)
			return r;
	}
	return 0;
}

/* Controllers must be enabled in every ancestor's subtree_control. */
void cg_v2_enable_controllers(const char *mount, const char *dir)
{
	_cleanup_free_ char *avail = NULL;
	if (cg_read(mount, "cgroup.controllers", &avail, NULL) < 0)
		return;
	_cleanup_free_ char *copy = xstrdup(dir);
	size_t base = strlen(mount);
	for (char *p = copy + base;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (saved) {
			char *save = NULL;
			_cleanup_free_ char *list = xstrdup(avail);
			for (char *c = strtok_r(list, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
				_cleanup_free_ char *s = xasprintf("+%s", c);
				cg_write(copy, "cgroup.subtree_control", s, "cgroup.subtree_control", NULL);
			}
		}
		*p = saved;
		if (!saved)
			break;
	}
}

static int v2_create(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	struct cg_hier *h = cg_find(m, NULL);
	int r = cg_mkdir_p(h->dir, &h->made, err);
	if (r < 0)
		return r;
	cg_v2_enable_controllers(h->mount, h->dir);
	return pid > 0 ? cg_enter_all(m, pid, err) : 0;
}

static int v2_enter(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	return cg_enter_all(m, pid, err);
}

/* --- linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program ---------
 *
 * cgroup v2 has no devices.allow/deny files: the kernel asks an eBPF program
 * attached to the cgroup for each open and mknod of a device node. The rule
 * list is turned into one such program with v1's meaning: a later rule
 * overrides an earlier one, so the rules are tested last to first and the first
 * that matches decides. An allow rule matches a request whose access is within
 * its own; a deny rule matches a request asking for any access it names (a deny
 * of "w" refuses an O_RDWR open). No rule matching leaves the request allowed,
 * as v1's root cgroup does; a leading "deny all" is what closes the list. */

/* struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor. */
#define DEV_R1 1 /* the context pointer on entry */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

struct dev_rule {
	bool allow;
	char type;	      /* 'a', 'b', 'c' */
	long long major, minor; /* -1: any */
	unsigned access;      /* BPF_DEVCG_ACC_* bits */
};

static int dev_rules_parse(json_t *devices, struct dev_rule **out, size_t *n, berth_err *err)
{
	size_t i;
	json_t *o;
	*out = xcalloc(json_array_size(devices) + 1, sizeof(**out));
	*n = 0;
	json_array_foreach (devices, i, o) {
		struct dev_rule d = { .allow = json_is_true(json_object_get(o, "allow")), .type = 'a',
				      .major = -1, .minor = -1 };
		const char *t = json_string_value(json_object_get(o, "type"));
		if (t && (strlen(t) != 1 || !strchr("abc", t[0])))
			return berth_error_code(err, EINVAL, "linux.resources.devices[%zu].type: \"%s\" is not a, b or c",
						i, t);
		if (t)
			d.type = t[0];
		json_t *maj = json_object_get(o, "major"), *min = json_object_get(o, "minor");
		if (json_is_integer(maj) && json_integer_value(maj) >= 0)
			d.major = json_integer_value(maj);
		if (json_is_integer(min) && json_integer_value(min) >= 0)
			d.minor = json_integer_value(min);
		if (d.major > INT32_MAX || d.minor > INT32_MAX)
			return berth_error_code(err, ERANGE, "linux.resources.devices[%zu]: major/minor out of range", i);
		const char *acc = json_string_value(json_object_get(o, "access"));
		for (const char *p = acc ? acc : "rwm"; *p; p++) {
			if (*p == 'r')
				d.access |= BPF_DEVCG_ACC_READ;
			else if (*p == 'w')
				d.access |= BPF_DEVCG_ACC_WRITE;
			else if (*p == 'm')
				d.access |= BPF_DEVCG_ACC_MKNOD;
			else
				return berth_error_code(err, EINVAL,
							"linux.resources.devices[%zu].access: \"%s\" is not a subset of rwm",
							i, acc);
		}
		(*out)[(*n)++] = d;
	}
	return 0;
}

/* The program for rules; *len instructions, malloc'd. */
static struct bpf_insn *dev_program(const struct dev_rule *rules, size_t n, size_t *len)
{
	const unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	struct bpf_insn *p = xcalloc(6 + n * 10 + 2, sizeof(*p));
	size_t k = 0;
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 2, DEV_R1, 0, 0);
	p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
	p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	p[k++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 4, DEV_R1, 4, 0);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 5, DEV_R1, 8, 0);
	for (size_t i = n; i-- > 0;) {
		const struct dev_rule *d = &rules[i];
		/* With all of rwm, an allow holds every request and a deny meets every one. */
		bool check_acc = (d->access & all) != all;
		size_t blk = (d->type != 'a') + (check_acc ? 3 : 0) + (d->major >= 0) + (d->minor >= 0) + 2;
		size_t end = k + blk; /* the first instruction after this rule's block */
#define SKIP_REST() ((int16_t)(end - (k + 1)))
		if (d->type != 'a') {
			int t = d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
			p[k] = insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, SKIP_REST(), t);
			k++;
		}
		if (check_acc) {
			p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0);
			if (d->allow) {
				/* some access asked for is outside the rule's: not this rule */
				p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)(~d->access & all));
				p[k] = insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, SKIP_REST(), 0);
			} else {
				/* none of the rule's access is asked for: not this rule */
				p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)(d->access & all));
				p[k] = insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SKIP_REST(), 0);
			}
			k++;
		}
		if (d->major >= 0) {
			p[k] = insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, SKIP_REST(), (int32_t)d->major);
			k++;
		}
		if (d->minor >= 0) {
			p[k] = insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, SKIP_REST(), (int32_t)d->minor);
			k++;
		}
#undef SKIP_REST
		p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0);
		p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* A rule that matches everything ends the program: the verifier
		 * refuses code that can never run. */
		if (blk == 2) {
			*len = k;
			return p;
		}
	}
	p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*len = k;
	return p;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	long r;
	do
		r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
	while (r < 0 && errno == EINTR);
	return r;
}

int cg_v2_devices_apply(const char *dir, json_t *devices, berth_err *err)
{
	_cleanup_free_ struct dev_rule *rules = NULL;
	size_t n = 0, len = 0;
	int r = dev_rules_parse(devices, &rules, &n, err);
	if (r < 0)
		return r;
	_cleanup_free_ struct bpf_insn *prog = dev_program(rules, n, &len);
	_cleanup_free_ char *log = xcalloc(1, 4096);
	union bpf_attr attr = { 0 };
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)len;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = 4096;
	attr.log_level = 1;
	_cleanup_close_ int pfd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (pfd < 0 && errno == ENOSPC) { /* the log was too small; the reason is the errno anyway */
		attr.log_buf = 0, attr.log_size = 0, attr.log_level = 0;
		pfd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	}
	log[strcspn(log, "\n")] = '\0'; /* the verifier's first line says why */
	if (pfd < 0)
		return berth_error_errno(err, "linux.resources.devices: loading the cgroup v2 device filter (eBPF)%s%s",
					 *log ? ": " : "", log);
	_cleanup_close_ int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return berth_error_errno(err, "linux.resources.devices: opening %s", dir);

	/* What is attached now (an earlier create or update): replaced once the new
	 * filter is in, so there is no moment without one. */
	uint32_t old_ids[64], n_old = ARRAY_SIZE(old_ids);
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cg;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
	attr.query.prog_cnt = n_old;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return berth_error_errno(err, "linux.resources.devices: listing the device filters of %s", dir);
	n_old = attr.query.prog_cnt < ARRAY_SIZE(old_ids) ? attr.query.prog_cnt : ARRAY_SIZE(old_ids);

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cg;
	attr.attach_bpf_fd = (uint32_t)pfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return berth_error_errno(err, "linux.resources.devices: attaching the device filter to %s", dir);
	for (uint32_t i = 0; i < n_old; i++) {
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = old_ids[i];
		_cleanup_close_ int ofd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (ofd < 0)
			continue; /* gone meanwhile */
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)cg;
		attr.attach_bpf_fd = (uint32_t)ofd;
		attr.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
			return berth_error_errno(err, "linux.resources.devices: removing the previous device filter of %s",
						 dir);
	}
	return 0;
}

static int v2_apply(struct cgroup_manager *m, json_t *res, berth_err *err)
{
	const char *dir = cg_find(m, NULL)->dir;
	json_t *devs = json_object_get(res, "devices");
	int r;
	if (devs && (r = cg_v2_devices_apply(dir, devs, err)) < 0)
		return r;
	return cg_v2_apply(dir, res, false, err);
}

static int v2_freeze(struct cgroup_manager *m, bool freeze, berth_err *err)
{
	struct cg_hier *h = cg_find(m, NULL);
	int r = cg_write(h->dir, "cgroup.freeze", freeze ? "1" : "0", "cgroup.freeze", err);
	if (r < 0)
		return r;
	for (int i = 0; i < 1000; i++) {
		_cleanup_free_ char *ev = NULL;
		if ((r = cg_read(h->dir, "cgroup.events", &ev, err)) < 0)
			return r;
		if (strstr(ev, freeze ? "frozen 1" : "frozen 0"))
			return 0;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return berth_error_code(err, ETIMEDOUT, "the container did not %s", freeze ? "freeze" : "thaw");
}

static int v2_is_frozen(struct cgroup_manager *m, bool *frozen, berth_err *err)
{
	_cleanup_free_ char *v = NULL;
	*frozen = false;
	int r = cg_read(cg_find(m, NULL)->dir, "cgroup.freeze", &v, err);
	if (r < 0)
		return r;
	*frozen = strcmp(v, "1") == 0;
	return 0;
}

static int v2_pids(struct cgroup_manager *m, pid_t **pids, size_t *n, berth_err *err)
{
	return cg_read_pids(cg_find(m, NULL)->dir, pids, n, err);
}

static int v2_destroy(struct cgroup_manager *m, berth_err *err)
{
	return cg_destroy_all(m, err);
}

static json_t *num(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *v = NULL;
	if (cg_read(dir, file, &v, NULL) < 0)
		return json_integer(0);
	if (key) {
		char *p = strstr(v, key);
		return json_integer(p ? (json_int_t)strtoull(p + strlen(key), NULL, 10) : 0);
	}
	return json_integer((json_int_t)strtoull(v, NULL, 10));
}

static int v2_stats(struct cgroup_manager *m, json_t **out, berth_err *err)
{
	const char *d = cg_find(m, NULL)->dir;
	*out = json_pack("{s:{s:{s:o}},s:{s:{s:o,s:o,s:o}},s:{s:o,s:o}}", "cpu", "usage", "total",
			 num(d, "cpu.stat", "usage_usec "), "memory", "usage", "usage", num(d, "memory.current", NULL),
			 "limit", num(d, "memory.max", NULL), "max", num(d, "memory.peak", NULL), "pids", "current",
			 num(d, "pids.current", NULL), "limit", num(d, "pids.max", NULL));
	return *out ? 0 : berth_error_code(err, EINVAL, "cannot build the statistics");
}

static int v2_mount(struct cgroup_manager *m, int destfd, const char *dest, unsigned long flags, bool new_cgroupns,
		    berth_err *err)
{
	char target[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", destfd);
	unsigned long f = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
	if (new_cgroupns) {
		if (mount("cgroup2", target, "cgroup2", f, NULL) < 0)
			return berth_error_errno(err, "cgroup mount at %s", dest);
		return 0;
	}
	_cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, cg_find(m, NULL)->dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return berth_error_errno(err, "cgroup mount at %s: open_tree", dest);
	struct mount_attr attr = { 0 };
	if (f & MS_RDONLY)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (f & MS_NOSUID)
		attr.attr_set |= MOUNT_ATTR_NOSUID;
	if (f & MS_NODEV)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (f & MS_NOEXEC)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (attr.attr_set && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return berth_error_errno(err, "cgroup mount at %s: mount_setattr", dest);
	if (syscall(SYS_move_mount, tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_errno(err, "cgroup mount at %s: move_mount", dest);
	return 0;
}

const struct cgroup_ops cgroup_v2_ops = {
	.name = "cgroupfs-v2",
	.create = v2_create,
	.enter = v2_enter,
	.apply = v2_apply,
	.freeze = v2_freeze,
	.is_frozen = v2_is_frozen,
	.pids = v2_pids,
	.destroy = v2_destroy,
	.stats = v2_stats,
	.mount = v2_mount,
};
