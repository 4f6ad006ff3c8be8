/* archive.c - `load`: docker-archives and OCI layouts into the store (see
 * archive.h; `save` is archive_save.c).
 *
 * Loading reads the input once, as a stream (it may be a pipe): every member
 * is staged as it passes, small ones (the JSON documents, small layers) in
 * memory, the others in uncommitted blob writers in the store's tmp/, each
 * hashed on the way. Only when the whole archive is read and every image in it
 * checks out (configs parse, every layer named is present, uncompressed
 * layers match their DiffIDs, every blob its digest) are the blobs committed
 * and the images added; a failure before that leaves nothing in the store, and
 * a failure while adding removes the images this load created.
 */
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

/* ---- members of an archive or a layout directory ---------------------------- */

struct member {
	char *name; /* cleaned: no "./", no "..", no leading or double "/" */
	char *link; /* a symlink or hard link: the cleaned name it points at */
	int64_t size;
	char digest[IMAGE_DIGEST_BUF]; /* "" until known */
	char *data;                    /* the content, when held in memory */
	struct blob_writer *w;         /* staged in the store's tmp/, not committed */
	unsigned char magic[4];
	size_t n_magic;
	bool from_dir; /* lives in the layout directory, read on demand */
	bool stored;   /* committed as a blob */
};

struct source {
	struct image_store *s;
	struct member **m;
	size_t n;
	size_t mem; /* bytes of content held */
	int dirfd;  /* an OCI layout directory, or -1 */
};

static void member_free(struct member *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->link);
	free(m->data);
	blob_writer_free(m->w); /* removes the staged file */
	free(m);
}

static void source_release(struct source *src)
{
	for (size_t i = 0; i < src->n; i++)
		member_free(src->m[i]);
	free(src->m);
	if (src->dirfd >= 0)
		close(src->dirfd);
}

/* A member name made canonical; NULL for the archive's root ("./"). A name
 * that is absolute or climbs with ".." is refused: tar extractors that trust
 * such names write outside their target. */
static int clean_name(const char *raw, const char *what, char **out, berth_err *err)
{
	*out = NULL;
	if (raw[0] == '/')
		return berth_error_code(err, EINVAL, "%s \"%s\": an absolute name", what, raw);
	struct strbuf sb = STRBUF_INIT;
	const char *p = raw;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			strbuf_release(&sb);
			return berth_error_code(err, EINVAL, "%s \"%s\": \"..\" leaves the archive",
						what, raw);
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (sb.len)
		*out = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	return 0;
}

/* A symlink's target, relative to the link's directory, as a member name. */
static int link_target(const char *name, const char *target, char **out, berth_err *err)
{
	if (target[0] == '/')
		return berth_error_code(
			err, EINVAL, "archive member \"%s\": symlink to the absolute path \"%s\"",
			name, target);
	const char *slash = strrchr(name, '/');
	struct strbuf sb = STRBUF_INIT;
	if (slash)
		strbuf_add(&sb, name, (size_t)(slash - name));
	/* Resolve ".." against the link's own directory, never above the root. */
	const char *p = target;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!sb.len) {
				strbuf_release(&sb);
				return berth_error_code(err, EINVAL,
							"archive member \"%s\": symlink \"%s\" "
							"leaves the archive",
							name, target);
			}
			char *up = strrchr(sb.buf, '/');
			strbuf_setlen(&sb, up ? (size_t)(up - sb.buf) : 0);
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

static struct member *lookup(struct source *src, const char *name)
{
	for (size_t i = 0; i < src->n; i++)
		if (strcmp(src->m[i]->name, name) == 0)
			return src->m[i];
	return NULL;
}

/* A new member; a later member of the same name replaces the earlier (tar). */
static struct member *member_new(struct source *src, char *name)
{
	struct member *m = xcalloc(1, sizeof(*m));
	m->name = name;
	for (size_t i = 0; i < src->n; i++) {
		if (strcmp(src->m[i]->name, name) == 0) {
			if (src->m[i]->data)
				src->mem -= (size_t)src->m[i]->size;
			member_free(src->m[i]);
			src->m[i] = m;
			return m;
		}
	}
	src->m = xrealloc(src->m, (src->n + 1) * sizeof(*src->m));
	src->m[src->n++] = m;
	return m;
}

