/* manifest.c - OCI and Docker image manifests, indexes and configs.
 *
 * Everything here is outside input (a registry, an archive), so every field
 * is type-checked and every error names the field: "manifest: layers[2]:
 * digest: \"sha256:xyz\" is not a valid sha256 digest". Platform matching
 * follows what Docker (containerd's platform matcher) does for pulls.
 */
#include "image/manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/reference.h"

static const char *json_type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* Size cap, JSON syntax (duplicate keys refused: two readers must not see two
 * documents), and a top-level object. */
static int load_object(const char *body, size_t len, const char *what, json_t **out, berth_err *err)
{
	*out = NULL;
	if (len > MANIFEST_MAX_SIZE)
		return berth_error_code(err, EFBIG, "%s: %zu bytes is over the limit of %u bytes",
					what, len, MANIFEST_MAX_SIZE);
	json_error_t jerr;
	_cleanup_json_ json_t *doc =
		json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return berth_error_code(err, EINVAL, "%s: not valid JSON: line %d column %d: %s",
					what, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(doc))
		return berth_error_code(err, EINVAL, "%s: must be a JSON object, not %s", what,
					json_type_name(doc));
	*out = TAKE_PTR(doc);
	return 0;
}

/* obj[key] as a string; NULL (and 0) when absent or null, an error when of
 * another type or when required and absent. */
static int get_string(json_t *obj, const char *prefix, const char *key, bool required,
		      const char **out, berth_err *err)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return berth_error_code(err, EINVAL, "%s%s: required field is missing",
						prefix, key);
		return 0;
	}
	if (!json_is_string(v))
		return berth_error_code(err, EINVAL, "%s%s: must be a string, not %s", prefix, key,
					json_type_name(v));
	*out = json_string_value(v);
	return 0;
}

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool is_schema1(const char *mt)
{
	return strcmp(mt, MT_DOCKER_SCHEMA1) == 0 || strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED) == 0;
}

