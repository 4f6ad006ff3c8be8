/* json.h - jansson, plus scope cleanup for its values.
 *
 *   _cleanup_json_   json_decref() the value when it goes out of scope
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <jansson.h>

static inline void cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

#endif
