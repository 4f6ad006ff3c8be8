/* registry.h - a client of the OCI distribution API (Docker registry v2).
 *
 * One client per registry host. It pings /v2/, answers WWW-Authenticate
 * challenges (Basic with the stored credentials, Bearer by fetching a token
 * from the realm with service and scope, anonymous or with credentials),
 * follows redirects (blob GETs go to storage backends; the Authorization
 * header is not sent to another host), retries 5xx, 429 and dropped
 * connections with exponential back-off a bounded number of times, and
 * resumes a blob download with a Range request where the registry allows.
 *
 * TLS uses the system CAs plus, like Docker, the files *.crt in the directory
 * <certs_dir>/<host[:port]> as extra CAs and client.cert/client.key there as
 * a client certificate. "localhost", 127.0.0.0/8, ::1 and hosts listed as
 * insecure may use plain HTTP. Loopback registries are tried with plain HTTP
 * first and HTTPS when that gets no registry answer (a certificate that does
 * not verify is then an error); insecure hosts are tried with HTTPS first,
 * without certificate verification, then plain HTTP.
 *
 * Every call is safe to make from several threads at once on one client
 * (downloads run in parallel); tokens are cached per scope under a mutex.
 * Nothing here prints: progress goes to the caller's callback.
 *
 *   registry_client_new()    a client for a registry host ("docker.io" maps
 *                            to registry-1.docker.io unless a mirror is set)
 *   registry_client_free()
 *   registry_get_manifest()  GET a manifest by tag or digest, Accept: every
 *                            supported type; body capped at MANIFEST_MAX_SIZE;
 *                            when ref is a digest the body is verified against it;
 *                            returns the body, its Content-Type and its digest
 *   registry_head_manifest() HEAD: digest and media type, or 0 if absent
 *   registry_get_blob()      GET a blob, handing each byte exactly once to
 *                            the sink (a retry after a dropped connection
 *                            resumes with Range from what the sink has had,
 *                            or fails when the registry cannot resume);
 *                            verifies size and digest at the end: a
 *                            mismatch fails with -EBADMSG
 *   registry_blob_exists()   HEAD a blob: 1 present (size set), 0 absent
 *   registry_mount_blob()    cross-repository mount (POST ?mount=&from=):
 *                            1 mounted, 0 the registry wants an upload
 *   registry_put_blob()      upload a blob from fd (monolithic for small
 *                            blobs, chunked PATCHes for large ones)
 *   registry_put_manifest()  PUT a manifest under a tag or digest
 *   registry_login()         check credentials against the registry (for
 *                            `berth login`): 0 when accepted
 */
#ifndef BERTH_IMAGE_REGISTRY_H
#define BERTH_IMAGE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct registry_client;

struct registry_opts {
	const char *certs_dir;     /* e.g. /etc/berth/certs.d; NULL: none */
	const char *const *insecure; /* NULL-terminated list of hosts ("h:port"), or NULL */
	const char *username;      /* credentials for this host, or NULL */
	const char *password;
	const char *mirror;        /* for docker.io only: "http://127.0.0.1:5000", or NULL */
	const char *user_agent;    /* NULL: "berth/<version>" */
	unsigned max_retries;      /* 0: default (4) */
};

typedef void (*registry_progress_fn)(void *opaque, uint64_t done, uint64_t total);
/* Returns 0, or a negative errno (with err set) to abort the transfer. */
typedef int (*registry_sink_fn)(void *opaque, const void *buf, size_t n, berth_err *err);

int registry_client_new(const char *domain, const struct registry_opts *opts,
			struct registry_client **out, berth_err *err);
void registry_client_free(struct registry_client *c);
static inline void cleanup_registry_clientp(struct registry_client **c)
{
	registry_client_free(*c);
}
#define _cleanup_registry_client_ __attribute__((cleanup(cleanup_registry_clientp)))

int registry_get_manifest(struct registry_client *c, const char *repo, const char *ref,
			  char **body, size_t *len, char **content_type, char **digest,
			  berth_err *err);
int registry_head_manifest(struct registry_client *c, const char *repo, const char *ref,
			   char **content_type, char **digest, berth_err *err);
int registry_get_blob(struct registry_client *c, const char *repo, const char *digest,
		      int64_t size, registry_sink_fn sink, void *sink_opaque,
		      registry_progress_fn progress, void *opaque, berth_err *err);
int registry_blob_exists(struct registry_client *c, const char *repo, const char *digest,
			 int64_t *size, berth_err *err);
int registry_mount_blob(struct registry_client *c, const char *repo, const char *digest,
			const char *from_repo, berth_err *err);
int registry_put_blob(struct registry_client *c, const char *repo, const char *digest,
		      int fd, int64_t size, registry_progress_fn progress, void *opaque,
		      berth_err *err);
int registry_put_manifest(struct registry_client *c, const char *repo, const char *ref,
			  const char *body, size_t len, const char *media_type, char **digest,
			  berth_err *err);
int registry_login(struct registry_client *c, berth_err *err);

#endif
