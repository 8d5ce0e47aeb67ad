/* confidential_virt: detect_confidential_virtualization() (src/basic/confidential-virt.c) as a
 * pure function over what CPUID and the SEV status MSR answer.
 *
 * Promise: cvm_decide() follows upstream's x86-64 path: no hypervisor bit (CPUID 1 ECX bit 31)
 * means bare metal and "none", whatever the CPU can do (a SEV-capable host is no CVM; upstream
 * never reads /proc/cpuinfo); "AuthenticAMD" goes to the SEV path (leaf 0x8000001f EAX bit 1,
 * else Hyper-V isolation SNP; then MSR 0xc0010131 bits 2/1/0 = sev-snp/sev-es/sev), "GenuineIntel"
 * to TDX (leaf 0x21 signature "IntelTDX    ", else Hyper-V isolation TDX). When the MSR cannot
 * be read, 254-257 answer "none" (msr() fails open: src/basic/confidential-virt.c:46-72@v254) and
 * 262 "sev" (fails closed: :144-152@262), per the version's row. What a later process cannot
 * know about PID 1's moment (whether /dev/cpu/0/msr existed then) is said in `note`. Pure.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "systemd/versions.h"

struct cpuid_view {
	bool available;             /* CPUID was executed (x86-64, the running system, not --root) */
	bool hypervisor;            /* CPUID 1 ECX bit 31 */
	char vendor[13];            /* CPUID 0: "AuthenticAMD", "GenuineIntel", ... */
	uint32_t max_extended;      /* CPUID 0x80000000 EAX */
	uint32_t sev_eax;           /* CPUID 0x8000001f EAX (bit 1: SEV) */
	char tdx_sig[13];           /* CPUID 0x21 EBX EDX ECX */
	bool hyperv_snp, hyperv_tdx;  /* Hyper-V isolation type SNP / TDX (leaves 0x40000000, 3, 0xC) */
	int msr_error;              /* 0 when MSR 0xc0010131 was read, else -errno */
	uint64_t msr;               /* its value */
	bool msr_boot_unknown;      /* the msr driver is a module (not built in): whether PID 1 could
	                               read /dev/cpu/0/msr at boot cannot be told now */
};

struct cvm_result {
	const char *kind;           /* "none", "sev", "sev-es", "sev-snp", "tdx" */
	char note[240];             /* what could not be seen, or "" */
	bool uncertain;             /* the note concerns this CPU: PID 1 may have decided otherwise */
};

void cvm_decide(const struct cpuid_view *v, const struct systemd_release *rel, struct cvm_result *out);
