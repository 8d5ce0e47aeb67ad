/* vsock_fake_guest: a guest for unit tests, living in one malloc'd buffer registered as
 * guest memory (GPA == QVA == FG_BASE + offset). It plays the Linux driver's part: writes
 * descriptors and avail entries, reads used entries, builds and parses vsock packets.
 * Header-only so each test binary stays self-contained. */
#pragma once
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vsock/guest_memory.h"
#include "vsock/virtio_vsock.h"
#include "vsock/vring.h"

#define FG_BASE     0x100000ull
#define FG_SIZE     (4u * 1024u * 1024u)
#define FG_QSIZE    64u
#define FG_RING(i)  (FG_BASE + 0x10000ull * (i))    /* ring i: desc, then avail, then used */
#define FG_BUFS     (FG_BASE + 0x40000ull)           /* buffers are bump-allocated from here */
#define FG_CID      3u

struct fake_guest {
	uint8_t *ram;
	struct guest_memory mem;
	struct vring vq[2];          /* 0 rx, 1 tx */
	uint16_t avail_idx[2], next_desc[2], used_seen[2];
	uint64_t next_buf;
};

static inline void *fg_ptr(struct fake_guest *g, uint64_t gpa)
{
	return g->ram + (gpa - FG_BASE);
}

static inline uint64_t fg_alloc(struct fake_guest *g, uint32_t len)
{
	uint64_t a;

	if (g->next_buf + len > FG_BASE + FG_SIZE)
		g->next_buf = FG_BUFS;   /* recycle: tests never hold this much at once */
	a = g->next_buf;
	g->next_buf += (len + 15) & ~15u;
	return a;
}

static inline void fg_ring_start(struct fake_guest *g, unsigned i)
{
	uint64_t base = FG_RING(i);

	vring_set_num(&g->vq[i], FG_QSIZE);
	vring_set_addr(&g->vq[i], base, base + 0x2000, base + 0x1000);
	g->vq[i].started = g->vq[i].enabled = true;
}

static inline void fg_init(struct fake_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->ram = calloc(1, FG_SIZE);
	guest_memory_add(&g->mem, FG_BASE, FG_SIZE, FG_BASE, g->ram);
	vring_init(&g->vq[0], "rx", &g->mem);
	vring_init(&g->vq[1], "tx", &g->mem);
	g->next_buf = FG_BUFS;
	fg_ring_start(g, 0);
	fg_ring_start(g, 1);
}

static inline void fg_free(struct fake_guest *g)
{
	vring_reset(&g->vq[0]);
	vring_reset(&g->vq[1]);
	free(g->ram);
}

static inline struct vring_desc *fg_desc(struct fake_guest *g, unsigned ring, unsigned i)
{
	return (struct vring_desc *) fg_ptr(g, FG_RING(ring)) + i;
}

/* Writes descriptor i of ring `ring` (guest byte order is little-endian). */
static inline void fg_set_desc(struct fake_guest *g, unsigned ring, unsigned i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { htole64(addr), htole32(len), htole16(flags), htole16(next) };
	memcpy(fg_desc(g, ring, i), &d, sizeof(d));
}

/* Publishes head in the avail ring. */
static inline void fg_publish(struct fake_guest *g, unsigned ring, uint16_t head)
{
	uint16_t *avail = fg_ptr(g, FG_RING(ring) + 0x1000);

	avail[2 + g->avail_idx[ring] % FG_QSIZE] = htole16(head);
	g->avail_idx[ring]++;
	avail[1] = htole16(g->avail_idx[ring]);
}

static inline uint16_t fg_take_desc(struct fake_guest *g, unsigned ring)
{
	uint16_t i = g->next_desc[ring];
	g->next_desc[ring] = (uint16_t) ((i + 1) % FG_QSIZE);
	return i;
}

/* Next used element of ring: returns 1 with id and len filled, 0 if none. */
static inline int fg_used(struct fake_guest *g, unsigned ring, uint32_t *id, uint32_t *len)
{
	uint16_t *used = fg_ptr(g, FG_RING(ring) + 0x2000);
	struct vring_used_elem e;

	if (le16toh(used[1]) == g->used_seen[ring])
		return 0;
	memcpy(&e, (uint8_t *) (used + 2) + 8 * (g->used_seen[ring] % FG_QSIZE), sizeof(e));
	g->used_seen[ring]++;
	*id = le32toh(e.id);
	*len = le32toh(e.len);
	return 1;
}

/* Posts n rx buffers of len bytes, each a single writable descriptor. */
static inline void fg_post_rx(struct fake_guest *g, unsigned n, uint32_t len)
{
	for (unsigned k = 0; k < n; k++) {
		uint16_t d = fg_take_desc(g, 0);
		fg_set_desc(g, 0, d, fg_alloc(g, len), len, VRING_DESC_F_WRITE, 0);
		fg_publish(g, 0, d);
	}
}

static inline struct vsock_pkt fg_pkt(uint16_t op, uint32_t guest_port, uint32_t host_port)
{
	return (struct vsock_pkt) { .src_cid = FG_CID, .dst_cid = 2, .src_port = guest_port,
				    .dst_port = host_port, .type = 1, .op = op, .buf_alloc = 256 * 1024 };
}

/* Queues a tx packet as header descriptor + payload descriptor (Linux's layout). */
static inline void fg_send(struct fake_guest *g, struct vsock_pkt p, const void *payload, uint32_t len)
{
	uint16_t h = fg_take_desc(g, 1), d;
	uint64_t ha = fg_alloc(g, VSOCK_HDR_SIZE);

	p.len = len;
	vsock_hdr_encode(&p, fg_ptr(g, ha));
	if (len == 0) {
		fg_set_desc(g, 1, h, ha, VSOCK_HDR_SIZE, 0, 0);
	} else {
		uint64_t pa = fg_alloc(g, len);
		d = fg_take_desc(g, 1);
		memcpy(fg_ptr(g, pa), payload, len);
		fg_set_desc(g, 1, h, ha, VSOCK_HDR_SIZE, VRING_DESC_F_NEXT, d);
		fg_set_desc(g, 1, d, pa, len, 0, 0);
	}
	fg_publish(g, 1, h);
}

/* Reads the next packet the device put in rx: 1 with p filled (and up to max payload bytes in
 * payload), 0 if none. */
static inline int fg_recv(struct fake_guest *g, struct vsock_pkt *p, void *payload, uint32_t max)
{
	uint32_t id, len;
	struct vring_desc *d;
	uint8_t *buf;

	if (!fg_used(g, 0, &id, &len))
		return 0;
	d = fg_desc(g, 0, id);
	buf = fg_ptr(g, le64toh(d->addr));
	vsock_hdr_decode(buf, p);
	if (payload && p->len <= max && len >= VSOCK_HDR_SIZE + p->len)
		memcpy(payload, buf + VSOCK_HDR_SIZE, p->len);
	return 1;
}
