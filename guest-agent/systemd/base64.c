/* base64: unbase64mem() as upstream src/basic/hexdecoct.c has it (unbase64mem_full(),
 * unbase64_next()), with the failing rule and byte recorded. See base64.h. */
#include "systemd/base64.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "systemd/versions.h"

#define B64_PAD 64

/* strchr(WHITESPACE, c) upstream: the NUL byte also matches the terminator. */
static bool b64_space(char c)
{
	return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int b64_value(char c, bool url_ok, enum b64_problem *why)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	if (c == '=') return B64_PAD;
	if (url_ok && c == '-') return 62;
	if (url_ok && c == '_') return 63;
	*why = (c == '-' || c == '_') ? B64_URL_CHAR : B64_BAD_CHAR;
	return -EINVAL;
}

/* unbase64_next(): skip whitespace before and after one symbol. -EPIPE at the end. */
static int b64_next(const char *in, size_t len, size_t *i, bool url_ok, struct b64_result *res)
{
	int v;

	while (*i < len && b64_space(in[*i]))
		(*i)++;
	if (*i >= len)
		return -EPIPE;
	res->pos = *i;
	v = b64_value(in[*i], url_ok, &res->problem);
	if (v < 0)
		return v;
	res->symbols++;
	(*i)++;
	while (*i < len && b64_space(in[*i]))
		(*i)++;
	return v;
}

static int b64_fail(struct b64_result *res, int r, enum b64_problem p)
{
	res->r = r;
	if (p != B64_OK)
		res->problem = p;
	return r;
}

/* One quad: returns the number of bytes written (0..3), 4 at a clean end of input, or -errno. */
static int b64_quad(const char *in, size_t len, size_t *i, bool url_ok, uint8_t *z, struct b64_result *res)
{
	int a, b, c, d;

	a = b64_next(in, len, i, url_ok, res);
	if (a == -EPIPE)
		return 4;
	if (a < 0)
		return b64_fail(res, a, B64_OK);
	if (a == B64_PAD)
		return b64_fail(res, -EINVAL, B64_PAD_EARLY);
	b = b64_next(in, len, i, url_ok, res);
	if (b < 0)
		return b64_fail(res, b, b == -EPIPE ? B64_SHORT : B64_OK);
	if (b == B64_PAD)
		return b64_fail(res, -EINVAL, B64_PAD_EARLY);
	c = b64_next(in, len, i, url_ok, res);
	if (c < 0)
		return b64_fail(res, c, c == -EPIPE ? B64_SHORT : B64_OK);
	d = b64_next(in, len, i, url_ok, res);
	if (d < 0)
		return b64_fail(res, d, d == -EPIPE ? B64_SHORT : B64_OK);
	if (c == B64_PAD) {
		if (d != B64_PAD)
			return b64_fail(res, -EINVAL, B64_PAD_MISMATCH);
		if (b & 15)
			return b64_fail(res, -EINVAL, B64_NONZERO_BITS);
		if (*i < len)
			return b64_fail(res, -ENAMETOOLONG, B64_TRAILING);
		z[0] = (uint8_t) (a << 2 | b >> 4);
		return 1;
	}
	if (d == B64_PAD) {
		if (c & 3)
			return b64_fail(res, -EINVAL, B64_NONZERO_BITS);
		if (*i < len)
			return b64_fail(res, -ENAMETOOLONG, B64_TRAILING);
		z[0] = (uint8_t) (a << 2 | b >> 4);
		z[1] = (uint8_t) (b << 4 | c >> 2);
		return 2;
	}
	z[0] = (uint8_t) (a << 2 | b >> 4);
	z[1] = (uint8_t) (b << 4 | c >> 2);
	z[2] = (uint8_t) (c << 6 | d);
	return 3;
}

int base64_decode(const char *in, size_t len, bool url_ok, uint8_t **out, size_t *out_len,
		  struct b64_result *res)
{
	size_t i = 0, n = 0;
	uint8_t *buf;

	*res = (struct b64_result) { .r = 0 };
	buf = malloc(len / 4 * 3 + 4);
	if (!buf)
		return b64_fail(res, -ENOMEM, B64_OK);
	for (;;) {
		int k = b64_quad(in, len, &i, url_ok, buf + n, res);
		if (k < 0) {
			secret_clear(buf, len / 4 * 3 + 4);
			free(buf);
			return k;
		}
		if (k == 4)
			break;
		n += (size_t) k;
		if (k < 3)
			break;   /* padding ended the data (trailing bytes were checked) */
	}
	buf[n] = 0;   /* n <= len / 4 * 3: like a text value, the bytes end in a NUL */
	*out = buf;
	*out_len = n;
	return 0;
}

int systemd_unbase64(const char *in, size_t len, unsigned systemd_version, uint8_t **out, size_t *out_len)
{
	struct b64_result res;

	return base64_decode(in, len, systemd_release(systemd_version)->base64_url_safe, out, out_len, &res);
}

/* Why decoding failed, as a clause with numbers, never value bytes. */
char *base64_explain(const struct b64_result *res, unsigned version)
{
	char *s = NULL;
	int r = -1;

	switch (res->problem) {
	case B64_SHORT:
		r = asprintf(&s, "base64 length %zu is not a multiple of 4 (systemd: Broken pipe)", res->symbols);
		break;
	case B64_URL_CHAR:
		r = asprintf(&s, "it uses the URL-safe alphabet at byte %zu, and the URL-safe alphabet ('-', '_') "
			     "is accepted only from systemd 255, not %u (systemd: Invalid argument)", res->pos, version);
		break;
	case B64_BAD_CHAR:
		r = asprintf(&s, "byte %zu of the base64 text is outside the alphabet (systemd: Invalid argument)", res->pos);
		break;
	case B64_PAD_EARLY:
		r = asprintf(&s, "'=' at byte %zu is the 1st or 2nd character of a quad (systemd: Invalid argument)", res->pos);
		break;
	case B64_PAD_MISMATCH:
		r = asprintf(&s, "the 3rd character of the quad ending at byte %zu is '=' but the 4th is not "
			     "(systemd: Invalid argument)", res->pos);
		break;
	case B64_NONZERO_BITS:
		r = asprintf(&s, "the quad ending at byte %zu has non-zero bits before its padding (systemd: Invalid argument)",
			     res->pos);
		break;
	case B64_TRAILING:
		r = asprintf(&s, "more text follows the padding that ends at byte %zu (systemd: File name too long)", res->pos);
		break;
	default:
		r = asprintf(&s, "base64 decoding failed: %s", strerror(-res->r));
		break;
	}
	return r < 0 ? NULL : s;
}
