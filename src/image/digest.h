/* digest.h - SHA-256 of bulk data (layers, blobs), through OpenSSL.
 *
 * Image data runs to hundreds of megabytes; libcrypto's SHA-256 uses the
 * CPU's SHA extensions (several times common/sha256.c's speed). The runtime
 * keeps the self-contained common/sha256.c for its start-up cost.
 *
 *   digester_new/update/final   streaming "sha256:<hex>"
 *   digest_buffer()             one buffer
 *   digest_hex()                the hex part of "sha256:<hex>" (validated)
 */
#ifndef BERTH_IMAGE_DIGEST_H
#define BERTH_IMAGE_DIGEST_H

#include <stddef.h>

#include "image/unpack.h" /* IMAGE_DIGEST_BUF */

struct digester;

struct digester *digester_new(void);
void digester_update(struct digester *d, const void *buf, size_t n);
/* Writes "sha256:<hex>" and frees d. */
void digester_final(struct digester *d, char out[IMAGE_DIGEST_BUF]);
void digester_free(struct digester *d);
void digest_buffer(const void *buf, size_t n, char out[IMAGE_DIGEST_BUF]);
/* NULL when digest is not "sha256:<64 lowercase hex>". */
const char *digest_hex(const char *digest);

#endif
