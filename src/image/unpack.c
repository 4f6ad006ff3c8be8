/* unpack.c - layer tarballs to overlayfs directories, and back.
 *
 * Unpacking is a two-stage pipeline. A producer thread reads the compressed
 * stream, inflates it (ISA-L for gzip, libzstd for zstd, nothing for a plain
 * tar) into a small ring of large buffers and hashes each buffer for the
 * DiffID. The calling thread hands those buffers to libarchive's tar reader
 * through a read callback (no libarchive filters: they would copy and
 * decompress again at zlib's speed) and writes the entries. Decompression and
 * file creation then overlap, as in `igzip -d | tar -x`.
 *
 * Safety: a name is split into components and refused when one is ".."; the
 * parent directory is opened with openat2(RESOLVE_NO_SYMLINKS), so no symlink
 * the tar made is ever followed; the final component is created with *at()
 * calls on that parent, an existing non-directory in its place is removed
 * first (a symlink there is replaced, never followed).
 */
#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zstd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/lazy_archive.h"

#define IN_BUF_SIZE          (512u * 1024)
#define OUT_BUF_SIZE         (1024u * 1024)
#define RING_SLOTS           4
#define WH_PREFIX            ".wh."
#define WH_META_PREFIX       ".wh..wh."
#define WH_OPAQUE            ".wh..wh..opq"
#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OVERLAY_OPAQUE       "trusted.overlay.opaque"
#define OVERLAY_REDIRECT     "trusted.overlay.redirect"
#define OVERLAY_METACOPY     "trusted.overlay.metacopy"

/* --- hashing ------------------------------------------------------------------ */

static void digest_finish(EVP_MD_CTX *md, char out[IMAGE_DIGEST_BUF])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(md, raw, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
}

static EVP_MD_CTX *digest_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "berth: out of memory (sha256 context)\n");
		abort();
	}
	return md;
}

/* --- the decompressing source --------------------------------------------------- */

enum layer_compression { COMP_NONE, COMP_GZIP, COMP_ZSTD };

struct source {
	int fd;
	int cancel_fd; /* eventfd: the consumer gave up; -1 for regular files */
	bool stream;   /* a pipe or socket: data arrives when it will */
	enum layer_compression comp;
	uint8_t *in;
	size_t in_len; /* bytes in `in` (plain: of which in_pos are handed out) */
	size_t in_pos;
	bool in_eof;
	bool done;
	struct inflate_state *inf;
	bool member_done;
	ZSTD_DCtx *zd;
	size_t zret; /* last ZSTD_decompressStream result: 0 at a frame end */
	bool zflushed;
	uint64_t in_total; /* compressed bytes read */
	berth_err err;
};

/* One read(2) into in[in_len..cap). Returns bytes read, 0 at EOF, or -errno. */
static ssize_t source_read(struct source *s, uint8_t *buf, size_t cap)
{
	for (;;) {
		if (s->cancel_fd >= 0) {
			struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
					       { .fd = s->cancel_fd, .events = POLLIN } };
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				return berth_error_errno(&s->err, "reading layer: poll");
			}
			if (p[1].revents)
				return berth_error(&s->err, ECANCELED, "reading layer");
		}
		ssize_t n = read(s->fd, buf, cap);
		if (n >= 0) {
			s->in_total += (uint64_t)n;
			return n;
		}
		if (errno != EINTR)
			return berth_error_errno(&s->err, "reading layer");
	}
}

/* Whether a read would not block. From a pipe, what is decompressed goes on
 * at once when more has not arrived yet, so that an error in the first entry
 * of a layer still being downloaded is reported at once, not at its end. */
static bool source_ready(struct source *s)
{
	if (!s->stream)
		return true;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

/* Refill the (empty) input buffer. Sets in_eof at the end. */
static int source_refill(struct source *s)
{
	ssize_t n = source_read(s, s->in, IN_BUF_SIZE);
	if (n < 0)
		return (int)n;
	s->in_len = (size_t)n;
	s->in_pos = 0;
	if (n == 0)
		s->in_eof = true;
	return 0;
}

static int source_detect(struct source *s)
{
	while (s->in_len < 4 && !s->in_eof) {
		ssize_t n = source_read(s, s->in + s->in_len, IN_BUF_SIZE - s->in_len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			s->in_eof = true;
		s->in_len += (size_t)n;
	}
	const uint8_t *m = s->in;
	if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		s->comp = COMP_GZIP;
		s->inf = xmalloc(sizeof(*s->inf));
		isal_inflate_init(s->inf);
		s->inf->crc_flag = ISAL_GZIP;
		s->inf->next_in = s->in;
		s->inf->avail_in = (uint32_t)s->in_len;
	} else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		s->comp = COMP_ZSTD;
		s->zd = ZSTD_createDCtx();
		if (!s->zd)
			return berth_error(&s->err, ENOMEM, "reading layer: zstd context");
		s->zflushed = true;
	} else {
		s->comp = COMP_NONE;
	}
	return 0;
}

