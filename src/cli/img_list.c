/* img_list.c - images, rmi, tag, image inspect, image history, image prune. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/berth.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"

/* "sha256:abc..." -> "abc..." cut to 12 unless notrunc. */
static char *short_id(const char *id, bool notrunc)
{
	if (notrunc)
		return xstrdup(id);
	const char *h = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
	return xstrndup(h, 12);
}

/* The image config (parsed JSON) of an image, or NULL with err set. */
static json_t *image_config_json(struct image_store *s, const char *id, berth_err *err)
{
	_cleanup_free_ char *body = NULL;
	size_t len;
	if (image_store_read_blob(s, id, MANIFEST_MAX_SIZE, &body, &len, err) < 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	if (!j)
		berth_error_code(err, EBADMSG, "image config %s: %s", id, je.text);
	return j;
}

static time_t created_time(const char *created)
{
	time_t t = 0;
	if (created)
		time_parse_rfc3339(created, &t);
	return t;
}

/* Split a canonical ref into docker's familiar repository and tag/digest. */
static void familiar_split(const char *canonical, char **repo, char **tag, char **digest)
{
	struct image_ref r = { 0 };
	berth_err e = BERTH_ERR_INIT;
	*repo = *tag = NULL;
	if (digest)
		*digest = NULL;
	if (image_ref_parse(canonical, &r, &e) < 0) {
		berth_err_clear(&e);
		*repo = xstrdup(canonical);
		return;
	}
	*repo = image_ref_familiar_repo(&r);
	*tag = r.tag && !r.digest ? xstrdup(r.tag) : NULL;
	if (digest && r.digest)
		*digest = xstrdup(r.digest);
	image_ref_free(&r);
}

/* ---- images ---------------------------------------------------------------- */

struct image_filters {
	int dangling; /* -1 any, 0 false, 1 true */
	char **refs;  /* patterns */
	char **labels;
	time_t before, since; /* 0: none */
	bool has_before, has_since;
};

static int parse_filter(struct image_store *s, struct image_filters *f, const char *arg,
			berth_err *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return berth_error_code(err, EINVAL, "bad format of filter (expected name=value)");
	_cleanup_free_ char *key = xstrndup(arg, (size_t)(eq - arg));
	const char *val = eq + 1;
	if (strcmp(key, "dangling") == 0) {
		if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0)
			f->dangling = 1;
		else if (strcasecmp(val, "false") == 0 || strcmp(val, "0") == 0)
			f->dangling = 0;
		else
			return berth_error_code(
				err, EINVAL, "invalid filter 'dangling=%s': must be true or false",
				val);
	} else if (strcmp(key, "reference") == 0) {
		strv_push(&f->refs, val);
	} else if (strcmp(key, "label") == 0) {
		strv_push(&f->labels, val);
	} else if (strcmp(key, "before") == 0 || strcmp(key, "since") == 0) {
		_cleanup_free_ char *id = NULL;
		if (image_store_resolve(s, val, &id, err) < 0)
			return -ENOENT;
		_cleanup_image_info_ struct image_info info = { 0 };
		if (image_store_info(s, id, &info, err) < 0)
			return -ENOENT;
		if (key[0] == 'b') {
			f->before = created_time(info.created);
			f->has_before = true;
		} else {
			f->since = created_time(info.created);
			f->has_since = true;
		}
	} else {
		return berth_error_code(err, EINVAL, "invalid filter '%s'", key);
	}
	return 0;
}

static bool labels_match(json_t *config, char **labels)
{
	json_t *l = json_object_get(json_object_get(config, "config"), "Labels");
	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		_cleanup_free_ char *k =
			eq ? xstrndup(labels[i], (size_t)(eq - labels[i])) : xstrdup(labels[i]);
		json_t *v = json_object_get(l, k);
		if (!v || (eq && (!json_is_string(v) || strcmp(json_string_value(v), eq + 1) != 0)))
			return false;
	}
	return true;
}

/* Does familiar "repo" with tag match a reference pattern (docker: path.Match
 * on the familiar name, with or without the tag)? */
