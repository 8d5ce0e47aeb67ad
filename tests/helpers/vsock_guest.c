/* vsock_guest: the guest half of the vsock VM tests. Built statically and run as /init of
 * a small initramfs (or as a program in a full guest). It loads the virtio/vsock modules
 * listed in /modules.list, connects to CID 2 port P (vsockguest.port=P on the kernel
 * command line, default 7000), says "HELLO <boot id>\n" and runs the host's commands:
 *   STREAM n mib     n parallel connections to port P+1; each sends a 4-byte index i,
 *                    mib MiB of pattern(i), then "HASH <sha256 of what it received>\n"
 *                    (mib MiB of pattern(1000+i) expected from the host)
 *   SEND mib [kib]   one connection to port P+1 (index 0xffffffff) sending mib MiB; with
 *                    kib, the socket buffer (SO_VM_SOCKETS_BUFFER_SIZE) is set to kib KiB
 *   SERIAL mib       writes mib MiB of pattern(7) to the first virtio-serial port
 *   CONNECT_RST p    connects to CID 2 port p and expects ECONNRESET
 *   LISTEN p         listens on vsock port p, says READY, echoes one connection
 *   REBOOT, POWEROFF
 * Each command is answered by one "DONE ..." line. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "vsock_test_io.h"

static unsigned base_port = 7000;

static void say(const char *what, const char *a)
{
	fprintf(stderr, "vsock_guest: %s %s\n", what, a);
}

static int vsock_connect_buf(unsigned port, unsigned long long bufsize);

static int vsock_connect(unsigned port)
{
	return vsock_connect_buf(port, 0);
}

static void load_modules(void)
{
	char name[256];
	FILE *f = fopen("/modules.list", "r");

	if (!f)
		return;
	while (fgets(name, sizeof(name), f)) {
		int fd;
		name[strcspn(name, "\n")] = 0;
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
			say("cannot load module", name);
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

static int vsock_connect_buf(unsigned port, unsigned long long bufsize)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bufsize && (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &bufsize, sizeof(bufsize)) < 0 ||
			setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &bufsize, sizeof(bufsize)) < 0))
		say("cannot set the vsock buffer size:", strerror(errno));
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

struct stream_job { unsigned index; uint64_t bytes; pthread_t reader; int fd; char hash[65]; int ok; };

static void *stream_reader(void *arg)
{
	struct stream_job *j = arg;

	j->ok = hash_stream(j->fd, j->bytes, j->hash, NULL, NULL) == j->bytes;
	return NULL;
}

static void *stream_thread(void *arg)
{
	struct stream_job *j = arg;
	uint32_t idx_be = htobe32(j->index);
	char line[80];

	j->ok = 0;
	j->fd = vsock_connect(base_port + 1);
	if (j->fd < 0)
		return NULL;
	if (write_all(j->fd, &idx_be, 4) < 0 || pthread_create(&j->reader, NULL, stream_reader, j) != 0) {
		close(j->fd);
		return NULL;
	}
	if (send_pattern(j->fd, j->index, j->bytes) < 0) {
		shutdown(j->fd, SHUT_RDWR);
		pthread_join(j->reader, NULL);
		close(j->fd);
		j->ok = 0;
		return NULL;
	}
	pthread_join(j->reader, NULL);
	snprintf(line, sizeof(line), "HASH %s\n", j->hash);
	if (write_all(j->fd, line, strlen(line)) < 0)
		j->ok = 0;
	shutdown(j->fd, SHUT_WR);
	/* wait for the host to close so nothing is cut short */
	while (read(j->fd, line, sizeof(line)) > 0)
		;
	close(j->fd);
	return NULL;
}

