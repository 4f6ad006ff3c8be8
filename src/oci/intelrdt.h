/* intelrdt.h - linux.intelRdt through the resctrl filesystem.
 *
 * Where the host has no resctrl (no Intel RDT / AMD QoS, or not mounted at
 * /sys/fs/resctrl) a config asking for it is refused with an error naming
 * linux.intelRdt, never skipped.
 *
 *   intelrdt_validate()  types of the intelRdt object
 *   intelrdt_apply()     make (or reuse, with closID) the resctrl group, write schemata, add pid
 *   intelrdt_remove()    remove the group made for this container (not a shared closID one)
 */
#ifndef BERTH_OCI_INTELRDT_H
#define BERTH_OCI_INTELRDT_H

#include <jansson.h>
#include <sys/types.h>

#include "common/error.h"

int intelrdt_validate(json_t *rdt, berth_err *err);
int intelrdt_apply(json_t *rdt, const char *id, pid_t pid, berth_err *err);
void intelrdt_remove(json_t *rdt, const char *id);

#endif
