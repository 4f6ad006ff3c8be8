/* selfexec.h - run the runtime from a sealed in-memory copy of itself.
 *
 * A process inside a container can see the runtime while it joins the
 * container (`exec`) and could open /proc/PID/exe to overwrite the binary on
 * the host (runc's CVE-2019-5736). Executing from a memfd that is sealed
 * against writes makes that handle point at an immutable copy instead.
 *
 *   selfexec_ensure_sealed()   if not already running from a sealed memfd, copy
 *                              /proc/self/exe into one, seal it, and re-exec with
 *                              the same argv/envp; returns only when already sealed
 *                              or on error
 *   selfexec_is_sealed()       true when /proc/self/exe is a sealed memfd
 */
#ifndef BERTH_OCI_SELFEXEC_H
#define BERTH_OCI_SELFEXEC_H

#include <stdbool.h>

#include "common/error.h"

bool selfexec_is_sealed(void);
int selfexec_ensure_sealed(char **argv, char **envp, berth_err *err);

#endif
