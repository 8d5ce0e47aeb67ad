/* jsonutil: the one way credscope loads an untrusted JSON document and words its errors.
 *
 * Promise: json_doc_load() refuses a document over its size limit before jansson reads a
 * byte, parses it with duplicate keys rejected (jansson would otherwise keep the last one
 * silently, so two readers could see two different documents), and on failure stores one
 * sentence that starts with the document's name in *error (when error is not NULL) and
 * returns -EINVAL. json_doc_fail() words every later field error the same way. Used by the
 * manifest parser (common/manifest.c), the host's report parser (report_check.c) and the
 * case parser (case.c, whose documents are named by their path).
 */
#pragma once
#include <jansson.h>
#include <stddef.h>

/* How errors say where and how large. The two wordings predate this module and tests and
 * users match them, so each document keeps its own. */
enum json_doc_style {
	JSON_DOC_FILE,    /* a file a person edits: "line L column C", "larger than the N byte limit" */
	JSON_DOC_FRAME,   /* one compact frame from the guest: "at byte P", "more than N" */
};

struct json_doc {
	const char *name;          /* "manifest", "report": the first word of every error */
	size_t max_size;           /* bytes; a larger document is refused unread */
	enum json_doc_style style;
};

/* Parses LEN bytes at BUF as DOC. 0 with *ret a new reference (json_decref() it), or -EINVAL
 * with *ret NULL and *error set: "NAME: 5000000 bytes, more than 4194304",
 * "NAME: invalid JSON at byte 17: TEXT" (FRAME) or "NAME: ... at line 3 column 2: TEXT"
 * (FILE). *error is set to NULL first; it is left NULL only on ENOMEM. */
int json_doc_load(const struct json_doc *doc, const char *buf, size_t len, json_t **ret, char **error);

/* Sets *error (when error is not NULL) to the formatted message, or NULL on ENOMEM, and
 * returns -EINVAL: what a parser returns for a field it rejects. */
int json_doc_fail(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seeds jansson's hash function (json_object_seed()) without blocking. Left to itself,
 * jansson reads /dev/urandom at its first object, and before the kernel's random pool is
 * initialised such a read waits for it (urandom_read_iter() -> try_to_generate_entropy(),
 * drivers/char/random.c, Linux 5.18 and later): seconds in an early-boot guest under TCG.
 * The seed only randomises hash-table order against collision flooding, so GRND_INSECURE
 * bytes are enough; where the kernel lacks them (before 5.6), GRND_NONBLOCK, else the clock
 * and the pid. Call once, before the first JSON object. */
void json_seed_nonblocking(void);
