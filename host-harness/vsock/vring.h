/* vring: the device side of one split virtqueue (virtio 1.x, little-endian) in guest
 * memory. Pops descriptor chains from the available ring and pushes them to the used ring.
 * Everything the guest wrote is untrusted: the avail index may jump at most `size`
 * entries, heads and `next` links must be below `size`, a chain may visit at most `size`
 * descriptors (no loops), every buffer must lie in mapped guest memory, INDIRECT is
 * refused (not negotiated) and writable descriptors may not precede readable ones.
 * A violation marks the queue broken, logs once what was wrong, signals the error eventfd
 * if there is one, and the queue stays idle until it is set up again. Nothing aborts. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsock/guest_memory.h"

#define VRING_MAX_SIZE 32768
#define VRING_MAX_SEGS 64

#define VRING_DESC_F_NEXT      1
#define VRING_DESC_F_WRITE     2
#define VRING_DESC_F_INDIRECT  4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

struct vring_desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; } __attribute__((packed));
struct vring_used_elem { uint32_t id; uint32_t len; } __attribute__((packed));

struct vring_seg {
	uint64_t gpa;
	uint32_t len;
};

/* One popped chain: readable segments first, then writable ones. */
struct vring_chain {
	uint16_t head;
	unsigned n_read, n_write;
	struct vring_seg segs[VRING_MAX_SEGS];
	uint64_t read_len, write_len;
};

struct vring {
	const char *name;                 /* "rx" / "tx", for log lines */
	const struct guest_memory *mem;
	uint16_t size;                    /* 0 until SET_VRING_NUM */
	bool addr_set;
	uint64_t desc_qva, avail_qva, used_qva;
	struct vring_desc *desc;          /* NULL until mapped */
	uint16_t *avail;                  /* flags, idx, ring[size] */
	uint16_t *used;                   /* flags, idx, then elements */
	uint16_t last_avail;              /* next avail entry we will take */
	uint16_t used_idx;                /* next used entry we will fill */
	bool pushed;                      /* something pushed since the last notify */
	bool broken;
	bool enabled, started;
	int kick_fd, call_fd, err_fd;     /* -1 when absent */
	uint64_t stat_kicks, stat_calls;  /* kicks seen, interrupts signalled; kept over resets */
};

void vring_init(struct vring *vq, const char *name, const struct guest_memory *mem);
/* Closes fds and forgets the addresses; keeps name, mem and the stat_ counters. */
void vring_reset(struct vring *vq);
/* -EINVAL unless num is a power of two in [1, VRING_MAX_SIZE]. */
int vring_set_num(struct vring *vq, uint32_t num);
/* Stores the frontend virtual addresses and maps them (vring_map()). */
int vring_set_addr(struct vring *vq, uint64_t desc_qva, uint64_t used_qva, uint64_t avail_qva);
/* (Re)translates the ring addresses after a memory table change; re-reads used->idx.
 * Returns 0, or -EFAULT with the queue marked broken. */
int vring_map(struct vring *vq);
void vring_unmap(struct vring *vq);

/* started, enabled, mapped and not broken. */
bool vring_ready(const struct vring *vq);

/* Returns 1 with *chain filled, 0 if the ring is empty, -EIO if the queue is (now)
 * broken. */
int vring_pop(struct vring *vq, struct vring_chain *chain);
/* Puts back the last popped chain (nothing was written to it). */
void vring_unpop(struct vring *vq);
/* Returns `head` to the guest with `len` bytes written. */
void vring_push(struct vring *vq, uint16_t head, uint32_t len);
/* Asks the guest to kick (on=true) or not to bother (VRING_USED_F_NO_NOTIFY in the used
 * ring's flags) when it adds buffers. Only a hint: a driver may kick anyway. After
 * turning kicks back on, call vring_avail_pending(): the guest may have added a buffer
 * while the flag was still set, and no kick will come for it. Does nothing unless the
 * ring is ready (vring_ready()). */
void vring_set_notify(struct vring *vq, bool on);
/* The guest has made buffers available that we have not popped yet (ready rings only). */
bool vring_avail_pending(const struct vring *vq);
/* Signals the call eventfd if anything was pushed and the guest wants interrupts. */
void vring_notify(struct vring *vq);
void vring_mark_broken(struct vring *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy between a chain's readable (read) or writable (write) bytes at `offset` and buf.
 * Return the byte count copied (< len if the chain is shorter) or -EFAULT. */
long vring_chain_read(const struct vring *vq, const struct vring_chain *c, uint64_t offset, void *buf, uint64_t len);
long vring_chain_write(const struct vring *vq, const struct vring_chain *c, uint64_t offset, const void *buf, uint64_t len);
/* iovecs for up to len bytes of the writable (writable=true) or readable part from
 * offset. Returns the entry count, or -EFAULT / -E2BIG. *got receives the byte total. */
int vring_chain_iov(const struct vring *vq, const struct vring_chain *c, bool writable, uint64_t offset,
		    uint64_t len, struct iovec *iov, int max, uint64_t *got);
