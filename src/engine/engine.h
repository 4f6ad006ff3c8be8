/* engine.h - containers: create, start under a monitor, stop, remove, and
 * what `ps` and `inspect` show. No printing, no exit (DESIGN.md, Layers).
 *
 * A container is a row in berth.db (table containers: Docker's Config,
 * HostConfig, NetworkingConfig, resolved Mounts, and State as JSON) plus
 *   ROOT/containers/ID/      upper/ and work/ (its overlay layer), hosts,
 *                            hostname, resolv.conf, ID-json.log
 *   RUNROOT/containers/ID/   while it runs: rootfs/ (the overlay mount),
 *                            bundle config.json, monitor.lock (held by its
 *                            monitor for as long as it lives), attach.sock,
 *                            exit (status and time, written by the monitor)
 *   RUNROOT/runtime/ID/      the OCI runtime's state (src/oci)
 *
 * The truth about a started container is its monitor (DESIGN.md, State):
 * ctr_refresh() compares the row with the monitor's lock and exit file and
 * finishes what a killed monitor or CLI left (records the exit, removes
 * the runtime state and the mount, honours --rm).
 *
 *   engine_open()       on the image store's berth.db (migrates "containers")
 *   engine_close()
 *   engine_volumes()    the volume store (opened on first use)
 *
 *   ctr_create()        record a container from a create request; its id
 *   ctr_resolve()       a name, full id or unique id prefix -> id (Docker's errors)
 *   ctr_get()           the row, refreshed: Docker-shaped inspect JSON
 *   ctr_list()          every container (refreshed), newest first
 *   ctr_image_users()   ids of the containers made from an image (running_only:
 *                       those running), NULL-terminated
 *   ctr_start()         start it under a new monitor; with attach, an fd
 *                       connected to the monitor before the process runs
 *   ctr_kill()          send a signal to its init
 *   ctr_stop()          the stop signal, SIGKILL after timeout seconds
 *   ctr_wait()          block until it is not running; its exit code
 *   ctr_remove()        remove (force: kill first); volumes: its anonymous ones
 *   ctr_rename()
 *   ctr_pause()         freeze (or thaw) every process of a running container
 *   ctr_stats()         resource usage counters of a container (zeros unless running)
 *   ctr_update()        change HostConfig resources / restart policy, live when running
 *   ctr_attach()        an fd on a running container's attach socket (attach_proto.h flags)
 *   ctr_exec_user()     set an exec process's user from USER[:GROUP], resolved
 *                       in the container's own /etc/passwd and /etc/group
 *   ctr_attached_exited() after EXIT on an attach fd opened with take_cleanup:
 *                       record the exit and clean up (as ctr_monitor_exited()),
 *                       then tell the monitor it may go
 *   ctr_restore_all()   after a reboot: record the lost exits, start again the
 *                       containers whose restart policy says so; their names
 *   ctr_healthcheck()   one probe of the container's health check, recorded in
 *                       State.Health (what `berth container healthcheck` runs for
 *                       the monitor)
 *   ctr_changes()       what it changed in its image's filesystem, as `docker diff`
 *                       lists it (sorted by path)
 *   ctr_commit()        an image of its image plus its changes as one layer
 *   ctr_cp_open()       its filesystem as a directory fd (mounting it while the
 *                       container is stopped); ctr_cp_close() undoes that
 *   ctr_net_connect()   `network connect`: record the network (with an endpoint
 *                       config: IPAMConfig, Aliases), attach at once when running
 *   ctr_net_disconnect()
 *   ctr_net_teardown()  what a removed network leaves: rules, bridge, DNS responder
 *   engine_reset()      every container removed, every network torn down (reset.c)
 *   ctr_monitor_exited() what `berth container cleanup` does when a
 *                       monitor saw its container exit: record the exit, clean,
 *                       then remove (--rm) or restart (the restart policy)
 */
#ifndef BERTH_ENGINE_ENGINE_H
#define BERTH_ENGINE_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct engine;
struct image_store;
struct volume_store;

struct engine_paths {
	const char *root;         /* --root */
	const char *runroot;      /* --runroot */
	const char *self;         /* the berth binary (for the monitor's exit command) */
	const char *monitor;      /* the berth-monitor binary */
	const char *init;         /* the berth-init binary (--init) */
	const char *dns;          /* the berth-dns binary (user networks' names) */
	char *const *global_args; /* berth's global options to repeat in the exit command */
	const char *default_bridge; /* --bridge, or NULL */
	const char *default_bip;    /* --bip, or NULL */
};

int engine_open(const struct engine_paths *p, struct image_store *store, struct engine **out,
		berth_err *err);
void engine_close(struct engine *e);
struct volume_store *engine_volumes(struct engine *e, berth_err *err);

