/* rt_lifecycle.c - the small commands on one container or the list:
 * start, state, kill, delete, pause, resume, ps, list. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/runtime.h"
#include "common/cleanup.h"
#include "common/signals.h"
#include "common/xalloc.h"
#include "oci/container.h"

/* Commands whose only operand is the id and that take no options. */
static const char *id_only(int argc, char **argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long_only(argc, argv, "+", none, NULL)) != -1) {
		rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
		return NULL;
	}
	return rt_need_id(argv[0], argc, argv, optind);
}

int cmd_start(int argc, char **argv)
{
	const char *id = id_only(argc, argv);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	return container_start(rt.root, id, &err) < 0 ? rt_fail(&err) : 0;
}

int cmd_state(int argc, char **argv)
{
	const char *id = id_only(argc, argv);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *st = NULL;
	if (container_state(rt.root, id, &st, &err) < 0)
		return rt_fail(&err);
	json_dumpf(st, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(st);
	return 0;
}

int cmd_pause(int argc, char **argv)
{
	const char *id = id_only(argc, argv);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	return container_pause(rt.root, id, true, &err) < 0 ? rt_fail(&err) : 0;
}

int cmd_resume(int argc, char **argv)
{
	const char *id = id_only(argc, argv);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	return container_pause(rt.root, id, false, &err) < 0 ? rt_fail(&err) : 0;
}

int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	bool all = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != 'a')
			return rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
		all = true;
	}
	const char *id = rt_need_id(argv[0], argc, argv, optind);
	if (!id)
		return 1;
	int sig = SIGTERM;
	if (optind + 1 < argc) {
		sig = signal_parse(argv[optind + 1]);
		if (sig < 0)
			return rt_usage_error(argv[0], "unknown signal \"%s\"", argv[optind + 1]);
	}
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	return container_kill(rt.root, id, sig, all, &err) < 0 ? rt_fail(&err) : 0;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	bool force = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
		force = true;
	}
	const char *id = rt_need_id(argv[0], argc, argv, optind);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	if (container_delete(rt.root, id, force, &err) < 0) {
		/* containerd deletes with --force after the container is gone: not an error. */
		if (force && err.code == ENOENT)
			return 0;
		return rt_fail(&err);
	}
	return 0;
}

static int parse_format(int argc, char **argv, const char **format, bool *quiet)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long_only(argc, argv, quiet ? "+f:q" : "+f:", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			*format = optarg;
		else if (c == 'q' && quiet)
			*quiet = true;
		else
			return rt_usage_error(argv[0], "bad option \"%s\"", argv[optind - 1]);
	}
	return 0;
}

int cmd_list(int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	if (parse_format(argc, argv, &format, &quiet))
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *arr = NULL;
	if (container_list(rt.root, &arr, &err) < 0)
		return rt_fail(&err);
	size_t i;
	json_t *o;
	if (quiet) {
		json_array_foreach (arr, i, o)
			printf("%s\n", json_string_value(json_object_get(o, "id")));
	} else if (strcmp(format, "json") == 0) {
		json_dumpf(arr, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
		json_array_foreach (arr, i, o)
			printf("%-12s %-8lld %-10s %-40s %-30s %s\n", json_string_value(json_object_get(o, "id")),
			       (long long)json_integer_value(json_object_get(o, "pid")),
			       json_string_value(json_object_get(o, "status")),
			       json_string_value(json_object_get(o, "bundle")),
			       json_string_value(json_object_get(o, "created")),
			       json_string_value(json_object_get(o, "owner")));
	}
	json_decref(arr);
	return 0;
}

int cmd_ps(int argc, char **argv)
{
	const char *format = "table";
	if (parse_format(argc, argv, &format, NULL))
		return 1;
	const char *id = rt_need_id(argv[0], argc, argv, optind);
	if (!id)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (container_pids(rt.root, id, &pids, &n, &err) < 0)
		return rt_fail(&err);
	if (strcmp(format, "json") == 0) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	/* Like runc: run ps(1) with the remaining arguments (default -ef) and keep
	 * the header plus the lines whose PID column is one of the container's. */
	int pfd[2];
	if (pipe(pfd) < 0)
		return berth_error_errno(&err, "pipe"), rt_fail(&err);
	pid_t child = fork();
	if (child == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		int extra = argc - optind - 1;
		char **args = xcalloc((size_t)(extra > 0 ? extra : 1) + 2, sizeof(char *));
		args[0] = "ps";
		if (extra > 0)
			for (int i = 0; i < extra; i++)
				args[1 + i] = argv[optind + 1 + i];
		else
			args[1] = "-ef";
		execvp("ps", args);
		_exit(127);
	}
	close(pfd[1]);
	_cleanup_fclose_ FILE *f = fdopen(pfd[0], "r");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int pid_col = -1;
	while (getline(&line, &cap, f) > 0) {
		_cleanup_free_ char *copy = xstrdup(line);
		char *save = NULL;
		int col = 0;
		bool keep = pid_col < 0;
		for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++) {
			if (pid_col < 0 && strcmp(tok, "PID") == 0)
				pid_col = col;
			else if (col == pid_col) {
				long p = strtol(tok, NULL, 10);
				for (size_t i = 0; i < n; i++)
					if (pids[i] == p)
						keep = true;
			}
		}
		if (keep)
			fputs(line, stdout);
	}
	int status;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
