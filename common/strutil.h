/* strutil: small string helpers both sides share. */
#pragma once
#include <stddef.h>

/* vasprintf() into a fresh string; NULL on ENOMEM. */
char *strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ROOT + REL for a path relative to a root directory ("/" or --root DIR): trailing slashes
 * of ROOT are dropped, REL starts with '/'. NULL on ENOMEM. */
char *root_join(const char *root, const char *rel);

/* A copy of the N bytes at S that is safe for a terminal, for JSON and for a report: printable
 * ASCII (0x20..0x7e) stays as is; every other byte, NUL included, and the backslash itself
 * become "\xNN" (lowercase hex). Escaping the backslash too means the escaped form maps back
 * to exactly one byte string, which the host's report_name_is() relies on. The agent passes
 * every host-controlled name and string through here (names and strings from SMBIOS, fw_cfg
 * or the manifest may hold terminal escape sequences or invalid UTF-8). NULL only on ENOMEM.
 * Two escapers differ on purpose and are kept apart: smbios_escape() (guest-agent/
 * smbios_view.h) writes C-style \t \n \r \\ next to dmidecode's output, and the host's
 * text_sanitize() (host-harness/textsafe.h) keeps valid UTF-8 for console lines. */
char *text_escape_bytes(const char *s, size_t n);
/* text_escape_bytes() over the C string S. */
char *text_escape(const char *s);
