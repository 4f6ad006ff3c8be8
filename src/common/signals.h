/* signals.h - signal names and numbers as kill(1), runc and docker accept them.
 *
 *   signal_parse()   "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3", "RTMAX-1" -> number, or -EINVAL
 *   signal_name()    15 -> "SIGTERM" (static string; "SIGRTMIN+N" forms in a thread-local buffer;
 *                    NULL outside 1..SIGRTMAX)
 */
#ifndef BERTH_SIGNALS_H
#define BERTH_SIGNALS_H

int signal_parse(const char *s);
const char *signal_name(int sig);

#endif
