/* run_common: the hypervisor-independent steps of one case run. */
#include "runner/run_common.h"
#include "runner/differential.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "runner/case_manifest.h"
#include "runner/expect_disk.h"
#include "runner/rundir.h"

void run_diag(struct run *r, enum case_outcome got, const char *fmt, ...)
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

char *run_path(const struct run *r, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", r->dir, name) < 0 ? NULL : p;
}

int run_begin(struct run *r, const struct run_opts *o, const struct test_case *tc, const char *image,
	      struct run_live *live, struct case_result *res)
{
	const struct hypervisor_ops *ops = r->prof->ops;

	r->o = o, r->tc = tc, r->res = res, r->live = live, r->got = OUTCOME_PASS;
	r->t0 = mono_ms();
	memset(res, 0, sizeof *res);
	run_timeline_init(&res->timeline);
	report_channel_init(&r->ch);
	r->con.fd = -1;
	r->transport = ops->fixed_transport ? ops->fixed_transport : o->transport;
	res->case_name = strdup(tc->name);
	res->image = strdup(image);
	res->accel = ops->fixed_accel ? ops->fixed_accel : o->accel;
	res->transport = r->transport;
	if (case_view(tc, image, &r->view) < 0)
		return -EINVAL;
	res->expected = r->view.outcome;
	live->case_name = tc->name, live->image = image, live->start_ms = r->t0;
	atomic_store(&live->phase, -1);
	atomic_store(&live->active, 1);
	return 0;
}

void run_end(struct run *r)
{
	r->res->seconds = (double)(mono_ms() - r->t0) / 1000.0;
	atomic_store(&r->live->active, 0);
}

/* A case's own guest as the runner's image: its files as named (checked when the case was
 * loaded), direct kernel boot with its "append" (the console the phases are read from
 * when it gives none) or, without a kernel, its disk booted by the firmware. */
static int guest_image(const struct case_guest *g, bool aarch64, struct guest_image *img)
{
	memset(img, 0, sizeof *img);
	img->flavor = strdup(CASE_GUEST_LABEL);
	img->kernel = g->kernel ? strdup(g->kernel) : NULL;
	img->initrd = g->initrd ? strdup(g->initrd) : NULL;
	img->rootfs = g->disk ? strdup(g->disk) : NULL;
	img->rootfs_format = strdup(g->format ? g->format : "raw");
	img->cmdline = g->kernel ? strdup(g->append ? g->append : aarch64 ? CASE_GUEST_DEFAULT_APPEND_AARCH64
										 : CASE_GUEST_DEFAULT_APPEND)
				 : NULL;
	if (!img->flavor || (g->kernel && (!img->kernel || !img->cmdline)) || (g->initrd && !img->initrd) ||
	    (g->disk && !img->rootfs) || !img->rootfs_format) {
		image_free(img);
		return -ENOMEM;
	}
	return 0;
}

static bool has_override(const struct test_case *tc, const char *image)
{
	for (size_t i = 0; i < tc->n_overrides; i++)
		if (strcmp(tc->overrides[i].image, image) == 0)
			return true;
	return false;
}

/* A flavor whose image.json says "cases_as": F (trixie-arm64: trixie) takes F's "by_image"
 * entry when the case has none of its own: the same systemd behaves the same on another
 * architecture, and a case need not name a flavor that may not be built (a by_image key
 * must be). The view keeps the flavor's own name. */
static int view_as(struct run *r)
{
	const char *image = r->view.image;

	if (!r->img.cases_as || has_override(r->tc, image) || !has_override(r->tc, r->img.cases_as))
		return 0;
	case_view_free(&r->view);
	if (case_view(r->tc, r->img.cases_as, &r->view) < 0) {
		run_diag(r, OUTCOME_ERROR, "out of memory");
		return -ENOMEM;
	}
	r->view.image = image;
	r->res->expected = r->view.outcome;
	return 0;
}

