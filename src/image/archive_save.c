/* archive_save.c - `save`: images from the store as a docker-archive (as
 * docker 20.10 writes it) or an OCI archive (see archive.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/archive.h"
#include "image/archive_internal.h"
#include "image/digest.h"
#include "image/lazy_archive.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"

/* A document read into memory (manifest.json, index.json, configs). */
#define JSON_MAX MANIFEST_MAX_SIZE
/* Small members held in memory, in all; the rest is staged in the store. */
#define MEM_MAX   (64u << 20)
#define COPY_BUF  (1u << 20)
#define LINK_HOPS 16

#define ANN_REF_NAME        "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

/* ---- save ------------------------------------------------------------------- */

struct save_image {
	char *id;
	char **refs; /* canonical name:tag refs to write, NULL-terminated */
	size_t n_refs;
	struct image_info info;
	struct image_manifest m;
	char *config;
	size_t config_len;
	struct image_config c;
};

struct saver {
	struct image_store *s;
	struct archive *a;
	struct save_image *img;
	size_t n;
	char **written; /* names already in the tar */
	size_t n_written;
};

static void saver_release(struct saver *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *im = &sv->img[i];
		free(im->id);
		strv_free(im->refs);
		image_info_free(&im->info);
		manifest_free(&im->m);
		free(im->config);
		config_free(&im->c);
	}
	free(sv->img);
	for (size_t i = 0; i < sv->n_written; i++)
		free(sv->written[i]);
	free(sv->written);
	if (sv->a)
		archive_write_free(sv->a);
}

static int save_image_add(struct saver *sv, const char *id, const char *ref, berth_err *err)
{
	struct save_image *im = NULL;
	for (size_t i = 0; i < sv->n && !im; i++)
		if (strcmp(sv->img[i].id, id) == 0)
			im = &sv->img[i];
	if (!im) {
		sv->img = xrealloc(sv->img, (sv->n + 1) * sizeof(*sv->img));
		im = &sv->img[sv->n++];
		memset(im, 0, sizeof(*im));
		im->id = xstrdup(id);
		im->refs = xcalloc(1, sizeof(char *));
		int r = image_store_info(sv->s, id, &im->info, err);
		if (r < 0)
			return r;
		_cleanup_free_ char *mbody = NULL;
		size_t mlen;
		if ((r = image_store_read_blob(sv->s, im->info.manifest_digest, MANIFEST_MAX_SIZE,
					       &mbody, &mlen, err)) < 0 ||
		    (r = manifest_parse(mbody, mlen, &im->m, err)) < 0)
			return berth_error_wrap(err, "image %s", id);
		if ((r = image_store_read_blob(sv->s, id, MANIFEST_MAX_SIZE, &im->config,
					       &im->config_len, err)) < 0 ||
		    (r = config_parse(im->config, im->config_len, &im->c, err)) < 0)
			return berth_error_wrap(err, "image %s", id);
		if (im->m.n_layers != im->c.n_diff_ids)
			return berth_error_code(err, EBADMSG,
						"image %s: its manifest lists %zu layers, its "
						"config %zu",
						id, im->m.n_layers, im->c.n_diff_ids);
	}
	if (!ref)
		return 0;
	for (size_t i = 0; i < im->n_refs; i++)
		if (strcmp(im->refs[i], ref) == 0)
			return 0;
	im->refs = xrealloc(im->refs, (im->n_refs + 2) * sizeof(char *));
	im->refs[im->n_refs++] = xstrdup(ref);
	im->refs[im->n_refs] = NULL;
	return 0;
}

/* What `docker save NAME` saves: a bare repository name means every tag of
 * it; name:tag that tag; an id (or prefix) or a digest the image, untagged. */
