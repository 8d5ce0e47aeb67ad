/* Unit tests for vsock_backend.c's event loop and its tx polling, end to end without QEMU:
 * the backend runs in its thread (vsock_backend_start_thread()); the test connects to its
 * vhost-user socket as QEMU 7.2 would, shares a memfd as guest RAM, and plays the Linux
 * driver on the rings in that memfd; a Unix listener on <uds>_<port> plays the host
 * service. Every wait is bounded (poll() timeouts, deadlines), so a broken backend fails a
 * test instead of hanging it.
 *
 * The driver side follows virtio's notification rule: publish the avail index, full
 * fence, read used->flags, kick unless VRING_USED_F_NO_NOTIFY is set. Where a test says
 * "without a kick" it means the flag was set when the driver looked.
 *
 * Timing: the backend's 1 ms idle time is shorter than a time slice on a loaded machine,
 * so the test defines clock_gettime() (the backend is linked into this binary and reads
 * CLOCK_MONOTONIC through it): it can stop the backend's clock, or run a step of the
 * guest at an exact point of the loop (see the hook below). This thread's own clock is
 * never touched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vsock/vhost_user.h"
#include "vsock/virtio_vsock.h"
#include "vsock/vring.h"
#include "vsock/vsock_backend.h"
#include "vsock/vsock_log.h"

#define RAM_SIZE    (4u * 1024u * 1024u)
#define RAM_QVA     0x7f3400000000ull       /* where "QEMU" has guest RAM mapped */
#define QSIZE       128u
#define RING(i)     (0x10000u * (i))        /* desc, avail at +0x1000, used at +0x2000 */
#define RX_BUFS     0x100000u
#define RX_BUF_LEN  (VSOCK_HDR_SIZE + 4096u)
#define RX_POSTED   32u
#define TX_BUFS     0x200000u
#define GUEST_CID   3u
#define GUEST_PORT  1234u
#define HOST_PORT   5000u
#define PKT_LEN     2048u
#define REQ_NEED_REPLY 0x8u

struct fixture {
	char dir[64], sock_path[128], uds_path[128], listen_path[160];
	struct vsock_backend *b;
	int vu;                        /* our end of the vhost-user connection */
	int memfd, listener, host;     /* host: the accepted service connection */
	uint8_t *ram;
	int kick[2], call[2];
	uint16_t avail_idx[2], used_seen[2], next_desc;
	uint32_t next_tx;              /* GPA offset of the next tx buffer */
	uint64_t sent, received;       /* stream positions, guest -> host */
	unsigned kicks;                /* tx kicks the driver made */
};

/* ---- time and the backend's clock ---------------------------------------------------- */

static long long mono_ns(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The backend reads the clock (now_ns()) right after each pass over tx, before it decides
 * whether to keep polling; the loop's other read comes after epoll's sleep. This hook
 * runs on the backend's thread inside clock_gettime(): armed, it waits for a read that
 * follows the previous one by less than a poll interval (so the one after a tx pass,
 * not after a sleep) while used->flags says polling, then runs `hook_fn` there and
 * reports a clock HOOK_JUMP_NS ahead, so the backend sees its idle time as over. That
 * puts a publish exactly between the backend's last look at the ring and its write of
 * flags = 0: the race vring_avail_pending() must close. */
#define HOOK_JUMP_NS (50LL * 1000000LL)
/* Not 0: the backend's monotonic clock stands still at this value, so its idle time
 * never runs out however long this thread is kept off the CPU. */
static long long clock_frozen_ns;
static pthread_t test_thread;
static void (*volatile hook_fn)(void);
static volatile int hook_armed, hook_fired;
static long long hook_last_ns;
static struct fixture *hook_f;

static uint16_t tx_used_flags(struct fixture *f);

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	int r = (int) syscall(SYS_clock_gettime, clk, ts);
	long long now, frozen;

	if (r < 0 || clk != CLOCK_MONOTONIC || pthread_equal(pthread_self(), test_thread))
		return r;
	frozen = __atomic_load_n(&clock_frozen_ns, __ATOMIC_ACQUIRE);
	if (frozen) {
		ts->tv_sec = frozen / 1000000000LL;
		ts->tv_nsec = frozen % 1000000000LL;
		return r;
	}
	if (!__atomic_load_n(&hook_armed, __ATOMIC_ACQUIRE))
		return r;
	now = (long long) ts->tv_sec * 1000000000LL + ts->tv_nsec;
	if (hook_last_ns && now - hook_last_ns < 100000 && tx_used_flags(hook_f) == VRING_USED_F_NO_NOTIFY) {
		hook_fn();
		__atomic_store_n(&hook_armed, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&hook_fired, 1, __ATOMIC_RELEASE);
		now += HOOK_JUMP_NS;
		ts->tv_sec = now / 1000000000LL;
		ts->tv_nsec = now % 1000000000LL;
	}
	hook_last_ns = now;
	return r;
}

