/* transport: the agent's side of the report channel.
 *
 * Promise: a destination is "vsock:CID:PORT" (AF_VSOCK stream) or "serial:NAME"
 * (/dev/virtio-ports/NAME under the root; when that is a Unix socket, as a test's fake host
 * makes it, the agent connects to it; before udev has made that link, the port whose
 * /sys/class/virtio-ports/vportNpM/name is NAME, as /dev/vportNpM). transport_connect() waits for the channel up to
 * a deadline: the vsock transport module may still be loading and the host may not listen
 * yet, so ECONNREFUSED, ENODEV, ETIMEDOUT, ECONNRESET, EAFNOSUPPORT (and ENOENT for a serial
 * port) are retried with exponential backoff (100 ms doubling to 2 s). On the running system
 * (ROOT "/"), the first time the channel's driver is missing (vsock: ENODEV or EAFNOSUPPORT;
 * serial: ENOENT) `modprobe -q` of that driver (vmw_vsock_virtio_transport, virtio_console)
 * is started, not waited for, while the retries go on: the boot unit loads nothing before
 * the verdict, and udev would load the driver too, only later. transport_exchange()
 * sends one frame (common/frame.h) and reads the one framed ack (at most 64 KiB) before the
 * same kind of deadline, and parses it strictly.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TRANSPORT_ACK_MAX (64u * 1024u)
#define TRANSPORT_DEFAULT_TIMEOUT_MS 30000
#define REPORT_DEFAULT_VSOCK_PORT 5123u
#define REPORT_SERIAL_DIR "/dev/virtio-ports/"
#define REPORT_VSOCK_BUFFER (1024ULL * 1024ULL)   /* SO_VM_SOCKETS_BUFFER_SIZE of the report socket */

enum dest_kind { DEST_VSOCK, DEST_SERIAL };

struct report_dest {
	enum dest_kind kind;
	unsigned cid, port;
	char name[256];        /* serial port name */
};

/* Parses "vsock:CID:PORT" or "serial:NAME". Returns 0 or -EINVAL with *error (malloc'd). */
int report_dest_parse(const char *text, struct report_dest *d, char **error);
/* The value of credscope.report= on ROOT/proc/cmdline (malloc'd), or NULL. */
char *report_dest_from_cmdline(const char *root);
/* The value of KEY= (e.g. "credscope.manifest-label") on ROOT/proc/cmdline, or NULL. */
char *cmdline_value(const char *root, const char *key);

/* One attempt, no retry and no modprobe (credscope generator): a connected fd or -errno. For
 * vsock, CONNECT_TIMEOUT_MS > 0 bounds the kernel's wait for the host's answer. */
int transport_connect_once(const char *root, const struct report_dest *d, int connect_timeout_ms);
/* Returns a connected fd or -errno (the last error) once timeout_ms has passed. */
int transport_connect(const char *root, const struct report_dest *d, int timeout_ms);

struct ack {
	bool ok;               /* status == "ok" */
	char *status;          /* "ok", "rejected", ... */
	char *message;         /* NULL if absent */
};
/* Sends the report frame, reads and parses the ack. Returns 0, or -errno / -EBADMSG for an
 * ack that is not {"credscope-ack": 1, "status": STRING[, "message": STRING]}. */
int transport_exchange(int fd, const char *report, size_t len, int timeout_ms, struct ack *ack);
int ack_parse(const char *buf, size_t len, struct ack *ack);
void ack_free(struct ack *ack);