static bool is_index_type(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

static bool is_manifest_type(const char *mt)
{
	return strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0;
}

/* schemaVersion must be 2; 1 is the refused Docker schema 1. */
static int check_schema_version(json_t *doc, const char *what, berth_err *err)
{
	json_t *v = json_object_get(doc, "schemaVersion");
	if (!v)
		return berth_error_code(err, EINVAL, "%s: schemaVersion: required field is missing",
					what);
	if (!json_is_integer(v))
		return berth_error_code(err, EINVAL,
					"%s: schemaVersion: must be an integer, not %s", what,
					json_type_name(v));
	json_int_t n = json_integer_value(v);
	if (n == 1)
		return berth_error_code(err, ENOTSUP,
					"schema 1 manifests are not supported: %s: schemaVersion 1 "
					"(push the image again with a current docker or skopeo)",
					what);
	if (n != 2)
		return berth_error_code(err, EINVAL,
					"%s: schemaVersion: %lld is not supported (only 2)", what,
					(long long)n);
	return 0;
}

static int schema1_error(const char *mt, berth_err *err)
{
	return berth_error_code(err, ENOTSUP,
				"schema 1 manifests are not supported: %s (push the image again "
				"with a current docker or skopeo)",
				mt);
}

/* The media type proper of an HTTP Content-Type: parameters and blanks dropped. */
static char *content_type_base(const char *ct)
{
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	return xstrndup(ct, n);
}

enum manifest_kind manifest_kind(const char *body, size_t len, const char *content_type,
				 berth_err *err)
{
	_cleanup_json_ json_t *doc = NULL;
	if (load_object(body, len, "manifest", &doc, err) < 0)
		return MANIFEST_UNKNOWN;
	const char *mt;
	if (get_string(doc, "manifest: ", "mediaType", false, &mt, err) < 0)
		return MANIFEST_UNKNOWN;
	_cleanup_free_ char *ct = NULL;
	if (!mt && content_type) {
		ct = content_type_base(content_type);
		/* A registry may serve anything as plain JSON: then the body decides. */
		if (*ct && strcmp(ct, "application/json") != 0)
			mt = ct;
	}
	json_t *sv = json_object_get(doc, "schemaVersion");
	if (json_is_integer(sv) && json_integer_value(sv) == 1) {
		schema1_error(mt ? mt : "schemaVersion 1", err);
		return MANIFEST_UNKNOWN;
	}
	if (mt) {
		if (is_schema1(mt)) {
			schema1_error(mt, err);
			return MANIFEST_UNKNOWN;
		}
		if (is_index_type(mt))
			return MANIFEST_INDEX;
		if (is_manifest_type(mt))
			return MANIFEST_IMAGE;
		berth_error_code(err, ENOTSUP, "manifest: unsupported media type \"%s\"", mt);
		return MANIFEST_UNKNOWN;
	}
	/* An OCI document may omit mediaType: its fields tell what it is. */
	bool has_manifests = json_object_get(doc, "manifests") != NULL;
	bool has_layers = json_object_get(doc, "layers") != NULL;
	if (has_manifests && !has_layers)
		return MANIFEST_INDEX;
	if (has_layers && !has_manifests)
		return MANIFEST_IMAGE;
	berth_error_code(err, EINVAL,
			 "manifest: no mediaType, and %s: cannot tell an index from an image "
			 "manifest",
			 has_layers ? "both \"manifests\" and \"layers\""
				    : "neither \"manifests\" nor \"layers\"");
	return MANIFEST_UNKNOWN;
}

void platform_free(struct image_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	memset(p, 0, sizeof(*p));
}

static void desc_free(struct image_desc *d)
{
	free(d->media_type);
	free(d->digest);
	platform_free(&d->platform);
	memset(d, 0, sizeof(*d));
}

/* A descriptor at "prefix" (e.g. "manifest: layers[2]: "); platform only for
 * index entries. */
static int desc_parse(json_t *v, const char *prefix, bool with_platform, struct image_desc *out,
		      berth_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(v))
		return berth_error_code(err, EINVAL, "%smust be an object, not %s", prefix,
					v ? json_type_name(v) : "missing");
	const char *mt, *digest;
	int r = get_string(v, prefix, "mediaType", true, &mt, err);
	if (r < 0)
		return r;
	r = get_string(v, prefix, "digest", true, &digest, err);
	if (r < 0)
		return r;
	if (!image_digest_valid(digest))
		return berth_error_code(err, EINVAL,
					"%sdigest: \"%s\" is not a valid sha256 digest", prefix,
					digest);
	json_t *size = json_object_get(v, "size");
	if (!size)
		return berth_error_code(err, EINVAL, "%ssize: required field is missing", prefix);
	if (!json_is_integer(size))
		return berth_error_code(err, EINVAL, "%ssize: must be an integer, not %s", prefix,
					json_type_name(size));
	if (json_integer_value(size) < 0)
		return berth_error_code(err, EINVAL, "%ssize: %lld is negative", prefix,
					(long long)json_integer_value(size));

	struct image_platform plat = { 0 };
	json_t *pv = with_platform ? json_object_get(v, "platform") : NULL;
	if (pv && !json_is_null(pv)) {
		_cleanup_free_ char *pp = xasprintf("%splatform.", prefix);
		if (!json_is_object(pv))
			return berth_error_code(err, EINVAL,
						"%splatform: must be an object, not %s", prefix,
						json_type_name(pv));
		const char *os, *arch, *variant;
		if ((r = get_string(pv, pp, "os", true, &os, err)) < 0 ||
		    (r = get_string(pv, pp, "architecture", true, &arch, err)) < 0 ||
		    (r = get_string(pv, pp, "variant", false, &variant, err)) < 0)
			return r;
		plat.os = xstrdup(os);
		plat.architecture = xstrdup(arch);
		plat.variant = variant && *variant ? xstrdup(variant) : NULL;
	}
	out->media_type = xstrdup(mt);
	out->digest = xstrdup(digest);
	out->size = (int64_t)json_integer_value(size);
	out->platform = plat;
	return 0;
}

/* The declared mediaType of a manifest or index, checked against what the
 * caller expects; *mt is NULL when the field is absent. */
