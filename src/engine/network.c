/* network.c - network records (see network.h): the module's schema, the
 * predefined networks, create with Docker's checks and its choice of a free
 * subnet, lookups, inspect, remove and prune. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/ipam.h"
#include "engine/engine.h"
#include "engine/network.h"
#include "image/db.h"

int (*network_teardown_hook)(struct engine *e, const char *id, const char *bridge,
			     berth_err *err) = ctr_net_teardown;

/* One row a network; leases are ipam.c's. A lease references its network,
 * so a network cannot go while a container holds an address on it. */
static const char *const schema_steps[] = {
	"CREATE TABLE networks(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
	"driver TEXT NOT NULL, bridge TEXT UNIQUE, subnet4 TEXT, gateway4 TEXT, ip_range4 TEXT, "
	"subnet6 TEXT, gateway6 TEXT, ip_range6 TEXT, internal INTEGER NOT NULL DEFAULT 0, "
	"ipv6 INTEGER NOT NULL DEFAULT 0, attachable INTEGER NOT NULL DEFAULT 0, "
	"predefined INTEGER NOT NULL DEFAULT 0, labels TEXT NOT NULL DEFAULT '{}', "
	"options TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);"
	"CREATE TABLE leases(network_id TEXT NOT NULL REFERENCES networks(id), "
	"address TEXT NOT NULL, family INTEGER NOT NULL, container_id TEXT NOT NULL, mac TEXT, "
	"endpoint_id TEXT NOT NULL, endpoint TEXT, static INTEGER NOT NULL DEFAULT 0, "
	"PRIMARY KEY(network_id, address), UNIQUE(network_id, container_id, family));"
	"CREATE INDEX leases_container ON leases(container_id);",
	NULL,
};

#define BRIDGE_NAME_OPT "com.docker.network.bridge.name"
#define DEFAULT_BRIDGE  "berth0"
#define IFNAMSIZ_MAX    15

int network_migrate(struct engine *e, berth_err *err)
{
	if (e->networks_migrated)
		return 0;
	int r = db_migrate(e->db, "networks", schema_steps, err);
	if (r < 0)
		return r;
	e->networks_migrated = true;
	return 0;
}

char *network_random_hex(size_t bytes)
{
	unsigned char buf[32];
	if (bytes > sizeof(buf))
		bytes = sizeof(buf);
	size_t got = 0;
	while (got < bytes) {
		ssize_t n = getrandom(buf + got, bytes - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort(); /* no entropy source at all: nothing sensible to do */
		got += (size_t)n;
	}
	char *out = xmalloc(bytes * 2 + 1);
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	return out;
}

static bool valid_name(const char *n)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	return n[0] && strchr(alnum, n[0]) &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       strlen(n);
}

/* What the kernel takes as an interface name. */
static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > IFNAMSIZ_MAX || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' ||
		    (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* ---- subnets in use ---------------------------------------------------------- */

struct cidr_list {
	size_t n;
	struct ipam_cidr *v;
};

static void cidr_add(struct cidr_list *l, const struct ipam_cidr *c)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = *c;
}

static bool cidr_list_overlaps(const struct cidr_list *l, const struct ipam_cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (ipam_cidr_overlap(&l->v[i], c))
			return true;
	return false;
}

/* The subnets of this database's networks. */
static int db_subnets(struct engine *e, struct cidr_list *out, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db, "SELECT subnet4, subnet6 FROM networks", &st, err);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int col = 0; col < 2; col++) {
			const char *s = (const char *)sqlite3_column_text(st, col);
			struct ipam_cidr c;
			if (s && ipam_cidr_parse(s, &c) == 0)
				cidr_add(out, &c);
		}
	if (rc != SQLITE_DONE)
		return db_fail(e->db, err, "list network subnets");
	return 0;
}

/* The host's IPv4 routes but the default one (/proc/net/route: destination
 * and mask are printed as the kernel's big-endian words read natively). */
static void host_routes4(struct cidr_list *out)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	bool header = true;
	while (getline(&line, &cap, f) > 0) {
		if (header) {
			header = false;
			continue;
		}
		char ifname[64];
		unsigned dest, gw, flags, mask;
		if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifname, &dest, &gw, &flags,
			   &mask) != 5 ||
		    mask == 0)
			continue;
		uint32_t m = ntohl(mask);
		struct ipam_cidr c = { .family = 4 };
		while (c.bits < 32 && (m & (0x80000000u >> c.bits)))
			c.bits++;
		c.net = c.addr = ntohl(dest) & m;
		cidr_add(out, &c);
	}
	free(line);
}

