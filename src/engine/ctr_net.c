/* ctr_net.c - a container's place on bridge networks.
 *
 * A container on bridge networks has a lease (address, mac) on each
 * (ipam.c), a veth from the network's bridge into its network namespace,
 * and, for published ports, DNAT rules (src/net/nft.c) and host ports
 * (ctr_ports.c). The leases
 * and ports live from the start to the end of the container's run:
 * ctr_cleanup() gives them back, so a killed start or monitor leaves nothing
 * that the next command does not reclaim. The veth needs no teardown: it
 * goes with the container's network namespace.
 *
 *   ctr_net_resolve()   at create: the networks named exist (their ids kept
 *                       in NetworkingConfig), and Docker's conflicts
 *   ctr_net_prepare()   at start, in the caller: leases, the bridge and its
 *                       rules when missing, a user network's DNS responder
 *                       and names, the host ports
 *   ctr_net_attach()    in the future monitor, once the namespace exists:
 *                       the veths and the ports' rules
 *   ctr_net_release()   the container's init is gone: ports, leases, names
 *   ctr_net_names_refresh()  after a rename: the names its networks answer
 *   ctr_net_settings()  inspect's NetworkSettings
 *   ctr_net_connect()   `network connect`: record, and attach when running
 *   ctr_net_disconnect()
 *   ctr_net_teardown()  a network is removed: its rules, bridge and responder
 *   ctr_net_plan_free()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "oci/state.h"
#include "common/rmtree.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/ipam.h"
#include "engine/network.h"
#include "image/db.h"
#include "net/netlink.h"
#include "net/nft.h"

/* ---- which networks ---------------------------------------------------- */

static const char *net_mode(json_t *host_config)
{
	const char *m = json_string_value(json_object_get(host_config, "NetworkMode"));
	return m && *m ? m : "default";
}

static bool mode_default(const char *m)
{
	return !strcmp(m, "default") || !strcmp(m, "bridge");
}

/* host, none and container:X have no endpoints of their own. */
static bool mode_private(const char *m)
{
	return !strcmp(m, "host") || !strcmp(m, "none") || !strncmp(m, "container:", 10);
}

int ctr_net_resolve(struct engine *e, json_t *host_config, json_t *networking, berth_err *err)
{
	const char *mode = net_mode(host_config);
	json_t *eps = json_object_get(networking, "EndpointsConfig");
	json_t *pb = json_object_get(host_config, "PortBindings");
	if (mode_private(mode)) {
		const char *key;
		json_t *v;
		json_object_foreach (eps, key, v)
			if (strcmp(key, mode) != 0)
				return berth_error_code(err, EINVAL,
							"conflicting options: cannot attach both "
							"user-defined and non-user-defined network-modes");
		if (strncmp(mode, "container:", 10) == 0 && json_object_size(pb) > 0)
			return berth_error_code(err, EINVAL,
						"conflicting options: port publishing and the "
						"container type network mode");
		return 0;
	}
	/* The NetworkMode's network first, then the others, each resolved. */
	_cleanup_json_ json_t *order = json_array();
	json_array_append_new(order, json_string(mode));
	const char *key;
	json_t *v;
	json_object_foreach (eps, key, v)
		if (strcmp(key, mode) != 0 && !(mode_default(mode) && mode_default(key)))
			json_array_append_new(order, json_string(key));
	size_t i;
	json_t *n;
	json_array_foreach (order, i, n) {
		const char *name = json_string_value(n);
		_cleanup_free_ char *id = NULL;
		int r = mode_default(name) ? network_default_id(e, &id, err)
					   : network_resolve(e, name, &id, err);
		if (r < 0)
			return r;
		_cleanup_network_info_ struct network_info info = { 0 };
		if ((r = network_get(e, id, &info, err)) < 0)
			return r;
		if (strcmp(info.driver, "bridge") != 0)
			return berth_error_code(err, EINVAL,
						"container cannot be disconnected from host network "
						"or connected to host network");
		if (!eps) {
			eps = json_object();
			json_object_set_new(networking, "EndpointsConfig", eps);
		}
		json_t *ep = json_object_get(eps, name);
		if (!ep && mode_default(name))
			ep = json_object_get(eps, strcmp(name, "bridge") ? "bridge" : "default");
		if (!ep) {
			ep = json_object();
			json_object_set_new(eps, name, ep);
		}
		json_t *ipam = json_object_get(ep, "IPAMConfig");
		bool static_ip = json_string_length(json_object_get(ipam, "IPv4Address")) > 0 ||
				 json_string_length(json_object_get(ipam, "IPv6Address")) > 0;
		if (info.predefined && static_ip)
			return berth_error_code(err, EINVAL,
						"user specified IP address is supported on user "
						"defined networks only");
		if (info.predefined && json_array_size(json_object_get(ep, "Aliases")) > 0)
			return berth_error_code(err, EINVAL,
						"network-scoped alias is supported only for "
						"containers in user defined networks");
		json_object_set_new(ep, "NetworkID", json_string(id));
	}
	return 0;
}

