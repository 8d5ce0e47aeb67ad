/* textsafe: turns untrusted bytes (guest console output, report strings) into text that is
 * safe to print: valid UTF-8, no control characters except '\n' (kept only when asked),
 * everything else as "\xNN". Writers then apply their own format's escaping.
 * Not the agent's text_escape() (common/strutil.h) on purpose: console lines and diagnoses
 * are read by people in JUnit, TAP and the progress output, so valid UTF-8 (a localized
 * message, a box-drawing character) stays readable, '\n' may stay, and a backslash is kept
 * as is: this text is never decoded back to bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* malloc'd; NULL on ENOMEM. */
char *text_sanitize(const char *s, size_t len, bool keep_newlines);