/* Docker's default pools: the /16s of 172.17-31 (172.17 is docker0's, left
 * to it so both engines can live on one host), then 192.168.0.0/16 in /20s. */
static int pick_subnet4(struct engine *e, struct ipam_cidr *out, berth_err *err)
{
	struct cidr_list used = { 0 };
	int r = db_subnets(e, &used, err);
	if (r < 0) {
		free(used.v);
		return r;
	}
	host_routes4(&used);
	struct ipam_cidr docker0 = { .family = 4, .bits = 16, .net = 0xac110000u };
	cidr_add(&used, &docker0);
	r = -ENOSPC;
	for (unsigned i = 0; i < 14 + 16 && r < 0; i++) {
		struct ipam_cidr c = { .family = 4 };
		if (i < 14) {
			c.bits = 16;
			c.net = 0xac120000u + ((ipam_addr)i << 16);
		} else {
			c.bits = 20;
			c.net = 0xc0a80000u + ((ipam_addr)(i - 14) << 12);
		}
		c.addr = c.net;
		if (!cidr_list_overlaps(&used, &c)) {
			*out = c;
			r = 0;
		}
	}
	free(used.v);
	if (r < 0)
		return berth_error_code(err, ENOSPC,
					"could not find an available, non-overlapping IPv4 address "
					"pool among the defaults to assign to the network");
	return 0;
}

/* ---- addresses of a new network ------------------------------------------------ */

/* One family's subnet, gateway and range, checked, in canonical text. */
struct net_family {
	char *subnet, *gateway, *ip_range;
};

static void net_family_free(struct net_family *f)
{
	free(f->subnet);
	free(f->gateway);
	free(f->ip_range);
}

static int parse_family(const char *subnet, const char *gateway, const char *ip_range,
			struct net_family *out, int *family, berth_err *err)
{
	struct ipam_cidr s;
	if (ipam_cidr_parse(subnet, &s) < 0)
		return berth_error_code(err, EINVAL, "invalid subnet %s: not an address/prefix",
					subnet);
	if (s.host_bits) {
		_cleanup_free_ char *want = ipam_cidr_format(&s);
		return berth_error_code(err, EINVAL, "invalid subnet %s: it should be %s", subnet,
					want);
	}
	if ((s.family == 4 && s.bits > 30) || (s.family == 6 && s.bits > 126))
		return berth_error_code(err, EINVAL, "invalid subnet %s: too small for containers",
					subnet);
	*family = s.family;
	out->subnet = ipam_cidr_format(&s);
	ipam_addr gw = s.net + 1;
	if (gateway && *gateway) {
		int fam;
		if (ipam_addr_parse(gateway, &fam, &gw) < 0)
			return berth_error_code(err, EINVAL, "invalid gateway %s: not an address",
						gateway);
		if (!ipam_cidr_contains(&s, fam, gw) || gw == s.net ||
		    (s.family == 4 && gw == ipam_cidr_last(&s)))
			return berth_error_code(
				err, EINVAL, "invalid gateway %s: not a host address of subnet %s",
				gateway, out->subnet);
	}
	out->gateway = ipam_addr_format(s.family, gw);
	if (ip_range && *ip_range) {
		struct ipam_cidr rg;
		if (ipam_cidr_parse(ip_range, &rg) < 0)
			return berth_error_code(err, EINVAL,
						"invalid ip-range %s: not an address/prefix",
						ip_range);
		if (rg.family != s.family || rg.bits < s.bits ||
		    !ipam_cidr_contains(&s, rg.family, rg.net))
			return berth_error_code(err, EINVAL,
						"invalid ip-range %s: not inside subnet %s",
						ip_range, out->subnet);
		out->ip_range = ipam_cidr_format(&rg);
	}
	return 0;
}

