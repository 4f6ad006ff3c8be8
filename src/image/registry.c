/* registry.c - an OCI distribution (Docker registry v2) client: the API of
 * registry.h (manifests, blobs, uploads, login) over the transport and
 * authentication of registry_http.c.
 */
#include "image/lazy_curl.h"
#include "image/registry.h"
#include "image/registry_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/manifest.h" /* MT_* and MANIFEST_MAX_SIZE only */

#define DEFAULT_RETRIES    4u
#define DEFAULT_STALL_SECS 30L
#define MONOLITHIC_MAX     (32ull * 1024 * 1024)
#define CHUNK_SIZE         (16ull * 1024 * 1024)

/* ---- the client ---- */

void registry_client_free(struct registry_client *c)
{
	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->lock);
	while (c->tokens) {
		struct token *t = c->tokens;
		c->tokens = t->next;
		free(t->scope);
		free(t->value);
		free(t);
	}
	free(c->domain);
	free(c->host);
	free(c->base);
	free(c->username);
	free(c->password);
	free(c->user_agent);
	free(c->ca_blob);
	free(c->client_cert);
	free(c->client_key);
	free(c->realm);
	free(c->service);
	free(c);
}

static bool listed_insecure(const char *domain, const char *const *list)
{
	if (!list)
		return false;
	_cleanup_free_ char *bare = reg_bare_host(domain);
	for (const char *const *p = list; *p; p++)
		if (strcmp(*p, domain) == 0 || strcmp(*p, bare) == 0)
			return true;
	return false;
}

int registry_client_new(const char *domain, const struct registry_opts *opts,
			struct registry_client **out, berth_err *err)
{
	static const struct registry_opts none;
	if (!opts)
		opts = &none;
	if (!domain || !*domain || strpbrk(domain, "/?#@ \t\r\n"))
		return berth_error_code(err, EINVAL, "registry '%s': not a host[:port]",
					domain ? domain : "");
	if (lazy_curl_load(err) < 0)
		return berth_error_wrap(err, "registry %s", domain);
	CURLcode init_rc = reg_curl_global_init();
	if (init_rc != CURLE_OK)
		return berth_error_code(err, EIO, "registry %s: libcurl: %s", domain,
					curl_easy_strerror(init_rc));

	struct registry_client *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->domain = xstrdup(domain);
	bool hub = strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0 ||
		   strcmp(domain, "registry-1.docker.io") == 0;
	if (hub && opts->mirror && *opts->mirror) {
		const char *m = opts->mirror;
		size_t ml = strlen(m);
		while (ml && m[ml - 1] == '/')
			ml--;
		const char *sep = strstr(m, "://");
		if (!sep || (strncmp(m, "http://", 7) != 0 && strncmp(m, "https://", 8) != 0) ||
		    ml <= (size_t)(sep + 3 - m)) {
			registry_client_free(c);
			return berth_error_code(
				err, EINVAL, "registry mirror '%s': not an http:// or https:// URL",
				m);
		}
		c->base = xstrndup(m, ml);
		const char *hs = sep + 3;
		c->host = xstrndup(hs, strcspn(hs, "/"));
		c->fixed_scheme = true;
	} else if (hub) {
		c->host = xstrdup("registry-1.docker.io");
		c->base = xstrdup("https://registry-1.docker.io");
		c->fixed_scheme = true;
	} else {
		c->host = xstrdup(domain);
	}
	c->loopback = reg_host_is_loopback(c->host);
	c->insecure =
		listed_insecure(c->host, opts->insecure) || listed_insecure(domain, opts->insecure);
	c->username = opts->username ? xstrdup(opts->username) : NULL;
	c->password = opts->password ? xstrdup(opts->password) : NULL;
	c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "berth/" BERTH_VERSION);
	c->max_retries = opts->max_retries ? opts->max_retries : DEFAULT_RETRIES;
	c->stall_secs = DEFAULT_STALL_SECS;
	const char *stall = getenv("BERTH_REGISTRY_STALL_TIMEOUT");
	if (stall && *stall) {
		char *end;
		errno = 0;
		long s = strtol(stall, &end, 10);
		if (!errno && !*end && s > 0 && s <= 3600)
			c->stall_secs = s;
	}
	if (opts->certs_dir) {
		int rc = reg_load_certs(c, opts->certs_dir, err);
		if (rc < 0) {
			registry_client_free(c);
			return rc;
		}
	}
	reg_share_init(c);
	*out = c;
	return 0;
}

