/* ctr_run.c - `berth run`, `create`, `start` and `attach`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/attach_client.h"
#include "cli/berth.h"
#include "cli/ctr_opts.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "engine/engine.h"
#include "image/reference.h"
#include "image/store.h"

/* Docker's exit codes for a container that could not start: 127 when the
 * command is not found, 126 when it cannot be executed, 125 otherwise. */
static int start_failure_code(const berth_err *err)
{
	const char *m = err->msg ? err->msg : "";
	if (strstr(m, "no such file or directory") || strstr(m, "not found in $PATH"))
		return 127;
	if (strstr(m, "permission denied") || strstr(m, "exec format error"))
		return 126;
	return 125;
}

static int fail_with(berth_err *err, int code)
{
	fprintf(stderr, "berth: %s\n", err->msg ? err->msg : "unknown error");
	berth_err_clear(err);
	return code;
}

/* The image to run: present, or pulled as --pull says. */
static int image_for(const struct create_request *r, char **image_id, berth_err *err)
{
	struct image_store *s = berth_store(err);
	if (!s)
		return -EIO;
	const char *pull = r->pull ? r->pull : "missing";
	int rc = strcmp(pull, "always") == 0 ? -ENOENT
					     : image_store_resolve(s, r->image, image_id, err);
	if (rc != -ENOENT)
		return rc;
	if (strcmp(pull, "never") == 0)
		return rc;
	berth_err_clear(err);
	if (strcmp(pull, "always") != 0) {
		struct image_ref ref = { 0 };
		_cleanup_free_ char *fam = NULL;
		if (image_ref_parse(r->image, &ref, NULL) == 0)
			fam = image_ref_familiar(&ref);
		image_ref_free(&ref);
		fprintf(stderr, "Unable to find image '%s' locally\n", fam ? fam : r->image);
	}
	/* The pull's progress goes to stderr, as docker run's does. */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	rc = berth_pull(r->image, r->platform, r->quiet, err);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	if (rc < 0)
		return rc;
	return image_store_resolve(s, r->image, image_id, err);
}

/* docker run -t: the container's terminal starts at our terminal's size
 * (HostConfig.ConsoleSize), before its first program asks for it. */
static void console_size(struct create_request *r)
{
	struct winsize ws;
	if (!json_is_true(json_object_get(r->config, "Tty")) ||
	    (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 &&
	     ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0) ||
	    !ws.ws_row)
		return;
	json_object_set_new(r->host_config, "ConsoleSize",
			    json_pack("[i,i]", ws.ws_row, ws.ws_col));
}

static int create_from(struct create_request *r, struct engine **e, char **id, berth_err *err)
{
	console_size(r);
	_cleanup_free_ char *image_id = NULL;
	int rc;
	if ((rc = image_for(r, &image_id, err)) < 0)
		return rc;
	if (!(*e = berth_engine(err)))
		return -EIO;
	struct ctr_create_req cr = {
		.name = r->name,
		.image_id = image_id,
		.image = r->image,
		.config = r->config,
		.host_config = r->host_config,
		.networking = r->networking,
	};
	if ((rc = ctr_create(*e, &cr, id, err)) < 0)
		return rc;
	if (r->cidfile) {
		FILE *f = fopen(r->cidfile, "wx");
		if (!f)
			return berth_error_errno(err, "cannot write the container ID file %s",
						 r->cidfile);
		fprintf(f, "%s", *id);
		fclose(f);
	}
	return 0;
}

int cmd_create(int argc, char **argv)
{
	berth_err err = BERTH_ERR_INIT;
	struct create_request r = { 0 };
	if (ctr_opts_parse(argc, argv, &r, &err) < 0) {
		int rc = berth_usage_error(argv[0], "%s", err.msg);
		berth_err_clear(&err);
		return rc;
	}
	struct engine *e = NULL;
	_cleanup_free_ char *id = NULL;
	int rc = create_from(&r, &e, &id, &err) < 0 ? fail_with(&err, 125) : 0;
	if (rc == 0)
		printf("%s\n", id);
	create_request_free(&r);
	return rc;
}

/* Attached to a started container until it exits; its code, as docker run.
 * With cleanup (no restart policy), this process records the exit and
 * cleans up (--rm included) instead of the monitor's exit command. */
