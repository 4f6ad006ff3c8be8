/* ctr_state.c - a started container's life after start: reconciling the
 * database with its monitor, its exit (record, clean, --rm, restart policy),
 * kill, stop, wait and remove. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/rmtree.h"
#include "common/signals.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/volume.h"
#include "image/db.h"
#include "monitor/attach_proto.h"
#include "oci/cgroup.h"
#include "oci/container.h"

static const char *status_of(struct ctr_row *row)
{
	return json_string_value(json_object_get(row->state, "Status")) ?: "created";
}

static bool is_live_status(const char *s)
{
	return !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "restarting");
}

/* Runtime state, mount and run files of a container whose init is gone.
 * monitor.lock stays: a restarting exit command still holds it. */
int ctr_cleanup(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_err_ berth_err e2 = BERTH_ERR_INIT;
	if (container_delete(e->runtime_root, row->id, true, &e2) < 0) {
		if (e2.code != ENOENT)
			return berth_error_code(err, e2.code, "%s", e2.msg);
		/* No runtime state (the runroot was lost, as in a reboot): the
		 * cgroup may still be there, under its known path. */
		_cleanup_free_ char *cg = ctr_cgroup_path(row->id);
		int r = cgroup_remove_stale(cg, row->id, err);
		if (r < 0)
			return r;
	}
	/* Its leases and ports: the veths went with its network namespace. */
	int nr = ctr_net_release(e, row->id, err);
	if (nr < 0)
		return nr;
	_cleanup_free_ char *run = ctr_rundir(e, row->id);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", run);
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return berth_error_errno(err, "cannot unmount %s", rootfs);
	_cleanup_free_ char *shm = ctr_shm_path(e, row->id);
	if (umount2(shm, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return berth_error_errno(err, "cannot unmount %s", shm);
	_cleanup_close_ int fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	static const char *const files[] = { "rootfs", "config.json", "attach.sock", "console.sock",
					     "exit.tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (rm_rf_at(fd, files[i], err) < 0)
			return -EIO;
	return 0;
}

static void record_exit(struct ctr_row *row, int code, int64_t when_ns, const char *error)
{
	ctr_set_state(row, "exited");
	json_object_set_new(row->state, "Pid", json_integer(0));
	json_object_set_new(row->state, "ExitCode", json_integer(code));
	json_object_set_new(row->state, "Error", json_string(error ? error : ""));
	char *t = when_ns ? engine_time_rfc3339(when_ns) : engine_now_rfc3339();
	json_object_set_new(row->state, "FinishedAt", json_string(t));
	free(t);
}

/* Everything of a stopped container; its row last, so a kill -9 half-way
 * leaves a row in "removing" that the next refresh finishes. */
static int remove_stopped(struct engine *e, struct ctr_row *row, bool volumes, berth_err *err)
{
	int r;
	ctr_set_state(row, "removing");
	if ((r = ctr_row_save_state(e, row, err)) < 0 || (r = ctr_cleanup(e, row, err)) < 0)
		return r;
	_cleanup_close_ int croot = -1, rroot = -1;
	_cleanup_free_ char *cdir = xasprintf("%s/containers", e->root),
			    *rdir = xasprintf("%s/containers", e->runroot);
	croot = open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rroot = open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((croot >= 0 && rm_rf_at(croot, row->id, err) < 0) ||
	    (rroot >= 0 && rm_rf_at(rroot, row->id, err) < 0))
		return -EIO;
	struct volume_store *vs = engine_volumes(e, err);
	if (!vs)
		return -EIO;
	if ((r = volume_set_users(vs, row->id, NULL, err)) < 0)
		return r;
	if (volumes) {
		size_t i;
		json_t *m;
		json_array_foreach (row->mounts, i, m) {
			const char *n = json_string_value(json_object_get(m, "Name"));
			if (n && volume_is_anonymous(vs, n))
				volume_remove(vs, n, false, NULL);
		}
	}
	if ((r = ctr_row_delete(e, row->id, err)) < 0)
		return r;
	_cleanup_free_ char *lock = xasprintf("%s/locks/%s", e->runroot, row->id);
	unlink(lock);
	ctr_row_free(row); /* row->id NULL: gone */
	return 0;
}

static bool auto_remove(struct ctr_row *row)
{
	return json_is_true(json_object_get(row->host_config, "AutoRemove"));
}

/* The monitor is gone (killed, or its exit command was): finish its work. */
static int finish_dead_monitor(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_json_ json_t *st = NULL;
	if (container_state(e->runtime_root, row->id, &st, NULL) == 0) {
		const char *s = json_string_value(json_object_get(st, "status"));
		if (s && (!strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "created"))) {
			/* Still running without its monitor: nobody records its exit
			 * status any more, but it is not lost. */
			json_object_set_new(row->state, "Error",
					    json_string("the container's monitor was killed; its "
							"exit status will not be known"));
			return 0;
		}
	}
	int code = 255;
	int64_t when = 0;
	bool known = ctr_read_exit(e, row->id, &code, &when) == 0;
	record_exit(row, code, when,
		    known ? NULL
			  : "the container's monitor was killed; the exit status is unknown");
	if (auto_remove(row)) /* remove_stopped() cleans up on its way */
		return remove_stopped(e, row, true, err);
	int r;
	if ((r = ctr_cleanup(e, row, err)) < 0 || (r = ctr_row_save_state(e, row, err)) < 0)
		return r;
	return 0;
}

int ctr_refresh(struct engine *e, struct ctr_row *row, berth_err *err)
{
	const char *s = status_of(row);
	/* A removal that was killed half-way: finish it (each step may be redone). */
	if (!strcmp(s, "removing"))
		return remove_stopped(e, row, true, err);
	if (!is_live_status(s))
		return 0;
	if (ctr_monitor_alive(e, row->id)) {
		int code;
		int64_t when;
		/* Exited; its exit command is recording it right now. */
		if (!strcmp(s, "running") && ctr_read_exit(e, row->id, &code, &when) == 0)
			record_exit(row, code, when, NULL);
		return 0;
	}
	/* Whoever takes the dead monitor's lock finishes its work. */
	_cleanup_free_ char *path = xasprintf("%s/containers/%s/monitor.lock", e->runroot, row->id);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 0;
	return finish_dead_monitor(e, row, err);
}

static bool should_restart(struct ctr_row *row, int code)
{
	json_t *rp = json_object_get(row->host_config, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name")) ?: "no";
	if (row->user_stopped)
		return false;
	if (!strcmp(name, "always") || !strcmp(name, "unless-stopped"))
		return true;
	if (!strcmp(name, "on-failure")) {
		json_int_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
		return code != 0 && (max <= 0 || row->restart_count < max);
	}
	return false;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int get_delay(struct engine *e, const char *id, int *ms)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "SELECT restart_delay_ms FROM containers WHERE id = ?", &st, NULL) <
	    0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	*ms = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	return 0;
}

static void set_delay(struct engine *e, const char *id, int ms)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "UPDATE containers SET restart_delay_ms = ? WHERE id = ?", &st,
		       NULL) < 0)
		return;
	sqlite3_bind_int(st, 1, ms);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_step(st);
}

