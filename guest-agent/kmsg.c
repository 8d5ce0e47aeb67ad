/* kmsg: the kernel's log as records (kmsg.h). */
#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "strutil.h"

#define PID1_PREFIX "systemd[1]: "

/* Decimal digits at *p (at least one, no sign) into *v without overflow; *p moves past them. */
static int parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (s == end || *s < '0' || *s > '9')
		return -EBADMSG;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
			return -EBADMSG;
		*v = *v * 10 + (uint64_t) (*s - '0');
	}
	*p = s;
	return 0;
}

int kmsg_parse_record(const char *s, size_t len, struct kmsg_record *out)
{
	const char *nl = memchr(s, '\n', len), *end = nl ? nl : s + len, *p = s, *semi;
	uint64_t prio;

	*out = (struct kmsg_record) {};
	if (parse_u64(&p, end, &prio) < 0 || prio > 0xffff || p == end || *p++ != ',' ||
	    parse_u64(&p, end, &out->seq) < 0 || p == end || *p++ != ',' ||
	    parse_u64(&p, end, &out->usec) < 0 || p == end || *p != ',')
		return -EBADMSG;
	/* FLAGS and any further fields ("caller=T1") run to the first ';' */
	semi = memchr(p, ';', (size_t) (end - p));
	if (!semi)
		return -EBADMSG;
	out->prio = (unsigned) prio;
	out->text = semi + 1;
	out->text_len = (size_t) (end - out->text);
	/* the kernel escapes every byte below 0x20 and above 0x7e: a raw one is not a record */
	for (size_t i = 0; i < out->text_len; i++)
		if ((unsigned char) out->text[i] < 0x20 || (unsigned char) out->text[i] > 0x7e)
			return -EBADMSG;
	return 0;
}

/* "printk: systemd: N output lines suppressed due to ratelimiting" (facility kern): N, else 0. */
static size_t suppressed_for_systemd(const struct kmsg_record *r)
{
	static const char tail[] = " output lines suppressed due to ratelimiting";
	const char *p = r->text, *end = r->text + r->text_len;
	uint64_t n;

	if (r->prio >> 3 != 0)
		return 0;
	if ((size_t) (end - p) >= 8 && memcmp(p, "printk: ", 8) == 0)
		p += 8;
	if ((size_t) (end - p) < 9 || memcmp(p, "systemd: ", 9) != 0)
		return 0;
	p += 9;
	if (parse_u64(&p, end, &n) < 0 || (size_t) (end - p) != strlen(tail) || memcmp(p, tail, strlen(tail)) != 0)
		return 0;
	return n > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t) n;
}

