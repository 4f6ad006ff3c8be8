/* engine_internal.h - what the engine's files share. Not for use outside src/engine/.
 *
 *   struct engine            paths, the database, the stores
 *   struct ctr_row           one row of the containers table, parsed
 *   ctr_row_load()           by full id; -ENOENT "No such container: ID"
 *   ctr_row_free()
 *   ctr_row_save_state()     write back the State JSON and the flags
 *   ctr_row_save_host_config()  write back the HostConfig JSON (update)
 *   ctr_row_delete()
 *   ctr_dir()/ctr_rundir()   ROOT/containers/ID and RUNROOT/containers/ID
 *   ctr_shm_path()           ROOT/containers/ID/shm, its /dev/shm with --ipc shareable
 *   ctr_cgroup_path()        its linux.cgroupsPath, "/berth/ID"
 *   ctr_lock()               flock RUNROOT/locks/ID: one lifecycle change at a time
 *   ctr_monitor_alive()      is its monitor's lock held? (the monitor or its exit command lives)
 *   ctr_read_exit()          RUNROOT/containers/ID/exit: code and time, -ENOENT when absent
 *   ctr_refresh()            reconcile the row with the monitor (engine.h)
 *   ctr_mount_rootfs()       mount its overlay (image layers + upper/work in dir) at rootfs
 *   ctr_cleanup()            after the container's init is gone: runtime state,
 *                            mount, run dir; records the exit in the row
 *   ctr_restart_in_place()   the restart policy's start: the calling exit command
 *                            becomes the container's new monitor (returns on failure only)
 *   ctr_sock_listen()        listen on RUNDIR/NAME, however long RUNDIR is
 *   ctr_attach_connect()     connect to a container's attach.sock and say HELLO with flags
 *   engine_now_rfc3339()     Docker's timestamp format (UTC, nanoseconds)
 *   health_effective()       Config.Healthcheck merged over the image's, field by field
 *   health_schedule()        the monitor's HEALTH argument ("0" when no checks)
 *   health_initial()         State.Health at start ({"Status":"starting"...}), or NULL
 *   engine_image_config()    the "config" object of an image's config blob
 *   ctr_row_save_networking()  write back the NetworkingConfig JSON
 *   struct ctr_net_plan      a start's endpoints on bridge networks and host ports
 *   ctr_net_*()              ctr_net.c: networks at create, start, exit, inspect
 *   ctr_ports_*()            ctr_ports.c: host ports reserved, released, shown
 */
#ifndef BERTH_ENGINE_INTERNAL_H
#define BERTH_ENGINE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "engine/engine.h"

struct engine {
	char *root;
	char *runroot;
	char *runtime_root; /* RUNROOT/runtime */
	char *self;
	char *monitor;
	char *init;
	char **global_args;
	struct image_store *store;
	sqlite3 *db;
	struct volume_store *volumes;
	char *default_bridge; /* --bridge: the "bridge" network's device when first made */
	char *default_bip;    /* --bip: its gateway/prefix when first made */
	bool networks_migrated;
	char *dns;        /* the berth-dns binary */
	bool ports_ready; /* host_ports migrated */
};

struct ctr_row {
	char *id;
	char *name; /* without Docker's leading '/' */
	char *image_id;
	char *image;
	char *created;
	json_t *config;
	json_t *host_config;
	json_t *networking;
	json_t *mounts;
	json_t *state; /* Docker's State object */
	bool user_stopped;
	int restart_count;
};

int ctr_row_load(struct engine *e, const char *id, struct ctr_row *row, berth_err *err);
void ctr_row_free(struct ctr_row *row);
static inline void cleanup_ctr_rowp(struct ctr_row *r)
{
	ctr_row_free(r);
}
#define _cleanup_ctr_row_ __attribute__((cleanup(cleanup_ctr_rowp)))
int ctr_row_save_state(struct engine *e, struct ctr_row *row, berth_err *err);
int ctr_row_save_host_config(struct engine *e, struct ctr_row *row, berth_err *err);
int ctr_row_delete(struct engine *e, const char *id, berth_err *err);

char *ctr_dir(struct engine *e, const char *id);
char *ctr_rundir(struct engine *e, const char *id);
char *ctr_cgroup_path(const char *id);
char *ctr_shm_path(struct engine *e, const char *id);
int ctr_lock(struct engine *e, const char *id, berth_err *err);
bool ctr_monitor_alive(struct engine *e, const char *id);
int ctr_read_exit(struct engine *e, const char *id, int *code, int64_t *when_ns);
int ctr_refresh(struct engine *e, struct ctr_row *row, berth_err *err);
int ctr_mount_rootfs(struct engine *e, struct ctr_row *row, const char *dir, const char *rootfs,
		     berth_err *err);
int ctr_cleanup(struct engine *e, struct ctr_row *row, berth_err *err);
void ctr_set_state(struct ctr_row *row, const char *status);
int ctr_restart_in_place(struct engine *e, struct ctr_row *row, berth_err *err);

int ctr_sock_listen(const char *dir, const char *name, int type, berth_err *err);
int ctr_attach_connect(struct engine *e, const char *id, unsigned flags, berth_err *err);
char *engine_time_rfc3339(int64_t ns);
char *engine_now_rfc3339(void);
json_t *engine_image_config(struct engine *e, const char *image_id, berth_err *err);
json_t *health_effective(json_t *config_hc, json_t *image_hc);
void health_schedule(json_t *config, char *buf, size_t len);
json_t *health_initial(json_t *config);

int ctr_row_save_networking(struct engine *e, struct ctr_row *row, berth_err *err);

/* ctr_net.c */
#include "engine/ipam.h"
struct strbuf;
struct ctr_endpoint {
	char *net_id, *net_name, *bridge;
	bool user_defined; /* its names are answered by the network's berth-dns */
	bool internal;
	struct ipam_lease lease;
	char host_if[16], ifname[16];
};
struct ctr_net_plan {
	struct ctr_endpoint *eps; /* eps[0]: the NetworkMode's, eth0, the default route */
	size_t n;
	json_t *ports; /* [{proto, host_ip, host_port, ctr_port}] reserved */
};
int ctr_net_resolve(struct engine *e, json_t *host_config, json_t *networking, berth_err *err);
int ctr_net_prepare(struct engine *e, struct ctr_row *row, json_t *image_config,
		    struct ctr_net_plan *p, berth_err *err);
int ctr_net_attach(const char *ctr_id, struct ctr_net_plan *p, pid_t pid, berth_err *err);
int ctr_net_release(struct engine *e, const char *id, berth_err *err);
json_t *ctr_net_settings(struct engine *e, struct ctr_row *row, bool running);
const char *ctr_net_resolver(struct ctr_net_plan *p);
void ctr_net_hosts(struct ctr_net_plan *p, const char *hostname, struct strbuf *sb);
void ctr_net_plan_free(struct ctr_net_plan *p);
void ctr_net_names_refresh(struct engine *e, const char *id);

/* ctr_ports.c */
int ctr_ports_reserve(struct engine *e, struct ctr_row *row, json_t *image_exposed, json_t **out,
		      berth_err *err);
int ctr_ports_release(struct engine *e, const char *id, berth_err *err);
json_t *ctr_ports_settings(struct engine *e, struct ctr_row *row, bool running);

#endif
