/* volume.c - named volumes of the "local" driver (see volume.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/rmtree.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/volume.h"
#include "image/db.h"

/* The label Docker (23+) puts on anonymous volumes; prune without --all
 * removes only volumes that carry it. */
#define ANON_LABEL "com.docker.volume.anonymous"

struct volume_store {
	sqlite3 *db;
	char *root; /* absolute */
	int volfd;  /* root/volumes */
	int tmpfd;  /* root/tmp: half-made and half-removed volume dirs */
};

static const char *const schema_steps[] = {
	"CREATE TABLE volumes(name TEXT PRIMARY KEY, created INTEGER NOT NULL, labels TEXT, "
	"options TEXT, anonymous INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE volume_users(volume TEXT NOT NULL REFERENCES volumes(name) ON DELETE "
	"CASCADE, container TEXT NOT NULL, PRIMARY KEY(volume, container));"
	"CREATE INDEX volume_users_container ON volume_users(container);",
	NULL,
};

static int open_subdir(int dirfd, const char *name, const char *root, berth_err *err)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return berth_error_errno(err, "create %s/%s", root, name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "open %s/%s", root, name);
	return fd;
}

static char *random_hex(size_t bytes)
{
	unsigned char buf[32];
	if (bytes > sizeof(buf))
		bytes = sizeof(buf);
	size_t got = 0;
	while (got < bytes) {
		ssize_t n = getrandom(buf + got, bytes - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort(); /* no entropy source at all: nothing sensible to do */
		got += (size_t)n;
	}
	char *out = xmalloc(bytes * 2 + 1);
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	return out;
}

static void rm_quiet(int dirfd, const char *name)
{
	berth_err ignored = BERTH_ERR_INIT;
	rm_rf_at(dirfd, name, &ignored);
	berth_err_clear(&ignored);
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

static bool valid_name(const char *name)
{
	if (!name[0] || !name[1] || !name_char(name[0], true))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!name_char(*p, false))
			return false;
	return true;
}

int volume_check_name(const char *name, berth_err *err)
{
	if (valid_name(name))
		return 0;
	return berth_error_code(err, EINVAL,
				"create %s: \"%s\" includes invalid characters for a local volume "
				"name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
				"intended to pass a host directory, use absolute path",
				name, name);
}

/* Does the volumes table have this name? 1 yes, 0 no, < 0 error. */
static int row_exists(struct volume_store *v, const char *name, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db, "SELECT 1 FROM volumes WHERE name = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return db_fail(v->db, err, "look up volume");
	return 0;
}

/* Remove what killed processes left: dirs in volumes/ without a row (a
 * create that did not commit) and rows without a dir (a remove that renamed
 * the dir away but did not commit). A read-only pass first; the write
 * transaction only when something is off, and the check is redone under it
 * because a create renames and inserts inside its own transaction. */
static int sweep(struct volume_store *v, bool locked, berth_err *err)
{
	bool off = false;
	{
		_cleanup_dir_ DIR *d = NULL;
		int fd = openat(v->volfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return berth_error_errno(err, "open %s/volumes", v->root);
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			int r = row_exists(v, de->d_name, err);
			if (r < 0)
				return r;
			if (r == 0) {
				off = true;
				if (locked)
					rm_quiet(v->volfd, de->d_name);
			}
		}
	}
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db, "SELECT name FROM volumes", &st, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **gone = NULL;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct stat sb;
		if (name && fstatat(v->volfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT) {
			gone = xrealloc(gone, (n + 2) * sizeof(char *));
			gone[n++] = xstrdup(name);
			gone[n] = NULL;
		}
	}
	if (n > 0)
		off = true;
	if (locked) {
		_cleanup_stmt_ sqlite3_stmt *del = NULL;
		if ((r = db_prepare(v->db, "DELETE FROM volumes WHERE name = ?", &del, err)) < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			sqlite3_reset(del);
			sqlite3_bind_text(del, 1, gone[i], -1, SQLITE_STATIC);
			if (sqlite3_step(del) != SQLITE_DONE)
				return db_fail(v->db, err, "remove volume row");
		}
		return 0;
	}
	if (!off)
		return 0;
	if ((r = db_begin(v->db, err)) < 0)
		return r;
	if ((r = sweep(v, true, err)) < 0) {
		db_rollback(v->db);
		return r;
	}
	return db_commit(v->db, err);
}

/* A half-made volume dir is born as tmp/.volume-* under a shared lock on
 * this file and flocked before the lock is dropped; the sweep takes the
 * lock exclusively, so it never sees a dir between its mkdir and its flock.
 * Dot names: the image store's sweep of tmp/ leaves them alone. */
#define BIRTH_LOCK ".volume-birth.lock"

static int birth_lock(struct volume_store *v, int how)
{
	int fd = openat(v->tmpfd, BIRTH_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (TEMP_FAILURE_RETRY_INT(flock(fd, how)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void sweep_tmp(struct volume_store *v)
{
	_cleanup_close_ int lock = birth_lock(v, LOCK_EX);
	_cleanup_dir_ DIR *d = NULL;
	int fd = openat(v->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0 && !d)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, BIRTH_LOCK) == 0 ||
		    (strncmp(n, "volume-", 7) != 0 && strncmp(n, ".volume-", 8) != 0))
			continue;
		_cleanup_close_ int e = openat(v->tmpfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (e < 0 || flock(e, LOCK_EX | LOCK_NB) < 0)
			continue; /* its writer is alive */
		rm_quiet(v->tmpfd, n);
	}
}

int volume_store_open(sqlite3 *db, const char *root, struct volume_store **out, berth_err *err)
{
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return berth_error_errno(err, "create %s", root);
	char *abs = realpath(root, NULL);
	if (!abs)
		return berth_error_errno(err, "resolve %s", root);
	struct volume_store *v = xcalloc(1, sizeof(*v));
	v->db = db;
	v->root = abs;
	v->volfd = v->tmpfd = -1;
	_cleanup_close_ int rootfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;
	if (rootfd < 0)
		r = berth_error_errno(err, "open %s", abs);
	else if ((r = v->volfd = open_subdir(rootfd, "volumes", abs, err)) >= 0 &&
		 /* traversable, not listable: a container's user reaches its _data */
		 (r = fchmod(v->volfd, 0701) < 0 ? berth_error_errno(err, "chmod %s/volumes", abs)
						 : 0) >= 0 &&
		 (r = v->tmpfd = open_subdir(rootfd, "tmp", abs, err)) >= 0 &&
		 (r = db_migrate(db, "volumes", schema_steps, err)) >= 0) {
		sweep_tmp(v);
		r = sweep(v, false, err);
	}
	if (r < 0) {
		volume_store_close(v);
		return r;
	}
	*out = v;
	return 0;
}

void volume_store_close(struct volume_store *v)
{
	if (!v)
		return;
	if (v->volfd >= 0)
		close(v->volfd);
	if (v->tmpfd >= 0)
		close(v->tmpfd);
	free(v->root);
	free(v);
}

static char *mountpoint_of(struct volume_store *v, const char *name)
{
	return xasprintf("%s/volumes/%s/_data", v->root, name);
}

/* Options of the local driver Docker knows. Mounting a device or a tmpfs
 * at use time is not done by berth yet, so they are refused, not ignored. */
static int check_options(const char *name, json_t *options, berth_err *err)
{
	const char *key;
	json_t *val;
	json_object_foreach (options, key, val) {
		if (strcmp(key, "type") == 0 || strcmp(key, "device") == 0 ||
		    strcmp(key, "o") == 0 || strcmp(key, "size") == 0)
			return berth_error_code(err, ENOTSUP,
						"create %s: volume option \"%s\": mounting a "
						"device or filesystem into a volume is not "
						"supported by berth yet",
						name, key);
		return berth_error_code(err, EINVAL, "create %s: invalid option key: \"%s\"", name,
					key);
	}
	return 0;
}

/* Make the directory in tmp/ (flocked, so a sweep leaves it alone while we
 * live) and rename it into volumes/ in the transaction that records it. */
static int create_recorded(struct volume_store *v, const char *name, bool anonymous,
			   const char *labels_s, const char *options_s, const char *user,
			   berth_err *err)
{
	_cleanup_free_ char *rnd = random_hex(8);
	_cleanup_free_ char *tmp = xasprintf(".volume-%s", rnd);
	int r;
	_cleanup_close_ int lock = birth_lock(v, LOCK_SH);
	if (lock < 0)
		return berth_error(err, -lock, "create %s: lock %s/tmp/%s", name, v->root,
				   BIRTH_LOCK);
	if (mkdirat(v->tmpfd, tmp, 0700) < 0)
		return berth_error_errno(err, "create %s: %s/tmp/%s", name, v->root, tmp);
	_cleanup_close_ int tfd =
		openat(v->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0 || flock(tfd, LOCK_EX | LOCK_NB) < 0 || mkdirat(tfd, "_data", 0755) < 0 ||
	    fchmodat(tfd, "_data", 0755, 0) < 0 || fchmod(tfd, 0701) < 0) {
		r = berth_error_errno(err, "create %s: %s/tmp/%s", name, v->root, tmp);
		rm_quiet(v->tmpfd, tmp);
		return r;
	}
	close(TAKE_FD(lock)); /* the dir's own flock protects it from here */
	if ((r = db_begin(v->db, err)) < 0) {
		rm_quiet(v->tmpfd, tmp);
		return r;
	}
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(v->db,
			    "INSERT OR IGNORE INTO volumes(name, created, labels, options, "
			    "anonymous) VALUES(?, ?, ?, ?, ?)",
			    &st, err)) < 0) {
		db_rollback(v->db);
		rm_quiet(v->tmpfd, tmp);
		return r;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, labels_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, options_s, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, anonymous);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = db_fail(v->db, err, "record volume");
		db_rollback(v->db);
		rm_quiet(v->tmpfd, tmp);
		return r;
	}
	if (sqlite3_changes(v->db) == 0) {
		/* Another berth made it meanwhile: use theirs. */
		db_rollback(v->db);
		rm_quiet(v->tmpfd, tmp);
		return 1;
	}
	_cleanup_stmt_ sqlite3_stmt *use = NULL;
	if (user && ((r = db_prepare(v->db,
				     "INSERT OR IGNORE INTO volume_users(volume, container) "
				     "VALUES(?, ?)",
				     &use, err)) < 0 ||
		     sqlite3_bind_text(use, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
		     sqlite3_bind_text(use, 2, user, -1, SQLITE_STATIC) != SQLITE_OK ||
		     sqlite3_step(use) != SQLITE_DONE)) {
		if (r == 0)
			r = db_fail(v->db, err, "record volume user");
		db_rollback(v->db);
		rm_quiet(v->tmpfd, tmp);
		return r;
	}
	if (renameat(v->tmpfd, tmp, v->volfd, name) < 0) {
		/* A leftover of a killed create: remove it and take its place. */
		r = 0;
		if ((errno != EEXIST && errno != ENOTEMPTY) ||
		    (r = rm_rf_at(v->volfd, name, err)) < 0 ||
		    renameat(v->tmpfd, tmp, v->volfd, name) < 0) {
			if (r == 0)
				r = berth_error_errno(err, "create %s: store in %s/volumes", name,
						      v->root);
			db_rollback(v->db);
			rm_quiet(v->tmpfd, tmp);
			return r;
		}
	}
	if ((r = db_commit(v->db, err)) < 0) {
		rm_quiet(v->volfd, name);
		return r;
	}
	return 0;
}

/* Record user on an existing volume: 1 done, 0 the volume is gone meanwhile. */
static int add_user(struct volume_store *v, const char *name, const char *user, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db,
			   "INSERT OR IGNORE INTO volume_users(volume, container) VALUES(?, ?)",
			   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		return 1;
	if (sqlite3_extended_errcode(v->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		return 0;
	return db_fail(v->db, err, "record volume user");
}

int volume_create_used(struct volume_store *v, const char *name, json_t *labels, json_t *options,
		       const char *user, char **mountpoint, char **out_name, berth_err *err)
{
	_cleanup_free_ char *anon_name = NULL;
	bool anonymous = !name;
	if (anonymous)
		name = anon_name = random_hex(32);
	else if (volume_check_name(name, err) < 0)
		return -EINVAL;
	if (options && !json_is_object(options))
		return berth_error_code(err, EINVAL, "create %s: options must be an object", name);
	if (labels && !json_is_object(labels))
		return berth_error_code(err, EINVAL, "create %s: labels must be an object", name);
	int r;
	if (options && (r = check_options(name, options, err)) < 0)
		return r;
	_cleanup_json_ json_t *lab = labels ? json_deep_copy(labels) : json_object();
	if (anonymous)
		json_object_set_new(lab, ANON_LABEL, json_string(""));
	_cleanup_free_ char *labels_s = json_dumps(lab, JSON_COMPACT | JSON_SORT_KEYS);
	_cleanup_free_ char *options_s =
		options ? json_dumps(options, JSON_COMPACT | JSON_SORT_KEYS)
			: xstrdup(anonymous ? "null" : "{}");
	/* Another berth may create or remove the same name meanwhile: go round
	 * until the volume exists with user recorded (a few rounds at most). */
	for (int round = 0;; round++) {
		if (round == 100)
			return berth_error_code(err, EAGAIN,
						"create %s: removed and created by "
						"others again and again",
						name);
		if ((r = row_exists(v, name, err)) < 0)
			return r;
		if (r == 1) {
			if (!user)
				break;
			if ((r = add_user(v, name, user, err)) < 0)
				return r;
			if (r == 1)
				break;
			continue;
		}
		if ((r = create_recorded(v, name, anonymous, labels_s, options_s, user, err)) < 0)
			return r;
		if (r == 0)
			break;
	}
	if (mountpoint)
		*mountpoint = mountpoint_of(v, name);
	if (out_name)
		*out_name = xstrdup(name);
	return 0;
}

int volume_create(struct volume_store *v, const char *name, json_t *labels, json_t *options,
		  char **mountpoint, char **out_name, berth_err *err)
{
	return volume_create_used(v, name, labels, options, NULL, mountpoint, out_name, err);
}

/* Docker's CreatedAt: RFC 3339 in local time, "Z" for UTC. */
static char *format_created(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	if (off == 0)
		return xasprintf("%.*sZ", (int)n, buf);
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	return xasprintf("%.*s%c%02ld:%02ld", (int)n, buf, sign, off / 3600, (off / 60) % 60);
}

static json_t *parse_or_null(const char *s)
{
	json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
	return j ? j : json_null();
}

#define SELECT_VOLUME "SELECT name, created, labels, options FROM volumes"

static json_t *row_json(struct volume_store *v, sqlite3_stmt *st)
{
	const char *name = (const char *)sqlite3_column_text(st, 0);
	_cleanup_free_ char *created = format_created((time_t)sqlite3_column_int64(st, 1));
	_cleanup_free_ char *mp = mountpoint_of(v, name);
	/* Keys in Docker's order (its struct's, which is alphabetical). */
	json_t *o = json_object();
	json_object_set_new(o, "CreatedAt", json_string(created));
	json_object_set_new(o, "Driver", json_string("local"));
	json_object_set_new(o, "Labels", parse_or_null((const char *)sqlite3_column_text(st, 2)));
	json_object_set_new(o, "Mountpoint", json_string(mp));
	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "Options", parse_or_null((const char *)sqlite3_column_text(st, 3)));
	json_object_set_new(o, "Scope", json_string("local"));
	return o;
}

int volume_get(struct volume_store *v, const char *name, json_t **out, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db, SELECT_VOLUME " WHERE name = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return berth_error_code(err, ENOENT, "no such volume: %s", name);
	if (rc != SQLITE_ROW)
		return db_fail(v->db, err, "look up volume");
	*out = row_json(v, st);
	return 0;
}

int volume_list(struct volume_store *v, json_t **out, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db, SELECT_VOLUME " ORDER BY name", &st, err);
	if (r < 0)
		return r;
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a, row_json(v, st));
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return db_fail(v->db, err, "list volumes");
	}
	*out = a;
	return 0;
}

