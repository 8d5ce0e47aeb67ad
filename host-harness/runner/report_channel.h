/* report_channel: where the guest's report arrives, whatever the transport. The serial
 * channel is connected to QEMU's port socket; the vsock channel listens on the hybrid
 * socket "<uds>_<port>" that the vhost-user-vsock backend connects to when the guest
 * connects to CID 2. Either way the report is one frame (common/frame.h) answered by one
 * framed ack (docs/report.md). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct report_channel {
	int listen_fd;       /* vsock: listening Unix socket, else -1 */
	int fd;              /* connected stream, -1 until there is one */
	char *listen_path;   /* unlinked by report_channel_close() */
};

void report_channel_init(struct report_channel *ch);
int report_channel_listen(struct report_channel *ch, const char *path);
int report_channel_adopt(struct report_channel *ch, int fd);
/* The fd to poll for POLLIN: the stream when connected, else the listener. */
int report_channel_poll_fd(const struct report_channel *ch);
/* Call when poll says readable. Accepts a pending connection (returns 0), or reads one
 * frame within timeout_ms (returns 1 with *buf, *len). -errno on failure. */
int report_channel_readable(struct report_channel *ch, int timeout_ms, uint8_t **buf, size_t *len);
/* Sends the ack: status "ok", or "rejected" with a message. */
int report_channel_ack(struct report_channel *ch, bool ok, const char *message);
void report_channel_close(struct report_channel *ch);
