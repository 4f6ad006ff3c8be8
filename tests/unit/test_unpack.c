/* test_unpack.c - layer tars to overlay directories and back: what lands on
 * disk (owners, modes, times, xattrs, links, devices, sparse files), the same
 * tree and DiffID from plain, gzip, zstd and a pipe, every escape attempt
 * refused by name with nothing written outside, whiteouts in overlay form,
 * and pack(unpack(x)) keeping what a user would check. Runs as root. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/unpack.h"

/* --- fixture: a temp dir with "layer" inside, and "outside" next to it ---- */

struct fixture {
	char dir[64];
	int dirfd;
	int layer; /* O_PATH fd of dir/layer */
};

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/berth-test-unpack-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0 || mkdirat(f->dirfd, "layer", 0755) < 0)
		return -1;
	f->layer = openat(f->dirfd, "layer", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->layer < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->layer);
	close(f->dirfd);
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* A second layer dir in the fixture, O_PATH. */
static int new_dir(struct fixture *f, const char *name)
{
	assert_int_equal(mkdirat(f->dirfd, name, 0755), 0);
	int fd = openat(f->dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* --- building tars with libarchive's writer ------------------------------- */

struct tar {
	struct archive *a;
	struct strbuf out;
};

static la_ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	strbuf_add(&((struct tar *)data)->out, buf, len);
	return (la_ssize_t)len;
}

static void tar_begin(struct tar *t)
{
	t->out = (struct strbuf)STRBUF_INIT;
	t->a = archive_write_new();
	assert_non_null(t->a);
	assert_int_equal(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, t, NULL, tar_write_cb, NULL), ARCHIVE_OK);
}

static void tar_end(struct tar *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
}

struct ent {
	const char *name;
	mode_t type; /* AE_IF* */
	mode_t perm;
	int64_t uid, gid;
	const char *data;     /* regular file content */
	const char *link;     /* symlink target */
	const char *hardlink; /* hard link target */
	dev_t rdev;
	time_t mtime;
	const char *xname; /* one xattr */
	const void *xvalue;
	size_t xlen;
};

static void tar_add(struct tar *t, const struct ent *x)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, x->name);
	archive_entry_set_filetype(e, x->type ? x->type : AE_IFREG);
	archive_entry_set_perm(e, x->perm ? x->perm : 0644);
	archive_entry_set_uid(e, x->uid);
	archive_entry_set_gid(e, x->gid);
	archive_entry_set_mtime(e, x->mtime ? x->mtime : 1600000000, 0);
	size_t len = x->data ? strlen(x->data) : 0;
	archive_entry_set_size(e, (la_int64_t)len);
	if (x->link)
		archive_entry_set_symlink(e, x->link);
	if (x->hardlink) {
		archive_entry_set_hardlink(e, x->hardlink);
		archive_entry_set_size(e, 0);
		len = 0;
	}
	if (x->rdev)
		archive_entry_set_rdev(e, x->rdev);
	if (x->xname)
		archive_entry_xattr_add_entry(e, x->xname, x->xvalue, x->xlen);
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	if (len)
		assert_int_equal(archive_write_data(t->a, x->data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

#define SPARSE_SIZE (8 * 1024 * 1024)

/* 8 MiB with 4 KiB of data at each end and a hole between. */
static void tar_add_sparse(struct tar *t, const char *name)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 1600000000, 0);
	archive_entry_set_size(e, SPARSE_SIZE);
	archive_entry_sparse_add_entry(e, 0, 4096);
	archive_entry_sparse_add_entry(e, SPARSE_SIZE - 4096, 4096);
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	char *buf = xcalloc(1, SPARSE_SIZE);
	memset(buf, 'a', 4096);
	memset(buf + SPARSE_SIZE - 4096, 'z', 4096);
	assert_int_equal(archive_write_data(t->a, buf, SPARSE_SIZE), SPARSE_SIZE);
	free(buf);
	archive_entry_free(e);
}

/* A tar of the given entries, in sb (caller releases). */
static struct strbuf make_tar(const struct ent *ents, size_t n)
{
	struct tar t;
	tar_begin(&t);
	for (size_t i = 0; i < n; i++)
		tar_add(&t, &ents[i]);
	tar_end(&t);
	return t.out;
}

/* --- compressing ------------------------------------------------------------ */

