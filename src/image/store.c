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
#include <time.h>
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
#include "image/store_internal.h"
#include "image/unpack.h"

/* The image store's tables; each string moves the schema one version on. */
static const char *const schema_steps[] = {
	"CREATE TABLE images("
	"  id TEXT PRIMARY KEY," /* config digest */
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
char *store_temp_name(const char *prefix)
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
/* Made under a hidden name, locked, then renamed visible: the sweep of
 * another process never sees an entry of tmp/ before its lock is held. */
int store_tmp_create(struct image_store *s, const char *name, bool dir, berth_err *err)
{
	_cleanup_free_ char *hidden = xasprintf(".%s", name);
	int fd;
	if (dir) {
		if (mkdirat(s->tmpfd, hidden, 0700) < 0)
			return berth_error_errno(err, "create %s/tmp/%s", s->root, name);
		fd = openat(s->tmpfd, hidden, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = openat(s->tmpfd, hidden, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    renameat(s->tmpfd, hidden, s->tmpfd, name) < 0) {
		int r = berth_error_errno(err, "create %s/tmp/%s", s->root, name);
		if (fd >= 0)
			close(fd);
		berth_err ignored = BERTH_ERR_INIT;
		rm_rf_at(s->tmpfd, hidden, &ignored);
		berth_err_clear(&ignored);
		return r;
	}
	return fd;
}

size_t store_sweep_tmp(struct image_store *s, bool remove, void (*seen)(const char *, void *),
		       void *opaque)
{
	_cleanup_dir_ DIR *d = store_open_dir_of(s->tmpfd);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* In use while its writer holds the lock. */
		_cleanup_close_ int e =
			openat(s->tmpfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (e < 0 || flock(e, LOCK_EX | LOCK_NB) < 0)
			continue;
		/* A hidden name is an entry being made (store_tmp_create()): its
		 * writer locks it before it renames it visible. Only one that a
		 * killed writer left there long ago goes. */
		struct stat st;
		if (de->d_name[0] == '.' &&
		    (fstat(e, &st) < 0 || time(NULL) - st.st_mtime < TMP_HIDDEN_GRACE_S))
			continue;
		n++;
		if (seen)
			seen(de->d_name, opaque);
		if (remove) {
			berth_err ignored = BERTH_ERR_INIT;
			rm_rf_at(s->tmpfd, de->d_name, &ignored);
			berth_err_clear(&ignored);
		}
	}
	return n;
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
	store_sweep_tmp(s, true, NULL, NULL);
	*out = TAKE_PTR(s);
	return 0;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	if (s->db)
		db_close(s->db);
	int *fds[] = {
		&s->rootfd, &s->blobsfd, &s->layersfd, &s->tmpfd, &s->locksfd, &s->ingestfd
	};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	pthread_mutex_destroy(&s->mu);
	free(s->root);
	free(s);
}

struct sqlite3 *image_store_db(struct image_store *s)
{
	return s->db;
}

/* ---- locks ---------------------------------------------------------------- */

/* flock locks/<kind>-<hex>, blocking. Returns the fd holding the lock. */
int store_lock_object(struct image_store *s, const char *kind, const char *digest, berth_err *err)
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
int store_ingest_begin(struct image_store *s, berth_err *err)
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
int store_gc_try_lock(struct image_store *s)
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
	int r = store_ingest_begin(s, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *name = store_temp_name("blob-");
	int fd = store_tmp_create(s, name, false, err);
	if (fd < 0)
		return fd;
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
		r = berth_error_code(err, EBADMSG, "blob %s: content has digest %s", expect_digest,
				     got);
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
		return errno == ENOENT ? berth_error_code(err, ENOENT,
							  "blob %s is not in the store", digest)
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
		return berth_error_code(err, EFBIG,
					"blob %s: %" PRId64 " bytes, more than the %zu allowed",
					digest, size, max);
	if (fd_read_all(fd, data, len) < 0)
		return berth_error_errno(err, "read blob %s", digest);
	return 0;
}

/* ---- layers --------------------------------------------------------------- */

bool store_layer_row_exists(struct image_store *s, const char *chain_id)
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
	return hex && store_layer_row_exists(s, chain_id) &&
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
	t->name = store_temp_name(prefix);
	t->fd = store_tmp_create(s, t->name, true, err);
	if (t->fd < 0) {
		int r = t->fd;
		free(t->name);
		t->name = NULL;
		return r;
	}
	return 0;
}

static int record_layer(struct image_store *s, struct tmp_dir *tp, const char *chain_id,
			const char *hex, const char *got, const char *parent_chain_id,
			uint64_t tar_size, const char *blob_digest, berth_err *err);

int image_store_layer_lock(struct image_store *s, const char *chain_id, berth_err *err)
{
	int r = store_ingest_begin(s, err);
	if (r < 0)
		return r;
	return store_lock_object(s, "layer", chain_id, err);
}

int image_store_layer_unpack(struct image_store *s, const char *chain_id,
			     const char *parent_chain_id, const char *diff_id, int fd,
			     const char *blob_digest, berth_err *err)
{
	_cleanup_close_ int lock = image_store_layer_lock(s, chain_id, err);
	if (lock < 0)
		return lock;
	return image_store_layer_unpack_locked(s, chain_id, parent_chain_id, diff_id, fd,
					       blob_digest, err);
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
	_cleanup_close_ int diff =
		openat(t.fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (diff < 0)
		return berth_error_errno(err, "open layer directory");
	char got[IMAGE_DIGEST_BUF];
	struct layer_unpack_stats stats = { 0 };
	r = layer_unpack(fd, diff, got, &stats, err);
	if (r < 0)
		return berth_error_wrap(err, "layer %s", blob_digest ? blob_digest : diff_id);
	if (diff_id && strcmp(diff_id, got) != 0)
		return berth_error_code(
			err, EBADMSG,
			"layer %s: its content has DiffID %s, the image config says %s",
			blob_digest ? blob_digest : chain_id, got, diff_id);

	/* Record and rename in one transaction: a dir in layers/ without its row
	 * is an orphan that the next writer removes. */
	pthread_mutex_lock(&s->mu);
	r = record_layer(s, &t, chain_id, hex, got, parent_chain_id, stats.tar_size, blob_digest,
			 err);
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
	if (db_prepare(s->db,
		       "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC",
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
