/* spec_gen_linux.c - mounts, resources, devices, rlimits and sysctls of a container.
 *
 * The defaults are Docker's: a private /dev with the standard nodes and the
 * device cgroup allowing only those, /dev/shm of ShmSize, /sys read-only,
 * the host's network files bound in, then the user's mounts with the
 * parents before the children.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/spec_gen_internal.h"

#define DEFAULT_SHM_SIZE 67108864LL /* 64 MiB, Docker's */
#define DEFAULT_NOFILE   1048576ULL /* containerd's, what Docker containers usually get */
#define CPU_PERIOD       100000LL

/* --- mounts ----------------------------------------------------------------------- */

static json_t *mnt(const char *dest, const char *type, const char *src, json_t *opts)
{
	return json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", src,
			 "options", opts);
}

/* Merge tmpfs options left to right: a later flag replaces its opposite (exec after
 * the default noexec), a later key=value its earlier value. */
static void tmpfs_merge(json_t *opts, const char *opt)
{
	static const char *const pairs[][2] = {
		{ "exec", "noexec" }, { "suid", "nosuid" },   { "dev", "nodev" },
		{ "rw", "ro" },       { "atime", "noatime" }, { "diratime", "nodiratime" }
	};
	const char *eq = strchr(opt, '=');
	for (size_t i = json_array_size(opts); i-- > 0;) {
		const char *o = json_string_value(json_array_get(opts, i));
		bool same = false;
		if (eq)
			same = strncmp(o, opt, (size_t)(eq - opt) + 1) == 0;
		else
			for (size_t p = 0; p < ARRAY_SIZE(pairs); p++)
				if ((!strcmp(opt, pairs[p][0]) || !strcmp(opt, pairs[p][1])) &&
				    (!strcmp(o, pairs[p][0]) || !strcmp(o, pairs[p][1])))
					same = true;
		if (same || strcmp(o, opt) == 0)
			json_array_remove(opts, i);
	}
	json_array_append_new(opts, json_string(opt));
}

static const char *const propagations[] = { "private", "rprivate", "shared", "rshared",
					    "slave",   "rslave",   NULL };

/* One entry of ctx->mounts (inspect's "Mounts" shape) as an OCI mount. */
static int user_mount(json_t *m, size_t idx, json_t **out, berth_err *err)
{
	const char *type = gen_str(m, "Type");
	const char *src = gen_str(m, "Source");
	const char *dst = gen_str(m, "Destination");
	if (!dst || dst[0] != '/')
		return berth_error_code(
			err, EINVAL,
			"invalid mount config: mount %zu: destination must be an absolute path",
			idx);
	_cleanup_free_ char *clean = path_clean(dst);
	if (strcmp(clean, "/") == 0)
		return berth_error_code(err, EINVAL,
					"invalid mount config: destination can't be '/'");
	bool rw = !json_is_false(json_object_get(m, "RW"));
	const char *prop = gen_str(m, "Propagation");
	if (prop) {
		bool ok = false;
		for (const char *const *p = propagations; *p; p++)
			ok |= strcmp(*p, prop) == 0;
		if (!ok)
			return berth_error_code(
				err, EINVAL, "invalid mount config: invalid propagation mode: %s",
				prop);
	}
	if (type && strcmp(type, "tmpfs") == 0) {
		json_t *opts = json_pack("[s,s,s,s]", "noexec", "nosuid", "nodev", "rprivate");
		json_t *to = json_object_get(m, "TmpfsOptions");
		json_int_t size = gen_int(to, "SizeBytes");
		json_int_t mode = gen_int(to, "Mode");
		if (size < 0) {
			json_decref(opts);
			return berth_error_code(
				err, EINVAL, "invalid mount config: tmpfs size must be positive");
		}
		if (size > 0) {
			_cleanup_free_ char *o = xasprintf("size=%lld", (long long)size);
			tmpfs_merge(opts, o);
		}
		if (mode > 0) {
			_cleanup_free_ char *o = xasprintf("mode=%llo", (long long)mode & 07777);
			tmpfs_merge(opts, o);
		}
		const char *extra = gen_str(m, "Options");
		if (!extra)
			extra = gen_str(m, "Data");
		if (extra) {
			_cleanup_free_ char *copy = xstrdup(extra);
			char *save = NULL;
			for (char *o = strtok_r(copy, ",", &save); o;
			     o = strtok_r(NULL, ",", &save))
				if (*o)
					tmpfs_merge(opts, o);
		}
		if (!rw)
			tmpfs_merge(opts, "ro");
		*out = mnt(clean, "tmpfs", "tmpfs", opts);
		return 0;
	}
	if (type && strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0)
		return berth_error_code(
			err, EINVAL, "invalid mount config: mount %zu: unknown type %s", idx, type);
	if (!src || src[0] != '/')
		return berth_error_code(
			err, EINVAL,
			"invalid mount config: mount %zu (%s): source must be an absolute path",
			idx, clean);
	bool nonrec =
		json_is_true(json_object_get(json_object_get(m, "BindOptions"), "NonRecursive"));
	json_t *opts = json_pack("[s]", nonrec ? "bind" : "rbind");
	if (!rw)
		json_array_append_new(opts, json_string("ro"));
	json_array_append_new(opts, json_string(prop ? prop : "rprivate"));
	*out = mnt(clean, "bind", src, opts);
	return 0;
}

