/* nft.c - Berth's firewall rules through libnftables, in-process.
 *
 * One `inet berth` table rather than `ip berth` + `ip6 berth`: a dual-stack
 * network is one transaction, the rules that do not care about the family
 * (forward by interface, DNS input) are written once, and nft_reset() has one
 * table to delete (inet NAT needs Linux 5.2). The rules are fixed; what a
 * network or a container adds is elements of sets and maps, each commented
 * "berth:<network or container id>". So adding or removing one is a single
 * netlink transaction that never flushes anything shared, several state roots
 * share the table without stepping on each other, and the kernel finds a
 * published port by a hash lookup instead of walking a rule per port.
 *
 *   sets    bridges, int_bridges (ifname); pairs (ifname . ifname);
 *           own4/own6 (subnet . bridge); masq4/masq6 (subnet of a
 *           non-internal network)
 *   maps    ports4 (proto . port : ctr ip . port) for "every local address",
 *           hostports4 (host ip . proto . port : ...) for one address
 *   chains  forward, input, prerouting, output, postrouting (base); dnat4
 *
 * Measured in a namespace with 1000 containers of 2 ports each (per call):
 * nft_ports_add 0.25 ms, nft_ports_remove 2 ms (0.2 ms with 10), both
 * through a kept context; nft_network_add 2-6 ms.
 *
 * Sections, in order:
 *   context       one kept nft_ctx; its error buffer as a one-line berth_err
 *   validation    ids, interface names, prefixes, addresses
 *   base          the table, sets, maps, chains and their fixed rules
 *   host forward  accept rules in the host's ip/ip6 filter FORWARD (dockerd)
 *   sysctls       ip_forward, route_localnet
 *   networks      nft_network_add, nft_network_remove
 *   ports         nft_ports_add; element dump, nft_ports_remove
 *   reset         nft_remove_if_unused, nft_reset
 */
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "net/lazy_nft.h"

#define TABLE   "inet berth"
#define TAG     "berth:"
#define ID_MAX  64 /* the tag, "berth:<id>", must fit an nft comment (128) */
#define IFNAMSZ 16

/* ---- context ----
 *
 * One context for the process, made on first use and kept: its netlink
 * socket stays open. Closing an nfnetlink socket makes the kernel finish the
 * release work of the last delete first, an RCU grace period (about 10 ms
 * per nft_ports_remove(), measured), and libnftables keeps its cache while
 * the ruleset's generation is unchanged. A lock makes it usable from several
 * threads; a child after fork() drops the inherited one and makes its own.
 * (The OCI runtime marks every fd close-on-exec before a container starts,
 * so the socket, which libnftables opens without O_CLOEXEC, does not leak.) */

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nft_ctx *ctx_shared;
static pid_t ctx_pid;

/* fork() while another thread runs a command would leave the child's lock
 * held forever: hold it across fork() instead. */
static void ctx_prefork(void)
{
	pthread_mutex_lock(&ctx_lock);
}

static void ctx_postfork(void)
{
	pthread_mutex_unlock(&ctx_lock);
}

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_init(void)
{
	pthread_atfork(ctx_prefork, ctx_postfork, ctx_postfork);
}

/* Called with ctx_lock held. */
static struct nft_ctx *ctx_get(void)
{
	pid_t pid = getpid();
	if (ctx_shared && ctx_pid != pid) {
		nft_ctx_free(ctx_shared);
		ctx_shared = NULL;
	}
	if (!ctx_shared) {
		struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!ctx)
			return NULL;
		if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
			nft_ctx_free(ctx);
			return NULL;
		}
		ctx_shared = ctx;
		ctx_pid = pid;
	}
	return ctx_shared;
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

/* The first error libnftables reported, as one line (after "Error: "). Which
 * command of a buffer it was is not told reliably: 1.0.6 quotes the first
 * line of the buffer for an error the kernel returns. */
struct nft_fail {
	char *msg;
	int code;
};

static void fail_parse(const char *buf, struct nft_fail *f)
{
	if (!buf)
		buf = "";
	const char *e = strstr(buf, "Error: ");
	const char *m = e ? e + strlen("Error: ") : buf;
	size_t len = strcspn(m, "\n");
	while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\r'))
		len--;
	f->msg = len ? xstrndup(m, len) : xstrdup("nftables failed without a message");
	f->code = code_of(f->msg);
}

