/* digest: SHA-256 / HMAC-SHA-256 hex via libcrypto; hex helpers; secret clearing.
 *
 * This file is written against the OpenSSL 1.1.1 API, set here only and before any OpenSSL
 * header: SHA-256 goes through SHA256_Init/Update/Final, which 3.0 deprecates. They run
 * the same code (the SHA-NI/AVX2 assembly) that the default provider wraps, without
 * starting EVP: no library context, openssl.cnf, provider or fetch, 1.7 MiB less peak RSS
 * for the agent on the bench (bench/README.md). HMAC has no such path in 3.0 (HMAC() goes
 * through EVP_MAC) and keeps the provider. */
#define OPENSSL_API_COMPAT 10101
#include "digest.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(hex);
	if (n % 2 != 0)
		return -EINVAL;
	uint8_t *buf = malloc(n / 2 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			return -EINVAL;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = buf;
	*out_len = n / 2;
	return 0;
}

int digest_sha256_hex(const void *data, size_t len, char out[static DIGEST_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	int ok = SHA256_Init(&ctx) == 1 && SHA256_Update(&ctx, data ? data : "", len) == 1 &&
		 SHA256_Final(md, &ctx) == 1;
	OPENSSL_cleanse(&ctx, sizeof ctx);
	if (!ok)
		return -EIO;
	hex_encode(md, sizeof md, out);
	return 0;
}

int digest_hmac_sha256_hex(const uint8_t *key, size_t key_len, const void *data, size_t len,
			   char out[static DIGEST_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	static const uint8_t empty;
	if (!HMAC(EVP_sha256(), key ? (const void *)key : &empty, (int)key_len,
		  data ? data : &empty, len, md, &md_len) || md_len != 32)
		return -EIO;
	hex_encode(md, 32, out);
	return 0;
}

int random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = getrandom(p, len, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

bool digest_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}
