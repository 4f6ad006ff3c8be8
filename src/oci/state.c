/* state.c - runtime state of a container under --root; see state.h. */
#include "oci/state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/cgroup.h"
#include "oci/spec.h"

bool container_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+.-", *p))
			return false;
	return true;
}

/* mkdir -p: callers (containerd) pass roots whose parents may not exist yet. */
int mkdir_parents(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	_cleanup_free_ char *copy = xstrdup(path);
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			return 0;
	}
}

int state_dir_create(const char *root, const char *id, berth_err *err)
{
	int r = mkdir_parents(root, 0711);
	if (r < 0)
		return berth_error(err, -r, "cannot create state directory %s", root);
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return berth_error_code(err, EEXIST, "container \"%s\" already exists", id);
		return berth_error_errno(err, "cannot create %s", dir);
	}
	return 0;
}

int state_lock(const char *dir, berth_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "open %s", dir);
	if (TEMP_FAILURE_RETRY_INT(flock(fd, LOCK_EX)) < 0) {
		int e = errno;
		close(fd);
		return berth_error(err, e, "lock %s", dir);
	}
	return fd;
}

unsigned long long proc_start_time(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (file_read(path, &buf, &len, NULL) < 0)
		return 0;
	/* comm may hold spaces and parens: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2;
	char state = *p;
	if (state == 'Z' || state == 'X')
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

char *rfc3339_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
	return xstrdup(buf);
}

int state_save(const struct container_state *s, berth_err *err)
{
	_cleanup_close_ int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_errno(err, "open %s", s->dir);
	/* The config is large (a seccomp profile alone is tens of KiB) and does not
	 * change between the steps of create: it is written once, apart. */
	if (!s->config_saved && s->config) {
		_cleanup_free_ char *cfg = json_dumps(s->config, JSON_COMPACT);
		int r = file_write_atomic_flags(dfd, "config.json", cfg, strlen(cfg), 0600, FILE_NO_SYNC, err);
		if (r < 0)
			return r;
		((struct container_state *)s)->config_saved = true;
	}
	json_t *j = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:b,s:b}", "id", s->id, "pid",
			      (json_int_t)s->pid, "start_time", (json_int_t)s->start_time, "bundle",
			      s->bundle, "rootfs", s->rootfs, "created", s->created, "owner",
			      s->owner ? s->owner : "", "ready", s->ready, "started", s->started);
	if (!j)
		return berth_error_code(err, EINVAL, "cannot serialise the state of %s", s->id);
	if (s->cgroup)
		json_object_set_new(j, "cgroup", cgroup_to_json(s->cgroup));
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	/* Runtime state describes live processes: after a power loss there are
	 * none, so it is never fsync'ed (runc does not either). */
	return file_write_atomic_flags(dfd, "state.json", text, strlen(text), 0600, FILE_NO_SYNC, err);
}

static char *dup_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return xstrdup(s ? s : "");
}

int state_load(const char *root, const char *id, struct container_state *s, berth_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!container_id_valid(id))
		return berth_error_code(err, EINVAL, "invalid container id \"%s\"", id);
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		if (access(dir, F_OK) < 0)
			return berth_error_code(err, ENOENT, "container \"%s\" does not exist", id);
		/* The directory exists without a complete state: a create that was
		 * killed half way. Report it as stopped so delete can clean it up. */
		s->id = xstrdup(id);
		s->root_dir = xstrdup(root);
		s->dir = TAKE_PTR(dir);
		s->bundle = xstrdup("");
		s->rootfs = xstrdup("");
		s->created = xstrdup("");
		return 0;
	}
	s->id = xstrdup(id);
	s->root_dir = xstrdup(root);
	s->dir = TAKE_PTR(dir);
	s->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	s->start_time = (unsigned long long)json_integer_value(json_object_get(j, "start_time"));
	s->bundle = dup_str(j, "bundle");
	s->rootfs = dup_str(j, "rootfs");
	s->created = dup_str(j, "created");
	s->owner = dup_str(j, "owner");
	s->ready = json_is_true(json_object_get(j, "ready"));
	s->started = json_is_true(json_object_get(j, "started"));
	_cleanup_free_ char *cfg_path = xasprintf("%s/config.json", s->dir);
	s->config = json_load_file(cfg_path, 0, NULL);
	s->config_saved = s->config != NULL;
	json_t *cg = json_object_get(j, "cgroup");
	int r = 0;
	if (cg)
		r = cgroup_manager_from_json(cg, &s->cgroup, err);
	json_decref(j);
	if (r < 0) {
		container_state_release(s);
		return berth_error_wrap(err, "state of %s", id);
	}
	return 0;
}

static bool init_alive(const struct container_state *s)
{
	if (s->pid <= 0)
		return false;
	unsigned long long st = proc_start_time(s->pid);
	return st != 0 && st == s->start_time;
}

const char *state_status(const struct container_state *s)
{
	if (!s->ready) {
		/* Not ready: a create is under way if it still holds the lock;
		 * otherwise it was killed half way and left a stopped container. */
		if (s->locked)
			return "stopped";
		int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool busy = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		if (fd >= 0)
			close(fd);
		return busy ? "creating" : "stopped";
	}
	if (!init_alive(s))
		return "stopped";
	_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", s->dir);
	if (access(fifo, F_OK) == 0)
		return "created";
	if (s->cgroup) {
		bool frozen = false;
		if (cgroup_is_frozen(s->cgroup, &frozen, NULL) == 0 && frozen)
			return "paused";
	}
	return "running";
}

json_t *state_to_oci_json(const struct container_state *s, const char *status)
{
	bool stopped = strcmp(status, "stopped") == 0;
	json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "ociVersion", OCI_VERSION, "id",
			      s->id, "status", status, "pid", (json_int_t)(stopped ? 0 : s->pid),
			      "bundle", s->bundle, "rootfs", s->rootfs, "created", s->created,
			      "owner", s->owner ? s->owner : "");
	json_t *ann = s->config ? json_object_get(s->config, "annotations") : NULL;
	json_object_set_new(j, "annotations", ann ? json_deep_copy(ann) : json_object());
	return j;
}

char *state_to_oci_string(const struct container_state *s, const char *status)
{
	json_t *j = state_to_oci_json(s, status);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort();
	return text;
}

int state_remove(const char *dir, berth_err *err)
{
	_cleanup_dir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return berth_error_errno(err, "open %s", dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			return berth_error_errno(err, "remove %s/%s", dir, de->d_name);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return berth_error_errno(err, "remove %s", dir);
	return 0;
}

void container_state_release(struct container_state *s)
{
	free(s->id);
	free(s->root_dir);
	free(s->dir);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	json_decref(s->config);
	if (s->cgroup)
		cgroup_manager_free(s->cgroup);
	memset(s, 0, sizeof(*s));
}
