/* spec_gen.c - the OCI config.json of a container, from Docker's create request.
 *
 * The process (command, environment, working directory, user, capabilities,
 * seccomp, AppArmor, no-new-privileges) and the namespaces are built here;
 * spec_gen_linux.c adds mounts, resources, devices, rlimits and sysctls.
 * Every decision follows what Docker does with the same request, so a
 * container behaves the same under either engine. The result is checked
 * with the runtime's own spec_validate() before it is handed back: a spec
 * the runtime would refuse is an engine bug, reported here with its field.
 */
#include "engine/spec_gen.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/seccomp_default.h"
#include "engine/spec_gen_internal.h"
#include "engine/user.h"
#include "oci/caps.h"
#include "oci/spec.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define INIT_PATH    "/sbin/docker-init"
#define CAPBIT(c)    (UINT64_C(1) << (c))

/* Docker's default capabilities: enough for a typical service to start as root and
 * drop to a user, nothing that reaches outside the container. */
static const int default_caps[] = {
	CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
	CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
	CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
	CAP_KILL,    CAP_AUDIT_WRITE,
};

const char *gen_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

json_int_t gen_int(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static bool mode_is(json_t *host, const char *key, const char *value)
{
	const char *m = gen_str(host, key);
	return m && strcmp(m, value) == 0;
}

/* "container:X" modes. */
static bool mode_is_container(json_t *host, const char *key)
{
	const char *m = gen_str(host, key);
	return m && strncmp(m, "container:", 10) == 0;
}

/* --- command ----------------------------------------------------------------- */

static bool has_words(json_t *v)
{
	return json_array_size(v) > 0 || (json_is_string(v) && *json_string_value(v));
}

/* Docker's merge, done once at create: with no Entrypoint in the request,
 * an empty Cmd takes the image's, and an absent Entrypoint the image's. A
 * given Entrypoint (even [""], `--entrypoint ""`) keeps the request's Cmd
 * alone: the image's was written for the old entrypoint. An empty array
 * clears only the entrypoint. */
void spec_merge_command(json_t *config, json_t *image_config)
{
	json_t *ep = json_object_get(config, "Entrypoint");
	if (has_words(ep) || (json_is_array(ep) && json_array_size(ep) > 0))
		return;
	json_t *icmd = json_object_get(image_config, "Cmd"),
	       *iep = json_object_get(image_config, "Entrypoint");
	if (!has_words(json_object_get(config, "Cmd")) && icmd)
		json_object_set_new(config, "Cmd", json_deep_copy(icmd));
	if ((!ep || json_is_null(ep)) && iep)
		json_object_set_new(config, "Entrypoint", json_deep_copy(iep));
}

static int gen_args(struct gen *g, berth_err *err)
{
	_cleanup_json_ json_t *cfg =
		json_pack("{s:O?,s:O?}", "Entrypoint", json_object_get(g->config, "Entrypoint"),
			  "Cmd", json_object_get(g->config, "Cmd"));
	spec_merge_command(cfg, g->image);
	json_t *ep = json_object_get(cfg, "Entrypoint"), *cmd = json_object_get(cfg, "Cmd");
	json_t *args = json_array();
	json_object_set_new(g->process, "args", args);
	/* [""] is what `--entrypoint ""` sends: no entrypoint at all. */
	const char *first = json_string_value(json_is_array(ep) ? json_array_get(ep, 0) : ep);
	if ((json_array_size(ep) == 1 || json_is_string(ep)) && first && !*first)
		ep = NULL;
	if (json_is_string(ep))
		json_array_append(args, ep);
	else if (json_is_array(ep))
		json_array_extend(args, ep);
	if (json_is_string(cmd))
		json_array_append(args, cmd);
	else if (json_is_array(cmd))
		json_array_extend(args, cmd);
	size_t i;
	json_t *a;
	json_array_foreach (args, i, a)
		if (!json_is_string(a))
			return berth_error_code(err, EINVAL, "Entrypoint/Cmd: must be strings");
	if (json_array_size(args) == 0)
		return berth_error_code(err, EINVAL, "No command specified");
	if (json_is_true(json_object_get(g->host, "Init"))) {
		if (!g->ctx->init_path)
			return berth_error_code(
				err, EINVAL,
				"HostConfig.Init: no init binary was given to the engine");
		json_array_insert_new(args, 0, json_string("--"));
		json_array_insert_new(args, 0, json_string(INIT_PATH));
	}
	return 0;
}

/* --- environment --------------------------------------------------------------- */

static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

static ssize_t env_find(json_t *env, const char *e)
{
	size_t n = env_key_len(e), i;
	json_t *v;
	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && env_key_len(s) == n && strncmp(s, e, n) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static int gen_env(struct gen *g, const char *hostname, berth_err *err)
{
	json_t *user = json_object_get(g->config, "Env");
	json_t *image = json_object_get(g->image, "Env");
	/* The request's variables, then the image's that the request does not name. */
	_cleanup_json_ json_t *merged = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (user, i, v) {
		if (!json_is_string(v))
			return berth_error_code(err, EINVAL, "Config.Env[%zu]: must be a string",
						i);
		json_array_append(merged, v);
	}
	json_array_foreach (image, i, v)
		if (json_is_string(v) && env_find(user, json_string_value(v)) < 0)
			json_array_append(merged, v);

	json_t *env = json_array();
	json_object_set_new(g->process, "env", env);
	json_array_append_new(env, json_string("PATH=" DEFAULT_PATH));
	json_array_append_new(env, json_pack("s+", "HOSTNAME=", hostname));
	if (json_is_true(json_object_get(g->config, "Tty")))
		json_array_append_new(env, json_string("TERM=xterm"));
	/* Each one replaces a default of the same name in place, or is appended; a
	 * name without "=" (the client had no value for it) removes it. */
	json_array_foreach (merged, i, v) {
		const char *s = json_string_value(v);
		if (!*s || *s == '=')
			return berth_error_code(err, EINVAL, "invalid environment variable: \"%s\"",
						s);
		ssize_t at = env_find(env, s);
		if (!strchr(s, '=')) {
			if (at >= 0)
				json_array_remove(env, (size_t)at);
		} else if (at >= 0) {
			json_array_set(env, (size_t)at, v);
		} else {
			json_array_append(env, v);
		}
	}
	return 0;
}

/* --- user ---------------------------------------------------------------------- */

static int gen_user(struct gen *g, berth_err *err)
{
	const char *spec = gen_str(g->config, "User");
	if (!spec)
		spec = gen_str(g->image, "User");
	json_t *ga = json_object_get(g->host, "GroupAdd");
	size_t n = json_array_size(ga);
	_cleanup_free_ const char **groups = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		groups[i] = json_string_value(json_array_get(ga, i));
		if (!groups[i])
			return berth_error_code(err, EINVAL,
						"HostConfig.GroupAdd[%zu]: must be a string", i);
	}
	_cleanup_close_ int rootfd = open(g->ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_errno(err, "cannot open the container's rootfs %s",
					 g->ctx->rootfs);
	struct user_ids u;
	int r = user_resolve(rootfd, spec, groups, n, &u, err);
	if (r < 0)
		return r;
	json_t *user = json_pack("{s:I,s:I}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid);
	if (u.n_sgids) {
		json_t *a = json_array();
		for (size_t i = 0; i < u.n_sgids; i++)
			json_array_append_new(a, json_integer(u.sgids[i]));
		json_object_set_new(user, "additionalGids", a);
	}
	json_object_set_new(g->process, "user", user);
	user_ids_release(&u);
	return 0;
}

/* --- capabilities ------------------------------------------------------------------- */

static uint64_t all_caps(void)
{
	int last = cap_last_cap();
	if (last < 0 || last > CAP_LAST_CAP)
		last = CAP_LAST_CAP;
	return last >= 63 ? UINT64_MAX : (CAPBIT(last + 1) - 1);
}

/* "sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" -> bit; "ALL" -> all_caps(). */
static int parse_cap_list(json_t *list, const char *field, uint64_t *mask, bool *all,
			  berth_err *err)
{
	*mask = 0;
	*all = false;
	size_t i;
	json_t *c;
	json_array_foreach (list, i, c) {
		const char *s = json_string_value(c);
		if (!s)
			return berth_error_code(err, EINVAL, "%s[%zu]: must be a string", field, i);
		if (strcasecmp(s, "ALL") == 0) {
			*all = true;
			continue;
		}
		_cleanup_free_ char *name =
			strncasecmp(s, "CAP_", 4) == 0 ? xstrdup(s) : xasprintf("CAP_%s", s);
		for (char *p = name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		int n = cap_number(name);
		if (n < 0)
			return berth_error_code(err, EINVAL, "unknown capability: \"%s\"", name);
		*mask |= CAPBIT(n);
	}
	return 0;
}

static int compute_caps(struct gen *g, uint64_t *out, berth_err *err)
{
	if (g->privileged) {
		*out = all_caps();
		return 0;
	}
	uint64_t base = 0, add, drop;
	bool add_all, drop_all;
	for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
		base |= CAPBIT(default_caps[i]);
	int r;
	if ((r = parse_cap_list(json_object_get(g->host, "CapAdd"), "HostConfig.CapAdd", &add,
				&add_all, err)) < 0 ||
	    (r = parse_cap_list(json_object_get(g->host, "CapDrop"), "HostConfig.CapDrop", &drop,
				&drop_all, err)) < 0)
		return r;
	/* Docker's precedence: --cap-add ALL wins over --cap-drop ALL, and what is
	 * dropped by name still goes; --cap-drop ALL keeps only what is added. */
	if (add_all)
		*out = all_caps() & ~drop;
	else if (drop_all)
		*out = add;
	else
		*out = (base & ~drop) | add;
	return 0;
}

static json_t *caps_array(uint64_t mask)
{
	json_t *a = json_array();
	for (int c = 0; c < 64; c++)
		if (mask & CAPBIT(c)) {
			const char *n = cap_name(c);
			if (n)
				json_array_append_new(a, json_string(n));
		}
	return a;
}

/* --- security options ----------------------------------------------------------------- */

static int load_profile(const char *value, json_t **out, berth_err *err)
{
	json_error_t jerr;
	/* The docker CLI sends the file's contents; berth's own CLI may send a path. */
	if (value[0] == '{') {
		*out = json_loads(value, 0, &jerr);
		if (!*out)
			return berth_error_code(err, EINVAL,
						"Decoding seccomp profile failed: line %d: %s",
						jerr.line, jerr.text);
		return 0;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = file_read(value, &buf, &len, err);
	if (r < 0)
		return berth_error_wrap(err, "opening seccomp profile (%s) failed", value);
	*out = json_loadb(buf, len, 0, &jerr);
	if (!*out)
		return berth_error_code(err, EINVAL,
					"Decoding seccomp profile %s failed: line %d: %s", value,
					jerr.line, jerr.text);
	return 0;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const f[] = { "0", "f", "F", "false", "FALSE", "False" };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, true;
		if (strcmp(s, f[i]) == 0)
			return *out = false, true;
	}
	return false;
}

static int gen_security(struct gen *g, uint64_t caps, berth_err *err)
{
	const char *seccomp = NULL;
	bool nnp = false;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(g->host, "SecurityOpt"), i, o) {
		const char *opt = json_string_value(o);
		if (!opt)
			return berth_error_code(err, EINVAL,
						"HostConfig.SecurityOpt[%zu]: must be a string", i);
		if (strcmp(opt, "no-new-privileges") == 0) {
			nnp = true;
			continue;
		}
		if (strcmp(opt, "disable") == 0) /* label=disable's short form */
			continue;
		size_t klen = strcspn(opt, "=");
		if (!opt[klen])
			klen = strcspn(opt, ":");
		if (!opt[klen])
			return berth_error_code(err, EINVAL, "invalid --security-opt 1: \"%s\"",
						opt);
		const char *v = opt + klen + 1;
		if (klen == 5 && strncmp(opt, "label", 5) == 0) {
			continue; /* SELinux labels: not supported, accepted as Docker without
				     SELinux */
		} else if (klen == 8 && strncmp(opt, "apparmor", 8) == 0) {
			if (*v && strcmp(v, "unconfined") != 0)
				json_object_set_new(g->process, "apparmorProfile", json_string(v));
		} else if (klen == 7 && strncmp(opt, "seccomp", 7) == 0) {
			seccomp = v;
		} else if (klen == 17 && strncmp(opt, "no-new-privileges", 17) == 0) {
			if (!parse_bool(v, &nnp))
				return berth_error_code(err, EINVAL,
							"invalid --security-opt 2: \"%s\"", opt);
		} else if (klen == 11 && strncmp(opt, "systempaths", 11) == 0) {
			if (strcmp(v, "unconfined") != 0)
				return berth_error_code(err, EINVAL,
							"invalid --security-opt 2: \"%s\"", opt);
			json_object_set_new(g->linux_, "maskedPaths", json_array());
			json_object_set_new(g->linux_, "readonlyPaths", json_array());
		} else if (klen == 16 && strncmp(opt, "writable-cgroups", 16) == 0) {
			if (!parse_bool(v, &g->writable_cgroups))
				return berth_error_code(err, EINVAL,
							"invalid --security-opt 2: \"%s\"", opt);
		} else {
			return berth_error_code(err, EINVAL, "invalid --security-opt 2: \"%s\"",
						opt);
		}
	}
	json_object_set_new(g->process, "noNewPrivileges", json_boolean(nnp));

	/* Privileged containers run without a filter, as with Docker. */
	if (g->privileged || (seccomp && strcmp(seccomp, "unconfined") == 0))
		return 0;
	json_t *obj;
	if (seccomp && *seccomp && strcmp(seccomp, "builtin") != 0) {
		_cleanup_json_ json_t *profile = NULL;
		int r = load_profile(seccomp, &profile, err);
		if (r < 0)
			return r;
		if ((r = seccomp_from_docker(profile, caps, &obj, err)) < 0)
			return r;
	} else {
		obj = seccomp_default_profile(caps);
	}
	json_object_set_new(g->linux_, "seccomp", obj);
	return 0;
}

/* --- namespaces and names ------------------------------------------------------------- */

static bool cgroup_v2(void)
{
	return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

/* Add the namespace for a HostConfig mode: none for "host", joined for "container:X". */
static int add_ns(struct gen *g, const char *type, const char *key, const char *path,
		  berth_err *err)
{
	json_t *nss = json_object_get(g->linux_, "namespaces");
	if (key && mode_is(g->host, key, "host"))
		return 0;
	if (key && mode_is_container(g->host, key)) {
		if (!path)
			return berth_error_code(
				err, EINVAL,
				"HostConfig.%s %s: the engine gave no namespace path to join", key,
				gen_str(g->host, key));
		json_array_append_new(nss, json_pack("{s:s,s:s}", "type", type, "path", path));
		return 0;
	}
	json_array_append_new(nss, json_pack("{s:s}", "type", type));
	return 0;
}

static int gen_namespaces(struct gen *g, berth_err *err)
{
	json_object_set_new(g->linux_, "namespaces", json_array());
	int r;
	if ((r = add_ns(g, "pid", "PidMode", g->ctx->pidns_path, err)) < 0 ||
	    (r = add_ns(g, "ipc", "IpcMode", g->ctx->ipcns_path, err)) < 0 ||
	    (r = add_ns(g, "uts", "UTSMode", g->ctx->utsns_path, err)) < 0 ||
	    (r = add_ns(g, "mount", NULL, NULL, err)) < 0 ||
	    (r = add_ns(g, "network", "NetworkMode", g->ctx->netns_path, err)) < 0)
		return r;
	const char *cg = gen_str(g->host, "CgroupnsMode");
	if (cg && strcmp(cg, "host") != 0 && strcmp(cg, "private") != 0)
		return berth_error_code(err, EINVAL, "invalid cgroup namespace mode: %s", cg);
	bool private_cg = cg ? strcmp(cg, "private") == 0 : cgroup_v2();
	if (private_cg)
		add_ns(g, "cgroup", NULL, NULL, err);
	return 0;
}

/* The container's hostname: Config.Hostname, the host's with --network host, or
 * the short id. */
static char *container_hostname(struct gen *g)
{
	const char *h = gen_str(g->config, "Hostname");
	if (h)
		return xstrdup(h);
	if (g->net_host || g->uts_host) {
		char buf[HOST_NAME_MAX + 1] = "";
		if (gethostname(buf, sizeof(buf)) == 0 && buf[0]) {
			buf[HOST_NAME_MAX] = '\0';
			return xstrdup(buf);
		}
	}
	return xstrndup(g->ctx->id ? g->ctx->id : "", 12);
}

int spec_generate(json_t *config, json_t *host_config, json_t *image_config,
		  const struct spec_gen_ctx *ctx, json_t **spec, berth_err *err)
{
	_cleanup_json_ json_t *empty = json_object();
	struct gen g = {
		.config = config ? config : empty,
		.host = host_config ? host_config : empty,
		.image = image_config ? image_config : empty,
		.ctx = ctx,
	};
	if (!ctx || !ctx->rootfs || ctx->rootfs[0] != '/')
		return berth_error_code(err, EINVAL,
					"spec_generate: the rootfs must be an absolute path");
	g.privileged = json_is_true(json_object_get(g.host, "Privileged"));
	g.net_host = mode_is(g.host, "NetworkMode", "host");
	g.ipc_host = mode_is(g.host, "IpcMode", "host");
	g.ipc_none = mode_is(g.host, "IpcMode", "none");
	g.uts_host = mode_is(g.host, "UTSMode", "host");

	_cleanup_json_ json_t *s = json_object();
	g.spec = s;
	g.process = json_object();
	g.linux_ = json_object();
	json_object_set_new(s, "ociVersion", json_string(OCI_VERSION));
	json_object_set_new(s, "process", g.process);
	json_object_set_new(s, "root",
			    json_pack("{s:s,s:b}", "path", ctx->rootfs, "readonly",
				      json_is_true(json_object_get(g.host, "ReadonlyRootfs"))));
	json_object_set_new(s, "linux", g.linux_);

	int r;
	json_object_set_new(g.process, "terminal",
			    json_boolean(json_is_true(json_object_get(g.config, "Tty"))));
	if ((r = gen_args(&g, err)) < 0)
		return r;
	/* --tty's initial size ([height, width]), so the first output is laid out right. */
	json_t *cs = json_object_get(g.host, "ConsoleSize");
	if (json_is_true(json_object_get(g.config, "Tty")) && json_array_size(cs) == 2 &&
	    json_integer_value(json_array_get(cs, 0)) > 0 &&
	    json_integer_value(json_array_get(cs, 1)) > 0 &&
	    json_integer_value(json_array_get(cs, 0)) <= UINT16_MAX &&
	    json_integer_value(json_array_get(cs, 1)) <= UINT16_MAX)
		json_object_set_new(g.process, "consoleSize",
				    json_pack("{s:O,s:O}", "height", json_array_get(cs, 0), "width",
					      json_array_get(cs, 1)));
	_cleanup_free_ char *hostname = container_hostname(&g);
	if ((r = gen_env(&g, hostname, err)) < 0)
		return r;
	const char *wd = gen_str(g.config, "WorkingDir");
	if (!wd)
		wd = gen_str(g.image, "WorkingDir");
	if (wd && wd[0] != '/')
		return berth_error_code(
			err, EINVAL,
			"the working directory '%s' is invalid, it needs to be an absolute path",
			wd);
	json_object_set_new(g.process, "cwd", json_string(wd ? wd : "/"));
	if ((r = gen_user(&g, err)) < 0)
		return r;

	uint64_t caps;
	if ((r = compute_caps(&g, &caps, err)) < 0)
		return r;
	json_t *ca = caps_array(caps);
	json_object_set_new(
		g.process, "capabilities",
		json_pack("{s:O,s:O,s:o}", "bounding", ca, "effective", ca, "permitted", ca));

	json_int_t oom = gen_int(g.host, "OomScoreAdj");
	if (oom < -1000 || oom > 1000)
		return berth_error_code(
			err, EINVAL, "Invalid value %lld, range for oom score adj is [-1000, 1000]",
			(long long)oom);
	json_object_set_new(g.process, "oomScoreAdj", json_integer(oom));

	if ((r = gen_namespaces(&g, err)) < 0)
		return r;
	if (!g.uts_host && !mode_is_container(g.host, "UTSMode")) {
		json_object_set_new(s, "hostname", json_string(hostname));
		if (gen_str(g.config, "Domainname"))
			json_object_set(s, "domainname", json_object_get(g.config, "Domainname"));
	}

	if (!g.privileged) {
		json_object_set_new(g.linux_, "maskedPaths",
				    json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "/proc/asound",
					      "/proc/acpi", "/proc/interrupts", "/proc/kcore",
					      "/proc/keys", "/proc/latency_stats",
					      "/proc/timer_list", "/proc/timer_stats",
					      "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
					      "/sys/devices/virtual/powercap"));
		json_object_set_new(g.linux_, "readonlyPaths",
				    json_pack("[s,s,s,s,s]", "/proc/bus", "/proc/fs", "/proc/irq",
					      "/proc/sys", "/proc/sysrq-trigger"));
	}
	/* HostConfig's own lists (the API's MaskedPaths/ReadonlyPaths) replace the defaults. */
	static const char *const lists[][2] = { { "MaskedPaths", "maskedPaths" },
						{ "ReadonlyPaths", "readonlyPaths" } };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		json_t *l = json_object_get(g.host, lists[i][0]);
		if (json_is_array(l) && !g.privileged)
			json_object_set(g.linux_, lists[i][1], l);
	}
	if ((r = gen_security(&g, caps, err)) < 0)
		return r;
	if (ctx->cgroups_path)
		json_object_set_new(g.linux_, "cgroupsPath", json_string(ctx->cgroups_path));

	if ((r = gen_mounts(&g, err)) < 0 || (r = gen_resources(&g, err)) < 0 ||
	    (r = gen_rlimits(&g, err)) < 0 || (r = gen_sysctls(&g, err)) < 0)
		return r;

	if ((r = spec_validate(s, err)) < 0)
		return berth_error_wrap(err, "the generated runtime spec is invalid");
	*spec = TAKE_PTR(s);
	return 0;
}
