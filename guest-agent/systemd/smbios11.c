/* smbios11: the SMBIOS source of the import, as upstream import_credentials_smbios() and
 * parse_smbios_strings() (src/core/import-creds.c) and, from 257, read_smbios11_field()
 * (src/shared/smbios11.c) handle it.
 *
 * Promise: every non-empty string of every 11-N/raw entry becomes one candidate, in
 * systemd's order, judged on the bytes systemd actually reads: the first page only where
 * the version's row says so (a string cut there is judged as cut, a string past it is
 * lost), up to the row's read cap otherwise. A bad DMI header aborts (or, from 257, ends)
 * the source for every later string. Prefixes are case-sensitive; the name ends at the
 * first '='. Details never quote string bytes, only the (escaped) name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strutil.h"
#include "systemd/import_creds.h"
#include "systemd/predictor.h"

#define SMBIOS_HEADER_LEN   5u
#define PREFIX_TEXT         "io.systemd.credential:"
#define PREFIX_BINARY       "io.systemd.credential.binary:"

struct oem_parse {
	bool cred, binary, has_eq;
	const char *name, *val;
	size_t nlen, vlen;
};

static void oem_parse(const char *s, size_t len, struct oem_parse *o)
{
	const char *n, *eq;
	size_t plen;

	*o = (struct oem_parse) {};
	if (len >= strlen(PREFIX_TEXT) && memcmp(s, PREFIX_TEXT, strlen(PREFIX_TEXT)) == 0)
		plen = strlen(PREFIX_TEXT);
	else if (len >= strlen(PREFIX_BINARY) && memcmp(s, PREFIX_BINARY, strlen(PREFIX_BINARY)) == 0)
		plen = strlen(PREFIX_BINARY), o->binary = true;
	else
		return;
	o->cred = true;
	n = s + plen;
	eq = memchr(n, '=', len - plen);
	if (!eq)
		return;
	o->has_eq = true;
	o->name = n;
	o->nlen = (size_t) (eq - n);
	o->val = eq + 1;
	o->vlen = len - plen - o->nlen - 1;
}

struct entry_view {
	const struct raw_blob *blob;
	size_t seen;              /* bytes of the entry systemd reads */
	enum cred_fate block;     /* FATE_IMPORTED = not blocked */
	const char *block_detail;
};

/* "the entry is 5123 bytes, systemd 252 reads only the first 4096, and FOO starts at byte
 * 4090", plus what the cut leaves of a straddling string: of its value when the '=' was
 * seen (what the user compares), else of the string. */
static char *page_clause(const struct predictor *pr, const struct entry_view *e, const char *name, size_t off,
			 size_t len, const struct oem_parse *cut)
{
	char *who = name ? text_escape(name) : strdup("this string");
	char *s = NULL, tail[160] = "";
	int r;

	if (!who)
		return NULL;
	if (off < e->seen && cut && cut->has_eq)
		snprintf(tail, sizeof(tail), ", so its %s is cut from %zu to %zu %s", cut->binary ? "base64 text" : "value",
			 len - (size_t) (cut->val - ((const char *) e->blob->data + off)), cut->vlen,
			 cut->binary ? "characters" : "bytes");
	else if (off < e->seen)
		snprintf(tail, sizeof(tail), ", so only %zu of its %zu bytes were seen", e->seen - off, len);
	r = asprintf(&s, "the entry is %zu bytes, systemd %u reads only the first %zu, and %s starts at byte %zu%s",
		     e->blob->len, pr->version, e->seen, who, off, tail);
	free(who);
	return r < 0 ? NULL : s;
}

static int smbios_not_credential(struct predictor *pr, size_t idx, const char *s, size_t len)
{
	bool nocase = (len >= strlen(PREFIX_BINARY) && strncasecmp(s, PREFIX_BINARY, strlen(PREFIX_BINARY)) == 0) ||
		      (len >= strlen(PREFIX_TEXT) && strncasecmp(s, PREFIX_TEXT, strlen(PREFIX_TEXT)) == 0);

	return cand_fate(pr, idx, FATE_NOT_A_CREDENTIAL, "it does not start with \"%s\" or \"%s\"%s", PREFIX_TEXT,
			 PREFIX_BINARY, nocase ? " (the prefix is case-sensitive)" : "");
}

/* What systemd makes of the part of a string it saw. */
static int smbios_judge_seen(struct predictor *pr, size_t idx, const struct entry_view *e, size_t off, size_t len)
{
	const char *s = (const char *) e->blob->data + off;
	size_t sl = len < e->seen - off ? len : e->seen - off;
	char *clause = NULL;
	struct oem_parse o;
	int r;

	oem_parse(s, sl, &o);
	if (sl < len && !(clause = page_clause(pr, e, cand_at(pr, idx)->name, off, len, &o)))
		return -ENOMEM;
	if (!o.cred && clause)
		r = cand_fate(pr, idx, FATE_NOT_A_CREDENTIAL, "%s, which cuts it inside its prefix", clause);
	else if (!o.cred)
		r = smbios_not_credential(pr, idx, s, len);
	else if (!o.has_eq)
		r = cand_fate(pr, idx, FATE_DROPPED_NO_SEPARATOR, "%s", clause ? clause :
			      "there is no '=' after the name (systemd: SMBIOS OEM string lacks '=' character)");
	else
		r = judge_named(pr, idx, o.name, o.nlen, o.val, o.vlen, o.binary, clause);
	free(clause);
	return r;
}