static void keep_magic(struct member *m, const void *buf, size_t n)
{
	while (m->n_magic < sizeof(m->magic) && n) {
		m->magic[m->n_magic++] = *(const unsigned char *)buf;
		buf = (const unsigned char *)buf + 1;
		n--;
	}
}

const char *archive_layer_media_type(const unsigned char *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return MT_OCI_LAYER_GZIP;
	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return MT_OCI_LAYER_ZSTD;
	return MT_OCI_LAYER;
}

static const char *layer_media_type(const struct member *m)
{
	return archive_layer_media_type(m->magic, m->n_magic);
}

/* The content of the current tar entry: into memory when small, else staged. */
static int read_entry(struct source *src, struct archive *a, struct archive_entry *e,
		      struct member *m, berth_err *err)
{
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	bool small = size >= 0 && (uint64_t)size <= JSON_MAX && src->mem + (size_t)size <= MEM_MAX;
	_cleanup_free_ char *buf = xmalloc(small ? (size_t)size + 1 : COPY_BUF);
	size_t cap = small ? (size_t)size + 1 : COPY_BUF;
	struct digester *dg = small ? NULL : digester_new();
	int r;
	if (!small && (r = blob_writer_new(src->s, &m->w, err)) < 0) {
		digester_free(dg);
		return r;
	}
	int64_t total = 0;
	for (;;) {
		size_t off = small ? (size_t)total : 0;
		la_ssize_t n = archive_read_data(a, buf + off, cap - off);
		if (n < 0) {
			digester_free(dg);
			return berth_error_code(err, EIO, "archive member \"%s\": %s", m->name,
						archive_error_string(a));
		}
		if (n == 0)
			break;
		if (small && off + (size_t)n > (size_t)size) {
			digester_free(dg);
			return berth_error_code(err, EBADMSG,
						"archive member \"%s\": more data than its header "
						"says",
						m->name);
		}
		keep_magic(m, buf + off, (size_t)n);
		if (!small) {
			digester_update(dg, buf, (size_t)n);
			if ((r = blob_writer_write(m->w, buf, (size_t)n, err)) < 0) {
				digester_free(dg);
				return r;
			}
		}
		total += n;
	}
	m->size = total;
	if (small) {
		buf[total] = '\0';
		digest_buffer(buf, (size_t)total, m->digest);
		m->data = TAKE_PTR(buf);
		src->mem += (size_t)total;
	} else {
		digester_final(dg, m->digest);
	}
	return 0;
}

/* The input, counted: an empty one is told apart from one that is no tar. */
struct tar_input {
	int fd;
	char *buf;
	uint64_t total;
	bool failed;
};

static la_ssize_t tar_input_read(struct archive *a, void *opaque, const void **buf)
{
	struct tar_input *in = opaque;
	ssize_t n;
	do
		n = read(in->fd, in->buf, COPY_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		in->failed = true;
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	in->total += (uint64_t)n;
	*buf = in->buf;
	return n;
}

/* Read the whole tar from fd: member names checked, contents staged. */
static int read_tar(struct source *src, int fd, berth_err *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	int r = 0;
	struct tar_input in = { .fd = fd, .buf = xmalloc(COPY_BUF) };
	if (archive_read_open(a, &in, NULL, tar_input_read, NULL) != ARCHIVE_OK) {
		if (in.total == 0 && !in.failed)
			r = berth_error_code(err, EINVAL, "the input is empty");
		else
			r = berth_error_code(err, EINVAL, "not a tar archive: %s",
					     archive_error_string(a));
		archive_read_free(a);
		free(in.buf);
		return r;
	}
	struct archive_entry *e;
	bool first = true;
	for (;;) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			if (first && in.total == 0 && !in.failed)
				r = berth_error_code(err, EINVAL, "the input is empty");
			else
				r = berth_error_code(err, EINVAL, "%s: %s",
						     first ? "not a tar archive"
							   : "reading the archive",
						     archive_error_string(a));
			break;
		}
		first = false;
		const char *raw = archive_entry_pathname(e);
		char *name;
		if (!raw) {
			r = berth_error_code(err, EINVAL, "archive member without a name");
			break;
		}
		if ((r = clean_name(raw, "archive member", &name, err)) < 0)
			break;
		if (!name)
			continue;
		const char *hard = archive_entry_hardlink(e);
		mode_t type = archive_entry_filetype(e);
		if (hard) {
			char *target = NULL;
			if ((r = clean_name(hard, "hard link target", &target, err)) < 0) {
				free(name);
				break;
			}
			member_new(src, name)->link = target ? target : xstrdup("");
		} else if (type == AE_IFLNK) {
			char *target = NULL;
			const char *t = archive_entry_symlink(e);
			if ((r = link_target(name, t ? t : "", &target, err)) < 0) {
				free(name);
				break;
			}
			member_new(src, name)->link = target;
		} else if (type == AE_IFREG) {
			struct member *m = member_new(src, name);
			if ((r = read_entry(src, a, e, m, err)) < 0)
				break;
		} else {
			free(name);
		}
	}
	archive_read_free(a);
	free(in.buf);
	return r;
}