/* "172.18.0.1/16" (dockerd's --bip: the bridge's address) or a plain subnet. */
static int parse_bip(const char *bip, struct net_family *out, berth_err *err)
{
	struct ipam_cidr c;
	if (ipam_cidr_parse(bip, &c) < 0 || c.family != 4)
		return berth_error_code(err, EINVAL, "invalid --bip %s: not an IPv4 address/prefix",
					bip);
	struct ipam_cidr net = c;
	net.addr = net.net;
	net.host_bits = false;
	_cleanup_free_ char *subnet = ipam_cidr_format(&net);
	_cleanup_free_ char *gw = c.host_bits ? ipam_addr_format(4, c.addr) : NULL;
	int fam, r = parse_family(subnet, gw, NULL, out, &fam, err);
	return r < 0 ? berth_error_wrap(err, "--bip %s", bip) : 0;
}

static int check_strings(json_t *o, const char *what, berth_err *err)
{
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return berth_error_code(err, EINVAL, "%s must be an object", what);
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v)
		if (!json_is_string(v))
			return berth_error_code(err, EINVAL, "%s: the value of %s must be a string",
						what, k);
	return 0;
}

/* ---- the rows ----------------------------------------------------------------- */

struct new_row {
	const char *id, *name, *driver, *bridge;
	struct net_family f4, f6;
	bool internal, ipv6, attachable, predefined;
	const char *labels, *options;
};

static int insert_row(struct engine *e, const struct new_row *n, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db,
			   "INSERT INTO networks(id, name, driver, bridge, subnet4, gateway4, "
			   "ip_range4, subnet6, gateway6, ip_range6, internal, ipv6, attachable, "
			   "predefined, labels, options, created) "
			   "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			   &st, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *now = engine_now_rfc3339();
	const char *text[] = { n->id,         n->name,       n->driver,      n->bridge,
			       n->f4.subnet,  n->f4.gateway, n->f4.ip_range, n->f6.subnet,
			       n->f6.gateway, n->f6.ip_range };
	for (int i = 0; i < (int)ARRAY_SIZE(text); i++)
		sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, n->internal);
	sqlite3_bind_int(st, 12, n->ipv6);
	sqlite3_bind_int(st, 13, n->attachable);
	sqlite3_bind_int(st, 14, n->predefined);
	sqlite3_bind_text(st, 15, n->labels ? n->labels : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, n->options ? n->options : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "record network");
	return 0;
}

/* 1 when a row matches the query with one text parameter, 0 when none. */
static int exists(struct engine *e, const char *sql, const char *arg, char **first, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db, sql, &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (first)
			*first = db_text(st, 0);
		return 1;
	}
	if (rc != SQLITE_DONE)
		return db_fail(e->db, err, "look up network");
	return 0;
}

static int add_predefined(struct engine *e, berth_err *err)
{
	static const char *const names[] = { "bridge", "host", "none" };
	static const char *const drivers[] = { "bridge", "host", "null" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int r = exists(e, "SELECT id FROM networks WHERE name = ?", names[i], NULL, err);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		_cleanup_free_ char *id = network_random_hex(32);
		struct new_row n = {
			.id = id, .name = names[i], .driver = drivers[i], .predefined = true
		};
		_cleanup_json_ json_t *opts = json_object();
		_cleanup_free_ char *opts_s = NULL;
		if (i == 0) {
			n.bridge = e->default_bridge ? e->default_bridge : DEFAULT_BRIDGE;
			if (!valid_ifname(n.bridge))
				return berth_error_code(
					err, EINVAL,
					"invalid --bridge %s: not an interface name "
					"(at most %d characters, no '/', ':' or spaces)",
					n.bridge, IFNAMSIZ_MAX);
			if (e->default_bip) {
				r = parse_bip(e->default_bip, &n.f4, err);
			} else {
				struct ipam_cidr c;
				_cleanup_free_ char *s = NULL;
				if ((r = pick_subnet4(e, &c, err)) == 0) {
					s = ipam_cidr_format(&c);
					int fam;
					r = parse_family(s, NULL, NULL, &n.f4, &fam, err);
				}
			}
			if (r < 0) {
				net_family_free(&n.f4);
				return r;
			}
			json_object_set_new(opts, "com.docker.network.bridge.default_bridge",
					    json_string("true"));
			json_object_set_new(opts, BRIDGE_NAME_OPT, json_string(n.bridge));
			opts_s = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
			n.options = opts_s;
		}
		r = insert_row(e, &n, err);
		net_family_free(&n.f4);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The predefined networks exist: a read first, the write lock only when one
 * is missing (the first use of a root), checked again under it. */
static int ensure_defaults(struct engine *e, berth_err *err)
{
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, "SELECT count(*) FROM networks WHERE predefined = 1", &st,
			    err)) < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_fail(e->db, err, "look up networks");
	if (sqlite3_column_int(st, 0) >= 3)
		return 0;
	sqlite3_finalize(TAKE_PTR(st));
	if ((r = db_begin(e->db, err)) < 0)
		return r;
	if ((r = add_predefined(e, err)) < 0) {
		db_rollback(e->db);
		return berth_error_wrap(err, "create the predefined networks");
	}
	return db_commit(e->db, err);
}