static bool ref_match(const char *pattern, const char *repo, const char *tag)
{
	if (fnmatch(pattern, repo, FNM_PATHNAME) == 0)
		return true;
	if (!tag)
		return false;
	_cleanup_free_ char *full = xasprintf("%s:%s", repo, tag);
	return fnmatch(pattern, full, FNM_PATHNAME) == 0;
}

static json_t *image_row(const struct image_info *im, const char *repo, const char *tag,
			 const char *digest, bool notrunc)
{
	_cleanup_free_ char *id = short_id(im->id, notrunc);
	time_t c = created_time(im->created);
	_cleanup_free_ char *ago = human_duration(time(NULL) - c);
	_cleanup_free_ char *since = xasprintf("%s ago", ago);
	_cleanup_free_ char *at = time_go_string(c);
	_cleanup_free_ char *size = human_size((double)im->size);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
			 "N/A", "CreatedAt", at, "CreatedSince", since, "Digest",
			 digest ? digest : "<none>", "ID", id, "Repository", repo ? repo : "<none>",
			 "SharedSize", "N/A", "Size", size, "Tag", tag ? tag : "<none>",
			 "UniqueSize", "N/A", "VirtualSize", size);
}

static const char *const image_headers[] = { "ID",      "IMAGE ID",  "CreatedSince",
					     "CREATED", "CreatedAt", "CREATED AT",
					     NULL };

int cmd_images(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "digests", no_argument, NULL, 'd' },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	berth_err err = BERTH_ERR_INIT;
	bool digests = false, notrunc = false, quiet = false;
	const char *format = NULL;
	struct image_filters f = { .dangling = -1 };
	_cleanup_strv_ char **fl = NULL, **fr = NULL, **filters = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+af:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': break; /* no intermediate images: every image is listed anyway */
		case 'd': digests = true; break;
		case 'f': strv_push(&filters, optarg); break;
		case 'F': format = optarg; break;
		case 'n': notrunc = true; break;
		case 'q': quiet = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 < argc)
		return berth_usage_error(argv[0], "\"%s\" requires at most 1 argument.", argv[0]);
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	for (size_t i = 0; filters && filters[i]; i++) {
		if (parse_filter(s, &f, filters[i], &err) < 0) {
			strv_free(f.labels);
			strv_free(f.refs);
			return berth_fail(&err);
		}
	}
	if (optind < argc)
		strv_push(&f.refs, argv[optind]);
	fl = f.labels; /* freed on return */
	fr = f.refs;

	if (!format)
		format = quiet     ? "{{.ID}}"
			 : digests ? "table "
				     "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{."
				     "CreatedSince}}\t{{.Size}}"
				   : "table "
				     "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{."
				     "Size}}";
	struct fmt_template *t = NULL;
	if (fmt_compile(format, image_headers, &t, &err) < 0)
		return berth_fail(&err);
	struct image_info *list = NULL;
	size_t n = 0;
	if (image_store_list(s, &list, &n, &err) < 0) {
		fmt_free(t);
		return berth_fail(&err);
	}
	_cleanup_json_ json_t *out = json_array();
	_cleanup_free_ char *last_id = NULL;
	for (size_t i = 0; i < n; i++) {
		struct image_info *im = &list[i];
		bool dangling = !im->tags[0];
		if (f.dangling >= 0 && dangling != (f.dangling == 1))
			continue;
		time_t ct = created_time(im->created);
		if ((f.has_before && ct >= f.before) || (f.has_since && ct <= f.since))
			continue;
		if (f.labels) {
			_cleanup_json_ json_t *cfg = image_config_json(s, im->id, &err);
			berth_err_clear(&err);
			if (!cfg || !labels_match(cfg, f.labels))
				continue;
		}
		/* One row per tag; digest-only repositories get a <none> tag row;
		 * an image with no names one <none> row. */
		size_t nrows = 0;
		json_t *rows[64];
		char **names = im->tags;
		for (size_t k = 0; names[k] && nrows < 64; k++) {
			_cleanup_free_ char *repo = NULL, *tag = NULL;
			familiar_split(names[k], &repo, &tag, NULL);
			if (f.refs) {
				bool any = false;
				for (size_t p = 0; f.refs[p]; p++)
					any |= ref_match(f.refs[p], repo, tag);
				if (!any)
					continue;
			}
			_cleanup_free_ char *dg = NULL;
			for (size_t d = 0; im->repo_digests[d]; d++) {
				_cleanup_free_ char *drepo = NULL, *dtag = NULL, *digest = NULL;
				familiar_split(im->repo_digests[d], &drepo, &dtag, &digest);
				if (strcmp(drepo, repo) == 0 && !dg)
					dg = TAKE_PTR(digest);
			}
			rows[nrows++] = image_row(im, repo, tag, dg, notrunc);
		}
		for (size_t d = 0; im->repo_digests[d] && nrows < 64; d++) {
			_cleanup_free_ char *drepo = NULL, *dtag = NULL, *digest = NULL;
			familiar_split(im->repo_digests[d], &drepo, &dtag, &digest);
			bool tagged = false;
			for (size_t k = 0; names[k]; k++) {
				_cleanup_free_ char *repo = NULL, *tag = NULL;
				familiar_split(names[k], &repo, &tag, NULL);
				tagged |= strcmp(repo, drepo) == 0;
			}
			if (tagged || (f.refs && !ref_match(f.refs[0], drepo, NULL)))
				continue;
			rows[nrows++] = image_row(im, drepo, NULL, digest, notrunc);
		}
		if (!names[0] && !im->repo_digests[0] && !f.refs)
			rows[nrows++] = image_row(im, NULL, NULL, NULL, notrunc);
		for (size_t k = 0; k < nrows; k++) {
			if (quiet && last_id && strcmp(last_id, im->id) == 0) {
				json_decref(rows[k]);
				continue;
			}
			json_array_append_new(out, rows[k]);
			free(last_id);
			last_id = xstrdup(im->id);
		}
	}
	int rc = fmt_print(t, out, stdout, &err) < 0 ? berth_fail(&err) : 0;
	fmt_free(t);
	image_info_list_free(list, n);
	return rc;
}

