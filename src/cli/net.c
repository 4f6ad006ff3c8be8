/* net.c - `berth network create|ls|inspect|rm|prune`, as the docker CLI.
 * (connect and disconnect belong with the container's start path.) */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/berth.h"
#include "cli/format.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/ipam.h"
#include "engine/network.h"

/* "k=v" (or "k", an empty value) into an object; false when the key is empty. */
static bool set_pair(json_t *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *key = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
	if (!key[0])
		return false;
	json_object_set_new(o, key, json_string(eq ? eq + 1 : ""));
	return true;
}

/* The IPAM config entry whose subnet holds addr (a range: its network address);
 * NULL when none does or the text is no address. */
static json_t *entry_for(json_t *config, const char *addr)
{
	struct ipam_cidr c;
	int fam;
	ipam_addr a;
	if (ipam_cidr_parse(addr, &c) == 0) {
		fam = c.family;
		a = c.net;
	} else if (ipam_addr_parse(addr, &fam, &a) < 0) {
		return NULL;
	}
	size_t i;
	json_t *e;
	json_array_foreach (config, i, e) {
		struct ipam_cidr s;
		if (ipam_cidr_parse(json_string_value(json_object_get(e, "Subnet")), &s) == 0 &&
		    ipam_cidr_contains(&s, fam, a))
			return e;
	}
	return NULL;
}

/* Docker's CLI: each --gateway and --ip-range goes with the --subnet that holds it. */
static int ipam_config(char **subnets, char **gateways, char **ranges, json_t **out, berth_err *err)
{
	_cleanup_json_ json_t *config = json_array();
	if (!subnets && (gateways || ranges))
		return berth_error_code(
			err, EINVAL, "every ip-range or gateway must have a corresponding subnet");
	for (size_t i = 0; subnets && subnets[i]; i++)
		json_array_append_new(config, json_pack("{s:s}", "Subnet", subnets[i]));
	for (size_t i = 0; ranges && ranges[i]; i++) {
		json_t *e = entry_for(config, ranges[i]);
		if (!e)
			return berth_error_code(err, EINVAL, "no matching subnet for range %s",
						ranges[i]);
		if (json_object_get(e, "IPRange"))
			return berth_error_code(err, EINVAL,
						"cannot configure multiple ranges (%s) on the same "
						"subnet",
						ranges[i]);
		json_object_set_new(e, "IPRange", json_string(ranges[i]));
	}
	for (size_t i = 0; gateways && gateways[i]; i++) {
		json_t *e = entry_for(config, gateways[i]);
		if (!e)
			return berth_error_code(err, EINVAL, "no matching subnet for gateway %s",
						gateways[i]);
		if (json_object_get(e, "Gateway"))
			return berth_error_code(
				err, EINVAL,
				"cannot configure multiple gateways (%s) for the same "
				"subnet",
				gateways[i]);
		json_object_set_new(e, "Gateway", json_string(gateways[i]));
	}
	*out = TAKE_PTR(config);
	return 0;
}

