/* path.c - resolving paths inside a rootfs so that the container cannot redirect them.
 *
 * The fast path is openat2(2) with RESOLVE_IN_ROOT. The fallback (kernels
 * without openat2, or forced by tests) walks one component at a time from the
 * root fd: every component is opened O_PATH|O_NOFOLLOW, symlinks are read with
 * readlinkat and spliced into the remaining path, absolute targets restart at
 * the root, and ".." at the root stays at the root. The same walker creates
 * missing directories / files for path_mkdir_in_root() and
 * path_mkfile_in_root(), which therefore never follow a symlink out of the root
 * either. Also here: the lexical helpers path_clean() and path_join().
 */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

#define SYMLINK_BUDGET 40
#define OPENAT2_EAGAIN_RETRIES 64

static bool force_fallback;
static bool openat2_missing;

void path_force_fallback(bool on)
{
	force_fallback = on;
}

static bool use_openat2(void)
{
	return !force_fallback && !openat2_missing;
}

/* openat2 refuses flags that plain openat ignores; keep only what it accepts. */
static int openat2_flags(int flags)
{
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
	return flags | O_CLOEXEC;
}

/* Returns the fd, or -errno; -ENOSYS marks openat2 as missing for later calls. */
static int do_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)openat2_flags(flags),
		.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
		.resolve = resolve,
	};
	for (int i = 0; i < OPENAT2_EAGAIN_RETRIES; i++) {
		long r = TEMP_FAILURE_RETRY_INT(syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
		if (r >= 0)
			return (int)r;
		/* EAGAIN: a concurrent rename or mount made the kernel refuse to
		 * vouch for "..": just try again. */
		if (errno != EAGAIN) {
			if (errno == ENOSYS)
				openat2_missing = true;
			return -errno;
		}
	}
	return -EAGAIN;
}

/* --- the component walker ------------------------------------------------ */

enum walk_mode {
	WALK_OPEN,  /* open the final component with flags */
	WALK_MKDIR, /* create every missing component as a directory */
	WALK_MKFILE /* directories for the parents, an empty file for the last */
};

struct walk {
	const char *path; /* as given, for messages */
	const char *what; /* message prefix, e.g. "opening" */
	enum walk_mode mode;
	bool clamp;       /* RESOLVE_IN_ROOT: ".." and absolute paths stop at stack[0] */
	bool no_symlinks; /* RESOLVE_NO_SYMLINKS: any symlink to follow is ELOOP */
	int flags;
	mode_t fmode;
	berth_err *err;

	/* stack[0] is the caller's fd (not owned); the rest are owned O_PATH dirs. */
	int *stack;
	size_t depth; /* index of the current directory */
	size_t cap;
};

static void walk_free(struct walk *w)
{
	for (size_t i = 1; i <= w->depth; i++)
		close(w->stack[i]);
	free(w->stack);
	w->stack = NULL;
	w->depth = 0;
}

static int walk_top(const struct walk *w)
{
	return w->stack[w->depth];
}

static void walk_push(struct walk *w, int fd)
{
	if (w->depth + 1 >= w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->stack = xrealloc(w->stack, w->cap * sizeof(int));
	}
	w->stack[++w->depth] = fd;
}

static void walk_pop_to_root(struct walk *w)
{
	while (w->depth > 0)
		close(w->stack[w->depth--]);
}

static int walk_fail(struct walk *w, int errnum, const char *comp)
{
	if (comp)
		return berth_error(w->err, errnum, "%s %s: component \"%s\"", w->what, w->path, comp);
	return berth_error(w->err, errnum, "%s %s", w->what, w->path);
}

/* An absolute path: back to the root (clamped) or to the real "/". */
static int walk_restart_absolute(struct walk *w)
{
	if (w->clamp) {
		walk_pop_to_root(w);
		return 0;
	}
	int fd = TEMP_FAILURE_RETRY_INT(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return walk_fail(w, errno, "/");
	walk_push(w, fd);
	return 0;
}

static int walk_dotdot(struct walk *w)
{
	if (w->clamp) {
		if (w->depth > 0)
			close(w->stack[w->depth--]);
		return 0;
	}
	/* Unclamped: the real parent, which a pushed ".." must not undo by popping. */
	int fd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return walk_fail(w, errno, "..");
	walk_push(w, fd);
	return 0;
}

/* Read the target of the symlink that O_PATH fd refers to. */
static char *read_link_fd(int fd, size_t hint)
{
	size_t size = hint + 1 < 128 ? 128 : hint + 1;
	for (;;) {
		char *buf = xmalloc(size);
		ssize_t n = readlinkat(fd, "", buf, size);
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if ((size_t)n < size) {
			buf[n] = '\0';
			return buf;
		}
		free(buf);
		size *= 2;
	}
}

/* Open comp in the current dir as O_PATH|O_NOFOLLOW, creating it first when the
 * walk mode says so. Returns the fd or -errno (err not set). */
static int walk_probe(struct walk *w, const char *comp, bool last)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), comp, O_PATH | O_NOFOLLOW | O_CLOEXEC));
		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : -errno;
		if (w->mode == WALK_OPEN)
			return -ENOENT;
		if (last && w->mode == WALK_MKFILE) {
			int f = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), comp,
							      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
								      O_CLOEXEC,
							      w->fmode));
			if (f < 0 && errno != EEXIST)
				return -errno;
			if (f >= 0)
				close(f);
		} else if (mkdirat(walk_top(w), comp, w->mode == WALK_MKFILE ? 0755 : w->fmode) < 0 &&
			   errno != EEXIST) {
			return -errno;
		}
	}
	/* Something keeps removing what we create. */
	return -EAGAIN;
}

