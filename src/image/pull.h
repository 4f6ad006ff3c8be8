/* pull.h - pull an image from a registry into the store.
 *
 * Resolves the reference (an index is narrowed to the wanted platform),
 * stores the manifest and config, then downloads the missing layers in
 * parallel; each layer is unpacked while it downloads (the bytes go to the
 * blob file and, through a pipe, to the unpacker) under a per-layer lock,
 * so two pulls sharing layers download each layer once and both succeed.
 * A layer already unpacked under its ChainID is not downloaded at all.
 *
 *   image_pull()   pull name; events go to the callback (from several
 *                  threads, one call at a time); returns the image id
 */
#ifndef BERTH_IMAGE_PULL_H
#define BERTH_IMAGE_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "image/manifest.h"
#include "image/registry.h"

struct image_store;

enum pull_event {
	PULL_RESOLVED,    /* ref known: text = "latest: Pulling from library/busybox" */
	PULL_LAYER_EXISTS,  /* "Already exists" */
	PULL_LAYER_WAITING, /* "Pulling fs layer" */
	PULL_LAYER_PROGRESS, /* done/total bytes */
	PULL_LAYER_VERIFY,   /* "Verifying Checksum" */
	PULL_LAYER_DOWNLOADED, /* "Download complete" */
	PULL_LAYER_DONE,     /* "Pull complete" */
	PULL_DIGEST,         /* text = "sha256:..." (what the reference resolved to) */
};

struct pull_event_info {
	enum pull_event kind;
	const char *layer; /* short id (12 hex) of the layer's blob, or NULL */
	const char *text;
	uint64_t done, total;
};

typedef void (*pull_event_fn)(void *opaque, const struct pull_event_info *ev);

struct pull_opts {
	struct registry_opts registry;
	const struct image_platform *platform; /* NULL: the host's */
	unsigned parallel;                     /* 0: 3, as dockerd's max-concurrent-downloads */
	pull_event_fn event;                   /* may be NULL */
	void *opaque;
};

struct pull_result {
	char *image_id;
	char *digest;     /* what the reference resolved to (index or manifest) */
	bool downloaded;  /* false when the image was already complete */
};

int image_pull(struct image_store *s, const char *name, const struct pull_opts *o,
	       struct pull_result *res, berth_err *err);
void pull_result_free(struct pull_result *r);

#endif