/* A member of a layout directory, looked at on first use. */
static struct member *dir_member(struct source *src, const char *name, berth_err *err)
{
	_cleanup_close_ int fd =
		path_open_in_root(src->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, err);
	if (fd < 0) {
		if (fd == -ENOENT)
			berth_error_code(err, ENOENT, "\"%s\" is not in the archive", name);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		berth_error_errno(err, "stat %s", name);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		berth_error_code(err, EINVAL, "\"%s\" is not a regular file", name);
		return NULL;
	}
	struct member *m = member_new(src, xstrdup(name));
	m->from_dir = true;
	m->size = st.st_size;
	if ((uint64_t)st.st_size <= JSON_MAX) {
		size_t len;
		if (fd_read_all(fd, &m->data, &len) < 0) {
			berth_error_errno(err, "read %s", name);
			return NULL;
		}
		m->size = (int64_t)len;
		keep_magic(m, m->data, len);
		digest_buffer(m->data, len, m->digest);
	}
	return m;
}

/* The member called name, links followed; NULL with err set when absent. */
static struct member *member_find(struct source *src, const char *raw, berth_err *err)
{
	_cleanup_free_ char *name = NULL;
	if (clean_name(raw, "archive member", &name, err) < 0)
		return NULL;
	if (!name) {
		berth_error_code(err, EINVAL, "\"%s\" names no file", raw);
		return NULL;
	}
	for (int hop = 0; hop < LINK_HOPS; hop++) {
		struct member *m = lookup(src, name);
		if (!m && src->dirfd >= 0)
			return dir_member(src, name, err);
		if (!m) {
			berth_error_code(err, ENOENT, "\"%s\" is not in the archive", raw);
			return NULL;
		}
		if (!m->link)
			return m;
		free(name);
		name = xstrdup(m->link);
	}
	berth_error_code(err, ELOOP, "\"%s\": too many links", raw);
	return NULL;
}

/* The digest of a member (hashing a large layout file on first use). */
static int member_digest(struct source *src, struct member *m, berth_err *err)
{
	if (m->digest[0])
		return 0;
	_cleanup_close_ int fd =
		path_open_in_root(src->dirfd, m->name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, err);
	if (fd < 0)
		return fd;
	struct digester *dg = digester_new();
	_cleanup_free_ char *buf = xmalloc(COPY_BUF);
	int64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			digester_free(dg);
			return berth_error_errno(err, "read %s", m->name);
		}
		if (n == 0)
			break;
		keep_magic(m, buf, (size_t)n);
		digester_update(dg, buf, (size_t)n);
		total += n;
	}
	m->size = total;
	digester_final(dg, m->digest);
	return 0;
}

/* The content of a small member (a JSON document). */
static int member_bytes(const struct member *m, const char **data, size_t *len, berth_err *err)
{
	if (!m->data)
		return berth_error_code(err, EFBIG,
					"\"%s\": %" PRId64 " bytes, more than the %u allowed for "
					"a JSON document",
					m->name, m->size, JSON_MAX);
	*data = m->data;
	*len = (size_t)m->size;
	return 0;
}

/* A member that must hold the blob digest (size checked when >= 0). */
static int member_check(struct source *src, struct member *m, const char *digest, int64_t size,
			const char *what, berth_err *err)
{
	int r = member_digest(src, m, err);
	if (r < 0)
		return r;
	if (strcmp(m->digest, digest) != 0)
		return berth_error_code(err, EBADMSG, "%s %s (\"%s\"): its content has digest %s",
					what, digest, m->name, m->digest);
	if (size >= 0 && size != m->size)
		return berth_error_code(err, EBADMSG,
					"%s %s (\"%s\"): %" PRId64 " bytes, its descriptor says "
					"%" PRId64,
					what, digest, m->name, m->size, size);
	return 0;
}

