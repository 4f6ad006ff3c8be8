/* ctr_opts.c - `berth run` / `berth create` flags into the Engine API's
 * ContainerCreate body (Config, HostConfig, NetworkingConfig), as docker's
 * CLI builds it: same defaults, same checks, same messages.
 *
 * The flags are read in one getopt_long pass ("+": the image ends them);
 * what depends on several flags (attach streams, healthcheck, networks,
 * env files before -e) is settled after the pass. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/ctr_opts.h"
#include "cli/ctr_opts_values.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

enum {
	O_DETACH = 'd',
	O_INTERACTIVE = 'i',
	O_TTY = 't',
	O_ENV = 'e',
	O_LABEL = 'l',
	O_WORKDIR = 'w',
	O_USER = 'u',
	O_HOSTNAME = 'h',
	O_VOLUME = 'v',
	O_MEMORY = 'm',
	O_CPU_SHARES = 'c',
	O_PUBLISH = 'p',
	O_PUBLISH_ALL = 'P',
	O_QUIET = 'q',
	O_ATTACH = 'a',
	O_RM = 256,
	O_NAME,
	O_ENV_FILE,
	O_LABEL_FILE,
	O_ENTRYPOINT,
	O_DOMAINNAME,
	O_ADD_HOST,
	O_DNS,
	O_DNS_SEARCH,
	O_DNS_OPTION,
	O_MOUNT,
	O_TMPFS,
	O_READ_ONLY,
	O_VOLUMES_FROM,
	O_RESTART,
	O_HEALTH_CMD,
	O_HEALTH_INTERVAL,
	O_HEALTH_TIMEOUT,
	O_HEALTH_START_PERIOD,
	O_HEALTH_START_INTERVAL,
	O_HEALTH_RETRIES,
	O_NO_HEALTHCHECK,
	O_INIT,
	O_MEMORY_SWAP,
	O_MEMORY_RESERVATION,
	O_MEMORY_SWAPPINESS,
	O_KERNEL_MEMORY,
	O_OOM_KILL_DISABLE,
	O_OOM_SCORE_ADJ,
	O_CPUS,
	O_CPU_PERIOD,
	O_CPU_QUOTA,
	O_CPUSET_CPUS,
	O_CPUSET_MEMS,
	O_BLKIO_WEIGHT,
	O_PIDS_LIMIT,
	O_ULIMIT,
	O_SHM_SIZE,
	O_CAP_ADD,
	O_CAP_DROP,
	O_PRIVILEGED,
	O_DEVICE,
	O_DEVICE_CGROUP_RULE,
	O_GROUP_ADD,
	O_SECURITY_OPT,
	O_PID,
	O_IPC,
	O_UTS,
	O_CGROUPNS,
	O_USERNS,
	O_CGROUP_PARENT,
	O_SYSCTL,
	O_LOG_DRIVER,
	O_LOG_OPT,
	O_STOP_SIGNAL,
	O_STOP_TIMEOUT,
	O_NETWORK,
	O_NETWORK_ALIAS,
	O_IP,
	O_IP6,
	O_MAC_ADDRESS,
	O_EXPOSE,
	O_PLATFORM,
	O_PULL,
	O_DETACH_KEYS,
	O_CIDFILE,
	O_ISOLATION,
	O_RUNTIME,
	O_SIG_PROXY,
	O_VOLUME_DRIVER,
	O_LINK,
	O_LINK_LOCAL_IP,
	O_STORAGE_OPT,
	O_ANNOTATION,
	O_CPU_RT_PERIOD,
	O_CPU_RT_RUNTIME,
	O_BLKIO_WEIGHT_DEVICE,
	O_DEVICE_READ_BPS,
	O_DEVICE_WRITE_BPS,
	O_DEVICE_READ_IOPS,
	O_DEVICE_WRITE_IOPS,
	O_DISABLE_CONTENT_TRUST,
};

/* A bool flag takes an optional "=false" (--rm=false), as pflag allows. */
#define BOOL optional_argument
#define ARG  required_argument

