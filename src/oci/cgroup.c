/* cgroup.c - finding the hierarchies, resolving cgroupsPath, the shared file
 * helpers, persistence in state.json, and mounting "cgroup" in a container.
 * The per-layout work is in cgroup_v1.c (legacy and hybrid) and cgroup_v2.c. */
#include "oci/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/cgroup_internal.h"

#define CG_ROOT "/sys/fs/cgroup"

enum cgroup_mode cgroup_detect_mode(void)
{
	struct statfs sf;
	if (statfs(CG_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_MODE_UNIFIED;
	if (statfs(CG_ROOT "/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_MODE_HYBRID;
	return CGROUP_MODE_LEGACY;
}

/* --- file helpers ---------------------------------------------------------- */

int cg_write(const char *dir, const char *file, const char *value, const char *field,
	     berth_err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return berth_error_code(err, ENOTSUP, "%s: this host's cgroups have no %s",
						field, file);
		return berth_error_errno(err, "%s: cannot open %s", field, path);
	}
	ssize_t n = write(fd, value, strlen(value));
	if (n < 0)
		return berth_error_errno(err, "%s: writing \"%s\" to %s", field, value, file);
	return 0;
}

int cg_read(const char *dir, const char *file, char **out, berth_err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	size_t len;
	int r = file_read(path, out, &len, err);
	if (r < 0)
		return r;
	while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' '))
		(*out)[--len] = '\0';
	return 0;
}

int cg_mkdir_p(const char *dir, int *made, berth_err *err)
{
	*made = 0;
	/* The parent usually exists already: one mkdir is the common case. */
	if (mkdir(dir, 0755) == 0) {
		*made = 1;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return berth_error_errno(err, "linux.cgroupsPath: cannot create %s", dir);
	_cleanup_free_ char *copy = xstrdup(dir);
	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(copy, 0755) == 0)
				(*made)++;
			else if (errno != EEXIST)
				return berth_error_errno(err, "linux.cgroupsPath: cannot create %s",
							 copy);
			else if (!saved)
				*made = 0; /* someone else made the leaf meanwhile: not ours to
					      remove */
			*p = saved;
			if (!saved)
				break;
		}
	}
	return 0;
}

/* rmdir, waiting out the short EBUSY after the last task of a cgroup exits. */
static int rmdir_retry(const char *dir)
{
	for (int tries = 0; rmdir(dir) < 0; tries++) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || tries > 200)
			return -errno;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Cgroups the container made inside its own (systemd, a nested engine): they
 * keep the directory busy, so they go first, deepest first. */
static int rmdir_below(const char *dir, berth_err *err)
{
	_cleanup_dir_ DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		int r = rmdir_below(sub, err);
		if (r < 0)
			return r;
		if ((r = rmdir_retry(sub)) < 0)
			return berth_error(err, -r, "cannot remove cgroup %s", sub);
	}
	return 0;
}

int cg_rmdir(const char *dir, int made, berth_err *err)
{
	/* Only the container's own directory goes. Parents (/berth, /docker) are
	 * shared by concurrent containers: removing one when it looks empty would
	 * race with another create between its mkdir of the parent and of its
	 * leaf. runc leaves them too. */
	if (made <= 0)
		return 0;
	int r = rmdir_below(dir, err);
	if (r < 0)
		return r;
	if ((r = rmdir_retry(dir)) < 0)
		return berth_error(err, -r, "cannot remove cgroup %s", dir);
	return 0;
}

int cg_read_pids(const char *dir, pid_t **pids, size_t *n, berth_err *err)
{
	_cleanup_free_ char *procs = NULL;
	if (cg_read(dir, "cgroup.procs", &procs, err) < 0)
		return -errno ? -ENOENT : -ENOENT;
	for (char *p = procs; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		*pids = xrealloc(*pids, (*n + 1) * sizeof(pid_t));
		(*pids)[(*n)++] = (pid_t)v;
		p = end;
		while (*p == '\n')
			p++;
	}
	_cleanup_dir_ DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		cg_read_pids(sub, pids, n, NULL);
	}
	return 0;
}

