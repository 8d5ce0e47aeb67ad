/* runner: one VM boot per case and image, on any hypervisor through its ops table. */
#include "runner/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "hypervisor/accel.h"
#include "hypervisor/serial_transport.h"
#include "manifest.h"
#include "runner/run_common.h"
#include "runner/run_wait.h"
#include "runner/zero_install.h"
#include "secret.h"

#define STOP_GRACE_MS 3000
#define VSOCK_REPORT_PORT 5123u   /* docs/report.md */
#define GUEST_CID 3u
#define QMP_READY_MS 10000        /* under KVM; TCG multiplies (accel_time_scale) */
#define SERIAL_CONNECT_MS 5000
#define HELPER_LOG_TAIL 400

static const struct run_profile *profile_of(const struct test_case *tc)
{
	return tc->hypervisor == HV_CLOUD_HYPERVISOR ? &run_profile_cloud_hypervisor : &run_profile_qemu;
}

/* The binary the case's hypervisor runs: --qemu, CREDSCOPE_QEMU_AARCH64 for an aarch64
 * guest, or CREDSCOPE_CLOUD_HYPERVISOR (tests). */
static const char *binary_of(const struct run *r)
{
	if (r->prof->ops == &qemu_ops && r->aarch64)   /* --qemu is the x86-64 one; NULL: qemu-system-aarch64 */
		return getenv("CREDSCOPE_QEMU_AARCH64") && *getenv("CREDSCOPE_QEMU_AARCH64") ? getenv("CREDSCOPE_QEMU_AARCH64") : NULL;
	return r->prof->ops == &qemu_ops ? r->o->qemu_binary : getenv("CREDSCOPE_CLOUD_HYPERVISOR");
}

/* Where the guest's agent sends its report: credscope.report= and the zero-install unit's --to. */
static void report_to(const struct run *r, char *buf, size_t n)
{
	if (strcmp(r->transport, "serial") == 0)
		snprintf(buf, n, "serial:%s", SERIAL_REPORT_PORT);
	else
		snprintf(buf, n, "vsock:2:%u", VSOCK_REPORT_PORT);
}

/* zero_install: a guest whose systemd is known to be older than 256 is not booted (its
 * generator would ignore the unit: the run could only time out), and the static agent must
 * be there; then the two credentials join the case's (runner/zero_install.h). */
static bool zero_install_preflight(struct run *r)
{
	char *why, where[128], to[64];

	snprintf(where, sizeof where, "%s's image.json", r->view.image);
	if ((why = zi_refuse_version(r->img.systemd_version, where))) {
		run_diag(r, OUTCOME_ERROR, "%s", why);
		free(why);
		return false;
	}
	if ((r->aarch64 ? zi_agent_path_aarch64 : zi_agent_path)(r->o->self_exe, &r->zi_agent, &why) < 0) {
		run_diag(r, OUTCOME_ERROR, "%s", why ? why : "zero_install: out of memory");
		free(why);
		return false;
	}
	report_to(r, to, sizeof to);
	r->zi[0] = (struct case_cred){ .name = strdup(ZI_UNIT_CRED), .via = VIA_SMBIOS_BINARY, .value = zi_unit_text(to) };
	r->zi[1] = (struct case_cred){ .name = strdup(ZI_DROPIN_CRED), .via = VIA_SMBIOS_BINARY,
				       .value = strdup(zi_dropin_text) };
	for (size_t i = 0; i < 2; i++) {
		if (!r->zi[i].name || !r->zi[i].value) {
			run_diag(r, OUTCOME_ERROR, "zero_install: out of memory");
			return false;
		}
		r->zi[i].value_len = strlen(r->zi[i].value);
	}
	return true;
}

/* Delivery paths the hypervisor cannot do end the case unbooted, before anything is loaded. */
static bool preflight(struct run *r, const struct hv_config *cfg)
{
	const struct hypervisor_ops *ops = r->prof->ops;
	const char *why;
	char *missing = ops->firmware_missing ? ops->firmware_missing(cfg) : NULL;

	if (missing) {   /* the firmware is the environment's: an explained skip, not a failure */
		r->res->skipped = true;
		r->res->skip_reason = missing;
		return false;
	}
	for (size_t i = 0; i < r->tc->n_creds; i++) {
		const struct case_cred *c = &r->tc->creds[i];
		if (ops->refuse_path && (why = ops->refuse_path(cfg, c->via))) {
			run_diag(r, OUTCOME_FAIL, "%s: %s; not booted", c->name, why);
			return false;
		}
	}
	if (r->tc->n_oem_strings && ops->refuse_oem_strings && (why = ops->refuse_oem_strings(cfg))) {
		run_diag(r, OUTCOME_FAIL, "oem_strings: %s; not booted", why);
		return false;
	}
	if (r->tc->n_fw_cfg_raw && !ops->attach_fw_cfg_file) {
		run_diag(r, OUTCOME_FAIL, "fw_cfg_raw: %s has no fw_cfg device to carry it; not booted", ops->name);
		return false;
	}
	return !r->tc->zero_install || zero_install_preflight(r);
}

