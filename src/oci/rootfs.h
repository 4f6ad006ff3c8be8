/* rootfs.h - the container's filesystem view: mounts, devices, pivot, masking.
 *
 * Called in the container's init, in its new mount namespace, in this order:
 *   rootfs_prepare()    make / private-ish (rootfsPropagation), bind the rootfs on itself,
 *                       perform config.json "mounts" in order (each destination resolved
 *                       inside the rootfs: a symlink cannot send a mount to the host),
 *                       create or bind linux.devices and the default devices, /dev symlinks
 *   [createContainer hooks run here, by the caller]
 *   rootfs_pivot()      pivot_root into the rootfs and detach the old root (or, with
 *                       no_pivot, MS_MOVE + chroot); cwd is "/" of the new root afterwards
 *   rootfs_finalize()   maskedPaths, readonlyPaths, root.readonly, final propagation
 *
 *   mount_options_parse()  "ro,nosuid,rbind,rprivate,size=64m" -> flags, propagation, data
 *   mount_options_parse_typed()  same, knowing the mount's type: a bind mount (by option or
 *                       by type "bind") has no filesystem data, so an unknown option is an error
 *   mount_propagation_parse()  "rslave" -> MS_SLAVE|MS_REC (also for linux.rootfsPropagation)
 */
#ifndef BERTH_OCI_ROOTFS_H
#define BERTH_OCI_ROOTFS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct cgroup_manager;

struct rootfs_ctx {
	json_t *spec;                  /* the validated config.json */
	const char *rootfs;            /* absolute path of root.path */
	bool no_pivot;                 /* --no-pivot */
	bool new_userns;               /* devices must be bind-mounted, not mknod'ed */
	bool new_cgroupns;             /* for mounts of type cgroup */
	struct cgroup_manager *cgroup; /* for mounts of type cgroup; may be NULL */
};

struct mount_opts {
	unsigned long flags;       /* MS_* to set */
	unsigned long clear;       /* MS_* explicitly cleared (rw, suid, dev, exec, atime...) */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [|MS_REC] or 0 */
	unsigned long recattr_set; /* MOUNT_ATTR_* for "rro", "rnosuid"... (mount_setattr) */
	unsigned long recattr_clr;
	bool bind;                 /* bind or rbind */
	bool idmap;                /* "idmap" / "ridmap" */
	bool idmap_recursive;      /* "ridmap": idmap every mount of an rbind tree */
	bool tmpcopyup;            /* tmpfs: copy what was under the mount point into it */
	char *data;                /* the remaining fs-specific options, comma-joined, or NULL */
};

int mount_options_parse(json_t *options, const char *field, struct mount_opts *out,
			berth_err *err);
int mount_options_parse_typed(json_t *options, const char *field, const char *type,
			      struct mount_opts *out, berth_err *err);
void mount_opts_release(struct mount_opts *o);
/* Returns false for an unknown name; "" gives 0. */
bool mount_propagation_parse(const char *name, unsigned long *out);

int rootfs_prepare(const struct rootfs_ctx *ctx, berth_err *err);
int rootfs_pivot(const struct rootfs_ctx *ctx, berth_err *err);
int rootfs_finalize(const struct rootfs_ctx *ctx, berth_err *err);

#endif
