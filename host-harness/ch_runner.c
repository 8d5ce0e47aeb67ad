/* ch_runner: one harness case on cloud-hypervisor. */
#include "ch_runner.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case_manifest.h"
#include "cloud_hypervisor.h"
#include "console.h"
#include "digest.h"
#include "expect_disk.h"
#include "image.h"
#include "manifest.h"
#include "report_channel.h"
#include "report_check.h"

#define CH_KEY_BYTES 32
#define CH_VERDICT_S 120     /* KVM only: no TCG scaling needed */
#define CH_STOP_GRACE_MS 3000

struct ch_run {
	const struct run_opts *o;
	const struct test_case *tc;
	struct case_result *res;
	struct case_view view;
	struct guest_image img;
	char *dir;
	uint8_t key[CH_KEY_BYTES];
	struct sent_cred *sent;
	size_t n_sent;
	struct ch_credential *creds;   /* values are owned copies, cleared in ch_finish() */
	size_t n_creds;
	char *cmdline_creds;
	char manifest_sha[DIGEST_HEX_LEN + 1];
	struct ch_vm vm;
	struct report_channel ch;
	struct console_watch con;
	char *diag;
	enum case_outcome got;
};

__attribute__((format(printf, 3, 4)))
static void ch_diag(struct ch_run *r, enum case_outcome got, const char *fmt, ...)
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
static int hand_over(struct ch_run *r, const struct case_cred *c, uint8_t **v, size_t len)
{
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
	for (size_t i = 0; i < r->tc->n_creds; i++) {
		const struct case_cred *c = &r->tc->creds[i];
		char *err = NULL;
		uint8_t *v = NULL;
		size_t len = 0;
		int x;

		if (c->via == VIA_FW_CFG) {
			ch_diag(r, OUTCOME_FAIL, "%s: cannot be sent by fw_cfg to cloud-hypervisor (its default build has "
				"no fw_cfg device; use via smbios or smbios-binary); not booted", c->name);
			return -EOPNOTSUPP;
		}
		x = case_cred_load(c, &v, &len, &err);
		if (x < 0) {
			ch_diag(r, OUTCOME_ERROR, "%s", err ? err : "cannot load a credential");
			free(err);
			return x;
		}
		x = case_manifest_record(&r->sent, &r->n_sent, r->key, sizeof r->key, c, v, len);
		if (x == 0)
			x = hand_over(r, c, &v, len);
		if (v)
			secret_clear(v, len);
		free(v);
		if (x < 0) {
			ch_diag(r, OUTCOME_ERROR, "credential %s: cannot hand it to cloud-hypervisor by %s: %s", c->name,
				cred_via_name(c->via), strerror(-x));
			return x;
		}
	}
	return 0;
}

static int write_manifest(struct ch_run *r, char **image)
{
	char *err;
	int x = case_manifest_write(&r->view, r->tc->strict, r->sent, r->n_sent, r->key, sizeof r->key, r->dir, image,
				    r->manifest_sha, &err);

	if (err)
		ch_diag(r, OUTCOME_ERROR, "%s", err);
	free(err);
	return x;
}