int cmd_network_create(int argc, char **argv)
{
	enum { SUBNET = 1000, GATEWAY, IP_RANGE, INTERNAL, IPV6, LABEL, ATTACHABLE, IPAM_DRIVER };
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "subnet", required_argument, NULL, SUBNET },
		{ "gateway", required_argument, NULL, GATEWAY },
		{ "ip-range", required_argument, NULL, IP_RANGE },
		{ "internal", no_argument, NULL, INTERNAL },
		{ "ipv6", no_argument, NULL, IPV6 },
		{ "label", required_argument, NULL, LABEL },
		{ "opt", required_argument, NULL, 'o' },
		{ "attachable", no_argument, NULL, ATTACHABLE },
		{ "ipam-driver", required_argument, NULL, IPAM_DRIVER },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *labels = json_object();
	_cleanup_json_ json_t *options = json_object();
	_cleanup_strv_ char **subnets = NULL, **gateways = NULL, **ranges = NULL;
	const char *driver = "bridge", *ipam_driver = "default";
	bool internal = false, ipv6 = false, attachable = false;
	int c;
	while ((c = getopt_long(argc, argv, "+d:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case SUBNET: strv_push(&subnets, optarg); break;
		case GATEWAY: strv_push(&gateways, optarg); break;
		case IP_RANGE: strv_push(&ranges, optarg); break;
		case INTERNAL: internal = true; break;
		case IPV6: ipv6 = true; break;
		case ATTACHABLE: attachable = true; break;
		case IPAM_DRIVER: ipam_driver = optarg; break;
		case LABEL:
			if (!set_pair(labels, optarg))
				return berth_usage_error(argv[0], "invalid label '%s'", optarg);
			break;
		case 'o':
			if (!strchr(optarg, '=') || !set_pair(options, optarg))
				return berth_usage_error(
					argv[0],
					"invalid argument \"%s\" for \"-o, --opt\" "
					"flag: invalid key value pair format",
					optarg);
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return berth_usage_error(argv[0], "\"create\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *config = NULL;
	if (ipam_config(subnets, gateways, ranges, &config, &err) < 0)
		return berth_fail(&err);
	_cleanup_json_ json_t *req = json_pack(
		"{s:s,s:s,s:b,s:b,s:b,s:O,s:O,s:{s:s,s:O}}", "Name", argv[optind], "Driver", driver,
		"Internal", internal, "EnableIPv6", ipv6, "Attachable", attachable, "Labels",
		labels, "Options", options, "IPAM", "Driver", ipam_driver, "Config", config);
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	if (!e || network_create(e, req, &id, &err) < 0)
		return berth_fail(&err);
	printf("%s\n", id);
	return 0;
}

/* ---- network ls ------------------------------------------------------------- */

static const char *const network_headers[] = { "ID", "NETWORK ID", "CreatedAt", "CREATED AT",
					       NULL };

struct network_filters {
	char **names, **ids, **drivers, **labels, **types, **scopes;
	int dangling; /* -1 any, 1 only unused custom networks, 0 the others */
};

static void filters_release(struct network_filters *f)
{
	strv_free(f->names);
	strv_free(f->ids);
	strv_free(f->drivers);
	strv_free(f->labels);
	strv_free(f->types);
	strv_free(f->scopes);
}

static bool parse_filter(struct network_filters *f, const char *arg)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "name=", offsetof(struct network_filters, names) },
		{ "id=", offsetof(struct network_filters, ids) },
		{ "driver=", offsetof(struct network_filters, drivers) },
		{ "label=", offsetof(struct network_filters, labels) },
		{ "type=", offsetof(struct network_filters, types) },
		{ "scope=", offsetof(struct network_filters, scopes) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t n = strlen(keys[i].key);
		if (strncmp(arg, keys[i].key, n) == 0) {
			const char *v = arg + n;
			if (!strcmp(keys[i].key, "type=") && strcmp(v, "custom") != 0 &&
			    strcmp(v, "builtin") != 0)
				return false;
			strv_push((char ***)((char *)f + keys[i].off), v);
			return true;
		}
	}
	if (strncmp(arg, "dangling=", 9) == 0) {
		const char *b = arg + 9;
		if (!strcmp(b, "true") || !strcmp(b, "1"))
			f->dangling = 1;
		else if (!strcmp(b, "false") || !strcmp(b, "0"))
			f->dangling = 0;
		else
			return false;
		return true;
	}
	return false;
}

static bool label_match(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	_cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	json_t *val = json_is_object(labels) ? json_object_get(labels, key) : NULL;
	return val && (!eq || (json_is_string(val) && strcmp(json_string_value(val), eq + 1) == 0));
}

static bool builtin(json_t *net)
{
	/* Made before any other, so no custom network can have their names. */
	const char *name = json_string_value(json_object_get(net, "Name"));
	return name && (!strcmp(name, "bridge") || !strcmp(name, "host") || !strcmp(name, "none"));
}

/* Several values of one key are alternatives; the keys must all match
 * (labels: all of them). */
static bool wanted(const struct network_filters *f, json_t *net)
{
	const char *name = json_string_value(json_object_get(net, "Name"));
	const char *id = json_string_value(json_object_get(net, "Id"));
	const char *driver = json_string_value(json_object_get(net, "Driver"));
	bool ok = !f->names;
	for (size_t i = 0; f->names && f->names[i]; i++)
		ok |= strstr(name, f->names[i]) != NULL;
	if (!ok)
		return false;
	ok = !f->ids;
	for (size_t i = 0; f->ids && f->ids[i]; i++)
		ok |= strstr(id, f->ids[i]) != NULL; /* docker: anywhere in the id */
	if (!ok)
		return false;
	ok = !f->drivers;
	for (size_t i = 0; f->drivers && f->drivers[i]; i++)
		ok |= strcmp(driver, f->drivers[i]) == 0;
	if (!ok)
		return false;
	ok = !f->scopes;
	for (size_t i = 0; f->scopes && f->scopes[i]; i++)
		ok |= strcmp(f->scopes[i], "local") == 0;
	if (!ok)
		return false;
	bool is_builtin = builtin(net);
	ok = !f->types;
	for (size_t i = 0; f->types && f->types[i]; i++)
		ok |= is_builtin == (strcmp(f->types[i], "builtin") == 0);
	if (!ok)
		return false;
	for (size_t i = 0; f->labels && f->labels[i]; i++)
		if (!label_match(json_object_get(net, "Labels"), f->labels[i]))
			return false;
	if (f->dangling >= 0) {
		bool dangling =
			!is_builtin && json_object_size(json_object_get(net, "Containers")) == 0;
		if (dangling != (f->dangling == 1))
			return false;
	}
	return true;
}

/* Docker's CreatedAt in `network ls`: Go's time.Time String(). */
static char *created_at(const char *rfc3339)
{
	int y, mo, d, h, mi, s;
	char frac[16] = "";
	if (!rfc3339 ||
	    sscanf(rfc3339, "%d-%d-%dT%d:%d:%d.%9[0-9]", &y, &mo, &d, &h, &mi, &s, frac) < 6)
		return xstrdup(rfc3339 ? rfc3339 : "");
	return xasprintf("%04d-%02d-%02d %02d:%02d:%02d%s%s +0000 UTC", y, mo, d, h, mi, s,
			 frac[0] ? "." : "", frac);
}

/* The row `network ls` templates see. */
static json_t *ls_row(json_t *net, bool no_trunc)
{
	const char *id = json_string_value(json_object_get(net, "Id"));
	json_t *row = json_object();
	json_object_set_new(row, "ID", no_trunc ? json_string(id) : json_stringn(id, 12));
	json_object_set(row, "Name", json_object_get(net, "Name"));
	json_object_set(row, "Driver", json_object_get(net, "Driver"));
	json_object_set(row, "Scope", json_object_get(net, "Scope"));
	json_object_set_new(
		row, "IPv6",
		json_string(json_is_true(json_object_get(net, "EnableIPv6")) ? "true" : "false"));
	json_object_set_new(
		row, "Internal",
		json_string(json_is_true(json_object_get(net, "Internal")) ? "true" : "false"));
	struct strbuf sb = STRBUF_INIT;
	json_t *labels = json_object_get(net, "Labels");
	_cleanup_json_ json_t *sorted = json_is_object(labels) ? json_object_sorted(labels) : NULL;
	const char *k;
	json_t *val;
	size_t n = 0;
	if (sorted)
		json_object_foreach (sorted, k, val)
			strbuf_addf(&sb, "%s%s=%s", n++ ? "," : "", k,
				    json_is_string(val) ? json_string_value(val) : "");
	json_object_set_new(row, "Labels", json_string(sb.buf));
	strbuf_release(&sb);
	_cleanup_free_ char *created =
		created_at(json_string_value(json_object_get(net, "Created")));
	json_object_set_new(row, "CreatedAt", json_string(created));
	return row;
}

int cmd_network_ls(int argc, char **argv)
{
	enum { NO_TRUNC = 1000, FORMAT };
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, FORMAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, NO_TRUNC },
		{ NULL, 0, NULL, 0 },
	};
	__attribute__((cleanup(filters_release))) struct network_filters f = { .dangling = -1 };
	const char *format = NULL;
	bool quiet = false, no_trunc = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!parse_filter(&f, optarg))
				return berth_usage_error(
					argv[0],
					"invalid filter '%s' (name=, id=, driver=, "
					"label=, type=custom|builtin, dangling=, "
					"scope=)",
					optarg);
			break;
		case FORMAT: format = optarg; break;
		case 'q': quiet = true; break;
		case NO_TRUNC: no_trunc = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"ls\" accepts no arguments.");
	if (quiet)
		format = "{{.ID}}";
	else if (!format || strcmp(format, "table") == 0)
		format = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
	else if (strcmp(format, "json") == 0) /* docker: one JSON object a line */
		format = "{{json .}}";
	berth_err err = BERTH_ERR_INIT;
	struct fmt_template *t = NULL;
	if (fmt_compile(format, network_headers, &t, &err) < 0)
		return berth_fail(&err);
	struct engine *e = berth_engine(&err);
	_cleanup_json_ json_t *all = NULL;
	if (!e || network_list(e, &all, &err) < 0) {
		fmt_free(t);
		return berth_fail(&err);
	}
	_cleanup_json_ json_t *rows = json_array();
	size_t i;
	json_t *net;
	json_array_foreach (all, i, net)
		if (wanted(&f, net))
			json_array_append_new(rows, ls_row(net, no_trunc));
	int rc = fmt_print(t, rows, stdout, &err) < 0 ? berth_fail(&err) : 0;
	fmt_free(t);
	return rc;
}