/* Run a command buffer, with JSON output when json. On success *out (when
 * given) is a copy of the output; on failure, f (when given) the error, and
 * the result its -errno. */
static int nft_do(const char *buf, bool json, char **out, struct nft_fail *f)
{
	pthread_once(&ctx_once, ctx_init);
	pthread_mutex_lock(&ctx_lock);
	struct nft_ctx *ctx = ctx_get();
	if (!ctx) {
		pthread_mutex_unlock(&ctx_lock);
		const char *why = lazy_nft_error();
		if (f) {
			f->msg = why ? xasprintf("cannot load libnftables: %s (apt-get install "
						 "libnftables1)",
						 why)
				     : xstrdup("cannot make an nftables context");
			f->code = why ? ELIBACC : ENOMEM;
		}
		return why ? -ELIBACC : -ENOMEM;
	}
	nft_ctx_output_set_flags(ctx, json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
	int r = 0;
	/* Getting a buffer also empties it for the next run. */
	if (nft_run_cmd_from_buffer(ctx, buf) != 0) {
		struct nft_fail tmp;
		fail_parse(nft_ctx_get_error_buffer(ctx), &tmp);
		r = -tmp.code;
		if (f)
			*f = tmp;
		else
			free(tmp.msg);
	} else if (out) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		*out = xstrdup(o ? o : "");
	}
	nft_ctx_get_output_buffer(ctx);
	nft_ctx_get_error_buffer(ctx);
	pthread_mutex_unlock(&ctx_lock);
	return r;
}

/* Run a command buffer; on failure err is "<what>: <nft message>". */
static int run(const char *buf, berth_err *err, const char *what)
{
	struct nft_fail f;
	int r = nft_do(buf, false, NULL, &f);
	if (r == 0)
		return 0;
	r = berth_error_code(err, f.code, "%s: %s", what, f.msg);
	free(f.msg);
	return r;
}

/* Run a list command with JSON output and return the parsed document;
 * -ENOENT (err untouched) when the listed object does not exist. */
