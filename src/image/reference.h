/* reference.h - image references, parsed and normalised as Docker does.
 *
 * "busybox" is docker.io/library/busybox:latest; "localhost:5000/a/b@sha256:..."
 * keeps its domain; a name with both tag and digest keeps both (the digest wins
 * for lookups, as in Docker). The grammar is the distribution project's
 * reference grammar: lowercase path components separated by [._-] runs, a
 * domain is the first component when it holds a '.' or ':' or is "localhost",
 * tags are [\w][\w.-]{0,127}, digests are algorithm:hex with sha256 = 64 hex.
 *
 *   image_ref_parse()       parse and normalise; error names the input and why
 *   image_ref_parse_name()  same, but a tag or digest is an error (for `push`
 *                           targets where only a repository is wanted, e.g. login);
 *                           tag stays NULL (no "latest")
 *   image_ref_string()      canonical "docker.io/library/busybox:latest" (tag
 *                           and/or "@digest" as present)
 *   image_ref_familiar()    Docker's short form: "busybox:latest",
 *                           "user/app:1", "localhost:5000/x:y"
 *   image_ref_repo()        "docker.io/library/busybox" (no tag or digest)
 *   image_ref_familiar_repo()  "busybox" (what `docker images` shows)
 *   image_ref_free()        release the strings
 *   image_digest_valid()    true for "sha256:<64 lowercase hex>"
 *   image_id_prefix_ok()    true for a hex string usable as a short image id
 */
#ifndef BERTH_IMAGE_REFERENCE_H
#define BERTH_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "common/error.h"

#define IMAGE_DEFAULT_DOMAIN "docker.io"
#define IMAGE_DEFAULT_TAG "latest"

struct image_ref {
	char *domain; /* "docker.io", "localhost:5000", "registry.example.com" */
	char *path;   /* "library/busybox" */
	char *tag;    /* "latest"; NULL when only a digest was given */
	char *digest; /* "sha256:..."; NULL when none */
};

/* When neither tag nor digest is given, the tag becomes "latest". */
int image_ref_parse(const char *s, struct image_ref *out, berth_err *err);
int image_ref_parse_name(const char *s, struct image_ref *out, berth_err *err);
char *image_ref_string(const struct image_ref *r);
char *image_ref_familiar(const struct image_ref *r);
char *image_ref_repo(const struct image_ref *r);
char *image_ref_familiar_repo(const struct image_ref *r);
void image_ref_free(struct image_ref *r);
static inline void cleanup_refp(struct image_ref *r)
{
	image_ref_free(r);
}
#define _cleanup_ref_ __attribute__((cleanup(cleanup_refp)))

bool image_digest_valid(const char *digest);
bool image_id_prefix_ok(const char *s);

#endif
