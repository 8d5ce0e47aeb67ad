/* explain: sentences about one credential, built from the prediction and the store. */
#include "explain.h"

#include "systemd/versions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strutil.h"

const char *explain_fate_rule(enum cred_fate f)
{
	switch (f) {
	case FATE_IMPORTED: return "imported";
	case FATE_IMPORTED_TRUNCATED: return "page-truncation";
	case FATE_NOT_A_CREDENTIAL: return "prefix";
	case FATE_DROPPED_NO_SEPARATOR: return "separator";
	case FATE_DROPPED_INVALID_NAME: return "name-validity";
	case FATE_DROPPED_BAD_BASE64: return "base64";
	case FATE_DROPPED_TOO_LARGE: return "size-limit";
	case FATE_DROPPED_BUDGET: return "total-budget";
	case FATE_DROPPED_DUPLICATE: return "first-writer-wins";
	case FATE_DROPPED_PAST_PAGE: return "page-truncation";
	case FATE_DROPPED_UNSUPPORTED: return "version-syntax";
	case FATE_DROPPED_SOURCE_ERROR: return "source-error";
	case FATE_SOURCE_SKIPPED: return "import-skipped";
	case FATE_DROPPED_ENTRY_SKIPPED: return "entry-skipped";
	case FATE_DROPPED_STORE_FULL: return "store-full";
	}
	return "unknown";
}

const char *explain_rule_description(const char *rule)
{
	static const struct { const char *rule, *text; } table[] = {
		{ "page-truncation", "one-page read of SMBIOS entries (systemd before 257)" },
		{ "prefix", "io.systemd.credential prefix match" },
		{ "separator", "rule that a credential needs a separator after its name" },
		{ "name-validity", "name check (credential_name_valid)" },
		{ "base64", "base64 decoding (unbase64mem)" },
		{ "size-limit", "1 MiB limit per credential" },
		{ "total-budget", "1 MiB budget shared by all sources" },
		{ "first-writer-wins", "first-writer-wins rule" },
		{ "version-syntax", "syntax of this version" },
		{ "source-error", "abort of a source after a read or format error" },
		{ "import-skipped", "import conditions" },
		{ "entry-skipped", "skip of a source entry systemd cannot read" },
		{ "store-full", "capacity of the credential store's file system" },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].rule, rule) == 0)
			return table[i].text;
	return rule;
}

void name_facts_collect(const struct prediction *p, const char *name, struct name_facts *out)
{
	memset(out, 0, sizeof *out);
	out->name = name;
	for (size_t i = 0; p && i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if (!c->name || strcmp(c->name, name) != 0)
			continue;
		out->n_candidates++;
		if ((c->fate == FATE_IMPORTED || c->fate == FATE_IMPORTED_TRUNCATED) && !out->winner)
			out->winner = c;
		else if (c->fate == FATE_DROPPED_DUPLICATE && !out->duplicate)
			out->duplicate = c;
		else if (c->fate != FATE_IMPORTED && c->fate != FATE_IMPORTED_TRUNCATED && !out->dropped)
			out->dropped = c;
	}
}

const char *explain_systemd(const struct prediction *p, char *buf, size_t n)
{
	if (p && p->env.systemd_version)
		snprintf(buf, n, "systemd %u", p->env.systemd_version);
	else
		snprintf(buf, n, "this systemd (version unknown)");
	return buf;
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && b && alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

const struct cred_candidate *explain_observed_origin(const struct prediction *p, const struct store_file *f)
{
	const struct cred_candidate *w;

	if (!p || !f || f->problem != STORE_FILE_OK)
		return NULL;
	w = prediction_winner(p, f->name);
	if (w && same_bytes(w->imported, w->imported_len, f->data, f->size))
		return w;
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if (!c->name || strcmp(c->name, f->name) != 0)
			continue;
		if (same_bytes(c->imported, c->imported_len, f->data, f->size) ||
		    same_bytes(c->value, c->value_len, f->data, f->size))
			return c;
	}
	return NULL;
}

