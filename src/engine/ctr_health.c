/* ctr_health.c - Docker's health checks: the effective Healthcheck (the
 * container's over the image's), the monitor's schedule, and one probe as
 * `berth container healthcheck` runs it: the test exec'ed in the container
 * with its timeout, the result recorded in State.Health (Status, FailingStreak,
 * the last 5 results in Log). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "image/db.h"
#include "oci/container.h"

#define NS_PER_MS         1000000LL
#define HEALTH_LOG_KEEP   5
#define HEALTH_OUTPUT_MAX 4096

static int64_t duration_ns(json_t *hc, const char *key, int64_t dflt)
{
	json_int_t v = json_integer_value(json_object_get(hc, key));
	return v > 0 ? (int64_t)v : dflt;
}

/* Docker merges field by field: what the container leaves unset (or zero)
 * comes from the image. */
json_t *health_effective(json_t *config_hc, json_t *image_hc)
{
	if (!json_is_object(config_hc))
		return json_is_object(image_hc) ? json_deep_copy(image_hc) : NULL;
	json_t *out = json_deep_copy(config_hc);
	if (!json_is_object(image_hc))
		return out;
	json_t *test = json_object_get(out, "Test");
	if (json_array_size(test) == 0 && json_object_get(image_hc, "Test"))
		json_object_set(out, "Test", json_object_get(image_hc, "Test"));
	static const char *const keys[] = { "Interval", "Timeout", "StartPeriod", "StartInterval",
					    "Retries" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_integer_value(json_object_get(out, keys[i])) == 0 &&
		    json_object_get(image_hc, keys[i]))
			json_object_set(out, keys[i], json_object_get(image_hc, keys[i]));
	return out;
}

static bool health_enabled(json_t *hc)
{
	const char *kind = json_string_value(json_array_get(json_object_get(hc, "Test"), 0));
	return kind && (!strcmp(kind, "CMD") || !strcmp(kind, "CMD-SHELL"));
}

void health_schedule(json_t *config, char *buf, size_t len)
{
	json_t *hc = json_object_get(config, "Healthcheck");
	if (!health_enabled(hc)) {
		snprintf(buf, len, "0");
		return;
	}
	snprintf(buf, len, "%lld,%lld,%lld",
		 (long long)(duration_ns(hc, "Interval", 30000 * NS_PER_MS) / NS_PER_MS),
		 (long long)(duration_ns(hc, "StartPeriod", 0) / NS_PER_MS),
		 (long long)(duration_ns(hc, "StartInterval", 5000 * NS_PER_MS) / NS_PER_MS));
}

