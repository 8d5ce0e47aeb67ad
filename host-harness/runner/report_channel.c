/* report_channel: receiving one framed report and acknowledging it. */
#include "runner/report_channel.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"

#define HDR_LEN 4u

static void frame_reset(struct report_channel *ch)
{
	free(ch->body);
	ch->body = NULL;
	ch->hdr_got = ch->body_len = ch->body_got = ch->body_cap = 0;
	ch->first_byte_ms = ch->last_byte_ms = 0;
}

void report_channel_init(struct report_channel *ch)
{
	memset(ch, 0, sizeof *ch);
	ch->listen_fd = -1;
	ch->fd = -1;
}

int report_channel_listen(struct report_channel *ch, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	ch->listen_fd = fd;
	ch->listen_path = strdup(path);
	return ch->listen_path ? 0 : -ENOMEM;
}

int report_channel_adopt(struct report_channel *ch, int fd)
{
	ch->fd = fd;
	return 0;
}

int report_channel_poll_fd(const struct report_channel *ch)
{
	return ch->fd >= 0 ? ch->fd : ch->listen_fd;
}

bool report_channel_mid_frame(const struct report_channel *ch)
{
	return ch->hdr_got > 0;
}

static size_t frame_total(const struct report_channel *ch)
{
	return ch->hdr_got < HDR_LEN ? HDR_LEN : HDR_LEN + ch->body_len;
}

static size_t frame_got(const struct report_channel *ch)
{
	return ch->hdr_got + ch->body_got;
}

/* Where the next bytes go: the header, then the body (allocated once the length passed
 * its bound check, and grown as it fills). 0, or -EMSGSIZE / -ENOMEM. */
static int next_space(struct report_channel *ch, uint8_t **p, size_t *room)
{
	if (ch->hdr_got < HDR_LEN) {
		*p = ch->hdr + ch->hdr_got, *room = HDR_LEN - ch->hdr_got;
		return 0;
	}
	if (!ch->body) {
		ch->body_len = (size_t)ch->hdr[0] << 24 | (size_t)ch->hdr[1] << 16 | (size_t)ch->hdr[2] << 8 | ch->hdr[3];
		if (ch->body_len > FRAME_MAX)
			return -EMSGSIZE;
	}
	if (!ch->body || (ch->body_got == ch->body_cap && ch->body_cap < ch->body_len)) {
		size_t cap = frame_body_room(ch->body_cap, ch->body_len);
		uint8_t *nb = realloc(ch->body, cap + 1);
		if (!nb)
			return -ENOMEM;
		ch->body = nb, ch->body_cap = cap;
	}
	*p = ch->body + ch->body_got, *room = ch->body_cap - ch->body_got;
	return 0;
}

static void account(struct report_channel *ch, size_t n, long long now)
{
	if (!ch->first_byte_ms)
		ch->first_byte_ms = now;
	ch->last_byte_ms = now;
	if (ch->hdr_got < HDR_LEN)
		ch->hdr_got += n;
	else
		ch->body_got += n;
}

/* Hands out the complete frame and notes how many bytes already wait behind it. */
static int frame_done(struct report_channel *ch, uint8_t **buf, size_t *len)
{
	int queued = 0;

	ch->body[ch->body_len] = '\0';
	*buf = ch->body, *len = ch->body_len;
	ch->body = NULL;
	frame_reset(ch);
	ch->trailing = ioctl(ch->fd, FIONREAD, &queued) == 0 && queued > 0 ? (size_t)queued : 0;
	return 1;
}

static int frame_read_some(struct report_channel *ch, int timeout_ms, uint8_t **buf, size_t *len)
{
	for (;;) {
		uint8_t *p;
		size_t room;
		int x = next_space(ch, &p, &room);
		if (x < 0)
			return x;
		if (ch->hdr_got == HDR_LEN && room == 0)
			return frame_done(ch, buf, len);
		ssize_t n = recv(ch->fd, p, room, MSG_DONTWAIT);
		long long now = mono_ms();
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (n > 0)
			account(ch, (size_t)n, now);
		else if (ch->first_byte_ms && timeout_ms >= 0 && now - ch->first_byte_ms > timeout_ms)
			return -ETIMEDOUT;
		else
			return 0;
	}
}

int report_channel_readable(struct report_channel *ch, int timeout_ms, uint8_t **buf, size_t *len)
{
	if (ch->fd < 0) {
		int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		ch->fd = fd;
		return 0;
	}
	int x = frame_read_some(ch, timeout_ms, buf, len);
	if (x == -EPIPE && ch->listen_fd >= 0 && !report_channel_mid_frame(ch)) {
		close(ch->fd);   /* a connection that said nothing: wait for the next one */
		ch->fd = -1;
		return 0;
	}
	return x;
}

const char *report_channel_why(struct report_channel *ch, int x)
{
	size_t got = frame_got(ch), total = frame_total(ch);

	if (x == -EMSGSIZE)
		snprintf(ch->why, sizeof ch->why, "its length prefix announces a %zu-byte report, over the %u-byte limit "
			 "(docs/report.md); not a byte of it was read", ch->body_len, FRAME_MAX);
	else if (x == -EPIPE && report_channel_mid_frame(ch))
		snprintf(ch->why, sizeof ch->why, "the report was cut off: the channel closed after %zu of the %zu bytes %s",
			 got, total, ch->hdr_got < HDR_LEN ? "of its length prefix" : "its length prefix announced");
	else if (x == -EPIPE)
		snprintf(ch->why, sizeof ch->why, "the channel closed before a report arrived");
	else if (x == -ETIMEDOUT)
		snprintf(ch->why, sizeof ch->why, "the report stalled: only %zu of its %zu bytes arrived", got, total);
	else if (x == -EBADMSG)
		snprintf(ch->why, sizeof ch->why, "%zu more bytes follow its report frame (a report is exactly one frame, "
			 "docs/report.md)", ch->trailing);
	else
		snprintf(ch->why, sizeof ch->why, "%s", strerror(-x));
	return ch->why;
}

const char *report_channel_progress(struct report_channel *ch, long long now_ms)
{
	ch->why[0] = '\0';
	if (report_channel_mid_frame(ch))
		snprintf(ch->why, sizeof ch->why, "; a report began arriving (%zu of %zu bytes) and stopped %lld s ago",
			 frame_got(ch), frame_total(ch), (now_ms - ch->last_byte_ms) / 1000);
	return ch->why;
}

int report_channel_ack(struct report_channel *ch, bool ok, const char *message)
{
	json_t *o = json_pack("{s:i, s:s}", "credscope-ack", 1, "status", ok ? "ok" : "rejected");
	if (!o)
		return -ENOMEM;
	if (!ok)
		json_object_set_new(o, "message", json_string(message ? message : "rejected"));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	int r = frame_write(ch->fd, s, strlen(s));
	free(s);
	return r;
}

void report_channel_close(struct report_channel *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	if (ch->listen_fd >= 0)
		close(ch->listen_fd);
	if (ch->listen_path)
		unlink(ch->listen_path);
	free(ch->listen_path);
	frame_reset(ch);
	report_channel_init(ch);
}
