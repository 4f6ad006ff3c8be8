/* lazy_archive.c - the libarchive functions Berth calls, forwarded to
 * libarchive.so.13 loaded on first use (see lazy_archive.h).
 * Written by contrib/gen-lazy-archive.py from the installed headers; run it
 * again when the code starts calling another libarchive function. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/lazy_archive.h"

static struct {
	time_t (*archive_entry_atime)(struct archive_entry *);
	int (*archive_entry_atime_is_set)(struct archive_entry *);
	long (*archive_entry_atime_nsec)(struct archive_entry *);
	__LA_MODE_T (*archive_entry_filetype)(struct archive_entry *);
	void (*archive_entry_free)(struct archive_entry *);
	la_int64_t (*archive_entry_gid)(struct archive_entry *);
	const char *(*archive_entry_hardlink)(struct archive_entry *);
	const char *(*archive_entry_hardlink_utf8)(struct archive_entry *);
	time_t (*archive_entry_mtime)(struct archive_entry *);
	long (*archive_entry_mtime_nsec)(struct archive_entry *);
	struct archive_entry *(*archive_entry_new)(void);
	const char *(*archive_entry_pathname)(struct archive_entry *);
	const char *(*archive_entry_pathname_utf8)(struct archive_entry *);
	__LA_MODE_T (*archive_entry_perm)(struct archive_entry *);
	dev_t (*archive_entry_rdev)(struct archive_entry *);
	void (*archive_entry_set_filetype)(struct archive_entry *, unsigned int);
	void (*archive_entry_set_gid)(struct archive_entry *, la_int64_t);
	void (*archive_entry_set_hardlink)(struct archive_entry *, const char *);
	void (*archive_entry_set_mtime)(struct archive_entry *, time_t, long);
	void (*archive_entry_set_pathname)(struct archive_entry *, const char *);
	void (*archive_entry_set_perm)(struct archive_entry *, __LA_MODE_T);
	void (*archive_entry_set_rdev)(struct archive_entry *, dev_t);
	void (*archive_entry_set_size)(struct archive_entry *, la_int64_t);
	void (*archive_entry_set_symlink)(struct archive_entry *, const char *);
	void (*archive_entry_set_uid)(struct archive_entry *, la_int64_t);
	la_int64_t (*archive_entry_size)(struct archive_entry *);
	int (*archive_entry_size_is_set)(struct archive_entry *);
	void (*archive_entry_sparse_add_entry)(struct archive_entry *, la_int64_t, la_int64_t);
	const char *(*archive_entry_symlink)(struct archive_entry *);
	const char *(*archive_entry_symlink_utf8)(struct archive_entry *);
	la_int64_t (*archive_entry_uid)(struct archive_entry *);
	void (*archive_entry_xattr_add_entry)(struct archive_entry *, const char *, const void *,
					      size_t);
	int (*archive_entry_xattr_next)(struct archive_entry *, const char **, const void **,
					size_t *);
	int (*archive_entry_xattr_reset)(struct archive_entry *);
	int (*archive_errno)(struct archive *);
	const char *(*archive_error_string)(struct archive *);
	la_ssize_t (*archive_read_data)(struct archive *, void *, size_t);
	int (*archive_read_data_block)(struct archive *, const void **, size_t *, la_int64_t *);
	int (*archive_read_free)(struct archive *);
	struct archive *(*archive_read_new)(void);
	int (*archive_read_next_header)(struct archive *, struct archive_entry **);
	int (*archive_read_open)(struct archive *, void *, archive_open_callback *,
				 archive_read_callback *, archive_close_callback *);
	int (*archive_read_open_fd)(struct archive *, int, size_t);
	int (*archive_read_open_memory)(struct archive *, const void *, size_t);
	int (*archive_read_support_filter_all)(struct archive *);
	int (*archive_read_support_format_gnutar)(struct archive *);
	int (*archive_read_support_format_raw)(struct archive *);
	int (*archive_read_support_format_tar)(struct archive *);
	int (*archive_write_close)(struct archive *);
	la_ssize_t (*archive_write_data)(struct archive *, const void *, size_t);
	int (*archive_write_free)(struct archive *);
	int (*archive_write_header)(struct archive *, struct archive_entry *);
	struct archive *(*archive_write_new)(void);
	int (*archive_write_open)(struct archive *, void *, archive_open_callback *,
				  archive_write_callback *, archive_close_callback *);
	int (*archive_write_open_fd)(struct archive *, int);
	int (*archive_write_set_bytes_in_last_block)(struct archive *, int);
	int (*archive_write_set_format_pax)(struct archive *);
	int (*archive_write_set_format_pax_restricted)(struct archive *);
	void (*archive_set_error)(struct archive *, int, const char *, ...);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error;

static void load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		load_error = strdup(e ? e : "dlopen failed");
		return;
	}
	if (!(*(void **)&fn.archive_entry_atime = dlsym(h, "archive_entry_atime")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_atime");
	if (!(*(void **)&fn.archive_entry_atime_is_set = dlsym(h, "archive_entry_atime_is_set")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_atime_is_set");
	if (!(*(void **)&fn.archive_entry_atime_nsec = dlsym(h, "archive_entry_atime_nsec")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_atime_nsec");
	if (!(*(void **)&fn.archive_entry_filetype = dlsym(h, "archive_entry_filetype")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_filetype");
	if (!(*(void **)&fn.archive_entry_free = dlsym(h, "archive_entry_free")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_free");
	if (!(*(void **)&fn.archive_entry_gid = dlsym(h, "archive_entry_gid")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_gid");
	if (!(*(void **)&fn.archive_entry_hardlink = dlsym(h, "archive_entry_hardlink")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_hardlink");
	if (!(*(void **)&fn.archive_entry_hardlink_utf8 =
		      dlsym(h, "archive_entry_hardlink_utf8")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_hardlink_utf8");
	if (!(*(void **)&fn.archive_entry_mtime = dlsym(h, "archive_entry_mtime")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_mtime");
	if (!(*(void **)&fn.archive_entry_mtime_nsec = dlsym(h, "archive_entry_mtime_nsec")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_mtime_nsec");
	if (!(*(void **)&fn.archive_entry_new = dlsym(h, "archive_entry_new")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_new");
	if (!(*(void **)&fn.archive_entry_pathname = dlsym(h, "archive_entry_pathname")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_pathname");
	if (!(*(void **)&fn.archive_entry_pathname_utf8 =
		      dlsym(h, "archive_entry_pathname_utf8")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_pathname_utf8");
	if (!(*(void **)&fn.archive_entry_perm = dlsym(h, "archive_entry_perm")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_perm");
	if (!(*(void **)&fn.archive_entry_rdev = dlsym(h, "archive_entry_rdev")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_rdev");
	if (!(*(void **)&fn.archive_entry_set_filetype = dlsym(h, "archive_entry_set_filetype")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_filetype");
	if (!(*(void **)&fn.archive_entry_set_gid = dlsym(h, "archive_entry_set_gid")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_gid");
	if (!(*(void **)&fn.archive_entry_set_hardlink = dlsym(h, "archive_entry_set_hardlink")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_hardlink");
	if (!(*(void **)&fn.archive_entry_set_mtime = dlsym(h, "archive_entry_set_mtime")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_mtime");
	if (!(*(void **)&fn.archive_entry_set_pathname = dlsym(h, "archive_entry_set_pathname")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_pathname");
	if (!(*(void **)&fn.archive_entry_set_perm = dlsym(h, "archive_entry_set_perm")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_perm");
	if (!(*(void **)&fn.archive_entry_set_rdev = dlsym(h, "archive_entry_set_rdev")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_rdev");
	if (!(*(void **)&fn.archive_entry_set_size = dlsym(h, "archive_entry_set_size")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_size");
	if (!(*(void **)&fn.archive_entry_set_symlink = dlsym(h, "archive_entry_set_symlink")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_symlink");
	if (!(*(void **)&fn.archive_entry_set_uid = dlsym(h, "archive_entry_set_uid")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_set_uid");
	if (!(*(void **)&fn.archive_entry_size = dlsym(h, "archive_entry_size")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_size");
	if (!(*(void **)&fn.archive_entry_size_is_set = dlsym(h, "archive_entry_size_is_set")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_size_is_set");
	if (!(*(void **)&fn.archive_entry_sparse_add_entry =
		      dlsym(h, "archive_entry_sparse_add_entry")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_sparse_add_entry");
	if (!(*(void **)&fn.archive_entry_symlink = dlsym(h, "archive_entry_symlink")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_symlink");
	if (!(*(void **)&fn.archive_entry_symlink_utf8 = dlsym(h, "archive_entry_symlink_utf8")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_symlink_utf8");
	if (!(*(void **)&fn.archive_entry_uid = dlsym(h, "archive_entry_uid")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_uid");
	if (!(*(void **)&fn.archive_entry_xattr_add_entry =
		      dlsym(h, "archive_entry_xattr_add_entry")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_xattr_add_entry");
	if (!(*(void **)&fn.archive_entry_xattr_next = dlsym(h, "archive_entry_xattr_next")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_xattr_next");
	if (!(*(void **)&fn.archive_entry_xattr_reset = dlsym(h, "archive_entry_xattr_reset")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_entry_xattr_reset");
	if (!(*(void **)&fn.archive_errno = dlsym(h, "archive_errno")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_errno");
	if (!(*(void **)&fn.archive_error_string = dlsym(h, "archive_error_string")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_error_string");
	if (!(*(void **)&fn.archive_read_data = dlsym(h, "archive_read_data")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_data");
	if (!(*(void **)&fn.archive_read_data_block = dlsym(h, "archive_read_data_block")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_data_block");
	if (!(*(void **)&fn.archive_read_free = dlsym(h, "archive_read_free")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_free");
	if (!(*(void **)&fn.archive_read_new = dlsym(h, "archive_read_new")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_new");
	if (!(*(void **)&fn.archive_read_next_header = dlsym(h, "archive_read_next_header")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_next_header");
	if (!(*(void **)&fn.archive_read_open = dlsym(h, "archive_read_open")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_open");
	if (!(*(void **)&fn.archive_read_open_fd = dlsym(h, "archive_read_open_fd")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_open_fd");
	if (!(*(void **)&fn.archive_read_open_memory = dlsym(h, "archive_read_open_memory")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_open_memory");
	if (!(*(void **)&fn.archive_read_support_filter_all =
		      dlsym(h, "archive_read_support_filter_all")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_support_filter_all");
	if (!(*(void **)&fn.archive_read_support_format_gnutar =
		      dlsym(h, "archive_read_support_format_gnutar")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_support_format_gnutar");
	if (!(*(void **)&fn.archive_read_support_format_raw =
		      dlsym(h, "archive_read_support_format_raw")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_support_format_raw");
	if (!(*(void **)&fn.archive_read_support_format_tar =
		      dlsym(h, "archive_read_support_format_tar")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_read_support_format_tar");
	if (!(*(void **)&fn.archive_write_close = dlsym(h, "archive_write_close")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_close");
	if (!(*(void **)&fn.archive_write_data = dlsym(h, "archive_write_data")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_data");
	if (!(*(void **)&fn.archive_write_free = dlsym(h, "archive_write_free")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_free");
	if (!(*(void **)&fn.archive_write_header = dlsym(h, "archive_write_header")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_header");
	if (!(*(void **)&fn.archive_write_new = dlsym(h, "archive_write_new")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_new");
	if (!(*(void **)&fn.archive_write_open = dlsym(h, "archive_write_open")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_open");
	if (!(*(void **)&fn.archive_write_open_fd = dlsym(h, "archive_write_open_fd")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_open_fd");
	if (!(*(void **)&fn.archive_write_set_bytes_in_last_block =
		      dlsym(h, "archive_write_set_bytes_in_last_block")) &&
	    !load_error)
		load_error =
			strdup("libarchive.so.13 has no archive_write_set_bytes_in_last_block");
	if (!(*(void **)&fn.archive_write_set_format_pax =
		      dlsym(h, "archive_write_set_format_pax")) &&
	    !load_error)
		load_error = strdup("libarchive.so.13 has no archive_write_set_format_pax");
	if (!(*(void **)&fn.archive_write_set_format_pax_restricted =
		      dlsym(h, "archive_write_set_format_pax_restricted")) &&
	    !load_error)
		load_error =
			strdup("libarchive.so.13 has no archive_write_set_format_pax_restricted");
	if (!(*(void **)&fn.archive_set_error = dlsym(h, "archive_set_error")) && !load_error)
		load_error = strdup("libarchive.so.13 has no archive_set_error");
}

int lazy_archive_load(berth_err *err)
{
	pthread_once(&once, load);
	if (!load_error)
		return 0;
	return berth_error_code(err, ELIBACC,
				"cannot load libarchive: %s (apt-get install libarchive13)",
				load_error);
}

/* Callers load the library first (lazy_archive_load) and report its error;
 * reaching a wrapper without it is a bug in Berth, not bad input. */
