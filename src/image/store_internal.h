/* store_internal.h - what the store's files share (store.c: blobs and
 * layers; store_images.c: images and names; store_gc.c: removal, garbage
 * collection, check). Not for use outside src/image/store*.c.
 *
 *   store_temp_name()      a random name with a prefix, for tmp/ entries
 *   store_lock_object()    flock locks/<kind>-<hex> (blocking): the lock's fd
 *   store_ingest_begin()   hold locks/gc shared while this process adds content
 *   store_gc_try_lock()    locks/gc exclusive, or -1 while an adder works
 *   store_layer_row_exists()  is the layer recorded?
 *   store_bind_exec()      run a statement with one or two text parameters
 *   store_query_text()     the text of a one-row, one-parameter query, or NULL
 *   store_query_strv()     a column of a query (one parameter, or none when arg is NULL) as a strv
 *   store_open_dir_of()    a DIR stream of a directory fd (the fd stays open)
 *   store_tmp_create()     a new tmp/ file or directory, already locked (its fd)
 *   store_sweep_tmp()      the entries of tmp/ no writer holds (left by killed
 *                          processes): each to seen(), removed when remove
 */
#ifndef BERTH_IMAGE_STORE_INTERNAL_H
#define BERTH_IMAGE_STORE_INTERNAL_H

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "common/error.h"

struct image_store {
	char *root;
	int rootfd;
	int blobsfd;        /* blobs/sha256 */
	int layersfd;       /* layers */
	int tmpfd;          /* tmp */
	int locksfd;        /* locks */
	int ingestfd;       /* locks/gc held shared while this process adds content */
	sqlite3 *db;        /* serialised by SQLite (FULLMUTEX) statement by statement */
	pthread_mutex_t mu; /* one transaction at a time, for pulls' worker threads */
};

char *store_temp_name(const char *prefix);
int store_lock_object(struct image_store *s, const char *kind, const char *digest, berth_err *err);
int store_ingest_begin(struct image_store *s, berth_err *err);
int store_gc_try_lock(struct image_store *s);
bool store_layer_row_exists(struct image_store *s, const char *chain_id);
int store_bind_exec(struct image_store *s, const char *sql, const char *a, const char *b,
		    berth_err *err);
char *store_query_text(struct image_store *s, const char *sql, const char *arg);
char **store_query_strv(struct image_store *s, const char *sql, const char *arg);
DIR *store_open_dir_of(int dirfd);
/* An entry of tmp/ with a hidden name younger than this is being made. */
#define TMP_HIDDEN_GRACE_S 60
int store_tmp_create(struct image_store *s, const char *name, bool dir, berth_err *err);
size_t store_sweep_tmp(struct image_store *s, bool remove, void (*seen)(const char *, void *),
		       void *opaque);

#endif
