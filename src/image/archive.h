/* archive.h - images to and from archives other tools make and read.
 *
 * Formats:
 *   docker-archive  what `docker save` writes and `docker load` reads:
 *                   manifest.json ([{Config, RepoTags, Layers}]), the config
 *                   as <hex>.json, each layer as <dir>/layer.tar (uncompressed;
 *                   Docker 25+ and skopeo also write blobs/sha256/<hex>), a
 *                   legacy "repositories" file
 *   OCI layout      oci-layout + index.json + blobs/sha256/, as a directory
 *                   (skopeo copy oci:DIR) or a tar of one (oci-archive); tags
 *                   from the org.opencontainers.image.ref.name annotation
 *                   (and io.containerd.image.name, as containerd writes)
 * Input may be plain, gzip or zstd compressed tar. Every blob is verified as it
 * is stored; a member name with ".." or a leading "/" is refused.
 *
 *   image_load()      read a docker-archive or OCI archive from fd; the
 *                     images land in the store; *loaded gets one line per tag
 *                     (per image when untagged) as `docker load` prints it
 *                     ("Loaded image: busybox:latest" or "Loaded image ID:
 *                     sha256:..."). All or nothing: a bad archive stores nothing
 *   image_load_dir()  the same from a directory (an OCI layout, or an
 *                     unpacked docker-archive)
 *   image_save()      write the named images (names or ids) to fd as one
 *                     docker-archive, or as an OCI archive
 *   image_import()    a rootfs tarball (plain/gzip/zstd) as a one-layer image,
 *                     with Dockerfile-like changes applied to the config
 *                     (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME,
 *                     WORKDIR, STOPSIGNAL, ONBUILD as `docker import -c`)
 *   image_config_apply_changes()  those changes on a container config (also
 *                     for `commit -c`)
 *   image_config_docker_order()   a container config with its fields in the
 *                     order Docker writes them, its maps' keys sorted
 */
#ifndef BERTH_IMAGE_ARCHIVE_H
#define BERTH_IMAGE_ARCHIVE_H

#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

struct image_store;

enum image_archive_format {
	IMAGE_ARCHIVE_DOCKER,
	IMAGE_ARCHIVE_OCI,
};

int image_load(struct image_store *s, int fd, char ***loaded, berth_err *err);
int image_load_dir(struct image_store *s, const char *dir, char ***loaded, berth_err *err);
int image_save(struct image_store *s, const char *const *names, size_t n,
	       enum image_archive_format fmt, int outfd, berth_err *err);
/* changes: NULL-terminated Dockerfile instructions, or NULL. message: the
 * history comment, or NULL. tag: a canonical ref to point at it, or NULL. */
int image_import(struct image_store *s, int fd, const char *const *changes, const char *message,
		 const char *tag, char **image_id, berth_err *err);
int image_config_apply_changes(json_t *cfg, const char *const *changes, berth_err *err);
json_t *image_config_docker_order(json_t *cc);

#endif
