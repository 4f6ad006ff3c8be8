/* devices.h - device nodes and /dev symlinks inside the container's rootfs.
 *
 *   devices_create()    the default devices (null, zero, full, random, urandom, tty) and
 *                       linux.devices, made with mknod, or bind-mounted from the host's
 *                       node when mknod is not allowed (a new user namespace)
 *   devices_symlinks()  /dev/fd, /dev/std{in,out,err}, /dev/core and, when devpts is
 *                       mounted at /dev/pts, /dev/ptmx -> pts/ptmx
 */
#ifndef BERTH_OCI_DEVICES_H
#define BERTH_OCI_DEVICES_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

/* rootfd: the rootfs directory (O_PATH is fine); spec: the validated config.json. */
int devices_create(int rootfd, json_t *spec, bool new_userns, berth_err *err);
int devices_symlinks(int rootfd, bool devpts_at_dev_pts, berth_err *err);

#endif
