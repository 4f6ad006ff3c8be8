/* ipam.c - address arithmetic and leases (see ipam.h): parsing and printing
 * addresses as integers (IPv4 in the low 32 bits of a 128-bit one), then
 * the lease table: look up, pick the lowest free address, record, release. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/ipam.h"
#include "engine/network.h"
#include "image/db.h"

/* ---- arithmetic ------------------------------------------------------------------ */

static int width(int family)
{
	return family == 4 ? 32 : 128;
}

/* The host part's bits of a prefix. */
static ipam_addr host_mask(int family, int bits)
{
	int host = width(family) - bits;
	return host >= 128 ? ~(ipam_addr)0 : ((ipam_addr)1 << host) - 1;
}

int ipam_addr_parse(const char *s, int *family, ipam_addr *out)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		*family = 4;
		*out = ((ipam_addr)b[0] << 24) | ((ipam_addr)b[1] << 16) | ((ipam_addr)b[2] << 8) |
		       b[3];
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		*family = 6;
		ipam_addr a = 0;
		for (int i = 0; i < 16; i++)
			a = (a << 8) | b[i];
		*out = a;
		return 0;
	}
	return -EINVAL;
}

char *ipam_addr_format(int family, ipam_addr a)
{
	unsigned char b[16];
	char buf[INET6_ADDRSTRLEN];
	int n = family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--, a >>= 8)
		b[i] = (unsigned char)(a & 0xff);
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, b, buf, sizeof(buf)))
		abort(); /* the buffer fits any address */
	return xstrdup(buf);
}

int ipam_cidr_parse(const char *s, struct ipam_cidr *out)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) || strlen(slash + 1) > 3)
		return -EINVAL;
	_cleanup_free_ char *a = xstrndup(s, (size_t)(slash - s));
	int fam;
	ipam_addr addr;
	if (ipam_addr_parse(a, &fam, &addr) < 0)
		return -EINVAL;
	int bits = atoi(slash + 1);
	if (bits > width(fam))
		return -EINVAL;
	out->family = fam;
	out->bits = bits;
	out->addr = addr;
	out->net = addr & ~host_mask(fam, bits);
	out->host_bits = out->net != addr;
	return 0;
}

char *ipam_cidr_format(const struct ipam_cidr *c)
{
	_cleanup_free_ char *a = ipam_addr_format(c->family, c->net);
	return xasprintf("%s/%d", a, c->bits);
}

bool ipam_cidr_contains(const struct ipam_cidr *c, int family, ipam_addr a)
{
	return family == c->family && (a & ~host_mask(family, c->bits)) == c->net;
}

bool ipam_cidr_overlap(const struct ipam_cidr *a, const struct ipam_cidr *b)
{
	if (a->family != b->family)
		return false;
	int bits = a->bits < b->bits ? a->bits : b->bits;
	ipam_addr m = ~host_mask(a->family, bits);
	return (a->net & m) == (b->net & m);
}

ipam_addr ipam_cidr_last(const struct ipam_cidr *c)
{
	return c->net | host_mask(c->family, c->bits);
}

/* ---- leases ---------------------------------------------------------------------- */

void ipam_lease_free(struct ipam_lease *l)
{
	free(l->address);
	free(l->gateway);
	free(l->mac);
	free(l->address6);
	free(l->gateway6);
	free(l->endpoint_id);
	memset(l, 0, sizeof(*l));
}

static int cmp_addr(const void *a, const void *b)
{
	ipam_addr x = *(const ipam_addr *)a, y = *(const ipam_addr *)b;
	return x < y ? -1 : x > y;
}

/* The addresses of one family taken on a network, sorted. */
static int taken_addrs(struct engine *e, const char *net_id, int family, ipam_addr **out, size_t *n,
		       berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db, "SELECT address FROM leases WHERE network_id = ? AND family = ?",
			   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, net_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, family);
	ipam_addr *v = NULL;
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int fam;
		ipam_addr a;
		if (ipam_addr_parse((const char *)sqlite3_column_text(st, 0), &fam, &a) < 0)
			continue;
		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k++] = a;
	}
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(e->db, err, "list leases");
	}
	if (k)
		qsort(v, k, sizeof(*v), cmp_addr);
	*out = v;
	*n = k;
	return 0;
}