struct cg_hier *cg_find(struct cgroup_manager *m, const char *controller)
{
	for (size_t i = 0; i < m->nh; i++) {
		if (!controller && m->h[i].v2)
			return &m->h[i];
		if (!controller || m->h[i].v2)
			continue;
		/* "cpu,cpuacct" holds both cpu and cpuacct. */
		const char *p = m->h[i].name;
		size_t len = strlen(controller);
		while (p && *p) {
			if (strncmp(p, controller, len) == 0 && (p[len] == ',' || p[len] == '\0'))
				return &m->h[i];
			p = strchr(p, ',');
			if (p)
				p++;
		}
	}
	return NULL;
}

int cg_enter_all(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < m->nh; i++) {
		int r = cg_write(m->h[i].dir, "cgroup.procs", buf, "linux.cgroupsPath", err);
		if (r < 0)
			return r;
	}
	return 0;
}

int *cgroup_join_fds(struct cgroup_manager *m, bool skip_v2, berth_err *err)
{
	int *fds = xcalloc(m->nh + 1, sizeof(int));
	size_t k = 0;
	for (size_t i = 0; i < m->nh; i++) {
		if (m->h[i].v2 && skip_v2)
			continue;
		_cleanup_free_ char *path =
			xasprintf("%s/%s", m->h[i].dir, m->h[i].v2 ? "cgroup.procs" : "tasks");
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			berth_error_errno(err, "linux.cgroupsPath: cannot open %s", path);
			fds[k] = -1;
			cgroup_join_fds_close(fds);
			return NULL;
		}
		fds[k++] = fd;
	}
	fds[k] = -1;
	return fds;
}

int cgroup_join_self(const int *fds, berth_err *err)
{
	for (; fds && *fds >= 0; fds++)
		if (write(*fds, "0", 1) < 0)
			return berth_error_errno(
				err, "linux.cgroupsPath: cannot join the container's cgroup");
	return 0;
}

void cgroup_join_fds_close(int *fds)
{
	for (int *p = fds; p && *p >= 0; p++)
		close(*p);
	free(fds);
}

int cgroup_v2_fd(struct cgroup_manager *m)
{
	struct cg_hier *h = cg_find(m, NULL);
	return h ? open(h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

int cg_destroy_all(struct cgroup_manager *m, berth_err *err)
{
	int first = 0;
	for (size_t i = 0; i < m->nh; i++) {
		berth_err e = BERTH_ERR_INIT;
		int r = cg_rmdir(m->h[i].dir, m->h[i].made, &e);
		if (r < 0 && !first) {
			first = r;
			if (err) {
				berth_err_clear(err);
				*err = e;
				continue;
			}
		}
		berth_err_clear(&e);
	}
	return first;
}

/* --- where the hierarchies are -------------------------------------------- */

/* The runtime's own cgroup in the hierarchy named name (for relative paths). */
static char *own_cgroup(const char *name, bool v2)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		if ((v2 && a[1] == '\0') || (!v2 && strcmp(a + 1, name) == 0))
			return xstrdup(b + 1);
	}
	return xstrdup("/");
}

static void add_hier(struct cgroup_manager *m, const char *name, const char *mount, bool v2)
{
	m->h = xrealloc(m->h, (m->nh + 1) * sizeof(*m->h));
	m->h[m->nh++] =
		(struct cg_hier){ .name = xstrdup(name), .mount = xstrdup(mount), .v2 = v2 };
}