/* ---- vhost-user frontend ------------------------------------------------------------ */

static void vu_send(struct fixture *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size, int fd)
{
	uint8_t buf[12 + 64];
	union { char c[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } ctl;
	struct iovec iov = { buf, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(size <= 64);
	flags |= 1;
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + 12, payload, size);
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.c;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(f->vu, &mh, MSG_NOSIGNAL), 12 + size);
}

/* Reads one reply (at most 2 s): checks request and the reply flags, returns its u64. */
static uint64_t vu_reply_u64(struct fixture *f, uint32_t req)
{
	struct pollfd p = { .fd = f->vu, .events = POLLIN };
	uint32_t hdr[3];
	uint64_t v = 0;

	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(f->vu, hdr, 12, MSG_WAITALL), 12);
	assert_int_equal(hdr[0], req);
	assert_int_equal(hdr[1], 0x5);
	assert_int_equal(hdr[2], 8);
	assert_int_equal(recv(f->vu, &v, 8, MSG_WAITALL), 8);
	return v;
}

/* A request with NEED_REPLY (REPLY_ACK is negotiated first): the ack says it succeeded,
 * and it also tells us the backend's thread has handled it. */
static void vu_acked(struct fixture *f, uint32_t req, const void *payload, uint32_t size, int fd)
{
	vu_send(f, req, REQ_NEED_REPLY, payload, size, fd);
	assert_int_equal(vu_reply_u64(f, req), 0);
}

static void vu_ring_state(struct fixture *f, uint32_t req, uint32_t idx, uint32_t num)
{
	uint32_t s[2] = { idx, num };

	vu_acked(f, req, s, sizeof(s), -1);
}

static void vu_ring_setup(struct fixture *f, uint32_t i)
{
	uint64_t addr[5], file = i;
	uint32_t idx[2] = { i, 0 };

	vu_ring_state(f, VHOST_USER_SET_VRING_NUM, i, QSIZE);
	vu_ring_state(f, VHOST_USER_SET_VRING_BASE, i, 0);
	memcpy(addr, idx, 8);
	addr[1] = RAM_QVA + RING(i);             /* desc */
	addr[2] = RAM_QVA + RING(i) + 0x2000;    /* used */
	addr[3] = RAM_QVA + RING(i) + 0x1000;    /* avail */
	addr[4] = 0;
	vu_acked(f, VHOST_USER_SET_VRING_ADDR, addr, sizeof(addr), -1);
	vu_acked(f, VHOST_USER_SET_VRING_KICK, &file, 8, f->kick[i]);
	vu_acked(f, VHOST_USER_SET_VRING_CALL, &file, 8, f->call[i]);
}

/* QEMU 7.2's order: features, protocol features, owner, memory, rings, enable. */
static void vu_start(struct fixture *f)
{
	uint64_t features, pf, region[4] = { 0, RAM_SIZE, RAM_QVA, 0 };
	uint8_t mem[8 + 32] = { 1 };

	vu_send(f, VHOST_USER_GET_FEATURES, 0, NULL, 0, -1);
	features = vu_reply_u64(f, VHOST_USER_GET_FEATURES);
	assert_int_equal(features, (1ull << VIRTIO_F_VERSION_1) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	vu_send(f, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, -1);
	pf = vu_reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	pf = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	vu_send(f, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, -1);
	vu_acked(f, VHOST_USER_SET_OWNER, NULL, 0, -1);
	vu_acked(f, VHOST_USER_SET_FEATURES, &features, 8, -1);
	memcpy(mem + 8, region, sizeof(region));
	vu_acked(f, VHOST_USER_SET_MEM_TABLE, mem, sizeof(mem), f->memfd);
	vu_ring_setup(f, 0);
	vu_ring_setup(f, 1);
	vu_ring_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	vu_ring_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);
}

/* ---- the guest driver ------------------------------------------------------------- */

static uint16_t *ring_u16(struct fixture *f, unsigned ring, uint32_t off)
{
	return (uint16_t *) (f->ram + RING(ring) + off);
}

