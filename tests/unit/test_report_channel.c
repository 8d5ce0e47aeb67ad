/* Unit tests for runner/report_channel: frames assembled from pieces without blocking, the
 * length bound checked before the body, and the sentence each guest fault leaves for the
 * run's diagnosis (cut off, stalled, oversized, bytes after the frame). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "frame.h"
#include "runner/report_channel.h"

struct pair {
	struct report_channel ch;
	int guest;
};

static void pair_open(struct pair *p)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	report_channel_init(&p->ch);
	report_channel_adopt(&p->ch, sv[0]);
	p->guest = sv[1];
}

static void pair_close(struct pair *p)
{
	if (p->guest >= 0)
		close(p->guest);
	report_channel_close(&p->ch);
}

static void send_bytes(int fd, const void *b, size_t n)
{
	assert_int_equal(write(fd, b, n), (ssize_t)n);
}

static int readable(struct pair *p, uint8_t **buf, size_t *len)
{
	return report_channel_readable(&p->ch, 5000, buf, len);
}

static void test_frame_sent_in_pieces_is_assembled_and_nothing_blocks(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	assert_int_equal(readable(&p, &buf, &len), 0);   /* nothing there: returns at once */
	send_bytes(p.guest, "\0\0", 2);
	assert_int_equal(readable(&p, &buf, &len), 0);
	assert_true(report_channel_mid_frame(&p.ch));
	send_bytes(p.guest, "\0\5{\"a\"", 6);
	assert_int_equal(readable(&p, &buf, &len), 0);
	send_bytes(p.guest, "}", 1);
	assert_int_equal(readable(&p, &buf, &len), 1);
	assert_int_equal(len, 5);
	assert_string_equal((char *)buf, "{\"a\"}");
	assert_false(report_channel_mid_frame(&p.ch));
	assert_int_equal(p.ch.trailing, 0);
	free(buf);
	pair_close(&p);
}

static void test_length_over_the_limit_is_refused_before_any_body_byte(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	send_bytes(p.guest, "\x06\x40\0\0xxxx", 8);   /* 100 MiB announced */
	assert_int_equal(readable(&p, &buf, &len), -EMSGSIZE);
	assert_null(buf);
	assert_string_equal(report_channel_why(&p.ch, -EMSGSIZE), "its length prefix announces a 104857600-byte report, "
			    "over the 4194304-byte limit (docs/report.md); not a byte of it was read");
	pair_close(&p);
}

/* A guest that announces FRAME_MAX bytes and sends ten makes the host allocate the first
 * room (64 KiB), not 4 MiB; a frame longer than that room still arrives whole, in pieces. */
static void test_body_memory_grows_with_the_bytes_that_arrived(void **state)
{
	struct pair p;
	uint8_t *buf = NULL, *big;
	size_t len = 0, n = 300000, sent = 0;
	pair_open(&p);
	send_bytes(p.guest, "\0\x40\0\0" "0123456789", 14);   /* FRAME_MAX announced */
	assert_int_equal(readable(&p, &buf, &len), 0);
	assert_int_equal(p.ch.body_got, 10);
	assert_int_equal(p.ch.body_cap, FRAME_FIRST_ROOM);
	pair_close(&p);

	assert_non_null(big = malloc(n));
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)('a' + i % 26);
	pair_open(&p);
	send_bytes(p.guest, (uint8_t[]){ 0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n }, 4);
	int x = 0;
	while (x == 0) {
		size_t piece = n - sent < 50000 ? n - sent : 50000;
		if (piece)
			send_bytes(p.guest, big + sent, piece);
		sent += piece;
		x = readable(&p, &buf, &len);
		assert_true(x == 1 || (x == 0 && sent < n));
	}
	assert_int_equal(len, n);
	assert_memory_equal(buf, big, n);
	assert_int_equal(buf[n], 0);
	free(buf);
	free(big);
	pair_close(&p);
}

