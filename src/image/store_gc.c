/* store_gc.c - removing images, collecting what no image uses, and the
 * consistency check. */
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

/* ---- removal and garbage collection ---------------------------------------- */

/* Inside a transaction: the blobs and layers that no image uses any more,
 * their rows deleted. The files go after the commit. */
static int collect_garbage(struct image_store *s, char ***blobs, char ***layers,
			   uint64_t *layer_bytes, berth_err *err)
{
	*blobs = NULL;
	*layers = NULL;
	*layer_bytes = 0;
	_cleanup_strv_ char **lv = xcalloc(1, sizeof(char *));
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(s->db,
				   "SELECT chain_id, size FROM layers WHERE chain_id NOT IN "
				   "(SELECT chain_id FROM image_layers)",
				   &st, err);
		if (r < 0)
			return r;
		size_t n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			lv = xrealloc(lv, (n + 2) * sizeof(char *));
			lv[n++] = db_text(st, 0);
			lv[n] = NULL;
			*layer_bytes += (uint64_t)sqlite3_column_int64(st, 1);
		}
	}
	int r = db_exec(
		s->db,
		"DELETE FROM layers WHERE chain_id NOT IN (SELECT chain_id FROM image_layers)",
		err);
	if (r < 0)
		return r;
	/* Blobs: every file that no image row names. */
	_cleanup_strv_ char **bv = xcalloc(1, sizeof(char *));
	int fd = openat(s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "open %s/blobs/sha256", s->root);
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return berth_error_errno(err, "open %s/blobs/sha256", s->root);
	}
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(s->db, "SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1", &st,
			    err)) < 0)
		return r;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dg = xasprintf("sha256:%s", de->d_name);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, dg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			continue;
		bv = xrealloc(bv, (n + 2) * sizeof(char *));
		bv[n++] = xstrdup(de->d_name);
		bv[n] = NULL;
	}
	*blobs = TAKE_PTR(bv);
	*layers = TAKE_PTR(lv);
	return 0;
}

/* After the commit: the files of what collect_garbage() found. Returns the
 * bytes freed. */
