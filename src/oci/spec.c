/* spec.c - config.json: parse, validate naming the field, and the default spec.
 *
 * Validation is done in one pass over the tree before anything touches the
 * host. Each check reports the dotted path of the offending field, so a user
 * sees "config.json: linux.namespaces[2].type: unknown namespace \"foo\"".
 * Sub-objects owned by other modules (resources, seccomp, hooks,
 * capabilities, mount options) are checked by those modules' validators.
 */
#include "oci/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/caps.h"
#include "oci/cgroup.h"
#include "oci/hooks.h"
#include "oci/intelrdt.h"
#include "oci/rootfs.h"
#include "oci/seccomp.h"

/* Config files larger than this are refused: a real one is a few KiB. */
#define SPEC_MAX_SIZE (16u << 20)

static const char *json_type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* Fetch key from obj and check its type. Returns 0 and sets *out (NULL when
 * absent and not required). JSON_TRUE stands for "boolean". */
static int field(json_t *obj, const char *prefix, const char *key, json_type want, bool required,
		 json_t **out, berth_err *err)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return berth_error_code(err, EINVAL, "%s%s: required field is missing", prefix,
						key);
		return 0;
	}
	bool ok = want == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == want;
	if (!ok)
		return berth_error_code(err, EINVAL, "%s%s: must be %s", prefix, key,
					json_type_name(want));
	*out = v;
	return 0;
}

static int check_uint(json_t *obj, const char *prefix, const char *key, bool required,
		      json_int_t max, berth_err *err)
{
	json_t *v;
	int r = field(obj, prefix, key, JSON_INTEGER, required, &v, err);
	if (r < 0 || !v)
		return r;
	json_int_t n = json_integer_value(v);
	if (n < 0 || n > max)
		return berth_error_code(err, ERANGE, "%s%s: %lld is out of range (0..%lld)", prefix,
					key, (long long)n, (long long)max);
	return 0;
}

static int check_string_array(json_t *obj, const char *prefix, const char *key, bool required,
			      bool nonempty, berth_err *err)
{
	json_t *arr;
	int r = field(obj, prefix, key, JSON_ARRAY, required, &arr, err);
	if (r < 0 || !arr)
		return r;
	if (nonempty && json_array_size(arr) == 0)
		return berth_error_code(err, EINVAL, "%s%s: must not be empty", prefix, key);
	size_t i;
	json_t *s;
	json_array_foreach (arr, i, s)
		if (!json_is_string(s))
			return berth_error_code(err, EINVAL, "%s%s[%zu]: must be a string", prefix,
						key, i);
	return 0;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int check_enum(json_t *obj, const char *prefix, const char *key, bool required,
		      const char *const *allowed, berth_err *err)
{
	json_t *v;
	int r = field(obj, prefix, key, JSON_STRING, required, &v, err);
	if (r < 0 || !v)
		return r;
	if (!one_of(json_string_value(v), allowed))
		return berth_error_code(err, EINVAL, "%s%s: unknown value \"%s\"", prefix, key,
					json_string_value(v));
	return 0;
}

static bool has_dotdot(const char *path)
{
	const char *p = path;
	while (*p) {
		const char *e = strchrnul(p, '/');
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static const char *const rlimit_names[] = {
	"RLIMIT_AS",	 "RLIMIT_CORE",	  "RLIMIT_CPU",	   "RLIMIT_DATA",   "RLIMIT_FSIZE",
	"RLIMIT_LOCKS",	 "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
	"RLIMIT_NPROC",	 "RLIMIT_RSS",	  "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
	"RLIMIT_STACK",	 NULL,
};

static int validate_user(json_t *user, berth_err *err)
{
	static const char *p = "process.user.";
	int r;
	if ((r = check_uint(user, p, "uid", true, UINT32_MAX, err)) < 0 ||
	    (r = check_uint(user, p, "gid", true, UINT32_MAX, err)) < 0 ||
	    (r = check_uint(user, p, "umask", false, 07777, err)) < 0)
		return r;
	json_t *gids;
	if ((r = field(user, p, "additionalGids", JSON_ARRAY, false, &gids, err)) < 0)
		return r;
	size_t i;
	json_t *g;
	json_array_foreach (gids, i, g)
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) > UINT32_MAX)
			return berth_error_code(err, EINVAL,
						"process.user.additionalGids[%zu]: must be a gid",
						i);
	return 0;
}

static int validate_rlimits(json_t *rl, berth_err *err)
{
	size_t i;
	json_t *o;
	json_array_foreach (rl, i, o) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "process.rlimits[%zu].", i);
		if (!json_is_object(o))
			return berth_error_code(err, EINVAL, "process.rlimits[%zu]: must be an object",
						i);
		int r = check_enum(o, prefix, "type", true, rlimit_names, err);
		if (r < 0)
			return r;
		json_t *h, *s;
		if ((r = field(o, prefix, "hard", JSON_INTEGER, true, &h, err)) < 0 ||
		    (r = field(o, prefix, "soft", JSON_INTEGER, true, &s, err)) < 0)
			return r;
		/* Values above INT64_MAX (RLIM_INFINITY) arrive as negative from jansson. */
		unsigned long long hv = (unsigned long long)json_integer_value(h);
		unsigned long long sv = (unsigned long long)json_integer_value(s);
		if (sv > hv)
			return berth_error_code(err, EINVAL, "%ssoft: %llu is above hard %llu", prefix,
						sv, hv);
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(rl, j), "type"),
				       json_object_get(o, "type")))
				return berth_error_code(err, EINVAL, "%stype: %s given twice", prefix,
							json_string_value(json_object_get(o, "type")));
	}
	return 0;
}

