/* netlink.h - Berth's in-process rtnetlink (over libmnl): addresses, bridges,
 * veth pairs into a container's network namespace, and finding leftovers.
 * No `ip` child processes: this runs on the hot path of `berth run`.
 *
 * Every call opens one netlink socket for its sequence of requests, asks an
 * ack for each and reports the first failure as "cannot OPERATION IFNAME:
 * cause" (with the kernel's extended ack text when it gives one).
 *
 *   net_addr_parse()        "10.1.2.3/24", "10.1.2.3" (/32), "fd00::1/64" (/128 without prefix)
 *   net_addr_format()       the address, with "/prefix" when asked
 *   net_link_index()        ifindex of a host link, -ENODEV when absent
 *   net_bridge_ensure()     create or update a bridge (alias, mtu, addresses, up); idempotent,
 *                           safe against a concurrent caller
 *   net_link_delete()       delete a host link; absent is success
 *   net_veth_attach()       a veth pair: host end on a bridge, peer made inside a netns under
 *                           its final name, configured there (lo, mac, addresses, routes);
 *                           all or nothing
 *   net_ns_link_delete()    delete a link inside a netns; absent is success
 *   net_links_with_alias()  host links whose alias starts with a prefix (Berth's leftovers)
 */
#ifndef BERTH_NET_NETLINK_H
#define BERTH_NET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct net_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

/* Longest net_addr_format() output, with prefix and the NUL. */
#define NET_ADDR_STRLEN (46 + 4)

/* -EINVAL on junk (bad address, prefix out of range, trailing text). */
int net_addr_parse(const char *s, struct net_addr *a);
void net_addr_format(const struct net_addr *a, bool with_prefix, char *buf, size_t len);

/* > 0, or -ENODEV. */
int net_link_index(const char *name);

/* Create the bridge if absent (EEXIST from a racing creator is fine), set
 * IFLA_IFALIAS to alias (a tag like "berth network <id>"), mtu if > 0, add
 * each address (EEXIST fine), bring it up. */
int net_bridge_ensure(const char *name, const char *alias, const struct net_addr *addrs,
		      size_t naddrs, int mtu, berth_err *err);

/* Absent is success. */
int net_link_delete(const char *name, berth_err *err);

struct net_veth {
	const char *host_name; /* host end, e.g. "bv1a2b3c4d5e01" (<= 15 chars) */
	const char *alias;  /* IFLA_IFALIAS of the host end: "berth <container-id> <network-id>" */
	const char *bridge; /* master of the host end */
	const char *ifname; /* name inside the namespace, e.g. "eth0" */
	const unsigned char *mac; /* 6 bytes for the inside end, or NULL (kernel's random) */
	const struct net_addr *addrs;
	size_t naddrs;                    /* inside addresses with prefix */
	const struct net_addr *gw4, *gw6; /* default routes inside, or NULL */
	int mtu;                          /* 0: the bridge's */
};

/* Create the veth pair with the peer directly in the namespace of netns_fd
 * under its final name, the host end enslaved to the bridge and up; inside:
 * lo up, the peer's mac, addresses (IPv6 without DAD), up, default route(s).
 * The calling thread enters the namespace only to open a socket there. On
 * any failure the host end (and so the peer) is deleted: nothing half-made
 * stays. A host end that already exists is an error and is left alone. */
int net_veth_attach(int netns_fd, const struct net_veth *v, berth_err *err);

/* Delete link ifname inside the namespace (for `network disconnect`). Absent is success. */
int net_ns_link_delete(int netns_fd, const char *ifname, berth_err *err);

/* Names of host links whose IFLA_IFALIAS starts with alias_prefix.
 * NULL-terminated, free with strv_free (common/cleanup.h). */
int net_links_with_alias(const char *alias_prefix, char ***names, berth_err *err);

#endif
