/* seccomp_default.h - Berth's default seccomp profile, and Docker-format profiles.
 *
 * The default denies with EPERM what a container has no business calling
 * (kernel modules, reboot, the clock, keyrings, new namespaces, mounts...)
 * and allows the rest, with more allowed when the container holds the
 * capability that makes a call useful (CAP_SYS_ADMIN: mount, unshare...).
 * Equivalent in effect to Docker's default; written from the syscall table.
 *
 *   seccomp_default_profile()  the OCI linux.seccomp object for a bounding set
 *   seccomp_from_docker()      a Docker profile (archMap, includes/excludes by caps,
 *                              arches and kernel) -> the OCI linux.seccomp object
 */
#ifndef BERTH_ENGINE_SECCOMP_DEFAULT_H
#define BERTH_ENGINE_SECCOMP_DEFAULT_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"

/* caps: the container's bounding set, bit n for capability n. New reference. */
json_t *seccomp_default_profile(uint64_t caps);

/* profile: a parsed Docker seccomp profile; caps as above. The result is for the
 * running architecture and kernel. Errors name the field. */
int seccomp_from_docker(json_t *profile, uint64_t caps, json_t **out, berth_err *err);

#endif
