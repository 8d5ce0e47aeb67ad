/* run_wait: waiting for a started VM's verdict, and the words for a run that ended
 * without one. One loop for every hypervisor: the report channel, the console and the
 * VM process are polled until a report is judged, the VM exits, the guest panics, a
 * signal arrives or a deadline of the run's profile passes; the diagnosis names the
 * boot phase reached. */
#pragma once
#include "runner/run_common.h"

/* The profiles of the two backends (deadlines and wording; run_common.h). */
extern const struct run_profile run_profile_qemu;
extern const struct run_profile run_profile_cloud_hypervisor;

void run_wait_for_verdict(struct run *r);