const char *explain_model_note(const struct prediction *p, char *buf, size_t n)
{
	struct systemd_model m = systemd_model(p ? p->env.systemd_version : 0);

	if (m.verified)
		return NULL;
	snprintf(buf, n, "model for %u applied to %u: unverified (credscope's rules for %u were not checked "
		 "against systemd %u's source)", m.row, m.applied_to, m.row, m.applied_to);
	return buf;
}

/* The clause behind a candidate's fate: its detail, or the rule when there is none. */
static const char *why(const struct cred_candidate *c, char *buf, size_t n)
{
	if (c->detail && c->detail[0])
		return c->detail;
	snprintf(buf, n, "systemd's %s rule applied to %s", explain_fate_rule(c->fate),
		 c->origin ? c->origin : "it");
	return buf;
}

static const char *origin(const struct cred_candidate *c)
{
	return c->origin ? c->origin : "an unnamed source";
}

/* Who wrote C into the store: "systemd 257", or after an initrd's import (import_types.h)
 * "systemd 257 in the initrd (PID 1 before switch-root)" for what the initrd's PID 1 read,
 * "systemd 257 after switch-root" for @initrd, which the host's PID 1 merged. */
static const char *importer(const struct prediction *p, const struct cred_candidate *c, char *buf, size_t n)
{
	char sd[48];

	explain_systemd(p, sd, sizeof sd);
	if (p && import_env_initrd_pid1(&p->env))
		snprintf(buf, n, "%s %s", sd, c && c->source == CRED_SOURCE_INITRD ? "after switch-root"
					       : "in the initrd (PID 1 before switch-root)");
	else
		snprintf(buf, n, "%s", sd);
	return buf;
}

static char *absent_in_store(const struct prediction *p, const struct credstore *s,
			     const struct name_facts *nf, const char **rule)
{
	char sd[112];
	importer(p, nf->winner, sd, sizeof sd);
	*rule = "store-missing";
	if (!s->exists)
		return strprintf("%s should have been imported by %s from %s, but %s does not exist, "
				"so PID 1 imported nothing at all: look for credential lines of systemd[1] "
				"in the journal.", nf->name, sd, origin(nf->winner), CREDSTORE_PATH);
	return strprintf("%s should have been imported by %s from %s, but %s has no such file: "
			"something removed it, or PID 1 does not follow %s's rules.",
			nf->name, sd, origin(nf->winner), CREDSTORE_PATH, sd);
}

char *explain_absent(const struct prediction *p, const struct credstore *s, const char *name,
		     const char **rule)
{
	struct name_facts nf;
	char buf[512];
	const struct store_file *f = credstore_find(s, name);
	if (f && f->problem != STORE_FILE_OK) {
		*rule = "not-regular-file";
		return strprintf("%s in %s is unusable (%s): credscope reads only regular files and "
				"follows no links, and systemd writes only regular files there.",
				name, CREDSTORE_PATH, store_file_problem_name(f->problem));
	}
	if (p && p->skip_reason) {
		*rule = "import-skipped";
		return strprintf("%s was not imported: %s.", name, p->skip_reason);
	}
	name_facts_collect(p, name, &nf);
	if (nf.winner)
		return absent_in_store(p, s, &nf, rule);
	if (nf.dropped) {
		*rule = explain_fate_rule(nf.dropped->fate);
		return strprintf("%s was %s by systemd's %s: %s.", name,
				nf.dropped->fate == FATE_SOURCE_SKIPPED ? "not imported" : "dropped",
				explain_rule_description(*rule), why(nf.dropped, buf, sizeof buf));
	}
	if (p && p->source_skip_reason[CRED_SOURCE_SMBIOS]) {
		/* the main channel could not be read: say so rather than blame the host */
		*rule = "source-skipped";
		return strprintf("%s did not arrive, and systemd could not have read it from SMBIOS: %s.", name,
				p->source_skip_reason[CRED_SOURCE_SMBIOS]);
	}
	*rule = "not-passed";
	return strprintf("%s was never passed to this VM: no SMBIOS type 11 string, fw_cfg entry or "
			"kernel command line option carries that name; pass it on the host, e.g. "
			"-smbios type=11,value=io.systemd.credential:%s=VALUE.", name, name);
}