/* ---- bridges, rules, the DNS responder ----------------------------------- */

static char *net_rundir(struct engine *e, const char *net_id)
{
	return xasprintf("%s/networks/%s", e->runroot, net_id);
}

/* berth-dns holds dns.lock while it runs. */
static bool dns_running(const char *lockp, pid_t *pid)
{
	_cleanup_close_ int fd = open(lockp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return false;
	if (pid) {
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		*pid = n > 0 ? (pid_t)atol(buf) : 0;
	}
	return true;
}

/* Start the network's responder (detached: its own session, reparented to
 * init) and wait until it answers on TCP, so the first lookup of a container
 * started right after does not meet a closed port. */
static int dns_start(struct engine *e, struct network_info *n, const char *dir, berth_err *err)
{
	_cleanup_free_ char *lockp = xasprintf("%s/dns.lock", dir),
			    *names = xasprintf("%s/names", dir);
	if (dns_running(lockp, NULL))
		return 0;
	if (!e->dns || access(e->dns, X_OK) < 0)
		return berth_error_code(err, ENOENT,
					"cannot run berth-dns (%s) to resolve names on network %s",
					e->dns ? e->dns : "not found", n->name);
	pid_t child = fork();
	if (child < 0)
		return berth_error_errno(err, "fork");
	if (child == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close_range(3, ~0U, 0);
		execl(e->dns, "berth-dns", "--listen", n->gateway4, "--names", names, "--lock",
		      lockp, (char *)NULL);
		_exit(127);
	}
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, n->gateway4, &sa.sin_addr);
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int c = fd >= 0 ? connect(fd, (struct sockaddr *)&sa, sizeof(sa)) : -1;
		if (fd >= 0)
			close(fd);
		if (c == 0)
			return 0;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return berth_error_code(err, ETIMEDOUT, "the DNS responder of network %s did not start",
				n->name);
}

/* The bridge, its address and rules, and a user network's responder: made
 * by the first container that needs them (after a reboot too). */
static int network_ensure(struct engine *e, struct network_info *n, berth_err *err)
{
	bool user = !n->predefined;
	_cleanup_free_ char *dir = net_rundir(e, n->id);
	_cleanup_free_ char *lockp = xasprintf("%s/dns.lock", dir);
	if (net_link_index(n->bridge) > 0 && (!user || dns_running(lockp, NULL)))
		return 0;
	int r;
	if ((r = mkdir_parents(dir, 0700)) < 0)
		return berth_error(err, -r, "cannot create %s", dir);
	_cleanup_free_ char *lp = xasprintf("%s/lock", dir);
	_cleanup_close_ int lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return berth_error_errno(err, "cannot lock %s", lp);
	struct net_addr addrs[2];
	size_t na = 0;
	char cidr[64];
	if (n->gateway4 && n->subnet4) {
		snprintf(cidr, sizeof(cidr), "%s/%s", n->gateway4, strchr(n->subnet4, '/') + 1);
		if (net_addr_parse(cidr, &addrs[na]) == 0)
			na++;
	}
	if (n->gateway6 && n->subnet6 && strchr(n->subnet6, '/')) {
		snprintf(cidr, sizeof(cidr), "%s/%s", n->gateway6, strchr(n->subnet6, '/') + 1);
		if (net_addr_parse(cidr, &addrs[na]) == 0)
			na++;
	}
	_cleanup_free_ char *alias = xasprintf("berth network %s", n->id);
	if ((r = net_bridge_ensure(n->bridge, alias, addrs, na, 0, err)) < 0)
		return r;
	struct nft_net nn = {
		.id = n->id,
		.bridge = n->bridge,
		.subnet4 = n->subnet4,
		.subnet6 = n->ipv6 ? n->subnet6 : NULL,
		.internal = n->internal,
	};
	if ((r = nft_network_add(&nn, err)) < 0)
		return r;
	if (user && (r = dns_start(e, n, dir, err)) < 0)
		return r;
	return 0;
}

