/* hybrid_vsock: see hybrid_vsock.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fileio.h"
#include "vsock/hybrid_vsock.h"

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A stream socket (with extra SOCK_* flags) connected to path: the fd, or -errno. */
static int unix_connect(const char *path, int flags)
{
	struct sockaddr_un sa;
	int fd, r;

	r = unix_addr(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int hybrid_listen(const char *uds_path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	r = unix_addr(uds_path, &sa);
	if (r < 0)
		return r;
	if (lstat(uds_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(uds_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int hybrid_connect_port(const char *uds_path, uint32_t port)
{
	char path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 16];

	if ((size_t) snprintf(path, sizeof(path), "%s_%u", uds_path, port) >= sizeof(path))
		return -ENAMETOOLONG;
	/* A full backlog gives EAGAIN: the guest gets RST like for a missing listener. */
	return unix_connect(path, SOCK_NONBLOCK);
}

int hybrid_parse_connect(const char *line, size_t len, uint32_t *port)
{
	uint64_t v = 0;
	size_t i = 8;

	if (len < 10 || line[len - 1] != '\n' || strncasecmp(line, "CONNECT ", 8) != 0)
		return -EINVAL;
	for (; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t) (line[i] - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*port = (uint32_t) v;
	return 0;
}

int hybrid_handshake_read(struct hybrid_handshake *h, uint32_t *port)
{
	for (;;) {
		char ch;
		ssize_t n = read(h->fd, &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -EPIPE;
		if (h->len >= HYBRID_LINE_MAX)
			return -EINVAL;
		h->line[h->len++] = ch;
		h->line[h->len] = '\0';
		if (ch == '\n')
			return hybrid_parse_connect(h->line, h->len, port) < 0 ? -EINVAL : 1;
	}
}

/* Reads the reply line byte by byte so no payload after it is consumed. */
static int dial_read_ok(int fd, int timeout_ms)
{
	char line[HYBRID_LINE_MAX + 1];
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = fd_read_full(fd, &line[len], 1);   /* the dialled socket is blocking */
		if (n < 0)
			return (int) n;
		if (n == 0)
			return -ECONNRESET;
		if (line[len++] == '\n')
			break;
		if (len >= HYBRID_LINE_MAX)
			return -EPROTO;
	}
	return len >= 4 && memcmp(line, "OK ", 3) == 0 ? 0 : -EPROTO;
}

int hybrid_dial(const char *uds_path, uint32_t port, int timeout_ms)
{
	char line[HYBRID_LINE_MAX];
	int fd, r, n;

	fd = unix_connect(uds_path, 0);
	if (fd < 0)
		return fd;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, (size_t) n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -EPIPE;
	}
	r = dial_read_ok(fd, timeout_ms);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
