/* nft.c - Berth's firewall rules through libnftables, in-process.
 *
 * One `inet berth` table rather than `ip berth` + `ip6 berth`: a dual-stack
 * network is one transaction, the rules that do not care about the family
 * (forward by interface, DNS input) are written once, and nft_reset() has one
 * table to delete (inet NAT needs Linux 5.2). The rules are fixed; what a
 * network or a container adds is elements of sets and maps. So adding or
 * removing one is a single netlink transaction that never lists or flushes
 * the ruleset, several state roots share the table without stepping on each
 * other, and the kernel finds a published port by a hash lookup instead of
 * walking a rule per port.
 *
 *   sets    bridges, int_bridges (ifname); int_pairs (ifname . ifname);
 *           own4/own6 (subnet . bridge); masq4/masq6 (subnet of a non-internal
 *           network). Elements are commented "berth:<network id>".
 *   maps    ports4 (proto . port : ctr ip . port) for "every local address",
 *           hostports4 (host ip . proto . port : ...) for one address, and per
 *           container c-<id> holding that container's entries (host ip 0.0.0.0
 *           for "every"), so nft_ports_remove() reads only its own.
 *   chains  forward, input, prerouting, output, postrouting (base); dnat4.
 *
 * Sections, in order:
 *   context      an nft_ctx per call, its error buffer as a one-line berth_err
 *   validation   ids, interface names, prefixes, addresses
 *   base         the table, sets, maps, chains and their fixed rules
 *   host forward accept rules in the host's ip/ip6 filter FORWARD (dockerd)
 *   sysctls      ip_forward, route_localnet
 *   API          nft_network_*, nft_ports_*, nft_reset
 */
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdint.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define TABLE   "inet berth"
#define TAG     "berth:"
#define ID_MAX  128
#define IFNAMSZ 16

/* ---- context ---- */

static void nft_ctx_freep(struct nft_ctx **ctx)
{
	if (*ctx)
		nft_ctx_free(*ctx);
}
#define _cleanup_nft_ __attribute__((cleanup(nft_ctx_freep)))

/* A context whose output and errors go to buffers; json for listings. */
static struct nft_ctx *ctx_open(bool json, berth_err *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		berth_error(err, ENOMEM, "cannot make an nftables context");
		return NULL;
	}
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		berth_error(err, ENOMEM, "cannot buffer nftables output");
		return NULL;
	}
	if (json)
		nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	return ctx;
}

/* libnftables reports errors as text only; the errno is its strerror(). */
static int code_of(const char *msg)
{
	static const int codes[] = { EEXIST, ENOENT, EPERM, EBUSY, ENOMEM, EOPNOTSUPP, ENOSPC };
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (strstr(msg, strerror(codes[i])))
			return codes[i];
	return EINVAL;
}

/* The first error in the buffer: its message (after "Error: ") and, when
 * libnftables quotes it, the command it refers to (the line after). */
struct nft_fail {
	char *msg;
	char *cmd;
	int code;
};

static void nft_fail_free(struct nft_fail *f)
{
	free(f->msg);
	free(f->cmd);
}

static void fail_parse(struct nft_ctx *ctx, struct nft_fail *f)
{
	const char *buf = nft_ctx_get_error_buffer(ctx);
	if (!buf)
		buf = "";
	const char *e = strstr(buf, "Error: ");
	const char *m = e ? e + strlen("Error: ") : buf;
	size_t len = strcspn(m, "\n");
	while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\r'))
		len--;
	f->msg = len ? xstrndup(m, len) : xstrdup("nftables failed without a message");
	f->cmd = NULL;
	if (m[strcspn(m, "\n")] == '\n') {
		const char *c = m + strcspn(m, "\n") + 1;
		size_t clen = strcspn(c, "\n");
		if (clen)
			f->cmd = xstrndup(c, clen);
	}
	f->code = code_of(f->msg);
}

