/* verify: the manifest against what arrived (@system) and what systemd should have imported.
 *
 * Promise: verify_run() is pure. For every manifest entry it checks the store (the truth of
 * this boot) and, where the prediction knows the name, the prediction too (so a fixture
 * whose store holds whole values still fails as systemd 252 when 252 would cut them). Each
 * problem is one finding with a stable kind and rule token and one sentence (explain.h).
 * Failures decide the verdict; a weak or writable store, odd file modes, unusable entries
 * and a skipped import are findings of their own kinds that do not fail on their own (the
 * expected credentials they affect fail as missing or mismatched). Never holds values.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "credstore.h"
#include "manifest.h"
#include "pid1_check.h"
#include "systemd/import_creds.h"

enum finding_kind {
	FINDING_MISSING,
	FINDING_MISMATCH,
	FINDING_UNEXPECTED,                  /* strict mode */
	FINDING_PRESENT_BUT_ABSENT_EXPECTED,
	FINDING_NOT_DIFFERENT,
	FINDING_WEAK_STORE,
	FINDING_ENVIRONMENT,
};

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_ERROR };

struct finding {
	char *name;              /* credential name; "" for findings about the store or the boot */
	enum finding_kind kind;
	const char *rule;        /* static token, docs/report.md */
	bool failure;
	char *message;           /* one sentence */
};

struct verify_result {
	struct finding *findings;
	size_t n_findings;
	size_t n_failures;
	enum verdict verdict;
};

/* Returns 0 or -ENOMEM. p may be NULL (no prediction: the store alone decides). */
int verify_run(const struct manifest *m, const struct credstore *s, const struct prediction *p,
	       struct verify_result *out);
/* Checks a single expectation, appending its findings to out (used by `explain`). */
int verify_entry(const struct manifest *m, const struct manifest_entry *e, const struct credstore *s,
		 const struct prediction *p, struct verify_result *out);
/* PID 1's own log against the prediction: each disagreement (pid1_check.h) is a failing
 * model-disagrees mismatch. */
int verify_pid1_log(const struct pid1_check *c, struct verify_result *out);
/* Findings about the store and the boot: weak, writable, modes, unusable entries, skipped import. */
int verify_store(const struct credstore *s, const struct prediction *p, struct verify_result *out);
void verify_result_free(struct verify_result *r);

const char *finding_kind_name(enum finding_kind k);   /* docs/report.md tokens */
const char *verdict_name(enum verdict v);             /* "pass", "fail", "error" */
int verdict_exit_status(enum verdict v);              /* 0, 1, 2 */