/* The path ended on a directory already on the stack ("", "/", "a/.."). */
static int walk_finish_here(struct walk *w)
{
	int fd;
	if (w->mode == WALK_MKFILE)
		return walk_fail(w, EISDIR, NULL);
	if (w->mode == WALK_MKDIR)
		fd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
	else
		fd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), ".", w->flags | O_CLOEXEC, w->fmode));
	if (fd < 0)
		return walk_fail(w, errno, NULL);
	return fd;
}

static int walk_run(struct walk *w)
{
	_cleanup_free_ char *rest = xstrdup(w->path);
	size_t pos = 0;
	int budget = SYMLINK_BUDGET;
	int r;

	if (rest[0] == '/' && (r = walk_restart_absolute(w)) < 0)
		return r;

	for (;;) {
		while (rest[pos] == '/')
			pos++;
		if (!rest[pos])
			return walk_finish_here(w);

		size_t start = pos;
		while (rest[pos] && rest[pos] != '/')
			pos++;
		size_t after = pos;
		while (rest[after] == '/')
			after++;
		bool last = !rest[after];
		bool trailing_slash = last && after > pos;
		_cleanup_free_ char *comp = xstrndup(rest + start, pos - start);

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if ((r = walk_dotdot(w)) < 0)
				return r;
			continue;
		}

		_cleanup_close_ int fd = -1;
		fd = walk_probe(w, comp, last);
		if (fd < 0) {
			if (fd == -ENOENT && last && w->mode == WALK_OPEN && (w->flags & O_CREAT)) {
				/* O_NOFOLLOW: if a symlink appeared meanwhile, fail rather than follow it. */
				int nfd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), comp,
									w->flags | O_NOFOLLOW | O_CLOEXEC,
									w->fmode));
				if (nfd < 0)
					return walk_fail(w, errno, comp);
				return nfd;
			}
			return walk_fail(w, -fd, comp);
		}

		struct stat st;
		if (fstat(fd, &st) < 0)
			return walk_fail(w, errno, comp);

		if (S_ISLNK(st.st_mode)) {
			/* O_CREAT|O_EXCL never follows a final link: the open below then
			 * fails with EEXIST, as open(2) does. */
			bool excl = (w->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
			bool follow = !last || trailing_slash || w->mode != WALK_OPEN ||
				      !(w->flags & O_NOFOLLOW || excl);
			if (follow) {
				if (w->no_symlinks || --budget < 0)
					return walk_fail(w, ELOOP, comp);
				_cleanup_free_ char *target = read_link_fd(fd, (size_t)st.st_size);
				if (!target)
					return walk_fail(w, errno, comp);
				if (!target[0])
					return walk_fail(w, ENOENT, comp);
				/* Keep a trailing slash: it still asks for a directory. */
				char *spliced = last ? xasprintf("%s%s", target, trailing_slash ? "/" : "")
						     : xasprintf("%s/%s", target, rest + after);
				free(rest);
				rest = spliced;
				pos = 0;
				if (target[0] == '/' && (r = walk_restart_absolute(w)) < 0)
					return r;
				continue;
			}
		}

		if (!last) {
			if (!S_ISDIR(st.st_mode))
				return walk_fail(w, ENOTDIR, comp);
			walk_push(w, TAKE_FD(fd));
			continue;
		}

		switch (w->mode) {
		case WALK_MKDIR:
			if (!S_ISDIR(st.st_mode))
				return walk_fail(w, ENOTDIR, comp);
			return TAKE_FD(fd);
		case WALK_MKFILE:
			if (trailing_slash && !S_ISDIR(st.st_mode))
				return walk_fail(w, ENOTDIR, comp);
			return TAKE_FD(fd);
		case WALK_OPEN:
			break;
		}
		if (trailing_slash && !S_ISDIR(st.st_mode))
			return walk_fail(w, ENOTDIR, comp);
		int ofd = TEMP_FAILURE_RETRY_INT(openat(walk_top(w), comp,
							w->flags | O_NOFOLLOW | O_CLOEXEC, w->fmode));
		if (ofd < 0)
			return walk_fail(w, errno, comp);
		return ofd;
	}
}

