/* cgroup_v1.c - the driver for legacy and hybrid hosts: resources through the
 * v1 controllers; in hybrid mode the container also gets a directory in the
 * v2 hierarchy (for hugetlb and "unified" keys), as systemd expects. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "oci/cgroup_internal.h"

/* cpuset.cpus and cpuset.mems start empty in a new v1 cpuset cgroup, and no
 * task may join until they are set: copy them down level by level. */
static int cpuset_inherit(const char *mount, const char *dir, berth_err *err)
{
	_cleanup_free_ char *copy = xstrdup(dir);
	size_t base = strlen(mount);
	if (strlen(copy) <= base)
		return 0;
	for (char *p = copy + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		_cleanup_free_ char *parent = xstrdup(copy);
		*strrchr(parent, '/') = '\0';
		static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
		for (size_t i = 0; i < 2; i++) {
			_cleanup_free_ char *cur = NULL, *up = NULL;
			if (cg_read(copy, files[i], &cur, NULL) == 0 && *cur)
				continue;
			int r = cg_read(parent, files[i], &up, err);
			if (r < 0)
				return r;
			if ((r = cg_write(copy, files[i], up, "linux.resources.cpu", err)) < 0)
				return r;
		}
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static int v1_create(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	for (size_t i = 0; i < m->nh; i++) {
		int r = cg_mkdir_p(m->h[i].dir, &m->h[i].made, err);
		if (r < 0)
			return r;
		if (m->h[i].v2)
			cg_v2_enable_controllers(m->h[i].mount, m->h[i].dir); /* hybrid: hugetlb lives there */
		if (!m->h[i].v2 && strcmp(m->h[i].name, "cpuset") == 0 &&
		    (r = cpuset_inherit(m->h[i].mount, m->h[i].dir, err)) < 0)
			return r;
	}
	return pid > 0 ? cg_enter_all(m, pid, err) : 0;
}

static int v1_enter(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	return cg_enter_all(m, pid, err);
}

/* In linux.resources 0 means "not set" for every limit (runc and docker
 * pass 0 for what the user left alone), except swappiness and idle, where
 * 0 is a value. */
static json_t *nz(json_t *v)
{
	return v && json_integer_value(v) != 0 ? v : NULL;
}

static json_t *swappiness(json_t *v)
{
	return v && json_integer_value(v) >= 0 && json_integer_value(v) <= 100 ? v : NULL;
}

static int wr_int(struct cgroup_manager *m, const char *ctrl, const char *file, json_t *v,
		  const char *field, berth_err *err)
{
	if (!v)
		return 0;
	struct cg_hier *h = cg_find(m, ctrl);
	if (!h)
		return berth_error_code(err, ENOTSUP, "%s: this host has no %s cgroup controller", field, ctrl);
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	return cg_write(h->dir, file, buf, field, err);
}

static int wr_str(struct cgroup_manager *m, const char *ctrl, const char *file, const char *v,
		  const char *field, berth_err *err)
{
	if (!v)
		return 0;
	struct cg_hier *h = cg_find(m, ctrl);
	if (!h)
		return berth_error_code(err, ENOTSUP, "%s: this host has no %s cgroup controller", field, ctrl);
	return cg_write(h->dir, file, v, field, err);
}

static int apply_memory(struct cgroup_manager *m, json_t *mem, berth_err *err)
{
	if (!mem)
		return 0;
	int r;
	json_t *limit = nz(json_object_get(mem, "limit")), *swap = nz(json_object_get(mem, "swap"));
	struct cg_hier *h = cg_find(m, "memory");
	if (!h)
		return berth_error_code(err, ENOTSUP, "linux.resources.memory: this host has no memory cgroup controller");
	if (swap) {
		_cleanup_free_ char *path = xasprintf("%s/memory.memsw.limit_in_bytes", h->dir);
		if (access(path, F_OK) < 0)
			return berth_error_code(err, ENOTSUP,
						"linux.resources.memory.swap: this host has no swap accounting (memory.memsw.limit_in_bytes; boot with swapaccount=1)");
	}
	/* memsw must stay >= limit at every step: raise memsw first when growing. */
	bool memsw_first = false;
	if (limit && swap) {
		_cleanup_free_ char *cur = NULL;
		if (cg_read(h->dir, "memory.memsw.limit_in_bytes", &cur, NULL) == 0)
			memsw_first = json_integer_value(swap) == -1 ||
				      (unsigned long long)json_integer_value(swap) > strtoull(cur, NULL, 10);
	}
	if (memsw_first && (r = wr_int(m, "memory", "memory.memsw.limit_in_bytes", swap, "linux.resources.memory.swap", err)) < 0)
		return r;
	if ((r = wr_int(m, "memory", "memory.limit_in_bytes", limit, "linux.resources.memory.limit", err)) < 0)
		return r;
	if (!memsw_first && (r = wr_int(m, "memory", "memory.memsw.limit_in_bytes", swap, "linux.resources.memory.swap", err)) < 0)
		return r;
	if ((r = wr_int(m, "memory", "memory.soft_limit_in_bytes", nz(json_object_get(mem, "reservation")),
			"linux.resources.memory.reservation", err)) < 0)
		return r;
	json_t *kernel = json_object_get(mem, "kernel");
	if (kernel && json_integer_value(kernel) > 0)
		return berth_error_code(err, ENOTSUP,
					"linux.resources.memory.kernel: kernel memory limits are not supported by this kernel (removed in Linux 6.x)");
	if ((r = wr_int(m, "memory", "memory.kmem.tcp.limit_in_bytes", nz(json_object_get(mem, "kernelTCP")),
			"linux.resources.memory.kernelTCP", err)) < 0 ||
	    (r = wr_int(m, "memory", "memory.swappiness", swappiness(json_object_get(mem, "swappiness")),
			"linux.resources.memory.swappiness", err)) < 0)
		return r;
	if (json_is_true(json_object_get(mem, "disableOOMKiller")) &&
	    (r = wr_str(m, "memory", "memory.oom_control", "1", "linux.resources.memory.disableOOMKiller", err)) < 0)
		return r;
	return 0;
}

/* RT group scheduling: a cgroup's RT budget cannot exceed its parent's, and a
 * new cgroup starts with none. So every ancestor between the hierarchy root
 * and the container whose budget is smaller is raised to it, top down; none
 * is ever lowered, and the root is left alone. */
static int apply_rt(struct cgroup_manager *m, json_t *cpu, berth_err *err)
{
	json_t *per = nz(json_object_get(cpu, "realtimePeriod")), *run = nz(json_object_get(cpu, "realtimeRuntime"));
	if (!per && !run)
		return 0;
	struct cg_hier *h = cg_find(m, "cpu");
	if (!h)
		return berth_error_code(err, ENOTSUP, "linux.resources.cpu.realtimeRuntime: this host has no cpu cgroup controller");
	_cleanup_free_ char *dir = xstrdup(h->dir);
	size_t base = strlen(h->mount);
	for (char *p = dir + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		bool leaf = saved == '\0';
		char buf[32];
		int r;
		if (per && leaf) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(per));
			if ((r = cg_write(dir, "cpu.rt_period_us", buf, "linux.resources.cpu.realtimePeriod", err)) < 0)
				return r;
		}
		if (run) {
			_cleanup_free_ char *cur = NULL;
			long long want = json_integer_value(run);
			if (leaf || (cg_read(dir, "cpu.rt_runtime_us", &cur, NULL) == 0 && strtoll(cur, NULL, 10) >= 0 &&
				     strtoll(cur, NULL, 10) < want)) {
				snprintf(buf, sizeof(buf), "%lld", want);
				if ((r = cg_write(dir, "cpu.rt_runtime_us", buf, "linux.resources.cpu.realtimeRuntime", err)) < 0)
					return r;
			}
		}
		*p = saved;
		if (leaf)
			break;
	}
	return 0;
}