static ssize_t fill_plain(struct source *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (s->in_pos < s->in_len) {
		n = s->in_len - s->in_pos;
		if (n > cap)
			n = cap;
		memcpy(out, s->in + s->in_pos, n);
		s->in_pos += n;
	}
	while (n < cap && !s->in_eof && !(n > 0 && !source_ready(s))) {
		ssize_t r = source_read(s, out + n, cap - n);
		if (r < 0)
			return r;
		if (r == 0)
			s->in_eof = true;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* gzip with ISA-L; several members in a row are one stream (as gzip -d reads them). */
static ssize_t fill_gzip(struct source *s, uint8_t *out, size_t cap)
{
	struct inflate_state *inf = s->inf;
	size_t n = 0;
	while (n < cap && !s->done) {
		if (s->member_done) {
			if (inf->avail_in == 0) {
				if (n > 0 && !source_ready(s))
					break;
				int r = source_refill(s);
				if (r < 0)
					return r;
				if (s->in_eof) {
					s->done = true;
					break;
				}
				inf->next_in = s->in;
				inf->avail_in = (uint32_t)s->in_len;
			}
			uint8_t *next = inf->next_in;
			uint32_t avail = inf->avail_in;
			isal_inflate_reset(inf);
			inf->crc_flag = ISAL_GZIP;
			inf->next_in = next;
			inf->avail_in = avail;
			s->member_done = false;
		}
		if (inf->avail_in == 0 && !s->in_eof) {
			if (n > 0 && !source_ready(s))
				break;
			int r = source_refill(s);
			if (r < 0)
				return r;
			inf->next_in = s->in;
			inf->avail_in = (uint32_t)s->in_len;
		}
		inf->next_out = out + n;
		inf->avail_out = (uint32_t)(cap - n);
		int r = isal_inflate(inf);
		if (r != ISAL_DECOMP_OK)
			return berth_error_code(&s->err, EINVAL,
						"reading layer: corrupt gzip data (igzip error %d) "
						"near compressed offset %llu",
						r, (unsigned long long)s->in_total);
		n = (size_t)(inf->next_out - out);
		if (inf->block_state == ISAL_BLOCK_FINISH)
			s->member_done = true;
		else if (inf->avail_in == 0 && s->in_eof && inf->avail_out > 0)
			return berth_error_code(&s->err, EINVAL,
						"reading layer: truncated gzip stream");
	}
	return (ssize_t)n;
}

static ssize_t fill_zstd(struct source *s, uint8_t *out, size_t cap)
{
	ZSTD_outBuffer o = { out, cap, 0 };
	while (o.pos < cap && !s->done) {
		if (s->in_pos == s->in_len && !s->in_eof) {
			if (o.pos > 0 && !source_ready(s))
				break;
			int r = source_refill(s);
			if (r < 0)
				return r;
			continue;
		}
		if (s->in_pos == s->in_len && s->in_eof && s->zflushed) {
			if (s->zret != 0)
				return berth_error_code(&s->err, EINVAL,
							"reading layer: truncated zstd stream");
			s->done = true;
			break;
		}
		ZSTD_inBuffer in = { s->in, s->in_len, s->in_pos };
		size_t r = ZSTD_decompressStream(s->zd, &o, &in);
		if (ZSTD_isError(r))
			return berth_error_code(&s->err, EINVAL,
						"reading layer: corrupt zstd data: %s",
						ZSTD_getErrorName(r));
		s->in_pos = in.pos;
		s->zret = r;
		s->zflushed = o.pos < o.size;
	}
	return (ssize_t)o.pos;
}

/* Fill out with uncompressed tar bytes; 0 at the end, -errno with s->err set. */
static ssize_t source_fill(struct source *s, uint8_t *out, size_t cap)
{
	ssize_t n;
	switch (s->comp) {
	case COMP_GZIP: n = fill_gzip(s, out, cap); break;
	case COMP_ZSTD: n = fill_zstd(s, out, cap); break;
	default: n = fill_plain(s, out, cap); break;
	}
	return n;
}

static void source_free(struct source *s)
{
	free(s->in);
	free(s->inf);
	ZSTD_freeDCtx(s->zd);
	if (s->cancel_fd >= 0)
		close(s->cancel_fd);
	berth_err_clear(&s->err);
}

/* --- the producer thread and its ring of buffers --------------------------------- *
 *
 * Hashing the tar costs a third of inflating it. Whichever thread would
 * otherwise wait does it: the producer while the ring is full (a layer of
 * many small files keeps the consumer busy), the consumer when a block it
 * takes is not hashed yet (a layer of big files keeps the producer busy).
 * Blocks are hashed in ring order, one at a time, by exactly one thread.
 */

struct ring {
	struct source src;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf[RING_SLOTS];
	ssize_t len[RING_SLOTS];
	bool full[RING_SLOTS];
	bool hashed[RING_SLOTS];
	unsigned head;      /* next slot the consumer takes */
	int cur;            /* slot libarchive holds, -1 none */
	unsigned hash_next; /* next slot to hash */
	bool hash_busy;     /* a thread is hashing slot hash_next */
	EVP_MD_CTX *md;
	uint64_t total; /* bytes hashed */
	bool eof;       /* the consumer has seen the end */
	bool stop;
	int error;      /* first error, negative errno */
	berth_err *err; /* where the consumer reports */
};

/* With r->mu held and slot hash_next full and unhashed: hash it, unlocked. */
static void ring_hash_locked(struct ring *r)
{
	unsigned slot = r->hash_next;
	r->hash_busy = true;
	pthread_mutex_unlock(&r->mu);
	EVP_DigestUpdate(r->md, r->buf[slot], (size_t)r->len[slot]);
	r->total += (uint64_t)r->len[slot];
	pthread_mutex_lock(&r->mu);
	r->hashed[slot] = true;
	r->hash_next = (slot + 1) % RING_SLOTS;
	r->hash_busy = false;
	pthread_cond_broadcast(&r->cv);
}

static bool ring_can_hash(const struct ring *r)
{
	unsigned h = r->hash_next;
	return !r->hash_busy && r->full[h] && !r->hashed[h] && r->len[h] > 0;
}

static void *ring_producer(void *arg)
{
	struct ring *r = arg;
	unsigned tail = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->full[tail] && !r->stop) {
			if (ring_can_hash(r))
				ring_hash_locked(r);
			else
				pthread_cond_wait(&r->cv, &r->mu);
		}
		bool stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		ssize_t n = source_fill(&r->src, r->buf[tail], OUT_BUF_SIZE);
		pthread_mutex_lock(&r->mu);
		r->len[tail] = n;
		r->hashed[tail] = false;
		r->full[tail] = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (n <= 0)
			break;
		tail = (tail + 1) % RING_SLOTS;
	}
	return NULL;
}

/* The next block of uncompressed tar, hashed: its length, 0 at the end, -errno
 * on error. The block stays valid until the next call. */