static const struct flag {
	const char *name;
	int has_arg;
	int id;
	bool run_only; /* docker create has no such flag */
} flags[] = {
	{ "detach", BOOL, O_DETACH, true },
	{ "interactive", BOOL, O_INTERACTIVE, false },
	{ "tty", BOOL, O_TTY, false },
	{ "rm", BOOL, O_RM, false },
	{ "name", ARG, O_NAME, false },
	{ "env", ARG, O_ENV, false },
	{ "env-file", ARG, O_ENV_FILE, false },
	{ "label", ARG, O_LABEL, false },
	{ "label-file", ARG, O_LABEL_FILE, false },
	{ "workdir", ARG, O_WORKDIR, false },
	{ "user", ARG, O_USER, false },
	{ "entrypoint", ARG, O_ENTRYPOINT, false },
	{ "hostname", ARG, O_HOSTNAME, false },
	{ "domainname", ARG, O_DOMAINNAME, false },
	{ "add-host", ARG, O_ADD_HOST, false },
	{ "dns", ARG, O_DNS, false },
	{ "dns-search", ARG, O_DNS_SEARCH, false },
	{ "dns-option", ARG, O_DNS_OPTION, false },
	{ "dns-opt", ARG, O_DNS_OPTION, false },
	{ "volume", ARG, O_VOLUME, false },
	{ "mount", ARG, O_MOUNT, false },
	{ "tmpfs", ARG, O_TMPFS, false },
	{ "read-only", BOOL, O_READ_ONLY, false },
	{ "volumes-from", ARG, O_VOLUMES_FROM, false },
	{ "restart", ARG, O_RESTART, false },
	{ "health-cmd", ARG, O_HEALTH_CMD, false },
	{ "health-interval", ARG, O_HEALTH_INTERVAL, false },
	{ "health-timeout", ARG, O_HEALTH_TIMEOUT, false },
	{ "health-start-period", ARG, O_HEALTH_START_PERIOD, false },
	{ "health-start-interval", ARG, O_HEALTH_START_INTERVAL, false },
	{ "health-retries", ARG, O_HEALTH_RETRIES, false },
	{ "no-healthcheck", BOOL, O_NO_HEALTHCHECK, false },
	{ "init", BOOL, O_INIT, false },
	{ "memory", ARG, O_MEMORY, false },
	{ "memory-swap", ARG, O_MEMORY_SWAP, false },
	{ "memory-reservation", ARG, O_MEMORY_RESERVATION, false },
	{ "memory-swappiness", ARG, O_MEMORY_SWAPPINESS, false },
	{ "kernel-memory", ARG, O_KERNEL_MEMORY, false },
	{ "oom-kill-disable", BOOL, O_OOM_KILL_DISABLE, false },
	{ "oom-score-adj", ARG, O_OOM_SCORE_ADJ, false },
	{ "cpus", ARG, O_CPUS, false },
	{ "cpu-shares", ARG, O_CPU_SHARES, false },
	{ "cpu-period", ARG, O_CPU_PERIOD, false },
	{ "cpu-quota", ARG, O_CPU_QUOTA, false },
	{ "cpuset-cpus", ARG, O_CPUSET_CPUS, false },
	{ "cpuset-mems", ARG, O_CPUSET_MEMS, false },
	{ "blkio-weight", ARG, O_BLKIO_WEIGHT, false },
	{ "pids-limit", ARG, O_PIDS_LIMIT, false },
	{ "ulimit", ARG, O_ULIMIT, false },
	{ "shm-size", ARG, O_SHM_SIZE, false },
	{ "cap-add", ARG, O_CAP_ADD, false },
	{ "cap-drop", ARG, O_CAP_DROP, false },
	{ "privileged", BOOL, O_PRIVILEGED, false },
	{ "device", ARG, O_DEVICE, false },
	{ "device-cgroup-rule", ARG, O_DEVICE_CGROUP_RULE, false },
	{ "group-add", ARG, O_GROUP_ADD, false },
	{ "security-opt", ARG, O_SECURITY_OPT, false },
	{ "pid", ARG, O_PID, false },
	{ "ipc", ARG, O_IPC, false },
	{ "uts", ARG, O_UTS, false },
	{ "cgroupns", ARG, O_CGROUPNS, false },
	{ "userns", ARG, O_USERNS, false },
	{ "cgroup-parent", ARG, O_CGROUP_PARENT, false },
	{ "sysctl", ARG, O_SYSCTL, false },
	{ "log-driver", ARG, O_LOG_DRIVER, false },
	{ "log-opt", ARG, O_LOG_OPT, false },
	{ "stop-signal", ARG, O_STOP_SIGNAL, false },
	{ "stop-timeout", ARG, O_STOP_TIMEOUT, false },
	{ "network", ARG, O_NETWORK, false },
	{ "net", ARG, O_NETWORK, false },
	{ "network-alias", ARG, O_NETWORK_ALIAS, false },
	{ "net-alias", ARG, O_NETWORK_ALIAS, false },
	{ "ip", ARG, O_IP, false },
	{ "ip6", ARG, O_IP6, false },
	{ "mac-address", ARG, O_MAC_ADDRESS, false },
	{ "publish", ARG, O_PUBLISH, false },
	{ "publish-all", BOOL, O_PUBLISH_ALL, false },
	{ "expose", ARG, O_EXPOSE, false },
	{ "platform", ARG, O_PLATFORM, false },
	{ "pull", ARG, O_PULL, false },
	{ "quiet", BOOL, O_QUIET, false },
	{ "detach-keys", ARG, O_DETACH_KEYS, true },
	{ "cidfile", ARG, O_CIDFILE, false },
	{ "isolation", ARG, O_ISOLATION, false },
	{ "runtime", ARG, O_RUNTIME, false },
	{ "sig-proxy", BOOL, O_SIG_PROXY, true },
	{ "attach", ARG, O_ATTACH, false },
	{ "volume-driver", ARG, O_VOLUME_DRIVER, false },
	{ "link", ARG, O_LINK, false },
	{ "link-local-ip", ARG, O_LINK_LOCAL_IP, false },
	{ "storage-opt", ARG, O_STORAGE_OPT, false },
	{ "annotation", ARG, O_ANNOTATION, false },
	{ "cpu-rt-period", ARG, O_CPU_RT_PERIOD, false },
	{ "cpu-rt-runtime", ARG, O_CPU_RT_RUNTIME, false },
	{ "blkio-weight-device", ARG, O_BLKIO_WEIGHT_DEVICE, false },
	{ "device-read-bps", ARG, O_DEVICE_READ_BPS, false },
	{ "device-write-bps", ARG, O_DEVICE_WRITE_BPS, false },
	{ "device-read-iops", ARG, O_DEVICE_READ_IOPS, false },
	{ "device-write-iops", ARG, O_DEVICE_WRITE_IOPS, false },
	/* images are not signature-checked; accepted so scripts that pass it still run */
	{ "disable-content-trust", BOOL, O_DISABLE_CONTENT_TRUST, false },
};

/* What is settled after all flags are read. */
struct state {
	struct create_request *r;
	const char *cmd;
	json_t *env, *env_files, *labels, *label_files;
	json_t *networks, *aliases, *link_local_ips, *security_opts;
	char *ip, *ip6, *mac;
	bool attach_in, attach_out, attach_err, attach_given;
	bool interactive, tty, rm, restart_given;
	bool no_healthcheck, health_given;
	json_t *health;
};

