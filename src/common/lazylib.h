/* lazylib.h - a shared library loaded on first use, its functions looked
 * up by name: what lazy_nft.c and lazy_crypto.c share (libraries whose
 * dynamic linking would cost every berth command its start time, though few
 * commands need them).
 *
 *   struct lazy_lib   the library's soname, the names to resolve and where
 *                     their addresses go; static, with LAZY_LIB_INIT
 *   lazy_lib_ready()  load it once (thread-safe); false when the library
 *                     or one of the names is missing
 *   lazy_lib_error()  why not, or NULL
 */
#ifndef BERTH_LAZYLIB_H
#define BERTH_LAZYLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct lazy_lib {
	const char *soname;
	const char *const *names; /* n names, resolved into fns[i] */
	void **fns;
	size_t n;
	pthread_mutex_t lock;
	bool done;
	char *error;
};

#define LAZY_LIB_INIT(so, names_, fns_, n_)                                                        \
	{ .soname = (so), .names = (names_), .fns = (fns_), .n = (n_),                              \
	  .lock = PTHREAD_MUTEX_INITIALIZER }

bool lazy_lib_ready(struct lazy_lib *l);
const char *lazy_lib_error(struct lazy_lib *l);

#endif
