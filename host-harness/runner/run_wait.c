/* run_wait: polls a started VM until its verdict, a failure or a deadline. */
#include "runner/run_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "hypervisor/accel.h"

#define REPORT_READ_MS 30000

static const char *phase_hint(const struct run *r)
{
	/* a user's guest: the agent or the report word may simply not be there */
	if (r->tc->guest && r->con.phase == PHASE_SYSTEMD)
		return r->tc->guest->kernel ? " (systemd runs, but the agent never reported: does the guest carry "
					      "/usr/bin/credscope and its enabled units? docs/your-own-guest.md)"
					    : " (systemd runs, but the agent never reported: does the guest carry "
					      "/usr/bin/credscope and its enabled units, and its loader entry "
					      "credscope.report=vsock:2:5123? docs/your-own-guest.md)";
	return r->con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
	       r->con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "";
}

/* "exited with status N" or "was killed by signal N (NAME)", for a waitpid() status. */
static const char *exit_words(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : status);
	return buf;
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
		run_diag(r, OUTCOME_ERROR, "stopped in phase %s: no report within %u s, last console output %lld s ago%s%s",
			 boot_phase_name(r->con.phase), secs, (now - r->con.last_output_ms) / 1000, phase_hint(r),
			 report_channel_progress(&r->ch, now));
}

static void diagnose_idle(struct run *r, unsigned secs)
{
	if (r->con.verdict_line[0])
		run_diag(r, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s (console silent for %u s)", r->con.verdict_line, r->transport, secs);
	else
		run_diag(r, OUTCOME_ERROR, "hung in phase %s: no console output and no report for %u s%s%s",
			 boot_phase_name(r->con.phase), secs, phase_hint(r), report_channel_progress(&r->ch, mono_ms()));
}

static void diagnose_panic(struct run *r)
{
	run_diag(r, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s", boot_phase_name(r->con.phase),
		 r->con.panic_line);
}

static void qemu_exit(struct run *r, int status)
{
	char how[80];

	(void)console_watch_update(&r->con, mono_ms());   /* the panic line may be the last thing */
	if (r->con.panicked)
		diagnose_panic(r);
	else
		run_diag(r, OUTCOME_ERROR, "the guest stopped in phase %s without a report (QEMU %s)%s",
			 boot_phase_name(r->con.phase), exit_words(status, how, sizeof how),
			 report_channel_progress(&r->ch, mono_ms()));
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

/* A report cut off by EOF: QEMU dying mid-report is named as such (its exit follows the
 * EOF within moments), a guest that closed its side is a malformed report. */
static void diagnose_cut_report(struct run *r, const char *why)
{
	char how[80];
	int status;

	for (int i = 0; i < 50; i++) {
		if (r->hv.ops->poll_exit(&r->hv, &status) == 1) {
			run_diag(r, OUTCOME_ERROR, "QEMU %s in phase report, while the guest's report was arriving: %s",
				 exit_words(status, how, sizeof how), why);
			return;
		}
		usleep(20 * 1000);
	}
	run_diag(r, OUTCOME_ERROR, "the guest's report is malformed: %s", why);
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
	if (report_channel_mid_frame(&r->ch) || x == 1)
		r->con.phase = PHASE_REPORT, atomic_store(&r->live->phase, PHASE_REPORT);   /* a report on the wire */
	if (x == 1 && r->ch.trailing) {
		const char *why = report_channel_why(&r->ch, -EBADMSG);
		(void)report_channel_ack(&r->ch, false, why);
		run_diag(r, OUTCOME_ERROR, "the guest's report is malformed: %s", why);
	} else if (x == 1)
		run_judge_report(r, buf, len);
	free(buf);
	if (x == -EPIPE && report_channel_mid_frame(&r->ch))
		diagnose_cut_report(r, report_channel_why(&r->ch, x));
	else if (x < 0 && x != -EPIPE)
		run_diag(r, OUTCOME_ERROR, "the guest's report on the %s is rejected: %s", r->prof->channel_name,
			 report_channel_why(&r->ch, x));
	if (x < 0)
		report_channel_close(&r->ch);   /* the VM's side went away: its exit is diagnosed next */
	return x == 1 || r->diag != NULL;
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
	/* first: a dead backend can take QEMU down with it, and then it is the cause */
	if (r->backend_pid > 0 && waitpid(r->backend_pid, &status, WNOHANG) == r->backend_pid) {
		char how[80];
		r->backend_pid = 0;
		run_diag(r, OUTCOME_ERROR, "the vsock backend (credscope-harness vsock-backend) %s in phase %s: the "
			 "report cannot arrive over vsock", exit_words(status, how, sizeof how), boot_phase_name(r->con.phase));
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

	run_forget_key(r);   /* the hypervisor is up and has the manifest disk open */
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
		if (idle_s && r->con.any_output && now - r->con.last_output_ms > (long long)idle_s * 1000 &&
		    now - r->ch.last_byte_ms > (long long)idle_s * 1000)   /* report bytes are not idleness */
			return diagnose_idle(r, idle_s);
	}
}