/* ---- manifests ---- */

static const char manifest_accept[] =
	"Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

static int check_name(struct registry_client *c, const char *repo, const char *what,
		      const char *value, berth_err *err)
{
	if (!repo || !*repo || strpbrk(repo, "?#% \t\r\n") || repo[0] == '/')
		return berth_error_code(err, EINVAL, "registry %s: bad repository name '%s'",
					c->domain, repo ? repo : "");
	if (!value || !*value || strpbrk(value, "/?#% \t\r\n"))
		return berth_error_code(err, EINVAL, "registry %s: bad %s '%s'", c->domain, what,
					value ? value : "");
	return 0;
}

/* Content-Type without parameters. */
static char *media_type_of(const char *ct)
{
	if (!ct)
		return NULL;
	return reg_trim_dup(ct, strcspn(ct, ";"));
}

int registry_get_manifest(struct registry_client *c, const char *repo, const char *ref, char **body,
			  size_t *len, char **content_type, char **digest, berth_err *err)
{
	int rc = check_name(c, repo, "reference", ref, err);
	if (rc < 0)
		return rc;
	if (reg_is_digest_ref(ref) && !reg_is_sha256_digest(ref))
		return berth_error_code(err, ENOTSUP,
					"registry %s: %s@%s: only sha256 digests are supported",
					c->domain, repo, ref);
	_cleanup_free_ char *scope = reg_scope_for(repo, false);
	struct req r;
	reg_req_init(&r, c, "GET", xasprintf("/v2/%s/manifests/%s", repo, ref));
	r.scope = scope;
	r.follow = true;
	r.resp_cap = MANIFEST_MAX_SIZE;
	reg_req_header(&r, "%s", manifest_accept);
	rc = reg_request(&r, err);
	if (rc == -EFBIG)
		berth_error_wrap(err, "manifest %s:%s", repo, ref);
	if (rc == 0 && r.status != 200)
		rc = reg_status_error(&r, err);
	char computed[DIGEST_LEN + 1];
	if (rc == 0) {
		reg_sha256_digest(r.resp.buf, r.resp.len, computed);
		const char *want = reg_is_digest_ref(ref) ? ref : NULL;
		if (!want && r.docker_digest && strncmp(r.docker_digest, "sha256:", 7) == 0)
			want = r.docker_digest;
		if (want && strcmp(want, computed) != 0)
			rc = berth_error_code(err, EBADMSG,
					      "registry %s: manifest %s@%s: content has digest %s",
					      c->domain, repo, want, computed);
	}
	if (rc == 0) {
		if (content_type)
			*content_type = media_type_of(r.content_type);
		if (digest)
			*digest = xstrdup(computed);
		if (len)
			*len = r.resp.len;
		*body = strbuf_detach(&r.resp, NULL);
	}
	reg_req_release(&r);
	return rc;
}

