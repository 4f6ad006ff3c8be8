/* engine.c - the engine's state: opening it, container rows, paths, locks,
 * lookups by name or id, and the Docker-shaped inspect object. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/volume.h"
#include "image/db.h"
#include "image/store.h"
#include "oci/state.h"

static const char *const migrations[] = {
	"CREATE TABLE containers ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" image_id TEXT NOT NULL,"
	" image TEXT NOT NULL,"
	" created TEXT NOT NULL,"
	" config TEXT NOT NULL,"
	" host_config TEXT NOT NULL,"
	" networking TEXT,"
	" mounts TEXT,"
	" state TEXT NOT NULL,"
	" user_stopped INTEGER NOT NULL DEFAULT 0,"
	" restart_count INTEGER NOT NULL DEFAULT 0,"
	" restart_delay_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX containers_image ON containers(image_id);",
	NULL,
};

int engine_open(const struct engine_paths *p, struct image_store *store, struct engine **out,
		berth_err *err)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->root = xstrdup(p->root);
	e->runroot = xstrdup(p->runroot);
	e->runtime_root = xasprintf("%s/runtime", p->runroot);
	e->self = xstrdup(p->self);
	e->monitor = xstrdup(p->monitor);
	e->init = p->init ? xstrdup(p->init) : NULL;
	e->default_bridge = p->default_bridge ? xstrdup(p->default_bridge) : NULL;
	e->default_bip = p->default_bip ? xstrdup(p->default_bip) : NULL;
	e->dns = p->dns ? xstrdup(p->dns) : NULL;
	size_t n = 0;
	while (p->global_args && p->global_args[n])
		n++;
	e->global_args = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		e->global_args[i] = xstrdup(p->global_args[i]);
	e->store = store;
	e->db = image_store_db(store);
	int r;
	if ((r = db_migrate(e->db, "containers", migrations, err)) < 0) {
		engine_close(e);
		return r;
	}
	*out = e;
	return 0;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	if (e->volumes)
		volume_store_close(e->volumes);
	free(e->root);
	free(e->runroot);
	free(e->runtime_root);
	free(e->self);
	free(e->monitor);
	free(e->init);
	free(e->default_bridge);
	free(e->default_bip);
	free(e->dns);
	for (size_t i = 0; e->global_args[i]; i++)
		free(e->global_args[i]);
	free(e->global_args);
	free(e);
}

struct volume_store *engine_volumes(struct engine *e, berth_err *err)
{
	if (!e->volumes && volume_store_open(e->db, e->root, &e->volumes, err) < 0)
		return NULL;
	return e->volumes;
}

const char *engine_runtime_root(struct engine *e)
{
	return e->runtime_root;
}

char *engine_time_rfc3339(int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char b[64];
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09lldZ", b, (long long)(ns % 1000000000));
}

char *engine_now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return engine_time_rfc3339((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

char *ctr_dir(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s", e->root, id);
}

char *ctr_rundir(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s", e->runroot, id);
}

char *ctr_shm_path(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s/shm", e->root, id);
}

char *ctr_cgroup_path(const char *id)
{
	return xasprintf("/berth/%s", id);
}

char *ctr_log_path(struct engine *e, const char *id)
{
	return xasprintf("%s/containers/%s/%s-json.log", e->root, id, id);
}

int ctr_lock(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/locks", e->runroot);
	int r = mkdir_parents(dir, 0700);
	if (r < 0)
		return berth_error(err, -r, "cannot create %s", dir);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, id);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_errno(err, "cannot open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e2 = errno;
			close(fd);
			return berth_error(err, e2, "cannot lock %s", path);
		}
	return fd;
}

bool ctr_monitor_alive(struct engine *e, const char *id)
{
	_cleanup_free_ char *path = xasprintf("%s/containers/%s/monitor.lock", e->runroot, id);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int ctr_read_exit(struct engine *e, const char *id, int *code, int64_t *when_ns)
{
	_cleanup_free_ char *path = xasprintf("%s/containers/%s/exit", e->runroot, id);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	long long c, w;
	if (fscanf(f, "%lld %lld", &c, &w) != 2)
		return -EINVAL;
	*code = (int)c;
	*when_ns = w;
	return 0;
}

static json_t *load_json_col(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? json_loads(t, 0, NULL) : NULL;
}

#define ROW_COLUMNS                                                                                \
	"id, name, image_id, image, created, config, host_config, networking, mounts, state, "     \
	"user_stopped, restart_count"

static void row_from_stmt(sqlite3_stmt *st, struct ctr_row *row)
{
	row->id = db_text(st, 0);
	row->name = db_text(st, 1);
	row->image_id = db_text(st, 2);
	row->image = db_text(st, 3);
	row->created = db_text(st, 4);
	row->config = load_json_col(st, 5);
	row->host_config = load_json_col(st, 6);
	row->networking = load_json_col(st, 7);
	row->mounts = load_json_col(st, 8);
	row->state = load_json_col(st, 9);
	row->user_stopped = sqlite3_column_int(st, 10) != 0;
	row->restart_count = sqlite3_column_int(st, 11);
	if (!row->config)
		row->config = json_object();
	if (!row->host_config)
		row->host_config = json_object();
	if (!row->mounts)
		row->mounts = json_array();
	if (!row->state)
		row->state = json_object();
}

int ctr_row_load(struct engine *e, const char *id, struct ctr_row *row, berth_err *err)
{
	memset(row, 0, sizeof(*row));
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "SELECT " ROW_COLUMNS " FROM containers WHERE id = ?", &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return berth_error_code(err, ENOENT, "No such container: %s", id);
	if (r != SQLITE_ROW)
		return db_fail(e->db, err, "reading a container");
	row_from_stmt(st, row);
	return 0;
}

void ctr_row_free(struct ctr_row *row)
{
	free(row->id);
	free(row->name);
	free(row->image_id);
	free(row->image);
	free(row->created);
	json_decref(row->config);
	json_decref(row->host_config);
	json_decref(row->networking);
	json_decref(row->mounts);
	json_decref(row->state);
	memset(row, 0, sizeof(*row));
}

int ctr_row_save_state(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "UPDATE containers SET state = ?, user_stopped = ?, restart_count = ? WHERE "
		       "id = ?",
		       &st, err) < 0)
		return -EIO;
	_cleanup_free_ char *s = json_dumps(row->state, JSON_COMPACT);
	sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, row->user_stopped);
	sqlite3_bind_int(st, 3, row->restart_count);
	sqlite3_bind_text(st, 4, row->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "recording the container's state");
	return 0;
}

int ctr_row_save_host_config(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "UPDATE containers SET host_config = ? WHERE id = ?", &st, err) < 0)
		return -EIO;
	_cleanup_free_ char *s = json_dumps(row->host_config, JSON_COMPACT);
	sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "recording the container's host config");
	return 0;
}

int ctr_row_delete(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "DELETE FROM containers WHERE id = ?", &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "removing the container's record");
	return 0;
}

void ctr_set_state(struct ctr_row *row, const char *status)
{
	json_t *s = row->state;
	json_object_set_new(s, "Status", json_string(status));
	json_object_set_new(s, "Running",
			    json_boolean(!strcmp(status, "running") || !strcmp(status, "paused") ||
					 !strcmp(status, "restarting")));
	json_object_set_new(s, "Paused", json_boolean(!strcmp(status, "paused")));
	json_object_set_new(s, "Restarting", json_boolean(!strcmp(status, "restarting")));
	json_object_set_new(s, "Dead", json_boolean(!strcmp(status, "dead")));
}

/* Docker's order: an exact id, an exact name, then a unique id prefix. */
int ctr_resolve(struct engine *e, const char *name_or_id, char **id, berth_err *err)
{
	const char *q = name_or_id[0] == '/' ? name_or_id + 1 : name_or_id;
	if (!*q)
		return berth_error_code(err, ENOENT, "No such container: %s", name_or_id);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "SELECT id FROM containers WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC",
		       &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = db_text(st, 0);
		return 0;
	}
	if (strspn(q, "0123456789abcdef") != strlen(q))
		return berth_error_code(err, ENOENT, "No such container: %s", name_or_id);
	_cleanup_stmt_ sqlite3_stmt *p = NULL;
	if (db_prepare(e->db,
		       "SELECT id FROM containers WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2", &p,
		       err) < 0)
		return -EIO;
	sqlite3_bind_text(p, 1, q, -1, SQLITE_STATIC);
	if (sqlite3_step(p) != SQLITE_ROW)
		return berth_error_code(err, ENOENT, "No such container: %s", name_or_id);
	_cleanup_free_ char *found = db_text(p, 0);
	if (sqlite3_step(p) == SQLITE_ROW)
		return berth_error_code(err, EEXIST, "multiple IDs found with provided prefix: %s",
					name_or_id);
	*id = TAKE_PTR(found);
	return 0;
}