/* The names a user network's responder answers: "IP NAME..." per lease. */
static int names_write(struct engine *e, const char *net_id, berth_err *err)
{
	_cleanup_json_ json_t *leases = NULL;
	int r;
	if ((r = ipam_network_leases(e, net_id, &leases, err)) < 0)
		return r;
	struct strbuf sb;
	strbuf_init(&sb, 256);
	size_t i;
	json_t *l;
	json_array_foreach (leases, i, l) {
		json_t *ep = json_object_get(l, "endpoint");
		const char *addrs[] = { json_string_value(json_object_get(l, "address")),
					json_string_value(json_object_get(l, "address6")) };
		for (size_t a = 0; a < 2; a++) {
			if (!addrs[a] || !*addrs[a])
				continue;
			strbuf_addstr(&sb, addrs[a]);
			/* The container's name now (a rename), else the one at its start. */
			const char *now = json_string_value(json_object_get(l, "container"));
			const char *one[] = { now ? now : json_string_value(json_object_get(ep, "Name")),
					      json_string_value(json_object_get(ep, "Hostname")),
					      json_string_value(json_object_get(ep, "ShortID")) };
			for (size_t k = 0; k < 3; k++)
				if (one[k] && *one[k])
					strbuf_addf(&sb, " %s", one[k]);
			size_t j;
			json_t *al;
			json_array_foreach (json_object_get(ep, "Aliases"), j, al)
				strbuf_addf(&sb, " %s", json_string_value(al) ?: "");
			strbuf_addch(&sb, '\n');
		}
	}
	_cleanup_free_ char *dir = net_rundir(e, net_id);
	if ((r = mkdir_parents(dir, 0700)) < 0) {
		strbuf_release(&sb);
		return berth_error(err, -r, "cannot create %s", dir);
	}
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? berth_error_errno(err, "cannot open %s", dir)
		   : file_write_atomic_flags(fd, "names", sb.buf, sb.len, 0644, FILE_NO_SYNC, err);
	strbuf_release(&sb);
	return r;
}

/* A user network's names again, when it has a responder (a names file). */
static void names_refresh(struct engine *e, const char *net_id)
{
	if (!net_id)
		return;
	_cleanup_free_ char *dir = net_rundir(e, net_id);
	_cleanup_free_ char *names = xasprintf("%s/names", dir);
	if (access(names, F_OK) == 0)
		names_write(e, net_id, NULL);
}

/* The names of every network in leases (ipam_container_leases' objects). */
static void names_refresh_leases(struct engine *e, json_t *leases)
{
	size_t i;
	json_t *l;
	json_array_foreach (leases, i, l)
		names_refresh(e, json_string_value(json_object_get(l, "network_id")));
}

static int open_netns(pid_t pid, berth_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? berth_error_errno(err, "cannot open the container's network namespace")
		      : fd;
}

/* ---- start ---------------------------------------------------------------- */

static void endpoint_free(struct ctr_endpoint *ep)
{
	free(ep->net_id);
	free(ep->net_name);
	free(ep->bridge);
	ipam_lease_free(&ep->lease);
}

void ctr_net_plan_free(struct ctr_net_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		endpoint_free(&p->eps[i]);
	free(p->eps);
	json_decref(p->ports);
	memset(p, 0, sizeof(*p));
}

static void host_if_name(const char *id, char out[16])
{
	unsigned short r;
	while (getrandom(&r, sizeof(r), 0) != sizeof(r))
		;
	snprintf(out, 16, "bv%.8s%04x", id, r);
}