int network_default_id(struct engine *e, char **id, berth_err *err)
{
	int r = ensure_defaults(e, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *found = NULL;
	r = exists(e, "SELECT id FROM networks WHERE name = ? AND predefined = 1", "bridge", &found,
		   err);
	if (r < 0)
		return r;
	if (r == 0)
		return berth_error_code(err, ENOENT, "network bridge not found");
	*id = TAKE_PTR(found);
	return 0;
}

/* ---- create --------------------------------------------------------------------- */

struct create_req {
	const char *name, *driver;
	const char *subnet[2], *gateway[2], *ip_range[2]; /* [0] IPv4, [1] IPv6 */
	bool internal, ipv6, attachable;
	json_t *labels, *options;
};

static const char *str_member(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int parse_ipam(json_t *ipam, struct create_req *q, berth_err *err)
{
	if (!ipam || json_is_null(ipam))
		return 0;
	const char *driver = str_member(ipam, "Driver");
	if (driver && *driver && strcmp(driver, "default") != 0)
		return berth_error_code(
			err, ENOTSUP, "IPAM driver \"%s\": berth has only the default one", driver);
	json_t *config = json_object_get(ipam, "Config");
	size_t i;
	json_t *c;
	json_array_foreach (config, i, c) {
		const char *subnet = str_member(c, "Subnet");
		const char *gateway = str_member(c, "Gateway");
		const char *range = str_member(c, "IPRange");
		json_t *aux = json_object_get(c, "AuxiliaryAddresses");
		if (json_object_size(aux) > 0)
			return berth_error_code(err, ENOTSUP,
						"auxiliary addresses are not supported by berth");
		if (!subnet || !*subnet) {
			if ((gateway && *gateway) || (range && *range))
				return berth_error_code(err, EINVAL,
							"every ip-range or gateway must have a "
							"corresponding subnet");
			continue;
		}
		int fam = strchr(subnet, ':') ? 1 : 0;
		if (q->subnet[fam])
			return berth_error_code(err, ENOTSUP,
						"subnet %s: berth takes one IPv%d subnet a network",
						subnet, fam ? 6 : 4);
		q->subnet[fam] = subnet;
		q->gateway[fam] = gateway;
		q->ip_range[fam] = range;
	}
	return 0;
}

static int parse_req(json_t *req, struct create_req *q, berth_err *err)
{
	if (!json_is_object(req))
		return berth_error_code(err, EINVAL,
					"network create: the request is not an object");
	q->name = str_member(req, "Name");
	if (!q->name || !*q->name)
		return berth_error_code(err, EINVAL, "network create: a name is required");
	if (!valid_name(q->name))
		return berth_error_code(
			err, EINVAL,
			"invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
			"are allowed",
			q->name);
	q->driver = str_member(req, "Driver");
	if (!q->driver || !*q->driver)
		q->driver = "bridge";
	if (!strcmp(q->driver, "host") || !strcmp(q->driver, "null"))
		return berth_error_code(
			err, EPERM, "only one instance of \"%s\" network is allowed", q->driver);
	if (strcmp(q->driver, "bridge") != 0)
		return berth_error_code(err, ENOENT,
					"plugin \"%s\" not found: berth has only the bridge "
					"network driver",
					q->driver);
	q->internal = json_is_true(json_object_get(req, "Internal"));
	q->ipv6 = json_is_true(json_object_get(req, "EnableIPv6"));
	q->attachable = json_is_true(json_object_get(req, "Attachable"));
	q->labels = json_object_get(req, "Labels");
	q->options = json_object_get(req, "Options");
	int r;
	if ((r = check_strings(q->labels, "Labels", err)) < 0 ||
	    (r = check_strings(q->options, "Options", err)) < 0 ||
	    (r = parse_ipam(json_object_get(req, "IPAM"), q, err)) < 0)
		return r;
	if (q->ipv6 && !q->subnet[1])
		return berth_error_code(err, EINVAL,
					"network %s: IPv6 needs an IPv6 --subnet (berth does not "
					"choose IPv6 subnets)",
					q->name);
	if (q->subnet[1])
		q->ipv6 = true;
	return 0;
}

/* Under the write lock: the name, the bridge device and the subnets are free. */
static int create_locked(struct engine *e, struct new_row *n, bool auto4, berth_err *err)
{
	int r = exists(e, "SELECT id FROM networks WHERE name = ?", n->name, NULL, err);
	if (r < 0)
		return r;
	if (r == 1)
		return berth_error_code(err, EEXIST, "network with name %s already exists",
					n->name);
	_cleanup_free_ char *other = NULL;
	if ((r = exists(e, "SELECT name FROM networks WHERE bridge = ?", n->bridge, &other, err)) <
	    0)
		return r;
	if (r == 1)
		return berth_error_code(err, EEXIST,
					"cannot create network %s (%s): conflicts with network %s "
					"(%s): networks have same bridge name",
					n->name, n->bridge, other, n->bridge);
	struct cidr_list used = { 0 };
	if ((r = db_subnets(e, &used, err)) < 0) {
		free(used.v);
		return r;
	}
	const char *mine[] = { n->f4.subnet, n->f6.subnet };
	for (size_t i = 0; i < 2 && r == 0; i++) {
		struct ipam_cidr c;
		if (mine[i] && ipam_cidr_parse(mine[i], &c) == 0 && cidr_list_overlaps(&used, &c))
			r = berth_error_code(
				err, EEXIST,
				"Pool overlaps with other one on this address space: %s", mine[i]);
	}
	free(used.v);
	if (r < 0)
		return r;
	if (auto4) {
		struct ipam_cidr c;
		if ((r = pick_subnet4(e, &c, err)) < 0)
			return r;
		_cleanup_free_ char *s = ipam_cidr_format(&c);
		int fam;
		if ((r = parse_family(s, NULL, NULL, &n->f4, &fam, err)) < 0)
			return r;
	}
	return insert_row(e, n, err);
}

int network_create(struct engine *e, json_t *req, char **id, berth_err *err)
{
	struct create_req q = { 0 };
	int r = parse_req(req, &q, err);
	if (r < 0)
		return r;
	if ((r = ensure_defaults(e, err)) < 0)
		return r;
	_cleanup_free_ char *new_id = network_random_hex(32);
	_cleanup_free_ char *bridge = NULL;
	const char *want_bridge = q.options ? str_member(q.options, BRIDGE_NAME_OPT) : NULL;
	if (want_bridge) {
		if (!valid_ifname(want_bridge))
			return berth_error_code(err, EINVAL,
						"invalid %s \"%s\": an interface name has at most "
						"%d characters, no '/', ':' or spaces",
						BRIDGE_NAME_OPT, want_bridge, IFNAMSIZ_MAX);
		bridge = xstrdup(want_bridge);
	} else {
		bridge = xasprintf("br-%.12s", new_id);
	}
	struct new_row n = { .id = new_id,
			     .name = q.name,
			     .driver = q.driver,
			     .bridge = bridge,
			     .internal = q.internal,
			     .ipv6 = q.ipv6,
			     .attachable = q.attachable };
	int fam;
	for (int i = 0; i < 2 && r == 0; i++) {
		if (!q.subnet[i])
			continue;
		struct net_family *f = i ? &n.f6 : &n.f4;
		if ((r = parse_family(q.subnet[i], q.gateway[i], q.ip_range[i], f, &fam, err)) ==
			    0 &&
		    fam != (i ? 6 : 4))
			r = berth_error_code(err, EINVAL, "invalid subnet %s", q.subnet[i]);
	}
	_cleanup_free_ char *labels = json_is_object(q.labels)
					      ? json_dumps(q.labels, JSON_COMPACT | JSON_SORT_KEYS)
					      : NULL;
	_cleanup_free_ char *options =
		json_is_object(q.options) ? json_dumps(q.options, JSON_COMPACT | JSON_SORT_KEYS)
					  : NULL;
	n.labels = labels;
	n.options = options;
	if (r == 0 && (r = db_begin(e->db, err)) == 0) {
		if ((r = create_locked(e, &n, !q.subnet[0], err)) < 0)
			db_rollback(e->db);
		else
			r = db_commit(e->db, err);
	}
	net_family_free(&n.f4);
	net_family_free(&n.f6);
	if (r < 0)
		return r;
	*id = TAKE_PTR(new_id);
	return 0;
}

/* ---- lookups -------------------------------------------------------------------- */

/* Docker's order: an exact id, an exact name, then a unique id prefix. */
int network_resolve(struct engine *e, const char *name_or_id, char **id, berth_err *err)
{
	int r = ensure_defaults(e, err);
	if (r < 0)
		return r;
	if (!*name_or_id)
		return berth_error_code(err, ENOENT, "network %s not found", name_or_id);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db,
			    "SELECT id FROM networks WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 "
			    "DESC",
			    &st, err)) < 0)
		return r;
	sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = db_text(st, 0);
		return 0;
	}
	if (strspn(name_or_id, "0123456789abcdef") != strlen(name_or_id))
		return berth_error_code(err, ENOENT, "network %s not found", name_or_id);
	_cleanup_stmt_ sqlite3_stmt *p = NULL;
	if ((r = db_prepare(e->db, "SELECT id FROM networks WHERE substr(id, 1, length(?1)) = ?1",
			    &p, err)) < 0)
		return r;
	sqlite3_bind_text(p, 1, name_or_id, -1, SQLITE_STATIC);
	_cleanup_free_ char *found = NULL;
	int n = 0;
	while (sqlite3_step(p) == SQLITE_ROW)
		if (n++ == 0)
			found = db_text(p, 0);
	if (n == 0)
		return berth_error_code(err, ENOENT, "network %s not found", name_or_id);
	if (n > 1)
		return berth_error_code(err, EEXIST,
					"network %s is ambiguous (%d matches found based on ID "
					"prefix)",
					name_or_id, n);
	*id = TAKE_PTR(found);
	return 0;
}