/* Run a command buffer; on failure err is "<what>: <nft message>". */
static int run(struct nft_ctx *ctx, const char *buf, berth_err *err, const char *what)
{
	if (nft_run_cmd_from_buffer(ctx, buf) == 0)
		return 0;
	struct nft_fail f;
	fail_parse(ctx, &f);
	int r = berth_error_code(err, f.code, "%s: %s", what, f.msg);
	nft_fail_free(&f);
	return r;
}

/* Run a list command with JSON output and return the "nftables" array's
 * owner; -ENOENT (err untouched) when the listed object does not exist. */
static int list_json(const char *cmd, json_t **out, berth_err *err)
{
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(true, err);
	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		struct nft_fail f;
		fail_parse(ctx, &f);
		int code = f.code;
		if (code != ENOENT)
			berth_error_code(err, code, "%s: %s", cmd, f.msg);
		nft_fail_free(&f);
		return -code;
	}
	json_error_t jerr;
	json_t *root = json_loads(nft_ctx_get_output_buffer(ctx), 0, &jerr);
	if (!root || !json_is_array(json_object_get(root, "nftables"))) {
		json_decref(root);
		return berth_error(err, EPROTO, "%s: unexpected JSON from libnftables", cmd);
	}
	*out = root;
	return 0;
}

/* ---- validation ---- */

static bool valid_id(const char *id)
{
	size_t len = id ? strlen(id) : 0;
	if (len == 0 || len > ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			  (c >= 'A' && c <= 'Z') || (i > 0 && (c == '_' || c == '-' || c == '.'));
		if (!ok)
			return false;
	}
	return true;
}

/* Berth names its bridges; anything a shell or nft would need quoting for is refused. */
static bool valid_ifname(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len >= IFNAMSZ)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* "addr/len" of family af, host bits cleared (an interval set wants the
 * network address); written to out (INET6_ADDRSTRLEN + 4 bytes). */
static int parse_prefix(int af, const char *s, char *out, size_t outsz)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	char addr[INET6_ADDRSTRLEN];
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	unsigned char bytes[16];
	if (inet_pton(af, addr, bytes) != 1)
		return -EINVAL;
	char *end;
	errno = 0;
	long plen = strtol(slash + 1, &end, 10);
	int max = af == AF_INET ? 32 : 128;
	if (errno || end == slash + 1 || *end || plen < 0 || plen > max)
		return -EINVAL;
	for (int bit = (int)plen; bit < max; bit++)
		bytes[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	char canon[INET6_ADDRSTRLEN];
	if (!inet_ntop(af, bytes, canon, sizeof(canon)))
		return -EINVAL;
	snprintf(out, outsz, "%s/%ld", canon, plen);
	return 0;
}

/* A dotted IPv4 address, canonical, into out (INET_ADDRSTRLEN). */
static int parse_ipv4(const char *s, char *out)
{
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1 || !inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN))
		return -EINVAL;
	return 0;
}

/* ---- base ---- */

/* Declared with `add`, so existing ones are kept; the fixed rules are flushed
 * and written again in the same transaction, which also repairs a table that
 * was edited by hand. Counters restart; nothing else is lost. */
