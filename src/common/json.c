/* json.c - jansson helpers shared by the modules (see json.h). */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "xalloc.h"

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *json_object_sorted(json_t *o)
{
	size_t n = json_object_size(o), i = 0;
	_cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(char *), cmp_key);
	json_t *out = json_object();
	for (i = 0; i < n; i++)
		json_object_set(out, keys[i], json_object_get(o, keys[i]));
	return out;
}
