/* logs.h - reading a container's json-file log (Docker's format: one JSON
 * object a line, {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}),
 * across its rotated files (path, path.1, ... oldest last), for `berth logs`.
 *
 *   logs_read()   copy the selected entries to out_fd/err_fd (stdout and
 *                 stderr entries), oldest first; with follow, keep reading as
 *                 the monitor appends and rotates, until alive() says the
 *                 container stopped and the file is drained
 *
 * As Docker's: --tail counts the file's entries before the stream and time
 * filters apply; a line still being written is not shown until complete.
 */
#ifndef BERTH_ENGINE_LOGS_H
#define BERTH_ENGINE_LOGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct logs_opts {
	bool follow;
	bool timestamps;  /* prefix each line with its RFC3339Nano time and a space */
	bool want_stdout; /* neither set: both */
	bool want_stderr;
	long tail;        /* -1: all; N: the last N lines */
	int64_t since_ns; /* 0: no bound; else only entries at or after (ns since epoch) */
	int64_t until_ns; /* 0: no bound; else only entries before (follow ends then) */
	/* follow: is the container still running? Asked at every wake-up and at
	 * least every 250 ms; NULL: follow until an error (the caller's signal) */
	bool (*alive)(void *opaque);
	void *opaque;
};

int logs_read(const char *path, const struct logs_opts *o, int out_fd, int err_fd, berth_err *err);
/* Docker's --since/--until values: RFC3339 (with or without zone, nanoseconds),
 * a Unix timestamp with optional fraction, or a duration relative to now ("10m", "1h30m"). */
int logs_parse_time(const char *s, int64_t now_ns, int64_t *out_ns, berth_err *err);

#endif