int volume_users(struct volume_store *v, const char *name, char ***users, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db,
			   "SELECT container FROM volume_users WHERE volume = ? ORDER BY container",
			   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	char **list = xcalloc(1, sizeof(char *));
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = xrealloc(list, (n + 2) * sizeof(char *));
		list[n++] = db_text(st, 0);
		list[n] = NULL;
	}
	if (rc != SQLITE_DONE) {
		strv_free(list);
		return db_fail(v->db, err, "volume users");
	}
	*users = list;
	return 0;
}

int volume_set_users(struct volume_store *v, const char *container_id, const char *const *names,
		     berth_err *err)
{
	int r = db_begin(v->db, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;
	if ((r = db_prepare(v->db, "DELETE FROM volume_users WHERE container = ?", &del, err)) <
		    0 ||
	    (r = db_prepare(v->db,
			    "INSERT OR IGNORE INTO volume_users(volume, container) VALUES(?, ?)",
			    &ins, err)) < 0) {
		db_rollback(v->db);
		return r;
	}
	sqlite3_bind_text(del, 1, container_id, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE) {
		r = db_fail(v->db, err, "volume users");
		db_rollback(v->db);
		return r;
	}
	for (size_t i = 0; names && names[i]; i++) {
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, names[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, container_id, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			r = db_fail(v->db, err, "volume users");
			if (sqlite3_extended_errcode(v->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
				r = berth_error_code(err, ENOENT, "no such volume: %s", names[i]);
			db_rollback(v->db);
			return r;
		}
	}
	return db_commit(v->db, err);
}

/* Bytes of the regular files under dirfd/name, as Docker counts a volume's
 * size (st_size, hard links counted once per name). */
static uint64_t tree_size(int dirfd, const char *name)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return 0;
	}
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat sb;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
		else if (S_ISDIR(sb.st_mode))
			total += tree_size(fd, de->d_name);
	}
	closedir(d);
	return total;
}

