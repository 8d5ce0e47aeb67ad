/* proc_cmdline: the kernel command line as upstream src/basic/proc-cmdline.c and
 * src/basic/extract-word.c read it. See proc_cmdline.h. */
#include "systemd/proc_cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

#define CMDLINE_WHITESPACE " \t\n\r"

size_t proc_cmdline_line_len(const char *s)
{
	return strcspn(s, "\n\r");
}

int proc_cmdline_next_word(const char **p, const char *end, char **ret)
{
	const char *q = *p;
	char quote = 0, *w;
	size_t n = 0;

	while (q < end && strchr(CMDLINE_WHITESPACE, *q))
		q++;
	if (q >= end) {
		*p = q;
		return 0;
	}
	w = malloc((size_t) (end - q) + 1);
	if (!w)
		return -ENOMEM;
	for (; q < end; q++) {
		if (quote) {
			if (*q == quote)
				quote = 0;
			else
				w[n++] = *q;
		} else if (*q == '\'' || *q == '"')
			quote = *q;
		else if (strchr(CMDLINE_WHITESPACE, *q))
			break;
		else
			w[n++] = *q;
	}
	w[n] = 0;
	*p = q;
	*ret = w;
	return 1;
}

bool proc_cmdline_key_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
		if (!*a)
			return true;
	}
}

int proc_cmdline_parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* An "rd."-prefixed word never equals a key without that prefix: proc_cmdline_get_key()
 * strips rd. only with PROC_CMDLINE_STRIP_RD_PREFIX in an initrd, and the agent runs on the
 * host's root. */
int proc_cmdline_get_key_in(const char *text, const char *end, const char *key, char **value)
{
	const char *p = text;
	int found = 0;

	for (;;) {
		char *w, *eq;
		size_t wl;
		int r = proc_cmdline_next_word(&p, end, &w);
		if (r <= 0)
			return r < 0 ? r : found;
		wl = strlen(w);
		eq = strchr(w, '=');
		if (eq) {
			*eq = 0;
			if (proc_cmdline_key_eq(w, key)) {
				free(*value);
				*value = strdup(eq + 1);
				if (!*value) {
					secret_free(w, wl);
					return -ENOMEM;
				}
				found = 1;
			}
		}
		secret_free(w, wl);   /* other words may carry credential values */
	}
}

int proc_cmdline_get_key_whole(const char *text, const char *key, char **value)
{
	return proc_cmdline_get_key_in(text, text + strlen(text), key, value);
}

int proc_cmdline_get_key(const char *line, const char *key, char **value)
{
	return proc_cmdline_get_key_in(line, line + proc_cmdline_line_len(line), key, value);
}
