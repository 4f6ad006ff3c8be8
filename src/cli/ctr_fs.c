/* ctr_fs.c - a container's filesystem: `diff`, `commit` and `cp`.
 *
 * cp moves files as a tar stream, as Docker does: the source side packs
 * (layer_pack_entry), the destination side unpacks into a directory
 * (layer_extract), which never follows a symlink the stream made. Paths in
 * a container are resolved inside its root (symlinks clamped to it). Which
 * directory receives what, under which name, is Docker's rule:
 *   SRC a file:  DEST a dir -> DEST/basename(SRC); else DEST itself (its
 *                parent must exist; "DEST/" must be an existing dir)
 *   SRC a dir:   DEST a dir -> DEST/basename(SRC), or with SRC "dir/." its
 *                contents into DEST; DEST missing -> made with SRC's
 *                contents; DEST a file -> an error
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "image/reference.h"
#include "image/unpack.h"

static int daemon_fail(berth_err *err)
{
	fprintf(stderr, "berth: Error response from daemon: %s\n", err->msg ? err->msg : "failed");
	berth_err_clear(err);
	return 1;
}

/* ---- diff --------------------------------------------------------------------- */

int cmd_diff(int argc, char **argv)
{
	int c;
	while ((c = getopt_long(argc, argv, "", (const struct option[]){ { 0 } }, NULL)) != -1)
		return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
	if (argc - optind != 1)
		return berth_usage_error(argv[0], "\"diff\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	_cleanup_free_ char *id = NULL;
	struct ctr_change *list = NULL;
	size_t n = 0;
	if (ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_changes(e, id, &list, &n, &err) < 0)
		return daemon_fail(&err);
	for (size_t i = 0; i < n; i++)
		printf("%c %s\n", list[i].kind, list[i].path);
	ctr_changes_free(list, n);
	return 0;
}

/* ---- commit ------------------------------------------------------------------- */

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, NULL, 'a' },
		{ "message", required_argument, NULL, 'm' },
		{ "change", required_argument, NULL, 'c' },
		{ "pause", optional_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ const char **changes = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t nc = 0;
	struct ctr_commit_opts o = { .pause = true, .changes = changes };
	int c;
	while ((c = getopt_long(argc, argv, "+a:m:c:p", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o.author = optarg; break;
		case 'm': o.comment = optarg; break;
		case 'c': changes[nc++] = optarg; break;
		case 'p':
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				return berth_usage_error(
					argv[0],
					"invalid argument \"%s\" for \"-p, --pause\" flag: "
					"strconv.ParseBool: parsing \"%s\": invalid syntax",
					optarg, optarg);
			o.pause = !optarg || !strcmp(optarg, "true");
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc || argc - optind > 2)
		return berth_usage_error(argv[0],
					 "\"commit\" requires at least 1 and at most 2 arguments.");
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *tag = NULL;
	if (optind + 1 < argc) {
		struct image_ref ref = { 0 };
		if (image_ref_parse(argv[optind + 1], &ref, &err) < 0)
			return berth_fail(&err);
		if (ref.digest) {
			image_ref_free(&ref);
			berth_error_code(&err, EINVAL, "invalid reference format");
			return berth_fail(&err);
		}
		tag = image_ref_string(&ref);
		image_ref_free(&ref);
	}
	o.tag = tag;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	_cleanup_free_ char *id = NULL, *image = NULL;
	if (ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_commit(e, id, &o, &image, &err) < 0)
		return daemon_fail(&err);
	printf("%s\n", image);
	return 0;
}

/* ---- cp ----------------------------------------------------------------------- */

struct cp_arg {
	char *container; /* NULL: a host path */
	const char *path;
};

/* Docker's rule: an absolute or ./-relative path is the host's; otherwise
 * NAME:PATH names a container's. */
static void cp_split(const char *s, struct cp_arg *a)
{
	a->container = NULL;
	a->path = s;
	if (s[0] == '/' || s[0] == '.')
		return;
	const char *colon = strchr(s, ':');
	if (!colon)
		return;
	a->container = xstrndup(s, (size_t)(colon - s));
	a->path = colon + 1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The source entry: its parent directory and its name there; for "dir/."
 * the directory itself, whose contents go. label: the name the user gave it
 * (what a copy into a directory is called, -L or not). */
struct cp_src {
	int parent;
	char *name;
	char *label;
	bool contents;
	struct stat st;
};

static void cp_src_release(struct cp_src *s)
{
	if (s->parent >= 0)
		close(s->parent);
	free(s->name);
	free(s->label);
}

static char *last_name(const char *path)
{
	_cleanup_free_ char *b = xstrdup(path);
	size_t n = strlen(b);
	while (n > 1 && b[n - 1] == '/')
		b[--n] = '\0';
	return xstrdup(basename(b));
}

/* For "dir/.": the directory becomes the parent, its contents what goes. */
static int src_contents(struct cp_src *s, const char *path, berth_err *err)
{
	int fd = openat(s->parent, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open %s", path);
	close(s->parent);
	s->parent = fd;
	free(s->name);
	s->name = xstrdup(".");
	return 0;
}

/* Find path in the container's root: parent opened inside the root, the last
 * component looked at without following it (-L: follow it, still inside). */
static int src_in_root(int rootfd, const char *path, bool follow, struct cp_src *s,
		       const char *cname, berth_err *err)
{
	_cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : xasprintf("/%s", path);
	_cleanup_free_ char *cur = path_clean(abs);
	s->contents = ends_with(path, "/.") || !strcmp(path, ".");
	bool want_dir = ends_with(path, "/") || s->contents;
	s->label = last_name(cur);
	for (int hops = 0;; hops++) {
		_cleanup_free_ char *d = xstrdup(cur), *b = xstrdup(cur);
		const char *dir = dirname(d), *base = basename(b);
		if (!strcmp(cur, "/"))
			base = ".";
		int fd =
			path_open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, NULL);
		if (fd < 0 || fstatat(fd, base, &s->st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (fd >= 0)
				close(fd);
			return berth_error_code(err, ENOENT,
						"Could not find the file %s in container %s", path,
						cname);
		}
		if (S_ISLNK(s->st.st_mode) && (follow || want_dir) && hops < 40) {
			_cleanup_free_ char *target = xmalloc((size_t)s->st.st_size + 2);
			ssize_t n = readlinkat(fd, base, target, (size_t)s->st.st_size + 1);
			close(fd);
			if (n < 0 || n > s->st.st_size)
				return berth_error_errno(err, "cannot read the symlink %s", cur);
			target[n] = '\0';
			_cleanup_free_ char *next = target[0] == '/'
							    ? xstrdup(target)
							    : xasprintf("%s/%s", dir, target);
			free(cur);
			cur = path_clean(next);
			continue;
		}
		s->parent = fd;
		s->name = xstrdup(base);
		if (want_dir && !S_ISDIR(s->st.st_mode))
			return berth_error_code(err, ENOTDIR, "%s: not a directory", path);
		return s->contents ? src_contents(s, path, err) : 0;
	}
}

/* The same on the host: the path as the user's shell sees it. */
static int src_on_host(const char *path, bool follow, struct cp_src *s, berth_err *err)
{
	s->contents = ends_with(path, "/.") || !strcmp(path, ".");
	s->label = last_name(path);
	_cleanup_free_ char *real = NULL;
	struct stat lst;
	if (lstat(path, &lst) < 0)
		return berth_error_errno(err, "lstat %s", path);
	/* -L, or a directory named through a symlink: what it points to. */
	if (S_ISLNK(lst.st_mode) && (follow || s->contents || ends_with(path, "/")))
		real = realpath(path, NULL);
	_cleanup_free_ char *clean = path_clean(real ? real : path);
	_cleanup_free_ char *d = xstrdup(clean), *b = xstrdup(clean);
	const char *dir = dirname(d), *base = basename(b);
	if (!strcmp(clean, "/"))
		base = ".";
	s->parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->parent < 0 || fstatat(s->parent, base, &s->st, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_errno(err, "lstat %s", path);
	s->name = xstrdup(base);
	if ((ends_with(path, "/") || s->contents) && !S_ISDIR(s->st.st_mode))
		return berth_error_code(err, ENOTDIR, "%s: not a directory", path);
	return s->contents ? src_contents(s, path, err) : 0;
}

/* Where the copy lands: a directory to unpack into and the name of the top
 * entry there (NULL: the source's own; with contents, none). */
struct cp_dst {
	int dir;
	char *as;
	bool contents;
};

/* dest_dir: the destination opened as a directory, or a negative errno;
 * dest_parent: its parent when it is not one (-ENOENT: missing). */
static int cp_place(const struct cp_src *s, const char *dest, int dest_dir, int dest_parent,
		    bool dest_exists, struct cp_dst *out, berth_err *err)
{
	out->dir = -1;
	out->as = NULL;
	out->contents = false;
	bool src_dir = S_ISDIR(s->st.st_mode);
	if (dest_dir >= 0) {
		out->dir = dest_dir;
		out->contents = s->contents;
		out->as = s->contents ? NULL : xstrdup(s->label);
		return 0;
	}
	if (dest_exists) {
		if (src_dir)
			return berth_error_code(err, EISDIR,
						"cannot copy a directory to a file: %s", dest);
	} else if (ends_with(dest, "/")) {
		return berth_error_code(err, ENOENT,
					"destination \"%s\" does not exist and ends with /", dest);
	}
	if (dest_parent < 0)
		return berth_error_code(err, ENOENT,
					"the parent of destination \"%s\" does not exist", dest);
	_cleanup_free_ char *b = xstrdup(dest);
	const char *name = basename(b);
	/* "x/.." names no entry of its parent's (and a tar may not hold it). */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return berth_error_code(err, EINVAL, "destination \"%s\": not a directory", dest);
	out->dir = dest_parent;
	out->as = xstrdup(name);
	return 0;
}

/* Pack in a child, unpack here: the two sides of a pipe. */
static int cp_stream(const struct cp_src *s, const struct cp_dst *d, unsigned flags, berth_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berth_error_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return berth_error_errno(err, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		berth_err cerr = BERTH_ERR_INIT;
		int r = layer_pack_entry(s->parent, d->contents ? NULL : s->name,
					 d->contents ? NULL : d->as, p[1], &cerr);
		if (r < 0 && cerr.msg)
			fprintf(stderr, "berth: %s\n", cerr.msg);
		_exit(r < 0 ? 1 : 0);
	}
	close(p[1]);
	int r = layer_extract(p[0], d->dir, flags, err);
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
		r = berth_error_code(err, EIO, "copying failed");
	return r;
}

static int cp_from(struct engine *e, const char *cname, const char *id, const char *src,
		   const char *dest, bool archive, bool follow, berth_err *err)
{
	struct ctr_fs *fs;
	int rootfd;
	int r = ctr_cp_open(e, id, &fs, &rootfd, err);
	if (r < 0)
		return r;
	struct cp_src s = { .parent = -1 };
	r = src_in_root(rootfd, src, follow, &s, cname, err);
	if (r == 0 && !strcmp(dest, "-")) {
		r = layer_pack_entry(s.parent, s.contents ? NULL : s.name,
				     s.contents ? NULL : s.label, STDOUT_FILENO, err);
	} else if (r == 0) {
		struct stat dst;
		bool exists = stat(dest, &dst) == 0;
		_cleanup_close_ int dd = exists && S_ISDIR(dst.st_mode)
						 ? open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
						 : -1;
		_cleanup_free_ char *pd = xstrdup(dest);
		_cleanup_close_ int parent =
			dd < 0 ? open(dirname(pd), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		struct cp_dst d;
		if ((r = cp_place(&s, dest, dd, parent, exists, &d, err)) == 0) {
			r = cp_stream(&s, &d,
				      LAYER_EXTRACT_PLAIN | (archive ? 0 : LAYER_EXTRACT_OWN), err);
			free(d.as);
		}
	}
	cp_src_release(&s);
	ctr_cp_close(fs);
	return r;
}

static int cp_to(struct engine *e, const char *cname, const char *id, const char *src,
		 const char *dest, bool archive, bool follow, berth_err *err)
{
	struct ctr_fs *fs;
	int rootfd;
	unsigned flags = LAYER_EXTRACT_PLAIN | (archive ? 0 : LAYER_EXTRACT_OWN);
	struct cp_src s = { .parent = -1 };
	int r = 0;
	if (strcmp(src, "-") && (r = src_on_host(src, follow, &s, err)) < 0) {
		cp_src_release(&s);
		return r;
	}
	if ((r = ctr_cp_open(e, id, &fs, &rootfd, err)) < 0) {
		cp_src_release(&s);
		return r;
	}
	const char *in = dest[0] ? dest : "/";
	_cleanup_close_ int dd =
		path_open_in_root(rootfd, in, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, NULL);
	if (!strcmp(src, "-")) {
		/* A tar on stdin unpacks into a directory that exists. */
		if (dd < 0)
			r = berth_error_code(err, ENOENT,
					     "Could not find the file %s in container %s", dest,
					     cname);
		else
			r = layer_extract(STDIN_FILENO, dd, flags, err);
	} else {
		_cleanup_free_ char *abs = in[0] == '/' ? xstrdup(in) : xasprintf("/%s", in);
		_cleanup_free_ char *pd = path_clean(abs);
		_cleanup_free_ char *pdir = xstrdup(dirname(pd));
		_cleanup_close_ int parent =
			dd < 0 ? path_open_in_root(rootfd, pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
						   0, NULL)
			       : -1;
		bool exists = false;
		if (dd < 0 && parent >= 0) {
			_cleanup_free_ char *b = path_clean(abs);
			struct stat st;
			exists = fstatat(parent, basename(b), &st, AT_SYMLINK_NOFOLLOW) == 0;
		}
		struct cp_dst d;
		if ((r = cp_place(&s, dest, dd, parent, exists, &d, err)) == 0) {
			r = cp_stream(&s, &d, flags, err);
			free(d.as);
		}
	}
	cp_src_release(&s);
	ctr_cp_close(fs);
	return r;
}

int cmd_cp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "archive", no_argument, NULL, 'a' },
		{ "follow-link", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	bool archive = false, follow = false;
	int c;
	while ((c = getopt_long(argc, argv, "+aLq", opts, NULL)) != -1) {
		switch (c) {
		case 'a': archive = true; break;
		case 'L': follow = true; break;
		case 'q': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return berth_usage_error(argv[0], "\"cp\" requires exactly 2 arguments.");
	struct cp_arg src, dst;
	cp_split(argv[optind], &src);
	cp_split(argv[optind + 1], &dst);
	_cleanup_free_ char *sc = src.container, *dc = dst.container;
	berth_err err = BERTH_ERR_INIT;
	if (sc && dc) {
		berth_error_code(&err, EINVAL, "copying between containers is not supported");
		return berth_fail(&err);
	}
	if (!sc && !dc) {
		berth_error_code(&err, EINVAL, "must specify at least one container source");
		return berth_fail(&err);
	}
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	_cleanup_free_ char *id = NULL;
	if (ctr_resolve(e, sc ? sc : dc, &id, &err) < 0)
		return daemon_fail(&err);
	int r = sc ? cp_from(e, sc, id, src.path, dst.path, archive, follow, &err)
		   : cp_to(e, dc, id, src.path, dst.path, archive, follow, &err);
	if (r < 0)
		return err.code == ENOENT && strstr(err.msg ?: "", "Could not find")
			       ? daemon_fail(&err)
			       : berth_fail(&err);
	return 0;
}
