/* devices.c - device nodes and the /dev symlinks inside the container's rootfs.
 *
 * Every node is created relative to a directory fd resolved inside the rootfs, so a
 * symlink planted in the image ("dev -> /") cannot make us mknod or mount on the host.
 * Outside a user namespace the nodes are made with mknodat(); inside one mknod of a
 * device is refused, so (as runc does) the host's node of the same path is bind-mounted
 * onto an empty file instead. FIFOs need no privilege and are always made.
 */
#include "oci/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/xalloc.h"

struct device {
	char *path; /* cleaned, absolute */
	char type;  /* 'c', 'b', 'u' (unbuffered char), 'p' (fifo) */
	unsigned int major, minor;
	mode_t perm;
	uid_t uid;
	gid_t gid;
	char *field; /* for messages: "linux.devices[3]" or "default device /dev/null" */
};

static const struct {
	const char *path;
	unsigned int major, minor;
} default_devices[] = {
	{ "/dev/null", 1, 3 },	  { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static void device_release(struct device *d)
{
	free(d->path);
	free(d->field);
}

static mode_t device_fmt(char type)
{
	switch (type) {
	case 'b':
		return S_IFBLK;
	case 'p':
		return S_IFIFO;
	default:
		return S_IFCHR;
	}
}

/* Read an optional non-negative integer no larger than max. */
static int get_uint(json_t *obj, const char *key, uint64_t max, uint64_t def, uint64_t *out,
		    const char *field, berth_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return berth_error(err, EINVAL, "%s.%s: must be an integer between 0 and %llu",
				   field, key, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int device_from_json(json_t *j, size_t idx, struct device *d, berth_err *err)
{
	_cleanup_free_ char *field = xasprintf("linux.devices[%zu]", idx);
	const char *path = json_string_value(json_object_get(j, "path"));
	const char *type = json_string_value(json_object_get(j, "type"));
	if (!path || !*path)
		return berth_error(err, EINVAL, "%s.path: must be a non-empty string", field);
	if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
		return berth_error(err, EINVAL, "%s.type: must be \"c\", \"b\", \"u\" or \"p\"",
				   field);
	uint64_t major, minor, mode, uid, gid;
	bool fifo = type[0] == 'p';
	if (!fifo && (!json_object_get(j, "major") || !json_object_get(j, "minor")))
		return berth_error(err, EINVAL, "%s: major and minor are required for type \"%s\"",
				   field, type);
	/* dev_t holds a 12-bit major and a 20-bit minor. */
	if (get_uint(j, "major", 0xfff, 0, &major, field, err) < 0 ||
	    get_uint(j, "minor", 0xfffff, 0, &minor, field, err) < 0 ||
	    get_uint(j, "fileMode", 0xffffffff, 0666, &mode, field, err) < 0 ||
	    get_uint(j, "uid", 0xfffffffe, 0, &uid, field, err) < 0 ||
	    get_uint(j, "gid", 0xfffffffe, 0, &gid, field, err) < 0)
		return -EINVAL;
	/* The type bits may be given in fileMode; what matters are the permissions. */
	mode &= ~(uint64_t)S_IFMT;
	if (mode > 07777)
		return berth_error(err, EINVAL, "%s.fileMode: %llo is not a file mode", field,
				   (unsigned long long)mode);
	_cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : xasprintf("/%s", path);
	_cleanup_free_ char *clean = path_clean(abs);
	if (!strcmp(clean, "/"))
		return berth_error(err, EINVAL, "%s.path: \"%s\" names the root directory", field,
				   path);
	*d = (struct device){
		.path = TAKE_PTR(clean),
		.type = type[0],
		.major = (unsigned int)major,
		.minor = (unsigned int)minor,
		.perm = (mode_t)mode,
		.uid = (uid_t)uid,
		.gid = (gid_t)gid,
		.field = TAKE_PTR(field),
	};
	return 0;
}

/* An existing node is kept if it is the requested device (a runtime may be asked to
 * create a device the image already has); anything else is an error, as the spec says. */
static int check_existing(int dirfd, const char *base, const struct device *d, berth_err *err)
{
	struct stat st;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_errno(err, "%s: cannot inspect existing %s", d->field, d->path);
	mode_t fmt = device_fmt(d->type);
	if ((st.st_mode & S_IFMT) == fmt &&
	    (fmt == S_IFIFO || st.st_rdev == makedev(d->major, d->minor)))
		return 0;
	/* An empty file is what a bind of the host's node goes onto: a previous run
	 * (or the image) may have left one. */
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return 1;
	return berth_error(err, EEXIST, "%s: %s already exists and is not the requested device",
			   d->field, d->path);
}

static int bind_host_node(int dirfd, const char *base, const struct device *d, berth_err *err)
{
	_cleanup_close_ int host = open(d->path, O_PATH | O_CLOEXEC);
	if (host < 0)
		return berth_error_errno(err,
					 "%s: in a user namespace devices are bind-mounted from "
					 "the host, but the host's %s cannot be opened",
					 d->field, d->path);
	struct stat st;
	if (fstat(host, &st) < 0)
		return berth_error_errno(err, "%s: stat of the host's %s", d->field, d->path);
	if ((st.st_mode & S_IFMT) != device_fmt(d->type) ||
	    st.st_rdev != makedev(d->major, d->minor))
		return berth_error(err, ENODEV,
				   "%s: the host's %s is not device %c %u:%u, which cannot be "
				   "made in a user namespace",
				   d->field, d->path, d->type, d->major, d->minor);
	int fd = openat(dirfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return berth_error_errno(err, "%s: cannot create the mount point %s", d->field,
					 d->path);
	if (fd >= 0)
		close(fd);
	_cleanup_close_ int target = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0)
		return berth_error_errno(err, "%s: cannot open the mount point %s", d->field,
					 d->path);
	char src[PATH_FD_PROC_MAX], dst[PATH_FD_PROC_MAX];
	if (mount(path_fd_proc(host, src), path_fd_proc(target, dst), NULL, MS_BIND, NULL) < 0)
		return berth_error_errno(err, "%s: cannot bind-mount the host's %s", d->field,
					 d->path);
	return 0;
}

static int create_device(int rootfd, const struct device *d, bool new_userns, berth_err *err)
{
	_cleanup_free_ char *dir = xstrdup(d->path);
	char *slash = strrchr(dir, '/');
	const char *base = d->path + (slash - dir) + 1;
	*slash = '\0';
	_cleanup_close_ int dirfd = path_mkdir_in_root(rootfd, *dir ? dir : "/", 0755, err);
	if (dirfd < 0)
		return berth_error_wrap(err, "%s", d->field);

	bool need_bind = new_userns && d->type != 'p';
	if (!need_bind) {
		dev_t dev = d->type == 'p' ? 0 : makedev(d->major, d->minor);
		if (mknodat(dirfd, base, device_fmt(d->type) | d->perm, dev) < 0) {
			if (errno == EEXIST) {
				int r = check_existing(dirfd, base, d, err);
				if (r < 0)
					return r;
				if (r == 0)
					return 0;
				need_bind = true;
			} else if (errno == EPERM && d->type != 'p') {
				/* No CAP_MKNOD (or a devices cgroup saying no): the
				 * host's node will do. */
				need_bind = true;
			} else {
				return berth_error_errno(err, "%s: mknod %s", d->field, d->path);
			}
		}
	} else {
		struct stat st;
		if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			int r = check_existing(dirfd, base, d, err);
			if (r <= 0)
				return r;
		}
	}
	if (need_bind)
		return bind_host_node(dirfd, base, d, err);
	/* mknod's mode went through the umask: set what was asked for. The node was just
	 * made by us in a directory fd inside the rootfs. */
	if (fchmodat(dirfd, base, d->perm, 0) < 0)
		return berth_error_errno(err, "%s: chmod %s", d->field, d->path);
	if (fchownat(dirfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_errno(err, "%s: chown %s to %u:%u", d->field, d->path,
					 (unsigned)d->uid, (unsigned)d->gid);
	return 0;
}

int devices_create(int rootfd, json_t *spec, bool new_userns, berth_err *err)
{
	json_t *list = json_object_get(json_object_get(spec, "linux"), "devices");
	size_t n = json_array_size(list);
	struct device *devs = xcalloc(n ? n : 1, sizeof(*devs));
	size_t made = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		r = device_from_json(json_array_get(list, i), i, &devs[i], err);
		if (r < 0)
			goto done;
		made++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		bool overridden = false;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(devs[k].path, default_devices[i].path))
				overridden = true;
		if (overridden)
			continue;
		_cleanup_free_ char *field = xasprintf("default device %s", default_devices[i].path);
		struct device d = {
			.path = (char *)default_devices[i].path,
			.type = 'c',
			.major = default_devices[i].major,
			.minor = default_devices[i].minor,
			.perm = 0666,
			.field = field,
		};
		r = create_device(rootfd, &d, new_userns, err);
		if (r < 0)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		r = create_device(rootfd, &devs[i], new_userns, err);
		if (r < 0)
			goto done;
	}
done:
	for (size_t i = 0; i < made; i++)
		device_release(&devs[i]);
	free(devs);
	return r;
}

int devices_symlinks(int rootfd, bool devpts_at_dev_pts, berth_err *err)
{
	static const struct {
		const char *target, *name;
	} links[] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
		{ "/proc/kcore", "core" },
	};
	_cleanup_close_ int devfd = path_mkdir_in_root(rootfd, "/dev", 0755, err);
	if (devfd < 0)
		return berth_error_wrap(err, "creating /dev symlinks");
	/* The host's /proc is still the one visible here; a kernel without
	 * /proc/kcore gets no /dev/core, as with runc. */
	bool kcore = access("/proc/kcore", F_OK) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (!strcmp(links[i].name, "core") && !kcore)
			continue;
		if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
			return berth_error_errno(err, "symlink /dev/%s -> %s", links[i].name,
						 links[i].target);
	}
	if (!devpts_at_dev_pts)
		return 0;
	/* With a private devpts instance, /dev/ptmx must be its ptmx, not the host's. */
	if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
		return berth_error_errno(err, "removing /dev/ptmx to link it to pts/ptmx");
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return berth_error_errno(err, "symlink /dev/ptmx -> pts/ptmx");
	return 0;
}
