/* ch_kvm: whether KVM really runs a guest here, for cloud-hypervisor (which has no
 * other accelerator). A /dev/kvm that opens proves nothing, so a child runs a
 * one-instruction guest under a deadline; the caller never waits longer than that. */
#pragma once

#define CH_KVM_PROBE_TIMEOUT_MS 1000

/* A child creates a VM whose one vCPU executes `hlt` and must report KVM_EXIT_HLT within
 * CH_KVM_PROBE_TIMEOUT_MS. Returns 0 or -ENODEV with *reason (malloc'd) set. */
int ch_kvm_probe(char **reason);
