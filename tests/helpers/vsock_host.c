/* vsock_host: the host half of the vsock VM tests (see vsock_guest.c for the protocol).
 *   vsock_host --uds PATH [--port P] [--serial SOCKET] [--timeout SEC] STEP...
 * It listens on PATH_P (control) and PATH_<P+1> (data) like a hybrid-vsock host service,
 * waits for the guest's HELLO and runs the steps in order:
 *   stream N MIB          N connections at once, MIB MiB each way, SHA-256 checked both ways
 *   reboot-mid-stream MIB reboot the guest while a stream runs; expect a new HELLO
 *   send MIB | serial MIB guest -> host throughput over vsock | the virtio-serial SOCKET
 *   send-buf MIB KIB      send with the guest's vsock socket buffer set to KIB KiB
 *   rst PORT              guest connects to a port nobody listens on: must get ECONNRESET
 *   listen PORT MIB       host-initiated connection via "CONNECT PORT": echo of MIB MiB
 *   poweroff
 *   vsock_host --uds PATH --receive-report PORT OUT [--timeout SEC]
 * instead receives one framed report (docs/report.md) on PATH_PORT, writes it to OUT and
 * answers with an ok ack.
 * Prints one PASS/FAIL line per step (and THROUGHPUT lines); exit 0 if all passed. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "vsock/hybrid_vsock.h"
#include "vsock_test_io.h"

static const char *uds;
static const char *serial_path;
static unsigned port = 7000;
static int timeout_s = 300;
static int ctl_listen = -1, data_listen = -1, ctl = -1, serial_fd = -1;
static char boot_id[64];
/* --cpu-pid PID (repeatable): report the CPU time these processes used per throughput step */
static int cpu_pids[4], n_cpu_pids;

/* CPU time of every thread of the --cpu-pid processes, from /proc/PID/task/TID/schedstat
 * (nanoseconds, unlike the 10 ms ticks of /proc/PID/stat). */
static double cpu_seconds(void)
{
	unsigned long long total = 0;

	for (int i = 0; i < n_cpu_pids; i++) {
		char path[64];
		struct dirent *e;
		DIR *dir;

		snprintf(path, sizeof(path), "/proc/%d/task", cpu_pids[i]);
		dir = opendir(path);
		if (!dir)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char stat_path[320];
			unsigned long long ns;
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(stat_path, sizeof(stat_path), "/proc/%d/task/%s/schedstat", cpu_pids[i], e->d_name);
			f = fopen(stat_path, "r");
			if (!f)
				continue;
			if (fscanf(f, "%llu", &ns) == 1)
				total += ns;
			fclose(f);
		}
		closedir(dir);
	}
	return (double) total / 1e9;
}

static int listen_port(unsigned p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = sa.sun_path;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", uds, p) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vsock_host: socket path %s_%u too long\n", uds, p);
		exit(2);
	}
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		fprintf(stderr, "vsock_host: cannot listen on %s: %m\n", path);
		exit(2);
	}
	return fd;
}

static int accept_within(int lfd, int secs)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = timeout_s };
	int fd;

	if (poll(&p, 1, secs * 1000) <= 0)
		return -1;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void pattern_hash(uint64_t seed, uint64_t bytes, char out[65])
{
	static __thread uint8_t buf[PATTERN_CHUNK];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	struct pattern p;
	uint8_t md[32];

	pattern_init(&p, seed);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (uint64_t done = 0; done < bytes; done += PATTERN_CHUNK) {
		pattern_fill(&p, buf, PATTERN_CHUNK);
		EVP_DigestUpdate(c, buf, PATTERN_CHUNK);
	}
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	sha256_hex(md, out);
}

static int command(const char *fmt_line)
{
	char line[128];

	if (write_all(ctl, fmt_line, strlen(fmt_line)) < 0)
		return -1;
	if (read_line(ctl, line, sizeof(line)) < 0)
		return -1;
	return strcmp(line, "DONE ok") == 0 ? 0 : -1;
}

