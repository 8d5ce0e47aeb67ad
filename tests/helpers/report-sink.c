/* report-sink: the host end of a virtio-serial report port for tests that cannot use the
 * harness (libvirt owns the VM there).
 *
 *   report-sink [--listen] SOCKET TIMEOUT_S OUT
 *
 * Connects to SOCKET (QEMU's listening chardev; retried until it exists), or with
 * --listen listens there and accepts one connection (a hybrid vsock "<uds>_<port>"
 * socket), reads one framed report (common/frame.h), writes its bytes to OUT, answers
 * with an ok ack and exits 0. Exit 1 on timeout or a malformed frame; the reason goes to
 * stderr. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static int connect_until(const char *path, time_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	while (time(NULL) < deadline) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		close(fd);
		usleep(100 * 1000);
	}
	return -ETIMEDOUT;
}

static int accept_until(const char *path, time_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .events = POLLIN };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	p.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p.fd < 0 || bind(p.fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(p.fd, 1) < 0)
		return -errno;
	if (poll(&p, 1, (int)(deadline - time(NULL)) * 1000) != 1) {
		close(p.fd);
		return -ETIMEDOUT;
	}
	fd = accept4(p.fd, NULL, NULL, SOCK_CLOEXEC);
	close(p.fd);
	unlink(path);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	static const char ack[] = "{\"credscope-ack\":1,\"status\":\"ok\"}";
	uint8_t *report = NULL;
	size_t len = 0;
	time_t deadline;
	FILE *out;
	int fd, r;

	bool listen_mode = argc == 5 && strcmp(argv[1], "--listen") == 0;

	if (argc != 4 && !listen_mode) {
		fprintf(stderr, "usage: report-sink [--listen] SOCKET TIMEOUT_S OUT\n");
		return 2;
	}
	argv += listen_mode;
	deadline = time(NULL) + atoi(argv[2]);
	fd = listen_mode ? accept_until(argv[1], deadline) : connect_until(argv[1], deadline);
	if (fd < 0) {
		fprintf(stderr, "report-sink: cannot connect to %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	r = frame_read(fd, FRAME_MAX, (int)(deadline - time(NULL)) * 1000, &report, &len);
	if (r < 0) {
		fprintf(stderr, "report-sink: no report from %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	out = fopen(argv[3], "we");
	if (!out || fwrite(report, 1, len, out) != len || fclose(out) != 0) {
		fprintf(stderr, "report-sink: cannot write %s\n", argv[3]);
		return 1;
	}
	r = frame_write(fd, ack, strlen(ack));
	free(report);
	close(fd);
	return r < 0 ? 1 : 0;
}
