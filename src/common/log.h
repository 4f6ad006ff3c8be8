/* log.h - leveled logging to stderr or a file, as text or JSON lines.
 *
 * Matches what runc's callers expect from `--log FILE --log-format json`:
 * one JSON object a line, {"level":"error","msg":"...","time":"RFC3339Nano"}.
 * Text lines look like logrus: time="..." level=error msg="...".
 * containerd's shim reads the last "error" line of the log file to report
 * why a runtime command failed, so errors must always reach it.
 *
 *   log_init()        choose destination (NULL = stderr), format and level
 *   log_set_level()   change the threshold
 *   log_msg()         write one record if level <= threshold
 *   log_error/warn/info/debug(fmt, ...)  convenience macros
 *   log_close()       close a file destination
 */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include "error.h"

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT = 0, LOG_FMT_JSON };

/* Open path for append (created 0600 if missing). path NULL logs to stderr. */
int log_init(const char *path, enum log_format fmt, enum log_level level, berth_err *err);
/* Parse "text" / "json"; returns -EINVAL for anything else. */
int log_format_parse(const char *s, enum log_format *out);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The fd logs go to (stderr's when none was opened); for handing to children. */
int log_fd(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_close(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                   \
	do {                                                                             \
		if (log_get_level() >= LOG_LVL_DEBUG)                                    \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                             \
	} while (0)

#endif
