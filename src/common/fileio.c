/* fileio.c - whole-file reads and writes: atomic replace for state files, single-write
 * for kernel knobs (cgroup, /proc, /sys), and reads that do not trust st_size. */
#include "fileio.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fd_read_all(int fd, char **out, size_t *len)
{
	struct stat st;
	size_t cap = 4096;
	/* /proc and /sys files report st_size 0 (or a page): only EOF is authoritative. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX - 1)
		cap = (size_t)st.st_size + 1;
	char *buf = xmalloc(cap);
	size_t used = 0;
	for (;;) {
		if (cap - used < 2) {
			if (cap > SIZE_MAX / 2) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

int file_read_at(int dirfd, const char *name, char **out, size_t *len, berth_err *err)
{
	_cleanup_close_ int fd = TEMP_FAILURE_RETRY_INT(
		openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
	if (fd < 0)
		return berth_error_errno(err, "reading %s", name);
	int r = fd_read_all(fd, out, len);
	if (r < 0)
		return berth_error(err, -r, "reading %s", name);
	return 0;
}

int file_read(const char *path, char **out, size_t *len, berth_err *err)
{
	return file_read_at(AT_FDCWD, path, out, len, err);
}

int file_write_at(int dirfd, const char *name, const void *data, size_t len, berth_err *err)
{
	/* No O_CREAT/O_TRUNC: a knob that is missing must be an error, not a new file. */
	_cleanup_close_ int fd = TEMP_FAILURE_RETRY_INT(openat(dirfd, name, O_WRONLY | O_CLOEXEC));
	if (fd < 0)
		return berth_error_errno(err, "writing %s", name);
	/* One write(2) for the whole value: cgroup files parse each write on its own. */
	ssize_t n = TEMP_FAILURE_RETRY_INT(write(fd, data, len));
	if (n < 0)
		return berth_error_errno(err, "writing %s", name);
	if ((size_t)n < len) {
		/* Only ordinary files write short; finish those. */
		int r = fd_write_all(fd, (const char *)data + n, len - (size_t)n);
		if (r < 0)
			return berth_error(err, -r, "writing %s", name);
	}
	int r = close(TAKE_FD(fd));
	if (r < 0 && errno != EINTR)
		return berth_error_errno(err, "writing %s", name);
	return 0;
}

static uint64_t temp_suffix(void)
{
	uint64_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	static uint64_t counter;
	return ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ++counter;
}

int file_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      berth_err *err)
{
	return file_write_atomic_flags(dirfd, name, data, len, mode, 0, err);
}

int file_write_atomic_flags(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    unsigned int flags, berth_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	for (int attempt = 0; fd < 0; attempt++) {
		free(tmp);
		tmp = xasprintf("%s.tmp.%d.%016" PRIx64, name, (int)getpid(), temp_suffix());
		fd = TEMP_FAILURE_RETRY_INT(
			openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
		if (fd < 0 && (errno != EEXIST || attempt >= 16))
			return berth_error_errno(err, "writing %s: creating %s", name, tmp);
	}

	int r = fd_write_all(fd, data, len);
	const char *step = "write";
	/* On tmpfs (the runtime's /run state) there is no disk to wait for, yet
	 * fsync still costs a tenth of a millisecond or more. */
	struct statfs sf;
	bool volatile_fs = fstatfs(fd, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
	if (r == 0 && !volatile_fs && !(flags & FILE_NO_SYNC) && fsync(fd) < 0) {
		r = -errno;
		step = "fsync";
	}
	if (r == 0 && close(TAKE_FD(fd)) < 0 && errno != EINTR) {
		r = -errno;
		step = "close";
	}
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		step = "rename";
	}
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return berth_error(err, -r, "writing %s: %s of %s", name, step, tmp);
	}
	return 0;
}
