/* store.h - the image store: content-addressed blobs, unpacked layers, and
 * the images, tags and digests that name them (DESIGN.md, State).
 *
 * Layout under the root (default /var/lib/berth):
 *   berth.db                  SQLite (WAL): images, tags, repo digests, layers
 *   blobs/sha256/<hex>        content, verified before it is renamed into place
 *   layers/<chain hex>/diff   a layer unpacked for overlayfs, once per ChainID
 *   layers/l/<short>          short symlinks to diff dirs (overlay option length)
 *   tmp/                      ingest files and half-made layers; each is
 *                             flock()ed by its writer, so whatever a killed
 *                             process left is recognised and removed
 *   locks/                    per-blob and per-layer lock files, so two pulls
 *                             of overlapping images share work
 *
 * Crash safety: a blob is written to tmp/, fsynced, verified and renamed; a
 * layer is unpacked in tmp/ and renamed into layers/ inside the transaction
 * that records it, so a layers/ dir without a row is an orphan that the next
 * writer of that layer (or image_store_check()) removes.
 *
 *   image_store_open()        open or create the store at root
 *   image_store_close()
 *   image_store_db()          the berth.db connection, for the modules that keep
 *                             their own tables in it (containers, volumes)
 *
 *   blob_writer_new/write/commit/free   stream a blob in; commit verifies the
 *                             digest and size when given and renames it into
 *                             place (an existing identical blob is fine)
 *   image_store_put_blob()    a whole buffer as a blob
 *   image_store_put_blob_fd() copy fd to EOF as a blob
 *   image_store_has_blob()    present?
 *   image_store_open_blob()   O_RDONLY fd of a blob (-ENOENT when absent)
 *   image_store_read_blob()   a whole blob into memory, refused over max bytes
 *
 *   image_store_add_image()   record an image from a manifest whose config
 *                             and layer blobs are in the store (or whose layers
 *                             are already unpacked): unpacks what is missing,
 *                             checks DiffIDs against the config, points the
 *                             tags at it; returns the image id (config digest)
 *   image_store_layer_present()  is the layer with this ChainID unpacked?
 *   image_store_layer_unpack()   unpack one layer from fd under its ChainID
 *                             (for pulls that unpack while they download)
 *   image_store_layer_lock()  hold the layer's lock (an fd to close), so the
 *                             caller can check presence and then download and
 *                             unpack it with ..._unpack_locked() without a
 *                             second process doing the same work
 *
 *   image_store_resolve()     name, canonical ref, full id or id prefix (>= 1
 *                             hex char, unique) -> image id; -ENOENT / -EEXIST
 *                             (ambiguous) with Docker's wording
 *   image_store_info()        everything `images` and `image inspect` show
 *   image_store_list()        all images, newest first
 *   image_store_tag()         point a canonical "domain/path:tag" at an image
 *   image_store_untag()       remove a tag; 1 if the image has no names left
 *   image_store_remove()      delete an image and every blob and layer no
 *                             other image uses; refuses when tagged in several
 *                             repositories unless force
 *   image_store_layer_dirs()  the diff dirs of an image, top first (overlay lowerdir)
 *   image_store_check()       fsck: rows vs blobs (re-hashed) vs layer dirs;
 *                             reports problems, repairs with fix
 *   image_store_prune()       remove dangling (untagged) images
 *   image_store_discard_blobs()  remove the given blobs unless an image uses
 *                             them (what a failed load or import had stored)
 *   image_store_df()          sizes for `system df`
 */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "image/unpack.h" /* IMAGE_DIGEST_BUF */

struct image_store;
struct blob_writer;

int image_store_open(const char *root, struct image_store **out, berth_err *err);
void image_store_close(struct image_store *s);
/* The store's berth.db connection, for the modules that keep their tables there. */
struct sqlite3 *image_store_db(struct image_store *s);
const char *image_store_root(const struct image_store *s);

int blob_writer_new(struct image_store *s, struct blob_writer **out, berth_err *err);
int blob_writer_write(struct blob_writer *w, const void *buf, size_t n, berth_err *err);
/* expect_digest may be NULL, expect_size -1 for "unknown". Frees w either way. */
int blob_writer_commit(struct blob_writer *w, const char *expect_digest, int64_t expect_size,
		       char digest[IMAGE_DIGEST_BUF], berth_err *err);