static size_t depth(const char *path)
{
	size_t n = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

static int by_depth(const void *a, const void *b)
{
	json_t *ma = *(json_t *const *)a, *mb = *(json_t *const *)b;
	size_t da = depth(json_string_value(json_object_get(ma, "destination")));
	size_t db = depth(json_string_value(json_object_get(mb, "destination")));
	return da < db ? -1 : da > db;
}

static bool user_has(json_t *user, const char *dest)
{
	size_t i;
	json_t *m;
	json_array_foreach (user, i, m)
		if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
			return true;
	return false;
}

static void add_bind_file(json_t *user, const char *src, const char *dst, bool ro)
{
	if (!src || user_has(user, dst))
		return;
	json_t *opts = json_pack("[s,s]", "rbind", "rprivate");
	if (ro)
		json_array_append_new(opts, json_string("ro"));
	json_array_append_new(user, mnt(dst, "bind", src, opts));
}

int gen_mounts(struct gen *g, berth_err *err)
{
	const struct spec_gen_ctx *ctx = g->ctx;
	/* What the user and the engine mount, sorted so parents come before children. */
	_cleanup_json_ json_t *user = json_array();
	size_t i;
	json_t *m;
	json_array_foreach (ctx->mounts, i, m) {
		json_t *o = NULL;
		int r = user_mount(m, i, &o, err);
		if (r < 0)
			return r;
		json_array_append_new(user, o);
	}
	bool ro_root = json_is_true(json_object_get(g->host, "ReadonlyRootfs"));
	/* /dev/shm: another container's (--ipc container:X), the host's, or a tmpfs below. */
	if (!g->ipc_none && !user_has(user, "/dev/shm")) {
		if (ctx->shm_path)
			add_bind_file(user, ctx->shm_path, "/dev/shm", false);
		else if (g->ipc_host)
			add_bind_file(user, "/dev/shm", "/dev/shm", false);
	}
	add_bind_file(user, ctx->resolv_path, "/etc/resolv.conf", ro_root);
	add_bind_file(user, ctx->hostname_path, "/etc/hostname", ro_root);
	add_bind_file(user, ctx->hosts_path, "/etc/hosts", ro_root);
	if (json_is_true(json_object_get(g->host, "Init")) && ctx->init_path &&
	    !user_has(user, "/sbin/docker-init"))
		json_array_append_new(user, mnt("/sbin/docker-init", "bind", ctx->init_path,
						json_pack("[s,s]", "bind", "ro")));
	size_t n = json_array_size(user);
	_cleanup_free_ json_t **sorted = xcalloc(n + 1, sizeof(json_t *));
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(user, i);
	/* Stable: equal depths keep their order (qsort is not stable, so sort by hand). */
	for (i = 1; i < n; i++)
		for (size_t j = i; j > 0 && by_depth(&sorted[j - 1], &sorted[j]) > 0; j--) {
			json_t *t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}

	long long shm = gen_int(g->host, "ShmSize");
	if (shm < 0)
		return berth_error_code(err, EINVAL, "SHM size can not be less than 0");
	if (shm == 0)
		shm = DEFAULT_SHM_SIZE;
	_cleanup_free_ char *shm_opt = xasprintf("size=%lld", shm);
	bool sys_rw = g->privileged;
	bool cg_rw = g->privileged || g->writable_cgroups;
	json_t *defaults[] = {
		mnt("/proc", "proc", "proc", json_pack("[s,s,s]", "nosuid", "noexec", "nodev")),
		mnt("/dev", "tmpfs", "tmpfs",
		    json_pack("[s,s,s,s]", "nosuid", "strictatime", "mode=755", "size=65536k")),
		mnt("/dev/pts", "devpts", "devpts",
		    json_pack("[s,s,s,s,s,s]", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
			      "mode=0620", "gid=5")),
		mnt("/sys", "sysfs", "sysfs",
		    json_pack("[s,s,s,s]", "nosuid", "noexec", "nodev", sys_rw ? "rw" : "ro")),
		mnt("/sys/fs/cgroup", "cgroup", "cgroup",
		    json_pack("[s,s,s,s]", cg_rw ? "rw" : "ro", "nosuid", "noexec", "nodev")),
		mnt("/dev/mqueue", "mqueue", "mqueue",
		    json_pack("[s,s,s]", "nosuid", "noexec", "nodev")),
		mnt("/dev/shm", "tmpfs", "shm",
		    json_pack("[s,s,s,s,s]", "nosuid", "noexec", "nodev", "mode=1777", shm_opt)),
	};
	json_t *mounts = json_array();
	json_object_set_new(g->spec, "mounts", mounts);
	bool user_dev = user_has(user, "/dev");
	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		const char *d = json_string_value(json_object_get(defaults[i], "destination"));
		/* A user mount replaces the default at its place; a user /dev takes all of it. */
		bool skip = user_has(user, d) || (user_dev && strncmp(d, "/dev/", 5) == 0) ||
			    (g->ipc_none && strcmp(d, "/dev/shm") == 0);
		if (skip)
			json_decref(defaults[i]);
		else
			json_array_append_new(mounts, defaults[i]);
	}
	for (i = 0; i < n; i++)
		json_array_append(mounts, sorted[i]);

	/* A shared or slave bind only propagates if the rootfs itself is: Docker makes
	 * the root rshared (or rslave) when a mount asks for it. */
	const char *root_prop = NULL;
	for (i = 0; i < n; i++) {
		json_t *opts = json_object_get(sorted[i], "options");
		size_t k;
		json_t *o;
		json_array_foreach (opts, k, o) {
			const char *v = json_string_value(o);
			if (!strcmp(v, "shared") || !strcmp(v, "rshared"))
				root_prop = "rshared";
			else if ((!strcmp(v, "slave") || !strcmp(v, "rslave")) && !root_prop)
				root_prop = "rslave";
		}
	}
	if (root_prop)
		json_object_set_new(g->linux_, "rootfsPropagation", json_string(root_prop));
	return 0;
}