static bool is_taken(const ipam_addr *v, size_t n, ipam_addr a)
{
	return n && bsearch(&a, v, n, sizeof(*v), cmp_addr);
}

/* One family's address for a new lease: the requested one, checked, or the
 * lowest free one of the range (the subnet without one). */
static int pick_addr(struct engine *e, const struct network_info *net, int family, const char *want,
		     char **out, int *prefix, berth_err *err)
{
	const char *subnet = family == 4 ? net->subnet4 : net->subnet6;
	const char *gateway = family == 4 ? net->gateway4 : net->gateway6;
	const char *range = family == 4 ? net->ip_range4 : net->ip_range6;
	struct ipam_cidr s, rg;
	int fam;
	ipam_addr gw = 0;
	if (!subnet || ipam_cidr_parse(subnet, &s) < 0 || s.family != family)
		return berth_error_code(err, EINVAL, "network %s: bad IPv%d subnet %s", net->name,
					family, subnet ? subnet : "(none)");
	bool has_gw = gateway && ipam_addr_parse(gateway, &fam, &gw) == 0;
	if (!range || ipam_cidr_parse(range, &rg) < 0)
		rg = s;
	*prefix = s.bits;
	/* Usable: not the subnet's own address, nor IPv4's broadcast. */
	ipam_addr lo = s.net + 1, hi = ipam_cidr_last(&s) - (family == 4 ? 1 : 0);
	_cleanup_free_ ipam_addr *taken = NULL;
	size_t n = 0;
	int r = taken_addrs(e, net->id, family, &taken, &n, err);
	if (r < 0)
		return r;
	if (want) {
		ipam_addr a;
		if (ipam_addr_parse(want, &fam, &a) < 0 || fam != family)
			return berth_error_code(err, EINVAL, "invalid IPv%d address: %s", family,
						want);
		if (!ipam_cidr_contains(&s, fam, a))
			return berth_error_code(
				err, EINVAL,
				"requested address %s is not in network %s's subnet "
				"%s",
				want, net->name, subnet);
		if (a < lo || a > hi)
			return berth_error_code(
				err, EINVAL, "requested address %s is the %s address of subnet %s",
				want, a < lo ? "network" : "broadcast", subnet);
		if (has_gw && a == gw)
			return berth_error_code(err, EADDRINUSE,
						"requested address %s is the gateway of network %s",
						want, net->name);
		if (is_taken(taken, n, a))
			return berth_error_code(err, EADDRINUSE,
						"Address already in use: %s on network %s", want,
						net->name);
		*out = ipam_addr_format(family, a);
		return 0;
	}
	ipam_addr from = rg.net > lo ? rg.net : lo;
	ipam_addr to = ipam_cidr_last(&rg) < hi ? ipam_cidr_last(&rg) : hi;
	size_t k = 0;
	for (ipam_addr a = from; a <= to; a++) {
		while (k < n && taken[k] < a)
			k++;
		if ((k < n && taken[k] == a) || (has_gw && a == gw)) {
			if (a == to)
				break; /* no wrap-around at the top of the space */
			continue;
		}
		*out = ipam_addr_format(family, a);
		return 0;
	}
	return berth_error_code(err, ENOSPC,
				"no available IPv%d addresses on network %s: its pool %s is full",
				family, net->name, range ? range : subnet);
}

static bool valid_mac(const char *m)
{
	if (strlen(m) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		bool colon = i % 3 == 2;
		if (colon ? m[i] != ':' : !strchr("0123456789abcdefABCDEF", m[i]))
			return false;
	}
	return true;
}

/* Docker's: 02:42 and the four bytes of the IPv4 address. */
static char *mac_of(const char *ipv4)
{
	int fam;
	ipam_addr a = 0;
	ipam_addr_parse(ipv4, &fam, &a);
	uint32_t v = (uint32_t)a;
	return xasprintf("02:42:%02x:%02x:%02x:%02x", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
			 v & 0xff);
}

static int prefix_of(const char *subnet)
{
	struct ipam_cidr c;
	return subnet && ipam_cidr_parse(subnet, &c) == 0 ? c.bits : 0;
}

