/* container_internal.h - what the runtime and the container's first process share.
 *
 * The runtime (parent) and the process it clones talk over a SOCK_SEQPACKET
 * socketpair, one message per step:
 *
 *   parent -> child  SYNC_GO          uid/gid maps written, cgroup joined
 *   child  -> parent SYNC_HOOKS       mounts done: run prestart/createRuntime hooks
 *   parent -> child  SYNC_HOOKS_DONE
 *   child  -> parent SYNC_PTY         the pty master rides along (SCM_RIGHTS)
 *   child  -> parent SYNC_READY       set up; about to wait for start
 *   parent -> child  SYNC_START       (run only) go ahead without the exec fifo
 *   child  -> parent SYNC_ERROR       text: what failed; the child then exits
 *   intermediate -> parent SYNC_PID   the pid of the real child (joined namespaces)
 *   parent -> child  SYNC_COMMITTED   (create/run) state.json records the init: from now
 *                                     on it outlives the runtime (until then it dies with it)
 *   child  -> parent SYNC_UNTIED      done: the runtime may exit without taking the init along
 *
 * The socket is close-on-exec: EOF after SYNC_START means the user process
 * was exec'd.
 *
 *   sync_send()/sync_recv()   one message; recv fails with the child's text on SYNC_ERROR
 *   sync_send_error()         report a berth_err to the parent
 *   init_main()               the container's init, after clone; does not return
 *   exec_child_main()         the process of `exec`, after joining; does not return
 *   process_*()               process attributes applied by both (process.c)
 */
#ifndef BERTH_OCI_CONTAINER_INTERNAL_H
#define BERTH_OCI_CONTAINER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/caps.h"

struct seccomp_prog;
struct cgroup_manager;

enum sync_type {
	SYNC_GO = 1,
	SYNC_HOOKS,
	SYNC_HOOKS_DONE,
	SYNC_PTY,
	SYNC_READY,
	SYNC_START,
	SYNC_ERROR,
	SYNC_PID,
	SYNC_COMMITTED,
	SYNC_UNTIED,
};

struct sync_msg {
	uint32_t type;
	int32_t value; /* pid for SYNC_PID, errno for SYNC_ERROR */
};

int sync_send(int sock, enum sync_type type, int32_t value, const char *text, int fd);
/* Waits for a message of type want; SYNC_ERROR becomes an error with the child's text.
 * *fd receives an attached fd (or -1) when fd is not NULL; *value the value. */
int sync_recv(int sock, enum sync_type want, int32_t *value, int *fd, berth_err *err);
void sync_send_error(int sock, const berth_err *e);

/* Everything the child needs, prepared by the parent before clone. */
struct init_args {
	int lock_fd;              /* the runtime's lock on the state dir: the child closes it */
	json_t *spec;
	json_t *process;          /* spec.process, or the exec process */
	const char *id;
	const char *rootfs;       /* absolute */
	const char *bundle;       /* absolute */
	int sync_fd;
	int fifo_fd;              /* O_RDONLY|O_NONBLOCK exec.fifo, -1 for run and exec */
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool new_userns;
	bool new_netns;
	int *cgroup_fds;          /* cgroup_join_fds(): the child joins its cgroup through them */
	bool new_cgroupns;
	bool new_mntns;
	bool wait_socket;         /* run: wait for SYNC_START instead of the fifo */
	bool is_exec;
	struct seccomp_prog *seccomp;
	struct cgroup_manager *cgroup;
	struct caps_sets caps;
	bool has_caps;
};

void __attribute__((noreturn)) init_main(struct init_args *a);
/* Die with the runtime (PR_SET_PDEATHSIG) until setup is committed. */
void child_tie_to_runtime(const struct init_args *a);
void __attribute__((noreturn)) exec_child_main(struct init_args *a);

/* container.c helpers shared with exec.c */
int pidfd_open_checked(pid_t pid, unsigned long long start_time);
pid_t clone_child(unsigned long flags, int cgfd);
void warn_ungrantable_caps(struct caps_sets *caps);
void block_forwarded_signals(sigset_t *mask, sigset_t *old);
int wait_forwarding(pid_t pid, const sigset_t *mask);
pid_t start_tty_proxy(int master);
int wait_exec(int sync_fd, berth_err *err);

/* process.c */
int process_resolve_exec(json_t *process, char **path, berth_err *err);
char **process_envp(json_t *process);
int process_set_attrs(const struct init_args *a, berth_err *err);
int process_set_user_caps(const struct init_args *a, berth_err *err);
int process_final_fds(int preserve_fds, berth_err *err);
int process_open_tty(const struct init_args *a, berth_err *err);
void __attribute__((noreturn)) process_exec(const struct init_args *a, const char *path);

#endif