/* ---- tag, rmi -------------------------------------------------------------- */

/* Parse a name a user typed and give its canonical string, or NULL with err. */
static char *canonical_name(const char *name, bool allow_digest, berth_err *err)
{
	struct image_ref r = { 0 };
	if (image_ref_parse(name, &r, err) < 0)
		return NULL;
	if (r.digest && !allow_digest) {
		image_ref_free(&r);
		berth_error_code(err, EINVAL, "refusing to create a tag with a digest reference");
		return NULL;
	}
	char *s = image_ref_string(&r);
	image_ref_free(&r);
	return s;
}

int cmd_tag(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '-' && argv[1][1])
		return berth_usage_error(argv[0], "unknown flag: %s", argv[1]);
	if (argc != 3)
		return berth_usage_error(argv[0], "\"tag\" requires exactly 2 arguments.");
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	_cleanup_free_ char *id = NULL;
	if (image_store_resolve(s, argv[1], &id, &err) < 0)
		return berth_fail(&err);
	_cleanup_free_ char *target = canonical_name(argv[2], false, &err);
	if (!target || image_store_tag(s, id, target, &err) < 0)
		return berth_fail(&err);
	return 0;
}

/* Distinct repositories among an image's tags. */
static size_t distinct_repos(char **tags)
{
	size_t n = 0;
	for (size_t i = 0; tags[i]; i++) {
		const char *colon = strrchr(tags[i], ':');
		size_t li = colon ? (size_t)(colon - tags[i]) : strlen(tags[i]);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const char *cj = strrchr(tags[j], ':');
			size_t lj = cj ? (size_t)(cj - tags[j]) : strlen(tags[j]);
			seen = li == lj && strncmp(tags[i], tags[j], li) == 0;
		}
		n += !seen;
	}
	return n;
}

