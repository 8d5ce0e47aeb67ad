/* Unit tests for virtio_vsock.c: the device model between a fake guest (rings in memory)
 * and host sockets (socketpairs), no QEMU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_fake_guest.h"
#include "vsock/vsock_log.h"

#define LISTEN_PORT 5123
#define GUEST_PORT  40000

struct fixture {
	struct fake_guest g;
	struct vsock_dev d;
	int peer;               /* host end of the last accepted connection */
	unsigned connects;
};

static int fx_connect(void *ctx, uint32_t port)
{
	struct fixture *f = ctx;
	int sv[2];

	if (port != LISTEN_PORT)
		return -ECONNREFUSED;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	f->peer = sv[1];
	f->connects++;
	return sv[0];
}

static void fx_watch(void *ctx, int fd, uint32_t events, uint64_t token)
{
}

static const struct vsock_host_ops fx_ops = { .connect = fx_connect, .watch = fx_watch };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fg_init(&f->g);
	vsock_dev_init(&f->d, FG_CID, &f->g.vq[0], &f->g.vq[1], &fx_ops, f);
	f->peer = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vsock_dev_free(&f->d);
	if (f->peer >= 0)
		close(f->peer);
	fg_free(&f->g);
	free(f);
	return 0;
}

/* The guest connects GUEST_PORT -> LISTEN_PORT and consumes the RESPONSE. */
static void connect_guest(struct fixture *f)
{
	struct vsock_pkt p;

	fg_post_rx(&f->g, 8, 4096);
	fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RESPONSE);
}

static void test_guest_connect_to_listener_gets_response_with_swapped_addresses(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;

	fg_post_rx(&f->g, 4, 4096);
	fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(f->connects, 1);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RESPONSE);
	assert_int_equal(p.src_cid, 2);
	assert_int_equal(p.dst_cid, FG_CID);
	assert_int_equal(p.src_port, LISTEN_PORT);
	assert_int_equal(p.dst_port, GUEST_PORT);
	assert_int_equal(p.type, VSOCK_TYPE_STREAM);
	assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(p.fwd_cnt, 0);
	assert_int_equal(p.len, 0);
	assert_true(vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT));
}

static void test_guest_connect_to_port_nobody_listens_on_gets_rst(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;

	fg_post_rx(&f->g, 4, 4096);
	fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, 9999), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RST);
	assert_int_equal(p.src_port, 9999);
	assert_int_equal(p.dst_port, GUEST_PORT);
	assert_int_equal(vsock_dev_conn_count(&f->d), 0);
}

static void test_guest_data_reaches_host_socket_byte_exact(void **state)
{
	struct fixture *f = *state;
	char buf[64] = { 0 };

	connect_guest(f);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "hello, host", 11);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "!", 1);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(read(f->peer, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "hello, host!");
	assert_int_equal(f->d.stat_bytes_to_host, 12);
}

static void test_host_data_reaches_guest_as_rw_packet(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;
	char buf[64] = { 0 };

	connect_guest(f);
	assert_int_equal(write(f->peer, "from host", 9), 9);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, buf, sizeof(buf)), 1);
	assert_int_equal(p.op, VSOCK_OP_RW);
	assert_int_equal(p.len, 9);
	assert_string_equal(buf, "from host");
	assert_int_equal(p.src_port, LISTEN_PORT);
	assert_int_equal(p.dst_port, GUEST_PORT);
}

static void test_host_data_waits_for_guest_credit_and_resumes_on_credit_update(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p, small = fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT);
	char buf[64] = { 0 };

	fg_post_rx(&f->g, 8, 4096);
	small.buf_alloc = 4;     /* the guest can hold only 4 bytes */
	fg_send(&f->g, small, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(write(f->peer, "abcdefgh", 8), 8);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, buf, sizeof(buf)), 1);
	assert_int_equal(p.len, 4);
	assert_memory_equal(buf, "abcd", 4);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 0);   /* credit exhausted */
	/* the guest consumed the 4 bytes */
	small.op = VSOCK_OP_CREDIT_UPDATE;
	small.fwd_cnt = 4;
	fg_send(&f->g, small, NULL, 0);
	vsock_dev_process_tx(&f->d);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, buf, sizeof(buf)), 1);
	assert_int_equal(p.len, 4);
	assert_memory_equal(buf, "efgh", 4);
}