json_t *health_initial(json_t *config)
{
	if (!health_enabled(json_object_get(config, "Healthcheck")))
		return NULL;
	return json_pack("{s:s,s:i,s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
}

static json_t *test_args(json_t *hc)
{
	json_t *test = json_object_get(hc, "Test");
	const char *kind = json_string_value(json_array_get(test, 0));
	if (!strcmp(kind, "CMD-SHELL"))
		return json_pack("[s,s,s]", "/bin/sh", "-c",
				 json_string_value(json_array_get(test, 1)) ?: "");
	json_t *a = json_array();
	for (size_t i = 1; i < json_array_size(test); i++)
		json_array_append(a, json_array_get(test, i));
	return a;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run the probe; its exit code (-1 on timeout) and combined output. */
static int probe(struct engine *e, const char *id, json_t *hc, int64_t timeout_ns, char **output)
{
	_cleanup_json_ json_t *proc = NULL;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	if (container_process_template(e->runtime_root, id, &proc, &err) < 0) {
		*output = xstrdup(err.msg);
		return -1;
	}
	json_object_set_new(proc, "args", test_args(hc));
	json_object_set_new(proc, "terminal", json_false());
	_cleanup_close_ int out = memfd_create("health", MFD_CLOEXEC);
	_cleanup_free_ char *run = ctr_rundir(e, id);
	_cleanup_free_ char *pidf = xasprintf("%s/health.pid", run);
	unlink(pidf);
	pid_t child = fork();
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		int code = 0;
		struct exec_opts xo = {
			.root = e->runtime_root, .id = id, .process = proc, .pid_file = pidf
		};
		berth_err xerr = BERTH_ERR_INIT;
		if (container_exec(&xo, &code, &xerr) < 0) {
			dprintf(2, "%s\n", xerr.msg ? xerr.msg : "exec failed");
			_exit(126);
		}
		_exit(code & 0xff);
	}
	int code = -1;
	if (child > 0) {
		int pfd = (int)syscall(SYS_pidfd_open, child, 0);
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int ms = (int)(timeout_ns / NS_PER_MS);
		int r;
		while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
			;
		if (r == 0) { /* timed out: the probe and its runner go */
			_cleanup_free_ char *pid = NULL;
			FILE *f = fopen(pidf, "re");
			long hp = 0;
			if (f && fscanf(f, "%ld", &hp) == 1 && hp > 1)
				kill((pid_t)hp, SIGKILL);
			if (f)
				fclose(f);
			kill(child, SIGKILL);
		}
		int status = 0;
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		if (pfd >= 0)
			close(pfd);
		if (r == 0) {
			*output = xasprintf("Health check exceeded timeout (%llds)",
					    (long long)(timeout_ns / 1000000000));
			unlink(pidf);
			return -1;
		}
		code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	unlink(pidf);
	char buf[HEALTH_OUTPUT_MAX + 1];
	ssize_t n = pread(out, buf, HEALTH_OUTPUT_MAX, 0);
	buf[n > 0 ? n : 0] = 0;
	*output = xstrdup(buf);
	return code;
}

int ctr_healthcheck(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0)
		return r;
	json_t *hc = json_object_get(row.config, "Healthcheck");
	const char *status = json_string_value(json_object_get(row.state, "Status")) ?: "";
	if (!health_enabled(hc) || strcmp(status, "running") != 0)
		return 0;
	int64_t start = now_ns();
	_cleanup_free_ char *output = NULL;
	int code = probe(e, id, hc, duration_ns(hc, "Timeout", 30000 * NS_PER_MS), &output);
	int64_t end = now_ns();

	/* The result against the freshest state: the row may have moved on. */
	ctr_row_free(&row);
	if ((r = ctr_row_load(e, id, &row, err)) < 0)
		return r;
	hc = json_object_get(row.config, "Healthcheck");
	json_t *h = json_object_get(row.state, "Health");
	_cleanup_json_ json_t *health =
		json_is_object(h) ? json_deep_copy(h) : health_initial(row.config);
	if (!health)
		return 0;
	json_t *log = json_object_get(health, "Log");
	if (!json_is_array(log)) {
		log = json_array();
		json_object_set_new(health, "Log", log);
	}
	_cleanup_free_ char *ts = engine_time_rfc3339(start), *te = engine_time_rfc3339(end);
	json_array_append_new(log, json_pack("{s:s,s:s,s:i,s:s}", "Start", ts, "End", te,
					     "ExitCode", code, "Output", output ? output : ""));
	while (json_array_size(log) > HEALTH_LOG_KEEP)
		json_array_remove(log, 0);
	json_int_t streak = json_integer_value(json_object_get(health, "FailingStreak"));
	if (code == 0) {
		json_object_set_new(health, "Status", json_string("healthy"));
		streak = 0;
	} else {
		/* Failures in the start period do not count (Docker's rule). */
		struct tm tm = { 0 };
		const char *sa = json_string_value(json_object_get(row.state, "StartedAt")) ?: "";
		int64_t started = strptime(sa, "%Y-%m-%dT%H:%M:%S", &tm)
					  ? (int64_t)timegm(&tm) * 1000000000
					  : 0;
		bool in_start = start - started < duration_ns(hc, "StartPeriod", 0);
		if (!in_start) {
			streak++;
			json_int_t retries = duration_ns(hc, "Retries", 3);
			if (streak >= retries)
				json_object_set_new(health, "Status", json_string("unhealthy"));
		}
	}
	json_object_set_new(health, "FailingStreak", json_integer(streak));
	/* Only while it still runs: an exit recorded meanwhile wins. */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "UPDATE containers SET state = json_set(state, '$.Health', json(?)) WHERE "
		       "id = ? AND"
		       " json_extract(state, '$.Status') = 'running'",
		       &st, err) < 0)
		return -EIO;
	_cleanup_free_ char *hs = json_dumps(health, JSON_COMPACT);
	sqlite3_bind_text(st, 1, hs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "recording the health check");
	return 0;
}
