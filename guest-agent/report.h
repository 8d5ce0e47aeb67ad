/* report: the JSON document `credscope report` sends to the host (docs/report.md, v1).
 *
 * Promise: report_build() turns the prediction, the store, the manifest and the verify
 * result into the report object, pure and deterministic. It carries names, sizes, modes,
 * sources, fates, findings and HMAC-SHA-256(manifest key, value) per stored credential,
 * never a value: the only function that touches value bytes here is the HMAC.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "credstore.h"
#include "manifest.h"
#include "pid1_check.h"
#include "systemd/import_creds.h"
#include "verify.h"

struct report_input {
	const struct prediction *pred;        /* NULL if the sources could not be read */
	const struct credstore *store;
	const struct pid1_check *pid1;        /* PID 1's log against pred; NULL if not loaded */
	const struct manifest *manifest;      /* NULL when none could be read */
	const char *manifest_source;          /* "label:credscope", "file:PATH"; NULL if none */
	const char *manifest_sha256;          /* hex of the manifest bytes; NULL if none */
	const struct verify_result *result;   /* NULL when verify could not run */
	enum verdict verdict;
	const char *kernel;                   /* uname release */
	const char *error;                    /* why the verdict is "error"; NULL otherwise */
	const char *smbios_anchor;            /* "_SM3_", "_SM_", "_DMI_", "none"; NULL: not read */
	const char *smbios_version;           /* "3.0.0", "2.8"; with smbios_anchor */
};

/* Returns a new reference, or NULL on ENOMEM. */
json_t *report_build(const struct report_input *in);

/* Every string that may carry host-controlled bytes enters the agent's JSON (the report,
 * explain --json) through here: escaped to printable ASCII by text_escape() (strutil.h), so
 * an odd name cannot break the JSON or a terminal. JSON null for NULL; NULL on ENOMEM. */
json_t *report_text(const char *s);
/* `verify --json`: manifest, systemd, findings, failures, verdict (docs/json-agent.md). */
json_t *report_build_verify(const struct report_input *in);
/* `list --json`: systemd, env, sources, store, credentials, prediction (docs/json-agent.md). */
json_t *report_build_list(const struct report_input *in);
/* The parts, shared with the report so every schema describes a thing one way. `extended`
 * adds the fields of docs/json-agent.md that the report (strictly parsed by the host) lacks:
 * findings[].failure, credentials[].problem. */
json_t *report_json_sources(const struct prediction *p);
json_t *report_json_store(const struct credstore *s);
json_t *report_json_credentials(const struct report_input *in, bool extended);
json_t *report_json_findings(const struct verify_result *r, bool extended);
/* {"version": ROW, "applied_to": V, "verified": BOOL}: the version table's row that judged V
 * and whether it was checked against V's own source (systemd_model()). */
json_t *report_json_model(const struct import_env *env);
/* {"source": "/dev/kmsg" | "none", "complete", "lines", "compared", "agree"}: what PID 1's
 * log held and how much of it was held against the prediction; "none" and zeros for NULL or
 * a log not read. */
json_t *report_json_pid1_log(const struct pid1_check *c);
/* Compact JSON text (malloc'd), or NULL on ENOMEM. */
char *report_dump(const struct report_input *in);
