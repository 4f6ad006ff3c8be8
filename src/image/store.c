/* store.c - the image store: blobs, unpacked layers, images and their names.
 * See store.h for the layout and the crash-safety rules. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/rmtree.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/db.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "image/unpack.h"

struct image_store {
	char *root;
	int rootfd;
	int blobsfd;  /* blobs/sha256 */
	int layersfd; /* layers */
	int tmpfd;    /* tmp */
	int locksfd;  /* locks */
	int ingestfd; /* locks/gc held shared while this process adds content */
	sqlite3 *db;  /* serialised by SQLite (FULLMUTEX) statement by statement */
	pthread_mutex_t mu; /* one transaction at a time, for pulls' worker threads */
};

/* The image store's tables; each string moves the schema one version on. */
static const char *const schema_steps[] = {
	"CREATE TABLE images("
	"  id TEXT PRIMARY KEY,"            /* config digest */
	"  manifest_digest TEXT NOT NULL,"
	"  manifest_media_type TEXT NOT NULL,"
	"  index_digest TEXT,"
	"  created TEXT,"
	"  os TEXT, architecture TEXT, variant TEXT,"
	"  size INTEGER NOT NULL,"
	"  added INTEGER NOT NULL);"
	"CREATE TABLE layers("
	"  chain_id TEXT PRIMARY KEY,"
	"  diff_id TEXT NOT NULL,"
	"  parent TEXT,"
	"  size INTEGER NOT NULL,"
	"  blob TEXT);"
	"CREATE TABLE image_layers("
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
	"  PRIMARY KEY(image_id, idx));"
	"CREATE INDEX image_layers_chain ON image_layers(chain_id);"
	"CREATE TABLE image_blobs("
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  digest TEXT NOT NULL,"
	"  PRIMARY KEY(image_id, digest));"
	"CREATE INDEX image_blobs_digest ON image_blobs(digest);"
	"CREATE TABLE tags("
	"  ref TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
	"CREATE INDEX tags_image ON tags(image_id);"
	"CREATE TABLE repo_digests("
	"  ref TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
	"CREATE INDEX repo_digests_image ON repo_digests(image_id);",
	NULL,
};

const char *image_store_root(const struct image_store *s)
{
	return s->root;
}

/* A random name for a temp entry: prefix + 16 hex digits. */
static char *temp_name(const char *prefix)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&v;
	return xasprintf("%s%016" PRIx64, prefix, v);
}

static int open_subdir(int dirfd, const char *name, const char *root, berth_err *err)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return berth_error_errno(err, "create %s/%s", root, name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "open %s/%s", root, name);
	return fd;
}

/* Remove what killed writers left in tmp/: every entry whose flock we get. */
static void clean_tmp(struct image_store *s)
{
	int fd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_close_ int e = openat(s->tmpfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (e < 0 || flock(e, LOCK_EX | LOCK_NB) < 0)
			continue;
		berth_err ignored = BERTH_ERR_INIT;
		rm_rf_at(s->tmpfd, de->d_name, &ignored);
		berth_err_clear(&ignored);
	}
}

static void store_closep(struct image_store **s)
{
	if (*s)
		image_store_close(*s);
}

int image_store_open(const char *root, struct image_store **out, berth_err *err)
{
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return berth_error_errno(err, "create store %s", root);
	__attribute__((cleanup(store_closep))) struct image_store *s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(root);
	pthread_mutex_init(&s->mu, NULL);
	s->rootfd = s->blobsfd = s->layersfd = s->tmpfd = s->locksfd = s->ingestfd = -1;
	s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0)
		return berth_error_errno(err, "open store %s", root);
	_cleanup_close_ int blobs = open_subdir(s->rootfd, "blobs", root, err);
	if (blobs < 0)
		return blobs;
	if ((s->blobsfd = open_subdir(blobs, "sha256", root, err)) < 0)
		return s->blobsfd;
	if ((s->layersfd = open_subdir(s->rootfd, "layers", root, err)) < 0)
		return s->layersfd;
	if ((s->tmpfd = open_subdir(s->rootfd, "tmp", root, err)) < 0)
		return s->tmpfd;
	if ((s->locksfd = open_subdir(s->rootfd, "locks", root, err)) < 0)
		return s->locksfd;
	_cleanup_free_ char *dbpath = path_join(root, "berth.db");
	int r = db_open(dbpath, &s->db, err);
	if (r < 0)
		return r;
	if ((r = db_migrate(s->db, "image", schema_steps, err)) < 0)
		return r;
	clean_tmp(s);
	*out = TAKE_PTR(s);
	return 0;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	if (s->db)
		db_close(s->db);
	int *fds[] = { &s->rootfd, &s->blobsfd, &s->layersfd, &s->tmpfd, &s->locksfd, &s->ingestfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	pthread_mutex_destroy(&s->mu);
	free(s->root);
	free(s);
}

