/* vsock_backend: see vsock_backend.h. Everything happens on the loop's thread, so the
 * memory table, rings and connections need no locks. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "vsock/hybrid_vsock.h"
#include "vsock/vhost_user.h"
#include "vsock/virtio_vsock.h"
#include "vsock/vsock_backend.h"
#include "vsock/vsock_log.h"

#define MAX_HANDSHAKES 64

/* tx polling. While the guest streams to the host, a kick per packet costs the guest's
 * vCPU an MMIO exit plus an eventfd write that wakes us on another CPU: about a tenth of
 * the vCPU's time at full speed under TCG (perf, bench/README.md). So once a packet
 * arrives we set VRING_USED_F_NO_NOTIFY and look at the tx ring every TX_POLL_NS
 * ourselves, and after TX_POLL_IDLE_NS without a packet we ask for kicks again and
 * recheck the ring (vring_set_notify()). Only while vsock_dev_tx_poll_ok(): then the
 * guest has 256 KiB of credit left when it asks for an update, several poll intervals at
 * the ~700 MiB/s it reaches here, so a packet seen late does not stall it. 80 us against
 * 200 us, paired in one boot over 496 rounds: 2-4% more throughput, 1.5-2.5% less vCPU
 * time per byte, the same backend CPU per byte (its passes find fewer packets each). */
#define TX_POLL_NS      80000LL
#define TX_POLL_IDLE_NS 1000000LL

enum tag_kind { TAG_STOP = 1, TAG_VHOST_LISTEN, TAG_VHOST_CONN, TAG_KICK, TAG_UDS_LISTEN, TAG_HANDSHAKE, TAG_HOST };
#define TAG(kind, v)  (((uint64_t) (kind) << 56) | (uint64_t) (v))
#define TAG_KIND(t)   ((unsigned) ((t) >> 56))
#define TAG_VALUE(t)  ((t) & ((1ull << 56) - 1))

struct vsock_backend {
	struct vsock_backend_config cfg;
	char *socket_path, *uds_path;
	int epoll_fd, stop_fd, vhost_listen_fd, uds_listen_fd;
	bool connected;                 /* a frontend is attached */
	bool stopped_since_start;       /* a GET_VRING_BASE happened since the rings last ran */
	bool work;                      /* rings need a look */
	bool tx_polling;                /* tx kicks are off; we poll (TX_POLL_NS) */
	bool no_pwait2;                 /* the kernel lacks epoll_pwait2() */
	long long tx_last_ns;           /* when the last tx chain arrived */
	struct vhost_user_dev vu;
	struct vsock_dev dev;
	struct hybrid_handshake hs[MAX_HANDSHAKES];
	pthread_t thread;
	int thread_result;
};