static struct strbuf gzip_buf(const void *data, size_t len)
{
	z_stream z = { 0 };
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	struct strbuf out = STRBUF_INIT;
	strbuf_grow(&out, deflateBound(&z, len));
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out.buf;
	z.avail_out = (uInt)(out.alloc - 1);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	strbuf_setlen(&out, z.total_out);
	deflateEnd(&z);
	return out;
}

static struct strbuf zstd_buf(const void *data, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	size_t bound = ZSTD_compressBound(len);
	strbuf_grow(&out, bound);
	size_t n = ZSTD_compress(out.buf, bound, data, len, 3);
	assert_false(ZSTD_isError(n));
	strbuf_setlen(&out, n);
	return out;
}

static void sha256_of(const void *data, size_t len, char out[IMAGE_DIGEST_BUF])
{
	unsigned char raw[32];
	unsigned int n;
	EVP_Digest(data, len, raw, &n, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", raw[i]);
}

/* --- feeding the unpacker ------------------------------------------------------ */

/* A file in the fixture dir holding data, opened for reading. */
static int data_fd(struct fixture *f, const void *data, size_t len)
{
	int fd = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int unpack_buf(struct fixture *f, int dir, const struct strbuf *data,
		      char diffid[IMAGE_DIGEST_BUF], berth_err *err)
{
	_cleanup_close_ int fd = data_fd(f, data->buf, data->len);
	struct layer_unpack_stats st;
	return layer_unpack(fd, dir, diffid, &st, err);
}

struct feeder {
	int fd;
	const struct strbuf *data;
};

static void *feed(void *arg)
{
	struct feeder *fe = arg;
	/* Small writes, so the reader sees short reads. */
	for (size_t off = 0; off < fe->data->len;) {
		size_t n = fe->data->len - off < 1000 ? fe->data->len - off : 1000;
		ssize_t w = write(fe->fd, fe->data->buf + off, n);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fe->fd);
	return NULL;
}

/* --- looking at the result ------------------------------------------------------ */

/* One line per entry below dir (sorted): name, type, mode, owner, size, mtime,
 * rdev, link target, content digest, xattrs. */
static void list_tree(int dirfd, const char *prefix, struct strbuf *out)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	assert_non_null(d);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *tmp = names[i];
				names[i] = names[j];
				names[j] = tmp;
			}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		assert_int_equal(fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW), 0);
		strbuf_addf(out, "%s%s %o %u:%u", prefix, names[i], st.st_mode, st.st_uid,
			    st.st_gid);
		if (!S_ISDIR(st.st_mode))
			strbuf_addf(out, " size=%lld mtime=%lld", (long long)st.st_size,
				    (long long)st.st_mtim.tv_sec);
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			strbuf_addf(out, " rdev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", dirfd);
		_cleanup_free_ char *p = xasprintf("%s%s", proc, names[i]);
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t l = readlinkat(dirfd, names[i], target, sizeof(target) - 1);
			assert_true(l >= 0);
			target[l] = '\0';
			strbuf_addf(out, " -> %s", target);
		}
		if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int ffd = openat(dirfd, names[i], O_RDONLY | O_CLOEXEC);
			assert_true(ffd >= 0);
			char *buf = xmalloc((size_t)st.st_size + 1);
			ssize_t r = read(ffd, buf, (size_t)st.st_size + 1);
			assert_int_equal(r, st.st_size);
			char dg[IMAGE_DIGEST_BUF];
			sha256_of(buf, (size_t)r, dg);
			strbuf_addf(out, " %.19s", dg);
			free(buf);
		}
		char xl[4096];
		ssize_t xn = llistxattr(p, xl, sizeof(xl));
		for (ssize_t k = 0; xn > 0 && k < xn; k += (ssize_t)strlen(xl + k) + 1) {
			char v[256];
			ssize_t vn = lgetxattr(p, xl + k, v, sizeof(v) - 1);
			assert_true(vn >= 0);
			v[vn] = '\0';
			strbuf_addf(out, " %s=%zd", xl + k, vn);
		}
		strbuf_addch(out, '\n');
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			assert_true(sub >= 0);
			_cleanup_free_ char *pre = xasprintf("%s%s/", prefix, names[i]);
			list_tree(sub, pre, out);
			close(sub);
		}
		free(names[i]);
	}
	free(names);
	closedir(d);
}