/* Docker's Path and Args: the first word of Entrypoint + Cmd, and the rest. */
static void path_and_args(json_t *inspect, json_t *config)
{
	json_t *argv = json_array();
	json_t *ep = json_object_get(config, "Entrypoint"), *cmd = json_object_get(config, "Cmd");
	json_array_extend(argv, json_is_array(ep) ? ep : NULL);
	json_array_extend(argv, json_is_array(cmd) ? cmd : NULL);
	json_t *path = json_array_get(argv, 0);
	json_object_set_new(inspect, "Path", path ? json_incref(path) : json_string(""));
	if (json_array_size(argv) > 0)
		json_array_remove(argv, 0);
	json_object_set_new(inspect, "Args", argv);
}

static json_t *inspect_of(struct engine *e, struct ctr_row *row)
{
	_cleanup_free_ char *dir = ctr_dir(e, row->id), *run = ctr_rundir(e, row->id);
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(row->id));
	json_object_set_new(o, "Created", json_string(row->created));
	path_and_args(o, row->config);
	json_object_set(o, "State", row->state);
	json_object_set_new(o, "Image", json_string(row->image_id));
	json_object_set_new(o, "ResolvConfPath", json_sprintf("%s/resolv.conf", dir));
	json_object_set_new(o, "HostnamePath", json_sprintf("%s/hostname", dir));
	json_object_set_new(o, "HostsPath", json_sprintf("%s/hosts", dir));
	_cleanup_free_ char *log = ctr_log_path(e, row->id);
	json_object_set_new(o, "LogPath", json_string(log));
	json_object_set_new(o, "Name", json_sprintf("/%s", row->name));
	json_object_set_new(o, "RestartCount", json_integer(row->restart_count));
	json_object_set_new(o, "Driver", json_string("overlay2"));
	json_object_set_new(o, "Platform", json_string("linux"));
	json_object_set_new(o, "MountLabel", json_string(""));
	json_object_set_new(o, "ProcessLabel", json_string(""));
	json_object_set_new(o, "AppArmorProfile", json_string(""));
	json_object_set_new(o, "ExecIDs", json_null());
	json_object_set(o, "HostConfig", row->host_config);
	json_t *gd = json_object();
	_cleanup_strv_ char **lower = image_store_layer_dirs(e->store, row->image_id, NULL);
	_cleanup_free_ char *lowers = lower ? strv_join(lower, ":") : NULL;
	json_object_set_new(gd, "LowerDir", json_string(lowers ? lowers : ""));
	json_object_set_new(gd, "MergedDir", json_sprintf("%s/rootfs", run));
	json_object_set_new(gd, "UpperDir", json_sprintf("%s/upper", dir));
	json_object_set_new(gd, "WorkDir", json_sprintf("%s/work", dir));
	json_object_set_new(o, "GraphDriver",
			    json_pack("{s:o,s:s}", "Data", gd, "Name", "overlay2"));
	json_object_set(o, "Mounts", row->mounts);
	json_t *cfg = json_deep_copy(row->config);
	json_object_set_new(cfg, "Image", json_string(row->image));
	json_object_set_new(o, "Config", cfg);
	const char *status = json_string_value(json_object_get(row->state, "Status")) ?: "";
	json_t *ns = ctr_net_settings(e, row, !strcmp(status, "running") ||
						      !strcmp(status, "paused"));
	json_object_set_new(o, "NetworkSettings", ns);
	return o;
}

