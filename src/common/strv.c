/* strv.c - NULL-terminated string arrays. */
#include <string.h>

#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"

size_t strv_length(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void strv_push(char ***v, const char *s)
{
	size_t n = strv_length(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

char *strv_join(char *const *v, const char *sep)
{
	struct strbuf sb;
	strbuf_init(&sb, 64);
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			strbuf_addstr(&sb, sep);
		strbuf_addstr(&sb, v[i]);
	}
	return strbuf_detach(&sb, NULL);
}
