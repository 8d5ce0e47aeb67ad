/* run_common: the hypervisor-independent steps of one case run. */
#include "runner/run_common.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/case_manifest.h"

void run_diag(struct run_core *rc, enum case_outcome got, const char *fmt, ...)
{
	va_list ap;

	if (rc->diag)
		return;
	va_start(ap, fmt);
	if (vasprintf(&rc->diag, fmt, ap) < 0)
		rc->diag = NULL;
	va_end(ap);
	rc->got = got;
}

char *run_path(const struct run_core *rc, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", rc->dir, name) < 0 ? NULL : p;
}

int run_begin(struct run_core *rc, const struct run_opts *o, const struct test_case *tc, const char *image,
	      struct run_live *live, struct case_result *res, const char *accel, const char *transport)
{
	rc->o = o, rc->tc = tc, rc->res = res, rc->live = live, rc->got = OUTCOME_PASS;
	rc->t0 = mono_ms();
	memset(res, 0, sizeof *res);
	report_channel_init(&rc->ch);
	rc->con.fd = -1;
	res->case_name = strdup(tc->name);
	res->image = strdup(image);
	res->accel = accel;
	res->transport = transport;
	if (case_view(tc, image, &rc->view) < 0)
		return -EINVAL;
	res->expected = rc->view.outcome;
	live->case_name = tc->name, live->image = image, live->start_ms = rc->t0;
	atomic_store(&live->phase, -1);
	atomic_store(&live->active, 1);
	return 0;
}

void run_end(struct run_core *rc)
{
	rc->res->seconds = (double)(mono_ms() - rc->t0) / 1000.0;
	atomic_store(&rc->live->active, 0);
}

int run_prepare(struct run_core *rc, const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *why = NULL;

	if (image_load(rc->o->image_dir, rc->view.image, &rc->img, &why) < 0) {
		rc->res->skipped = true;
		rc->res->skip_reason = why;
		return -ENOENT;
	}
	if (asprintf(&rc->dir, "%s/credscope-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag) < 0 || !mkdtemp(rc->dir)) {
		run_diag(rc, OUTCOME_ERROR, "cannot create a private directory under %s: %s", tmp ? tmp : "/tmp",
			 strerror(errno));
		free(rc->dir), rc->dir = NULL;
		return -EIO;
	}
	return 0;
}

/* Secrets are read here, hashed, handed over and cleared at once. */
int run_take_credential(struct run_core *rc, const struct case_cred *c, const char *launcher,
			run_hand_over_fn hand_over, void *ctx)
{
	uint8_t *v = NULL;
	size_t len = 0;
	char *err = NULL;
	int x = case_cred_load(c, &v, &len, &err);

	if (x < 0) {
		run_diag(rc, OUTCOME_ERROR, "%s", err ? err : "cannot load a credential");
		free(err);
		return x;
	}
	x = case_manifest_record(&rc->sent, &rc->n_sent, rc->key, sizeof rc->key, c, v, len);
	if (x == 0)
		x = hand_over(ctx, c, &v, len);
	if (v)
		secret_clear(v, len);
	free(v);
	if (x < 0) {
		run_diag(rc, OUTCOME_ERROR, "credential %s: cannot hand it to %s by %s: %s", c->name, launcher,
			 cred_via_name(c->via), strerror(-x));
		return x;
	}
	return 0;
}

int run_write_manifest(struct run_core *rc, char **image)
{
	char *err;
	int x = case_manifest_write(&rc->view, rc->tc->strict, rc->sent, rc->n_sent, rc->key, sizeof rc->key, rc->dir,
				    image, rc->manifest_sha, &err);

	if (err)
		run_diag(rc, OUTCOME_ERROR, "%s", err);
	free(err);
	return x;
}

void run_judge_report(struct run_core *rc, const uint8_t *buf, size_t len)
{
	struct judge_input in = { .view = &rc->view, .sent = rc->sent, .n_sent = rc->n_sent, .machine = rc->tc->machine,
				  .manifest_sha256 = rc->manifest_sha };
	struct judgement j;
	struct report rep;
	char *err = NULL;

	if (report_parse((const char *)buf, len, &rep, &err) < 0) {
		(void)report_channel_ack(&rc->ch, false, err);
		run_diag(rc, OUTCOME_ERROR, "the guest's report is malformed: %s", err ? err : "?");
		free(err);
		return;
	}
	(void)report_channel_ack(&rc->ch, true, NULL);
	rc->res->agent_verdict = strdup(rep.verdict);
	if (report_judge(&rep, &in, &j) < 0) {
		run_diag(rc, OUTCOME_ERROR, "out of memory while judging the report");
	} else {
		rc->got = j.verdict;
		rc->diag = judgement_text(&j);
		judgement_free(&j);
	}
	report_free(&rep);
}

void run_console_final(struct run_core *rc)
{
	if (rc->con.fd < 0)
		return;
	(void)console_watch_update(&rc->con, mono_ms());
	rc->res->console_tail = console_watch_tail(&rc->con, 15);
}

void run_settle(struct run_core *rc)
{
	struct case_result *res = rc->res;

	res->got = rc->diag || rc->got != OUTCOME_PASS ? (rc->got == OUTCOME_PASS ? OUTCOME_FAIL : rc->got) : OUTCOME_PASS;
	res->phase = strdup(boot_phase_name(rc->con.phase));
	res->ok = res->got == res->expected &&
		  (!rc->view.diagnosis || (rc->diag && strstr(rc->diag, rc->view.diagnosis)));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void run_cleanup(struct run_core *rc)
{
	rc->res->diagnosis = rc->diag;
	rc->diag = NULL;
	report_channel_close(&rc->ch);
	console_watch_close(&rc->con);
	if (rc->dir && !rc->o->keep)
		(void)nftw(rc->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(rc->dir), free(rc->sent);
	rc->dir = NULL, rc->sent = NULL, rc->n_sent = 0;
	secret_clear(rc->key, sizeof rc->key);
	image_free(&rc->img);
	case_view_free(&rc->view);
}
