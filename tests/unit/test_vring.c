/* Unit tests for guest_memory.c and vring.c on an in-memory fake guest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vsock_fake_guest.h"
#include "vsock/vsock_log.h"

static int setup(void **state)
{
	struct fake_guest *g = malloc(sizeof(*g));
	fg_init(g);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	fg_free(*state);
	free(*state);
	return 0;
}

static void test_guest_memory_rejects_ranges_outside_or_overflowing_regions(void **state)
{
	struct fake_guest *g = *state;

	assert_non_null(guest_memory_gpa_ptr(&g->mem, FG_BASE, FG_SIZE));
	assert_null(guest_memory_gpa_ptr(&g->mem, FG_BASE, FG_SIZE + 1));
	assert_null(guest_memory_gpa_ptr(&g->mem, FG_BASE - 1, 2));
	assert_null(guest_memory_gpa_ptr(&g->mem, UINT64_MAX - 4, 16));
	assert_null(guest_memory_gpa_ptr(&g->mem, FG_BASE, 0));
	assert_false(guest_memory_range_ok(&g->mem, FG_BASE + FG_SIZE, 1));
	assert_true(guest_memory_range_ok(&g->mem, FG_BASE + FG_SIZE - 1, 1));
}

static void test_guest_memory_refuses_overlapping_regions_and_a_ninth_region(void **state)
{
	struct guest_memory m = { 0 };
	static uint8_t ram[9][64];

	assert_int_equal(guest_memory_add(&m, 0x1000, 64, 0x1000, ram[0]), 0);
	assert_int_equal(guest_memory_add(&m, 0x1020, 64, 0x9000, ram[1]), -EINVAL);
	assert_int_equal(guest_memory_add(&m, UINT64_MAX - 8, 64, 0, ram[8]), -EINVAL);
	for (unsigned i = 1; i < 8; i++)
		assert_int_equal(guest_memory_add(&m, 0x1000 + 0x100 * i, 64, 0x1000 + 0x100 * i, ram[i]), 0);
	assert_int_equal(guest_memory_add(&m, 0x9000, 64, 0x9000, ram[8]), -E2BIG);
}

static void test_buffer_spanning_two_regions_becomes_two_iovecs(void **state)
{
	struct guest_memory m = { 0 };
	static uint8_t a[32], b[32];
	struct iovec iov[4];

	guest_memory_add(&m, 0x1000, 32, 0x1000, a);
	guest_memory_add(&m, 0x1020, 32, 0x1020, b);
	assert_int_equal(guest_memory_iov(&m, 0x1010, 32, iov, 4), 2);
	assert_ptr_equal(iov[0].iov_base, a + 16);
	assert_int_equal(iov[0].iov_len, 16);
	assert_ptr_equal(iov[1].iov_base, b);
	assert_int_equal(iov[1].iov_len, 16);
	assert_int_equal(guest_memory_iov(&m, 0x1010, 64, iov, 4), -EFAULT);
	assert_int_equal(guest_memory_iov(&m, 0x1010, 32, iov, 1), -E2BIG);
}

static void test_pop_returns_readable_then_writable_segments_of_a_chain(void **state)
{
	struct fake_guest *g = *state;
	struct vring_chain c;

	fg_set_desc(g, 1, 5, FG_BUFS, 44, VRING_DESC_F_NEXT, 9);
	fg_set_desc(g, 1, 9, FG_BUFS + 64, 100, VRING_DESC_F_NEXT, 2);
	fg_set_desc(g, 1, 2, FG_BUFS + 256, 300, VRING_DESC_F_WRITE, 0);
	fg_publish(g, 1, 5);
	assert_int_equal(vring_pop(&g->vq[1], &c), 1);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.n_read, 2);
	assert_int_equal(c.n_write, 1);
	assert_int_equal(c.read_len, 144);
	assert_int_equal(c.write_len, 300);
	assert_int_equal(c.segs[2].gpa, FG_BUFS + 256);
	assert_int_equal(vring_pop(&g->vq[1], &c), 0);
	assert_false(g->vq[1].broken);
}

static void test_chain_read_gathers_bytes_across_descriptors(void **state)
{
	struct fake_guest *g = *state;
	struct vring_chain c;
	char out[8] = { 0 };

	memcpy(fg_ptr(g, FG_BUFS), "abc", 3);
	memcpy(fg_ptr(g, FG_BUFS + 64), "defgh", 5);
	fg_set_desc(g, 1, 0, FG_BUFS, 3, VRING_DESC_F_NEXT, 1);
	fg_set_desc(g, 1, 1, FG_BUFS + 64, 5, 0, 0);
	fg_publish(g, 1, 0);
	assert_int_equal(vring_pop(&g->vq[1], &c), 1);
	assert_int_equal(vring_chain_read(&g->vq[1], &c, 1, out, 6), 6);
	assert_string_equal(out, "bcdefg");
	assert_int_equal(vring_chain_read(&g->vq[1], &c, 6, out, 100), 2);
}

static void expect_broken(struct fake_guest *g, uint16_t head)
{
	struct vring_chain c;

	fg_publish(g, 1, head);
	assert_int_equal(vring_pop(&g->vq[1], &c), -EIO);
	assert_true(g->vq[1].broken);
	/* stays broken: no further processing until the ring is set up again */
	assert_int_equal(vring_pop(&g->vq[1], &c), -EIO);
	assert_false(vring_ready(&g->vq[1]));
}

