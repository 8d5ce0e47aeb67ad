/* fake-ch-api: a stand-in for cloud-hypervisor, for protocol tests on hosts without it.
 *
 *   cloud-hypervisor --version
 *   cloud-hypervisor --api-socket fd=N
 *
 * A test copies (or links) it into a directory as "cloud-hypervisor" beside a file
 * fake-ch.conf with lines "record FILE", "version TEXT", "fail ENDPOINT". It
 * serves the API on the inherited listening socket: GET vmm.ping answers 200 with a
 * version, PUT vm.create / vm.boot / vm.shutdown answer 204, PUT vmm.shutdown answers 204
 * and exits. Every request is appended to the record FILE as one line "METHOD PATH BODY" (BODY "-"
 * when empty); each start adds a line "ARGV" and the launcher's arguments. "fail"
 * answers that endpoint with 400 and an error text. Any argument it does not expect
 * (such as -v) makes it exit 2. It exits by itself after 30 s without a request. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX (2u * 1024u * 1024u)

struct fake {
	FILE *record;
	const char *version;
	const char *fail;
};

static ssize_t header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return (ssize_t)(i + 4);
	return -1;
}

static size_t content_length(const char *head)
{
	const char *p = strcasestr(head, "\r\ncontent-length:");
	return p ? strtoul(p + 17, NULL, 10) : 0;
}

/* Reads one request into a malloc'd buffer; *head_len and *body_len describe it. */
static char *read_request(int fd, size_t *head_len, size_t *body_len)
{
	char *buf = malloc(REQ_MAX + 1);
	size_t len = 0;
	ssize_t end = -1;

	while (buf && len < REQ_MAX) {
		ssize_t n = read(fd, buf + len, REQ_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (end < 0)
			end = header_end(buf, len);
		if (end >= 0 && len >= (size_t)end + content_length(buf)) {
			*head_len = (size_t)end;
			*body_len = content_length(buf);
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static void answer(int fd, int status, const char *body)
{
	char head[256];
	const char *text = status == 200 ? "OK" : status == 204 ? "No Content" : status == 400 ? "Bad Request" : "Not Found";
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nServer: fake-ch-api\r\nConnection: close\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 status, text, body ? strlen(body) : 0);
	if (write(fd, head, (size_t)n) < 0 || (body && write(fd, body, strlen(body)) < 0))
		perror("fake-ch-api: write");
}

/* Serves one connection; returns 1 after vmm.shutdown. */
static int serve(struct fake *f, int fd)
{
	size_t head_len = 0, body_len = 0;
	char method[16] = "", path[128] = "", reply[256];
	char *req = read_request(fd, &head_len, &body_len);
	int done = 0;

	if (!req)
		return 0;
	if (sscanf(req, "%15s %127s", method, path) != 2)
		answer(fd, 400, "{\"error\":\"malformed request\"}");
	fprintf(f->record, "%s %s %.*s\n", method, path, body_len ? (int)body_len : 1,
		body_len ? req + head_len : "-");
	fflush(f->record);
	if (strcasestr(req, "\r\nexpect:"))
		answer(fd, 400, "{\"error\":\"unexpected Expect header\"}");
	else if (f->fail && strstr(path, f->fail))
		answer(fd, 400, "Error from API: the fake was told to refuse this request");
	else if (strcmp(path, "/api/v1/vmm.ping") == 0 && strcmp(method, "GET") == 0) {
		snprintf(reply, sizeof reply, "{\"version\":\"%s\",\"pid\":%d}", f->version, (int)getpid());
		answer(fd, 200, reply);
	} else if (strcmp(method, "PUT") == 0 &&
		   (strcmp(path, "/api/v1/vm.create") == 0 || strcmp(path, "/api/v1/vm.boot") == 0 ||
		    strcmp(path, "/api/v1/vm.shutdown") == 0 || strcmp(path, "/api/v1/vmm.shutdown") == 0)) {
		answer(fd, 204, NULL);
		done = strcmp(path, "/api/v1/vmm.shutdown") == 0;
	} else
		answer(fd, 404, "{\"error\":\"unknown endpoint\"}");
	free(req);
	return done;
}

static int serve_api(struct fake *f, int listen_fd)
{
	for (;;) {
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };
		int r = poll(&p, 1, 30000), fd, done;
		if (r == 0)
			return 3;  /* nobody came: do not linger */
		if (r < 0 && errno != EINTR)
			return 2;
		if (r < 0)
			continue;
		if (p.revents & (POLLNVAL | POLLERR))
			return 2;  /* no listening socket was inherited */
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		done = serve(f, fd);
		close(fd);
		if (done)
			return 0;
	}
}

/* Our options come from "fake-ch.conf" beside argv[0] (one "KEY VALUE" per line), so
 * that the launched argv and environment stay exactly what the launcher chose. */
static int load_conf(struct fake *f, const char *argv0, const char **record_path)
{
	char *dir = strdup(argv0), *slash, conf[4096], line[1024];
	FILE *in;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	snprintf(conf, sizeof conf, "%s/fake-ch.conf", slash ? (*slash = '\0', dir) : ".");
	free(dir);
	in = fopen(conf, "re");
	if (!in)
		return 0;
	while (fgets(line, sizeof line, in)) {
		char *value = strchr(line, ' ');
		if (!value)
			continue;
		*value++ = '\0';
		value[strcspn(value, "\n")] = '\0';
		if (strcmp(line, "record") == 0)
			*record_path = strdup(value);
		else if (strcmp(line, "version") == 0)
			f->version = strdup(value);
		else if (strcmp(line, "fail") == 0)
			f->fail = strdup(value);
	}
	fclose(in);
	return 0;
}

int main(int argc, char **argv)
{
	struct fake f = { .record = NULL, .version = "cloud-hypervisor v40.0.0" };
	const char *record_path = "/dev/null";

	if (load_conf(&f, argv[0], &record_path) < 0)
		return 2;
	f.record = fopen(record_path, "ae");
	if (!f.record)
		return 2;
	fprintf(f.record, "ARGV");
	for (int j = 1; j < argc; j++)
		fprintf(f.record, " %s", argv[j]);
	fprintf(f.record, "\n");
	fflush(f.record);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s\n", f.version);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--api-socket") == 0 && strncmp(argv[2], "fd=", 3) == 0)
		return serve_api(&f, atoi(argv[2] + 3));
	fprintf(stderr, "fake-ch-api: unexpected arguments (cloud-hypervisor must get only --api-socket fd=N)\n");
	return 2;
}
