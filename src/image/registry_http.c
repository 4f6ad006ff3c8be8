/* registry_http.c - the registry client's transport and authentication.
 *
 * One request is one curl easy handle; the handles of a client share DNS,
 * connections and TLS sessions through a CURLSH guarded by mutexes, so
 * parallel downloads on one client reuse connections. The first request
 * pings /v2/ once to learn the scheme (http first for loopback; https, then
 * http for insecure hosts) and the authentication challenge. Bearer tokens are cached
 * per scope; a 401 refreshes the token and retries once. Transient failures
 * (connection errors, stalls, 5xx, 429) are retried a bounded number of
 * times with exponential back-off; a blob download resumes with Range from
 * the bytes the sink already has.
 */
#include "image/registry_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define BACKOFF_FIRST_MS     200L
#define CONNECT_TIMEOUT_SECS 30L
#define SMALL_BODY_MAX       (1024u * 1024) /* tokens, error documents */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_global(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *opaque)
{
	struct registry_client *c = opaque;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *opaque)
{
	struct registry_client *c = opaque;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_locks[data]);
}

CURLcode reg_curl_global_init(void)
{
	pthread_once(&curl_once, curl_global);
	return curl_init_rc;
}

void reg_share_init(struct registry_client *c)
{
	c->share = curl_share_init();
	if (!c->share)
		abort();
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

/* ---- small helpers ---- */

void reg_sha256_digest(const void *buf, size_t n, char out[DIGEST_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort(); /* allocation failure only */
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void reg_md_final(EVP_MD_CTX *md, char out[DIGEST_LEN + 1])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	if (EVP_DigestFinal_ex(md, h, &hl) != 1)
		abort();
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < hl && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", h[i]);
}

bool reg_is_sha256_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != DIGEST_LEN)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

bool reg_is_digest_ref(const char *ref)
{
	return strchr(ref, ':') != NULL;
}

char *reg_trim_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return xstrndup(s, n);
}