static int save_collect(struct saver *sv, const char *name, berth_err *err)
{
	_cleanup_ref_ struct image_ref ref = { 0 };
	berth_err perr = BERTH_ERR_INIT;
	int r;
	if (image_ref_parse_name(name, &ref, &perr) == 0) {
		_cleanup_free_ char *repo = image_ref_repo(&ref);
		size_t rl = strlen(repo);
		struct image_info *list = NULL;
		size_t n = 0, found = 0;
		if ((r = image_store_list(sv->s, &list, &n, err)) < 0)
			return r;
		for (size_t i = 0; i < n && r == 0; i++)
			for (size_t k = 0; list[i].tags[k] && r == 0; k++)
				if (strncmp(list[i].tags[k], repo, rl) == 0 &&
				    list[i].tags[k][rl] == ':') {
					r = save_image_add(sv, list[i].id, list[i].tags[k], err);
					found++;
				}
		image_info_list_free(list, n);
		if (r < 0 || found)
			return r;
	}
	berth_err_clear(&perr);
	_cleanup_free_ char *id = NULL;
	if ((r = image_store_resolve(sv->s, name, &id, err)) < 0)
		return r;
	image_ref_free(&ref);
	memset(&ref, 0, sizeof(ref));
	_cleanup_free_ char *canon = NULL;
	if (image_ref_parse(name, &ref, &perr) == 0 && ref.tag && !ref.digest) {
		canon = image_ref_string(&ref);
		/* Only when the tag is what found it (not an id that parses as a name). */
		_cleanup_free_ char *tid = NULL;
		berth_err terr = BERTH_ERR_INIT;
		if (image_store_resolve(sv->s, canon, &tid, &terr) < 0 || strcmp(tid, id) != 0) {
			free(canon);
			canon = NULL;
		}
		berth_err_clear(&terr);
	}
	berth_err_clear(&perr);
	return save_image_add(sv, id, canon, err);
}

static bool saver_seen(struct saver *sv, const char *name)
{
	for (size_t i = 0; i < sv->n_written; i++)
		if (strcmp(sv->written[i], name) == 0)
			return true;
	sv->written = xrealloc(sv->written, (sv->n_written + 1) * sizeof(char *));
	sv->written[sv->n_written++] = xstrdup(name);
	return false;
}

static int tar_header(struct saver *sv, const char *name, mode_t type, int64_t size,
		      const char *symlink, time_t mtime, berth_err *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : type == AE_IFLNK ? 0777 : 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, size);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	int ar = archive_write_header(sv->a, e);
	archive_entry_free(e);
	if (ar < ARCHIVE_WARN)
		return berth_error_code(err, EIO, "write %s: %s", name,
					archive_error_string(sv->a));
	return 0;
}

static int tar_data(struct saver *sv, const char *name, const void *buf, size_t n, berth_err *err)
{
	while (n) {
		la_ssize_t w = archive_write_data(sv->a, buf, n);
		if (w <= 0)
			return berth_error_code(err, EIO, "write %s: %s", name,
						w < 0 ? archive_error_string(sv->a)
						      : "more data than its size");
		buf = (const char *)buf + w;
		n -= (size_t)w;
	}
	return 0;
}

static int tar_file(struct saver *sv, const char *name, const void *data, size_t len, time_t mtime,
		    berth_err *err)
{
	int r = tar_header(sv, name, AE_IFREG, (int64_t)len, NULL, mtime, err);
	return r < 0 ? r : tar_data(sv, name, data, len, err);
}

/* A JSON document; eol adds the newline Go's json.Encoder ends with (Docker
 * writes manifest.json and repositories with one). */
static int tar_json(struct saver *sv, const char *name, json_t *doc, size_t flags, bool eol,
		    time_t mtime, berth_err *err)
{
	_cleanup_free_ char *s = json_dumps(doc, JSON_COMPACT | flags);
	_cleanup_free_ char *line = eol ? xasprintf("%s\n", s) : NULL;
	const char *data = eol ? line : s;
	return tar_file(sv, name, data, strlen(data), mtime, err);
}

/* A blob copied as stored. */
static int tar_blob(struct saver *sv, const char *name, const char *digest, time_t mtime,
		    berth_err *err)
{
	int64_t size;
	_cleanup_close_ int fd = image_store_open_blob(sv->s, digest, &size, err);
	if (fd < 0)
		return fd;
	int r = tar_header(sv, name, AE_IFREG, size, NULL, mtime, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *buf = xmalloc(COPY_BUF);
	int64_t left = size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < COPY_BUF ? (size_t)left : COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_error_errno(err, "read blob %s", digest);
		if (n == 0)
			return berth_error_code(err, EIO, "blob %s shrank while it was read",
						digest);
		if ((r = tar_data(sv, name, buf, (size_t)n, err)) < 0)
			return r;
		left -= n;
	}
	return 0;
}