static char *in_dir(const struct ch_run *r, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", r->dir, name) < 0 ? NULL : p;
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
	/* the images are built read-only and shared by parallel runs: never written */
	struct ch_disk disks[2] = { { r->img.rootfs, true }, { expect_img, true } };
	char *kernel = kernel_for_ch(&r->img), *console = in_dir(r, "console.log"), *vsock = in_dir(r, "vsock.sock");
	char *report = in_dir(r, "vsock.sock_5123"), *cmdline = NULL, *err = NULL;
	struct ch_vm_config cfg = {
		.binary = getenv("CREDSCOPE_CLOUD_HYPERVISOR"), .kernel = kernel, .initramfs = r->img.initrd,
		.disks = disks, .n_disks = 2, .cpus = 1, .memory_mib = r->tc->memory_mb ? r->tc->memory_mb : r->o->memory_mb,
		.serial_log = console, .credentials = r->creds, .n_credentials = r->n_creds,
		.oem_strings = (const char *const *)r->tc->oem_strings, .n_oem_strings = r->tc->n_oem_strings,
		.vsock_cid = 3, .vsock_socket = vsock, .runtime_dir = r->dir,
	};
	int x = kernel && console && vsock && report ? 0 : -ENOMEM;

	if (x == 0 && asprintf(&cmdline, "%s credscope.report=vsock:2:%u panic=-1%s%s%s", r->img.cmdline,
			       CH_DEFAULT_REPORT_PORT, r->cmdline_creds ? r->cmdline_creds : "",
			       r->tc->cmdline_extra ? " " : "", r->tc->cmdline_extra ? r->tc->cmdline_extra : "") < 0)
		x = -ENOMEM;
	cfg.cmdline = cmdline;
	/* the listener exists before boot: CH connects to it when the guest connects to CID 2 */
	if (x == 0 && (x = report_channel_listen(&r->ch, report)) < 0)
		ch_diag(r, OUTCOME_ERROR, "cannot listen for the report on %s: %s", report, strerror(-x));
	if (x == 0 && (x = console_watch_open(&r->con, console)) < 0)
		ch_diag(r, OUTCOME_ERROR, "cannot follow the console log %s: %s", console, strerror(-x));
	if (x == 0 && (x = ch_launch(&cfg, &r->vm, &err)) < 0)
		ch_diag(r, OUTCOME_ERROR, "%s", err ? err : "cannot launch cloud-hypervisor");
	free(err), free(kernel), free(console), free(vsock), free(report), free(cmdline);
	return x;
}

static void judge(struct ch_run *r, const uint8_t *buf, size_t len)
{
	struct judge_input in = { .view = &r->view, .sent = r->sent, .n_sent = r->n_sent, .machine = r->tc->machine,
				  .manifest_sha256 = r->manifest_sha };
	struct judgement j;
	struct report rep;
	char *err = NULL;

	if (report_parse((const char *)buf, len, &rep, &err) < 0) {
		(void)report_channel_ack(&r->ch, false, err);
		ch_diag(r, OUTCOME_ERROR, "the guest's report is malformed: %s", err ? err : "?");
		free(err);
		return;
	}
	(void)report_channel_ack(&r->ch, true, NULL);
	r->res->agent_verdict = strdup(rep.verdict);
	if (report_judge(&rep, &in, &j) < 0)
		ch_diag(r, OUTCOME_ERROR, "out of memory while judging the report");
	else {
		r->got = j.verdict;
		r->diag = judgement_text(&j);
		judgement_free(&j);
	}
	report_free(&rep);
}

/* Returns true when the wait is over (a report was judged or a problem diagnosed). */
static bool poll_once(struct ch_run *r, struct run_live *live)
{
	struct pollfd p = { .fd = report_channel_poll_fd(&r->ch), .events = POLLIN };
	uint8_t *buf = NULL;
	size_t len = 0;
	int status, x;

	if (poll(&p, p.fd >= 0 ? 1 : 0, 200) > 0 && (p.revents & (POLLIN | POLLHUP))) {
		x = report_channel_readable(&r->ch, 30000, &buf, &len);
		if (x == 1) {
			atomic_store(&live->phase, PHASE_REPORT);
			judge(r, buf, len);
			free(buf);
			return true;
		}
		if (x < 0 && x != -EPIPE) {
			ch_diag(r, OUTCOME_ERROR, "the hybrid vsock report channel failed: %s", strerror(-x));
			return true;
		}
	}
	(void)console_watch_update(&r->con, mono_ms());
	atomic_store(&live->phase, (int)r->con.phase);
	if (r->vm.pid > 0 && waitpid(r->vm.pid, &status, WNOHANG) == r->vm.pid) {
		r->vm.pid = 0;
		ch_diag(r, OUTCOME_ERROR, "cloud-hypervisor exited in phase %s without a report (status %d); see "
			"cloud-hypervisor.log in the run directory", boot_phase_name(r->con.phase), status);
		return true;
	}
	return false;
}