struct ctr_create_req {
	const char *name;     /* NULL: generated */
	const char *image_id; /* resolved by the caller (pull policy is the CLI's) */
	const char *image;    /* as the user typed it, for Config.Image */
	json_t *config;       /* Docker's Config, HostConfig, NetworkingConfig (borrowed) */
	json_t *host_config;
	json_t *networking;
};
int ctr_create(struct engine *e, const struct ctr_create_req *r, char **id, berth_err *err);
int ctr_resolve(struct engine *e, const char *name_or_id, char **id, berth_err *err);
int ctr_get(struct engine *e, const char *id, json_t **inspect, berth_err *err);
int ctr_list(struct engine *e, json_t **array, berth_err *err);
char **ctr_image_users(struct engine *e, const char *image_id, bool running_only);

struct ctr_start_opts {
	bool attach;       /* return *attach_fd connected before the process runs */
	bool want_stdin;   /* the attached client sends stdin */
	bool take_cleanup; /* the attached caller records the exit (ctr_attached_exited()),
			    * not the monitor's exit command: for containers without a
			    * restart policy, it saves an exec of berth on run's path */
	pid_t *monitor;    /* set to the monitor's pid (a child of the caller) */
};
int ctr_start(struct engine *e, const char *id, const struct ctr_start_opts *o, int *attach_fd,
	      berth_err *err);
int ctr_kill(struct engine *e, const char *id, int sig, berth_err *err);
/* timeout < 0: Config.StopTimeout, else 10. sig 0: Config.StopSignal, else SIGTERM. */
int ctr_stop(struct engine *e, const char *id, int timeout, int sig, berth_err *err);
/* timeout_ms < 0: forever. -ETIMEDOUT when it still runs. */
int ctr_wait(struct engine *e, const char *id, int timeout_ms, int *exit_code, berth_err *err);
int ctr_remove(struct engine *e, const char *id, bool force, bool volumes, berth_err *err);
int ctr_rename(struct engine *e, const char *id, const char *new_name, berth_err *err);
int ctr_pause(struct engine *e, const char *id, bool pause, berth_err *err);

/* Cumulative counters: two samples give docker's CPU % (cpu delta over
 * system delta, times the CPUs). */
struct ctr_stats {
	bool running;
	uint64_t cpu_ns;    /* CPU time of the container's cgroup */
	uint64_t system_ns; /* the host's CPU time since boot (/proc/stat) */
	unsigned online_cpus;
	uint64_t mem_usage;      /* without the inactive page cache, as docker */
	uint64_t mem_limit;      /* the host's memory when unlimited */
	uint64_t net_rx, net_tx; /* its interfaces but loopback */
	uint64_t blk_read, blk_write;
	uint64_t pids;
};
int ctr_stats(struct engine *e, const char *id, struct ctr_stats *out, berth_err *err);
/* changes: HostConfig members to set (Memory, NanoCpus, RestartPolicy...). */
int ctr_update(struct engine *e, const char *id, json_t *changes, berth_err *err);
int ctr_attach(struct engine *e, const char *id, unsigned flags, berth_err *err);
int ctr_exec_user(struct engine *e, const char *id, const char *user, json_t *process,
		  berth_err *err);
struct ctr_change {
	char kind; /* 'A', 'C' or 'D' */
	char *path;
};
int ctr_changes(struct engine *e, const char *id, struct ctr_change **out, size_t *n,
		berth_err *err);
void ctr_changes_free(struct ctr_change *c, size_t n);
struct ctr_commit_opts {
	const char *author;
	const char *comment;
	const char *const *changes; /* Dockerfile instructions (`commit -c`), NULL-terminated */
	const char *tag;            /* canonical ref, or NULL */
	bool pause;                 /* freeze a running container while its layer is packed */
};
int ctr_commit(struct engine *e, const char *id, const struct ctr_commit_opts *o, char **image_id,
	       berth_err *err);
struct ctr_fs;
int ctr_cp_open(struct engine *e, const char *id, struct ctr_fs **out, int *rootfd, berth_err *err);
void ctr_cp_close(struct ctr_fs *fs);
int ctr_monitor_exited(struct engine *e, const char *id, berth_err *err);
int ctr_healthcheck(struct engine *e, const char *id, berth_err *err);
int ctr_restore_all(struct engine *e, char ***started, berth_err *err);
int ctr_attached_exited(struct engine *e, const char *id, int attach_fd, berth_err *err);

/* Paths of a container's files, malloc'd. */
char *ctr_log_path(struct engine *e, const char *id);
const char *engine_runtime_root(struct engine *e);

int ctr_net_connect(struct engine *e, const char *ctr, const char *net, json_t *cfg,
		    berth_err *err);
int ctr_net_disconnect(struct engine *e, const char *ctr, const char *net, bool force,
		       berth_err *err);
int ctr_net_teardown(struct engine *e, const char *net_id, const char *bridge, berth_err *err);
int engine_reset(struct engine *e, berth_err *err);

#endif