/* pflag's name for a flag in its messages: "-m, --memory" or "--cpus". */
static char *flag_display(const struct flag *f)
{
	if (f->id < 256)
		return xasprintf("-%c, --%s", f->id, f->name);
	return xasprintf("--%s", f->name);
}

/* pflag's message for a value its Set() refused: err holds the reason. */
static int bad_value(berth_err *err, const struct flag *f, const char *val)
{
	_cleanup_free_ char *name = flag_display(f);
	return berth_error_wrap(err, "invalid argument \"%s\" for \"%s\" flag", val, name);
}

static const struct flag *flag_by_id(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (flags[i].id == id)
			return &flags[i];
	return NULL;
}

/* The array under key in o, replacing a null default on first use. */
static json_t *list(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_array(v)) {
		v = json_array();
		json_object_set_new(o, key, v);
	}
	return v;
}

static json_t *map(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

static void set_str(json_t *o, const char *key, const char *val)
{
	json_object_set_new(o, key, json_string(val));
}

static void append_str(json_t *o, const char *key, const char *val)
{
	json_array_append_new(list(o, key), json_string(val));
}

/* "k=v" into o[k] (or o[k] = "" without "="). */
static void kv_set(json_t *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	set_str(o, k, eq ? eq + 1 : "");
}

/* What `docker create` sends for flags left alone. */
static void set_defaults(struct create_request *r)
{
	r->config = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:[], s:n, s:n, "
			      "s:{}, s:s, s:n, s:n, s:{}}",
			      "Hostname", "", "Domainname", "", "User", "", "AttachStdin", 0,
			      "AttachStdout", 0, "AttachStderr", 0, "Tty", 0, "OpenStdin", 0,
			      "StdinOnce", 0, "Env", "Cmd", "Image", "Volumes", "WorkingDir", "",
			      "Entrypoint", "OnBuild", "Labels");
	r->host_config = json_pack(
		"{s:n, s:s, s:{s:s, s:{}}, s:s, s:{}, s:{s:s, s:i}, s:b, s:s, s:n, s:n, s:n, "
		"s:s, s:[], s:[], s:[], s:n, s:n, s:s, s:s, s:n, s:i, s:s, s:b, s:b, s:b, s:n, "
		"s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:i, s:I, s:I, s:s, s:s, s:[], s:n, "
		"s:I, s:I, s:n, s:b, s:n, s:n}",
		"Binds", "ContainerIDFile", "", "LogConfig", "Type", "", "Config", "NetworkMode",
		"default", "PortBindings", "RestartPolicy", "Name", "no", "MaximumRetryCount", 0,
		"AutoRemove", 0, "VolumeDriver", "", "VolumesFrom", "CapAdd", "CapDrop",
		"CgroupnsMode", "", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd",
		"IpcMode", "", "Cgroup", "", "Links", "OomScoreAdj", 0, "PidMode", "", "Privileged",
		0, "PublishAllPorts", 0, "ReadonlyRootfs", 0, "SecurityOpt", "UTSMode", "",
		"UsernsMode", "", "ShmSize", (json_int_t)0, "Isolation", "", "CpuShares",
		(json_int_t)0, "Memory", (json_int_t)0, "NanoCpus", (json_int_t)0, "CgroupParent",
		"", "BlkioWeight", 0, "CpuPeriod", (json_int_t)0, "CpuQuota", (json_int_t)0,
		"CpusetCpus", "", "CpusetMems", "", "Devices", "DeviceCgroupRules",
		"MemoryReservation", (json_int_t)0, "MemorySwap", (json_int_t)0, "MemorySwappiness",
		"OomKillDisable", 0, "PidsLimit", "Ulimits");
	r->networking = json_pack("{s:{}}", "EndpointsConfig");
	r->pull = xstrdup("missing");
	r->sig_proxy = true;
}

static int set_int_flag(json_t *o, const char *key, const struct flag *f, const char *val, int bits,
			bool is_unsigned, int64_t *out, berth_err *err)
{
	int64_t v;
	if (ctr_parse_int(val, bits, is_unsigned, &v, err) < 0)
		return bad_value(err, f, val);
	if (o)
		json_object_set_new(o, key, json_integer(v));
	if (out)
		*out = v;
	return 0;
}

static int set_size_flag(json_t *o, const char *key, const struct flag *f, const char *val,
			 berth_err *err)
{
	int64_t v;
	if (ctr_parse_size(val, &v, err) < 0)
		return bad_value(err, f, val);
	json_object_set_new(o, key, json_integer(v));
	return 0;
}

static int health_duration(struct state *st, const char *key, const struct flag *f, const char *val,
			   berth_err *err)
{
	int64_t ns;
	if (ctr_parse_duration(val, &ns, err) < 0)
		return bad_value(err, f, val);
	if (ns < 0)
		return berth_error(err, 0, "--%s cannot be negative", f->name);
	json_object_set_new(st->health, key, json_integer(ns));
	st->health_given = true;
	return 0;
}

/* -e NAME=VAL, or NAME alone: the caller's value, dropped when unset. */
static int add_env(struct state *st, const struct flag *f, const char *val, berth_err *err)
{
	const char *eq = strchr(val, '=');
	if (val[0] == '=' || !val[0]) {
		berth_error(err, 0, "invalid environment variable: %s", val);
		return bad_value(err, f, val);
	}
	if (eq) {
		json_array_append_new(st->env, json_string(val));
		return 0;
	}
	const char *v = getenv(val);
	if (v) {
		_cleanup_free_ char *kv = xasprintf("%s=%s", val, v);
		json_t *s = json_string(kv);
		if (s)
			json_array_append_new(st->env, s);
	}
	return 0;
}

