/* registry_internal.h - what the registry client's two files share:
 * registry_http.c (transport and authentication: curl handles and their
 * share, one request with its retries and back-off, the /v2/ ping and its
 * WWW-Authenticate challenge, Basic credentials and cached Bearer tokens,
 * TLS from certs.d) and registry.c (the API of registry.h on top of it).
 * Not for use outside src/image/registry*.c.
 *
 *   reg_curl_global_init()  curl_global_init() once per process: its result
 *   reg_share_init()        the client's CURLSH (DNS, connections, TLS sessions)
 *   reg_load_certs()        certs.d/<host>/: extra CAs and a client certificate
 *   reg_sha256_digest()     "sha256:<hex>" of a buffer
 *   reg_md_final()          "sha256:<hex>" of a running SHA-256
 *   reg_is_sha256_digest()  is it "sha256:" and 64 lowercase hex digits?
 *   reg_is_digest_ref()     is a manifest reference a digest (not a tag)?
 *   reg_trim_dup()          a copy of n bytes without surrounding blanks
 *   reg_host_is_loopback()  is host[:port] localhost, 127.0.0.0/8 or ::1?
 *   reg_bare_host()         host[:port] without the port
 *   reg_req_init()          start a request (takes url: a path or full URL)
 *   reg_req_header()        add a request header, printf-style
 *   reg_req_release()       free a request's headers and response
 *   reg_perform()           one request with retries, with a given token
 *   reg_request()           one request with the client's credentials
 *   reg_status_error()      the error for an unexpected HTTP status
 *   reg_ensure_pinged()     ping /v2/ once: the scheme and the challenge
 *   reg_auth_kind()         the challenge's kind (none, Basic, Bearer)
 *   reg_token_fetch()       a Bearer token for a scope from the realm
 *   reg_scope_for()         "repository:<repo>:pull" (or ":pull,push")
 */
#ifndef BERTH_IMAGE_REGISTRY_INTERNAL_H
#define BERTH_IMAGE_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "image/registry.h"

#define DIGEST_LEN (7 + 64)

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	struct token *next;
	char *scope;
	char *value;
};

struct registry_client {
	char *domain;      /* as given: names the registry in errors */
	char *host;        /* host[:port] of the endpoint: certs.d lookup */
	char *base;        /* "https://host[:port]" once known */
	bool fixed_scheme; /* a mirror URL names its scheme */
	bool loopback;
	bool insecure;
	char *username;
	char *password;
	char *user_agent;
	unsigned max_retries;
	long stall_secs;
	char *ca_blob; /* system CAs + certs.d/<host>/ *.crt, or NULL */
	size_t ca_blob_len;
	char *client_cert;
	char *client_key;

	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	pthread_mutex_t lock; /* guards everything below */
	bool pinged;
	enum auth_kind auth;
	char *realm;
	char *service;
	struct token *tokens;
};

/* One HTTP exchange, reused across its retries. */
struct req {
	struct registry_client *c;
	const char *method;
	char *url;
	const char *scope; /* token scope, NULL: none */
	const char *what;  /* context for errors ("token for ..."), or NULL */
	struct curl_slist *headers;
	bool follow;
	bool no_auth;     /* the ping: no credentials */
	bool https_probe; /* fail fast: the caller falls back to http */
	CURLcode curl_rc; /* of the last attempt */
	unsigned attempts;
	int read_errno; /* reading the upload source failed */

	/* request body: memory or fd */
	const char *body;
	size_t body_len;
	int fd;
	uint64_t fd_off;
	uint64_t up_len;
	uint64_t up_done;
	registry_progress_fn up_progress;
	void *up_opaque;
	uint64_t up_base, up_total;

	/* response */
	long status;
	struct strbuf resp;
	size_t resp_cap;
	bool resp_too_big;
	char *location;
	char *content_type;
	char *docker_digest;
	char *range;
	char *content_range;
	char *www_auth;
	int64_t content_length;

	/* blob download */
	registry_sink_fn sink;
	void *sink_opaque;
	registry_progress_fn progress;
	void *progress_opaque;
	int64_t expect_size;
	uint64_t delivered;
	uint64_t range_from; /* Range asked for in this attempt */
	bool body_checked;   /* this attempt's status checked for resuming */
	EVP_MD_CTX *md;
	int sink_rc;
	berth_err sink_err;
	bool cannot_resume;
	bool oversize;
};

/* curl_global_init() once per process; its result. */
CURLcode reg_curl_global_init(void);
/* Create c->share (DNS, connections, TLS sessions), locked by c->share_locks. */
void reg_share_init(struct registry_client *c);
/* Load certs.d/<host>/ into c: *.crt as extra CAs, client.cert + client.key. */
int reg_load_certs(struct registry_client *c, const char *certs_dir, berth_err *err);

/* "sha256:<hex>" of buf into out. */
void reg_sha256_digest(const void *buf, size_t n, char out[DIGEST_LEN + 1]);
/* Finish md (SHA-256) into out as "sha256:<hex>". */
void reg_md_final(EVP_MD_CTX *md, char out[DIGEST_LEN + 1]);
/* Is d "sha256:" followed by 64 lowercase hex digits? */
bool reg_is_sha256_digest(const char *d);
/* Is a manifest reference a digest rather than a tag? */
bool reg_is_digest_ref(const char *ref);
/* A copy of s[0..n) without leading and trailing blanks. */
char *reg_trim_dup(const char *s, size_t n);
/* "host", "host:port", "[v6]:port": is the host loopback? */
bool reg_host_is_loopback(const char *hostport);
/* host[:port] without the port ("[v6]" keeps its brackets). */
char *reg_bare_host(const char *hostport);

/* Start r: method on url (owned by r), a path under the base or a full URL. */
void reg_req_init(struct req *r, struct registry_client *c, const char *method, char *url);
/* Add a request header to r, printf-style. */
void reg_req_header(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free what r holds. */
void reg_req_release(struct req *r);
/* Perform r with bearer (or Basic, or none), retrying transient failures. */
int reg_perform(struct req *r, const char *bearer, berth_err *err);
/* Perform r with the client's credentials, refreshing a token once on a 401. */
int reg_request(struct req *r, berth_err *err);
/* The error for r's unexpected status (a 401 says whether credentials were given). */
int reg_status_error(struct req *r, berth_err *err);

/* Ping /v2/ once per client: learn the scheme and the challenge. */
int reg_ensure_pinged(struct registry_client *c, berth_err *err);
/* The kind of authentication the registry asked for. */
enum auth_kind reg_auth_kind(struct registry_client *c);
/* A Bearer token for scope ("" for none) from the challenge's realm. */
int reg_token_fetch(struct registry_client *c, const char *scope, char **out, berth_err *err);
/* The token scope for repo: pull, or pull and push. */
char *reg_scope_for(const char *repo, bool push);

#endif