static const char base_rules[] =
	"add table " TABLE "\n"
	"add set " TABLE " bridges { type ifname; }\n"
	"add set " TABLE " int_bridges { type ifname; }\n"
	"add set " TABLE " int_pairs { type ifname . ifname; }\n"
	"add set " TABLE " own4 { type ipv4_addr . ifname; flags interval; }\n"
	"add set " TABLE " own6 { type ipv6_addr . ifname; flags interval; }\n"
	"add set " TABLE " masq4 { type ipv4_addr; flags interval; }\n"
	"add set " TABLE " masq6 { type ipv6_addr; flags interval; }\n"
	"add map " TABLE " ports4 { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
	"add map " TABLE " hostports4 { type ipv4_addr . inet_proto . inet_service : "
	"ipv4_addr . inet_service; }\n"
	"add chain " TABLE " forward { type filter hook forward priority filter; policy accept; }\n"
	"add chain " TABLE " input { type filter hook input priority filter; policy accept; }\n"
	"add chain " TABLE
	" prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain " TABLE " output { type nat hook output priority -100; policy accept; }\n"
	"add chain " TABLE
	" postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain " TABLE " dnat4\n"
	"flush chain " TABLE " forward\n"
	"flush chain " TABLE " input\n"
	"flush chain " TABLE " prerouting\n"
	"flush chain " TABLE " output\n"
	"flush chain " TABLE " postrouting\n"
	"flush chain " TABLE " dnat4\n"
	/* Internal networks first: their drops must win over the accepts below. */
	"add rule " TABLE " forward iifname . oifname @int_pairs accept\n"
	"add rule " TABLE " forward iifname @int_bridges drop\n"
	"add rule " TABLE " forward oifname @int_bridges drop\n"
	"add rule " TABLE " forward iifname @bridges accept\n"
	"add rule " TABLE " forward oifname @bridges accept\n"
	/* Berth's DNS responder listens on the bridge's own address. */
	"add rule " TABLE " input iifname @bridges meta l4proto { tcp, udp } th dport 53 "
	"fib daddr . iif type local accept\n"
	/* Published ports: to a local address, from outside or containers
	 * (prerouting) and from the host itself, 127.0.0.1 included (output). */
	"add rule " TABLE " prerouting meta nfproto ipv4 meta l4proto { tcp, udp } "
	"fib daddr type local jump dnat4\n"
	"add rule " TABLE " output meta nfproto ipv4 meta l4proto { tcp, udp } "
	"fib daddr type local jump dnat4\n"
	"add rule " TABLE " dnat4 dnat ip to ip daddr . meta l4proto . th dport map @hostports4\n"
	"add rule " TABLE " dnat4 dnat ip to meta l4proto . th dport map @ports4\n"
	/* Hairpin: a container reaching a published port of its own bridge gets
	 * the reply through the host only if the host is its source too. */
	"add rule " TABLE " postrouting ct status dnat ip saddr . oifname @own4 masquerade\n"
	/* 127.0.0.1 published ports: a loopback source cannot leave the host. */
	"add rule " TABLE " postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade\n"
	"add rule " TABLE " postrouting ip saddr . oifname @own4 return\n"
	"add rule " TABLE " postrouting ip6 saddr . oifname @own6 return\n"
	"add rule " TABLE " postrouting ip saddr @masq4 masquerade\n"
	"add rule " TABLE " postrouting ip6 saddr @masq6 masquerade\n";

/* ---- host forward ---- */

/* dockerd (iptables-nft) sets `ip filter FORWARD` to policy drop, and a drop
 * in any base chain is final whatever our table accepts. So when the chain
 * exists, the bridge gets its own accept there, found again by its comment. */
static const char *const host_families[] = { "ip", "ip6" };

/* Handles of the rules in <family> filter FORWARD whose comment is tag (or
 * starts with it when prefix); *exists is false when the chain is missing. */
static int host_forward_find(const char *family, const char *tag, bool prefix, bool *exists,
			     uint64_t **handles, size_t *n, berth_err *err)
{
	_cleanup_free_ char *cmd = xasprintf("list chain %s filter FORWARD", family);
	_cleanup_json_ json_t *root = NULL;
	*exists = false;
	*handles = NULL;
	*n = 0;
	int r = list_json(cmd, &root, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*exists = true;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(root, "nftables"), i, o) {
		json_t *rule = json_object_get(o, "rule");
		const char *c = json_string_value(json_object_get(rule, "comment"));
		json_t *h = json_object_get(rule, "handle");
		if (!c || !json_is_integer(h))
			continue;
		if (prefix ? strncmp(c, tag, strlen(tag)) != 0 : strcmp(c, tag) != 0)
			continue;
		*handles = xrealloc(*handles, (*n + 1) * sizeof(**handles));
		(*handles)[(*n)++] = (uint64_t)json_integer_value(h);
	}
	return 0;
}