static void test_guest_data_beyond_advertised_credit_resets_connection(void **state)
{
	struct fixture *f = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD];
	struct vsock_pkt p;
	int small = 4096;
	unsigned sent = 0;

	connect_guest(f);
	/* the host side reads nothing: its socket fills, then our buffer */
	setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT) && sent < 2 * VSOCK_BUF_ALLOC / sizeof(chunk) + 16) {
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), chunk, sizeof(chunk));
		vsock_dev_process_tx(&f->d);
		sent++;
	}
	assert_false(vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT));
	/* more than the buffer, less than what we would have taken without a limit */
	assert_true((uint64_t) sent * sizeof(chunk) > VSOCK_BUF_ALLOC);
	while (fg_recv(&f->g, &p, NULL, 0) == 1 && p.op != VSOCK_OP_RST)
		;
	assert_int_equal(p.op, VSOCK_OP_RST);
}

static void test_guest_filling_its_credit_is_kept_and_credit_returns_as_host_reads(void **state)
{
	struct fixture *f = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD], sink[VSOCK_MAX_PAYLOAD];
	struct vsock_pkt p;
	uint32_t last_fwd = 0;
	int got_update = 0;

	connect_guest(f);
	for (unsigned i = 0; i < VSOCK_BUF_ALLOC / sizeof(chunk); i++) {
		memset(chunk, 'a' + (int) (i % 26), sizeof(chunk));
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), chunk, sizeof(chunk));
		vsock_dev_process_tx(&f->d);
	}
	assert_true(vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT));
	/* the host reads everything; each flush returns credit */
	for (int rounds = 0; rounds < 1000; rounds++) {
		while (read(f->peer, sink, sizeof(sink)) > 0)
			;
		vsock_dev_poke_all(&f->d);
		vsock_dev_process_rx(&f->d);
		fg_post_rx(&f->g, 1, 4096);
		while (fg_recv(&f->g, &p, NULL, 0) == 1)
			if (p.op == VSOCK_OP_CREDIT_UPDATE) {
				got_update = 1;
				last_fwd = p.fwd_cnt;
			}
		if (f->d.stat_bytes_to_host == VSOCK_BUF_ALLOC)
			break;
	}
	assert_int_equal(f->d.stat_bytes_to_host, VSOCK_BUF_ALLOC);
	assert_true(got_update);
	assert_true(last_fwd >= VSOCK_BUF_ALLOC * 3 / 4);
	assert_true(vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT));
}

/* Reads whatever the host socket holds; returns the byte count. */
static size_t drain_peer(struct fixture *f, size_t max_per_read)
{
	static uint8_t sink[VSOCK_MAX_PAYLOAD];
	size_t total = 0;
	ssize_t n;

	while ((n = read(f->peer, sink, max_per_read < sizeof(sink) ? max_per_read : sizeof(sink))) > 0) {
		total += (size_t) n;
		if (max_per_read < sizeof(sink))
			break;
	}
	return total;
}

/* Collects the CREDIT_UPDATEs the device has queued; returns how many, *fwd the last. */
static int credit_updates(struct fixture *f, uint32_t *fwd)
{
	struct vsock_pkt p;
	int n = 0;

	vsock_dev_process_rx(&f->d);
	while (fg_recv(&f->g, &p, NULL, 0) == 1) {
		assert_int_equal(p.op, VSOCK_OP_CREDIT_UPDATE);
		assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
		*fwd = p.fwd_cnt;
		n++;
	}
	fg_post_rx(&f->g, (unsigned) n, 4096);
	return n;
}

/* A guest with Linux's default 256 KiB buffer sends 64 KiB packets and the host reads at
 * once: credit goes back with every third packet (a quarter of the window left), not
 * with every packet, each update reporting everything forwarded. */
static void test_credit_update_comes_when_a_quarter_of_the_guest_window_is_left(void **state)
{
	struct fixture *f = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD];
	uint32_t fwd = 0;

	connect_guest(f);
	for (unsigned i = 1; i <= 9; i++) {
		memset(chunk, (int) i, sizeof(chunk));
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), chunk, sizeof(chunk));
		vsock_dev_process_tx(&f->d);
		assert_int_equal(drain_peer(f, SIZE_MAX), sizeof(chunk));
		assert_int_equal(credit_updates(f, &fwd), i % 3 == 0 ? 1 : 0);
		if (i % 3 == 0)
			assert_int_equal(fwd, i * sizeof(chunk));
	}
	assert_int_equal(f->d.stat_bytes_to_host, 9 * sizeof(chunk));
}