static int validate_process(json_t *proc, berth_err *err)
{
	static const char *p = "process.";
	json_t *v;
	int r;
	if ((r = check_string_array(proc, p, "args", true, true, err)) < 0 ||
	    (r = check_string_array(proc, p, "env", false, false, err)) < 0)
		return r;
	if ((r = field(proc, p, "cwd", JSON_STRING, true, &v, err)) < 0)
		return r;
	if (json_string_value(v)[0] != '/')
		return berth_error_code(err, EINVAL, "process.cwd: must be an absolute path, got \"%s\"",
					json_string_value(v));
	if ((r = field(proc, p, "terminal", JSON_TRUE, false, &v, err)) < 0 ||
	    (r = field(proc, p, "noNewPrivileges", JSON_TRUE, false, &v, err)) < 0 ||
	    (r = field(proc, p, "apparmorProfile", JSON_STRING, false, &v, err)) < 0 ||
	    (r = field(proc, p, "selinuxLabel", JSON_STRING, false, &v, err)) < 0)
		return r;
	if ((r = field(proc, p, "consoleSize", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && ((r = check_uint(v, "process.consoleSize.", "height", true, UINT16_MAX, err)) < 0 ||
		  (r = check_uint(v, "process.consoleSize.", "width", true, UINT16_MAX, err)) < 0))
		return r;
	if ((r = field(proc, p, "user", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_user(v, err)) < 0)
		return r;
	if ((r = field(proc, p, "capabilities", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		struct caps_sets s;
		if ((r = caps_from_json(v, "process.capabilities", &s, err)) < 0)
			return r;
	}
	if ((r = field(proc, p, "rlimits", JSON_ARRAY, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_rlimits(v, err)) < 0)
		return r;
	if ((r = field(proc, p, "oomScoreAdj", JSON_INTEGER, false, &v, err)) < 0)
		return r;
	if (v && (json_integer_value(v) < -1000 || json_integer_value(v) > 1000))
		return berth_error_code(err, ERANGE, "process.oomScoreAdj: %lld is out of range (-1000..1000)",
					(long long)json_integer_value(v));
	if ((r = field(proc, p, "ioPriority", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
						       "IOPRIO_CLASS_IDLE", NULL };
		if ((r = check_enum(v, "process.ioPriority.", "class", true, classes, err)) < 0 ||
		    (r = check_uint(v, "process.ioPriority.", "priority", false, 7, err)) < 0)
			return r;
	}
	if ((r = field(proc, p, "scheduler", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		static const char *const policies[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
							"SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
							"SCHED_DEADLINE", NULL };
		static const char *const flags[] = { "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
						     "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
						     "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
						     "SCHED_FLAG_UTIL_CLAMP_MAX", NULL };
		if ((r = check_enum(v, "process.scheduler.", "policy", true, policies, err)) < 0 ||
		    (r = check_string_array(v, "process.scheduler.", "flags", false, false, err)) < 0)
			return r;
		json_t *f = json_object_get(v, "flags");
		size_t i;
		json_t *s;
		json_array_foreach (f, i, s)
			if (!one_of(json_string_value(s), flags))
				return berth_error_code(err, EINVAL,
							"process.scheduler.flags[%zu]: unknown flag \"%s\"",
							i, json_string_value(s));
		json_t *nice;
		if ((r = field(v, "process.scheduler.", "nice", JSON_INTEGER, false, &nice, err)) < 0)
			return r;
		if (nice && (json_integer_value(nice) < -20 || json_integer_value(nice) > 19))
			return berth_error_code(err, ERANGE, "process.scheduler.nice: out of range (-20..19)");
	}
	return 0;
}

static const char *const ns_types[] = { "pid",	 "network", "mount", "ipc",
					"uts",	 "user",    "cgroup", "time", NULL };

static int validate_namespaces(json_t *nss, berth_err *err)
{
	size_t i;
	json_t *o;
	json_array_foreach (nss, i, o) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "linux.namespaces[%zu].", i);
		if (!json_is_object(o))
			return berth_error_code(err, EINVAL, "linux.namespaces[%zu]: must be an object", i);
		json_t *t, *path;
		int r;
		if ((r = field(o, prefix, "type", JSON_STRING, true, &t, err)) < 0 ||
		    (r = field(o, prefix, "path", JSON_STRING, false, &path, err)) < 0)
			return r;
		if (!one_of(json_string_value(t), ns_types))
			return berth_error_code(err, EINVAL, "%stype: unknown namespace \"%s\"", prefix,
						json_string_value(t));
		if (path && json_string_value(path)[0] != '/')
			return berth_error_code(err, EINVAL, "%spath: must be an absolute path", prefix);
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(nss, j), "type"), t))
				return berth_error_code(err, EINVAL, "%stype: namespace \"%s\" given twice",
							prefix, json_string_value(t));
	}
	return 0;
}

static int validate_idmaps(json_t *linux_, const char *key, berth_err *err)
{
	json_t *arr;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "linux.");
	int r = field(linux_, prefix, key, JSON_ARRAY, false, &arr, err);
	if (r < 0 || !arr)
		return r;
	size_t i;
	json_t *o;
	json_array_foreach (arr, i, o) {
		snprintf(prefix, sizeof(prefix), "linux.%s[%zu].", key, i);
		if (!json_is_object(o))
			return berth_error_code(err, EINVAL, "linux.%s[%zu]: must be an object", key, i);
		if ((r = check_uint(o, prefix, "containerID", true, UINT32_MAX, err)) < 0 ||
		    (r = check_uint(o, prefix, "hostID", true, UINT32_MAX, err)) < 0 ||
		    (r = check_uint(o, prefix, "size", true, UINT32_MAX, err)) < 0)
			return r;
	}
	return 0;
}

static int validate_devices(json_t *devs, berth_err *err)
{
	static const char *const types[] = { "c", "b", "u", "p", NULL };
	size_t i;
	json_t *o;
	json_array_foreach (devs, i, o) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "linux.devices[%zu].", i);
		if (!json_is_object(o))
			return berth_error_code(err, EINVAL, "linux.devices[%zu]: must be an object", i);
		json_t *path;
		int r;
		if ((r = check_enum(o, prefix, "type", true, types, err)) < 0 ||
		    (r = field(o, prefix, "path", JSON_STRING, true, &path, err)) < 0 ||
		    (r = check_uint(o, prefix, "fileMode", false, 07777, err)) < 0 ||
		    (r = check_uint(o, prefix, "uid", false, UINT32_MAX, err)) < 0 ||
		    (r = check_uint(o, prefix, "gid", false, UINT32_MAX, err)) < 0)
			return r;
		const char *ps = json_string_value(path);
		if (ps[0] != '/' || has_dotdot(ps))
			return berth_error_code(err, EINVAL,
						"%spath: must be an absolute path without \"..\", got \"%s\"",
						prefix, ps);
		bool fifo = strcmp(json_string_value(json_object_get(o, "type")), "p") == 0;
		if ((r = check_uint(o, prefix, "major", !fifo, 0xfff, err)) < 0 ||
		    (r = check_uint(o, prefix, "minor", !fifo, 0xfffff, err)) < 0)
			return r;
	}
	return 0;
}

static int validate_mounts(json_t *mounts, berth_err *err)
{
	size_t i;
	json_t *m;
	json_array_foreach (mounts, i, m) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "mounts[%zu].", i);
		if (!json_is_object(m))
			return berth_error_code(err, EINVAL, "mounts[%zu]: must be an object", i);
		json_t *dest, *v;
		int r;
		if ((r = field(m, prefix, "destination", JSON_STRING, true, &dest, err)) < 0 ||
		    (r = field(m, prefix, "type", JSON_STRING, false, &v, err)) < 0 ||
		    (r = field(m, prefix, "source", JSON_STRING, false, &v, err)) < 0 ||
		    (r = check_string_array(m, prefix, "options", false, false, err)) < 0)
			return r;
		const char *d = json_string_value(dest);
		if (d[0] == '\0' || has_dotdot(d))
			return berth_error_code(err, EINVAL,
						"%sdestination: \"%s\" must name a path inside the container without \"..\"",
						prefix, d);
		struct mount_opts mo = { 0 };
		char opt_field[80];
		snprintf(opt_field, sizeof(opt_field), "%soptions", prefix);
		r = mount_options_parse(json_object_get(m, "options"), opt_field, &mo, err);
		bool bind = mo.bind;
		mount_opts_release(&mo);
		if (r < 0)
			return r;
		const char *type = json_string_value(json_object_get(m, "type"));
		if (!bind && (!type || !*type) && strcmp(type ? type : "", "none") != 0)
			return berth_error_code(err, EINVAL, "%stype: required unless options has bind or rbind",
						prefix);
	}
	return 0;
}

