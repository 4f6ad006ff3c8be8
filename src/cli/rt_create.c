/* rt_create.c - `create` and `run`: the options they share and the calls. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runtime.h"
#include "oci/container.h"
#include "oci/selfexec.h"

static int parse(int argc, char **argv, bool is_run, struct create_opts *o)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long_only(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case 'c': o->console_socket = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'P': o->no_pivot = true; break;
		case 'K': o->no_new_keyring = true; break;
		case 'f': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 65536)
				return rt_usage_error(argv[0], "--preserve-fds: \"%s\" is not a count", optarg), -1;
			o->preserve_fds = (int)n;
			break;
		}
		case 'd':
		case 'k':
			if (!is_run)
				goto bad;
			if (c == 'd')
				o->detach = true;
			else
				o->keep = true;
			break;
		case 'S': break;
		default:
		bad:
			return rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]), -1;
		}
	}
	o->id = rt_need_id(argv[0], argc, argv, optind);
	if (!o->id)
		return -1;
	if (optind + 1 < argc)
		return rt_usage_error(argv[0], "unexpected argument \"%s\"", argv[optind + 1]), -1;
	o->root = rt.root;
	o->systemd_cgroup = rt.systemd_cgroup;
	return 0;
}

int cmd_create(int argc, char **argv)
{
	struct create_opts o = { 0 };
	if (parse(argc, argv, false, &o) < 0)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	if (selfexec_ensure_sealed(rt.argv0, rt.envp, &err) < 0 || container_create(&o, &err) < 0)
		return rt_fail(&err);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct create_opts o = { 0 };
	if (parse(argc, argv, true, &o) < 0)
		return 1;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	int code = 0;
	if (selfexec_ensure_sealed(rt.argv0, rt.envp, &err) < 0 || container_run(&o, &code, &err) < 0)
		return rt_fail(&err);
	return code;
}
