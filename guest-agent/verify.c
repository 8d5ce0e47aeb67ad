/* verify: manifest vs store vs prediction, as findings with one sentence each. */
#include "verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "explain.h"
#include "strutil.h"

const char *finding_kind_name(enum finding_kind k)
{
	switch (k) {
	case FINDING_MISSING: return "missing";
	case FINDING_MISMATCH: return "mismatch";
	case FINDING_UNEXPECTED: return "unexpected";
	case FINDING_PRESENT_BUT_ABSENT_EXPECTED: return "present-but-absent-expected";
	case FINDING_NOT_DIFFERENT: return "not-different";
	case FINDING_WEAK_STORE: return "weak-store";
	case FINDING_ENVIRONMENT: return "environment";
	}
	return "?";
}

const char *verdict_name(enum verdict v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "error";
}

int verdict_exit_status(enum verdict v)
{
	return v == VERDICT_PASS ? 0 : v == VERDICT_FAIL ? 1 : 2;
}

/* Takes ownership of message (NULL means ENOMEM). */
static int add(struct verify_result *r, const char *name, enum finding_kind kind, const char *rule,
	       bool failure, char *message)
{
	struct finding *nf;
	if (!message)
		return -ENOMEM;
	nf = realloc(r->findings, (r->n_findings + 1) * sizeof *nf);
	if (!nf) {
		free(message);
		return -ENOMEM;
	}
	r->findings = nf;
	nf = &r->findings[r->n_findings];
	nf->name = strdup(name);
	if (!nf->name) {
		free(message);
		return -ENOMEM;
	}
	nf->kind = kind;
	nf->rule = rule;
	nf->failure = failure;
	nf->message = message;
	r->n_findings++;
	if (failure) {
		r->n_failures++;
		r->verdict = VERDICT_FAIL;
	}
	return 0;
}

/* Whether data has the entry's digest (sha256, or HMAC with the manifest's key). */
static bool digest_matches(const struct manifest *m, const struct manifest_entry *e,
			   const uint8_t *data, size_t len)
{
	char hex[DIGEST_HEX_LEN + 1];
	int r;
	if (e->digest == DIGEST_NONE)
		return true;
	if (e->digest == DIGEST_HMAC_SHA256)
		r = digest_hmac_sha256_hex(m->key, m->key_len, data, len, hex);
	else
		r = digest_sha256_hex(data, len, hex);
	return r == 0 && digest_equal(hex, e->hex);
}

/* The prediction has an opinion on NAME only when the import ran and some source carried it
 * (credentials from the initrd or a container manager are invisible to it). */
static bool prediction_knows(const struct prediction *p, const struct name_facts *nf)
{
	return p && !p->skip_reason && nf->n_candidates > 0;
}

static int check_present(const struct manifest *m, const struct manifest_entry *e,
			 const struct credstore *s, const struct prediction *p, struct verify_result *out)
{
	const struct store_file *f = credstore_find(s, e->name);
	struct name_facts nf;
	const char *rule = NULL;
	char *text;
	name_facts_collect(p, e->name, &nf);
	bool winner_ok = nf.winner && digest_matches(m, e, nf.winner->imported, nf.winner->imported_len);
	if (!f || f->problem != STORE_FILE_OK) {
		text = explain_absent(p, s, e->name, &rule);
		return add(out, e->name, FINDING_MISSING, rule, true, text);
	}
	bool store_ok = digest_matches(m, e, f->data, f->size);
	if (e->expect == EXPECT_DIFFERENT) {
		if (!store_ok)
			return 0;
		return add(out, e->name, FINDING_NOT_DIFFERENT, "expected-different", true,
			   strprintf("%s arrived with exactly the bytes the manifest says it must differ from.", e->name));
	}
	if (!store_ok) {
		bool dup_ok = nf.duplicate && nf.duplicate->value &&
			      digest_matches(m, e, nf.duplicate->value, nf.duplicate->value_len);
		text = explain_different(p, f, e->name, winner_ok, dup_ok, &rule);
		return add(out, e->name, FINDING_MISMATCH, rule, true, text);
	}
	if (prediction_knows(p, &nf) && (!nf.winner || (e->expect == EXPECT_MATCH && !winner_ok))) {
		text = explain_model_disagrees(p, e->name, &rule);
		return add(out, e->name, nf.winner ? FINDING_MISMATCH : FINDING_MISSING, rule, true, text);
	}
	return 0;
}

