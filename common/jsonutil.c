/* jsonutil: strict loading of untrusted JSON documents. See jsonutil.h. */
#include "jsonutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"

int json_doc_fail(char **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (error && vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return -EINVAL;
}

int json_doc_load(const struct json_doc *doc, const char *buf, size_t len, json_t **ret, char **error)
{
	bool file = doc->style == JSON_DOC_FILE;
	json_error_t jerr;

	*ret = NULL;
	if (error)
		*error = NULL;
	if (len > doc->max_size)
		return file ? json_doc_fail(error, "%s: %zu bytes, larger than the %zu byte limit", doc->name, len, doc->max_size)
			    : json_doc_fail(error, "%s: %zu bytes, more than %zu", doc->name, len, doc->max_size);
	*ret = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*ret)
		return 0;
	if (file)
		return json_doc_fail(error, "%s: invalid JSON at line %d column %d: %s", doc->name, jerr.line, jerr.column,
				     jerr.text);
	return json_doc_fail(error, "%s: invalid JSON at byte %d: %s", doc->name, jerr.position, jerr.text);
}

void json_seed_nonblocking(void)
{
	size_t seed = 0;
	if (getrandom(&seed, sizeof seed, GRND_INSECURE) != (ssize_t)sizeof seed &&
	    getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (size_t)mono_ns() ^ ((size_t)getpid() << 16) ^ (size_t)(uintptr_t)&seed;
	json_object_seed(seed ? seed : 1);   /* 0 would mean "read /dev/urandom" */
}
