/* transport: vsock / virtio-serial client with retry, framing and a strict ack parser. */
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "frame.h"
#include "parse.h"
#include "secret.h"
#include "strutil.h"
#include "systemd/proc_cmdline.h"

/* A CID or port: LEN decimal digits at S, strictly (parse_uint()), at most UINT32_MAX. */
static int parse_u32(const char *s, size_t len, unsigned *out)
{
	char buf[16];

	if (len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	return parse_uint(buf, 0, UINT32_MAX, out);
}

static int bad_dest(char **error, const char *text, const char *why)
{
	if (asprintf(error, "--to %s: %s (use vsock:CID:PORT or serial:NAME)", text, why) < 0)
		*error = NULL;
	return -EINVAL;
}

int report_dest_parse(const char *text, struct report_dest *d, char **error)
{
	memset(d, 0, sizeof *d);
	if (strncmp(text, "vsock:", 6) == 0) {
		const char *cid = text + 6, *colon = strchr(cid, ':');
		d->kind = DEST_VSOCK;
		if (!colon || parse_u32(cid, (size_t)(colon - cid), &d->cid) < 0)
			return bad_dest(error, text, "CID must be a decimal number");
		if (parse_u32(colon + 1, strlen(colon + 1), &d->port) < 0)
			return bad_dest(error, text, "PORT must be a decimal number");
		return 0;
	}
	if (strncmp(text, "serial:", 7) == 0) {
		const char *name = text + 7;
		d->kind = DEST_SERIAL;
		if (!name[0] || strlen(name) >= sizeof d->name || strchr(name, '/') ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			return bad_dest(error, text, "NAME must be a port name without '/'");
		strcpy(d->name, name);
		return 0;
	}
	return bad_dest(error, text, "unknown transport");
}

/* Bigger than any kernel's COMMAND_LINE_SIZE (x86-64: 2048, arm64: 4096, some: 64 KiB). */
#define CMDLINE_READ_MAX (1024u * 1024u)

char *cmdline_value(const char *root, const char *key)
{
	char *path = root_join(root, "/proc/cmdline"), *value = NULL;
	uint8_t *text = NULL;
	size_t len;
	int r;

	if (!path)
		return NULL;
	r = file_read_bounded(AT_FDCWD, path, CMDLINE_READ_MAX, &text, &len);
	free(path);
	if (r < 0)
		return NULL;
	/* systemd's own parser: quotes and '-'/'_' in keys as PID 1 reads them, last one wins */
	r = proc_cmdline_get_key_whole((const char *) text, key, &value);
	secret_free(text, len);   /* other words may carry credential values */
	if (r <= 0) {
		free(value);
		return NULL;
	}
	return value;
}

char *report_dest_from_cmdline(const char *root)
{
	return cmdline_value(root, "credscope.report");
}

static bool retryable(int e)
{
	return e == ECONNREFUSED || e == ENODEV || e == ETIMEDOUT || e == ECONNRESET ||
	       e == EAFNOSUPPORT || e == ENOENT || e == ENXIO || e == EINTR || e == EHOSTUNREACH ||
	       e == ENETUNREACH;
}

/* open() of a Unix socket fails with ENXIO: connect to it instead (a test's fake host). */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The port named NAME without udev: /sys/class/virtio-ports/vportNpM/name says each port's
 * name, and devtmpfs makes /dev/vportNpM as soon as virtio_console binds. 0 with PATH set, or
 * -ENOENT. */
static int serial_by_sysfs(const char *root, const char *name, char *path, size_t n)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/sys/class/virtio-ports", root);
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = -ENOENT;
	if (!d)
		return r;
	while (r < 0 && (de = readdir(d))) {
		char file[4400], *text = NULL;
		size_t len = 0;
		if (strncmp(de->d_name, "vport", 5))
			continue;
		snprintf(file, sizeof file, "%s/%s/name", dir, de->d_name);
		if (file_read_bounded(AT_FDCWD, file, 4096, (uint8_t **)&text, &len) < 0)
			continue;
		while (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (strcmp(text, name) == 0) {
			snprintf(path, n, "%s/dev/%s", root, de->d_name);
			r = 0;
		}
		free(text);
	}
	closedir(d);
	return r;
}

static int connect_once(const char *root, const struct report_dest *d, int connect_timeout_ms)
{
	if (d->kind == DEST_SERIAL) {
		const char *r = strcmp(root, "/") == 0 ? "" : root;
		char path[4096];
		snprintf(path, sizeof path, "%s%s%s", r, REPORT_SERIAL_DIR, d->name);
		int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		/* early in boot udev has not made the /dev/virtio-ports/ link yet */
		if (fd < 0 && errno == ENOENT && serial_by_sysfs(r, d->name, path, sizeof path) == 0)
			fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno == ENXIO)
			return connect_unix(path);
		return fd < 0 ? -errno : fd;
	}
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Linux's virtio transport sends no more than its own socket buffer (256 KiB by
	 * default) before the host returns credit; a report about many credentials is larger
	 * than that, and every credit round trip costs a TCG guest an interrupt. Best effort:
	 * a kernel that refuses keeps its default. */
	unsigned long long bufsize = REPORT_VSOCK_BUFFER;
	(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &bufsize, sizeof bufsize);
	(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &bufsize, sizeof bufsize);
	if (connect_timeout_ms > 0) {   /* the kernel's own wait for the host's answer, 2 s by default */
		struct timeval tv = { connect_timeout_ms / 1000, (connect_timeout_ms % 1000) * 1000 };
		(void)setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
	}
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = d->cid, .svm_port = d->port };
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Starts `modprobe -q DRIVER` for the channel, once, without waiting (transport.h). The child
 * is reaped by whoever outlives it: the agent exits soon after. */
