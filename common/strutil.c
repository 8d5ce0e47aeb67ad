/* strutil: small string helpers both sides share. */
#include "strutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *strprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *root_join(const char *root, const char *rel)
{
	size_t n = strlen(root);
	char *p;

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s%s", (int) n, root, rel) < 0)
		return NULL;
	return p;
}

char *text_escape_bytes(const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 4)
		return NULL;
	out = o = malloc(n * 4 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c <= 0x7e && c != '\\') {
			*o++ = (char) c;
			continue;
		}
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*o = '\0';
	return out;
}

char *text_escape(const char *s)
{
	return text_escape_bytes(s, strlen(s));
}