static int check_media_type(json_t *doc, const char *what, bool want_index, const char **mt,
			    berth_err *err)
{
	_cleanup_free_ char *prefix = xasprintf("%s: ", what);
	int r = get_string(doc, prefix, "mediaType", false, mt, err);
	if (r < 0 || !*mt)
		return r;
	if (is_schema1(*mt))
		return schema1_error(*mt, err);
	if (want_index ? is_index_type(*mt) : is_manifest_type(*mt))
		return 0;
	if (want_index ? is_manifest_type(*mt) : is_index_type(*mt))
		return berth_error_code(err, EINVAL, "%s: mediaType: \"%s\" is %s, not %s", what,
					*mt, want_index ? "an image manifest" : "an index",
					want_index ? "an index" : "an image manifest");
	return berth_error_code(err, ENOTSUP, "%s: mediaType: unsupported media type \"%s\"", what,
				*mt);
}

void manifest_free(struct image_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	desc_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		desc_free(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int manifest_parse(const char *body, size_t len, struct image_manifest *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_json_ json_t *doc = NULL;
	const char *mt;
	int r = load_object(body, len, "manifest", &doc, err);
	if (r < 0 || (r = check_schema_version(doc, "manifest", err)) < 0 ||
	    (r = check_media_type(doc, "manifest", false, &mt, err)) < 0)
		return r;
	if (!mt && json_object_get(doc, "manifests"))
		return berth_error_code(
			err, EINVAL,
			"manifest: has \"manifests\": an index, not an image manifest");

	_cleanup_manifest_ struct image_manifest m = { 0 };
	m.media_type = xstrdup(mt ? mt : MT_OCI_MANIFEST);
	r = desc_parse(json_object_get(doc, "config"), "manifest: config: ", false, &m.config, err);
	if (r < 0)
		return r;
	json_t *layers = json_object_get(doc, "layers");
	if (!layers)
		return berth_error_code(err, EINVAL, "manifest: layers: required field is missing");
	if (!json_is_array(layers))
		return berth_error_code(err, EINVAL, "manifest: layers: must be an array, not %s",
					json_type_name(layers));
	size_t n = json_array_size(layers);
	m.layers = xcalloc(n ? n : 1, sizeof(*m.layers));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *prefix = xasprintf("manifest: layers[%zu]: ", i);
		r = desc_parse(json_array_get(layers, i), prefix, false, &m.layers[i], err);
		if (r < 0)
			return r;
		m.n_layers++;
	}
	*out = m;
	memset(&m, 0, sizeof(m));
	return 0;
}

void index_free(struct image_index *idx)
{
	if (!idx)
		return;
	free(idx->media_type);
	for (size_t i = 0; i < idx->n_manifests; i++)
		desc_free(&idx->manifests[i]);
	free(idx->manifests);
	memset(idx, 0, sizeof(*idx));
}

int index_parse(const char *body, size_t len, struct image_index *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_json_ json_t *doc = NULL;
	const char *mt;
	int r = load_object(body, len, "index", &doc, err);
	if (r < 0 || (r = check_schema_version(doc, "index", err)) < 0 ||
	    (r = check_media_type(doc, "index", true, &mt, err)) < 0)
		return r;

	_cleanup_index_ struct image_index idx = { 0 };
	idx.media_type = xstrdup(mt ? mt : MT_OCI_INDEX);
	json_t *list = json_object_get(doc, "manifests");
	if (!list)
		return berth_error_code(err, EINVAL, "index: manifests: required field is missing");
	if (!json_is_array(list))
		return berth_error_code(err, EINVAL, "index: manifests: must be an array, not %s",
					json_type_name(list));
	size_t n = json_array_size(list);
	idx.manifests = xcalloc(n ? n : 1, sizeof(*idx.manifests));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *prefix = xasprintf("index: manifests[%zu]: ", i);
		r = desc_parse(json_array_get(list, i), prefix, true, &idx.manifests[i], err);
		if (r < 0)
			return r;
		idx.n_manifests++;
	}
	*out = idx;
	memset(&idx, 0, sizeof(idx));
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The variant a CPU of this architecture has when none is named. */
static const char *normal_variant(const char *arch)
{
	if (strcmp(arch, "arm64") == 0)
		return "v8";
	if (strcmp(arch, "arm") == 0)
		return "v7";
	if (strcmp(arch, "amd64") == 0)
		return "v1";
	return "";
}

/* How well an entry of the right os and architecture fits the wanted variant:
 * 3 exactly, 2 the architecture's plain build, 1 will do, -1 does not. */
static int variant_score(const char *arch, const char *want, const char *have)
{
	bool have_normal = !have || !*have || strcmp(have, normal_variant(arch)) == 0;
	if (!want || !*want)
		return have_normal ? 2 : 1;
	if (strcmp(arch, "arm64") == 0) {
		/* arm64 images rarely name their variant: none means v8. */
		const char *w = strcmp(want, "v8") == 0 ? "" : want;
		const char *h = have && strcmp(have, "v8") == 0 ? "" : have;
		return str_eq(w, h) ? 3 : -1;
	}
	if (str_eq(want, have))
		return 3;
	/* As Docker, amd64 variants are not told apart; but the plain build is
	 * preferred, since a v3 build may not run on the CPU that wants v2. */
	if (strcmp(arch, "amd64") == 0)
		return have_normal ? 2 : 1;
	return -1;
}

int index_select(const struct image_index *idx, const struct image_platform *want, berth_err *err)
{
	int best = -1, best_score = 0;
	for (size_t i = 0; i < idx->n_manifests && i < (size_t)INT32_MAX; i++) {
		const struct image_desc *d = &idx->manifests[i];
		const struct image_platform *p = &d->platform;
		if (!p->os || !p->architecture || !d->media_type ||
		    !is_manifest_type(d->media_type))
			continue;
		if (strcmp(p->os, want->os) != 0 ||
		    strcmp(p->architecture, want->architecture) != 0)
			continue;
		int score = variant_score(want->architecture, want->variant, p->variant);
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	if (best >= 0)
		return best;

	_cleanup_free_ char *wanted = platform_string(want);
	struct strbuf have = STRBUF_INIT;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct image_platform *p = &idx->manifests[i].platform;
		if (!p->os || !p->architecture)
			continue;
		_cleanup_free_ char *s = platform_string(p);
		strbuf_addf(&have, "%s%s", have.len ? ", " : "", s);
	}
	int r = berth_error_code(
		err, ENOENT, "no matching manifest for %s in the manifest list entries (%s%s)",
		wanted, have.len ? "the index has: " : "the index names no platform", have.buf);
	strbuf_release(&have);
	return r;
}

static bool specifier_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* containerd's normalizeArch: the names uname and distributions use, mapped
 * to Go's; "arm" without a variant is v7, "v1" of amd64 is no variant. */
static void normalize_arch(struct image_platform *p)
{
	static const struct {
		const char *alias, *arch, *variant;
	} aliases[] = {
		{ "i386", "386", NULL },     { "x86_64", "amd64", NULL },
		{ "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
		{ "armhf", "arm", "v7" },    { "armel", "arm", "v6" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
		if (strcmp(p->architecture, aliases[i].alias) == 0) {
			free(p->architecture);
			p->architecture = xstrdup(aliases[i].arch);
			if (aliases[i].variant && !p->variant)
				p->variant = xstrdup(aliases[i].variant);
			break;
		}
	}
	if (p->variant && p->variant[0] >= '0' && p->variant[0] <= '9' &&
	    (strcmp(p->architecture, "arm") == 0 || strcmp(p->architecture, "arm64") == 0)) {
		char *v = xasprintf("v%s", p->variant);
		free(p->variant);
		p->variant = v;
	}
	if (strcmp(p->architecture, "arm") == 0 && !p->variant)
		p->variant = xstrdup("v7");
	if (strcmp(p->architecture, "amd64") == 0 && p->variant && strcmp(p->variant, "v1") == 0) {
		free(p->variant);
		p->variant = NULL;
	}
}

static bool known_arch(const char *a)
{
	static const char *const arches[] = { "386",      "amd64",   "arm",   "arm64",
					      "ppc64le",  "ppc64",   "s390x", "riscv64",
					      "mips64le", "loong64", "i386",  "x86_64",
					      "aarch64",  "armhf",   "armel", "x86-64" };
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (strcmp(a, arches[i]) == 0)
			return true;
	return false;
}

int platform_parse(const char *s, struct image_platform *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return berth_error_code(err, EINVAL, "no platform given");
	_cleanup_free_ char *copy = xstrdup(s);
	lowercase(copy);
	char *parts[3] = { 0 };
	size_t n = 0;
	char *save = NULL;
	if (!*copy || copy[0] == '/' || copy[strlen(copy) - 1] == '/' || strstr(copy, "//"))
		return berth_error_code(err, EINVAL,
					"\"%s\": invalid platform: want os[/arch[/variant]]", s);
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			return berth_error_code(err, EINVAL,
						"\"%s\": invalid platform: too many parts (want "
						"os[/arch[/variant]])",
						s);
		if (!specifier_ok(tok))
			return berth_error_code(err, EINVAL,
						"\"%s\": invalid platform: \"%s\" may hold only "
						"letters, digits, '_' and '-'",
						s, tok);
		parts[n++] = tok;
	}
	struct image_platform p = { 0 };
	if (n == 1) {
		/* One word: an OS on the host's architecture, or an architecture on Linux. */
		platform_default(&p);
		if (known_arch(parts[0])) {
			free(p.architecture);
			free(p.variant);
			p.architecture = xstrdup(parts[0]);
			p.variant = NULL;
		} else if (strcmp(parts[0], "linux") != 0) {
			platform_free(&p);
			return berth_error_code(
				err, EINVAL, "\"%s\": unknown operating system or architecture", s);
		}
	} else {
		p.os = xstrdup(parts[0]);
		p.architecture = xstrdup(parts[1]);
		p.variant = n == 3 ? xstrdup(parts[2]) : NULL;
	}
	if (strcmp(p.os, "macos") == 0) {
		free(p.os);
		p.os = xstrdup("darwin");
	}
	normalize_arch(&p);
	*out = p;
	return 0;
}

void platform_default(struct image_platform *out)
{
	const char *arch, *variant = NULL;
#if defined(__x86_64__)
	arch = "amd64";
#elif defined(__aarch64__)
	arch = "arm64";
#elif defined(__arm__)
#if defined(__ARM_ARCH) && __ARM_ARCH <= 5
	arch = "arm", variant = "v5";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
	arch = "arm", variant = "v6";
#else
	arch = "arm", variant = "v7";
#endif
#elif defined(__i386__)
	arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	arch = "ppc64le";
#elif defined(__powerpc64__)
	arch = "ppc64";
#elif defined(__s390x__)
	arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	arch = "riscv64";
#elif defined(__loongarch64)
	arch = "loong64";
#else
#error "platform_default: unknown architecture; add its Go name here"
#endif
	out->os = xstrdup("linux");
	out->architecture = xstrdup(arch);
	out->variant = variant ? xstrdup(variant) : NULL;
}

char *platform_string(const struct image_platform *p)
{
	const char *os = p->os ? p->os : "unknown",
		   *arch = p->architecture ? p->architecture : "unknown";
	if (p->variant && *p->variant)
		return xasprintf("%s/%s/%s", os, arch, p->variant);
	return xasprintf("%s/%s", os, arch);
}

void config_free(struct image_config *c)
{
	if (!c)
		return;
	json_decref(c->json);
	free(c->os);
	free(c->architecture);
	free(c->variant);
	free(c->created);
	for (size_t i = 0; i < c->n_diff_ids; i++)
		free(c->diff_ids[i]);
	free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].comment);
	}
	free(c->history);
	memset(c, 0, sizeof(*c));
}

