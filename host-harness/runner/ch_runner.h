/* ch_runner: one harness case on cloud-hypervisor ("hypervisor": "cloud-hypervisor").
 *
 * Promise: where cloud-hypervisor is missing, older than v26, or KVM does not really run
 * a guest, the case is reported as skipped with that reason, in well under 5 s and
 * without a hang. Otherwise it runs like a QEMU case (private 0700 directory, fresh HMAC
 * key, manifest disk, the host's own verdict) with cloud_hypervisor.c as the launcher:
 * SMBIOS credentials go as binary OEM strings in vm.create, and the report arrives
 * through CH's hybrid vsock on "<dir>/vsock.sock_5123". fw_cfg credentials cannot be
 * sent to CH: such a case ends with that diagnosis, unbooted.
 *
 * Test-only environment: CREDSCOPE_CLOUD_HYPERVISOR names the binary (default: PATH
 * lookup of "cloud-hypervisor"); CREDSCOPE_CH_ASSUME_KVM=1 skips the KVM probe so that
 * the protocol can be exercised against tests/helpers/fake-ch-api. */
#pragma once
#include "runner/case.h"
#include "output/result.h"
#include "runner/runner.h"

void ch_run_case(const struct run_opts *o, const struct test_case *tc, const char *image,
		 struct run_live *live, struct case_result *res);