/* The member of an OCI layout for a blob digest. */
static struct member *blob_member(struct source *src, const char *digest, const char *what,
				  berth_err *err)
{
	const char *hex = digest_hex(digest);
	if (!hex) {
		berth_error_code(err, EINVAL, "%s: \"%s\" is not a sha256 digest", what, digest);
		return NULL;
	}
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex);
	struct member *m = member_find(src, name, err);
	if (!m)
		berth_error_wrap(err, "%s %s", what, digest);
	return m;
}

static int member_commit(struct source *src, struct member *m, berth_err *err)
{
	if (m->stored)
		return 0;
	int r;
	if (m->data) {
		r = image_store_put_blob(src->s, m->data, (size_t)m->size, m->digest, NULL, err);
	} else if (m->w) {
		if (image_store_has_blob(src->s, m->digest)) {
			blob_writer_free(m->w);
			r = 0;
		} else {
			r = blob_writer_commit(m->w, m->digest, m->size, NULL, err);
		}
		m->w = NULL;
	} else if (image_store_has_blob(src->s, m->digest)) {
		r = 0;
	} else {
		_cleanup_close_ int fd = path_open_in_root(src->dirfd, m->name,
							   O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, err);
		if (fd < 0)
			return fd;
		r = image_store_put_blob_fd(src->s, fd, m->digest, m->size, NULL, err);
	}
	if (r < 0)
		return berth_error_wrap(err, "store \"%s\"", m->name);
	m->stored = true;
	return 0;
}

/* ---- what a load will do ------------------------------------------------------- */

struct plan_image {
	char *manifest_digest;
	char *index_digest; /* or NULL */
	char *id;           /* config digest */
	char **tags;        /* canonical, NULL-terminated */
	char **shown;       /* familiar, for "Loaded image: ..." */
	size_t n_tags;
};

struct plan {
	struct member **commit; /* members to store, layers first */
	size_t n_commit;
	char **docs; /* generated documents (docker-archive manifests) */
	size_t *doc_len;
	size_t n_docs;
	struct plan_image *img;
	size_t n_img;
};

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n_docs; i++)
		free(p->docs[i]);
	free(p->docs);
	free(p->doc_len);
	for (size_t i = 0; i < p->n_img; i++) {
		free(p->img[i].manifest_digest);
		free(p->img[i].index_digest);
		free(p->img[i].id);
		strv_free(p->img[i].tags);
		strv_free(p->img[i].shown);
	}
	free(p->img);
	free(p->commit);
}

static void plan_member(struct plan *p, struct member *m)
{
	for (size_t i = 0; i < p->n_commit; i++)
		if (p->commit[i] == m)
			return;
	p->commit = xrealloc(p->commit, (p->n_commit + 1) * sizeof(*p->commit));
	p->commit[p->n_commit++] = m;
}

static void plan_doc(struct plan *p, char *doc)
{
	p->docs = xrealloc(p->docs, (p->n_docs + 1) * sizeof(*p->docs));
	p->doc_len = xrealloc(p->doc_len, (p->n_docs + 1) * sizeof(*p->doc_len));
	p->doc_len[p->n_docs] = strlen(doc);
	p->docs[p->n_docs++] = doc;
}

/* The image for a manifest (one per manifest, its tags merged). */
static struct plan_image *plan_image(struct plan *p, const char *manifest_digest,
				     const char *index_digest, const char *id)
{
	for (size_t i = 0; i < p->n_img; i++)
		if (strcmp(p->img[i].manifest_digest, manifest_digest) == 0)
			return &p->img[i];
	p->img = xrealloc(p->img, (p->n_img + 1) * sizeof(*p->img));
	struct plan_image *im = &p->img[p->n_img++];
	memset(im, 0, sizeof(*im));
	im->manifest_digest = xstrdup(manifest_digest);
	im->index_digest = index_digest ? xstrdup(index_digest) : NULL;
	im->id = xstrdup(id);
	im->tags = xcalloc(1, sizeof(char *));
	im->shown = xcalloc(1, sizeof(char *));
	return im;
}

