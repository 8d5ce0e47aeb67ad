/* report_check: the host's side of the report (docs/report.md). Two pure steps:
 *
 * report_parse() reads the guest's report as hostile input: strictly, once. Unknown or
 * missing fields, wrong types, out-of-range numbers, malformed digests and oversized
 * strings are errors naming the field ("sources[3].length: ..."). jansson already rejects
 * invalid UTF-8, NUL bytes and duplicate keys.
 *
 * report_judge() is the host's own verdict: it recomputes nothing from the guest's claims
 * but compares the HMACs the guest saw with the HMACs of the bytes the host itself sent,
 * checks the expected fates, and then requires the agent's verdict to agree with it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/case.h"
#include "digest.h"

#define REPORT_STRING_MAX 65536u
#define REPORT_LIST_MAX 100000u

struct report_source {
	char *source, *origin, *name, *fate, *detail;   /* name, detail may be NULL */
	uint64_t length;
	bool binary;
};

struct report_cred {
	char *name, *mode, *source;
	char *origin;          /* the source string observed to carry these bytes, or NULL */
	uint64_t size;
	int64_t uid, gid;
	bool has_hmac;
	char hmac[DIGEST_HEX_LEN + 1];
};

struct report_finding {
	char *name, *kind, *rule, *message;              /* name, rule may be NULL */
};

struct report {
	char *agent_version;
	int64_t systemd_version;
	bool systemd_detected;
	char *kernel;
	char *manifest_source;
	char manifest_sha256[DIGEST_HEX_LEN + 1];
	bool env_container, env_confidential_vm, env_credentials_dir_preset, env_import_disabled;
	bool env_dmi_sysfs, env_fw_cfg;
	int64_t env_page_size;
	char *store_path, *store_fs;
	bool store_exists, store_secure, store_read_only;
	struct report_source *sources;
	size_t n_sources;
	struct report_cred *creds;
	size_t n_creds;
	struct report_finding *findings;
	size_t n_findings;
	char *verdict;                                   /* pass, fail, error */
	/* "pid1_log" (optional): PID 1's own log lines held against the agent's prediction */
	bool has_pid1_log;
	char *pid1_log_source;                           /* "/dev/kmsg" or "none" */
	bool pid1_log_complete;
	int64_t pid1_log_lines, pid1_log_compared, pid1_log_agree;
	/* "smbios" (optional): the entry point the guest kernel found, "_SM3_" (3.0, 64-bit),
	 * "_SM_" (2.x), "_DMI_" or "none", and its version ("3.0.0", "2.8"); NULL when absent */
	char *smbios_entry_point, *smbios_version;
};

int report_parse(const char *buf, size_t len, struct report *out, char **error);
void report_free(struct report *r);
/* Finds a credential by the host's (unescaped) name; see report_name_is(). */
const struct report_cred *report_find_cred(const struct report *r, const char *name);
/* The agent escapes names to printable ASCII ("\xNN" for bytes outside 0x20..0x7e). */
bool report_name_is(const char *reported, const char *host);

struct judgement;

/* What the host sent for one name: the winner by systemd's order (fw_cfg, SMBIOS,
 * cmdline), with the host's own HMAC of the exact bytes. */
struct sent_cred {
	const char *name;
	enum cred_via via;
	size_t len;
	char hmac[DIGEST_HEX_LEN + 1];
};

struct judge_input {
	const struct case_view *view;
	const struct sent_cred *sent;
	size_t n_sent;
	const char *machine;
	const char *manifest_sha256;     /* of the manifest bytes the host wrote */
	/* a differential case's judge (runner/differential.h), run in place of the per-name
	 * expectations, before the host's and the agent's verdicts are compared; or NULL */
	int (*judge_instead)(const struct report *r, struct judgement *j);
};

/* What one problem is about and why, so that judgement_text() can say a cause once for
 * many names (a full store drops 44 credentials for one reason). */
struct judge_cause {
	char *name;                      /* a credential or a source string; NULL: none */
	char *key;                       /* the cause with the name factored out; NULL: never grouped */
	size_t at;                       /* where the cause's words begin in the problem sentence */
};

struct judgement {
	enum case_outcome verdict;       /* OUTCOME_PASS or OUTCOME_FAIL */
	char **problems;                 /* one sentence each, in the order found */
	struct judge_cause *causes;      /* one per problem */
	size_t n_problems;
	bool agent_agrees;
	struct diff_count diff;          /* differential cases (runner/differential.h) */
};

/* Names and guest strings are cut to these many bytes (then "...") where a sentence shows them. */
#define JUDGE_NAME_SHOWN 128u
#define JUDGE_DETAIL_SHOWN 512u
/* A grouped sentence lists at most this many names besides the first. */
#define JUDGE_GROUP_LISTED 8u

int report_judge(const struct report *r, const struct judge_input *in, struct judgement *out);
/* Adds one problem sentence about no single name (printf-style); returns 0 or -ENOMEM. */
int judgement_add(struct judgement *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds "NAME: CAUSE" (CAUSE printf-style, without the name). Problems whose KEY is equal
 * share a cause; a NULL KEY is the cause's own words. Returns 0 or -ENOMEM. */
int judgement_add_about(struct judgement *j, const char *name, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* All problems joined with "; " (malloc'd), or NULL when there are none (or no memory).
 * Problems of one cause key are one sentence where the first of them stood: "C256 and 43
 * more (C257, C258, C259, C260, C261, C262, C263, ..., C299): CAUSE", with the first one's
 * cause; a problem alone keeps its own sentence. */
char *judgement_text(const struct judgement *j);
void judgement_free(struct judgement *j);

/* Each name the case sends or expects, once, as the report shows it: what arrived, from
 * which guest source, the agent's explanation (every source string's fate and detail, and
 * its findings for the name). For the result's writers (output/result.h); malloc'd, free
 * with case_result_free(). Returns 0 or -ENOMEM. */
int report_cred_outcomes(const struct report *r, const struct judge_input *in, struct cred_outcome **out, size_t *n);
