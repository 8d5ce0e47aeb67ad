/* virtio_vsock: the virtio-vsock device model for stream sockets between one guest and the
 * host (CID 2). It takes packets from the tx queue, keeps one connection per (host port,
 * guest port) with credit flow control, and fills the rx queue. Host sockets are plain
 * non-blocking fds supplied by the caller (hybrid_vsock.c connects them); which fds to
 * watch is reported through vsock_host_ops.watch so any event loop can drive it.
 *
 * Promises: tx is always drained even when rx is full (replies wait in bounded per-
 * connection flags and a bounded RST queue); packets with a wrong src_cid/dst_cid are
 * dropped; anything for an unknown connection gets RST (never an RST for an RST); the
 * guest never receives more than the credit it advertised; data from the guest beyond
 * the credit we advertised resets that connection. Payload bytes go straight between
 * host sockets and guest buffers through bounds-checked iovecs. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "vsock/vring.h"

#define VSOCK_HDR_SIZE        44
#define VSOCK_HOST_CID        2
#define VSOCK_TYPE_STREAM     1
#define VSOCK_BUF_ALLOC       (1024u * 1024u)   /* what we advertise per connection */
#define VSOCK_MAX_PAYLOAD     (64u * 1024u)    /* per packet, both ways (Linux's maximum) */
#define VSOCK_MAX_CONNS       256
#define VSOCK_RST_QUEUE_MAX   256
#define VSOCK_REQUEST_TIMEOUT_MS 2000
#define VSOCK_LOCAL_PORT_BASE (1u << 30)       /* host ports for host-initiated connections */

enum vsock_op {
	VSOCK_OP_INVALID, VSOCK_OP_REQUEST, VSOCK_OP_RESPONSE, VSOCK_OP_RST, VSOCK_OP_SHUTDOWN,
	VSOCK_OP_RW, VSOCK_OP_CREDIT_UPDATE, VSOCK_OP_CREDIT_REQUEST,
};
#define VSOCK_SHUTDOWN_RCV  1u   /* sender will not receive any more */
#define VSOCK_SHUTDOWN_SEND 2u   /* sender will not send any more */

/* A packet header in host byte order. */
struct vsock_pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};
void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_pkt *p);
void vsock_hdr_encode(const struct vsock_pkt *p, uint8_t raw[VSOCK_HDR_SIZE]);

struct vsock_host_ops {
	/* Connects the host side of a guest connection to CID 2 port `port`: a non-blocking
	 * socket fd, or -errno (the guest then gets RST). */
	int (*connect)(void *ctx, uint32_t port);
	/* Watch fd for `events` (EPOLLIN/EPOLLOUT, 0 = none) and pass `token` back to
	 * vsock_dev_host_event(). Called with events 0 before an fd is closed. */
	void (*watch)(void *ctx, int fd, uint32_t events, uint64_t token);
};

struct vsock_conn;

struct vsock_dev {
	uint64_t guest_cid;
	struct vring *rx, *tx;
	const struct vsock_host_ops *ops;
	void *ops_ctx;
	struct vsock_conn *conns[VSOCK_MAX_CONNS];
	unsigned n_conns;
	unsigned rr;                      /* round-robin start slot for rx */
	uint32_t generation;
	uint32_t next_local_port;
	struct vsock_pkt rst_queue[VSOCK_RST_QUEUE_MAX];
	unsigned rst_head, rst_len;
	long long now_ms;
	unsigned tx_unnotified;           /* tx buffers returned without an interrupt yet */
	/* counters, for tests and the final log line */
	uint64_t stat_tx_chains;          /* chains taken from tx, valid or not */
	uint64_t stat_tx_pkts, stat_rx_pkts, stat_dropped, stat_bytes_to_host, stat_bytes_to_guest;
};

void vsock_dev_init(struct vsock_dev *d, uint64_t guest_cid, struct vring *rx, struct vring *tx,
		    const struct vsock_host_ops *ops, void *ctx);
/* Closes every host socket without telling the guest (its driver is gone). */
void vsock_dev_drop_all(struct vsock_dev *d, const char *why);
void vsock_dev_free(struct vsock_dev *d);

/* Drains the tx queue, then fills rx (at most VSOCK_RX_BATCH packets); notifies the
 * guest as needed. Return true if rx work is left: call again soon. */
#define VSOCK_RX_BATCH 1024
bool vsock_dev_process_tx(struct vsock_dev *d);
bool vsock_dev_process_rx(struct vsock_dev *d);
/* tx completions are signalled once a quarter of the tx ring's size in chains waits
 * (32 for QEMU's 128-entry ring); when the loop has nothing else to do and one is
 * pending, it calls vsock_dev_flush_tx_notify(). */
bool vsock_dev_tx_notify_pending(const struct vsock_dev *d);
void vsock_dev_flush_tx_notify(struct vsock_dev *d);
/* A watched host fd is ready (EPOLLIN/OUT/HUP/ERR); follow with vsock_dev_process_rx(). */
void vsock_dev_host_event(struct vsock_dev *d, uint64_t token, uint32_t events);
/* Host-initiated connection to guest port `guest_port` over the already connected host
 * socket fd (ownership passes on success): sends REQUEST; on RESPONSE writes
 * "OK <host port>\n" to fd; on RST or after VSOCK_REQUEST_TIMEOUT_MS closes fd.
 * Returns 0, or -EMFILE when the connection table is full. */
int vsock_dev_host_connect(struct vsock_dev *d, int fd, uint32_t guest_port);
/* Advances the clock (monotonic ms) and expires connection requests. */
void vsock_dev_tick(struct vsock_dev *d, long long now_ms);
/* Milliseconds until the next deadline, or -1 if none. */
long long vsock_dev_next_timeout(const struct vsock_dev *d);

/* Inspection, for tests and logs. */
unsigned vsock_dev_conn_count(const struct vsock_dev *d);
/* Whether the backend may poll tx instead of taking kicks: no connection with a window
 * (the smaller of the guest's buf_alloc and ours) under VSOCK_POLL_MIN_WINDOW has guest
 * data buffered here or sent data in the last VSOCK_POLL_QUIET_MS. The credit rule
 * (maybe_credit_update()) leaves the guest a quarter of its window when it asks for an
 * update, 256 KiB here: enough for a packet seen a poll interval late not to stall the
 * sender. With Linux's default 256 KiB buffer the slack is one 64 KiB packet, less than
 * the guest writes in one interval, so while such a connection sends, kicks stay on. */
#define VSOCK_POLL_QUIET_MS 2
#define VSOCK_POLL_MIN_WINDOW (1024u * 1024u)
bool vsock_dev_tx_poll_ok(const struct vsock_dev *d);
bool vsock_dev_conn_exists(const struct vsock_dev *d, uint32_t host_port, uint32_t guest_port);
/* Marks every host socket readable and writable (lets tests run without an event loop). */
void vsock_dev_poke_all(struct vsock_dev *d);