static uint16_t tx_used_flags(struct fixture *f)
{
	return le16toh(__atomic_load_n(ring_u16(f, 1, 0x2000), __ATOMIC_ACQUIRE));
}

static uint16_t used_idx(struct fixture *f, unsigned ring)
{
	return le16toh(__atomic_load_n(ring_u16(f, ring, 0x2002), __ATOMIC_ACQUIRE));
}

static void set_desc(struct fixture *f, unsigned ring, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc d = { htole64(addr), htole32(len), htole16(flags), htole16(next) };

	memcpy(f->ram + RING(ring) + 16u * i, &d, sizeof(d));
}

/* Publishes head; returns whether the device asked for a kick (the driver's rule). */
static bool publish(struct fixture *f, unsigned ring, uint16_t head)
{
	uint16_t *avail = ring_u16(f, ring, 0x1000);

	__atomic_store_n(&avail[2 + f->avail_idx[ring] % QSIZE], htole16(head), __ATOMIC_RELAXED);
	f->avail_idx[ring]++;
	__atomic_store_n(&avail[1], htole16(f->avail_idx[ring]), __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ring != 1 || !(le16toh(__atomic_load_n(ring_u16(f, 1, 0x2000), __ATOMIC_RELAXED)) &
			      VRING_USED_F_NO_NOTIFY);
}

static void kick(struct fixture *f, unsigned ring)
{
	uint64_t one = 1;

	assert_int_equal(write(f->kick[ring], &one, 8), 8);
	if (ring == 1)
		f->kicks++;
}

static uint8_t stream_byte(uint64_t pos)
{
	return (uint8_t) (pos * 131 + (pos >> 9));
}

/* Queues a tx packet (header descriptor + payload descriptor, as Linux does); the payload
 * of an RW packet is the next `len` bytes of the stream. Returns whether a kick is due. */
static bool tx_publish(struct fixture *f, uint16_t op, uint32_t len, uint32_t buf_alloc)
{
	struct vsock_pkt p = { .src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID, .src_port = GUEST_PORT,
			       .dst_port = HOST_PORT, .len = len, .type = VSOCK_TYPE_STREAM, .op = op,
			       .buf_alloc = buf_alloc };
	uint16_t h = f->next_desc, d = (uint16_t) ((h + 1) % QSIZE);
	uint32_t ha, pa;

	if (f->next_tx + 64 + len > RAM_SIZE)
		f->next_tx = TX_BUFS;
	ha = f->next_tx;
	pa = ha + 64;
	f->next_tx = (pa + len + 63) & ~63u;
	f->next_desc = (uint16_t) ((h + 2) % QSIZE);
	vsock_hdr_encode(&p, f->ram + ha);
	for (uint32_t i = 0; i < len; i++)
		f->ram[pa + i] = stream_byte(f->sent + i);
	f->sent += len;
	if (len == 0)
		set_desc(f, 1, h, ha, VSOCK_HDR_SIZE, 0, 0);
	else {
		set_desc(f, 1, h, ha, VSOCK_HDR_SIZE, VRING_DESC_F_NEXT, d);
		set_desc(f, 1, d, pa, len, 0, 0);
	}
	return publish(f, 1, h);
}

/* Publishes a packet and kicks when the device asks for it. Returns whether it kicked. */
static bool tx_send(struct fixture *f, uint16_t op, uint32_t len, uint32_t buf_alloc)
{
	bool k = tx_publish(f, op, len, buf_alloc);

	if (k)
		kick(f, 1);
	return k;
}

/* Waits up to timeout_ms for cond(f) to hold. */
static bool wait_for(struct fixture *f, bool (*cond)(struct fixture *f), int timeout_ms)
{
	long long end = mono_ns() + timeout_ms * 1000000LL;

	do {
		if (cond(f))
			return true;
		usleep(20);
	} while (mono_ns() < end);
	return cond(f);
}

static bool tx_all_used(struct fixture *f)
{
	return used_idx(f, 1) == f->avail_idx[1];
}

static bool polling(struct fixture *f)
{
	return tx_used_flags(f) == VRING_USED_F_NO_NOTIFY;
}

static bool not_polling(struct fixture *f)
{
	return tx_used_flags(f) == 0;
}

/* Posts the rx buffers: descriptor i, a writable buffer of RX_BUF_LEN bytes. */
static void rx_post_all(struct fixture *f)
{
	for (uint16_t i = 0; i < RX_POSTED; i++) {
		set_desc(f, 0, i, RX_BUFS + (uint64_t) i * RX_BUF_LEN, RX_BUF_LEN, VRING_DESC_F_WRITE, 0);
		publish(f, 0, i);
	}
}

/* Waits up to 2 s for the next packet in rx that is not a CREDIT_UPDATE; reposts every
 * buffer it reads. */
static void rx_expect(struct fixture *f, uint16_t op)
{
	long long end = mono_ns() + 2000000000LL;

	for (;;) {
		struct vring_used_elem e;
		struct vsock_pkt p;

		while (used_idx(f, 0) == f->used_seen[0]) {
			assert_true(mono_ns() < end);
			usleep(50);
		}
		memcpy(&e, f->ram + RING(0) + 0x2004 + 8u * (f->used_seen[0] % QSIZE), sizeof(e));
		f->used_seen[0]++;
		assert_true(le32toh(e.id) < RX_POSTED);
		vsock_hdr_decode(f->ram + RX_BUFS + le32toh(e.id) * RX_BUF_LEN, &p);
		publish(f, 0, (uint16_t) le32toh(e.id));
		kick(f, 0);
		if (p.op == VSOCK_OP_CREDIT_UPDATE)
			continue;
		assert_int_equal(p.op, op);
		assert_int_equal(p.src_cid, VSOCK_HOST_CID);
		assert_int_equal(p.dst_cid, GUEST_CID);
		assert_int_equal(p.src_port, HOST_PORT);
		assert_int_equal(p.dst_port, GUEST_PORT);
		assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
		return;
	}
}

/* Reads from the host service until it has everything the guest sent (at most
 * timeout_ms), checking each byte against the stream. */
static void host_expect_all(struct fixture *f, int timeout_ms)
{
	long long end = mono_ns() + timeout_ms * 1000000LL;
	uint8_t buf[8192];

	while (f->received < f->sent) {
		struct pollfd p = { .fd = f->host, .events = POLLIN };
		int left = (int) ((end - mono_ns()) / 1000000);
		ssize_t n;

		assert_true(left > 0);
		assert_int_equal(poll(&p, 1, left), 1);
		n = read(f->host, buf, sizeof(buf));
		assert_true(n > 0);
		assert_true(f->received + (uint64_t) n <= f->sent);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], stream_byte(f->received + (uint64_t) i));
		f->received += (uint64_t) n;
	}
	assert_int_equal(f->received, f->sent);
}

