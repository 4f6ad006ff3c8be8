/* user.c - --user and --group-add against the rootfs' /etc/passwd and /etc/group.
 *
 * The files belong to the image, so they are opened through path_open_in_root()
 * (a symlink to the host's /etc/shadow stays inside the rootfs), must be regular
 * files (a FIFO would block the engine), and are bounded in size.
 */
#include "engine/user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/xalloc.h"

/* Far above any real passwd or group file; a bigger one is refused, not read. */
#define ACCOUNT_FILE_MAX (8u << 20)
/* Docker's (and the kernel's overflow-safe) range for ids given by number. */
#define ID_MAX 2147483647L

/* The file's contents, or an empty string when the image has none. */
static int read_account_file(int rootfd, const char *path, char **out, berth_err *err)
{
	_cleanup_err_ berth_err oerr = BERTH_ERR_INIT;
	_cleanup_close_ int fd = path_open_in_root(
		rootfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0, &oerr);
	if (fd == -ENOENT || fd == -ENOTDIR) {
		*out = xstrdup("");
		return 0;
	}
	if (fd < 0)
		return berth_error(err, -fd, "cannot open %s in the container's rootfs", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return berth_error_errno(err, "stat %s in the container's rootfs", path);
	if (!S_ISREG(st.st_mode))
		return berth_error_code(err, EINVAL, "%s in the container's rootfs is not a file",
					path);
	if ((uint64_t)st.st_size > ACCOUNT_FILE_MAX)
		return berth_error_code(err, EFBIG,
					"%s in the container's rootfs is larger than %u bytes",
					path, ACCOUNT_FILE_MAX);
	size_t len;
	int r = fd_read_all(fd, out, &len);
	if (r < 0)
		return berth_error(err, -r, "reading %s in the container's rootfs", path);
	if (strlen(*out) != len) {
		free(*out);
		*out = NULL;
		return berth_error_code(err, EINVAL,
					"%s in the container's rootfs holds a NUL byte", path);
	}
	return 0;
}

/* A decimal id with nothing else around it. -1: not a number; -2: out of range. */
static long parse_id(const char *s)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	if (strlen(s) > 10)
		return -2;
	long v = strtol(s, NULL, 10);
	return v > ID_MAX ? -2 : v;
}

/* Split line (modified in place) at ':' into at most n fields; returns the count. */
static size_t split_fields(char *line, char **f, size_t n)
{
	size_t k = 0;
	char *s = line;
	while (k < n) {
		f[k++] = s;
		s = strchr(s, ':');
		if (!s)
			break;
		*s++ = '\0';
	}
	return k;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

/* Call fn for every entry line (comments and blank lines skipped) until it returns
 * non-zero. The buffer is modified. */
static int for_each_line(char *buf, size_t nfields, int (*fn)(char **f, size_t n, void *data),
			 void *data)
{
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		trim(line);
		if (!*line || line[0] == '#')
			continue;
		char *f[7];
		size_t n = split_fields(line, f, nfields);
		int r = fn(f, n, data);
		if (r)
			return r;
	}
	return 0;
}

struct pw_match {
	const char *name; /* NULL: match by uid */
	long uid;
	char *found_name, *home;
	long found_uid, found_gid;
};

static int pw_match_fn(char **f, size_t n, void *data)
{
	struct pw_match *m = data;
	if (n < 4)
		return 0;
	long uid = parse_id(f[2]), gid = parse_id(f[3]);
	if (uid < 0 || gid < 0)
		return 0;
	if (m->name ? strcmp(f[0], m->name) != 0 : uid != m->uid)
		return 0;
	m->found_name = xstrdup(f[0]);
	m->home = n >= 6 ? xstrdup(f[5]) : NULL;
	m->found_uid = uid;
	m->found_gid = gid;
	return 1;
}

struct gr_match {
	const char *name; /* match by name, or by gid when NULL */
	long gid;
	long found_gid;
};

static int gr_match_fn(char **f, size_t n, void *data)
{
	struct gr_match *m = data;
	if (n < 3)
		return 0;
	long gid = parse_id(f[2]);
	if (gid < 0)
		return 0;
	if (m->name ? strcmp(f[0], m->name) != 0 : gid != m->gid)
		return 0;
	m->found_gid = gid;
	return 1;
}

