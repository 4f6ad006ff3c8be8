/* container.h - the OCI lifecycle operations, in-process.
 *
 * Everything the runtime CLI does is here, as library calls that return an
 * error instead of printing; `berth` will call the same functions.
 *
 *   container_create()   set up a container and leave its init waiting for start
 *   container_start()    let a created container's init exec the user process
 *   container_run()      create + start + wait (or detach); returns the exit code
 *   container_exec()     run another process in a running container
 *   container_kill()     send a signal to the init (or, all: every process)
 *   container_delete()   remove a stopped (or, force: any) container
 *   container_pause()    freeze / thaw every process of the container
 *   container_update()   change linux.resources of a live container
 *   container_state()    the runtime spec's state object
 *   container_list()     state objects of every container under root
 *   container_pids()     pids in the container's cgroup
 */
#ifndef BERTH_OCI_CONTAINER_H
#define BERTH_OCI_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct create_opts {
	const char *root;           /* runtime state root */
	const char *id;
	const char *bundle;         /* NULL: the current directory */
	json_t *spec;               /* the config, already parsed (borrowed): validated
	                             * instead of reading BUNDLE/config.json; NULL: read it */
	const char *console_socket; /* runc contract, may be NULL */
	const char *pid_file;
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool systemd_cgroup;
	bool detach; /* run: return once started */
	bool keep;   /* run: do not delete after exit */
};

struct exec_opts {
	const char *root;
	const char *id;
	json_t *process; /* a complete process object, owned by the caller */
	const char *console_socket;
	const char *pid_file;
	int preserve_fds;
	bool detach;
};

int container_create(const struct create_opts *o, berth_err *err);
int container_start(const char *root, const char *id, berth_err *err);
/* *exit_code: the container's status, 128+N when killed by signal N. */
int container_run(const struct create_opts *o, int *exit_code, berth_err *err);
int container_exec(const struct exec_opts *o, int *exit_code, berth_err *err);
int container_kill(const char *root, const char *id, int sig, bool all, berth_err *err);
int container_delete(const char *root, const char *id, bool force, berth_err *err);
int container_pause(const char *root, const char *id, bool pause, berth_err *err);
int container_update(const char *root, const char *id, json_t *resources, berth_err *err);
int container_state(const char *root, const char *id, json_t **out, berth_err *err);
int container_list(const char *root, json_t **out, berth_err *err);
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, berth_err *err);
/* The process object exec starts from: the container's own, for runc-style flag overrides. */
int container_process_template(const char *root, const char *id, json_t **out, berth_err *err);

#endif
