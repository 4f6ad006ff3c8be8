/* manifest.h - OCI and Docker image manifests, indexes and configs.
 *
 * Reads: OCI image index and manifest (application/vnd.oci.image.*.v1+json),
 * Docker schema 2 manifest and manifest list
 * (application/vnd.docker.distribution.manifest.v2+json / .list.v2+json),
 * OCI and Docker image configs. Schema 1 is refused with a clear error.
 * Inputs over MANIFEST_MAX_SIZE are refused before parsing. Every
 * descriptor's digest is validated and sizes must be >= 0.
 *
 *   manifest_kind()        what a document is, from its mediaType field (or
 *                          the HTTP Content-Type when the field is absent;
 *                          an OCI manifest may omit mediaType: then the
 *                          presence of "manifests" / "layers" decides)
 *   manifest_parse()       an image manifest: config + layers
 *   index_parse()          an index / manifest list
 *   index_select()         the entry for a platform (os, architecture,
 *                          variant; "amd64" needs no variant, "arm64"
 *                          matches "v8" or none), error lists what exists
 *   platform_parse()       "linux/arm64/v8" -> fields
 *   platform_default()     the host's platform (linux/amd64 here)
 *   platform_string()      "linux/amd64" or "linux/arm/v7"
 *   config_parse()         an image config: os, arch, diff_ids, history,
 *                          the raw JSON kept for inspect
 *   layer_chain_ids()      ChainIDs from DiffIDs (OCI image spec):
 *                          chain[0] = diff[0], chain[i] =
 *                          sha256(chain[i-1] + " " + diff[i])
 *   *_free()               release
 */
#ifndef BERTH_IMAGE_MANIFEST_H
#define BERTH_IMAGE_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define MANIFEST_MAX_SIZE (4u * 1024 * 1024)

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_FOREIGN_LAYER "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

enum manifest_kind {
	MANIFEST_UNKNOWN = 0,
	MANIFEST_IMAGE, /* OCI manifest or Docker schema 2 */
	MANIFEST_INDEX, /* OCI index or Docker manifest list */
};

struct image_platform {
	char *os;           /* "linux" */
	char *architecture; /* "amd64" */
	char *variant;      /* "v8", or NULL */
};

struct image_desc {
	char *media_type;
	char *digest; /* "sha256:<hex>" */
	int64_t size;
	struct image_platform platform; /* index entries only; fields NULL otherwise */
};

struct image_manifest {
	char *media_type; /* as declared, or MT_OCI_MANIFEST when omitted */
	struct image_desc config;
	struct image_desc *layers;
	size_t n_layers;
};

struct image_index {
	char *media_type;
	struct image_desc *manifests;
	size_t n_manifests;
};

struct image_history {
	char *created;    /* RFC 3339, or NULL */
	char *created_by; /* or NULL */
	char *comment;    /* or NULL */
	bool empty_layer;
};

struct image_config {
	json_t *json; /* the whole document, owned */
	char *os;
	char *architecture;
	char *variant; /* or NULL */
	char *created; /* or NULL */
	char **diff_ids; /* "sha256:<hex>" each */
	size_t n_diff_ids;
	struct image_history *history;
	size_t n_history;
};

/* content_type may be NULL. Returns the kind, or MANIFEST_UNKNOWN with err set
 * (schema 1, not JSON, too large, unknown mediaType). */
enum manifest_kind manifest_kind(const char *body, size_t len, const char *content_type,
				 berth_err *err);
int manifest_parse(const char *body, size_t len, struct image_manifest *out, berth_err *err);
int index_parse(const char *body, size_t len, struct image_index *out, berth_err *err);
/* Returns the index of the chosen entry, or a negative errno (-ENOENT when no entry
 * matches, err naming the wanted platform and the ones present). */
int index_select(const struct image_index *idx, const struct image_platform *want,
		 berth_err *err);

int platform_parse(const char *s, struct image_platform *out, berth_err *err);
void platform_default(struct image_platform *out);
char *platform_string(const struct image_platform *p);

int config_parse(const char *body, size_t len, struct image_config *out, berth_err *err);

/* Returns a NULL-terminated array of n malloc'd "sha256:<hex>" strings. */
char **layer_chain_ids(char *const *diff_ids, size_t n);

void platform_free(struct image_platform *p);
void manifest_free(struct image_manifest *m);
void index_free(struct image_index *idx);
void config_free(struct image_config *c);

static inline void cleanup_manifestp(struct image_manifest *m)
{
	manifest_free(m);
}
static inline void cleanup_indexp(struct image_index *i)
{
	index_free(i);
}
static inline void cleanup_configp(struct image_config *c)
{
	config_free(c);
}
#define _cleanup_manifest_ __attribute__((cleanup(cleanup_manifestp)))
#define _cleanup_index_ __attribute__((cleanup(cleanup_indexp)))
#define _cleanup_config_ __attribute__((cleanup(cleanup_configp)))

#endif
