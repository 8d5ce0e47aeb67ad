/* frame: 4-byte big-endian length-prefixed messages with a hard size bound. */
#include "frame.h"

#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		/* send() so a peer that went away is -EPIPE, not a SIGPIPE; write() for
		 * character devices such as virtio-serial ports. */
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				(void)poll(&pfd, 1, 1000);
				continue;
			}
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int frame_write(int fd, const void *data, size_t len)
{
	if (len > FRAME_MAX)
		return -EMSGSIZE;
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	int r = write_all(fd, hdr, sizeof hdr);
	if (r < 0)
		return r;
	return write_all(fd, data, len);
}

size_t frame_body_room(size_t cap, size_t len)
{
	if (cap == 0)
		return len < FRAME_FIRST_ROOM ? len : FRAME_FIRST_ROOM;
	return len - cap > cap ? cap * 2 : len;
}

/* Reads exactly len bytes before the deadline (deadline < 0: none). */
static int read_exact(int fd, uint8_t *p, size_t len, long long deadline)
{
	while (len > 0) {
		int wait = -1;
		if (deadline >= 0) {
			long long left = deadline - mono_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, wait);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pr == 0)
			continue;
		ssize_t r = read(fd, p, len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int frame_read(int fd, size_t max, int timeout_ms, uint8_t **out, size_t *out_len)
{
	long long deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	uint8_t hdr[4];
	if (max > FRAME_MAX)
		max = FRAME_MAX;
	int r = read_exact(fd, hdr, sizeof hdr, deadline);
	if (r < 0)
		return r;
	size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len > max)
		return -EMSGSIZE;
	uint8_t *buf = NULL;
	size_t cap = 0;
	do {
		size_t room = frame_body_room(cap, len);
		uint8_t *nb = realloc(buf, room + 1);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		r = read_exact(fd, buf + cap, room - cap, deadline);
		if (r < 0) {
			free(buf);
			return r;
		}
		cap = room;
	} while (cap < len);
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}
