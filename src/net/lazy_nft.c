/* lazy_nft.c - the nft_* functions of libnftables that nft.c calls,
 * forwarded to libnftables.so.1 loaded on first use.
 *
 * libnftables brings libnftnl, libxtables and libgmp along: linked
 * normally it costs every berth command about 1 ms at start (measured: an
 * empty main() linked with -lnftables, 1.6 ms against 0.6 ms, hyperfine),
 * though only network changes and published ports use it. nft_ctx_new()
 * loads it; it returns NULL (with lazy_nft_error() saying why) when the
 * library cannot be loaded, which nft.c reports as it reports any context
 * it cannot make. */
#include <dlfcn.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net/lazy_nft.h"

#define NFT_FUNCTIONS(X)                                                                           \
	X(struct nft_ctx *, nft_ctx_new, (uint32_t flags))                                         \
	X(void, nft_ctx_free, (struct nft_ctx * ctx))                                              \
	X(int, nft_ctx_buffer_output, (struct nft_ctx * ctx))                                      \
	X(int, nft_ctx_buffer_error, (struct nft_ctx * ctx))                                       \
	X(const char *, nft_ctx_get_output_buffer, (struct nft_ctx * ctx))                         \
	X(const char *, nft_ctx_get_error_buffer, (struct nft_ctx * ctx))                          \
	X(void, nft_ctx_output_set_flags, (struct nft_ctx * ctx, unsigned int flags))             \
	X(int, nft_run_cmd_from_buffer, (struct nft_ctx * ctx, const char *buf))

#define POINTER(ret, name, params) ret(*name) params;
static struct {
	NFT_FUNCTIONS(POINTER)
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error;

static void load(void)
{
	void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		load_error = strdup(e ? e : "dlopen failed");
		return;
	}
#define RESOLVE(ret, name, params)                                                                 \
	if (!(*(void **)&fn.name = dlsym(h, #name)) && !load_error)                                \
		load_error = strdup("libnftables.so.1 has no " #name);
	NFT_FUNCTIONS(RESOLVE)
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return !load_error;
}

const char *lazy_nft_error(void)
{
	return loaded() ? NULL : load_error;
}

/* Only a context made after a successful load reaches the others. */
struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	return loaded() ? fn.nft_ctx_new(flags) : NULL;
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	fn.nft_ctx_free(ctx);
}

int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	return fn.nft_ctx_buffer_output(ctx);
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	return fn.nft_ctx_buffer_error(ctx);
}

const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	return fn.nft_ctx_get_output_buffer(ctx);
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	return fn.nft_ctx_get_error_buffer(ctx);
}

void nft_ctx_output_set_flags(struct nft_ctx *ctx, unsigned int flags)
{
	fn.nft_ctx_output_set_flags(ctx, flags);
}

int nft_run_cmd_from_buffer(struct nft_ctx *ctx, const char *buf)
{
	return fn.nft_run_cmd_from_buffer(ctx, buf);
}