void blob_writer_free(struct blob_writer *w);

int image_store_put_blob(struct image_store *s, const void *data, size_t len,
			 const char *expect_digest, char digest[IMAGE_DIGEST_BUF], berth_err *err);
int image_store_put_blob_fd(struct image_store *s, int fd, const char *expect_digest,
			    int64_t expect_size, char digest[IMAGE_DIGEST_BUF], berth_err *err);
bool image_store_has_blob(struct image_store *s, const char *digest);
int image_store_open_blob(struct image_store *s, const char *digest, int64_t *size,
			  berth_err *err);
int image_store_read_blob(struct image_store *s, const char *digest, size_t max, char **data,
			  size_t *len, berth_err *err);

struct image_add {
	const char *manifest_digest; /* the image manifest (blob in the store) */
	const char *index_digest;    /* the index it was chosen from, or NULL */
	const char *repo;            /* canonical repo for RepoDigests ("docker.io/library/x"), or NULL */
	const char *const *tags;     /* canonical refs to point at the image, NULL-terminated, or NULL */
};
int image_store_add_image(struct image_store *s, const struct image_add *a, char **image_id,
			  berth_err *err);
bool image_store_layer_present(struct image_store *s, const char *chain_id);
/* parent_chain_id NULL for a base layer. Succeeds without work when present. */
int image_store_layer_unpack(struct image_store *s, const char *chain_id,
			     const char *parent_chain_id, const char *diff_id, int fd,
			     const char *blob_digest, berth_err *err);
int image_store_layer_lock(struct image_store *s, const char *chain_id, berth_err *err);
int image_store_layer_unpack_locked(struct image_store *s, const char *chain_id,
				    const char *parent_chain_id, const char *diff_id, int fd,
				    const char *blob_digest, berth_err *err);

struct image_info {
	char *id;              /* "sha256:<hex>" of the config */
	char *manifest_digest; /* "sha256:<hex>" */
	char *manifest_media_type;
	char **tags;           /* canonical refs, NULL-terminated */
	char **repo_digests;   /* "docker.io/library/x@sha256:...", NULL-terminated */
	char *created;         /* from the config, RFC 3339, or NULL */
	int64_t size;          /* unpacked bytes of all layers */
	char *os, *architecture, *variant;
	char **chain_ids;      /* bottom first, NULL-terminated */
	char **diff_ids;
	int64_t *layer_sizes;  /* unpacked bytes of each layer, bottom first */
};

int image_store_resolve(struct image_store *s, const char *name, char **image_id, berth_err *err);
int image_store_info(struct image_store *s, const char *image_id, struct image_info *out,
		     berth_err *err);
void image_info_free(struct image_info *i);
static inline void cleanup_image_infop(struct image_info *i)
{
	image_info_free(i);
}
#define _cleanup_image_info_ __attribute__((cleanup(cleanup_image_infop)))
int image_store_list(struct image_store *s, struct image_info **out, size_t *n, berth_err *err);
void image_info_list_free(struct image_info *list, size_t n);
int image_store_tag(struct image_store *s, const char *image_id, const char *canonical_ref,
		    berth_err *err);
int image_store_untag(struct image_store *s, const char *canonical_ref, berth_err *err);
int image_store_remove(struct image_store *s, const char *image_id, bool force, berth_err *err);
char **image_store_layer_dirs(struct image_store *s, const char *image_id, berth_err *err);

struct store_check_report {
	size_t problems;
	char **lines; /* one per problem, NULL-terminated */
};
int image_store_check(struct image_store *s, bool fix, struct store_check_report *r,
		      berth_err *err);
void image_store_discard_blobs(struct image_store *s, char *const *digests);
/* want (may be NULL) narrows the candidates: prune only those it returns true for. */
typedef bool (*image_prune_fn)(struct image_store *s, const char *image_id, void *opaque);
int image_store_prune(struct image_store *s, bool all, image_prune_fn want, void *opaque,
		      char ***removed, uint64_t *reclaimed, berth_err *err);

#endif
