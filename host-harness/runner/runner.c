/* runner: one VM boot per case and image. */
#include "runner/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/accel.h"
#include "runner/ch_runner.h"
#include "hypervisor/qemu.h"
#include "runner/run_common.h"
#include "hypervisor/serial_transport.h"

#define FIRST_CONTACT_S 15   /* under KVM; TCG multiplies (accel_time_scale) */
#define VERDICT_S 90
#define IDLE_S 15            /* console silent and no report: the guest hangs */
#define STOP_GRACE_MS 3000
#define VSOCK_REPORT_PORT 5123u   /* docs/report.md */

struct run {
	struct run_core core;
	char *console_path;
	struct qemu_vm vm;
	pid_t backend_pid;          /* credscope-harness vsock-backend, or 0 */
	bool vsock;
};

static int hand_over(void *ctx, const struct case_cred *c, uint8_t **value, size_t len)
{
	struct run *r = ctx;
	const uint8_t *v = *value;   /* not kept: QEMU gets it through a memfd */

	switch (c->via) {
	case VIA_SMBIOS:
		return qemu_add_smbios_credential(&r->vm, c->name, v, len, false);
	case VIA_SMBIOS_BINARY:
		return qemu_add_smbios_credential(&r->vm, c->name, v, len, true);
	case VIA_FW_CFG:
		return qemu_add_fw_cfg_credential(&r->vm, c->name, v, len);
	case VIA_CMDLINE:
		return qemu_add_cmdline_credential(&r->vm, c->name, (const char *)v);
	}
	return -EINVAL;
}

static int load_credentials(struct run *r)
{
	for (size_t i = 0; i < r->core.tc->n_creds; i++) {
		int x = run_take_credential(&r->core, &r->core.tc->creds[i], "QEMU", hand_over, r);
		if (x < 0)
			return x;
	}
	for (size_t i = 0; i < r->core.tc->n_oem_strings; i++) {
		const char *s = r->core.tc->oem_strings[i];
		int x = qemu_add_oem_string(&r->vm, s, strlen(s));
		if (x < 0) {
			run_diag(&r->core, OUTCOME_ERROR, "oem_strings[%zu]: cannot hand it to QEMU: %s", i, strerror(-x));
			return x;
		}
	}
	return 0;
}

static int configure_vm(struct run *r, const char *expect_img)
{
	struct qemu_vm *vm = &r->vm;
	char words[160];
	vm->qemu_binary = r->core.o->qemu_binary;
	vm->kernel = r->core.img.kernel;
	vm->initrd = r->core.img.initrd;
	vm->rootfs = r->core.img.rootfs;
	vm->rootfs_format = r->core.img.rootfs_format;
	vm->machine = r->core.tc->machine;
	vm->accel = r->core.o->accel;
	vm->memory_mb = r->core.tc->memory_mb ? r->core.tc->memory_mb : r->core.o->memory_mb;
	vm->expect_disk = expect_img;
	vm->no_reboot = true;
	vm->snapshot = true;   /* parallel runs share the image; each boots it pristine */
	vm->own_process_group = true;
	vm->console_log = r->console_path;
	vm->qemu_log = run_path(&r->core, "qemu.log");
	vm->qmp_socket = run_path(&r->core, "qmp.sock");
	if (r->vsock)
		vm->vsock_socket = run_path(&r->core, "vhost-vsock.sock");
	else
		vm->serial_report_socket = run_path(&r->core, "report.sock");
	if (!vm->qemu_log || !vm->qmp_socket || (!vm->serial_report_socket && !vm->vsock_socket))
		return -ENOMEM;
	/* kernel command line: never secret (the case parser keeps secrets off it).
	 * no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail
	 * and panic ("IO-APIC + timer doesn't work!") */
	if (r->vsock)
		snprintf(words, sizeof words, "credscope.report=vsock:2:%u panic=-1 no_timer_check", VSOCK_REPORT_PORT);
	else
		snprintf(words, sizeof words, "credscope.report=serial:%s panic=-1 no_timer_check", SERIAL_REPORT_PORT);
	int x = qemu_cmdline_append(vm, r->core.img.cmdline);
	if (x == 0)
		x = qemu_cmdline_append(vm, words);
	if (x == 0)
		x = qemu_cmdline_machine_quirks(vm);
	if (x == 0)
		x = qemu_cmdline_append(vm, r->core.tc->cmdline_extra);
	return x;
}

