/* rt_exec.c - `exec`: a process from --process FILE, or from the arguments
 * with runc's flags layered over the container's own process settings. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runtime.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "oci/container.h"
#include "oci/selfexec.h"

static int parse_user(const char *s, json_t *process, berth_err *err)
{
	char *end;
	unsigned long uid = strtoul(s, &end, 10);
	if (end == s || (*end && *end != ':'))
		return berth_error_code(err, EINVAL, "--user: \"%s\" is not uid[:gid]", s);
	json_t *user = json_object_get(process, "user");
	if (!user)
		json_object_set_new(process, "user", user = json_object());
	json_object_set_new(user, "uid", json_integer((json_int_t)uid));
	if (*end == ':') {
		const char *g = end + 1;
		unsigned long gid = strtoul(g, &end, 10);
		if (end == g || *end)
			return berth_error_code(err, EINVAL, "--user: \"%s\" is not uid[:gid]", s);
		json_object_set_new(user, "gid", json_integer((json_int_t)gid));
	}
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "console-socket", required_argument, NULL, 'C' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "process", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "no-new-privs", no_argument, NULL, 'N' },
		{ "cap", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "ignore-paused", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct exec_opts o = { .root = rt.root };
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *label = NULL, *apparmor = NULL;
	_cleanup_json_ json_t *envs = json_array(), *gids = json_array(), *caps = json_array();
	bool tty = false, nnp = false;
	int c;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	while ((c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
		switch (c) {
		case 'C': o.console_socket = optarg; break;
		case 'w': cwd = optarg; break;
		case 'e': json_array_append_new(envs, json_string(optarg)); break;
		case 't': tty = true; break;
		case 'u': user = optarg; break;
		case 'g': {
			char *end;
			unsigned long g = strtoul(optarg, &end, 10);
			if (*end || end == optarg)
				return rt_usage_error(argv[0], "--additional-gids: \"%s\" is not a gid", optarg);
			json_array_append_new(gids, json_integer((json_int_t)g));
			break;
		}
		case 'p': process_file = optarg; break;
		case 'd': o.detach = true; break;
		case 'P': o.pid_file = optarg; break;
		case 'L': label = optarg; break;
		case 'A': apparmor = optarg; break;
		case 'N': nnp = true; break;
		case 'c': json_array_append_new(caps, json_string(optarg)); break;
		case 'f': o.preserve_fds = atoi(optarg); break;
		case 'G':
		case 'I': break;
		default: return rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	o.id = rt_need_id(argv[0], argc, argv, optind);
	if (!o.id)
		return 1;
	json_t *process = NULL;
	if (process_file) {
		json_error_t jerr;
		process = json_load_file(process_file, 0, &jerr);
		if (!process || !json_is_object(process)) {
			berth_error_code(&err, EINVAL, "--process %s: not a JSON object: %s", process_file, jerr.text);
			json_decref(process);
			return rt_fail(&err);
		}
	} else {
		if (optind + 1 >= argc)
			return rt_usage_error(argv[0], "a command to run is required");
		if (container_process_template(rt.root, o.id, &process, &err) < 0)
			return rt_fail(&err);
		json_t *args = json_array();
		for (int i = optind + 1; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
		json_object_set_new(process, "args", args);
		json_object_set_new(process, "terminal", json_boolean(tty));
		json_object_del(process, "consoleSize");
	}
	if (tty)
		json_object_set_new(process, "terminal", json_true());
	if (cwd)
		json_object_set_new(process, "cwd", json_string(cwd));
	if (json_array_size(envs)) {
		json_t *env = json_object_get(process, "env");
		if (!env)
			json_object_set_new(process, "env", env = json_array());
		json_array_extend(env, envs);
	}
	if (user && parse_user(user, process, &err) < 0) {
		json_decref(process);
		return rt_fail(&err);
	}
	if (json_array_size(gids)) {
		json_t *u = json_object_get(process, "user");
		if (!u)
			json_object_set_new(process, "user", u = json_object());
		json_object_set(u, "additionalGids", gids);
	}
	if (json_array_size(caps)) {
		json_t *cs = json_object_get(process, "capabilities");
		if (!cs)
			json_object_set_new(process, "capabilities", cs = json_object());
		static const char *const sets[] = { "bounding", "effective", "permitted", "ambient", "inheritable" };
		for (size_t i = 0; i < 5; i++) {
			json_t *s = json_object_get(cs, sets[i]);
			if (!s)
				json_object_set_new(cs, sets[i], s = json_array());
			json_array_extend(s, caps);
		}
	}
	if (nnp)
		json_object_set_new(process, "noNewPrivileges", json_true());
	if (label)
		json_object_set_new(process, "selinuxLabel", json_string(label));
	if (apparmor)
		json_object_set_new(process, "apparmorProfile", json_string(apparmor));
	if (!json_object_get(process, "cwd"))
		json_object_set_new(process, "cwd", json_string("/"));
	json_t *args = json_object_get(process, "args");
	if (!json_is_array(args) || json_array_size(args) == 0 || !json_is_string(json_array_get(args, 0))) {
		json_decref(process);
		berth_error_code(&err, EINVAL, "process.args: must be a non-empty array of strings");
		return rt_fail(&err);
	}
	o.process = process;
	int code = 0;
	int r = selfexec_ensure_sealed(rt.argv0, rt.envp, &err);
	if (r == 0)
		r = container_exec(&o, &code, &err);
	json_decref(process);
	return r < 0 ? rt_fail(&err) : code;
}