static void test_descriptor_outside_guest_memory_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BASE + FG_SIZE - 8, 16, 0, 0);
	expect_broken(g, 0);
}

static void test_descriptor_address_wrapping_around_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, UINT64_MAX - 7, 16, 0, 0);
	expect_broken(g, 0);
}

static void test_huge_descriptor_length_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BUFS, UINT32_MAX, 0, 0);
	expect_broken(g, 0);
}

static void test_zero_length_descriptor_contributes_nothing(void **state)
{
	struct fake_guest *g = *state;
	struct vring_chain c;

	fg_set_desc(g, 1, 0, 0xdead0000, 0, VRING_DESC_F_NEXT, 1);
	fg_set_desc(g, 1, 1, FG_BUFS, 44, 0, 0);
	fg_publish(g, 1, 0);
	assert_int_equal(vring_pop(&g->vq[1], &c), 1);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.read_len, 44);
}

static void test_looping_chain_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BUFS, 8, VRING_DESC_F_NEXT, 1);
	fg_set_desc(g, 1, 1, FG_BUFS, 8, VRING_DESC_F_NEXT, 0);
	expect_broken(g, 0);
}

static void test_self_referencing_descriptor_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 7, FG_BUFS, 8, VRING_DESC_F_NEXT, 7);
	expect_broken(g, 7);
}

static void test_next_index_beyond_queue_size_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BUFS, 8, VRING_DESC_F_NEXT, FG_QSIZE);
	expect_broken(g, 0);
}

static void test_head_index_beyond_queue_size_breaks_the_queue(void **state)
{
	expect_broken(*state, FG_QSIZE + 3);
}

static void test_avail_index_jumping_more_than_queue_size_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;
	uint16_t *avail = fg_ptr(g, FG_RING(1) + 0x1000);
	struct vring_chain c;

	avail[1] = htole16(FG_QSIZE + 1);
	assert_int_equal(vring_pop(&g->vq[1], &c), -EIO);
	assert_true(g->vq[1].broken);
}

static void test_indirect_descriptor_is_refused(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BUFS, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(g, 0);
}

static void test_readable_after_writable_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;

	fg_set_desc(g, 1, 0, FG_BUFS, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fg_set_desc(g, 1, 1, FG_BUFS, 8, 0, 0);
	expect_broken(g, 0);
}

static void test_chain_longer_than_segment_limit_breaks_the_queue(void **state)
{
	struct fake_guest *g = *state;
	const unsigned n = VRING_MAX_SEGS + 1;

	assert_int_equal(vring_set_num(&g->vq[1], 128), 0);
	for (unsigned i = 0; i < n; i++)
		fg_set_desc(g, 1, i, FG_BUFS, 8, i + 1 < n ? VRING_DESC_F_NEXT : 0, (uint16_t) (i + 1));
	expect_broken(g, 0);
}

static void test_ring_outside_memory_table_is_broken_at_setup(void **state)
{
	struct fake_guest *g = *state;

	assert_int_equal(vring_set_addr(&g->vq[0], FG_BASE + FG_SIZE - 16, FG_RING(0) + 0x2000, FG_RING(0) + 0x1000), -EFAULT);
	assert_true(g->vq[0].broken);
	assert_false(vring_ready(&g->vq[0]));
	/* setting it up again correctly recovers */
	assert_int_equal(vring_set_addr(&g->vq[0], FG_RING(0), FG_RING(0) + 0x2000, FG_RING(0) + 0x1000), 0);
	assert_true(vring_ready(&g->vq[0]));
}

