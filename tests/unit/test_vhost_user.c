/* Unit tests for vhost_user.c: a socketpair plays QEMU 7.2, a memfd plays guest RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock/vhost_user.h"
#include "vsock/vsock_log.h"

#define RAM_SIZE (1u << 20)

struct fixture {
	struct vhost_user_dev d;
	int qemu;                   /* our end: we are QEMU */
	int memfd;
	unsigned started[2], stopped[2];
	int kick[2];
};

static void cb_kick(void *ctx, unsigned idx, int old_fd, int new_fd)
{
	struct fixture *f = ctx;
	f->kick[idx] = new_fd;
}

static void cb_started(void *ctx, unsigned idx)
{
	((struct fixture *) ctx)->started[idx]++;
}

static void cb_stopped(void *ctx, unsigned idx)
{
	((struct fixture *) ctx)->stopped[idx]++;
}

static const struct vhost_user_ops ops = { .kick_changed = cb_kick, .ring_started = cb_started, .ring_stopped = cb_stopped };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	f->qemu = sv[0];
	vhost_user_dev_init(&f->d, sv[1], 42, &ops, f);
	f->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vhost_user_dev_close(&f->d);
	close(f->qemu);
	close(f->memfd);
	free(f);
	return 0;
}

/* Sends one message with optional fds, then lets the backend handle it. */
static int send_msg(struct fixture *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		    const int *fds, unsigned n_fds)
{
	uint8_t buf[12 + 512];
	union { char c[CMSG_SPACE(8 * sizeof(int))]; struct cmsghdr a; } ctl;
	struct iovec iov = { buf, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + 12, payload, size);
	if (n_fds) {
		struct cmsghdr *cm;
		mh.msg_control = ctl.c;
		mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n_fds * sizeof(int));
	}
	assert_int_equal(sendmsg(f->qemu, &mh, 0), 12 + size);
	return vhost_user_handle_message(&f->d);
}

/* Reads one reply; checks request and flags; returns the payload size. */
static uint32_t read_reply(struct fixture *f, uint32_t req, void *payload, uint32_t max)
{
	uint32_t hdr[3];

	assert_int_equal(read(f->qemu, hdr, 12), 12);
	assert_int_equal(hdr[0], req);
	assert_int_equal(hdr[1], 0x5);
	assert_true(hdr[2] <= max);
	if (hdr[2])
		assert_int_equal(read(f->qemu, payload, hdr[2]), hdr[2]);
	return hdr[2];
}

static uint64_t get_u64(struct fixture *f, uint32_t req)
{
	uint64_t v = 0;

	assert_int_equal(send_msg(f, req, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(read_reply(f, req, &v, 8), 8);
	return v;
}

static void test_features_offer_exactly_version_1_and_protocol_features(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get_u64(f, VHOST_USER_GET_FEATURES), (1ull << 32) | (1ull << 30));
	assert_int_equal(get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES), (1ull << 9) | (1ull << 3));
}

static void test_get_config_returns_guest_cid_little_endian_in_a_20_byte_reply(void **state)
{
	struct fixture *f = *state;
	uint8_t req[20] = { 0 }, reply[64];
	uint32_t size = 8;

	memcpy(req + 4, &size, 4);
	assert_int_equal(send_msg(f, VHOST_USER_GET_CONFIG, 1, req, 20, NULL, 0), 0);
	assert_int_equal(read_reply(f, VHOST_USER_GET_CONFIG, reply, sizeof(reply)), 20);
	assert_int_equal(reply[12], 42);
	for (int i = 13; i < 20; i++)
		assert_int_equal(reply[i], 0);
}

static void test_get_config_with_size_not_matching_payload_is_a_protocol_error(void **state)
{
	struct fixture *f = *state;
	uint8_t req[20] = { 0 };
	uint32_t size = 200;

	memcpy(req + 4, &size, 4);
	assert_int_equal(send_msg(f, VHOST_USER_GET_CONFIG, 1, req, 20, NULL, 0), -EPROTO);
}

static void test_need_reply_gets_ack_only_after_reply_ack_is_negotiated(void **state)
{
	struct fixture *f = *state;
	uint64_t pf = 1ull << 3, v = 7;
	uint8_t probe;

	assert_int_equal(send_msg(f, VHOST_USER_SET_OWNER, 1 | 8, NULL, 0, NULL, 0), 0);
	assert_int_equal(recv(f->qemu, &probe, 1, MSG_DONTWAIT), -1);   /* nothing sent */
	assert_int_equal(send_msg(f, VHOST_USER_SET_PROTOCOL_FEATURES, 1, &pf, 8, NULL, 0), 0);
	assert_int_equal(send_msg(f, VHOST_USER_SET_OWNER, 1 | 8, NULL, 0, NULL, 0), 0);
	assert_int_equal(read_reply(f, VHOST_USER_SET_OWNER, &v, 8), 8);
	assert_int_equal(v, 0);
}