static int host_forward_add(const struct nft_net *n, berth_err *err)
{
	_cleanup_free_ char *tag = xasprintf(TAG "%s", n->id);
	for (size_t f = 0; f < ARRAY_SIZE(host_families); f++) {
		const char *fam = host_families[f];
		bool exists;
		_cleanup_free_ uint64_t *handles = NULL;
		size_t count;
		int r = host_forward_find(fam, tag, false, &exists, &handles, &count, err);
		if (r < 0)
			return r;
		if (!exists || count > 0)
			continue;
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		if (n->internal) {
			strbuf_addf(&sb,
				    "insert rule %s filter FORWARD iifname \"%s\" oifname \"%s\" "
				    "counter accept comment \"%s\"\n",
				    fam, n->bridge, n->bridge, tag);
		} else {
			strbuf_addf(&sb,
				    "insert rule %s filter FORWARD oifname \"%s\" counter accept "
				    "comment \"%s\"\n",
				    fam, n->bridge, tag);
			strbuf_addf(&sb,
				    "insert rule %s filter FORWARD iifname \"%s\" counter accept "
				    "comment \"%s\"\n",
				    fam, n->bridge, tag);
		}
		_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
		if (!ctx)
			return -ENOMEM;
		_cleanup_free_ char *what =
			xasprintf("cannot accept %s in %s filter FORWARD", n->bridge, fam);
		r = run(ctx, sb.buf, err, what);
		if (r < 0)
			return r;
	}
	return 0;
}

static int host_forward_remove(const char *tag, bool prefix, berth_err *err)
{
	for (size_t f = 0; f < ARRAY_SIZE(host_families); f++) {
		const char *fam = host_families[f];
		bool exists;
		_cleanup_free_ uint64_t *handles = NULL;
		size_t count;
		int r = host_forward_find(fam, tag, prefix, &exists, &handles, &count, err);
		if (r < 0)
			return r;
		if (count == 0)
			continue;
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < count; i++)
			strbuf_addf(&sb, "delete rule %s filter FORWARD handle %llu\n", fam,
				    (unsigned long long)handles[i]);
		_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
		if (!ctx)
			return -ENOMEM;
		_cleanup_free_ char *what = xasprintf("cannot remove Berth's rules from %s filter "
						      "FORWARD",
						      fam);
		r = run(ctx, sb.buf, err, what);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- sysctls ---- */

static int sysctl_on(const char *path, berth_err *err)
{
	return file_write_at(AT_FDCWD, path, "1", 1, err);
}

/* ---- API ---- */

int nft_network_add(const struct nft_net *n, berth_err *err)
{
	if (!n || !valid_id(n->id))
		return berth_error(err, EINVAL, "cannot add network rules: invalid network id");
	if (!valid_ifname(n->bridge))
		return berth_error(err, EINVAL, "cannot add network %.12s: invalid bridge name",
				   n->id);
	char s4[INET6_ADDRSTRLEN + 8] = "", s6[INET6_ADDRSTRLEN + 8] = "";
	if (n->subnet4 && *n->subnet4 && parse_prefix(AF_INET, n->subnet4, s4, sizeof(s4)) < 0)
		return berth_error(err, EINVAL, "cannot add network %.12s: invalid IPv4 subnet %s",
				   n->id, n->subnet4);
	if (n->subnet6 && *n->subnet6 && parse_prefix(AF_INET6, n->subnet6, s6, sizeof(s6)) < 0)
		return berth_error(err, EINVAL, "cannot add network %.12s: invalid IPv6 subnet %s",
				   n->id, n->subnet6);

	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, base_rules);
	const char *br = n->bridge, *id = n->id;
	strbuf_addf(&sb, "add element " TABLE " bridges { \"%s\" comment \"" TAG "%s\" }\n", br,
		    id);
	if (n->internal) {
		strbuf_addf(&sb,
			    "add element " TABLE " int_bridges { \"%s\" comment \"" TAG "%s\" }\n",
			    br, id);
		strbuf_addf(&sb,
			    "add element " TABLE " int_pairs { \"%s\" . \"%s\" comment \"" TAG
			    "%s\" }\n",
			    br, br, id);
	}
	/* own4/own6 hold internal networks too: their traffic within the bridge
	 * is then left alone by the masquerade rules, like any other's. */
	if (*s4) {
		strbuf_addf(&sb,
			    "add element " TABLE " own4 { %s . \"%s\" comment \"" TAG "%s\" }\n",
			    s4, br, id);
		if (!n->internal)
			strbuf_addf(&sb,
				    "add element " TABLE " masq4 { %s comment \"" TAG "%s\" }\n",
				    s4, id);
	}
	if (*s6) {
		strbuf_addf(&sb,
			    "add element " TABLE " own6 { %s . \"%s\" comment \"" TAG "%s\" }\n",
			    s6, br, id);
		if (!n->internal)
			strbuf_addf(&sb,
				    "add element " TABLE " masq6 { %s comment \"" TAG "%s\" }\n",
				    s6, id);
	}
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
	if (!ctx)
		return -ENOMEM;
	_cleanup_free_ char *what = xasprintf("cannot add network %.12s", id);
	int r = run(ctx, sb.buf, err, what);
	if (r < 0)
		return r;
	r = host_forward_add(n, err);
	if (r < 0)
		return r;

	/* An internal network only bridges; it has no use for routing. */
	if (!n->internal) {
		r = sysctl_on("/proc/sys/net/ipv4/ip_forward", err);
		if (r < 0)
			return berth_error_wrap(err, "cannot add network %.12s", id);
		if (*s6) {
			r = sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding", err);
			if (r < 0)
				return berth_error_wrap(err, "cannot add network %.12s", id);
		}
	}
	if (*s4) {
		_cleanup_free_ char *path =
			xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", br);
		r = sysctl_on(path, err);
		if (r < 0)
			return berth_error_wrap(err, "cannot add network %.12s", id);
	}
	return 0;
}

