/* reference.c - image references, parsed and normalised as Docker does.
 *
 * The input is first normalised as the docker CLI does (ParseNormalizedNamed
 * of the distribution project): the first '/'-separated component is a domain
 * only when it holds a '.' or a ':' or is "localhost"; otherwise the domain is
 * docker.io, and a single-component docker.io name gains "library/". The
 * normalised string must then match the reference grammar:
 *
 *   reference  := domain '/' path [ ':' tag ] [ '@' digest ]
 *   domain     := host [ ':' port ]     host := domain-name | '[' ipv6-hex ']'
 *   domain-name:= component ('.' component)*, component = [a-zA-Z0-9] or
 *                 [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path       := path-component ('/' path-component)*
 *   path-component := [a-z0-9]+ ( ('.' | '_' | '__' | '-'+) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ':' hex, only sha256 (64 lowercase hex) accepted
 *
 * The matcher is hand-written rather than a regex: the grammar is small, and a
 * failure can then say which part is wrong, after Docker's own wording.
 */
#include "image/reference.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* distribution's NameTotalLengthMax: domain, '/' and path together. */
#define NAME_TOTAL_MAX 255
#define TAG_MAX 128
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

/* One path component: alnum runs joined by '.', '_', '__' or a run of '-'. */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
	}
}

