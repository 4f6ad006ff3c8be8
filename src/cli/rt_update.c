/* rt_update.c - `update`: new resource limits for a running container, from
 * runc's flags or a linux.resources JSON object (-r FILE, "-" for stdin, which
 * is what containerd sends). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runtime.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "oci/container.h"

/* "512m", "1g", "-1" -> bytes; runc accepts the same suffixes as docker. */
static int parse_bytes(const char *s, json_int_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	long long mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1LL << 10; end++; break;
	case 'm': case 'M': mult = 1LL << 20; end++; break;
	case 'g': case 'G': mult = 1LL << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = (json_int_t)(v * mult);
	return 0;
}

static json_t *sub(json_t *res, const char *key)
{
	json_t *o = json_object_get(res, key);
	if (!o)
		json_object_set_new(res, key, o = json_object());
	return o;
}

int cmd_update(int argc, char **argv)
{
	enum { O_MEM = 1, O_SWAP, O_RES, O_KMEM, O_KTCP, O_SHARES, O_QUOTA, O_PERIOD, O_RTP, O_RTR,
	       O_CPUS, O_MEMS, O_PIDS, O_BLKIO, O_RESOURCES };
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, O_MEM },
		{ "memory-swap", required_argument, NULL, O_SWAP },
		{ "memory-reservation", required_argument, NULL, O_RES },
		{ "kernel-memory", required_argument, NULL, O_KMEM },
		{ "kernel-memory-tcp", required_argument, NULL, O_KTCP },
		{ "cpu-shares", required_argument, NULL, O_SHARES },
		{ "cpu-quota", required_argument, NULL, O_QUOTA },
		{ "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-rt-period", required_argument, NULL, O_RTP },
		{ "cpu-rt-runtime", required_argument, NULL, O_RTR },
		{ "cpuset-cpus", required_argument, NULL, O_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_MEMS },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "blkio-weight", required_argument, NULL, O_BLKIO },
		{ "resources", required_argument, NULL, O_RESOURCES },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *res = json_object();
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	int c;
	while ((c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
		json_int_t v = 0;
		if (c == 'r')
			c = O_RESOURCES;
		if (c == O_RESOURCES) {
			json_error_t jerr;
			json_t *j = strcmp(optarg, "-") == 0 ? json_loadf(stdin, 0, &jerr)
							     : json_load_file(optarg, 0, &jerr);
			if (!j || !json_is_object(j)) {
				json_decref(j);
				return rt_usage_error(argv[0], "--resources %s: not a JSON object: %s", optarg, jerr.text);
			}
			json_object_update_recursive(res, j);
			json_decref(j);
			continue;
		}
		if (c == O_CPUS || c == O_MEMS) {
			json_object_set_new(sub(res, "cpu"), c == O_CPUS ? "cpus" : "mems", json_string(optarg));
			continue;
		}
		if (c == '?' || c == ':' || parse_bytes(optarg, &v) < 0)
			return rt_usage_error(argv[0], "bad value for \"%s\"", argv[optind - 1]);
		switch (c) {
		case O_MEM: json_object_set_new(sub(res, "memory"), "limit", json_integer(v)); break;
		case O_SWAP: json_object_set_new(sub(res, "memory"), "swap", json_integer(v)); break;
		case O_RES: json_object_set_new(sub(res, "memory"), "reservation", json_integer(v)); break;
		case O_KMEM: json_object_set_new(sub(res, "memory"), "kernel", json_integer(v)); break;
		case O_KTCP: json_object_set_new(sub(res, "memory"), "kernelTCP", json_integer(v)); break;
		case O_SHARES: json_object_set_new(sub(res, "cpu"), "shares", json_integer(v)); break;
		case O_QUOTA: json_object_set_new(sub(res, "cpu"), "quota", json_integer(v)); break;
		case O_PERIOD: json_object_set_new(sub(res, "cpu"), "period", json_integer(v)); break;
		case O_RTP: json_object_set_new(sub(res, "cpu"), "realtimePeriod", json_integer(v)); break;
		case O_RTR: json_object_set_new(sub(res, "cpu"), "realtimeRuntime", json_integer(v)); break;
		case O_PIDS: json_object_set_new(sub(res, "pids"), "limit", json_integer(v)); break;
		case O_BLKIO: json_object_set_new(sub(res, "blockIO"), "weight", json_integer(v)); break;
		}
	}
	const char *id = rt_need_id(argv[0], argc, argv, optind);
	if (!id)
		return 1;
	return container_update(rt.root, id, res, &err) < 0 ? rt_fail(&err) : 0;
}
