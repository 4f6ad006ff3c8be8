/* rootfs.c - the container's filesystem view: config.json "mounts", devices, pivot_root,
 * maskedPaths, readonlyPaths, root.readonly and the rootfs propagation.
 *
 * The one rule everything here keeps: a path inside the rootfs is only ever resolved
 * through path_*_in_root() from a directory fd of the rootfs, and what gets mounted is
 * that fd (through "/proc/self/fd/N", or directly with the new mount API). A symlink in
 * the image ("etc -> /", CVE-2015-1328 / CVE-2021-30465 style) therefore cannot send a
 * mount, a mknod or a mask onto the host. Bind mounts are made with open_tree(2) +
 * mount_setattr(2) + move_mount(2): the flags asked for are set and cleared on the new
 * mount only, without the remount dance that loses flags the kernel locks in a user
 * namespace. After the pivot nothing here relies on /proc being mounted.
 */
#include "oci/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "oci/cgroup.h"
#include "oci/devices.h"

#define COPYUP_MAX_DEPTH 128

static json_t *linux_obj(const struct rootfs_ctx *ctx)
{
	return json_object_get(ctx->spec, "linux");
}

/* "shared" etc. from linux.rootfsPropagation; 0 when unset. */
static int root_propagation(const struct rootfs_ctx *ctx, unsigned long *out, berth_err *err)
{
	const char *p = json_string_value(json_object_get(linux_obj(ctx), "rootfsPropagation"));
	*out = 0;
	if (p && !mount_propagation_parse(p, out))
		return berth_error(err, EINVAL,
				   "linux.rootfsPropagation: unknown value \"%s\" (expected "
				   "private, shared, slave or unbindable)",
				   p);
	return 0;
}

static bool has_namespace(const struct rootfs_ctx *ctx, const char *type)
{
	size_t i;
	json_t *ns;
	json_array_foreach (json_object_get(linux_obj(ctx), "namespaces"), i, ns) {
		const char *t = json_string_value(json_object_get(ns, "type"));
		if (t && !strcmp(t, type))
			return true;
	}
	return false;
}

/* The destination as an absolute clean path: spec 1.2 lets a relative destination mean
 * relative to "/". ".." cannot climb out: path_clean never goes above "/", and the
 * lookup is clamped to the rootfs anyway. */
static char *mount_destination(json_t *m)
{
	const char *d = json_string_value(json_object_get(m, "destination"));
	if (!d || !*d)
		return NULL;
	_cleanup_free_ char *abs = d[0] == '/' ? xstrdup(d) : xasprintf("/%s", d);
	return path_clean(abs);
}

/* --- mount attributes -------------------------------------------------------- */

/* MS_* per-mount flags -> MOUNT_ATTR_*; superblock flags (sync, dirsync...) have no
 * per-mount meaning and are dropped, as the kernel drops them on a bind remount. */
static void ms_to_attr(const struct mount_opts *o, struct mount_attr *a)
{
	static const struct {
		unsigned long ms;
		__u64 attr;
	} map[] = {
		{ MS_RDONLY, MOUNT_ATTR_RDONLY },	  { MS_NOSUID, MOUNT_ATTR_NOSUID },
		{ MS_NODEV, MOUNT_ATTR_NODEV },		  { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
		{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
	};
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (o->flags & map[i].ms)
			a->attr_set |= map[i].attr;
		if (o->clear & map[i].ms)
			a->attr_clr |= map[i].attr;
	}
	unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
	if (o->flags & atime) {
		a->attr_clr |= MOUNT_ATTR__ATIME;
		if (o->flags & MS_NOATIME)
			a->attr_set |= MOUNT_ATTR_NOATIME;
		else if (o->flags & MS_STRICTATIME)
			a->attr_set |= MOUNT_ATTR_STRICTATIME;
	} else if (o->clear & atime) {
		/* "atime", "norelatime"...: back to the default, relatime. */
		a->attr_clr |= MOUNT_ATTR__ATIME;
	}
}

static int setattr_fd(int fd, bool recursive, struct mount_attr *a)
{
	if (!a->attr_set && !a->attr_clr && !a->propagation && !(a->attr_set & MOUNT_ATTR_IDMAP))
		return 0;
	unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(fd, "", flags, a, sizeof(*a)) < 0)
		return -errno;
	return 0;
}