static int parse_rootfs(json_t *doc, struct image_config *c, berth_err *err)
{
	json_t *rootfs = json_object_get(doc, "rootfs");
	if (!rootfs)
		return berth_error_code(err, EINVAL,
					"image config: rootfs: required field is missing");
	if (!json_is_object(rootfs))
		return berth_error_code(err, EINVAL,
					"image config: rootfs: must be an object, not %s",
					json_type_name(rootfs));
	const char *type;
	int r = get_string(rootfs, "image config: rootfs.", "type", true, &type, err);
	if (r < 0)
		return r;
	if (strcmp(type, "layers") != 0)
		return berth_error_code(err, EINVAL,
					"image config: rootfs.type: \"%s\" is not supported (only "
					"\"layers\")",
					type);
	/* Docker omits diff_ids for an image without layers. */
	json_t *ids = json_object_get(rootfs, "diff_ids");
	if (!ids || json_is_null(ids)) {
		c->diff_ids = xcalloc(1, sizeof(*c->diff_ids));
		return 0;
	}
	if (!json_is_array(ids))
		return berth_error_code(err, EINVAL,
					"image config: rootfs.diff_ids: must be an array, not %s",
					json_type_name(ids));
	size_t n = json_array_size(ids);
	c->diff_ids = xcalloc(n + 1, sizeof(*c->diff_ids));
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(ids, i);
		if (!json_is_string(v))
			return berth_error_code(
				err, EINVAL,
				"image config: rootfs.diff_ids[%zu]: must be a string, "
				"not %s",
				i, json_type_name(v));
		if (!image_digest_valid(json_string_value(v)))
			return berth_error_code(
				err, EINVAL,
				"image config: rootfs.diff_ids[%zu]: \"%s\" is not a "
				"valid sha256 digest",
				i, json_string_value(v));
		c->diff_ids[i] = xstrdup(json_string_value(v));
		c->n_diff_ids++;
	}
	return 0;
}

