/* fileio.h - whole-file reads and writes, atomic where it matters.
 *
 *   file_write_atomic()  write to a temp name in the same dir, fsync, rename over name
 *   file_write_atomic_flags()  the same; FILE_NO_SYNC skips the fsync, for state that
 *                        means nothing after a reboot (a kill -9 loses nothing either way:
 *                        the page cache survives the process)
 *   file_write_at()      open an existing file (no create, no truncate) and write all of it;
 *                        for cgroup, /proc and /sys knobs, error names the file
 *   file_read_at()       read a whole file into a NUL-terminated malloc'd buffer
 *   file_read()          same with a path
 *   fd_write_all()       write(2) until done, retrying EINTR and short writes
 *   fd_read_all()        read until EOF into a malloc'd NUL-terminated buffer
 */
#ifndef BERTH_FILEIO_H
#define BERTH_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

int file_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      berth_err *err);
#define FILE_NO_SYNC 1u
int file_write_atomic_flags(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			    unsigned int flags, berth_err *err);
int file_write_at(int dirfd, const char *name, const void *data, size_t len, berth_err *err);
int file_read_at(int dirfd, const char *name, char **out, size_t *len, berth_err *err);
int file_read(const char *path, char **out, size_t *len, berth_err *err);
int fd_write_all(int fd, const void *data, size_t len);
int fd_read_all(int fd, char **out, size_t *len);

#endif
