/* cleanup.h - scope-bound cleanup and explicit ownership hand-over.
 *
 *   _cleanup_free_      free() the pointer when it goes out of scope
 *   _cleanup_close_     close() the fd (if >= 0)
 *   _cleanup_fclose_    fclose() the FILE
 *   _cleanup_dir_       closedir() the DIR
 *   _cleanup_strv_      free a NULL-terminated array of strings and the array
 *   TAKE_PTR(p)         return p and leave NULL behind (disarms the cleanup)
 *   TAKE_FD(fd)         return fd and leave -1 behind
 */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static inline void cleanup_strvp(char ***v)
{
	strv_free(*v);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_dir_ __attribute__((cleanup(cleanup_closedirp)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

#define TAKE_PTR(p)                                                                      \
	({                                                                               \
		__typeof__(p) _tp = (p);                                                 \
		(p) = NULL;                                                              \
		_tp;                                                                     \
	})

#define TAKE_FD(fd)                                                                      \
	({                                                                               \
		int _tf = (fd);                                                          \
		(fd) = -1;                                                               \
		_tf;                                                                     \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Retry a syscall expression while it fails with EINTR. */
#define TEMP_FAILURE_RETRY_INT(expr)                                                     \
	({                                                                               \
		long _r;                                                                 \
		do                                                                       \
			_r = (long)(expr);                                               \
		while (_r == -1 && errno == EINTR);                                      \
		_r;                                                                      \
	})

#endif