/* "host", "host:port", "[v6]:port": is the host loopback? */
bool reg_host_is_loopback(const char *hostport)
{
	_cleanup_free_ char *h = NULL;
	if (hostport[0] == '[') {
		const char *e = strchr(hostport, ']');
		h = xstrndup(hostport + 1, e ? (size_t)(e - hostport - 1) : strlen(hostport + 1));
	} else {
		const char *colon = strchr(hostport, ':');
		h = colon && !strchr(colon + 1, ':')
			    ? xstrndup(hostport, (size_t)(colon - hostport))
			    : xstrdup(hostport);
	}
	if (strcasecmp(h, "localhost") == 0)
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

char *reg_bare_host(const char *hostport)
{
	if (hostport[0] == '[') {
		const char *e = strchr(hostport, ']');
		return e ? xstrndup(hostport, (size_t)(e - hostport + 1)) : xstrdup(hostport);
	}
	const char *colon = strrchr(hostport, ':');
	return colon ? xstrndup(hostport, (size_t)(colon - hostport)) : xstrdup(hostport);
}

/* Registry error documents: {"errors":[{"code":..,"message":..}]}. */
static char *registry_error_text(const struct strbuf *body)
{
	if (!body->len)
		return NULL;
	_cleanup_json_ json_t *j = json_loadb(body->buf, body->len, 0, NULL);
	json_t *errs = j ? json_object_get(j, "errors") : NULL;
	if (!json_is_array(errs) || !json_array_size(errs))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *e;
	json_array_foreach (errs, i, e) {
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (i)
			strbuf_addstr(&sb, "; ");
		if (code)
			strbuf_addf(&sb, "%s%s", code, msg ? ": " : "");
		if (msg)
			strbuf_addstr(&sb, msg);
		if (i >= 4)
			break;
	}
	return strbuf_detach(&sb, NULL);
}

static int status_errno(long status)
{
	switch (status) {
	case 401:
	case 403: return EACCES;
	case 404: return ENOENT;
	case 416: return ERANGE;
	case 429: return EAGAIN;
	default: return status >= 500 ? EIO : EPROTO;
	}
}

/* "registry D: METHOD URL: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown" */
static int http_error(struct req *r, berth_err *err)
{
	_cleanup_free_ char *detail = registry_error_text(&r->resp);
	const char *phrase = r->status == 401   ? " Unauthorized"
			     : r->status == 403 ? " Forbidden"
			     : r->status == 404 ? " Not Found"
			     : r->status == 429 ? " Too Many Requests"
			     : r->status >= 500 ? " Server Error"
						: "";
	_cleanup_free_ char *tries =
		r->attempts > 1 ? xasprintf(" (%u attempts)", r->attempts) : xstrdup("");
	return berth_error_code(err, status_errno(r->status),
				"registry %s: %s%s%s %s: HTTP %ld%s%s%s%s", r->c->domain,
				r->what ? r->what : "", r->what ? ": " : "", r->method, r->url,
				r->status, phrase, detail ? ": " : "", detail ? detail : "", tries);
}

/* A 401 says whether credentials were given: the user's next step differs. */
int reg_status_error(struct req *r, berth_err *err)
{
	if (r->status != 401)
		return http_error(r, err);
	_cleanup_free_ char *detail = registry_error_text(&r->resp);
	return berth_error_code(err, EACCES,
				"registry %s: %s%s%s %s: HTTP 401 Unauthorized%s%s: %s",
				r->c->domain, r->what ? r->what : "", r->what ? ": " : "",
				r->method, r->url, detail ? ": " : "", detail ? detail : "",
				r->c->username ? "wrong username or password?"
					       : "authentication required, no credentials given");
}

/* ---- curl callbacks ---- */

/* The headers of the last response, freed: a new one (a redirect, a 100
 * Continue, a retry) starts from none. */
static void forget_headers(struct req *r)
{
	free(r->location);
	free(r->content_type);
	free(r->docker_digest);
	free(r->range);
	free(r->content_range);
	free(r->www_auth);
	r->location = r->content_type = r->docker_digest = r->range = NULL;
	r->content_range = r->www_auth = NULL;
	r->content_length = -1;
}

static size_t on_header(char *line, size_t size, size_t n, void *opaque)
{
	struct req *r = opaque;
	size_t len = size * n;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (redirect, 100 Continue): forget the last one's headers. */
		const char *sp = memchr(line, ' ', len);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		forget_headers(r);
		return len;
	}
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return len;
	size_t nl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = len - nl - 1;
#define HDR(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
	char **slot = NULL;
	if (HDR("Location"))
		slot = &r->location;
	else if (HDR("Content-Type"))
		slot = &r->content_type;
	else if (HDR("Docker-Content-Digest"))
		slot = &r->docker_digest;
	else if (HDR("Range"))
		slot = &r->range;
	else if (HDR("Content-Range"))
		slot = &r->content_range;
	else if (HDR("WWW-Authenticate")) {
		/* Several challenges may come; keep the first we understand. */
		if (!r->www_auth)
			slot = &r->www_auth;
	} else if (HDR("Content-Length")) {
		_cleanup_free_ char *s = reg_trim_dup(v, vl);
		char *end;
		errno = 0;
		long long cl = strtoll(s, &end, 10);
		if (!errno && *s && !*end && cl >= 0)
			r->content_length = cl;
	}
#undef HDR
	if (slot) {
		free(*slot);
		*slot = reg_trim_dup(v, vl);
	}
	return len;
}

/* Is the response being received one whose body the sink should get? */
static bool sink_wants_body(struct req *r)
{
	return r->sink && (r->status == 200 || r->status == 206);
}