static int follow(struct engine *e, const char *id, int afd, pid_t monitor, bool cleanup, bool tty,
		  bool in, bool sig_proxy, const char *detach_keys)
{
	struct attach_params ap = {
		.fd = afd,
		.tty = tty,
		.stdin_on = in,
		.sig_proxy = sig_proxy && !tty,
		.detach_keys = detach_keys,
		.engine = e,
		.id = id,
	};
	int code = 0;
	int r = attach_stream(&ap, &code);
	berth_err err = BERTH_ERR_INIT;
	if (r == 0 && cleanup) {
		if (ctr_attached_exited(e, id, afd, &err) < 0)
			fprintf(stderr, "berth: %s\n", err.msg);
		berth_err_clear(&err);
	}
	close(afd);
	if (r == ATTACH_DETACHED)
		return 0;
	if (r == ATTACH_LOST || !cleanup) {
		/* The monitor's exit command records the exit; wait for that. */
		if (ctr_wait(e, id, -1, &code, &err) < 0)
			return fail_with(&err, 125);
	}
	if (monitor > 0 && cleanup)
		while (waitpid(monitor, NULL, 0) < 0 && errno == EINTR)
			;
	return code;
}

static bool restarts(json_t *host_config)
{
	const char *rp = json_string_value(
		json_object_get(json_object_get(host_config, "RestartPolicy"), "Name"));
	return rp && *rp && strcmp(rp, "no") != 0;
}

int cmd_run(int argc, char **argv)
{
	berth_err err = BERTH_ERR_INIT;
	struct create_request r = { 0 };
	if (ctr_opts_parse(argc, argv, &r, &err) < 0) {
		int rc = berth_usage_error(argv[0], "%s", err.msg);
		berth_err_clear(&err);
		return rc;
	}
	struct engine *e = NULL;
	_cleanup_free_ char *id = NULL;
	int rc = 0;
	if (create_from(&r, &e, &id, &err) < 0) {
		rc = fail_with(&err, 125);
		goto out;
	}
	bool tty = json_is_true(json_object_get(r.config, "Tty"));
	bool in = json_is_true(json_object_get(r.config, "AttachStdin"));
	pid_t monitor = 0;
	int afd = -1;
	bool cleanup = !restarts(r.host_config);
	struct ctr_start_opts so = {
		.attach = !r.detach, .want_stdin = in, .take_cleanup = cleanup, .monitor = &monitor
	};
	if (ctr_start(e, id, &so, r.detach ? NULL : &afd, &err) < 0) {
		rc = fail_with(&err, start_failure_code(&err));
		if (json_is_true(json_object_get(r.host_config, "AutoRemove")))
			ctr_remove(e, id, true, true, NULL);
		goto out;
	}
	if (r.detach) {
		printf("%s\n", id);
		goto out;
	}
	rc = follow(e, id, afd, monitor, cleanup, tty, in, r.sig_proxy, r.detach_keys);
out:
	create_request_free(&r);
	return rc;
}

int cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "detach-keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	bool attach = false, interactive = false;
	const char *keys = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+ai", opts, NULL)) != -1) {
		switch (c) {
		case 'a': attach = true; break;
		case 'i': interactive = true; break;
		case 'k': keys = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"start\" requires at least 1 argument.");
	if ((attach || interactive) && argc - optind > 1)
		return berth_usage_error(argv[0],
					 "you cannot start and attach multiple containers at once");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *id = NULL;
		if (ctr_resolve(e, argv[i], &id, &err) < 0) {
			rc = berth_fail(&err);
			continue;
		}
		if (attach || interactive) {
			json_t *insp = NULL;
			if (ctr_get(e, id, &insp, &err) < 0)
				return berth_fail(&err);
			json_t *cfg = json_object_get(insp, "Config");
			bool tty = json_is_true(json_object_get(cfg, "Tty"));
			bool in = interactive && json_is_true(json_object_get(cfg, "OpenStdin"));
			bool cleanup = !restarts(json_object_get(insp, "HostConfig"));
			json_decref(insp);
			pid_t monitor = 0;
			int afd = -1;
			struct ctr_start_opts so = { .attach = true,
						     .want_stdin = in,
						     .monitor = &monitor };
			if (ctr_start(e, id, &so, &afd, &err) < 0)
				return fail_with(&err, 1);
			return follow(e, id, afd, monitor, cleanup, tty, in, true, keys);
		}
		struct ctr_start_opts so = { 0 };
		if (ctr_start(e, id, &so, NULL, &err) < 0) {
			fprintf(stderr, "berth: Error response from daemon: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	if (rc)
		fprintf(stderr, "berth: Error: failed to start containers\n");
	return rc;
}
