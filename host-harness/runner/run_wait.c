/* run_wait: polls a started VM until its verdict, a failure or a deadline. */
#include "runner/run_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "hypervisor/accel.h"

#define REPORT_READ_MS 30000

static const char *phase_hint(const struct run *r)
{
	return r->con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
	       r->con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "";
}

static void diagnose_first_contact(struct run *r, unsigned secs)
{
	run_diag(r, OUTCOME_ERROR, "stopped in phase firmware: no console output within %u s (the kernel never "
		 "started: check the kernel image and the firmware)", secs);
}

static void qemu_no_report(struct run *r, unsigned secs, long long now)
{
	if (r->con.verdict_line[0])
		run_diag(r, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s within %u s", r->con.verdict_line, r->transport, secs);
	else
		run_diag(r, OUTCOME_ERROR, "stopped in phase %s: no report within %u s, last console output %lld s ago%s",
			 boot_phase_name(r->con.phase), secs, (now - r->con.last_output_ms) / 1000, phase_hint(r));
}

static void diagnose_idle(struct run *r, unsigned secs)
{
	if (r->con.verdict_line[0])
		run_diag(r, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s (console silent for %u s)", r->con.verdict_line, r->transport, secs);
	else
		run_diag(r, OUTCOME_ERROR, "hung in phase %s: no console output and no report for %u s%s",
			 boot_phase_name(r->con.phase), secs, phase_hint(r));
}

static void diagnose_panic(struct run *r)
{
	run_diag(r, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s", boot_phase_name(r->con.phase),
		 r->con.panic_line);
}

static void qemu_exit(struct run *r, int status)
{
	(void)console_watch_update(&r->con, mono_ms());   /* the panic line may be the last thing */
	if (r->con.panicked)
		diagnose_panic(r);
	else
		run_diag(r, OUTCOME_ERROR, "the guest stopped in phase %s without a report (QEMU exited with status %d)",
			 boot_phase_name(r->con.phase), WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static void ch_no_report(struct run *r, unsigned secs, long long now)
{
	run_diag(r, OUTCOME_ERROR, "stopped in phase %s: no report through cloud-hypervisor's hybrid vsock within %u s%s%s",
		 boot_phase_name(r->con.phase), secs, r->con.verdict_line[0] ? "; the console shows " : "",
		 r->con.verdict_line);
}

static void ch_exit(struct run *r, int status)
{
	run_diag(r, OUTCOME_ERROR, "cloud-hypervisor exited in phase %s without a report (status %d); see "
		 "cloud-hypervisor.log in the run directory", boot_phase_name(r->con.phase), status);
}

const struct run_profile run_profile_qemu = {
	.ops = &qemu_ops,
	.first_contact_s = 15, .verdict_s = 90, .idle_s = 15,   /* under KVM */
	.scale_by_accel = true,
	.watch_panic = true,
	.channel_name = "report channel",
	.diagnose_exit = qemu_exit,
	.diagnose_no_report = qemu_no_report,
};

const struct run_profile run_profile_cloud_hypervisor = {
	.ops = &cloud_hypervisor_ops,
	.verdict_s = 120,            /* KVM only: no TCG scaling needed */
	.channel_name = "hybrid vsock report channel",
	.diagnose_exit = ch_exit,
	.diagnose_no_report = ch_no_report,
};

/* A case's own timeout wins; a profile's 0 is not watched at all. */
static unsigned deadline_s(const struct run *r, unsigned profile_s, unsigned case_s)
{
	unsigned scale = r->prof->scale_by_accel ? accel_time_scale(r->res->accel) : 1;

	if (!profile_s)
		return 0;
	return case_s ? case_s : profile_s * scale;
}

/* Returns true when the wait is over: a report was judged or the channel failed. */
static bool read_report(struct run *r)
{
	struct pollfd p = { .fd = report_channel_poll_fd(&r->ch), .events = POLLIN };
	uint8_t *buf = NULL;
	size_t len = 0;
	int x;

	if (poll(&p, p.fd >= 0 ? 1 : 0, 200) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
		return false;
	x = report_channel_readable(&r->ch, REPORT_READ_MS, &buf, &len);
	if (x == 1) {
		atomic_store(&r->live->phase, PHASE_REPORT);
		run_judge_report(r, buf, len);
		free(buf);
		return true;
	}
	if (x < 0 && x != -EPIPE)
		run_diag(r, OUTCOME_ERROR, "the %s failed: %s", r->prof->channel_name, strerror(-x));
	if (x < 0)
		report_channel_close(&r->ch);   /* the VM's side went away: its exit is diagnosed next */
	return r->diag != NULL;
}

/* Returns true when the run is over for a reason other than a deadline. */
static bool check_vm(struct run *r)
{
	int status;

	if (r->o->stop && atomic_load(r->o->stop)) {
		run_diag(r, OUTCOME_ERROR, "interrupted by a signal in phase %s", boot_phase_name(r->con.phase));
		return true;
	}
	if (r->prof->watch_panic && r->con.panicked) {
		diagnose_panic(r);
		return true;
	}
	if (r->hv.ops->poll_exit(&r->hv, &status) == 1) {
		r->prof->diagnose_exit(r, status);
		return true;
	}
	return false;
}

void run_wait_for_verdict(struct run *r)
{
	unsigned fc_s = deadline_s(r, r->prof->first_contact_s, r->tc->first_contact_s);
	unsigned v_s = deadline_s(r, r->prof->verdict_s, r->tc->verdict_s);
	unsigned idle_s = deadline_s(r, r->prof->idle_s, r->tc->idle_s);
	long long t0 = mono_ms();

	for (;;) {
		long long now = mono_ms();
		if (read_report(r))
			return;
		(void)console_watch_update(&r->con, now);
		atomic_store(&r->live->phase, (int)r->con.phase);
		if (check_vm(r))
			return;
		if (fc_s && !r->con.any_output && now - t0 > (long long)fc_s * 1000)
			return diagnose_first_contact(r, fc_s);
		if (now - t0 > (long long)v_s * 1000)
			return r->prof->diagnose_no_report(r, v_s, now);
		if (idle_s && r->con.any_output && now - r->con.last_output_ms > (long long)idle_s * 1000)
			return diagnose_idle(r, idle_s);
	}
}
