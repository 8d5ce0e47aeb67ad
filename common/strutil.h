/* strutil: small string helpers both sides share. */
#pragma once

/* vasprintf() into a fresh string; NULL on ENOMEM. */
char *strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
