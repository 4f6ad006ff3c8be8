/* lazy_curl.c - the curl_* functions Berth calls, forwarded to libcurl.so.4
 * loaded on first use (see lazy_curl.h). */
#define CURL_DISABLE_TYPECHECK /* curl.h's checking macros would rename these definitions */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/lazy_curl.h"

#define CURL_FUNCTIONS(X)                                                                          \
	X(CURLcode, curl_global_init, (long flags))                                                \
	X(CURL *, curl_easy_init, (void))                                                          \
	X(void, curl_easy_cleanup, (CURL * h))                                                     \
	X(CURLcode, curl_easy_perform, (CURL * h))                                                 \
	X(CURLcode, curl_easy_setopt, (CURL * h, CURLoption o, ...))                               \
	X(CURLcode, curl_easy_getinfo, (CURL * h, CURLINFO i, ...))                                \
	X(const char *, curl_easy_strerror, (CURLcode c))                                          \
	X(char *, curl_easy_escape, (CURL * h, const char *s, int n))                              \
	X(void, curl_free, (void *p))                                                              \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s))          \
	X(void, curl_slist_free_all, (struct curl_slist * l))                                      \
	X(CURLSH *, curl_share_init, (void))                                                       \
	X(CURLSHcode, curl_share_setopt, (CURLSH * s, CURLSHoption o, ...))                        \
	X(CURLSHcode, curl_share_cleanup, (CURLSH * s))                                            \
	X(CURLU *, curl_url, (void))                                                               \
	X(void, curl_url_cleanup, (CURLU * u))                                                     \
	X(CURLUcode, curl_url_set, (CURLU * u, CURLUPart p, const char *s, unsigned int f))        \
	X(CURLUcode, curl_url_get, (CURLU * u, CURLUPart p, char **s, unsigned int f))             \
	X(const char *, curl_url_strerror, (CURLUcode c))

#define POINTER(ret, name, params) ret(*name) params;
static struct {
	CURL_FUNCTIONS(POINTER)
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error; /* why loading failed, or NULL */

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		load_error = strdup(e ? e : "dlopen failed");
		return;
	}
#define RESOLVE(ret, name, params)                                                                 \
	if (!(*(void **)&fn.name = dlsym(h, #name)) && !load_error)                                \
		load_error = strdup("libcurl.so.4 has no " #name " (a libcurl older than 7.78?)");
	CURL_FUNCTIONS(RESOLVE)
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return !load_error;
}

int lazy_curl_load(berth_err *err)
{
	if (loaded())
		return 0;
	return berth_error_code(err, ELIBACC, "cannot load libcurl: %s (apt-get install libcurl4)",
				load_error);
}

CURLcode curl_global_init(long flags)
{
	return loaded() ? fn.curl_global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return loaded() ? fn.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (loaded())
		fn.curl_easy_cleanup(h);
}

CURLcode curl_easy_perform(CURL *h)
{
	return loaded() ? fn.curl_easy_perform(h) : CURLE_FAILED_INIT;
}

/* Options carry their argument's type in their number (curl.h's CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *h, CURLoption o, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, o);
	CURLcode r;
	if (o < CURLOPTTYPE_OBJECTPOINT)
		r = fn.curl_easy_setopt(h, o, va_arg(ap, long));
	else if (o >= CURLOPTTYPE_OFF_T && o < CURLOPTTYPE_BLOB)
		r = fn.curl_easy_setopt(h, o, va_arg(ap, curl_off_t));
	else /* object, function and blob pointers */
		r = fn.curl_easy_setopt(h, o, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO i, ...)
{
	if (!loaded())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, i);
	CURLcode r = fn.curl_easy_getinfo(h, i, va_arg(ap, void *));
	va_end(ap);
	return r;
}

const char *curl_easy_strerror(CURLcode c)
{
	return loaded() ? fn.curl_easy_strerror(c) : load_error;
}

char *curl_easy_escape(CURL *h, const char *s, int n)
{
	return loaded() ? fn.curl_easy_escape(h, s, n) : NULL;
}

void curl_free(void *p)
{
	if (loaded())
		fn.curl_free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return loaded() ? fn.curl_slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (loaded())
		fn.curl_slist_free_all(l);
}

CURLSH *curl_share_init(void)
{
	return loaded() ? fn.curl_share_init() : NULL;
}

/* SHARE/UNSHARE take an int (curl_lock_data); the others a pointer. */
CURLSHcode curl_share_setopt(CURLSH *s, CURLSHoption o, ...)
{
	if (!loaded())
		return CURLSHE_NOT_BUILT_IN;
	va_list ap;
	va_start(ap, o);
	CURLSHcode r;
	if (o == CURLSHOPT_SHARE || o == CURLSHOPT_UNSHARE)
		r = fn.curl_share_setopt(s, o, va_arg(ap, int));
	else
		r = fn.curl_share_setopt(s, o, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLSHcode curl_share_cleanup(CURLSH *s)
{
	return loaded() ? fn.curl_share_cleanup(s) : CURLSHE_NOT_BUILT_IN;
}

CURLU *curl_url(void)
{
	return loaded() ? fn.curl_url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	if (loaded())
		fn.curl_url_cleanup(u);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart p, const char *s, unsigned int f)
{
	return loaded() ? fn.curl_url_set(u, p, s, f) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU *u, CURLUPart p, char **s, unsigned int f)
{
	return loaded() ? fn.curl_url_get(u, p, s, f) : CURLUE_OUT_OF_MEMORY;
}

const char *curl_url_strerror(CURLUcode c)
{
	return loaded() ? fn.curl_url_strerror(c) : load_error;
}
