/* explain: the one sentence a person can act on, for one credential.
 *
 * Promise: pure functions over a prediction (systemd/import_creds.h) and the store (credstore.h)
 * that say why a credential is missing, different, or present, and which rule did it.
 * Each sentence is malloc'd, names the credential, ends with a period, and is built from
 * names, sizes, offsets and the prediction's `detail` clauses only: never value bytes.
 * `rule` is a stable token (docs/report.md, "Rules"). verify.c uses these sentences for
 * its findings; cmd_explain.c prints them after the credential's whole path.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "credstore.h"
#include "systemd/import_creds.h"

struct name_facts {
	const char *name;
	const struct cred_candidate *winner;    /* first candidate that created NAME, or NULL */
	const struct cred_candidate *dropped;   /* first candidate for NAME that was not imported
	                                           for a reason other than a duplicate, or NULL */
	const struct cred_candidate *duplicate; /* first later copy ignored as a duplicate, or NULL */
	size_t n_candidates;                    /* candidates carrying NAME, any fate */
};

/* Collects what the prediction says about NAME. Pure; needs no import replay. */
void name_facts_collect(const struct prediction *p, const char *name, struct name_facts *out);

/* Which candidate carries exactly the bytes of store file F, by comparison of the bytes
 * (what a digest comparison decides, without hashing): the predicted winner when its
 * imported bytes match, else any candidate for that name whose imported bytes or value as
 * the host sent it match; NULL when none does (then the source is "unknown"). */
const struct cred_candidate *explain_observed_origin(const struct prediction *p, const struct store_file *f);

/* The rule token responsible for a fate ("page-truncation", "name-validity", ...). */
const char *explain_fate_rule(enum cred_fate f);

/* The rule in words, for sentences: "name check (credential_name_valid)". */
const char *explain_rule_description(const char *rule);

/* NAME is not in @system (or the file there is unusable): why. */
char *explain_absent(const struct prediction *p, const struct credstore *s, const char *name,
		     const char **rule);
/* @system holds NAME, but not the expected bytes. expected_matches_winner tells whether the
 * bytes systemd would import from the winning source have the expected digest;
 * expected_matches_duplicate whether a copy ignored as a duplicate has it. */
char *explain_different(const struct prediction *p, const struct store_file *f, const char *name,
			bool expected_matches_winner, bool expected_matches_duplicate, const char **rule);
/* @system holds the expected bytes, but the prediction says systemd would not have written
 * them (wrong version, patched systemd, or a store not written by this import). */
char *explain_model_disagrees(const struct prediction *p, const char *name, const char **rule);
/* NAME is present as expected (a positive sentence). */
char *explain_present(const struct prediction *p, const struct store_file *f, const char *name);

/* When the rules that judged this version were not checked against its source (a version
 * newer than the newest row, or a row resting on NEWS): "model for 262 applied to 263:
 * unverified", written into buf and returned; NULL when the model is verified. */
const char *explain_model_note(const struct prediction *p, char *buf, size_t n);

/* "systemd 252" or "this systemd (version unknown)". Static or thread-unsafe buffer-free:
 * writes into buf of size n and returns buf. */
const char *explain_systemd(const struct prediction *p, char *buf, size_t n);
