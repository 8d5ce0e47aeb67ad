/* virtio_vsock: see virtio_vsock.h. Terms: "tx" is guest -> host, "rx" host -> guest.
 * Per connection, guest data waits in a ring buffer of VSOCK_BUF_ALLOC bytes (exactly the
 * credit we advertise) until the host socket takes it; host data is read only when the
 * guest has credit and an rx buffer is at hand, straight into that buffer. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock/virtio_vsock.h"
#include "vsock/vsock_log.h"

enum conn_state { CONN_LOCAL_INIT, CONN_ESTABLISHED };

enum {
	PEND_REQUEST  = 1u << 0,
	PEND_RESPONSE = 1u << 1,
	PEND_CREDIT   = 1u << 2,
	PEND_SHUTDOWN = 1u << 3,   /* host reached EOF: tell the guest we send no more */
};

struct vsock_conn {
	unsigned slot;
	uint32_t gen;
	uint32_t host_port, guest_port;
	int fd;
	enum conn_state state;
	unsigned pending;
	long long deadline_ms;           /* LOCAL_INIT only */
	/* guest -> host */
	uint8_t *buf;                    /* VSOCK_BUF_ALLOC bytes, allocated on first data */
	uint32_t buf_head, buf_len;
	uint32_t fwd_cnt, fwd_cnt_sent;
	long long last_rw_ms;            /* when the guest last sent data (d->now_ms) */
	bool guest_no_send, guest_no_recv, closing, host_shut_wr;
	/* host -> guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	bool host_readable, host_writable_wait, host_eof;
	uint32_t watched;
};

static struct vsock_ratelimit drop_rl;

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_pkt *p)
{
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;

#define GET(field, conv, var, off) do { memcpy(&var, raw + off, sizeof(var)); p->field = conv(var); } while (0)
	GET(src_cid, le64toh, u64, 0);
	GET(dst_cid, le64toh, u64, 8);
	GET(src_port, le32toh, u32, 16);
	GET(dst_port, le32toh, u32, 20);
	GET(len, le32toh, u32, 24);
	GET(type, le16toh, u16, 28);
	GET(op, le16toh, u16, 30);
	GET(flags, le32toh, u32, 32);
	GET(buf_alloc, le32toh, u32, 36);
	GET(fwd_cnt, le32toh, u32, 40);
#undef GET
}

void vsock_hdr_encode(const struct vsock_pkt *p, uint8_t raw[VSOCK_HDR_SIZE])
{
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;

#define PUT(field, conv, var, off) do { var = conv(p->field); memcpy(raw + off, &var, sizeof(var)); } while (0)
	PUT(src_cid, htole64, u64, 0);
	PUT(dst_cid, htole64, u64, 8);
	PUT(src_port, htole32, u32, 16);
	PUT(dst_port, htole32, u32, 20);
	PUT(len, htole32, u32, 24);
	PUT(type, htole16, u16, 28);
	PUT(op, htole16, u16, 30);
	PUT(flags, htole32, u32, 32);
	PUT(buf_alloc, htole32, u32, 36);
	PUT(fwd_cnt, htole32, u32, 40);
#undef PUT
}

void vsock_dev_init(struct vsock_dev *d, uint64_t guest_cid, struct vring *rx, struct vring *tx,
		    const struct vsock_host_ops *ops, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->guest_cid = guest_cid;
	d->rx = rx;
	d->tx = tx;
	d->ops = ops;
	d->ops_ctx = ctx;
	d->next_local_port = VSOCK_LOCAL_PORT_BASE;
}

/* ---- connection table --------------------------------------------------------- */

static uint64_t conn_token(const struct vsock_conn *c)
{
	return ((uint64_t) c->gen << 16) | c->slot;
}

static struct vsock_conn *conn_find(const struct vsock_dev *d, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = d->conns[i];
		if (c && c->host_port == host_port && c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static struct vsock_conn *conn_new(struct vsock_dev *d, int fd, uint32_t host_port, uint32_t guest_port)
{
	struct vsock_conn *c;
	unsigned slot;

	if (d->n_conns >= VSOCK_MAX_CONNS)
		return NULL;
	for (slot = 0; d->conns[slot]; slot++)
		;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slot = slot;
	c->gen = ++d->generation;
	c->fd = fd;
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->last_rw_ms = d->now_ms - VSOCK_POLL_QUIET_MS - 1;   /* has not sent yet */
	d->conns[slot] = c;
	d->n_conns++;
	return c;
}

static void conn_destroy(struct vsock_dev *d, struct vsock_conn *c)
{
	if (c->fd >= 0) {
		d->ops->watch(d->ops_ctx, c->fd, 0, conn_token(c));
		close(c->fd);
	}
	d->conns[c->slot] = NULL;
	d->n_conns--;
	free(c->buf);
	free(c);
}

static void queue_rst(struct vsock_dev *d, uint32_t host_port, uint32_t guest_port)
{
	struct vsock_pkt *p;

	if (d->rst_len >= VSOCK_RST_QUEUE_MAX) {
		d->stat_dropped++;
		if (vsock_log_ratelimit(&drop_rl, 5))
			vsock_warn("RST queue full, dropping RST for host port %u guest port %u", host_port, guest_port);
		return;
	}
	p = &d->rst_queue[(d->rst_head + d->rst_len++) % VSOCK_RST_QUEUE_MAX];
	*p = (struct vsock_pkt) {
		.src_cid = VSOCK_HOST_CID, .dst_cid = d->guest_cid, .src_port = host_port,
		.dst_port = guest_port, .type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
	};
}

/* Ends a connection abnormally: the guest gets RST, the host socket is closed. */
static void conn_reset(struct vsock_dev *d, struct vsock_conn *c, const char *why)
{
	vsock_info("connection host port %u guest port %u reset: %s", c->host_port, c->guest_port, why);
	queue_rst(d, c->host_port, c->guest_port);
	conn_destroy(d, c);
}

void vsock_dev_drop_all(struct vsock_dev *d, const char *why)
{
	if (d->n_conns > 0)
		vsock_info("dropping %u connections: %s", d->n_conns, why);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (d->conns[i])
			conn_destroy(d, d->conns[i]);
	d->rst_head = d->rst_len = 0;
}

void vsock_dev_free(struct vsock_dev *d)
{
	vsock_dev_drop_all(d, "device shut down");
}

unsigned vsock_dev_conn_count(const struct vsock_dev *d)
{
	return d->n_conns;
}

bool vsock_dev_conn_exists(const struct vsock_dev *d, uint32_t host_port, uint32_t guest_port)
{
	return conn_find(d, host_port, guest_port) != NULL;
}

/* ---- credit and host-socket I/O ---------------------------------------------------- */

/* Bytes the guest can still take from us. */
static uint32_t peer_free(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* When to tell the guest about freed buffer space (CREDIT_UPDATE). Linux caps the credit
 * it uses at its own socket buffer (the buf_alloc it advertises, 256 KiB by default), so
 * the window the guest works with is the smaller of its buf_alloc and ours. Each update
 * costs the guest an rx interrupt and a pass of its rx worker, under TCG a large part of
 * its per-byte cost (see bench/README.md); an update that comes too late stalls the
 * sender instead. So an update goes out once the guest has a quarter of its window or
 * less left (Linux's 64 KiB packets, default buffer: every third packet, one packet of
 * slack), and never for less than an eighth of the window. No deadlock: without an update
 * due, either the guest has more than a quarter of its window, or bytes wait in our buffer
 * and their forwarding makes one due. */
static uint32_t conn_window(const struct vsock_conn *c)
{
	return c->peer_buf_alloc && c->peer_buf_alloc < VSOCK_BUF_ALLOC ? c->peer_buf_alloc : VSOCK_BUF_ALLOC;
}

static void maybe_credit_update(struct vsock_conn *c)
{
	uint32_t window = conn_window(c);
	uint32_t unreported = c->fwd_cnt - c->fwd_cnt_sent;
	uint32_t in_use = c->buf_len + unreported;   /* as the guest sees it */

	if (unreported > 0 && unreported >= window / 8 && in_use >= window - window / 4)
		c->pending |= PEND_CREDIT;
}

bool vsock_dev_tx_poll_ok(const struct vsock_dev *d)
{
	for (unsigned i = 0, seen = 0; i < VSOCK_MAX_CONNS && seen < d->n_conns; i++) {
		const struct vsock_conn *c = d->conns[i];

		if (!c)
			continue;
		seen++;
		if (conn_window(c) < VSOCK_POLL_MIN_WINDOW &&
		    (c->buf_len > 0 || d->now_ms - c->last_rw_ms <= VSOCK_POLL_QUIET_MS))
			return false;
	}
	return true;
}

static void conn_update_watch(struct vsock_dev *d, struct vsock_conn *c)
{
	uint32_t want = 0;

	if (c->state == CONN_ESTABLISHED && !c->host_eof && !c->host_readable && !c->guest_no_recv &&
	    peer_free(c) > 0)
		want |= EPOLLIN;
	if (c->host_writable_wait)
		want |= EPOLLOUT;
	if (want != c->watched) {
		d->ops->watch(d->ops_ctx, c->fd, want, conn_token(c));
		c->watched = want;
	}
}

/* Writes buffered guest data to the host socket. Returns 0, or -EPIPE after resetting
 * (and freeing) the connection. */
static int conn_flush(struct vsock_dev *d, struct vsock_conn *c)
{
	while (c->buf_len > 0) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1 };
		uint32_t first = VSOCK_BUF_ALLOC - c->buf_head;
		ssize_t n;

		if (first >= c->buf_len)
			first = c->buf_len;
		else
			mh.msg_iovlen = 2;
		iov[0] = (struct iovec) { c->buf + c->buf_head, first };
		iov[1] = (struct iovec) { c->buf, c->buf_len - first };
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->host_writable_wait = true;
			return 0;
		}
		if (n <= 0) {
			conn_reset(d, c, n < 0 ? strerror(errno) : "host socket took no bytes");
			return -EPIPE;
		}
		c->buf_head = (c->buf_head + (uint32_t) n) % VSOCK_BUF_ALLOC;
		c->buf_len -= (uint32_t) n;
		c->fwd_cnt += (uint32_t) n;
		d->stat_bytes_to_host += (uint64_t) n;
	}
	c->host_writable_wait = false;
	maybe_credit_update(c);
	if (c->closing) {
		/* The guest closed both directions and everything it sent is delivered. */
		conn_reset(d, c, "guest closed the connection");
		return -EPIPE;
	}
	if (c->guest_no_send && !c->host_shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
	if (c->guest_no_send && c->host_eof) {
		conn_reset(d, c, "both directions finished");
		return -EPIPE;
	}
	return 0;
}

/* ---- tx: packets from the guest ------------------------------------------------- */

/* Sends payload straight from guest memory while nothing is queued before it. Returns
 * the bytes sent (possibly 0), or -EPIPE after resetting the connection. */
static long conn_send_direct(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain,
			     uint32_t len)
{
	struct iovec iov[VRING_MAX_SEGS * GUEST_MEM_MAX_REGIONS];
	struct msghdr mh = { .msg_iov = iov };
	uint64_t got;
	ssize_t n;
	int k;

	if (c->buf_len > 0 || len == 0)
		return 0;
	k = vring_chain_iov(d->tx, chain, false, VSOCK_HDR_SIZE, len, iov, (int) (sizeof(iov) / sizeof(iov[0])), &got);
	if (k < 0 || got != len) {
		conn_reset(d, c, "payload not readable");
		return -EPIPE;
	}
	mh.msg_iovlen = (size_t) k;
	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0) {
		conn_reset(d, c, strerror(errno));
		return -EPIPE;
	}
	c->fwd_cnt += (uint32_t) n;
	d->stat_bytes_to_host += (uint64_t) n;
	return n;
}

/* Queues what the host socket did not take, behind anything already queued. */
static int conn_queue_payload(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain,
			      uint32_t offset, uint32_t len)
{
	uint32_t tail, first;

	if (!c->buf) {
		c->buf = malloc(VSOCK_BUF_ALLOC);
		if (!c->buf) {
			conn_reset(d, c, "out of memory for the connection buffer");
			return -ENOMEM;
		}
	}
	tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
	first = VSOCK_BUF_ALLOC - tail < len ? VSOCK_BUF_ALLOC - tail : len;
	if (vring_chain_read(d->tx, chain, offset, c->buf + tail, first) != (long) first ||
	    vring_chain_read(d->tx, chain, offset + first, c->buf, len - first) != (long) (len - first)) {
		conn_reset(d, c, "payload not readable");
		return -EFAULT;
	}
	c->buf_len += len;
	return 0;
}

static int conn_take_payload(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain,
			     uint32_t len)
{
	long sent;

	if (c->state != CONN_ESTABLISHED || c->guest_no_send) {
		conn_reset(d, c, "data after the guest's shutdown or before the handshake");
		return -EPROTO;
	}
	/* The guest may have in flight what we advertised: buf_alloc minus what it sent
	 * since the fwd_cnt we last told it. */
	if (len > VSOCK_BUF_ALLOC - c->buf_len - (c->fwd_cnt - c->fwd_cnt_sent)) {
		conn_reset(d, c, "guest sent more data than the credit it was given");
		return -EPROTO;
	}
	sent = conn_send_direct(d, c, chain, len);
	if (sent < 0)
		return (int) sent;
	if ((uint32_t) sent < len && conn_queue_payload(d, c, chain, VSOCK_HDR_SIZE + (uint32_t) sent,
							len - (uint32_t) sent) < 0)
		return -ENOMEM;
	return conn_flush(d, c);
}

static void conn_guest_shutdown(struct vsock_dev *d, struct vsock_conn *c, uint32_t flags)
{
	if (flags & VSOCK_SHUTDOWN_RCV)
		c->guest_no_recv = true;
	if (flags & VSOCK_SHUTDOWN_SEND)
		c->guest_no_send = true;
	if (c->guest_no_recv && c->guest_no_send)
		c->closing = true;
	conn_flush(d, c);   /* may finish (and free) the connection */
}

static void conn_guest_response(struct vsock_dev *d, struct vsock_conn *c)
{
	char line[32];
	int n;

	if (c->state != CONN_LOCAL_INIT) {
		conn_reset(d, c, "unexpected RESPONSE");
		return;
	}
	c->state = CONN_ESTABLISHED;
	n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);
	if (send(c->fd, line, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		conn_reset(d, c, "host side went away before the guest accepted");
}

static void conn_guest_packet(struct vsock_dev *d, struct vsock_conn *c, const struct vsock_pkt *p,
			      const struct vring_chain *chain)
{
	c->peer_buf_alloc = p->buf_alloc;
	c->peer_fwd_cnt = p->fwd_cnt;
	switch (p->op) {
	case VSOCK_OP_RST:
		vsock_info("guest reset connection host port %u guest port %u", c->host_port, c->guest_port);
		conn_destroy(d, c);
		return;
	case VSOCK_OP_RESPONSE:
		conn_guest_response(d, c);
		return;
	case VSOCK_OP_RW:
		c->last_rw_ms = d->now_ms;
		conn_take_payload(d, c, chain, p->len);
		return;
	case VSOCK_OP_CREDIT_UPDATE:
		return;
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= PEND_CREDIT;
		return;
	case VSOCK_OP_SHUTDOWN:
		conn_guest_shutdown(d, c, p->flags);
		return;
	default:
		conn_reset(d, c, "unexpected operation on an open connection");
	}
}

static void guest_request(struct vsock_dev *d, const struct vsock_pkt *p)
{
	struct vsock_conn *c;
	int fd;

	if (d->n_conns >= VSOCK_MAX_CONNS) {
		vsock_warn("connection table full (%d): refusing guest port %u -> host port %u",
			   VSOCK_MAX_CONNS, p->src_port, p->dst_port);
		queue_rst(d, p->dst_port, p->src_port);
		return;
	}
	fd = d->ops->connect(d->ops_ctx, p->dst_port);
	if (fd < 0) {
		vsock_info("guest connect to host port %u refused: %s", p->dst_port, strerror(-fd));
		queue_rst(d, p->dst_port, p->src_port);
		return;
	}
	c = conn_new(d, fd, p->dst_port, p->src_port);
	if (!c) {
		close(fd);
		queue_rst(d, p->dst_port, p->src_port);
		return;
	}
	c->state = CONN_ESTABLISHED;
	c->pending = PEND_RESPONSE;
	c->peer_buf_alloc = p->buf_alloc;
	c->peer_fwd_cnt = p->fwd_cnt;
	vsock_info("guest port %u connected to host port %u (guest buffer %u bytes)", p->src_port, p->dst_port,
		   p->buf_alloc);
}

static void drop_pkt(struct vsock_dev *d, const char *why, const struct vsock_pkt *p)
{
	d->stat_dropped++;
	if (vsock_log_ratelimit(&drop_rl, 5))
		vsock_warn("dropped tx packet (op %u, %llu:%u -> %llu:%u, len %u): %s", p->op,
			   (unsigned long long) p->src_cid, p->src_port, (unsigned long long) p->dst_cid,
			   p->dst_port, p->len, why);
}

/* Reads and checks the header of a tx chain. Returns NULL, or why the packet is dropped. */
static const char *tx_parse(struct vsock_dev *d, const struct vring_chain *chain, struct vsock_pkt *p)
{
	uint8_t raw[VSOCK_HDR_SIZE];

	if (chain->read_len < VSOCK_HDR_SIZE ||
	    vring_chain_read(d->tx, chain, 0, raw, VSOCK_HDR_SIZE) != VSOCK_HDR_SIZE)
		return "shorter than the 44-byte header";
	vsock_hdr_decode(raw, p);
	d->stat_tx_pkts++;
	if (p->src_cid != d->guest_cid || p->dst_cid != VSOCK_HOST_CID)
		return "wrong source or destination CID";
	if (p->len > VSOCK_MAX_PAYLOAD || p->len > chain->read_len - VSOCK_HDR_SIZE)
		return "len field larger than the packet";
	if (p->op != VSOCK_OP_RW && p->len != 0)
		return "payload on a control packet";
	return NULL;
}

static void tx_handle_chain(struct vsock_dev *d, const struct vring_chain *chain)
{
	struct vsock_pkt p = { 0 };
	struct vsock_conn *c;
	const char *why = tx_parse(d, chain, &p);

	if (why) {
		drop_pkt(d, why, &p);
		return;
	}
	c = conn_find(d, p.dst_port, p.src_port);
	if (p.type != VSOCK_TYPE_STREAM) {
		if (p.op != VSOCK_OP_RST)
			queue_rst(d, p.dst_port, p.src_port);
	} else if (c && p.op == VSOCK_OP_REQUEST)
		conn_reset(d, c, "second REQUEST for an open connection");
	else if (c)
		conn_guest_packet(d, c, &p, chain);
	else if (p.op == VSOCK_OP_REQUEST)
		guest_request(d, &p);
	else if (p.op != VSOCK_OP_RST)
		queue_rst(d, p.dst_port, p.src_port);
}

static void update_all_watches(struct vsock_dev *d)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (d->conns[i])
			conn_update_watch(d, d->conns[i]);
}

bool vsock_dev_process_tx(struct vsock_dev *d)
{
	struct vring_chain chain;

	while (vring_pop(d->tx, &chain) == 1) {
		d->stat_tx_chains++;
		tx_handle_chain(d, &chain);
		vring_push(d->tx, chain.head, 0);
		d->tx_unnotified++;
	}
	/* Completed tx buffers only let the guest free memory and ring space, so their
	 * interrupt waits for a quarter of the ring or for the loop to go idle
	 * (vsock_dev_flush_tx_notify()). Every interrupt costs the guest a pass of its tx
	 * worker. Linux's packets take two descriptors, so a quarter of the ring in chains
	 * holds half its descriptors and leaves room for 1 MiB of credit in 64 KiB packets:
	 * a guest within its credit never finds the ring full. */
	if (d->tx_unnotified >= d->tx->size / 4u)
		vsock_dev_flush_tx_notify(d);
	return vsock_dev_process_rx(d);
}

bool vsock_dev_tx_notify_pending(const struct vsock_dev *d)
{
	return d->tx_unnotified > 0;
}

void vsock_dev_flush_tx_notify(struct vsock_dev *d)
{
	d->tx_unnotified = 0;
	vring_notify(d->tx);
}

/* ---- rx: packets to the guest ---------------------------------------------------- */

static struct vsock_pkt conn_pkt(const struct vsock_dev *d, struct vsock_conn *c, uint16_t op)
{
	c->fwd_cnt_sent = c->fwd_cnt;
	c->pending &= ~PEND_CREDIT;   /* every packet carries our credit */
	return (struct vsock_pkt) {
		.src_cid = VSOCK_HOST_CID, .dst_cid = d->guest_cid, .src_port = c->host_port,
		.dst_port = c->guest_port, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};
}

static bool conn_can_read_host(const struct vsock_conn *c)
{
	return c->state == CONN_ESTABLISHED && c->host_readable && !c->host_eof && !c->guest_no_recv &&
	       !(c->pending & PEND_RESPONSE) && peer_free(c) > 0;
}

static bool conn_wants_rx(const struct vsock_conn *c)
{
	return c->pending != 0 || conn_can_read_host(c);
}

/* Reads host data straight into the chain after the header. Returns the byte count, 0
 * at EOF, -EAGAIN if nothing is there, or -EIO on a socket error. */
static long conn_read_host(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain)
{
	struct iovec iov[VRING_MAX_SEGS * GUEST_MEM_MAX_REGIONS];
	uint64_t want = chain->write_len - VSOCK_HDR_SIZE, got;
	ssize_t n;
	int k;

	if (want > peer_free(c))
		want = peer_free(c);
	if (want > VSOCK_MAX_PAYLOAD)
		want = VSOCK_MAX_PAYLOAD;
	if (want == 0)
		return -EAGAIN;
	k = vring_chain_iov(d->rx, chain, true, VSOCK_HDR_SIZE, want, iov, (int) (sizeof(iov) / sizeof(iov[0])), &got);
	if (k <= 0)
		return -EIO;
	do
		n = readv(c->fd, iov, k);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EIO;
	return n;
}

/* Fills one rx chain for connection c. Returns true if the chain was used. */
static bool conn_fill_rx(struct vsock_dev *d, struct vsock_conn *c, const struct vring_chain *chain,
			 struct vsock_pkt *out)
{
	long n;

