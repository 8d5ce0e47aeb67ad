/* fake-report-host: a listening stand-in for the host end of the report channel, for tests
 * of `credscope report --to serial:NAME` without a VM.
 *
 *   fake-report-host SOCKET TIMEOUT_S OUT [ACK_JSON]
 *
 * Listens on the Unix socket SOCKET, accepts one connection, reads one framed report
 * (common/frame.h), writes its bytes to OUT, answers with ACK_JSON (default an ok ack) and
 * exits 0; exit 1 on timeout or a bad frame. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *ack = argc > 4 ? argv[4] : "{\"credscope-ack\": 1, \"status\": \"ok\"}";
	if (argc < 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: fake-report-host SOCKET TIMEOUT_S OUT [ACK_JSON]\n");
		return 2;
	}
	int timeout_ms = atoi(argv[2]) * 1000;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0) {
		fprintf(stderr, "fake-report-host: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct pollfd p = { .fd = l, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1) {
		fprintf(stderr, "fake-report-host: nobody connected within %s s\n", argv[2]);
		return 1;
	}
	int fd = accept(l, NULL, NULL);
	uint8_t *buf;
	size_t len;
	int r = fd < 0 ? -errno : frame_read(fd, FRAME_MAX, timeout_ms, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "fake-report-host: no report: %s\n", strerror(-r));
		return 1;
	}
	FILE *out = fopen(argv[3], "we");
	if (!out || fwrite(buf, 1, len, out) != len || fclose(out) != 0) {
		fprintf(stderr, "fake-report-host: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	r = frame_write(fd, ack, strlen(ack));
	free(buf);
	close(fd);
	unlink(argv[1]);
	return r < 0 ? 1 : 0;
}