#define NET_COLUMNS                                                                                \
	"id, name, driver, bridge, subnet4, gateway4, ip_range4, subnet6, gateway6, ip_range6, "   \
	"internal, ipv6, predefined, options, attachable, labels, created"

static json_t *parse_object(const char *s)
{
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

static void info_from_stmt(sqlite3_stmt *st, struct network_info *n)
{
	char **text[] = { &n->id,       &n->name,      &n->driver,  &n->bridge,   &n->subnet4,
			  &n->gateway4, &n->ip_range4, &n->subnet6, &n->gateway6, &n->ip_range6 };
	for (int i = 0; i < (int)ARRAY_SIZE(text); i++)
		*text[i] = db_text(st, i);
	n->internal = sqlite3_column_int(st, 10);
	n->ipv6 = sqlite3_column_int(st, 11);
	n->predefined = sqlite3_column_int(st, 12);
	n->options = parse_object((const char *)sqlite3_column_text(st, 13));
}

int network_get(struct engine *e, const char *id, struct network_info *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, "SELECT " NET_COLUMNS " FROM networks WHERE id = ?", &st, err)) <
	    0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return berth_error_code(err, ENOENT, "network %s not found", id);
	if (rc != SQLITE_ROW)
		return db_fail(e->db, err, "look up network");
	info_from_stmt(st, out);
	return 0;
}

