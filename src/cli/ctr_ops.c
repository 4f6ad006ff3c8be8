/* ctr_ops.c - the container commands that act on named containers: stop,
 * restart, kill, rm, wait, rename, inspect, logs, pause, unpause, prune,
 * and the monitor's exit command (`container cleanup`). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/berth.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/signals.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "engine/engine.h"
#include "engine/logs.h"
#include "image/store.h"
#include "oci/container.h"

typedef int (*ctr_action)(struct engine *e, const char *id, void *opaque, berth_err *err);

/* Docker's pattern for commands over several containers: each one's name on
 * success, an error line for each failure, exit 1 if any failed. */
static int for_each(int argc, char **argv, int first, ctr_action fn, void *opaque, bool print)
{
	berth_err err = BERTH_ERR_INIT;
	if (first >= argc)
		return berth_usage_error(argv[0], "\"%s\" requires at least 1 argument.", argv[0]);
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	int rc = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_free_ char *id = NULL;
		if (ctr_resolve(e, argv[i], &id, &err) < 0 || fn(e, id, opaque, &err) < 0) {
			fprintf(stderr, "berth: Error response from daemon: %s\n",
				err.msg ? err.msg : "failed");
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		if (print)
			printf("%s\n", argv[i]);
	}
	return rc;
}

struct stop_args {
	int timeout;
	int sig;
};

static int do_stop(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	struct stop_args *a = opaque;
	return ctr_stop(e, id, a->timeout, a->sig, err);
}

static int do_restart(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	int r;
	if ((r = do_stop(e, id, opaque, err)) < 0)
		return r;
	struct ctr_start_opts so = { 0 };
	return ctr_start(e, id, &so, NULL, err);
}

static int stop_like(int argc, char **argv, ctr_action fn)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct stop_args a = { .timeout = -1, .sig = 0 };
	int c;
	while ((c = getopt_long(argc, argv, "+t:s:", opts, NULL)) != -1) {
		switch (c) {
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg)
				return berth_usage_error(
					argv[0],
					"invalid argument \"%s\" for \"-t, --time\" flag: "
					"strconv.ParseInt: parsing \"%s\": invalid syntax",
					optarg, optarg);
			a.timeout = v < 0 ? -2 : (int)v; /* docker: negative waits forever */
			break;
		}
		case 's':
			if ((a.sig = signal_parse(optarg)) <= 0)
				return berth_usage_error(argv[0], "invalid signal: %s", optarg);
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (a.timeout == -2)
		a.timeout = 1 << 30;
	return for_each(argc, argv, optind, fn, &a, true);
}

int cmd_stop(int argc, char **argv)
{
	return stop_like(argc, argv, do_stop);
}

int cmd_restart(int argc, char **argv)
{
	return stop_like(argc, argv, do_restart);
}

static int do_kill(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	return ctr_kill(e, id, *(int *)opaque, err);
}

int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int sig = SIGKILL, c;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((sig = signal_parse(optarg)) <= 0)
				return berth_usage_error(argv[0], "invalid signal: %s", optarg);
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	return for_each(argc, argv, optind, do_kill, &sig, true);
}

struct rm_args {
	bool force, volumes;
};

static int do_rm(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	struct rm_args *a = opaque;
	return ctr_remove(e, id, a->force, a->volumes, err);
}

int cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "link", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct rm_args a = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "+fvl", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a.force = true; break;
		case 'v': a.volumes = true; break;
		case 'l': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	return for_each(argc, argv, optind, do_rm, &a, true);
}

static int do_wait(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	int code, r;
	if ((r = ctr_wait(e, id, -1, &code, err)) < 0)
		return r;
	printf("%d\n", code);
	fflush(stdout);
	return 0;
}

int cmd_wait(int argc, char **argv)
{
	int c;
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
	return for_each(argc, argv, optind, do_wait, NULL, false);
}

static int do_pause(struct engine *e, const char *id, void *opaque, berth_err *err)
{
	bool pause = *(bool *)opaque;
	json_t *insp = NULL;
	int r;
	if ((r = ctr_get(e, id, &insp, err)) < 0)
		return r;
	const char *s =
		json_string_value(json_object_get(json_object_get(insp, "State"), "Status")) ?: "";
	bool ok = pause ? !strcmp(s, "running") : !strcmp(s, "paused");
	json_decref(insp);
	if (!ok)
		return berth_error_code(
			err, EINVAL,
			pause ? "Container %s is not running" : "Container %s is not paused", id);
	return ctr_pause(e, id, pause, err);
}

int cmd_pause(int argc, char **argv)
{
	bool p = true;
	return for_each(argc, argv, 1, do_pause, &p, true);
}

int cmd_unpause(int argc, char **argv)
{
	bool p = false;
	return for_each(argc, argv, 1, do_pause, &p, true);
}

int cmd_rename(int argc, char **argv)
{
	if (argc != 3)
		return berth_usage_error(argv[0], "\"rename\" requires exactly 2 arguments.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	if (!e || ctr_resolve(e, argv[1], &id, &err) < 0 || ctr_rename(e, id, argv[2], &err) < 0)
		return berth_fail(&err);
	return 0;
}

static json_t *container_inspect_one(const char *name, void *opaque, berth_err *err)
{
	_cleanup_free_ char *id = NULL;
	json_t *insp = NULL;
	if (ctr_resolve(opaque, name, &id, NULL) < 0 || ctr_get(opaque, id, &insp, NULL) < 0) {
		berth_error_code(err, ENOENT, "No such object: %s", name);
		return NULL;
	}
	return insp;
}

/* inspect: containers (and, for the plain `inspect`, images too). */
static int inspect_common(int argc, char **argv, bool images_too)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "size", no_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL, *type = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f:s", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 's': break;
		case 't': type = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"inspect\" requires at least 1 argument.");
	if (images_too && type && !strcmp(type, "image")) {
		optind = 0;
		return cmd_image_inspect(argc, argv);
	}
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	/* Not a container: docker's inspect without --type tries images. */
	_cleanup_free_ char *first = NULL;
	if (images_too && !(type && !strcmp(type, "container")) &&
	    ctr_resolve(e, argv[optind], &first, NULL) < 0) {
		optind = 0;
		return cmd_image_inspect(argc, argv);
	}
	int rc = fmt_inspect(format, argv + optind, argc - optind, container_inspect_one, e, &err);
	return rc < 0 ? berth_fail(&err) : rc;
}