/* The run's architecture and machine, from the flavor's image.json (or the case's own
 * guest); what the case asks that the architecture cannot give is an explained skip: the
 * default suite's pc and microvm cases on an aarch64 flavor, an "arch" the flavor is not. */
static int run_pick_arch(struct run *r)
{
	const struct test_case *tc = r->tc;
	enum guest_arch arch = tc->guest ? tc->arch : r->img.arch;
	bool oom;
	int x;
	char *why = case_arch_misfit(arch, tc->arch_given, tc->arch, tc->firmware, tc->firmware_given, tc->machine,
				     tc->machine_given, &oom);

	if (oom) {
		run_diag(r, OUTCOME_ERROR, "out of memory");
		return -ENOMEM;
	}
	if (!why && arch == GUEST_ARCH_AARCH64 && tc->hypervisor != HV_QEMU &&
	    !(why = strdup("an aarch64 guest boots on QEMU only (qemu-system-aarch64 -M virt)"))) {
		run_diag(r, OUTCOME_ERROR, "out of memory");
		return -ENOMEM;
	}
	if (why) {
		r->res->skipped = true;
		r->res->skip_reason = why;
		return -ENOENT;
	}
	if ((x = view_as(r)) < 0)
		return x;
	r->aarch64 = arch == GUEST_ARCH_AARCH64;
	r->machine = r->aarch64 ? "virt" : tc->machine;
	if (r->aarch64)
		r->res->accel = "tcg";   /* an aarch64 guest on this x86-64 host: emulated, whatever KVM offers */
	return 0;
}

int run_prepare(struct run *r)
{
	const char *tmp = rundir_tmp();
	char *why = NULL;
	int x;

	if (r->tc->guest) {
		if ((x = guest_image(r->tc->guest, r->tc->arch == GUEST_ARCH_AARCH64, &r->img)) < 0) {
			run_diag(r, OUTCOME_ERROR, "out of memory");
			return x;
		}
	} else if (image_load(r->o->image_dir, r->view.image, &r->img, &why) < 0) {
		r->res->skipped = true;
		r->res->skip_reason = why;
		return -ENOENT;
	}
	if ((x = run_pick_arch(r)) < 0)
		return x;
	if ((x = rundir_create(tmp, r->tc->name, &r->dir)) < 0) {
		run_diag(r, OUTCOME_ERROR, "cannot create a private directory under %s: %s", tmp, strerror(-x));
		return -EIO;
	}
	r->console_path = run_path(r, "console.log");
	if (!r->console_path)
		x = -ENOMEM;
	else if ((x = console_watch_open(&r->con, r->console_path)) == 0)
		x = random_bytes(r->key, sizeof r->key);
	if (x < 0) {
		run_diag(r, OUTCOME_ERROR, "cannot prepare %s: %s", r->dir, strerror(-x));
		return -EIO;
	}
	return 0;
}

/* Secrets are read here and hashed at once; the value waits, cleared on every path, until
 * the VM has taken it (runner.c). */
int run_load_credential(struct run *r, const struct case_cred *c)
{
	struct run_cred *grown = realloc(r->creds, (r->n_creds + 1) * sizeof *grown);
	uint8_t *v = NULL;
	size_t len = 0;
	char *err = NULL;
	int x;

	if (!grown) {
		run_diag(r, OUTCOME_ERROR, "credential %s: out of memory", c->name);
		return -ENOMEM;
	}
	r->creds = grown;
	x = case_cred_load(c, &v, &len, &err);
	if (x < 0) {
		run_diag(r, OUTCOME_ERROR, "%s", err ? err : "cannot load a credential");
		free(err);
		return x;
	}
	x = case_manifest_record(&r->sent, &r->n_sent, r->key, sizeof r->key, c, v, len);
	if (x < 0) {
		secret_free(v, len);
		run_diag(r, OUTCOME_ERROR, "credential %s: cannot record it for the manifest: %s", c->name, strerror(-x));
		return x;
	}
	r->creds[r->n_creds++] = (struct run_cred){ c, v, len };
	return 0;
}

