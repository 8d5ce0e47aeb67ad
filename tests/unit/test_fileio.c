/* Unit tests for common/fileio, common/parse and common/clock: the bounded reader every
 * input file goes through never blocks on a FIFO, refuses what is not a regular file and
 * what is over its limit, and reads procfs files whose st_size is 0; numbers are strict. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "fileio.h"
#include "parse.h"
#include "secret.h"

static char dir[] = "/tmp/credscope-fileio-XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *at(const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *s, size_t len)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fd_write_full(fd, s, len), 0);
	close(fd);
}

static void test_regular_file_is_read_whole_and_nul_terminated(void **state)
{
	uint8_t *buf;
	size_t len;
	write_file("plain", "abc\0def", 7);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("plain"), 7, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "abc\0def", 7);
	assert_int_equal(buf[7], 0);
	free(buf);
}

static void test_file_one_byte_over_the_limit_is_efbig_not_truncated(void **state)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char big[9000];
	memset(big, 'x', sizeof big);
	write_file("big", big, sizeof big);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("big"), sizeof big - 1, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("big"), sizeof big, &buf, &len), 0);
	assert_int_equal(len, sizeof big);
	free(buf);
}

/* The regression this guards against blocked forever in open() or read(): an alarm turns
 * a hang into a failing test. */
static void test_fifo_is_refused_at_once_without_a_writer(void **state)
{
	uint8_t *buf;
	size_t len;
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	alarm(5);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("fifo"), 4096, &buf, &len), -ESPIPE);
	assert_int_equal(secret_read_file(at("fifo"), 4096, &buf, &len), -ESPIPE);
	alarm(0);
	assert_string_equal(file_error_text(-ESPIPE), "is a FIFO or socket, not a regular file");
}

static void test_directory_device_and_socket_are_refused_by_kind(void **state)
{
	uint8_t *buf;
	size_t len;
	assert_int_equal(file_read_bounded(AT_FDCWD, dir, 4096, &buf, &len), -EISDIR);
	assert_string_equal(file_error_text(-EISDIR), "is a directory, not a regular file");
	alarm(5);
	assert_int_equal(file_read_bounded(AT_FDCWD, "/dev/zero", 4096, &buf, &len), -ENODEV);
	alarm(0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	assert_true(strlen(at("sock")) < sizeof a.sun_path);
	memcpy(a.sun_path, at("sock"), strlen(at("sock")) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("sock"), 4096, &buf, &len), -ESPIPE);
	close(s);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("missing"), 4096, &buf, &len), -ENOENT);
}

static void test_procfs_file_with_zero_st_size_is_read_to_eof(void **state)
{
	uint8_t *buf;
	size_t len;
	struct stat st;
	assert_int_equal(stat("/proc/self/status", &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(file_read_bounded(AT_FDCWD, "/proc/self/status", 1 << 20, &buf, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr((char *)buf, "Name:"));
	free(buf);
}

static void test_file_copy_makes_a_private_copy(void **state)
{
	uint8_t *buf;
	size_t len;
	struct stat st;
	write_file("src", "console", 7);
	char src[256];
	snprintf(src, sizeof src, "%s", at("src"));   /* at() reuses one buffer */
	assert_int_equal(file_copy(src, at("dst")), 0);
	assert_int_equal(stat(at("dst"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_read_bounded(AT_FDCWD, at("dst"), 100, &buf, &len), 0);
	assert_int_equal(len, 7);
	free(buf);
	assert_int_equal(file_copy("/nonexistent/credscope-src", at("dst2")), -ENOENT);
}

static void test_rm_tree_removes_a_tree_but_not_what_a_symlink_points_to(void **state)
{
	char tree[256], keep[256];
	snprintf(keep, sizeof keep, "%s", at("keep"));
	write_file("keep", "x", 1);
	snprintf(tree, sizeof tree, "%s", at("tree"));
	assert_int_equal(mkdir(tree, 0700), 0);
	assert_int_equal(mkdir(at("tree/sub"), 0700), 0);
	write_file("tree/sub/f", "y", 1);
	assert_int_equal(symlink(keep, at("tree/link")), 0);
	assert_int_equal(rm_tree(tree), 0);
	assert_int_equal(access(tree, F_OK), -1);
	assert_int_equal(access(keep, F_OK), 0);
	assert_int_equal(rm_tree(at("absent")), -ENOENT);
}

static void test_numbers_are_digits_only_within_their_range(void **state)
{
	unsigned v = 7;
	assert_int_equal(parse_uint("128", 128, 65536, &v), 0);
	assert_int_equal(v, 128);
	assert_int_equal(parse_uint("127", 128, 65536, &v), -ERANGE);
	assert_int_equal(parse_uint("99999999999999999999999", 0, 10, &v), -ERANGE);
	const char *bad[] = { "", "12x", " 12", "12 ", "+12", "-1", "0x10", "1e3", "١٢" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse_uint(bad[i], 0, 1000, &v), -EINVAL);
	assert_int_equal(v, 128);
	assert_int_equal(parse_uint(NULL, 0, 1, &v), -EINVAL);
}

static void test_monotonic_clock_agrees_in_both_units_and_does_not_go_back(void **state)
{
	long long a = mono_ms(), ns = mono_ns(), b = mono_ms();
	assert_true(a <= ns / 1000000 && ns / 1000000 <= b);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_file_is_read_whole_and_nul_terminated),
		cmocka_unit_test(test_file_one_byte_over_the_limit_is_efbig_not_truncated),
		cmocka_unit_test(test_fifo_is_refused_at_once_without_a_writer),
		cmocka_unit_test(test_directory_device_and_socket_are_refused_by_kind),
		cmocka_unit_test(test_procfs_file_with_zero_st_size_is_read_to_eof),
		cmocka_unit_test(test_file_copy_makes_a_private_copy),
		cmocka_unit_test(test_rm_tree_removes_a_tree_but_not_what_a_symlink_points_to),
		cmocka_unit_test(test_numbers_are_digits_only_within_their_range),
		cmocka_unit_test(test_monotonic_clock_agrees_in_both_units_and_does_not_go_back),
	};
	return cmocka_run_group_tests_name("fileio", tests, setup, teardown);
}