static int list_json(const char *cmd, json_t **out, berth_err *err)
{
	_cleanup_free_ char *text = NULL;
	struct nft_fail f;
	int r = nft_do(cmd, true, &text, &f);
	if (r < 0) {
		if (r != -ENOENT)
			berth_error_code(err, -r, "%s: %s", cmd, f.msg);
		free(f.msg);
		return r;
	}
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
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
	"add set " TABLE " pairs { type ifname . ifname; }\n"
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
	/* Within one bridge (routed: hairpin, or bridged with br_netfilter). */
	"add rule " TABLE " forward iifname . oifname @pairs accept\n"
	/* Internal networks: nothing in or out, before any accept below. */
	"add rule " TABLE " forward iifname @int_bridges drop\n"
	"add rule " TABLE " forward oifname @int_bridges drop\n"
	/* Published ports, from anywhere, other Berth networks included. */
	"add rule " TABLE " forward oifname @bridges ct status dnat accept\n"
	/* Networks are isolated from each other, as Docker's are. */
	"add rule " TABLE " forward iifname @bridges oifname @bridges drop\n"
	"add rule " TABLE " forward iifname @bridges accept\n"
	/* Into a network: replies, and nothing unasked (a host that routes to a
	 * container's address does not get around the published ports). */
	"add rule " TABLE " forward oifname @bridges ct state established,related accept\n"
	"add rule " TABLE " forward oifname @bridges drop\n"
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
		_cleanup_free_ char *what =
			xasprintf("cannot accept %s in %s filter FORWARD", n->bridge, fam);
		r = run(sb.buf, err, what);
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
		_cleanup_free_ char *what = xasprintf("cannot remove Berth's rules from %s filter "
						      "FORWARD",
						      fam);
		r = run(sb.buf, err, what);
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

/* ---- networks ---- */

/* Whether another network (its tag in *other) has this subnet already, on
 * any bridge: the two would share one masquerade element, and removing
 * one network would take it from the other. */
static int subnet_taken(const char *set, const char *prefix, const char *tag, char **other,
			berth_err *err)
{
	_cleanup_free_ char *cmd = xasprintf("list set " TABLE " %s", set);
	_cleanup_json_ json_t *root = NULL;
	int r = list_json(cmd, &root, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* nft prints a full-length prefix as a plain address. */
	size_t addrlen = strcspn(prefix, "/");
	bool full = !strcmp(prefix + addrlen, "/32") || !strcmp(prefix + addrlen, "/128");
	size_t i, j;
	json_t *o, *e;
	json_array_foreach (json_object_get(root, "nftables"), i, o) {
		json_array_foreach (json_object_get(json_object_get(o, "set"), "elem"), j, e) {
			json_t *elem = json_object_get(e, "elem");
			const char *c = json_string_value(json_object_get(elem, "comment"));
			json_t *net = json_array_get(
				json_object_get(json_object_get(elem, "val"), "concat"), 0);
			json_t *p = json_object_get(net, "prefix");
			_cleanup_free_ char *have = NULL;
			if (p)
				have = xasprintf(
					"%s/%lld", json_string_value(json_object_get(p, "addr")),
					(long long)json_integer_value(json_object_get(p, "len")));
			else if (json_is_string(net) && full)
				have = xasprintf("%s%s", json_string_value(net), prefix + addrlen);
			if (!c || !have || strcmp(have, prefix) || !strcmp(c, tag))
				continue;
			*other = xstrdup(c);
			return 1;
		}
	}
	return 0;
}

/* The table is every state root's: its removal when unused and a network's
 * add (which makes it) take this machine-wide lock, so one never deletes
 * what the other just made. */
static int table_lock(berth_err *err)
{
	const char *path = access("/run/lock", W_OK) == 0 ? "/run/lock/berth-nft.lock"
							    : "/run/berth-nft.lock";
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int r = berth_error_errno(err, "cannot lock %s", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

static int network_add_locked(const struct nft_net *n, berth_err *err);

int nft_network_add(const struct nft_net *n, berth_err *err)
{
	int lock = table_lock(err);
	if (lock < 0)
		return lock;
	int r = network_add_locked(n, err);
	close(lock);
	return r;
}

static int network_add_locked(const struct nft_net *n, berth_err *err)
{
	if (!n || !valid_id(n->id))
		return berth_error_code(err, EINVAL,
					"cannot add network rules: invalid network id");
	if (!valid_ifname(n->bridge))
		return berth_error_code(err, EINVAL,
					"cannot add network %.12s: invalid bridge name", n->id);
	char s4[INET6_ADDRSTRLEN + 8] = "", s6[INET6_ADDRSTRLEN + 8] = "";
	if (n->subnet4 && *n->subnet4 && parse_prefix(AF_INET, n->subnet4, s4, sizeof(s4)) < 0)
		return berth_error_code(err, EINVAL,
					"cannot add network %.12s: invalid IPv4 subnet %s", n->id,
					n->subnet4);
	if (n->subnet6 && *n->subnet6 && parse_prefix(AF_INET6, n->subnet6, s6, sizeof(s6)) < 0)
		return berth_error_code(err, EINVAL,
					"cannot add network %.12s: invalid IPv6 subnet %s", n->id,
					n->subnet6);

	const char *br = n->bridge, *id = n->id;
	_cleanup_free_ char *tag = xasprintf(TAG "%s", id);
	int r;
	for (int f = 0; f < 2; f++) {
		const char *prefix = f ? s6 : s4;
		_cleanup_free_ char *other = NULL;
		if (!*prefix)
			continue;
		r = subnet_taken(f ? "own6" : "own4", prefix, tag, &other, err);
		if (r < 0)
			return berth_error_wrap(err, "cannot add network %.12s", id);
		if (r > 0)
			return berth_error_code(err, EEXIST,
						"cannot add network %.12s: subnet %s is Berth "
						"network %.12s's already",
						id, prefix, other + strlen(TAG));
	}
	/* Per bridge, and needs it: checked before any rule is made. */
	if (*s4) {
		_cleanup_free_ char *path =
			xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", br);
		r = sysctl_on(path, err);
		if (r < 0)
			return berth_error_wrap(err, "cannot add network %.12s", id);
	}

	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, base_rules);
	strbuf_addf(&sb, "add element " TABLE " bridges { \"%s\" comment \"" TAG "%s\" }\n", br,
		    id);
	strbuf_addf(&sb, "add element " TABLE " pairs { \"%s\" . \"%s\" comment \"" TAG "%s\" }\n",
		    br, br, id);
	if (n->internal)
		strbuf_addf(&sb,
			    "add element " TABLE " int_bridges { \"%s\" comment \"" TAG "%s\" }\n",
			    br, id);
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
	struct nft_fail fail;
	r = nft_do(sb.buf, false, NULL, &fail);
	if (r < 0) {
		if (strstr(fail.msg, "overlaps"))
			r = berth_error_code(
				err, -r,
				"cannot add network %.12s: its subnet overlaps another "
				"Berth network's (%s)",
				id, fail.msg);
		else
			r = berth_error_code(err, -r, "cannot add network %.12s: %s", id, fail.msg);
		free(fail.msg);
		return r;
	}
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
	if (!json_is_array(range) || json_array_size(range) != 2 ||
	    !add_value(sb, json_array_get(range, 0), type))
		return false;
	strbuf_addch(sb, '-');
	return add_value(sb, json_array_get(range, 1), type);
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

/* The sets a network has elements in. */
static const char *const net_sets[] = { "bridges", "int_bridges", "pairs", "own4",
					"own6",    "masq4",       "masq6" };

int nft_network_remove(const char *id, berth_err *err)
{
	if (!valid_id(id))
		return berth_error_code(err, EINVAL,
					"cannot remove network rules: invalid network id");
	_cleanup_free_ char *tag = xasprintf(TAG "%s", id);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	/* One set a listing: libnftables then fetches that set's elements only,
	 * not the port maps' (and 1.0.6 fails a buffer of several listings). */
	for (size_t k = 0; k < ARRAY_SIZE(net_sets); k++) {
		_cleanup_free_ char *cmd = xasprintf("list set " TABLE " %s", net_sets[k]);
		_cleanup_json_ json_t *root = NULL;
		int r = list_json(cmd, &root, err);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return berth_error_wrap(err, "cannot remove network %.12s", id);
		size_t i, j;
		json_t *o, *e;
		json_array_foreach (json_object_get(root, "nftables"), i, o) {
			json_t *set = json_object_get(o, "set");
			json_array_foreach (json_object_get(set, "elem"), j, e) {
				json_t *elem = json_object_get(e, "elem");
				const char *c = json_string_value(json_object_get(elem, "comment"));
				if (!c || strcmp(c, tag))
					continue;
				strbuf_addf(&sb, "delete element " TABLE " %s { ", net_sets[k]);
				if (!add_elem(&sb, json_object_get(elem, "val"),
					      json_object_get(set, "type")))
					return berth_error(
						err, EPROTO,
						"cannot remove network %.12s: unexpected "
						"element in set %s",
						id, net_sets[k]);
				strbuf_addstr(&sb, " }\n");
			}
		}
	}
	if (sb.len) {
		_cleanup_free_ char *what = xasprintf("cannot remove network %.12s", id);
		int r = run(sb.buf, err, what);
		if (r < 0)
			return r;
	}
	return host_forward_remove(tag, false, err);
}

/* ---- ports ---- */

/* "8080/tcp" or "127.0.0.1:8080/tcp", as the user wrote it. */
static char *port_name(const struct nft_port *p)
{
	if (p->host_ip && *p->host_ip)
		return xasprintf("%s:%d/%s", p->host_ip, p->host_port, p->proto ? p->proto : "?");
	return xasprintf("%d/%s", p->host_port, p->proto ? p->proto : "?");
}

/* One element of a shared port map as `get element` prints it, e.g.
 * `tcp . 8080 comment "berth:<id>" : 172.30.0.2 . 80`: its tag and its data.
 * -ENOENT when absent. (libnftables 1.0.6 answers `get` in text even when
 * asked for JSON.) */
static int elem_get(const char *cmd, char **tag, char **data)
{
	_cleanup_free_ char *out = NULL;
	int r = nft_do(cmd, false, &out, NULL);
	if (r < 0)
		return r;
	const char *e = strstr(out, "elements = { ");
	const char *colon = e ? strstr(e, " : ") : NULL;
	if (!colon)
		return -EPROTO;
	const char *c = strstr(e, "comment \"");
	if (c && c < colon) {
		c += strlen("comment \"");
		*tag = xstrndup(c, strcspn(c, "\""));
	} else {
		*tag = xstrdup("");
	}
	colon += strlen(" : ");
	*data = xstrndup(colon, strcspn(colon, ",}\n"));
	size_t len = strlen(*data);
	while (len > 0 && (*data)[len - 1] == ' ')
		(*data)[--len] = '\0';
	return 0;
}

/* A port's addresses, canonical; host 0.0.0.0 (any) for "every local address". */
struct port_addrs {
	bool any;
	char host[INET_ADDRSTRLEN];
	char ctr[INET_ADDRSTRLEN];
};

static int port_addrs(const struct nft_port *p, struct port_addrs *k)
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
 * entry another container holds, or -1. Entries this container holds with
 * another target (it restarted with a new address and its ports were not
 * removed) are marked in stale[]. */
static ssize_t port_taken(const char *tag, const struct nft_port *p, size_t n, bool *stale)
{
	for (size_t i = 0; i < n; i++) {
		struct port_addrs k;
		stale[i] = false;
		if (port_addrs(&p[i], &k) < 0)
			continue;
		_cleanup_free_ char *cmd;
		if (k.any)
			cmd = xasprintf("get element " TABLE " ports4 { %s . %d }", p[i].proto,
					p[i].host_port);
		else
			cmd = xasprintf("get element " TABLE " hostports4 { %s . %s . %d }", k.host,
					p[i].proto, p[i].host_port);
		_cleanup_free_ char *held_tag = NULL, *held = NULL;
		if (elem_get(cmd, &held_tag, &held) < 0)
			continue;
		if (strcmp(held_tag, tag))
			return (ssize_t)i;
		_cleanup_free_ char *mine = xasprintf("%s . %d", k.ctr, p[i].ctr_port);
		stale[i] = strcmp(held, mine) != 0;
	}
	return -1;
}

/* The transaction that publishes p[], each entry commented with tag: with
 * `create`, so that a port another container holds is refused; or, once the
 * entries that exist are known to be this container's, with `add` after
 * deleting the stale ones. */
static int ports_batch(const char *tag, const struct nft_port *p, size_t n, const bool *stale,
		       struct strbuf *sb, berth_err *err)
{
	const char *verb = stale ? "add" : "create";
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name = port_name(&p[i]);
		struct port_addrs k;
		if (!p[i].proto || (strcmp(p[i].proto, "tcp") && strcmp(p[i].proto, "udp")))
			return berth_error_code(err, EINVAL,
						"cannot add port %s: protocol is not tcp or udp",
						name);
		if (p[i].host_port < 1 || p[i].host_port > 65535 || p[i].ctr_port < 1 ||
		    p[i].ctr_port > 65535)
			return berth_error_code(err, EINVAL,
						"cannot add port %s: port out of range", name);
		if (port_addrs(&p[i], &k) < 0)
			return berth_error_code(
				err, EINVAL,
				"cannot add port %s: invalid address (host %s, "
				"container %s)",
				name, p[i].host_ip && *p[i].host_ip ? p[i].host_ip : "any",
				p[i].ctr_ip ? p[i].ctr_ip : "none");
		/* The kernel would refuse the second one with a bare "File exists". */
		for (size_t j = 0; j < i; j++) {
			struct port_addrs kj;
			if (port_addrs(&p[j], &kj) == 0 && p[j].host_port == p[i].host_port &&
			    !strcmp(p[j].proto, p[i].proto) && !strcmp(kj.host, k.host))
				return berth_error_code(
					err, EINVAL, "cannot add port %s: published twice", name);
		}
		if (stale && stale[i] && k.any)
			strbuf_addf(sb, "delete element " TABLE " ports4 { %s . %d }\n", p[i].proto,
				    p[i].host_port);
		else if (stale && stale[i])
			strbuf_addf(sb, "delete element " TABLE " hostports4 { %s . %s . %d }\n",
				    k.host, p[i].proto, p[i].host_port);
		if (k.any)
			strbuf_addf(sb,
				    "%s element " TABLE
				    " ports4 { %s . %d comment \"%s\" : %s . %d }\n",
				    verb, p[i].proto, p[i].host_port, tag, k.ctr, p[i].ctr_port);
		else
			strbuf_addf(sb,
				    "%s element " TABLE
				    " hostports4 { %s . %s . %d comment \"%s\" : %s . %d }\n",
				    verb, k.host, p[i].proto, p[i].host_port, tag, k.ctr,
				    p[i].ctr_port);
	}
	return 0;
}

int nft_ports_add(const char *ctr_id, const struct nft_port *p, size_t n, berth_err *err)
{
	if (!valid_id(ctr_id))
		return berth_error_code(err, EINVAL, "cannot add ports: invalid container id");
	if (n == 0)
		return 0;
	_cleanup_free_ char *tag = xasprintf(TAG "%s", ctr_id);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = ports_batch(tag, p, n, NULL, &sb, err);
	if (r < 0)
		return r;
	struct nft_fail f;
	if (nft_do(sb.buf, false, NULL, &f) == 0)
		return 0;
	_cleanup_free_ bool *stale = xcalloc(n, sizeof(*stale));
	ssize_t taken = f.code == EEXIST ? port_taken(tag, p, n, stale) : -1;
	if (f.code == EEXIST && taken < 0) {
		/* What exists is this container's own: add the rest, mend the stale. */
		strbuf_reset(&sb);
		r = ports_batch(tag, p, n, stale, &sb, err);
		if (r == 0) {
			_cleanup_free_ char *what =
				xasprintf("cannot add ports of container %.12s", ctr_id);
			r = run(sb.buf, err, what);
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
	free(f.msg);
	return r;
}

/* ---- element dump ----
 *
 * To find one container's ports, libnftables would decode every element of
 * the table (about 45 ms per 1000 published ports, measured); the kernel
 * dumps one map's raw elements in a fraction of that. So nft_ports_remove()
 * reads ports4 and hostports4 with its own NFT_MSG_GETSETELEM dump and keeps
 * the keys whose comment is the container's tag; the deletes go through
 * libnftables like every change. */

/* nft keeps an element's comment in its userdata as a TLV of this type,
 * NUL included (libnftnl's NFTNL_UDATA_SET_ELEM_COMMENT). */
#define UDATA_ELEM_COMMENT 0

struct elem_dump {
	const char *tag;
	size_t keylen; /* the map's key size: elements of another size are refused */
	void (*found)(const uint8_t *key, void *data);
	void *data;
	int bad; /* an element that does not fit the map's key */
};

static bool udata_has_comment(const uint8_t *u, size_t len, const char *tag)
{
	size_t taglen = strlen(tag) + 1;
	for (size_t off = 0; off + 2 <= len;) {
		uint8_t type = u[off], l = u[off + 1];
		if (off + 2 + l > len)
			return false;
		if (type == UDATA_ELEM_COMMENT)
			return l == taglen && !memcmp(u + off + 2, tag, taglen);
		off += 2u + l;
	}
	return false;
}

static void dump_elem(const struct nlattr *elem, struct elem_dump *d)
{
	const struct nlattr *a, *key = NULL, *udata = NULL;
	mnl_attr_for_each_nested(a, elem)
	{
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY)
			key = a;
		else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_USERDATA)
			udata = a;
	}
	if (!key || !udata ||
	    !udata_has_comment(mnl_attr_get_payload(udata), mnl_attr_get_payload_len(udata),
			       d->tag))
		return;
	mnl_attr_for_each_nested(a, key)
	{
		if (mnl_attr_get_type(a) != NFTA_DATA_VALUE)
			continue;
		if (mnl_attr_get_payload_len(a) != d->keylen) {
			d->bad = 1;
			return;
		}
		d->found(mnl_attr_get_payload(a), d->data);
	}
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *e;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
		{
			if (mnl_attr_get_type(e) == NFTA_LIST_ELEM)
				dump_elem(e, data);
		}
	}
	return MNL_CB_OK;
}

/* The dump's socket is kept, like the context, and under the same lock:
 * closing it would wait for the kernel as well. */
static struct mnl_socket *dump_sock;
static pid_t dump_pid;

static struct mnl_socket *dump_sock_get(void)
{
	pid_t pid = getpid();
	if (dump_sock && dump_pid != pid) {
		mnl_socket_close(dump_sock);
		dump_sock = NULL;
	}
	if (!dump_sock) {
		struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
		if (!nl)
			return NULL;
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			mnl_socket_close(nl);
			return NULL;
		}
		dump_sock = nl;
		dump_pid = pid;
	}
	return dump_sock;
}

static int set_dump_locked(struct mnl_socket *nl, const char *set, struct elem_dump *d,
			   berth_err *err);

/* Call d->found for each key of inet berth's set whose comment is d->tag.
 * -ENOENT when the set (or the table) does not exist. */
static int set_dump_tagged(const char *set, struct elem_dump *d, berth_err *err)
{
	pthread_once(&ctx_once, ctx_init);
	pthread_mutex_lock(&ctx_lock);
	struct mnl_socket *nl = dump_sock_get();
	int r = nl ? set_dump_locked(nl, set, d, err)
		   : berth_error_errno(err, "cannot open a netfilter netlink socket");
	/* A dump left half read would feed the next one: start afresh. */
	if (r < 0 && r != -ENOENT && dump_sock) {
		mnl_socket_close(dump_sock);
		dump_sock = NULL;
	}
	pthread_mutex_unlock(&ctx_lock);
	return r;
}

static int set_dump_locked(struct mnl_socket *nl, const char *set, struct elem_dump *d,
			   berth_err *err)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	static uint32_t seq_next;
	uint32_t seq = ++seq_next;

	_cleanup_free_ char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "berth");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return berth_error_errno(err, "cannot list map %s", set);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_error_errno(err, "cannot list map %s", set);
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, d);
		if (r < 0) {
			if (errno == ENOENT)
				return -ENOENT;
			if (errno == EINTR) /* the set changed during the dump */
				return berth_error(err, EAGAIN, "cannot list map %s", set);
			return berth_error_errno(err, "cannot list map %s", set);
		}
		if (r == MNL_CB_STOP)
			break;
	}
	if (d->bad)
		return berth_error(err, EPROTO, "cannot list map %s: unexpected key size", set);
	return 0;
}

