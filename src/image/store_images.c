/* store_images.c - images in the store: adding them, finding them, naming them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/rmtree.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/db.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "image/store_internal.h"

/* ---- images --------------------------------------------------------------- */

int store_bind_exec(struct image_store *s, const char *sql, const char *a, const char *b,
		    berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s->db, sql, &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s->db, err, "update images");
	return 0;
}

/* Inside a transaction: the image row, its layers, blobs and names. */
static int record_image(struct image_store *s, const struct image_add *a,
			const struct image_manifest *m, const struct image_config *c,
			char *const *chains, int64_t size, berth_err *err)
{
	const char *id = m->config.digest;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(
		s->db,
		/* An upsert, not INSERT OR REPLACE: replacing the row would delete the
		 * image's tags and repo digests through their ON DELETE CASCADE. */
		"INSERT INTO images(id, manifest_digest, manifest_media_type, "
		"index_digest, created, os, architecture, variant, size, added) "
		"VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now')) "
		"ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
		"manifest_media_type = excluded.manifest_media_type, "
		"index_digest = excluded.index_digest, size = excluded.size",
		&st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->manifest_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->media_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->index_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->created, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->os, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->architecture, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, c->variant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, size);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(s->db, err, "record image");
	/* The same config means the same layers: rewriting them is idempotent. */
	for (size_t i = 0; i < m->n_layers; i++) {
		_cleanup_stmt_ sqlite3_stmt *li = NULL;
		if ((r = db_prepare(
			     s->db,
			     "INSERT OR REPLACE INTO image_layers(image_id, idx, chain_id) VALUES(?, ?, ?)",
			     &li, err)) < 0)
			return r;
		sqlite3_bind_text(li, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(li, 2, (sqlite3_int64)i);
		sqlite3_bind_text(li, 3, chains[i], -1, SQLITE_STATIC);
		if (sqlite3_step(li) != SQLITE_DONE)
			return db_fail(s->db, err, "record image layers");
	}
	const char *blobs[4] = { a->manifest_digest, a->index_digest, id, NULL };
	for (size_t i = 0; i < 3; i++)
		if (blobs[i] &&
		    (r = store_bind_exec(s, "INSERT OR IGNORE INTO image_blobs VALUES(?, ?)", id,
					 blobs[i], err)) < 0)
			return r;
	for (size_t i = 0; i < m->n_layers; i++)
		if (image_store_has_blob(s, m->layers[i].digest) &&
		    (r = store_bind_exec(s, "INSERT OR IGNORE INTO image_blobs VALUES(?, ?)", id,
					 m->layers[i].digest, err)) < 0)
			return r;
	for (size_t i = 0; a->tags && a->tags[i]; i++)
		if ((r = store_bind_exec(s,
					 "INSERT OR REPLACE INTO tags(ref, image_id) VALUES(?, ?)",
					 a->tags[i], id, err)) < 0)
			return r;
	if (a->repo) {
		_cleanup_free_ char *rd = xasprintf(
			"%s@%s", a->repo, a->index_digest ? a->index_digest : a->manifest_digest);
		if ((r = store_bind_exec(
			     s, "INSERT OR REPLACE INTO repo_digests(ref, image_id) VALUES(?, ?)",
			     rd, id, err)) < 0)
			return r;
	}
	return 0;
}

static int64_t layer_size(struct image_store *s, const char *chain_id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT size FROM layers WHERE chain_id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
}

int image_store_add_image(struct image_store *s, const struct image_add *a, char **image_id,
			  berth_err *err)
{
	_cleanup_free_ char *mbody = NULL, *cbody = NULL;
	size_t mlen, clen;
	int r = image_store_read_blob(s, a->manifest_digest, MANIFEST_MAX_SIZE, &mbody, &mlen, err);
	if (r < 0)
		return r;
	_cleanup_manifest_ struct image_manifest m = { 0 };
	if ((r = manifest_parse(mbody, mlen, &m, err)) < 0)
		return berth_error_wrap(err, "manifest %s", a->manifest_digest);
	if ((r = image_store_read_blob(s, m.config.digest, MANIFEST_MAX_SIZE, &cbody, &clen, err)) <
	    0)
		return r;
	_cleanup_config_ struct image_config c = { 0 };
	if ((r = config_parse(cbody, clen, &c, err)) < 0)
		return berth_error_wrap(err, "image config %s", m.config.digest);
	if (c.n_diff_ids != m.n_layers)
		return berth_error_code(
			err, EBADMSG,
			"manifest %s lists %zu layers, its config %s has %zu diff_ids",
			a->manifest_digest, m.n_layers, m.config.digest, c.n_diff_ids);
	_cleanup_strv_ char **chains = layer_chain_ids(c.diff_ids, c.n_diff_ids);
	if ((r = store_ingest_begin(s, err)) < 0)
		return r;

	/* A concurrent removal may take a layer away between the unpack and the
	 * transaction: the transaction checks, and the unpack is done again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		int64_t size = 0;
		for (size_t i = 0; i < m.n_layers; i++) {
			if (!image_store_layer_present(s, chains[i])) {
				_cleanup_close_ int fd =
					image_store_open_blob(s, m.layers[i].digest, NULL, err);
				if (fd < 0)
					return berth_error_wrap(err, "image %s", m.config.digest);
				r = image_store_layer_unpack(s, chains[i], i ? chains[i - 1] : NULL,
							     c.diff_ids[i], fd, m.layers[i].digest,
							     err);
				if (r < 0)
					return r;
			}
		}
		if ((r = db_begin(s->db, err)) < 0)
			return r;
		bool missing = false;
		for (size_t i = 0; i < m.n_layers; i++) {
			int64_t ls = layer_size(s, chains[i]);
			if (ls < 0) {
				missing = true;
				break;
			}
			size += ls;
		}
		if (missing) {
			db_rollback(s->db);
			continue;
		}
		if ((r = record_image(s, a, &m, &c, chains, size, err)) < 0) {
			db_rollback(s->db);
			return r;
		}
		if ((r = db_commit(s->db, err)) < 0)
			return r;
		if (image_id)
			*image_id = xstrdup(m.config.digest);
		return 0;
	}
	return berth_error_code(err, EAGAIN, "image %s: its layers were removed while it was added",
				m.config.digest);
}

/* ---- lookups --------------------------------------------------------------- */

/* The one text column of a one-row query with one parameter, or NULL. */
char *store_query_text(struct image_store *s, const char *sql, const char *arg)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW ? db_text(st, 0) : NULL;
}

static bool all_hex(const char *p)
{
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int image_store_resolve(struct image_store *s, const char *name, char **image_id, berth_err *err)
{
	/* A full id, with or without its algorithm. */
	_cleanup_free_ char *full = NULL;
	if (strlen(name) == 64 && all_hex(name))
		full = xasprintf("sha256:%s", name);
	else if (digest_hex(name))
		full = xstrdup(name);
	if (full) {
		char *id = store_query_text(s, "SELECT id FROM images WHERE id = ?", full);
		if (id) {
			*image_id = id;
			return 0;
		}
	}
	/* A reference: by digest, then by tag. */
	struct image_ref ref = { 0 };
	berth_err perr = BERTH_ERR_INIT;
	if (image_ref_parse(name, &ref, &perr) == 0) {
		char *id = NULL;
		if (ref.digest) {
			_cleanup_free_ char *repo = image_ref_repo(&ref);
			_cleanup_free_ char *rd = xasprintf("%s@%s", repo, ref.digest);
			id = store_query_text(s, "SELECT image_id FROM repo_digests WHERE ref = ?",
					      rd);
			if (!id)
				id = store_query_text(
					s,
					"SELECT id FROM images WHERE manifest_digest = ?1 "
					"OR index_digest = ?1",
					ref.digest);
		} else {
			_cleanup_free_ char *canon = image_ref_string(&ref);
			id = store_query_text(s, "SELECT image_id FROM tags WHERE ref = ?", canon);
		}
		image_ref_free(&ref);
		if (id) {
			berth_err_clear(&perr);
			*image_id = id;
			return 0;
		}
	}
	berth_err_clear(&perr);
	/* A unique id prefix (as `docker images` shows: 12 hex digits). */
	const char *prefix = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
	if (*prefix && strlen(prefix) <= 64 && all_hex(prefix)) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(s->db,
				   "SELECT id FROM images WHERE substr(id, 8, ?) = ? LIMIT 2", &st,
				   err);
		if (r < 0)
			return r;
		sqlite3_bind_int(st, 1, (int)strlen(prefix));
		sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			char *id = db_text(st, 0);
			if (sqlite3_step(st) == SQLITE_ROW) {
				free(id);
				return berth_error_code(err, EEXIST,
							"short identifier %s is ambiguous: more "
							"than one image matches",
							name);
			}
			*image_id = id;
			return 0;
		}
	}
	return berth_error_code(err, ENOENT, "No such image: %s", name);
}