/* The host reads slowly in 4 KiB steps while the guest's whole 256 KiB window waits in the
 * host socket and our buffer: no update reports less than an eighth of the window (32 KiB),
 * and once everything is delivered the guest has at least a quarter of its window. */
static void test_slow_host_gets_no_tiny_credit_updates_and_guest_never_stays_stuck(void **state)
{
	struct fixture *f = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD];
	const uint32_t window = 256 * 1024;
	uint32_t fwd = 0, last = 0;
	size_t read_total = 0;
	int small = 4096, updates = 0;

	connect_guest(f);
	setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (unsigned i = 0; i < window / sizeof(chunk); i++) {
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), chunk, sizeof(chunk));
		vsock_dev_process_tx(&f->d);
	}
	assert_true(vsock_dev_conn_exists(&f->d, LISTEN_PORT, GUEST_PORT));
	for (int rounds = 0; rounds < 100000 && read_total < window; rounds++) {
		read_total += drain_peer(f, 4096);
		vsock_dev_poke_all(&f->d);
		for (int n = credit_updates(f, &fwd); n > 0; n--, updates++) {
			assert_true(fwd - last >= window / 8);
			last = fwd;
		}
	}
	assert_int_equal(read_total, window);
	assert_int_equal(f->d.stat_bytes_to_host, window);
	assert_true(updates >= 1);
	/* the guest sent window bytes and heard of last: its credit is window - (window - last) */
	assert_true(last >= window / 4);
}

/* tx polling (vsock_backend.c) is fine for 1 MiB windows, but a connection with Linux's
 * default 256 KiB window keeps kicks on from its first data until it has been quiet for
 * VSOCK_POLL_QUIET_MS and its bytes are forwarded. */
static void test_tx_polling_is_refused_while_a_small_window_connection_sends(void **state)
{
	struct fixture *f = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD];
	size_t read_total = 0;
	int small = 4096;

	vsock_dev_tick(&f->d, 1000);
	assert_true(vsock_dev_tx_poll_ok(&f->d));          /* no connection */
	connect_guest(f);                                   /* 256 KiB window */
	assert_true(vsock_dev_tx_poll_ok(&f->d));          /* has not sent data */
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "x", 1);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(drain_peer(f, SIZE_MAX), 1);
	assert_false(vsock_dev_tx_poll_ok(&f->d));
	vsock_dev_tick(&f->d, 1000 + VSOCK_POLL_QUIET_MS);
	assert_false(vsock_dev_tx_poll_ok(&f->d));
	vsock_dev_tick(&f->d, 1000 + VSOCK_POLL_QUIET_MS + 1);
	assert_true(vsock_dev_tx_poll_ok(&f->d));
	/* quiet, but bytes still wait in our buffer because the host socket is full */
	setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (unsigned i = 0; i < 4; i++) {
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), chunk, sizeof(chunk));
		vsock_dev_process_tx(&f->d);
	}
	vsock_dev_tick(&f->d, 2000);
	assert_false(vsock_dev_tx_poll_ok(&f->d));
	for (int rounds = 0; rounds < 100000 && read_total < 4 * sizeof(chunk); rounds++) {
		read_total += drain_peer(f, 4096);
		vsock_dev_poke_all(&f->d);
	}
	assert_int_equal(read_total, 4 * sizeof(chunk));
	assert_true(vsock_dev_tx_poll_ok(&f->d));
}

static void test_tx_polling_is_allowed_while_a_1_mib_window_connection_sends(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt req = fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT), p;
	struct vsock_pkt rw = fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT);

	vsock_dev_tick(&f->d, 1000);
	req.buf_alloc = rw.buf_alloc = VSOCK_POLL_MIN_WINDOW;
	fg_post_rx(&f->g, 8, 4096);
	fg_send(&f->g, req, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RESPONSE);
	fg_send(&f->g, rw, "x", 1);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(drain_peer(f, SIZE_MAX), 1);
	assert_true(vsock_dev_tx_poll_ok(&f->d));
	/* one byte under the minimum is a small window */
	rw.buf_alloc = VSOCK_POLL_MIN_WINDOW - 1;
	fg_send(&f->g, rw, "y", 1);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(drain_peer(f, SIZE_MAX), 1);
	assert_false(vsock_dev_tx_poll_ok(&f->d));
}