/* A layer as an uncompressed tar (docker-archives hold layer.tar): a gzip or
 * zstd blob is inflated on the way, and must give its DiffID and the size
 * the store measured when it unpacked it. */
static int tar_layer(struct saver *sv, const char *name, const char *blob, const char *diff_id,
		     int64_t tar_size, time_t mtime, berth_err *err)
{
	int64_t size;
	_cleanup_close_ int fd = image_store_open_blob(sv->s, blob, &size, err);
	if (fd < 0)
		return berth_error_wrap(err, "layer %s", diff_id);
	unsigned char mg[4] = { 0 };
	ssize_t got = pread(fd, mg, sizeof(mg), 0);
	if (got < 0)
		return berth_error_errno(err, "read blob %s", blob);
	if (strcmp(archive_layer_media_type(mg, (size_t)got), MT_OCI_LAYER) == 0)
		return tar_blob(sv, name, blob, mtime, err);
	int r = tar_header(sv, name, AE_IFREG, tar_size, NULL, mtime, err);
	if (r < 0)
		return r;
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_raw(in);
	struct archive_entry *e;
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(in, &e) != ARCHIVE_OK) {
		r = berth_error_code(err, EIO, "layer %s: %s", blob, archive_error_string(in));
		archive_read_free(in);
		return r;
	}
	struct digester *dg = digester_new();
	_cleanup_free_ char *buf = xmalloc(COPY_BUF);
	int64_t total = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(in, buf, COPY_BUF);
		if (n < 0) {
			r = berth_error_code(err, EIO, "layer %s: %s", blob,
					     archive_error_string(in));
			break;
		}
		if (n == 0)
			break;
		if (total + n > tar_size) {
			r = berth_error_code(err, EBADMSG,
					     "layer %s: inflates to more than the %" PRId64
					     " bytes it had when it was unpacked",
					     blob, tar_size);
			break;
		}
		digester_update(dg, buf, (size_t)n);
		if ((r = tar_data(sv, name, buf, (size_t)n, err)) < 0)
			break;
		total += n;
	}
	archive_read_free(in);
	char d[IMAGE_DIGEST_BUF];
	digester_final(dg, d);
	if (r < 0)
		return r;
	if (total != tar_size)
		return berth_error_code(err, EBADMSG,
					"layer %s: inflates to %" PRId64 " bytes, %" PRId64
					" when it was unpacked",
					blob, total, tar_size);
	if (strcmp(d, diff_id) != 0)
		return berth_error_code(err, EBADMSG, "layer %s: inflates to DiffID %s, not %s",
					blob, d, diff_id);
	return 0;
}

/* An RFC 3339 time as seconds since the epoch; 0 when unparsable. */
static time_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	int n = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	const char *p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	int oh, om;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%d:%d", &oh, &om) == 2)
		t -= (*p == '+' ? 1 : -1) * (time_t)(oh * 3600 + om * 60);
	return t < 0 ? 0 : t;
}

/* Go's encoding of an empty container.Config, as Docker's v1 layer json
 * files carry it. */
#define EMPTY_CONTAINER_CONFIG                                                                     \
	"{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"              \
	"\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,"         \
	"\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,"           \
	"\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null}"

/* The v1 image json of layer i as Docker 20.10 computes it (image/v1
 * CreateID): the layers below the top carry only the creation time; the top
 * one the image's own v1 fields. */
static json_t *v1_json(const struct save_image *im, size_t i)
{
	json_t *cfg = im->c.json;
	bool top = i + 1 == im->m.n_layers;
	/* Below the top, Docker writes the Unix epoch (for pre-1.9 clients). */
	const char *created = !top            ? "1970-01-01T00:00:00Z"
			      : im->c.created ? im->c.created
					      : "0001-01-01T00:00:00Z";
	json_t *o = json_object();
	if (top && json_object_get(cfg, "comment"))
		json_object_set(o, "comment", json_object_get(cfg, "comment"));
	json_object_set_new(o, "created", json_string(created));
	static const char *const top_keys[] = { "container",      "container_config",
						"docker_version", "author",
						"config",         "architecture",
						"variant",        "os" };
	for (size_t k = 0; k < ARRAY_SIZE(top_keys); k++) {
		json_t *v = top ? json_object_get(cfg, top_keys[k]) : NULL;
		if (v)
			json_object_set(o, top_keys[k], v);
		else if (strcmp(top_keys[k], "container_config") == 0)
			json_object_set_new(o, "container_config",
					    json_loads(EMPTY_CONTAINER_CONFIG, 0, NULL));
	}
	return o;
}

