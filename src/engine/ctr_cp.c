/* ctr_cp.c - a container's filesystem for `cp`.
 *
 * A running container's is its mounted rootfs. A stopped one's overlay is
 * mounted here with the same layers, upper and work dirs as a start would,
 * opened, and detached at once: the open directory keeps it alive for as
 * long as the copy needs it, and nothing stays mounted should berth die.
 * The container's lock is held meanwhile, so it cannot start (and mount the
 * same upper dir a second time) under the copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "oci/state.h"

struct ctr_fs {
	int lock;
	int rootfd;
};

void ctr_cp_close(struct ctr_fs *fs)
{
	if (!fs)
		return;
	if (fs->rootfd >= 0)
		close(fs->rootfd);
	if (fs->lock >= 0)
		close(fs->lock);
	free(fs);
}

static int mount_stopped(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_free_ char *dir = ctr_dir(e, row->id);
	_cleanup_free_ char *base = xasprintf("%s/cp", e->runroot);
	int r = mkdir_parents(base, 0700);
	if (r < 0)
		return berth_error(err, -r, "cannot create %s", base);
	/* A container never started has no layer yet: make it as a start would. */
	_cleanup_free_ char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir);
	if ((r = mkdir_parents(upper, 0755)) < 0 || (r = mkdir_parents(work, 0700)) < 0)
		return berth_error(err, -r, "cannot create the container's layer in %s", dir);
	_cleanup_free_ char *mnt = xasprintf("%s/%.12s.XXXXXX", base, row->id);
	if (!mkdtemp(mnt))
		return berth_error_errno(err, "cannot create %s", mnt);
	if ((r = ctr_mount_rootfs(e, row, dir, mnt, err)) < 0) {
		rmdir(mnt);
		return r;
	}
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = berth_error_errno(err, "cannot open %s", mnt);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	return fd < 0 ? r : fd;
}

int ctr_cp_open(struct engine *e, const char *id, struct ctr_fs **out, int *rootfd, berth_err *err)
{
	struct ctr_fs *fs = xcalloc(1, sizeof(*fs));
	fs->rootfd = -1;
	fs->lock = ctr_lock(e, id, err);
	if (fs->lock < 0) {
		free(fs);
		return -EIO;
	}
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r = ctr_row_load(e, id, &row, err);
	if (r == 0)
		r = ctr_refresh(e, &row, err);
	if (r == 0 && json_is_true(json_object_get(row.state, "Running"))) {
		_cleanup_free_ char *run = ctr_rundir(e, id);
		_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", run);
		fs->rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fs->rootfd < 0)
			r = berth_error_errno(err, "cannot open the container's filesystem %s",
					      rootfs);
	} else if (r == 0) {
		fs->rootfd = r = mount_stopped(e, &row, err);
	}
	if (r < 0) {
		ctr_cp_close(fs);
		return r;
	}
	*rootfd = fs->rootfd;
	*out = fs;
	return 0;
}
