/* path.h - path work that a container cannot redirect.
 *
 * Everything that touches a path inside a rootfs goes through here: the
 * rootfs is opened once as a directory fd and every lookup is resolved as
 * if that fd were "/" (openat2 RESOLVE_IN_ROOT). Symlinks inside the rootfs
 * are followed but clamped to the rootfs; ".." cannot climb out. Where
 * openat2 is missing (ENOSYS, kernels < 5.6) the same semantics are done by
 * walking one component at a time with O_NOFOLLOW and readlinkat.
 *
 *   path_open_in_root()      open path (relative to rootfd, clamped) with flags
 *   path_mkdir_in_root()     mkdir -p inside the root; returns an O_PATH fd of the last dir
 *   path_mkfile_in_root()    create parents (0755) and an empty file (mode) if missing; O_PATH fd
 *   path_open_no_symlinks()  open refusing any symlink on the way (RESOLVE_NO_SYMLINKS)
 *   path_fd_proc()           "/proc/self/fd/N" for an fd, to hand to mount(2)
 *   path_join()              a/b with one slash, newly allocated
 *   path_clean()             lexical clean: collapse //, ., and .. (never above /)
 *   path_is_abs_clean()      true if path is absolute and path_clean() leaves it unchanged
 *   path_fd_to_path()        readlink of /proc/self/fd/N (for messages)
 */
#ifndef BERTH_PATH_H
#define BERTH_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* flags are open(2) flags (O_PATH, O_RDONLY|O_DIRECTORY, O_CREAT...); mode for O_CREAT.
 * Returns the fd or a negative errno with err set naming path. */
int path_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_err *err);
int path_mkdir_in_root(int rootfd, const char *path, mode_t mode, berth_err *err);
int path_mkfile_in_root(int rootfd, const char *path, mode_t mode, berth_err *err);
int path_open_no_symlinks(int dirfd, const char *path, int flags, mode_t mode, berth_err *err);

/* buf must hold at least PATH_FD_PROC_MAX bytes. */
#define PATH_FD_PROC_MAX 32
const char *path_fd_proc(int fd, char buf[PATH_FD_PROC_MAX]);
char *path_join(const char *a, const char *b);
char *path_clean(const char *path);
bool path_is_abs_clean(const char *path);
char *path_fd_to_path(int fd);

/* Test hook: force the non-openat2 fallback (for unit tests). */
void path_force_fallback(bool on);

#endif