/* An element value of a listed set, written back in nft syntax: ifname
 * fields are quoted, addresses, prefixes and ranges are not. */
static bool add_value(struct strbuf *sb, json_t *val, const char *type)
{
	if (json_is_string(val)) {
		if (type && !strcmp(type, "ifname"))
			strbuf_addf(sb, "\"%s\"", json_string_value(val));
		else
			strbuf_addstr(sb, json_string_value(val));
		return true;
	}
	if (json_is_integer(val)) {
		strbuf_addf(sb, "%lld", (long long)json_integer_value(val));
		return true;
	}
	json_t *p = json_object_get(val, "prefix");
	if (p) {
		const char *a = json_string_value(json_object_get(p, "addr"));
		json_t *len = json_object_get(p, "len");
		if (!a || !json_is_integer(len))
			return false;
		strbuf_addf(sb, "%s/%lld", a, (long long)json_integer_value(len));
		return true;
	}
	json_t *range = json_object_get(val, "range");
	if (json_is_array(range) && json_array_size(range) == 2) {
		return add_value(sb, json_array_get(range, 0), type) &&
		       (strbuf_addch(sb, '-'), 1) && add_value(sb, json_array_get(range, 1), type);
	}
	return false;
}

static bool add_elem(struct strbuf *sb, json_t *val, json_t *type)
{
	json_t *concat = json_object_get(val, "concat");
	if (!concat)
		return add_value(sb, val, json_string_value(type));
	if (!json_is_array(concat) || !json_is_array(type) ||
	    json_array_size(concat) != json_array_size(type))
		return false;
	for (size_t i = 0; i < json_array_size(concat); i++) {
		if (i)
			strbuf_addstr(sb, " . ");
		if (!add_value(sb, json_array_get(concat, i),
			       json_string_value(json_array_get(type, i))))
			return false;
	}
	return true;
}