int registry_head_manifest(struct registry_client *c, const char *repo, const char *ref,
			   char **content_type, char **digest, berth_err *err)
{
	int rc = check_name(c, repo, "reference", ref, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *scope = reg_scope_for(repo, false);
	struct req r;
	reg_req_init(&r, c, "HEAD", xasprintf("/v2/%s/manifests/%s", repo, ref));
	r.scope = scope;
	r.follow = true;
	reg_req_header(&r, "%s", manifest_accept);
	rc = reg_request(&r, err);
	if (rc == 0 && r.status == 404) {
		reg_req_release(&r);
		return 0;
	}
	if (rc == 0 && r.status != 200)
		rc = reg_status_error(&r, err);
	if (rc < 0) {
		reg_req_release(&r);
		return rc;
	}
	_cleanup_free_ char *ct = media_type_of(r.content_type);
	_cleanup_free_ char *dg = r.docker_digest ? xstrdup(r.docker_digest) : NULL;
	reg_req_release(&r);
	if (!dg) {
		/* No digest header: fetch the body and hash it. */
		_cleanup_free_ char *b = NULL;
		free(ct);
		ct = NULL;
		rc = registry_get_manifest(c, repo, ref, &b, NULL, &ct, &dg, err);
		if (rc == -ENOENT) {
			berth_err_clear(err);
			return 0;
		}
		if (rc < 0)
			return rc;
	}
	if (content_type)
		*content_type = TAKE_PTR(ct);
	if (digest)
		*digest = TAKE_PTR(dg);
	return 1;
}

int registry_put_manifest(struct registry_client *c, const char *repo, const char *ref,
			  const char *body, size_t len, const char *media_type, char **digest,
			  berth_err *err)
{
	int rc = check_name(c, repo, "reference", ref, err);
	if (rc < 0)
		return rc;
	if (!media_type || !*media_type || strpbrk(media_type, "\r\n"))
		return berth_error_code(err, EINVAL, "registry %s: manifest %s:%s: no media type",
					c->domain, repo, ref);
	if (len > MANIFEST_MAX_SIZE)
		return berth_error_code(err, EFBIG,
					"registry %s: manifest %s:%s: %zu bytes, over the %u limit",
					c->domain, repo, ref, len, MANIFEST_MAX_SIZE);
	char computed[DIGEST_LEN + 1];
	reg_sha256_digest(body, len, computed);
	if (reg_is_digest_ref(ref) && strcmp(ref, computed) != 0)
		return berth_error_code(err, EBADMSG,
					"registry %s: manifest %s@%s: content has digest %s",
					c->domain, repo, ref, computed);
	_cleanup_free_ char *scope = reg_scope_for(repo, true);
	struct req r;
	reg_req_init(&r, c, "PUT", xasprintf("/v2/%s/manifests/%s", repo, ref));
	r.scope = scope;
	r.body = body;
	r.up_len = len;
	reg_req_header(&r, "Content-Type: %s", media_type);
	reg_req_header(&r, "Expect:");
	rc = reg_request(&r, err);
	if (rc == 0 && r.status != 201 && r.status != 200)
		rc = reg_status_error(&r, err);
	if (rc == 0 && r.docker_digest && strncmp(r.docker_digest, "sha256:", 7) == 0 &&
	    strcmp(r.docker_digest, computed) != 0)
		rc = berth_error_code(err, EBADMSG,
				      "registry %s: manifest %s:%s: registry stored %s, we sent %s",
				      c->domain, repo, ref, r.docker_digest, computed);
	if (rc == 0 && digest)
		*digest = xstrdup(computed);
	reg_req_release(&r);
	return rc;
}

/* ---- blobs ---- */

int registry_get_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
		      registry_sink_fn sink, void *sink_opaque, registry_progress_fn progress,
		      void *opaque, berth_err *err)
{
	int rc = check_name(c, repo, "digest", digest, err);
	if (rc < 0)
		return rc;
	if (!reg_is_sha256_digest(digest))
		return berth_error_code(err, EINVAL, "registry %s: blob %s: not a sha256 digest",
					c->domain, digest);
	_cleanup_free_ char *scope = reg_scope_for(repo, false);
	struct req r;
	reg_req_init(&r, c, "GET", xasprintf("/v2/%s/blobs/%s", repo, digest));
	r.scope = scope;
	r.follow = true;
	r.sink = sink;
	r.sink_opaque = sink_opaque;
	r.progress = progress;
	r.progress_opaque = opaque;
	r.expect_size = size;
	r.md = EVP_MD_CTX_new();
	if (!r.md || EVP_DigestInit_ex(r.md, EVP_sha256(), NULL) != 1)
		abort();
	rc = reg_request(&r, err);
	if (rc == 0 && r.status != 200 && r.status != 206)
		rc = reg_status_error(&r, err);
	if (rc == 0 && size >= 0 && r.delivered != (uint64_t)size)
		rc = berth_error_code(err, EBADMSG,
				      "registry %s: blob %s: got %" PRIu64
				      " bytes, expected %" PRId64,
				      c->domain, digest, r.delivered, size);
	if (rc == 0) {
		char got[DIGEST_LEN + 1];
		reg_md_final(r.md, got);
		if (strcmp(got, digest) != 0)
			rc = berth_error_code(err, EBADMSG,
					      "registry %s: blob %s in %s: content has digest %s",
					      c->domain, digest, repo, got);
	}
	EVP_MD_CTX_free(r.md);
	reg_req_release(&r);
	return rc;
}