static int smbios_string(struct predictor *pr, const struct entry_view *e, size_t off, size_t len, unsigned k)
{
	const char *s = (const char *) e->blob->data + off;
	struct cred_candidate *c;
	struct oem_parse full;
	size_t idx;
	int r;

	r = cand_new(pr, CRED_SOURCE_SMBIOS, &idx, "SMBIOS %s string %u at byte %zu",
		     e->blob->name ? e->blob->name : "11-?", k, off);
	if (r < 0)
		return r;
	c = cand_at(pr, idx);
	c->offset = off;
	c->raw_len = len;
	oem_parse(s, len, &full);
	c->binary = full.binary;
	if (full.has_eq) {
		if (cand_set_name(pr, idx, full.name, full.nlen) < 0 ||
		    cand_set_value(pr, idx, full.val, full.vlen, full.binary) < 0)
			return -ENOMEM;
	}
	if (!full.cred && (e->block != FATE_IMPORTED || off >= e->seen))
		return smbios_not_credential(pr, idx, s, len);
	if (e->block != FATE_IMPORTED)
		return cand_fate(pr, idx, e->block, "%s", e->block_detail);
	if (off >= e->seen) {
		char *clause = page_clause(pr, e, cand_at(pr, idx)->name, off, len, NULL);
		if (!clause)
			return -ENOMEM;
		r = cand_fate(pr, idx, FATE_DROPPED_PAST_PAGE, "%s", clause);
		free(clause);
		return r;
	}
	return smbios_judge_seen(pr, idx, e, off, len);
}

static int smbios_entry(struct predictor *pr, const struct entry_view *e)
{
	const uint8_t *d = e->blob->data;
	size_t pos = SMBIOS_HEADER_LEN, idx;
	unsigned k = 0;
	int r;

	if (e->blob->len < SMBIOS_HEADER_LEN) {
		r = cand_new(pr, CRED_SOURCE_SMBIOS, &idx, "SMBIOS %s", e->blob->name ? e->blob->name : "11-?");
		return r < 0 ? r : cand_fate(pr, idx, e->block, "%s", e->block_detail);
	}
	while (pos < e->blob->len) {
		const uint8_t *nul = memchr(d + pos, 0, e->blob->len - pos);
		size_t l = nul ? (size_t) (nul - (d + pos)) : e->blob->len - pos;

		k++;
		if (l > 0) {   /* empty strings are skipped: the closing double NUL is harmless */
			r = smbios_string(pr, e, pos, l, k);
			if (r < 0)
				return r;
		}
		pos += l + 1;
	}
	return 0;
}

static char *smbios_header_problem(const struct predictor *pr, const struct raw_blob *b, size_t seen)
{
	const char *nm = b->name ? b->name : "11-?";
	char *s = NULL;
	int r;
	const char *then = pr->rel->smbios_bad_header_warns ? "warned and stopped the SMBIOS scan"
							    : "aborted the SMBIOS source (Invalid DMI field header)";

	if (seen < SMBIOS_HEADER_LEN)
		r = asprintf(&s, "%s is %zu bytes, shorter than the 5-byte header, so systemd %u %s",
			     nm, seen, pr->version, then);
	else if (b->data[0] != 11)
		r = asprintf(&s, "%s has type %u, not 11, so systemd %u %s", nm, b->data[0], pr->version, then);
	else if (b->data[1] != SMBIOS_HEADER_LEN)
		r = asprintf(&s, "%s has header length %u, not 5, so systemd %u %s", nm, b->data[1],
			     pr->version, then);
	else
		return strdup("");
	return r < 0 ? NULL : s;
}

int predict_smbios(struct predictor *pr, const struct import_sources *src, size_t page_size, const char *skip)
{
	size_t limit = pr->rel->smbios_first_page_only ? (page_size ? page_size : 4096) : pr->rel->smbios_read_max;
	char *abort_detail = NULL;
	int r = 0;

	for (size_t i = 0; i < src->n_smbios && r >= 0; i++) {
		const struct raw_blob *b = &src->smbios[i];
		struct entry_view e = {
			.blob = b,
			.seen = b->len < limit ? b->len : limit,
			.block = FATE_IMPORTED,
		};

		if (skip) {
			e.block = FATE_SOURCE_SKIPPED;
			e.block_detail = skip;
		} else if (!abort_detail) {
			char *problem = smbios_header_problem(pr, b, e.seen);
			if (!problem)
				return -ENOMEM;
			if (*problem)
				abort_detail = problem;
			else
				free(problem);
		}
		if (abort_detail) {
			e.block = FATE_DROPPED_SOURCE_ERROR;
			e.block_detail = abort_detail;
		}
		r = smbios_entry(pr, &e);
	}
	free(abort_detail);
	return r;
}
