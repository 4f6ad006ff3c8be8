/* digest.c - SHA-256 of bulk data through OpenSSL's EVP interface. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "image/digest.h"

struct digester {
	EVP_MD_CTX *ctx;
};

struct digester *digester_new(void)
{
	struct digester *d = malloc(sizeof(*d));
	if (!d)
		abort();
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		abort(); /* only on allocation failure */
	return d;
}

void digester_update(struct digester *d, const void *buf, size_t n)
{
	if (n && EVP_DigestUpdate(d->ctx, buf, n) != 1)
		abort();
}

void digester_final(struct digester *d, char out[IMAGE_DIGEST_BUF])
{
	unsigned char md[32];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1 || len != sizeof(md))
		abort();
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	digester_free(d);
}

void digester_free(struct digester *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void digest_buffer(const void *buf, size_t n, char out[IMAGE_DIGEST_BUF])
{
	struct digester *d = digester_new();
	digester_update(d, buf, n);
	digester_final(d, out);
}

const char *digest_hex(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
		return NULL;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return NULL;
	return digest + 7;
}