/* tx completions: one interrupt per quarter of the ring (16 chains of the fake guest's
 * 64), not one per packet; the rest when the loop flushes at idle. */
static void test_tx_completions_are_signalled_once_per_quarter_of_the_ring(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t v = 0;

	assert_true(efd >= 0);
	f->g.vq[1].call_fd = efd;
	connect_guest(f);                        /* one chain: no interrupt yet */
	assert_int_equal(read(efd, &v, 8), -1);
	for (unsigned i = 2; i <= 16; i++) {
		fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "z", 1);
		vsock_dev_process_tx(&f->d);
		assert_int_equal(read(efd, &v, 8), i == 16 ? 8 : -1);
	}
	assert_int_equal(v, 1);
	assert_int_equal(f->g.vq[1].stat_calls, 1);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "z", 1);
	vsock_dev_process_tx(&f->d);
	assert_true(vsock_dev_tx_notify_pending(&f->d));
	vsock_dev_flush_tx_notify(&f->d);
	assert_int_equal(read(efd, &v, 8), 8);
	assert_false(vsock_dev_tx_notify_pending(&f->d));
	assert_int_equal(drain_peer(f, SIZE_MAX), 16);
}

static void test_credit_request_is_answered_with_credit_update(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;

	connect_guest(f);
	fg_send(&f->g, fg_pkt(VSOCK_OP_CREDIT_REQUEST, GUEST_PORT, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
}

static void test_packets_with_wrong_cids_are_dropped_silently(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p = fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT);

	fg_post_rx(&f->g, 4, 4096);
	p.src_cid = 7;
	fg_send(&f->g, p, NULL, 0);
	p = fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT);
	p.dst_cid = 1;
	fg_send(&f->g, p, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(f->connects, 0);
	assert_int_equal(f->d.stat_dropped, 2);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 0);
	/* the tx buffers were still returned */
	uint32_t id, len;
	assert_int_equal(fg_used(&f->g, 1, &id, &len), 1);
	assert_int_equal(fg_used(&f->g, 1, &id, &len), 1);
}

static void test_unknown_connection_gets_rst_but_rst_gets_no_answer(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;

	fg_post_rx(&f->g, 4, 4096);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "x", 1);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RST, GUEST_PORT + 1, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RST);
	assert_int_equal(p.dst_port, GUEST_PORT);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 0);
}

static void test_length_field_beyond_the_buffer_is_dropped(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p = fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT);
	uint16_t h = fg_take_desc(&f->g, 1);
	uint64_t a = fg_alloc(&f->g, 64);

	connect_guest(f);
	p.len = 1000;    /* but the chain holds only 20 payload bytes */
	vsock_hdr_encode(&p, fg_ptr(&f->g, a));
	fg_set_desc(&f->g, 1, h, a, 64, 0, 0);
	fg_publish(&f->g, 1, h);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(f->d.stat_dropped, 1);
	assert_int_equal(f->d.stat_bytes_to_host, 0);
}

static void test_guest_shutdown_both_ways_closes_host_socket_and_sends_rst(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p = fg_pkt(VSOCK_OP_SHUTDOWN, GUEST_PORT, LISTEN_PORT);
	char buf[8];

	connect_guest(f);
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, GUEST_PORT, LISTEN_PORT), "bye", 3);
	p.flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
	fg_send(&f->g, p, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(read(f->peer, buf, sizeof(buf)), 3);     /* data first */
	assert_int_equal(read(f->peer, buf, sizeof(buf)), 0);     /* then EOF */
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RST);
	assert_int_equal(vsock_dev_conn_count(&f->d), 0);
}

static void test_guest_shutdown_send_half_closes_host_socket(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p = fg_pkt(VSOCK_OP_SHUTDOWN, GUEST_PORT, LISTEN_PORT);
	char buf[8];

	connect_guest(f);
	p.flags = VSOCK_SHUTDOWN_SEND;
	fg_send(&f->g, p, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(read(f->peer, buf, sizeof(buf)), 0);
	/* the other direction still works */
	assert_int_equal(write(f->peer, "late", 4), 4);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, buf, sizeof(buf)), 1);
	assert_int_equal(p.op, VSOCK_OP_RW);
	assert_int_equal(p.len, 4);
}

