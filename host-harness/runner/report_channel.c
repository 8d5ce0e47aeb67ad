/* report_channel: receiving one framed report and acknowledging it. */
#include "runner/report_channel.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame.h"

void report_channel_init(struct report_channel *ch)
{
	ch->listen_fd = -1;
	ch->fd = -1;
	ch->listen_path = NULL;
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

int report_channel_readable(struct report_channel *ch, int timeout_ms, uint8_t **buf, size_t *len)
{
	if (ch->fd < 0) {
		int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		ch->fd = fd;
		return 0;
	}
	int r = frame_read(ch->fd, FRAME_MAX, timeout_ms, buf, len);
	return r < 0 ? r : 1;
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
	report_channel_init(ch);
}