/* ---- locks ---------------------------------------------------------------- */

/* flock locks/<kind>-<hex>, blocking. Returns the fd holding the lock. */
static int lock_object(struct image_store *s, const char *kind, const char *digest,
		       berth_err *err)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return berth_error_code(err, EINVAL, "invalid digest \"%s\"", digest);
	_cleanup_free_ char *name = xasprintf("%s-%s", kind, hex);
	_cleanup_close_ int fd = openat(s->locksfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_errno(err, "lock %s %s", kind, digest);
	if (TEMP_FAILURE_RETRY_INT(flock(fd, LOCK_EX)) < 0)
		return berth_error_errno(err, "lock %s %s", kind, digest);
	return TAKE_FD(fd);
}

/* Garbage collection removes files only while no process adds content: adders
 * hold locks/gc shared (from their first write until they close the store),
 * the collector tries it exclusive and, when it cannot, leaves the files for
 * a later collection (the rows that make them garbage are already gone). */
static int ingest_begin(struct image_store *s, berth_err *err)
{
	pthread_mutex_lock(&s->mu);
	int r = 0;
	if (s->ingestfd < 0) {
		int fd = openat(s->locksfd, "gc", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || TEMP_FAILURE_RETRY_INT(flock(fd, LOCK_SH)) < 0) {
			r = berth_error_errno(err, "lock %s/locks/gc", s->root);
			if (fd >= 0)
				close(fd);
		} else {
			s->ingestfd = fd;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* The exclusive side: an fd holding the lock, or -1 when an adder is at work. */
static int gc_try_lock(struct image_store *s)
{
	if (s->ingestfd >= 0)
		return -1;
	_cleanup_close_ int fd = openat(s->locksfd, "gc", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	return TAKE_FD(fd);
}

/* ---- blobs ---------------------------------------------------------------- */

struct blob_writer {
	struct image_store *s;
	char *name; /* in tmp/ */
	int fd;
	struct digester *dg;
	int64_t size;
};

int blob_writer_new(struct image_store *s, struct blob_writer **out, berth_err *err)
{
	int r = ingest_begin(s, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *name = temp_name("blob-");
	int fd = openat(s->tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_errno(err, "create %s/tmp/%s", s->root, name);
	/* The lock marks the file as in use: clean_tmp() leaves it alone. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = berth_error_errno(err, "lock %s/tmp/%s", s->root, name);
		unlinkat(s->tmpfd, name, 0);
		close(fd);
		return r;
	}
	struct blob_writer *w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->name = TAKE_PTR(name);
	w->fd = fd;
	w->dg = digester_new();
	*out = w;
	return 0;
}

int blob_writer_write(struct blob_writer *w, const void *buf, size_t n, berth_err *err)
{
	if (fd_write_all(w->fd, buf, n) < 0)
		return berth_error_errno(err, "write %s/tmp/%s", w->s->root, w->name);
	digester_update(w->dg, buf, n);
	w->size += (int64_t)n;
	return 0;
}

void blob_writer_free(struct blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		unlinkat(w->s->tmpfd, w->name, 0);
		close(w->fd);
	}
	digester_free(w->dg);
	free(w->name);
	free(w);
}

int blob_writer_commit(struct blob_writer *w, const char *expect_digest, int64_t expect_size,
		       char digest[IMAGE_DIGEST_BUF], berth_err *err)
{
	char got[IMAGE_DIGEST_BUF];
	digester_final(w->dg, got);
	w->dg = NULL;
	int r = 0;
	if (expect_size >= 0 && w->size != expect_size)
		r = berth_error_code(err, EBADMSG, "blob %s: size %" PRId64 ", expected %" PRId64,
				     expect_digest ? expect_digest : got, w->size, expect_size);
	else if (expect_digest && strcmp(expect_digest, got) != 0)
		r = berth_error_code(err, EBADMSG, "blob %s: content has digest %s", expect_digest, got);
	else if (fdatasync(w->fd) < 0)
		r = berth_error_errno(err, "sync %s/tmp/%s", w->s->root, w->name);
	else if (renameat(w->s->tmpfd, w->name, w->s->blobsfd, got + 7) < 0)
		r = berth_error_errno(err, "store blob %s", got);
	if (r == 0) {
		close(w->fd);
		w->fd = -1;
		if (digest)
			memcpy(digest, got, IMAGE_DIGEST_BUF);
	}
	blob_writer_free(w);
	return r;
}

int image_store_put_blob(struct image_store *s, const void *data, size_t len,
			 const char *expect_digest, char digest[IMAGE_DIGEST_BUF], berth_err *err)
{
	/* Content-addressed and verified when written: a blob present is this one. */
	if (expect_digest && image_store_has_blob(s, expect_digest)) {
		char got[IMAGE_DIGEST_BUF];
		digest_buffer(data, len, got);
		if (strcmp(got, expect_digest) != 0)
			return berth_error_code(err, EBADMSG, "blob %s: content has digest %s",
						expect_digest, got);
		if (digest)
			memcpy(digest, got, IMAGE_DIGEST_BUF);
		return 0;
	}
	struct blob_writer *w;
	int r = blob_writer_new(s, &w, err);
	if (r < 0)
		return r;
	if ((r = blob_writer_write(w, data, len, err)) < 0) {
		blob_writer_free(w);
		return r;
	}
	return blob_writer_commit(w, expect_digest, -1, digest, err);
}

int image_store_put_blob_fd(struct image_store *s, int fd, const char *expect_digest,
			    int64_t expect_size, char digest[IMAGE_DIGEST_BUF], berth_err *err)
{
	struct blob_writer *w;
	int r = blob_writer_new(s, &w, err);
	if (r < 0)
		return r;
	const size_t bufsize = 1 << 20;
	_cleanup_free_ char *buf = xmalloc(bufsize);
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = berth_error_errno(err, "read blob");
			break;
		}
		if (n == 0)
			return blob_writer_commit(w, expect_digest, expect_size, digest, err);
		if ((r = blob_writer_write(w, buf, (size_t)n, err)) < 0)
			break;
	}
	blob_writer_free(w);
	return r;
}

bool image_store_has_blob(struct image_store *s, const char *digest)
{
	const char *hex = digest_hex(digest);
	return hex && faccessat(s->blobsfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int image_store_open_blob(struct image_store *s, const char *digest, int64_t *size, berth_err *err)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return berth_error_code(err, EINVAL, "invalid digest \"%s\"", digest ? digest : "");
	int fd = openat(s->blobsfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? berth_error_code(err, ENOENT, "blob %s is not in the store", digest)
				       : berth_error_errno(err, "open blob %s", digest);
	if (size) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			int r = berth_error_errno(err, "stat blob %s", digest);
			close(fd);
			return r;
		}
		*size = st.st_size;
	}
	return fd;
}

int image_store_read_blob(struct image_store *s, const char *digest, size_t max, char **data,
			  size_t *len, berth_err *err)
{
	int64_t size;
	_cleanup_close_ int fd = image_store_open_blob(s, digest, &size, err);
	if (fd < 0)
		return fd;
	if ((uint64_t)size > max)
		return berth_error_code(err, EFBIG, "blob %s: %" PRId64 " bytes, more than the %zu allowed",
					digest, size, max);
	if (fd_read_all(fd, data, len) < 0)
		return berth_error_errno(err, "read blob %s", digest);
	return 0;
}

/* ---- layers --------------------------------------------------------------- */

static bool layer_row_exists(struct image_store *s, const char *chain_id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM layers WHERE chain_id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

bool image_store_layer_present(struct image_store *s, const char *chain_id)
{
	const char *hex = digest_hex(chain_id);
	return hex && layer_row_exists(s, chain_id) &&
	       faccessat(s->layersfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A half-made directory in tmp/, flocked while it is being filled. */
struct tmp_dir {
	struct image_store *s;
	char *name;
	int fd; /* the dir itself, holding the lock */
};

static void tmp_dir_release(struct tmp_dir *t)
{
	if (t->name) {
		berth_err ignored = BERTH_ERR_INIT;
		rm_rf_at(t->s->tmpfd, t->name, &ignored);
		berth_err_clear(&ignored);
		free(t->name);
		t->name = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static int tmp_dir_make(struct image_store *s, const char *prefix, struct tmp_dir *t,
			berth_err *err)
{
	t->s = s;
	t->fd = -1;
	t->name = temp_name(prefix);
	if (mkdirat(s->tmpfd, t->name, 0700) < 0) {
		int r = berth_error_errno(err, "create %s/tmp/%s", s->root, t->name);
		free(t->name);
		t->name = NULL;
		return r;
	}
	t->fd = openat(s->tmpfd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0 || flock(t->fd, LOCK_EX | LOCK_NB) < 0) {
		int r = berth_error_errno(err, "open %s/tmp/%s", s->root, t->name);
		tmp_dir_release(t);
		return r;
	}
	return 0;
}

static int record_layer(struct image_store *s, struct tmp_dir *tp, const char *chain_id,
			const char *hex, const char *got, const char *parent_chain_id,
			uint64_t tar_size, const char *blob_digest, berth_err *err);

int image_store_layer_lock(struct image_store *s, const char *chain_id, berth_err *err)
{
	int r = ingest_begin(s, err);
	if (r < 0)
		return r;
	return lock_object(s, "layer", chain_id, err);
}

int image_store_layer_unpack(struct image_store *s, const char *chain_id,
			     const char *parent_chain_id, const char *diff_id, int fd,
			     const char *blob_digest, berth_err *err)
{
	_cleanup_close_ int lock = image_store_layer_lock(s, chain_id, err);
	if (lock < 0)
		return lock;
	return image_store_layer_unpack_locked(s, chain_id, parent_chain_id, diff_id, fd, blob_digest,
					       err);
}

int image_store_layer_unpack_locked(struct image_store *s, const char *chain_id,
				    const char *parent_chain_id, const char *diff_id, int fd,
				    const char *blob_digest, berth_err *err)
{
	const char *hex = digest_hex(chain_id);
	if (!hex)
		return berth_error_code(err, EINVAL, "invalid layer chain id \"%s\"", chain_id);
	if (image_store_layer_present(s, chain_id))
		return 0;
	int r;
	__attribute__((cleanup(tmp_dir_release))) struct tmp_dir t = { .fd = -1 };
	r = tmp_dir_make(s, "layer-", &t, err);
	if (r < 0)
		return r;
	if (mkdirat(t.fd, "diff", 0755) < 0)
		return berth_error_errno(err, "create layer directory");
	_cleanup_close_ int diff = openat(t.fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (diff < 0)
		return berth_error_errno(err, "open layer directory");
	char got[IMAGE_DIGEST_BUF];
	struct layer_unpack_stats stats = { 0 };
	r = layer_unpack(fd, diff, got, &stats, err);
	if (r < 0)
		return berth_error_wrap(err, "layer %s", blob_digest ? blob_digest : diff_id);
	if (diff_id && strcmp(diff_id, got) != 0)
		return berth_error_code(err, EBADMSG,
					"layer %s: its content has DiffID %s, the image config says %s",
					blob_digest ? blob_digest : chain_id, got, diff_id);

	/* Record and rename in one transaction: a dir in layers/ without its row
	 * is an orphan that the next writer removes. */
	pthread_mutex_lock(&s->mu);
	r = record_layer(s, &t, chain_id, hex, got, parent_chain_id, stats.tar_size, blob_digest, err);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int record_layer(struct image_store *s, struct tmp_dir *tp, const char *chain_id,
			const char *hex, const char *got, const char *parent_chain_id,
			uint64_t tar_size, const char *blob_digest, berth_err *err)
{
	struct tmp_dir t = *tp;
	int r;
	if ((r = db_begin(s->db, err)) < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if ((r = db_prepare(s->db,
			    "INSERT OR REPLACE INTO layers(chain_id, diff_id, parent, size, blob) "
			    "VALUES(?, ?, ?, ?, ?)",
			    &st, err)) < 0) {
		db_rollback(s->db);
		return r;
	}
	sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, got, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, parent_chain_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)tar_size);
	sqlite3_bind_text(st, 5, blob_digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = db_fail(s->db, err, "record layer");
		db_rollback(s->db);
		return r;
	}
	if (renameat(s->tmpfd, t.name, s->layersfd, hex) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			r = berth_error_errno(err, "store layer %s", chain_id);
			db_rollback(s->db);
			return r;
		}
		/* An orphan of a killed writer: remove it and take its place. */
		if ((r = rm_rf_at(s->layersfd, hex, err)) < 0 ||
		    renameat(s->tmpfd, t.name, s->layersfd, hex) < 0) {
			if (r == 0)
				r = berth_error_errno(err, "store layer %s", chain_id);
			db_rollback(s->db);
			return r;
		}
	}
	free(tp->name);
	tp->name = NULL; /* renamed: nothing left in tmp/ */
	return db_commit(s->db, err);
}

char **image_store_layer_dirs(struct image_store *s, const char *image_id, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s->db, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC",
		       &st, err) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *hex = digest_hex((const char *)sqlite3_column_text(st, 0));
		if (!hex)
			continue;
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = xasprintf("%s/layers/%s/diff", s->root, hex);
		v[n] = NULL;
	}
	return v;
}

/* ---- images --------------------------------------------------------------- */

static int bind_exec(struct image_store *s, const char *sql, const char *a, const char *b,
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
	int r = db_prepare(s->db,
			   "INSERT OR REPLACE INTO images(id, manifest_digest, manifest_media_type, "
			   "index_digest, created, os, architecture, variant, size, added) "
			   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
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
	/* INSERT OR REPLACE deleted the old row's dependents through the cascade. */
	for (size_t i = 0; i < m->n_layers; i++) {
		_cleanup_stmt_ sqlite3_stmt *li = NULL;
		if ((r = db_prepare(s->db,
				    "INSERT INTO image_layers(image_id, idx, chain_id) VALUES(?, ?, ?)",
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
		if (blobs[i] && (r = bind_exec(s, "INSERT OR IGNORE INTO image_blobs VALUES(?, ?)", id,
					       blobs[i], err)) < 0)
			return r;
	for (size_t i = 0; i < m->n_layers; i++)
		if (image_store_has_blob(s, m->layers[i].digest) &&
		    (r = bind_exec(s, "INSERT OR IGNORE INTO image_blobs VALUES(?, ?)", id,
				   m->layers[i].digest, err)) < 0)
			return r;
	for (size_t i = 0; a->tags && a->tags[i]; i++)
		if ((r = bind_exec(s, "INSERT OR REPLACE INTO tags(ref, image_id) VALUES(?, ?)",
				   a->tags[i], id, err)) < 0)
			return r;
	if (a->repo) {
		_cleanup_free_ char *rd = xasprintf("%s@%s", a->repo,
						    a->index_digest ? a->index_digest : a->manifest_digest);
		if ((r = bind_exec(s, "INSERT OR REPLACE INTO repo_digests(ref, image_id) VALUES(?, ?)",
				   rd, id, err)) < 0)
			return r;
	}
	return 0;
}

static int64_t layer_size(struct image_store *s, const char *chain_id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT size FROM layers WHERE chain_id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
}

static void manifest_freep(struct image_manifest *m)
{
	manifest_free(m);
}

static void config_freep(struct image_config *c)
{
	config_free(c);
}

int image_store_add_image(struct image_store *s, const struct image_add *a, char **image_id,
			  berth_err *err)
{
	_cleanup_free_ char *mbody = NULL, *cbody = NULL;
	size_t mlen, clen;
	int r = image_store_read_blob(s, a->manifest_digest, MANIFEST_MAX_SIZE, &mbody, &mlen, err);
	if (r < 0)
		return r;
	__attribute__((cleanup(manifest_freep))) struct image_manifest m = { 0 };
	if ((r = manifest_parse(mbody, mlen, &m, err)) < 0)
		return berth_error_wrap(err, "manifest %s", a->manifest_digest);
	if ((r = image_store_read_blob(s, m.config.digest, MANIFEST_MAX_SIZE, &cbody, &clen, err)) < 0)
		return r;
	__attribute__((cleanup(config_freep))) struct image_config c = { 0 };
	if ((r = config_parse(cbody, clen, &c, err)) < 0)
		return berth_error_wrap(err, "image config %s", m.config.digest);
	if (c.n_diff_ids != m.n_layers)
		return berth_error_code(err, EBADMSG,
					"manifest %s lists %zu layers, its config %s has %zu diff_ids",
					a->manifest_digest, m.n_layers, m.config.digest, c.n_diff_ids);
	_cleanup_strv_ char **chains = layer_chain_ids(c.diff_ids, c.n_diff_ids);
	if ((r = ingest_begin(s, err)) < 0)
		return r;

	/* A concurrent removal may take a layer away between the unpack and the
	 * transaction: the transaction checks, and the unpack is done again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		int64_t size = 0;
		for (size_t i = 0; i < m.n_layers; i++) {
			if (!image_store_layer_present(s, chains[i])) {
				_cleanup_close_ int fd = image_store_open_blob(s, m.layers[i].digest, NULL, err);
				if (fd < 0)
					return berth_error_wrap(err, "image %s", m.config.digest);
				r = image_store_layer_unpack(s, chains[i], i ? chains[i - 1] : NULL,
							     c.diff_ids[i], fd, m.layers[i].digest, err);
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
static char *query_text(struct image_store *s, const char *sql, const char *arg)
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
		char *id = query_text(s, "SELECT id FROM images WHERE id = ?", full);
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
			id = query_text(s, "SELECT image_id FROM repo_digests WHERE ref = ?", rd);
			if (!id)
				id = query_text(s, "SELECT id FROM images WHERE manifest_digest = ?1 "
						   "OR index_digest = ?1",
						ref.digest);
		} else {
			_cleanup_free_ char *canon = image_ref_string(&ref);
			id = query_text(s, "SELECT image_id FROM tags WHERE ref = ?", canon);
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
		int r = db_prepare(s->db, "SELECT id FROM images WHERE substr(id, 8, ?) = ? LIMIT 2",
				   &st, err);
		if (r < 0)
			return r;
		sqlite3_bind_int(st, 1, (int)strlen(prefix));
		sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			char *id = db_text(st, 0);
			if (sqlite3_step(st) == SQLITE_ROW) {
				free(id);
				return berth_error_code(err, EEXIST,
							"short identifier %s is ambiguous: more than one image matches",
							name);
			}
			*image_id = id;
			return 0;
		}
	}
	return berth_error_code(err, ENOENT, "No such image: %s", name);
}

static char **query_strv(struct image_store *s, const char *sql, const char *arg)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return v;
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
	out->tags = query_strv(s, "SELECT ref FROM tags WHERE image_id = ? ORDER BY ref", out->id);
	out->repo_digests =
		query_strv(s, "SELECT ref FROM repo_digests WHERE image_id = ? ORDER BY ref", out->id);
	out->chain_ids = query_strv(s, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx",
				    out->id);
	{
		_cleanup_stmt_ sqlite3_stmt *ls = NULL;
		size_t n = 0;
		while (out->chain_ids[n])
			n++;
		out->layer_sizes = xcalloc(n + 1, sizeof(int64_t));
		if (sqlite3_prepare_v2(s->db,
				       "SELECT l.size FROM image_layers il JOIN layers l USING(chain_id) "
				       "WHERE il.image_id = ? ORDER BY il.idx",
				       -1, &ls, NULL) == SQLITE_OK) {
			sqlite3_bind_text(ls, 1, out->id, -1, SQLITE_STATIC);
			for (size_t i = 0; i < n && sqlite3_step(ls) == SQLITE_ROW; i++)
				out->layer_sizes[i] = sqlite3_column_int64(ls, 0);
		}
	}
	out->diff_ids = query_strv(s,
				   "SELECT l.diff_id FROM image_layers il JOIN layers l USING(chain_id) "
				   "WHERE il.image_id = ? ORDER BY il.idx",
				   out->id);
}

#define INFO_COLUMNS "id, manifest_digest, manifest_media_type, created, os, architecture, variant, size"

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
	int r = db_prepare(s->db,
			   "SELECT " INFO_COLUMNS " FROM images ORDER BY created DESC, added DESC, id",
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
	int r = bind_exec(s, "INSERT OR REPLACE INTO tags(ref, image_id) VALUES(?, ?)", canonical_ref,
			  image_id, err);
	return r < 0 ? berth_error_wrap(err, "tag %s", canonical_ref) : 0;
}

int image_store_untag(struct image_store *s, const char *canonical_ref, berth_err *err)
{
	int r = db_begin(s->db, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *id = query_text(s, "SELECT image_id FROM tags WHERE ref = ?", canonical_ref);
	if (!id) {
		db_rollback(s->db);
		return berth_error_code(err, ENOENT, "No such image: %s", canonical_ref);
	}
	if ((r = bind_exec(s, "DELETE FROM tags WHERE ref = ?", canonical_ref, NULL, err)) < 0) {
		db_rollback(s->db);
		return r;
	}
	_cleanup_free_ char *left = query_text(s, "SELECT ref FROM tags WHERE image_id = ? LIMIT 1", id);
	if ((r = db_commit(s->db, err)) < 0)
		return r;
	return left ? 0 : 1;
}

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
	int r = db_exec(s->db,
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
	if ((r = db_prepare(s->db, "SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1", &st, err)) < 0)
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
		_cleanup_close_ int lock = lock_object(s, "layer", layers[i], &e);
		/* Re-added meanwhile by a pull? Then it stays. */
		if (lock >= 0 && !layer_row_exists(s, layers[i])) {
			_cleanup_free_ char *gone = temp_name("gone-");
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
	_cleanup_close_ int gc = gc_try_lock(s);
	int r = db_begin(s->db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; ids[i]; i++) {
		if ((r = bind_exec(s, "DELETE FROM images WHERE id = ?", ids[i], NULL, err)) < 0) {
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

int image_store_prune(struct image_store *s, bool all, char ***removed, uint64_t *reclaimed,
		      berth_err *err)
{
	_cleanup_strv_ char **ids = query_strv(
		s,
		all ? "SELECT id FROM images WHERE ? IS NULL"
		    : "SELECT id FROM images WHERE ? IS NULL AND id NOT IN (SELECT image_id FROM tags)",
		NULL);
	*reclaimed = 0;
	int r = remove_images(s, ids, reclaimed, err);
	if (r < 0)
		return r;
	*removed = TAKE_PTR(ids);
	return 0;
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

static DIR *open_dir_of(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

int image_store_check(struct image_store *s, bool fix, struct store_check_report *rep,
		      berth_err *err)
{
	memset(rep, 0, sizeof(*rep));
	rep->lines = xcalloc(1, sizeof(char *));
	_cleanup_close_ int gc = fix ? gc_try_lock(s) : -1;
	if (fix && gc < 0)
		return berth_error_code(err, EBUSY, "check --fix: another berth process is adding "
						    "content to the store; try again when it is done");
	/* Images: their blobs and layers. */
	{
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(s->db,
				   "SELECT i.id, b.digest FROM images i JOIN image_blobs b ON b.image_id = i.id "
				   "UNION ALL SELECT il.image_id, 'layer:' || il.chain_id FROM image_layers il "
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
				report(rep, "layer %s: recorded, but its directory is missing", chain);
		}
	}
	_cleanup_dir_ DIR *ld = open_dir_of(s->layersfd);
	if (!ld)
		return berth_error_errno(err, "open %s/layers", s->root);
	struct dirent *de;
	while ((de = readdir(ld))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *chain = xasprintf("sha256:%s", de->d_name);
		if (digest_hex(chain) && layer_row_exists(s, chain))
			continue;
		report(rep, "layers/%s: a directory no layer record names%s", de->d_name,
		       fix ? " (removed)" : "");
		if (fix)
			rm_rf_at(s->layersfd, de->d_name, err);
	}
	/* Blobs: intact, and used. */
	_cleanup_dir_ DIR *bd = open_dir_of(s->blobsfd);
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
		_cleanup_free_ char *user =
			query_text(s, "SELECT image_id FROM image_blobs WHERE digest = ? LIMIT 1", dg);
		if (!user) {
			report(rep, "blob %s: no image uses it%s", dg, fix ? " (removed)" : "");
			if (fix)
				unlinkat(s->blobsfd, de->d_name, 0);
		}
	}
	/* tmp/: what killed writers left (entries nobody holds locked). */
	_cleanup_dir_ DIR *td = open_dir_of(s->tmpfd);
	if (!td)
		return berth_error_errno(err, "open %s/tmp", s->root);
	while ((de = readdir(td))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_close_ int e = openat(s->tmpfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (e < 0 || flock(e, LOCK_EX | LOCK_NB) < 0)
			continue;
		report(rep, "tmp/%s: left by an interrupted writer%s", de->d_name,
		       fix ? " (removed)" : "");
		if (fix)
			rm_rf_at(s->tmpfd, de->d_name, err);
	}
	berth_err_clear(err);
	return 0;
}