static void plan_tag(struct plan_image *im, const struct image_ref *ref)
{
	_cleanup_free_ char *canon = image_ref_string(ref);
	for (size_t i = 0; i < im->n_tags; i++)
		if (strcmp(im->tags[i], canon) == 0)
			return;
	im->tags = xrealloc(im->tags, (im->n_tags + 2) * sizeof(char *));
	im->shown = xrealloc(im->shown, (im->n_tags + 2) * sizeof(char *));
	im->tags[im->n_tags] = TAKE_PTR(canon);
	im->shown[im->n_tags] = image_ref_familiar(ref);
	im->n_tags++;
	im->tags[im->n_tags] = im->shown[im->n_tags] = NULL;
}

static int parse_json_member(struct member *m, json_t **out, berth_err *err)
{
	const char *data = NULL;
	size_t len = 0;
	int r = member_bytes(m, &data, &len, err);
	if (r < 0)
		return r;
	json_error_t je;
	*out = json_loadb(data, len, 0, &je);
	if (!*out)
		return berth_error_code(err, EINVAL, "%s: not valid JSON: %s (line %d)", m->name,
					je.text, je.line);
	return 0;
}

/* A docker-archive: manifest.json lists the images. */
static int plan_docker(struct source *src, struct member *mf, struct plan *p, berth_err *err)
{
	_cleanup_json_ json_t *doc = NULL;
	int r = parse_json_member(mf, &doc, err);
	if (r < 0)
		return r;
	if (!json_is_array(doc))
		return berth_error_code(err, EINVAL, "manifest.json: not an array");
	size_t i;
	json_t *ent;
	json_array_foreach (doc, i, ent) {
		json_t *jc = json_object_get(ent, "Config");
		json_t *jl = json_object_get(ent, "Layers");
		json_t *jt = json_object_get(ent, "RepoTags");
		if (!json_is_string(jc))
			return berth_error_code(err, EINVAL, "manifest.json[%zu]: no Config", i);
		if (!json_is_array(jl))
			return berth_error_code(err, EINVAL, "manifest.json[%zu]: no Layers", i);
		if (jt && !json_is_null(jt) && !json_is_array(jt))
			return berth_error_code(err, EINVAL,
						"manifest.json[%zu]: RepoTags is not an array", i);
		const char *cname = json_string_value(jc);
		struct member *cm = member_find(src, cname, err);
		if (!cm)
			return berth_error_wrap(err, "manifest.json: config");
		const char *cdata = NULL;
		size_t clen = 0;
		if ((r = member_bytes(cm, &cdata, &clen, err)) < 0)
			return r;
		_cleanup_config_ struct image_config c = { 0 };
		if ((r = config_parse(cdata, clen, &c, err)) < 0)
			return berth_error_wrap(err, "\"%s\"", cname);
		if (json_array_size(jl) != c.n_diff_ids)
			return berth_error_code(err, EBADMSG,
						"manifest.json: image %s lists %zu layers, its "
						"config \"%s\" has %zu diff_ids",
						cm->digest, json_array_size(jl), cname,
						c.n_diff_ids);
		json_t *layers = json_array();
		_cleanup_json_ json_t *man = json_pack(
			"{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", cm->digest,
			"size", (json_int_t)cm->size, "layers", layers);
		size_t k;
		json_t *jn;
		json_array_foreach (jl, k, jn) {
			if (!json_is_string(jn))
				return berth_error_code(
					err, EINVAL, "manifest.json: Layers[%zu] is not a string",
					k);
			const char *lname = json_string_value(jn);
			struct member *lm = member_find(src, lname, err);
			if (!lm)
				return berth_error_wrap(err, "manifest.json: layer");
			if ((r = member_digest(src, lm, err)) < 0)
				return r;
			const char *mt = layer_media_type(lm);
			/* An uncompressed layer is its DiffID; a compressed one is checked
			 * when it is unpacked. */
			if (strcmp(mt, MT_OCI_LAYER) == 0 && strcmp(lm->digest, c.diff_ids[k]) != 0)
				return berth_error_code(err, EBADMSG,
							"layer \"%s\": its content has DiffID %s, "
							"the image config \"%s\" says %s",
							lname, lm->digest, cname, c.diff_ids[k]);
			json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", mt,
								"digest", lm->digest, "size",
								(json_int_t)lm->size));
			plan_member(p, lm);
		}
		plan_member(p, cm);
		char *body = json_dumps(man, JSON_COMPACT);
		char mdg[IMAGE_DIGEST_BUF];
		digest_buffer(body, strlen(body), mdg);
		plan_doc(p, body);
		struct plan_image *im = plan_image(p, mdg, NULL, cm->digest);
		size_t t;
		json_t *jtag;
		json_array_foreach (jt, t, jtag) {
			if (!json_is_string(jtag))
				return berth_error_code(err, EINVAL,
							"manifest.json: RepoTags[%zu] is not a "
							"string",
							t);
			_cleanup_ref_ struct image_ref ref = { 0 };
			if ((r = image_ref_parse(json_string_value(jtag), &ref, err)) < 0)
				return berth_error_wrap(err, "manifest.json: RepoTags");
			if (!ref.tag || ref.digest)
				return berth_error_code(err, EINVAL,
							"manifest.json: RepoTags: \"%s\" is not a "
							"name:tag",
							json_string_value(jtag));
			plan_tag(im, &ref);
		}
	}
	return 0;
}

