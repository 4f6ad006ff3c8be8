/* sha256.c - SHA-256 digests as lowercase hex, through OpenSSL's EVP interface.
 * A failing EVP call can only mean allocation failure or a broken libcrypto, so,
 * as with xalloc, it aborts rather than give callers an error path for it. */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void __attribute__((noreturn)) sha256_die(const char *what)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "berth: sha256: %s failed\n", what);
	if (n > 0) {
		ssize_t r = write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		(void)r;
	}
	abort();
}

static void to_hex(const unsigned char *md, unsigned int len, char out[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < len && i < SHA256_HEX_LEN / 2; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != SHA256_HEX_LEN / 2)
		sha256_die("EVP_Digest");
	to_hex(md, mdlen, out);
}

void sha256_init(struct sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		sha256_die("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		sha256_die("EVP_DigestInit_ex");
	c->md = md;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(c->md, data, len) != 1)
		sha256_die("EVP_DigestUpdate");
}

/* Also frees the context: c must be initialised again before reuse. */
void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(c->md, md, &mdlen) != 1 || mdlen != SHA256_HEX_LEN / 2)
		sha256_die("EVP_DigestFinal_ex");
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
	to_hex(md, mdlen, out);
}