/* --- devices ----------------------------------------------------------------------- */

static json_t *dev_rule(bool allow, char type, long major, long minor, const char *access)
{
	json_t *r = json_pack("{s:b,s:s}", "allow", allow, "access", access);
	if (type != 'a') {
		char t[2] = { type, 0 };
		json_object_set_new(r, "type", json_string(t));
	}
	if (major >= 0)
		json_object_set_new(r, "major", json_integer(major));
	if (minor >= 0)
		json_object_set_new(r, "minor", json_integer(minor));
	return r;
}

/* Docker's default allow list: mknod of anything (the node is useless without the
 * rules below), the standard character devices, the ptys and /dev/net/tun. */
static void default_device_rules(json_t *rules)
{
	static const struct {
		long major, minor;
	} std[] = {
		{ 1, 3 }, { 1, 8 }, { 1, 7 },    { 5, 0 }, { 1, 5 },
		{ 1, 9 }, { 5, 1 }, { 136, -1 }, { 5, 2 }, { 10, 200 },
	};
	json_array_append_new(rules, dev_rule(true, 'c', -1, -1, "m"));
	json_array_append_new(rules, dev_rule(true, 'b', -1, -1, "m"));
	for (size_t i = 0; i < ARRAY_SIZE(std); i++)
		json_array_append_new(rules,
				      dev_rule(true, 'c', std[i].major, std[i].minor, "rwm"));
}