static int save_docker(struct saver *sv, berth_err *err)
{
	_cleanup_json_ json_t *manifest = json_array();
	_cleanup_json_ json_t *repos = json_object();
	int r;
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *im = &sv->img[i];
		time_t mtime = parse_time(im->c.created);
		_cleanup_strv_ char **chains = layer_chain_ids(im->c.diff_ids, im->c.n_diff_ids);
		json_t *layers = json_array();
		json_t *tags = im->n_refs ? json_array() : json_null();
		json_array_append_new(manifest,
				      json_pack("{s:s+, s:o, s:o}", "Config", digest_hex(im->id),
						".json", "RepoTags", tags, "Layers", layers));
		char parent[IMAGE_DIGEST_BUF] = "";
		for (size_t k = 0; k < im->m.n_layers; k++) {
			_cleanup_json_ json_t *v1 = v1_json(im, k);
			_cleanup_json_ json_t *idj = json_deep_copy(v1);
			json_object_set_new(idj, "layer_id", json_string(chains[k]));
			if (parent[0])
				json_object_set_new(idj, "parent", json_string(parent));
			_cleanup_json_ json_t *sorted = json_object_sorted(idj);
			_cleanup_free_ char *ids = json_dumps(sorted, JSON_COMPACT);
			char v1id[IMAGE_DIGEST_BUF];
			digest_buffer(ids, strlen(ids), v1id);
			const char *hex = digest_hex(v1id);
			_cleanup_free_ char *lname = xasprintf("%s/layer.tar", hex);
			json_array_append_new(layers, json_string(lname));
			if (!saver_seen(sv, hex)) {
				/* Docker's field order: id, parent, then the rest. */
				_cleanup_json_ json_t *file = json_pack("{s:s}", "id", hex);
				if (parent[0])
					json_object_set_new(file, "parent",
							    json_string(digest_hex(parent)));
				json_object_update(file, v1);
				if (!json_object_get(file, "os") && im->c.os)
					json_object_set_new(file, "os", json_string(im->c.os));
				_cleanup_free_ char *dn = xasprintf("%s/", hex);
				_cleanup_free_ char *vn = xasprintf("%s/VERSION", hex);
				_cleanup_free_ char *jn = xasprintf("%s/json", hex);
				if ((r = tar_header(sv, dn, AE_IFDIR, 0, NULL, mtime, err)) < 0 ||
				    (r = tar_file(sv, vn, "1.0", 3, mtime, err)) < 0 ||
				    (r = tar_json(sv, jn, file, 0, false, mtime, err)) < 0)
					return r;
				/* A layer already written under another v1 id is a symlink
				 * to it, as Docker writes it. */
				_cleanup_free_ char *dkey = xasprintf("diff:%s", im->c.diff_ids[k]);
				const char *prev = NULL;
				for (size_t w = 0; w < sv->n_written; w++)
					if (strncmp(sv->written[w], dkey, strlen(dkey)) == 0 &&
					    sv->written[w][strlen(dkey)] == '=')
						prev = sv->written[w] + strlen(dkey) + 1;
				if (prev) {
					_cleanup_free_ char *target =
						xasprintf("../%s/layer.tar", prev);
					r = tar_header(sv, lname, AE_IFLNK, 0, target, mtime, err);
				} else {
					r = tar_layer(sv, lname, im->m.layers[k].digest,
						      im->c.diff_ids[k], im->info.layer_sizes[k],
						      mtime, err);
					_cleanup_free_ char *mark = xasprintf("%s=%s", dkey, hex);
					saver_seen(sv, mark);
				}
				if (r < 0)
					return r;
			}
			memcpy(parent, v1id, sizeof(parent));
		}
		_cleanup_free_ char *cname = xasprintf("%s.json", digest_hex(im->id));
		if (!saver_seen(sv, cname) &&
		    (r = tar_file(sv, cname, im->config, im->config_len, mtime, err)) < 0)
			return r;
		for (size_t k = 0; k < im->n_refs; k++) {
			_cleanup_ref_ struct image_ref ref = { 0 };
			if (image_ref_parse(im->refs[k], &ref, err) < 0)
				return -EINVAL;
			_cleanup_free_ char *shown = image_ref_familiar(&ref);
			json_array_append_new(tags, json_string(shown));
			_cleanup_free_ char *fam = image_ref_familiar_repo(&ref);
			json_t *rt = json_object_get(repos, fam);
			if (!rt)
				json_object_set_new(repos, fam, rt = json_object());
			if (parent[0])
				json_object_set_new(rt, ref.tag, json_string(digest_hex(parent)));
		}
	}
	if ((r = tar_json(sv, "manifest.json", manifest, 0, true, 0, err)) < 0)
		return r;
	if (json_object_size(repos) &&
	    (r = tar_json(sv, "repositories", repos, JSON_SORT_KEYS, true, 0, err)) < 0)
		return r;
	return 0;
}

