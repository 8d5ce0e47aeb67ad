/* ch_runner: one harness case on cloud-hypervisor. */
#include "runner/ch_runner.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/cloud_hypervisor.h"
#include "runner/run_common.h"

#define CH_VERDICT_S 120     /* KVM only: no TCG scaling needed */
#define CH_STOP_GRACE_MS 3000

struct ch_run {
	struct run_core core;
	struct ch_credential *creds;   /* values are owned copies, cleared in ch_finish() */
	size_t n_creds;
	char *cmdline_creds;
	struct ch_vm vm;
};

/* NULL when a CH VM can run here, else why not (malloc'd). */
static char *unavailable_reason(const char *binary)
{
	char *reason = NULL;
	const char *assume = getenv("CREDSCOPE_CH_ASSUME_KVM");
	unsigned major, minor;
	int r;

	if (assume && strcmp(assume, "1") == 0)
		r = ch_query_version(binary, &major, &minor, &reason);
	else
		r = ch_available(binary, &reason);
	if (r == 0)
		return NULL;
	return reason ? reason : strdup("cloud-hypervisor cannot run here");
}

/* Takes V (a secret buffer) for SMBIOS credentials; the caller clears it otherwise. */
static int hand_over(void *ctx, const struct case_cred *c, uint8_t **v, size_t len)
{
	struct ch_run *r = ctx;
	struct ch_credential *grown;
	char *words;

	if (c->via == VIA_CMDLINE) {
		for (size_t i = 0; i < len; i++)
			if ((*v)[i] <= ' ' || (*v)[i] == '"' || (*v)[i] == 0x7f)
				return -EINVAL;
		if (asprintf(&words, "%s systemd.set_credential=%s:%.*s", r->cmdline_creds ? r->cmdline_creds : "",
			     c->name, (int)len, (const char *)*v) < 0)
			return -ENOMEM;
		free(r->cmdline_creds);
		r->cmdline_creds = words;
		return 0;
	}
	grown = realloc(r->creds, (r->n_creds + 1) * sizeof *grown);
	if (!grown)
		return -ENOMEM;
	r->creds = grown;
	r->creds[r->n_creds++] = (struct ch_credential){ c->name, *v, len };
	*v = NULL;
	return 0;
}

static int load_credentials(struct ch_run *r)
{
	for (size_t i = 0; i < r->core.tc->n_creds; i++) {
		const struct case_cred *c = &r->core.tc->creds[i];
		int x;

		if (c->via == VIA_FW_CFG) {
			run_diag(&r->core, OUTCOME_FAIL, "%s: cannot be sent by fw_cfg to cloud-hypervisor (its default "
				 "build has no fw_cfg device; use via smbios or smbios-binary); not booted", c->name);
			return -EOPNOTSUPP;
		}
		x = run_take_credential(&r->core, c, "cloud-hypervisor", hand_over, r);
		if (x < 0)
			return x;
	}
	return 0;
}

/* CH boots an ELF vmlinux: prefer one beside the image's kernel (docs/cloud-hypervisor.md). */
static char *kernel_for_ch(const struct guest_image *img)
{
	char *dir = strdup(img->kernel), *slash, *vmlinux = NULL;

	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&vmlinux, "%s/vmlinux", slash ? dir : ".") < 0)
		vmlinux = NULL;
	free(dir);
	if (vmlinux && access(vmlinux, R_OK) == 0)
		return vmlinux;
	free(vmlinux);
	return strdup(img->kernel);
}

static int launch(struct ch_run *r, const char *expect_img)
{
	struct run_core *rc = &r->core;
	/* the images are built read-only and shared by parallel runs: never written */
	struct ch_disk disks[2] = { { rc->img.rootfs, true }, { expect_img, true } };
	char *kernel = kernel_for_ch(&rc->img), *console = run_path(rc, "console.log"), *vsock = run_path(rc, "vsock.sock");
	char *report = run_path(rc, "vsock.sock_5123"), *cmdline = NULL, *err = NULL;
	struct ch_vm_config cfg = {
		.binary = getenv("CREDSCOPE_CLOUD_HYPERVISOR"), .kernel = kernel, .initramfs = rc->img.initrd,
		.disks = disks, .n_disks = 2, .cpus = 1, .memory_mib = rc->tc->memory_mb ? rc->tc->memory_mb : rc->o->memory_mb,
		.serial_log = console, .credentials = r->creds, .n_credentials = r->n_creds,
		.oem_strings = (const char *const *)rc->tc->oem_strings, .n_oem_strings = rc->tc->n_oem_strings,
		.vsock_cid = 3, .vsock_socket = vsock, .runtime_dir = rc->dir,
	};
	int x = kernel && console && vsock && report ? 0 : -ENOMEM;

	if (x == 0 && asprintf(&cmdline, "%s credscope.report=vsock:2:%u panic=-1%s%s%s", rc->img.cmdline,
			       CH_DEFAULT_REPORT_PORT, r->cmdline_creds ? r->cmdline_creds : "",
			       rc->tc->cmdline_extra ? " " : "", rc->tc->cmdline_extra ? rc->tc->cmdline_extra : "") < 0)
		x = -ENOMEM;
	cfg.cmdline = cmdline;
	/* the listener exists before boot: CH connects to it when the guest connects to CID 2 */
	if (x == 0 && (x = report_channel_listen(&rc->ch, report)) < 0)
		run_diag(rc, OUTCOME_ERROR, "cannot listen for the report on %s: %s", report, strerror(-x));
	if (x == 0 && (x = console_watch_open(&rc->con, console)) < 0)
		run_diag(rc, OUTCOME_ERROR, "cannot follow the console log %s: %s", console, strerror(-x));
	if (x == 0 && (x = ch_launch(&cfg, &r->vm, &err)) < 0)
		run_diag(rc, OUTCOME_ERROR, "%s", err ? err : "cannot launch cloud-hypervisor");
	free(err), free(kernel), free(console), free(vsock), free(report), free(cmdline);
	return x;
}