static bool path_ok(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!path_component_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool domain_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool domain_ok(const char *s, size_t n)
{
	size_t host_end;
	if (n > 0 && s[0] == '[') {
		/* An IPv6 address in brackets (no zone identifier). */
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!is_hex(*p) && *p != ':')
				return false;
		host_end = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		host_end = colon ? (size_t)(colon - s) : n;
		size_t start = 0;
		for (size_t i = 0; i <= host_end; i++) {
			if (i == host_end || s[i] == '.') {
				if (!domain_component_ok(s + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (host_end == n)
		return true;
	if (s[host_end] != ':' || host_end + 1 == n)
		return false;
	for (size_t i = host_end + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool tag_ok(const char *s, size_t n)
{
	if (n == 0 || n > TAG_MAX || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* The grammar's digest shape: algorithm components [A-Za-z][A-Za-z0-9]*
 * joined by [-_+.], ':', then at least 32 hex digits of either case. */
static bool digest_shape_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
		while (i < n && is_alnum(s[i]))
			i++;
		if (i < n && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.')) {
			i++;
			continue;
		}
		break;
	}
	if (i >= n || s[i] != ':')
		return false;
	i++;
	if (n - i < 32)
		return false;
	for (; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

bool image_digest_valid(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0)
		return false;
	const char *hex = digest + 7;
	for (size_t i = 0; i < SHA256_HEX_LEN; i++)
		if (!is_lower_hex(hex[i]))
			return false;
	return hex[SHA256_HEX_LEN] == '\0';
}

bool image_id_prefix_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

/* After go-digest's Validate: the algorithm must be one we can verify, then
 * the length, then the lowercase encoding. */
static int digest_check(const char *input, const char *d, berth_err *err)
{
	const char *colon = strchr(d, ':');
	size_t alg_len = (size_t)(colon - d);
	if (alg_len != 6 || strncmp(d, "sha256", 6) != 0)
		return berth_error_code(
			err, EINVAL, "\"%s\": unsupported digest algorithm \"%.*s\" (only sha256)",
			input, (int)alg_len, d);
	if (strlen(colon + 1) != SHA256_HEX_LEN)
		return berth_error_code(err, EINVAL, "\"%s\": invalid checksum digest length",
					input);
	if (!image_digest_valid(d))
		return berth_error_code(err, EINVAL, "\"%s\": invalid checksum digest format",
					input);
	return 0;
}

static bool is_identifier(const char *s)
{
	return strlen(s) == SHA256_HEX_LEN && image_id_prefix_ok(s);
}

struct ref_parts {
	const char *domain;
	size_t domain_len;
	const char *path;
	size_t path_len;
	const char *tag; /* NULL when absent */
	size_t tag_len;
	const char *digest; /* NULL when absent */
	size_t digest_len;
};

/* Match "domain/remainder" against the grammar; on failure *why says which part. */
static bool match_parts(const char *domain, size_t dlen, const char *rem, struct ref_parts *p,
			const char **why)
{
	memset(p, 0, sizeof(*p));
	p->domain = domain;
	p->domain_len = dlen;
	size_t n = strlen(rem);
	const char *at = memchr(rem, '@', n);
	size_t name_tag_len = at ? (size_t)(at - rem) : n;
	if (at) {
		p->digest = at + 1;
		p->digest_len = n - name_tag_len - 1;
	}
	const char *colon = memchr(rem, ':', name_tag_len);
	p->path = rem;
	p->path_len = colon ? (size_t)(colon - rem) : name_tag_len;
	if (colon) {
		p->tag = colon + 1;
		p->tag_len = name_tag_len - p->path_len - 1;
	}
	if (!domain_ok(domain, dlen)) {
		*why = "bad registry domain";
		return false;
	}
	if (!path_ok(p->path, p->path_len)) {
		*why = NULL; /* Docker says nothing more than "invalid reference format" */
		return false;
	}
	if (p->tag && !tag_ok(p->tag, p->tag_len)) {
		*why = "bad tag";
		return false;
	}
	if (p->digest && !digest_shape_ok(p->digest, p->digest_len)) {
		*why = "bad digest";
		return false;
	}
	return true;
}

static int parse(const char *s, bool name_only, struct image_ref *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return berth_error_code(err, EINVAL, "no image reference given");
	if (is_identifier(s))
		return berth_error_code(
			err, EINVAL,
			"invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
			s);

	/* Where the domain ends, as the docker CLI decides it. */
	const char *domain = IMAGE_DEFAULT_DOMAIN, *rem = s;
	size_t dlen = strlen(IMAGE_DEFAULT_DOMAIN);
	const char *slash = strchr(s, '/');
	if (slash) {
		size_t first = (size_t)(slash - s);
		if (memchr(s, '.', first) || memchr(s, ':', first) ||
		    (first == 9 && strncmp(s, "localhost", 9) == 0)) {
			domain = s;
			dlen = first;
			rem = slash + 1;
		}
	}
	if (dlen == strlen(LEGACY_DEFAULT_DOMAIN) &&
	    strncmp(domain, LEGACY_DEFAULT_DOMAIN, dlen) == 0) {
		domain = IMAGE_DEFAULT_DOMAIN;
		dlen = strlen(IMAGE_DEFAULT_DOMAIN);
	}
	_cleanup_free_ char *official = NULL;
	if (dlen == strlen(IMAGE_DEFAULT_DOMAIN) &&
	    strncmp(domain, IMAGE_DEFAULT_DOMAIN, dlen) == 0 && !strchr(rem, '/')) {
		official = xasprintf(OFFICIAL_PREFIX "%s", rem);
		rem = official;
	}

	/* Docker checks case on the part before the first ':' before the grammar. */
	const char *colon = strchr(rem, ':');
	if (has_upper(rem, colon ? (size_t)(colon - rem) : strlen(rem)))
		return berth_error_code(
			err, EINVAL,
			"\"%s\": invalid reference format: repository name must be lowercase", s);

	struct ref_parts p;
	const char *why = NULL;
	if (!match_parts(domain, dlen, rem, &p, &why)) {
		if (why)
			return berth_error_code(err, EINVAL, "\"%s\": invalid reference format: %s",
						s, why);
		return berth_error_code(err, EINVAL, "\"%s\": invalid reference format", s);
	}
	if (p.domain_len + 1 + p.path_len > NAME_TOTAL_MAX)
		return berth_error_code(
			err, EINVAL, "\"%s\": repository name must not be more than %d characters",
			s, NAME_TOTAL_MAX);
	if (p.digest) {
		_cleanup_free_ char *d = xstrndup(p.digest, p.digest_len);
		int r = digest_check(s, d, err);
		if (r < 0)
			return r;
	}
	if (name_only && (p.tag || p.digest))
		return berth_error_code(
			err, EINVAL,
			"\"%s\": a repository name is wanted here, without a tag or "
			"digest",
			s);

	out->domain = xstrndup(p.domain, p.domain_len);
	out->path = xstrndup(p.path, p.path_len);
	if (p.tag)
		out->tag = xstrndup(p.tag, p.tag_len);
	if (p.digest)
		out->digest = xstrndup(p.digest, p.digest_len);
	if (!p.tag && !p.digest && !name_only)
		out->tag = xstrdup(IMAGE_DEFAULT_TAG);
	return 0;
}

int image_ref_parse(const char *s, struct image_ref *out, berth_err *err)
{
	return parse(s, false, out, err);
}

int image_ref_parse_name(const char *s, struct image_ref *out, berth_err *err)
{
	return parse(s, true, out, err);
}

static void add_suffix(struct strbuf *sb, const struct image_ref *r)
{
	if (r->tag)
		strbuf_addf(sb, ":%s", r->tag);
	if (r->digest)
		strbuf_addf(sb, "@%s", r->digest);
}

/* Whether the first '/'-component of s would be read as a domain. */
static bool starts_with_domain(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return false;
	size_t n = (size_t)(slash - s);
	return memchr(s, '.', n) || memchr(s, ':', n) ||
	       (n == 9 && strncmp(s, "localhost", 9) == 0);
}

/* The path as Docker shows it: "library/x" on docker.io is "x", but
 * "library/x/y" keeps its prefix (distribution's familiarizeName). Unlike
 * Docker, a docker.io path that would read as a domain ("docker.io/a.b/c",
 * "docker.io/localhost/c") keeps "docker.io/", so the short form names the
 * same image when it is parsed again. */
static void add_familiar_name(struct strbuf *sb, const struct image_ref *r)
{
	if (strcmp(r->domain, IMAGE_DEFAULT_DOMAIN) != 0 || starts_with_domain(r->path)) {
		strbuf_addf(sb, "%s/%s", r->domain, r->path);
		return;
	}
	const char *path = r->path;
	size_t plen = strlen(OFFICIAL_PREFIX);
	if (strncmp(path, OFFICIAL_PREFIX, plen) == 0 && !strchr(path + plen, '/'))
		path += plen;
	strbuf_addstr(sb, path);
}

char *image_ref_string(const struct image_ref *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", r->domain, r->path);
	add_suffix(&sb, r);
	return strbuf_detach(&sb, NULL);
}

char *image_ref_familiar(const struct image_ref *r)
{
	struct strbuf sb = STRBUF_INIT;
	add_familiar_name(&sb, r);
	add_suffix(&sb, r);
	return strbuf_detach(&sb, NULL);
}

char *image_ref_repo(const struct image_ref *r)
{
	return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_familiar_repo(const struct image_ref *r)
{
	struct strbuf sb = STRBUF_INIT;
	add_familiar_name(&sb, r);
	return strbuf_detach(&sb, NULL);
}

void image_ref_free(struct image_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
