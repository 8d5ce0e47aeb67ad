/* result: what one case run on one image produced; shared by the runner and the writers
 * (tap.c, junit.c, progress.c). Strings may hold guest-controlled bytes (console_tail,
 * diagnosis): writers must escape them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "runner/case.h"

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
