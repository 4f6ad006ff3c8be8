/* rmtree.c - remove a directory tree without following symlinks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "rmtree.h"

/* Empty the directory open as fd (consumed). dev is its device, for the
 * mount-point check. */
static int empty_dir(int fd, dev_t dev, const char *what, berth_err *err)
{
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return berth_error_errno(err, "remove %s", what);
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int dfd = dirfd(d);
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int sub = openat(dfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				struct stat st;
				if (fstat(sub, &st) < 0) {
					close(sub);
					return berth_error_errno(err, "remove %s/%s", what,
								 de->d_name);
				}
				if (st.st_dev != dev) {
					close(sub);
					return berth_error(err, EBUSY,
							   "remove %s/%s: a mount point", what,
							   de->d_name);
				}
				int r = empty_dir(sub, dev, what, err);
				if (r < 0)
					return r;
				if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
					return berth_error_errno(err, "remove %s/%s", what,
								 de->d_name);
				errno = 0;
				continue;
			}
			if (errno != ENOTDIR && errno != ELOOP && errno != ENOENT)
				return berth_error_errno(err, "remove %s/%s", what, de->d_name);
		}
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT)
			return berth_error_errno(err, "remove %s/%s", what, de->d_name);
		errno = 0;
	}
	if (errno)
		return berth_error_errno(err, "read directory %s", what);
	return 0;
}

int rm_rf_at(int dirfd, const char *name, berth_err *err)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return berth_error_errno(err, "remove %s", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : berth_error_errno(err, "remove %s", name);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return berth_error_errno(err, "remove %s", name);
	}
	int r = empty_dir(fd, st.st_dev, name, err);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berth_error_errno(err, "remove %s", name);
	return 0;
}
