/* strutil: small string helpers both sides share. */
#pragma once

/* vasprintf() into a fresh string; NULL on ENOMEM. */
char *strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ROOT + REL for a path relative to a root directory ("/" or --root DIR): trailing slashes
 * of ROOT are dropped, REL starts with '/'. NULL on ENOMEM. */
char *root_join(const char *root, const char *rel);