static int apply_cpu(struct cgroup_manager *m, json_t *cpu, berth_err *err)
{
	if (!cpu)
		return 0;
	int r;
	if ((r = apply_rt(m, cpu, err)) < 0)
		return r;
	if ((r = wr_int(m, "cpu", "cpu.shares", nz(json_object_get(cpu, "shares")), "linux.resources.cpu.shares", err)) < 0 ||
	    (r = wr_int(m, "cpu", "cpu.cfs_period_us", nz(json_object_get(cpu, "period")), "linux.resources.cpu.period", err)) < 0 ||
	    (r = wr_int(m, "cpu", "cpu.cfs_quota_us", nz(json_object_get(cpu, "quota")), "linux.resources.cpu.quota", err)) < 0 ||
	    (r = wr_int(m, "cpu", "cpu.cfs_burst_us", nz(json_object_get(cpu, "burst")), "linux.resources.cpu.burst", err)) < 0 ||
	    (r = wr_int(m, "cpu", "cpu.idle", json_object_get(cpu, "idle"), "linux.resources.cpu.idle", err)) < 0)
		return r;
	const char *cpus = json_string_value(json_object_get(cpu, "cpus"));
	const char *mems = json_string_value(json_object_get(cpu, "mems"));
	if ((cpus && *cpus && (r = wr_str(m, "cpuset", "cpuset.cpus", cpus, "linux.resources.cpu.cpus", err)) < 0) ||
	    (mems && *mems && (r = wr_str(m, "cpuset", "cpuset.mems", mems, "linux.resources.cpu.mems", err)) < 0))
		return r;
	return 0;
}

