/* vhost_user: the backend side of the vhost-user control protocol for one
 * vhost-user-vsock-pci device, as QEMU 7.2 drives it. We offer VERSION_1 |
 * PROTOCOL_FEATURES and the protocol features CONFIG | REPLY_ACK, nothing else (no
 * EVENT_IDX, INDIRECT, RING_RESET, MQ, log or inflight). Messages are untrusted: a header
 * of exactly 12 bytes (with SCM_RIGHTS fds), a payload whose size must match the request,
 * every index and region checked. Replies carry flags 0x5. The two vrings (0 rx, 1 tx)
 * and the memory table live here; the device model is told through vhost_user_ops when a
 * ring starts or stops and when a kick fd changes. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "vsock/guest_memory.h"
#include "vsock/vring.h"

#define VHOST_USER_HDR_SIZE     12
#define VHOST_USER_MAX_PAYLOAD  512
#define VHOST_USER_MAX_FDS      8
#define VHOST_USER_VERSION      0x1
#define VHOST_USER_REPLY_MASK   0x4
#define VHOST_USER_NEED_REPLY   0x8

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1             32
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG    9

#define VHOST_USER_OFFERED_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
#define VHOST_USER_OFFERED_PROTOCOL ((1ull << VHOST_USER_PROTOCOL_F_CONFIG) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK))

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1, VHOST_USER_SET_FEATURES = 2, VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4, VHOST_USER_SET_MEM_TABLE = 5, VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7, VHOST_USER_SET_VRING_NUM = 8, VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10, VHOST_USER_GET_VRING_BASE = 11, VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13, VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15, VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17, VHOST_USER_SET_VRING_ENABLE = 18, VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25, VHOST_USER_RESET_DEVICE = 34,
};

#define VHOST_USER_N_VRINGS 2   /* 0 rx, 1 tx; QEMU keeps the event queue */

struct vhost_user_ops {
	/* The kick fd of ring idx is now new_fd (-1: none); stop watching old_fd first. */
	void (*kick_changed)(void *ctx, unsigned idx, int old_fd, int new_fd);
	/* Ring idx became ready (started and enabled): process it without waiting for a kick. */
	void (*ring_started)(void *ctx, unsigned idx);
	/* Ring idx was stopped by GET_VRING_BASE. */
	void (*ring_stopped)(void *ctx, unsigned idx);
};

struct vhost_user_dev {
	int fd;                               /* connection to the frontend */
	uint64_t guest_cid;
	uint64_t acked_features, protocol_features;
	struct guest_memory mem;
	struct vring vq[VHOST_USER_N_VRINGS];
	const struct vhost_user_ops *ops;
	void *ctx;
};

void vhost_user_dev_init(struct vhost_user_dev *d, int fd, uint64_t guest_cid,
			 const struct vhost_user_ops *ops, void *ctx);
/* Stops the rings, closes their fds and the frontend connection, unmaps guest memory. */
void vhost_user_dev_close(struct vhost_user_dev *d);

/* Reads and answers one message. Returns 0, -ECONNRESET when the frontend hung up, or
 * another -errno for a protocol violation (logged; the caller closes the connection). */
int vhost_user_handle_message(struct vhost_user_dev *d);
