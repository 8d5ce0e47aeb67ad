/* runner: one case on one image flavor, start to finish, on the case's hypervisor (QEMU
 * or cloud-hypervisor, driven through hypervisor/hypervisor.h). Private 0700 directory,
 * fresh HMAC key, manifest disk, the VM with the credentials (memfds or the REST API),
 * the report over the chosen transport, the host's verdict, stop, cleanup. Nothing
 * survives it unless --keep: no VM process, no directory, no socket. Thread-safe: the
 * harness runs several at once; each only touches its own struct run_live slot (atomics)
 * and its result.
 *
 * cloud-hypervisor: where it is missing, older than v26, or KVM does not really run a
 * guest, the case is skipped with that reason, in well under 5 s and without a hang.
 * fw_cfg credentials cannot be sent to it: such a case ends with that diagnosis, unbooted.
 * Test-only environment: CREDSCOPE_CLOUD_HYPERVISOR names its binary (default: PATH
 * lookup of "cloud-hypervisor"); CREDSCOPE_CH_ASSUME_KVM=1 skips the KVM probe. */
#pragma once
#include "output/progress.h"   /* struct run_live: what the live line shows */
#include "output/result.h"
#include "runner/case.h"
#include "runner/run_opts.h"

void run_case(const struct run_opts *o, const struct test_case *tc, const char *image, struct run_live *live,
	      struct case_result *res);