int nft_network_remove(const char *id, berth_err *err)
{
	if (!valid_id(id))
		return berth_error(err, EINVAL, "cannot remove network rules: invalid network id");
	_cleanup_free_ char *tag = xasprintf(TAG "%s", id);
	/* Maps (the per-container ones) are not in this listing: its size is
	 * the number of networks, not of containers. */
	_cleanup_json_ json_t *root = NULL;
	int r = list_json("list sets table " TABLE, &root, err);
	if (r < 0 && r != -ENOENT)
		return berth_error_wrap(err, "cannot remove network %.12s", id);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	size_t i, j;
	json_t *o, *e;
	json_array_foreach (json_object_get(root, "nftables"), i, o) {
		json_t *set = json_object_get(o, "set");
		const char *name = json_string_value(json_object_get(set, "name"));
		if (!name)
			continue;
		json_array_foreach (json_object_get(set, "elem"), j, e) {
			json_t *elem = json_object_get(e, "elem");
			const char *c = json_string_value(json_object_get(elem, "comment"));
			if (!c || strcmp(c, tag))
				continue;
			strbuf_addf(&sb, "delete element " TABLE " %s { ", name);
			if (!add_elem(&sb, json_object_get(elem, "val"),
				      json_object_get(set, "type")))
				return berth_error(err, EPROTO,
						   "cannot remove network %.12s: unexpected "
						   "element in set %s",
						   id, name);
			strbuf_addstr(&sb, " }\n");
		}
	}
	if (sb.len) {
		_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
		if (!ctx)
			return -ENOMEM;
		_cleanup_free_ char *what = xasprintf("cannot remove network %.12s", id);
		r = run(ctx, sb.buf, err, what);
		if (r < 0)
			return r;
	}
	return host_forward_remove(tag, false, err);
}

/* "8080/tcp" or "127.0.0.1:8080/tcp", as the user wrote it. */
static char *port_name(const struct nft_port *p)
{
	if (p->host_ip && *p->host_ip)
		return xasprintf("%s:%d/%s", p->host_ip, p->host_port, p->proto ? p->proto : "?");
	return xasprintf("%d/%s", p->host_port, p->proto ? p->proto : "?");
}

/* The data of one map element ("172.30.0.2 . 80"), or -ENOENT. libnftables
 * 1.0.6 answers `get element` in text even when asked for JSON. */
static int elem_data(const char *cmd, char **data)
{
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, NULL);
	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		struct nft_fail f;
		fail_parse(ctx, &f);
		int code = f.code;
		nft_fail_free(&f);
		return -code;
	}
	const char *out = nft_ctx_get_output_buffer(ctx);
	const char *e = out ? strstr(out, "elements = { ") : NULL;
	const char *colon = e ? strstr(e, " : ") : NULL;
	if (!colon)
		return -EPROTO;
	colon += strlen(" : ");
	*data = xstrndup(colon, strcspn(colon, ",}\n"));
	size_t len = strlen(*data);
	while (len > 0 && (*data)[len - 1] == ' ')
		(*data)[--len] = '\0';
	return 0;
}

/* The shared-map key of a port ("tcp . 8080" or "127.0.0.1 . tcp . 8080"),
 * its bookkeeping key (host 0.0.0.0 for "every") and its data. */
struct port_keys {
	bool any;
	char host[INET_ADDRSTRLEN];
	char ctr[INET_ADDRSTRLEN];
};

static int port_keys(const struct nft_port *p, struct port_keys *k)
{
	strcpy(k->host, "0.0.0.0");
	if (p->host_ip && *p->host_ip && parse_ipv4(p->host_ip, k->host) < 0)
		return -EINVAL;
	if (parse_ipv4(p->ctr_ip, k->ctr) < 0)
		return -EINVAL;
	k->any = !strcmp(k->host, "0.0.0.0");
	return 0;
}

/* On the error path only (libnftables 1.0.6 quotes the wrong line of a
 * buffer when the kernel refuses an element): the first port of p[] whose
 * shared entry exists and is not this container's; -1 when every existing
 * entry is in c-<ctr_id> with the same data, i.e. the ports were added before. */