int cmd_inspect(int argc, char **argv)
{
	return inspect_common(argc, argv, true);
}

int cmd_container_inspect(int argc, char **argv)
{
	return inspect_common(argc, argv, false);
}

struct alive_ctx {
	struct engine *e;
	const char *id;
};

static bool still_running(void *opaque)
{
	struct alive_ctx *a = opaque;
	json_t *insp = NULL;
	if (ctr_get(a->e, a->id, &insp, NULL) < 0)
		return false;
	const char *s =
		json_string_value(json_object_get(json_object_get(insp, "State"), "Status")) ?: "";
	bool up = !strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "restarting");
	json_decref(insp);
	return up;
}

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "tail", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "details", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct logs_opts o = { .tail = -1, .want_stdout = true, .want_stderr = true };
	const char *since = NULL, *until = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+ftn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.follow = true; break;
		case 't': o.timestamps = true; break;
		case 'n':
			if (!strcmp(optarg, "all"))
				o.tail = -1;
			else {
				char *end;
				o.tail = strtol(optarg, &end, 10);
				if (*end || end == optarg)
					return berth_usage_error(
						argv[0], "invalid value for --tail: %s", optarg);
			}
			break;
		case 'S': since = optarg; break;
		case 'U': until = optarg; break;
		case 'd': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return berth_usage_error(argv[0], "\"logs\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if ((since && logs_parse_time(since, now_ns, &o.since_ns, &err) < 0) ||
	    (until && logs_parse_time(until, now_ns, &o.until_ns, &err) < 0))
		return berth_fail(&err);
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	json_t *insp = NULL;
	if (!e || ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0)
		return berth_fail(&err);
	const char *type = json_string_value(json_object_get(
		json_object_get(json_object_get(insp, "HostConfig"), "LogConfig"), "Type"));
	bool none = type && !strcmp(type, "none");
	json_decref(insp);
	if (none) {
		fprintf(stderr, "berth: configured logging driver does not support reading\n");
		return 1;
	}
	struct alive_ctx ac = { e, id };
	o.alive = still_running;
	o.opaque = &ac;
	_cleanup_free_ char *path = ctr_log_path(e, id);
	if (logs_read(path, &o, STDOUT_FILENO, STDERR_FILENO, &err) < 0)
		return berth_fail(&err);
	return 0;
}

int cmd_container_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (c) {
		case 'f': break;
		case 'F': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	berth_err err = BERTH_ERR_INIT;
	uint64_t reclaimed = 0;
	if (prune_containers(&reclaimed, &err) < 0)
		return berth_fail(&err);
	printf("Total reclaimed space: 0B\n");
	return 0;
}

int prune_containers(uint64_t *reclaimed, berth_err *err)
{
	(void)reclaimed; /* a container's layer is not measured yet */
	struct engine *e = berth_engine(err);
	json_t *list = NULL;
	if (!e || ctr_list(e, &list, err) < 0)
		return -EIO;
	size_t i;
	json_t *insp;
	bool header = false;
	json_array_foreach (list, i, insp) {
		const char *s =
			json_string_value(json_object_get(json_object_get(insp, "State"), "Status"))
				?: "";
		if (strcmp(s, "exited") && strcmp(s, "created") && strcmp(s, "dead"))
			continue;
		const char *id = json_string_value(json_object_get(insp, "Id"));
		berth_err e2 = BERTH_ERR_INIT;
		if (ctr_remove(e, id, false, false, &e2) < 0) {
			fprintf(stderr, "berth: %s\n", e2.msg);
			berth_err_clear(&e2);
			continue;
		}
		if (!header)
			printf("Deleted Containers:\n");
		header = true;
		printf("%s\n", id);
	}
	if (header)
		printf("\n");
	json_decref(list);
	return 0;
}

/* Run by a container's monitor when its init is gone (monitor.c): not for users. */
int cmd_container_cleanup(int argc, char **argv)
{
	if (argc != 2)
		return 125;
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e || ctr_monitor_exited(e, argv[1], &err) < 0)
		return berth_fail(&err);
	return 0;
}

/* Run by a container's monitor at each health check interval: not for users. */
int cmd_container_healthcheck(int argc, char **argv)
{
	if (argc != 2)
		return 125;
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e || ctr_healthcheck(e, argv[1], &err) < 0)
		return berth_fail(&err);
	return 0;
}

/* `berth system restore`: what a systemd unit runs at boot (docs/berth.1.md). */
int cmd_system_restore(int argc, char **argv)
{
	if (argc != 1)
		return berth_usage_error(argv[0], "\"restore\" accepts no arguments.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_strv_ char **started = NULL;
	if (!e || ctr_restore_all(e, &started, &err) < 0)
		return berth_fail(&err);
	for (size_t i = 0; started && started[i]; i++)
		printf("%s\n", started[i]);
	return 0;
}