static int walk_path(int dirfd, const char *path, enum walk_mode mode, bool clamp, bool no_symlinks,
		     int flags, mode_t fmode, const char *what, berth_err *err)
{
	struct walk w = {
		.path = path,
		.what = what,
		.mode = mode,
		.clamp = clamp,
		.no_symlinks = no_symlinks,
		.flags = flags,
		.fmode = fmode,
		.err = err,
		.stack = xmalloc(16 * sizeof(int)),
		.depth = 0,
		.cap = 16,
	};
	w.stack[0] = dirfd;
	int r = walk_run(&w);
	walk_free(&w);
	return r;
}

/* --- public lookups -------------------------------------------------------- */

static const char *nonempty(const char *path)
{
	return path && path[0] ? path : ".";
}

int path_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_err *err)
{
	path = nonempty(path);
	if (use_openat2()) {
		int r = do_openat2(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (r >= 0)
			return r;
		if (r != -ENOSYS)
			return berth_error(err, -r, "opening %s inside the root", path);
	}
	return walk_path(rootfd, path, WALK_OPEN, true, false, flags, mode, "opening", err);
}

int path_mkdir_in_root(int rootfd, const char *path, mode_t mode, berth_err *err)
{
	path = nonempty(path);
	/* Usually everything exists already: one syscall. Otherwise the walker
	 * creates what is missing and reports precisely what is in the way. */
	if (use_openat2()) {
		int r = do_openat2(rootfd, path, O_PATH | O_DIRECTORY, 0,
				   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (r >= 0)
			return r;
	}
	return walk_path(rootfd, path, WALK_MKDIR, true, false, 0, mode, "creating directory", err);
}

int path_mkfile_in_root(int rootfd, const char *path, mode_t mode, berth_err *err)
{
	path = nonempty(path);
	if (use_openat2()) {
		int r = do_openat2(rootfd, path, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (r >= 0)
			return r;
	}
	return walk_path(rootfd, path, WALK_MKFILE, true, false, 0, mode, "creating file", err);
}

int path_open_no_symlinks(int dirfd, const char *path, int flags, mode_t mode, berth_err *err)
{
	path = nonempty(path);
	if (use_openat2()) {
		int r = do_openat2(dirfd, path, flags, mode, RESOLVE_NO_SYMLINKS);
		if (r >= 0)
			return r;
		if (r != -ENOSYS)
			return berth_error(err, -r, "opening %s without following symlinks", path);
	}
	return walk_path(dirfd, path, WALK_OPEN, false, true, flags, mode,
			 "opening without following symlinks", err);
}

/* --- names ------------------------------------------------------------------ */

const char *path_fd_proc(int fd, char buf[PATH_FD_PROC_MAX])
{
	snprintf(buf, PATH_FD_PROC_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

char *path_fd_to_path(int fd)
{
	char proc[PATH_FD_PROC_MAX];
	path_fd_proc(fd, proc);
	for (size_t size = 256;; size *= 2) {
		char *buf = xmalloc(size);
		ssize_t n = readlink(proc, buf, size);
		if (n < 0) {
			/* Only for messages: a name that still says which fd it was. */
			free(buf);
			return xstrdup(proc);
		}
		if ((size_t)n < size) {
			buf[n] = '\0';
			return buf;
		}
		free(buf);
	}
}

char *path_join(const char *a, const char *b)
{
	size_t alen = strlen(a);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	if (alen == 0)
		return xstrdup(b);
	if (!*b)
		return xstrndup(a, alen);
	if (a[alen - 1] == '/') /* a is "/" */
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)alen, a, b);
}

/* Like Go's filepath.Clean: the shortest lexically equivalent path. ".." at
 * the root of an absolute path is dropped; leading ".." of a relative path stays. */
char *path_clean(const char *path)
{
	if (!path || !*path)
		return xstrdup(".");
	size_t n = strlen(path);
	bool rooted = path[0] == '/';
	char *out = xmalloc(n + 2);
	size_t w = 0;
	size_t dotdot = 0; /* out[0..dotdot) cannot be removed by ".." */
	size_t r = 0;
	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < n && path[r] != '/')
				out[w++] = path[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

bool path_is_abs_clean(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	_cleanup_free_ char *c = path_clean(path);
	return strcmp(c, path) == 0;
}