/* The kernel command line (never secret: the case parser keeps secrets off it).
 * printk.devkmsg=on: the kernel never ratelimits PID 1's lines in /dev/kmsg, so the agent can
 * hold their absence against its model (docs/harness.md); a case's own words come after it. */
static char *kernel_words(const struct run *r)
{
	const char *boot = r->prof->ops->harness_boot_words, *extra = r->tc->cmdline_extra;
	char report[96], to[64], *line;

	report_to(r, to, sizeof to);
	snprintf(report, sizeof report, "credscope.report=%s", to);
	if (asprintf(&line, "%s%s%s printk.devkmsg=on panic=-1%s%s%s%s", r->img.cmdline ? r->img.cmdline : "", r->img.cmdline ? " " : "",
		     report, boot ? " " : "", boot ? boot : "", extra && *extra ? " " : "", extra ? extra : "") < 0)
		return NULL;
	return line;
}

static void base_config(const struct run *r, struct hv_config *cfg)
{
	*cfg = (struct hv_config){
		.binary = binary_of(r), .kernel = r->img.kernel, .initrd = r->img.initrd, .rootfs = r->img.rootfs,
		.rootfs_format = r->img.rootfs_format, .machine = r->machine, .accel = r->res->accel,
		.aarch64 = r->aarch64, .uefi = r->tc->firmware == FIRMWARE_UEFI || r->aarch64,
		.memory_mb = r->tc->memory_mb ? r->tc->memory_mb : r->o->memory_mb,
		/* parallel runs share the image: each boots it pristine, none writes it */
		.rootfs_readonly = true, .snapshot = true,
		.no_reboot = true, .own_process_group = true,
	};
}

/* Hands every loaded credential, OEM string and raw fw_cfg file to the VM, clearing the values after. */
static int attach_all(struct run *r)
{
	const struct hypervisor_ops *ops = r->prof->ops;
	int x = 0;

	for (size_t i = 0; x == 0 && i < r->n_creds; i++) {
		const struct case_cred *c = r->creds[i].c;
		x = ops->attach_credential(&r->hv, c->via, c->name, r->creds[i].value, r->creds[i].len);
		if (x < 0)
			run_diag(r, OUTCOME_ERROR, "credential %s: cannot hand it to %s by %s: %s", c->name, ops->name,
				 cred_via_name(c->via), strerror(-x));
	}
	run_drop_credentials(r);
	for (size_t i = 0; x == 0 && i < r->tc->n_oem_strings; i++) {
		const char *s = r->tc->oem_strings[i];
		if ((x = ops->attach_oem_string(&r->hv, s, strlen(s))) < 0)
			run_diag(r, OUTCOME_ERROR, "oem_strings[%zu]: cannot hand it to %s: %s", i, ops->name, strerror(-x));
	}
	for (size_t i = 0; x == 0 && i < r->tc->n_fw_cfg_raw; i++) {
		const struct case_fw_cfg_raw *e = &r->tc->fw_cfg_raw[i];
		if ((x = ops->attach_fw_cfg_file(&r->hv, e->name, (const uint8_t *)e->value, e->value_len)) < 0)
			run_diag(r, OUTCOME_ERROR, "fw_cfg_raw[%zu] (%s): cannot hand it to %s: %s", i, e->name, ops->name,
				 strerror(-x));
	}
	if (x == 0 && r->manifest_json) {
		x = ops->attach_fw_cfg_file(&r->hv, MANIFEST_FW_CFG_ENTRY, (const uint8_t *)r->manifest_json,
					    strlen(r->manifest_json));
		if (x < 0)
			run_diag(r, OUTCOME_ERROR, "the manifest: cannot hand it to %s as fw_cfg %s: %s", ops->name,
				 MANIFEST_FW_CFG_ENTRY, strerror(-x));
		secret_free(r->manifest_json, strlen(r->manifest_json));   /* the hypervisor has its own copy */
		r->manifest_json = NULL;
	}
	return x;
}