void network_info_free(struct network_info *n)
{
	free(n->id);
	free(n->name);
	free(n->driver);
	free(n->bridge);
	free(n->subnet4);
	free(n->gateway4);
	free(n->ip_range4);
	free(n->subnet6);
	free(n->gateway6);
	free(n->ip_range6);
	json_decref(n->options);
	memset(n, 0, sizeof(*n));
}

static json_t *ipam_config_entry(const char *subnet, const char *gateway, const char *range)
{
	json_t *c = json_object();
	json_object_set_new(c, "Subnet", json_string(subnet));
	if (range)
		json_object_set_new(c, "IPRange", json_string(range));
	if (gateway)
		json_object_set_new(c, "Gateway", json_string(gateway));
	return c;
}

/* Containers: {id: {Name, EndpointID, MacAddress, IPv4Address, IPv6Address}}. */
static int containers_of(struct engine *e, const char *id, json_t **out, berth_err *err)
{
	_cleanup_json_ json_t *leases = NULL;
	int r = ipam_network_leases(e, id, &leases, err);
	if (r < 0)
		return r;
	json_t *o = json_object();
	size_t i;
	json_t *l;
	json_array_foreach (leases, i, l) {
		const char *a4 = str_member(l, "address"), *a6 = str_member(l, "address6");
		const char *name = str_member(l, "container");
		_cleanup_free_ char *v4 =
			a4 ? xasprintf("%s/%d", a4,
				       (int)json_integer_value(json_object_get(l, "prefix")))
			   : xstrdup("");
		_cleanup_free_ char *v6 =
			a6 ? xasprintf("%s/%d", a6,
				       (int)json_integer_value(json_object_get(l, "prefix6")))
			   : xstrdup("");
		const char *mac = str_member(l, "mac");
		json_object_set_new(
			o, str_member(l, "container_id"),
			json_pack("{s:s,s:s,s:s,s:s,s:s}", "Name", name ? name : "", "EndpointID",
				  str_member(l, "endpoint_id") ? str_member(l, "endpoint_id") : "",
				  "MacAddress", mac ? mac : "", "IPv4Address", v4, "IPv6Address",
				  v6));
	}
	*out = o;
	return 0;
}