static int apply_blkio(struct cgroup_manager *m, json_t *blk, berth_err *err)
{
	if (!blk)
		return 0;
	struct cg_hier *h = cg_find(m, "blkio");
	if (!h)
		return berth_error_code(err, ENOTSUP, "linux.resources.blockIO: this host has no blkio cgroup controller");
	int r;
	json_t *w = nz(json_object_get(blk, "weight"));
	if (w) {
		/* CFQ's blkio.weight is gone from current kernels; BFQ's takes its place. */
		_cleanup_free_ char *p = xasprintf("%s/blkio.weight", h->dir);
		const char *file = access(p, F_OK) == 0 ? "blkio.weight" : "blkio.bfq.weight";
		if ((r = wr_int(m, "blkio", file, w, "linux.resources.blockIO.weight", err)) < 0)
			return r;
	}
	if ((r = wr_int(m, "blkio", "blkio.leaf_weight", nz(json_object_get(blk, "leafWeight")), "linux.resources.blockIO.leafWeight", err)) < 0)
		return r;
	static const struct { const char *key, *file; } lists[] = {
		{ "throttleReadBpsDevice", "blkio.throttle.read_bps_device" },
		{ "throttleWriteBpsDevice", "blkio.throttle.write_bps_device" },
		{ "throttleReadIOPSDevice", "blkio.throttle.read_iops_device" },
		{ "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device" },
		{ "weightDevice", "blkio.weight_device" },
	};
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		size_t i;
		json_t *o;
		json_array_foreach (json_object_get(blk, lists[l].key), i, o) {
			json_t *val = json_object_get(o, l == 4 ? "weight" : "rate");
			if (!val)
				continue;
			char line[96], field[96];
			snprintf(line, sizeof(line), "%lld:%lld %lld", (long long)json_integer_value(json_object_get(o, "major")),
				 (long long)json_integer_value(json_object_get(o, "minor")), (long long)json_integer_value(val));
			snprintf(field, sizeof(field), "linux.resources.blockIO.%s[%zu]", lists[l].key, i);
			const char *file = lists[l].file;
			_cleanup_free_ char *p = xasprintf("%s/%s", h->dir, file);
			if (l == 4 && access(p, F_OK) < 0)
				file = "blkio.bfq.weight_device";
			if ((r = cg_write(h->dir, file, line, field, err)) < 0)
				return r;
		}
	}
	return 0;
}

