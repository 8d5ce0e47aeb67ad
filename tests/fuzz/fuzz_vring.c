/* fuzz_vring: the input is the guest's memory (64 KiB at GPA 0x10000): descriptor tables,
 * avail rings and buffers of both queues. The device pops and handles whatever chains and
 * vsock packets it describes, answers into rx, and must neither crash nor touch memory
 * outside the region (ASan watches the guard zone after it: the region is one heap block,
 * allocated once per process and rewritten with each input, the rest zeroed, so no input
 * pays for a fresh 64 KiB allocation). Layout, by offset:
 *   0x000 tx desc[16]  0x100 tx avail  0x200 tx used
 *   0x400 rx desc[16]  0x500 rx avail  0x600 rx used      buffers anywhere. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock/guest_memory.h"
#include "vsock/virtio_vsock.h"
#include "vsock/vring.h"
#include "vsock/vsock_log.h"

#define RAM_GPA  0x10000ull
#define RAM_SIZE 0x10000u
#define QSIZE    16

struct peers { int fds[VSOCK_MAX_CONNS]; unsigned n; };

static int fz_connect(void *ctx, uint32_t port)
{
	struct peers *p = ctx;
	int sv[2];

	if (port % 2 || p->n >= VSOCK_MAX_CONNS)
		return -ECONNREFUSED;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	/* give the guest something to read back */
	if (write(sv[1], "0123456789abcdef", 16) < 0)
		return -EIO;
	p->fds[p->n++] = sv[1];
	return sv[0];
}

static void fz_watch(void *ctx, int fd, uint32_t events, uint64_t token)
{
}

static const struct vsock_host_ops fz_ops = { .connect = fz_connect, .watch = fz_watch };

static void ring_setup(struct vring *vq, uint64_t base)
{
	vring_set_num(vq, QSIZE);
	vring_set_addr(vq, base, base + 0x200, base + 0x100);
	vq->started = vq->enabled = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	size_t n = size < RAM_SIZE ? size : RAM_SIZE;
	struct guest_memory mem = { 0 };
	struct vring rx, tx;
	struct vsock_dev d;
	struct peers peers = { .n = 0 };

	if (!ram && !(ram = malloc(RAM_SIZE)))
		abort();
	vsock_log_set_level(VSOCK_LOG_ERR);
	memcpy(ram, data, n);
	memset(ram + n, 0, RAM_SIZE - n);
	guest_memory_add(&mem, RAM_GPA, RAM_SIZE, RAM_GPA, ram);
	vring_init(&rx, "rx", &mem);
	vring_init(&tx, "tx", &mem);
	ring_setup(&tx, RAM_GPA);
	ring_setup(&rx, RAM_GPA + 0x400);
	vsock_dev_init(&d, 3, &rx, &tx, &fz_ops, &peers);
	for (int round = 0; round < 3; round++) {
		vsock_dev_process_tx(&d);
		vsock_dev_poke_all(&d);
		vsock_dev_process_rx(&d);
		vsock_dev_tick(&d, 10000LL * (round + 1));
	}
	vsock_dev_free(&d);
	for (unsigned i = 0; i < peers.n; i++)
		close(peers.fds[i]);
	return 0;
}