/* -v SRC:DST[:OPTS] is a bind (or named volume); a lone path an anonymous volume. */
static int add_volume(struct create_request *r, const char *val, berth_err *err)
{
	if (!*val)
		return berth_error(err, 0, "invalid empty volume spec");
	if (!strchr(val, ':')) {
		json_object_set_new(map(r->config, "Volumes"), val, json_object());
		return 0;
	}
	_cleanup_free_ char *bind = NULL;
	if (ctr_bind_spec(val, &bind, err) < 0)
		return -EINVAL;
	append_str(r->host_config, "Binds", bind);
	return 0;
}

/* --security-opt, with docker's reading of seccomp=FILE into the profile itself. */
static int add_security_opt(struct state *st, const char *val, berth_err *err)
{
	const char *sep = strchr(val, '=');
	if (!sep && strcmp(val, "no-new-privileges") != 0)
		sep = strchr(val, ':');
	if ((!sep || !sep[1]) && strcmp(val, "no-new-privileges") != 0)
		return berth_error(err, 0, "Invalid --security-opt: \"%s\"", val);
	if (strcmp(val, "systempaths=unconfined") == 0) {
		json_object_set_new(st->r->host_config, "MaskedPaths", json_array());
		json_object_set_new(st->r->host_config, "ReadonlyPaths", json_array());
		return 0;
	}
	if (sep && (size_t)(sep - val) == 7 && strncmp(val, "seccomp", 7) == 0 &&
	    strcmp(sep + 1, "unconfined") != 0 && strcmp(sep + 1, "builtin") != 0) {
		_cleanup_free_ char *profile = NULL;
		if (ctr_read_seccomp_profile(sep + 1, &profile, err) < 0)
			return -EINVAL;
		_cleanup_free_ char *opt = xasprintf("seccomp=%s", profile);
		json_array_append_new(st->security_opts, json_string(opt));
		return 0;
	}
	json_array_append_new(st->security_opts, json_string(val));
	return 0;
}

static int set_ns_mode(json_t *hc, const char *key, const struct flag *f, const char *val,
		       berth_err *err)
{
	if (ctr_check_ns_mode(f->name, val, err) < 0)
		return -EINVAL;
	set_str(hc, key, val);
	return 0;
}

static int add_throttle(json_t *hc, const char *key, const struct flag *f, const char *val,
			enum ctr_throttle kind, berth_err *err)
{
	json_t *t = NULL;
	if (ctr_parse_throttle(val, kind, &t, err) < 0)
		return bad_value(err, f, val);
	json_array_append_new(list(hc, key), t);
	return 0;
}

static int parse_attach(struct state *st, const char *val, berth_err *err)
{
	if (strcasecmp(val, "stdin") == 0)
		st->attach_in = true;
	else if (strcasecmp(val, "stdout") == 0)
		st->attach_out = true;
	else if (strcasecmp(val, "stderr") == 0)
		st->attach_err = true;
	else
		return berth_error(err, 0, "valid streams are STDIN, STDOUT and STDERR");
	st->attach_given = true;
	return 0;
}

