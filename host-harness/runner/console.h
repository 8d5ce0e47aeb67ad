/* console: follows a guest's serial console log as it grows and derives what the guest is
 * doing from it: the boot phase (firmware, kernel, systemd, report), a kernel panic, the
 * agent's "CREDSCOPE-VERDICT:" line, and the last lines for a failure report. The log is
 * guest-controlled text: it is only searched and copied, never interpreted further. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "output/result.h"   /* enum boot_phase, boot_phase_name() */

#define CONSOLE_TAIL_LINES 25


struct console_watch {
	int fd;                       /* the log, opened for reading */
	enum boot_phase phase;
	bool any_output;
	bool panicked;
	char panic_line[160];
	char verdict_line[160];       /* "CREDSCOPE-VERDICT: ..." once seen */
	char partial[512];            /* the current unfinished line */
	size_t partial_len;
	char *tail[CONSOLE_TAIL_LINES];
	size_t tail_next;
	long long last_output_ms;
	/* When the host first saw each step, mono_ms() as passed in (0: not yet); the
	 * resolution is the caller's polling interval. */
	long long first_output_ms;    /* any byte: a kernel runs */
	long long pid1_ms;            /* phase systemd */
	long long first_job_ms;       /* PID 1 queues or runs its first unit: credentials imported */
	long long agent_ms;           /* the agent's unit starts (credscope-report.service) */
	long long verdict_ms;         /* the CREDSCOPE-VERDICT line */
};

int console_watch_open(struct console_watch *w, const char *path);
/* Reads what is new. Returns the number of bytes read, or -errno. */
int console_watch_update(struct console_watch *w, long long now_ms);
/* Consumes a chunk of console bytes (exposed for unit tests). */
void console_watch_feed(struct console_watch *w, const char *buf, size_t len, long long now_ms);
/* The last lines, joined with '\n' (malloc'd). */
char *console_watch_tail(const struct console_watch *w, size_t max_lines);
void console_watch_close(struct console_watch *w);
/* What the console showed into T (kernel, pid1, import, agent, verdict), in ms since T0;
 * steps not seen stay as they are. */
void console_watch_timeline(const struct console_watch *w, long long t0, struct run_timeline *t);