static uint64_t remove_garbage(struct image_store *s, char **blobs, char **layers)
{
	uint64_t freed = 0;
	for (size_t i = 0; blobs && blobs[i]; i++) {
		struct stat st;
		if (fstatat(s->blobsfd, blobs[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (unlinkat(s->blobsfd, blobs[i], 0) == 0)
			freed += (uint64_t)st.st_blocks * 512;
	}
	for (size_t i = 0; layers && layers[i]; i++) {
		const char *hex = digest_hex(layers[i]);
		if (!hex)
			continue;
		berth_err e = BERTH_ERR_INIT;
		_cleanup_close_ int lock = store_lock_object(s, "layer", layers[i], &e);
		/* Re-added meanwhile by a pull? Then it stays. */
		if (lock >= 0 && !store_layer_row_exists(s, layers[i])) {
			_cleanup_free_ char *gone = store_temp_name("gone-");
			if (renameat(s->layersfd, hex, s->tmpfd, gone) == 0)
				rm_rf_at(s->tmpfd, gone, &e);
		}
		berth_err_clear(&e);
	}
	return freed;
}

/* Delete the rows of the images in ids (NULL-terminated), then collect. */
static int remove_images(struct image_store *s, char *const *ids, uint64_t *reclaimed,
			 berth_err *err)
{
	_cleanup_close_ int gc = store_gc_try_lock(s);
	int r = db_begin(s->db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; ids[i]; i++) {
		if ((r = store_bind_exec(s, "DELETE FROM images WHERE id = ?", ids[i], NULL, err)) <
		    0) {
			db_rollback(s->db);
			return r;
		}
	}
	_cleanup_strv_ char **blobs = NULL, **layers = NULL;
	uint64_t layer_bytes = 0;
	if (gc >= 0 && (r = collect_garbage(s, &blobs, &layers, &layer_bytes, err)) < 0) {
		db_rollback(s->db);
		return r;
	}
	if ((r = db_commit(s->db, err)) < 0)
		return r;
	uint64_t freed = gc >= 0 ? remove_garbage(s, blobs, layers) + layer_bytes : 0;
	if (reclaimed)
		*reclaimed += freed;
	return 0;
}

int image_store_remove(struct image_store *s, const char *image_id, bool force, berth_err *err)
{
	(void)force; /* the CLI decides about names; containers will veto here */
	char *ids[] = { (char *)image_id, NULL };
	return remove_images(s, ids, NULL, err);
}

int image_store_prune(struct image_store *s, bool all, image_prune_fn want, void *opaque,
		      char ***removed, uint64_t *reclaimed, berth_err *err)
{
	_cleanup_strv_ char **ids =
		store_query_strv(s,
				 all ? "SELECT id FROM images"
				     : "SELECT id FROM images WHERE id NOT IN "
				       "(SELECT image_id FROM tags)",
				 NULL);
	size_t k = 0;
	for (size_t i = 0; ids[i]; i++) {
		if (!want || want(s, ids[i], opaque))
			ids[k++] = ids[i];
		else
			free(ids[i]);
	}
	ids[k] = NULL;
	*reclaimed = 0;
	int r = remove_images(s, ids, reclaimed, err);
	if (r < 0)
		return r;
	*removed = TAKE_PTR(ids);
	return 0;
}

void image_store_discard_blobs(struct image_store *s, char *const *digests)
{
	for (size_t i = 0; digests && digests[i]; i++) {
		const char *hex = digest_hex(digests[i]);
		if (!hex)
			continue;
		_cleanup_free_ char *user = store_query_text(
			s, "SELECT image_id FROM image_blobs WHERE digest = ? LIMIT 1", digests[i]);
		if (!user)
			unlinkat(s->blobsfd, hex, 0);
	}
}

/* ---- check ------------------------------------------------------------------ */

static void report(struct store_check_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct store_check_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->lines = xrealloc(r->lines, (r->problems + 2) * sizeof(char *));
	r->lines[r->problems++] = line;
	r->lines[r->problems] = NULL;
}

/* Re-hash a blob file: 1 intact, 0 corrupt, negative on read errors. */
static int blob_intact(struct image_store *s, const char *hex)
{
	_cleanup_close_ int fd = openat(s->blobsfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct digester *dg = digester_new();
	const size_t bufsize = 1 << 20;
	_cleanup_free_ char *buf = xmalloc(bufsize);
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			digester_free(dg);
			return -errno;
		}
		if (n == 0)
			break;
		digester_update(dg, buf, (size_t)n);
	}
	char got[IMAGE_DIGEST_BUF];
	digester_final(dg, got);
	return strcmp(got + 7, hex) == 0;
}

DIR *store_open_dir_of(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

struct tmp_report {
	struct store_check_report *rep;
	bool fix;
};

static void report_tmp(const char *name, void *opaque)
{
	struct tmp_report *tr = opaque;
	report(tr->rep, "tmp/%s: left by an interrupted writer%s", name,
	       tr->fix ? " (removed)" : "");
}

int image_store_check(struct image_store *s, bool fix, struct store_check_report *rep,
		      berth_err *err)
{
	memset(rep, 0, sizeof(*rep));
	rep->lines = xcalloc(1, sizeof(char *));
	_cleanup_close_ int gc = fix ? store_gc_try_lock(s) : -1;
	if (fix && gc < 0)
		return berth_error_code(err, EBUSY,
					"check --fix: another berth process is adding "
					"content to the store; try again when it is done");
	/* Images: their blobs and layers. */
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(s->db,
				   "SELECT i.id, b.digest FROM images i JOIN image_blobs b ON "
				   "b.image_id = i.id "
				   "UNION ALL SELECT il.image_id, 'layer:' || il.chain_id FROM "
				   "image_layers il "
				   "WHERE il.chain_id NOT IN (SELECT chain_id FROM layers)",
				   &st, err);
		if (r < 0)
			return r;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			const char *what = (const char *)sqlite3_column_text(st, 1);
			if (strncmp(what, "layer:", 6) == 0)
				report(rep, "image %s: layer %s is not in the store", id, what + 6);
			else if (!image_store_has_blob(s, what))
				report(rep, "image %s: blob %s is missing", id, what);
		}
	}
	/* Layer rows and directories agree. */
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(s->db, "SELECT chain_id FROM layers", &st, err);
		if (r < 0)
			return r;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *chain = (const char *)sqlite3_column_text(st, 0);
			const char *hex = digest_hex(chain);
			if (!hex || faccessat(s->layersfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
				report(rep, "layer %s: recorded, but its directory is missing",
				       chain);
		}
	}
	_cleanup_dir_ DIR *ld = store_open_dir_of(s->layersfd);
	if (!ld)
		return berth_error_errno(err, "open %s/layers", s->root);
	struct dirent *de;
	while ((de = readdir(ld))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *chain = xasprintf("sha256:%s", de->d_name);
		if (digest_hex(chain) && store_layer_row_exists(s, chain))
			continue;
		report(rep, "layers/%s: a directory no layer record names%s", de->d_name,
		       fix ? " (removed)" : "");
		if (fix)
			rm_rf_at(s->layersfd, de->d_name, err);
	}
	/* Blobs: intact, and used. */
	_cleanup_dir_ DIR *bd = store_open_dir_of(s->blobsfd);
	if (!bd)
		return berth_error_errno(err, "open %s/blobs/sha256", s->root);
	while ((de = readdir(bd))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dg = xasprintf("sha256:%s", de->d_name);
		int ok = digest_hex(dg) ? blob_intact(s, de->d_name) : 0;
		if (ok == 0) {
			report(rep, "blob %s: content does not match its digest%s", dg,
			       fix ? " (removed)" : "");
			if (fix)
				unlinkat(s->blobsfd, de->d_name, 0);
			continue;
		}
		if (ok < 0) {
			report(rep, "blob %s: cannot be read: %s", dg, strerror(-ok));
			continue;
		}
		_cleanup_free_ char *user = store_query_text(
			s, "SELECT image_id FROM image_blobs WHERE digest = ? LIMIT 1", dg);
		if (!user) {
			report(rep, "blob %s: no image uses it%s", dg, fix ? " (removed)" : "");
			if (fix)
				unlinkat(s->blobsfd, de->d_name, 0);
		}
	}
	/* tmp/: what killed writers left (entries nobody holds locked). */
	struct tmp_report tr = { rep, fix };
	store_sweep_tmp(s, fix, report_tmp, &tr);
	berth_err_clear(err);
	return 0;
}