struct gr_member {
	const char *user;
	gid_t *gids;
	size_t n;
};

static int gr_member_fn(char **f, size_t n, void *data)
{
	struct gr_member *m = data;
	if (n < 4)
		return 0;
	long gid = parse_id(f[2]);
	if (gid < 0)
		return 0;
	char *save = NULL;
	for (char *u = strtok_r(f[3], ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		trim(u);
		if (strcmp(u, m->user) == 0) {
			m->gids = xrealloc(m->gids, (m->n + 1) * sizeof(gid_t));
			m->gids[m->n++] = (gid_t)gid;
			break;
		}
	}
	return 0;
}

/* A group by name or number: a number need not be in the file, a name must. */
static int lookup_group(const char *group_file, const char *spec, gid_t *out, berth_err *err)
{
	long num = parse_id(spec);
	if (num == -2)
		return berth_error_code(err, EINVAL, "uids and gids must be in range 0-%ld",
					ID_MAX);
	_cleanup_free_ char *buf = xstrdup(group_file);
	struct gr_match m = { .name = num < 0 ? spec : NULL, .gid = num };
	if (for_each_line(buf, 4, gr_match_fn, &m)) {
		*out = (gid_t)m.found_gid;
		return 0;
	}
	if (num < 0)
		return berth_error_code(
			err, ENOENT, "unable to find group %s: no matching entries in group file",
			spec);
	*out = (gid_t)num;
	return 0;
}

int user_resolve(int rootfd, const char *spec, const char *const *group_add, size_t n_group_add,
		 struct user_ids *out, berth_err *err)
{
	*out = (struct user_ids){ 0 };
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r;
	if ((r = read_account_file(rootfd, "/etc/passwd", &passwd, err)) < 0 ||
	    (r = read_account_file(rootfd, "/etc/group", &group, err)) < 0)
		return r;

	_cleanup_free_ char *user = xstrdup(spec ? spec : "");
	char *grp = strchr(user, ':');
	if (grp)
		*grp++ = '\0';
	bool explicit_group = grp && *grp;

	struct pw_match pw = { 0 };
	long num = parse_id(user);
	if (num == -2)
		return berth_error_code(err, EINVAL, "uids and gids must be in range 0-%ld",
					ID_MAX);
	bool matched = false;
	if (*user) {
		pw.name = num < 0 ? user : NULL;
		pw.uid = num;
		_cleanup_free_ char *buf = xstrdup(passwd);
		matched = for_each_line(buf, 7, pw_match_fn, &pw) != 0;
		if (!matched && num < 0)
			return berth_error_code(
				err, ENOENT,
				"unable to find user %s: no matching entries in passwd file", user);
	} else {
		/* No user given: root, with root's passwd entry when there is one. */
		pw.uid = 0;
		_cleanup_free_ char *buf = xstrdup(passwd);
		matched = for_each_line(buf, 7, pw_match_fn, &pw) != 0;
	}
	_cleanup_free_ char *found_name = pw.found_name;
	out->home = pw.home;
	out->uid = matched ? (uid_t)pw.found_uid : (uid_t)(num < 0 ? 0 : num);
	out->gid = matched ? (gid_t)pw.found_gid : 0;

	if (explicit_group) {
		if ((r = lookup_group(group, grp, &out->gid, err)) < 0) {
			user_ids_release(out);
			return r;
		}
	} else if (matched) {
		/* Supplementary groups only in the implicit form, as Docker. */
		_cleanup_free_ char *buf = xstrdup(group);
		struct gr_member m = { .user = found_name };
		for_each_line(buf, 4, gr_member_fn, &m);
		out->sgids = m.gids;
		out->n_sgids = m.n;
	}
	for (size_t i = 0; i < n_group_add; i++) {
		gid_t g;
		if ((r = lookup_group(group, group_add[i], &g, err)) < 0) {
			user_ids_release(out);
			return r;
		}
		out->sgids = xrealloc(out->sgids, (out->n_sgids + 1) * sizeof(gid_t));
		out->sgids[out->n_sgids++] = g;
	}
	return 0;
}

void user_ids_release(struct user_ids *u)
{
	free(u->sgids);
	free(u->home);
	*u = (struct user_ids){ 0 };
}