static int remove_one(struct image_store *s, const char *name, bool force, berth_err *err)
{
	_cleanup_free_ char *id = NULL;
	if (image_store_resolve(s, name, &id, err) < 0)
		return -ENOENT;
	_cleanup_image_info_ struct image_info im = { 0 };
	if (image_store_info(s, id, &im, err) < 0)
		return -ENOENT;
	/* By name: untag; the image goes when that was its last name. */
	_cleanup_free_ char *canon = canonical_name(name, true, err);
	berth_err_clear(err);
	bool by_tag = false;
	for (size_t i = 0; canon && im.tags[i]; i++)
		by_tag |= strcmp(im.tags[i], canon) == 0;
	if (by_tag && im.tags[1]) {
		if (image_store_untag(s, canon, err) < 0)
			return -EIO;
		_cleanup_free_ char *repo = NULL, *tag = NULL;
		familiar_split(canon, &repo, &tag, NULL);
		printf("Untagged: %s:%s\n", repo, tag);
		return 0;
	}
	/* A container's image stays: without -f the removal is refused; with
	 * it, the image loses its names but stays for the containers. */
	struct engine *e = berth_engine(err);
	if (!e)
		return -EIO;
	_cleanup_strv_ char **users = ctr_image_users(e, id, false);
	if (users && users[0]) {
		_cleanup_free_ char *sid = short_id(id, false);
		_cleanup_strv_ char **running = ctr_image_users(e, id, true);
		if (running && running[0])
			return berth_error_code(err, EBUSY,
						"conflict: unable to delete %s (cannot be forced) "
						"- image is being used by "
						"running container %.12s",
						sid, running[0]);
		if (!force)
			return berth_error_code(err, EBUSY,
						"conflict: unable to remove repository reference "
						"\"%s\" (must force) - "
						"container %.12s is using its referenced image %s",
						name, users[0], sid);
		for (size_t i = 0; im.tags[i]; i++) {
			_cleanup_free_ char *repo = NULL, *tag = NULL;
			familiar_split(im.tags[i], &repo, &tag, NULL);
			if (image_store_untag(s, im.tags[i], err) < 0)
				return -EIO;
			printf("Untagged: %s:%s\n", repo, tag);
		}
		return 0;
	}
	if (!by_tag && !force && distinct_repos(im.tags) > 1) {
		_cleanup_free_ char *sid = short_id(id, false);
		return berth_error_code(err, EEXIST,
					"conflict: unable to delete %s (must be forced) - image is "
					"referenced in multiple repositories",
					sid);
	}
	for (size_t i = 0; im.tags[i]; i++) {
		_cleanup_free_ char *repo = NULL, *tag = NULL;
		familiar_split(im.tags[i], &repo, &tag, NULL);
		printf("Untagged: %s:%s\n", repo, tag);
	}
	for (size_t i = 0; im.repo_digests[i]; i++) {
		_cleanup_free_ char *repo = NULL, *tag = NULL, *dg = NULL;
		familiar_split(im.repo_digests[i], &repo, &tag, &dg);
		printf("Untagged: %s@%s\n", repo, dg ? dg : "");
	}
	if (image_store_remove(s, id, force, err) < 0)
		return -EIO;
	printf("Deleted: %s\n", id);
	return 0;
}

int cmd_rmi(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-prune", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'n': break; /* no parent images to keep: nothing to do */
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"%s\" requires at least 1 argument.", argv[0]);
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		if (remove_one(s, argv[i], force, &err) < 0) {
			fprintf(stderr, "Error: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
		}
	}
	return rc;
}

/* ---- image inspect ---------------------------------------------------------- */

static json_t *strv_json(char **v, bool familiar)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++) {
		if (!familiar) {
			json_array_append_new(a, json_string(v[i]));
			continue;
		}
		struct image_ref r = { 0 };
		berth_err e = BERTH_ERR_INIT;
		if (image_ref_parse(v[i], &r, &e) == 0) {
			_cleanup_free_ char *f = image_ref_familiar(&r);
			json_array_append_new(a, json_string(f));
			image_ref_free(&r);
		} else {
			json_array_append_new(a, json_string(v[i]));
		}
		berth_err_clear(&e);
	}
	return a;
}

static json_t *get_or(json_t *o, const char *k, json_t *dflt)
{
	json_t *v = json_object_get(o, k);
	if (v) {
		json_decref(dflt);
		return json_incref(v);
	}
	return dflt;
}