/* One flag with its value (NULL for a bool given without "="). */
static int apply_flag(struct state *st, const struct flag *f, const char *val, berth_err *err)
{
	struct create_request *r = st->r;
	json_t *cfg = r->config, *hc = r->host_config;
	bool b = true;
	int64_t n;

	if (f->has_arg == BOOL && val && ctr_parse_bool(val, &b, err) < 0)
		return bad_value(err, f, val);

	switch (f->id) {
	case O_DETACH: r->detach = b; break;
	case O_INTERACTIVE: st->interactive = b; break;
	case O_TTY: st->tty = b; break;
	case O_RM: st->rm = b; break;
	case O_QUIET: r->quiet = b; break;
	case O_SIG_PROXY: r->sig_proxy = b; break;
	case O_READ_ONLY: json_object_set_new(hc, "ReadonlyRootfs", json_boolean(b)); break;
	case O_PRIVILEGED: json_object_set_new(hc, "Privileged", json_boolean(b)); break;
	case O_PUBLISH_ALL: json_object_set_new(hc, "PublishAllPorts", json_boolean(b)); break;
	case O_OOM_KILL_DISABLE: json_object_set_new(hc, "OomKillDisable", json_boolean(b)); break;
	case O_INIT: json_object_set_new(hc, "Init", json_boolean(b)); break;
	case O_NO_HEALTHCHECK: st->no_healthcheck = b; break;
	case O_NAME:
		free(r->name);
		r->name = xstrdup(val);
		break;
	case O_ENV: return add_env(st, f, val, err);
	case O_ENV_FILE: json_array_append_new(st->env_files, json_string(val)); break;
	case O_LABEL:
		if (val[0] == '=' || !val[0]) {
			berth_error(err, 0, "invalid label '%s': empty name", val);
			return bad_value(err, f, val);
		}
		json_array_append_new(st->labels, json_string(val));
		break;
	case O_LABEL_FILE: json_array_append_new(st->label_files, json_string(val)); break;
	case O_WORKDIR:
		if (val[0] && val[0] != '/')
			return berth_error(
				err, 0,
				"the working directory '%s' is invalid, it needs to be an "
				"absolute path",
				val);
		set_str(cfg, "WorkingDir", val);
		break;
	case O_USER: set_str(cfg, "User", val); break;
	case O_ENTRYPOINT: json_object_set_new(cfg, "Entrypoint", json_pack("[s]", val)); break;
	case O_HOSTNAME: set_str(cfg, "Hostname", val); break;
	case O_DOMAINNAME: set_str(cfg, "Domainname", val); break;
	case O_ADD_HOST: {
		_cleanup_free_ char *entry = NULL;
		if (ctr_parse_extra_host(val, &entry, err) < 0)
			return bad_value(err, f, val);
		append_str(hc, "ExtraHosts", entry);
		break;
	}
	case O_DNS:
		if (!ctr_is_ip(val, 0)) {
			berth_error(err, 0, "%s is not an ip address", val);
			return bad_value(err, f, val);
		}
		append_str(hc, "Dns", val);
		break;
	case O_DNS_SEARCH:
		if (val[0] == '.' || strlen(val) > 255) {
			berth_error(err, 0, "%s is not a valid domain", val);
			return bad_value(err, f, val);
		}
		append_str(hc, "DnsSearch", val);
		break;
	case O_DNS_OPTION: append_str(hc, "DnsOptions", val); break;
	case O_VOLUME: return add_volume(r, val, err);
	case O_MOUNT: {
		json_t *m = NULL;
		if (ctr_parse_mount(val, &m, err) < 0)
			return bad_value(err, f, val);
		json_array_append_new(list(hc, "Mounts"), m);
		break;
	}
	case O_TMPFS: {
		const char *colon = strchr(val, ':');
		_cleanup_free_ char *dst =
			colon ? xstrndup(val, (size_t)(colon - val)) : xstrdup(val);
		if (dst[0] != '/')
			return berth_error(err, 0,
					   "invalid tmpfs destination %s: must be an absolute path",
					   dst);
		set_str(map(hc, "Tmpfs"), dst, colon ? colon + 1 : "");
		break;
	}
	case O_VOLUMES_FROM: append_str(hc, "VolumesFrom", val); break;
	case O_RESTART: {
		json_t *p = NULL;
		if (ctr_parse_restart(val, &p, err) < 0)
			return -EINVAL;
		json_object_set_new(hc, "RestartPolicy", p);
		st->restart_given =
			strcmp(json_string_value(json_object_get(p, "Name")), "no") != 0;
		break;
	}
	case O_HEALTH_CMD:
		if (*val)
			json_object_set_new(st->health, "Test",
					    json_pack("[s, s]", "CMD-SHELL", val));
		else
			json_object_del(st->health, "Test");
		st->health_given = true;
		break;
	case O_HEALTH_INTERVAL: return health_duration(st, "Interval", f, val, err);
	case O_HEALTH_TIMEOUT: return health_duration(st, "Timeout", f, val, err);
	case O_HEALTH_START_PERIOD: return health_duration(st, "StartPeriod", f, val, err);
	case O_HEALTH_START_INTERVAL: return health_duration(st, "StartInterval", f, val, err);
	case O_HEALTH_RETRIES:
		if (set_int_flag(NULL, NULL, f, val, 64, false, &n, err) < 0)
			return -EINVAL;
		if (n < 0)
			return berth_error(err, 0, "--health-retries cannot be negative");
		json_object_set_new(st->health, "Retries", json_integer(n));
		st->health_given = true;
		break;
	case O_MEMORY: return set_size_flag(hc, "Memory", f, val, err);
	case O_MEMORY_SWAP:
		if (strcmp(val, "-1") == 0) {
			json_object_set_new(hc, "MemorySwap", json_integer(-1));
			break;
		}
		return set_size_flag(hc, "MemorySwap", f, val, err);
	case O_MEMORY_RESERVATION: return set_size_flag(hc, "MemoryReservation", f, val, err);
	case O_KERNEL_MEMORY: return set_size_flag(hc, "KernelMemory", f, val, err);
	case O_SHM_SIZE: return set_size_flag(hc, "ShmSize", f, val, err);
	case O_MEMORY_SWAPPINESS:
		if (set_int_flag(NULL, NULL, f, val, 64, false, &n, err) < 0)
			return -EINVAL;
		if (n != -1 && (n < 0 || n > 100))
			return berth_error(
				err, 0,
				"invalid value: %lld. Valid memory swappiness range is 0-100",
				(long long)n);
		json_object_set_new(hc, "MemorySwappiness",
				    n == -1 ? json_null() : json_integer(n));
		break;
	case O_OOM_SCORE_ADJ:
		if (set_int_flag(NULL, NULL, f, val, 64, false, &n, err) < 0)
			return -EINVAL;
		if (n < -1000 || n > 1000)
			return berth_error(
				err, 0,
				"Invalid value %lld, range for oom score adj is [-1000, 1000]",
				(long long)n);
		json_object_set_new(hc, "OomScoreAdj", json_integer(n));
		break;
	case O_CPUS:
		if (ctr_parse_nano_cpus(val, &n, err) < 0)
			return bad_value(err, f, val);
		json_object_set_new(hc, "NanoCpus", json_integer(n));
		break;
	case O_CPU_SHARES: return set_int_flag(hc, "CpuShares", f, val, 64, false, NULL, err);
	case O_CPU_PERIOD: return set_int_flag(hc, "CpuPeriod", f, val, 64, false, NULL, err);
	case O_CPU_QUOTA: return set_int_flag(hc, "CpuQuota", f, val, 64, false, NULL, err);
	case O_CPUSET_CPUS: set_str(hc, "CpusetCpus", val); break;
	case O_CPUSET_MEMS: set_str(hc, "CpusetMems", val); break;
	case O_BLKIO_WEIGHT:
		if (set_int_flag(NULL, NULL, f, val, 16, true, &n, err) < 0)
			return -EINVAL;
		if (n != 0 && (n < 10 || n > 1000))
			return berth_error(err, 0, "Range of blkio weight is from 10 to 1000");
		json_object_set_new(hc, "BlkioWeight", json_integer(n));
		break;
	case O_PIDS_LIMIT: return set_int_flag(hc, "PidsLimit", f, val, 64, false, NULL, err);
	case O_ULIMIT: {
		json_t *u = NULL;
		if (ctr_parse_ulimit(val, &u, err) < 0)
			return bad_value(err, f, val);
		/* a later --ulimit of the same name replaces the earlier one, as docker */
		json_t *ul = list(hc, "Ulimits"), *old;
		size_t i;
		json_array_foreach (ul, i, old)
			if (json_equal(json_object_get(old, "Name"), json_object_get(u, "Name"))) {
				json_array_remove(ul, i);
				break;
			}
		json_array_append_new(ul, u);
		break;
	}
	case O_CAP_ADD:
	case O_CAP_DROP: {
		_cleanup_free_ char *cap = ctr_capability(val);
		append_str(hc, f->id == O_CAP_ADD ? "CapAdd" : "CapDrop", cap);
		break;
	}
	case O_DEVICE: {
		json_t *d = NULL;
		if (ctr_parse_device(val, &d, err) < 0)
			return bad_value(err, f, val);
		json_array_append_new(list(hc, "Devices"), d);
		break;
	}
	case O_DEVICE_CGROUP_RULE:
		if (ctr_check_device_cgroup_rule(val, err) < 0)
			return bad_value(err, f, val);
		append_str(hc, "DeviceCgroupRules", val);
		break;
	case O_GROUP_ADD: append_str(hc, "GroupAdd", val); break;
	case O_SECURITY_OPT: return add_security_opt(st, val, err);
	case O_PID: return set_ns_mode(hc, "PidMode", f, val, err);
	case O_IPC: return set_ns_mode(hc, "IpcMode", f, val, err);
	case O_UTS: return set_ns_mode(hc, "UTSMode", f, val, err);
	case O_CGROUPNS: return set_ns_mode(hc, "CgroupnsMode", f, val, err);
	case O_USERNS: return set_ns_mode(hc, "UsernsMode", f, val, err);
	case O_CGROUP_PARENT: set_str(hc, "CgroupParent", val); break;
	case O_SYSCTL:
		if (ctr_check_sysctl(val, err) < 0)
			return bad_value(err, f, val);
		kv_set(map(hc, "Sysctls"), val);
		break;
	case O_LOG_DRIVER: set_str(json_object_get(hc, "LogConfig"), "Type", val); break;
	case O_LOG_OPT: kv_set(map(json_object_get(hc, "LogConfig"), "Config"), val); break;
	case O_STOP_SIGNAL: set_str(cfg, "StopSignal", val); break;
	case O_STOP_TIMEOUT: return set_int_flag(cfg, "StopTimeout", f, val, 64, false, NULL, err);
	case O_NETWORK: {
		_cleanup_free_ char *name = NULL;
		json_t *ep = NULL;
		if (ctr_parse_network(val, &name, &ep, err) < 0)
			return bad_value(err, f, val);
		json_t *eps = json_object_get(r->networking, "EndpointsConfig");
		if (json_object_get(eps, name)) {
			json_decref(ep);
			return berth_error(err, 0, "network \"%s\" is specified multiple times",
					   name);
		}
		json_object_set_new(eps, name, ep);
		json_array_append_new(st->networks, json_string(name));
		break;
	}
	case O_NETWORK_ALIAS: json_array_append_new(st->aliases, json_string(val)); break;
	case O_IP:
		if (!ctr_is_ip(val, AF_INET))
			return berth_error(err, 0, "invalid IPv4 address: %s", val);
		free(st->ip);
		st->ip = xstrdup(val);
		break;
	case O_IP6:
		if (!ctr_is_ip(val, AF_INET6))
			return berth_error(err, 0, "invalid IPv6 address: %s", val);
		free(st->ip6);
		st->ip6 = xstrdup(val);
		break;
	case O_MAC_ADDRESS:
		if (!ctr_mac_valid(val))
			return berth_error(err, 0, "%s is not a valid mac address", val);
		free(st->mac);
		st->mac = xstrdup(val);
		break;
	case O_PUBLISH:
		if (ctr_parse_publish(val, map(hc, "PortBindings"), map(cfg, "ExposedPorts"), err) <
		    0)
			return -EINVAL;
		break;
	case O_EXPOSE:
		if (ctr_parse_expose(val, map(cfg, "ExposedPorts"), err) < 0)
			return -EINVAL;
		break;
	case O_PLATFORM:
		free(r->platform);
		r->platform = xstrdup(val);
		break;
	case O_PULL:
		if (strcmp(val, "always") && strcmp(val, "missing") && strcmp(val, "never"))
			return berth_error(err, 0,
					   "invalid pull option: '%s': must be one of \"always\", "
					   "\"missing\" or \"never\"",
					   val);
		free(r->pull);
		r->pull = xstrdup(val);
		break;
	case O_DETACH_KEYS:
		free(r->detach_keys);
		r->detach_keys = xstrdup(val);
		break;
	case O_CIDFILE:
		free(r->cidfile);
		r->cidfile = xstrdup(val);
		set_str(hc, "ContainerIDFile", val);
		break;
	case O_ISOLATION: set_str(hc, "Isolation", val); break;
	/* sent as docker does; which runtime runs the container is the engine's call */
	case O_RUNTIME: set_str(hc, "Runtime", val); break;
	case O_ATTACH: return parse_attach(st, val, err);
	case O_VOLUME_DRIVER: set_str(hc, "VolumeDriver", val); break;
	case O_LINK:
		if (!val[0] || val[0] == ':') {
			berth_error(err, 0, "bad format for links: %s", val);
			return bad_value(err, f, val);
		}
		append_str(hc, "Links", val);
		break;
	case O_LINK_LOCAL_IP:
		if (!ctr_is_ip(val, 0))
			return berth_error(err, 0, "invalid link-local IP address: %s", val);
		json_array_append_new(st->link_local_ips, json_string(val));
		break;
	case O_STORAGE_OPT:
		if (!strchr(val, '=') || val[0] == '=')
			return berth_error(err, 0, "invalid storage option");
		kv_set(map(hc, "StorageOpt"), val);
		break;
	case O_ANNOTATION:
		if (!strchr(val, '=') || val[0] == '=') {
			berth_error(err, 0, "invalid key value pair format in annotation: %s", val);
			return bad_value(err, f, val);
		}
		kv_set(map(hc, "Annotations"), val);
		break;
	case O_CPU_RT_PERIOD:
		return set_int_flag(hc, "CpuRealtimePeriod", f, val, 64, false, NULL, err);
	case O_CPU_RT_RUNTIME:
		return set_int_flag(hc, "CpuRealtimeRuntime", f, val, 64, false, NULL, err);
	case O_BLKIO_WEIGHT_DEVICE:
		return add_throttle(hc, "BlkioWeightDevice", f, val, CTR_THROTTLE_WEIGHT, err);
	case O_DEVICE_READ_BPS:
		return add_throttle(hc, "BlkioDeviceReadBps", f, val, CTR_THROTTLE_RATE, err);
	case O_DEVICE_WRITE_BPS:
		return add_throttle(hc, "BlkioDeviceWriteBps", f, val, CTR_THROTTLE_RATE, err);
	case O_DEVICE_READ_IOPS:
		return add_throttle(hc, "BlkioDeviceReadIOps", f, val, CTR_THROTTLE_IOPS, err);
	case O_DEVICE_WRITE_IOPS:
		return add_throttle(hc, "BlkioDeviceWriteIOps", f, val, CTR_THROTTLE_IOPS, err);
	case O_DISABLE_CONTENT_TRUST: break;
	}
	return 0;
}