static void need(void)
{
	pthread_once(&once, load);
	if (load_error) {
		fprintf(stderr, "berth: cannot load libarchive: %s\n", load_error);
		abort();
	}
}

time_t archive_entry_atime(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_atime(a0);
}

int archive_entry_atime_is_set(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_atime_is_set(a0);
}

long archive_entry_atime_nsec(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_atime_nsec(a0);
}

__LA_MODE_T archive_entry_filetype(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_filetype(a0);
}

void archive_entry_free(struct archive_entry *a0)
{
	need();
	fn.archive_entry_free(a0);
}

la_int64_t archive_entry_gid(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_gid(a0);
}

const char *archive_entry_hardlink(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_hardlink(a0);
}

const char *archive_entry_hardlink_utf8(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_hardlink_utf8(a0);
}

time_t archive_entry_mtime(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_mtime(a0);
}

long archive_entry_mtime_nsec(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_mtime_nsec(a0);
}

struct archive_entry *archive_entry_new(void)
{
	need();
	return fn.archive_entry_new();
}

const char *archive_entry_pathname(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_pathname(a0);
}

const char *archive_entry_pathname_utf8(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_pathname_utf8(a0);
}

__LA_MODE_T archive_entry_perm(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_perm(a0);
}

dev_t archive_entry_rdev(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_rdev(a0);
}

