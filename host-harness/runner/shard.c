/* shard: deterministic partition of cases by sorted name, round robin. */
#include "runner/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_number(const char **p, unsigned *out)
{
	unsigned long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned long)(*s - '0')) > SHARD_MAX)
			return -EINVAL;
	*out = (unsigned)v;
	*p = s;
	return 0;
}

int shard_parse(const char *spec, unsigned *index, unsigned *count, char **error)
{
	const char *p = spec;

	if (error)
		*error = NULL;
	if (parse_number(&p, index) == 0 && *p++ == '/' && parse_number(&p, count) == 0 && *p == '\0' &&
	    *index >= 1 && *index <= *count)
		return 0;
	if (error && asprintf(error, "--shard %s: expected I/N with 1 <= I <= N <= %u, e.g. --shard 2/4",
			      spec, SHARD_MAX) < 0)
		*error = NULL;
	return -EINVAL;
}

struct named { const char *name; size_t pos; };

static int by_name_then_position(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

int shard_select(size_t n_cases, const char *const names[], unsigned index, unsigned count, bool *selected)
{
	struct named *order;
	int n_selected = 0;

	if (count < 1 || count > SHARD_MAX || index < 1 || index > count)
		return -EINVAL;
	order = calloc(n_cases ? n_cases : 1, sizeof *order);
	if (!order)
		return -ENOMEM;
	for (size_t k = 0; k < n_cases; k++)
		order[k] = (struct named){ names[k], k };
	qsort(order, n_cases, sizeof *order, by_name_then_position);
	for (size_t p = 0; p < n_cases; p++) {
		bool mine = p % count == index - 1;
		selected[order[p].pos] = mine;
		n_selected += mine;
	}
	free(order);
	return n_selected;
}

char *shard_junit_path(const char *junit, unsigned index, unsigned count)
{
	size_t len = strlen(junit);
	bool xml = len >= 4 && strcmp(junit + len - 4, ".xml") == 0;
	char *out;

	if (asprintf(&out, "%.*s.shard-%u-of-%u.xml", (int)(xml ? len - 4 : len), junit, index, count) < 0)
		return NULL;
	return out;
}