/* REQUEST from guest port GUEST_PORT to host port HOST_PORT with buf_alloc, the host
 * service accepts, the guest gets RESPONSE. */
static void guest_connect(struct fixture *f, uint32_t buf_alloc)
{
	struct pollfd p = { .fd = f->listener, .events = POLLIN };

	tx_send(f, VSOCK_OP_REQUEST, 0, buf_alloc);
	assert_int_equal(poll(&p, 1, 2000), 1);
	f->host = accept4(f->listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->host >= 0);
	rx_expect(f, VSOCK_OP_RESPONSE);
	assert_true(wait_for(f, tx_all_used, 2000));
}

/* ---- fixture ----------------------------------------------------------------------- */

static bool setup_no_tx_poll;   /* the next setup() starts the backend with --no-tx-poll */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vsock_backend_config cfg;
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	assert_non_null(f);
	test_thread = pthread_self();
	strcpy(f->dir, "/tmp/test_vsock_backend.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock_path, sizeof(f->sock_path), "%s/vhost.sock", f->dir);
	snprintf(f->uds_path, sizeof(f->uds_path), "%s/vsock", f->dir);
	snprintf(f->listen_path, sizeof(f->listen_path), "%s_%u", f->uds_path, HOST_PORT);
	f->host = -1;
	f->next_tx = TX_BUFS;
	f->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_true(f->memfd >= 0);
	assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
	f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	assert_true(f->ram != MAP_FAILED);
	for (int i = 0; i < 2; i++) {
		f->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		f->call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(f->kick[i] >= 0 && f->call[i] >= 0);
	}
	f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listener >= 0);
	assert_true(strlen(f->listen_path) < sizeof(a.sun_path));
	strcpy(a.sun_path, f->listen_path);
	assert_int_equal(bind(f->listener, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(f->listener, 4), 0);
	cfg = (struct vsock_backend_config) { .socket_path = f->sock_path, .uds_path = f->uds_path,
					      .guest_cid = GUEST_CID, .no_tx_poll = setup_no_tx_poll };
	assert_int_equal(vsock_backend_start_thread(&cfg, &f->b), 0);
	f->vu = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(a.sun_path, f->sock_path);
	assert_int_equal(connect(f->vu, (struct sockaddr *) &a, sizeof(a)), 0);
	rx_post_all(f);
	vu_start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	__atomic_store_n(&hook_armed, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&clock_frozen_ns, 0, __ATOMIC_RELEASE);
	close(f->vu);
	assert_int_equal(vsock_backend_stop_thread(f->b), 0);
	if (f->host >= 0)
		close(f->host);
	close(f->listener);
	unlink(f->listen_path);
	for (int i = 0; i < 2; i++) {
		close(f->kick[i]);
		close(f->call[i]);
	}
	munmap(f->ram, RAM_SIZE);
	close(f->memfd);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- tests ----------------------------------------------------------------------- */

/* A 1 MiB-window connection sends one kicked packet and the backend starts polling. From
 * before that packet on the backend's clock stands still: it cannot reach its 1 ms idle
 * time, so it polls until the test sets clock_frozen_ns to 0, and every packet the test
 * sends meanwhile finds the flag set, whatever the scheduler does to this thread. */
static void start_polling_on_a_frozen_clock(struct fixture *f)
{
	guest_connect(f, 1024 * 1024);
	/* the flag may still be set from the REQUEST; let it settle */
	assert_true(wait_for(f, not_polling, 200));
	__atomic_store_n(&clock_frozen_ns, mono_ns(), __ATOMIC_RELEASE);
	assert_true(tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024));
	assert_true(wait_for(f, polling, 100));
	host_expect_all(f, 2000);
}