static char *tree_of(int dir)
{
	struct strbuf sb = STRBUF_INIT;
	list_tree(dir, "", &sb);
	return strbuf_detach(&sb, NULL);
}

static int stat_at(int dir, const char *name, struct stat *st)
{
	return fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW);
}

/* --- the tests ----------------------------------------------------------------- */

static const unsigned char CAP_NET_BIND[20] = {
	0x01, 0x00, 0x00, 0x02, /* VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE */
	0x00, 0x04, 0x00, 0x00, /* permitted: CAP_NET_BIND_SERVICE (10) */
};

static const struct ent ORDINARY[] = {
	{ .name = "./", .type = AE_IFDIR, .perm = 0755 },
	{ .name = "d/",
	  .type = AE_IFDIR,
	  .perm = 0750,
	  .uid = 1000,
	  .gid = 1001,
	  .mtime = 1500000000 },
	{ .name = "d/f",
	  .data = "hello\n",
	  .perm = 0640,
	  .uid = 1234,
	  .gid = 5678,
	  .mtime = 1400000000,
	  .xname = "user.note",
	  .xvalue = "v1",
	  .xlen = 2 },
	{ .name = "d/hl", .hardlink = "d/f" },
	{ .name = "/suid", .data = "#!/bin/sh\n", .perm = 04755, .uid = 1000, .gid = 1000 },
	{ .name = "sgid-dir/", .type = AE_IFDIR, .perm = 03775, .gid = 50 },
	{ .name = "ping",
	  .data = "elf",
	  .perm = 0755,
	  .xname = "security.capability",
	  .xvalue = CAP_NET_BIND,
	  .xlen = sizeof(CAP_NET_BIND) },
	{ .name = "cdev", .type = AE_IFCHR, .perm = 0666, .rdev = 0x0103 /* 1:3 */ },
	{ .name = "bdev", .type = AE_IFBLK, .perm = 0660, .gid = 6, .rdev = 0x0700 /* 7:0 */ },
	{ .name = "fifo", .type = AE_IFIFO, .perm = 0620 },
	{ .name = "ln",
	  .type = AE_IFLNK,
	  .perm = 0777,
	  .link = "d/f",
	  .uid = 7,
	  .gid = 8,
	  .mtime = 1300000000 },
	{ .name = "dangling", .type = AE_IFLNK, .perm = 0777, .link = "/nonexistent/x" },
	/* user.* on a symlink: Linux cannot hold it; skipped, not fatal */
	{ .name = "ln-xattr",
	  .type = AE_IFLNK,
	  .link = "d/f",
	  .xname = "user.note",
	  .xvalue = "v",
	  .xlen = 1 },
	{ .name = "./deep/er/file", .data = "parents made on the way" },
};

static struct strbuf ordinary_tar(void)
{
	struct tar t;
	tar_begin(&t);
	for (size_t i = 0; i < ARRAY_SIZE(ORDINARY); i++)
		tar_add(&t, &ORDINARY[i]);
	tar_add_sparse(&t, "sparse");
	tar_end(&t);
	return t.out;
}

