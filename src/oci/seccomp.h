/* seccomp.h - the OCI seccomp object compiled to BPF through libseccomp.
 *
 * Compiling a Docker-sized profile costs milliseconds, so the program is
 * cached: the key is the SHA-256 of the seccomp JSON (as serialised with
 * sorted keys, compact) plus the architecture; the value, under cache_dir,
 * is the raw BPF written atomically. A repeat start reads the file and
 * loads it with seccomp(2) directly.
 *
 *   seccomp_validate()       check the object (actions, architectures, flags, ops) naming the field
 *   seccomp_prepare()        compile or load from cache (in the runtime, before clone)
 *   seccomp_install()        load the filter in the calling thread (in the container's init)
 *   seccomp_notify_send()    hand the listener fd to listenerPath with the container state (SCM_RIGHTS)
 *   seccomp_notify_state()   the container process state JSON that seccomp_notify_send() sends
 *   seccomp_prog_free()
 */
#ifndef BERTH_OCI_SECCOMP_H
#define BERTH_OCI_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct seccomp_prog {
	void *insns;        /* struct sock_filter[] */
	size_t len;         /* number of instructions */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* from "flags" */
	bool notify;        /* an action is SCMP_ACT_NOTIFY: install returns a listener fd */
	bool from_cache;    /* for tests and benchmarks */
};

int seccomp_validate(json_t *seccomp, berth_err *err);
/* cache_dir may be NULL (no cache). */
int seccomp_prepare(json_t *seccomp, const char *cache_dir, struct seccomp_prog **out,
		    berth_err *err);
/* *listener_fd is set to the notify fd (or -1). Must be async-signal-safe enough for a
 * child after clone: no allocation. */
int seccomp_install(const struct seccomp_prog *p, int *listener_fd, berth_err *err);
/* state_json: the container state as the spec defines for the listener (ociVersion, fds,
 * pid, metadata, state). */
int seccomp_notify_send(const char *listener_path, int listener_fd, const char *state_json,
			berth_err *err);
/* {"ociVersion","fds":["seccompFd"],"pid","metadata" (listenerMetadata),"state"} compact,
 * malloc'd; state (may be NULL) is the runtime state object of the container. */
char *seccomp_notify_state(json_t *seccomp, int pid, json_t *state);
void seccomp_prog_free(struct seccomp_prog *p);

#endif