static int parse_history(json_t *doc, struct image_config *c, berth_err *err)
{
	json_t *hist = json_object_get(doc, "history");
	if (!hist || json_is_null(hist))
		return 0;
	if (!json_is_array(hist))
		return berth_error_code(err, EINVAL,
					"image config: history: must be an array, not %s",
					json_type_name(hist));
	size_t n = json_array_size(hist);
	c->history = xcalloc(n ? n : 1, sizeof(*c->history));
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(hist, i);
		_cleanup_free_ char *prefix = xasprintf("image config: history[%zu].", i);
		if (!json_is_object(h))
			return berth_error_code(
				err, EINVAL,
				"image config: history[%zu]: must be an object, not %s", i,
				json_type_name(h));
		const char *created, *created_by, *comment;
		int r;
		if ((r = get_string(h, prefix, "created", false, &created, err)) < 0 ||
		    (r = get_string(h, prefix, "created_by", false, &created_by, err)) < 0 ||
		    (r = get_string(h, prefix, "comment", false, &comment, err)) < 0)
			return r;
		json_t *empty = json_object_get(h, "empty_layer");
		if (empty && !json_is_null(empty) && !json_is_boolean(empty))
			return berth_error_code(err, EINVAL,
						"%sempty_layer: must be a boolean, not %s", prefix,
						json_type_name(empty));
		struct image_history *e = &c->history[i];
		e->created = xstrdup_or_null(created);
		e->created_by = xstrdup_or_null(created_by);
		e->comment = xstrdup_or_null(comment);
		e->empty_layer = json_is_true(empty);
		c->n_history++;
	}
	return 0;
}