static void test_ordinary(void **state)
{
	struct fixture *f = *state;
	_cleanup_strbuf_ struct strbuf tar = ordinary_tar();
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF], want[IMAGE_DIGEST_BUF];
	int r = unpack_buf(f, f->layer, &tar, diffid, &err);
	assert_int_equal(r, 0);
	sha256_of(tar.buf, tar.len, want);
	assert_string_equal(diffid, want);

	int L = f->layer;
	struct stat st;
	assert_int_equal(stat_at(L, "d", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mtim.tv_sec, 1500000000); /* set after d/f and d/hl were made */

	assert_int_equal(stat_at(L, "d/f", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_mtim.tv_sec, 1400000000);
	assert_int_equal(st.st_nlink, 2);
	ino_t ino = st.st_ino;
	assert_int_equal(stat_at(L, "d/hl", &st), 0);
	assert_int_equal(st.st_ino, ino);

	char proc[128], v[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/d/f", L);
	assert_int_equal(getxattr(proc, "user.note", v, sizeof(v)), 2);
	assert_memory_equal(v, "v1", 2);

	assert_int_equal(stat_at(L, "suid", &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755); /* the chown did not clear it */
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(stat_at(L, "sgid-dir", &st), 0);
	assert_int_equal(st.st_mode & 07777, 03775);
	assert_int_equal(st.st_gid, 50);

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/ping", L);
	unsigned char cap[64];
	assert_int_equal(getxattr(proc, "security.capability", cap, sizeof(cap)),
			 sizeof(CAP_NET_BIND));
	assert_memory_equal(cap, CAP_NET_BIND, sizeof(CAP_NET_BIND));

	assert_int_equal(stat_at(L, "cdev", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_int_equal(stat_at(L, "bdev", &st), 0);
	assert_true(S_ISBLK(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(7, 0));
	assert_int_equal(st.st_gid, 6);
	assert_int_equal(stat_at(L, "fifo", &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);

	assert_int_equal(stat_at(L, "ln", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_gid, 8);
	assert_int_equal(st.st_mtim.tv_sec, 1300000000);
	char target[64];
	ssize_t n = readlinkat(L, "ln", target, sizeof(target));
	assert_int_equal(n, 3);
	assert_memory_equal(target, "d/f", 3);
	assert_int_equal(stat_at(L, "dangling", &st), 0);
	assert_int_equal(stat_at(L, "ln-xattr", &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	assert_int_equal(stat_at(L, "deep/er/file", &st), 0);
	assert_int_equal(st.st_size, 23);

	assert_int_equal(stat_at(L, "sparse", &st), 0);
	assert_int_equal(st.st_size, SPARSE_SIZE);
	assert_true((uint64_t)st.st_blocks * 512 < SPARSE_SIZE / 2);
	_cleanup_close_ int sfd = openat(L, "sparse", O_RDONLY | O_CLOEXEC);
	char b[4];
	assert_int_equal(pread(sfd, b, 1, 0), 1);
	assert_int_equal(b[0], 'a');
	assert_int_equal(pread(sfd, b, 1, SPARSE_SIZE / 2), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(pread(sfd, b, 1, SPARSE_SIZE - 1), 1);
	assert_int_equal(b[0], 'z');
}

/* Plain, gzip (two members), zstd, and gzip through a pipe: one tree, one DiffID. */
static void test_compressions_and_pipe(void **state)
{
	struct fixture *f = *state;
	_cleanup_strbuf_ struct strbuf tar = ordinary_tar();
	char want[IMAGE_DIGEST_BUF];
	sha256_of(tar.buf, tar.len, want);

	/* Two gzip members, split mid-entry, as `cat a.gz b.gz` makes. */
	size_t half = tar.len / 2 + 17;
	_cleanup_strbuf_ struct strbuf g1 = gzip_buf(tar.buf, half);
	_cleanup_strbuf_ struct strbuf g2 = gzip_buf(tar.buf + half, tar.len - half);
	_cleanup_strbuf_ struct strbuf gz = STRBUF_INIT;
	strbuf_add(&gz, g1.buf, g1.len);
	strbuf_add(&gz, g2.buf, g2.len);
	_cleanup_strbuf_ struct strbuf zs = zstd_buf(tar.buf, tar.len);

	const struct strbuf *inputs[] = { &tar, &gz, &zs };
	_cleanup_free_ char *first = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		char name[16], diffid[IMAGE_DIGEST_BUF];
		snprintf(name, sizeof(name), "l%zu", i);
		_cleanup_close_ int dir = new_dir(f, name);
		_cleanup_err_ berth_err err = BERTH_ERR_INIT;
		assert_int_equal(unpack_buf(f, dir, inputs[i], diffid, &err), 0);
		assert_string_equal(diffid, want);
		_cleanup_free_ char *tree = tree_of(dir);
		if (!first)
			first = TAKE_PTR(tree);
		else
			assert_string_equal(tree, first);
	}
	assert_non_null(strstr(first, "d/f "));

	/* What follows the tar's end marker is part of the stream, and of its DiffID. */
	_cleanup_strbuf_ struct strbuf padded = STRBUF_INIT;
	strbuf_add(&padded, tar.buf, tar.len);
	strbuf_addstr(&padded, "trailing bytes");
	char padded_want[IMAGE_DIGEST_BUF], padded_got[IMAGE_DIGEST_BUF];
	sha256_of(padded.buf, padded.len, padded_want);
	_cleanup_close_ int pdir = new_dir(f, "padded");
	_cleanup_err_ berth_err perr = BERTH_ERR_INIT;
	assert_int_equal(unpack_buf(f, pdir, &padded, padded_got, &perr), 0);
	assert_string_equal(padded_got, padded_want);
	assert_non_null(strstr(first, "security.capability=20"));

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct feeder fe = { .fd = p[1], .data = &gz };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, feed, &fe), 0);
	_cleanup_close_ int dir = new_dir(f, "pipe");
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	struct layer_unpack_stats st;
	assert_int_equal(layer_unpack(p[0], dir, diffid, &st, &err), 0);
	pthread_join(th, NULL);
	close(p[0]);
	assert_string_equal(diffid, want);
	assert_int_equal(st.tar_size, tar.len);
	assert_int_equal(st.entries, ARRAY_SIZE(ORDINARY) + 1);
	_cleanup_free_ char *tree = tree_of(dir);
	assert_string_equal(tree, first);
}

static void test_corrupt_and_empty_input(void **state)
{
	struct fixture *f = *state;
	_cleanup_strbuf_ struct strbuf tar = ordinary_tar();
	_cleanup_strbuf_ struct strbuf gz = gzip_buf(tar.buf, tar.len);
	_cleanup_strbuf_ struct strbuf zs = zstd_buf(tar.buf, tar.len);
	char diffid[IMAGE_DIGEST_BUF];

	strbuf_setlen(&gz, gz.len / 2);
	_cleanup_close_ int d1 = new_dir(f, "trunc-gz");
	_cleanup_err_ berth_err e1 = BERTH_ERR_INIT;
	assert_true(unpack_buf(f, d1, &gz, diffid, &e1) < 0);
	assert_non_null(strstr(e1.msg, "gzip"));

	strbuf_setlen(&zs, zs.len - 10);
	_cleanup_close_ int d2 = new_dir(f, "trunc-zst");
	_cleanup_err_ berth_err e2 = BERTH_ERR_INIT;
	assert_true(unpack_buf(f, d2, &zs, diffid, &e2) < 0);
	assert_non_null(strstr(e2.msg, "zstd"));

	struct strbuf junk = STRBUF_INIT;
	strbuf_addstr(&junk, "this is not a tar, and it is not compressed either....");
	_cleanup_close_ int d3 = new_dir(f, "junk");
	_cleanup_err_ berth_err e3 = BERTH_ERR_INIT;
	assert_true(unpack_buf(f, d3, &junk, diffid, &e3) < 0);
	assert_non_null(strstr(e3.msg, "not a tar"));
	strbuf_release(&junk);

	/* An empty stream is an empty layer. */
	struct strbuf empty = STRBUF_INIT;
	char want[IMAGE_DIGEST_BUF];
	sha256_of("", 0, want);
	_cleanup_close_ int d4 = new_dir(f, "empty");
	_cleanup_err_ berth_err e4 = BERTH_ERR_INIT;
	assert_int_equal(unpack_buf(f, d4, &empty, diffid, &e4), 0);
	assert_string_equal(diffid, want);
}

/* Bad input from a pipe whose writer has not finished: the error comes at
 * once, not when the writer closes (a hang here is the failure). */
static void test_pipe_error_while_open(void **state)
{
	struct fixture *f = *state;
	const struct ent bad[] = { { .name = "../x", .data = "escape" } };
	_cleanup_strbuf_ struct strbuf tar = make_tar(bad, 1);
	_cleanup_strbuf_ struct strbuf gz = gzip_buf(tar.buf, tar.len);
	_cleanup_strbuf_ struct strbuf zs = zstd_buf(tar.buf, tar.len);
	const struct strbuf *inputs[] = { &tar, &gz, &zs };
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		int p[2];
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(write(p[1], inputs[i]->buf, inputs[i]->len),
				 (ssize_t)inputs[i]->len);
		_cleanup_err_ berth_err err = BERTH_ERR_INIT;
		char diffid[IMAGE_DIGEST_BUF];
		assert_true(layer_unpack(p[0], f->layer, diffid, NULL, &err) < 0);
		assert_non_null(strstr(err.msg, "../x"));
		close(p[1]);
		close(p[0]);
	}
}

/* Nothing in the fixture dir but "layer" and what the test put there. */
static void assert_outside_untouched(struct fixture *f, const char *also)
{
	DIR *d = fdopendir(openat(f->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "layer") || (also && !strcmp(de->d_name, also)))
			continue;
		fail_msg("unexpected %s outside the layer", de->d_name);
	}
	closedir(d);
}

static char last_refusal[512];

static bool last_refusal_says(const char *what)
{
	return strstr(last_refusal, what) != NULL;
}

static void expect_refused(struct fixture *f, const struct ent *ents, size_t n, const char *entry)
{
	_cleanup_strbuf_ struct strbuf tar = make_tar(ents, n);
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	int r = unpack_buf(f, f->layer, &tar, diffid, &err);
	assert_true(r < 0);
	assert_non_null(err.msg);
	print_message("refused: %s\n", err.msg);
	snprintf(last_refusal, sizeof(last_refusal), "%s", err.msg);
	if (!strstr(err.msg, entry))
		fail_msg("error \"%s\" does not name \"%s\"", err.msg, entry);
}

static void test_attacks(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->dirfd, "outside", 0755), 0);
	_cleanup_free_ char *outside_file = xasprintf("%s/outside/target", f->dir);
	struct stat passwd_before, st;
	assert_int_equal(stat("/etc/passwd", &passwd_before), 0);

	const struct ent dotdot[] = { { .name = "../x", .data = "escape" } };
	expect_refused(f, dotdot, 1, "../x");
	const struct ent inner[] = { { .name = "a/", .type = AE_IFDIR },
				     { .name = "a/../../x", .data = "escape" } };
	expect_refused(f, inner, 2, "a/../../x");
	const struct ent via_dir_link[] = {
		{ .name = "up", .type = AE_IFLNK, .link = "../outside" },
		{ .name = "up/x", .data = "escape" }
	};
	expect_refused(f, via_dir_link, 2, "up/x");
	_cleanup_free_ char *under_root = xasprintf("root%s/outside/y", f->dir);
	const struct ent via_root[] = { { .name = "root", .type = AE_IFLNK, .link = "/" },
					{ .name = under_root, .data = "escape" } };
	expect_refused(f, via_root, 2, under_root);
	const struct ent hl_out[] = { { .name = "hl", .hardlink = "../outside/target" } };
	expect_refused(f, hl_out, 1, "hl");
	const struct ent hl_passwd[] = { { .name = "pw", .hardlink = "/etc/passwd" } };
	expect_refused(f, hl_passwd, 1, "pw");
	const struct ent hl_via_link[] = { { .name = "etc", .type = AE_IFLNK, .link = "/etc" },
					   { .name = "pw2", .hardlink = "etc/passwd" } };
	expect_refused(f, hl_via_link, 2, "pw2");
	/* The unpacker keeps the last parent open: a directory replaced by a
	 * symlink must not be reused from there. */
	const struct ent swap[] = { { .name = "s/", .type = AE_IFDIR },
				    { .name = "s/x", .data = "in" },
				    { .name = "s", .type = AE_IFLNK, .link = "../outside" },
				    { .name = "s/y", .data = "escape" } };
	expect_refused(f, swap, ARRAY_SIZE(swap), "s/y");
	assert_true(last_refusal_says("symlink"));
	const struct ent wh_up[] = { { .name = "d/", .type = AE_IFDIR }, { .name = "d/.wh..." } };
	expect_refused(f, wh_up, 2, "d/.wh...");
	const struct ent wh_dot[] = { { .name = ".wh.." } };
	expect_refused(f, wh_dot, 1, ".wh..");

	assert_outside_untouched(f, "outside");
	_cleanup_close_ int out = openat(f->dirfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(dup(out));
	struct dirent *de;
	while ((de = readdir(d)))
		assert_true(de->d_name[0] == '.');
	closedir(d);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_int_equal(st.st_nlink, passwd_before.st_nlink);
	assert_int_equal(st.st_mtim.tv_sec, passwd_before.st_mtim.tv_sec);
	(void)outside_file;
}

/* A symlink already in the layer where a file lands is replaced, not followed. */
static void test_replace_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *victim = xasprintf("%s/victim", f->dir);
	assert_int_equal(symlinkat(victim, f->layer, "f"), 0);
	assert_int_equal(symlinkat(f->dir, f->layer, "dir"), 0);
	const struct ent ents[] = { { .name = "f", .data = "mine" },
				    { .name = "dir/", .type = AE_IFDIR, .perm = 0700 },
				    { .name = "dir/inside", .data = "in" } };
	_cleanup_strbuf_ struct strbuf tar = make_tar(ents, ARRAY_SIZE(ents));
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	assert_int_equal(unpack_buf(f, f->layer, &tar, diffid, &err), 0);
	struct stat st;
	assert_int_equal(stat_at(f->layer, "f", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(stat_at(f->layer, "dir", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat_at(f->layer, "dir/inside", &st), 0);
	assert_outside_untouched(f, NULL);
}

static void test_whiteouts(void **state)
{
	struct fixture *f = *state;
	/* Already in this layer: whiteouts replace them. */
	assert_int_equal(mknodat(f->layer, "gone", S_IFREG | 0644, 0), 0);
	assert_int_equal(mkdirat(f->layer, "gonedir", 0755), 0);
	_cleanup_close_ int gd = openat(f->layer, "gonedir", O_PATH | O_DIRECTORY);
	assert_int_equal(mknodat(gd, "child", S_IFREG | 0644, 0), 0);
	const struct ent ents[] = {
		{ .name = "d/", .type = AE_IFDIR },
		{ .name = "d/keep", .data = "k" },
		{ .name = "d/.wh.old" },
		{ .name = ".wh.gone" },
		{ .name = ".wh.gonedir" },
		{ .name = "o/", .type = AE_IFDIR, .perm = 0711 },
		{ .name = "o/.wh..wh..opq" },
		{ .name = "o/new", .data = "n" },
		{ .name = ".wh..wh.plnk/", .type = AE_IFDIR },
		{ .name = ".wh..wh.plnk/123.456", .data = "aufs" },
		{ .name = "x/",
		  .type = AE_IFDIR,
		  .xname = "trusted.overlay.opaque",
		  .xvalue = "y",
		  .xlen = 1 },
		{ .name = "implicit/.wh.thing" },
	};
	_cleanup_strbuf_ struct strbuf tar = make_tar(ents, ARRAY_SIZE(ents));
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	assert_int_equal(unpack_buf(f, f->layer, &tar, diffid, &err), 0);
	const char *wh[] = { "d/old", "gone", "gonedir", "implicit/thing" };
	for (size_t i = 0; i < ARRAY_SIZE(wh); i++) {
		struct stat st;
		assert_int_equal(stat_at(f->layer, wh[i], &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_rdev, makedev(0, 0));
	}
	char proc[128], v[8];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/o", f->layer);
	assert_int_equal(getxattr(proc, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/x", f->layer);
	assert_int_equal(getxattr(proc, "trusted.overlay.opaque", v, sizeof(v)), -1);
	_cleanup_free_ char *tree = tree_of(f->layer);
	assert_null(strstr(tree, ".wh."));
	assert_non_null(strstr(tree, "o/new "));
	assert_non_null(strstr(tree, "d/keep "));
}

/* pack(unpack(tar)) keeps names, modes, owners, contents, links and whiteouts;
 * packing is deterministic. */
static void test_pack_round_trip(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .name = "bin/", .type = AE_IFDIR, .perm = 0755 },
		{ .name = "bin/tool",
		  .data = "#!/bin/sh\necho hi\n",
		  .perm = 04711,
		  .uid = 3,
		  .gid = 4 },
		{ .name = "bin/tool2", .hardlink = "bin/tool" },
		{ .name = "bin/sh", .type = AE_IFLNK, .link = "busybox" },
		{ .name = "etc/", .type = AE_IFDIR, .perm = 0700, .uid = 5 },
		{ .name = "etc/conf",
		  .data = "a=b\n",
		  .xname = "user.k",
		  .xvalue = "val",
		  .xlen = 3 },
		{ .name = "etc/.wh.removed" },
		{ .name = "opq/", .type = AE_IFDIR },
		{ .name = "opq/.wh..wh..opq" },
		{ .name = "opq/only", .data = "o" },
		{ .name = "dev/", .type = AE_IFDIR },
		{ .name = "dev/null", .type = AE_IFCHR, .perm = 0666, .rdev = 0x0103 },
		{ .name = "dev/fifo", .type = AE_IFIFO },
	};
	_cleanup_strbuf_ struct strbuf tar = make_tar(ents, ARRAY_SIZE(ents));
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	assert_int_equal(unpack_buf(f, f->layer, &tar, diffid, &err), 0);

	_cleanup_close_ int rd = openat(f->layer, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int out =
		openat(f->dirfd, "packed.tar", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char packed[IMAGE_DIGEST_BUF], again[IMAGE_DIGEST_BUF], want[IMAGE_DIGEST_BUF];
	uint64_t size;
	assert_int_equal(layer_pack(f->layer, out, packed, &size, &err), 0);
	char *buf = xmalloc(size);
	assert_int_equal(pread(out, buf, size, 0), (ssize_t)size);
	sha256_of(buf, size, want);
	assert_string_equal(packed, want);

	/* The tar says overlay's whiteouts in the tar form, in the order of the
	 * names on disk. */
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, buf, size), ARCHIVE_OK);
	struct strbuf names = STRBUF_INIT;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		strbuf_addf(&names, "%s", archive_entry_pathname(e));
		if (archive_entry_hardlink(e))
			strbuf_addf(&names, "=>%s", archive_entry_hardlink(e));
		strbuf_addch(&names, ' ');
	}
	archive_read_free(a);
	assert_string_equal(names.buf,
			    "bin/ bin/sh bin/tool bin/tool2=>bin/tool dev/ dev/fifo dev/null "
			    "etc/ etc/conf etc/.wh.removed opq/ opq/.wh..wh..opq opq/only ");
	strbuf_release(&names);

	_cleanup_close_ int out2 =
		openat(f->dirfd, "again.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_int_equal(layer_pack(rd, out2, again, NULL, &err), 0);
	assert_string_equal(again, packed);

	_cleanup_close_ int dir2 = new_dir(f, "second");
	struct strbuf sb = { .alloc = size + 1, .len = size, .buf = buf };
	char diffid2[IMAGE_DIGEST_BUF];
	assert_int_equal(unpack_buf(f, dir2, &sb, diffid2, &err), 0);
	assert_string_equal(diffid2, packed);
	_cleanup_free_ char *t1 = tree_of(f->layer);
	_cleanup_free_ char *t2 = tree_of(dir2);
	assert_string_equal(t1, t2);
	assert_non_null(strstr(t1, "trusted.overlay.opaque=1"));
	assert_non_null(strstr(t1, "etc/removed 20000 0:0"));
	free(buf);
}

/* An overlay upper dir with a redirected directory cannot be a layer: pack
 * says so instead of writing a tar that lacks the lower layer's part. */
static void test_pack_refuses_redirect(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->layer, "renamed", 0755), 0);
	char proc[128];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/renamed", f->layer);
	assert_int_equal(setxattr(proc, "trusted.overlay.redirect", "/old", 4, 0), 0);
	_cleanup_close_ int out = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char diffid[IMAGE_DIGEST_BUF];
	assert_true(layer_pack(f->layer, out, diffid, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "renamed"));
	assert_non_null(strstr(err.msg, "redirect"));
}

static void test_compress_gzip(void **state)
{
	struct fixture *f = *state;
	_cleanup_strbuf_ struct strbuf tar = ordinary_tar();
	_cleanup_close_ int in = data_fd(f, tar.buf, tar.len);
	_cleanup_close_ int out = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char digest[IMAGE_DIGEST_BUF], want[IMAGE_DIGEST_BUF], diffid[IMAGE_DIGEST_BUF];
	uint64_t size;
	assert_int_equal(layer_compress_gzip(in, out, digest, &size, &err), 0);
	assert_true(size > 0 && size < tar.len);
	char *gz = xmalloc(size);
	assert_int_equal(pread(out, gz, size, 0), (ssize_t)size);
	sha256_of(gz, size, want);
	assert_string_equal(digest, want);
	assert_int_equal(gz[0] & 0xff, 0x1f);
	assert_int_equal(lseek(out, 0, SEEK_SET), 0);
	struct layer_unpack_stats st;
	assert_int_equal(layer_unpack(out, f->layer, diffid, &st, &err), 0);
	sha256_of(tar.buf, tar.len, want);
	assert_string_equal(diffid, want);
	free(gz);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"test_unpack: needs root (owners, devices, trusted xattrs); skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ordinary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compressions_and_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_empty_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe_error_while_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_refuses_redirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_gzip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