/* The name an OCI index entry gives its image, or none: a full reference in
 * io.containerd.image.name (containerd, Docker 25+) or in ref.name; a
 * ref.name that is only a tag (skopeo's oci:DIR:TAG, Docker 25+) names no
 * repository, and the image is loaded untagged, as Docker does. */
static int entry_name(json_t *entry, struct image_ref *ref, bool *named, berth_err *err)
{
	*named = false;
	json_t *ann = json_object_get(entry, "annotations");
	const char *full = json_string_value(json_object_get(ann, ANN_CONTAINERD_NAME));
	const char *refname = json_string_value(json_object_get(ann, ANN_REF_NAME));
	if (!full && refname && strpbrk(refname, "/:@"))
		full = refname;
	if (!full)
		return 0;
	int r = image_ref_parse(full, ref, err);
	if (r < 0)
		return berth_error_wrap(err, "index.json: annotation");
	if (!ref->tag) {
		image_ref_free(ref);
		return 0;
	}
	free(ref->digest);
	ref->digest = NULL;
	*named = true;
	return 0;
}

/* One image manifest of an OCI layout: the manifest, its config and layers. */
static int plan_oci_manifest(struct source *src, struct member *mm, const char *index_digest,
			     struct plan *p, struct plan_image **out, berth_err *err)
{
	const char *data = NULL;
	size_t len = 0;
	int r = member_bytes(mm, &data, &len, err);
	if (r < 0)
		return r;
	_cleanup_manifest_ struct image_manifest m = { 0 };
	if ((r = manifest_parse(data, len, &m, err)) < 0)
		return berth_error_wrap(err, "manifest %s", mm->digest);
	struct member *cm = blob_member(src, m.config.digest, "config", err);
	if (!cm)
		return -ENOENT;
	if ((r = member_check(src, cm, m.config.digest, m.config.size, "config", err)) < 0)
		return r;
	const char *cdata = NULL;
	size_t clen = 0;
	if ((r = member_bytes(cm, &cdata, &clen, err)) < 0)
		return r;
	_cleanup_config_ struct image_config c = { 0 };
	if ((r = config_parse(cdata, clen, &c, err)) < 0)
		return berth_error_wrap(err, "config %s", m.config.digest);
	if (c.n_diff_ids != m.n_layers)
		return berth_error_code(err, EBADMSG,
					"manifest %s lists %zu layers, its config %s has %zu "
					"diff_ids",
					mm->digest, m.n_layers, m.config.digest, c.n_diff_ids);
	for (size_t i = 0; i < m.n_layers; i++) {
		const struct image_desc *d = &m.layers[i];
		struct member *lm = blob_member(src, d->digest, "layer", err);
		if (!lm)
			return -ENOENT;
		if ((r = member_check(src, lm, d->digest, d->size, "layer", err)) < 0)
			return r;
		if (strcmp(layer_media_type(lm), MT_OCI_LAYER) == 0 &&
		    strcmp(d->digest, c.diff_ids[i]) != 0)
			return berth_error_code(err, EBADMSG,
						"layer %s: its content has DiffID %s, the image "
						"config %s says %s",
						d->digest, d->digest, m.config.digest,
						c.diff_ids[i]);
		plan_member(p, lm);
	}
	plan_member(p, cm);
	plan_member(p, mm);
	*out = plan_image(p, mm->digest, index_digest, m.config.digest);
	return 0;
}

