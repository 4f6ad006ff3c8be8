/* json.h - jansson, plus scope cleanup for its values.
 *
 *   _cleanup_json_   json_decref() the value when it goes out of scope
 *   json_object_sorted()  a copy of an object with its keys in byte order (as Go
 *                    writes and prints a map); values shared, not copied
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <jansson.h>

static inline void cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

json_t *json_object_sorted(json_t *o);

#endif
