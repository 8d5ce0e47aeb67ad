/* fuzz_cmdline: the kernel command line parser (guest-agent/systemd/proc_cmdline.h) over
 * any bytes /proc/cmdline, PID 1's argv or the SystemdOptions EFI variable can hold.
 *
 * Proves: proc_cmdline_next_word() never reads outside [p, end) (the input sits in a
 * buffer of exactly its size, with no terminator, so ASan sees a read past it), always
 * moves forward and never returns more bytes than it consumed; without quotes its words
 * are exactly the blank-separated fields; the key lookups find the value of the last
 * KEY=... word (checked against the words themselves, for the key of each of the first
 * words) over each span they promise: proc_cmdline_get_key_in() over [text, end) of the
 * unterminated buffer, proc_cmdline_get_key_whole() over the whole C string (how
 * /proc/cmdline is read), proc_cmdline_get_key() over its first line (how SystemdOptions
 * is read); proc_cmdline_parse_boolean() answers 1, 0 or -EINVAL. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systemd/proc_cmdline.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0;
}

/* The next blank-separated field of [*p, end): what a quote-free word must be. */
static size_t field(const char **p, const char *end, const char **start)
{
	const char *q = *p;
	while (q < end && blank(*q))
		q++;
	*start = q;
	while (q < end && !blank(*q))
		q++;
	*p = q;
	return (size_t) (q - *start);
}

/* Splits [s, end) into at most MAX_WORDS words; returns how many, checking each step. */
static size_t split(const char *s, const char *end, char **words)
{
	bool quotes = memchr(s, '"', (size_t) (end - s)) || memchr(s, '\'', (size_t) (end - s));
	const char *p = s, *ref = s;
	size_t n = 0;

	while (n < MAX_WORDS) {
		const char *before = p, *fs;
		char *w = NULL;
		int r = proc_cmdline_next_word(&p, end, &w);
		if (r < 0)
			break;
		if (p < before || p > end)
			abort();
		if (r == 0)
			break;
		if (strlen(w) > (size_t) (p - before))
			abort();
		if (!quotes) {
			size_t fl = field(&ref, end, &fs);
			if (fl != strlen(w) || memcmp(fs, w, fl) || ref != p)
				abort();
		}
		words[n++] = w;
	}
	return n;
}

/* The reference for proc_cmdline_get_key(): the value of the last word KEY=... */
static const char *last_value(char **words, size_t n, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq)
			continue;
		*eq = 0;
		if (proc_cmdline_key_eq(words[i], key))
			v = eq + 1;
		*eq = '=';
	}
	return v;
}

enum span { SPAN_IN, SPAN_WHOLE, SPAN_LINE };

static int get_key(enum span how, const char *text, const char *end, const char *key, char **value)
{
	switch (how) {
	case SPAN_IN:
		return proc_cmdline_get_key_in(text, end, key, value);
	case SPAN_WHOLE:
		return proc_cmdline_get_key_whole(text, key, value);
	default:
		return proc_cmdline_get_key(text, key, value);
	}
}

/* Splits [text, end) and checks the lookup HOW for the keys of the first words. */
static void check_span(enum span how, const char *text, const char *end)
{
	char *words[MAX_WORDS];
	size_t n = split(text, end, words);

	for (size_t i = 0; i < n && i < 8; i++) {
		char *key = strdup(words[i]), *eq, *value = NULL;
		if (!key)
			break;
		if ((eq = strchr(key, '=')))
			*eq = 0;
		int r = get_key(how, text, end, key, &value);
		const char *want = last_value(words, n, key);
		if (r >= 0 && n < MAX_WORDS && (r == 1) != (want != NULL))
			abort();
		if (r == 1 && n < MAX_WORDS && strcmp(value, want))
			abort();
		int b = proc_cmdline_parse_boolean(words[i]);
		if (b != 0 && b != 1 && b != -EINVAL)
			abort();
		free(value);
		free(key);
	}
	for (size_t i = 0; i < n; i++)
		free(words[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *exact = malloc(size ? size : 1), *text;

	if (!exact)
		return 0;
	memcpy(exact, data, size);
	check_span(SPAN_IN, exact, exact + size);
	free(exact);

	/* The same bytes as a C string, as /proc/cmdline and SystemdOptions reach the model. */
	if (!(text = strndup((const char *) data, size)))
		return 0;
	size_t ll = proc_cmdline_line_len(text);
	if (ll > strlen(text) || memchr(text, '\n', ll) || memchr(text, '\r', ll))
		abort();
	check_span(SPAN_WHOLE, text, text + strlen(text));
	check_span(SPAN_LINE, text, text + ll);
	free(text);
	return 0;
}