static int save_oci(struct saver *sv, berth_err *err)
{
	int r = tar_file(sv, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0, err);
	if (r < 0)
		return r;
	json_t *entries = json_array();
	_cleanup_json_ json_t *index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
						 MT_OCI_INDEX, "manifests", entries);
	if ((r = tar_header(sv, "blobs/", AE_IFDIR, 0, NULL, 0, err)) < 0 ||
	    (r = tar_header(sv, "blobs/sha256/", AE_IFDIR, 0, NULL, 0, err)) < 0)
		return r;
	for (size_t i = 0; i < sv->n; i++) {
		struct save_image *im = &sv->img[i];
		const char *blobs[im->m.n_layers + 2];
		for (size_t k = 0; k < im->m.n_layers; k++)
			blobs[k] = im->m.layers[k].digest;
		blobs[im->m.n_layers] = im->id;
		blobs[im->m.n_layers + 1] = im->info.manifest_digest;
		for (size_t k = 0; k < im->m.n_layers + 2; k++) {
			_cleanup_free_ char *name =
				xasprintf("blobs/sha256/%s", digest_hex(blobs[k]));
			if (!saver_seen(sv, name) && (r = tar_blob(sv, name, blobs[k], 0, err)) < 0)
				return r;
		}
		int64_t msize;
		_cleanup_close_ int mfd =
			image_store_open_blob(sv->s, im->info.manifest_digest, &msize, err);
		if (mfd < 0)
			return mfd;
		for (size_t k = 0; k < (im->n_refs ? im->n_refs : 1); k++) {
			json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType",
					      im->info.manifest_media_type, "digest",
					      im->info.manifest_digest, "size", (json_int_t)msize);
			if (im->n_refs) {
				_cleanup_ref_ struct image_ref ref = { 0 };
				if (image_ref_parse(im->refs[k], &ref, err) < 0) {
					json_decref(d);
					return -EINVAL;
				}
				json_object_set_new(d, "annotations",
						    json_pack("{s:s, s:s}", ANN_CONTAINERD_NAME,
							      im->refs[k], ANN_REF_NAME, ref.tag));
			}
			json_array_append_new(entries, d);
		}
	}
	return tar_json(sv, "index.json", index, 0, false, 0, err);
}

int image_save(struct image_store *s, const char *const *names, size_t n,
	       enum image_archive_format fmt, int outfd, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	__attribute__((cleanup(saver_release))) struct saver sv = { .s = s };
	int r;
	for (size_t i = 0; i < n; i++)
		if ((r = save_collect(&sv, names[i], err)) < 0)
			return r;
	sv.a = archive_write_new();
	archive_write_set_format_pax_restricted(sv.a);
	archive_write_set_bytes_in_last_block(sv.a, 1);
	if (archive_write_open_fd(sv.a, outfd) != ARCHIVE_OK)
		return berth_error_code(err, EIO, "write archive: %s", archive_error_string(sv.a));
	r = fmt == IMAGE_ARCHIVE_OCI ? save_oci(&sv, err) : save_docker(&sv, err);
	if (r < 0)
		return r;
	if (archive_write_close(sv.a) != ARCHIVE_OK)
		return berth_error_code(err, EIO, "write archive: %s", archive_error_string(sv.a));
	return 0;
}
