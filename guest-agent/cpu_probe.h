/* cpu_probe: the I/O edge of confidential-VM detection: runs the CPUID leaves upstream's
 * detect_confidential_virtualization() runs and reads the SEV status MSR from /dev/cpu/0/msr
 * (root and the msr driver needed), filling struct cpuid_view (systemd/confidential_virt.h).
 * Only for the running system: under --root the view is left unavailable. */
#pragma once
#include "systemd/confidential_virt.h"

void cpu_probe(struct cpuid_view *v);