int registry_blob_exists(struct registry_client *c, const char *repo, const char *digest,
			 int64_t *size, berth_err *err)
{
	int rc = check_name(c, repo, "digest", digest, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *scope = reg_scope_for(repo, false);
	struct req r;
	reg_req_init(&r, c, "HEAD", xasprintf("/v2/%s/blobs/%s", repo, digest));
	r.scope = scope;
	r.follow = true;
	rc = reg_request(&r, err);
	if (rc == 0) {
		if (r.status == 200) {
			if (size)
				*size = r.content_length;
			rc = 1;
		} else if (r.status != 404) {
			rc = reg_status_error(&r, err);
		}
	}
	reg_req_release(&r);
	return rc;
}

/* Resolve an upload Location (absolute, or relative to the request URL),
 * optionally appending "digest=D" to its query. */
static int upload_url(struct req *prev, const char *digest, char **out, berth_err *err)
{
	if (!prev->location || !*prev->location)
		return berth_error_code(err, EPROTO,
					"registry %s: %s %s: HTTP %ld without a Location",
					prev->c->domain, prev->method, prev->url, prev->status);
	CURLU *u = curl_url();
	if (!u)
		abort();
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, prev->url, 0);
	if (!uc)
		uc = curl_url_set(u, CURLUPART_URL, prev->location, 0);
	if (!uc && digest) {
		_cleanup_free_ char *q = xasprintf("digest=%s", digest);
		uc = curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
	}
	char *s = NULL;
	if (!uc)
		uc = curl_url_get(u, CURLUPART_URL, &s, 0);
	curl_url_cleanup(u);
	if (uc)
		return berth_error_code(err, EPROTO, "registry %s: bad upload Location '%s': %s",
					prev->c->domain, prev->location, curl_url_strerror(uc));
	*out = xstrdup(s);
	curl_free(s);
	return 0;
}

int registry_mount_blob(struct registry_client *c, const char *repo, const char *digest,
			const char *from_repo, berth_err *err)
{
	int rc = check_name(c, repo, "digest", digest, err);
	if (rc < 0)
		return rc;
	rc = check_name(c, from_repo, "digest", digest, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *push = reg_scope_for(repo, true);
	_cleanup_free_ char *pull = reg_scope_for(from_repo, false);
	_cleanup_free_ char *scope = xasprintf("%s %s", push, pull);
	char *from_esc = curl_easy_escape(NULL, from_repo, 0);
	char *dg_esc = curl_easy_escape(NULL, digest, 0);
	struct req r;
	reg_req_init(&r, c, "POST",
		     xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, dg_esc, from_esc));
	curl_free(from_esc);
	curl_free(dg_esc);
	r.scope = scope;
	reg_req_header(&r, "Expect:");
	rc = reg_request(&r, err);
	if (rc == 0) {
		if (r.status == 201) {
			rc = 1;
		} else if (r.status == 202) {
			/* The registry opened an upload instead; put_blob opens its own. */
			_cleanup_free_ char *cancel = NULL;
			_cleanup_err_ berth_err ignore = BERTH_ERR_INIT;
			if (upload_url(&r, NULL, &cancel, &ignore) == 0) {
				struct req d;
				reg_req_init(&d, c, "DELETE", TAKE_PTR(cancel));
				d.scope = push;
				reg_request(
					&d,
					&ignore); /* best effort: the registry expires it anyway */
				reg_req_release(&d);
			}
			rc = 0;
		} else {
			rc = reg_status_error(&r, err);
		}
	}
	reg_req_release(&r);
	return rc;
}

/* "0-1234" (or "bytes=0-1234"): how many bytes the registry holds. */
static bool parse_range_end(const char *range, uint64_t *next)
{
	if (!range)
		return false;
	const char *p = range;
	if (strncasecmp(p, "bytes=", 6) == 0)
		p += 6;
	const char *dash = strchr(p, '-');
	if (!dash)
		return false;
	char *end;
	errno = 0;
	unsigned long long last = strtoull(dash + 1, &end, 10);
	if (errno || end == dash + 1)
		return false;
	*next = (uint64_t)last + 1;
	return true;
}