static void load_driver(const char *root, const struct report_dest *d, int err, bool *started)
{
	const char *mod = d->kind == DEST_VSOCK ? "vmw_vsock_virtio_transport" : "virtio_console";
	bool missing = d->kind == DEST_VSOCK ? (err == ENODEV || err == EAFNOSUPPORT) : err == ENOENT;
	char *const argv[] = { "modprobe", "-q", (char *)mod, NULL };
	pid_t pid;

	if (*started || !missing || strcmp(root, "/"))
		return;
	*started = true;
	(void)posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ);
}

int transport_connect_once(const char *root, const struct report_dest *d, int connect_timeout_ms)
{
	return connect_once(root, d, connect_timeout_ms);
}

int transport_connect(const char *root, const struct report_dest *d, int timeout_ms)
{
	long long deadline = mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	long delay = 100;
	bool modprobe_started = false;
	for (;;) {
		int fd = connect_once(root, d, 0);
		if (fd >= 0 || !retryable(-fd))
			return fd;
		load_driver(root, d, -fd, &modprobe_started);
		long long left = deadline - mono_ms();
		if (left <= 0)
			return fd;
		long nap = delay < left ? delay : (long)left;
		struct timespec ts = { nap / 1000, (nap % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
}

int ack_parse(const char *buf, size_t len, struct ack *ack)
{
	json_error_t err;
	const char *key;
	json_t *v;
	memset(ack, 0, sizeof *ack);
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	int r = -EBADMSG;
	if (!o || !json_is_object(o))
		goto out;
	json_object_foreach(o, key, v)
		if (strcmp(key, "credscope-ack") && strcmp(key, "status") && strcmp(key, "message"))
			goto out;
	v = json_object_get(o, "credscope-ack");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		goto out;
	v = json_object_get(o, "status");
	if (!json_is_string(v) || !(ack->status = strdup(json_string_value(v))))
		goto out;
	v = json_object_get(o, "message");
	if (v && (!json_is_string(v) || !(ack->message = strdup(json_string_value(v)))))
		goto out;
	ack->ok = strcmp(ack->status, "ok") == 0;
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		ack_free(ack);
	return r;
}

void ack_free(struct ack *ack)
{
	free(ack->status);
	free(ack->message);
	memset(ack, 0, sizeof *ack);
}

int transport_exchange(int fd, const char *report, size_t len, int timeout_ms, struct ack *ack)
{
	uint8_t *buf = NULL;
	size_t blen = 0;
	int r = frame_write(fd, report, len);
	if (r < 0)
		return r;
	r = frame_read(fd, TRANSPORT_ACK_MAX, timeout_ms, &buf, &blen);
	if (r < 0)
		return r;
	r = ack_parse((const char *)buf, blen, ack);
	free(buf);
	return r;
}
