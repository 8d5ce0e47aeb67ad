/* tap: TAP version 13 on a stream. One "ok"/"not ok" line per case run, a YAML block with
 * the diagnosis, the phase, the last console lines and the log path on failure. Every
 * guest-controlled string is sanitized and quoted. */
#pragma once
#include <stdio.h>

#include "output/result.h"

void tap_plan(FILE *f, size_t n);
void tap_result(FILE *f, size_t number, const struct case_result *r);
/* After the run: for differential cases, one comment line per flavor and the total,
 * "# differential: N of M credentials agree; PID 1's log lines: A of C agree". Nothing
 * when no differential case ran. */
void tap_differential_summary(FILE *f, const struct case_result *res, size_t n);