/* v1 hierarchies from mountinfo: the super options name the controllers. */
static void find_hierarchies(struct cgroup_manager *m)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char fstype[32], source[256], opts[1024];
		if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, opts) != 3)
			continue;
		char mnt[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    strncmp(mnt, CG_ROOT, strlen(CG_ROOT)) != 0)
			continue;
		if (strcmp(fstype, "cgroup2") == 0) {
			if (m->mode != CGROUP_MODE_LEGACY)
				add_hier(m, "", mnt, true);
			continue;
		}
		if (strcmp(fstype, "cgroup") != 0 || m->mode == CGROUP_MODE_UNIFIED)
			continue;
		/* Keep only controller names and name=...; drop rw, relatime, etc. */
		struct strbuf_like {
			char buf[1024];
			size_t len;
		} names = { .len = 0 };
		names.buf[0] = '\0';
		char *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strncmp(o, "relatime", 8) ||
			    !strcmp(o, "noatime") || !strcmp(o, "nosuid") || !strcmp(o, "nodev") ||
			    !strcmp(o, "noexec") || !strncmp(o, "release_agent", 13) ||
			    !strcmp(o, "xattr") || !strcmp(o, "clone_children") ||
			    !strcmp(o, "noprefix") || !strcmp(o, "cpuset_v2_mode"))
				continue;
			int w = snprintf(names.buf + names.len, sizeof(names.buf) - names.len,
					 "%s%s", names.len ? "," : "", o);
			if (w > 0 && (size_t)w < sizeof(names.buf) - names.len)
				names.len += (size_t)w;
		}
		bool dup = false;
		for (size_t i = 0; i < m->nh; i++)
			dup |= strcmp(m->h[i].name, names.buf) == 0;
		if (names.len && !dup)
			add_hier(m, names.buf, mnt, false);
	}
}

static char *systemd_path(const char *spec, berth_err *err)
{
	/* "slice:prefix:name" -> /a.slice/a-b.slice/prefix-name.scope */
	_cleanup_free_ char *copy = xstrdup(spec);
	char *c1 = strchr(copy, ':');
	char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2) {
		berth_error_code(
			err, EINVAL,
			"linux.cgroupsPath: \"%s\" is not slice:prefix:name (--systemd-cgroup)",
			spec);
		return NULL;
	}
	*c1 = *c2 = '\0';
	const char *slice = *copy ? copy : "system.slice";
	const char *prefix = c1 + 1, *name = c2 + 1;
	size_t sl = strlen(slice);
	if (sl < 7 || strcmp(slice + sl - 6, ".slice") != 0 || strchr(slice, '/')) {
		berth_error_code(err, EINVAL, "linux.cgroupsPath: \"%s\" is not a slice name",
				 slice);
		return NULL;
	}
	_cleanup_free_ char *path = xstrdup("");
	_cleanup_free_ char *stem = xstrndup(slice, sl - 6);
	if (strcmp(slice, "-.slice") != 0) {
		for (char *dash = stem;; dash++) {
			if (*dash == '-' || *dash == '\0') {
				char *p =
					xasprintf("%s/%.*s.slice", path, (int)(dash - stem), stem);
				free(path);
				path = p;
				if (!*dash)
					break;
			}
		}
	}
	return *prefix ? xasprintf("%s/%s-%s.scope", path, prefix, name)
		       : xasprintf("%s/%s", path, name);
}

int cgroup_manager_new(const char *cgroups_path, const char *id, bool systemd,
		       struct cgroup_manager **out, berth_err *err)
{
	struct cgroup_manager *m = xcalloc(1, sizeof(*m));
	m->mode = cgroup_detect_mode();
	m->ops = m->mode == CGROUP_MODE_UNIFIED ? &cgroup_v2_ops : &cgroup_v1_ops;
	bool relative = false;
	if (systemd && cgroups_path && *cgroups_path) {
		m->path = systemd_path(cgroups_path, err);
		if (!m->path) {
			free(m);
			return -EINVAL;
		}
	} else if (!cgroups_path || !*cgroups_path) {
		m->path = xasprintf("/berth/%s", id);
	} else {
		relative = cgroups_path[0] != '/';
		m->path = xstrdup(cgroups_path);
	}
	if (strstr(m->path, "..")) {
		berth_error_code(err, EINVAL, "linux.cgroupsPath: \"%s\" must not contain \"..\"",
				 m->path);
		cgroup_manager_free(m);
		return -EINVAL;
	}
	find_hierarchies(m);
	for (size_t i = 0; i < m->nh; i++) {
		_cleanup_free_ char *base =
			relative ? own_cgroup(m->h[i].name, m->h[i].v2) : xstrdup("");
		m->h[i].dir =
			xasprintf("%s%s%s%s", m->h[i].mount, base, relative ? "/" : "", m->path);
	}
	if (m->nh == 0) {
		cgroup_manager_free(m);
		return berth_error_code(
			err, ENOTSUP,
			"linux.cgroupsPath: no cgroup hierarchy is mounted under " CG_ROOT);
	}
	*out = m;
	return 0;
}

