/* lazylib.c - load a shared library on first use (see lazylib.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lazylib.h"

static void load(struct lazy_lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		l->error = strdup(e ? e : "dlopen failed");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		l->fns[i] = dlsym(h, l->names[i]);
		if (!l->fns[i] && !l->error) {
			char *m = NULL;
			if (asprintf(&m, "%s has no %s", l->soname, l->names[i]) < 0)
				m = NULL;
			l->error = m ? m : strdup("missing symbol");
		}
	}
}

bool lazy_lib_ready(struct lazy_lib *l)
{
	if (!__atomic_load_n(&l->done, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&l->lock);
		if (!l->done) {
			load(l);
			__atomic_store_n(&l->done, true, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&l->lock);
	}
	return !l->error;
}

const char *lazy_lib_error(struct lazy_lib *l)
{
	return lazy_lib_ready(l) ? NULL : l->error;
}