static void test_eof_mid_frame_says_how_many_bytes_of_how_many_arrived(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	send_bytes(p.guest, "\0\0\0\x0a{\"ab", 8);
	close(p.guest), p.guest = -1;
	assert_int_equal(readable(&p, &buf, &len), -EPIPE);
	assert_true(report_channel_mid_frame(&p.ch));
	assert_string_equal(report_channel_why(&p.ch, -EPIPE),
			    "the report was cut off: the channel closed after 8 of the 14 bytes its length prefix announced");
	pair_close(&p);
}

static void test_eof_inside_the_length_prefix_is_named_as_such(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	send_bytes(p.guest, "\0\0", 2);
	close(p.guest), p.guest = -1;
	assert_int_equal(readable(&p, &buf, &len), -EPIPE);
	assert_string_equal(report_channel_why(&p.ch, -EPIPE),
			    "the report was cut off: the channel closed after 2 of the 4 bytes of its length prefix");
	pair_close(&p);
}

static void test_half_frame_then_silence_times_out_and_progress_says_so(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	send_bytes(p.guest, "\0\0\0\x0a{", 5);
	assert_int_equal(report_channel_readable(&p.ch, 50, &buf, &len), 0);
	assert_string_equal(report_channel_progress(&p.ch, p.ch.last_byte_ms + 3000),
			    "; a report began arriving (5 of 14 bytes) and stopped 3 s ago");
	usleep(100 * 1000);
	assert_int_equal(report_channel_readable(&p.ch, 50, &buf, &len), -ETIMEDOUT);
	assert_string_equal(report_channel_why(&p.ch, -ETIMEDOUT), "the report stalled: only 5 of its 14 bytes arrived");
	pair_close(&p);
}

static void test_bytes_behind_a_complete_frame_are_counted(void **state)
{
	struct pair p;
	uint8_t *buf = NULL;
	size_t len = 0;
	pair_open(&p);
	send_bytes(p.guest, "\0\0\0\2{}GARBAGE", 13);
	assert_int_equal(readable(&p, &buf, &len), 1);
	assert_string_equal((char *)buf, "{}");
	assert_int_equal(p.ch.trailing, 7);
	assert_string_equal(report_channel_why(&p.ch, -EBADMSG),
			    "7 more bytes follow its report frame (a report is exactly one frame, docs/report.md)");
	assert_string_equal(report_channel_progress(&p.ch, 0), "");
	free(buf);
	pair_close(&p);
}

static void test_listener_drops_a_connection_that_closes_before_its_first_byte(void **state)
{
	struct report_channel ch;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/credscope-test-channel-XXXXXX";
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/vsock_5123", dir);
	report_channel_init(&ch);
	assert_int_equal(report_channel_listen(&ch, sa.sun_path), 0);
	for (int round = 0; round < 2; round++) {
		int g = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(g, (struct sockaddr *)&sa, sizeof sa), 0);
		assert_int_equal(report_channel_readable(&ch, 5000, &buf, &len), 0);   /* accepted */
		if (round == 0) {
			close(g);
			assert_int_equal(report_channel_readable(&ch, 5000, &buf, &len), 0);   /* dropped */
			assert_int_equal(ch.fd, -1);
			continue;
		}
		send_bytes(g, "\0\0\0\2{}", 6);
		assert_int_equal(report_channel_readable(&ch, 5000, &buf, &len), 1);   /* the guest connected again */
		free(buf);
		close(g);
	}
	report_channel_close(&ch);
	assert_int_equal(rmdir(dir), 0);   /* the socket was unlinked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_sent_in_pieces_is_assembled_and_nothing_blocks),
		cmocka_unit_test(test_length_over_the_limit_is_refused_before_any_body_byte),
		cmocka_unit_test(test_body_memory_grows_with_the_bytes_that_arrived),
		cmocka_unit_test(test_eof_mid_frame_says_how_many_bytes_of_how_many_arrived),
		cmocka_unit_test(test_eof_inside_the_length_prefix_is_named_as_such),
		cmocka_unit_test(test_half_frame_then_silence_times_out_and_progress_says_so),
		cmocka_unit_test(test_bytes_behind_a_complete_frame_are_counted),
		cmocka_unit_test(test_listener_drops_a_connection_that_closes_before_its_first_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
