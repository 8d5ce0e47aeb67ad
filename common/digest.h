/* digest: SHA-256 and HMAC-SHA-256 as lowercase hex, through OpenSSL libcrypto.
 * Shared by the agent (hashing what arrived) and the harness (hashing what it sent). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secret.h"   /* secret_clear(): digest callers clear what they hashed */

#define DIGEST_HEX_LEN 64   /* hex characters of a SHA-256 digest, without NUL */

/* out must hold DIGEST_HEX_LEN + 1 bytes. Return 0 or -EIO. */
int digest_sha256_hex(const void *data, size_t len, char out[static DIGEST_HEX_LEN + 1]);
int digest_hmac_sha256_hex(const uint8_t *key, size_t key_len, const void *data, size_t len,
			   char out[static DIGEST_HEX_LEN + 1]);

/* Strict hex decoding (even length, [0-9a-fA-F] only). Returns 0, -EINVAL or -ENOMEM. */
int hex_decode(const char *hex, uint8_t **out, size_t *out_len);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Fills buf with len bytes from the kernel's CSPRNG. Returns 0 or -errno. */
int random_bytes(void *buf, size_t len);

/* Constant-time comparison of two equal-length hex digests. */
bool digest_equal(const char *a, const char *b);


