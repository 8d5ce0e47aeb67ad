/* vsock_test_pattern: the deterministic byte streams both ends of the vsock VM tests
 * generate (xorshift64*, one stream per seed), so each side can check what it received
 * by SHA-256 without storing it. Header-only: shared by vsock_guest.c (static, in the
 * guest) and vsock_host.c. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pattern { uint64_t state; };

static inline void pattern_init(struct pattern *p, uint64_t seed)
{
	p->state = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
	if (p->state == 0)
		p->state = 1;
}

/* Fills len bytes (len a multiple of 8) with the next bytes of the stream. */
static inline void pattern_fill(struct pattern *p, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t x = p->state;
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p->state = x;
		x *= 0x2545F4914F6CDD1Dull;
		memcpy(buf + i, &x, 8);
	}
}

#define PATTERN_CHUNK (64u * 1024u)
#define MIB (1024u * 1024u)