static int add_pid1(struct kmsg_log *log, const struct kmsg_record *r)
{
	size_t plen = strlen(PID1_PREFIX);
	struct kmsg_line *v = realloc(log->pid1, (log->n_pid1 + 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	log->pid1 = v;
	v = &log->pid1[log->n_pid1];
	*v = (struct kmsg_line) { .level = r->prio & 7, .seq = r->seq, .usec = r->usec };
	v->text = strndup(r->text + plen, r->text_len - plen);
	if (!v->text)
		return -ENOMEM;
	log->n_pid1++;
	return 0;
}

int kmsg_log_add(struct kmsg_log *log, const char *s, size_t len)
{
	struct kmsg_record r;
	size_t n;

	if (kmsg_parse_record(s, len, &r) < 0) {
		log->malformed++;
		return 0;
	}
	if (log->n_records == 0)
		log->first_seq = r.seq;
	else if (r.seq <= log->last_seq)
		log->malformed++;   /* out of order: this is not one kernel's log read once */
	else if (r.seq - log->last_seq > 1)   /* bounded: a count, not an allocation */
		log->missing += r.seq - log->last_seq - 1 > KMSG_RECORDS_MAX ? KMSG_RECORDS_MAX
									    : (size_t) (r.seq - log->last_seq - 1);
	if (log->n_records == 0 || r.seq > log->last_seq)
		log->last_seq = r.seq;
	log->n_records++;
	if (r.text_len >= strlen(PID1_PREFIX) && memcmp(r.text, PID1_PREFIX, strlen(PID1_PREFIX)) == 0)
		return add_pid1(log, &r);
	n = suppressed_for_systemd(&r);
	log->systemd_suppressed = n > SIZE_MAX / 2 - log->systemd_suppressed ? SIZE_MAX / 2
									   : log->systemd_suppressed + n;
	return 0;
}

/* The real device: one record per read(), never blocking. */
static int load_device(struct kmsg_log *log)
{
	size_t total = 0;
	struct stat st;
	char *buf;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), r = 0;

	if (fd < 0) {
		snprintf(log->why_not, sizeof log->why_not, "/dev/kmsg cannot be opened: %s", strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(log->why_not, sizeof log->why_not, "/dev/kmsg is not a character device");
		close(fd);
		return 0;
	}
	buf = malloc(KMSG_RECORD_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (r == 0) {
		ssize_t n = read(fd, buf, KMSG_RECORD_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {   /* overwritten before we read it: the next read goes on */
			log->missing++;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			log->read_error = true;
		if (n <= 0)
			break;
		total += (size_t) n;
		if (total > KMSG_TOTAL_MAX || log->n_records >= KMSG_RECORDS_MAX) {
			log->capped = true;
			break;
		}
		r = kmsg_log_add(log, buf, (size_t) n);
	}
	free(buf);
	close(fd);
	return r;
}

/* A fixture's DIR/dev/kmsg: a regular file, one record per line, continuation lines (a
 * leading space) skipped. */
static int load_file(const char *root, struct kmsg_log *log)
{
	char *path = root_join(root, "/dev/kmsg");
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return -ENOMEM;
	r = file_read_bounded(AT_FDCWD, path, KMSG_TOTAL_MAX, &data, &len);
	if (r == -ENOMEM) {
		free(path);
		return r;
	}
	if (r < 0) {
		snprintf(log->why_not, sizeof log->why_not, "%s %s", path,
			 r == -ENOENT ? "does not exist" : file_error_text(r));
		free(path);
		return 0;
	}
	free(path);
	for (size_t pos = 0; r == 0 && pos < len; ) {
		const char *line = (const char *) data + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t) (nl - line) : len - pos;

		pos += l + 1;
		if (l == 0 || line[0] == ' ')
			continue;
		if (log->n_records >= KMSG_RECORDS_MAX) {
			log->capped = true;
			break;
		}
		if (l > KMSG_RECORD_MAX)
			log->malformed++;
		else
			r = kmsg_log_add(log, line, l);
	}
	free(data);
	return r;
}

/* kernel.printk_devkmsg as it is now: "on", "off", "ratelimit" (kernel/printk/printk.c:181@6.1.176). */
static void read_devkmsg(const char *root, struct kmsg_log *log)
{
	char *path = root_join(root, "/proc/sys/kernel/printk_devkmsg");
	uint8_t *data = NULL;
	size_t len = 0;

	if (path && file_read_bounded(AT_FDCWD, path, 64, &data, &len) == 0) {
		size_t w = strcspn((const char *) data, " \t\n");
		snprintf(log->devkmsg, sizeof log->devkmsg, "%.*s", (int) (w < sizeof log->devkmsg ? w : 0),
			 (const char *) data);
	}
	free(data);
	free(path);
}

int kmsg_load(const char *root, struct kmsg_log *out)
{
	int r;

	*out = (struct kmsg_log) {};
	r = strcmp(root, "/") == 0 ? load_device(out) : load_file(root, out);
	if (r < 0) {
		kmsg_log_free(out);
		return r;
	}
	read_devkmsg(root, out);
	out->read = out->n_records > 0;
	if (!out->read && !out->why_not[0])
		snprintf(out->why_not, sizeof out->why_not, "the kernel log holds no record");
	return 0;
}

void kmsg_log_free(struct kmsg_log *log)
{
	for (size_t i = 0; log && i < log->n_pid1; i++)
		free(log->pid1[i].text);
	if (log)
		free(log->pid1);
}

char *kmsg_unescape(const char *s)
{
	static const char hex[16] = "0123456789abcdef";   /* the kernel's "\\x%02x" */
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		const char *hi = s[0] == '\\' && s[1] == 'x' ? memchr(hex, s[2], 16) : NULL;
		const char *lo = hi ? memchr(hex, s[3], 16) : NULL;
		if (lo && (hi != hex || lo != hex)) {
			*o++ = (char) ((hi - hex) * 16 + (lo - hex));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = 0;
	return out;
}
