/* pid1_check: PID 1's own log lines about the import against the prediction.
 *
 * Promise: pid1_check_run() reads the import's lines out of PID 1's records in the kernel log
 * (kmsg.h, systemd/pid1_lines.h) and holds them against the lines the prediction implies. A
 * line PID 1 logged that the prediction does not imply, or implies with another count, list,
 * name or error, is a disagreement: positive evidence always counts. A line the prediction
 * implies that PID 1's log lacks is a disagreement only when the log is complete: nothing of
 * it is lost (the ring did not wrap, no record was overwritten, no ratelimit dropped a line
 * of systemd's, the kernel did not ratelimit /dev/kmsg) and PID 1 logged at info level there
 * (its "systemd ... running in system mode" line, logged just before the import, is in it).
 * When this PID 1 did not import (a preset $CREDENTIALS_DIRECTORY: an initrd's PID 1 did, and
 * its lines are in the same log) nothing is compared. Each disagreement is one sentence that
 * quotes PID 1's line and the prediction's. Pure; never holds a credential value.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "kmsg.h"
#include "systemd/import_types.h"

struct pid1_disagreement {
	char *name;                /* the credential (raw), "" for a line about the whole import */
	char *message;             /* one sentence */
};

struct pid1_check {
	bool read;                 /* a log was read: source "/dev/kmsg" */
	bool complete;             /* the absence of a line counts */
	char why[240];             /* why not read, not complete, or not compared; "" when none */
	size_t lines;              /* PID 1's import lines found */
	size_t compared, agree;    /* lines and expectations held against each other, and agreeing */
	bool import_seen;          /* PID 1's "Acquired N regular credentials" line (254+) was read */
	unsigned long long import_usec;  /* its kernel timestamp: microseconds since boot */
	struct pid1_disagreement *dis;
	size_t n_dis;
};

/* CMDLINE (the kernel command line, may be NULL) says whether the kernel ratelimited
 * /dev/kmsg when LOG does not (printk.devkmsg=). 0 or -ENOMEM. */
int pid1_check_run(const struct prediction *p, const struct kmsg_log *log, const char *cmdline,
		   struct pid1_check *out);
void pid1_check_free(struct pid1_check *c);

/* The one line `list` and `verify` print, printable ASCII, e.g. "PID 1's log (/dev/kmsg,
 * complete): 2 import lines, 3 compared, 3 agree." Written into BUF (size N), returned. */
const char *pid1_check_summary(const struct pid1_check *c, char *buf, size_t n);
