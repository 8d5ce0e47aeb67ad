/* runner: one VM boot per case and image. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "case_manifest.h"
#include "console.h"
#include "digest.h"
#include "ch_runner.h"
#include "expect_disk.h"
#include "image.h"
#include "manifest.h"
#include "qemu.h"
#include "report_channel.h"
#include "report_check.h"
#include "serial_transport.h"

#define KEY_BYTES 32
#define FIRST_CONTACT_S 15   /* under KVM; TCG multiplies (accel_time_scale) */
#define VERDICT_S 90
#define IDLE_S 15            /* console silent and no report: the guest hangs */
#define STOP_GRACE_MS 3000
#define VSOCK_REPORT_PORT 5123u   /* docs/report.md */

struct run {
	const struct run_opts *o;
	const struct test_case *tc;
	struct case_view view;
	struct guest_image img;
	char *dir;
	char *console_path;
	uint8_t key[KEY_BYTES];
	struct sent_cred *sent;
	size_t n_sent;
	char manifest_sha[DIGEST_HEX_LEN + 1];
	struct qemu_vm vm;
	struct report_channel ch;
	struct console_watch con;
	struct case_result *res;
	struct run_live *live;
	char *diag;                 /* the first problem that ended the run early */
	pid_t backend_pid;          /* credscope-harness vsock-backend, or 0 */
	bool vsock;
	enum case_outcome got;
};

