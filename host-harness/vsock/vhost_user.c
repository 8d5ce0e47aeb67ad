/* vhost_user: see vhost_user.h. Integers in vhost-user messages are host-endian. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fileio.h"
#include "vsock/vhost_user.h"
#include "vsock/vsock_log.h"

struct vhost_user_msg {
	uint32_t request, flags, size;
	uint8_t payload[VHOST_USER_MAX_PAYLOAD];
	int fds[VHOST_USER_MAX_FDS];
	unsigned n_fds;
	/* reply */
	bool has_reply;
	uint32_t reply_size;
	uint8_t reply[VHOST_USER_MAX_PAYLOAD];
};

struct vring_state { uint32_t index, num; };
struct vring_addr { uint32_t index, flags; uint64_t desc, used, avail, log; };
struct mem_region { uint64_t gpa, size, qva, mmap_offset; };

#define VRING_FILE_NOFD 0x100u

void vhost_user_dev_init(struct vhost_user_dev *d, int fd, uint64_t guest_cid,
			 const struct vhost_user_ops *ops, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->guest_cid = guest_cid;
	d->ops = ops;
	d->ctx = ctx;
	vring_init(&d->vq[0], "rx", &d->mem);
	vring_init(&d->vq[1], "tx", &d->mem);
}

static void ring_stop(struct vhost_user_dev *d, unsigned idx)
{
	struct vring *vq = &d->vq[idx];

	if (vq->kick_fd >= 0) {
		d->ops->kick_changed(d->ctx, idx, vq->kick_fd, -1);
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
	if (vq->started) {
		vq->started = false;
		d->ops->ring_stopped(d->ctx, idx);
	}
}

void vhost_user_dev_close(struct vhost_user_dev *d)
{
	for (unsigned i = 0; i < VHOST_USER_N_VRINGS; i++) {
		ring_stop(d, i);
		vring_reset(&d->vq[i]);
	}
	guest_memory_clear(&d->mem);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static void close_fds(struct vhost_user_msg *m)
{
	for (unsigned i = 0; i < m->n_fds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->n_fds = 0;
}

/* Takes the first received fd out of the message (so close_fds() leaves it alone). */
static int take_fd(struct vhost_user_msg *m)
{
	int fd;

	if (m->n_fds == 0)
		return -1;
	fd = m->fds[0];
	memmove(m->fds, m->fds + 1, (m->n_fds - 1) * sizeof(int));
	m->n_fds--;
	return fd;
}

/* The rest of a message: a front-end that closes in the middle of one has reset the
 * connection, it did not send a short message. */
static int read_exact(int fd, void *buf, size_t len)
{
	ssize_t n = fd_read_full(fd, buf, len);

	if (n < 0)
		return (int) n;
	return (size_t) n == len ? 0 : -ECONNRESET;
}

static void collect_fds(struct msghdr *mh, struct vhost_user_msg *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (m->n_fds < VHOST_USER_MAX_FDS)
				m->fds[m->n_fds++] = fd;
			else
				close(fd);
		}
	}
}

/* Exactly 12 header bytes (fds ride on them), then exactly `size` payload bytes. */
static int msg_read(int fd, struct vhost_user_msg *m)
{
	uint8_t hdr[VHOST_USER_HDR_SIZE];
	union { char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))]; struct cmsghdr align; } control;
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	ssize_t n;
	int r;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	collect_fds(&mh, m);
	if (mh.msg_flags & MSG_CTRUNC)
		vsock_warn("vhost-user message carried more than %d fds; extra fds dropped", VHOST_USER_MAX_FDS);
	if ((size_t) n < sizeof(hdr)) {
		r = read_exact(fd, hdr + n, sizeof(hdr) - (size_t) n);
		if (r < 0)
			return r;
	}
	memcpy(&m->request, hdr, 4);
	memcpy(&m->flags, hdr + 4, 4);
	memcpy(&m->size, hdr + 8, 4);
	if ((m->flags & 0x3) != VHOST_USER_VERSION) {
		vsock_err("vhost-user request %u: header flags 0x%x have version %u, expected 1",
			  m->request, m->flags, m->flags & 0x3);
		return -EPROTO;
	}
	if (m->size > VHOST_USER_MAX_PAYLOAD) {
		vsock_err("vhost-user request %u: payload size %u exceeds %d bytes (byte offset 8)",
			  m->request, m->size, VHOST_USER_MAX_PAYLOAD);
		return -EPROTO;
	}
	return read_exact(fd, m->payload, m->size);
}

