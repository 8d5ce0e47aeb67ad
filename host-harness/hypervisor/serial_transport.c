/* serial_transport: connecting to QEMU's virtio-serial chardev socket. */
#include "hypervisor/serial_transport.h"

#include "clock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int serial_transport_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long start = mono_ms();
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (mono_ms() - start >= timeout_ms)
			return -e;
		usleep(20 * 1000);
	}
}
