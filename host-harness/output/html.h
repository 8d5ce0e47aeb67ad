/* html: one self-contained HTML page for people (`run --html FILE`): a row per case run
 * (case, flavor, expected, got, pass/fail/skip, seconds, a boot timeline bar), then its
 * details (diagnosis or skip reason, each credential's fate with the agent's explanation,
 * the last console lines).
 *
 * Promises: the page fetches nothing (no URL, no script, no external style or font; a
 * Content-Security-Policy of default-src 'none' says so to the browser too) and reads
 * without JavaScript. Every string in it comes from the case or the guest: it is sanitized
 * (textsafe.h) and written with & < > " ' as entities, so no name or console line can add
 * markup. The timeline is drawn from the run's own timestamps (result.h struct
 * run_timeline), each segment an element with data-segment, data-start-ms, data-end-ms. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "output/result.h"

/* S as HTML text, safe in element content and in a quoted attribute value. */
void html_put_text(FILE *f, const char *s, bool keep_newlines);

int html_write(FILE *f, const char *title, const struct case_result *results, size_t n, double seconds);
/* Writes to PATH atomically (PATH.tmp then rename). Returns 0 or -errno. */
int html_write_file(const char *path, const char *title, const struct case_result *results, size_t n, double seconds);