static int msg_send_reply(int fd, const struct vhost_user_msg *m)
{
	uint8_t out[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	uint32_t flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	size_t len = VHOST_USER_HDR_SIZE + m->reply_size;
	ssize_t n;

	memcpy(out, &m->request, 4);
	memcpy(out + 4, &flags, 4);
	memcpy(out + 8, &m->reply_size, 4);
	memcpy(out + VHOST_USER_HDR_SIZE, m->reply, m->reply_size);
	do
		n = send(fd, out, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t) len)
		return n < 0 ? -errno : -EPIPE;
	return 0;
}

static void reply_u64(struct vhost_user_msg *m, uint64_t v)
{
	m->has_reply = true;
	m->reply_size = sizeof(v);
	memcpy(m->reply, &v, sizeof(v));
}

/* Checks the payload size; logs the violation naming the request. */
static int want_size(const struct vhost_user_msg *m, uint32_t size, const char *what)
{
	if (m->size == size)
		return 0;
	vsock_err("vhost-user %s: payload of %u bytes, expected %u", what, m->size, size);
	return -EPROTO;
}

/* Validates the ring index of a vring_state / vring_addr / vring file payload. */
static int ring_index(const struct vhost_user_msg *m, uint32_t idx, const char *what)
{
	if (idx < VHOST_USER_N_VRINGS)
		return 0;
	vsock_err("vhost-user %s: ring index %u, this device has %d rings", what, idx, VHOST_USER_N_VRINGS);
	return -EPROTO;
}

static void ring_maybe_start(struct vhost_user_dev *d, unsigned idx)
{
	if (vring_ready(&d->vq[idx]))
		d->ops->ring_started(d->ctx, idx);
}