static int wait_hello(void)
{
	char line[128];

	ctl = accept_within(ctl_listen, timeout_s);
	if (ctl < 0 || read_line(ctl, line, sizeof(line)) < 0 || strncmp(line, "HELLO ", 6) != 0) {
		fprintf(stderr, "vsock_host: no HELLO from the guest within %d s\n", timeout_s);
		return -1;
	}
	snprintf(boot_id, sizeof(boot_id), "%.63s", line + 6);
	return 0;
}

struct writer { int fd; uint64_t seed, bytes; pthread_t th; int shut; };

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	send_pattern(w->fd, w->seed, w->bytes);
	if (w->shut)
		shutdown(w->fd, SHUT_WR);
	return NULL;
}

struct conn_job { int fd; uint64_t bytes; int ok; pthread_t th; };

static void *conn_job_main(void *arg)
{
	struct conn_job *j = arg;
	char got[65], want[65], line[128];
	uint32_t idx_be;
	struct writer w = { .fd = j->fd, .bytes = j->bytes };

	j->ok = 0;
	if (read_full(j->fd, &idx_be, 4) < 0)
		return NULL;
	w.seed = 1000 + be32toh(idx_be);
	pthread_create(&w.th, NULL, writer_main, &w);
	if (hash_stream(j->fd, j->bytes, got, NULL, NULL) == j->bytes) {
		pattern_hash(be32toh(idx_be), j->bytes, want);
		j->ok = strcmp(got, want) == 0;
		if (!j->ok)
			fprintf(stderr, "vsock_host: conn %u: guest->host sha256 %s, expected %s\n", be32toh(idx_be), got, want);
	}
	pthread_join(w.th, NULL);
	pattern_hash(w.seed, j->bytes, want);
	if (read_line(j->fd, line, sizeof(line)) < 0 || strncmp(line, "HASH ", 5) != 0 || strcmp(line + 5, want) != 0) {
		fprintf(stderr, "vsock_host: conn %u: guest reports '%s', expected HASH %s\n", be32toh(idx_be), line, want);
		j->ok = 0;
	}
	close(j->fd);
	return NULL;
}