static int check_absent(const struct manifest_entry *e, const struct credstore *s,
			const struct prediction *p, struct verify_result *out)
{
	const struct store_file *f = credstore_find(s, e->name);
	struct name_facts nf;
	char sd[64];
	name_facts_collect(p, e->name, &nf);
	explain_systemd(p, sd, sizeof sd);
	if (f)
		return add(out, e->name, FINDING_PRESENT_BUT_ABSENT_EXPECTED, "expected-absent", true,
			   nf.winner ? strprintf("%s is in %s although the manifest expects it absent: %s imported "
					   "it from %s.", e->name, CREDSTORE_PATH, sd, nf.winner->origin)
				     : strprintf("%s is in %s although the manifest expects it absent, and no source "
					   "credscope can read carries it.", e->name, CREDSTORE_PATH));
	if (prediction_knows(p, &nf) && nf.winner)
		return add(out, e->name, FINDING_PRESENT_BUT_ABSENT_EXPECTED, "expected-absent", true,
			   strprintf("%s is not in %s, as expected, but %s would import it from %s: PID 1 does "
			       "not follow %s's rules here.", e->name, CREDSTORE_PATH, sd, nf.winner->origin, sd));
	return 0;
}

int verify_entry(const struct manifest *m, const struct manifest_entry *e, const struct credstore *s,
		 const struct prediction *p, struct verify_result *out)
{
	if (e->expect == EXPECT_ABSENT)
		return check_absent(e, s, p, out);
	return check_present(m, e, s, p, out);
}

static int check_store_fs(const struct credstore *s, struct verify_result *out)
{
	int r = 0;
	if (s->security == STORE_SECURITY_WEAK)
		r = add(out, "", FINDING_WEAK_STORE, "store-fs", false,
			strprintf("%s is weak: %s, and systemd-creds %u lists its credentials as \"weak\".",
			    CREDSTORE_PATH, credstore_weak_reason(s), s->judged_as));
	if (r == 0 && s->fs_known && !s->read_only)
		r = add(out, "", FINDING_WEAK_STORE, "store-writable", false,
			strprintf("%s is mounted read-write: PID 1 remounts it read-only once it has imported, so "
			    "the import did not finish or something remounted it.", CREDSTORE_PATH));
	return r;
}

static int check_store_file(const struct store_file *f, struct verify_result *out)
{
	if (f->problem == STORE_FILE_UNREADABLE)
		return add(out, f->name, FINDING_ENVIRONMENT, "store-unreadable", false,
			   strprintf("%s in %s cannot be read (%s): run credscope as root.", f->name,
			       CREDSTORE_PATH, strerror(f->error)));
	if (f->problem != STORE_FILE_OK)
		return add(out, f->name, FINDING_ENVIRONMENT, "not-regular-file", false,
			   strprintf("%s in %s is %s: systemd writes only regular files there, and credscope "
			       "neither follows nor reads it.", f->name, CREDSTORE_PATH,
			       f->problem == STORE_FILE_SYMLINK ? "a symbolic link" :
			       f->problem == STORE_FILE_TOO_LARGE ? "larger than any credential" :
			       "not a regular file"));
	if (store_file_insecure(f))
		return add(out, f->name, FINDING_WEAK_STORE, "file-mode", false,
			   strprintf("%s in %s has mode %04o: systemd-creds calls it insecure because bits "
			       "other than owner-read are set.", f->name, CREDSTORE_PATH,
			       (unsigned)(f->mode & 07777)));
	return 0;
}

int verify_store(const struct credstore *s, const struct prediction *p, struct verify_result *out)
{
	int r = 0;
	if (p && p->skip_reason)
		r = add(out, "", FINDING_ENVIRONMENT, "import-skipped", false,
			strprintf("PID 1 imports no credentials on this boot: %s.", p->skip_reason));
	if (r == 0 && p && p->env.cvm_uncertain && p->env.systemd_version >= 254)
		r = add(out, "", FINDING_ENVIRONMENT, "detection-unseen", false,
			strprintf("Confidential-VM detection: %s.", p->env.cvm_note));
	if (r == 0 && p && p->store_full)
		r = add(out, "", FINDING_ENVIRONMENT, "store-full", false,
			strprintf("%s filled up during the import: %s.", CREDSTORE_PATH, p->store_full));
	if (r == 0 && s->exists)
		r = check_store_fs(s, out);
	for (size_t i = 0; r == 0 && i < s->n_files; i++)
		r = check_store_file(&s->files[i], out);
	return r;
}

static int check_strict(const struct manifest *m, const struct credstore *s, const struct prediction *p,
			struct verify_result *out)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < s->n_files; i++) {
		const struct store_file *f = &s->files[i];
		struct name_facts nf;
		if (manifest_find(m, f->name))
			continue;
		name_facts_collect(p, f->name, &nf);
		r = add(out, f->name, FINDING_UNEXPECTED, "strict", true,
			strprintf("%s is in %s but not in the manifest, which is strict: it came from %s.", f->name,
			    CREDSTORE_PATH, nf.winner && nf.winner->origin ? nf.winner->origin
									: "no source credscope can read"));
	}
	return r;
}