static ssize_t ring_next(struct ring *r, const void **buf)
{
	pthread_mutex_lock(&r->mu);
	if (r->cur >= 0) {
		r->full[r->cur] = false;
		r->cur = -1;
		pthread_cond_broadcast(&r->cv);
	}
	while (!r->full[r->head])
		pthread_cond_wait(&r->cv, &r->mu);
	ssize_t n = r->len[r->head];
	if (n == 0)
		r->eof = true;
	if (n > 0) {
		/* Every older block was hashed before it was handed out, so
		 * this one is next in line, or the producer is at it. */
		while (!r->hashed[r->head]) {
			if (ring_can_hash(r) && r->hash_next == r->head)
				ring_hash_locked(r);
			else
				pthread_cond_wait(&r->cv, &r->mu);
		}
		*buf = r->buf[r->head];
		r->cur = (int)r->head;
		r->head = (r->head + 1) % RING_SLOTS;
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

static la_ssize_t ring_archive_read(struct archive *a, void *data, const void **buf)
{
	struct ring *r = data;
	ssize_t n = ring_next(r, buf);
	if (n < 0) {
		r->error = (int)n;
		archive_set_error(a, (int)-n, "reading layer");
		return -1;
	}
	return n;
}

/* Copy the producer's error into the caller's. */
static int ring_error(struct ring *r)
{
	berth_error_code(r->err, r->src.err.code ? r->src.err.code : EIO, "%s",
			 r->src.err.msg ? r->src.err.msg : "reading layer");
	return r->error ? r->error : -EIO;
}

static int ring_start(struct ring *r, int fd, berth_err *err)
{
	memset(r, 0, sizeof(*r));
	r->cur = -1;
	r->err = err;
	r->src.fd = fd;
	r->src.cancel_fd = -1;
	r->md = digest_new();
	r->src.in = xmalloc(IN_BUF_SIZE);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	for (int i = 0; i < RING_SLOTS; i++)
		r->buf[i] = xmalloc(OUT_BUF_SIZE);

	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return berth_error_errno(err, "reading layer: fstat");
	if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
		/* A pipe may never end if we stop reading: the consumer wakes the
		 * producer through this when it gives up. */
		r->src.stream = true;
		r->src.cancel_fd = eventfd(0, EFD_CLOEXEC);
		if (r->src.cancel_fd < 0)
			return berth_error_errno(err, "reading layer: eventfd");
	}
	int rc = source_detect(&r->src);
	if (rc < 0) {
		r->error = rc;
		return ring_error(r);
	}
	rc = pthread_create(&r->thread, NULL, ring_producer, r);
	if (rc != 0)
		return berth_error(err, rc, "reading layer: starting the decompression thread");
	r->started = true;
	return 0;
}

/* Stop the producer (if still running) and free everything. */
static void ring_stop(struct ring *r)
{
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (r->src.cancel_fd >= 0) {
			uint64_t one = 1;
			ssize_t w = write(r->src.cancel_fd, &one, sizeof(one));
			(void)w;
		}
		pthread_join(r->thread, NULL);
		r->started = false;
	}
	for (int i = 0; i < RING_SLOTS; i++)
		free(r->buf[i]);
	source_free(&r->src);
	EVP_MD_CTX_free(r->md);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/* --- names ---------------------------------------------------------------------- */

/* A tar name as a clean relative path: leading "/" and "." components
 * dropped, ".." refused. Empty result means the layer root. */
static int clean_name(const char *raw, const char *entry, struct strbuf *out, berth_err *err)
{
	bool is_link = raw != entry;
	strbuf_reset(out);
	const char *p = raw;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return berth_error_code(err, EINVAL, "layer entry \"%s\": \"..\" in %s%s%s",
						entry,
						is_link ? "its hard link target \"" : "the name",
						is_link ? raw : "", is_link ? "\"" : "");
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (out->len)
				strbuf_addch(out, '/');
			strbuf_add(out, p, len);
		}
		p = end;
	}
	return 0;
}

/* --- removing what a layer entry replaces -------------------------------------- */

static int remove_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno == ENOENT ? 0 : -errno;
	if (depth > 4096)
		return -ELOOP;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	_cleanup_dir_ DIR *dir = d;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int r = remove_at(dirfd(dir), de->d_name, depth + 1);
		if (r < 0)
			return r;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* --- unpacking entries ------------------------------------------------------------ */

struct dir_time {
	char *path; /* clean relative path, "" for the layer root */
	size_t depth;
	size_t index;
	struct timespec ts[2];
};

struct unpacker {
	int root;    /* the caller's dirfd (may be O_PATH) */
	int root_rd; /* the same directory opened for reading, for f*xattr and fchown */
	struct archive *a;
	struct ring *ring;
	const char *entry; /* the tar's name of the current entry, for messages */
	struct strbuf path;
	struct strbuf link;
	struct strbuf last; /* the name of the last entry unpacked, for messages */
	/* The parent of the last entry, kept open: tars list siblings together.
	 * Dropped after anything is removed, since that may have been it. */
	char *cache_path;
	int cache_fd;
	bool cache_stale;
	struct dir_time *dirs;
	size_t ndirs, dirs_cap;
	unsigned flags; /* LAYER_EXTRACT_* (0 for a layer) */
	berth_err *err;
};

static void unpacker_drop_cache(struct unpacker *u)
{
	if (u->cache_fd >= 0)
		close(u->cache_fd);
	u->cache_fd = -1;
	free(u->cache_path);
	u->cache_path = NULL;
	u->cache_stale = false;
}

static int entry_error(struct unpacker *u, int errnum, const char *what)
{
	return berth_error(u->err, errnum, "layer entry \"%s\": %s", u->entry, what);
}

/* The same for bad input, where strerror would add nothing. */
static int entry_invalid(struct unpacker *u, const char *what)
{
	return berth_error_code(u->err, EINVAL, "layer entry \"%s\": %s", u->entry, what);
}

/* Remove name from parent (recursively), so that the entry can take its place. */
static int replace_existing(struct unpacker *u, int parent, const char *name)
{
	u->cache_stale = true;
	int r = remove_at(parent, name, 0);
	if (r < 0)
		return entry_error(u, -r, "removing what was there before");
	return 0;
}

/* Create the missing directories of path (0755, as GNU tar does), one
 * component at a time and never through a symlink. Returns an fd of the last. */
static int make_parents(struct unpacker *u, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_close_ int cur = -1;
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int at = cur >= 0 ? cur : u->root;
		int fd;
		for (int attempt = 0;; attempt++) {
			fd = openat(at, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 || errno != ENOENT || attempt > 0)
				break;
			if (mkdirat(at, c, 0755) < 0 && errno != EEXIST)
				return entry_error(u, errno, "creating a parent directory");
		}
		if (fd < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				return berth_error_code(
					u->err, errno,
					"layer entry \"%s\": parent \"%s\" is a symlink or "
					"not a directory (refusing to go through it)",
					u->entry, c);
			return entry_error(u, errno, "opening a parent directory");
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
	}
	return TAKE_FD(cur);
}

