/* cgroup.h - the container's control groups behind one ops table.
 *
 * Three host layouts are handled: legacy v1, hybrid (v1 controllers plus a
 * v2 "unified" mount, as on Debian 12 hosts with systemd's hybrid setting),
 * and pure v2. The cgroupfs driver writes the files directly; a systemd-style
 * cgroupsPath "slice:prefix:name" is accepted and mapped onto cgroupfs paths
 * (slice/prefix-name.scope) so callers that pass --systemd-cgroup still work.
 *
 * Resources are given as the OCI "linux.resources" JSON object. A resource
 * that cannot be applied is an error naming it (e.g.
 * "linux.resources.memory.swap: this host has no swap accounting"); never a
 * silent skip.
 *
 *   cgroup_detect_mode()    which layout this host has
 *   cgroup_manager_new()    resolve cgroupsPath for container id (nothing created yet)
 *   cgroup_plan()           note which directories create will make, to be saved before it
 *                           does (a runtime killed in between leaves them known)
 *   cgroup_create()         make the cgroup directories (and move pid in, if pid > 0)
 *   cgroup_enter()          move another pid into the existing cgroups
 *   cgroup_join_fds()       open, in the runtime, the files through which a child
 *                           moves itself in (v1 "tasks", v2 "cgroup.procs")
 *   cgroup_join_self()      in that child: write "0" to each. Through v1 "tasks" this
 *                           skips the kernel's global threadgroup lock and its RCU
 *                           grace period (~10 ms here). Works after the child has
 *                           entered the container's mount namespace.
 *   cgroup_v2_fd()          an fd of the v2 directory, for clone3(CLONE_INTO_CGROUP)
 *   cgroup_apply()          write linux.resources (create and update)
 *   cgroup_freeze()         freeze / thaw (pause, resume), waiting until settled
 *   cgroup_is_frozen()      current freezer state
 *   cgroup_pids()           all pids in the container's cgroup (recursive)
 *   cgroup_kill_all()       signal every pid in the cgroup
 *   cgroup_destroy()        remove the directories (retrying EBUSY briefly)
 *   cgroup_stats()          runc "events --stats" shaped usage numbers
 *   cgroup_to_json()        persist into state.json
 *   cgroup_manager_from_json()  reload from state.json
 *   cgroup_mount()          mount the "cgroup" filesystem type at a dest inside a rootfs
 *   cgroup_remove_stale()   kill what is in a container's cgroup and remove its
 *                           directories, when its runtime state is gone (after a
 *                           reboot-like loss of the runroot)
 *   cgroup_manager_free()
 */
#ifndef BERTH_OCI_CGROUP_H
#define BERTH_OCI_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

enum cgroup_mode { CGROUP_MODE_LEGACY, CGROUP_MODE_HYBRID, CGROUP_MODE_UNIFIED };

struct cgroup_manager;

/* The driver a manager uses; one per host layout. */
struct cgroup_ops {
	const char *name;
	int (*create)(struct cgroup_manager *m, pid_t pid, berth_err *err);
	int (*enter)(struct cgroup_manager *m, pid_t pid, berth_err *err);
	int (*apply)(struct cgroup_manager *m, json_t *resources, berth_err *err);
	int (*freeze)(struct cgroup_manager *m, bool freeze, berth_err *err);
	int (*is_frozen)(struct cgroup_manager *m, bool *frozen, berth_err *err);
	int (*pids)(struct cgroup_manager *m, pid_t **pids, size_t *n, berth_err *err);
	int (*destroy)(struct cgroup_manager *m, berth_err *err);
	int (*stats)(struct cgroup_manager *m, json_t **out, berth_err *err);
	int (*mount)(struct cgroup_manager *m, int destfd, const char *dest, unsigned long flags,
		     bool new_cgroupns, berth_err *err);
};

enum cgroup_mode cgroup_detect_mode(void);

/* cgroups_path as in config.json (may be NULL: defaults to "/berth/<id>"). systemd:
 * interpret it as "slice:prefix:name". */
int cgroup_manager_new(const char *cgroups_path, const char *id, bool systemd,
		       struct cgroup_manager **out, berth_err *err);
void cgroup_plan(struct cgroup_manager *m);
int cgroup_create(struct cgroup_manager *m, pid_t pid, berth_err *err);
int cgroup_enter(struct cgroup_manager *m, pid_t pid, berth_err *err);
/* skip_v2: the process will be cloned into the v2 directory. Returns a
 * -1-terminated array of fds (malloc'd) or NULL with err set. */
int *cgroup_join_fds(struct cgroup_manager *m, bool skip_v2, berth_err *err);
int cgroup_join_self(const int *fds, berth_err *err);
void cgroup_join_fds_close(int *fds);
/* -1 when the host has no v2 hierarchy; the caller closes it. */
int cgroup_v2_fd(struct cgroup_manager *m);
int cgroup_apply(struct cgroup_manager *m, json_t *resources, berth_err *err);
int cgroup_freeze(struct cgroup_manager *m, bool freeze, berth_err *err);
int cgroup_is_frozen(struct cgroup_manager *m, bool *frozen, berth_err *err);
int cgroup_pids(struct cgroup_manager *m, pid_t **pids, size_t *n, berth_err *err);
int cgroup_kill_all(struct cgroup_manager *m, int sig, berth_err *err);
int cgroup_destroy(struct cgroup_manager *m, berth_err *err);
int cgroup_stats(struct cgroup_manager *m, json_t **out, berth_err *err);
json_t *cgroup_to_json(const struct cgroup_manager *m);
int cgroup_manager_from_json(json_t *j, struct cgroup_manager **out, berth_err *err);
/* destfd: O_PATH fd of the mount point, already resolved inside the rootfs. */
int cgroup_mount(struct cgroup_manager *m, int destfd, const char *dest, unsigned long flags,
		 bool new_cgroupns, berth_err *err);
/* Validate a linux.resources object without touching the host (for create's checks). */
int cgroup_resources_validate(json_t *resources, berth_err *err);
void cgroup_manager_free(struct cgroup_manager *m);
int cgroup_remove_stale(const char *cgroups_path, const char *id, berth_err *err);

#endif