static json_t *linux_device(const char *path, const struct stat *st)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "path", path, "type",
			 S_ISBLK(st->st_mode) ? "b" : "c", "major", (json_int_t)major(st->st_rdev),
			 "minor", (json_int_t)minor(st->st_rdev), "fileMode",
			 (json_int_t)(st->st_mode & 07777), "uid", (json_int_t)st->st_uid, "gid",
			 (json_int_t)st->st_gid);
}

/* Every device node under host_dir, as container_dir/... Directories Docker skips
 * when it copies the host's /dev: the pty and shm instances and /dev/fd. */
static int add_device_tree(json_t *devs, json_t *rules, const char *host_dir,
			   const char *container_dir, const char *perms, bool skip_special,
			   unsigned int level, berth_err *err)
{
	if (level > 16)
		return 0;
	_cleanup_dir_ DIR *d = opendir(host_dir);
	if (!d)
		return berth_error_errno(
			err, "error gathering device information while adding custom device \"%s\"",
			host_dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (skip_special && level == 0 &&
		    (!strcmp(e->d_name, "pts") || !strcmp(e->d_name, "shm") ||
		     !strcmp(e->d_name, "fd") || !strcmp(e->d_name, "mqueue") ||
		     !strcmp(e->d_name, "console") || !strcmp(e->d_name, "ptmx") ||
		     e->d_name[0] == '.'))
			continue;
		_cleanup_free_ char *hp = path_join(host_dir, e->d_name);
		_cleanup_free_ char *cp = path_join(container_dir, e->d_name);
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			int r = add_device_tree(devs, rules, hp, cp, perms, skip_special, level + 1,
						err);
			if (r < 0)
				return r;
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			json_array_append_new(devs, linux_device(cp, &st));
			if (rules)
				json_array_append_new(
					rules, dev_rule(true, S_ISBLK(st.st_mode) ? 'b' : 'c',
							(long)major(st.st_rdev),
							(long)minor(st.st_rdev), perms));
		}
	}
	return 0;
}

/* --device: {PathOnHost, PathInContainer, CgroupPermissions}, or its CLI form
 * "/dev/x[:/dev/y][:rwm]". */