/* The container's lease, when it has one: 1 and *out filled, 0 none. */
static int existing_lease(struct engine *e, const struct network_info *net, const char *ctr_id,
			  struct ipam_lease *out, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(
		e->db,
		"SELECT family, address, mac, endpoint_id FROM leases WHERE network_id = "
		"? AND container_id = ? ORDER BY family",
		&st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, net->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ctr_id, -1, SQLITE_STATIC);
	int rc, found = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = 1;
		if (sqlite3_column_int(st, 0) == 4) {
			out->address = db_text(st, 1);
			out->prefix = prefix_of(net->subnet4);
			out->gateway = net->gateway4 ? xstrdup(net->gateway4) : NULL;
			out->mac = db_text(st, 2);
			out->endpoint_id = db_text(st, 3);
		} else {
			out->address6 = db_text(st, 1);
			out->prefix6 = prefix_of(net->subnet6);
			out->gateway6 = net->gateway6 ? xstrdup(net->gateway6) : NULL;
			if (!out->endpoint_id)
				out->endpoint_id = db_text(st, 3);
		}
	}
	if (rc != SQLITE_DONE)
		return db_fail(e->db, err, "look up lease");
	return found;
}

static int insert_lease(struct engine *e, const char *net_id, const char *ctr_id, int family,
			const char *address, const char *mac, const char *endpoint_id,
			const char *endpoint, bool is_static, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(e->db,
			   "INSERT INTO leases(network_id, address, family, container_id, mac, "
			   "endpoint_id, endpoint, static) VALUES(?,?,?,?,?,?,?,?)",
			   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, net_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, family);
	sqlite3_bind_text(st, 4, ctr_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, endpoint_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, is_static);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "record lease");
	return 0;
}

static int lease_locked(struct engine *e, const struct network_info *net, const char *ctr_id,
			const char *want4, const char *want6, const char *want_mac,
			json_t *endpoint, struct ipam_lease *out, berth_err *err)
{
	if (strcmp(net->driver, "bridge") != 0)
		return berth_error_code(err, EINVAL,
					"network %s (driver %s) has no addresses to lease",
					net->name, net->driver);
	int r = existing_lease(e, net, ctr_id, out, err);
	if (r != 0)
		return r < 0 ? r : 1;
	if (net->predefined && (want4 || want6))
		return berth_error_code(err, EINVAL,
					"user specified IP address is supported on user defined "
					"networks only");
	if (want6 && !net->ipv6)
		return berth_error_code(err, EINVAL,
					"requested IPv6 address %s: network %s has no IPv6", want6,
					net->name);
	if (want_mac && !valid_mac(want_mac))
		return berth_error_code(err, EINVAL, "invalid MAC address: %s", want_mac);
	if ((r = pick_addr(e, net, 4, want4, &out->address, &out->prefix, err)) < 0)
		return r;
	out->gateway = net->gateway4 ? xstrdup(net->gateway4) : NULL;
	if (net->ipv6) {
		if ((r = pick_addr(e, net, 6, want6, &out->address6, &out->prefix6, err)) < 0)
			return r;
		out->gateway6 = net->gateway6 ? xstrdup(net->gateway6) : NULL;
	}
	out->mac = want_mac ? xstrdup(want_mac) : mac_of(out->address);
	for (char *p = out->mac; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	out->endpoint_id = network_random_hex(32);
	_cleanup_free_ char *ep =
		endpoint ? json_dumps(endpoint, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if ((r = insert_lease(e, net->id, ctr_id, 4, out->address, out->mac, out->endpoint_id, ep,
			      want4 != NULL, err)) < 0)
		return r;
	if (out->address6 && (r = insert_lease(e, net->id, ctr_id, 6, out->address6, NULL,
					       out->endpoint_id, ep, want6 != NULL, err)) < 0)
		return r;
	return 0;
}

int ipam_lease(struct engine *e, const char *net_id, const char *ctr_id, const char *want4,
	       const char *want6, const char *want_mac, json_t *endpoint, struct ipam_lease *out,
	       berth_err *err)
{
	memset(out, 0, sizeof(*out));
	int r = network_migrate(e, err);
	if (r < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	struct network_info net;
	if ((r = network_get(e, net_id, &net, err)) < 0) {
		db_rollback(e->db);
		return r;
	}
	r = lease_locked(e, &net, ctr_id, want4, want6, want_mac, endpoint, out, err);
	network_info_free(&net);
	if (r == 1) { /* the one it had: nothing written */
		db_rollback(e->db);
		return 0;
	}
	if (r == 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0)
		ipam_lease_free(out);
	return r;
}

static int delete_where(struct engine *e, const char *sql, const char *a, const char *b,
			berth_err *err)
{
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, sql, &st, err)) < 0)
		return r;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "release lease");
	return 0;
}