/* ---- network inspect, rm ------------------------------------------------------ */

static json_t *network_inspect_one(const char *name, void *opaque, berth_err *err)
{
	_cleanup_free_ char *id = NULL;
	json_t *o = NULL;
	if (network_resolve(opaque, name, &id, err) < 0 ||
	    network_inspect_json(opaque, id, &o, err) < 0)
		return NULL;
	return o;
}

int cmd_network_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f:v", opts, NULL)) != -1) {
		if (c == 'v')
			continue; /* docker: details of swarm services; none here */
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		format = strcmp(optarg, "json") == 0 ? NULL : optarg;
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"inspect\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	int rc = fmt_inspect(format, argv + optind, argc - optind, network_inspect_one, e, &err);
	return rc < 0 ? berth_fail(&err) : rc;
}

int cmd_network_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		force = true;
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"rm\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *id = NULL;
		int r = network_resolve(e, argv[i], &id, &err);
		if (r == 0)
			r = network_remove(e, id, &err);
		if (r == -ENOENT && force) {
			berth_err_clear(&err);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "berth: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}

/* ---- network prune ------------------------------------------------------------ */

/* "Deleted Networks:" and their names. */
static int prune_networks_labeled(json_t *labels, berth_err *err)
{
	struct engine *e = berth_engine(err);
	_cleanup_strv_ char **removed = NULL;
	if (!e || network_prune(e, labels, &removed, err) < 0)
		return -EIO;
	if (removed && removed[0]) {
		printf("Deleted Networks:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("%s\n", removed[i]);
		printf("\n");
	}
	return 0;
}

int cmd_network_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	_cleanup_json_ json_t *labels = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'F':
			if (!labels)
				labels = json_array();
			if (strncmp(optarg, "label=", 6) == 0) {
				json_array_append_new(labels, json_string(optarg + 6));
			} else if (strncmp(optarg, "label!=", 7) == 0) {
				_cleanup_free_ char *neg = xasprintf("!%s", optarg + 7);
				json_array_append_new(labels, json_string(neg));
			} else {
				return berth_usage_error(
					argv[0], "invalid filter '%s' (label, label!=)", optarg);
			}
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"prune\" accepts no arguments.");
	if (!force) {
		printf("WARNING! This will remove all custom networks not used by at least one "
		       "container.\nAre you sure you want to continue? [y/N] ");
		fflush(stdout);
		char answer[16] = "";
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	berth_err err = BERTH_ERR_INIT;
	if (prune_networks_labeled(labels, &err) < 0)
		return berth_fail(&err);
	return 0;
}

int prune_networks(berth_err *err)
{
	return prune_networks_labeled(NULL, err);
}
