/* vring: see vring.h. Ring fields are read exactly once into locals before they are
 * checked and used, because the guest can change them at any time. */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vsock/vring.h"
#include "vsock/vsock_log.h"

void vring_init(struct vring *vq, const char *name, const struct guest_memory *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->name = name;
	vq->mem = mem;
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

void vring_reset(struct vring *vq)
{
	const char *name = vq->name;
	const struct guest_memory *mem = vq->mem;
	uint64_t kicks = vq->stat_kicks, calls = vq->stat_calls;

	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	if (vq->err_fd >= 0)
		close(vq->err_fd);
	vring_init(vq, name, mem);
	vq->stat_kicks = kicks;
	vq->stat_calls = calls;
}

int vring_set_num(struct vring *vq, uint32_t num)
{
	if (num == 0 || num > VRING_MAX_SIZE || (num & (num - 1)) != 0)
		return -EINVAL;
	vq->size = (uint16_t) (num == VRING_MAX_SIZE ? VRING_MAX_SIZE : num);
	if (vq->addr_set)
		return vring_map(vq);
	return 0;
}

int vring_set_addr(struct vring *vq, uint64_t desc_qva, uint64_t used_qva, uint64_t avail_qva)
{
	vq->desc_qva = desc_qva;
	vq->used_qva = used_qva;
	vq->avail_qva = avail_qva;
	vq->addr_set = true;
	vq->broken = false;
	return vring_map(vq);
}

void vring_unmap(struct vring *vq)
{
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

int vring_map(struct vring *vq)
{
	uint64_t n = vq->size;

	vring_unmap(vq);
	if (!vq->addr_set || n == 0)
		return 0;
	if (vq->desc_qva % 16 || vq->avail_qva % 2 || vq->used_qva % 4) {
		vring_mark_broken(vq, "ring addresses misaligned (desc 0x%llx avail 0x%llx used 0x%llx)",
				  (unsigned long long) vq->desc_qva, (unsigned long long) vq->avail_qva,
				  (unsigned long long) vq->used_qva);
		return -EFAULT;
	}
	vq->desc = guest_memory_qva_ptr(vq->mem, vq->desc_qva, 16 * n);
	vq->avail = guest_memory_qva_ptr(vq->mem, vq->avail_qva, 6 + 2 * n);
	vq->used = guest_memory_qva_ptr(vq->mem, vq->used_qva, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		vring_mark_broken(vq, "ring (desc 0x%llx avail 0x%llx used 0x%llx, size %llu) outside the memory table",
				  (unsigned long long) vq->desc_qva, (unsigned long long) vq->avail_qva,
				  (unsigned long long) vq->used_qva, (unsigned long long) n);
		vring_unmap(vq);
		return -EFAULT;
	}
	/* A reset guest zeroes its rings; continue from what is really there. */
	vq->used_idx = le16toh(__atomic_load_n(&vq->used[1], __ATOMIC_ACQUIRE));
	return 0;
}

bool vring_ready(const struct vring *vq)
{
	return vq->started && vq->enabled && vq->desc && !vq->broken;
}

void vring_mark_broken(struct vring *vq, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	uint64_t one = 1;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!vq->broken)
		vsock_err("%s queue broken: %s; the queue stays stopped until the guest resets the device",
			  vq->name, why);
	vq->broken = true;
	if (vq->err_fd >= 0 && write(vq->err_fd, &one, sizeof(one)) < 0)
		vsock_debug("cannot signal the %s error eventfd: %m", vq->name);
}

/* Appends descriptor d (index i) of the chain to c; returns 0 or -EIO (queue broken). */
static int chain_add(struct vring *vq, struct vring_chain *c, uint16_t i, const struct vring_desc *d)
{
	uint64_t addr = le64toh(d->addr);
	uint32_t len = le32toh(d->len);
	uint16_t flags = le16toh(d->flags);

	if (flags & VRING_DESC_F_INDIRECT) {
		vring_mark_broken(vq, "descriptor %u is INDIRECT, which was not negotiated", i);
		return -EIO;
	}
	if (len == 0)
		return 0;   /* harmless: contributes no bytes */
	if (!guest_memory_range_ok(vq->mem, addr, len)) {
		vring_mark_broken(vq, "descriptor %u: buffer 0x%llx+%u outside guest memory",
				  i, (unsigned long long) addr, len);
		return -EIO;
	}
	if (!(flags & VRING_DESC_F_WRITE) && c->n_write > 0) {
		vring_mark_broken(vq, "descriptor %u: readable buffer after a writable one", i);
		return -EIO;
	}
	if (c->n_read + c->n_write >= VRING_MAX_SEGS) {
		vring_mark_broken(vq, "chain at head %u has more than %d buffers", c->head, VRING_MAX_SEGS);
		return -EIO;
	}
	c->segs[c->n_read + c->n_write] = (struct vring_seg) { .gpa = addr, .len = len };
	if (flags & VRING_DESC_F_WRITE) {
		c->n_write++;
		c->write_len += len;
	} else {
		c->n_read++;
		c->read_len += len;
	}
	return 0;
}

static int chain_walk(struct vring *vq, struct vring_chain *c)
{
	uint16_t i = c->head;

	for (unsigned visited = 0;; visited++) {
		struct vring_desc d;

		if (visited >= vq->size) {
			vring_mark_broken(vq, "chain at head %u loops (more than %u descriptors)", c->head, vq->size);
			return -EIO;
		}
		memcpy(&d, (const void *) &vq->desc[i], sizeof(d));
		if (chain_add(vq, c, i, &d) < 0)
			return -EIO;
		if (!(le16toh(d.flags) & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= vq->size) {
			vring_mark_broken(vq, "descriptor next index %u beyond queue size %u", i, vq->size);
			return -EIO;
		}
	}
}

int vring_pop(struct vring *vq, struct vring_chain *c)
{
	uint16_t avail_idx, pending, head;

	if (!vring_ready(vq))
		return vq->broken ? -EIO : 0;
	avail_idx = le16toh(__atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE));
	pending = (uint16_t) (avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size) {
		vring_mark_broken(vq, "avail index jumped from %u to %u (queue size %u)",
				  vq->last_avail, avail_idx, vq->size);
		return -EIO;
	}
	head = le16toh(__atomic_load_n(&vq->avail[2 + vq->last_avail % vq->size], __ATOMIC_RELAXED));
	if (head >= vq->size) {
		vring_mark_broken(vq, "avail ring entry %u names head %u beyond queue size %u",
				  vq->last_avail, head, vq->size);
		return -EIO;
	}
	c->head = head;
	c->n_read = c->n_write = 0;
	c->read_len = c->write_len = 0;
	if (chain_walk(vq, c) < 0)
		return -EIO;
	vq->last_avail++;
	return 1;
}

void vring_unpop(struct vring *vq)
{
	vq->last_avail--;
}

void vring_push(struct vring *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *ring;
	struct vring_used_elem e = { .id = htole32(head), .len = htole32(len) };

	if (!vq->used)
		return;
	ring = (struct vring_used_elem *) (vq->used + 2);
	memcpy(&ring[vq->used_idx % vq->size], &e, sizeof(e));
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used[1], htole16(vq->used_idx), __ATOMIC_RELEASE);
	vq->pushed = true;
}

