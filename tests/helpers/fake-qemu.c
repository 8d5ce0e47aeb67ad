/* fake-qemu: a stand-in for qemu-system-x86_64 that credscope-harness runs with --qemu,
 * so fault-injection tests (tests/integration/faults.test) control the "guest" exactly.
 *
 * It reads the argv the harness builds (hypervisor/qemu.c qemu_build_argv): -qmp
 * unix:PATH,server=on,wait=off, -chardev file,id=console,path=PATH, -chardev
 * socket,id=report,path=PATH,server=on,wait=off (the virtio-serial report port) and
 * -append WORDS. It serves a minimal QMP (greeting, qmp_capabilities, quit and
 * system_powerdown end it), writes the kernel and systemd lines the harness reads its
 * boot phases from (runner/console.c) into the console file, and on the report socket
 * does what the kernel word fake.report=MODE asks once the harness has connected:
 *
 *   silent        nothing: the connection stays open and quiet
 *   truncated     a frame header announcing 2000 bytes, 1000 of them, then it closes
 *   stall         the same 1000 bytes, then silence with the connection open
 *   garbage-after a well-formed frame followed by 64 bytes that are no frame
 *   huge          a header announcing 100 MiB, then 100 MiB streamed
 *   kill-mid      the 1000 bytes of "truncated", then SIGKILL to itself
 *
 * It never opens the -smbios / -fw_cfg memfds: no secret passes through it. Without a
 * -kernel (the harness's KVM probe) it exits 1 at once: "no KVM", the probe says TCG.
 * A vhost-user vsock chardev is refused (exit 1, use --transport serial). It exits by
 * itself after 120 s, so a broken test cannot leave it running. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HUGE_LEN (100u * 1024u * 1024u)
#define CUT_ANNOUNCED 2000u
#define CUT_SENT 1000u
#define LIFETIME_S 120

struct fake {
	char *qmp_path, *console_path, *report_path, *mode;
	bool vsock;
	int qmp_listen, qmp_fd, report_listen, report_fd;
	char qmp_buf[4096];
	size_t qmp_len;
	/* what is still to be written to the report connection */
	uint8_t *out;
	size_t out_len, out_off, stream_left;
	bool close_after, kill_after;
};

/* QEMU's option values double their commas: "a,,b" is "a,b". Returns the value of KEY= in
 * the comma list OPT (malloc'd), or NULL. */
static char *opt_value(const char *opt, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = opt; *p;) {
		const char *start = p;
		char *v = malloc(strlen(opt) + 1), *o = v;
		for (; *p; p++) {
			if (*p == ',' && p[1] == ',') {
				*o++ = ',', p++;
				continue;
			}
			if (*p == ',')
				break;
			*o++ = *p;
		}
		*o = 0;
		if (*p == ',')
			p++;
		if (strncmp(v, key, kl) == 0 && v[kl] == '=') {
			memmove(v, v + kl + 1, strlen(v + kl + 1) + 1);
			return v;
		}
		free(v);
		if (p == start)
			break;
	}
	return NULL;
}

static void parse_chardev(struct fake *f, const char *opt)
{
	char *id = opt_value(opt, "id");
	if (id && strcmp(id, "console") == 0)
		f->console_path = opt_value(opt, "path");
	else if (id && strcmp(id, "report") == 0)
		f->report_path = opt_value(opt, "path");
	else if (id && strcmp(id, "vsock") == 0)
		f->vsock = true;
	free(id);
}

static void parse_append(struct fake *f, const char *words)
{
	const char *m = strstr(words, "fake.report=");
	if (!m)
		return;
	m += strlen("fake.report=");
	f->mode = strndup(m, strcspn(m, " "));
}