void run_drop_credentials(struct run *r)
{
	for (size_t i = 0; i < r->n_creds; i++)
		secret_free(r->creds[i].value, r->creds[i].len);
	free(r->creds);
	r->creds = NULL, r->n_creds = 0;
}

int run_write_manifest(struct run *r)
{
	char *err, *json = NULL;
	int x;
	/* fw_cfg: in the guest from PID 1's start, no disk to probe and mount on the verdict's
	 * critical path, and never a file: QEMU gets it through a memfd */
	bool fw_cfg = r->prof->ops->attach_fw_cfg_file && r->tc->expectations != EXPECT_VIA_DISK;

	if (fw_cfg || r->zi_agent)
		x = case_manifest_text(&r->view, r->tc->strict, r->sent, r->n_sent, r->key, sizeof r->key, &json,
				       r->manifest_sha, &err);
	else
		x = case_manifest_write(&r->view, r->tc->strict, r->sent, r->n_sent, r->key, sizeof r->key, r->dir,
					&r->expect_img, r->manifest_sha, &err);
	/* zero-install: the agent's disk, with the manifest only when the disk is its route (the
	 * key then lives as long as an expectations disk does, no longer) */
	if (x == 0 && r->zi_agent) {
		x = expect_disk_create_with(r->dir, fw_cfg ? NULL : json, r->zi_agent, &r->expect_img, &err);
		if (x < 0 && !err)
			err = strdup("cannot build the agent disk");
	}
	if (json && (!fw_cfg || x < 0))
		secret_free(json, strlen(json));
	else if (json)
		r->manifest_json = json;

	if (err)
		run_diag(r, OUTCOME_ERROR, "%s", err);
	free(err);
	return x;
}

void run_forget_key(struct run *r)
{
	static const char *const names[] = { "expect/manifest.json", "expect.img" };

	if (!r->dir)
		return;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *p = run_path(r, names[i]);
		if (p)
			(void)unlink(p);
		free(p);
	}
	char *d = run_path(r, "expect");
	if (d)
		(void)rmdir(d);
	free(d);
}

/* A case's "smbios_entry_point" against the one the agent read (an old agent reports none). */
static int judge_smbios_entry(const struct test_case *tc, const struct report *rep, struct judgement *j)
{
	const char *got = rep->smbios_entry_point;

	if (!tc->smbios_entry_point || (got && strcmp(got, tc->smbios_entry_point) == 0))
		return 0;
	j->verdict = OUTCOME_FAIL;
	return got ? judgement_add(j, "SMBIOS entry point: expected %s, the guest's kernel found %s (version %s)",
				   tc->smbios_entry_point, got, rep->smbios_version)
		   : judgement_add(j, "SMBIOS entry point: expected %s, the report names none (an agent older than "
				   "the report's \"smbios\" field)", tc->smbios_entry_point);
}

void run_judge_report(struct run *r, const uint8_t *buf, size_t len)
{
	struct judge_input in = { .view = &r->view, .sent = r->sent, .n_sent = r->n_sent, .machine = r->tc->machine,
				  .manifest_sha256 = r->manifest_sha,
				  .judge_instead = r->tc->differential ? differential_judge : NULL };
	struct judgement j;
	struct report rep;
	char *err = NULL;

	if (report_parse((const char *)buf, len, &rep, &err) < 0) {
		(void)report_channel_ack(&r->ch, false, err);
		run_diag(r, OUTCOME_ERROR, "the guest's report is malformed: %s", err ? err : "?");
		free(err);
		return;
	}
	(void)report_channel_ack(&r->ch, true, NULL);
	r->res->timeline.report_ms = mono_ms() - r->t0;
	r->res->agent_verdict = strdup(rep.verdict);
	(void)report_cred_outcomes(&rep, &in, &r->res->creds, &r->res->n_creds);   /* for --html; best effort */
	if (rep.smbios_entry_point && asprintf(&r->res->smbios_entry, "%s%s%s", rep.smbios_entry_point,
					       *rep.smbios_version ? " " : "", rep.smbios_version) < 0)
		r->res->smbios_entry = NULL;
	if (report_judge(&rep, &in, &j) < 0 || judge_smbios_entry(r->tc, &rep, &j) < 0) {
		run_diag(r, OUTCOME_ERROR, "out of memory while judging the report");
	} else {
		r->got = j.verdict;
		r->res->diff = j.diff;
		r->diag = judgement_text(&j);
		judgement_free(&j);
	}
	report_free(&rep);
}