/* Propagation of the mount whose root fd is, without going through /proc. */
static int set_propagation(int fd, unsigned long prop)
{
	if (!prop)
		return 0;
	struct mount_attr a = { .propagation = prop & ~MS_REC };
	return setattr_fd(fd, prop & MS_REC, &a);
}

/* Per-mount flags, the recursive attributes and propagation on an attached or detached
 * mount; field names the mount in errors. */
static int apply_opts(int fd, const struct mount_opts *o, bool per_mount, const char *field,
		      berth_err *err)
{
	struct mount_attr a;
	if (per_mount) {
		ms_to_attr(o, &a);
		int r = setattr_fd(fd, false, &a);
		if (r < 0)
			return berth_error(err, -r, "%s: cannot set the mount flags", field);
	}
	a = (struct mount_attr){ .attr_set = o->recattr_set, .attr_clr = o->recattr_clr };
	int r = setattr_fd(fd, true, &a);
	if (r < 0)
		return berth_error(err, -r, "%s: cannot set the recursive mount attributes", field);
	return 0;
}

/* --- idmapped mounts ----------------------------------------------------------- */

static int write_idmap(pid_t pid, const char *file, json_t *maps, const char *field,
		       berth_err *err)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *m;
	json_array_foreach (maps, i, m) {
		json_t *c = json_object_get(m, "containerID"), *h = json_object_get(m, "hostID"),
		       *s = json_object_get(m, "size");
		if (!json_is_integer(c) || !json_is_integer(h) || !json_is_integer(s) ||
		    json_integer_value(c) < 0 || json_integer_value(h) < 0 ||
		    json_integer_value(s) <= 0 || json_integer_value(c) > UINT32_MAX ||
		    json_integer_value(h) > UINT32_MAX || json_integer_value(s) > UINT32_MAX)
			return berth_error(err, EINVAL, "%s[%zu]: containerID, hostID and size must be "
					   "32-bit unsigned integers, size > 0", field, i);
		strbuf_addf(&sb, "%lld %lld %lld\n", json_integer_value(c), json_integer_value(h),
			    json_integer_value(s));
	}
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "%s: opening %s", field, path);
	/* The map must be written in one write(2). */
	if (TEMP_FAILURE_RETRY_INT(write(fd, sb.buf, sb.len)) != (long)sb.len)
		return berth_error_errno(err, "%s: writing the mapping", field);
	return 0;
}

/* A user namespace holding the mapping of mount i (or of the container) for
 * MOUNT_ATTR_IDMAP: a child unshares it, we write its maps and keep its ns fd. */