static void test_streaming_with_a_1_mib_window_turns_kicks_off_and_packets_without_kicks_still_arrive(void **state)
{
	struct fixture *f = *state;
	unsigned kicks;

	uint64_t calls;
	struct pollfd call = { .fd = f->call[1], .events = POLLIN };

	start_polling_on_a_frozen_clock(f);
	kicks = f->kicks;
	while (read(f->call[1], &calls, sizeof(calls)) == sizeof(calls))
		;   /* tx interrupts from the connection's setup */
	for (int i = 0; i < 8; i++)
		assert_false(tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024));
	assert_int_equal(f->kicks, kicks);
	/* no kick came for them; the backend's own looks at the ring find them */
	host_expect_all(f, 2000);
	assert_int_equal(f->received, 9 * PKT_LEN);
	assert_true(wait_for(f, tx_all_used, 2000));
	assert_int_equal(tx_used_flags(f), VRING_USED_F_NO_NOTIFY);
	/* dozens of empty polls later, 9 completions (under a quarter of the ring) still
	 * wait for their interrupt: an empty poll is not idle */
	usleep(3000);
	assert_int_equal(poll(&call, 1, 0), 0);
	/* the guest stops and time runs again: within 200 ms the backend asks for kicks and
	 * then signals the completions */
	__atomic_store_n(&clock_frozen_ns, 0, __ATOMIC_RELEASE);
	assert_true(wait_for(f, not_polling, 200));
	assert_int_equal(poll(&call, 1, 200), 1);
	assert_true(tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024));
	assert_int_equal(f->kicks, kicks + 1);
	host_expect_all(f, 2000);
	assert_int_equal(f->received, 10 * PKT_LEN);
	assert_true(wait_for(f, tx_all_used, 2000));
}

/* Samples used->flags for ms milliseconds; false as soon as it is not 0. */
static bool flags_stay_0(struct fixture *f, int ms)
{
	long long end = mono_ns() + ms * 1000000LL;

	do {
		if (tx_used_flags(f) != 0)
			return false;
		usleep(20);
	} while (mono_ns() < end);
	return tx_used_flags(f) == 0;
}

static void test_streaming_with_the_default_256_kib_window_keeps_kicks_on(void **state)
{
	struct fixture *f = *state;

	guest_connect(f, 262144);
	/* A REQUEST is no data, so the backend may poll for a moment after it; settle. */
	assert_true(wait_for(f, not_polling, 200));
	for (int i = 0; i < 12; i++) {
		/* the device asks for every kick */
		assert_true(tx_send(f, VSOCK_OP_RW, PKT_LEN, 262144));
		assert_true(wait_for(f, tx_all_used, 2000));
		host_expect_all(f, 2000);
		assert_true(flags_stay_0(f, 2));
	}
	assert_int_equal(f->kicks, 13);
	assert_int_equal(f->received, 12 * PKT_LEN);
	assert_true(flags_stay_0(f, 10));
}

