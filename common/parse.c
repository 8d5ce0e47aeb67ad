/* parse: strict decimal numbers. */
#include "parse.h"

#include <errno.h>
#include <stdlib.h>

int parse_unsigned(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long v;
	int r = parse_unsigned(s, min, max, &v);
	if (r == 0)
		*out = (unsigned)v;
	return r;
}