static void test_host_close_sends_shutdown_to_guest(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;

	connect_guest(f);
	close(f->peer);
	f->peer = -1;
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.flags, VSOCK_SHUTDOWN_SEND);
	/* the guest answers with RST: state is dropped, no answer to the RST */
	fg_send(&f->g, fg_pkt(VSOCK_OP_RST, GUEST_PORT, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(vsock_dev_conn_count(&f->d), 0);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 0);
}

static void test_host_initiated_connection_sends_request_and_ok_line_on_response(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p, resp;
	char line[32] = { 0 };
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	f->peer = sv[1];
	fg_post_rx(&f->g, 4, 4096);
	assert_int_equal(vsock_dev_host_connect(&f->d, sv[0], 1234), 0);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_REQUEST);
	assert_int_equal(p.src_port, VSOCK_LOCAL_PORT_BASE);
	assert_int_equal(p.dst_port, 1234);
	assert_int_equal(p.dst_cid, FG_CID);
	resp = fg_pkt(VSOCK_OP_RESPONSE, 1234, VSOCK_LOCAL_PORT_BASE);
	fg_send(&f->g, resp, NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(read(f->peer, line, sizeof(line)), 14);
	assert_string_equal(line, "OK 1073741824\n");
	/* and data flows */
	fg_send(&f->g, fg_pkt(VSOCK_OP_RW, 1234, VSOCK_LOCAL_PORT_BASE), "data", 4);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(read(f->peer, line, sizeof(line)), 4);
}

static void test_host_initiated_connection_without_answer_times_out(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;
	char c;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	f->peer = sv[1];
	vsock_dev_tick(&f->d, 1000);
	assert_int_equal(vsock_dev_host_connect(&f->d, sv[0], 1234), 0);
	assert_int_equal(vsock_dev_next_timeout(&f->d), VSOCK_REQUEST_TIMEOUT_MS);
	vsock_dev_tick(&f->d, 1000 + VSOCK_REQUEST_TIMEOUT_MS - 1);
	assert_int_equal(vsock_dev_conn_count(&f->d), 1);
	vsock_dev_tick(&f->d, 1000 + VSOCK_REQUEST_TIMEOUT_MS);
	assert_int_equal(vsock_dev_conn_count(&f->d), 0);
	assert_int_equal(read(f->peer, &c, 1), 0);    /* closed without text */
	/* the guest hears RST once it posts buffers */
	fg_post_rx(&f->g, 4, 4096);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_recv(&f->g, &p, NULL, 0), 1);
	assert_int_equal(p.op, VSOCK_OP_RST);
}

static void test_tx_is_drained_while_rx_has_no_buffers(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;
	uint32_t id, len;
	unsigned used = 0, rsts = 0;

	/* no rx buffers at all: 40 connection attempts to a closed port */
	for (unsigned i = 0; i < 40; i++)
		fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT + i, 9999), NULL, 0);
	vsock_dev_process_tx(&f->d);
	while (fg_used(&f->g, 1, &id, &len))
		used++;
	assert_int_equal(used, 40);
	/* the replies waited and arrive when buffers do */
	fg_post_rx(&f->g, 40, 4096);
	vsock_dev_process_rx(&f->d);
	while (fg_recv(&f->g, &p, NULL, 0) == 1)
		rsts += p.op == VSOCK_OP_RST;
	assert_int_equal(rsts, 40);
}

static void test_rx_buffer_smaller_than_header_breaks_rx_queue(void **state)
{
	struct fixture *f = *state;

	fg_post_rx(&f->g, 1, 20);
	fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, 9999), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_true(f->g.vq[0].broken);
	assert_false(f->g.vq[1].broken);
}

static void test_rx_packet_spans_header_and_payload_descriptors(void **state)
{
	struct fixture *f = *state;
	struct vsock_pkt p;
	uint16_t h, d;
	uint64_t ha, pa;
	uint32_t id, len;

	/* Linux <= 6.1 posts rx buffers as a 44-byte header descriptor plus 4 KiB */
	for (unsigned i = 0; i < 2; i++) {
		h = fg_take_desc(&f->g, 0);
		d = fg_take_desc(&f->g, 0);
		ha = fg_alloc(&f->g, 44);
		pa = fg_alloc(&f->g, 4096);
		fg_set_desc(&f->g, 0, h, ha, 44, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, d);
		fg_set_desc(&f->g, 0, d, pa, 4096, VRING_DESC_F_WRITE, 0);
		fg_publish(&f->g, 0, h);
	}
	fg_send(&f->g, fg_pkt(VSOCK_OP_REQUEST, GUEST_PORT, LISTEN_PORT), NULL, 0);
	vsock_dev_process_tx(&f->d);
	assert_int_equal(fg_used(&f->g, 0, &id, &len), 1);
	assert_int_equal(len, 44);
	assert_int_equal(write(f->peer, "split", 5), 5);
	vsock_dev_poke_all(&f->d);
	vsock_dev_process_rx(&f->d);
	assert_int_equal(fg_used(&f->g, 0, &id, &len), 1);
	assert_int_equal(id, h);
	assert_int_equal(len, 44 + 5);
	vsock_hdr_decode(fg_ptr(&f->g, ha), &p);
	assert_int_equal(p.op, VSOCK_OP_RW);
	assert_int_equal(p.len, 5);
	assert_memory_equal(fg_ptr(&f->g, pa), "split", 5);
}

