/* base64: systemd's unbase64mem() rules, for .binary: credentials.
 *
 * Promise: base64_decode() accepts and refuses exactly what upstream unbase64mem_full() /
 * unbase64_next() (src/basic/hexdecoct.c) do: whitespace (and NUL) skipped anywhere,
 * padding required, the URL-safe alphabet only when asked for (systemd 255+, see
 * versions.h); errors come in reading order with upstream's errno (-EPIPE, -EINVAL,
 * -ENAMETOOLONG). It also says which rule failed at which byte, so that a finding can be
 * worded without quoting the (secret) text. Decoded buffers are cleared before they are
 * dropped on error.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum b64_problem {
	B64_OK,
	B64_BAD_CHAR,       /* -EINVAL: outside the alphabet */
	B64_URL_CHAR,       /* -EINVAL: '-' or '_' where the URL-safe alphabet is not accepted */
	B64_PAD_EARLY,      /* -EINVAL: '=' as 1st or 2nd character of a quad */
	B64_PAD_MISMATCH,   /* -EINVAL: 3rd is '=', 4th is not */
	B64_NONZERO_BITS,   /* -EINVAL: bits set that the padding discards */
	B64_SHORT,          /* -EPIPE: the input ends inside a quad */
	B64_TRAILING,       /* -ENAMETOOLONG: more after the padding */
};

struct b64_result {
	int r;
	enum b64_problem problem;
	size_t pos;         /* byte offset of the offending character */
	size_t symbols;     /* non-whitespace characters seen */
};

/* Decodes IN (LEN bytes). Returns 0 with *out (malloc'd, a NUL after the *out_len bytes) /
 * *out_len, or -errno with *res saying why; -ENOMEM on allocation failure. */
int base64_decode(const char *in, size_t len, bool url_safe, uint8_t **out, size_t *out_len,
		  struct b64_result *res);

/* Why decoding failed, as a clause with numbers and upstream's strerror(), never value
 * bytes. VERSION is named when the URL-safe alphabet was refused. NULL on ENOMEM. */
char *base64_explain(const struct b64_result *res, unsigned version);

/* unbase64mem() as systemd SYSTEMD_VERSION has it (0: the newest modelled). Returns 0 or
 * -EPIPE / -EINVAL / -ENAMETOOLONG / -ENOMEM exactly where systemd would. */
int systemd_unbase64(const char *in, size_t len, unsigned systemd_version, uint8_t **out, size_t *out_len);
