/* fuzz_frame: the report stream as the host reads it. The input is every byte a guest
 * writes on the report channel (vsock, hybrid vsock or virtio-serial) before it hangs up:
 * the host adopts the stream (report_channel_adopt()), reads frames with
 * report_channel_readable() (common/frame.h frame_read()) until the stream ends, and hands
 * each frame to report_parse() (runner/report_check.h), as the runner does.
 *
 * Proves: frame_read() never reads past a frame or trusts a length before its bound check
 * (the frames it returns tile the input exactly: 4 + len bytes each, in order, each
 * payload equal to the input bytes and NUL-terminated); a stream that ends mid-frame is
 * -EPIPE, a length over the bound is -EMSGSIZE, nothing else; no frame crashes or leaks in
 * the report parser. The same bytes are also read with frame_read() and a small bound (an
 * ack-sized one, as the agent reads the host's ack) from a memory fd made once per
 * process, so the -EMSGSIZE path is reached by short inputs and a non-socket fd is read. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "runner/report_channel.h"
#include "runner/report_check.h"

#define STREAM_MAX 65536u   /* fits a socketpair's buffer, so one write() and EOF */
#define SMALL_MAX 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int stream_fd(const uint8_t *data, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (write(sv[0], data, size) != (ssize_t) size) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);   /* EOF after the input */
	return sv[1];
}

/* The last error must be what the remaining bytes say it is. */
static void check_end(int r, const uint8_t *rest, size_t left, size_t max)
{
	if (left < 4) {
		if (r != -EPIPE)
			abort();
		return;
	}
	size_t len = (size_t) rest[0] << 24 | (size_t) rest[1] << 16 | (size_t) rest[2] << 8 | rest[3];
	if (len > max ? r != -EMSGSIZE : (r != -EPIPE || left - 4 >= len))
		abort();
}

/* The memory fd, rewritten with the input: no setup cost per input. */
static int memory_fd(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("fuzz_frame", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static void read_all(const uint8_t *data, size_t size, size_t max, bool parse)
{
	struct report_channel ch;
	size_t off = 0;
	int fd = max == FRAME_MAX ? stream_fd(data, size) : memory_fd(data, size), r;

	if (fd < 0)
		return;
	report_channel_init(&ch);
	report_channel_adopt(&ch, fd);
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		r = max == FRAME_MAX ? report_channel_readable(&ch, 5000, &buf, &len)
				     : frame_read(fd, max, 5000, &buf, &len);
		if (r < 0)
			break;
		if (len > max || off + 4 + len > size || buf[len] != 0 || memcmp(buf, data + off + 4, len))
			abort();
		off += 4 + len;
		if (parse) {
			struct report rep;
			char *err = NULL;
			if (report_parse((const char *) buf, len, &rep, &err) == 0)
				report_free(&rep);
			free(err);
		}
		free(buf);
	}
	check_end(r, data + off, size - off, max);
	if (max == FRAME_MAX)
		report_channel_close(&ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > STREAM_MAX)
		return 0;
	read_all(data, size, FRAME_MAX, true);
	read_all(data, size, SMALL_MAX, false);
	return 0;
}
