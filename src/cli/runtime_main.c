/* runtime_main.c - berth-runtime: global options and command dispatch.
 *
 * The command line is runc's, so that dockerd, containerd's shim and scripts
 * written for runc drive it unchanged: Go-style flags (-flag or --flag,
 * "=value" or a separate word), global flags before the command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/runtime.h"
#include "common/log.h"

struct rt_globals rt = { .root = "/run/berth-runtime" };

int rt_fail(berth_err *err)
{
	const char *msg = err->msg ? err->msg : "unknown error";
	/* One plain line for the user; with --log, also a record for the caller
	 * (containerd's shim reads the last error of the log file). */
	if (log_fd() != STDERR_FILENO)
		log_error("%s", msg);
	fprintf(stderr, "berth-runtime: %s\n", msg);
	return 1;
}

int rt_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	berth_err e = BERTH_ERR_INIT;
	berth_error_code(&e, EINVAL, "%s: %s", cmd, m ? m : "bad usage");
	free(m);
	int r = rt_fail(&e);
	berth_err_clear(&e);
	return r;
}

const char *rt_need_id(const char *cmd, int argc, char **argv, int optind_)
{
	if (optind_ >= argc) {
		rt_usage_error(cmd, "a container id is required");
		return NULL;
	}
	return argv[optind_];
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
	const char *usage;
} commands[] = {
	{ "create", cmd_create, "create a container, waiting for start",
	  "[--bundle DIR] [--console-socket PATH] [--pid-file FILE] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID" },
	{ "start", cmd_start, "start a created container", "ID" },
	{ "run", cmd_run, "create and start a container, and wait for it",
	  "[create options] [--detach] [--keep] ID" },
	{ "state", cmd_state, "print the state of a container (JSON)", "ID" },
	{ "kill", cmd_kill, "send a signal to a container's init (or --all)", "[--all] ID [SIGNAL]" },
	{ "delete", cmd_delete, "delete a container (--force: even if running)", "[--force] ID" },
	{ "exec", cmd_exec, "run another process in a running container",
	  "[--process FILE] [--tty] [--detach] [--cwd DIR] [--env VAR=VALUE]... [--user UID[:GID]] "
	  "[--additional-gids GID]... [--cap CAP]... [--pid-file FILE] [--console-socket PATH] "
	  "[--preserve-fds N] [--no-new-privs] [--apparmor PROFILE] [--process-label LABEL] ID [COMMAND [ARG...]]" },
	{ "ps", cmd_ps, "list the processes of a container", "[--format table|json] ID [PS-OPTIONS]" },
	{ "list", cmd_list, "list containers", "[--format table|json] [--quiet]" },
	{ "pause", cmd_pause, "freeze every process of a container", "ID" },
	{ "resume", cmd_resume, "thaw a paused container", "ID" },
	{ "update", cmd_update, "change a running container's resource limits",
	  "[--resources FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N] [--cpu-shares N] "
	  "[--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] "
	  "[--blkio-weight N] ID" },
	{ "features", cmd_features, "print what this runtime supports (JSON)", "" },
	{ "spec", cmd_spec, "write a default config.json", "[--bundle DIR] [--rootless]" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: berth-runtime [global options] COMMAND [options] [ID] [args]\n\n"
		   "An OCI runtime compatible with runc's command line.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR          state directory (default /run/berth-runtime)\n"
		   "  --log FILE          log to FILE instead of stderr\n"
		   "  --log-format FMT    text or json\n"
		   "  --debug             debug logging\n"
		   "  --systemd-cgroup    cgroupsPath is slice:prefix:name\n"
		   "  --version, --help\n");
}

int main(int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'D' },
		{ "systemd-cgroup", no_argument, NULL, 'S' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	rt.argv0 = argv;
	rt.envp = envp;
	const char *log_path = NULL;
	enum log_format fmt = LOG_FMT_TEXT;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rt.root = optarg; break;
		case 'l': log_path = optarg; break;
		case 'F':
			if (log_format_parse(optarg, &fmt) < 0) {
				fprintf(stderr, "berth-runtime: --log-format: unknown format \"%s\" (text or json)\n", optarg);
				return 1;
			}
			break;
		case 'D': rt.debug = true; break;
		case 'S': rt.systemd_cgroup = true; break;
		case 'R':
		case 'C': break; /* accepted for runc compatibility; nothing to do */
		case 'h': usage(stdout); return 0;
		case 'v':
			printf("berth-runtime version %s\nspec: 1.2.0\n", BERTH_VERSION);
			return 0;
		default:
			fprintf(stderr, "berth-runtime: unknown global option \"%s\"\n", argv[optind - 1]);
			return 1;
		}
	}
	berth_err err = BERTH_ERR_INIT;
	if (log_init(log_path, fmt, rt.debug ? LOG_LVL_DEBUG : LOG_LVL_WARN, &err) < 0) {
		fprintf(stderr, "berth-runtime: %s\n", err.msg);
		return 1;
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			if (sub_argc >= 2 && (strcmp(sub_argv[1], "--help") == 0 || strcmp(sub_argv[1], "-help") == 0 ||
					      strcmp(sub_argv[1], "-h") == 0)) {
				printf("Usage: berth-runtime %s %s\n\n%s (see berth-runtime(1))\n", name,
				       commands[i].usage, commands[i].help);
				return 0;
			}
			optind = 0;
			return commands[i].fn(sub_argc, sub_argv);
		}
	}
	berth_error_code(&err, EINVAL, "unknown command \"%s\"", name);
	return rt_fail(&err);
}