/* Endpoint of network net_id for the container: lease and bridge. */
static int endpoint_make(struct engine *e, struct ctr_row *row, const char *name, json_t *cfg,
			 struct ctr_endpoint *ep, berth_err *err)
{
	const char *net_id = json_string_value(json_object_get(cfg, "NetworkID"));
	_cleanup_free_ char *fallback = NULL;
	int r;
	if (!net_id) { /* recorded before networks were resolved at create */
		r = mode_default(name) ? network_default_id(e, &fallback, err)
				       : network_resolve(e, name, &fallback, err);
		if (r < 0)
			return r;
		net_id = fallback;
	}
	_cleanup_network_info_ struct network_info info = { 0 };
	if ((r = network_get(e, net_id, &info, err)) < 0)
		return r;
	json_t *ipam = json_object_get(cfg, "IPAMConfig");
	const char *want4 = json_string_value(json_object_get(ipam, "IPv4Address"));
	const char *want6 = json_string_value(json_object_get(ipam, "IPv6Address"));
	const char *mac = json_string_value(json_object_get(cfg, "MacAddress"));
	/* --mac-address is the NetworkMode network's, as in Docker (eth0) */
	if ((!mac || !*mac) && !strcmp(ep->ifname, "eth0"))
		mac = json_string_value(json_object_get(row->config, "MacAddress"));
	const char *hostname = json_string_value(json_object_get(row->config, "Hostname"));
	_cleanup_json_ json_t *epj = json_pack("{s:s,s:s}", "Name", row->name, "ShortID", "");
	char shortid[13];
	snprintf(shortid, sizeof(shortid), "%.12s", row->id);
	json_object_set_new(epj, "ShortID", json_string(shortid));
	if (hostname && *hostname)
		json_object_set_new(epj, "Hostname", json_string(hostname));
	json_t *aliases = json_object_get(cfg, "Aliases");
	if (aliases)
		json_object_set(epj, "Aliases", aliases);
	host_if_name(row->id, ep->host_if);
	json_object_set_new(epj, "HostIf", json_string(ep->host_if));
	json_object_set_new(epj, "IfName", json_string(ep->ifname));
	if ((r = ipam_lease(e, info.id, row->id, want4 && *want4 ? want4 : NULL,
			    want6 && *want6 ? want6 : NULL, mac && *mac ? mac : NULL, epj,
			    &ep->lease, err)) < 0)
		return r;
	ep->net_id = xstrdup(info.id);
	ep->net_name = xstrdup(info.name);
	ep->bridge = xstrdup(info.bridge);
	ep->user_defined = !info.predefined;
	ep->internal = info.internal;
	if ((r = network_ensure(e, &info, err)) < 0)
		return r;
	if (ep->user_defined && (r = names_write(e, info.id, err)) < 0)
		return r;
	return 0;
}

int ctr_net_prepare(struct engine *e, struct ctr_row *row, json_t *image_config,
		    struct ctr_net_plan *p, berth_err *err)
{
	const char *mode = net_mode(row->host_config);
	if (mode_private(mode))
		return 0;
	json_t *eps = json_object_get(row->networking, "EndpointsConfig");
	/* The NetworkMode's endpoint first: it has eth0 and the default route. */
	json_t *first = json_object_get(eps, mode);
	if (!first && mode_default(mode))
		first = json_object_get(eps, strcmp(mode, "bridge") ? "bridge" : "default");
	_cleanup_json_ json_t *empty = json_object();
	size_t max = json_object_size(eps) + 1;
	p->eps = xcalloc(max, sizeof(*p->eps));
	for (size_t i = 0; i < max; i++)
		snprintf(p->eps[i].ifname, sizeof(p->eps[i].ifname), "eth%u", (unsigned)(i % 1000));
	int r = endpoint_make(e, row, mode, first ? first : empty, &p->eps[0], err);
	if (r < 0)
		return r;
	p->n = 1;
	const char *key;
	json_t *v;
	json_object_foreach (eps, key, v) {
		if (v == first)
			continue;
		if ((r = endpoint_make(e, row, key, v, &p->eps[p->n], err)) < 0)
			return r;
		p->n++;
	}
	return ctr_ports_reserve(e, row, json_object_get(image_config, "ExposedPorts"), &p->ports, err);
}

static int mac_parse(const char *s, unsigned char mac[6])
{
	return s && sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
			   &mac[4], &mac[5]) == 6
		       ? 0
		       : -EINVAL;
}