	if (c->pending & PEND_REQUEST) {
		c->pending &= ~PEND_REQUEST;
		*out = conn_pkt(d, c, VSOCK_OP_REQUEST);
		return true;
	}
	if (c->pending & PEND_RESPONSE) {
		c->pending &= ~PEND_RESPONSE;
		*out = conn_pkt(d, c, VSOCK_OP_RESPONSE);
		return true;
	}
	if (conn_can_read_host(c)) {
		n = conn_read_host(d, c, chain);
		if (n > 0) {
			*out = conn_pkt(d, c, VSOCK_OP_RW);
			out->len = (uint32_t) n;
			c->tx_cnt += (uint32_t) n;
			d->stat_bytes_to_guest += (uint64_t) n;
			return true;
		}
		c->host_readable = false;
		if (n == 0 || n == -EIO) {
			c->host_eof = true;
			c->pending |= PEND_SHUTDOWN;
		}
	}
	if (c->pending & PEND_SHUTDOWN) {
		c->pending &= ~PEND_SHUTDOWN;
		*out = conn_pkt(d, c, VSOCK_OP_SHUTDOWN);
		out->flags = VSOCK_SHUTDOWN_SEND;
		return true;
	}
	if (c->pending & PEND_CREDIT) {
		*out = conn_pkt(d, c, VSOCK_OP_CREDIT_UPDATE);
		return true;
	}
	return false;
}

/* The next packet source with something to send: the RST queue first, then connections
 * round-robin. Returns the connection, or NULL with *rst set if an RST is due. */
static struct vsock_conn *next_rx_source(struct vsock_dev *d, bool *rst)
{
	*rst = d->rst_len > 0;
	if (*rst)
		return NULL;
	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned slot = (d->rr + k) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = d->conns[slot];
		if (c && conn_wants_rx(c)) {
			d->rr = (slot + 1) % VSOCK_MAX_CONNS;
			return c;
		}
	}
	return NULL;
}