static void negotiate_reply_ack(struct fixture *f)
{
	uint64_t pf = (1ull << 3) | (1ull << 9);
	assert_int_equal(send_msg(f, VHOST_USER_SET_PROTOCOL_FEATURES, 1, &pf, 8, NULL, 0), 0);
}

static uint64_t set_mem_table(struct fixture *f, uint64_t gpa, uint64_t qva)
{
	uint8_t p[8 + 32] = { 0 };
	uint64_t region[4] = { gpa, RAM_SIZE, qva, 0 }, ack = 99;
	uint32_t n = 1;

	memcpy(p, &n, 4);
	memcpy(p + 8, region, 32);
	assert_int_equal(send_msg(f, VHOST_USER_SET_MEM_TABLE, 1 | 8, p, sizeof(p), &f->memfd, 1), 0);
	assert_int_equal(read_reply(f, VHOST_USER_SET_MEM_TABLE, &ack, 8), 8);
	return ack;
}

static void test_mem_table_maps_shared_guest_ram(void **state)
{
	struct fixture *f = *state;
	uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	uint8_t *p;

	negotiate_reply_ack(f);
	assert_int_equal(set_mem_table(f, 0x0, 0x7f0000000000ull), 0);
	memcpy(ram + 0x1234, "guest", 5);
	p = guest_memory_gpa_ptr(&f->d.mem, 0x1234, 5);
	assert_non_null(p);
	assert_memory_equal(p, "guest", 5);
	assert_ptr_equal(guest_memory_qva_ptr(&f->d.mem, 0x7f0000001234ull, 5), p);
	assert_null(guest_memory_gpa_ptr(&f->d.mem, RAM_SIZE - 2, 5));
	munmap(ram, RAM_SIZE);
}

static void test_mem_table_with_missing_fd_is_refused_with_nonzero_ack(void **state)
{
	struct fixture *f = *state;
	uint8_t p[8 + 64] = { 0 };
	uint64_t region[4] = { 0, RAM_SIZE, 0, 0 }, ack = 0;
	uint32_t n = 2;

	negotiate_reply_ack(f);
	memcpy(p, &n, 4);
	memcpy(p + 8, region, 32);
	memcpy(p + 40, region, 32);
	assert_int_equal(send_msg(f, VHOST_USER_SET_MEM_TABLE, 1 | 8, p, sizeof(p), &f->memfd, 1), 0);
	assert_int_equal(read_reply(f, VHOST_USER_SET_MEM_TABLE, &ack, 8), 8);
	assert_int_equal(ack, 1);
	assert_int_equal(f->d.mem.n_regions, 0);
}

static void vring_msg(struct fixture *f, uint32_t req, uint32_t idx, uint32_t num)
{
	uint32_t s[2] = { idx, num };
	assert_int_equal(send_msg(f, req, 1, s, 8, NULL, 0), 0);
}

static void test_qemu_72_start_sequence_starts_rings_and_get_vring_base_stops_them(void **state)
{
	struct fixture *f = *state;
	uint64_t features = (1ull << 32) | (1ull << 30), file;
	uint32_t base[2];
	int efd;

	negotiate_reply_ack(f);
	assert_int_equal(send_msg(f, VHOST_USER_SET_FEATURES, 1, &features, 8, NULL, 0), 0);
	assert_int_equal(set_mem_table(f, 0, 0x10000000), 0);
	for (uint32_t i = 0; i < 2; i++) {
		uint64_t addr[5];
		uint32_t idx[2] = { i, 0 };

		vring_msg(f, VHOST_USER_SET_VRING_NUM, i, 128);
		vring_msg(f, VHOST_USER_SET_VRING_BASE, i, 5);
		memcpy(addr, idx, 8);
		addr[1] = 0x10000000 + 0x4000 * i;             /* desc */
		addr[2] = 0x10000000 + 0x4000 * i + 0x2000;    /* used */
		addr[3] = 0x10000000 + 0x4000 * i + 0x1000;    /* avail */
		addr[4] = 0;
		assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_ADDR, 1, addr, 40, NULL, 0), 0);
		efd = eventfd(0, EFD_CLOEXEC);
		file = i;
		assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_KICK, 1, &file, 8, &efd, 1), 0);
		close(efd);
		assert_true(f->kick[i] >= 0);
		assert_int_equal(f->started[i], 0);     /* PROTOCOL_FEATURES acked: still disabled */
	}
	vring_msg(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
	vring_msg(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);
	assert_int_equal(f->started[0], 1);
	assert_int_equal(f->started[1], 1);
	assert_true(vring_ready(&f->d.vq[1]));
	assert_int_equal(f->d.vq[1].size, 128);
	base[0] = 1;
	base[1] = 0;
	assert_int_equal(send_msg(f, VHOST_USER_GET_VRING_BASE, 1, base, 8, NULL, 0), 0);
	assert_int_equal(read_reply(f, VHOST_USER_GET_VRING_BASE, base, 8), 8);
	assert_int_equal(base[0], 1);
	assert_int_equal(base[1], 5);
	assert_int_equal(f->stopped[1], 1);
	assert_int_equal(f->kick[1], -1);
	assert_false(vring_ready(&f->d.vq[1]));
}

