/* ctr_exec.c - `berth exec`: another process in a running container, run
 * in-process through the runtime library (src/oci/exec.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "oci/caps.h"
#include "oci/container.h"

/* Replace or add NAME=VALUE in an env array; "NAME" alone takes ours. */
static void env_set(json_t *env, const char *kv)
{
	_cleanup_free_ char *own = NULL;
	if (!strchr(kv, '=')) {
		const char *v = getenv(kv);
		if (!v)
			return;
		kv = own = xasprintf("%s=%s", kv, v);
	}
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;
	size_t i;
	json_t *e;
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, kv, klen)) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static int exec_failure_code(const berth_err *err)
{
	const char *m = err->msg ? err->msg : "";
	if (strstr(m, "no such file or directory") || strstr(m, "not found in $PATH"))
		return 127;
	if (strstr(m, "permission denied"))
		return 126;
	return 126;
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, 'E' },
		{ "privileged", no_argument, NULL, 'p' },
		{ "detach-keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	bool detach = false, interactive = false, tty = false, privileged = false;
	const char *user = NULL, *workdir = NULL;
	_cleanup_strv_ char **envs = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+ditu:w:e:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': detach = true; break;
		case 'i': interactive = true; break;
		case 't': tty = true; break;
		case 'u': user = optarg; break;
		case 'w':
			if (optarg[0] != '/')
				return berth_usage_error(argv[0],
							 "the working directory '%s' is invalid, "
							 "it needs to be an absolute path",
							 optarg);
			workdir = optarg;
			break;
		case 'e': strv_push(&envs, optarg); break;
		case 'E': {
			FILE *f = fopen(optarg, "re");
			if (!f)
				return berth_usage_error(argv[0], "open %s: %s", optarg,
							 strerror(errno));
			char *line = NULL;
			size_t cap = 0;
			ssize_t n;
			while ((n = getline(&line, &cap, f)) > 0) {
				line[strcspn(line, "\r\n")] = 0;
				if (line[0] && line[0] != '#')
					strv_push(&envs, line);
			}
			free(line);
			fclose(f);
			break;
		}
		case 'p': privileged = true; break;
		case 'k': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return berth_usage_error(argv[0], "\"exec\" requires at least 2 arguments.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	json_t *insp = NULL;
	if (!e || ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0)
		return berth_fail(&err);
	const char *status =
		json_string_value(json_object_get(json_object_get(insp, "State"), "Status")) ?: "";
	bool running = !strcmp(status, "running");
	bool paused = !strcmp(status, "paused");
	json_decref(insp);
	if (paused) {
		fprintf(stderr,
			"berth: Error response from daemon: Container %s is paused, unpause the "
			"container before exec\n",
			id);
		return 1;
	}
	if (!running) {
		fprintf(stderr, "berth: Error response from daemon: container %s is not running\n",
			id);
		return 1;
	}
	_cleanup_json_ json_t *proc = NULL;
	if (container_process_template(engine_runtime_root(e), id, &proc, &err) < 0)
		return berth_fail(&err);
	json_t *args = json_array();
	for (int i = optind + 1; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "terminal", json_boolean(tty));
	json_object_del(proc, "consoleSize");
	json_t *env = json_object_get(proc, "env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(proc, "env", env);
	}
	for (size_t i = 0; envs && envs[i]; i++)
		env_set(env, envs[i]);
	if (workdir)
		json_object_set_new(proc, "cwd", json_string(workdir));
	if (user && ctr_exec_user(e, id, user, proc, &err) < 0)
		return berth_fail(&err);
	if (privileged) {
		json_t *all = json_array();
		int last = cap_last_cap();
		for (int k = 0; k <= last; k++)
			if (cap_name(k))
				json_array_append_new(all, json_string(cap_name(k)));
		json_t *caps = json_object();
		static const char *const sets[] = { "bounding", "effective", "permitted" };
		for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
			json_object_set(caps, sets[i], all);
		json_decref(all);
		json_object_set_new(proc, "capabilities", caps);
	}
	if (!interactive && !detach) {
		/* Without -i the process's stdin is empty, as docker exec's. */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
	}
	int code = 0;
	struct exec_opts xo = {
		.root = engine_runtime_root(e),
		.id = id,
		.process = proc,
		.detach = detach,
	};
	if (tty && detach) {
		/* docker exec -dt: the terminal is nobody's; give it nothing. */
		json_object_set_new(proc, "terminal", json_false());
	}
	if (container_exec(&xo, &code, &err) < 0) {
		int rc = exec_failure_code(&err);
		fprintf(stderr, "berth: %s\n", err.msg ? err.msg : "exec failed");
		berth_err_clear(&err);
		return rc;
	}
	return detach ? 0 : code;
}