/* Env files first, then -e (docker's order); label files, then -l. */
static int settle_env_labels(struct state *st, berth_err *err)
{
	json_t *v;
	size_t i;
	_cleanup_json_ json_t *env = json_array(), *labels = json_array();
	json_array_foreach (st->env_files, i, v)
		if (ctr_read_kv_file(json_string_value(v), true, env, err) < 0)
			return -EINVAL;
	json_array_extend(env, st->env);
	json_object_set(st->r->config, "Env", env);
	json_array_foreach (st->label_files, i, v)
		if (ctr_read_kv_file(json_string_value(v), false, labels, err) < 0)
			return -EINVAL;
	json_array_extend(labels, st->labels);
	json_t *lo = json_object_get(st->r->config, "Labels");
	json_array_foreach (labels, i, v)
		kv_set(lo, json_string_value(v));
	return 0;
}

static int settle_health(struct state *st, berth_err *err)
{
	if (st->no_healthcheck) {
		if (st->health_given)
			return berth_error(err, 0,
					   "--no-healthcheck conflicts with --health-* options");
		json_object_set_new(st->r->config, "Healthcheck",
				    json_pack("{s:[s]}", "Test", "NONE"));
	} else if (st->health_given) {
		json_object_set(st->r->config, "Healthcheck", st->health);
	}
	return 0;
}