static void test_queue_size_must_be_a_power_of_two(void **state)
{
	struct fake_guest *g = *state;

	assert_int_equal(vring_set_num(&g->vq[0], 0), -EINVAL);
	assert_int_equal(vring_set_num(&g->vq[0], 100), -EINVAL);
	assert_int_equal(vring_set_num(&g->vq[0], 65536), -EINVAL);
	assert_int_equal(vring_set_num(&g->vq[0], 32768), 0);
	assert_int_equal(g->vq[0].size, 32768);
	assert_int_equal(vring_set_num(&g->vq[0], FG_QSIZE), 0);
}

static void test_push_publishes_used_element_and_notify_signals_call_fd(void **state)
{
	struct fake_guest *g = *state;
	uint32_t id, len;
	uint64_t v = 0;
	int efd = eventfd(0, EFD_NONBLOCK);

	g->vq[1].call_fd = efd;
	vring_push(&g->vq[1], 17, 99);
	assert_int_equal(fg_used(g, 1, &id, &len), 1);
	assert_int_equal(id, 17);
	assert_int_equal(len, 99);
	vring_notify(&g->vq[1]);
	assert_int_equal(read(efd, &v, 8), 8);
	assert_int_equal(v, 1);
	/* nothing pushed since: no second signal */
	vring_notify(&g->vq[1]);
	assert_int_equal(read(efd, &v, 8), -1);
}

static void test_notify_respects_no_interrupt_flag(void **state)
{
	struct fake_guest *g = *state;
	uint16_t *avail = fg_ptr(g, FG_RING(1) + 0x1000);
	uint64_t v;
	int efd = eventfd(0, EFD_NONBLOCK);

	g->vq[1].call_fd = efd;
	avail[0] = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	vring_push(&g->vq[1], 1, 0);
	vring_notify(&g->vq[1]);
	assert_int_equal(read(efd, &v, 8), -1);
}

static void test_set_notify_writes_no_notify_flag_and_avail_pending_sees_unpopped_buffers(void **state)
{
	struct fake_guest *g = *state;
	uint16_t *used = fg_ptr(g, FG_RING(1) + 0x2000);
	struct vring_chain c;
	uint16_t d = fg_take_desc(g, 1);

	vring_set_notify(&g->vq[1], false);
	assert_int_equal(le16toh(used[0]), VRING_USED_F_NO_NOTIFY);
	assert_false(vring_avail_pending(&g->vq[1]));
	/* the guest adds a buffer while kicks are off: no kick, but the recheck sees it */
	fg_set_desc(g, 1, d, fg_alloc(g, 44), 44, 0, 0);
	fg_publish(g, 1, d);
	vring_set_notify(&g->vq[1], true);
	assert_int_equal(le16toh(used[0]), 0);
	assert_true(vring_avail_pending(&g->vq[1]));
	assert_int_equal(vring_pop(&g->vq[1], &c), 1);
	assert_false(vring_avail_pending(&g->vq[1]));
	/* used index untouched by the flag writes */
	assert_int_equal(le16toh(used[1]), 0);
	/* a ring that is not ready reports nothing pending and ignores the flag */
	g->vq[1].started = false;
	fg_publish(g, 1, d);
	assert_false(vring_avail_pending(&g->vq[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_memory_rejects_ranges_outside_or_overflowing_regions, setup, teardown),
		cmocka_unit_test(test_guest_memory_refuses_overlapping_regions_and_a_ninth_region),
		cmocka_unit_test(test_buffer_spanning_two_regions_becomes_two_iovecs),
		cmocka_unit_test_setup_teardown(test_pop_returns_readable_then_writable_segments_of_a_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_read_gathers_bytes_across_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptor_outside_guest_memory_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptor_address_wrapping_around_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_descriptor_length_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_descriptor_contributes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_looping_chain_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_referencing_descriptor_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_index_beyond_queue_size_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_index_beyond_queue_size_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_index_jumping_more_than_queue_size_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_descriptor_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_after_writable_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_longer_than_segment_limit_breaks_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_outside_memory_table_is_broken_at_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_must_be_a_power_of_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_publishes_used_element_and_notify_signals_call_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_respects_no_interrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_notify_writes_no_notify_flag_and_avail_pending_sees_unpopped_buffers, setup, teardown),
	};
	vsock_log_set_level(VSOCK_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