static int cmd_stream(unsigned n, unsigned mib)
{
	struct stream_job jobs[64];
	pthread_t th[64];
	int ok = 1;

	if (n == 0 || n > 64)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		jobs[i] = (struct stream_job) { .index = i, .bytes = (uint64_t) mib * MIB };
		pthread_create(&th[i], NULL, stream_thread, &jobs[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		ok &= jobs[i].ok;
	}
	return ok;
}

static int cmd_send(unsigned mib, unsigned kib)
{
	uint32_t idx_be = htobe32(0xffffffffu);
	int fd = vsock_connect_buf(base_port + 1, (unsigned long long) kib * 1024), ok;

	if (fd < 0)
		return 0;
	ok = write_all(fd, &idx_be, 4) == 0 && send_pattern(fd, 5, (uint64_t) mib * MIB) == 0;
	close(fd);
	return ok;
}

static int cmd_serial(unsigned mib)
{
	glob_t g;
	int fd, ok;

	if (glob("/dev/vport*p*", 0, NULL, &g) != 0 || g.gl_pathc == 0)
		return 0;
	fd = open(g.gl_pathv[0], O_WRONLY | O_CLOEXEC);
	globfree(&g);
	if (fd < 0)
		return 0;
	ok = send_pattern(fd, 7, (uint64_t) mib * MIB) == 0;
	close(fd);
	return ok;
}

static int cmd_listen(int ctl, unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	uint8_t buf[PATTERN_CHUNK];
	int l = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
	ssize_t n;

	if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 4) < 0)
		return 0;
	write_all(ctl, "READY\n", 6);
	c = accept(l, NULL, NULL);
	close(l);
	if (c < 0)
		return 0;
	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write_all(c, buf, (size_t) n) < 0)
			break;
	close(c);
	return n == 0;
}

static void parse_cmdline(void)
{
	char buf[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n > 0)
		buf[n] = 0;
	p = strstr(buf, "vsockguest.port=");
	if (p)
		base_port = (unsigned) strtoul(p + 16, NULL, 10);
}

static int connect_control(void)
{
	for (int tries = 0; tries < 600; tries++) {
		int fd = vsock_connect(base_port);
		if (fd >= 0)
			return fd;
		usleep(100 * 1000);
	}
	return -1;
}

static int run_command(int ctl, const char *line)
{
	unsigned a = 0, b = 0;
	char reply[96];
	int ok;

	if (sscanf(line, "STREAM %u %u", &a, &b) == 2)
		ok = cmd_stream(a, b);
	else if (sscanf(line, "SEND %u %u", &a, &b) >= 1)
		ok = cmd_send(a, b);
	else if (sscanf(line, "SERIAL %u", &a) == 1)
		ok = cmd_serial(a);
	else if (sscanf(line, "CONNECT_RST %u", &a) == 1) {
		int fd = vsock_connect(a);
		ok = fd == -ECONNRESET;
		if (fd >= 0)
			close(fd);
	} else if (sscanf(line, "LISTEN %u", &a) == 1)
		ok = cmd_listen(ctl, a);
	else if (strcmp(line, "REBOOT") == 0) {
		sync();
		reboot(RB_AUTOBOOT);
		ok = 0;
	} else if (strcmp(line, "POWEROFF") == 0) {
		sync();
		reboot(RB_POWER_OFF);
		ok = 0;
	} else
		ok = 0;
	snprintf(reply, sizeof(reply), "DONE %s\n", ok ? "ok" : "fail");
	return write_all(ctl, reply, strlen(reply));
}

int main(void)
{
	char line[256], boot_id[64] = "unknown";
	int fd;

	if (getpid() == 1) {
		mount("proc", "/proc", "proc", 0, NULL);
		mount("sysfs", "/sys", "sysfs", 0, NULL);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	}
	load_modules();
	parse_cmdline();
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, boot_id, sizeof(boot_id) - 1);
		boot_id[n > 0 ? n - 1 : 0] = 0;
		close(fd);
	}
	for (;;) {
		int ctl = connect_control();
		if (ctl < 0)
			break;
		snprintf(line, sizeof(line), "HELLO %s\n", boot_id);
		write_all(ctl, line, strlen(line));
		while (read_line(ctl, line, sizeof(line)) == 0)
			if (run_command(ctl, line) < 0)
				break;
		close(ctl);
	}
	say("no host control connection;", "powering off");
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 1;
}