static int endpoint_attach(int nsfd, const char *ctr_id, struct ctr_endpoint *ep, bool route,
			   berth_err *err)
{
	struct net_addr addrs[2], gw4, gw6;
	size_t na = 0;
	char cidr[64];
	struct ipam_lease *l = &ep->lease;
	if (l->address) {
		snprintf(cidr, sizeof(cidr), "%s/%d", l->address, l->prefix);
		if (net_addr_parse(cidr, &addrs[na]) == 0)
			na++;
	}
	if (l->address6) {
		snprintf(cidr, sizeof(cidr), "%s/%d", l->address6, l->prefix6);
		if (net_addr_parse(cidr, &addrs[na]) == 0)
			na++;
	}
	bool has4 = route && !ep->internal && l->gateway && net_addr_parse(l->gateway, &gw4) == 0;
	bool has6 = route && !ep->internal && l->gateway6 && net_addr_parse(l->gateway6, &gw6) == 0;
	unsigned char mac[6];
	_cleanup_free_ char *alias = xasprintf("berth %s %s", ctr_id, ep->net_id);
	struct net_veth v = {
		.host_name = ep->host_if,
		.alias = alias,
		.bridge = ep->bridge,
		.ifname = ep->ifname,
		.mac = mac_parse(l->mac, mac) == 0 ? mac : NULL,
		.addrs = addrs,
		.naddrs = na,
		.gw4 = has4 ? &gw4 : NULL,
		.gw6 = has6 ? &gw6 : NULL,
	};
	return net_veth_attach(nsfd, &v, err);
}

static int ports_apply(const char *ctr_id, struct ctr_endpoint *ep, json_t *ports, berth_err *err)
{
	size_t n = json_array_size(ports);
	if (n == 0 || !ep->lease.address)
		return 0;
	struct nft_port *np = xcalloc(n, sizeof(*np));
	size_t i;
	json_t *p;
	json_array_foreach (ports, i, p) {
		np[i].proto = json_string_value(json_object_get(p, "proto"));
		const char *ip = json_string_value(json_object_get(p, "host_ip"));
		np[i].host_ip = ip && strcmp(ip, "0.0.0.0") ? ip : NULL;
		np[i].host_port = (int)json_integer_value(json_object_get(p, "host_port"));
		np[i].ctr_ip = ep->lease.address;
		np[i].ctr_port = (int)json_integer_value(json_object_get(p, "ctr_port"));
	}
	int r = nft_ports_add(ctr_id, np, n, err);
	free(np);
	return r;
}

int ctr_net_attach(const char *ctr_id, struct ctr_net_plan *p, pid_t pid, berth_err *err)
{
	if (p->n == 0)
		return 0;
	_cleanup_close_ int nsfd = open_netns(pid, err);
	if (nsfd < 0)
		return nsfd;
	int r;
	for (size_t i = 0; i < p->n; i++)
		if ((r = endpoint_attach(nsfd, ctr_id, &p->eps[i], i == 0, err)) < 0)
			return r;
	return ports_apply(ctr_id, &p->eps[0], p->ports, err);
}

/* ---- after the run -------------------------------------------------------- */

int ctr_net_release(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_json_ json_t *leases = NULL;
	int r;
	if ((r = ctr_ports_release(e, id, err)) < 0)
		return r;
	if ((r = ipam_container_leases(e, id, &leases, err)) < 0)
		return r;
	if (json_array_size(leases) == 0)
		return 0;
	if ((r = ipam_release_all(e, id, err)) < 0)
		return r;
	names_refresh_leases(e, leases);
	return 0;
}

/* After a rename: the names files of the user networks it is on. */
void ctr_net_names_refresh(struct engine *e, const char *id)
{
	_cleanup_json_ json_t *leases = NULL;
	if (ipam_container_leases(e, id, &leases, NULL) == 0)
		names_refresh_leases(e, leases);
}

/* ---- inspect ------------------------------------------------------------- */