static int idmap_userns(const struct rootfs_ctx *ctx, json_t *m, size_t i, berth_err *err)
{
	_cleanup_free_ char *uf = xasprintf("mounts[%zu].uidMappings", i);
	_cleanup_free_ char *gf = xasprintf("mounts[%zu].gidMappings", i);
	json_t *uids = json_object_get(m, "uidMappings"), *gids = json_object_get(m, "gidMappings");
	if (!json_array_size(uids) && !json_array_size(gids)) {
		/* Spec 1.2: without mappings of its own the mount uses the container's. */
		uids = json_object_get(linux_obj(ctx), "uidMappings");
		gids = json_object_get(linux_obj(ctx), "gidMappings");
		free(uf);
		free(gf);
		uf = xstrdup("linux.uidMappings");
		gf = xstrdup("linux.gidMappings");
	}
	if (!json_array_size(uids) || !json_array_size(gids))
		return berth_error(err, EINVAL,
				   "mounts[%zu]: idmap needs uidMappings and gidMappings, on the "
				   "mount or in linux",
				   i);
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return berth_error_errno(err, "mounts[%zu]: pipe", i);
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return berth_error_errno(err, "mounts[%zu]: pipe", i);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(ready[0]), close(ready[1]), close(hold[0]), close(hold[1]);
		return berth_error(err, e, "mounts[%zu]: fork for the idmap user namespace", i);
	}
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		/* Stay until the parent has the namespace fd (EOF on hold). */
		while (TEMP_FAILURE_RETRY_INT(read(hold[0], &c, 1)) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char c;
	int nsfd = -1, r = 0;
	if (TEMP_FAILURE_RETRY_INT(read(ready[0], &c, 1)) != 1) {
		r = berth_error(err, EPERM, "mounts[%zu]: cannot create a user namespace for idmap",
				i);
	} else if ((r = write_idmap(pid, "uid_map", uids, uf, err)) == 0 &&
		   (r = write_idmap(pid, "gid_map", gids, gf, err)) == 0) {
		_cleanup_free_ char *p = xasprintf("/proc/%d/ns/user", (int)pid);
		nsfd = open(p, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			r = berth_error_errno(err, "mounts[%zu]: opening %s", i, p);
	}
	close(ready[0]);
	close(hold[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : nsfd;
}

/* --- tmpcopyup ------------------------------------------------------------------- */

static int copy_file(int srcdir, int dstdir, const char *name, const struct stat *st,
		     berth_err *err)
{
	_cleanup_close_ int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return berth_error_errno(err, "tmpcopyup: opening %s", name);
	_cleanup_close_ int out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						       O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		return berth_error_errno(err, "tmpcopyup: creating %s", name);
	char buf[65536];
	for (;;) {
		ssize_t n = TEMP_FAILURE_RETRY_INT(read(in, buf, sizeof(buf)));
		if (n < 0)
			return berth_error_errno(err, "tmpcopyup: reading %s", name);
		if (n == 0)
			return 0;
		if (fd_write_all(out, buf, (size_t)n) < 0)
			return berth_error_errno(err, "tmpcopyup: writing %s", name);
	}
}

/* Copy the content of srcdir into dstdir, never following a symlink: every name is
 * one component opened O_NOFOLLOW under a directory fd. */
static int copy_tree(int srcdir, int dstdir, int depth, berth_err *err)
{
	if (depth > COPYUP_MAX_DEPTH)
		return berth_error(err, ELOOP, "tmpcopyup: directories nested deeper than %d",
				   COPYUP_MAX_DEPTH);
	int dupfd = fcntl(srcdir, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return berth_error_errno(err, "tmpcopyup: dup");
	_cleanup_dir_ DIR *d = fdopendir(dupfd);
	if (!d) {
		close(dupfd);
		return berth_error_errno(err, "tmpcopyup: opendir");
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		struct stat st;
		if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_errno(err, "tmpcopyup: stat %s", name);
		int r = 0;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dstdir, name, 0700) < 0)
				return berth_error_errno(err, "tmpcopyup: mkdir %s", name);
			_cleanup_close_ int s =
				openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int t =
				openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				return berth_error_errno(err, "tmpcopyup: opening directory %s", name);
			r = copy_tree(s, t, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(srcdir, dstdir, name, &st, err);
		} else if (S_ISLNK(st.st_mode)) {
			_cleanup_free_ char *target = xmalloc((size_t)PATH_MAX);
			ssize_t n = readlinkat(srcdir, name, target, PATH_MAX - 1);
			if (n < 0)
				return berth_error_errno(err, "tmpcopyup: readlink %s", name);
			target[n] = '\0';
			if (symlinkat(target, dstdir, name) < 0)
				return berth_error_errno(err, "tmpcopyup: symlink %s", name);
		} else if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0) {
			return berth_error_errno(err, "tmpcopyup: mknod %s", name);
		}
		if (r < 0)
			return berth_error_wrap(err, "%s", name);
		if (fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_errno(err, "tmpcopyup: chown %s", name);
		if (!S_ISLNK(st.st_mode) && fchmodat(dstdir, name, st.st_mode & 07777, 0) < 0)
			return berth_error_errno(err, "tmpcopyup: chmod %s", name);
	}
	if (errno)
		return berth_error_errno(err, "tmpcopyup: readdir");
	return 0;
}

/* --- one entry of "mounts" ----------------------------------------------------- */

struct mount_job {
	const struct rootfs_ctx *ctx;
	int rootfd;
	json_t *m;
	size_t idx;
	const char *dest;   /* clean, absolute */
	const char *type;   /* may be NULL */
	const char *source; /* may be NULL */
	char field[64];     /* "mounts[3]" */
	struct mount_opts o;
};

/* Bind source onto dest: open_tree(CLONE) the source, set the flags on the detached copy,
 * move it onto the destination fd, then set propagation on the attached mount. */
static int do_bind(struct mount_job *j, const char *source, berth_err *err)
{
	if (!source || !*source)
		return berth_error(err, EINVAL, "%s.source: a bind mount needs a source", j->field);
	/* A relative source is relative to the bundle, the caller's cwd. */
	_cleanup_close_ int src = open(source, O_PATH | O_CLOEXEC);
	if (src < 0)
		return berth_error_errno(err, "%s.source: %s", j->field, source);
	struct stat st;
	if (fstat(src, &st) < 0)
		return berth_error_errno(err, "%s.source: stat %s", j->field, source);
	_cleanup_close_ int dst = S_ISDIR(st.st_mode)
					  ? path_mkdir_in_root(j->rootfd, j->dest, 0755, err)
					  : path_mkfile_in_root(j->rootfd, j->dest, 0644, err);
	if (dst < 0)
		return berth_error_wrap(err, "%s.destination", j->field);
	bool rec = (j->o.flags & MS_REC) != 0;
	_cleanup_close_ int tree = open_tree(src, "", AT_EMPTY_PATH | OPEN_TREE_CLONE |
						     OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		return berth_error_errno(err, "%s: cannot bind %s", j->field, source);
	if (j->o.idmap) {
		if (j->ctx->new_userns)
			return berth_error(err, EPERM,
					   "%s: idmapped mounts cannot be made from inside the "
					   "container's user namespace",
					   j->field);
		_cleanup_close_ int ns = idmap_userns(j->ctx, j->m, j->idx, err);
		if (ns < 0)
			return ns;
		struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)ns };
		if (mount_setattr(tree, "", AT_EMPTY_PATH | (j->o.idmap_recursive ? AT_RECURSIVE : 0),
				  &a, sizeof(a)) < 0)
			return berth_error_errno(err,
						 "%s: cannot idmap %s (does its filesystem support "
						 "idmapped mounts?)",
						 j->field, source);
	}
	if (apply_opts(tree, &j->o, true, j->field, err) < 0)
		return -err->code;
	if (move_mount(tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_errno(err, "%s: cannot mount %s on %s", j->field, source, j->dest);
	int r = set_propagation(tree, j->o.propagation);
	if (r < 0)
		return berth_error(err, -r, "%s: cannot set the propagation", j->field);
	return 0;
}

static int do_remount(struct mount_job *j, berth_err *err)
{
	_cleanup_close_ int fd = path_open_in_root(j->rootfd, j->dest, O_PATH | O_CLOEXEC, 0, err);
	if (fd < 0)
		return berth_error_wrap(err, "%s.destination", j->field);
	char proc[PATH_FD_PROC_MAX];
	unsigned long flags = j->o.flags | MS_REMOUNT;
	if (j->o.bind || (j->type && !strcmp(j->type, "bind")))
		flags |= MS_BIND;
	if (mount(NULL, path_fd_proc(fd, proc), j->type, flags, j->o.data) < 0)
		return berth_error_errno(err, "%s: cannot remount %s", j->field, j->dest);
	if (apply_opts(fd, &j->o, false, j->field, err) < 0)
		return -err->code;
	int r = set_propagation(fd, j->o.propagation);
	return r < 0 ? berth_error(err, -r, "%s: cannot set the propagation", j->field) : 0;
}

static int do_fs_mount(struct mount_job *j, berth_err *err)
{
	const char *type = j->type;
	_cleanup_close_ int dst = path_mkdir_in_root(j->rootfd, j->dest, 0755, err);
	if (dst < 0)
		return berth_error_wrap(err, "%s.destination", j->field);
	if (!strcmp(type, "cgroup")) {
		if (!j->ctx->cgroup)
			return berth_error(err, EINVAL, "%s: a cgroup mount needs the container's "
					   "cgroup manager", j->field);
		int r = cgroup_mount(j->ctx->cgroup, dst, j->dest, j->o.flags, j->ctx->new_cgroupns,
				     err);
		if (r < 0)
			return berth_error_wrap(err, "%s", j->field);
	} else {
		_cleanup_close_ int under = -1;
		if (j->o.tmpcopyup) {
			if (strcmp(type, "tmpfs"))
				return berth_error(err, EINVAL, "%s.options: tmpcopyup is only for "
						   "tmpfs mounts", j->field);
			under = path_open_in_root(j->rootfd, j->dest,
						  O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, err);
			if (under < 0)
				return berth_error_wrap(err, "%s", j->field);
		}
		char proc[PATH_FD_PROC_MAX];
		const char *src = j->source && *j->source ? j->source : type;
		if (mount(src, path_fd_proc(dst, proc), type, j->o.flags, j->o.data) < 0)
			return berth_error_errno(err, "%s: cannot mount %s (type %s) on %s", j->field,
						 src, type, j->dest);
		if (under >= 0) {
			_cleanup_close_ int top = path_open_in_root(
				j->rootfd, j->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, err);
			if (top < 0 || copy_tree(under, top, 0, err) < 0)
				return berth_error_wrap(err, "%s", j->field);
		}
	}
	/* The mount sits on top of dst now: look the destination up again to reach it. */
	_cleanup_close_ int fd = path_open_in_root(j->rootfd, j->dest, O_PATH | O_CLOEXEC, 0, err);
	if (fd < 0)
		return berth_error_wrap(err, "%s", j->field);
	if (apply_opts(fd, &j->o, false, j->field, err) < 0)
		return -err->code;
	int r = set_propagation(fd, j->o.propagation);
	return r < 0 ? berth_error(err, -r, "%s: cannot set the propagation", j->field) : 0;
}

static int mount_one(const struct rootfs_ctx *ctx, int rootfd, json_t *m, size_t i,
		     bool *dev_ro, berth_err *err)
{
	struct mount_job j = { .ctx = ctx, .rootfd = rootfd, .m = m, .idx = i };
	snprintf(j.field, sizeof(j.field), "mounts[%zu]", i);
	_cleanup_free_ char *dest = mount_destination(m);
	if (!dest)
		return berth_error(err, EINVAL, "%s.destination: must be a non-empty path", j.field);
	if (!strcmp(dest, "/"))
		return berth_error(err, EINVAL, "%s.destination: cannot mount over the container's "
				   "root; use root.path", j.field);
	j.dest = dest;
	j.type = json_string_value(json_object_get(m, "type"));
	if (j.type && !*j.type)
		j.type = NULL;
	j.source = json_string_value(json_object_get(m, "source"));
	_cleanup_free_ char *ofield = xasprintf("%s.options", j.field);
	if (mount_options_parse_typed(json_object_get(m, "options"), ofield, j.type, &j.o, err) < 0)
		return -err->code;
	bool bind = j.o.bind || (j.type && !strcmp(j.type, "bind"));
	int r;
	if (j.o.idmap && !bind && !(j.o.flags & MS_REMOUNT)) {
		r = berth_error(err, EINVAL, "%s.options: idmap is only supported on bind mounts",
				j.field);
	} else if (j.o.flags & MS_REMOUNT) {
		r = do_remount(&j, err);
	} else if (bind) {
		j.o.flags |= MS_BIND;
		r = do_bind(&j, j.source, err);
	} else if (!j.type) {
		r = berth_error(err, EINVAL, "%s.type: required unless the mount is a bind mount",
				j.field);
	} else if (!strcmp(j.type, "sysfs") && ctx->new_userns && !has_namespace(ctx, "network")) {
		/* sysfs belongs to the network namespace's owner: a new user namespace
		 * without its own network namespace may not mount it. Like runc, give the
		 * container the host's /sys instead. */
		j.o.flags |= MS_BIND | MS_REC;
		r = do_bind(&j, "/sys", err);
	} else {
		/* Devices go onto /dev after this mount: make it read-only only then. */
		if (!strcmp(dest, "/dev") && (j.o.flags & MS_RDONLY)) {
			*dev_ro = true;
			j.o.flags &= ~MS_RDONLY;
		} else if (!strcmp(dest, "/dev")) {
			*dev_ro = false;
		}
		r = do_fs_mount(&j, err);
	}
	mount_opts_release(&j.o);
	return r;
}

/* --- rootfs_prepare -------------------------------------------------------------- */

/* Decode mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool path_has_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (!strcmp(prefix, "/"))
		return true;
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

/* pivot_root and MS_MOVE refuse a new root whose parent mount is shared; runc makes
 * that one mount private, leaving the rest of the tree as rootfsPropagation said. */
static int make_parent_private(const char *rootfs, berth_err *err)
{
	_cleanup_free_ char *real = realpath(rootfs, NULL);
	if (!real)
		return berth_error_errno(err, "root.path: %s", rootfs);
	_cleanup_free_ char *info = NULL;
	if (file_read("/proc/self/mountinfo", &info, NULL, err) < 0)
		return -err->code;
	_cleanup_free_ char *best = NULL;
	bool best_shared = false;
	for (char *save = NULL, *line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint options [optional...] - fstype ... */
		char *f[5], *s2 = NULL, *p = line;
		size_t n = 0;
		for (; n < 5 && (f[n] = strtok_r(p, " ", &s2)); n++)
			p = NULL;
		if (n < 5)
			continue;
		unescape_mountinfo(f[4]);
		if (!path_has_prefix(real, f[4]))
			continue;
		if (best && strlen(f[4]) < strlen(best))
			continue;
		bool shared = false;
		for (char *opt; (opt = strtok_r(NULL, " ", &s2)) && strcmp(opt, "-");)
			if (!strncmp(opt, "shared:", 7))
				shared = true;
		free(best);
		best = xstrdup(f[4]);
		best_shared = shared;
	}
	if (best && best_shared && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return berth_error_errno(err, "making %s (the mount holding root.path) private",
					 best);
	return 0;
}

static int check_mount_label(const struct rootfs_ctx *ctx, berth_err *err)
{
	const char *label = json_string_value(json_object_get(linux_obj(ctx), "mountLabel"));
	if (!label || !*label)
		return 0;
	/* Without SELinux there is nothing a label could be applied to and nothing that
	 * would enforce it: ignoring it is exactly what the label means on such a host.
	 * With SELinux enforcing, silently dropping it would weaken the container. */
	if (access("/sys/fs/selinux", F_OK) < 0)
		return 0;
	return berth_error(err, ENOTSUP, "linux.mountLabel: SELinux mount labels are not "
			   "supported by berth-runtime on this SELinux host");
}

int rootfs_prepare(const struct rootfs_ctx *ctx, berth_err *err)
{
	if (check_mount_label(ctx, err) < 0)
		return -err->code;
	unsigned long prop;
	if (root_propagation(ctx, &prop, err) < 0)
		return -err->code;
	/* Default as runc: slave, so host mounts still reach the container but nothing
	 * the container mounts reaches the host. A shared "/" would make pivot_root
	 * refuse; "shared" is applied to the new root after the pivot instead. */
	unsigned long initial = prop ? prop : MS_SLAVE | MS_REC;
	if (initial & MS_SHARED)
		initial = 0;
	if (initial && mount(NULL, "/", NULL, initial, NULL) < 0)
		return berth_error_errno(err, "linux.rootfsPropagation: cannot set it on /");
	if (make_parent_private(ctx->rootfs, err) < 0)
		return -err->code;
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berth_error_errno(err, "root.path: cannot bind %s onto itself", ctx->rootfs);
	_cleanup_close_ int rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_errno(err, "root.path: cannot open %s", ctx->rootfs);

	json_t *mounts = json_object_get(ctx->spec, "mounts");
	bool dev_is_bind = false, devpts = false, dev_ro = false;
	size_t i;
	json_t *m;
	json_array_foreach (mounts, i, m) {
		if (mount_one(ctx, rootfd, m, i, &dev_ro, err) < 0)
			return -err->code;
		_cleanup_free_ char *dest = mount_destination(m);
		const char *type = json_string_value(json_object_get(m, "type"));
		if (!strcmp(dest, "/dev")) {
			/* Like runc: a /dev bound from the host already has its devices. */
			struct mount_opts o;
			dev_is_bind = (type && !strcmp(type, "bind"));
			if (mount_options_parse(json_object_get(m, "options"), "mounts", &o, NULL) == 0) {
				dev_is_bind = dev_is_bind || o.bind;
				mount_opts_release(&o);
			}
		}
		if (!strcmp(dest, "/dev/pts") && type && !strcmp(type, "devpts"))
			devpts = true;
	}
	if (!dev_is_bind) {
		if (devices_create(rootfd, ctx->spec, ctx->new_userns, err) < 0 ||
		    devices_symlinks(rootfd, devpts, err) < 0)
			return -err->code;
	}
	if (dev_ro) {
		_cleanup_close_ int dev = path_open_in_root(rootfd, "/dev", O_PATH | O_CLOEXEC, 0, err);
		struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
		if (dev < 0)
			return -err->code;
		int r = setattr_fd(dev, false, &a);
		if (r < 0)
			return berth_error(err, -r, "mounts: cannot make /dev read-only");
	}
	return 0;
}

/* --- rootfs_pivot ---------------------------------------------------------------- */

static int move_root(const struct rootfs_ctx *ctx, berth_err *err)
{
	/* --no-pivot: for a root that cannot be pivoted (a ramfs initrd). The old root
	 * stays reachable for a process able to escape a chroot: runc warns the same. */
	if (chdir(ctx->rootfs) < 0)
		return berth_error_errno(err, "root.path: chdir %s", ctx->rootfs);
	if (mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return berth_error_errno(err, "root.path: moving %s onto /", ctx->rootfs);
	if (chroot(".") < 0)
		return berth_error_errno(err, "root.path: chroot");
	if (chdir("/") < 0)
		return berth_error_errno(err, "chdir / in the new root");
	return 0;
}

int rootfs_pivot(const struct rootfs_ctx *ctx, berth_err *err)
{
	if (ctx->no_pivot)
		return move_root(ctx, err);
	_cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return berth_error_errno(err, "opening the old root");
	_cleanup_close_ int newroot = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0)
		return berth_error_errno(err, "root.path: opening %s", ctx->rootfs);
	if (fchdir(newroot) < 0)
		return berth_error_errno(err, "root.path: chdir %s", ctx->rootfs);
	/* pivot_root(".", "."): the old root ends up stacked on the new one, and no
	 * directory for it has to exist inside the rootfs. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return berth_error_errno(err, "root.path: pivot_root into %s", ctx->rootfs);
	if (fchdir(oldroot) < 0)
		return berth_error_errno(err, "chdir to the old root");
	/* Slave first, so that detaching the old root cannot unmount anything on the
	 * host through propagation. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return berth_error_errno(err, "making the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return berth_error_errno(err, "detaching the old root");
	if (chdir("/") < 0)
		return berth_error_errno(err, "chdir / in the new root");
	return 0;
}

/* --- rootfs_finalize --------------------------------------------------------------- */

static int mask_path(int rootfd, const char *path, size_t i, berth_err *err)
{
	_cleanup_err_ berth_err lerr = BERTH_ERR_INIT;
	_cleanup_close_ int fd = path_open_in_root(rootfd, path, O_PATH | O_CLOEXEC, 0, &lerr);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return berth_error(err, -fd, "linux.maskedPaths[%zu]: %s", i, lerr.msg);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return berth_error_errno(err, "linux.maskedPaths[%zu]: stat %s", i, path);
	_cleanup_close_ int tree = -1;
	if (S_ISDIR(st.st_mode)) {
		/* An empty read-only tmpfs, made without a path so /proc is not needed. */
		_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
		if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			return berth_error_errno(err, "linux.maskedPaths[%zu]: creating a tmpfs", i);
		tree = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
		if (tree < 0)
			return berth_error_errno(err, "linux.maskedPaths[%zu]: fsmount", i);
	} else {
		/* Only a real /dev/null may cover a file: the image could have put anything
		 * there. */
		_cleanup_close_ int null =
			path_open_in_root(rootfd, "/dev/null", O_PATH | O_CLOEXEC, 0, err);
		if (null < 0)
			return berth_error_wrap(err, "linux.maskedPaths[%zu]", i);
		struct stat ns;
		if (fstat(null, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
			return berth_error(err, EINVAL, "linux.maskedPaths[%zu]: /dev/null in the "
					   "container is not the null device", i);
		tree = open_tree(null, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0)
			return berth_error_errno(err, "linux.maskedPaths[%zu]: cloning /dev/null", i);
	}
	if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_errno(err, "linux.maskedPaths[%zu]: masking %s", i, path);
	return 0;
}

static int readonly_path(int rootfd, const char *path, size_t i, berth_err *err)
{
	_cleanup_err_ berth_err lerr = BERTH_ERR_INIT;
	_cleanup_close_ int fd = path_open_in_root(rootfd, path, O_PATH | O_CLOEXEC, 0, &lerr);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return berth_error(err, -fd, "linux.readonlyPaths[%zu]: %s", i, lerr.msg);
	/* A bind of the path onto itself made read-only; only RDONLY is added, so flags
	 * the kernel locks (nosuid, nodev... of a mount from a more privileged user
	 * namespace) stay as they are. */
	_cleanup_close_ int tree =
		open_tree(fd, "", AT_EMPTY_PATH | AT_RECURSIVE | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return berth_error_errno(err, "linux.readonlyPaths[%zu]: cloning %s", i, path);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	int r = setattr_fd(tree, false, &a);
	if (r < 0)
		return berth_error(err, -r, "linux.readonlyPaths[%zu]: making %s read-only", i, path);
	if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_errno(err, "linux.readonlyPaths[%zu]: mounting %s", i, path);
	return 0;
}

int rootfs_finalize(const struct rootfs_ctx *ctx, berth_err *err)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_errno(err, "opening the container's root");
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(linux_obj(ctx), "readonlyPaths"), i, p) {
		const char *path = json_string_value(p);
		if (!path)
			return berth_error(err, EINVAL, "linux.readonlyPaths[%zu]: must be a string", i);
		if (readonly_path(rootfd, path, i, err) < 0)
			return -err->code;
	}
	json_array_foreach (json_object_get(linux_obj(ctx), "maskedPaths"), i, p) {
		const char *path = json_string_value(p);
		if (!path)
			return berth_error(err, EINVAL, "linux.maskedPaths[%zu]: must be a string", i);
		if (mask_path(rootfd, path, i, err) < 0)
			return -err->code;
	}
	if (json_is_true(json_object_get(json_object_get(ctx->spec, "root"), "readonly"))) {
		struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
		int r = setattr_fd(rootfd, false, &a);
		if (r < 0)
			return berth_error(err, -r, "root.readonly: cannot make / read-only");
	}
	unsigned long prop;
	if (root_propagation(ctx, &prop, err) < 0)
		return -err->code;
	if (prop & (MS_SHARED | MS_SLAVE)) {
		int r = set_propagation(rootfd, prop);
		if (r < 0)
			return berth_error(err, -r, "linux.rootfsPropagation: cannot set it on the "
					   "container's /");
	}
	return 0;
}