int network_inspect_json(struct engine *e, const char *id, json_t **out, berth_err *err)
{
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, "SELECT " NET_COLUMNS " FROM networks WHERE id = ?", &st, err)) <
	    0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return berth_error_code(err, ENOENT, "network %s not found", id);
	if (rc != SQLITE_ROW)
		return db_fail(e->db, err, "look up network");
	struct network_info n;
	info_from_stmt(st, &n);
	bool attachable = sqlite3_column_int(st, 14);
	json_t *labels = parse_object((const char *)sqlite3_column_text(st, 15));
	_cleanup_free_ char *created = db_text(st, 16);
	json_t *containers = NULL;
	if ((r = containers_of(e, id, &containers, err)) < 0) {
		json_decref(labels);
		network_info_free(&n);
		return r;
	}
	json_t *config = json_array();
	if (n.subnet4)
		json_array_append_new(config,
				      ipam_config_entry(n.subnet4, n.gateway4, n.ip_range4));
	if (n.subnet6)
		json_array_append_new(config,
				      ipam_config_entry(n.subnet6, n.gateway6, n.ip_range6));
	/* Keys in Docker's order. */
	json_t *o = json_object();
	json_object_set_new(o, "Name", json_string(n.name));
	json_object_set_new(o, "Id", json_string(n.id));
	json_object_set_new(o, "Created", json_string(created ? created : ""));
	json_object_set_new(o, "Scope", json_string("local"));
	json_object_set_new(o, "Driver", json_string(n.driver));
	json_object_set_new(o, "EnableIPv6", json_boolean(n.ipv6));
	json_object_set_new(o, "IPAM",
			    json_pack("{s:s,s:o,s:o}", "Driver", "default", "Options",
				      n.predefined ? json_null() : json_object(), "Config",
				      config));
	json_object_set_new(o, "Internal", json_boolean(n.internal));
	json_object_set_new(o, "Attachable", json_boolean(attachable));
	json_object_set_new(o, "Ingress", json_false());
	json_object_set_new(o, "ConfigFrom", json_pack("{s:s}", "Network", ""));
	json_object_set_new(o, "ConfigOnly", json_false());
	json_object_set_new(o, "Containers", containers);
	json_object_set(o, "Options", n.options);
	json_object_set_new(o, "Labels", labels);
	network_info_free(&n);
	*out = o;
	return 0;
}

int network_list(struct engine *e, json_t **arr, berth_err *err)
{
	int r = ensure_defaults(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, "SELECT id FROM networks ORDER BY name", &st, err)) < 0)
		return r;
	_cleanup_strv_ char **ids = xcalloc(1, sizeof(char *));
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 2) * sizeof(char *));
		ids[n++] = db_text(st, 0);
		ids[n] = NULL;
	}
	if (rc != SQLITE_DONE)
		return db_fail(e->db, err, "list networks");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = NULL;
		if ((r = network_inspect_json(e, ids[i], &o, err)) < 0) {
			if (r == -ENOENT) { /* removed meanwhile */
				berth_err_clear(err);
				continue;
			}
			json_decref(a);
			return r;
		}
		json_array_append_new(a, o);
	}
	*arr = a;
	return 0;
}

