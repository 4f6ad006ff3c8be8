/* network.h - networks as records: the "networks" module of berth.db
 * (tables networks and leases; leases are ipam.h's). Docker's `network`
 * semantics and messages. No devices and no rules here: src/net makes
 * bridges and nftables rules from these records, and network_remove() asks
 * it to tear them down through network_teardown_hook.
 *
 * The predefined networks "bridge" (driver bridge, device --bridge or
 * berth0, subnet --bip or the first free pool), "host" and "none" are made on
 * first use of the module (network_default_id(), and every call that looks
 * networks up), idempotently: a second berth racing the first finds them.
 *
 *   network_create()       from Docker's NetworkCreate body; its id
 *   network_resolve()      full id, name, or unique id prefix -> id
 *   network_inspect_json() Docker's network inspect object
 *   network_list()         every network's inspect object, sorted by name
 *   network_remove()       refuses predefined networks and networks with leases
 *   network_prune()        remove the unused (no lease) non-predefined networks
 *   network_default_id()   make the predefined networks if needed; bridge's id
 *   network_get()          the record as a struct; network_info_free()
 *   network_migrate()      the module's tables, once a process (ipam.c's calls)
 *   network_random_hex()   ids: random bytes as hex
 *   network_teardown_hook  called by network_remove() with the network's id and
 *                          bridge device (NULL for host/null) inside the removing
 *                          transaction, before the row goes; a failure keeps it.
 *                          ctr_net_teardown() (rules, bridge, DNS responder);
 *                          NULL: nothing (unit tests)
 */
#ifndef BERTH_ENGINE_NETWORK_H
#define BERTH_ENGINE_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct engine;

int network_create(struct engine *e, json_t *req, char **id, berth_err *err);
int network_resolve(struct engine *e, const char *name_or_id, char **id, berth_err *err);
int network_inspect_json(struct engine *e, const char *id, json_t **out, berth_err *err);
int network_list(struct engine *e, json_t **arr, berth_err *err);
extern int (*network_teardown_hook)(struct engine *e, const char *id, const char *bridge,
				    berth_err *err);
int network_remove(struct engine *e, const char *id, berth_err *err);
/* label_filters: NULL or an array of "key", "key=value", "!key", "!key=value"
 * (label!=), all of which must hold. *removed: the names, NULL-terminated. */
int network_prune(struct engine *e, json_t *label_filters, char ***removed, berth_err *err);
int network_default_id(struct engine *e, char **id, berth_err *err);

struct network_info {
	char *id, *name, *driver, *bridge, *subnet4, *gateway4, *ip_range4, *subnet6, *gateway6;
	char *ip_range6;
	bool internal, ipv6, predefined;
	json_t *options; /* com.docker.network.* and the rest, as given; never NULL */
};
int network_get(struct engine *e, const char *id, struct network_info *out, berth_err *err);
void network_info_free(struct network_info *n);
static inline void cleanup_network_infop(struct network_info *n)
{
	network_info_free(n);
}
#define _cleanup_network_info_ __attribute__((cleanup(cleanup_network_infop)))

/* Shared with ipam.c: migrate the module's tables (once a process); random hex. */
int network_migrate(struct engine *e, berth_err *err);
char *network_random_hex(size_t bytes);

#endif