static ssize_t port_taken(const char *ctr_id, const struct nft_port *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct port_keys k;
		if (port_keys(&p[i], &k) < 0)
			continue;
		_cleanup_free_ char *cmd;
		if (k.any)
			cmd = xasprintf("get element " TABLE " ports4 { %s . %d }", p[i].proto,
					p[i].host_port);
		else
			cmd = xasprintf("get element " TABLE " hostports4 { %s . %s . %d }", k.host,
					p[i].proto, p[i].host_port);
		_cleanup_free_ char *held = NULL, *mine = NULL, *own = NULL;
		if (elem_data(cmd, &held) < 0)
			continue;
		mine = xasprintf("%s . %d", k.ctr, p[i].ctr_port);
		if (strcmp(held, mine))
			return (ssize_t)i;
		/* Same data: this container's only if its own map says so. */
		_cleanup_free_ char *cmd2 = xasprintf("get element " TABLE " c-%s { %s . %s . %d }",
						      ctr_id, k.host, p[i].proto, p[i].host_port);
		if (elem_data(cmd2, &own) < 0 || strcmp(own, mine))
			return (ssize_t)i;
	}
	return -1;
}

/* The transaction that publishes p[]: the shared entries with `create` when
 * exclusive, so that a port another container holds is refused. */
static int ports_batch(const char *ctr_id, const struct nft_port *p, size_t n, bool exclusive,
		       struct strbuf *sb, berth_err *err)
{
	const char *verb = exclusive ? "create" : "add";
	strbuf_addf(sb,
		    "add map " TABLE " c-%s { type ipv4_addr . inet_proto . inet_service : "
		    "ipv4_addr . inet_service; }\n",
		    ctr_id);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name = port_name(&p[i]);
		struct port_keys k;
		if (!p[i].proto || (strcmp(p[i].proto, "tcp") && strcmp(p[i].proto, "udp")))
			return berth_error_code(err, EINVAL,
						"cannot add port %s: protocol is not tcp or udp",
						name);
		if (p[i].host_port < 1 || p[i].host_port > 65535 || p[i].ctr_port < 1 ||
		    p[i].ctr_port > 65535)
			return berth_error_code(err, EINVAL,
						"cannot add port %s: port out of range", name);
		if (port_keys(&p[i], &k) < 0)
			return berth_error_code(
				err, EINVAL,
				"cannot add port %s: invalid address (host %s, "
				"container %s)",
				name, p[i].host_ip && *p[i].host_ip ? p[i].host_ip : "any",
				p[i].ctr_ip ? p[i].ctr_ip : "none");
		/* The kernel would refuse the second one with a bare "File exists". */
		for (size_t j = 0; j < i; j++) {
			struct port_keys kj;
			if (port_keys(&p[j], &kj) == 0 && p[j].host_port == p[i].host_port &&
			    !strcmp(p[j].proto, p[i].proto) && !strcmp(kj.host, k.host))
				return berth_error_code(
					err, EINVAL, "cannot add port %s: published twice", name);
		}
		if (k.any)
			strbuf_addf(sb, "%s element " TABLE " ports4 { %s . %d : %s . %d }\n", verb,
				    p[i].proto, p[i].host_port, k.ctr, p[i].ctr_port);
		else
			strbuf_addf(sb,
				    "%s element " TABLE " hostports4 { %s . %s . %d : %s . %d }\n",
				    verb, k.host, p[i].proto, p[i].host_port, k.ctr, p[i].ctr_port);
		strbuf_addf(sb, "add element " TABLE " c-%s { %s . %s . %d : %s . %d }\n", ctr_id,
			    k.host, p[i].proto, p[i].host_port, k.ctr, p[i].ctr_port);
	}
	return 0;
}