static void test_drop_all_closes_every_host_socket(void **state)
{
	struct fixture *f = *state;
	char c;

	connect_guest(f);
	vsock_dev_drop_all(&f->d, "test");
	assert_int_equal(vsock_dev_conn_count(&f->d), 0);
	assert_int_equal(read(f->peer, &c, 1), 0);
}

static void test_header_encoding_is_little_endian_44_bytes(void **state)
{
	struct vsock_pkt p = { .src_cid = 0x0102030405060708ull, .dst_cid = 2, .src_port = 0x11223344,
			       .dst_port = 5, .len = 6, .type = 1, .op = 5, .flags = 3, .buf_alloc = 0x40000,
			       .fwd_cnt = 9 }, q;
	uint8_t raw[VSOCK_HDR_SIZE];

	vsock_hdr_encode(&p, raw);
	assert_int_equal(raw[0], 0x08);
	assert_int_equal(raw[7], 0x01);
	assert_int_equal(raw[16], 0x44);
	assert_int_equal(raw[28], 1);
	assert_int_equal(raw[30], 5);
	assert_int_equal(raw[38], 4);
	assert_int_equal(raw[40], 9);
	vsock_hdr_decode(raw, &q);
	assert_int_equal(q.src_cid, p.src_cid);
	assert_int_equal(q.src_port, p.src_port);
	assert_int_equal(q.len, 6);
	assert_int_equal(q.op, 5);
	assert_int_equal(q.flags, 3);
	assert_int_equal(q.buf_alloc, 0x40000);
	assert_int_equal(q.fwd_cnt, 9);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_guest_connect_to_listener_gets_response_with_swapped_addresses),
		T(test_guest_connect_to_port_nobody_listens_on_gets_rst),
		T(test_guest_data_reaches_host_socket_byte_exact),
		T(test_host_data_reaches_guest_as_rw_packet),
		T(test_host_data_waits_for_guest_credit_and_resumes_on_credit_update),
		T(test_guest_data_beyond_advertised_credit_resets_connection),
		T(test_guest_filling_its_credit_is_kept_and_credit_returns_as_host_reads),
		T(test_credit_update_comes_when_a_quarter_of_the_guest_window_is_left),
		T(test_slow_host_gets_no_tiny_credit_updates_and_guest_never_stays_stuck),
		T(test_tx_polling_is_refused_while_a_small_window_connection_sends),
		T(test_tx_polling_is_allowed_while_a_1_mib_window_connection_sends),
		T(test_tx_completions_are_signalled_once_per_quarter_of_the_ring),
		T(test_credit_request_is_answered_with_credit_update),
		T(test_packets_with_wrong_cids_are_dropped_silently),
		T(test_unknown_connection_gets_rst_but_rst_gets_no_answer),
		T(test_length_field_beyond_the_buffer_is_dropped),
		T(test_guest_shutdown_both_ways_closes_host_socket_and_sends_rst),
		T(test_guest_shutdown_send_half_closes_host_socket),
		T(test_host_close_sends_shutdown_to_guest),
		T(test_host_initiated_connection_sends_request_and_ok_line_on_response),
		T(test_host_initiated_connection_without_answer_times_out),
		T(test_tx_is_drained_while_rx_has_no_buffers),
		T(test_rx_buffer_smaller_than_header_breaks_rx_queue),
		T(test_rx_packet_spans_header_and_payload_descriptors),
		T(test_drop_all_closes_every_host_socket),
		cmocka_unit_test(test_header_encoding_is_little_endian_44_bytes),
	};
	vsock_log_set_level(VSOCK_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