/* The VM in r->hv, with its disks, console, credentials and report path. */
static int configure(struct run *r, struct hv_config *cfg)
{
	const struct hypervisor_ops *ops = r->prof->ops;
	char *words = kernel_words(r);
	int x = words && (r->vm_log = run_path(r, "qemu.log")) ? 0 : -ENOMEM;

	if (x == 0 && r->img.kernel && ops->image_kernel && !(r->kernel = ops->image_kernel(cfg, r->img.kernel, r->img.vmlinux)))
		x = -ENOMEM;
	cfg->kernel = r->kernel ? r->kernel : r->img.kernel;
	cfg->cmdline = words, cfg->expect_disk = r->expect_img;
	cfg->console_log = r->console_path, cfg->log = r->vm_log, cfg->run_dir = r->dir;
	if (x == 0)
		x = ops->prepare(cfg, &r->hv);
	free(words);   /* copied by prepare(); the other strings stay in R until cleanup */
	if (x < 0) {
		run_diag(r, OUTCOME_ERROR, "cannot configure %s: %s", ops->name, strerror(-x));
		return x;
	}
	return attach_all(r);
}

/* The last MAX bytes of a helper's log (our own file), or NULL. */
static char *log_tail(const char *path, size_t max)
{
	uint8_t *buf;
	size_t len;
	char *tail;

	if (file_read_bounded(AT_FDCWD, path, 1u << 20, &buf, &len) < 0)
		return NULL;
	tail = strdup((char *)buf + (len > max ? len - max : 0));
	free(buf);
	return tail;
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

/* Starts `credscope-harness vsock-backend` serving the vhost-user socket VHOST; it
 * delivers the guest's connections to CID 2 port P to "<UDS>_P". */
static int start_vsock_backend(struct run *r, const char *vhost, const char *uds)
{
	char *log = run_path(r, "vsock-backend.log");
	char *argv[] = { (char *)r->o->self_exe, "vsock-backend", "--socket", (char *)vhost, "--uds-path", (char *)uds,
			 "--guest-cid", "3", NULL };
	int x = log ? spawn_helper(argv, log, &r->backend_pid) : -ENOMEM, status = 0;
	bool exited = false;

	/* the socket appears within milliseconds; on a machine loaded with TCG guests the
	 * backend may take seconds to be scheduled, so wait up to 20 s, but no longer than
	 * the backend lives */
	for (int i = 0; x == 0 && i < 1000 && access(vhost, F_OK) < 0 && !exited; i++) {
		usleep(20 * 1000);
		exited = waitpid(r->backend_pid, &status, WNOHANG) == r->backend_pid;
	}
	if (exited)
		r->backend_pid = 0;
	if (x == 0 && access(vhost, F_OK) < 0)
		x = exited ? -ECHILD : -ETIMEDOUT;
	if (x < 0) {
		char *t = log ? log_tail(log, HELPER_LOG_TAIL) : NULL;
		if (exited)
			run_diag(r, OUTCOME_ERROR, "the vhost-user-vsock backend exited at start (%s %d): %s (use "
				 "--transport serial)", WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), t && *t ? t : "no message");
		else
			run_diag(r, OUTCOME_ERROR, "the vhost-user-vsock backend did not start (%s): %s (use --transport "
				 "serial)", strerror(-x), t && *t ? t : "no message");
		free(t);
	}
	free(log);
	return x;
}

/* The vsock report path: the listener exists before boot, because the guest may connect
 * as soon as it runs. QEMU needs our vhost-user backend; CH has its own hybrid vsock. */
static int attach_vsock(struct run *r)
{
	bool vhost = r->prof->ops->vsock_is_vhost_user;
	char *sock = run_path(r, vhost ? "vhost-vsock.sock" : "vsock.sock");
	char *uds = vhost ? run_path(r, "vsock") : (sock ? strdup(sock) : NULL), *listen = NULL;
	int x = sock && uds && asprintf(&listen, "%s_%u", uds, VSOCK_REPORT_PORT) >= 0 ? 0 : -ENOMEM;

	if (x == 0 && (x = r->prof->ops->attach_vsock(&r->hv, GUEST_CID, sock)) < 0)
		run_diag(r, OUTCOME_ERROR, "cannot configure %s: %s", r->prof->ops->name, strerror(-x));
	else if (x == 0 && (x = report_channel_listen(&r->ch, listen)) < 0)
		run_diag(r, OUTCOME_ERROR, "cannot listen on %s for the vsock report: %s", listen, strerror(-x));
	else if (x == 0 && vhost)
		x = start_vsock_backend(r, sock, uds);
	if (x == -ENOMEM)
		run_diag(r, OUTCOME_ERROR, "cannot configure %s: %s", r->prof->ops->name, strerror(-x));
	free(sock), free(uds), free(listen);
	return x;
}

