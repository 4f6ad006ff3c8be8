/* mounts.h - a container's volumes and mounts, as Docker resolves them.
 *
 * Sources, in Docker's order of precedence: HostConfig.Mounts (--mount),
 * HostConfig.Binds (-v SRC:DST[:OPTS]), HostConfig.Tmpfs (--tmpfs),
 * HostConfig.VolumesFrom, then the image's and Config's Volumes (anonymous
 * volumes for the destinations nothing else covers). The result is the
 * array `inspect` shows as "Mounts" (Type, Name, Source, Destination,
 * Driver, Mode, RW, Propagation), with tmpfs entries keeping their options
 * under "TmpfsOptions" as in the API, which spec_generate() turns into
 * mounts of the OCI spec.
 *
 *   mounts_validate()  check Binds/Mounts/Tmpfs syntax before anything is made
 *                      (Docker's messages: "invalid volume specification: 'X'")
 *   mounts_resolve()   the mount points, creating named and anonymous volumes
 *                      through vol (not called when validation fails)
 *   mounts_copy_up()   after the rootfs is mounted: copy the image's content at
 *                      each volume's destination into the volume when it is
 *                      empty (Docker's copy-up; not for "nocopy" in Mode)
 */
#ifndef BERTH_ENGINE_MOUNTS_H
#define BERTH_ENGINE_MOUNTS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct volume_store;

int mounts_validate(json_t *config, json_t *host_config, berth_err *err);
/* volumes_from: for each entry of HostConfig.VolumesFrom, in order, the
 * "Mounts" array of that container (the caller looks them up), or NULL. */
int mounts_resolve(json_t *config, json_t *host_config, json_t *image_config,
		   json_t *const *volumes_from, struct volume_store *vol, const char *container_id,
		   json_t **mounts, berth_err *err);
/* Files, directories, symlinks (as links), devices and fifos with owners,
 * modes, xattrs and times; the destination is resolved inside rootfs, so a
 * symlink in the image never makes it copy from outside the rootfs. */
int mounts_copy_up(json_t *mounts, const char *rootfs, berth_err *err);

#endif