int config_parse(const char *body, size_t len, struct image_config *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_config_ struct image_config c = { 0 };
	int r = load_object(body, len, "image config", &c.json, err);
	if (r < 0)
		return r;
	const char *os, *arch, *variant, *created;
	if ((r = get_string(c.json, "image config: ", "os", true, &os, err)) < 0 ||
	    (r = get_string(c.json, "image config: ", "architecture", true, &arch, err)) < 0 ||
	    (r = get_string(c.json, "image config: ", "variant", false, &variant, err)) < 0 ||
	    (r = get_string(c.json, "image config: ", "created", false, &created, err)) < 0)
		return r;
	c.os = xstrdup(os);
	c.architecture = xstrdup(arch);
	c.variant = variant && *variant ? xstrdup(variant) : NULL;
	c.created = xstrdup_or_null(created);
	if ((r = parse_rootfs(c.json, &c, err)) < 0 || (r = parse_history(c.json, &c, err)) < 0)
		return r;
	*out = c;
	memset(&c, 0, sizeof(c));
	return 0;
}

char **layer_chain_ids(char *const *diff_ids, size_t n)
{
	char **chain = xcalloc(n + 1, sizeof(*chain));
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			chain[i] = xstrdup(diff_ids[0]);
			continue;
		}
		char hex[SHA256_HEX_LEN + 1];
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s %s", chain[i - 1], diff_ids[i]);
		sha256_hex(sb.buf, sb.len, hex);
		chain[i] = xasprintf("sha256:%s", hex);
	}
	strbuf_release(&sb);
	return chain;
}