static json_t *endpoint_settings(json_t *cfg, json_t *lease)
{
	json_t *ep = json_object();
	json_t *ipam = json_object_get(cfg, "IPAMConfig");
	json_object_set_new(ep, "IPAMConfig", ipam ? json_incref(ipam) : json_null());
	json_object_set_new(ep, "Links", json_null());
	json_t *al = json_object_get(cfg, "Aliases");
	json_object_set_new(ep, "Aliases", al ? json_incref(al) : json_null());
	json_object_set_new(ep, "NetworkID",
			    json_string(json_string_value(json_object_get(cfg, "NetworkID")) ?: ""));
	const char *s;
#define LSTR(k) ((s = json_string_value(json_object_get(lease, k))) ? s : "")
	json_object_set_new(ep, "EndpointID", json_string(lease ? LSTR("endpoint_id") : ""));
	json_object_set_new(ep, "Gateway", json_string(LSTR("gateway")));
	json_object_set_new(ep, "IPAddress", json_string(LSTR("address")));
	json_object_set_new(ep, "IPPrefixLen",
			    json_integer(json_integer_value(json_object_get(lease, "prefix"))));
	json_object_set_new(ep, "IPv6Gateway", json_string(LSTR("gateway6")));
	json_object_set_new(ep, "GlobalIPv6Address", json_string(LSTR("address6")));
	json_object_set_new(ep, "GlobalIPv6PrefixLen",
			    json_integer(json_integer_value(json_object_get(lease, "prefix6"))));
	json_object_set_new(ep, "MacAddress", json_string(LSTR("mac")));
#undef LSTR
	json_object_set_new(ep, "DriverOpts", json_null());
	return ep;
}

json_t *ctr_net_settings(struct engine *e, struct ctr_row *row, bool running)
{
	json_t *ns = json_object();
	json_t *nets = json_object();
	const char *mode = net_mode(row->host_config);
	_cleanup_json_ json_t *leases = NULL;
	if (running)
		ipam_container_leases(e, row->id, &leases, NULL);
	json_t *primary = NULL;
	if (!strcmp(mode, "host") || !strcmp(mode, "none")) {
		json_object_set_new(nets, mode, endpoint_settings(NULL, NULL));
	} else if (!mode_private(mode)) {
		const char *key;
		json_t *cfg;
		json_object_foreach (json_object_get(row->networking, "EndpointsConfig"), key,
				     cfg) {
			const char *nid = json_string_value(json_object_get(cfg, "NetworkID"));
			json_t *lease = NULL;
			size_t i;
			json_t *l;
			json_array_foreach (leases, i, l)
				if (nid && !strcmp(json_string_value(json_object_get(
							   l, "network_id")) ?: "",
						   nid))
					lease = l;
			const char *name = mode_default(key) ? "bridge" : key;
			json_t *ep = endpoint_settings(cfg, lease);
			json_object_set_new(nets, name, ep);
			if (mode_default(key))
				primary = ep;
		}
	}
	json_object_set_new(ns, "Bridge", json_string(""));
	json_object_set_new(ns, "SandboxID", json_string(""));
	json_object_set_new(ns, "HairpinMode", json_false());
	json_object_set_new(ns, "LinkLocalIPv6Address", json_string(""));
	json_object_set_new(ns, "LinkLocalIPv6PrefixLen", json_integer(0));
	json_object_set_new(ns, "Ports", ctr_ports_settings(e, row, running));
	pid_t pid = (pid_t)json_integer_value(json_object_get(row->state, "Pid"));
	json_object_set_new(ns, "SandboxKey",
			    running && pid > 0 ? json_sprintf("/proc/%d/ns/net", (int)pid)
					       : json_string(""));
	json_object_set_new(ns, "SecondaryIPAddresses", json_null());
	json_object_set_new(ns, "SecondaryIPv6Addresses", json_null());
	/* The default bridge's endpoint also at the top, as Docker has it. */
	static const char *const top[] = { "EndpointID",	  "Gateway",
					   "GlobalIPv6Address",	  "GlobalIPv6PrefixLen",
					   "IPAddress",		  "IPPrefixLen",
					   "IPv6Gateway",	  "MacAddress" };
	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		json_t *v = primary ? json_object_get(primary, top[i]) : NULL;
		bool num = strstr(top[i], "PrefixLen") != NULL;
		json_object_set_new(ns, top[i],
				    v ? json_incref(v) : num ? json_integer(0) : json_string(""));
	}
	json_object_set_new(ns, "Networks", nets);
	return ns;
}

/* ---- the names and resolver a container sees ---------------------------- */

const char *ctr_net_resolver(struct ctr_net_plan *p)
{
	return p->n > 0 && p->eps[0].user_defined ? p->eps[0].lease.gateway : NULL;
}

