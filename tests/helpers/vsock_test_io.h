/* vsock_test_io: the I/O loops both ends of the vsock VM tests share: whole-buffer reads
 * and writes, one-line reads, sending a pattern stream and hashing what arrives.
 * Header-only, like vsock_test_pattern.h: vsock_guest.c is built statically on its own
 * (tests/integration/vsock-lib.sh) and vsock_host.c by the Makefile. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "vsock_test_pattern.h"

/* Reads or writes all len bytes. 0, or -1 on error or end of file. */
static inline int io_all(int fd, void *buf, size_t len, bool writing)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

static inline int write_all(int fd, const void *buf, size_t len)
{
	return io_all(fd, (void *) buf, len, true);
}

static inline int read_full(int fd, void *buf, size_t len)
{
	return io_all(fd, buf, len, false);
}

/* Reads one line (without its newline, cut at max - 1 bytes) into line. 0 or -1. */
static inline int read_line(int fd, char *line, size_t max)
{
	size_t len = 0;

	while (len + 1 < max) {
		if (read_full(fd, &line[len], 1) < 0)
			return -1;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = 0;
	return 0;
}

static inline int send_pattern(int fd, uint64_t seed, uint64_t bytes)
{
	static __thread uint8_t buf[PATTERN_CHUNK];
	struct pattern p;

	pattern_init(&p, seed);
	for (uint64_t done = 0; done < bytes; done += PATTERN_CHUNK) {
		pattern_fill(&p, buf, PATTERN_CHUNK);
		if (write_all(fd, buf, PATTERN_CHUNK) < 0)
			return -1;
	}
	return 0;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static inline void sha256_hex(const uint8_t md[32], char out[65])
{
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* Reads up to `bytes` (less at end of file), hashing; *first and *last (when not NULL)
 * receive the times of the first and the last byte. Returns the bytes read. */
static inline uint64_t hash_stream(int fd, uint64_t bytes, char out[65], double *first, double *last)
{
	static __thread uint8_t buf[PATTERN_CHUNK];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t got = 0;
	uint8_t md[32];

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (got < bytes) {
		size_t want = bytes - got < sizeof(buf) ? (size_t) (bytes - got) : sizeof(buf);
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got == 0 && first)
			*first = now_s();
		EVP_DigestUpdate(c, buf, (size_t) n);
		got += (uint64_t) n;
	}
	if (last)
		*last = now_s();
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	sha256_hex(md, out);
	return got;
}
