/* error.h - the one error convention of Berth.
 *
 * Functions that can fail return a negative errno (or -1 with errno-less
 * failures mapped to -EINVAL) and fill a struct berth_err that carries the
 * message for the user. Callers add context on the way up with
 * berth_error_wrap(), giving "outer: inner: cause" chains.
 *
 *   berth_error()        set the error (errnum > 0 appends strerror), return -errnum
 *   berth_error_wrap()   prepend context to an existing error, return its code
 *   berth_err_clear()    free the message, reset to "no error"
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>

typedef struct berth_err {
	int code;  /* positive errno of the root cause, 0 when none */
	char *msg; /* full message, owned; NULL when no error */
} berth_err;

#define BERTH_ERR_INIT { 0, NULL }

/* Set *err to the formatted message; when errnum > 0, ": strerror(errnum)" is
 * appended. Returns -errnum (or -EINVAL when errnum is 0). A NULL err is allowed. */
int berth_error(berth_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same as berth_error() with errnum = errno at call time. */
#define berth_error_errno(err, ...) berth_error((err), errno, __VA_ARGS__)

/* Set the error from a plain message without strerror, keeping errnum as code. */
int berth_error_code(berth_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "context: " to the message. Returns the negative code of the error. */
int berth_error_wrap(berth_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Release the message and reset. */
void berth_err_clear(berth_err *err);

#define _cleanup_err_ __attribute__((cleanup(berth_err_clear)))

#endif
