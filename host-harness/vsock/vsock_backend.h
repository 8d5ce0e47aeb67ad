/* vsock_backend: a complete vhost-user-vsock backend for one VM in one epoll loop. It
 * listens on the vhost-user socket (QEMU connects as client: `-chardev
 * socket,path=SOCKET`), serves one frontend at a time (and the next one after it
 * disconnects), and exposes the guest's vsock as hybrid vsock on uds_path (see
 * hybrid_vsock.h). Both sockets exist when vsock_backend_new() returns, so QEMU may be
 * started right after. A guest reboot (rings restarted from index 0) drops every
 * connection. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vsock_backend_config {
	const char *socket_path;   /* vhost-user socket we listen on */
	const char *uds_path;      /* hybrid vsock: <uds> and <uds>_<port> */
	uint64_t guest_cid;        /* 3 .. 0xfffffffe */
	bool no_tx_poll;           /* take a kick per tx packet instead of polling (see .c) */
};

struct vsock_backend;

/* Validates cfg, binds both sockets. Returns 0 or -errno. This module logs every failure
 * it returns, naming the path, so callers only pass the error on (exit status 2). */
int vsock_backend_new(const struct vsock_backend_config *cfg, struct vsock_backend **out);
/* Runs the loop until vsock_backend_request_stop(). Returns 0 or -errno. */
int vsock_backend_run(struct vsock_backend *b);
/* Async-signal-safe and thread-safe. */
void vsock_backend_request_stop(struct vsock_backend *b);
/* Closes everything and removes both socket files. NULL is fine. */
void vsock_backend_free(struct vsock_backend *b);

/* The same in a thread of the calling process (for the harness). */
int vsock_backend_start_thread(const struct vsock_backend_config *cfg, struct vsock_backend **out);
/* Stops the thread, waits for it and frees the backend. Returns the loop's result. */
int vsock_backend_stop_thread(struct vsock_backend *b);