/* --- dispatch -------------------------------------------------------------- */

int cgroup_remove_stale(const char *cgroups_path, const char *id, berth_err *err)
{
	struct cgroup_manager *m = NULL;
	int r = cgroup_manager_new(cgroups_path, id, false, &m, err);
	if (r < 0)
		return r;
	bool any = false;
	for (size_t i = 0; i < m->nh; i++) {
		/* Only the container's own directory, never its parents. */
		m->h[i].made = access(m->h[i].dir, F_OK) == 0 ? 1 : 0;
		any = any || m->h[i].made;
	}
	if (any) {
		cgroup_kill_all(m, SIGKILL, NULL);
		r = cgroup_destroy(m, err);
	}
	cgroup_manager_free(m);
	return r;
}

void cgroup_plan(struct cgroup_manager *m)
{
	for (size_t i = 0; i < m->nh; i++)
		m->h[i].made = access(m->h[i].dir, F_OK) == 0 ? 0 : 1;
}

int cgroup_create(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	return m->ops->create(m, pid, err);
}
int cgroup_enter(struct cgroup_manager *m, pid_t pid, berth_err *err)
{
	return m->ops->enter(m, pid, err);
}
int cgroup_apply(struct cgroup_manager *m, json_t *resources, berth_err *err)
{
	int r = cgroup_resources_validate(resources, err);
	return r < 0 ? r : m->ops->apply(m, resources, err);
}
int cgroup_freeze(struct cgroup_manager *m, bool freeze, berth_err *err)
{
	return m->ops->freeze(m, freeze, err);
}
int cgroup_is_frozen(struct cgroup_manager *m, bool *frozen, berth_err *err)
{
	return m->ops->is_frozen(m, frozen, err);
}
int cgroup_pids(struct cgroup_manager *m, pid_t **pids, size_t *n, berth_err *err)
{
	*pids = NULL;
	*n = 0;
	return m->ops->pids(m, pids, n, err);
}
int cgroup_destroy(struct cgroup_manager *m, berth_err *err)
{
	return m->ops->destroy(m, err);
}
int cgroup_stats(struct cgroup_manager *m, json_t **out, berth_err *err)
{
	return m->ops->stats(m, out, err);
}
int cgroup_mount(struct cgroup_manager *m, int destfd, const char *dest, unsigned long flags,
		 bool new_cgroupns, berth_err *err)
{
	return m->ops->mount(m, destfd, dest, flags, new_cgroupns, err);
}