void ctr_net_hosts(struct ctr_net_plan *p, const char *hostname, struct strbuf *sb)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->eps[i].lease.address)
			strbuf_addf(sb, "%s\t%s\n", p->eps[i].lease.address, hostname);
		if (p->eps[i].lease.address6)
			strbuf_addf(sb, "%s\t%s\n", p->eps[i].lease.address6, hostname);
	}
}

/* ---- connect, disconnect, teardown ---------------------------------------- */

int ctr_row_save_networking(struct engine *e, struct ctr_row *row, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db, "UPDATE containers SET networking = ? WHERE id = ?", &st, err) < 0)
		return -EIO;
	_cleanup_free_ char *s = json_dumps(row->networking, JSON_COMPACT);
	sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "recording the container's networks");
	return 0;
}

static bool row_running(struct ctr_row *row, pid_t *pid)
{
	const char *s = json_string_value(json_object_get(row->state, "Status")) ?: "";
	*pid = (pid_t)json_integer_value(json_object_get(row->state, "Pid"));
	return (!strcmp(s, "running") || !strcmp(s, "paused")) && *pid > 0;
}

/* connect's and disconnect's start: the container locked, loaded and
 * reconciled with its monitor, and the network's id. */
static int load_for_network(struct engine *e, const char *ctr, const char *net, int *lock,
			    struct ctr_row *row, char **nid, berth_err *err)
{
	_cleanup_free_ char *id = NULL;
	int r;
	if ((r = ctr_resolve(e, ctr, &id, err)) < 0)
		return r;
	if ((*lock = ctr_lock(e, id, err)) < 0)
		return *lock;
	if ((r = ctr_row_load(e, id, row, err)) < 0 || (r = ctr_refresh(e, row, err)) < 0)
		return r;
	if (!row->id)
		return berth_error_code(err, ENOENT, "No such container: %s", ctr);
	return network_resolve(e, net, nid, err);
}

int ctr_net_connect(struct engine *e, const char *ctr, const char *net, json_t *cfg,
		    berth_err *err)
{
	_cleanup_free_ char *nid = NULL;
	_cleanup_close_ int lock = -1;
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r = load_for_network(e, ctr, net, &lock, &row, &nid, err);
	if (r < 0)
		return r;
	const char *id = row.id;
	_cleanup_network_info_ struct network_info info = { 0 };
	if ((r = network_get(e, nid, &info, err)) < 0)
		return r;
	const char *mode = net_mode(row.host_config);
	if (mode_private(mode) || strcmp(info.driver, "bridge") != 0)
		return berth_error_code(err, EINVAL,
					"container sharing network namespace with another "
					"container or host cannot be connected to any other network");
	if (!row.networking)
		row.networking = json_object();
	json_t *eps = json_object_get(row.networking, "EndpointsConfig");
	if (!eps) {
		eps = json_object();
		json_object_set_new(row.networking, "EndpointsConfig", eps);
	}
	const char *key;
	json_t *v;
	json_object_foreach (eps, key, v)
		if (!strcmp(json_string_value(json_object_get(v, "NetworkID")) ?: "", nid))
			return berth_error_code(err, EEXIST,
						"endpoint with name %s already exists in network %s",
						row.name, info.name);
	json_t *ep = cfg ? json_deep_copy(cfg) : json_object();
	json_object_set_new(ep, "NetworkID", json_string(nid));
	json_t *ipam = json_object_get(ep, "IPAMConfig");
	if (info.predefined && (json_string_length(json_object_get(ipam, "IPv4Address")) > 0 ||
				json_array_size(json_object_get(ep, "Aliases")) > 0)) {
		json_decref(ep);
		return berth_error_code(err, EINVAL,
					"user specified IP address and network-scoped aliases are "
					"supported on user defined networks only");
	}
	const char *name = info.predefined && !strcmp(info.name, "bridge") ? "bridge" : info.name;
	json_object_set_new(eps, name, ep);
	pid_t pid;
	if (row_running(&row, &pid)) {
		struct ctr_endpoint one = { 0 };
		_cleanup_json_ json_t *cur = NULL;
		if ((r = ipam_container_leases(e, id, &cur, err)) < 0)
			return r;
		/* The next free ethN (a disconnect can leave a gap). */
		size_t k = 0;
		for (bool used = true; used; k += used) {
			char want[16];
			snprintf(want, sizeof(want), "eth%u", (unsigned)(k % 1000));
			used = false;
			size_t i;
			json_t *l;
			json_array_foreach (cur, i, l)
				if (!strcmp(json_string_value(json_object_get(
						    json_object_get(l, "endpoint"), "IfName")) ?: "",
					    want))
					used = true;
		}
		snprintf(one.ifname, sizeof(one.ifname), "eth%u", (unsigned)(k % 1000));
		r = endpoint_make(e, &row, name, ep, &one, err);
		if (r == 0) {
			_cleanup_close_ int nsfd = open_netns(pid, err);
			r = nsfd < 0 ? nsfd : endpoint_attach(nsfd, id, &one, false, err);
		}
		if (r < 0) {
			ipam_release(e, nid, id, NULL);
			names_refresh(e, nid);
		}
		endpoint_free(&one);
		if (r < 0)
			return r;
	}
	return ctr_row_save_networking(e, &row, err);
}