int registry_put_blob(struct registry_client *c, const char *repo, const char *digest, int fd,
		      int64_t size, registry_progress_fn progress, void *opaque, berth_err *err)
{
	int rc = check_name(c, repo, "digest", digest, err);
	if (rc < 0)
		return rc;
	if (!reg_is_sha256_digest(digest) || size < 0)
		return berth_error_code(err, EINVAL, "registry %s: blob %s: bad digest or size",
					c->domain, digest);
	off_t start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		return berth_error_errno(err, "registry %s: blob %s: the source must be seekable",
					 c->domain, digest);
	int64_t have = -1;
	rc = registry_blob_exists(c, repo, digest, &have, err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (progress)
			progress(opaque, (uint64_t)size, (uint64_t)size);
		return 0;
	}
	_cleanup_free_ char *scope = reg_scope_for(repo, true);
	struct req r;
	reg_req_init(&r, c, "POST", xasprintf("/v2/%s/blobs/uploads/", repo));
	r.scope = scope;
	reg_req_header(&r, "Expect:");
	rc = reg_request(&r, err);
	if (rc == 0 && r.status != 202)
		rc = reg_status_error(&r, err);
	_cleanup_free_ char *loc = NULL;
	uint64_t total = (uint64_t)size;
	uint64_t off = 0;
	if (rc == 0 && total > MONOLITHIC_MAX) {
		rc = upload_url(&r, NULL, &loc, err);
		/* Each PATCH must move the upload forward; a registry that keeps
		 * taking nothing ends the loop after the chunks plus the retries. */
		unsigned stuck = 0;
		while (rc == 0 && off < total) {
			uint64_t n = total - off < CHUNK_SIZE ? total - off : CHUNK_SIZE;
			reg_req_release(&r);
			reg_req_init(&r, c, "PATCH", TAKE_PTR(loc));
			r.scope = scope;
			r.fd = fd;
			r.fd_off = (uint64_t)start + off;
			r.up_len = n;
			r.up_progress = progress;
			r.up_opaque = opaque;
			r.up_base = off;
			r.up_total = total;
			reg_req_header(&r, "Content-Type: application/octet-stream");
			reg_req_header(&r, "Content-Range: %" PRIu64 "-%" PRIu64, off, off + n - 1);
			reg_req_header(&r, "Expect:");
			rc = reg_request(&r, err);
			if (rc == 0 && r.status != 202 && r.status != 204)
				rc = reg_status_error(&r, err);
			if (rc < 0)
				break;
			uint64_t next = off + n;
			if (r.range && !parse_range_end(r.range, &next))
				rc = berth_error_code(err, EPROTO,
						      "registry %s: PATCH %s: bad Range '%s'",
						      c->domain, r.url, r.range);
			else if (next > total || next < off)
				rc = berth_error_code(
					err, EPROTO,
					"registry %s: PATCH %s: Range '%s' outside the upload",
					c->domain, r.url, r.range);
			else if (next == off && ++stuck > c->max_retries)
				rc = berth_error_code(
					err, EPROTO,
					"registry %s: PATCH %s: the upload does not advance",
					c->domain, r.url);
			if (rc == 0) {
				off = next;
				rc = upload_url(&r, NULL, &loc, err);
			}
		}
		if (rc == 0) {
			/* r is the last PATCH: its Location is where the PUT goes. */
			_cleanup_free_ char *put = NULL;
			rc = upload_url(&r, digest, &put, err);
			reg_req_release(&r);
			reg_req_init(&r, c, "PUT", TAKE_PTR(put));
			r.scope = scope;
		}
	} else if (rc == 0) {
		_cleanup_free_ char *put = NULL;
		rc = upload_url(&r, digest, &put, err);
		reg_req_release(&r);
		reg_req_init(&r, c, "PUT", TAKE_PTR(put));
		r.scope = scope;
		r.fd = fd;
		r.fd_off = (uint64_t)start;
		r.up_len = total;
		r.up_progress = progress;
		r.up_opaque = opaque;
		r.up_total = total;
		reg_req_header(&r, "Content-Type: application/octet-stream");
	}
	if (rc == 0) {
		reg_req_header(&r, "Expect:");
		rc = reg_request(&r, err);
		if (rc == 0 && r.status != 201 && r.status != 204)
			rc = reg_status_error(&r, err);
	}
	reg_req_release(&r);
	if (rc < 0)
		return berth_error_wrap(err, "push %s@%s", repo, digest);
	return 0;
}

/* ---- login ---- */

int registry_login(struct registry_client *c, berth_err *err)
{
	int rc = reg_ensure_pinged(c, err);
	if (rc < 0)
		return rc;
	enum auth_kind k = reg_auth_kind(c);
	if (k == AUTH_NONE)
		return 0;
	if (!c->username)
		return berth_error_code(err, EACCES, "registry %s: login: no username given",
					c->domain);
	_cleanup_free_ char *token = NULL;
	if (k == AUTH_BEARER) {
		rc = reg_token_fetch(c, "", &token, err);
		if (rc < 0)
			return rc;
	}
	struct req r;
	reg_req_init(&r, c, "GET", xasprintf("%s/v2/", c->base));
	rc = reg_perform(&r, token, err);
	if (rc == 0 && r.status != 200)
		rc = reg_status_error(&r, err);
	reg_req_release(&r);
	return rc;
}