/* ---- self-check: every store file against the prediction, manifest or not ------------- */

/* The replay was not run because an initrd's PID 1 imported (preset @system): the store is
 * then explained when some source carries the bytes, and disagreement cannot fail. */
static bool replay_by_initrd(const struct prediction *p)
{
	return p->skip_reason && p->env.credentials_dir_preset && p->env.credentials_dir_is_system;
}

/* A store file the manifest does not name: the prediction must have written exactly it. */
static int self_check_file(const struct store_file *f, const struct prediction *p, struct verify_result *out)
{
	const struct cred_candidate *w = prediction_winner(p, f->name), *seen = explain_observed_origin(p, f);
	struct name_facts nf;
	char sd[64];

	explain_systemd(p, sd, sizeof sd);
	if (w && seen == w)
		return 0;
	if (replay_by_initrd(p)) {
		if (seen)
			return 0;
		return add(out, f->name, FINDING_UNEXPECTED, "model-disagrees", false,
			   strprintf("%s is in %s (%zu bytes) and no source credscope can read carries those bytes; an "
			       "initrd's PID 1 did this import, which credscope cannot replay (observed source: unknown).",
			       f->name, CREDSTORE_PATH, f->size));
	}
	if (w)
		return add(out, f->name, FINDING_MISMATCH, "model-disagrees", true,
			   strprintf("%s in %s (%zu bytes, observed source: %s) differs from what %s would import "
			       "from %s (%zu bytes): the model or the store is wrong.", f->name, CREDSTORE_PATH, f->size,
			       seen ? seen->origin : "unknown", sd, w->origin, w->imported_len));
	name_facts_collect(p, f->name, &nf);
	return add(out, f->name, FINDING_UNEXPECTED, "model-disagrees", true,
		   strprintf("%s is in %s (%zu bytes, observed source: %s), but %s would not import it: %s.", f->name,
		       CREDSTORE_PATH, f->size, seen ? seen->origin : "unknown", sd,
		       p->skip_reason ? p->skip_reason :
		       nf.dropped && nf.dropped->detail ? nf.dropped->detail :
		       nf.n_candidates ? "every source carrying the name is dropped" : "no source credscope can read carries it"));
}

/* A predicted import the manifest does not name, with no usable file in the store. */
static int self_check_winner(const struct cred_candidate *w, const struct credstore *s, const struct prediction *p,
			     struct verify_result *out)
{
	const struct store_file *f = credstore_find(s, w->name);
	char sd[64];

	if (f)
		return 0;   /* compared by self_check_file(), or unusable (an environment finding) */
	explain_systemd(p, sd, sizeof sd);
	return add(out, w->name, FINDING_MISSING, "model-disagrees", true,
		   strprintf("%s would import %s from %s (%zu bytes), but it is not in %s: the model or the store is "
		       "wrong.", sd, w->name, w->origin, w->imported_len, CREDSTORE_PATH));
}

static int self_check(const struct manifest *m, const struct credstore *s, const struct prediction *p,
		      struct verify_result *out)
{
	int r = 0;

	if (!p)
		return 0;
	for (size_t i = 0; r == 0 && i < s->n_files; i++)
		if (!manifest_find(m, s->files[i].name) && s->files[i].problem == STORE_FILE_OK)
			r = self_check_file(&s->files[i], p, out);
	for (size_t i = 0; r == 0 && i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if ((c->fate == FATE_IMPORTED || c->fate == FATE_IMPORTED_TRUNCATED) && !manifest_find(m, c->name))
			r = self_check_winner(c, s, p, out);
	}
	return r;
}

int verify_pid1_log(const struct pid1_check *c, struct verify_result *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && c && i < c->n_dis; i++)
		r = add(out, c->dis[i].name, FINDING_MISMATCH, "model-disagrees", true, strdup(c->dis[i].message));
	return r;
}

int verify_run(const struct manifest *m, const struct credstore *s, const struct prediction *p,
	       struct verify_result *out)
{
	int r = 0;
	memset(out, 0, sizeof *out);
	out->verdict = VERDICT_PASS;
	for (size_t i = 0; r == 0 && i < m->n_entries; i++)
		r = verify_entry(m, &m->entries[i], s, p, out);
	if (r == 0 && m->strict)
		r = check_strict(m, s, p, out);
	if (r == 0)
		r = self_check(m, s, p, out);
	if (r == 0)
		r = verify_store(s, p, out);
	if (r < 0)
		verify_result_free(out);
	return r;
}

void verify_result_free(struct verify_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		free(r->findings[i].name);
		free(r->findings[i].message);
	}
	free(r->findings);
	memset(r, 0, sizeof *r);
}