int ctr_net_disconnect(struct engine *e, const char *ctr, const char *net, bool force,
		       berth_err *err)
{
	_cleanup_free_ char *nid = NULL;
	_cleanup_close_ int lock = -1;
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r = load_for_network(e, ctr, net, &lock, &row, &nid, err);
	if (r < 0)
		return r;
	const char *id = row.id;
	json_t *eps = json_object_get(row.networking, "EndpointsConfig");
	const char *key;
	_cleanup_free_ char *found = NULL; /* a copy: the key goes with its entry */
	json_t *v;
	json_object_foreach (eps, key, v)
		if (!strcmp(json_string_value(json_object_get(v, "NetworkID")) ?: "", nid)) {
			free(found);
			found = xstrdup(key);
		}
	if (!found)
		return berth_error_code(err, ENOENT, "container %s is not connected to network %s",
					row.name, net);
	pid_t pid;
	if (row_running(&row, &pid)) {
		_cleanup_json_ json_t *cur = NULL;
		if ((r = ipam_container_leases(e, id, &cur, err)) < 0)
			return r;
		size_t i;
		json_t *l;
		json_array_foreach (cur, i, l) {
			if (strcmp(json_string_value(json_object_get(l, "network_id")) ?: "", nid))
				continue;
			const char *ifn = json_string_value(
				json_object_get(json_object_get(l, "endpoint"), "IfName"));
			_cleanup_close_ int nsfd = open_netns(pid, NULL);
			if (nsfd >= 0 && (r = net_ns_link_delete(nsfd, ifn ?: "eth0", err)) < 0 &&
			    !force)
				return r;
		}
		if ((r = ipam_release(e, nid, id, err)) < 0)
			return r;
		names_refresh(e, nid);
	}
	json_object_del(eps, found);
	/* The NetworkMode's network gone: the next one (or none) takes its place. */
	const char *mode = net_mode(row.host_config);
	if (!strcmp(mode, found) || (mode_default(mode) && mode_default(found))) {
		const char *next = NULL;
		json_object_foreach (eps, key, v) {
			next = key;
			break;
		}
		json_object_set_new(row.host_config, "NetworkMode", json_string(next ? next : "none"));
		if ((r = ctr_row_save_host_config(e, &row, err)) < 0)
			return r;
	}
	return ctr_row_save_networking(e, &row, err);
}

/* The network is being removed (no leases left): its rules, its bridge,
 * its responder and run dir. */
int ctr_net_teardown(struct engine *e, const char *net_id, const char *bridge, berth_err *err)
{
	int r;
	if ((r = nft_network_remove(net_id, err)) < 0)
		return r;
	if (bridge && *bridge && (r = net_link_delete(bridge, err)) < 0)
		return r;
	_cleanup_free_ char *dir = net_rundir(e, net_id);
	_cleanup_free_ char *lockp = xasprintf("%s/dns.lock", dir);
	pid_t pid = 0;
	if (dns_running(lockp, &pid) && pid > 1) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 200 && dns_running(lockp, NULL); i++) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	_cleanup_close_ int parent = -1;
	_cleanup_free_ char *pdir = xasprintf("%s/networks", e->runroot);
	parent = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent >= 0 && rm_rf_at(parent, net_id, err) < 0)
		return -EIO;
	return 0;
}