/* Returns false when rx cannot take more (no buffers or broken) or nothing is left. */
static bool rx_one(struct vsock_dev *d)
{
	struct vring_chain chain;
	struct vsock_pkt p;
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_conn *c;
	bool rst;

	c = next_rx_source(d, &rst);
	if (!c && !rst)
		return false;
	if (vring_pop(d->rx, &chain) != 1)
		return false;
	if (chain.write_len < VSOCK_HDR_SIZE) {
		vring_mark_broken(d->rx, "rx buffer of %llu bytes cannot hold the 44-byte header",
				  (unsigned long long) chain.write_len);
		return false;
	}
	if (rst) {
		p = d->rst_queue[d->rst_head];
		d->rst_head = (d->rst_head + 1) % VSOCK_RST_QUEUE_MAX;
		d->rst_len--;
	} else if (!conn_fill_rx(d, c, &chain, &p)) {
		vring_unpop(d->rx);
		return true;   /* that source had nothing after all; look again */
	}
	vsock_hdr_encode(&p, raw);
	vring_chain_write(d->rx, &chain, 0, raw, VSOCK_HDR_SIZE);
	vring_push(d->rx, chain.head, VSOCK_HDR_SIZE + p.len);
	d->stat_rx_pkts++;
	if (c && c->host_eof && c->guest_no_send && c->buf_len == 0 && c->pending == 0)
		conn_reset(d, c, "both directions finished");
	return true;
}