void archive_entry_set_filetype(struct archive_entry *a0, unsigned int a1)
{
	need();
	fn.archive_entry_set_filetype(a0, a1);
}

void archive_entry_set_gid(struct archive_entry *a0, la_int64_t a1)
{
	need();
	fn.archive_entry_set_gid(a0, a1);
}

void archive_entry_set_hardlink(struct archive_entry *a0, const char *a1)
{
	need();
	fn.archive_entry_set_hardlink(a0, a1);
}

void archive_entry_set_mtime(struct archive_entry *a0, time_t a1, long a2)
{
	need();
	fn.archive_entry_set_mtime(a0, a1, a2);
}

void archive_entry_set_pathname(struct archive_entry *a0, const char *a1)
{
	need();
	fn.archive_entry_set_pathname(a0, a1);
}

void archive_entry_set_perm(struct archive_entry *a0, __LA_MODE_T a1)
{
	need();
	fn.archive_entry_set_perm(a0, a1);
}

void archive_entry_set_rdev(struct archive_entry *a0, dev_t a1)
{
	need();
	fn.archive_entry_set_rdev(a0, a1);
}

void archive_entry_set_size(struct archive_entry *a0, la_int64_t a1)
{
	need();
	fn.archive_entry_set_size(a0, a1);
}