/* The directory that holds path's last component, opened O_RDONLY; borrowed. */
static int open_parent(struct unpacker *u, const char *parent)
{
	if (!*parent)
		return u->root_rd;
	if (u->cache_stale)
		unpacker_drop_cache(u);
	if (u->cache_path && !strcmp(u->cache_path, parent))
		return u->cache_fd;
	int fd =
		path_open_no_symlinks(u->root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, NULL);
	if (fd == -ENOENT)
		fd = make_parents(u, parent);
	else if (fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV)
		return berth_error_code(
			u->err, -fd,
			"layer entry \"%s\": a parent is a symlink or not a directory "
			"(refusing to go through it)",
			u->entry);
	else if (fd < 0)
		return entry_error(u, -fd, "opening its parent directory");
	if (fd < 0)
		return fd;
	unpacker_drop_cache(u);
	u->cache_fd = fd;
	u->cache_path = xstrdup(parent);
	return fd;
}

/* Split u->path into a parent (NUL-terminated in place) and a last component. */
static const char *split_last(struct strbuf *path, const char **parent)
{
	char *slash = strrchr(path->buf, '/');
	if (!slash) {
		*parent = "";
		return path->buf;
	}
	*slash = '\0';
	*parent = path->buf;
	return slash + 1;
}

static int entry_owner(struct unpacker *u, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
	la_int64_t id_u = archive_entry_uid(e), id_g = archive_entry_gid(e);
	if (id_u < 0 || id_u >= (la_int64_t)UINT32_MAX || id_g < 0 ||
	    id_g >= (la_int64_t)UINT32_MAX)
		return berth_error_code(u->err, ERANGE,
					"layer entry \"%s\": uid %lld or gid %lld out of range",
					u->entry, (long long)id_u, (long long)id_g);
	*uid = (uid_t)id_u;
	*gid = (gid_t)id_g;
	if (u->flags & LAYER_EXTRACT_OWN) {
		*uid = geteuid();
		*gid = getegid();
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

/* Set the tar's xattrs on fd, or (fd < 0) on name in parent without following it. */
static int apply_xattrs(struct unpacker *u, struct archive_entry *e, int fd, int parent,
			const char *name)
{
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	_cleanup_free_ char *proc = fd < 0 ? xasprintf("/proc/self/fd/%d/%s", parent, name) : NULL;
	const char *xname;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
		/* Overlay's own xattrs (opaque, redirect, metacopy) steer lookups
		 * into other layers; a layer states them only through whiteout
		 * names, never as raw xattrs (layer_pack leaves them out too). */
		if (!strncmp(xname, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)))
			continue;
		int r = fd >= 0 ? fsetxattr(fd, xname, value, size, 0)
				: lsetxattr(proc, xname, value, size, 0);
		/* The kernel refuses user.* xattrs on symlinks and device nodes;
		 * a tar made elsewhere may carry them anyway: skip, as it could
		 * never have held them here. */
		if (r < 0 && errno == EPERM && fd < 0 && !strncmp(xname, "user.", 5))
			continue;
		if (r < 0)
			return berth_error(u->err, errno, "layer entry \"%s\": setting xattr %s",
					   u->entry, xname);
	}
	return 0;
}

/* Owner, then mode (a chown clears setuid/setgid), then xattrs (a chown clears
 * security.capability too). */
static int apply_meta_fd(struct unpacker *u, struct archive_entry *e, int fd)
{
	uid_t uid;
	gid_t gid;
	int r = entry_owner(u, e, &uid, &gid);
	if (r < 0)
		return r;
	if (fchown(fd, uid, gid) < 0)
		return entry_error(u, errno, "setting its owner");
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return entry_error(u, errno, "setting its mode");
	return apply_xattrs(u, e, fd, -1, NULL);
}