/* The first body bytes of an attempt: is this response the one we can use? */
static bool check_resume(struct req *r)
{
	if (r->range_from == 0)
		return r->status == 200;
	if (r->status != 206 || !r->content_range)
		return false;
	/* "bytes START-END/TOTAL" */
	const char *p = r->content_range;
	if (strncasecmp(p, "bytes ", 6) == 0)
		p += 6;
	char *end;
	errno = 0;
	unsigned long long start = strtoull(p, &end, 10);
	return !errno && end != p && *end == '-' && start == r->range_from;
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct req *r = opaque;
	size_t len = size * n;
	if (!sink_wants_body(r)) {
		/* Error documents, tokens, manifests: kept, up to a cap. */
		if (r->resp.len + len > r->resp_cap) {
			r->resp_too_big = true;
			return 0;
		}
		strbuf_add(&r->resp, data, len);
		return len;
	}
	if (!r->body_checked) {
		if (!check_resume(r)) {
			r->cannot_resume = true;
			return 0;
		}
		r->body_checked = true;
	}
	if (r->expect_size >= 0 && r->delivered + len > (uint64_t)r->expect_size) {
		r->oversize = true;
		return 0;
	}
	if (len && EVP_DigestUpdate(r->md, data, len) != 1)
		abort();
	int rc = r->sink(r->sink_opaque, data, len, &r->sink_err);
	if (rc < 0) {
		r->sink_rc = rc;
		return 0;
	}
	r->delivered += len;
	if (r->progress)
		r->progress(r->progress_opaque, r->delivered,
			    r->expect_size >= 0 ? (uint64_t)r->expect_size : 0);
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *opaque)
{
	struct req *r = opaque;
	size_t want = size * n;
	uint64_t left = r->up_len - r->up_done;
	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (r->fd < 0) {
		memcpy(buf, r->body + r->up_done, want);
	} else {
		ssize_t got;
		do
			got = pread(r->fd, buf, want, (off_t)(r->fd_off + r->up_done));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			r->read_errno = got < 0 ? errno : EIO; /* EIO: the file shrank */
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)got;
	}
	r->up_done += want;
	if (r->up_progress)
		r->up_progress(r->up_opaque, r->up_base + r->up_done, r->up_total);
	return want;
}

/* ---- one attempt, and its retries ---- */

static void req_reset_response(struct req *r)
{
	r->status = 0;
	strbuf_reset(&r->resp);
	r->resp_too_big = false;
	forget_headers(r);
	r->up_done = 0;
	r->body_checked = false;
	r->cannot_resume = false;
}

void reg_req_release(struct req *r)
{
	req_reset_response(r);
	strbuf_release(&r->resp);
	free(r->url);
	r->url = NULL;
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	berth_err_clear(&r->sink_err);
}

void reg_req_init(struct req *r, struct registry_client *c, const char *method, char *url)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->method = method;
	r->url = url;
	r->fd = -1;
	r->resp = (struct strbuf)STRBUF_INIT;
	r->resp_cap = SMALL_BODY_MAX;
	r->content_length = -1;
	r->expect_size = -1;
}

