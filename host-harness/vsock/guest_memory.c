/* guest_memory: see guest_memory.h. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vsock/guest_memory.h"

static bool range_overflows(uint64_t start, uint64_t len)
{
	return len == 0 || start + len < start;
}

int guest_memory_add(struct guest_memory *m, uint64_t gpa, uint64_t size, uint64_t qva, void *host)
{
	if (m->n_regions >= GUEST_MEM_MAX_REGIONS)
		return -E2BIG;
	if (!host || range_overflows(gpa, size) || range_overflows(qva, size) ||
	    (uintptr_t) host + size < (uintptr_t) host)
		return -EINVAL;
	for (unsigned i = 0; i < m->n_regions; i++) {
		const struct guest_region *r = &m->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EINVAL;
	}
	m->regions[m->n_regions++] = (struct guest_region) {
		.gpa = gpa, .size = size, .qva = qva, .host = host,
	};
	return 0;
}

int guest_memory_map_fd(struct guest_memory *m, int fd, uint64_t gpa, uint64_t size,
			uint64_t qva, uint64_t mmap_offset)
{
	uint64_t map_len;
	void *p;
	int r;

	/* Map from offset 0 and add mmap_offset ourselves: the offset need not be aligned
	 * to the page size of a hugetlbfs-backed fd. */
	if (range_overflows(mmap_offset, size) || mmap_offset + size > SIZE_MAX)
		return -EINVAL;
	map_len = mmap_offset + size;
	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r = guest_memory_add(m, gpa, size, qva, (uint8_t *) p + mmap_offset);
	if (r < 0) {
		munmap(p, map_len);
		return r;
	}
	m->regions[m->n_regions - 1].map_base = p;
	m->regions[m->n_regions - 1].map_len = map_len;
	return 0;
}

void guest_memory_clear(struct guest_memory *m)
{
	for (unsigned i = 0; i < m->n_regions; i++)
		if (m->regions[i].map_base)
			munmap(m->regions[i].map_base, m->regions[i].map_len);
	memset(m, 0, sizeof(*m));
}

/* The region holding address a in the space selected by use_qva. */
static const struct guest_region *find_region(const struct guest_memory *m, uint64_t a, bool use_qva)
{
	for (unsigned i = 0; i < m->n_regions; i++) {
		const struct guest_region *r = &m->regions[i];
		uint64_t start = use_qva ? r->qva : r->gpa;
		if (a >= start && a - start < r->size)
			return r;
	}
	return NULL;
}

static void *lookup(const struct guest_memory *m, uint64_t a, uint64_t len, bool use_qva)
{
	const struct guest_region *r;
	uint64_t off;

	if (range_overflows(a, len))
		return NULL;
	r = find_region(m, a, use_qva);
	if (!r)
		return NULL;
	off = a - (use_qva ? r->qva : r->gpa);
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

void *guest_memory_gpa_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	return lookup(m, gpa, len, false);
}

void *guest_memory_qva_ptr(const struct guest_memory *m, uint64_t qva, uint64_t len)
{
	return lookup(m, qva, len, true);
}

int guest_memory_iov(const struct guest_memory *m, uint64_t gpa, uint64_t len,
		     struct iovec *iov, int max)
{
	int n = 0;

	if (len == 0)
		return 0;
	if (gpa + len < gpa)
		return -EFAULT;
	while (len > 0) {
		const struct guest_region *r = find_region(m, gpa, false);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (n >= max)
			return -E2BIG;
		off = gpa - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		iov[n++] = (struct iovec) { .iov_base = r->host + off, .iov_len = chunk };
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

bool guest_memory_range_ok(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	struct iovec iov[GUEST_MEM_MAX_REGIONS];

	return len > 0 && guest_memory_iov(m, gpa, len, iov, GUEST_MEM_MAX_REGIONS) > 0;
}
