/* check: one whole verification (snapshot, manifest, verify), shared by `verify`, `explain`
 * and `report`.
 *
 * Promise: check_run() always ends with a verdict: pass/fail from verify_run(), or error
 * with one sentence in `error` (unreadable root, no expectations disk, malformed manifest:
 * the manifest parser's message names the field). It prints nothing; callers decide.
 */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "boot_verdict.h"
#include "cli.h"
#include "manifest.h"
#include "manifest_source.h"
#include "snapshot.h"
#include "verify.h"

struct manifest_opts {
	const char *file;            /* --manifest FILE */
	const char *label;           /* --manifest-label LABEL; NULL = credscope.manifest-label= or "credscope" */
	unsigned wait_seconds;       /* --wait-label SECONDS */
	bool generator_verdict;      /* --generator-verdict: credscope-generator's, when this boot has one */
};

struct check {
	struct snapshot snap;
	bool have_snapshot;
	struct manifest_bytes bytes;
	struct manifest manifest;
	bool have_manifest;
	char manifest_sha256[DIGEST_HEX_LEN + 1];
	struct verify_result result;
	enum verdict verdict;
	char *error;
	/* On the running system (root "/"): when the verdict was reached and when PID 1 finished
	 * its import, in milliseconds since boot (CLOCK_BOOTTIME; the kernel log's clock), and
	 * from what: "its log" (the Acquired line, 254+) or "the store's mtime". -1 unknown. */
	long long verdict_ms, import_ms;
	const char *import_from;
};

/* --generator-verdict (in O, and neither --manifest nor --manifest-label): when this boot has
 * credscope-generator's verdict (boot_verdict.h), prints it, fills BV (the caller frees it)
 * and returns 1; else returns 0 (a damaged one is named on stderr) and the caller checks as
 * usual. */
int check_generator_verdict(const struct cli_ctx *ctx, const struct manifest_opts *o, struct boot_verdict *bv);
/* Returns the exit status (0, 1, 2); c is filled in every case and freed by check_free(). */
int check_run(const struct cli_ctx *ctx, const struct manifest_opts *o, struct check *c);
/* Only the manifest half (used by `explain`); returns 0 or -errno with c->error set. */
int check_load_manifest(const struct cli_ctx *ctx, const struct manifest_opts *o, struct check *c);
void check_free(struct check *c);
/* Prints the findings as an aligned table and the console verdict line (check_fprint: to
 * OUT, the error sentence to ERR). */
void check_print(const struct check *c, bool color);
void check_fprint(FILE *out, FILE *err, const struct check *c, bool color);
/* The console verdict line without its newline, e.g. "CREDSCOPE-VERDICT: fail 2 findings". */
void check_print_verdict(const struct check *c);
void check_fprint_verdict(FILE *out, const struct check *c);
struct report_input;
/* What report.c needs of C: pointers into C, valid while C is; no SMBIOS entry point. */
void check_report_input(const struct check *c, struct report_input *in);
/* The report `credscope report` sends (docs/report.md), with the SMBIOS entry point of ROOT;
 * NULL on ENOMEM. */
char *check_report_dump(const struct cli_ctx *ctx, const struct check *c);
/* Parses the options `verify` and `report` share (--manifest, --manifest-label, --wait-label,
 * --generator-verdict,
 * and for report --to, --timeout; pass NULL to refuse those). Returns 0, 1 after --help, or
 * 2 after a usage error (already printed). */
int parse_manifest_opts(int argc, char **argv, struct manifest_opts *o, const char **to, int *timeout_s,
			void (*help)(void));
