/* error.c - berth_err: negative errno plus a context chain for the user. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_message(berth_err *err, int errnum, int with_strerror, const char *fmt, va_list ap)
{
	int code = errnum > 0 ? errnum : (errnum < 0 ? -errnum : EINVAL);
	if (!err)
		return -code;
	char *base = NULL;
	if (vasprintf(&base, fmt, ap) < 0)
		base = NULL;
	free(err->msg);
	err->msg = NULL;
	if (with_strerror && errnum != 0) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", base ? base : "error", strerror(code)) < 0)
			full = NULL;
		free(base);
		base = full;
	}
	err->msg = base;
	err->code = code;
	return -code;
}

int berth_error(berth_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_message(err, errnum, 1, fmt, ap);
	va_end(ap);
	return r;
}

int berth_error_code(berth_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_message(err, errnum, 0, fmt, ap);
	va_end(ap);
	return r;
}

int berth_error_wrap(berth_err *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	int code = err->code ? err->code : EINVAL;
	char *ctx = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (ctx) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", ctx, err->msg ? err->msg : strerror(code)) >= 0) {
			free(err->msg);
			err->msg = full;
		}
		free(ctx);
	}
	err->code = code;
	return -code;
}

void berth_err_clear(berth_err *err)
{
	if (!err)
		return;
	free(err->msg);
	err->msg = NULL;
	err->code = 0;
}