bool vsock_dev_process_rx(struct vsock_dev *d)
{
	unsigned rounds;

	/* Every round sends a packet or clears a source's readiness; the cap keeps one busy
	 * direction from starving the other, the caller comes back when we return true. */
	for (rounds = 0; rounds < VSOCK_RX_BATCH && rx_one(d); rounds++)
		;
	vring_notify(d->rx);
	update_all_watches(d);
	return rounds == VSOCK_RX_BATCH;
}

/* ---- host side ---------------------------------------------------------------- */

void vsock_dev_host_event(struct vsock_dev *d, uint64_t token, uint32_t events)
{
	unsigned slot = (unsigned) (token & 0xffff);
	struct vsock_conn *c;

	if (slot >= VSOCK_MAX_CONNS)
		return;
	c = d->conns[slot];
	if (!c || c->gen != (uint32_t) (token >> 16))
		return;   /* closed earlier in this round of events */
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		c->host_readable = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		if (conn_flush(d, c) < 0)
			return;
	}
	conn_update_watch(d, c);
}

int vsock_dev_host_connect(struct vsock_dev *d, int fd, uint32_t guest_port)
{
	struct vsock_conn *c;
	uint32_t port = d->next_local_port;

	for (unsigned tries = 0; conn_find(d, port, guest_port); tries++) {
		if (tries > VSOCK_MAX_CONNS)
			return -EMFILE;
		port = port + 1 >= (1u << 31) ? VSOCK_LOCAL_PORT_BASE : port + 1;
	}
	c = conn_new(d, fd, port, guest_port);
	if (!c)
		return -EMFILE;
	d->next_local_port = port + 1 >= (1u << 31) ? VSOCK_LOCAL_PORT_BASE : port + 1;
	c->state = CONN_LOCAL_INIT;
	c->pending = PEND_REQUEST;
	c->deadline_ms = d->now_ms + VSOCK_REQUEST_TIMEOUT_MS;
	vsock_info("host connection to guest port %u as host port %u", guest_port, port);
	return 0;
}

void vsock_dev_tick(struct vsock_dev *d, long long now_ms)
{
	d->now_ms = now_ms;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = d->conns[i];
		if (c && c->state == CONN_LOCAL_INIT && now_ms >= c->deadline_ms) {
			vsock_info("guest did not answer the connection to port %u in %d ms",
				   c->guest_port, VSOCK_REQUEST_TIMEOUT_MS);
			conn_reset(d, c, "connection request timed out");
		}
	}
}

long long vsock_dev_next_timeout(const struct vsock_dev *d)
{
	long long best = -1;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = d->conns[i];
		long long left;

		if (!c || c->state != CONN_LOCAL_INIT)
			continue;
		left = c->deadline_ms > d->now_ms ? c->deadline_ms - d->now_ms : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

void vsock_dev_poke_all(struct vsock_dev *d)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (d->conns[i])
			vsock_dev_host_event(d, conn_token(d->conns[i]), EPOLLIN | EPOLLOUT);
}
