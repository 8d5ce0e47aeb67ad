/* strutil: small string helpers both sides share. */
#include "strutil.h"

#include <stdarg.h>
#include <stdio.h>
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