/* Offset of the first differing byte, or the shorter length when one is a prefix. */
static size_t first_difference(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i;
	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			break;
	return i;
}

char *explain_different(const struct prediction *p, const struct store_file *f, const char *name,
			bool expected_matches_winner, bool expected_matches_duplicate, const char **rule)
{
	struct name_facts nf;
	char sd[64], buf[512];
	explain_systemd(p, sd, sizeof sd);
	name_facts_collect(p, name, &nf);
	if (!nf.winner) {
		*rule = "unknown-origin";
		return strprintf("%s in %s (%zu bytes) differs from the manifest, and no source credscope "
				"can read carries it: it came from the initrd, a container manager or "
				"someone writing to the store.", name, CREDSTORE_PATH, f->size);
	}
	if (nf.winner->fate == FATE_IMPORTED_TRUNCATED) {
		*rule = "page-truncation";
		return strprintf("%s was truncated to %zu of %zu bytes by systemd's %s: %s.", name,
				nf.winner->imported_len, nf.winner->value_len, explain_rule_description(*rule),
				why(nf.winner, buf, sizeof buf));
	}
	if (expected_matches_winner) {
		size_t at = first_difference(f->data, f->size, nf.winner->imported, nf.winner->imported_len);
		*rule = "store-modified";
		return strprintf("%s in %s (%zu bytes, first difference at byte %zu) is not what %s "
				"imported from %s (%zu bytes): something rewrote it after the import.",
				name, CREDSTORE_PATH, f->size, at, sd, origin(nf.winner), nf.winner->imported_len);
	}
	if (expected_matches_duplicate && nf.duplicate) {
		*rule = "first-writer-wins";
		return strprintf("%s came from %s, which systemd reads first, so the expected value in %s "
				"was ignored (first writer wins): pass the name through one source only.",
				name, origin(nf.winner), origin(nf.duplicate));
	}
	*rule = "host-value";
	return strprintf("%s arrived exactly as the host sent it (%s, %zu bytes), but those are not "
			"the bytes the manifest expects: fix the value given to the hypervisor, or the "
			"manifest.", name, origin(nf.winner), nf.winner->imported_len);
}

char *explain_model_disagrees(const struct prediction *p, const char *name, const char **rule)
{
	struct name_facts nf;
	char sd[64], buf[512];
	explain_systemd(p, sd, sizeof sd);
	name_facts_collect(p, name, &nf);
	if (nf.winner && nf.winner->fate == FATE_IMPORTED_TRUNCATED) {
		*rule = "page-truncation";
		return strprintf("%s arrived whole, but %s's %s cuts it to %zu of %zu bytes (%s): on a "
				"real %s boot this credential is truncated, so this store was not written by "
				"%s.", name, sd, explain_rule_description(*rule), nf.winner->imported_len,
				nf.winner->value_len, why(nf.winner, buf, sizeof buf), sd, sd);
	}
	if (!nf.winner && nf.dropped) {
		*rule = explain_fate_rule(nf.dropped->fate);
		return strprintf("%s is in %s, but %s's %s drops it (%s): this store was not written by "
				"%s.", name, CREDSTORE_PATH, sd, explain_rule_description(*rule),
				why(nf.dropped, buf, sizeof buf), sd);
	}
	*rule = "model-disagrees";
	return strprintf("%s in %s has the expected bytes, but %s would import different bytes from %s: "
			"the store was not written from that source.", name, CREDSTORE_PATH, sd,
			nf.winner ? origin(nf.winner) : "its source");
}

char *explain_present(const struct prediction *p, const struct store_file *f, const char *name)
{
	struct name_facts nf;
	char sd[112];
	name_facts_collect(p, name, &nf);
	importer(p, nf.winner, sd, sizeof sd);
	if (!nf.winner)
		return strprintf("%s is present as expected (%zu bytes in %s); no source credscope can "
				"read carries it, so it came from the initrd or a container manager.",
				name, f->size, CREDSTORE_PATH);
	return strprintf("%s is present as expected: %s imported it from %s, and %s holds those %zu "
			"bytes.", name, sd, origin(nf.winner), CREDSTORE_PATH, f->size);
}