long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_diag(struct run *r, enum case_outcome got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_diag(struct run *r, enum case_outcome got, const char *fmt, ...)
{
	va_list ap;
	if (r->diag)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->diag, fmt, ap) < 0)
		r->diag = NULL;
	va_end(ap);
	r->got = got;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int hand_over(struct run *r, const struct case_cred *c, const uint8_t *v, size_t len)
{
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

/* Secrets are read here, hashed, put into memfds and cleared at once. */
static int load_credentials(struct run *r)
{
	for (size_t i = 0; i < r->tc->n_creds; i++) {
		const struct case_cred *c = &r->tc->creds[i];
		uint8_t *v;
		size_t len;
		char *err = NULL;
		int x = case_cred_load(c, &v, &len, &err);
		if (x < 0) {
			set_diag(r, OUTCOME_ERROR, "%s", err ? err : "cannot load a credential");
			free(err);
			return x;
		}
		x = case_manifest_record(&r->sent, &r->n_sent, r->key, sizeof r->key, c, v, len);
		if (x == 0)
			x = hand_over(r, c, v, len);
		secret_clear(v, len);
		free(v);
		if (x < 0) {
			set_diag(r, OUTCOME_ERROR, "credential %s: cannot hand it to QEMU by %s: %s", c->name,
				 cred_via_name(c->via), strerror(-x));
			return x;
		}
	}
	for (size_t i = 0; i < r->tc->n_oem_strings; i++) {
		const char *s = r->tc->oem_strings[i];
		int x = qemu_add_oem_string(&r->vm, s, strlen(s));
		if (x < 0) {
			set_diag(r, OUTCOME_ERROR, "oem_strings[%zu]: cannot hand it to QEMU: %s", i, strerror(-x));
			return x;
		}
	}
	return 0;
}

static int write_manifest(struct run *r, char **image)
{
	char *err;
	int x = case_manifest_write(&r->view, r->tc->strict, r->sent, r->n_sent, r->key, sizeof r->key, r->dir, image,
				    r->manifest_sha, &err);

	if (err)
		set_diag(r, OUTCOME_ERROR, "%s", err);
	free(err);
	return x;
}

static char *path_in(struct run *r, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", r->dir, name) < 0 ? NULL : p;
}

static int configure_vm(struct run *r, const char *expect_img)
{
	struct qemu_vm *vm = &r->vm;
	char words[160];
	vm->qemu_binary = r->o->qemu_binary;
	vm->kernel = r->img.kernel;
	vm->initrd = r->img.initrd;
	vm->rootfs = r->img.rootfs;
	vm->rootfs_format = r->img.rootfs_format;
	vm->machine = r->tc->machine;
	vm->accel = r->o->accel;
	vm->memory_mb = r->tc->memory_mb ? r->tc->memory_mb : r->o->memory_mb;
	vm->expect_disk = expect_img;
	vm->no_reboot = true;
	vm->snapshot = true;   /* parallel runs share the image; each boots it pristine */
	vm->own_process_group = true;
	vm->console_log = r->console_path;
	vm->qemu_log = path_in(r, "qemu.log");
	vm->qmp_socket = path_in(r, "qmp.sock");
	if (r->vsock)
		vm->vsock_socket = path_in(r, "vhost-vsock.sock");
	else
		vm->serial_report_socket = path_in(r, "report.sock");
	if (!vm->qemu_log || !vm->qmp_socket || (!vm->serial_report_socket && !vm->vsock_socket))
		return -ENOMEM;
	/* kernel command line: never secret (the case parser keeps secrets off it).
	 * no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail
	 * and panic ("IO-APIC + timer doesn't work!") */
	if (r->vsock)
		snprintf(words, sizeof words, "credscope.report=vsock:2:%u panic=-1 no_timer_check", VSOCK_REPORT_PORT);
	else
		snprintf(words, sizeof words, "credscope.report=serial:%s panic=-1 no_timer_check", SERIAL_REPORT_PORT);
	int x = qemu_cmdline_append(vm, r->img.cmdline);
	if (x == 0)
		x = qemu_cmdline_append(vm, words);
	if (x == 0)
		x = qemu_cmdline_machine_quirks(vm);
	if (x == 0)
		x = qemu_cmdline_append(vm, r->tc->cmdline_extra);
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
	char *uds = path_in(r, "vsock"), *listen = NULL, *log = path_in(r, "vsock-backend.log");
	int x = -ENOMEM;
	if (!uds || !log || asprintf(&listen, "%s_%u", uds, VSOCK_REPORT_PORT) < 0)
		goto out;
	if ((x = report_channel_listen(&r->ch, listen)) < 0) {
		set_diag(r, OUTCOME_ERROR, "cannot listen on %s for the vsock report: %s", listen, strerror(-x));
		goto out;
	}
	char *argv[] = { (char *)r->o->self_exe, "vsock-backend", "--socket", (char *)r->vm.vsock_socket,
			 "--uds-path", uds, "--guest-cid", "3", NULL };
	x = spawn_helper(argv, log, &r->backend_pid);
	for (int i = 0; x == 0 && i < 250 && access(r->vm.vsock_socket, F_OK) < 0; i++)
		usleep(20 * 1000);
	if (x == 0 && access(r->vm.vsock_socket, F_OK) < 0)
		x = -ETIMEDOUT;
	if (x < 0) {
		char *t = file_tail(log, 400);
		set_diag(r, OUTCOME_ERROR, "the vhost-user-vsock backend did not start (%s): %s (use --transport serial)",
			 strerror(-x), t && *t ? t : "no message");
		free(t);
	}
out:
	free(uds), free(listen), free(log);
	return x;
}

static int start_vm(struct run *r)
{
	unsigned scale = accel_time_scale(r->o->accel);
	int x = r->vsock ? start_vsock_backend(r) : 0;
	if (x < 0)
		return x;
	x = qemu_spawn(&r->vm);
	if (x < 0) {
		set_diag(r, OUTCOME_ERROR, "cannot start %s: %s", r->o->qemu_binary ? r->o->qemu_binary : "qemu-system-x86_64",
			 strerror(-x));
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
		set_diag(r, OUTCOME_ERROR, "QEMU %s before its monitor was ready: %s", exited ? "exited" : "hung",
			 t && *t ? t : "(no message)");
		free(t);
		return x;
	}
	if (r->vsock)
		return 0;
	int fd = serial_transport_connect(r->vm.serial_report_socket, 5000);
	if (fd < 0) {
		set_diag(r, OUTCOME_ERROR, "cannot connect to the virtio-serial report socket %s: %s",
			 r->vm.serial_report_socket, strerror(-fd));
		return fd;
	}
	return report_channel_adopt(&r->ch, fd);
}

static void judge_report(struct run *r, const uint8_t *buf, size_t len)
{
	struct report rep;
	struct judgement j;
	char *err = NULL;
	if (report_parse((const char *)buf, len, &rep, &err) < 0) {
		(void)report_channel_ack(&r->ch, false, err);
		set_diag(r, OUTCOME_ERROR, "the guest's report is malformed: %s", err ? err : "?");
		free(err);
		return;
	}
	(void)report_channel_ack(&r->ch, true, NULL);
	r->res->agent_verdict = strdup(rep.verdict);
	struct judge_input in = { .view = &r->view, .sent = r->sent, .n_sent = r->n_sent, .machine = r->tc->machine,
				  .manifest_sha256 = r->manifest_sha };
	if (report_judge(&rep, &in, &j) < 0) {
		set_diag(r, OUTCOME_ERROR, "out of memory while judging the report");
	} else {
		r->got = j.verdict;
		r->diag = judgement_text(&j);
		judgement_free(&j);
	}
	report_free(&rep);
}

static void diagnose_silence(struct run *r, bool first_contact, unsigned secs, long long now)
{
	const char *phase = boot_phase_name(r->con.phase);
	if (first_contact)
		set_diag(r, OUTCOME_ERROR, "stopped in phase firmware: no console output within %u s (the kernel never "
			 "started: check the kernel image and the firmware)", secs);
	else if (r->con.verdict_line[0])
		set_diag(r, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s within %u s", r->con.verdict_line, r->o->transport, secs);
	else
		set_diag(r, OUTCOME_ERROR, "stopped in phase %s: no report within %u s, last console output %lld s ago%s",
			 phase, secs, (now - r->con.last_output_ms) / 1000,
			 r->con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
			 r->con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "");
}

static void diagnose_idle(struct run *r, unsigned secs)
{
	const char *phase = boot_phase_name(r->con.phase);
	if (r->con.verdict_line[0])
		set_diag(r, OUTCOME_ERROR, "stopped in phase report: the agent printed \"%s\" on the console but its report "
			 "never arrived over %s (console silent for %u s)", r->con.verdict_line, r->o->transport, secs);
	else
		set_diag(r, OUTCOME_ERROR, "hung in phase %s: no console output and no report for %u s%s", phase, secs,
			 r->con.phase == PHASE_SYSTEMD ? " (systemd runs, but the agent never reported)" :
			 r->con.phase == PHASE_KERNEL ? " (the kernel never handed over to systemd)" : "");
}

/* Polls report channel, console and QEMU until a verdict, a failure or a deadline. */
static void wait_for_verdict(struct run *r)
{
	unsigned scale = accel_time_scale(r->o->accel);
	unsigned fc_s = r->tc->first_contact_s ? r->tc->first_contact_s : FIRST_CONTACT_S * scale;
	unsigned v_s = r->tc->verdict_s ? r->tc->verdict_s : VERDICT_S * scale;
	unsigned idle_s = r->tc->idle_s ? r->tc->idle_s : IDLE_S * scale;
	long long t0 = mono_ms();
	int status;
	for (;;) {
		long long now = mono_ms();
		struct pollfd p = { .fd = report_channel_poll_fd(&r->ch), .events = POLLIN };
		int n = poll(&p, p.fd >= 0 ? 1 : 0, 200);
		if (n > 0 && (p.revents & (POLLIN | POLLHUP))) {
			uint8_t *buf = NULL;
			size_t len = 0;
			int x = report_channel_readable(&r->ch, 30000, &buf, &len);
			if (x == 1) {
				atomic_store(&r->live->phase, PHASE_REPORT);
				judge_report(r, buf, len);
				free(buf);
				return;
			}
			if (x < 0 && x != -EPIPE)
				set_diag(r, OUTCOME_ERROR, "the report channel failed: %s", strerror(-x));
			if (x < 0)
				report_channel_close(&r->ch);   /* QEMU's side went away: its exit is diagnosed below */
			if (r->diag)
				return;
		}
		(void)console_watch_update(&r->con, now);
		atomic_store(&r->live->phase, (int)r->con.phase);
		if (atomic_load(r->o->stop)) {
			set_diag(r, OUTCOME_ERROR, "interrupted by a signal in phase %s", boot_phase_name(r->con.phase));
			return;
		}
		if (r->con.panicked) {
			set_diag(r, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s", boot_phase_name(r->con.phase),
				 r->con.panic_line);
			return;
		}
		if (qemu_poll_exit(&r->vm, &status) == 1) {
			(void)console_watch_update(&r->con, now);   /* the panic line may be the last thing */
			if (r->con.panicked)
				set_diag(r, OUTCOME_ERROR, "the guest kernel panicked in phase %s: %s",
					 boot_phase_name(r->con.phase), r->con.panic_line);
			else
				set_diag(r, OUTCOME_ERROR, "the guest stopped in phase %s without a report (QEMU exited "
					 "with status %d)", boot_phase_name(r->con.phase),
					 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return;
		}
		if (!r->con.any_output && now - t0 > (long long)fc_s * 1000)
			return diagnose_silence(r, true, fc_s, now);
		if (now - t0 > (long long)v_s * 1000)
			return diagnose_silence(r, false, v_s, now);
		if (r->con.any_output && now - r->con.last_output_ms > (long long)idle_s * 1000)
			return diagnose_idle(r, idle_s);
	}
}

/* microvm has no SMBIOS at all (hypervisors.md §1.4): say so instead of booting into a
 * timeout or a vague "missing". */
static bool preflight(struct run *r)
{
	if (strcmp(r->tc->machine, "microvm"))
		return true;
	for (size_t i = 0; i < r->tc->n_creds; i++) {
		const struct case_cred *c = &r->tc->creds[i];
		if (c->via == VIA_SMBIOS || c->via == VIA_SMBIOS_BINARY) {
			set_diag(r, OUTCOME_FAIL, "%s: cannot arrive: the microvm machine has no SMBIOS at all, so a credential "
				 "sent as an SMBIOS OEM string has nowhere to go (send it with via fw_cfg or use q35/pc); "
				 "not booted", c->name);
			return false;
		}
	}
	if (r->tc->n_oem_strings) {
		set_diag(r, OUTCOME_FAIL, "oem_strings: the microvm machine has no SMBIOS at all, so OEM strings cannot "
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
	if (r->o->keep) {
		r->res->log_path = strdup(r->console_path);
		return;
	}
	(void)mkdir(r->o->log_dir, 0700);
	if (asprintf(&dst, "%s/%s.%s.console.log", r->o->log_dir, r->tc->name, r->view.image) < 0)
		return;
	if (copy_file(r->console_path, dst) == 0)
		r->res->log_path = dst;
	else
		free(dst);
}

static void finish(struct run *r)
{
	struct case_result *res = r->res;
	if (r->vm.pid > 0)
		(void)qemu_stop(&r->vm, false, STOP_GRACE_MS);
	stop_helper(&r->backend_pid);
	(void)console_watch_update(&r->con, mono_ms());
	res->got = r->diag || r->got != OUTCOME_PASS ? (r->got == OUTCOME_PASS ? OUTCOME_FAIL : r->got) : OUTCOME_PASS;
	res->diagnosis = r->diag;
	r->diag = NULL;
	res->phase = strdup(boot_phase_name(r->con.phase));
	res->ok = res->got == res->expected &&
		  (!r->view.diagnosis || (res->diagnosis && strstr(res->diagnosis, r->view.diagnosis)));
	if (r->con.fd >= 0)
		res->console_tail = console_watch_tail(&r->con, 15);
	if (!res->ok || r->o->keep)
		keep_log(r);
	report_channel_close(&r->ch);
	console_watch_close(&r->con);
	free((char *)r->vm.qemu_log), free((char *)r->vm.qmp_socket), free((char *)r->vm.serial_report_socket);
	free((char *)r->vm.vsock_socket);
	free((char *)r->vm.expect_disk);
	qemu_vm_done(&r->vm);
	if (r->dir && !r->o->keep)
		(void)nftw(r->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(r->dir), free(r->console_path), free(r->sent);
	secret_clear(r->key, sizeof r->key);
	image_free(&r->img);
	case_view_free(&r->view);
}

static int prepare(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	char *why = NULL;
	if (image_load(r->o->image_dir, r->view.image, &r->img, &why) < 0) {
		r->res->skipped = true;
		r->res->skip_reason = why;
		return -ENOENT;
	}
	if (asprintf(&r->dir, "%s/credscope-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", r->tc->name) < 0 || !mkdtemp(r->dir)) {
		set_diag(r, OUTCOME_ERROR, "cannot create a private directory under %s: %s", tmp ? tmp : "/tmp", strerror(errno));
		free(r->dir), r->dir = NULL;
		return -EIO;
	}
	r->console_path = path_in(r, "console.log");
	if (!r->console_path || console_watch_open(&r->con, r->console_path) < 0 || random_bytes(r->key, sizeof r->key) < 0) {
		set_diag(r, OUTCOME_ERROR, "cannot prepare %s: %s", r->dir, strerror(errno));
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
	struct run r = { .o = o, .tc = tc, .res = res, .live = live, .got = OUTCOME_PASS,
			 .vsock = strcmp(o->transport, "vsock") == 0 };
	char *expect_img = NULL;
	long long t0 = mono_ms();
	memset(res, 0, sizeof *res);
	qemu_vm_init(&r.vm);
	report_channel_init(&r.ch);
	r.con.fd = -1;
	res->case_name = strdup(tc->name);
	res->image = strdup(image);
	res->accel = o->accel;
	res->transport = o->transport;
	if (case_view(tc, image, &r.view) < 0)
		return;
	res->expected = r.view.outcome;
	live->case_name = tc->name, live->image = image, live->start_ms = t0;
	atomic_store(&live->phase, -1);
	atomic_store(&live->active, 1);
	if (prepare(&r) == 0 && preflight(&r) && load_credentials(&r) == 0 && write_manifest(&r, &expect_img) == 0) {
		int x = configure_vm(&r, expect_img);   /* r.vm owns expect_img from here on */
		if (x < 0)
			set_diag(&r, OUTCOME_ERROR, "cannot configure QEMU: %s", strerror(-x));
		else if (start_vm(&r) == 0)
			wait_for_verdict(&r);
	}
	finish(&r);
	res->seconds = (double)(mono_ms() - t0) / 1000.0;
	atomic_store(&live->active, 0);
}