int ipam_release(struct engine *e, const char *net_id, const char *ctr_id, berth_err *err)
{
	return delete_where(e, "DELETE FROM leases WHERE network_id = ? AND container_id = ?",
			    net_id, ctr_id, err);
}

int ipam_release_all(struct engine *e, const char *ctr_id, berth_err *err)
{
	return delete_where(e, "DELETE FROM leases WHERE container_id = ?", ctr_id, NULL, err);
}

/* Rows of (network, container) pairs, one per family, grouped into one
 * object a pair. The containers table is the engine's (same db). */
static int leases_json(struct engine *e, const char *where, const char *order, const char *arg,
		       json_t **arr, berth_err *err)
{
	int r = network_migrate(e, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *sql = xasprintf(
		"SELECT l.network_id, n.name, l.container_id, c.name, l.family, l.address, l.mac, "
		"l.endpoint_id, l.endpoint, n.subnet4, n.gateway4, n.subnet6, n.gateway6 "
		"FROM leases l JOIN networks n ON n.id = l.network_id "
		"LEFT JOIN containers c ON c.id = l.container_id WHERE %s ORDER BY %s, l.family",
		where, order);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(e->db, sql, &st, err)) < 0)
		return r;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	json_t *a = json_array();
	json_t *cur = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *net_id = (const char *)sqlite3_column_text(st, 0);
		const char *ctr_id = (const char *)sqlite3_column_text(st, 2);
		if (!cur ||
		    strcmp(json_string_value(json_object_get(cur, "network_id")), net_id) != 0 ||
		    strcmp(json_string_value(json_object_get(cur, "container_id")), ctr_id) != 0) {
			const char *cname = (const char *)sqlite3_column_text(st, 3);
			const char *ep = (const char *)sqlite3_column_text(st, 8);
			json_t *epj = ep ? json_loads(ep, JSON_DECODE_ANY, NULL) : NULL;
			cur = json_pack(
				"{s:s,s:s,s:s,s:o,s:n,s:i,s:n,s:n,s:n,s:i,s:n,s:n,s:o}",
				"network_id", net_id, "network",
				(const char *)sqlite3_column_text(st, 1), "container_id", ctr_id,
				"container", cname ? json_string(cname) : json_null(), "address",
				"prefix", 0, "gateway", "mac", "address6", "prefix6", 0, "gateway6",
				"endpoint_id", "endpoint", epj ? epj : json_null());
			json_array_append_new(a, cur);
		}
		const char *eid = (const char *)sqlite3_column_text(st, 7);
		if (eid)
			json_object_set_new(cur, "endpoint_id", json_string(eid));
		const char *addr = (const char *)sqlite3_column_text(st, 5);
		if (sqlite3_column_int(st, 4) == 4) {
			const char *mac = (const char *)sqlite3_column_text(st, 6);
			const char *gw = (const char *)sqlite3_column_text(st, 10);
			json_object_set_new(cur, "address", json_string(addr));
			json_object_set_new(
				cur, "prefix",
				json_integer(prefix_of((const char *)sqlite3_column_text(st, 9))));
			json_object_set_new(cur, "gateway", gw ? json_string(gw) : json_null());
			json_object_set_new(cur, "mac", mac ? json_string(mac) : json_null());
		} else {
			const char *gw = (const char *)sqlite3_column_text(st, 12);
			json_object_set_new(cur, "address6", json_string(addr));
			json_object_set_new(
				cur, "prefix6",
				json_integer(prefix_of((const char *)sqlite3_column_text(st, 11))));
			json_object_set_new(cur, "gateway6", gw ? json_string(gw) : json_null());
		}
	}
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return db_fail(e->db, err, "list leases");
	}
	*arr = a;
	return 0;
}

int ipam_container_leases(struct engine *e, const char *ctr_id, json_t **arr, berth_err *err)
{
	return leases_json(e, "l.container_id = ?", "n.name, l.network_id", ctr_id, arr, err);
}

int ipam_network_leases(struct engine *e, const char *net_id, json_t **arr, berth_err *err)
{
	return leases_json(e, "l.network_id = ?", "l.container_id", net_id, arr, err);
}
