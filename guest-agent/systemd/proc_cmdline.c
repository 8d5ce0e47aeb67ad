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

/* A separator: WHITESPACE, and NUL (strchr(WHITESPACE, 0) matches the terminator). */
static bool is_blank(char c)
{
	return c == 0 || strchr(CMDLINE_WHITESPACE, c);
}

/* A word being read: extract_first_word()'s quote state over [q, end). */
struct word_cursor {
	const char *q, *end;
	char quote;
};

/* The word's next unquoted byte into *c: 1, or 0 at its end (q then at the blank or end).
 * Quotes open and close without being bytes of the word. */
static int word_next(struct word_cursor *w, char *c)
{
	for (; w->q < w->end; w->q++) {
		char x = *w->q;

		if (w->quote) {
			if (x == w->quote) {
				w->quote = 0;
				continue;
			}
		} else if (x == '\'' || x == '"') {
			w->quote = x;
			continue;
		} else if (is_blank(x))
			return 0;
		*c = x;
		w->q++;
		return 1;
	}
	return 0;
}

/* The rest of the word at W as a C string, malloc'd exactly (a first pass counts it): no
 * buffer is sized by what follows the word, so reading every word of a line stays linear in
 * its length. A quoted NUL ends the string; the word still runs to its blank. */
static char *word_rest(struct word_cursor *w)
{
	struct word_cursor count = *w;
	size_t n = 0;
	char c, *s;

	while (word_next(&count, &c) && c)
		n++;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		word_next(w, &s[i]);
	s[n] = 0;
	while (word_next(w, &c))
		;
	return s;
}

/* Skips the blanks before the next word; false at the end. */
static bool word_start(struct word_cursor *w, const char **p, const char *end)
{
	const char *q = *p;

	while (q < end && is_blank(*q))
		q++;
	*p = q;
	*w = (struct word_cursor) { .q = q, .end = end };
	return q < end;
}

int proc_cmdline_next_word(const char **p, const char *end, char **ret)
{
	struct word_cursor w;
	char *s;

	if (!word_start(&w, p, end))
		return 0;
	s = word_rest(&w);
	if (!s)
		return -ENOMEM;
	*p = w.q;
	*ret = s;
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

/* Whether the word at W is KEY=...: its bytes before the first '=' equal KEY as
 * proc_cmdline_key_eq() compares them (a quoted NUL ends the word's C string, so no '='
 * follows it); W is then just past that '='. */
static bool word_has_key(struct word_cursor *w, const char *key)
{
	char c;

	while (word_next(w, &c)) {
		if (c == '=')
			return !*key;
		if (!c || (c != *key && !((c == '-' || c == '_') && (*key == '-' || *key == '_'))))
			return false;
		key++;
	}
	return false;
}

/* An "rd."-prefixed word never equals a key without that prefix: proc_cmdline_get_key()
 * strips rd. only with PROC_CMDLINE_STRIP_RD_PREFIX in an initrd, and the agent runs on the
 * host's root. */
int proc_cmdline_get_key_in(const char *text, const char *end, const char *key, char **value)
{
	struct word_cursor w;
	const char *p = text;
	int found = 0;
	char c;

	/* Only a matching word's value is copied: other words may carry credential values and
	 * are never copied at all. */
	while (word_start(&w, &p, end)) {
		if (word_has_key(&w, key)) {
			char *v = word_rest(&w);
			if (!v)
				return -ENOMEM;
			if (*value)
				secret_free(*value, strlen(*value));
			*value = v;
			found = 1;
		} else
			while (word_next(&w, &c))
				;
		p = w.q;
	}
	return found;
}

int proc_cmdline_get_key_whole(const char *text, const char *key, char **value)
{
	return proc_cmdline_get_key_in(text, text + strlen(text), key, value);
}

int proc_cmdline_get_key(const char *line, const char *key, char **value)
{
	return proc_cmdline_get_key_in(line, line + proc_cmdline_line_len(line), key, value);
}