static int add_user_device(json_t *devs, json_t *rules, json_t *d, size_t idx, berth_err *err)
{
	_cleanup_free_ char *host = NULL, *cont = NULL, *perms = NULL;
	if (json_is_string(d)) {
		_cleanup_free_ char *s = xstrdup(json_string_value(d));
		char *p2 = strchr(s, ':');
		if (p2)
			*p2++ = '\0';
		char *p3 = p2 ? strchr(p2, ':') : NULL;
		if (p3)
			*p3++ = '\0';
		/* "/dev/x:rw": the second field is permissions when it is not a path. */
		if (p2 && !p3 && p2[0] != '/') {
			p3 = p2;
			p2 = NULL;
		}
		host = xstrdup(s);
		cont = p2 && *p2 ? xstrdup(p2) : NULL;
		perms = p3 && *p3 ? xstrdup(p3) : NULL;
	} else if (json_is_object(d)) {
		const char *h = gen_str(d, "PathOnHost"), *c = gen_str(d, "PathInContainer"),
			   *p = gen_str(d, "CgroupPermissions");
		host = h ? xstrdup(h) : NULL;
		cont = c ? xstrdup(c) : NULL;
		perms = p ? xstrdup(p) : NULL;
	}
	if (!host)
		return berth_error_code(err, EINVAL,
					"HostConfig.Devices[%zu]: PathOnHost is required", idx);
	if (!cont)
		cont = xstrdup(host);
	if (!perms)
		perms = xstrdup("rwm");
	if (!*perms || strspn(perms, "rwm") != strlen(perms))
		return berth_error_code(err, EINVAL, "invalid device mode: %s", perms);
	if (cont[0] != '/')
		return berth_error_code(err, EINVAL, "invalid device path in container: %s", cont);
	struct stat st;
	if (stat(host, &st) < 0)
		return berth_error_errno(
			err, "error gathering device information while adding custom device \"%s\"",
			host);
	if (S_ISDIR(st.st_mode))
		return add_device_tree(devs, rules, host, cont, perms, false, 0, err);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return berth_error_code(err, EINVAL,
					"error gathering device information while adding custom "
					"device \"%s\": not a device node",
					host);
	_cleanup_free_ char *clean = path_clean(cont);
	json_array_append_new(devs, linux_device(clean, &st));
	json_array_append_new(rules,
			      dev_rule(true, S_ISBLK(st.st_mode) ? 'b' : 'c',
				       (long)major(st.st_rdev), (long)minor(st.st_rdev), perms));
	return 0;
}

/* "c 1:3 mr", "a *:* rwm" (--device-cgroup-rule). */
static int parse_cgroup_rule(const char *s, json_t **out, berth_err *err)
{
	char type, maj[16], min[16], acc[8];
	if (sscanf(s, " %c %15[0-9*]:%15[0-9*] %7s", &type, maj, min, acc) != 4 ||
	    !strchr("abc", type) || strspn(acc, "rwm") != strlen(acc))
		return berth_error_code(err, EINVAL, "invalid device cgroup rule format: '%s'", s);
	long ma = strcmp(maj, "*") ? strtol(maj, NULL, 10) : -1;
	long mi = strcmp(min, "*") ? strtol(min, NULL, 10) : -1;
	if (ma > 0xfff || mi > 0xfffff)
		return berth_error_code(err, EINVAL, "invalid device cgroup rule format: '%s'", s);
	*out = dev_rule(true, type, ma, mi, acc);
	return 0;
}

static int gen_devices(struct gen *g, json_t *res, berth_err *err)
{
	json_t *devs = json_array();
	json_t *rules = json_array();
	json_object_set_new(g->linux_, "devices", devs);
	json_object_set_new(res, "devices", rules);
	if (g->privileged) {
		json_array_append_new(rules, dev_rule(true, 'a', -1, -1, "rwm"));
		int r = add_device_tree(devs, NULL, "/dev", "/dev", "rwm", true, 0, err);
		if (r < 0)
			return r;
	} else {
		json_array_append_new(rules, dev_rule(false, 'a', -1, -1, "rwm"));
		default_device_rules(rules);
	}
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(g->host, "Devices"), i, d) {
		int r = add_user_device(devs, g->privileged ? NULL : rules, d, i, err);
		if (r < 0)
			return r;
	}
	json_array_foreach (json_object_get(g->host, "DeviceCgroupRules"), i, d) {
		json_t *rule = NULL;
		if (!json_is_string(d))
			return berth_error_code(
				err, EINVAL, "HostConfig.DeviceCgroupRules[%zu]: must be a string",
				i);
		int r = parse_cgroup_rule(json_string_value(d), &rule, err);
		if (r < 0)
			return r;
		json_array_append_new(rules, rule);
	}
	/* Duplicates (a --device also under --privileged's /dev) would be made twice. */
	for (i = json_array_size(devs); i-- > 0;) {
		const char *p = gen_str(json_array_get(devs, i), "path");
		for (size_t j = 0; j < i; j++)
			if (strcmp(p, gen_str(json_array_get(devs, j), "path")) == 0) {
				json_array_remove(devs, j);
				break;
			}
	}
	return 0;
}

/* --- resources ----------------------------------------------------------------------- */