/* Returns true when the wait is over (a report was judged or a problem diagnosed). */
static bool poll_once(struct ch_run *r, struct run_live *live)
{
	struct pollfd p = { .fd = report_channel_poll_fd(&r->core.ch), .events = POLLIN };
	uint8_t *buf = NULL;
	size_t len = 0;
	int status, x;

	if (poll(&p, p.fd >= 0 ? 1 : 0, 200) > 0 && (p.revents & (POLLIN | POLLHUP))) {
		x = report_channel_readable(&r->core.ch, 30000, &buf, &len);
		if (x == 1) {
			atomic_store(&live->phase, PHASE_REPORT);
			run_judge_report(&r->core, buf, len);
			free(buf);
			return true;
		}
		if (x < 0 && x != -EPIPE) {
			run_diag(&r->core, OUTCOME_ERROR, "the hybrid vsock report channel failed: %s", strerror(-x));
			return true;
		}
	}
	(void)console_watch_update(&r->core.con, mono_ms());
	atomic_store(&live->phase, (int)r->core.con.phase);
	if (r->vm.pid > 0 && waitpid(r->vm.pid, &status, WNOHANG) == r->vm.pid) {
		r->vm.pid = 0;
		run_diag(&r->core, OUTCOME_ERROR, "cloud-hypervisor exited in phase %s without a report (status %d); see "
			"cloud-hypervisor.log in the run directory", boot_phase_name(r->core.con.phase), status);
		return true;
	}
	return false;
}

static void wait_for_report(struct ch_run *r, struct run_live *live)
{
	unsigned v_s = r->core.tc->verdict_s ? r->core.tc->verdict_s : CH_VERDICT_S;
	long long t0 = mono_ms();

	while (!poll_once(r, live)) {
		if (r->core.o->stop && atomic_load(r->core.o->stop)) {
			run_diag(&r->core, OUTCOME_ERROR, "interrupted by a signal in phase %s", boot_phase_name(r->core.con.phase));
			return;
		}
		if (mono_ms() - t0 > (long long)v_s * 1000) {
			run_diag(&r->core, OUTCOME_ERROR, "stopped in phase %s: no report through cloud-hypervisor's hybrid vsock "
				"within %u s%s%s", boot_phase_name(r->core.con.phase), v_s,
				r->core.con.verdict_line[0] ? "; the console shows " : "", r->core.con.verdict_line);
			return;
		}
	}
}

static void ch_finish(struct ch_run *r)
{
	if (r->vm.pid > 0 || r->vm.api_socket)
		(void)ch_stop(&r->vm, CH_STOP_GRACE_MS);
	run_console_final(&r->core);
	if (!r->core.res->skipped)
		run_settle(&r->core);
	for (size_t i = 0; i < r->n_creds; i++) {
		secret_clear((void *)r->creds[i].value, r->creds[i].len);
		free((void *)r->creds[i].value);
	}
	free(r->creds), free(r->cmdline_creds);
	run_cleanup(&r->core);
}

static int prepare(struct ch_run *r)
{
	int x = run_prepare(&r->core, "ch");

	if (x < 0)
		return x;
	if (random_bytes(r->core.key, sizeof r->core.key) < 0) {
		run_diag(&r->core, OUTCOME_ERROR, "cannot draw the per-run HMAC key");
		return -EIO;
	}
	return 0;
}

void ch_run_case(const struct run_opts *o, const struct test_case *tc, const char *image,
		 struct run_live *live, struct case_result *res)
{
	struct ch_run r = { 0 };
	char *expect_img = NULL, *why;

	if (run_begin(&r.core, o, tc, image, live, res, "kvm", "vsock") < 0)
		return;
	why = unavailable_reason(getenv("CREDSCOPE_CLOUD_HYPERVISOR"));
	if (why) {
		res->skipped = true;
		res->skip_reason = why;
	} else if (prepare(&r) == 0 && load_credentials(&r) == 0 && run_write_manifest(&r.core, &expect_img) == 0 &&
		   launch(&r, expect_img) == 0)
		wait_for_report(&r, live);
	free(expect_img);
	ch_finish(&r);
	run_end(&r.core);
}