static void ep_set(struct vsock_backend *b, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (events == 0) {
		epoll_ctl(b->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(b->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0))
		vsock_err("cannot watch fd %d: %m", fd);
}

/* ---- callbacks from the device model and the control plane ----------------------- */

static int host_connect(void *ctx, uint32_t port)
{
	struct vsock_backend *b = ctx;

	return hybrid_connect_port(b->uds_path, port);
}

static void host_watch(void *ctx, int fd, uint32_t events, uint64_t token)
{
	ep_set(ctx, fd, events, TAG(TAG_HOST, token));
}

static const struct vsock_host_ops host_ops = { .connect = host_connect, .watch = host_watch };

static void kick_changed(void *ctx, unsigned idx, int old_fd, int new_fd)
{
	struct vsock_backend *b = ctx;

	if (old_fd >= 0)
		ep_set(b, old_fd, 0, 0);
	if (new_fd >= 0)
		ep_set(b, new_fd, EPOLLIN, TAG(TAG_KICK, idx));
}

static void ring_started(void *ctx, unsigned idx)
{
	struct vsock_backend *b = ctx;

	/* Rings restarted from index 0 after a stop: a new guest driver (reboot/reset)
	 * that knows none of the old connections. */
	if (b->stopped_since_start && b->vu.vq[idx].last_avail == 0) {
		vsock_dev_drop_all(&b->dev, "the guest driver restarted");
		vsock_info("guest vsock driver restarted (ring %u from index 0)", idx);
	}
	b->stopped_since_start = false;
	b->work = true;
	if (&b->vu.vq[idx] == b->dev.tx) {
		b->tx_polling = false;
		vring_set_notify(b->dev.tx, true);
	}
}

static void ring_stopped(void *ctx, unsigned idx)
{
	struct vsock_backend *b = ctx;

	b->stopped_since_start = true;
	if (&b->vu.vq[idx] == b->dev.tx)
		b->tx_polling = false;   /* its rings are the guest's again: write nothing there */
	vsock_info("ring %u stopped", idx);
}

static const struct vhost_user_ops vu_ops = {
	.kick_changed = kick_changed, .ring_started = ring_started, .ring_stopped = ring_stopped,
};

/* ---- event handlers --------------------------------------------------------------- */

static void frontend_disconnect(struct vsock_backend *b, const char *why)
{
	vsock_info("vhost-user frontend gone (%s); waiting for the next one", why);
	ep_set(b, b->vu.fd, 0, 0);
	vsock_dev_drop_all(&b->dev, "the frontend disconnected");
	vhost_user_dev_close(&b->vu);
	b->connected = false;
	b->stopped_since_start = false;
	b->tx_polling = false;
}

static void on_vhost_listen(struct vsock_backend *b)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = accept4(b->vhost_listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (b->connected) {
		vsock_warn("a second vhost-user frontend connected to %s; closing it (one VM per socket)",
			   b->socket_path);
		close(fd);
		return;
	}
	/* Messages arrive whole; the timeout only guards against a stalled frontend. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	vhost_user_dev_init(&b->vu, fd, b->cfg.guest_cid, &vu_ops, b);
	b->connected = true;
	ep_set(b, fd, EPOLLIN, TAG(TAG_VHOST_CONN, 0));
	vsock_info("vhost-user frontend connected");
}

static void on_uds_listen(struct vsock_backend *b)
{
	int fd = accept4(b->uds_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	unsigned i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_HANDSHAKES && b->hs[i].fd >= 0; i++)
		;
	if (i == MAX_HANDSHAKES) {
		vsock_warn("too many pending CONNECT handshakes on %s; closing a new client", b->uds_path);
		close(fd);
		return;
	}
	b->hs[i] = (struct hybrid_handshake) { .fd = fd, .deadline_ms = mono_ms() + HYBRID_HANDSHAKE_TIMEOUT_MS };
	ep_set(b, fd, EPOLLIN, TAG(TAG_HANDSHAKE, i));
}

static void handshake_end(struct vsock_backend *b, unsigned i, bool close_fd)
{
	ep_set(b, b->hs[i].fd, 0, 0);
	if (close_fd)
		close(b->hs[i].fd);
	b->hs[i].fd = -1;
}

static void on_handshake(struct vsock_backend *b, unsigned i)
{
	uint32_t port;
	int fd = b->hs[i].fd, r;

	if (i >= MAX_HANDSHAKES || fd < 0)
		return;
	r = hybrid_handshake_read(&b->hs[i], &port);
	if (r == 0)
		return;
	if (r < 0) {
		if (r == -EINVAL)
			vsock_warn("host client on %s sent a malformed CONNECT line; closing it", b->uds_path);
		handshake_end(b, i, true);
		return;
	}
	handshake_end(b, i, false);
	if (vsock_dev_host_connect(&b->dev, fd, port) < 0) {
		vsock_warn("connection table full; refusing host connection to guest port %u", port);
		close(fd);
	}
	b->work = true;
}

static void expire_handshakes(struct vsock_backend *b, long long now)
{
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		if (b->hs[i].fd >= 0 && now >= b->hs[i].deadline_ms)
			handshake_end(b, i, true);
}

static void on_kick(struct vsock_backend *b, unsigned idx)
{
	uint64_t n;

	if (idx >= VHOST_USER_N_VRINGS || b->vu.vq[idx].kick_fd < 0)
		return;
	if (read(b->vu.vq[idx].kick_fd, &n, sizeof(n)) == sizeof(n))
		b->vu.vq[idx].stat_kicks += n;
	else if (errno != EAGAIN)
		vsock_debug("reading kick fd of ring %u: %m", idx);
	b->work = true;
}

static void dispatch(struct vsock_backend *b, const struct epoll_event *ev, bool *stop)
{
	uint64_t v = TAG_VALUE(ev->data.u64);
	int r;

	switch (TAG_KIND(ev->data.u64)) {
	case TAG_STOP:
		*stop = true;
		break;
	case TAG_VHOST_LISTEN:
		on_vhost_listen(b);
		break;
	case TAG_VHOST_CONN:
		if (!b->connected)
			break;
		r = vhost_user_handle_message(&b->vu);
		if (r < 0)
			frontend_disconnect(b, r == -ECONNRESET ? "hung up" : "protocol error");
		break;
	case TAG_KICK:
		on_kick(b, (unsigned) v);
		break;
	case TAG_UDS_LISTEN:
		on_uds_listen(b);
		break;
	case TAG_HANDSHAKE:
		on_handshake(b, (unsigned) v);
		break;
	case TAG_HOST:
		vsock_dev_host_event(&b->dev, v, ev->events);
		b->work = true;
		break;
	}
}

/* ---- loop and lifetime ---------------------------------------------------------------- */

/* How long epoll may sleep, in ns. */
static long long loop_timeout(const struct vsock_backend *b, bool more)
{
	long long t = vsock_dev_next_timeout(&b->dev);

	if (more)
		return 0;
	if (b->tx_polling)
		return TX_POLL_NS;
	if (vsock_dev_tx_notify_pending(&b->dev))
		return 1000000;
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		if (b->hs[i].fd >= 0) {
			long long left = b->hs[i].deadline_ms - b->dev.now_ms;
			if (t < 0 || left < t)
				t = left < 0 ? 0 : left;
		}
	return (t < 0 || t > 1000 ? 1000 : t) * 1000000;
}

/* epoll_pwait2() for sub-millisecond polls; epoll_wait() (1 ms granularity) on kernels
 * older than 5.11. */
static int loop_wait(struct vsock_backend *b, struct epoll_event *evs, int max, long long timeout_ns)
{
	struct timespec ts = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };

	if (!b->no_pwait2) {
		int n = epoll_pwait2(b->epoll_fd, evs, max, &ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		b->no_pwait2 = true;
	}
	return epoll_wait(b->epoll_fd, evs, max, (int) ((timeout_ns + 999999) / 1000000));
}

/* After a pass over tx that took chains (got) or not: switches between kicks and polling
 * (TX_POLL_NS above). Polls only while vsock_dev_tx_poll_ok(). Returns true when the ring
 * needs another look right away. */
static bool tx_poll_update(struct vsock_backend *b, bool got)
{
	long long now;
	bool ok;

	if (!got && !b->tx_polling)
		return false;   /* the common idle pass: nothing to decide */
	now = mono_ns();
	ok = !b->cfg.no_tx_poll && vsock_dev_tx_poll_ok(&b->dev);
	if (got)
		b->tx_last_ns = now;
	if (!b->tx_polling) {
		if (got && ok) {
			b->tx_polling = true;
			vring_set_notify(b->dev.tx, false);
		}
		return false;
	}
	if (ok && now - b->tx_last_ns < TX_POLL_IDLE_NS)
		return false;
	b->tx_polling = false;
	vring_set_notify(b->dev.tx, true);
	return vring_avail_pending(b->dev.tx);
}

int vsock_backend_run(struct vsock_backend *b)
{
	struct epoll_event evs[64];
	bool stop = false, more = false;
	struct timespec cpu;

	while (!stop) {
		int n = loop_wait(b, evs, 64, loop_timeout(b, more));
		bool got = false;

		if (n < 0 && errno != EINTR) {
			vsock_err("epoll_wait failed: %m");
			return -errno;
		}
		vsock_dev_tick(&b->dev, mono_ms());
		for (int i = 0; i < n; i++)
			dispatch(b, &evs[i], &stop);
		expire_handshakes(b, b->dev.now_ms);
		if (b->connected && (b->work || more || b->tx_polling)) {
			uint64_t before = b->dev.stat_tx_chains;

			b->work = false;
			more = vsock_dev_process_tx(&b->dev);
			got = b->dev.stat_tx_chains != before;
		} else
			more = false;
		if (b->connected) {
			/* Idle (a timeout with nothing new): complete the tx batch now. An empty
			 * poll is not idle: the guest is between packets, and the batch waits
			 * for a quarter of the ring or for polling to end. */
			if (n == 0 && !got && !b->tx_polling)
				vsock_dev_flush_tx_notify(&b->dev);
			if (tx_poll_update(b, got))
				more = true;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	vsock_info("stopping: %llu packets from the guest, %llu to it, %llu bytes to the host, %llu to the guest, "
		   "%llu dropped; kicks tx %llu rx %llu, interrupts tx %llu rx %llu; %.3f s CPU",
		   (unsigned long long) b->dev.stat_tx_pkts, (unsigned long long) b->dev.stat_rx_pkts,
		   (unsigned long long) b->dev.stat_bytes_to_host, (unsigned long long) b->dev.stat_bytes_to_guest,
		   (unsigned long long) b->dev.stat_dropped,
		   (unsigned long long) b->dev.tx->stat_kicks, (unsigned long long) b->dev.rx->stat_kicks,
		   (unsigned long long) b->dev.tx->stat_calls, (unsigned long long) b->dev.rx->stat_calls,
		   (double) cpu.tv_sec + (double) cpu.tv_nsec / 1e9);
	return 0;
}

void vsock_backend_request_stop(struct vsock_backend *b)
{
	uint64_t one = 1;

	if (write(b->stop_fd, &one, sizeof(one)) < 0) {
		/* eventfd counter overflow is impossible here; nothing else to do */
	}
}

static int backend_listen(struct vsock_backend *b)
{
	int r;

	r = hybrid_listen(b->socket_path);
	if (r < 0) {
		vsock_err("cannot listen on the vhost-user socket %s: %s", b->socket_path, strerror(-r));
		return r;
	}
	b->vhost_listen_fd = r;
	r = hybrid_listen(b->uds_path);
	if (r < 0) {
		vsock_err("cannot listen on the hybrid vsock socket %s: %s", b->uds_path, strerror(-r));
		return r;
	}
	b->uds_listen_fd = r;
	ep_set(b, b->stop_fd, EPOLLIN, TAG(TAG_STOP, 0));
	ep_set(b, b->vhost_listen_fd, EPOLLIN, TAG(TAG_VHOST_LISTEN, 0));
	ep_set(b, b->uds_listen_fd, EPOLLIN, TAG(TAG_UDS_LISTEN, 0));
	return 0;
}

int vsock_backend_new(const struct vsock_backend_config *cfg, struct vsock_backend **out)
{
	struct vsock_backend *b;
	int r;

	if (!cfg->socket_path || !cfg->uds_path || cfg->guest_cid < 3 || cfg->guest_cid > 0xfffffffeull) {
		vsock_err("invalid backend configuration: need a socket path, a uds path and a guest CID in 3..4294967294");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		vsock_err("cannot set up the backend for %s: out of memory", cfg->socket_path);
		return -ENOMEM;
	}
	b->cfg = *cfg;
	b->socket_path = strdup(cfg->socket_path);
	b->uds_path = strdup(cfg->uds_path);
	b->vhost_listen_fd = b->uds_listen_fd = -1;
	b->vu.fd = -1;
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		b->hs[i].fd = -1;
	vhost_user_dev_init(&b->vu, -1, cfg->guest_cid, &vu_ops, b);
	vsock_dev_init(&b->dev, cfg->guest_cid, &b->vu.vq[0], &b->vu.vq[1], &host_ops, b);
	b->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r = !b->socket_path || !b->uds_path ? -ENOMEM : b->epoll_fd < 0 || b->stop_fd < 0 ? -errno : 0;
	if (r < 0)
		vsock_err("cannot set up the backend for %s: %s", cfg->socket_path, strerror(-r));
	else
		r = backend_listen(b);
	if (r < 0) {
		vsock_backend_free(b);
		return r;
	}
	b->cfg.socket_path = b->socket_path;
	b->cfg.uds_path = b->uds_path;
	*out = b;
	return 0;
}

void vsock_backend_free(struct vsock_backend *b)
{
	if (!b)
		return;
	vsock_dev_free(&b->dev);
	if (b->connected)
		vhost_user_dev_close(&b->vu);
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		if (b->hs[i].fd >= 0)
			close(b->hs[i].fd);
	if (b->vhost_listen_fd >= 0) {
		close(b->vhost_listen_fd);
		unlink(b->socket_path);
	}
	if (b->uds_listen_fd >= 0) {
		close(b->uds_listen_fd);
		unlink(b->uds_path);
	}
	if (b->epoll_fd >= 0)
		close(b->epoll_fd);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	free(b->socket_path);
	free(b->uds_path);
	free(b);
}

static void *backend_thread(void *arg)
{
	struct vsock_backend *b = arg;

	b->thread_result = vsock_backend_run(b);
	return NULL;
}

int vsock_backend_start_thread(const struct vsock_backend_config *cfg, struct vsock_backend **out)
{
	struct vsock_backend *b;
	int r = vsock_backend_new(cfg, &b);

	if (r < 0)
		return r;
	r = pthread_create(&b->thread, NULL, backend_thread, b);
	if (r != 0) {
		vsock_err("cannot start the backend thread for %s: %s", cfg->socket_path, strerror(r));
		vsock_backend_free(b);
		return -r;
	}
	*out = b;
	return 0;
}

int vsock_backend_stop_thread(struct vsock_backend *b)
{
	int r;

	vsock_backend_request_stop(b);
	pthread_join(b->thread, NULL);
	r = b->thread_result;
	vsock_backend_free(b);
	return r;
}