int cgroup_kill_all(struct cgroup_manager *m, int sig, berth_err *err)
{
	/* Frozen, nothing can fork out of the set between listing and signalling. */
	bool was_frozen = false;
	cgroup_is_frozen(m, &was_frozen, NULL);
	bool froze = !was_frozen && cgroup_freeze(m, true, NULL) == 0;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(m, &pids, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			r = berth_error_errno(err, "cannot signal pid %d", (int)pids[i]);
	free(pids);
	if (froze || (was_frozen && sig == SIGKILL))
		cgroup_freeze(m, false, NULL);
	return r;
}

json_t *cgroup_to_json(const struct cgroup_manager *m)
{
	json_t *hs = json_array();
	for (size_t i = 0; i < m->nh; i++)
		json_array_append_new(hs, json_pack("{s:s,s:s,s:s,s:b,s:i}", "name", m->h[i].name,
						    "mount", m->h[i].mount, "dir", m->h[i].dir,
						    "v2", m->h[i].v2, "made", m->h[i].made));
	return json_pack("{s:i,s:s,s:o}", "mode", (int)m->mode, "path", m->path, "hierarchies", hs);
}

int cgroup_manager_from_json(json_t *j, struct cgroup_manager **out, berth_err *err)
{
	json_t *hs = json_object_get(j, "hierarchies");
	const char *path = json_string_value(json_object_get(j, "path"));
	if (!json_is_array(hs) || !path)
		return berth_error_code(err, EINVAL, "malformed cgroup state");
	struct cgroup_manager *m = xcalloc(1, sizeof(*m));
	m->mode = (enum cgroup_mode)json_integer_value(json_object_get(j, "mode"));
	m->ops = m->mode == CGROUP_MODE_UNIFIED ? &cgroup_v2_ops : &cgroup_v1_ops;
	m->path = xstrdup(path);
	size_t i;
	json_t *h;
	json_array_foreach (hs, i, h) {
		add_hier(m, json_string_value(json_object_get(h, "name")) ?: "",
			 json_string_value(json_object_get(h, "mount")) ?: "",
			 json_is_true(json_object_get(h, "v2")));
		m->h[m->nh - 1].dir = xstrdup(json_string_value(json_object_get(h, "dir")) ?: "");
		m->h[m->nh - 1].made = (int)json_integer_value(json_object_get(h, "made"));
	}
	*out = m;
	return 0;
}

void cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nh; i++) {
		free(m->h[i].name);
		free(m->h[i].mount);
		free(m->h[i].dir);
	}
	free(m->h);
	free(m->path);
	free(m);
}

/* --- validation (no host access) -------------------------------------------- */

static int want(json_t *obj, const char *prefix, const char *key, json_type t, berth_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	bool ok = t == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == t;
	if (!ok)
		return berth_error_code(err, EINVAL, "linux.resources.%s%s: has the wrong type",
					prefix, key);
	return 0;
}

