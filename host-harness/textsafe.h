/* textsafe: turns untrusted bytes (guest console output, report strings) into text that is
 * safe to print: valid UTF-8, no control characters except '\n' (kept only when asked),
 * everything else as "\xNN". Writers then apply their own format's escaping. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* malloc'd; NULL on ENOMEM. */
char *text_sanitize(const char *s, size_t len, bool keep_newlines);