static void parse_argv(struct fake *f, int argc, char **argv, bool *have_kernel)
{
	for (int i = 1; i + 1 < argc; i++) {
		const char *o = argv[i], *v = argv[i + 1];
		if (strcmp(o, "-qmp") == 0 && strncmp(v, "unix:", 5) == 0) {
			f->qmp_path = strndup(v + 5, strcspn(v + 5, ","));
		} else if (strcmp(o, "-chardev") == 0) {
			parse_chardev(f, strchr(v, ',') ? strchr(v, ',') + 1 : v);
		} else if (strcmp(o, "-append") == 0) {
			parse_append(f, v);
		} else if (strcmp(o, "-kernel") == 0) {
			*have_kernel = true;
		} else
			continue;
		i++;
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void console_write(const struct fake *f, const char *line)
{
	int fd = open(f->console_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	(void)!write(fd, line, strlen(line));
	close(fd);
}

static void qmp_send(int fd, const char *s)
{
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* Handles complete QMP lines; returns true when asked to quit. */
static bool qmp_input(struct fake *f)
{
	ssize_t n = read(f->qmp_fd, f->qmp_buf + f->qmp_len, sizeof f->qmp_buf - 1 - f->qmp_len);
	char *nl;
	if (n <= 0) {
		close(f->qmp_fd);
		f->qmp_fd = -1;
		return false;
	}
	f->qmp_len += (size_t)n;
	f->qmp_buf[f->qmp_len] = 0;
	while ((nl = strchr(f->qmp_buf, '\n'))) {
		*nl = 0;
		bool quit = strstr(f->qmp_buf, "\"quit\"") || strstr(f->qmp_buf, "\"system_powerdown\"");
		qmp_send(f->qmp_fd, "{\"return\": {}}\r\n");
		if (quit)
			return true;
		f->qmp_len -= (size_t)(nl + 1 - f->qmp_buf);
		memmove(f->qmp_buf, nl + 1, f->qmp_len + 1);
	}
	if (f->qmp_len == sizeof f->qmp_buf - 1)
		f->qmp_len = 0;
	return false;
}

static void put_header(uint8_t *p, uint32_t len)
{
	p[0] = (uint8_t)(len >> 24), p[1] = (uint8_t)(len >> 16), p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
}

/* The bytes MODE sends once the harness is connected. */
static void plan_report(struct fake *f)
{
	static const char body[] = "{\"credscope-report\":1,\"verdict\":\"pass\"}";
	const char *m = f->mode ? f->mode : "silent";
	if (strcmp(m, "truncated") == 0 || strcmp(m, "stall") == 0 || strcmp(m, "kill-mid") == 0) {
		f->out = calloc(1, 4 + CUT_SENT);
		put_header(f->out, CUT_ANNOUNCED);
		memset(f->out + 4, '{', CUT_SENT);
		f->out_len = 4 + CUT_SENT;
		f->close_after = strcmp(m, "truncated") == 0;
		f->kill_after = strcmp(m, "kill-mid") == 0;
	} else if (strcmp(m, "garbage-after") == 0) {
		f->out_len = 4 + sizeof body - 1 + 64;
		f->out = malloc(f->out_len);
		put_header(f->out, sizeof body - 1);
		memcpy(f->out + 4, body, sizeof body - 1);
		memset(f->out + 4 + sizeof body - 1, 'G', 64);
	} else if (strcmp(m, "huge") == 0) {
		f->out = malloc(4);
		put_header(f->out, HUGE_LEN);
		f->out_len = 4;
		f->stream_left = HUGE_LEN;
	}
}

/* Writes what it can without blocking; returns false when the connection is gone. */
static bool report_output(struct fake *f)
{
	static uint8_t chunk[65536];
	while (f->out_off < f->out_len || f->stream_left) {
		const uint8_t *p = f->out_off < f->out_len ? f->out + f->out_off : chunk;
		size_t len = f->out_off < f->out_len ? f->out_len - f->out_off :
			     f->stream_left < sizeof chunk ? f->stream_left : sizeof chunk;
		if (p == chunk)
			memset(chunk, 'x', sizeof chunk);
		ssize_t n = send(f->report_fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (f->out_off < f->out_len)
			f->out_off += (size_t)n;
		else
			f->stream_left -= (size_t)n;
	}
	if (f->kill_after)
		raise(SIGKILL);   /* QEMU dying in the middle of the report */
	if (f->close_after) {
		close(f->report_fd);
		f->report_fd = -1;
	}
	return true;
}

static void boot_console(const struct fake *f)
{
	console_write(f, "[    0.000000] Linux version 6.1.0-fake (fake-qemu) #1 SMP\n");
	console_write(f, "[    0.000000] Command line: (fake-qemu does not echo it)\n");
	console_write(f, "[    1.000000] systemd[1]: Welcome to fake-qemu!\n");
}

/* Monotonic: the clock-step fault shifts the wall clock of every process it preloads. */
static long long mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int serve(struct fake *f)
{
	long long end = mono_s() + LIFETIME_S;
	bool booted = false;
	while (mono_s() < end) {
		struct pollfd p[4] = { { f->qmp_listen, POLLIN, 0 }, { f->qmp_fd, POLLIN, 0 }, { f->report_listen, POLLIN, 0 },
				       { f->report_fd, (short)(f->out_off < f->out_len || f->stream_left ? POLLOUT : 0), 0 } };
		if (poll(p, 4, 1000) < 0 && errno != EINTR)
			return 1;
		if ((p[0].revents & POLLIN) && f->qmp_fd < 0) {
			f->qmp_fd = accept4(f->qmp_listen, NULL, NULL, SOCK_CLOEXEC);
			qmp_send(f->qmp_fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 0}, "
					    "\"package\": \"fake-qemu\"}, \"capabilities\": []}}\r\n");
		}
		if ((p[1].revents & (POLLIN | POLLHUP)) && qmp_input(f))
			return 0;
		if ((p[2].revents & POLLIN) && f->report_fd < 0) {
			f->report_fd = accept4(f->report_listen, NULL, NULL, SOCK_CLOEXEC);
			plan_report(f);
		}
		if (!booted && f->qmp_fd >= 0) {   /* the harness is connected: the "kernel" runs */
			boot_console(f);
			booted = true;
		}
		if (f->report_fd >= 0 && (f->out_off < f->out_len || f->stream_left) && !report_output(f)) {
			close(f->report_fd);
			f->report_fd = -1;
			f->stream_left = 0, f->out_off = f->out_len;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct fake f = { .qmp_listen = -1, .qmp_fd = -1, .report_listen = -1, .report_fd = -1 };
	bool have_kernel = false;

	signal(SIGPIPE, SIG_IGN);
	parse_argv(&f, argc, argv, &have_kernel);
	if (!have_kernel)
		return 1;   /* the KVM probe: no KVM here */
	if (f.vsock) {
		fprintf(stderr, "fake-qemu: vhost-user-vsock is not supported, use --transport serial\n");
		return 1;
	}
	if (!f.qmp_path || !f.console_path || (f.qmp_listen = listen_unix(f.qmp_path)) < 0) {
		fprintf(stderr, "fake-qemu: needs -qmp unix:PATH,server=on and a console file chardev\n");
		return 1;
	}
	if (f.report_path && (f.report_listen = listen_unix(f.report_path)) < 0) {
		fprintf(stderr, "fake-qemu: cannot listen on %s: %s\n", f.report_path, strerror(errno));
		return 1;
	}
	int rc = serve(&f);
	if (f.report_path)
		unlink(f.report_path);
	unlink(f.qmp_path);
	return rc;
}