static int apply_devices(struct cgroup_manager *m, json_t *devs, berth_err *err)
{
	if (!devs)
		return 0;
	struct cg_hier *h = cg_find(m, "devices");
	if (!h)
		return berth_error_code(err, ENOTSUP, "linux.resources.devices: this host has no devices cgroup controller");
	size_t i;
	json_t *o;
	json_array_foreach (devs, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *acc = json_string_value(json_object_get(o, "access"));
		json_t *maj = json_object_get(o, "major"), *min = json_object_get(o, "minor");
		char majs[24] = "*", mins[24] = "*", rule[80], field[64];
		if (json_is_integer(maj) && json_integer_value(maj) >= 0)
			snprintf(majs, sizeof(majs), "%lld", (long long)json_integer_value(maj));
		if (json_is_integer(min) && json_integer_value(min) >= 0)
			snprintf(mins, sizeof(mins), "%lld", (long long)json_integer_value(min));
		if (!type || strcmp(type, "a") == 0)
			snprintf(rule, sizeof(rule), "a");
		else
			snprintf(rule, sizeof(rule), "%s %s:%s %s", type, majs, mins, acc ? acc : "rwm");
		if (type && strcmp(type, "a") == 0 && acc && strcmp(acc, "rwm") != 0)
			snprintf(rule, sizeof(rule), "a *:* %s", acc);
		snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
		bool allow = json_is_true(json_object_get(o, "allow"));
		int r = cg_write(h->dir, allow ? "devices.allow" : "devices.deny", rule, field, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v1_apply(struct cgroup_manager *m, json_t *res, berth_err *err)
{
	int r;
	if ((r = apply_memory(m, json_object_get(res, "memory"), err)) < 0 ||
	    (r = apply_cpu(m, json_object_get(res, "cpu"), err)) < 0 ||
	    (r = apply_blkio(m, json_object_get(res, "blockIO"), err)) < 0 ||
	    (r = apply_devices(m, json_object_get(res, "devices"), err)) < 0)
		return r;
	json_t *pids = json_object_get(res, "pids");
	json_t *pl = nz(json_object_get(pids, "limit"));
	if (pl) {
		char buf[32];
		if (json_integer_value(pl) <= 0)
			snprintf(buf, sizeof(buf), "max");
		else
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(pl));
		if ((r = wr_str(m, "pids", "pids.max", buf, "linux.resources.pids.limit", err)) < 0)
			return r;
	}
	json_t *net = json_object_get(res, "network");
	if (net) {
		if ((r = wr_int(m, "net_cls", "net_cls.classid", nz(json_object_get(net, "classID")),
				"linux.resources.network.classID", err)) < 0)
			return r;
		size_t i;
		json_t *o;
		json_array_foreach (json_object_get(net, "priorities"), i, o) {
			char line[128], field[64];
			snprintf(line, sizeof(line), "%s %lld", json_string_value(json_object_get(o, "name")) ?: "",
				 (long long)json_integer_value(json_object_get(o, "priority")));
			snprintf(field, sizeof(field), "linux.resources.network.priorities[%zu]", i);
			if ((r = wr_str(m, "net_prio", "net_prio.ifpriomap", line, field, err)) < 0)
				return r;
		}
	}
	json_t *huge = json_object_get(res, "hugepageLimits");
	json_t *unified = json_object_get(res, "unified");
	if (json_array_size(huge) || json_object_size(unified)) {
		struct cg_hier *hh = cg_find(m, "hugetlb");
		if (hh && json_array_size(huge)) {
			size_t i;
			json_t *o;
			json_array_foreach (huge, i, o) {
				char file[96], field[64], val[32];
				snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", json_string_value(json_object_get(o, "pageSize")));
				snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
				snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(json_object_get(o, "limit")));
				if ((r = cg_write(hh->dir, file, val, field, err)) < 0)
					return r;
			}
			huge = NULL;
		}
		struct cg_hier *v2 = cg_find(m, NULL);
		if (!v2)
			return berth_error_code(err, ENOTSUP, "linux.resources.%s: this host has no cgroup v2 hierarchy",
						json_array_size(huge) ? "hugepageLimits" : "unified");
		json_t *sub = json_object();
		if (json_array_size(huge))
			json_object_set(sub, "hugepageLimits", huge);
		if (unified)
			json_object_set(sub, "unified", unified);
		r = cg_v2_apply(v2->dir, sub, true, err);
		json_decref(sub);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v1_freeze(struct cgroup_manager *m, bool freeze, berth_err *err)
{
	struct cg_hier *h = cg_find(m, "freezer");
	if (!h)
		return berth_error_code(err, ENOTSUP, "this host has no freezer cgroup controller");
	const char *want = freeze ? "FROZEN" : "THAWED";
	for (int i = 0; i < 1000; i++) {
		int r = cg_write(h->dir, "freezer.state", want, "freezer.state", err);
		if (r < 0)
			return r;
		_cleanup_free_ char *cur = NULL;
		if ((r = cg_read(h->dir, "freezer.state", &cur, err)) < 0)
			return r;
		if (strcmp(cur, want) == 0)
			return 0;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return berth_error_code(err, ETIMEDOUT, "the container did not become %s", want);
}

static int v1_is_frozen(struct cgroup_manager *m, bool *frozen, berth_err *err)
{
	*frozen = false;
	struct cg_hier *h = cg_find(m, "freezer");
	if (!h)
		return 0;
	_cleanup_free_ char *cur = NULL;
	int r = cg_read(h->dir, "freezer.state", &cur, err);
	if (r < 0)
		return r;
	*frozen = strcmp(cur, "THAWED") != 0;
	return 0;
}

static int v1_pids(struct cgroup_manager *m, pid_t **pids, size_t *n, berth_err *err)
{
	static const char *const prefer[] = { "pids", "memory", "freezer", "devices" };
	for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
		struct cg_hier *h = cg_find(m, prefer[i]);
		if (h)
			return cg_read_pids(h->dir, pids, n, err);
	}
	return cg_read_pids(m->h[0].dir, pids, n, err);
}

static int v1_destroy(struct cgroup_manager *m, berth_err *err)
{
	return cg_destroy_all(m, err);
}

static json_t *read_num(const char *dir, const char *file)
{
	_cleanup_free_ char *v = NULL;
	if (!dir || cg_read(dir, file, &v, NULL) < 0)
		return json_integer(0);
	return json_integer((json_int_t)strtoull(v, NULL, 10));
}

static int v1_stats(struct cgroup_manager *m, json_t **out, berth_err *err)
{
	struct cg_hier *mem = cg_find(m, "memory"), *cpu = cg_find(m, "cpuacct"), *pids = cg_find(m, "pids");
	*out = json_pack("{s:{s:{s:o}},s:{s:{s:o,s:o,s:o}},s:{s:o,s:o}}", "cpu", "usage", "total",
			 read_num(cpu ? cpu->dir : NULL, "cpuacct.usage"), "memory", "usage", "usage",
			 read_num(mem ? mem->dir : NULL, "memory.usage_in_bytes"), "limit",
			 read_num(mem ? mem->dir : NULL, "memory.limit_in_bytes"), "max",
			 read_num(mem ? mem->dir : NULL, "memory.max_usage_in_bytes"), "pids", "current",
			 read_num(pids ? pids->dir : NULL, "pids.current"), "limit",
			 read_num(pids ? pids->dir : NULL, "pids.max"));
	return *out ? 0 : berth_error_code(err, EINVAL, "cannot build the statistics");
}

static unsigned int to_mount_attr(unsigned long flags)
{
	unsigned int a = 0;
	if (flags & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	return a;
}

/* Bind src (a host cgroup dir) onto dirfd/name with the mount's flags. */
static int bind_into(const char *src, int dirfd, const char *name, unsigned long flags, const char *dest, berth_err *err)
{
	_cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return berth_error_errno(err, "cgroup mount at %s: open_tree %s", dest, src);
	struct mount_attr attr = { .attr_set = to_mount_attr(flags) };
	if (attr.attr_set && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return berth_error_errno(err, "cgroup mount at %s: mount_setattr", dest);
	if (syscall(SYS_move_mount, tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH | (name[0] ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
		return berth_error_errno(err, "cgroup mount at %s: move_mount", dest);
	return 0;
}

static int v1_mount(struct cgroup_manager *m, int destfd, const char *dest, unsigned long flags, bool new_cgroupns,
		    berth_err *err)
{
	/* A tmpfs holding one directory per hierarchy, each a bind of the
	 * container's own cgroup (or, in a new cgroup namespace, a fresh mount
	 * whose root is that cgroup), as runc lays it out. */
	_cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return berth_error_errno(err, "cgroup mount at %s: fsopen tmpfs", dest);
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "mode", "755", 0) < 0 ||
	    syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return berth_error_errno(err, "cgroup mount at %s: tmpfs", dest);
	_cleanup_close_ int mnt = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
					       to_mount_attr(flags & ~MS_RDONLY));
	if (mnt < 0)
		return berth_error_errno(err, "cgroup mount at %s: fsmount", dest);
	for (size_t i = 0; i < m->nh; i++) {
		const char *name = m->h[i].v2 ? "unified" : m->h[i].name;
		if (strncmp(name, "name=", 5) == 0)
			name += 5;
		if (mkdirat(mnt, name, 0755) < 0 && errno != EEXIST)
			return berth_error_errno(err, "cgroup mount at %s: mkdir %s", dest, name);
		/* Co-mounted controllers get a symlink per controller: cpu -> cpu,cpuacct. */
		if (strchr(name, ',')) {
			_cleanup_free_ char *copy = xstrdup(name);
			char *save = NULL;
			for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
				symlinkat(name, mnt, c);
		}
	}
	if (syscall(SYS_move_mount, mnt, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_errno(err, "cgroup mount at %s: attaching the tmpfs", dest);
	for (size_t i = 0; i < m->nh; i++) {
		const char *name = m->h[i].v2 ? "unified" : m->h[i].name;
		if (strncmp(name, "name=", 5) == 0)
			name += 5;
		int r;
		if (new_cgroupns) {
			_cleanup_close_ int sub = openat(mnt, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
			char target[64];
			snprintf(target, sizeof(target), "/proc/self/fd/%d", sub);
			const char *fstype = m->h[i].v2 ? "cgroup2" : "cgroup";
			const char *data = m->h[i].v2 ? NULL : m->h[i].name;
			if (sub < 0 || mount("cgroup", target, fstype, flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), data) < 0)
				return berth_error_errno(err, "cgroup mount at %s: mounting %s", dest, name);
		} else if ((r = bind_into(m->h[i].dir, mnt, name, flags, dest, err)) < 0) {
			return r;
		}
	}
	if (flags & MS_RDONLY) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			return berth_error_errno(err, "cgroup mount at %s: making it read-only", dest);
	}
	return 0;
}

const struct cgroup_ops cgroup_v1_ops = {
	.name = "cgroupfs-v1",
	.create = v1_create,
	.enter = v1_enter,
	.apply = v1_apply,
	.freeze = v1_freeze,
	.is_frozen = v1_is_frozen,
	.pids = v1_pids,
	.destroy = v1_destroy,
	.stats = v1_stats,
	.mount = v1_mount,
};
