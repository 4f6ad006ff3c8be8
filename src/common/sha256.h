/* sha256.h - SHA-256 (FIPS 180-4), self-contained.
 *
 * Not OpenSSL: loading libcrypto costs about 1 ms of dynamic linking and
 * library initialisation at every start of berth-runtime (measured with
 * LD_DEBUG=statistics and hyperfine: `--version` 1.8 ms with it), which is a
 * large share of a container start. The runtime hashes only small inputs
 * (seccomp profiles); bulk hashing of image layers can use an accelerated
 * backend behind this same interface when the image store arrives.
 *
 *   sha256_hex()          digest of a buffer as 64 lowercase hex chars + NUL
 *   sha256_init/update/final_hex   streaming form
 */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total;     /* bytes hashed so far */
	uint8_t block[64];  /* pending input */
	size_t used;        /* bytes in block */
};

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1]);

#endif