/* The first network is the NetworkMode; --ip, --network-alias... go to its
 * endpoint ("default" when no --network), unless it sets its own. */
static int settle_networks(struct state *st, berth_err *err)
{
	json_t *eps = json_object_get(st->r->networking, "EndpointsConfig");
	const char *first = "default";
	if (json_array_size(st->networks) > 0)
		first = json_string_value(json_array_get(st->networks, 0));
	set_str(st->r->host_config, "NetworkMode", first);
	if (!json_array_size(st->aliases) && !st->ip && !st->ip6 && !st->mac &&
	    !json_array_size(st->link_local_ips))
		return 0;
	json_t *ep = map(eps, first);
	if (json_array_size(st->aliases)) {
		if (json_object_get(ep, "Aliases"))
			return berth_error(err, 0,
					   "conflicting options: cannot specify both "
					   "--network-alias and per-network alias");
		json_object_set(ep, "Aliases", st->aliases);
	}
	json_t *ipam = json_object_get(ep, "IPAMConfig");
	if (st->ip && json_object_get(ipam, "IPv4Address"))
		return berth_error(err, 0,
				   "conflicting options: cannot specify both --ip and "
				   "per-network IPv4 address");
	if (st->ip6 && json_object_get(ipam, "IPv6Address"))
		return berth_error(err, 0,
				   "conflicting options: cannot specify both --ip6 and "
				   "per-network IPv6 address");
	if (json_array_size(st->link_local_ips)) {
		if (json_object_get(ipam, "LinkLocalIPs"))
			return berth_error(
				err, 0,
				"conflicting options: cannot specify both "
				"--link-local-ip and per-network link-local IP addresses");
		json_object_set(map(ep, "IPAMConfig"), "LinkLocalIPs", st->link_local_ips);
	}
	if (st->ip)
		set_str(map(ep, "IPAMConfig"), "IPv4Address", st->ip);
	if (st->ip6)
		set_str(map(ep, "IPAMConfig"), "IPv6Address", st->ip6);
	if (st->mac) {
		if (json_object_get(ep, "MacAddress"))
			return berth_error(err, 0,
					   "conflicting options: cannot specify both "
					   "--mac-address and per-network MAC address");
		set_str(ep, "MacAddress", st->mac);
		/* the container-wide field, deprecated, still read by older engines */
		set_str(st->r->config, "MacAddress", st->mac);
	}
	return 0;
}

static void settle_attach(struct state *st)
{
	json_t *cfg = st->r->config;
	bool in = st->attach_in || st->interactive;
	bool out = st->attach_out, errs = st->attach_err;
	if (!st->attach_given)
		out = errs = true;
	if (st->r->detach)
		in = out = errs = false;
	json_object_set_new(cfg, "AttachStdin", json_boolean(in));
	json_object_set_new(cfg, "AttachStdout", json_boolean(out));
	json_object_set_new(cfg, "AttachStderr", json_boolean(errs));
	json_object_set_new(cfg, "Tty", json_boolean(st->tty));
	json_object_set_new(cfg, "OpenStdin", json_boolean(st->interactive));
	/* `docker run -i` closes stdin when the client detaches; `create` leaves that to start */
	bool once = in && st->interactive && strcmp(st->cmd, "run") == 0;
	json_object_set_new(cfg, "StdinOnce", json_boolean(once));
}

