/* vsock_endpoint: see vsock_endpoint.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_endpoint.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

const char *vsock_endpoint_kind_name(enum vsock_endpoint_kind k)
{
	switch (k) {
	case VSOCK_ENDPOINT_KERNEL: return "kernel vhost-vsock";
	case VSOCK_ENDPOINT_VHOST_USER: return "vhost-user (own backend)";
	case VSOCK_ENDPOINT_CH_HYBRID: return "cloud-hypervisor hybrid vsock";
	}
	return "unknown";
}

static void say(char *why, size_t why_len, const char *what, int err)
{
	if (why && why_len)
		snprintf(why, why_len, "%s: %s", what, strerror(err));
}

bool vsock_endpoint_kernel_usable(char *why, size_t why_len)
{
	int fd, s;

	/* Existing is not enough: containers expose the node without permission, and
	 * SET_OWNER fails where the vhost worker cannot be created. */
	fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		say(why, why_len, "/dev/vhost-vsock", errno);
		return false;
	}
	if (ioctl(fd, VHOST_SET_OWNER, NULL) < 0) {
		say(why, why_len, "/dev/vhost-vsock VHOST_SET_OWNER", errno);
		close(fd);
		return false;
	}
	close(fd);
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		say(why, why_len, "AF_VSOCK socket", errno);
		return false;
	}
	close(s);
	if (why && why_len)
		snprintf(why, why_len, "/dev/vhost-vsock accepts VHOST_SET_OWNER and AF_VSOCK works");
	return true;
}

enum vsock_endpoint_kind vsock_endpoint_choose(bool cloud_hypervisor, char *why, size_t why_len)
{
	const char *force = getenv("CREDSCOPE_VSOCK");
	char detail[160];

	if (cloud_hypervisor) {
		if (why && why_len)
			snprintf(why, why_len, "%s: the VMM serves vsock on its own Unix socket",
				 vsock_endpoint_kind_name(VSOCK_ENDPOINT_CH_HYBRID));
		return VSOCK_ENDPOINT_CH_HYBRID;
	}
	if (force && strcmp(force, "vhost-user") == 0) {
		if (why && why_len)
			snprintf(why, why_len, "%s: forced by CREDSCOPE_VSOCK", vsock_endpoint_kind_name(VSOCK_ENDPOINT_VHOST_USER));
		return VSOCK_ENDPOINT_VHOST_USER;
	}
	if (vsock_endpoint_kernel_usable(detail, sizeof(detail)) || (force && strcmp(force, "kernel") == 0)) {
		if (why && why_len)
			snprintf(why, why_len, "%s: %s", vsock_endpoint_kind_name(VSOCK_ENDPOINT_KERNEL), detail);
		return VSOCK_ENDPOINT_KERNEL;
	}
	if (why && why_len)
		snprintf(why, why_len, "%s: %s", vsock_endpoint_kind_name(VSOCK_ENDPOINT_VHOST_USER), detail);
	return VSOCK_ENDPOINT_VHOST_USER;
}