/* ---- remove, prune ---------------------------------------------------------------- */

static int remove_locked(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db,
			   "SELECT name, predefined, bridge, driver, (SELECT count(*) FROM leases "
			   "WHERE network_id = ?1) FROM networks WHERE id = ?1",
			   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return berth_error_code(err, ENOENT, "network %s not found", id);
	if (rc != SQLITE_ROW)
		return db_fail(e->db, err, "look up network");
	const char *name = (const char *)sqlite3_column_text(st, 0);
	if (sqlite3_column_int(st, 1))
		return berth_error_code(err, EPERM,
					"%s is a pre-defined network and cannot be removed", name);
	if (sqlite3_column_int(st, 4) > 0)
		return berth_error_code(err, EBUSY,
					"error while removing network: network %s id %s has active "
					"endpoints",
					name, id);
	const char *bridge = (const char *)sqlite3_column_text(st, 2);
	const char *driver = (const char *)sqlite3_column_text(st, 3);
	if (network_teardown_hook &&
	    (r = network_teardown_hook(e, id, driver && !strcmp(driver, "bridge") ? bridge : NULL,
				       err)) < 0)
		return berth_error_wrap(err, "error while removing network %s", name);
	_cleanup_stmt_ sqlite3_stmt *del = NULL;
	if ((r = db_prepare(e->db, "DELETE FROM networks WHERE id = ?", &del, err)) < 0)
		return r;
	sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE)
		return db_fail(e->db, err, "remove network");
	return 0;
}

int network_remove(struct engine *e, const char *id, berth_err *err)
{
	int r = network_migrate(e, err);
	if (r < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	if ((r = remove_locked(e, id, err)) < 0) {
		db_rollback(e->db);
		return r;
	}
	return db_commit(e->db, err);
}

/* "key", "key=value", "!key", "!key=value": all must hold. */
static bool labels_match(json_t *labels, json_t *filters)
{
	size_t i;
	json_t *f;
	json_array_foreach (filters, i, f) {
		const char *s = json_string_value(f);
		if (!s)
			continue;
		bool negate = s[0] == '!';
		if (negate)
			s++;
		const char *eq = strchr(s, '=');
		_cleanup_free_ char *key = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
		json_t *val = json_object_get(labels, key);
		bool hit = val && (!eq || (json_is_string(val) &&
					   strcmp(json_string_value(val), eq + 1) == 0));
		if (hit == negate)
			return false;
	}
	return true;
}

int network_prune(struct engine *e, json_t *label_filters, char ***removed, berth_err *err)
{
	*removed = xcalloc(1, sizeof(char *));
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db,
			    "SELECT id, name, labels FROM networks WHERE predefined = 0 AND id NOT "
			    "IN (SELECT network_id FROM leases) ORDER BY name",
			    &st, err)) < 0)
		return r;
	struct cand {
		char *id, *name;
	} *c = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		_cleanup_json_ json_t *labels =
			parse_object((const char *)sqlite3_column_text(st, 2));
		if (label_filters && !labels_match(labels, label_filters))
			continue;
		c = xrealloc(c, (n + 1) * sizeof(*c));
		c[n].id = db_text(st, 0);
		c[n++].name = db_text(st, 1);
	}
	if (rc != SQLITE_DONE)
		r = db_fail(e->db, err, "list networks");
	size_t done = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		/* Removed one at a time: a network that got a lease (or went)
		 * meanwhile is skipped, not an error. */
		int rr = network_remove(e, c[i].id, err);
		if (rr == -EBUSY || rr == -ENOENT) {
			berth_err_clear(err);
			continue;
		}
		if (rr < 0) {
			r = rr;
			break;
		}
		*removed = xrealloc(*removed, (done + 2) * sizeof(char *));
		(*removed)[done++] = xstrdup(c[i].name);
		(*removed)[done] = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		free(c[i].id);
		free(c[i].name);
	}
	free(c);
	return r;
}