void archive_entry_set_symlink(struct archive_entry *a0, const char *a1)
{
	need();
	fn.archive_entry_set_symlink(a0, a1);
}

void archive_entry_set_uid(struct archive_entry *a0, la_int64_t a1)
{
	need();
	fn.archive_entry_set_uid(a0, a1);
}

la_int64_t archive_entry_size(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_size(a0);
}

int archive_entry_size_is_set(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_size_is_set(a0);
}

void archive_entry_sparse_add_entry(struct archive_entry *a0, la_int64_t a1, la_int64_t a2)
{
	need();
	fn.archive_entry_sparse_add_entry(a0, a1, a2);
}

const char *archive_entry_symlink(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_symlink(a0);
}

const char *archive_entry_symlink_utf8(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_symlink_utf8(a0);
}

la_int64_t archive_entry_uid(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_uid(a0);
}

void archive_entry_xattr_add_entry(struct archive_entry *a0, const char *a1, const void *a2,
				   size_t a3)
{
	need();
	fn.archive_entry_xattr_add_entry(a0, a1, a2, a3);
}

int archive_entry_xattr_next(struct archive_entry *a0, const char **a1, const void **a2, size_t *a3)
{
	need();
	return fn.archive_entry_xattr_next(a0, a1, a2, a3);
}