static int step_stream(unsigned n, unsigned mib)
{
	struct conn_job jobs[64];
	char cmd[64];
	int ok = 1;

	if (n == 0 || n > 64)
		return -1;
	snprintf(cmd, sizeof(cmd), "STREAM %u %u\n", n, mib);
	if (write_all(ctl, cmd, strlen(cmd)) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		jobs[i] = (struct conn_job) { .fd = accept_within(data_listen, 60), .bytes = (uint64_t) mib * MIB };
		if (jobs[i].fd < 0)
			return -1;
		pthread_create(&jobs[i].th, NULL, conn_job_main, &jobs[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(jobs[i].th, NULL);
		ok &= jobs[i].ok;
	}
	if (read_line(ctl, cmd, sizeof(cmd)) < 0 || strcmp(cmd, "DONE ok") != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int step_reboot_mid_stream(unsigned mib)
{
	char cmd[64], old_boot[64], got[65];
	uint32_t idx_be;
	struct writer w;
	int fd;

	snprintf(cmd, sizeof(cmd), "STREAM 1 %u\n", mib);
	if (write_all(ctl, cmd, strlen(cmd)) < 0 || (fd = accept_within(data_listen, 60)) < 0 ||
	    read_full(fd, &idx_be, 4) < 0)
		return -1;
	w = (struct writer) { .fd = fd, .seed = 1000, .bytes = (uint64_t) mib * MIB };
	pthread_create(&w.th, NULL, writer_main, &w);
	if (hash_stream(fd, 2 * MIB, got, NULL, NULL) != 2 * MIB)
		return -1;
	write_all(ctl, "REBOOT\n", 7);
	/* the stream must end (the backend drops it when the guest driver restarts) */
	hash_stream(fd, (uint64_t) mib * MIB, got, NULL, NULL);
	shutdown(fd, SHUT_RDWR);
	pthread_join(w.th, NULL);
	close(fd);
	close(ctl);
	snprintf(old_boot, sizeof(old_boot), "%s", boot_id);
	if (wait_hello() < 0)
		return -1;
	printf("guest rebooted: boot id %s -> %s\n", old_boot, boot_id);
	return strcmp(old_boot, boot_id) != 0 ? 0 : -1;
}

static int timed_receive(int fd, uint64_t seed, unsigned mib, const char *what)
{
	char got[65], want[65];
	double first = 0, last = 0, cpu0 = cpu_seconds();
	uint64_t n = hash_stream(fd, (uint64_t) mib * MIB, got, &first, &last);
	double cpu = cpu_seconds() - cpu0;

	pattern_hash(seed, (uint64_t) mib * MIB, want);
	if (n != (uint64_t) mib * MIB || strcmp(got, want) != 0) {
		fprintf(stderr, "vsock_host: %s: got %llu bytes sha256 %s, expected %u MiB sha256 %s\n",
			what, (unsigned long long) n, got, mib, want);
		return -1;
	}
	printf("THROUGHPUT %s %u MiB %.3f s %.2f MiB/s", what, mib, last - first,
	       last > first ? mib / (last - first) : 0.0);
	if (n_cpu_pids > 0) {
		printf(" (pid ");
		for (int i = 0; i < n_cpu_pids; i++)
			printf("%s%d", i ? "+" : "", cpu_pids[i]);
		printf(" used %.3f s CPU)", cpu);
	}
	printf("\n");
	return 0;
}

static int step_send(unsigned mib, unsigned kib)
{
	char what[32];
	char cmd[64];
	uint32_t idx_be;
	int fd, r;

	snprintf(cmd, sizeof(cmd), "SEND %u %u\n", mib, kib);
	if (write_all(ctl, cmd, strlen(cmd)) < 0 || (fd = accept_within(data_listen, 60)) < 0 ||
	    read_full(fd, &idx_be, 4) < 0)
		return -1;
	snprintf(what, sizeof(what), "vsock-buf%uK", kib);
	r = timed_receive(fd, 5, mib, kib ? what : "vsock");
	close(fd);
	if (read_line(ctl, cmd, sizeof(cmd)) < 0 || strcmp(cmd, "DONE ok") != 0)
		return -1;
	return r;
}

static int step_serial(unsigned mib)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cmd[64];
	int r;

	if (!serial_path)
		return -1;
	if (serial_fd < 0) {
		struct timeval tv = { .tv_sec = timeout_s };
		serial_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", serial_path);
		if (connect(serial_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
			fprintf(stderr, "vsock_host: cannot connect to %s: %m\n", serial_path);
			return -1;
		}
		setsockopt(serial_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	snprintf(cmd, sizeof(cmd), "SERIAL %u\n", mib);
	if (write_all(ctl, cmd, strlen(cmd)) < 0)
		return -1;
	r = timed_receive(serial_fd, 7, mib, "virtio-serial");
	if (read_line(ctl, cmd, sizeof(cmd)) < 0 || strcmp(cmd, "DONE ok") != 0)
		return -1;
	return r;
}

static int step_listen(unsigned p, unsigned mib)
{
	char cmd[64], got[65], want[65];
	struct writer w;
	int fd;

	snprintf(cmd, sizeof(cmd), "LISTEN %u\n", p);
	if (write_all(ctl, cmd, strlen(cmd)) < 0 || read_line(ctl, cmd, sizeof(cmd)) < 0 || strcmp(cmd, "READY") != 0)
		return -1;
	fd = hybrid_dial(uds, p, 10000);
	if (fd < 0) {
		fprintf(stderr, "vsock_host: CONNECT %u through %s failed: %s\n", p, uds, strerror(-fd));
		return -1;
	}
	w = (struct writer) { .fd = fd, .seed = 9, .bytes = (uint64_t) mib * MIB, .shut = 1 };
	pthread_create(&w.th, NULL, writer_main, &w);
	hash_stream(fd, (uint64_t) mib * MIB, got, NULL, NULL);
	pthread_join(w.th, NULL);
	close(fd);
	pattern_hash(9, (uint64_t) mib * MIB, want);
	if (read_line(ctl, cmd, sizeof(cmd)) < 0 || strcmp(cmd, "DONE ok") != 0 || strcmp(got, want) != 0)
		return -1;
	return 0;
}

static int run_step(char **argv, int argc, int *used)
{
	unsigned a = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 0;
	unsigned b = argc > 2 ? (unsigned) strtoul(argv[2], NULL, 10) : 0;
	char cmd[64];

	*used = 1;
	if (strcmp(argv[0], "stream") == 0 && argc > 2) {
		*used = 3;
		return step_stream(a, b);
	}
	if (strcmp(argv[0], "send-buf") == 0 && argc > 2) {
		*used = 3;
		return step_send(a, b);
	}
	if (strcmp(argv[0], "listen") == 0 && argc > 2) {
		*used = 3;
		return step_listen(a, b);
	}
	*used = 2;
	if (strcmp(argv[0], "reboot-mid-stream") == 0 && argc > 1)
		return step_reboot_mid_stream(a);
	if (strcmp(argv[0], "send") == 0 && argc > 1)
		return step_send(a, 0);
	if (strcmp(argv[0], "serial") == 0 && argc > 1)
		return step_serial(a);
	if (strcmp(argv[0], "rst") == 0 && argc > 1) {
		snprintf(cmd, sizeof(cmd), "CONNECT_RST %u\n", a);
		return command(cmd);
	}
	*used = 1;
	if (strcmp(argv[0], "poweroff") == 0) {
		write_all(ctl, "POWEROFF\n", 9);
		return read_line(ctl, cmd, sizeof(cmd)) < 0 ? 0 : -1;
	}
	fprintf(stderr, "vsock_host: unknown step '%s'\n", argv[0]);
	exit(2);
}

static int receive_report(unsigned p, const char *out)
{
	static const char ack[] = "{ \"credscope-ack\": 1, \"status\": \"ok\" }";
	int lfd = listen_port(p), fd, r;
	uint8_t *buf;
	size_t len;
	FILE *f;

	fd = accept_within(lfd, timeout_s);
	if (fd < 0) {
		fprintf(stderr, "vsock_host: no report connection on port %u within %d s\n", p, timeout_s);
		return 1;
	}
	r = frame_read(fd, FRAME_MAX, timeout_s * 1000, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "vsock_host: reading the report frame failed: %s\n", strerror(-r));
		return 1;
	}
	f = fopen(out, "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		return 1;
	free(buf);
	r = frame_write(fd, ack, strlen(ack));
	close(fd);
	printf("received a %zu-byte report on port %u\n", len, p);
	return r < 0;
}

int main(int argc, char **argv)
{
	int i = 1, failed = 0;
	const char *report_out = NULL;
	unsigned report_port = 0;

	signal(SIGPIPE, SIG_IGN);
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--uds") == 0)
			uds = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = (unsigned) strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--serial") == 0)
			serial_path = argv[i + 1];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_s = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cpu-pid") == 0 && n_cpu_pids < (int) (sizeof(cpu_pids) / sizeof(cpu_pids[0])))
			cpu_pids[n_cpu_pids++] = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--receive-report") == 0 && i + 2 < argc) {
			report_port = (unsigned) strtoul(argv[i + 1], NULL, 10);
			report_out = argv[i + 2];
			i++;
		}
	}
	if (!uds) {
		fputs("usage: vsock_host --uds PATH [--port P] [--serial SOCKET] [--timeout SEC] STEP...\n", stderr);
		return 2;
	}
	if (report_out)
		return receive_report(report_port, report_out);
	ctl_listen = listen_port(port);
	data_listen = listen_port(port + 1);
	if (wait_hello() < 0)
		return 1;
	printf("guest connected: boot id %s\n", boot_id);
	fflush(stdout);
	while (i < argc) {
		int used, r = run_step(argv + i, argc - i, &used);
		printf("%s", r == 0 ? "PASS" : "FAIL");
		for (int k = 0; k < used; k++)
			printf(" %s", argv[i + k]);
		printf("\n");
		fflush(stdout);
		failed |= r != 0;
		i += used;
		if (r != 0 && strcmp(argv[i - used], "poweroff") != 0)
			break;
	}
	return failed;
}
