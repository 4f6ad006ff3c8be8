/* ipam.h - addresses of containers on networks: leases in berth.db (table
 * leases of the "networks" module, see network.h), one row per (network,
 * container, address family), the address its primary key, so two
 * containers never hold the same address however many berth processes
 * lease at once. Every lease and release is one BEGIN IMMEDIATE transaction.
 *
 *   ipam_lease()            the container's lease on a network: the one it has
 *                           (a restart, a re-run after a crash), or a new one:
 *                           the requested address or the lowest free one
 *   ipam_release()          drop its lease on one network (idempotent)
 *   ipam_release_all()      drop its leases on every network (idempotent)
 *   ipam_container_leases() a container's leases, one object a network
 *   ipam_network_leases()   a network's leases, one object a container
 *   ipam_lease_free()
 *
 * Address arithmetic, shared with network.c (pure functions):
 *   ipam_cidr_parse()       "a.b.c.d/n" or "x::/n" -> struct ipam_cidr; -EINVAL
 *                           when malformed; host_bits tells whether bits past
 *                           the prefix were set
 *   ipam_addr_parse()       an address without prefix
 *   ipam_addr_format()      malloc'd text of an address
 *   ipam_cidr_format()      malloc'd "network/bits"
 *   ipam_cidr_contains()    is the address inside the prefix
 *   ipam_cidr_overlap()     do two prefixes share an address
 *   ipam_cidr_last()        the prefix's last address (broadcast for IPv4)
 */
#ifndef BERTH_ENGINE_IPAM_H
#define BERTH_ENGINE_IPAM_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct engine;

/* An IPv4 address is held in the low 32 bits. */
typedef unsigned __int128 ipam_addr;

struct ipam_cidr {
	int family;     /* 4 or 6 */
	int bits;       /* prefix length */
	ipam_addr net;  /* the address with the host bits cleared */
	ipam_addr addr; /* the address as written ("172.18.0.1/16" for dockerd's --bip) */
	bool host_bits; /* addr != net */
};

int ipam_cidr_parse(const char *s, struct ipam_cidr *out);
int ipam_addr_parse(const char *s, int *family, ipam_addr *out);
char *ipam_addr_format(int family, ipam_addr a);
char *ipam_cidr_format(const struct ipam_cidr *c);
bool ipam_cidr_contains(const struct ipam_cidr *c, int family, ipam_addr a);
bool ipam_cidr_overlap(const struct ipam_cidr *a, const struct ipam_cidr *b);
ipam_addr ipam_cidr_last(const struct ipam_cidr *c);

struct ipam_lease {
	char *address; /* "172.18.0.2" */
	int prefix;
	char *gateway;
	/* "02:42:ac:12:00:02": 02:42 and the IPv4 address, as Docker; or the requested */
	char *mac;
	char *address6; /* NULL when the network has no IPv6 */
	int prefix6;
	char *gateway6;
	char *endpoint_id; /* 64 hex, Docker's EndpointID */
};

/* want4, want6, want_mac: NULL for automatic. A requested address must be in
 * the network's subnet (not necessarily its ip-range, as Docker: the range is
 * for automatic ones), not its network, broadcast or gateway address, and
 * free. endpoint (borrowed, may be NULL): stored as given (aliases...).
 * Refused on host and null networks (they have no addresses) and, for
 * requested addresses, on predefined networks (Docker's message). */
int ipam_lease(struct engine *e, const char *net_id, const char *ctr_id, const char *want4,
	       const char *want6, const char *want_mac, json_t *endpoint, struct ipam_lease *out,
	       berth_err *err);
int ipam_release(struct engine *e, const char *net_id, const char *ctr_id, berth_err *err);
int ipam_release_all(struct engine *e, const char *ctr_id, berth_err *err);
/* [{network_id, network (its name), container_id, address, prefix, gateway, mac,
 *   address6, prefix6, gateway6, endpoint_id, endpoint}], sorted by network name;
 * address6/gateway6 null without IPv6. */
int ipam_container_leases(struct engine *e, const char *ctr_id, json_t **arr, berth_err *err);
/* The same objects for every container on the network, sorted by container id. */
int ipam_network_leases(struct engine *e, const char *net_id, json_t **arr, berth_err *err);
void ipam_lease_free(struct ipam_lease *l);

#endif
