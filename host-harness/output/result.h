/* result: what one case run on one image produced, and the words for its outcome and boot
 * phase; shared by the runner and the writers (tap.c, junit.c, progress.c), so it lives
 * below both. Strings may hold guest-controlled bytes (console_tail, diagnosis): writers
 * must escape them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The host's verdict on a run, and what a case expects it to be. */
enum case_outcome { OUTCOME_PASS, OUTCOME_FAIL, OUTCOME_ERROR };

/* How far a guest got, as read from its console (runner/console.c). */
enum boot_phase { PHASE_FIRMWARE, PHASE_KERNEL, PHASE_SYSTEMD, PHASE_REPORT };

/* When a run reached each step, in milliseconds since it began (run_begin()); -1 when the
 * host did not observe it. Every value is the host's own clock: qemu_start when the
 * hypervisor process was started, kernel at the first console byte, pid1 at the console
 * phase systemd, import at the first unit PID 1 started (it imports credentials before any
 * unit), agent when the console shows the agent's unit or its first line, verdict at the
 * CREDSCOPE-VERDICT line, report when the report arrived. guest_import and guest_agent
 * are for guest-side timestamps a later report version may carry; -1 until then. */
struct run_timeline {
	long long qemu_start_ms, kernel_ms, pid1_ms, import_ms, agent_ms, verdict_ms, report_ms, end_ms;
	long long guest_import_ms, guest_agent_ms;
};

/* A differential run's counts (runner/differential.h): credentials whose predicted fate
 * PID 1 bore out, and the agent's cross-check of PID 1's own log lines. */
struct diff_count {
	bool on;                 /* the case is differential and its report was judged */
	size_t total, agree;
	size_t pid1_compared, pid1_agree;
};

/* One credential the case sent or expects, as the host judged it from the report. All
 * strings but expect are guest-influenced (unescaped); source and explanation may be
 * NULL. */
struct cred_outcome {
	char *name;              /* in the agent's escaped wire form */
	const char *expect;      /* exact, absent, present, different */
	char *fate;              /* what arrived: byte-exact, different, missing, present */
	char *source;            /* the guest's source of the stored credential, or NULL */
	char *explanation;       /* the agent's account: each source string's fate and detail, findings */
	bool ok;                 /* as expected */
};

struct case_result {
	char *case_name;
	char *image;
	bool ok;                 /* got the expected outcome (and diagnosis) */
	bool skipped;
	char *skip_reason;
	enum case_outcome expected, got;
	char *diagnosis;         /* the host's problems, or why it could not judge */
	char *phase;             /* phase reached: firmware, kernel, systemd, report */
	char *console_tail;      /* last console lines (guest bytes, unescaped) */
	char *log_path;          /* full console log, kept on failure or --keep */
	char *agent_verdict;     /* NULL when no report arrived */
	char *smbios_entry;      /* the guest's SMBIOS entry point, "_SM3_ 3.0.0"; NULL: not reported */
	const char *accel;       /* "kvm" or "tcg" */
	const char *transport;   /* "vsock" or "serial" */
	double seconds;
	struct run_timeline timeline;
	struct diff_count diff;       /* differential cases: the model against PID 1 */
	struct cred_outcome *creds;   /* NULL, n_creds 0, when no report was judged */
	size_t n_creds;
};

/* Every timeline slot -1 (unknown). */
void run_timeline_init(struct run_timeline *t);
/* The host stamps a step when it sees it, which may be late (console lines read only after
 * the report arrived): each step of the causal chain qemu_start < kernel < pid1 < import <
 * agent < report (and agent < verdict) is lowered to the next known one, still an upper
 * bound of when it happened. Unknown steps stay -1. */
void run_timeline_order(struct run_timeline *t);

void case_result_free(struct case_result *r);
/* "pass", "fail", "error"; "?" outside the enum. */
const char *case_outcome_name(enum case_outcome o);
/* "firmware", "kernel", "systemd", "report"; "?" outside the enum. */
const char *boot_phase_name(enum boot_phase p);