char **store_query_strv(struct image_store *s, const char *sql, const char *arg)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return v;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = db_text(st, 0);
		v[n] = NULL;
	}
	return v;
}

static void fill_info(struct image_store *s, sqlite3_stmt *st, struct image_info *out)
{
	out->id = db_text(st, 0);
	out->manifest_digest = db_text(st, 1);
	out->manifest_media_type = db_text(st, 2);
	out->created = db_text(st, 3);
	out->os = db_text(st, 4);
	out->architecture = db_text(st, 5);
	out->variant = db_text(st, 6);
	out->size = sqlite3_column_int64(st, 7);
	out->tags = store_query_strv(s, "SELECT ref FROM tags WHERE image_id = ? ORDER BY ref",
				     out->id);
	out->repo_digests = store_query_strv(
		s, "SELECT ref FROM repo_digests WHERE image_id = ? ORDER BY ref", out->id);
	out->chain_ids = store_query_strv(
		s, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", out->id);
	{
		_cleanup_stmt_ sqlite3_stmt *ls = NULL;
		size_t n = 0;
		while (out->chain_ids[n])
			n++;
		out->layer_sizes = xcalloc(n + 1, sizeof(int64_t));
		if (sqlite3_prepare_v2(
			    s->db,
			    "SELECT l.size FROM image_layers il JOIN layers l USING(chain_id) "
			    "WHERE il.image_id = ? ORDER BY il.idx",
			    -1, &ls, NULL) == SQLITE_OK) {
			sqlite3_bind_text(ls, 1, out->id, -1, SQLITE_STATIC);
			for (size_t i = 0; i < n && sqlite3_step(ls) == SQLITE_ROW; i++)
				out->layer_sizes[i] = sqlite3_column_int64(ls, 0);
		}
	}
	out->diff_ids = store_query_strv(
		s,
		"SELECT l.diff_id FROM image_layers il JOIN layers l USING(chain_id) "
		"WHERE il.image_id = ? ORDER BY il.idx",
		out->id);
}

#define INFO_COLUMNS                                                                               \
	"id, manifest_digest, manifest_media_type, created, os, architecture, variant, size"

int image_store_info(struct image_store *s, const char *image_id, struct image_info *out,
		     berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s->db, "SELECT " INFO_COLUMNS " FROM images WHERE id = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return berth_error_code(err, ENOENT, "No such image: %s", image_id);
	memset(out, 0, sizeof(*out));
	fill_info(s, st, out);
	return 0;
}

void image_info_free(struct image_info *i)
{
	free(i->id);
	free(i->manifest_digest);
	free(i->manifest_media_type);
	strv_free(i->tags);
	strv_free(i->repo_digests);
	free(i->created);
	free(i->os);
	free(i->architecture);
	free(i->variant);
	strv_free(i->chain_ids);
	strv_free(i->diff_ids);
	free(i->layer_sizes);
	memset(i, 0, sizeof(*i));
}

int image_store_list(struct image_store *s, struct image_info **out, size_t *n, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(
		s->db, "SELECT " INFO_COLUMNS " FROM images ORDER BY created DESC, added DESC, id",
		&st, err);
	if (r < 0)
		return r;
	struct image_info *v = NULL;
	size_t k = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		memset(&v[k], 0, sizeof(v[k]));
		fill_info(s, st, &v[k]);
		k++;
	}
	if (r != SQLITE_DONE) {
		image_info_list_free(v, k);
		return db_fail(s->db, err, "list images");
	}
	*out = v;
	*n = k;
	return 0;
}

