/* tap: TAP version 13 on a stream. One "ok"/"not ok" line per case run, a YAML block with
 * the diagnosis, the phase, the last console lines and the log path on failure. Every
 * guest-controlled string is sanitized and quoted. */
#pragma once
#include <stdio.h>

#include "output/result.h"

void tap_plan(FILE *f, size_t n);
void tap_result(FILE *f, size_t number, const struct case_result *r);
