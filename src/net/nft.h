/* nft.h - Berth's firewall rules through libnftables, in-process (no nft child).
 *
 * Everything lives in one `inet berth` table (see nft.c for the layout); a
 * network's and a container's entries are elements of its sets and maps,
 * tagged so that removal is exact and many state roots can share the machine.
 *
 *   nft_network_add()     NAT, forwarding, DNS input and sysctls for a bridge network
 *   nft_network_remove()  drop that network's entries (idempotent)
 *   nft_ports_add()       publish a container's ports (DNAT, hairpin, 127.0.0.1)
 *   nft_ports_remove()    unpublish that container's ports (idempotent)
 *   nft_remove_if_unused()  the table, when no state root has anything in it
 *   nft_reset()           remove everything Berth made
 */
#ifndef BERTH_NET_NFT_H
#define BERTH_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct nft_net {
	const char *id;      /* 64-hex network id */
	const char *bridge;  /* the bridge's interface name */
	const char *subnet4; /* "172.30.0.0/16" or NULL */
	const char *subnet6; /* "fd00:1::/64" or NULL */
	bool internal;       /* no way out: traffic stays within the bridge */
};

/* Idempotent. Makes the table and its base chains when missing and adds this
 * network: masquerade of its subnets leaving by another interface (not when
 * internal); forwarding out of its bridge, into it only for replies and
 * published ports, none to or from other Berth networks (internal: only
 * within the bridge); DNS (udp/tcp 53) from the bridge to its own address
 * accepted; ip_forward (not when internal) and route_localnet on the bridge,
 * which must exist. When the host has an `ip filter FORWARD` (or ip6) chain,
 * e.g. iptables-nft with dockerd's policy drop, an accept for the bridge is
 * inserted there, commented "berth:<id>". */
int nft_network_add(const struct nft_net *n, berth_err *err);

/* Idempotent: removes what nft_network_add() made for this id, including the
 * rules in ip/ip6 filter FORWARD. */
int nft_network_remove(const char *id, berth_err *err);

struct nft_port {
	const char *proto;   /* "tcp" | "udp" */
	const char *host_ip; /* NULL, "" or "0.0.0.0" = every local address; else an IPv4 */
	int host_port;
	const char *ctr_ip; /* IPv4 */
	int ctr_port;
};

/* DNAT of each port, for packets to a local address (or only host_ip) coming
 * from outside, from containers (hairpin) or from the host itself (127.0.0.1
 * included), each entry commented "berth:<ctr_id>". A port another container
 * holds is an error naming it, and nothing of this call is added (one
 * transaction). Adding again is idempotent: new ports are added, and one this
 * container holds with another target (a restart with a new address) is
 * pointed at the new one. */
int nft_ports_add(const char *ctr_id, const struct nft_port *p, size_t n, berth_err *err);

/* Idempotent: removes exactly the ports nft_ports_add() published for ctr_id. */
int nft_ports_remove(const char *ctr_id, berth_err *err);

/* Delete the table when none of its sets and maps holds an element (no
 * network or port of any state root is left); a machine-wide lock keeps a
 * concurrent nft_network_add() from losing what it makes. */
int nft_remove_if_unused(berth_err *err);

/* Remove everything Berth made: the table, the tagged rules in ip/ip6 filter FORWARD. */
int nft_reset(berth_err *err);

#endif