void reg_req_header(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *h = NULL;
	if (vasprintf(&h, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct curl_slist *l = curl_slist_append(r->headers, h);
	if (!l)
		abort();
	r->headers = l;
}

static bool curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return true;
	default: return false;
	}
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE: return EPROTO;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: return ECONNRESET;
	default: return EIO;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool method_is(const struct req *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

/* One attempt: perform the request, fill r's response. Returns the CURLcode. */
static CURLcode perform_once(struct req *r, const char *bearer, char errbuf[CURL_ERROR_SIZE])
{
	struct registry_client *c = r->c;
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	errbuf[0] = '\0';
	struct curl_slist *extra = NULL, *hdrs = r->headers;
	if (r->sink && r->delivered > 0) {
		_cleanup_free_ char *range = xasprintf("Range: bytes=%" PRIu64 "-", r->delivered);
		extra = curl_slist_append(NULL, range);
		if (!extra)
			abort();
		for (struct curl_slist *l = r->headers; l; l = l->next)
			if (!(extra = curl_slist_append(extra, l->data)))
				abort();
		hdrs = extra;
	}
	r->range_from = r->sink ? r->delivered : 0;

	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SECS);
	/* A stall of stall_secs counts as a dropped connection. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_secs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (r->follow) {
		/* Credentials stay with the registry host: curl drops them on a
		 * redirect to another host unless CURLOPT_UNRESTRICTED_AUTH is
		 * set, which it never is here. */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	}
	if (c->ca_blob) {
		struct curl_blob blob = { c->ca_blob, c->ca_blob_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
	}
	if (r->https_probe)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!r->no_auth) {
		if (bearer) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
			curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, bearer);
		} else if (c->username) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
			curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
		}
	}

	if (method_is(r, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (method_is(r, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (method_is(r, "DELETE")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		/* PUT, POST, PATCH: a body of up_len bytes, maybe empty. */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->up_len);
		if (!method_is(r, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	curl_slist_free_all(extra);
	return rc;
}

/* Perform r, retrying transient failures. On return 0, r->status is the
 * final status (which may be an error status for the caller to judge). */
int reg_perform(struct req *r, const char *bearer, berth_err *err)
{
	struct registry_client *c = r->c;
	unsigned retries = r->https_probe ? 0 : c->max_retries;
	long delay = BACKOFF_FIRST_MS;
	char errbuf[CURL_ERROR_SIZE];
	for (unsigned attempt = 0;; attempt++) {
		req_reset_response(r);
		CURLcode rc = perform_once(r, bearer, errbuf);
		r->curl_rc = rc;
		r->attempts = attempt + 1;
		if (rc == CURLE_OK) {
			if ((r->status >= 500 || r->status == 429) && attempt < retries) {
				sleep_ms(delay);
				delay *= 2;
				continue;
			}
			return 0;
		}
		if (r->sink_rc < 0) {
			int code = r->sink_rc;
			if (err) {
				berth_err_clear(err);
				*err = r->sink_err;
				r->sink_err = (berth_err)BERTH_ERR_INIT;
			}
			return code;
		}
		if (r->cannot_resume)
			return berth_error_code(
				err, EIO,
				"registry %s: %s %s: the connection dropped after %" PRIu64
				" bytes and the registry cannot resume (HTTP %ld to a Range "
				"request)",
				c->domain, r->method, r->url, r->delivered, r->status);
		if (r->oversize)
			return berth_error_code(
				err, EBADMSG,
				"registry %s: %s %s: more data than the expected %" PRId64 " bytes",
				c->domain, r->method, r->url, r->expect_size);
		if (r->read_errno)
			return berth_error(err, r->read_errno,
					   "registry %s: %s %s: reading the upload", c->domain,
					   r->method, r->url);
		if (r->resp_too_big)
			return berth_error_code(
				err, EFBIG, "registry %s: %s %s: response larger than %zu bytes",
				c->domain, r->method, r->url, r->resp_cap);
		if (r->sink && r->expect_size >= 0 && r->delivered == (uint64_t)r->expect_size &&
		    r->delivered > 0 && curl_transient(rc)) {
			/* Dropped after the last byte: nothing left to resume. */
			r->status = 200;
			return 0;
		}
		if (curl_transient(rc) && attempt < retries) {
			sleep_ms(delay);
			delay *= 2;
			continue;
		}
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
		if (rc == CURLE_OPERATION_TIMEDOUT && r->delivered + r->up_done > 0)
			why = "the transfer stalled";
		return berth_error_code(err, curl_errno(rc), "registry %s: %s %s: %s%s", c->domain,
					r->method, r->url, why, attempt ? " (after retries)" : "");
	}
}

/* ---- authentication ---- */

/* Value of param NAME in a challenge: Bearer realm="x",service="y". */
static char *challenge_param(const char *ch, const char *name)
{
	size_t nl = strlen(name);
	const char *p = ch;
	while ((p = strcasestr(p, name))) {
		bool start = p == ch || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t';
		const char *q = p + nl;
		while (*q == ' ')
			q++;
		if (!start || *q != '=') {
			p += nl;
			continue;
		}
		q++;
		while (*q == ' ')
			q++;
		if (*q == '"') {
			struct strbuf sb = STRBUF_INIT;
			for (q++; *q && *q != '"'; q++) {
				if (*q == '\\' && q[1])
					q++;
				strbuf_addch(&sb, *q);
			}
			return strbuf_detach(&sb, NULL);
		}
		size_t n = strcspn(q, ", \t");
		return xstrndup(q, n);
	}
	return NULL;
}

/* Take a WWW-Authenticate challenge into c (caller holds c->lock). */
static void take_challenge(struct registry_client *c, const char *ch)
{
	if (strncasecmp(ch, "Bearer", 6) == 0) {
		char *realm = challenge_param(ch + 6, "realm");
		if (!realm)
			return;
		free(c->realm);
		free(c->service);
		c->realm = realm;
		c->service = challenge_param(ch + 6, "service");
		c->auth = AUTH_BEARER;
	} else if (strncasecmp(ch, "Basic", 5) == 0) {
		c->auth = AUTH_BASIC;
	}
}

static char *token_cached(struct registry_client *c, const char *scope)
{
	char *v = NULL;
	pthread_mutex_lock(&c->lock);
	for (struct token *t = c->tokens; t; t = t->next)
		if (strcmp(t->scope, scope) == 0) {
			v = xstrdup(t->value);
			break;
		}
	pthread_mutex_unlock(&c->lock);
	return v;
}

/* Scope is "repository:N:pull" or several joined with a space, as the
 * challenge's "scope" is; each goes out as its own scope= parameter. */
int reg_token_fetch(struct registry_client *c, const char *scope, char **out, berth_err *err)
{
	pthread_mutex_lock(&c->lock);
	_cleanup_free_ char *realm = c->realm ? xstrdup(c->realm) : NULL;
	_cleanup_free_ char *service = c->service ? xstrdup(c->service) : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!realm)
		return berth_error_code(err, EPROTO,
					"registry %s: Bearer challenge without a realm", c->domain);
	struct strbuf url = STRBUF_INIT;
	strbuf_addf(&url, "%s%c", realm, strchr(realm, '?') ? '&' : '?');
	bool first = true;
	if (service) {
		char *e = curl_easy_escape(NULL, service, 0);
		strbuf_addf(&url, "service=%s", e);
		curl_free(e);
		first = false;
	}
	_cleanup_free_ char *scopes = xstrdup(scope);
	char *save = NULL;
	for (char *s = strtok_r(scopes, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		char *e = curl_easy_escape(NULL, s, 0);
		strbuf_addf(&url, "%sscope=%s", first ? "" : "&", e);
		curl_free(e);
		first = false;
	}
	_cleanup_free_ char *what = xasprintf("token for %s", scope[0] ? scope : "login");
	struct req r;
	reg_req_init(&r, c, "GET", strbuf_detach(&url, NULL));
	r.what = what;
	int rc = reg_perform(&r, NULL, err);
	if (rc == 0 && r.status != 200)
		rc = reg_status_error(&r, err);
	if (rc == 0) {
		_cleanup_json_ json_t *j = json_loadb(r.resp.buf, r.resp.len, 0, NULL);
		const char *tok = json_string_value(json_object_get(j, "token"));
		if (!tok || !*tok)
			tok = json_string_value(json_object_get(j, "access_token"));
		if (!tok || !*tok)
			rc = berth_error_code(err, EPROTO,
					      "registry %s: token from %s: no token in reply",
					      c->domain, realm);
		else
			*out = xstrdup(tok);
	}
	reg_req_release(&r);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	struct token **pp = &c->tokens;
	while (*pp && strcmp((*pp)->scope, scope) != 0)
		pp = &(*pp)->next;
	if (*pp) {
		free((*pp)->value);
		(*pp)->value = xstrdup(*out);
	} else {
		struct token *t = xcalloc(1, sizeof(*t));
		t->scope = xstrdup(scope);
		t->value = xstrdup(*out);
		*pp = t;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

enum auth_kind reg_auth_kind(struct registry_client *c)
{
	pthread_mutex_lock(&c->lock);
	enum auth_kind k = c->auth;
	pthread_mutex_unlock(&c->lock);
	return k;
}

/* GET /v2/ on one base URL: learn the challenge. */
static int ping_base(struct registry_client *c, const char *base, bool probe, CURLcode *crc,
		     berth_err *err)
{
	struct req r;
	reg_req_init(&r, c, "GET", xasprintf("%s/v2/", base));
	r.no_auth = true;
	r.https_probe = probe;
	int rc = reg_perform(&r, NULL, err);
	*crc = r.curl_rc;
	if (rc == 0) {
		if (r.status == 401 && r.www_auth) {
			take_challenge(c, r.www_auth);
		} else if (r.status == 401) {
			c->auth = AUTH_BASIC;
		} else if (r.status != 200) {
			rc = http_error(&r, err);
			berth_error_wrap(err, "not a registry (v2 API)");
		}
	}
	reg_req_release(&r);
	return rc;
}

/* Did an https attempt fail because the server speaks no TLS, so plain
 * http may work? A certificate that does not verify is not such a case. */
static bool https_not_spoken(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT: return true;
	default: return false;
	}
}

int reg_ensure_pinged(struct registry_client *c, berth_err *err)
{
	pthread_mutex_lock(&c->lock);
	if (c->pinged) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	int rc;
	if (c->fixed_scheme) {
		CURLcode crc;
		rc = ping_base(c, c->base, false, &crc, err);
	} else if (c->loopback) {
		/* Loopback registries are mostly plain http (tests, local mirrors):
		 * try that first, so they do not pay a TLS set-up (loading the system
		 * CA bundle costs ~40 ms) on every command. A TLS server answers plain
		 * http with an error or a closed connection, and https follows. */
		_cleanup_free_ char *http = xasprintf("http://%s", c->host);
		_cleanup_err_ berth_err herr = BERTH_ERR_INIT;
		CURLcode crc = CURLE_OK;
		rc = ping_base(c, http, true, &crc, &herr);
		if (rc == 0) {
			free(c->base);
			c->base = TAKE_PTR(http);
		} else {
			_cleanup_free_ char *https = xasprintf("https://%s", c->host);
			rc = ping_base(c, https, false, &crc, err);
			if (rc == 0) {
				free(c->base);
				c->base = TAKE_PTR(https);
			} else if (https_not_spoken(crc) && err) {
				/* no TLS there either: the plain http answer says more */
				berth_err_clear(err);
				*err = herr;
				herr = (berth_err)BERTH_ERR_INIT;
			}
		}
	} else {
		_cleanup_free_ char *https = xasprintf("https://%s", c->host);
		bool may_http = c->loopback || c->insecure;
		_cleanup_err_ berth_err herr = BERTH_ERR_INIT;
		CURLcode crc = CURLE_OK;
		rc = ping_base(c, https, may_http, &crc, &herr);
		if (rc == 0) {
			free(c->base);
			c->base = TAKE_PTR(https);
		} else if (may_http && (c->insecure || https_not_spoken(crc))) {
			_cleanup_free_ char *http = xasprintf("http://%s", c->host);
			rc = ping_base(c, http, false, &crc, err);
			if (rc == 0) {
				free(c->base);
				c->base = TAKE_PTR(http);
			}
		} else {
			if (err) {
				berth_err_clear(err);
				*err = herr;
				herr = (berth_err)BERTH_ERR_INIT;
			}
		}
	}
	if (rc == 0)
		c->pinged = true;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Perform r with the client's credentials: a Bearer token for r->scope
 * (cached, fetched on demand, refreshed once on a 401), Basic credentials,
 * or none. r->url is a path under the registry base ("/v2/...") or a full URL. */
int reg_request(struct req *r, berth_err *err)
{
	struct registry_client *c = r->c;
	int rc = reg_ensure_pinged(c, err);
	if (rc < 0)
		return rc;
	if (r->url[0] == '/') {
		char *full = xasprintf("%s%s", c->base, r->url);
		free(r->url);
		r->url = full;
	}
	bool fresh = false; /* the token of this round was fetched for it */
	for (int round = 0; round < 2; round++) {
		_cleanup_free_ char *token = NULL;
		if (reg_auth_kind(c) == AUTH_BEARER && r->scope) {
			token = round == 0 ? token_cached(c, r->scope) : NULL;
			if (!token) {
				rc = reg_token_fetch(c, r->scope, &token, err);
				if (rc < 0)
					return rc;
				fresh = true;
			}
		}
		rc = reg_perform(r, token, err);
		if (rc < 0 || r->status != 401 || round == 1)
			return rc;
		/* A 401: the cached token expired, or the registry asks for
		 * authentication here although the ping did not. */
		if (r->www_auth) {
			pthread_mutex_lock(&c->lock);
			take_challenge(c, r->www_auth);
			pthread_mutex_unlock(&c->lock);
		}
		/* Basic credentials (or none) would get the same answer again. */
		if (reg_auth_kind(c) != AUTH_BEARER || !r->scope || fresh)
			return rc;
	}
	return rc;
}

char *reg_scope_for(const char *repo, bool push)
{
	return xasprintf("repository:%s:%s", repo, push ? "pull,push" : "pull");
}

/* ---- TLS: certs.d ---- */

static int read_file_append(const char *path, struct strbuf *sb, berth_err *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = file_read(path, &data, &len, err);
	if (rc < 0)
		return rc;
	strbuf_add(sb, data, len);
	if (len && data[len - 1] != '\n')
		strbuf_addch(sb, '\n');
	return 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* certs.d/<host>/: *.crt are CAs (added to the system's), client.cert +
 * client.key a client certificate. */
int reg_load_certs(struct registry_client *c, const char *certs_dir, berth_err *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", certs_dir, c->host);
	_cleanup_dir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return berth_error_errno(err, "registry %s: certificates in %s", c->domain, dir);
	}
	char **crts = NULL;
	size_t n = 0;
	struct dirent *de;
	bool cert = false, key = false;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".crt") == 0) {
			crts = xrealloc(crts, (n + 2) * sizeof(*crts));
			crts[n++] = xasprintf("%s/%s", dir, de->d_name);
			crts[n] = NULL;
		} else if (strcmp(de->d_name, "client.cert") == 0) {
			cert = true;
		} else if (strcmp(de->d_name, "client.key") == 0) {
			key = true;
		}
	}
	_cleanup_strv_ char **files = crts;
	if (cert != key)
		return berth_error_code(
			err, EINVAL, "registry %s: %s has client.%s without client.%s", c->domain,
			dir, cert ? "cert" : "key", cert ? "key" : "cert");
	if (cert) {
		c->client_cert = xasprintf("%s/client.cert", dir);
		c->client_key = xasprintf("%s/client.key", dir);
	}
	if (!n)
		return 0;
	qsort(files, n, sizeof(*files), cmpstr);
	/* CURLOPT_CAINFO_BLOB replaces the default bundle: start from it. */
	struct strbuf sb = STRBUF_INIT;
	CURL *h = curl_easy_init();
	char *sys = NULL;
	if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &sys) == CURLE_OK && sys &&
	    access(sys, R_OK) == 0) {
		_cleanup_err_ berth_err ignore = BERTH_ERR_INIT;
		read_file_append(sys, &sb, &ignore); /* no system CAs: only ours */
	}
	if (h)
		curl_easy_cleanup(h);
	for (size_t i = 0; i < n; i++) {
		int rc = read_file_append(files[i], &sb, err);
		if (rc < 0) {
			strbuf_release(&sb);
			return berth_error_wrap(err, "registry %s: CA certificate", c->domain);
		}
	}
	c->ca_blob = strbuf_detach(&sb, &c->ca_blob_len);
	return 0;
}