static bool swap_accounting(void)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		return true;
	return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
}

/* --blkio-weight-device and --device-{read,write}-{bps,iops}: {Path, Weight|Rate} of a
 * host block device -> {major, minor, weight|rate}. */
static int gen_blkio_devices(json_t *h, json_t *blkio, berth_err *err)
{
	static const struct {
		const char *api, *oci, *value_api, *value_oci;
	} lists[] = {
		{ "BlkioWeightDevice", "weightDevice", "Weight", "weight" },
		{ "BlkioDeviceReadBps", "throttleReadBpsDevice", "Rate", "rate" },
		{ "BlkioDeviceWriteBps", "throttleWriteBpsDevice", "Rate", "rate" },
		{ "BlkioDeviceReadIOps", "throttleReadIOPSDevice", "Rate", "rate" },
		{ "BlkioDeviceWriteIOps", "throttleWriteIOPSDevice", "Rate", "rate" },
	};
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_t *in = json_object_get(h, lists[l].api);
		if (!json_array_size(in))
			continue;
		json_t *out = json_array();
		json_object_set_new(blkio, lists[l].oci, out);
		size_t i;
		json_t *d;
		json_array_foreach (in, i, d) {
			const char *path = gen_str(d, "Path");
			json_int_t v = gen_int(d, lists[l].value_api);
			struct stat st;
			if (!path)
				return berth_error_code(err, EINVAL,
							"HostConfig.%s[%zu].Path: required",
							lists[l].api, i);
			if (stat(path, &st) < 0)
				return berth_error_errno(err, "HostConfig.%s: %s", lists[l].api,
							 path);
			if (!S_ISBLK(st.st_mode))
				return berth_error_code(err, EINVAL,
							"HostConfig.%s: %s is not a block device",
							lists[l].api, path);
			if (v < 0 || (l == 0 && v && (v < 10 || v > 1000)))
				return berth_error_code(
					err, EINVAL, "HostConfig.%s: invalid %s %lld for %s",
					lists[l].api, lists[l].value_oci, (long long)v, path);
			json_array_append_new(out, json_pack("{s:I,s:I,s:I}", "major",
							     (json_int_t)major(st.st_rdev), "minor",
							     (json_int_t)minor(st.st_rdev),
							     lists[l].value_oci, v));
		}
	}
	return 0;
}