static void wait_for_report(struct ch_run *r, struct run_live *live)
{
	unsigned v_s = r->tc->verdict_s ? r->tc->verdict_s : CH_VERDICT_S;
	long long t0 = mono_ms();

	while (!poll_once(r, live)) {
		if (r->o->stop && atomic_load(r->o->stop)) {
			ch_diag(r, OUTCOME_ERROR, "interrupted by a signal in phase %s", boot_phase_name(r->con.phase));
			return;
		}
		if (mono_ms() - t0 > (long long)v_s * 1000) {
			ch_diag(r, OUTCOME_ERROR, "stopped in phase %s: no report through cloud-hypervisor's hybrid vsock "
				"within %u s%s%s", boot_phase_name(r->con.phase), v_s,
				r->con.verdict_line[0] ? "; the console shows " : "", r->con.verdict_line);
			return;
		}
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void ch_finish(struct ch_run *r)
{
	struct case_result *res = r->res;

	if (r->vm.pid > 0 || r->vm.api_socket)
		(void)ch_stop(&r->vm, CH_STOP_GRACE_MS);
	if (r->con.fd >= 0) {
		(void)console_watch_update(&r->con, mono_ms());
		res->console_tail = console_watch_tail(&r->con, 15);
	}
	if (!res->skipped) {
		res->got = r->diag || r->got != OUTCOME_PASS ? (r->got == OUTCOME_PASS ? OUTCOME_FAIL : r->got) : OUTCOME_PASS;
		res->phase = strdup(boot_phase_name(r->con.phase));
		res->ok = res->got == res->expected &&
			  (!r->view.diagnosis || (r->diag && strstr(r->diag, r->view.diagnosis)));
	}
	res->diagnosis = r->diag;
	r->diag = NULL;
	report_channel_close(&r->ch);
	console_watch_close(&r->con);
	for (size_t i = 0; i < r->n_creds; i++) {
		secret_clear((void *)r->creds[i].value, r->creds[i].len);
		free((void *)r->creds[i].value);
	}
	if (r->dir && !r->o->keep)
		(void)nftw(r->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(r->dir), free(r->sent), free(r->creds), free(r->cmdline_creds);
	secret_clear(r->key, sizeof r->key);
	image_free(&r->img);
	case_view_free(&r->view);
}

static int prepare(struct ch_run *r)
{
	const char *tmp = getenv("TMPDIR");
	char *why = NULL;

	if (image_load(r->o->image_dir, r->view.image, &r->img, &why) < 0) {
		r->res->skipped = true;
		r->res->skip_reason = why;
		return -ENOENT;
	}
	if (asprintf(&r->dir, "%s/credscope-ch-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 || !mkdtemp(r->dir)) {
		ch_diag(r, OUTCOME_ERROR, "cannot create a private directory under %s: %s", tmp ? tmp : "/tmp",
			strerror(errno));
		free(r->dir), r->dir = NULL;
		return -EIO;
	}
	if (random_bytes(r->key, sizeof r->key) < 0) {
		ch_diag(r, OUTCOME_ERROR, "cannot draw the per-run HMAC key");
		return -EIO;
	}
	return 0;
}

void ch_run_case(const struct run_opts *o, const struct test_case *tc, const char *image,
		 struct run_live *live, struct case_result *res)
{
	struct ch_run r = { .o = o, .tc = tc, .res = res, .got = OUTCOME_PASS };
	char *expect_img = NULL, *why;
	long long t0 = mono_ms();

	memset(res, 0, sizeof *res);
	report_channel_init(&r.ch);
	r.con.fd = -1;
	res->case_name = strdup(tc->name);
	res->image = strdup(image);
	res->accel = "kvm";
	res->transport = "vsock";
	if (case_view(tc, image, &r.view) < 0)
		return;
	res->expected = r.view.outcome;
	live->case_name = tc->name, live->image = image, live->start_ms = t0;
	atomic_store(&live->phase, -1);
	atomic_store(&live->active, 1);
	why = unavailable_reason(getenv("CREDSCOPE_CLOUD_HYPERVISOR"));
	if (why) {
		res->skipped = true;
		res->skip_reason = why;
	} else if (prepare(&r) == 0 && load_credentials(&r) == 0 && write_manifest(&r, &expect_img) == 0 &&
		   launch(&r, expect_img) == 0)
		wait_for_report(&r, live);
	free(expect_img);
	ch_finish(&r);
	res->seconds = (double)(mono_ms() - t0) / 1000.0;
	atomic_store(&live->active, 0);
}