/* getopt_long takes unambiguous prefixes (--na for --name); docker does not. */
static bool exact_long_name(const char *token, const char *name)
{
	if (strncmp(token, "--", 2) != 0)
		return true;
	size_t n = strcspn(token + 2, "=");
	return strlen(name) == n && strncmp(token + 2, name, n) == 0;
}

static int unknown_flag(const char *token, int shortc, berth_err *err)
{
	if (strncmp(token, "--", 2) == 0) {
		size_t n = strcspn(token, "=");
		return berth_error(err, 0, "unknown flag: %.*s", (int)n, token);
	}
	return berth_error(err, 0, "unknown shorthand flag: '%c' in %s", shortc, token);
}

static void state_release(struct state *st)
{
	json_decref(st->env);
	json_decref(st->env_files);
	json_decref(st->labels);
	json_decref(st->label_files);
	json_decref(st->networks);
	json_decref(st->aliases);
	json_decref(st->link_local_ips);
	json_decref(st->security_opts);
	json_decref(st->health);
	free(st->ip);
	free(st->ip6);
	free(st->mac);
}

static int parse_flags(struct state *st, int argc, char **argv, berth_err *err)
{
	bool run = strcmp(st->cmd, "run") == 0;
	struct option longopts[ARRAY_SIZE(flags) + 1];
	_cleanup_strbuf_ struct strbuf shortopts = STRBUF_INIT;
	strbuf_addstr(&shortopts, "+:");
	size_t nl = 0;
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		const struct flag *f = &flags[i];
		if (f->run_only && !run)
			continue;
		longopts[nl++] = (struct option){ f->name, f->has_arg, NULL, f->id };
		if (f->id < 256 && !strchr(shortopts.buf, f->id)) {
			strbuf_addch(&shortopts, (char)f->id);
			if (f->has_arg == ARG)
				strbuf_addch(&shortopts, ':');
		}
	}
	longopts[nl] = (struct option){ 0 };

	opterr = 0;
	optind = 0; /* GNU: start afresh, so the parser can run more than once */
	for (;;) {
		int before = optind ? optind : 1;
		int longidx = -1;
		int c = getopt_long(argc, argv, shortopts.buf, longopts, &longidx);
		if (c == -1)
			break;
		const char *token = argv[before < argc ? before : argc - 1];
		if (c == '?')
			return unknown_flag(token, optopt, err);
		if (c == ':') {
			if (strncmp(token, "--", 2) == 0)
				return berth_error(err, 0, "flag needs an argument: %s", token);
			return berth_error(err, 0, "flag needs an argument: '%c' in %s", optopt,
					   token);
		}
		if (longidx >= 0 && !exact_long_name(token, longopts[longidx].name))
			return unknown_flag(token, 0, err);
		const struct flag *f = NULL;
		if (longidx >= 0) {
			for (size_t i = 0; i < ARRAY_SIZE(flags) && !f; i++)
				if (strcmp(flags[i].name, longopts[longidx].name) == 0)
					f = &flags[i];
		} else {
			f = flag_by_id(c);
		}
		if (!f)
			return unknown_flag(token, c, err);
		if (apply_flag(st, f, optarg, err) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_request(struct state *st, int argc, char **argv, berth_err *err)
{
	struct create_request *r = st->r;
	for (int i = 1; i < argc; i++) {
		json_t *s = json_string(argv[i]);
		if (!s)
			return berth_error(err, 0, "argument \"%s\" is not valid UTF-8", argv[i]);
		json_decref(s);
	}
	if (parse_flags(st, argc, argv, err) < 0)
		return -EINVAL;
	if (optind >= argc)
		return berth_error(err, 0, "\"berth %s\" requires at least 1 argument.", st->cmd);
	r->image = xstrdup(argv[optind]);
	set_str(r->config, "Image", r->image);
	if (optind + 1 < argc) {
		json_t *cmd = json_array();
		for (int i = optind + 1; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(r->config, "Cmd", cmd);
	}

	if (r->detach && st->attach_given)
		return berth_error(err, 0, "Conflicting options: -a and -d");
	if (st->rm && st->restart_given)
		return berth_error(err, 0, "Conflicting options: --restart and --rm");
	json_object_set_new(r->host_config, "AutoRemove", json_boolean(st->rm));
	if (json_array_size(st->security_opts))
		json_object_set(r->host_config, "SecurityOpt", st->security_opts);
	if (settle_env_labels(st, err) < 0 || settle_health(st, err) < 0 ||
	    settle_networks(st, err) < 0)
		return -EINVAL;
	settle_attach(st);
	return 0;
}

int ctr_opts_parse(int argc, char **argv, struct create_request *out, berth_err *err)
{
	*out = (struct create_request){ 0 };
	struct state st = {
		.r = out,
		.cmd = argc > 0 ? argv[0] : "run",
		.env = json_array(),
		.env_files = json_array(),
		.labels = json_array(),
		.label_files = json_array(),
		.networks = json_array(),
		.aliases = json_array(),
		.link_local_ips = json_array(),
		.security_opts = json_array(),
		.health = json_object(),
	};
	set_defaults(out);
	int r = parse_request(&st, argc, argv, err);
	state_release(&st);
	if (r < 0)
		create_request_free(out);
	return r;
}

void create_request_free(struct create_request *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->image);
	json_decref(r->config);
	json_decref(r->host_config);
	json_decref(r->networking);
	free(r->platform);
	free(r->pull);
	free(r->detach_keys);
	free(r->cidfile);
	*r = (struct create_request){ 0 };
}
