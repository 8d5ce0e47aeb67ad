/* guest_memory: the guest RAM regions a vhost-user frontend shared with us, and the only
 * way the backend turns guest addresses into pointers. Every lookup checks that the whole
 * range [addr, addr+len) lies inside mapped regions (a range may span adjacent regions);
 * nothing outside the table is ever touched. Guest-physical addresses (GPA, in
 * descriptors) and frontend virtual addresses (QVA, in SET_VRING_ADDR) are separate
 * address spaces. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define GUEST_MEM_MAX_REGIONS 8

struct guest_region {
	uint64_t gpa;         /* guest-physical start */
	uint64_t size;
	uint64_t qva;         /* frontend (QEMU) virtual start */
	uint8_t *host;        /* our pointer to gpa */
	void *map_base;       /* what to munmap, NULL when the caller owns the memory */
	size_t map_len;
};

struct guest_memory {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned n_regions;
};

/* Adds memory the caller owns (tests, fuzzing). -E2BIG if full, -EINVAL on overflow or
 * overlap with an existing region. */
int guest_memory_add(struct guest_memory *m, uint64_t gpa, uint64_t size, uint64_t qva, void *host);
/* mmaps size bytes of fd at mmap_offset (MAP_SHARED) as a new region. Does not close fd. */
int guest_memory_map_fd(struct guest_memory *m, int fd, uint64_t gpa, uint64_t size,
			uint64_t qva, uint64_t mmap_offset);
/* Unmaps everything and empties the table. */
void guest_memory_clear(struct guest_memory *m);

/* Pointer to [gpa, gpa+len) if it lies inside ONE region, else NULL (len 0 is invalid). */
void *guest_memory_gpa_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len);
/* Same for a frontend virtual address. */
void *guest_memory_qva_ptr(const struct guest_memory *m, uint64_t qva, uint64_t len);
/* True if every byte of [gpa, gpa+len) is mapped (possibly across regions). */
bool guest_memory_range_ok(const struct guest_memory *m, uint64_t gpa, uint64_t len);

/* Fills iov[] with the pieces of [gpa, gpa+len). Returns the number of entries, -EFAULT if
 * some byte is unmapped, -E2BIG if more than max entries would be needed. */
int guest_memory_iov(const struct guest_memory *m, uint64_t gpa, uint64_t len,
		     struct iovec *iov, int max);