static int validate_sysctl(json_t *sysctl, bool new_net, bool new_ipc, bool new_uts, berth_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach (sysctl, k, v) {
		if (!json_is_string(v))
			return berth_error_code(err, EINVAL, "linux.sysctl.%s: must be a string", k);
		if (strstr(k, "..") || strchr(k, '/') == k)
			return berth_error_code(err, EINVAL, "linux.sysctl.%s: invalid name", k);
		/* Only namespaced sysctls may be set: anything else would change the host. */
		bool ok = false;
		if (strncmp(k, "net.", 4) == 0)
			ok = new_net;
		else if (strncmp(k, "fs.mqueue.", 10) == 0 || strncmp(k, "kernel.msg", 10) == 0 ||
			 strncmp(k, "kernel.sem", 10) == 0 || strncmp(k, "kernel.shm", 10) == 0)
			ok = new_ipc;
		else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
			ok = new_uts;
		if (!ok)
			return berth_error_code(err, EINVAL,
						"linux.sysctl.%s: not allowed: it is not in a namespace this container has its own of",
						k);
	}
	return 0;
}

static bool ns_requested(json_t *linux_, const char *type, bool *joined)
{
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(linux_, "namespaces"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0) {
			if (joined)
				*joined = json_object_get(o, "path") != NULL;
			return true;
		}
	return false;
}