static void test_set_vring_call_replaces_the_fd_at_any_time(void **state)
{
	struct fixture *f = *state;
	uint64_t file = 1;
	int a = eventfd(0, 0), b = eventfd(0, 0);

	assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_CALL, 1, &file, 8, &a, 1), 0);
	int first = f->d.vq[1].call_fd;
	assert_true(first >= 0);
	assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_CALL, 1, &file, 8, &b, 1), 0);
	assert_true(f->d.vq[1].call_fd >= 0);
	file = 1 | 0x100;     /* no fd */
	assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_CALL, 1, &file, 8, NULL, 0), 0);
	assert_int_equal(f->d.vq[1].call_fd, -1);
	close(a);
	close(b);
}

static void test_wrong_version_in_header_is_a_protocol_error(void **state)
{
	assert_int_equal(send_msg(*state, VHOST_USER_GET_FEATURES, 2, NULL, 0, NULL, 0), -EPROTO);
}

static void test_payload_larger_than_any_request_needs_is_a_protocol_error(void **state)
{
	struct fixture *f = *state;
	uint32_t hdr[3] = { VHOST_USER_SET_MEM_TABLE, 1, 100000 };

	assert_int_equal(write(f->qemu, hdr, 12), 12);
	assert_int_equal(vhost_user_handle_message(&f->d), -EPROTO);
}

static void test_ring_index_beyond_the_two_rings_is_a_protocol_error(void **state)
{
	struct fixture *f = *state;
	uint32_t s[2] = { 2, 128 };

	assert_int_equal(send_msg(f, VHOST_USER_SET_VRING_NUM, 1, s, 8, NULL, 0), -EPROTO);
}

static void test_payload_size_not_matching_request_is_a_protocol_error(void **state)
{
	struct fixture *f = *state;
	uint32_t x = 1;

	assert_int_equal(send_msg(f, VHOST_USER_SET_FEATURES, 1, &x, 4, NULL, 0), -EPROTO);
}

static void test_header_arriving_in_pieces_is_reassembled(void **state)
{
	struct fixture *f = *state;
	uint32_t hdr[3] = { VHOST_USER_GET_FEATURES, 1, 0 };
	uint64_t v;

	assert_int_equal(write(f->qemu, hdr, 5), 5);
	assert_int_equal(write(f->qemu, (uint8_t *) hdr + 5, 7), 7);
	assert_int_equal(vhost_user_handle_message(&f->d), 0);
	assert_int_equal(read_reply(f, VHOST_USER_GET_FEATURES, &v, 8), 8);
}

static void test_frontend_hangup_is_reported_as_connection_reset(void **state)
{
	struct fixture *f = *state;

	shutdown(f->qemu, SHUT_WR);
	assert_int_equal(vhost_user_handle_message(&f->d), -ECONNRESET);
}

static void test_unknown_request_with_need_reply_gets_failure_ack(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;

	negotiate_reply_ack(f);
	assert_int_equal(send_msg(f, 38 /* REM_MEM_REG */, 1 | 8, NULL, 0, NULL, 0), 0);
	assert_int_equal(read_reply(f, 38, &v, 8), 8);
	assert_int_equal(v, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_features_offer_exactly_version_1_and_protocol_features),
		T(test_get_config_returns_guest_cid_little_endian_in_a_20_byte_reply),
		T(test_get_config_with_size_not_matching_payload_is_a_protocol_error),
		T(test_need_reply_gets_ack_only_after_reply_ack_is_negotiated),
		T(test_mem_table_maps_shared_guest_ram),
		T(test_mem_table_with_missing_fd_is_refused_with_nonzero_ack),
		T(test_qemu_72_start_sequence_starts_rings_and_get_vring_base_stops_them),
		T(test_set_vring_call_replaces_the_fd_at_any_time),
		T(test_wrong_version_in_header_is_a_protocol_error),
		T(test_payload_larger_than_any_request_needs_is_a_protocol_error),
		T(test_ring_index_beyond_the_two_rings_is_a_protocol_error),
		T(test_payload_size_not_matching_request_is_a_protocol_error),
		T(test_header_arriving_in_pieces_is_reassembled),
		T(test_frontend_hangup_is_reported_as_connection_reset),
		T(test_unknown_request_with_need_reply_gets_failure_ack),
	};
	vsock_log_set_level(VSOCK_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