/* An OCI layout: index.json names the images. */
static int plan_oci(struct source *src, struct member *ixm, struct plan *p, berth_err *err)
{
	berth_err lerr = BERTH_ERR_INIT;
	struct member *lay = member_find(src, "oci-layout", &lerr);
	berth_err_clear(&lerr);
	int r;
	if (lay) {
		_cleanup_json_ json_t *l = NULL;
		if ((r = parse_json_member(lay, &l, err)) < 0)
			return r;
		const char *v = json_string_value(json_object_get(l, "imageLayoutVersion"));
		if (!v || strcmp(v, "1.0.0") != 0)
			return berth_error_code(err, ENOTSUP,
						"oci-layout: imageLayoutVersion \"%s\" is not "
						"supported (only 1.0.0)",
						v ? v : "");
	}
	_cleanup_json_ json_t *doc = NULL;
	if ((r = parse_json_member(ixm, &doc, err)) < 0)
		return r;
	_cleanup_index_ struct image_index idx = { 0 };
	if ((r = index_parse(ixm->data, (size_t)ixm->size, &idx, err)) < 0)
		return berth_error_wrap(err, "index.json");
	json_t *entries = json_object_get(doc, "manifests");
	__attribute__((cleanup(platform_free))) struct image_platform host = { 0 };
	platform_default(&host);
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct image_desc *d = &idx.manifests[i];
		struct member *em = blob_member(src, d->digest, "index.json: manifest", err);
		if (!em)
			return -ENOENT;
		if ((r = member_check(src, em, d->digest, d->size, "manifest", err)) < 0)
			return r;
		const char *data = NULL;
		size_t len = 0;
		if ((r = member_bytes(em, &data, &len, err)) < 0)
			return r;
		enum manifest_kind kind = manifest_kind(data, len, d->media_type, err);
		if (kind == MANIFEST_UNKNOWN)
			return berth_error_wrap(err, "index.json: %s", d->digest);
		struct member *mm = em;
		const char *index_digest = NULL;
		if (kind == MANIFEST_INDEX) {
			_cleanup_index_ struct image_index sub = { 0 };
			if ((r = index_parse(data, len, &sub, err)) < 0)
				return berth_error_wrap(err, "index %s", d->digest);
			int k = index_select(&sub, &host, err);
			if (k < 0)
				return berth_error_wrap(err, "index %s", d->digest);
			const struct image_desc *sd = &sub.manifests[k];
			if (!(mm = blob_member(src, sd->digest, "manifest", err)))
				return -ENOENT;
			if ((r = member_check(src, mm, sd->digest, sd->size, "manifest", err)) < 0)
				return r;
			index_digest = d->digest;
			plan_member(p, em);
		}
		struct plan_image *im = NULL;
		if ((r = plan_oci_manifest(src, mm, index_digest, p, &im, err)) < 0)
			return r;
		_cleanup_ref_ struct image_ref ref = { 0 };
		bool named;
		if ((r = entry_name(json_array_get(entries, i), &ref, &named, err)) < 0)
			return r;
		if (named)
			plan_tag(im, &ref);
	}
	return 0;
}

/* Blobs this load stored that were not in the store before. */
struct new_blobs {
	char **v;
	size_t n;
};

static void new_blob(struct new_blobs *nb, struct image_store *s, const char *digest)
{
	if (image_store_has_blob(s, digest))
		return;
	nb->v = xrealloc(nb->v, (nb->n + 2) * sizeof(char *));
	nb->v[nb->n++] = xstrdup(digest);
	nb->v[nb->n] = NULL;
}

/* Add the images of the plan, their blobs stored; *fresh gets the ids of
 * those that were not in the store before. */