static int handle_set_features(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	uint64_t f;

	if (want_size(m, 8, "SET_FEATURES") < 0)
		return -EPROTO;
	memcpy(&f, m->payload, 8);
	if (f & ~VHOST_USER_OFFERED_FEATURES)
		vsock_debug("SET_FEATURES 0x%llx has bits we never offered; ignoring them", (unsigned long long) f);
	d->acked_features = f & VHOST_USER_OFFERED_FEATURES;
	/* Without PROTOCOL_FEATURES rings start enabled; with it they wait for
	 * SET_VRING_ENABLE. Never disable a ring here (QEMU sends SET_FEATURES late). */
	if (!(d->acked_features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		for (unsigned i = 0; i < VHOST_USER_N_VRINGS; i++) {
			d->vq[i].enabled = true;
			ring_maybe_start(d, i);
		}
	return 0;
}

static int handle_set_mem_table(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	uint32_t n;
	int r = 0;

	if (m->size < 8)
		return want_size(m, 8, "SET_MEM_TABLE");
	memcpy(&n, m->payload, 4);
	if (n == 0 || n > GUEST_MEM_MAX_REGIONS || m->size != 8 + 32 * n || m->n_fds != n) {
		vsock_err("vhost-user SET_MEM_TABLE: %u regions, %u payload bytes, %u fds (want 1..%d regions, 8+32*n bytes, one fd each)",
			  n, m->size, m->n_fds, GUEST_MEM_MAX_REGIONS);
		return -EINVAL;
	}
	guest_memory_clear(&d->mem);
	for (uint32_t i = 0; i < n && r == 0; i++) {
		struct mem_region mr;

		memcpy(&mr, m->payload + 8 + 32 * i, sizeof(mr));
		r = guest_memory_map_fd(&d->mem, m->fds[i], mr.gpa, mr.size, mr.qva, mr.mmap_offset);
		if (r < 0)
			vsock_err("vhost-user SET_MEM_TABLE region %u (gpa 0x%llx size 0x%llx offset 0x%llx): %s",
				  i, (unsigned long long) mr.gpa, (unsigned long long) mr.size,
				  (unsigned long long) mr.mmap_offset, strerror(-r));
	}
	if (r < 0)
		guest_memory_clear(&d->mem);
	for (unsigned i = 0; i < VHOST_USER_N_VRINGS; i++)
		if (vring_map(&d->vq[i]) == 0)
			ring_maybe_start(d, i);
	vsock_info("memory table: %u regions", d->mem.n_regions);
	return r;
}

static int handle_vring_state(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	struct vring_state s;
	struct vring *vq;

	if (want_size(m, sizeof(s), "vring state") < 0)
		return -EPROTO;
	memcpy(&s, m->payload, sizeof(s));
	if (ring_index(m, s.index, "vring state") < 0)
		return -EPROTO;
	vq = &d->vq[s.index];
	switch (m->request) {
	case VHOST_USER_SET_VRING_NUM:
		if (vring_set_num(vq, s.num) < 0) {
			vsock_err("vhost-user SET_VRING_NUM: %u is not a power of two up to %d", s.num, VRING_MAX_SIZE);
			return -EINVAL;
		}
		return 0;
	case VHOST_USER_SET_VRING_BASE:
		if (s.num > UINT16_MAX)
			return -EINVAL;
		vq->last_avail = (uint16_t) s.num;
		return 0;
	case VHOST_USER_GET_VRING_BASE:
		ring_stop(d, s.index);
		s.num = vq->last_avail;
		m->has_reply = true;
		m->reply_size = sizeof(s);
		memcpy(m->reply, &s, sizeof(s));
		return 0;
	default: /* SET_VRING_ENABLE */
		vq->enabled = s.num != 0;
		ring_maybe_start(d, s.index);
		return 0;
	}
}

static int handle_set_vring_addr(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	struct vring_addr a;

	if (want_size(m, sizeof(a), "SET_VRING_ADDR") < 0)
		return -EPROTO;
	memcpy(&a, m->payload, sizeof(a));
	if (ring_index(m, a.index, "SET_VRING_ADDR") < 0)
		return -EPROTO;
	/* A failure marks the ring broken (logged); it recovers with the next setup. */
	vring_set_addr(&d->vq[a.index], a.desc, a.used, a.avail);
	return 0;
}

/* SET_VRING_KICK / CALL / ERR: u64 with the ring index in bits 0-7, bit 8 = no fd. */
static int handle_vring_file(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	uint64_t v;
	unsigned idx;
	struct vring *vq;
	int fd, *slot;

	if (want_size(m, 8, "vring file") < 0)
		return -EPROTO;
	memcpy(&v, m->payload, 8);
	idx = (unsigned) (v & 0xff);
	if (ring_index(m, idx, "vring file") < 0)
		return -EPROTO;
	if (!(v & VRING_FILE_NOFD) && m->n_fds != 1) {
		vsock_err("vhost-user request %u for ring %u came with %u fds, expected 1", m->request, idx, m->n_fds);
		return -EINVAL;
	}
	fd = (v & VRING_FILE_NOFD) ? -1 : take_fd(m);
	vq = &d->vq[idx];
	if (m->request == VHOST_USER_SET_VRING_KICK) {
		d->ops->kick_changed(d->ctx, idx, vq->kick_fd, fd);
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		vq->kick_fd = fd;
		/* Polling mode (no fd) is not supported: the ring only runs on kicks. */
		vq->started = true;
		ring_maybe_start(d, idx);
		return 0;
	}
	slot = m->request == VHOST_USER_SET_VRING_CALL ? &vq->call_fd : &vq->err_fd;
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	return 0;
}

/* The device config space is one le64 guest_cid; other bytes read as zero. */
static int handle_get_config(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	uint32_t offset, size;
	uint8_t config[8];
	uint64_t cid_le = htole64(d->guest_cid);

	if (m->size < 12) {
		vsock_err("vhost-user GET_CONFIG: payload of %u bytes, expected at least 12", m->size);
		return -EPROTO;
	}
	memcpy(&offset, m->payload, 4);
	memcpy(&size, m->payload + 4, 4);
	if (size > VHOST_USER_MAX_PAYLOAD - 12 || m->size != 12 + size) {
		vsock_err("vhost-user GET_CONFIG: config size %u does not match payload of %u bytes", size, m->size);
		return -EPROTO;
	}
	memcpy(config, &cid_le, sizeof(config));
	memcpy(m->reply, m->payload, 12);
	memset(m->reply + 12, 0, size);
	for (uint32_t i = 0; i < size; i++)
		if ((uint64_t) offset + i < sizeof(config))
			m->reply[12 + i] = config[offset + i];
	m->has_reply = true;
	m->reply_size = 12 + size;
	return 0;
}

static int handle_request(struct vhost_user_dev *d, struct vhost_user_msg *m)
{
	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
		reply_u64(m, VHOST_USER_OFFERED_FEATURES);
		return 0;
	case VHOST_USER_SET_FEATURES:
		return handle_set_features(d, m);
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(m, VHOST_USER_OFFERED_PROTOCOL);
		return 0;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (want_size(m, 8, "SET_PROTOCOL_FEATURES") < 0)
			return -EPROTO;
		memcpy(&d->protocol_features, m->payload, 8);
		d->protocol_features &= VHOST_USER_OFFERED_PROTOCOL;
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		reply_u64(m, VHOST_USER_N_VRINGS);
		return 0;
	case VHOST_USER_SET_OWNER:
		return 0;
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_RESET_DEVICE:
		for (unsigned i = 0; i < VHOST_USER_N_VRINGS; i++) {
			ring_stop(d, i);
			vring_reset(&d->vq[i]);
		}
		return 0;
	case VHOST_USER_SET_MEM_TABLE:
		return handle_set_mem_table(d, m);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return handle_vring_state(d, m);
	case VHOST_USER_SET_VRING_ADDR:
		return handle_set_vring_addr(d, m);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return handle_vring_file(d, m);
	case VHOST_USER_GET_CONFIG:
		return handle_get_config(d, m);
	case VHOST_USER_SET_CONFIG:
		return 0;   /* guest_cid is read-only */
	default:
		vsock_warn("vhost-user request %u is not supported; answering failure", m->request);
		return -EOPNOTSUPP;
	}
}

int vhost_user_handle_message(struct vhost_user_dev *d)
{
	struct vhost_user_msg m;
	int r;

	m.n_fds = 0;
	m.has_reply = false;
	m.reply_size = 0;
	r = msg_read(d->fd, &m);
	if (r < 0) {
		close_fds(&m);
		if (r != -ECONNRESET && r != -EPROTO)
			vsock_err("reading a vhost-user message failed: %s", strerror(-r));
		return r;
	}
	vsock_debug("vhost-user request %u flags 0x%x size %u fds %u", m.request, m.flags, m.size, m.n_fds);
	r = handle_request(d, &m);
	close_fds(&m);
	if (r == -EPROTO)
		return r;
	if (!m.has_reply && (m.flags & VHOST_USER_NEED_REPLY) &&
	    (d->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)))
		reply_u64(&m, r < 0 ? 1 : 0);
	if (!m.has_reply)
		return 0;
	r = msg_send_reply(d->fd, &m);
	if (r < 0)
		vsock_err("sending the vhost-user reply to request %u failed: %s", m.request, strerror(-r));
	return r;
}