/* Volumes being removed: inside a transaction each row is deleted and its
 * dir moved to tmp/ (flocked, so no sweep takes it while the transaction
 * may still roll back); after the commit the dirs are removed. A crash
 * before the commit leaves the row without its dir, which the next open
 * finishes removing. */
struct trash {
	size_t n;
	struct trash_item {
		char *name;
		char *tmp; /* in tmp/, NULL when the dir was already gone */
		int fd;    /* holds the flock */
	} * v;
};

static int trash_move(struct volume_store *v, struct trash *t, const char *name, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(v->db, "DELETE FROM volumes WHERE name = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(v->db, err, "remove volume");
	_cleanup_close_ int fd =
		openat(v->volfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return berth_error_errno(err, "remove %s", name);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0)
		return berth_error_errno(err, "remove %s: lock", name);
	_cleanup_free_ char *rnd = random_hex(8);
	_cleanup_free_ char *tmp = xasprintf("volume-rm-%s", rnd);
	if (fd >= 0 && renameat(v->volfd, name, v->tmpfd, tmp) < 0)
		return berth_error_errno(err, "remove %s", name);
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = (struct trash_item){
		.name = xstrdup(name),
		.tmp = fd >= 0 ? TAKE_PTR(tmp) : NULL,
		.fd = TAKE_FD(fd),
	};
	return 0;
}

/* The transaction rolled back: the dirs go back where they were. */
static void trash_restore(struct volume_store *v, struct trash *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].tmp)
			renameat(v->tmpfd, t->v[i].tmp, v->volfd, t->v[i].name);
}