/* Docker's image inspect object. */
static json_t *inspect_json(struct image_store *s, const struct image_info *im, berth_err *err)
{
	_cleanup_json_ json_t *cfg = image_config_json(s, im->id, err);
	if (!cfg)
		return NULL;
	_cleanup_strv_ char **dirs = image_store_layer_dirs(s, im->id, err);
	json_t *gd = json_object();
	if (dirs && dirs[0]) {
		struct strbuf lower = STRBUF_INIT;
		for (size_t i = 0; dirs[i]; i++) {
			if (i)
				strbuf_addch(&lower, ':');
			strbuf_addstr(&lower, dirs[i]);
		}
		json_object_set_new(gd, "LowerDir", json_string(lower.buf));
		strbuf_release(&lower);
	}
	json_t *o = json_object();
	json_object_set_new(o, "Id", json_string(im->id));
	json_object_set_new(o, "RepoTags", strv_json(im->tags, true));
	json_object_set_new(o, "RepoDigests", strv_json(im->repo_digests, true));
	json_object_set_new(o, "Parent", json_string(""));
	json_object_set_new(o, "Comment", get_or(cfg, "comment", json_string("")));
	json_object_set_new(o, "Created", get_or(cfg, "created", json_string("")));
	json_object_set_new(o, "Container", get_or(cfg, "container", json_string("")));
	json_object_set_new(o, "ContainerConfig", get_or(cfg, "container_config", json_object()));
	json_object_set_new(o, "DockerVersion", get_or(cfg, "docker_version", json_string("")));
	json_object_set_new(o, "Author", get_or(cfg, "author", json_string("")));
	json_object_set_new(o, "Config", get_or(cfg, "config", json_null()));
	json_object_set_new(o, "Architecture",
			    json_string(im->architecture ? im->architecture : ""));
	if (im->variant)
		json_object_set_new(o, "Variant", json_string(im->variant));
	json_object_set_new(o, "Os", json_string(im->os ? im->os : ""));
	json_object_set_new(o, "Size", json_integer(im->size));
	json_object_set_new(o, "VirtualSize", json_integer(im->size));
	json_object_set_new(o, "GraphDriver",
			    json_pack("{s:o, s:s}", "Data", gd, "Name", "overlay2"));
	json_object_set_new(o, "RootFS",
			    json_pack("{s:s, s:o}", "Type", "layers", "Layers",
				      strv_json(im->diff_ids, false)));
	json_object_set_new(o, "Metadata",
			    json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
	return o;
}

static json_t *image_inspect_one(const char *name, void *opaque, berth_err *err)
{
	struct image_store *s = opaque;
	_cleanup_free_ char *id = NULL;
	_cleanup_image_info_ struct image_info im = { 0 };
	if (image_store_resolve(s, name, &id, err) < 0 || image_store_info(s, id, &im, err) < 0)
		return NULL;
	return inspect_json(s, &im, err);
}

int cmd_image_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		format = optarg;
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"inspect\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	int rc = fmt_inspect(format, argv + optind, argc - optind, image_inspect_one, s, &err);
	return rc < 0 ? berth_fail(&err) : rc;
}

/* ---- image history ------------------------------------------------------------ */

static const char *const history_headers[] = { "ID",        "IMAGE",      "CreatedSince",
					       "CREATED",   "CreatedAt",  "CREATED AT",
					       "CreatedBy", "CREATED BY", NULL };

/* Docker's ellipsis: at most n characters, the last one "…" when cut. */
static char *ellipsis(const char *s, size_t n)
{
	size_t len = strlen(s);
	if (len <= n)
		return xstrdup(s);
	size_t cut = n - 1;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return xasprintf("%.*s…", (int)cut, s);
}

