/* lazy_nft.c - the nft_* functions of libnftables that nft.c calls,
 * forwarded to libnftables.so.1 loaded on first use (common/lazylib.h).
 *
 * libnftables brings libnftnl, libxtables and libgmp along: linked
 * normally it cost every berth command about 1 ms at start (an empty main()
 * linked with -lnftables: 1.6 ms against 0.6 ms, hyperfine; berth --version
 * 3.5 ms against 2.9 ms), though only network changes and published ports
 * use it. nft_ctx_new() loads it and returns NULL when it cannot, which
 * nft.c reports with lazy_nft_error(); the others are only reached with a
 * context, so after a successful load. */
#include <nftables/libnftables.h>

#include "common/lazylib.h"
#include "net/lazy_nft.h"

enum {
	F_NEW,
	F_FREE,
	F_BUF_OUT,
	F_BUF_ERR,
	F_GET_OUT,
	F_GET_ERR,
	F_SET_FLAGS,
	F_RUN,
	F_COUNT,
};
static const char *const names[F_COUNT] = {
	[F_NEW] = "nft_ctx_new",
	[F_FREE] = "nft_ctx_free",
	[F_BUF_OUT] = "nft_ctx_buffer_output",
	[F_BUF_ERR] = "nft_ctx_buffer_error",
	[F_GET_OUT] = "nft_ctx_get_output_buffer",
	[F_GET_ERR] = "nft_ctx_get_error_buffer",
	[F_SET_FLAGS] = "nft_ctx_output_set_flags",
	[F_RUN] = "nft_run_cmd_from_buffer",
};
static void *fns[F_COUNT];
static struct lazy_lib lib = LAZY_LIB_INIT("libnftables.so.1", names, fns, F_COUNT);

#define CALL(idx, type) ((type)fns[idx])

const char *lazy_nft_error(void)
{
	return lazy_lib_error(&lib);
}

struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	if (!lazy_lib_ready(&lib))
		return NULL;
	return CALL(F_NEW, struct nft_ctx * (*)(uint32_t))(flags);
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	CALL(F_FREE, void (*)(struct nft_ctx *))(ctx);
}

int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	return CALL(F_BUF_OUT, int (*)(struct nft_ctx *))(ctx);
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	return CALL(F_BUF_ERR, int (*)(struct nft_ctx *))(ctx);
}

const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	return CALL(F_GET_OUT, const char *(*)(struct nft_ctx *))(ctx);
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	return CALL(F_GET_ERR, const char *(*)(struct nft_ctx *))(ctx);
}

void nft_ctx_output_set_flags(struct nft_ctx *ctx, unsigned int flags)
{
	CALL(F_SET_FLAGS, void (*)(struct nft_ctx *, unsigned int))(ctx, flags);
}

int nft_run_cmd_from_buffer(struct nft_ctx *ctx, const char *buf)
{
	return CALL(F_RUN, int (*)(struct nft_ctx *, const char *))(ctx, buf);
}