int ctr_get(struct engine *e, const char *id, json_t **out, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if (!row.id) /* removed by the refresh (--rm) */
		return berth_error_code(err, ENOENT, "No such container: %s", id);
	*out = inspect_of(e, &row);
	return 0;
}

int ctr_list(struct engine *e, json_t **out, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "SELECT " ROW_COLUMNS " FROM containers ORDER BY created DESC", &st,
		       err) < 0)
		return -EIO;
	size_t n = 0;
	struct ctr_row *rows = NULL;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		rows = xrealloc(rows, (n + 1) * sizeof(*rows));
		memset(&rows[n], 0, sizeof(rows[n]));
		row_from_stmt(st, &rows[n++]);
	}
	sqlite3_finalize(st);
	st = NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		_cleanup_err_ berth_err e2 = BERTH_ERR_INIT;
		if (ctr_refresh(e, &rows[i], &e2) == 0 && rows[i].id)
			json_array_append_new(a, inspect_of(e, &rows[i]));
		ctr_row_free(&rows[i]);
	}
	free(rows);
	*out = a;
	return 0;
}

int ctr_rename(struct engine *e, const char *id, const char *new_name, berth_err *err)
{
	const char *n = new_name[0] == '/' ? new_name + 1 : new_name;
	if (!*n ||
	    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(n) ||
	    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n[0]))
		return berth_error_code(
			err, EINVAL,
			"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			new_name);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "UPDATE containers SET name = ? WHERE id = ?", &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, n, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if ((r & 0xff) == SQLITE_CONSTRAINT) {
		_cleanup_free_ char *owner = NULL;
		ctr_resolve(e, n, &owner, NULL);
		return berth_error_code(err, EEXIST,
					"Conflict. The container name \"/%s\" is already in use by "
					"container \"%s\". "
					"You have to remove (or rename) that container to be able "
					"to reuse that name.",
					n, owner ? owner : "?");
	}
	if (r != SQLITE_DONE)
		return db_fail(e->db, err, "renaming the container");
	ctr_net_names_refresh(e, id);
	return 0;
}

char **ctr_image_users(struct engine *e, const char *image_id, bool running_only)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char **ids = xcalloc(1, sizeof(char *));
	if (db_prepare(e->db,
		       running_only ? "SELECT id FROM containers WHERE image_id = ? AND"
				      " json_extract(state, '$.Status') IN ('running', 'paused', "
				      "'restarting')"
				    : "SELECT id FROM containers WHERE image_id = ?",
		       &st, NULL) < 0)
		return ids;
	sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		strv_push(&ids, (const char *)sqlite3_column_text(st, 0));
	return ids;
}