static int want_all(json_t *obj, const char *prefix, const char *const *keys, json_type t,
		    berth_err *err)
{
	for (; *keys; keys++) {
		int r = want(obj, prefix, *keys, t, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int validate_device_list(json_t *arr, const char *name, bool with_rate, berth_err *err)
{
	size_t i;
	json_t *o;
	json_array_foreach (arr, i, o) {
		if (!json_is_object(o) || !json_is_integer(json_object_get(o, "major")) ||
		    !json_is_integer(json_object_get(o, "minor")) ||
		    (with_rate && !json_is_integer(json_object_get(o, "rate"))))
			return berth_error_code(
				err, EINVAL,
				"linux.resources.blockIO.%s[%zu]: needs integer major, minor%s",
				name, i, with_rate ? " and rate" : "");
	}
	return 0;
}

int cgroup_resources_validate(json_t *res, berth_err *err)
{
	if (!json_is_object(res))
		return berth_error_code(err, EINVAL, "linux.resources: must be an object");
	int r;
	json_t *mem = json_object_get(res, "memory");
	static const char *const mem_ints[] = { "limit",     "reservation", "swap", "kernel",
						"kernelTCP", "swappiness",  NULL };
	static const char *const mem_bools[] = { "disableOOMKiller", "useHierarchy",
						 "checkBeforeUpdate", NULL };
	if (mem && ((r = want_all(mem, "memory.", mem_ints, JSON_INTEGER, err)) < 0 ||
		    (r = want_all(mem, "memory.", mem_bools, JSON_TRUE, err)) < 0))
		return r;
	json_t *sw = json_object_get(mem, "swappiness");
	/* -1 (and, from some callers, 2^64-1) means "leave it"; anything else must be 0..100. */
	if (sw && json_integer_value(sw) != -1 &&
	    (json_integer_value(sw) < 0 || json_integer_value(sw) > 100))
		return berth_error_code(err, ERANGE,
					"linux.resources.memory.swappiness: must be 0..100");
	json_t *lim = json_object_get(mem, "limit"), *swap = json_object_get(mem, "swap");
	if (lim && swap && json_integer_value(swap) > 0 && json_integer_value(lim) > 0 &&
	    json_integer_value(swap) < json_integer_value(lim))
		return berth_error_code(err, EINVAL,
					"linux.resources.memory.swap: %lld is below memory.limit "
					"%lld (swap counts memory plus swap)",
					(long long)json_integer_value(swap),
					(long long)json_integer_value(lim));
	json_t *cpu = json_object_get(res, "cpu");
	static const char *const cpu_ints[] = {
		"shares",          "quota",          "burst", "period",
		"realtimeRuntime", "realtimePeriod", "idle",  NULL
	};
	static const char *const cpu_strs[] = { "cpus", "mems", NULL };
	if (cpu && ((r = want_all(cpu, "cpu.", cpu_ints, JSON_INTEGER, err)) < 0 ||
		    (r = want_all(cpu, "cpu.", cpu_strs, JSON_STRING, err)) < 0))
		return r;
	json_t *pids = json_object_get(res, "pids");
	if (pids && (r = want(pids, "pids.", "limit", JSON_INTEGER, err)) < 0)
		return r;
	json_t *blk = json_object_get(res, "blockIO");
	if (blk) {
		static const char *const bints[] = { "weight", "leafWeight", NULL };
		if ((r = want_all(blk, "blockIO.", bints, JSON_INTEGER, err)) < 0)
			return r;
		json_t *w = json_object_get(blk, "weight");
		if (w && json_integer_value(w) &&
		    (json_integer_value(w) < 10 || json_integer_value(w) > 1000))
			return berth_error_code(err, ERANGE,
						"linux.resources.blockIO.weight: must be 10..1000");
		static const char *const lists[] = { "throttleReadBpsDevice",
						     "throttleWriteBpsDevice",
						     "throttleReadIOPSDevice",
						     "throttleWriteIOPSDevice" };
		for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
			if ((r = validate_device_list(json_object_get(blk, lists[i]), lists[i],
						      true, err)) < 0)
				return r;
		if ((r = validate_device_list(json_object_get(blk, "weightDevice"), "weightDevice",
					      false, err)) < 0)
			return r;
	}
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(res, "hugepageLimits"), i, o) {
		if (!json_is_string(json_object_get(o, "pageSize")) ||
		    !json_is_integer(json_object_get(o, "limit")))
			return berth_error_code(err, EINVAL,
						"linux.resources.hugepageLimits[%zu]: needs "
						"pageSize (string) and limit",
						i);
		/* It becomes part of a file name (hugetlb.2MB.max): only the kernel's form. */
		const char *ps = json_string_value(json_object_get(o, "pageSize"));
		size_t digits = strspn(ps, "0123456789");
		if (!digits || strlen(ps) != digits + 2 || !strchr("KMG", ps[digits]) ||
		    ps[digits + 1] != 'B')
			return berth_error_code(err, EINVAL,
						"linux.resources.hugepageLimits[%zu].pageSize: "
						"\"%s\" is not a size like 2MB or 1GB",
						i, ps);
	}
	json_array_foreach (json_object_get(res, "devices"), i, o) {
		if (!json_is_object(o) || !json_is_boolean(json_object_get(o, "allow")))
			return berth_error_code(
				err, EINVAL, "linux.resources.devices[%zu].allow: required boolean",
				i);
		const char *t = json_string_value(json_object_get(o, "type"));
		if (t && strcmp(t, "a") && strcmp(t, "b") && strcmp(t, "c"))
			return berth_error_code(
				err, EINVAL,
				"linux.resources.devices[%zu].type: \"%s\" is not a, b or c", i, t);
		const char *acc = json_string_value(json_object_get(o, "access"));
		if (acc && (strspn(acc, "rwm") != strlen(acc) || !*acc))
			return berth_error_code(err, EINVAL,
						"linux.resources.devices[%zu].access: \"%s\" is "
						"not a subset of rwm",
						i, acc);
	}
	json_t *net = json_object_get(res, "network");
	if (net && (r = want(net, "network.", "classID", JSON_INTEGER, err)) < 0)
		return r;
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(res, "unified"), k, v)
		if (!json_is_string(v) || strchr(k, '/') || k[0] == '.')
			return berth_error_code(
				err, EINVAL,
				"linux.resources.unified.%s: must be a string for a file name", k);
	return 0;
}
