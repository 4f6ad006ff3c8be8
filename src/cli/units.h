/* units.h - numbers and times the way the docker CLI prints them.
 *
 *   human_size()       decimal units, 3 significant digits: "4.86MB", "0B"
 *   human_duration()   "About a minute", "3 weeks" (go-units HumanDuration)
 *   time_parse_rfc3339()  "2024-05-01T10:00:00.123Z" / "+02:00" -> seconds
 *   time_go_string()   Go's time.String(): "2024-05-01 10:00:00 +0000 UTC"
 */
#ifndef BERTH_CLI_UNITS_H
#define BERTH_CLI_UNITS_H

#include <stdint.h>
#include <time.h>

char *human_size(double bytes);
char *human_duration(time_t seconds);
int time_parse_rfc3339(const char *s, time_t *out);
char *time_go_string(time_t t);

#endif
