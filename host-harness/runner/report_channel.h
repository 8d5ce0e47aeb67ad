/* report_channel: where the guest's report arrives, whatever the transport. The serial
 * channel is connected to QEMU's port socket; the vsock channel listens on the hybrid
 * socket "<uds>_<port>" that the vhost-user-vsock backend connects to when the guest
 * connects to CID 2. Either way the report is one frame (common/frame.h) answered by one
 * framed ack (docs/report.md).
 *
 * Promises:
 * - Reading never blocks: report_channel_readable() takes what the socket holds, so the
 *   caller's deadlines, QEMU's exit and signals are watched while a frame trickles in.
 * - The length is bound-checked as soon as its 4 bytes are in, before any body byte is
 *   read or memory is allocated for it; the body's memory then grows with the bytes that
 *   arrived (common/frame.h frame_body_room()), not with the length the guest claims.
 * - A failed read leaves a sentence in report_channel_why() naming what the guest did
 *   (how many bytes of how many arrived), for the run's diagnosis. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct report_channel {
	int listen_fd;       /* vsock: listening Unix socket, else -1 */
	int fd;              /* connected stream, -1 until there is one */
	char *listen_path;   /* unlinked by report_channel_close() */
	/* the frame being read */
	uint8_t hdr[4];
	size_t hdr_got, body_len, body_got, body_cap;
	uint8_t *body;       /* body_cap bytes and a NUL */
	long long first_byte_ms, last_byte_ms;   /* mono_ms(); 0: no byte of this frame yet */
	size_t trailing;     /* bytes already queued behind the last complete frame */
	char why[256];
};

void report_channel_init(struct report_channel *ch);
int report_channel_listen(struct report_channel *ch, const char *path);
int report_channel_adopt(struct report_channel *ch, int fd);
/* The fd to poll for POLLIN: the stream when connected, else the listener. */
int report_channel_poll_fd(const struct report_channel *ch);
/* Call when poll says readable. Accepts a pending connection, or reads what has arrived
 * of one frame: 1 with *buf, *len (NUL-terminated, the caller frees it) when the frame is
 * complete, 0 while it is not. The whole frame must arrive within timeout_ms of its
 * first byte. A connection to the listener that closes before its first byte is dropped
 * (0: the guest may connect again). -EMSGSIZE (length over FRAME_MAX), -EPIPE (EOF),
 * -ETIMEDOUT or another -errno on failure; report_channel_why() says what happened. */
int report_channel_readable(struct report_channel *ch, int timeout_ms, uint8_t **buf, size_t *len);
/* True once a byte of a frame not yet complete has arrived. */
bool report_channel_mid_frame(const struct report_channel *ch);
/* What the last failure (X, the -errno it returned) was, as a sentence without a final
 * period; ch->trailing > 0 after a complete frame is described with X = -EBADMSG. */
const char *report_channel_why(struct report_channel *ch, int x);
/* "; a report began arriving (N of M bytes) and stopped S s ago" while mid-frame, else "". */
const char *report_channel_progress(struct report_channel *ch, long long now_ms);
/* Sends the ack: status "ok", or "rejected" with a message. */
int report_channel_ack(struct report_channel *ch, bool ok, const char *message);
void report_channel_close(struct report_channel *ch);
