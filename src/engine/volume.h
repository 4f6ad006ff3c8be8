/* volume.h - named volumes: `volumes/<name>/_data` under the root, rows in
 * berth.db (table volumes: name, driver "local", created, labels, options,
 * anonymous flag), Docker's `volume` command semantics.
 *
 * Crash safety: the row is inserted in the same transaction that renames
 * a fully made tmp directory into volumes/; a directory without a row is
 * removed by the next volume command.
 *
 *   volume_store_open()   on berth.db (migrates the "volumes" module)
 *   volume_store_close()
 *   volume_create()       create (or, when it exists, return) a volume; name NULL:
 *                         an anonymous one with a 64-hex name
 *   volume_create_used()  the same, recording user as its user in the same
 *                         transaction, so no prune or rm can take it before
 *                         the container records its mounts
 *   volume_get()          a volume's inspect JSON (Name, Driver, Mountpoint,
 *                         CreatedAt, Labels, Scope, Options), -ENOENT with
 *                         "no such volume: NAME"
 *   volume_list()         all volumes' inspect JSON
 *   volume_check_name()   Docker's rule for a local volume's name, with its message
 *   volume_mountpoint()   the _data path of an existing volume
 *   volume_is_anonymous() made without a name (or carrying Docker's anonymous label)
 *   volume_users()        the containers recorded as using a volume
 *   volume_set_users()    record which container uses a volume (for rm/prune/in use checks)
 *   volume_remove()       remove; -EBUSY "remove NAME: volume is in use - [IDS]" even
 *                         with force (as Docker); force makes a missing volume success
 *   volume_prune()        remove unused anonymous volumes (all unused with all_volumes);
 *                         names removed and bytes reclaimed
 */
#ifndef BERTH_ENGINE_VOLUME_H
#define BERTH_ENGINE_VOLUME_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct volume_store;

int volume_store_open(sqlite3 *db, const char *root, struct volume_store **out, berth_err *err);
void volume_store_close(struct volume_store *v);
int volume_create(struct volume_store *v, const char *name, json_t *labels, json_t *options,
		  char **mountpoint, char **out_name, berth_err *err);
int volume_create_used(struct volume_store *v, const char *name, json_t *labels, json_t *options,
		       const char *user, char **mountpoint, char **out_name, berth_err *err);
int volume_get(struct volume_store *v, const char *name, json_t **out, berth_err *err);
int volume_list(struct volume_store *v, json_t **out, berth_err *err);
int volume_check_name(const char *name, berth_err *err);
int volume_mountpoint(struct volume_store *v, const char *name, char **out, berth_err *err);
bool volume_is_anonymous(struct volume_store *v, const char *name);
/* NULL-terminated container ids, sorted. */
int volume_users(struct volume_store *v, const char *name, char ***users, berth_err *err);
/* Replace the set of volumes container_id uses (NULL-terminated names; NULL: none). */
int volume_set_users(struct volume_store *v, const char *container_id, const char *const *names,
		     berth_err *err);
int volume_remove(struct volume_store *v, const char *name, bool force, berth_err *err);
/* label_filters: NULL or an array of "key", "key=value", "!key", "!key=value". */
int volume_prune(struct volume_store *v, bool all_volumes, json_t *label_filters, char ***removed,
		 uint64_t *reclaimed, berth_err *err);

#endif