void vring_set_notify(struct vring *vq, bool on)
{
	/* A stopped ring's memory belongs to the guest (and the next backend) again. */
	if (!vring_ready(vq))
		return;
	__atomic_store_n(&vq->used[0], htole16(on ? 0 : VRING_USED_F_NO_NOTIFY), __ATOMIC_RELAXED);
	/* Orders the flag before our next read of avail->idx; the driver publishes its avail
	 * index before it reads the flag, so one of the two sides sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vring_avail_pending(const struct vring *vq)
{
	if (!vring_ready(vq))
		return false;
	return le16toh(__atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE)) != vq->last_avail;
}

void vring_notify(struct vring *vq)
{
	uint64_t one = 1;
	uint16_t flags;

	if (!vq->pushed || !vq->avail)
		return;
	vq->pushed = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = le16toh(__atomic_load_n(&vq->avail[0], __ATOMIC_RELAXED));
	if (flags & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	if (vq->call_fd < 0)
		return;
	vq->stat_calls++;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vsock_warn("cannot signal the %s call eventfd: %m", vq->name);
}

int vring_chain_iov(const struct vring *vq, const struct vring_chain *c, bool writable, uint64_t offset,
		    uint64_t len, struct iovec *iov, int max, uint64_t *got)
{
	unsigned first = writable ? c->n_read : 0;
	unsigned end = writable ? c->n_read + c->n_write : c->n_read;
	int n = 0;

	*got = 0;
	for (unsigned s = first; s < end && len > 0; s++) {
		uint64_t seg_len = c->segs[s].len, take;
		int r;

		if (offset >= seg_len) {
			offset -= seg_len;
			continue;
		}
		take = seg_len - offset < len ? seg_len - offset : len;
		r = guest_memory_iov(vq->mem, c->segs[s].gpa + offset, take, iov + n, max - n);
		if (r < 0)
			return r;
		n += r;
		*got += take;
		len -= take;
		offset = 0;
	}
	return n;
}

#define COPY_IOV_MAX (VRING_MAX_SEGS * GUEST_MEM_MAX_REGIONS)

static long chain_copy(const struct vring *vq, const struct vring_chain *c, bool writable,
		       uint64_t offset, void *buf, uint64_t len)
{
	struct iovec iov[COPY_IOV_MAX];
	uint64_t got;
	uint8_t *p = buf;
	int n;

	n = vring_chain_iov(vq, c, writable, offset, len, iov, COPY_IOV_MAX, &got);
	if (n < 0)
		return -EFAULT;
	for (int i = 0; i < n; i++) {
		if (writable)
			memcpy(iov[i].iov_base, p, iov[i].iov_len);
		else
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	return (long) got;
}

long vring_chain_read(const struct vring *vq, const struct vring_chain *c, uint64_t offset, void *buf, uint64_t len)
{
	return chain_copy(vq, c, false, offset, buf, len);
}

long vring_chain_write(const struct vring *vq, const struct vring_chain *c, uint64_t offset, const void *buf, uint64_t len)
{
	return chain_copy(vq, c, true, offset, (void *) buf, len);
}
