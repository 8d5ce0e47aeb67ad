/* serial_transport: the virtio-serial report channel. QEMU serves the port's chardev as a
 * Unix socket (server=on,wait=off) in the run's private directory; the harness connects
 * as the client right after QMP is ready, before the guest can write, so nothing the
 * agent sends is lost. The guest side is /dev/virtio-ports/org.credscope.report. */
#pragma once

#define SERIAL_REPORT_PORT "org.credscope.report"

/* Connects to QEMU's socket at path, retrying until timeout_ms. Returns an fd or -errno. */
int serial_transport_connect(const char *path, int timeout_ms);