/* Docker's back-off: 100 ms, doubled at each restart up to a minute, back
 * to 100 ms once the container ran for 10 s. */
static int next_delay(struct engine *e, struct ctr_row *row, int64_t ran_ms)
{
	int d = 0;
	get_delay(e, row->id, &d);
	d = ran_ms >= 10000 || d <= 0 ? 100 : d * 2;
	if (d > 60000)
		d = 60000;
	set_delay(e, row->id, d);
	return d;
}

static int64_t parse_rfc3339_ms(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	int64_t ms = (int64_t)timegm(&tm) * 1000;
	if (*rest == '.')
		ms += atoi(rest + 1) / 1000000 % 1000;
	return ms;
}

int ctr_monitor_exited(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0)
		return r;
	int code = 255;
	int64_t when = 0;
	bool known = ctr_read_exit(e, id, &code, &when) == 0;
	record_exit(&row, code, when, known ? NULL : "the exit status is unknown");
	if (auto_remove(&row)) { /* remove_stopped() cleans up on its way */
		_cleanup_close_ int lock = ctr_lock(e, id, err);
		return lock < 0 ? lock : remove_stopped(e, &row, true, err);
	}
	if ((r = ctr_cleanup(e, &row, err)) < 0 || (r = ctr_row_save_state(e, &row, err)) < 0)
		return r;
	if (!should_restart(&row, code))
		return 0;
	int64_t started =
		parse_rfc3339_ms(json_string_value(json_object_get(row.state, "StartedAt")));
	int delay = next_delay(e, &row, when / 1000000 - started);
	ctr_set_state(&row, "restarting");
	if ((r = ctr_row_save_state(e, &row, err)) < 0)
		return r;
	/* Sleep in steps, so a stop or rm meanwhile is seen within 100 ms. */
	for (int64_t end = mono_ms() + delay; mono_ms() < end;) {
		struct timespec ts = { 0, 100 * 1000000 };
		nanosleep(&ts, NULL);
		ctr_row_free(&row);
		if (ctr_row_load(e, id, &row, NULL) < 0)
			return 0; /* removed */
		if (row.user_stopped || strcmp(status_of(&row), "restarting") != 0) {
			if (!strcmp(status_of(&row), "restarting")) {
				ctr_set_state(&row, "exited");
				ctr_row_save_state(e, &row, NULL);
			}
			return 0;
		}
	}
	_cleanup_close_ int lock = ctr_lock(e, id, err);
	if (lock < 0)
		return lock;
	r = ctr_restart_in_place(e, &row, err);
	record_exit(&row, code, when, err->msg);
	ctr_row_save_state(e, &row, NULL);
	return r;
}