/* Remove the moved dirs (after the commit, or not at all: see trash_restore()). */
static void trash_release(struct volume_store *v, struct trash *t, bool empty)
{
	for (size_t i = 0; i < t->n; i++) {
		if (empty && t->v[i].tmp)
			rm_quiet(v->tmpfd, t->v[i].tmp);
		if (t->v[i].fd >= 0)
			close(t->v[i].fd);
		free(t->v[i].name);
		free(t->v[i].tmp);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static char *join_users(char **users)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; users[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", users[i]);
	return strbuf_detach(&sb, NULL);
}

int volume_remove(struct volume_store *v, const char *name, bool force, berth_err *err)
{
	int r = db_begin(v->db, err);
	if (r < 0)
		return r;
	if ((r = row_exists(v, name, err)) <= 0) {
		db_rollback(v->db);
		if (r == 0 && force)
			return 0;
		return r < 0 ? r : berth_error_code(err, ENOENT, "get %s: no such volume", name);
	}
	_cleanup_strv_ char **users = NULL;
	if ((r = volume_users(v, name, &users, err)) < 0) {
		db_rollback(v->db);
		return r;
	}
	if (users[0]) {
		/* As Docker: force does not remove a volume a container uses. */
		db_rollback(v->db);
		_cleanup_free_ char *list = join_users(users);
		return berth_error_code(err, EBUSY, "remove %s: volume is in use - [%s]", name,
					list);
	}
	struct trash t = { 0 };
	if ((r = trash_move(v, &t, name, err)) < 0) {
		db_rollback(v->db);
		trash_restore(v, &t);
		trash_release(v, &t, false);
		return r;
	}
	if ((r = db_commit(v->db, err)) < 0)
		trash_restore(v, &t);
	trash_release(v, &t, r == 0);
	return r;
}

/* label_filters: strings "key", "key=value", or either prefixed by "!"
 * (label!=): all must hold. */
static bool labels_match(json_t *labels, json_t *filters)
{
	size_t i;
	json_t *f;
	json_array_foreach (filters, i, f) {
		const char *s = json_string_value(f);
		if (!s)
			continue;
		bool negate = s[0] == '!';
		if (negate)
			s++;
		const char *eq = strchr(s, '=');
		_cleanup_free_ char *key = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
		json_t *val = json_is_object(labels) ? json_object_get(labels, key) : NULL;
		bool hit = val && (!eq || (json_is_string(val) &&
					   strcmp(json_string_value(val), eq + 1) == 0));
		if (hit == negate)
			return false;
	}
	return true;
}

/* Anonymous: made without a name, or (as Docker) carrying its label. */
static bool anonymous_by(int flag, json_t *labels)
{
	return flag || (json_is_object(labels) && json_object_get(labels, ANON_LABEL));
}

int volume_prune(struct volume_store *v, bool all_volumes, json_t *label_filters, char ***removed,
		 uint64_t *reclaimed, berth_err *err)
{
	*removed = xcalloc(1, sizeof(char *));
	*reclaimed = 0;
	int r = db_begin(v->db, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	/* Unused: no container records it. Without --all only anonymous ones,
	 * known by the flag or (as Docker) by the label. */
	if ((r = db_prepare(v->db,
			    "SELECT name, labels, anonymous FROM volumes WHERE name NOT IN "
			    "(SELECT volume FROM volume_users) ORDER BY name",
			    &st, err)) < 0) {
		db_rollback(v->db);
		return r;
	}
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		_cleanup_json_ json_t *labels =
			parse_or_null((const char *)sqlite3_column_text(st, 1));
		bool anon = anonymous_by(sqlite3_column_int(st, 2), labels);
		if (!all_volumes && !anon)
			continue;
		if (label_filters && !labels_match(labels, label_filters))
			continue;
		names = xrealloc(names, (n + 2) * sizeof(char *));
		names[n++] = db_text(st, 0);
		names[n] = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(v->db, err, "prune volumes");
		db_rollback(v->db);
		return r;
	}
	uint64_t bytes = 0;
	struct trash t = { 0 };
	for (size_t i = 0; i < n; i++) {
		bytes += tree_size(v->volfd, names[i]);
		if ((r = trash_move(v, &t, names[i], err)) < 0) {
			db_rollback(v->db);
			trash_restore(v, &t);
			trash_release(v, &t, false);
			return r;
		}
	}
	if ((r = db_commit(v->db, err)) < 0) {
		trash_restore(v, &t);
		trash_release(v, &t, false);
		return r;
	}
	trash_release(v, &t, true);
	strv_free(*removed);
	*removed = TAKE_PTR(names);
	*reclaimed = bytes;
	return 0;
}

bool volume_is_anonymous(struct volume_store *v, const char *name)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(v->db, "SELECT anonymous, labels FROM volumes WHERE name = ?", &st, NULL) <
	    0)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return false;
	_cleanup_json_ json_t *labels = parse_or_null((const char *)sqlite3_column_text(st, 1));
	return anonymous_by(sqlite3_column_int(st, 0), labels);
}

int volume_mountpoint(struct volume_store *v, const char *name, char **out, berth_err *err)
{
	int r = row_exists(v, name, err);
	if (r < 0)
		return r;
	if (r == 0)
		return berth_error_code(err, ENOENT, "no such volume: %s", name);
	*out = mountpoint_of(v, name);
	return 0;
}