int gen_resources(struct gen *g, berth_err *err)
{
	json_t *h = g->host;
	json_t *res = json_object();
	json_object_set_new(g->linux_, "resources", res);
	int r = gen_devices(g, res, err);
	if (r < 0)
		return r;

	json_int_t memory = gen_int(h, "Memory"), swap = gen_int(h, "MemorySwap");
	json_int_t reservation = gen_int(h, "MemoryReservation");
	if (memory < 0 || reservation < 0)
		return berth_error_code(err, EINVAL, "invalid memory limit: must not be negative");
	if (memory > 0 && memory < 6 * 1024 * 1024)
		return berth_error_code(err, EINVAL, "Minimum memory limit allowed is 6MB");
	if (memory == 0 && swap > 0)
		return berth_error_code(err, EINVAL,
					"You should always set the Memory limit when using "
					"Memoryswap limit, see usage");
	if (memory > 0 && swap > 0 && swap < memory)
		return berth_error_code(
			err, EINVAL,
			"Minimum memoryswap limit should be larger than memory limit, see usage");
	if (memory > 0 && reservation > memory)
		return berth_error_code(err, EINVAL,
					"Minimum memory limit can not be less than memory "
					"reservation limit, see usage");
	/* Attached at once so that every error path frees it; dropped when empty. */
	json_t *mem = json_object();
	json_object_set_new(res, "memory", mem);
	if (memory > 0) {
		json_object_set_new(mem, "limit", json_integer(memory));
		/* Docker: swap is memory plus swap; unset means as much swap as memory. */
		if (swap == 0)
			swap = 2 * memory;
		if (swap_accounting())
			json_object_set_new(mem, "swap", json_integer(swap));
	}
	if (reservation > 0)
		json_object_set_new(mem, "reservation", json_integer(reservation));
	json_t *sw = json_object_get(h, "MemorySwappiness");
	if (json_is_integer(sw) && json_integer_value(sw) != -1) {
		if (json_integer_value(sw) < 0 || json_integer_value(sw) > 100)
			return berth_error_code(
				err, EINVAL,
				"Invalid value: %lld, valid memory swappiness range is 0-100",
				(long long)json_integer_value(sw));
		json_object_set(mem, "swappiness", sw);
	}
	if (json_is_true(json_object_get(h, "OomKillDisable")))
		json_object_set_new(mem, "disableOOMKiller", json_true());
	if (!json_object_size(mem))
		json_object_del(res, "memory");

	json_t *cpu = json_object();
	json_object_set_new(res, "cpu", cpu);
	json_int_t nano = gen_int(h, "NanoCpus"), quota = gen_int(h, "CpuQuota"),
		   period = gen_int(h, "CpuPeriod"), shares = gen_int(h, "CpuShares");
	if (nano && period) {
		return berth_error_code(
			err, EINVAL,
			"Conflicting options: Nano CPUs and CPU Period cannot both be set");
	}
	if (nano && quota) {
		return berth_error_code(
			err, EINVAL,
			"Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (nano < 0 || (ncpu > 0 && nano > (json_int_t)ncpu * 1000000000LL)) {
		return berth_error_code(err, EINVAL,
					"Range of CPUs is from 0.01 to %ld.00, as there are only "
					"%ld CPUs available",
					ncpu, ncpu);
	}
	if (nano > 0) {
		period = CPU_PERIOD;
		quota = nano * CPU_PERIOD / 1000000000LL;
		if (quota < 1000)
			quota = 1000; /* the kernel's minimum quota: 1 ms */
	}
	if (shares > 0)
		json_object_set_new(cpu, "shares", json_integer(shares));
	if (quota > 0)
		json_object_set_new(cpu, "quota", json_integer(quota));
	if (period > 0)
		json_object_set_new(cpu, "period", json_integer(period));
	json_int_t rt_period = gen_int(h, "CpuRealtimePeriod"),
		   rt_runtime = gen_int(h, "CpuRealtimeRuntime");
	if (rt_period > 0 && rt_runtime > rt_period) {
		return berth_error_code(err, EINVAL,
					"cpu-rt-runtime cannot be higher than cpu-rt-period");
	}
	if (rt_period > 0)
		json_object_set_new(cpu, "realtimePeriod", json_integer(rt_period));
	if (rt_runtime > 0)
		json_object_set_new(cpu, "realtimeRuntime", json_integer(rt_runtime));
	if (gen_str(h, "CpusetCpus"))
		json_object_set(cpu, "cpus", json_object_get(h, "CpusetCpus"));
	if (gen_str(h, "CpusetMems"))
		json_object_set(cpu, "mems", json_object_get(h, "CpusetMems"));
	if (!json_object_size(cpu))
		json_object_del(res, "cpu");

	json_int_t pids = gen_int(h, "PidsLimit");
	if (pids > 0)
		json_object_set_new(res, "pids", json_pack("{s:I}", "limit", pids));
	json_t *blkio = json_object();
	json_object_set_new(res, "blockIO", blkio);
	json_int_t weight = gen_int(h, "BlkioWeight");
	if (weight && (weight < 10 || weight > 1000))
		return berth_error_code(err, EINVAL, "Range of blkio weight is from 10 to 1000");
	if (weight)
		json_object_set_new(blkio, "weight", json_integer(weight));
	if ((r = gen_blkio_devices(h, blkio, err)) < 0)
		return r;
	if (!json_object_size(blkio))
		json_object_del(res, "blockIO");
	return 0;
}

/* --- rlimits ----------------------------------------------------------------------- */

int gen_rlimits(struct gen *g, berth_err *err)
{
	static const char *const names[] = { "as",     "core",   "cpu",        "data",
					     "fsize",  "locks",  "memlock",    "msgqueue",
					     "nice",   "nofile", "nproc",      "rss",
					     "rtprio", "rttime", "sigpending", "stack" };
	json_t *rl = json_array();
	json_object_set_new(g->process, "rlimits", rl);
	bool nofile = false;
	size_t i;
	json_t *u;
	json_array_foreach (json_object_get(g->host, "Ulimits"), i, u) {
		const char *name = gen_str(u, "Name");
		bool known = false;
		for (size_t k = 0; name && k < ARRAY_SIZE(names); k++)
			known |= strcmp(names[k], name) == 0;
		if (!known)
			return berth_error_code(err, EINVAL, "invalid ulimit type: %s",
						name ? name : "");
		json_int_t soft = gen_int(u, "Soft"), hard = gen_int(u, "Hard");
		/* -1 is "unlimited" in Docker's ulimit syntax. */
		unsigned long long s = soft < 0 ? RLIM_INFINITY : (unsigned long long)soft;
		unsigned long long hh = hard < 0 ? RLIM_INFINITY : (unsigned long long)hard;
		if (s > hh)
			return berth_error_code(err, EINVAL,
						"ulimit soft limit must be less than or equal to "
						"hard limit: %lld > %lld",
						(long long)soft, (long long)hard);
		_cleanup_free_ char *type = xasprintf("RLIMIT_%s", name);
		for (char *p = type; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		for (size_t k = 0; k < json_array_size(rl); k++)
			if (!strcmp(gen_str(json_array_get(rl, k), "type"), type))
				return berth_error_code(err, EINVAL, "ulimit %s given twice", name);
		json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type", type, "soft",
						    (json_int_t)s, "hard", (json_int_t)hh));
		nofile |= strcmp(name, "nofile") == 0;
	}
	if (!nofile) {
		/* Never above the engine's own hard limit: without CAP_SYS_RESOURCE the
		 * runtime could not raise it, and the start would fail. */
		unsigned long long n = DEFAULT_NOFILE;
		struct rlimit cur;
		if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
		    cur.rlim_max < n)
			n = cur.rlim_max;
		json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type", "RLIMIT_NOFILE",
						    "soft", (json_int_t)n, "hard", (json_int_t)n));
	}
	return 0;
}