int cmd_image_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "human", required_argument, NULL, 'H' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	bool notrunc = false, quiet = false, human = true;
	int c;
	while ((c = getopt_long(argc, argv, "+H:q", opts, NULL)) != -1) {
		switch (c) {
		case 'F': format = optarg; break;
		case 'H': human = strcmp(optarg, "false") != 0; break;
		case 'n': notrunc = true; break;
		case 'q': quiet = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return berth_usage_error(argv[0], "\"history\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	_cleanup_free_ char *id = NULL;
	_cleanup_image_info_ struct image_info im = { 0 };
	if (image_store_resolve(s, argv[optind], &id, &err) < 0 ||
	    image_store_info(s, id, &im, &err) < 0)
		return berth_fail(&err);
	_cleanup_json_ json_t *cfg = image_config_json(s, id, &err);
	if (!cfg)
		return berth_fail(&err);
	if (!format)
		format = quiet ? "{{.ID}}"
			       : "table "
				 "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{."
				 "Comment}}";
	struct fmt_template *t = NULL;
	if (fmt_compile(format, history_headers, &t, &err) < 0)
		return berth_fail(&err);
	/* Layer sizes, bottom first, matched to the non-empty history entries. */
	json_t *hist = json_object_get(cfg, "history");
	size_t nh = json_array_size(hist), layer = 0;
	size_t nl = 0;
	while (im.chain_ids[nl])
		nl++;
	json_t *rows = json_array();
	for (size_t i = 0; i < nh; i++) {
		json_t *h = json_array_get(hist, i);
		bool empty = json_is_true(json_object_get(h, "empty_layer"));
		int64_t size = 0;
		if (!empty && layer < nl)
			size = im.layer_sizes[layer++];
		const char *created = json_string_value(json_object_get(h, "created"));
		time_t ct = created_time(created);
		_cleanup_free_ char *ago = human_duration(time(NULL) - ct);
		_cleanup_free_ char *since =
			human ? xasprintf("%s ago", ago) : xstrdup(created ? created : "");
		_cleanup_free_ char *at = time_go_string(ct);
		const char *by = json_string_value(json_object_get(h, "created_by"));
		_cleanup_free_ char *byc =
			notrunc ? xstrdup(by ? by : "") : ellipsis(by ? by : "", 45);
		_cleanup_free_ char *sz =
			human ? human_size((double)size) : xasprintf("%lld", (long long)size);
		const char *comment = json_string_value(json_object_get(h, "comment"));
		json_array_insert_new(rows, 0,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "<missing>",
						"CreatedSince", since, "CreatedAt", at, "CreatedBy",
						byc, "Size", sz, "Comment",
						comment ? comment : ""));
	}
	if (json_array_size(rows) == 0) {
		_cleanup_free_ char *sz = human_size((double)im.size);
		json_array_append_new(rows,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "<missing>",
						"CreatedSince", "", "CreatedAt", "", "CreatedBy",
						"", "Size", sz, "Comment", ""));
	}
	_cleanup_free_ char *sid = short_id(id, notrunc);
	json_object_set_new(json_array_get(rows, 0), "ID", json_string(sid));
	int rc = fmt_print(t, rows, stdout, &err) < 0 ? berth_fail(&err) : 0;
	json_decref(rows);
	fmt_free(t);
	return rc;
}

/* ---- image prune ---------------------------------------------------------------- */

/* docker's prune filters: until=TIME|DURATION, label=K[=V], label!=K[=V]. */
struct prune_filter {
	time_t until; /* 0: none */
	char **labels, **not_labels;
	bool filtered;
	struct engine *engine; /* images containers use are never pruned */
};

/* "24h", "1h30m", "90s" (Go durations) or a time: RFC 3339, a date, unix seconds. */
static int parse_until(const char *v, time_t *out)
{
	char *end;
	long long secs = 0;
	const char *p = v;
	bool duration = *p != '\0';
	while (*p && duration) {
		errno = 0;
		double n = strtod(p, &end);
		if (end == p || errno)
			duration = false;
		else if (*end == 'h')
			secs += (long long)(n * 3600), p = end + 1;
		else if (*end == 'm' && end[1] != 's')
			secs += (long long)(n * 60), p = end + 1;
		else if (*end == 's')
			secs += (long long)n, p = end + 1;
		else
			duration = false;
	}
	if (duration) {
		*out = time(NULL) - secs;
		return 0;
	}
	if (time_parse_rfc3339(v, out) == 0)
		return 0;
	struct tm tm = { 0 };
	const char *e = strptime(v, "%Y-%m-%d", &tm);
	if (e && !*e) {
		*out = timegm(&tm);
		return 0;
	}
	errno = 0;
	long long t = strtoll(v, &end, 10);
	if (!errno && end != v && (!*end || *end == '.')) {
		*out = (time_t)t;
		return 0;
	}
	return -EINVAL;
}

