/* cpu_probe: CPUID and the SEV MSR, as src/basic/confidential-virt.c reads them. */
#include "cpu_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>

static void leaf(uint32_t fn, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__cpuid_count(fn, 0, *a, *b, *c, *d);
}

/* cpuid_leaf(): the 12 signature bytes from EBX, ECX, EDX, or EBX, EDX, ECX when swapped. */
static uint32_t signature(uint32_t fn, char sig[13], bool swapped)
{
	uint32_t a, r[3];

	leaf(fn, &a, &r[0], swapped ? &r[2] : &r[1], swapped ? &r[1] : &r[2]);
	memcpy(sig, r, 12);
	sig[12] = 0;
	return a;
}

/* detect_hyperv_cvm(): isolation type ISOLTYPE of a Hyper-V guest partition. */
static bool hyperv_isolation(uint32_t isoltype)
{
	uint32_t a, b, c, d;
	char sig[13];
	uint32_t feat = signature(0x40000000u, sig, false);

	if (feat < 0x40000005u || feat > 0x4000ffffu || strcmp(sig, "Microsoft Hv") != 0)
		return false;
	leaf(0x40000003u, &a, &b, &c, &d);
	if (!(b & (1u << 22)) || (b & (1u << 12)))
		return false;
	leaf(0x4000000cu, &a, &b, &c, &d);
	return (b & 0xfu) == isoltype;
}

static int read_msr(uint64_t index, uint64_t *out)
{
	int fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, out, sizeof *out, (off_t) index);
	close(fd);
	return n == (ssize_t) sizeof *out ? 0 : n < 0 ? -errno : -EIO;
}

void cpu_probe(struct cpuid_view *v)
{
	uint32_t a, b, c, d;
	struct stat st;

	memset(v, 0, sizeof *v);
	v->available = true;
	leaf(1, &a, &b, &c, &d);
	v->hypervisor = c & (1u << 31);
	signature(0, v->vendor, true);
	leaf(0x80000000u, &v->max_extended, &b, &c, &d);
	if (v->max_extended >= 0x8000001fu)
		leaf(0x8000001fu, &v->sev_eax, &b, &c, &d);
	signature(0x21, v->tdx_sig, true);
	if (v->hypervisor) {
		v->hyperv_snp = hyperv_isolation(2);
		v->hyperv_tdx = hyperv_isolation(3);
	}
	v->msr_error = (v->sev_eax & 2u) && v->hypervisor ? read_msr(0xc0010131u, &v->msr) : -ENODATA;
	/* a loadable msr driver has /sys/module/msr/initstate; a built-in one has not */
	v->msr_boot_unknown = stat("/sys/module/msr/initstate", &st) == 0;
}
#else
void cpu_probe(struct cpuid_view *v)
{
	memset(v, 0, sizeof *v);
}
#endif