static int attach_report(struct run *r)
{
	char *sock;
	int x;

	if (strcmp(r->transport, "vsock") == 0)
		return attach_vsock(r);
	sock = run_path(r, "report.sock");
	x = !sock ? -ENOMEM : r->prof->ops->attach_serial_report ? r->prof->ops->attach_serial_report(&r->hv, sock) : -EOPNOTSUPP;
	if (x < 0)
		run_diag(r, OUTCOME_ERROR, "cannot configure %s for the %s report: %s", r->prof->ops->name, r->transport,
			 strerror(-x));
	free(sock);
	return x;
}

/* Starts the VM, waits until it has taken the credentials, and for the serial transport
 * connects to its report port before the guest can write. */
static int start_vm(struct run *r)
{
	const struct hypervisor_ops *ops = r->prof->ops;
	const char *binary = binary_of(r);
	char *why = NULL, *sock;
	int x = ops->start(&r->hv, &why);

	r->res->timeline.qemu_start_ms = x < 0 ? -1 : mono_ms() - r->t0;
	if (x < 0)
		run_diag(r, OUTCOME_ERROR, "%s%s%s%s", why ? why : "cannot start ", why ? "" : binary ? binary : ops->default_binary,
			 why ? "" : ": ", why ? "" : strerror(-x));
	else if (ops->wait_ready && (x = ops->wait_ready(&r->hv, QMP_READY_MS * (int)accel_time_scale(r->res->accel), &why)) < 0)
		run_diag(r, OUTCOME_ERROR, "%s", why ? why : strerror(-x));
	free(why);
	if (x < 0 || strcmp(r->transport, "serial"))
		return x;
	if (!(sock = run_path(r, "report.sock")))
		return -ENOMEM;
	int fd = serial_transport_connect(sock, SERIAL_CONNECT_MS);
	if (fd < 0)
		run_diag(r, OUTCOME_ERROR, "cannot connect to the virtio-serial report socket %s: %s", sock, strerror(-fd));
	free(sock);
	return fd < 0 ? fd : report_channel_adopt(&r->ch, fd);
}

/* A zero-install guest that booted and never reported: say what it needs. */
static void zero_install_hint(struct run *r)
{
	char *d;

	if (!r->tc->zero_install || !r->zi_agent || !r->diag || r->res->agent_verdict ||
	    r->res->timeline.qemu_start_ms <= 0)
		return;
	if (asprintf(&d, "%s; zero_install: the guest needs systemd %u or later with systemd-debug-generator (not "
		     "masked) to run the unit it was sent, /bin/sh and mount(8), and must not be a confidential VM (no "
		     "SMBIOS credentials there); else install the agent (docs/your-own-guest.md)", r->diag,
		     ZI_MIN_SYSTEMD) >= 0)
		free(r->diag), r->diag = d;
}

static void finish(struct run *r)
{
	zero_install_hint(r);
	if (r->hv.impl)
		r->hv.ops->stop(&r->hv, STOP_GRACE_MS);
	stop_helper(&r->backend_pid);
	run_console_final(r);
	run_settle(r);
	if (!r->res->ok || r->o->keep)
		run_keep_log(r);
	if (r->hv.impl)
		r->hv.ops->destroy(&r->hv);
	run_cleanup(r);
}

/* Every credential loaded and hashed, the manifest disk written: the VM can be built. */
static int load_all(struct run *r)
{
	for (size_t i = 0; i < r->tc->n_creds; i++) {
		int x = run_load_credential(r, &r->tc->creds[i]);
		if (x < 0)
			return x;
	}
	for (size_t i = 0; r->zi_agent && i < sizeof r->zi / sizeof *r->zi; i++) {
		int x = run_load_credential(r, &r->zi[i]);
		if (x < 0)
			return x;
	}
	return run_write_manifest(r);
}

void run_case(const struct run_opts *o, const struct test_case *tc, const char *image, struct run_live *live,
	      struct case_result *res)
{
	struct run r = { .prof = profile_of(tc) };
	const struct hypervisor_ops *ops = r.prof->ops;
	struct hv_config cfg;
	char *why;

	if (run_begin(&r, o, tc, image, live, res) < 0)
		return;
	if (ops->unavailable && (why = ops->unavailable(binary_of(&r)))) {
		res->skipped = true;
		res->skip_reason = why;
	} else if (run_prepare(&r) == 0) {
		base_config(&r, &cfg);
		if (preflight(&r, &cfg) && load_all(&r) == 0 && configure(&r, &cfg) == 0 && attach_report(&r) == 0 &&
		    start_vm(&r) == 0)
			run_wait_for_verdict(&r);
	}
	finish(&r);
	run_end(&r);
}
