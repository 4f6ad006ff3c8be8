/* push.h - push an image from the store to a registry.
 *
 * Each blob (layers, then config) is skipped when the registry has it,
 * mounted from another repository of the same registry the image came from
 * when it can be, uploaded otherwise; then the manifest is PUT under the
 * tag. The manifest pushed is the one stored, byte for byte, so the digest
 * the registry reports is the image's own.
 *
 *   image_push()   push the image named local to the reference target
 *                  (usually the same name); events as pull's
 */
#ifndef BERTH_IMAGE_PUSH_H
#define BERTH_IMAGE_PUSH_H

#include "image/pull.h"

enum push_event {
	PUSH_REPO,        /* text = "The push refers to repository [localhost:5000/x]" */
	PUSH_PREPARING,   /* "Preparing" */
	PUSH_EXISTS,      /* "Layer already exists" */
	PUSH_MOUNTED,     /* text = "Mounted from x" */
	PUSH_PROGRESS,    /* done/total */
	PUSH_PUSHED,      /* "Pushed" */
	PUSH_DIGEST,      /* text = "latest: digest: sha256:... size: 527" */
};

struct push_event_info {
	enum push_event kind;
	const char *layer;
	const char *text;
	uint64_t done, total;
};

typedef void (*push_event_fn)(void *opaque, const struct push_event_info *ev);

struct push_opts {
	struct registry_opts registry;
	push_event_fn event;
	void *opaque;
};

/* digest: the manifest digest the registry now has, newly allocated. */
int image_push(struct image_store *s, const char *target, const struct push_opts *o,
	       char **digest, berth_err *err);

#endif