void image_info_list_free(struct image_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_info_free(&list[i]);
	free(list);
}

int image_store_tag(struct image_store *s, const char *image_id, const char *canonical_ref,
		    berth_err *err)
{
	int r = store_bind_exec(s, "INSERT OR REPLACE INTO tags(ref, image_id) VALUES(?, ?)",
				canonical_ref, image_id, err);
	return r < 0 ? berth_error_wrap(err, "tag %s", canonical_ref) : 0;
}

int image_store_untag(struct image_store *s, const char *canonical_ref, berth_err *err)
{
	int r = db_begin(s->db, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *id =
		store_query_text(s, "SELECT image_id FROM tags WHERE ref = ?", canonical_ref);
	if (!id) {
		db_rollback(s->db);
		return berth_error_code(err, ENOENT, "No such image: %s", canonical_ref);
	}
	if ((r = store_bind_exec(s, "DELETE FROM tags WHERE ref = ?", canonical_ref, NULL, err)) <
	    0) {
		db_rollback(s->db);
		return r;
	}
	_cleanup_free_ char *left =
		store_query_text(s, "SELECT ref FROM tags WHERE image_id = ? LIMIT 1", id);
	if ((r = db_commit(s->db, err)) < 0)
		return r;
	return left ? 0 : 1;
}
