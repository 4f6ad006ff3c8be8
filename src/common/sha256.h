/* sha256.h - SHA-256 through OpenSSL's libcrypto.
 *
 *   sha256_hex()          digest of a buffer as 64 lowercase hex chars + NUL
 *   sha256_init/update/final_hex   streaming form (final frees the context)
 */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx {
	void *md; /* EVP_MD_CTX */
};

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1]);

#endif
