/* hybrid_vsock: the host's Unix-socket face of a guest's vsock, with the conventions of
 * Firecracker and cloud-hypervisor. Host -> guest: connect to <uds>, write
 * "CONNECT <port>\n", read "OK <host port>\n", then raw bytes. Guest -> host port P: the
 * backend connects to "<uds>_<P>". Failures close the socket without text. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HYBRID_LINE_MAX 32
#define HYBRID_HANDSHAKE_TIMEOUT_MS 5000

/* Binds and listens on uds_path (non-blocking, close-on-exec). A stale socket file left
 * by a dead process is replaced; any other existing file is an error (-EEXIST). */
int hybrid_listen(const char *uds_path);
/* Non-blocking connect to "<uds_path>_<port>". Returns the fd or -errno. */
int hybrid_connect_port(const char *uds_path, uint32_t port);

/* Parses one complete line "CONNECT <port>\n" (keyword case-insensitive, decimal port
 * without sign or leading '+', no trailing garbage). Returns 0 or -EINVAL. */
int hybrid_parse_connect(const char *line, size_t len, uint32_t *port);

/* A host client that has connected and is sending its CONNECT line. */
struct hybrid_handshake {
	int fd;
	char line[HYBRID_LINE_MAX + 1];
	size_t len;
	long long deadline_ms;
};
/* Reads what is available, one byte at a time so no payload after '\n' is consumed.
 * Returns 1 with *port set when the line is complete, 0 if more is needed, -EINVAL for
 * a malformed or overlong line, -EPIPE if the client went away. */
int hybrid_handshake_read(struct hybrid_handshake *h, uint32_t *port);

/* Client side (harness, tests): connects to uds_path, asks for guest port `port` and
 * waits up to timeout_ms for "OK ". Returns a blocking fd ready for data, or -errno
 * (-ECONNRESET when the backend closed the socket: nobody listens in the guest). */
int hybrid_dial(const char *uds_path, uint32_t port, int timeout_ms);
