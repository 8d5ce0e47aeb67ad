/* accel: which accelerator QEMU can really use here. /dev/kvm existing proves nothing (on
 * some hosts it opens but every guest hangs), so accel_probe() boots a 512-byte probe
 * guest under KVM that writes one byte to an isa-debug-exit port; only if QEMU exits with
 * that byte's code within the timeout is KVM used. Otherwise TCG, with the reason. */
#pragma once

/* Returns "kvm" or "tcg" (static strings). *why (malloc'd, may be NULL) says why not KVM.
 * force: NULL or "auto" probes; "kvm"/"tcg" are taken as given. */
const char *accel_probe(const char *qemu_binary, const char *force, int timeout_ms, char **why);
/* Scale for deadlines: 1 under KVM, larger under TCG. */
unsigned accel_time_scale(const char *accel);