static int setup_without_polling(void **state)
{
	int r;

	setup_no_tx_poll = true;
	r = setup(state);
	setup_no_tx_poll = false;
	return r;
}

/* --no-tx-poll: a 1 MiB window streams, and still every packet is kicked. */
static void test_no_tx_poll_keeps_kicks_on_for_a_1_mib_window(void **state)
{
	struct fixture *f = *state;

	guest_connect(f, 1024 * 1024);
	for (int i = 0; i < 12; i++) {
		assert_true(tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024));
		assert_true(wait_for(f, tx_all_used, 2000));
		host_expect_all(f, 2000);
		assert_true(flags_stay_0(f, 2));
	}
	assert_int_equal(f->kicks, 13);
	assert_int_equal(f->received, 12 * PKT_LEN);
}

/* Runs on the backend's thread, between its last pass over tx and its decision to stop
 * polling: the guest publishes one more packet and sees the flag still set. */
static bool hook_kicked;
static void publish_last_packet(void)
{
	hook_kicked = tx_publish(hook_f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024);
}

static bool hook_has_fired(struct fixture *f)
{
	return __atomic_load_n(&hook_fired, __ATOMIC_ACQUIRE);
}

static void test_packet_published_just_as_polling_ends_is_not_lost(void **state)
{
	struct fixture *f = *state;

	guest_connect(f, 1024 * 1024);
	hook_f = f;
	for (int round = 0; round < 5; round++) {
		uint16_t before;

		assert_true(wait_for(f, not_polling, 200));
		assert_true(tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024));
		assert_true(wait_for(f, tx_all_used, 2000));
		before = f->avail_idx[1];
		hook_fn = publish_last_packet;
		hook_kicked = true;
		hook_last_ns = 0;
		__atomic_store_n(&hook_fired, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&hook_armed, 1, __ATOMIC_RELEASE);
		/* The hook fires while the backend polls after that packet. If this thread
		 * armed it too late (polling over, no chain coming), nothing touches the ring
		 * until the next packet: send one, the hook fires after the backend took it. */
		if (!wait_for(f, hook_has_fired, 100)) {
			before++;
			tx_send(f, VSOCK_OP_RW, PKT_LEN, 1024 * 1024);
			assert_true(wait_for(f, hook_has_fired, 2000));
		}
		assert_int_equal(f->avail_idx[1], before + 1);
		assert_false(hook_kicked);     /* published while the flag said "no kicks" */
		/* no kick comes for it; the backend must find it on its own */
		host_expect_all(f, 2000);
		assert_true(wait_for(f, tx_all_used, 2000));
	}
	assert_int_equal(f->received, f->sent);
}

/* GET_VRING_BASE while polling: the stopped ring's memory is the guest's again, so the
 * backend must not clear the flag there when its idle time runs out. */
static void test_stopped_tx_ring_is_not_written(void **state)
{
	struct fixture *f = *state;
	uint32_t base[2] = { 1, 0 };
	uint32_t hdr[3];
	uint16_t *flags = ring_u16(f, 1, 0x2000);

	start_polling_on_a_frozen_clock(f);
	vu_send(f, VHOST_USER_GET_VRING_BASE, 0, base, 8, -1);
	assert_int_equal(recv(f->vu, hdr, 12, MSG_WAITALL), 12);
	assert_int_equal(recv(f->vu, base, 8, MSG_WAITALL), 8);
	assert_int_equal(base[0], 1);
	__atomic_store_n(flags, htole16(0xabcd), __ATOMIC_RELEASE);
	__atomic_store_n(&clock_frozen_ns, 0, __ATOMIC_RELEASE);
	usleep(50000);
	assert_int_equal(tx_used_flags(f), 0xabcd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_streaming_with_a_1_mib_window_turns_kicks_off_and_packets_without_kicks_still_arrive),
		T(test_streaming_with_the_default_256_kib_window_keeps_kicks_on),
		T(test_packet_published_just_as_polling_ends_is_not_lost),
		T(test_stopped_tx_ring_is_not_written),
		cmocka_unit_test_setup_teardown(test_no_tx_poll_keeps_kicks_on_for_a_1_mib_window, setup_without_polling, teardown),
	};
	vsock_log_set_level(VSOCK_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
