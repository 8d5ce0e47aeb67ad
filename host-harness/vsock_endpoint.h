/* vsock_endpoint: which kind of host endpoint a VM's vsock gets, chosen by probing, with a
 * sentence saying why (the harness prints it).
 *   kernel       -device vhost-vsock-pci,guest-cid=N; the host listens on AF_VSOCK.
 *                Only where /dev/vhost-vsock opens AND accepts VHOST_SET_OWNER AND the
 *                host can create AF_VSOCK sockets.
 *   vhost-user   our own backend (vsock_backend.h) behind -device vhost-user-vsock-pci.
 *   ch-hybrid    cloud-hypervisor's own Unix socket (--vsock cid=N,socket=PATH). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum vsock_endpoint_kind { VSOCK_ENDPOINT_KERNEL, VSOCK_ENDPOINT_VHOST_USER, VSOCK_ENDPOINT_CH_HYBRID };

const char *vsock_endpoint_kind_name(enum vsock_endpoint_kind k);

/* Probes the kernel path; on false, why (if not NULL) says what was missing. */
bool vsock_endpoint_kernel_usable(char *why, size_t why_len);

/* The endpoint for a QEMU VM (cloud_hypervisor false) or a cloud-hypervisor VM. why
 * receives one sentence for the output, e.g. "vhost-user (own backend): /dev/vhost-vsock:
 * No such file or directory". $CREDSCOPE_VSOCK=kernel|vhost-user forces a kind for QEMU. */
enum vsock_endpoint_kind vsock_endpoint_choose(bool cloud_hypervisor, char *why, size_t why_len);