/* Keys as nft lays them out: each field in a 4-byte register, the port in
 * network order. */
static const char *proto_name(uint8_t proto, char *num)
{
	if (proto == 6)
		return "tcp";
	if (proto == 17)
		return "udp";
	sprintf(num, "%u", proto);
	return num;
}

static void found_any(const uint8_t *key, void *data)
{
	char num[4];
	uint16_t port = (uint16_t)(key[4] << 8 | key[5]);
	strbuf_addf(data, "delete element " TABLE " ports4 { %s . %u }\n", proto_name(key[0], num),
		    port);
}

static void found_host(const uint8_t *key, void *data)
{
	char num[4], ip[INET_ADDRSTRLEN];
	uint16_t port = (uint16_t)(key[8] << 8 | key[9]);
	inet_ntop(AF_INET, key, ip, sizeof(ip));
	strbuf_addf(data, "delete element " TABLE " hostports4 { %s . %s . %u }\n", ip,
		    proto_name(key[4], num), port);
}

int nft_ports_remove(const char *ctr_id, berth_err *err)
{
	if (!valid_id(ctr_id))
		return berth_error_code(err, EINVAL, "cannot remove ports: invalid container id");
	_cleanup_free_ char *tag = xasprintf(TAG "%s", ctr_id);
	_cleanup_free_ char *what = xasprintf("cannot remove ports of container %.12s", ctr_id);
	/* A concurrent remove of the same ports makes the deletes fail; read again. */
	for (int attempt = 0;; attempt++) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		struct elem_dump any = { tag, 8, found_any, &sb, 0 };
		struct elem_dump host = { tag, 12, found_host, &sb, 0 };
		int r = set_dump_tagged("ports4", &any, err);
		if (r == 0)
			r = set_dump_tagged("hostports4", &host, err);
		if (r == -ENOENT)
			return 0; /* no table: nothing published */
		if (r == -EAGAIN && attempt < 2) {
			berth_err_clear(err);
			continue;
		}
		if (r < 0)
			return berth_error_wrap(err, "%s", what);
		if (!sb.len)
			return 0;
		r = run(sb.buf, err, what);
		if (r != -ENOENT || attempt == 2)
			return r;
		berth_err_clear(err);
	}
}

/* ---- reset ---- */

int nft_remove_if_unused(berth_err *err)
{
	_cleanup_close_ int lock = table_lock(err);
	if (lock < 0)
		return lock;
	_cleanup_json_ json_t *root = NULL;
	int r = list_json("list table " TABLE, &root, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(root, "nftables"), i, o) {
		json_t *set = json_object_get(o, "set");
		if (!set)
			set = json_object_get(o, "map");
		if (json_array_size(json_object_get(set, "elem")) > 0)
			return 0; /* a network or port of some state root */
	}
	return run("delete table " TABLE "\n", err, "cannot remove Berth's nftables table");
}

int nft_reset(berth_err *err)
{
	/* `add` first makes the delete succeed when there is no table. */
	int r = run("add table " TABLE "\ndelete table " TABLE "\n", err,
		    "cannot remove Berth's nftables table");
	if (r < 0)
		return r;
	return host_forward_remove(TAG, true, err);
}
