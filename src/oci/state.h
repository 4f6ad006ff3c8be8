/* state.h - a container's runtime state on disk, under the runtime --root.
 *
 *   ROOT/ID/state.json   what this runtime knows: pid, its start time, bundle,
 *                        cgroup paths, created time (rewritten at each step)
 *   ROOT/ID/config.json  the config it was created with (written once, updated by `update`)
 *   ROOT/ID/exec.fifo    exists while the container is "created"; start writes to it
 *
 * A container's live status is never stored: it is derived each time from the
 * init's pid (and its start time, so a recycled pid is not mistaken for it),
 * the fifo, and the freezer.
 *
 *   container_id_valid()   ids as runc accepts them ([A-Za-z0-9_+.-], no leading '.')
 *   mkdir_parents()        mkdir -p; 0 or a negative errno
 *   state_dir_create()     mkdir ROOT/ID exclusively ("container ID already exists")
 *   state_lock()           flock ROOT/ID for a lifecycle operation
 *   state_save()           write state.json atomically
 *   state_load()           read it back
 *   state_status()         "creating" "created" "running" "paused" "stopped"
 *   state_to_oci_json()    the runtime spec's state object (for `state`, hooks)
 *   state_remove()         remove ROOT/ID and what is in it
 *   proc_start_time()      field 22 of /proc/PID/stat, 0 if gone
 */
#ifndef BERTH_OCI_STATE_H
#define BERTH_OCI_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct cgroup_manager;

struct container_state {
	char *id;
	char *root_dir;  /* the runtime --root */
	char *dir;       /* ROOT/ID */
	pid_t pid;       /* the init, 0 before it exists */
	unsigned long long start_time;
	char *bundle;
	char *rootfs;
	char *created;   /* RFC 3339 */
	char *owner;
	bool ready;      /* create finished: until then the status is "creating" */
	bool started;    /* start was called (poststop hooks are due on delete) */
	json_t *config;  /* the validated config.json, owned */
	bool config_saved; /* ROOT/ID/config.json is current */
	bool locked;     /* this process holds ROOT/ID's lock */
	struct cgroup_manager *cgroup; /* owned, may be NULL */
};

bool container_id_valid(const char *id);
int mkdir_parents(const char *path, mode_t mode);
int state_dir_create(const char *root, const char *id, berth_err *err);
int state_lock(const char *dir, berth_err *err);
int state_save(const struct container_state *s, berth_err *err);
int state_load(const char *root, const char *id, struct container_state *s, berth_err *err);
const char *state_status(const struct container_state *s);
json_t *state_to_oci_json(const struct container_state *s, const char *status);
char *state_to_oci_string(const struct container_state *s, const char *status);
int state_remove(const char *dir, berth_err *err);
void container_state_release(struct container_state *s);
unsigned long long proc_start_time(pid_t pid);
char *rfc3339_now(void);

#endif