int nft_ports_add(const char *ctr_id, const struct nft_port *p, size_t n, berth_err *err)
{
	if (!valid_id(ctr_id))
		return berth_error(err, EINVAL, "cannot add ports: invalid container id");
	if (n == 0)
		return 0;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = ports_batch(ctr_id, p, n, true, &sb, err);
	if (r < 0)
		return r;
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(ctx, sb.buf) == 0)
		return 0;
	struct nft_fail f;
	fail_parse(ctx, &f);
	ssize_t taken = f.code == EEXIST ? port_taken(ctr_id, p, n) : -1;
	if (f.code == EEXIST && taken < 0) {
		/* What exists is this container's own (added before): add the rest. */
		strbuf_reset(&sb);
		r = ports_batch(ctr_id, p, n, false, &sb, err);
		if (r == 0) {
			_cleanup_nft_ struct nft_ctx *again = ctx_open(false, err);
			if (!again)
				r = -ENOMEM;
			else
				r = run(again, sb.buf, err, "cannot add ports");
		}
	} else if (taken >= 0) {
		_cleanup_free_ char *name = port_name(&p[taken]);
		r = berth_error_code(err, f.code,
				     "cannot add port %s: already published by another container",
				     name);
	} else if (f.code == ENOENT) {
		r = berth_error_code(err, f.code,
				     "cannot add ports of container %.12s: no Berth network rules "
				     "(table " TABLE " is missing)",
				     ctr_id);
	} else if (n == 1) {
		_cleanup_free_ char *name = port_name(&p[0]);
		r = berth_error_code(err, f.code, "cannot add port %s: %s", name, f.msg);
	} else {
		r = berth_error_code(err, f.code, "cannot add ports of container %.12s: %s", ctr_id,
				     f.msg);
	}
	nft_fail_free(&f);
	return r;
}

int nft_ports_remove(const char *ctr_id, berth_err *err)
{
	if (!valid_id(ctr_id))
		return berth_error(err, EINVAL, "cannot remove ports: invalid container id");
	_cleanup_free_ char *cmd = xasprintf("list map " TABLE " c-%s", ctr_id);
	_cleanup_json_ json_t *root = NULL;
	int r = list_json(cmd, &root, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return berth_error_wrap(err, "cannot remove ports of container %.12s", ctr_id);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	size_t i, j;
	json_t *o, *e;
	json_array_foreach (json_object_get(root, "nftables"), i, o) {
		json_t *map = json_object_get(o, "map");
		json_array_foreach (json_object_get(map, "elem"), j, e) {
			/* [ {concat: [host, proto, port]}, data ] */
			json_t *key = json_object_get(json_array_get(e, 0), "concat");
			json_t *host = json_array_get(key, 0), *proto = json_array_get(key, 1),
			       *port = json_array_get(key, 2);
			if (json_array_size(key) != 3 || !json_is_string(host) ||
			    !(json_is_string(proto) || json_is_integer(proto)) ||
			    !(json_is_string(port) || json_is_integer(port)))
				return berth_error(err, EPROTO,
						   "cannot remove ports of container %.12s: "
						   "unexpected element in map c-%s",
						   ctr_id, ctr_id);
			if (!strcmp(json_string_value(host), "0.0.0.0"))
				strbuf_addstr(&sb, "delete element " TABLE " ports4 { ");
			else
				strbuf_addf(&sb, "delete element " TABLE " hostports4 { %s . ",
					    json_string_value(host));
			add_value(&sb, proto, NULL);
			strbuf_addstr(&sb, " . ");
			add_value(&sb, port, NULL);
			strbuf_addstr(&sb, " }\n");
		}
	}
	strbuf_addf(&sb, "delete map " TABLE " c-%s\n", ctr_id);
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
	if (!ctx)
		return -ENOMEM;
	_cleanup_free_ char *what = xasprintf("cannot remove ports of container %.12s", ctr_id);
	return run(ctx, sb.buf, err, what);
}

int nft_reset(berth_err *err)
{
	_cleanup_nft_ struct nft_ctx *ctx = ctx_open(false, err);
	if (!ctx)
		return -ENOMEM;
	/* `add` first makes the delete succeed when there is no table. */
	int r = run(ctx, "add table " TABLE "\ndelete table " TABLE "\n", err,
		    "cannot remove Berth's nftables table");
	if (r < 0)
		return r;
	return host_forward_remove(TAG, true, err);
}