static int validate_linux(json_t *linux_, json_t *spec, berth_err *err)
{
	static const char *p = "linux.";
	json_t *v;
	int r;
	if ((r = field(linux_, p, "namespaces", JSON_ARRAY, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_namespaces(v, err)) < 0)
		return r;
	if ((r = validate_idmaps(linux_, "uidMappings", err)) < 0 ||
	    (r = validate_idmaps(linux_, "gidMappings", err)) < 0)
		return r;
	bool user_joined = false;
	bool userns = ns_requested(linux_, "user", &user_joined);
	bool maps = json_array_size(json_object_get(linux_, "uidMappings")) ||
		    json_array_size(json_object_get(linux_, "gidMappings"));
	if (maps && !userns)
		return berth_error_code(err, EINVAL, "linux.uidMappings: given without a user namespace");
	if (userns && !user_joined && !maps)
		return berth_error_code(err, EINVAL,
					"linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
	if ((r = field(linux_, p, "devices", JSON_ARRAY, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_devices(v, err)) < 0)
		return r;
	if ((r = field(linux_, p, "cgroupsPath", JSON_STRING, false, &v, err)) < 0)
		return r;
	if ((r = field(linux_, p, "resources", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = cgroup_resources_validate(v, err)) < 0)
		return r;
	if ((r = field(linux_, p, "sysctl", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_sysctl(v, ns_requested(linux_, "network", NULL),
				      ns_requested(linux_, "ipc", NULL),
				      ns_requested(linux_, "uts", NULL), err)) < 0)
		return r;
	if ((r = field(linux_, p, "seccomp", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = seccomp_validate(v, err)) < 0)
		return r;
	static const char *const props[] = { "shared", "slave", "private", "unbindable", "rshared",
					     "rslave", "rprivate", "runbindable", NULL };
	if ((r = check_enum(linux_, p, "rootfsPropagation", false, props, err)) < 0 ||
	    (r = check_string_array(linux_, p, "maskedPaths", false, false, err)) < 0 ||
	    (r = check_string_array(linux_, p, "readonlyPaths", false, false, err)) < 0 ||
	    (r = field(linux_, p, "mountLabel", JSON_STRING, false, &v, err)) < 0)
		return r;
	static const char *const lists[] = { "maskedPaths", "readonlyPaths" };
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		size_t i;
		json_t *s;
		json_array_foreach (json_object_get(linux_, lists[l]), i, s)
			if (json_string_value(s)[0] != '/')
				return berth_error_code(err, EINVAL, "linux.%s[%zu]: must be an absolute path",
							lists[l], i);
	}
	if ((r = field(linux_, p, "personality", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		static const char *const domains[] = { "LINUX", "LINUX32", NULL };
		if ((r = check_enum(v, "linux.personality.", "domain", true, domains, err)) < 0 ||
		    (r = check_string_array(v, "linux.personality.", "flags", false, false, err)) < 0)
			return r;
	}
	if ((r = field(linux_, p, "intelRdt", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = intelrdt_validate(v, err)) < 0)
		return r;
	if ((r = field(linux_, p, "timeOffsets", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		bool joined = false;
		if (!ns_requested(linux_, "time", &joined) || joined)
			return berth_error_code(err, EINVAL,
						"linux.timeOffsets: needs a new time namespace in linux.namespaces");
		const char *k;
		json_t *o;
		json_object_foreach (v, k, o) {
			if (strcmp(k, "monotonic") != 0 && strcmp(k, "boottime") != 0)
				return berth_error_code(err, EINVAL, "linux.timeOffsets.%s: unknown clock", k);
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "linux.timeOffsets.%s.", k);
			json_t *x;
			if (!json_is_object(o))
				return berth_error_code(err, EINVAL, "linux.timeOffsets.%s: must be an object", k);
			if ((r = field(o, prefix, "secs", JSON_INTEGER, false, &x, err)) < 0 ||
			    (r = check_uint(o, prefix, "nanosecs", false, 999999999, err)) < 0)
				return r;
		}
	}
	(void)spec;
	return 0;
}

int spec_validate(json_t *spec, berth_err *err)
{
	json_t *v;
	int r;
	if (!json_is_object(spec))
		return berth_error_code(err, EINVAL, "the top level must be a JSON object");
	if ((r = field(spec, "", "ociVersion", JSON_STRING, true, &v, err)) < 0)
		return r;
	if ((r = field(spec, "", "root", JSON_OBJECT, true, &v, err)) < 0)
		return r;
	json_t *path;
	if ((r = field(v, "root.", "path", JSON_STRING, true, &path, err)) < 0 ||
	    (r = field(v, "root.", "readonly", JSON_TRUE, false, &path, err)) < 0)
		return r;
	if (json_string_value(json_object_get(v, "path"))[0] == '\0')
		return berth_error_code(err, EINVAL, "root.path: must not be empty");
	if ((r = field(spec, "", "process", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_process(v, err)) < 0)
		return r;
	if ((r = field(spec, "", "hostname", JSON_STRING, false, &v, err)) < 0 ||
	    (r = field(spec, "", "domainname", JSON_STRING, false, &v, err)) < 0)
		return r;
	if ((r = field(spec, "", "mounts", JSON_ARRAY, false, &v, err)) < 0)
		return r;
	if (v && (r = validate_mounts(v, err)) < 0)
		return r;
	if ((r = field(spec, "", "hooks", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v && (r = hooks_validate(v, err)) < 0)
		return r;
	if ((r = field(spec, "", "annotations", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	if (v) {
		const char *k;
		json_t *a;
		json_object_foreach (v, k, a)
			if (!json_is_string(a))
				return berth_error_code(err, EINVAL, "annotations.%s: must be a string", k);
	}
	if ((r = field(spec, "", "linux", JSON_OBJECT, false, &v, err)) < 0)
		return r;
	json_t *empty = NULL;
	if (!v)
		v = empty = json_object();
	r = validate_linux(v, spec, err);
	json_decref(empty);
	if (r < 0)
		return r;
	json_t *hn = json_object_get(spec, "hostname");
	json_t *linux_ = json_object_get(spec, "linux");
	if (hn && json_string_length(hn) && !ns_requested(linux_, "uts", NULL))
		return berth_error_code(err, EINVAL, "hostname: needs a new uts namespace");
	return 0;
}

int spec_parse(const char *buf, size_t len, json_t **out, berth_err *err)
{
	json_error_t jerr;
	json_t *spec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!spec)
		return berth_error_code(err, EINVAL, "not valid JSON: line %d column %d: %s", jerr.line,
					jerr.column, jerr.text);
	int r = spec_validate(spec, err);
	if (r < 0) {
		json_decref(spec);
		return r;
	}
	*out = spec;
	return 0;
}

int spec_load(const char *bundle, json_t **out, berth_err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return berth_error_errno(err, "stat %s", path);
	if ((size_t)st.st_size > SPEC_MAX_SIZE)
		return berth_error_code(err, EFBIG, "%s: larger than %u bytes", path, SPEC_MAX_SIZE);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = fd_read_all(fd, &buf, &len);
	if (r < 0)
		return berth_error(err, -r, "reading %s", path);
	r = spec_parse(buf, len, out, err);
	if (r < 0)
		return berth_error_wrap(err, "config.json");
	return 0;
}

json_t *spec_get(json_t *spec, const char *dotted)
{
	json_t *cur = spec;
	const char *p = dotted;
	while (cur && *p) {
		const char *e = strchrnul(p, '.');
		char key[128];
		size_t n = (size_t)(e - p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		p = *e ? e + 1 : e;
	}
	return cur;
}

const char *spec_get_string(json_t *spec, const char *dotted)
{
	return json_string_value(spec_get(spec, dotted));
}

bool spec_get_bool(json_t *spec, const char *dotted)
{
	return json_is_true(spec_get(spec, dotted));
}

/* Berth's default: what `berth-runtime spec` writes. The same shape callers of
 * `runc spec` get, so scripts that edit its output keep working. */
static const char default_spec[] =
	"{\"ociVersion\":\"" OCI_VERSION "\","
	"\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
	"\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/\","
	"\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"berth\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}"
	"],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
	"\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

json_t *spec_default(bool rootless)
{
	json_t *spec = json_loads(default_spec, 0, NULL);
	if (!spec)
		abort();
	if (rootless) {
		json_t *linux_ = json_object_get(spec, "linux");
		json_t *nss = json_object_get(linux_, "namespaces");
		json_array_append_new(nss, json_pack("{s:s}", "type", "user"));
		uid_t uid = getuid();
		gid_t gid = getgid();
		json_object_set_new(linux_, "uidMappings",
				    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)uid, "size", 1));
		json_object_set_new(linux_, "gidMappings",
				    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)gid, "size", 1));
		json_object_del(linux_, "resources");
		/* Without a network namespace of its own a rootless container cannot mount sysfs. */
		json_t *mounts = json_object_get(spec, "mounts");
		size_t i;
		json_t *m;
		json_array_foreach (mounts, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "destination")), "/sys") == 0) {
				json_object_set_new(m, "type", json_string("none"));
				json_object_set_new(m, "source", json_string("/sys"));
				json_object_set_new(m, "options",
						    json_pack("[s,s,s,s,s]", "rbind", "nosuid", "noexec", "nodev", "ro"));
			}
		}
	}
	return spec;
}