int archive_entry_xattr_reset(struct archive_entry *a0)
{
	need();
	return fn.archive_entry_xattr_reset(a0);
}

int archive_errno(struct archive *a0)
{
	need();
	return fn.archive_errno(a0);
}

const char *archive_error_string(struct archive *a0)
{
	need();
	return fn.archive_error_string(a0);
}

la_ssize_t archive_read_data(struct archive *a0, void *a1, size_t a2)
{
	need();
	return fn.archive_read_data(a0, a1, a2);
}

int archive_read_data_block(struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3)
{
	need();
	return fn.archive_read_data_block(a0, a1, a2, a3);
}

int archive_read_free(struct archive *a0)
{
	need();
	return fn.archive_read_free(a0);
}

struct archive *archive_read_new(void)
{
	need();
	return fn.archive_read_new();
}

int archive_read_next_header(struct archive *a0, struct archive_entry **a1)
{
	need();
	return fn.archive_read_next_header(a0, a1);
}

int archive_read_open(struct archive *a0, void *a1, archive_open_callback *a2,
		      archive_read_callback *a3, archive_close_callback *a4)
{
	need();
	return fn.archive_read_open(a0, a1, a2, a3, a4);
}

int archive_read_open_fd(struct archive *a0, int a1, size_t a2)
{
	need();
	return fn.archive_read_open_fd(a0, a1, a2);
}

int archive_read_open_memory(struct archive *a0, const void *a1, size_t a2)
{
	need();
	return fn.archive_read_open_memory(a0, a1, a2);
}

int archive_read_support_filter_all(struct archive *a0)
{
	need();
	return fn.archive_read_support_filter_all(a0);
}

int archive_read_support_format_gnutar(struct archive *a0)
{
	need();
	return fn.archive_read_support_format_gnutar(a0);
}

int archive_read_support_format_raw(struct archive *a0)
{
	need();
	return fn.archive_read_support_format_raw(a0);
}

int archive_read_support_format_tar(struct archive *a0)
{
	need();
	return fn.archive_read_support_format_tar(a0);
}

int archive_write_close(struct archive *a0)
{
	need();
	return fn.archive_write_close(a0);
}

la_ssize_t archive_write_data(struct archive *a0, const void *a1, size_t a2)
{
	need();
	return fn.archive_write_data(a0, a1, a2);
}

int archive_write_free(struct archive *a0)
{
	need();
	return fn.archive_write_free(a0);
}

int archive_write_header(struct archive *a0, struct archive_entry *a1)
{
	need();
	return fn.archive_write_header(a0, a1);
}

struct archive *archive_write_new(void)
{
	need();
	return fn.archive_write_new();
}

int archive_write_open(struct archive *a0, void *a1, archive_open_callback *a2,
		       archive_write_callback *a3, archive_close_callback *a4)
{
	need();
	return fn.archive_write_open(a0, a1, a2, a3, a4);
}

int archive_write_open_fd(struct archive *a0, int a1)
{
	need();
	return fn.archive_write_open_fd(a0, a1);
}

int archive_write_set_bytes_in_last_block(struct archive *a0, int a1)
{
	need();
	return fn.archive_write_set_bytes_in_last_block(a0, a1);
}

int archive_write_set_format_pax(struct archive *a0)
{
	need();
	return fn.archive_write_set_format_pax(a0);
}

int archive_write_set_format_pax_restricted(struct archive *a0)
{
	need();
	return fn.archive_write_set_format_pax_restricted(a0);
}

/* Variadic: formatted here, passed on as one string. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	need();
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fn.archive_set_error(a, err, "%s", msg ? msg : fmt);
	free(msg);
}