static bool prune_wanted(struct image_store *s, const char *id, void *opaque)
{
	struct prune_filter *f = opaque;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_strv_ char **users = f->engine ? ctr_image_users(f->engine, id, false) : NULL;
	if (users && users[0])
		return false;
	if (!f->filtered)
		return true;
	_cleanup_image_info_ struct image_info im = { 0 };
	if (image_store_info(s, id, &im, &err) < 0) {
		berth_err_clear(&err);
		return false;
	}
	if (f->until && created_time(im.created) >= f->until)
		return false;
	if (f->labels || f->not_labels) {
		_cleanup_json_ json_t *cfg = image_config_json(s, id, &err);
		berth_err_clear(&err);
		if (!cfg)
			return false;
		if (f->labels && !labels_match(cfg, f->labels))
			return false;
		for (size_t i = 0; f->not_labels && f->not_labels[i]; i++) {
			char *one[] = { f->not_labels[i], NULL };
			if (labels_match(cfg, one))
				return false;
		}
	}
	return true;
}

/* "Deleted Images:" and their ids; what they held added to *reclaimed. */
static int prune_images_filtered(bool all, struct prune_filter *pf, uint64_t *reclaimed,
				 berth_err *err)
{
	struct image_store *s = berth_store(err);
	if (!s || !(pf->engine = berth_engine(err)))
		return -EIO;
	_cleanup_strv_ char **removed = NULL;
	uint64_t bytes = 0;
	int r = image_store_prune(s, all, prune_wanted, pf, &removed, &bytes, err);
	if (r < 0)
		return r;
	if (removed && removed[0]) {
		printf("Deleted Images:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("deleted: %s\n", removed[i]);
		printf("\n");
	}
	*reclaimed += bytes;
	return 0;
}

int cmd_image_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, force = false, filtered = false;
	struct prune_filter pf = { 0 };
	_cleanup_strv_ char **labels = NULL, **not_labels = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+af", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'F': {
			filtered = true;
			if (strncmp(optarg, "until=", 6) == 0) {
				if (parse_until(optarg + 6, &pf.until) < 0)
					return berth_usage_error(
						argv[0],
						"invalid filter 'until=%s': not a time or duration",
						optarg + 6);
			} else if (strncmp(optarg, "label=", 6) == 0) {
				strv_push(&labels, optarg + 6);
			} else if (strncmp(optarg, "label!=", 7) == 0) {
				strv_push(&not_labels, optarg + 7);
			} else {
				return berth_usage_error(
					argv[0], "invalid filter '%s' (until, label, label!=)",
					optarg);
			}
			break;
		}
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	pf.labels = labels;
	pf.not_labels = not_labels;
	if (optind < argc)
		return berth_usage_error(argv[0], "\"prune\" accepts no arguments.");
	if (!force) {
		printf("WARNING! This will remove all %s.\nAre you sure you want to continue? "
		       "[y/N] ",
		       all ? "images without at least one container associated to them"
			   : "dangling images");
		fflush(stdout);
		char answer[16] = "";
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	berth_err err = BERTH_ERR_INIT;
	uint64_t reclaimed = 0;
	pf.filtered = filtered;
	if (prune_images_filtered(all, &pf, &reclaimed, &err) < 0)
		return berth_fail(&err);
	_cleanup_free_ char *hs = human_size((double)reclaimed);
	printf("Total reclaimed space: %s\n", hs);
	return 0;
}

int prune_images(bool all, uint64_t *reclaimed, berth_err *err)
{
	struct prune_filter pf = { 0 };
	return prune_images_filtered(all, &pf, reclaimed, err);
}
