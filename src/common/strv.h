/* strv.h - NULL-terminated arrays of malloc'd strings (strv_free() and
 * _cleanup_strv_ are in cleanup.h).
 *
 *   strv_length()  number of strings
 *   strv_push()    append a copy of s, keeping the array NULL-terminated
 *   strv_join()    the strings joined by sep, malloc'd
 */
#ifndef BERTH_STRV_H
#define BERTH_STRV_H

#include <stddef.h>

size_t strv_length(char *const *v);
void strv_push(char ***v, const char *s);
char *strv_join(char *const *v, const char *sep);

#endif