/* --- sysctls ----------------------------------------------------------------------- */

int gen_sysctls(struct gen *g, berth_err *err)
{
	json_t *sys = json_object_get(g->host, "Sysctls");
	if (!json_object_size(sys))
		return 0;
	json_t *out = json_object();
	json_object_set_new(g->linux_, "sysctl", out);
	static const char *const ipc_exact[] = { "kernel.msgmax", "kernel.msgmnb",
						 "kernel.msgmni", "kernel.sem",
						 "kernel.shmall", "kernel.shmmax",
						 "kernel.shmmni", "kernel.shm_rmid_forced" };
	const char *k;
	json_t *v;
	json_object_foreach (sys, k, v) {
		if (!json_is_string(v))
			return berth_error_code(err, EINVAL,
						"sysctl \"%s\": the value must be a string", k);
		bool ipc = strncmp(k, "fs.mqueue.", 10) == 0;
		for (size_t i = 0; i < ARRAY_SIZE(ipc_exact); i++)
			ipc |= strcmp(k, ipc_exact[i]) == 0;
		if (strncmp(k, "net.", 4) == 0) {
			if (g->net_host)
				return berth_error_code(
					err, EINVAL,
					"sysctl \"%s\" not allowed in host network namespace", k);
		} else if (ipc) {
			if (g->ipc_host)
				return berth_error_code(
					err, EINVAL,
					"sysctl \"%s\" not allowed in host IPC namespace", k);
		} else if (!strcmp(k, "kernel.domainname") || !strcmp(k, "kernel.hostname")) {
			return berth_error_code(
				err, EINVAL,
				"sysctl \"%s\" is not allowed: use --hostname or --domainname", k);
		} else {
			return berth_error_code(
				err, EINVAL, "sysctl \"%s\" is not allowed: it is not namespaced",
				k);
		}
		json_object_set(out, k, v);
	}
	return 0;
}
