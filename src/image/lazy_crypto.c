/* lazy_crypto.c - the EVP digest functions the image code calls (SHA-256
 * of blobs and layers), forwarded to libcrypto.so.3 loaded on first use
 * (common/lazylib.h).
 *
 * libcrypto linked normally costs every berth command about 1 ms at start
 * (an empty main() linked with -lcrypto: 1.7 ms against 0.6 ms, hyperfine),
 * though only pulls, loads, pushes, saves and commits hash anything; `run`
 * of a present image does not. Without the library EVP_MD_CTX_new() and
 * EVP_sha256() return NULL and EVP_Digest() 0, which the callers report as
 * a failure to hash. */
#include <openssl/evp.h>

#include "common/lazylib.h"

enum { F_NEW, F_FREE, F_SHA256, F_INIT, F_UPDATE, F_FINAL, F_DIGEST, F_COUNT };
static const char *const names[F_COUNT] = {
	[F_NEW] = "EVP_MD_CTX_new",
	[F_FREE] = "EVP_MD_CTX_free",
	[F_SHA256] = "EVP_sha256",
	[F_INIT] = "EVP_DigestInit_ex",
	[F_UPDATE] = "EVP_DigestUpdate",
	[F_FINAL] = "EVP_DigestFinal_ex",
	[F_DIGEST] = "EVP_Digest",
};
static void *fns[F_COUNT];
static struct lazy_lib lib = LAZY_LIB_INIT("libcrypto.so.3", names, fns, F_COUNT);

#define CALL(idx, type) ((type)fns[idx])

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return lazy_lib_ready(&lib) ? CALL(F_NEW, EVP_MD_CTX * (*)(void))() : NULL;
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	if (ctx && lazy_lib_ready(&lib))
		CALL(F_FREE, void (*)(EVP_MD_CTX *))(ctx);
}

const EVP_MD *EVP_sha256(void)
{
	return lazy_lib_ready(&lib) ? CALL(F_SHA256, const EVP_MD *(*)(void))() : NULL;
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
	if (!ctx || !type)
		return 0;
	return CALL(F_INIT, int (*)(EVP_MD_CTX *, const EVP_MD *, ENGINE *))(ctx, type, impl);
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
	return CALL(F_UPDATE, int (*)(EVP_MD_CTX *, const void *, size_t))(ctx, d, cnt);
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
	return CALL(F_FINAL, int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))(ctx, md, s);
}

int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
	       const EVP_MD *type, ENGINE *impl)
{
	if (!type)
		return 0;
	return CALL(F_DIGEST, int (*)(const void *, size_t, unsigned char *, unsigned int *,
				      const EVP_MD *, ENGINE *))(data, count, md, size, type, impl);
}