static char *file_tail(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = calloc(1, max + 1);
	if (fd >= 0 && buf) {
		off_t end = lseek(fd, 0, SEEK_END);
		(void)lseek(fd, end > (off_t)max ? end - (off_t)max : 0, SEEK_SET);
		ssize_t n = read(fd, buf, max);
		buf[n > 0 ? n : 0] = 0;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* fork+exec with stdout/stderr to log; only async-signal-safe calls in the child. */
static int spawn_helper(char *const argv[], const char *log, pid_t *pid)
{
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int x = 0;
	if (null_fd < 0 || log_fd < 0)
		x = -errno;
	else if ((*pid = fork()) < 0)
		x = -errno;
	else if (*pid == 0) {
		sigset_t none;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(null_fd, 0), dup2(log_fd, 1), dup2(log_fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	return x;
}

static void stop_helper(pid_t *pid)
{
	int status;
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(20 * 1000);
	}
	kill(*pid, SIGKILL);
	while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
}

/* Starts `credscope-harness vsock-backend` for this VM and listens on <uds>_5123, where
 * the backend delivers the guest's connection to CID 2 port 5123. */
static int start_vsock_backend(struct run *r)
{
	char *uds = run_path(&r->core, "vsock"), *listen = NULL, *log = run_path(&r->core, "vsock-backend.log");
	int x = -ENOMEM;
	if (!uds || !log || asprintf(&listen, "%s_%u", uds, VSOCK_REPORT_PORT) < 0)
		goto out;
	if ((x = report_channel_listen(&r->core.ch, listen)) < 0) {
		run_diag(&r->core, OUTCOME_ERROR, "cannot listen on %s for the vsock report: %s", listen, strerror(-x));
		goto out;
	}
	char *argv[] = { (char *)r->core.o->self_exe, "vsock-backend", "--socket", (char *)r->vm.vsock_socket,
			 "--uds-path", uds, "--guest-cid", "3", NULL };
	x = spawn_helper(argv, log, &r->backend_pid);
	for (int i = 0; x == 0 && i < 250 && access(r->vm.vsock_socket, F_OK) < 0; i++)
		usleep(20 * 1000);
	if (x == 0 && access(r->vm.vsock_socket, F_OK) < 0)
		x = -ETIMEDOUT;
	if (x < 0) {
		char *t = file_tail(log, 400);
		run_diag(&r->core, OUTCOME_ERROR, "the vhost-user-vsock backend did not start (%s): %s (use --transport serial)",
			 strerror(-x), t && *t ? t : "no message");
		free(t);
	}
out:
	free(uds), free(listen), free(log);
	return x;
}

static int start_vm(struct run *r)
{
	unsigned scale = accel_time_scale(r->core.o->accel);
	int x = r->vsock ? start_vsock_backend(r) : 0;
	if (x < 0)
		return x;
	x = qemu_spawn(&r->vm);
	if (x < 0) {
		run_diag(&r->core, OUTCOME_ERROR, "cannot start %s: %s",
			 r->core.o->qemu_binary ? r->core.o->qemu_binary : "qemu-system-x86_64", strerror(-x));
		return x;
	}
	x = qemu_qmp_ready(&r->vm, 10000 * (int)scale);
	if (x < 0) {
		int status;
		char *t = file_tail(r->vm.qemu_log, 600);
		for (char *p = t; p && *p; p++)
			if (*p == '\n')
				*p = p[1] ? ' ' : 0;
		bool exited = x == -ECHILD || (usleep(100 * 1000), qemu_poll_exit(&r->vm, &status) == 1);
		run_diag(&r->core, OUTCOME_ERROR, "QEMU %s before its monitor was ready: %s", exited ? "exited" : "hung",
			 t && *t ? t : "(no message)");
		free(t);
		return x;
	}
	if (r->vsock)
		return 0;
	int fd = serial_transport_connect(r->vm.serial_report_socket, 5000);
	if (fd < 0) {
		run_diag(&r->core, OUTCOME_ERROR, "cannot connect to the virtio-serial report socket %s: %s",
			 r->vm.serial_report_socket, strerror(-fd));
		return fd;
	}
	return report_channel_adopt(&r->core.ch, fd);
}

static void diagnose_silence(struct run *r, bool first_contact, unsigned secs, long long now)
{
	const char *phase = boot_phase_name(r->core.con.phase);
	if (first_contact)
		run_diag(&r->core, OUTCOME_ERROR, "stopped in phase firmware: no console output within %u s (the kernel never "
			 "started: check the kernel image and the firmware)", secs);
	else if (r->core.con.verdict_line[0])
		run_diag(&r->core, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s within %u s", r->core.con.verdict_line, r->core.o->transport, secs);
	else
		run_diag(&r->core, OUTCOME_ERROR, "stopped in phase %s: no report within %u s, last console output %lld s ago%s",
			 phase, secs, (now - r->core.con.last_output_ms) / 1000,
			 r->core.con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
			 r->core.con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "");
}

static void diagnose_idle(struct run *r, unsigned secs)
{
	const char *phase = boot_phase_name(r->core.con.phase);
	if (r->core.con.verdict_line[0])
		run_diag(&r->core, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s (console silent for %u s)", r->core.con.verdict_line, r->core.o->transport, secs);
	else
		run_diag(&r->core, OUTCOME_ERROR, "hung in phase %s: no console output and no report for %u s%s", phase, secs,
			 r->core.con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
			 r->core.con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "");
}

/* Polls report channel, console and QEMU until a verdict, a failure or a deadline. */
static void wait_for_verdict(struct run *r)
{
	unsigned scale = accel_time_scale(r->core.o->accel);
	unsigned fc_s = r->core.tc->first_contact_s ? r->core.tc->first_contact_s : FIRST_CONTACT_S * scale;
	unsigned v_s = r->core.tc->verdict_s ? r->core.tc->verdict_s : VERDICT_S * scale;
	unsigned idle_s = r->core.tc->idle_s ? r->core.tc->idle_s : IDLE_S * scale;
	long long t0 = mono_ms();
	int status;
	for (;;) {
		long long now = mono_ms();
		struct pollfd p = { .fd = report_channel_poll_fd(&r->core.ch), .events = POLLIN };
		int n = poll(&p, p.fd >= 0 ? 1 : 0, 200);
		if (n > 0 && (p.revents & (POLLIN | POLLHUP))) {
			uint8_t *buf = NULL;
			size_t len = 0;
			int x = report_channel_readable(&r->core.ch, 30000, &buf, &len);
			if (x == 1) {
				atomic_store(&r->core.live->phase, PHASE_REPORT);
				run_judge_report(&r->core, buf, len);
				free(buf);
				return;
			}
			if (x < 0 && x != -EPIPE)
				run_diag(&r->core, OUTCOME_ERROR, "the report channel failed: %s", strerror(-x));
			if (x < 0)
				report_channel_close(&r->core.ch);   /* QEMU's side went away: its exit is diagnosed below */
			if (r->core.diag)
				return;
		}
		(void)console_watch_update(&r->core.con, now);
		atomic_store(&r->core.live->phase, (int)r->core.con.phase);
		if (atomic_load(r->core.o->stop)) {
			run_diag(&r->core, OUTCOME_ERROR, "interrupted by a signal in phase %s", boot_phase_name(r->core.con.phase));
			return;
		}
		if (r->core.con.panicked) {
			run_diag(&r->core, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s", boot_phase_name(r->core.con.phase),
				 r->core.con.panic_line);
			return;
		}
		if (qemu_poll_exit(&r->vm, &status) == 1) {
			(void)console_watch_update(&r->core.con, now);   /* the panic line may be the last thing */
			if (r->core.con.panicked)
				run_diag(&r->core, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s",
					 boot_phase_name(r->core.con.phase), r->core.con.panic_line);
			else
				run_diag(&r->core, OUTCOME_ERROR, "the guest stopped in phase %s without a report (QEMU exited "
					 "with status %d)", boot_phase_name(r->core.con.phase),
					 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return;
		}
		if (!r->core.con.any_output && now - t0 > (long long)fc_s * 1000)
			return diagnose_silence(r, true, fc_s, now);
		if (now - t0 > (long long)v_s * 1000)
			return diagnose_silence(r, false, v_s, now);
		if (r->core.con.any_output && now - r->core.con.last_output_ms > (long long)idle_s * 1000)
			return diagnose_idle(r, idle_s);
	}
}

/* microvm has no SMBIOS at all (hypervisors.md §1.4): say so instead of booting into a
 * timeout or a vague "missing". */
static bool preflight(struct run *r)
{
	if (strcmp(r->core.tc->machine, "microvm"))
		return true;
	for (size_t i = 0; i < r->core.tc->n_creds; i++) {
		const struct case_cred *c = &r->core.tc->creds[i];
		if (c->via == VIA_SMBIOS || c->via == VIA_SMBIOS_BINARY) {
			run_diag(&r->core, OUTCOME_FAIL, "%s: cannot arrive: the microvm machine has no SMBIOS at all, so a credential "
				 "sent as an SMBIOS OEM string has nowhere to go (send it with via fw_cfg or use q35/pc); "
				 "not booted", c->name);
			return false;
		}
	}
	if (r->core.tc->n_oem_strings) {
		run_diag(&r->core, OUTCOME_FAIL, "oem_strings: the microvm machine has no SMBIOS at all, so OEM strings cannot "
			 "arrive (use q35 or pc); not booted");
		return false;
	}
	return true;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	char buf[65536];
	ssize_t n;
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		r = -errno;
	while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	close(in);
	if (out >= 0)
		close(out);
	return r;
}

static void keep_log(struct run *r)
{
	char *dst;
	if (!r->console_path || access(r->console_path, R_OK))
		return;
	if (r->core.o->keep) {
		r->core.res->log_path = strdup(r->console_path);
		return;
	}
	(void)mkdir(r->core.o->log_dir, 0700);
	if (asprintf(&dst, "%s/%s.%s.console.log", r->core.o->log_dir, r->core.tc->name, r->core.view.image) < 0)
		return;
	if (copy_file(r->console_path, dst) == 0)
		r->core.res->log_path = dst;
	else
		free(dst);
}

static void finish(struct run *r)
{
	if (r->vm.pid > 0)
		(void)qemu_stop(&r->vm, false, STOP_GRACE_MS);
	stop_helper(&r->backend_pid);
	run_console_final(&r->core);
	run_settle(&r->core);
	if (!r->core.res->ok || r->core.o->keep)
		keep_log(r);
	free((char *)r->vm.qemu_log), free((char *)r->vm.qmp_socket), free((char *)r->vm.serial_report_socket);
	free((char *)r->vm.vsock_socket);
	free((char *)r->vm.expect_disk);
	qemu_vm_done(&r->vm);
	free(r->console_path);
	run_cleanup(&r->core);
}

static int prepare(struct run *r)
{
	int x = run_prepare(&r->core, r->core.tc->name);
	if (x < 0)
		return x;
	r->console_path = run_path(&r->core, "console.log");
	if (!r->console_path || console_watch_open(&r->core.con, r->console_path) < 0 ||
	    random_bytes(r->core.key, sizeof r->core.key) < 0) {
		run_diag(&r->core, OUTCOME_ERROR, "cannot prepare %s: %s", r->core.dir, strerror(errno));
		return -EIO;
	}
	return 0;
}

void run_case(const struct run_opts *o, const struct test_case *tc, const char *image, struct run_live *live,
	      struct case_result *res)
{
	if (tc->hypervisor == HV_CLOUD_HYPERVISOR) {   /* issue 6: its own launcher and transport */
		ch_run_case(o, tc, image, live, res);
		return;
	}
	struct run r = { .vsock = strcmp(o->transport, "vsock") == 0 };
	char *expect_img = NULL;
	qemu_vm_init(&r.vm);
	if (run_begin(&r.core, o, tc, image, live, res, o->accel, o->transport) < 0)
		return;
	if (prepare(&r) == 0 && preflight(&r) && load_credentials(&r) == 0 &&
	    run_write_manifest(&r.core, &expect_img) == 0) {
		int x = configure_vm(&r, expect_img);   /* r.vm owns expect_img from here on */
		if (x < 0)
			run_diag(&r.core, OUTCOME_ERROR, "cannot configure QEMU: %s", strerror(-x));
		else if (start_vm(&r) == 0)
			wait_for_verdict(&r);
	}
	finish(&r);
	run_end(&r.core);
}
