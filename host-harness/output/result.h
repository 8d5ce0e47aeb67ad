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
	const char *accel;       /* "kvm" or "tcg" */
	const char *transport;   /* "vsock" or "serial" */
	double seconds;
};

void case_result_free(struct case_result *r);
/* "pass", "fail", "error"; "?" outside the enum. */
const char *case_outcome_name(enum case_outcome o);
/* "firmware", "kernel", "systemd", "report"; "?" outside the enum. */
const char *boot_phase_name(enum boot_phase p);
