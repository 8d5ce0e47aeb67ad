/* fuzz_vhost_user: the input is what a hostile frontend writes on the vhost-user socket
 * (a stream of headers and payloads, no fds). Every message is parsed and answered; the
 * backend must never crash, hang or read past a message. A memory table needs fds, so the
 * ring requests run without guest memory and must fail safely. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock/vhost_user.h"
#include "vsock/vsock_log.h"

static void cb_kick(void *ctx, unsigned idx, int old_fd, int new_fd) { }
static void cb_ring(void *ctx, unsigned idx) { }
static const struct vhost_user_ops ops = { .kick_changed = cb_kick, .ring_started = cb_ring, .ring_stopped = cb_ring };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_dev d;
	int sv[2];
	char sink[4096];

	if (size > 16384 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	vsock_log_set_level(VSOCK_LOG_ERR);
	/* the whole input fits in the socket buffer; then EOF */
	if (write(sv[0], data, size) != (ssize_t) size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[0], SHUT_WR);
	vhost_user_dev_init(&d, sv[1], 3, &ops, NULL);
	for (int i = 0; i < 512; i++) {
		if (vhost_user_handle_message(&d) < 0)
			break;
		while (recv(sv[0], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	vhost_user_dev_close(&d);
	close(sv[0]);
	return 0;
}
