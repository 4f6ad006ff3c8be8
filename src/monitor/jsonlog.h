/* jsonlog.h - the monitor's json-file log writer (Docker's format and
 * rotation), without a JSON library: the monitor stays small.
 *
 * Each chunk read from a stream is split into lines; a line is written as
 * {"log":"<escaped text>\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}
 * A line without its newline is held until more arrives, and written
 * without the "\n" when it passes 16 KiB or at jsonlog_flush() (Docker's
 * partial messages). With max_size > 0 the file rotates before it would
 * pass max_size: path -> path.1 -> ... -> path.(max_files-1), the oldest
 * dropped, as Docker's json-file with max-size/max-file.
 *
 *   jsonlog_open()    open (append) the log at path; max_size 0: unbounded
 *   jsonlog_write()   append what a stream produced
 *   jsonlog_flush()   write held partial lines (the stream ended)
 *   jsonlog_close()
 *
 * Also exported, for the tests and for other writers of the format:
 *   jsonlog_escape()       the JSON string body Docker writes for "log"
 *   jsonlog_format_time()  RFC3339Nano in UTC, as Go formats it
 */
#ifndef BERTH_MONITOR_JSONLOG_H
#define BERTH_MONITOR_JSONLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A line longer than this is written in pieces of this size (Docker's 16 KiB). */
#define JSONLOG_LINE_MAX (16 * 1024)
/* Room for jsonlog_format_time()'s text and its NUL. */
#define JSONLOG_TIME_MAX 40

struct jsonlog;

enum jsonlog_stream { JSONLOG_STDOUT = 0, JSONLOG_STDERR = 1 };

/* NULL with errno set on failure. */
struct jsonlog *jsonlog_open(const char *path, int64_t max_size, int max_files);
/* 0, or -errno when the file cannot be written. */
int jsonlog_write(struct jsonlog *l, enum jsonlog_stream s, const char *buf, size_t n);
int jsonlog_flush(struct jsonlog *l);
void jsonlog_close(struct jsonlog *l);

/* Escape n bytes into out (room for 6 * n), returning the length written:
 * \" \\ \n \r \t, other controls and < > & as \u00xx, U+2028/U+2029 as
 * \u2028/\u2029, each byte of invalid UTF-8 as \ufffd. Not NUL-terminated. */
size_t jsonlog_escape(const char *in, size_t n, char *out);
/* "2006-01-02T15:04:05.123Z" (trailing zeros of the fraction trimmed) into buf
 * of JSONLOG_TIME_MAX bytes; returns its length. */
size_t jsonlog_format_time(const struct timespec *ts, char *buf);

#endif