static int apply_meta_at(struct unpacker *u, struct archive_entry *e, int parent, const char *name,
			 bool symlink)
{
	uid_t uid;
	gid_t gid;
	int r = entry_owner(u, e, &uid, &gid);
	if (r < 0)
		return r;
	if (fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_error(u, errno, "setting its owner");
	/* name was just made by us in a directory no symlink led to, and is not
	 * a symlink: fchmodat may follow it. */
	if (!symlink && fchmodat(parent, name, archive_entry_perm(e) & 07777, 0) < 0)
		return entry_error(u, errno, "setting its mode");
	r = apply_xattrs(u, e, -1, parent, name);
	if (r < 0)
		return r;
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_error(u, errno, "setting its times");
	return 0;
}

static void defer_dir_time(struct unpacker *u, const char *path, struct archive_entry *e)
{
	if (u->ndirs == u->dirs_cap) {
		u->dirs_cap = u->dirs_cap ? u->dirs_cap * 2 : 256;
		u->dirs = xrealloc(u->dirs, u->dirs_cap * sizeof(*u->dirs));
	}
	struct dir_time *d = &u->dirs[u->ndirs];
	d->path = xstrdup(path);
	d->depth = *path ? 1 : 0;
	for (const char *p = path; *p; p++)
		d->depth += *p == '/';
	d->index = u->ndirs++;
	entry_times(e, d->ts);
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* A libarchive failure while reading: the decompressor's error if it had one. */
static int read_error(struct unpacker *u, const char *what)
{
	if (u->ring->error) {
		int r = ring_error(u->ring);
		berth_error_wrap(u->err, "layer entry \"%s\": %s", u->entry, what);
		return r;
	}
	int e = archive_errno(u->a);
	const char *msg = archive_error_string(u->a);
	return berth_error_code(u->err, e > 0 ? e : EINVAL, "layer entry \"%s\": %s: %s", u->entry,
				what, msg ? msg : "tar error");
}

static int write_data(struct unpacker *u, struct archive_entry *e, int fd)
{
	la_int64_t end = 0;
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(u->a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return read_error(u, "reading its data");
		/* Sparse entries come as blocks with gaps between them: the gaps
		 * stay holes. */
		r = pwrite_all(fd, buf, size, (off_t)off);
		if (r < 0)
			return entry_error(u, -r, "writing its data");
		end = off + (la_int64_t)size;
	}
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
	    ftruncate(fd, (off_t)archive_entry_size(e)) < 0)
		return entry_error(u, errno, "setting its size");
	return 0;
}

static int unpack_regular(struct unpacker *u, struct archive_entry *e, int parent, const char *name)
{
	_cleanup_close_ int fd = -1;
	for (int attempt = 0;; attempt++) {
		fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating it");
		int r = replace_existing(u, parent, name);
		if (r < 0)
			return r;
	}
	int r = write_data(u, e, fd);
	if (r < 0)
		return r;
	r = apply_meta_fd(u, e, fd);
	if (r < 0)
		return r;
	struct timespec ts[2];
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		return entry_error(u, errno, "setting its times");
	if (close(TAKE_FD(fd)) < 0)
		return entry_error(u, errno, "writing its data");
	return 0;
}

static int unpack_dir(struct unpacker *u, struct archive_entry *e, int parent, const char *name,
		      const char *path)
{
	for (int attempt = 0;; attempt++) {
		if (mkdirat(parent, name, 0700) == 0)
			break;
		struct stat st;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating it");
		if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			break; /* a directory again: its contents stay, its metadata is this entry's
				*/
		int r = replace_existing(u, parent, name);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int fd =
		openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return entry_error(u, errno, "opening it");
	int r = apply_meta_fd(u, e, fd);
	if (r < 0)
		return r;
	defer_dir_time(u, path, e);
	return 0;
}

static int unpack_symlink(struct unpacker *u, struct archive_entry *e, int parent, const char *name)
{
	const char *target = archive_entry_symlink(e);
	if (!target)
		target = archive_entry_symlink_utf8(e);
	if (!target || !*target)
		return entry_invalid(u, "symlink without a target");
	for (int attempt = 0;; attempt++) {
		if (symlinkat(target, parent, name) == 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating the symlink");
		int r = replace_existing(u, parent, name);
		if (r < 0)
			return r;
	}
	return apply_meta_at(u, e, parent, name, true);
}

static int unpack_node(struct unpacker *u, struct archive_entry *e, int parent, const char *name)
{
	mode_t type = archive_entry_filetype(e);
	dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
	for (int attempt = 0;; attempt++) {
		if (mknodat(parent, name, type | 0600, dev) == 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating the device node or fifo");
		int r = replace_existing(u, parent, name);
		if (r < 0)
			return r;
	}
	return apply_meta_at(u, e, parent, name, false);
}

static int unpack_hardlink(struct unpacker *u, const char *target_raw, int parent, const char *name,
			   const char *path)
{
	int r = clean_name(target_raw, u->entry, &u->link, u->err);
	if (r < 0)
		return r;
	if (!strcmp(u->link.buf, path))
		return 0; /* a link to itself: already there */
	if (!u->link.len)
		return entry_invalid(u, "hard link to the layer root");
	const char *tparent;
	const char *tname = split_last(&u->link, &tparent);
	_cleanup_close_ int tfd = -1;
	int at = u->root_rd;
	if (*tparent) {
		tfd = path_open_no_symlinks(u->root, tparent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
					    NULL);
		at = tfd;
	}
	struct stat st;
	if (at < 0 || fstatat(at, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_code(
			u->err, ENOENT,
			"layer entry \"%s\": hard link target \"%s\" is not in the layer", u->entry,
			target_raw);
	if (S_ISDIR(st.st_mode))
		return berth_error_code(u->err, EPERM,
					"layer entry \"%s\": hard link to directory \"%s\"",
					u->entry, target_raw);
	for (int attempt = 0;; attempt++) {
		if (linkat(at, tname, parent, name, 0) == 0)
			return 0;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating the hard link");
		r = replace_existing(u, parent, name);
		if (r < 0)
			return r;
	}
}

/* ".wh.NAME" and ".wh..wh..opq" in parent. */
static int unpack_whiteout(struct unpacker *u, int parent, const char *name)
{
	if (!strcmp(name, WH_OPAQUE)) {
		if (fsetxattr(parent, OVERLAY_OPAQUE, "y", 1, 0) < 0)
			return entry_error(u, errno, "marking its directory opaque");
		return 0;
	}
	if (!strncmp(name, WH_META_PREFIX, strlen(WH_META_PREFIX)))
		return 0; /* AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): nothing for overlay */
	const char *victim = name + strlen(WH_PREFIX);
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return entry_invalid(u, "whiteout of \".\", \"..\" or nothing");
	for (int attempt = 0;; attempt++) {
		if (mknodat(parent, victim, S_IFCHR | 0, makedev(0, 0)) == 0)
			return 0;
		if (errno != EEXIST || attempt > 0)
			return entry_error(u, errno, "creating the whiteout");
		int r = replace_existing(u, parent, victim);
		if (r < 0)
			return r;
	}
}

/* Whether a component of path is AUFS metadata (".wh..wh.*", but not the
 * opaque marker, which only ever is the last component). */
static bool in_aufs_meta(const char *path)
{
	for (const char *c = path; c; c = strchr(c, '/'), c = c ? c + 1 : NULL)
		if (!strncmp(c, WH_META_PREFIX, strlen(WH_META_PREFIX)) &&
		    strncmp(c, WH_OPAQUE, strlen(WH_OPAQUE) + 1) != 0)
			return true;
	return false;
}

static int unpack_entry(struct unpacker *u, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return berth_error_code(u->err, EINVAL, "layer entry without a name");
	u->entry = raw;
	int r = clean_name(raw, raw, &u->path, u->err);
	if (r < 0)
		return r;
	const char *hardlink = archive_entry_hardlink(e);
	if (!hardlink)
		hardlink = archive_entry_hardlink_utf8(e);
	mode_t type = archive_entry_filetype(e);

	if (!u->path.len) {
		/* "./": the layer root itself. */
		if (hardlink || type != AE_IFDIR)
			return entry_invalid(u, "the layer root must be a directory");
		r = apply_meta_fd(u, e, u->root_rd);
		if (r < 0)
			return r;
		defer_dir_time(u, "", e);
		return 0;
	}
	if (in_aufs_meta(u->path.buf) && !(u->flags & LAYER_EXTRACT_PLAIN))
		return 0; /* AUFS bookkeeping (.wh..wh.plnk/...): nothing for overlay */
	_cleanup_free_ char *path = xstrdup(u->path.buf);
	const char *parent_path;
	const char *name = split_last(&u->path, &parent_path);
	int parent = open_parent(u, parent_path);
	if (parent < 0)
		return parent;

	if (!strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) && !(u->flags & LAYER_EXTRACT_PLAIN))
		return unpack_whiteout(u, parent, name);
	if (hardlink)
		return unpack_hardlink(u, hardlink, parent, name, path);
	switch (type) {
	case AE_IFREG: return unpack_regular(u, e, parent, name);
	case AE_IFDIR: return unpack_dir(u, e, parent, name, path);
	case AE_IFLNK: return unpack_symlink(u, e, parent, name);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: return unpack_node(u, e, parent, name);
	case AE_IFSOCK: return 0; /* a socket means nothing once its listener is gone */
	default:
		return berth_error_code(u->err, EINVAL, "layer entry \"%s\": unknown type 0%o", raw,
					(unsigned)type);
	}
}

static int dir_time_cmp(const void *a, const void *b)
{
	const struct dir_time *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Directory times last, deepest first: creating anything in a directory
 * changes its mtime. A directory replaced or whited out later is skipped. */
static int set_dir_times(struct unpacker *u)
{
	if (u->ndirs > 0) /* qsort's array may not be NULL, even when empty */
		qsort(u->dirs, u->ndirs, sizeof(*u->dirs), dir_time_cmp);
	for (size_t i = 0; i < u->ndirs; i++) {
		struct dir_time *d = &u->dirs[i];
		if (!*d->path) {
			if (futimens(u->root_rd, d->ts) < 0)
				return berth_error_errno(u->err, "layer root: setting its times");
			continue;
		}
		_cleanup_close_ int fd = path_open_no_symlinks(
			u->root, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, NULL);
		if (fd < 0)
			continue;
		if (futimens(fd, d->ts) < 0)
			return berth_error(u->err, errno,
					   "layer directory \"%s\": setting its times", d->path);
	}
	return 0;
}

static void unpacker_free(struct unpacker *u)
{
	unpacker_drop_cache(u);
	if (u->root_rd >= 0)
		close(u->root_rd);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	strbuf_release(&u->path);
	strbuf_release(&u->link);
	strbuf_release(&u->last);
	if (u->a)
		archive_read_free(u->a);
}

static int unpack_all(struct unpacker *u, struct layer_unpack_stats *st)
{
	u->a = archive_read_new();
	if (!u->a)
		return berth_error_code(u->err, ENOMEM, "reading layer: libarchive");
	archive_read_support_format_tar(u->a);
	if (archive_read_open(u->a, u->ring, NULL, ring_archive_read, NULL) != ARCHIVE_OK) {
		/* An empty stream is an empty layer, as Go's archive/tar reads it. */
		if (!u->ring->error && u->ring->eof && u->ring->total == 0)
			return 0;
		if (u->ring->error)
			return ring_error(u->ring);
		const char *msg = archive_error_string(u->a);
		return berth_error_code(u->err, EINVAL,
					"reading layer: not a tar (plain, gzip or zstd): %s",
					msg ? msg : "unrecognized");
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(u->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			u->entry = u->last.len ? u->last.buf : "(none)";
			return read_error(u, "reading the next tar header");
		}
		r = unpack_entry(u, e);
		if (r < 0)
			return r;
		strbuf_reset(&u->last);
		strbuf_addstr(&u->last, u->entry);
		st->entries++;
	}
	return set_dir_times(u);
}

static int unpack_fd(int fd, int dirfd, unsigned flags, char diffid[IMAGE_DIGEST_BUF],
		     struct layer_unpack_stats *st, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	struct layer_unpack_stats local = { 0 };
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	struct ring ring;
	int r = ring_start(&ring, fd, err);
	if (r < 0) {
		ring_stop(&ring);
		return r;
	}
	struct unpacker u = { .root = dirfd,
			      .root_rd = -1,
			      .ring = &ring,
			      .path = STRBUF_INIT,
			      .link = STRBUF_INIT,
			      .last = STRBUF_INIT,
			      .cache_fd = -1,
			      .flags = flags,
			      .err = err };
	u.root_rd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.root_rd < 0)
		r = berth_error_errno(err, "opening the layer directory");
	else
		r = unpack_all(&u, st);
	unpacker_free(&u);
	if (r >= 0) {
		/* The DiffID covers the whole uncompressed stream, including what
		 * follows the tar's end marker. */
		const void *buf;
		ssize_t n;
		while ((n = ring_next(&ring, &buf)) > 0)
			;
		if (n < 0) {
			ring.error = (int)n;
			r = ring_error(&ring);
		}
	}
	if (r >= 0) {
		digest_finish(ring.md, diffid);
		st->tar_size = ring.total;
	}
	ring_stop(&ring);
	return r < 0 ? r : 0;
}

int layer_unpack(int fd, int dirfd, char diffid[IMAGE_DIGEST_BUF], struct layer_unpack_stats *st,
		 berth_err *err)
{
	return unpack_fd(fd, dirfd, 0, diffid, st, err);
}

int layer_extract(int fd, int dirfd, unsigned flags, berth_err *err)
{
	char diffid[IMAGE_DIGEST_BUF];
	return unpack_fd(fd, dirfd, flags, diffid, NULL, err);
}

/* --- packing a directory ------------------------------------------------------------ */

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct packer {
	struct archive *a;
	int outfd;
	EVP_MD_CTX *md;
	uint64_t total;
	int write_error; /* -errno of the output, 0 */
	void *links;     /* tsearch tree of struct link_seen */
	struct strbuf path;
	uint8_t *buf;
	const char *top_as;         /* the name of the first entry packed, or NULL */
	const char *const *exclude; /* paths relative to the top not to pack */
	berth_err *err;
};

static la_ssize_t pack_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct packer *p = data;
	EVP_DigestUpdate(p->md, buf, len);
	p->total += len;
	int r = fd_write_all(p->outfd, buf, len);
	if (r < 0) {
		p->write_error = r;
		archive_set_error(a, -r, "writing the layer tar");
		return -1;
	}
	return (la_ssize_t)len;
}

static int link_cmp(const void *a, const void *b)
{
	const struct link_seen *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void link_free(void *node)
{
	struct link_seen *l = node;
	free(l->path);
	free(l);
}

static int pack_error(struct packer *p, int errnum, const char *what)
{
	return berth_error(p->err, errnum, "packing \"%s\": %s", p->path.buf, what);
}

static int pack_archive_error(struct packer *p)
{
	if (p->write_error)
		return pack_error(p, -p->write_error, "writing the tar");
	int e = archive_errno(p->a);
	return berth_error_code(p->err, e > 0 ? e : EINVAL, "packing \"%s\": %s", p->path.buf,
				archive_error_string(p->a) ? archive_error_string(p->a)
							   : "tar error");
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of entries in a NUL-separated list, sorted, without overlay's own. */
static char **xattr_names(char *list, ssize_t len, size_t *count)
{
	size_t n = 0, cap = 8;
	char **v = xmalloc(cap * sizeof(*v));
	for (char *s = list; s < list + len; s += strlen(s) + 1) {
		if (!strncmp(s, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)))
			continue;
		if (n + 1 >= cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = s;
	}
	qsort(v, n, sizeof(*v), strcmp_p);
	*count = n;
	return v;
}

/* Copy the xattrs of what proc names (a /proc/self/fd path, not followed). */
static int pack_xattrs(struct packer *p, struct archive_entry *e, const char *proc)
{
	_cleanup_free_ char *list = NULL;
	ssize_t len;
	for (;;) {
		len = llistxattr(proc, NULL, 0);
		if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
			return 0;
		if (len <= 0)
			return len < 0 ? pack_error(p, errno, "listing xattrs") : 0;
		free(list);
		list = xmalloc((size_t)len);
		len = llistxattr(proc, list, (size_t)len);
		if (len >= 0)
			break;
		if (errno != ERANGE)
			return pack_error(p, errno, "listing xattrs");
	}
	size_t n;
	_cleanup_free_ char **names = xattr_names(list, len, &n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *value = NULL;
		ssize_t vlen;
		for (;;) {
			vlen = lgetxattr(proc, names[i], NULL, 0);
			if (vlen < 0)
				return pack_error(p, errno, "reading an xattr");
			free(value);
			value = xmalloc((size_t)vlen + 1);
			vlen = lgetxattr(proc, names[i], value, (size_t)vlen);
			if (vlen >= 0)
				break;
			if (errno != ERANGE)
				return pack_error(p, errno, "reading an xattr");
		}
		archive_entry_xattr_add_entry(e, names[i], value, (size_t)vlen);
	}
	return 0;
}

static void entry_from_stat(struct archive_entry *e, const struct stat *st)
{
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_perm(e, st->st_mode & 07777);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* An empty regular file entry: the tar form of whiteouts and opaque markers. */
static int pack_marker(struct packer *p, const char *name, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return pack_error(p, ENOMEM, "libarchive entry");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_size(e, 0);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	return r < ARCHIVE_WARN ? pack_archive_error(p) : 0;
}

static int pack_file_data(struct packer *p, int fd, const struct stat *st)
{
	uint64_t done = 0;
	for (;;) {
		ssize_t n = read(fd, p->buf, OUT_BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pack_error(p, errno, "reading it");
		if (n == 0)
			break;
		if ((uint64_t)n > (uint64_t)st->st_size - done)
			return pack_error(p, EBUSY, "it grew while being packed");
		if (archive_write_data(p->a, p->buf, (size_t)n) < 0)
			return pack_archive_error(p);
		done += (uint64_t)n;
	}
	if (done != (uint64_t)st->st_size)
		return pack_error(p, EBUSY, "it shrank while being packed");
	return 0;
}

static int pack_dir(struct packer *p, int dirfd);

static int pack_one(struct packer *p, int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pack_error(p, errno, "stat");
	if (S_ISSOCK(st.st_mode))
		return 0;
	const char *as = p->top_as ? p->top_as : name;
	p->top_as = NULL;
	size_t base = p->path.len;
	if (p->path.len)
		strbuf_addch(&p->path, '/');
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* An overlay whiteout: ".wh.NAME" in the tar. */
		strbuf_addf(&p->path, WH_PREFIX "%s", as);
		int r = pack_marker(p, p->path.buf, &st);
		strbuf_setlen(&p->path, base);
		return r;
	}
	strbuf_addstr(&p->path, as);
	for (size_t i = 0; p->exclude && p->exclude[i]; i++) {
		if (!strcmp(p->exclude[i], p->path.buf)) {
			strbuf_setlen(&p->path, base);
			return 0;
		}
	}

	struct archive_entry *e = archive_entry_new();
	if (!e)
		return pack_error(p, ENOMEM, "libarchive entry");
	entry_from_stat(e, &st);
	_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d/%s", dirfd, name);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *target = NULL;
	int r = 0;
	bool opaque = false;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = pack_error(p, errno, "opening it");
			break;
		}
		_cleanup_free_ char *dname = xasprintf("%s/", p->path.buf);
		archive_entry_set_pathname(e, dname);
		archive_entry_set_filetype(e, AE_IFDIR);
		char v;
		opaque = fgetxattr(fd, OVERLAY_OPAQUE, &v, 1) == 1 && v == 'y';
		break;
	}
	case S_IFREG:
		archive_entry_set_pathname(e, p->path.buf);
		archive_entry_set_filetype(e, AE_IFREG);
		if (st.st_nlink > 1) {
			struct link_seen key = { .dev = st.st_dev, .ino = st.st_ino };
			struct link_seen **found = tfind(&key, &p->links, link_cmp);
			if (found) {
				archive_entry_set_hardlink(e, (*found)->path);
				archive_entry_set_size(e, 0);
				break;
			}
			struct link_seen *l = xmalloc(sizeof(*l));
			*l = key;
			l->path = xstrdup(p->path.buf);
			if (!tsearch(l, &p->links, link_cmp)) {
				link_free(l);
				r = pack_error(p, ENOMEM, "hard link table");
				break;
			}
		}
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = pack_error(p, errno, "opening it");
		archive_entry_set_size(e, st.st_size);
		break;
	case S_IFLNK:
		archive_entry_set_pathname(e, p->path.buf);
		archive_entry_set_filetype(e, AE_IFLNK);
		target = xmalloc((size_t)st.st_size + 2);
		ssize_t n = readlinkat(dirfd, name, target, (size_t)st.st_size + 1);
		if (n < 0 || n > st.st_size) {
			r = pack_error(p, n < 0 ? errno : EBUSY, "reading the symlink");
			break;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
		break;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		archive_entry_set_pathname(e, p->path.buf);
		archive_entry_set_filetype(e, st.st_mode & S_IFMT);
		archive_entry_set_rdev(e, st.st_rdev);
		break;
	default: r = pack_error(p, EINVAL, "unknown file type"); break;
	}
	/* A redirected directory or a metacopy file holds only part of what it
	 * stands for (the rest is in a lower layer): no tar can say that. */
	if (r == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
	    (lgetxattr(proc, OVERLAY_REDIRECT, NULL, 0) >= 0 ||
	     lgetxattr(proc, OVERLAY_METACOPY, NULL, 0) >= 0))
		r = pack_error(p, EOPNOTSUPP,
			       "an overlay redirect or metacopy (mount with redirect_dir=off,"
			       "metacopy=off)");
	if (r == 0 && !archive_entry_hardlink(e))
		r = pack_xattrs(p, e, proc);
	if (r == 0 && archive_write_header(p->a, e) < ARCHIVE_WARN)
		r = pack_archive_error(p);
	bool data = r == 0 && S_ISREG(st.st_mode) && !archive_entry_hardlink(e);
	archive_entry_free(e);
	if (data)
		r = pack_file_data(p, fd, &st);
	if (r == 0 && S_ISDIR(st.st_mode)) {
		if (opaque) {
			_cleanup_free_ char *m = xasprintf("%s/" WH_OPAQUE, p->path.buf);
			r = pack_marker(p, m, &st);
		}
		if (r == 0)
			r = pack_dir(p, fd);
	}
	if (r == 0)
		strbuf_setlen(&p->path, base);
	return r;
}

static int pack_dir(struct packer *p, int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pack_error(p, errno, "opening the directory");
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return pack_error(p, e, "reading the directory");
	}
	size_t n = 0, cap = 16;
	char **names = xmalloc(cap * sizeof(*names));
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 1 >= cap)
			names = xrealloc(names, (cap *= 2) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	names[n] = NULL;
	/* owns the names on every return below (clang counts cleanup-only use as unused) */
	__attribute__((unused)) _cleanup_strv_ char **owned = names;
	if (errno)
		return pack_error(p, errno, "reading the directory");
	qsort(names, n, sizeof(*names), strcmp_p);
	for (size_t i = 0; i < n; i++) {
		int r = pack_one(p, dirfd, names[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* name NULL: the contents of dirfd, else the entry name in dirfd packed as as. */
static int pack_fd(int dirfd, const char *name, const char *as, const char *const *exclude,
		   int outfd, char diffid[IMAGE_DIGEST_BUF], uint64_t *tar_size, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	struct packer p = {
		.outfd = outfd, .path = STRBUF_INIT, .top_as = as, .exclude = exclude, .err = err
	};
	p.a = archive_write_new();
	if (!p.a)
		return berth_error_code(err, ENOMEM, "packing a layer: libarchive");
	p.md = digest_new();
	p.buf = xmalloc(OUT_BUF_SIZE);
	int r = 0;
	/* pax only where ustar cannot say it (long names, xattrs, big ids):
	 * what Docker and containerd write. */
	if (archive_write_set_format_pax_restricted(p.a) != ARCHIVE_OK ||
	    archive_write_open(p.a, &p, NULL, pack_write, NULL) != ARCHIVE_OK)
		r = pack_archive_error(&p);
	if (r == 0)
		r = name ? pack_one(&p, dirfd, name) : pack_dir(&p, dirfd);
	if (r == 0 && archive_write_close(p.a) != ARCHIVE_OK)
		r = pack_archive_error(&p);
	archive_write_free(p.a);
	if (r == 0) {
		digest_finish(p.md, diffid);
		if (tar_size)
			*tar_size = p.total;
	}
	EVP_MD_CTX_free(p.md);
	tdestroy(p.links, link_free);
	strbuf_release(&p.path);
	free(p.buf);
	return r;
}

int layer_pack(int dirfd, int outfd, char diffid[IMAGE_DIGEST_BUF], uint64_t *tar_size,
	       berth_err *err)
{
	return pack_fd(dirfd, NULL, NULL, NULL, outfd, diffid, tar_size, err);
}

int layer_pack_excluding(int dirfd, const char *const *exclude, int outfd,
			 char diffid[IMAGE_DIGEST_BUF], uint64_t *tar_size, berth_err *err)
{
	return pack_fd(dirfd, NULL, NULL, exclude, outfd, diffid, tar_size, err);
}

int layer_pack_entry(int dirfd, const char *name, const char *as, int outfd, berth_err *err)
{
	char diffid[IMAGE_DIGEST_BUF];
	return pack_fd(dirfd, name, as, NULL, outfd, diffid, NULL, err);
}

/* --- gzip ----------------------------------------------------------------------- */

int layer_compress_gzip(int infd, int outfd, char digest[IMAGE_DIGEST_BUF], uint64_t *size,
			berth_err *err)
{
	_cleanup_free_ uint8_t *in = xmalloc(IN_BUF_SIZE);
	_cleanup_free_ uint8_t *out = xmalloc(OUT_BUF_SIZE);
	_cleanup_free_ uint8_t *level_buf = xmalloc(ISAL_DEF_LVL1_DEFAULT);
	_cleanup_free_ struct isal_zstream *z = xcalloc(1, sizeof(*z));
	isal_deflate_init(z);
	z->level = 1;
	z->level_buf = level_buf;
	z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	z->gzip_flag = IGZIP_GZIP;
	EVP_MD_CTX *md = digest_new();
	uint64_t total = 0;
	int r = 0;
	while (r == 0 && z->internal_state.state != ZSTATE_END) {
		if (z->avail_in == 0 && !z->end_of_stream) {
			ssize_t n = read(infd, in, IN_BUF_SIZE);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = berth_error_errno(err, "compressing a layer: reading");
				break;
			}
			z->next_in = in;
			z->avail_in = (uint32_t)n;
			z->end_of_stream = n == 0;
		}
		z->next_out = out;
		z->avail_out = OUT_BUF_SIZE;
		if (isal_deflate(z) != COMP_OK) {
			r = berth_error_code(err, EINVAL,
					     "compressing a layer: igzip deflate failed");
			break;
		}
		size_t produced = OUT_BUF_SIZE - z->avail_out;
		if (produced) {
			EVP_DigestUpdate(md, out, produced);
			total += produced;
			int w = fd_write_all(outfd, out, produced);
			if (w < 0)
				r = berth_error(err, -w, "compressing a layer: writing");
		}
	}
	if (r == 0) {
		digest_finish(md, digest);
		if (size)
			*size = total;
	}
	EVP_MD_CTX_free(md);
	return r;
}