void run_console_final(struct run *r)
{
	if (r->con.fd < 0)
		return;
	(void)console_watch_update(&r->con, mono_ms());
	r->res->console_tail = console_watch_tail(&r->con, 15);
}

void run_settle(struct run *r)
{
	struct case_result *res = r->res;

	res->got = r->diag || r->got != OUTCOME_PASS ? (r->got == OUTCOME_PASS ? OUTCOME_FAIL : r->got) : OUTCOME_PASS;
	res->phase = strdup(boot_phase_name(r->con.phase));
	console_watch_timeline(&r->con, r->t0, &res->timeline);
	res->timeline.end_ms = mono_ms() - r->t0;
	run_timeline_order(&res->timeline);
	res->ok = res->got == res->expected &&
		  (!r->view.diagnosis || (r->diag && strstr(r->diag, r->view.diagnosis)));
}

void run_keep_log(struct run *r)
{
	char *dst;

	if (!r->console_path || access(r->console_path, R_OK) || (!r->o->keep && !r->o->log_dir))
		return;
	if (r->o->keep) {
		r->res->log_path = strdup(r->console_path);
		return;
	}
	(void)mkdir(r->o->log_dir, 0700);
	if (asprintf(&dst, "%s/%s.%s.console.log", r->o->log_dir, r->tc->name, r->view.image) < 0)
		return;
	int x = file_copy(r->console_path, dst);
	if (x == 0) {
		r->res->log_path = dst;
		return;
	}
	(void)unlink(dst);   /* no half copy: a full disk must not keep a truncated log */
	char *d = NULL;      /* after run_settle(): the verdict stands, the diagnosis says what was lost */
	if (asprintf(&d, "%s%sthe console log could not be copied to %s: %s", r->diag ? r->diag : "", r->diag ? "; " : "",
		     dst, strerror(-x)) >= 0)
		free(r->diag), r->diag = d;
	free(dst);
}

void run_cleanup(struct run *r)
{
	r->res->diagnosis = r->diag;
	r->diag = NULL;
	report_channel_close(&r->ch);
	console_watch_close(&r->con);
	run_forget_key(r);   /* --keep too: the key never outlives the run */
	if (r->dir && !r->o->keep)
		(void)rm_tree(r->dir);
	else if (r->dir)
		rundir_disown(r->dir);   /* kept: the user's now, no later harness sweeps it away */
	run_drop_credentials(r);
	if (r->manifest_json)
		secret_free(r->manifest_json, strlen(r->manifest_json));
	r->manifest_json = NULL;
	free(r->dir), free(r->sent), free(r->console_path), free(r->expect_img);
	free(r->kernel), free(r->vm_log);
	for (size_t i = 0; i < sizeof r->zi / sizeof *r->zi; i++)
		free(r->zi[i].name), free(r->zi[i].value);
	memset(r->zi, 0, sizeof r->zi);
	free(r->zi_agent);
	r->zi_agent = NULL;
	r->dir = NULL, r->sent = NULL, r->n_sent = 0, r->console_path = NULL, r->expect_img = NULL;
	secret_clear(r->key, sizeof r->key);
	image_free(&r->img);
	case_view_free(&r->view);
}
