/* frame: the report wire format. One message = 4-byte big-endian length + that many bytes
 * of JSON, at most FRAME_MAX. Used over vsock, hybrid-vsock Unix sockets and virtio-serial.
 * The receiver treats the payload as hostile: only the length is trusted, and only after
 * the bound check. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX (4u * 1024u * 1024u)

/* A body's buffer grows with the bytes that arrived, never with the claimed length alone:
 * the first holds at most FRAME_FIRST_ROOM bytes, each later one twice the last, up to the
 * length. So 4 header bytes make the receiver allocate 64 KiB, not up to FRAME_MAX, and the
 * growing copies less than the frame's length in all. */
#define FRAME_FIRST_ROOM (64u * 1024u)

/* The capacity that follows CAP (0: none yet) for a body of LEN bytes (CAP < LEN, or both 0). */
size_t frame_body_room(size_t cap, size_t len);

/* Writes one frame, retrying short writes and EINTR. Returns 0 or -errno (-EMSGSIZE if
 * len > FRAME_MAX). */
int frame_write(int fd, const void *data, size_t len);

/* Reads one frame into a fresh NUL-terminated buffer (*out, *out_len excludes the NUL),
 * grown as the body arrives (frame_body_room()).
 * timeout_ms < 0 waits forever; otherwise the whole frame must arrive within it.
 * Returns 0, -EMSGSIZE (length > max), -EPIPE (EOF mid-frame or before it), -ETIMEDOUT,
 * or another -errno. max may be smaller than FRAME_MAX. */
int frame_read(int fd, size_t max, int timeout_ms, uint8_t **out, size_t *out_len);
