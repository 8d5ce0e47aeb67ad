/* confidential_virt: upstream detect_confidential_virtualization() over CPUID/MSR answers.
 * See confidential_virt.h. Constants: src/fundamental/confidential-virt-fundamental.h@v254,
 * src/fundamental/confidential-virt.h:9-74@262. */
#include "systemd/confidential_virt.h"

#include <stdio.h>
#include <string.h>

#define CPUID_AMD_GET_ENCRYPTED_MEMORY_CAPABILITIES 0x8000001fu
#define EAX_SEV         (1u << 1)
#define MSR_SEV         (1u << 0)
#define MSR_SEV_ES      (1u << 1)
#define MSR_SEV_SNP     (1u << 2)

static const char *detect_sev(const struct cpuid_view *v, const struct systemd_release *rel, struct cvm_result *out)
{
	if (v->max_extended < CPUID_AMD_GET_ENCRYPTED_MEMORY_CAPABILITIES)
		return "none";
	if (!(v->sev_eax & EAX_SEV))
		return v->hyperv_snp ? "sev-snp" : "none";
	if (v->msr_error) {
		out->uncertain = true;
		snprintf(out->note, sizeof out->note, "the CPU reports SEV but /dev/cpu/0/msr cannot be read now, so "
			 "systemd %s", rel->cvm_msr_fail_closed ? "assumes SEV (fail closed)"
			 : "finds no confidential VM (fail open): a real SEV guest then imports fw_cfg and SMBIOS");
		return rel->cvm_msr_fail_closed ? "sev" : "none";
	}
	if (v->msr_boot_unknown)
		out->uncertain = true;
	if (v->msr_boot_unknown)
		snprintf(out->note, sizeof out->note, "the msr driver is a module: whether PID 1 could read "
			 "/dev/cpu/0/msr at boot cannot be seen now (without it systemd %s)",
			 rel->cvm_msr_fail_closed ? "assumes SEV" : "finds no confidential VM");
	if (v->msr & MSR_SEV_SNP)
		return "sev-snp";
	if (v->msr & MSR_SEV_ES)
		return "sev-es";
	if (v->msr & MSR_SEV)
		return "sev";
	return "none";
}

void cvm_decide(const struct cpuid_view *v, const struct systemd_release *rel, struct cvm_result *out)
{
	out->kind = "none";
	out->note[0] = 0;
	out->uncertain = false;
	if (!v->available) {
		snprintf(out->note, sizeof out->note, "CPUID of the machine PID 1 ran on cannot be read here "
			 "(--root, or not x86-64): assumed no confidential VM");
		return;
	}
	if (!v->hypervisor)   /* bare metal is never a CVM */
		return;
	if (strcmp(v->vendor, "AuthenticAMD") == 0)
		out->kind = detect_sev(v, rel, out);
	else if (strcmp(v->vendor, "GenuineIntel") == 0)
		out->kind = strcmp(v->tdx_sig, "IntelTDX    ") == 0 || v->hyperv_tdx ? "tdx" : "none";
}