int ctr_attached_exited(struct engine *e, const char *id, int attach_fd, berth_err *err)
{
	int r = ctr_monitor_exited(e, id, err);
	if (r == 0) {
		unsigned char done = ATTACH_MSG_DONE;
		send(attach_fd, &done, 1, MSG_NOSIGNAL);
	}
	return r;
}

static int not_running(struct ctr_row *row, berth_err *err)
{
	return berth_error_code(err, EINVAL, "Container %s is not running", row->id);
}

int ctr_kill(struct engine *e, const char *id, int sig, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if (!row.id || strcmp(status_of(&row), "running") != 0)
		return row.id ? not_running(&row, err)
			      : berth_error_code(err, ENOENT, "No such container: %s", id);
	const char *stop = json_string_value(json_object_get(row.config, "StopSignal"));
	int stopsig = stop ? signal_parse(stop) : SIGTERM;
	if (sig == SIGKILL || sig == stopsig) {
		/* A kill that ends it is a stop by the user: no restart. */
		row.user_stopped = true;
		ctr_row_save_state(e, &row, NULL);
	}
	return container_kill(e->runtime_root, id, sig, false, err);
}

int ctr_wait(struct engine *e, const char *id, int timeout_ms, int *exit_code, berth_err *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	for (;;) {
		_cleanup_ctr_row_ struct ctr_row row = { 0 };
		int r;
		if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
			return r;
		if (!row.id) { /* removed (--rm) */
			*exit_code = 0;
			return 0;
		}
		const char *s = status_of(&row);
		if (!strcmp(s, "exited") || !strcmp(s, "created") || !strcmp(s, "dead")) {
			*exit_code =
				(int)json_integer_value(json_object_get(row.state, "ExitCode"));
			return 0;
		}
		int left = deadline < 0 ? -1 : (int)(deadline - mono_ms());
		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		/* Running: the monitor tells its clients the exit; then its exit
		 * command records it, which the refresh above reads. */
		int fd = ctr_attach_connect(e, id, 0, NULL);
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			unsigned char b[ATTACH_MAX_PAYLOAD + 1];
			while (poll(&p, 1, left) > 0) {
				ssize_t n = recv(fd, b, sizeof(b), 0);
				if (n <= 0 || b[0] == ATTACH_MSG_EXIT)
					break;
			}
			close(fd);
		}
		/* No monitor to listen to (killed, its container still up): look
		 * again now and then rather than spin. */
		struct timespec ts = { 0, (fd >= 0 ? 5 : 100) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Until the monitor's exit command is done (its lock is free). */
static void wait_monitor_gone(struct engine *e, const char *id)
{
	_cleanup_free_ char *path = xasprintf("%s/containers/%s/monitor.lock", e->runroot, id);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
}

int ctr_stop(struct engine *e, const char *id, int timeout, int sig, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if (!row.id || !is_live_status(status_of(&row)))
		return 0;
	row.user_stopped = true;
	if ((r = ctr_row_save_state(e, &row, err)) < 0)
		return r;
	if (!strcmp(status_of(&row), "paused"))
		container_pause(e->runtime_root, id, false, NULL);
	if (!strcmp(status_of(&row), "running")) {
		if (sig <= 0) {
			const char *stop =
				json_string_value(json_object_get(row.config, "StopSignal"));
			sig = stop ? signal_parse(stop) : SIGTERM;
			if (sig <= 0)
				sig = SIGTERM;
		}
		if (timeout < 0) {
			json_t *t = json_object_get(row.config, "StopTimeout");
			timeout = json_is_integer(t) ? (int)json_integer_value(t) : 10;
		}
		_cleanup_err_ berth_err kerr = BERTH_ERR_INIT;
		container_kill(e->runtime_root, id, sig, false, &kerr);
		int code;
		if (timeout == 0 || ctr_wait(e, id, timeout * 1000, &code, NULL) == -ETIMEDOUT)
			container_kill(e->runtime_root, id, SIGKILL, true, NULL);
	}
	wait_monitor_gone(e, id);
	return 0;
}

int ctr_remove(struct engine *e, const char *id, bool force, bool volumes, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if (!row.id)
		return 0;
	if (is_live_status(status_of(&row))) {
		if (!force)
			return berth_error_code(err, EBUSY,
						"cannot remove container \"/%s\": container is "
						"running: stop the container "
						"before removing or force remove",
						row.name);
		row.user_stopped = true;
		ctr_row_save_state(e, &row, NULL);
		if (!strcmp(status_of(&row), "paused"))
			container_pause(e->runtime_root, id, false, NULL);
		container_kill(e->runtime_root, id, SIGKILL, true, NULL);
		wait_monitor_gone(e, id);
		ctr_row_free(&row);
		if ((r = ctr_row_load(e, id, &row, err)) < 0) {
			if (r != -ENOENT)
				return r;
			berth_err_clear(err); /* --rm removed it meanwhile */
			return 0;
		}
		if ((r = ctr_refresh(e, &row, err)) < 0)
			return r;
		if (!row.id)
			return 0;
	}
	_cleanup_close_ int lock = ctr_lock(e, id, err);
	if (lock < 0)
		return lock;
	return remove_stopped(e, &row, volumes, err);
}

int ctr_pause(struct engine *e, const char *id, bool pause, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if ((r = container_pause(e->runtime_root, id, pause, err)) < 0)
		return r;
	ctr_set_state(&row, pause ? "paused" : "running");
	return ctr_row_save_state(e, &row, err);
}

/* After a reboot (or anything that lost the runroot): every refresh records
 * the lost exits; then what Docker's daemon restarts at its start comes back. */
int ctr_restore_all(struct engine *e, char ***started, berth_err *err)
{
	json_t *list = NULL;
	int r;
	if ((r = ctr_list(e, &list, err)) < 0)
		return r;
	size_t i;
	json_t *insp;
	json_array_foreach (list, i, insp) {
		const char *id = json_string_value(json_object_get(insp, "Id"));
		_cleanup_ctr_row_ struct ctr_row row = { 0 };
		if (ctr_row_load(e, id, &row, NULL) < 0 || ctr_refresh(e, &row, NULL) < 0 ||
		    !row.id)
			continue;
		const char *policy =
			json_string_value(json_object_get(
				json_object_get(row.host_config, "RestartPolicy"), "Name"))
				?: "no";
		bool lost = json_integer_value(json_object_get(row.state, "ExitCode")) == 255 &&
			    *(json_string_value(json_object_get(row.state, "Error")) ?: "");
		bool want = !strcmp(policy, "always") ||
			    (!strcmp(policy, "unless-stopped") && !row.user_stopped) ||
			    (!strcmp(policy, "on-failure") && lost);
		if (!want || row.user_stopped || strcmp(status_of(&row), "exited") != 0)
			continue;
		struct ctr_start_opts so = { 0 };
		_cleanup_err_ berth_err serr = BERTH_ERR_INIT;
		if (ctr_start(e, id, &so, NULL, &serr) < 0)
			continue;
		strv_push(started, row.name);
	}
	json_decref(list);
	return 0;
}