static int plan_add(struct source *src, struct plan *p, char **fresh, char ***loaded,
		    berth_err *err)
{
	size_t n_fresh = 0;
	_cleanup_strv_ char **lines = xcalloc(1, sizeof(char *));
	size_t n_lines = 0;
	for (size_t i = 0; i < p->n_img; i++) {
		struct plan_image *im = &p->img[i];
		struct image_info before;
		berth_err ierr = BERTH_ERR_INIT;
		bool existed = image_store_info(src->s, im->id, &before, &ierr) == 0;
		berth_err_clear(&ierr);
		if (existed)
			image_info_free(&before);
		struct image_add a = {
			.manifest_digest = im->manifest_digest,
			.index_digest = im->index_digest,
			.tags = (const char *const *)im->tags,
		};
		/* A name that moves from another image: Docker says so first. */
		_cleanup_strv_ char **moved = xcalloc(im->n_tags + 1, sizeof(char *));
		for (size_t k = 0, n = 0; k < im->n_tags; k++) {
			_cleanup_free_ char *old = NULL;
			berth_err oerr = BERTH_ERR_INIT;
			if (image_store_resolve(src->s, im->tags[k], &old, &oerr) == 0 &&
			    strcmp(old, im->id) != 0)
				moved[n++] = xasprintf("The image %s already exists, renaming the "
						       "old one with ID %s to empty string",
						       im->shown[k], old);
			berth_err_clear(&oerr);
		}
		_cleanup_free_ char *id = NULL;
		int r = image_store_add_image(src->s, &a, &id, err);
		if (r == 0 && !existed)
			fresh[n_fresh++] = xstrdup(id);
		if (r < 0)
			return r;
		size_t add = 2 * im->n_tags + 1;
		lines = xrealloc(lines, (n_lines + add + 1) * sizeof(char *));
		for (size_t k = 0; moved[k]; k++)
			lines[n_lines++] = TAKE_PTR(moved[k]);
		for (size_t k = 0; k < im->n_tags; k++)
			lines[n_lines++] = xasprintf("Loaded image: %s", im->shown[k]);
		if (!im->n_tags)
			lines[n_lines++] = xasprintf("Loaded image ID: %s", id);
		lines[n_lines] = NULL;
	}
	if (loaded)
		*loaded = TAKE_PTR(lines);
	return 0;
}

/* Store the blobs, then add the images. A failure here (a compressed layer
 * whose DiffID is wrong, a tar the unpacker refuses, a full disk) takes back
 * the images this load created and the blobs no other image uses. */
static int plan_apply(struct source *src, struct plan *p, char ***loaded, berth_err *err)
{
	struct new_blobs nb = { 0 };
	_cleanup_strv_ char **fresh = xcalloc(p->n_img + 1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; r == 0 && i < p->n_commit; i++) {
		new_blob(&nb, src->s, p->commit[i]->digest);
		r = member_commit(src, p->commit[i], err);
	}
	for (size_t i = 0; r == 0 && i < p->n_docs; i++) {
		char d[IMAGE_DIGEST_BUF];
		digest_buffer(p->docs[i], p->doc_len[i], d);
		new_blob(&nb, src->s, d);
		r = image_store_put_blob(src->s, p->docs[i], p->doc_len[i], d, NULL, err);
	}
	if (r == 0)
		r = plan_add(src, p, fresh, loaded, err);
	if (r < 0) {
		for (size_t k = 0; fresh[k]; k++) {
			berth_err rerr = BERTH_ERR_INIT;
			image_store_remove(src->s, fresh[k], true, &rerr);
			berth_err_clear(&rerr);
		}
		image_store_discard_blobs(src->s, nb.v);
	}
	strv_free(nb.v);
	return r;
}

static int load_source(struct source *src, char ***loaded, berth_err *err)
{
	__attribute__((cleanup(plan_release))) struct plan p = { 0 };
	berth_err ferr = BERTH_ERR_INIT;
	struct member *mf = member_find(src, "manifest.json", &ferr);
	berth_err_clear(&ferr);
	int r;
	if (mf) {
		r = plan_docker(src, mf, &p, err);
	} else {
		struct member *ix = member_find(src, "index.json", &ferr);
		berth_err_clear(&ferr);
		if (!ix)
			return berth_error_code(err, EINVAL,
						"neither a docker-archive (no manifest.json) nor "
						"an OCI layout (no index.json)");
		r = plan_oci(src, ix, &p, err);
	}
	if (r < 0)
		return r;
	if (!p.n_img)
		return berth_error_code(err, EINVAL, "the archive holds no image");
	return plan_apply(src, &p, loaded, err);
}

int image_load(struct image_store *s, int fd, char ***loaded, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	__attribute__((cleanup(source_release))) struct source src = { .s = s, .dirfd = -1 };
	int r = read_tar(&src, fd, err);
	if (r < 0)
		return r;
	return load_source(&src, loaded, err);
}

int image_load_dir(struct image_store *s, const char *dir, char ***loaded, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	__attribute__((cleanup(source_release))) struct source src = { .s = s, .dirfd = -1 };
	src.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src.dirfd < 0)
		return berth_error_errno(err, "open %s", dir);
	int r = load_source(&src, loaded, err);
	return r < 0 ? berth_error_wrap(err, "%s", dir) : 0;
}
