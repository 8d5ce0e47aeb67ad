/* systemd_rules: a pure replay of systemd PID 1's credential import (import-creds.c), per
 * version. See systemd_rules.h for the promise and shared/reference/systemd-credentials.md
 * for the rules and their upstream citations.
 *
 * Version gates (versions in between follow the nearest rule by feature):
 *   < 257  each 11-N/raw is read with one read(): only the first page is seen
 *   >= 254 systemd.set_credential_binary=, /run/credentials/@initrd, no fw_cfg/SMBIOS in a CVM
 *   >= 255 URL-safe base64 alphabet ('-', '_')
 * Version 0 (unknown) is judged by the newest rules (257).
 *
 * Where upstream and the reference differ, upstream wins:
 *   - A container does not skip the whole import: import_credentials_qemu() and
 *     import_credentials_smbios() return early (252.5+), the kernel command line (PID 1's
 *     own argv in a container) and @initrd still run.
 *   - A confidential VM likewise skips only fw_cfg and SMBIOS.
 *   - The SystemdOptions EFI variable is ignored under Secure Boot (read_efi_options_variable()).
 *   - v257 reads 11-N/raw with read_full_file_full() capped at 8 + 1 MiB bytes (flags 0): a
 *     longer entry is cut there silently [inferred].
 *   - fw_cfg and @initrd are listed with readdir_all(RECURSE_DIR_IGNORE_DOT): names starting
 *     with '.' are never seen.
 *   - base64: errors come in reading order (an invalid character before the end is -EINVAL,
 *     not -EPIPE), and a NUL byte counts as whitespace (strchr(WHITESPACE, c)).
 * A preset $CREDENTIALS_DIRECTORY=/run/credentials/@system means an initrd's PID 1 imported,
 * with a version and modules we cannot see: that import is not replayed, only named.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "strutil.h"
#include "systemd_rules.h"

#define SMBIOS_HEADER_LEN   5u
#define V257_READ_MAX       (8u + CRED_TOTAL_SIZE_MAX)  /* sizeof(pointer) + CREDENTIALS_TOTAL_SIZE_MAX */
#define PREFIX_TEXT         "io.systemd.credential:"
#define PREFIX_BINARY       "io.systemd.credential.binary:"
#define CMDLINE_WHITESPACE  " \t\n\r"

const char *cred_source_name(enum cred_source s)
{
	switch (s) {
	case CRED_SOURCE_FW_CFG:  return "fw_cfg";
	case CRED_SOURCE_SMBIOS:  return "smbios";
	case CRED_SOURCE_CMDLINE: return "cmdline";
	case CRED_SOURCE_INITRD:  return "initrd";
	default:                  return "unknown";
	}
}

const char *cred_fate_name(enum cred_fate f)
{
	static const char *const names[] = {
		[FATE_IMPORTED]             = "imported",
		[FATE_IMPORTED_TRUNCATED]   = "imported-truncated",
		[FATE_NOT_A_CREDENTIAL]     = "not-a-credential",
		[FATE_DROPPED_NO_SEPARATOR] = "no-separator",
		[FATE_DROPPED_INVALID_NAME] = "invalid-name",
		[FATE_DROPPED_BAD_BASE64]   = "bad-base64",
		[FATE_DROPPED_TOO_LARGE]    = "too-large",
		[FATE_DROPPED_BUDGET]       = "budget",
		[FATE_DROPPED_DUPLICATE]    = "duplicate",
		[FATE_DROPPED_PAST_PAGE]    = "past-page",
		[FATE_DROPPED_UNSUPPORTED]  = "unsupported",
		[FATE_DROPPED_SOURCE_ERROR] = "source-error",
		[FATE_SOURCE_SKIPPED]       = "skipped",
	};
	if ((size_t) f >= sizeof(names) / sizeof(names[0]) || !names[f])
		return "unknown";
	return names[f];
}

/* Human name of a source for sentences ("after fw_cfg and SMBIOS"). */
static const char *source_label(enum cred_source s)
{
	switch (s) {
	case CRED_SOURCE_FW_CFG:  return "fw_cfg";
	case CRED_SOURCE_SMBIOS:  return "SMBIOS";
	case CRED_SOURCE_CMDLINE: return "the kernel command line";
	case CRED_SOURCE_INITRD:  return "@initrd";
	default:                  return "?";
	}
}

/* ---- names -------------------------------------------------------------------------- */

/* credential_name_valid() = filename_is_valid() && fdname_is_valid(): the checks run in
 * that order upstream, and the first failing one is what we name. fdname_is_valid() walks a
 * signed char, so bytes >= 0x80 fail its "< ' '" test as well. */
const char *credential_name_problem(const char *name, size_t len)
{
	if (!name || len == 0)
		return "the name is empty";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return len == 1 ? "the name is \".\"" : "the name is \"..\"";
	if (memchr(name, '/', len))
		return "its name contains '/'";
	if (len > CRED_NAME_MAX)
		return "its name is longer than 255 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) name[i];
		if (c < 0x20)
			return "its name contains a control character (below 0x20)";
		if (c >= 0x7f)
			return c == 0x7f ? "its name contains the byte 0x7f (DEL)"
					 : "its name contains a byte above 0x7e";
	}
	if (memchr(name, ':', len))
		return "its name contains ':'";
	return NULL;
}

bool credential_name_valid(const char *name, size_t len)
{
	return credential_name_problem(name, len) == NULL;
}

/* ---- base64 (hexdecoct.c unbase64mem_full()) ------------------------------------------ */

enum b64_problem {
	B64_OK,
	B64_BAD_CHAR,       /* -EINVAL: outside the alphabet */
	B64_URL_CHAR,       /* -EINVAL: '-' or '_' before v255 */
	B64_PAD_EARLY,      /* -EINVAL: '=' as 1st or 2nd character of a quad */
	B64_PAD_MISMATCH,   /* -EINVAL: 3rd is '=', 4th is not */
	B64_NONZERO_BITS,   /* -EINVAL: bits set that the padding discards */
	B64_SHORT,          /* -EPIPE: the input ends inside a quad */
	B64_TRAILING,       /* -ENAMETOOLONG: more after the padding */
};

struct b64_result {
	int r;
	enum b64_problem problem;
	size_t pos;         /* byte offset of the offending character */
	size_t symbols;     /* non-whitespace characters seen */
};

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

static int b64_decode(const char *in, size_t len, unsigned version, uint8_t **out, size_t *out_len,
		      struct b64_result *res)
{
	bool url_ok = version == 0 || version >= 255;
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
	*out = buf;
	*out_len = n;
	return 0;
}

int systemd_unbase64(const char *in, size_t len, unsigned systemd_version, uint8_t **out, size_t *out_len)
{
	struct b64_result res;

	return b64_decode(in, len, systemd_version, out, out_len, &res);
}

/* Why decoding failed, as a clause with numbers, never value bytes. */
static char *b64_explain(const struct b64_result *res, unsigned version)
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

/* ---- kernel command line (proc-cmdline.c, extract-word.c) ----------------------------- */

/* read_one_line_file(): the line ends at the first '\n', '\r' or NUL. */
static size_t first_line_len(const char *s)
{
	return strcspn(s, "\n\r");
}

/* extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RELAX|EXTRACT_RETAIN_ESCAPE): whitespace
 * separates words, '...' and "..." group (quotes removed, may start mid-word), backslashes
 * are literal, an unterminated quote runs to the end. Returns 1 with *ret set, 0 at the end,
 * -ENOMEM. */
static int cmdline_next_word(const char **p, const char *end, char **ret)
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

/* proc_cmdline_key_streq(): '-' and '_' are the same. */
static bool key_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
		if (!*a)
			return true;
	}
}

static int parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < 6; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* cmdline_get_key(): 1 if found (last value wins, *value set), 0 if not, -ENOMEM. */
static int line_get_key(const char *line, const char *key, char **value)
{
	const char *p = line, *end = line + first_line_len(line);
	int found = 0;

	for (;;) {
		char *w, *eq;
		size_t wl;
		int r = cmdline_next_word(&p, end, &w);
		if (r <= 0)
			return r < 0 ? r : found;
		wl = strlen(w);
		eq = strchr(w, '=');
		if (strncmp(w, "rd.", 3) != 0 && eq) {  /* rd. words are the initrd's, not ours */
			*eq = 0;
			if (key_eq(w, key)) {
				free(*value);
				*value = strdup(eq + 1);
				if (!*value) {
					free(w);
					return -ENOMEM;
				}
				found = 1;
			}
		}
		secret_clear(w, wl);   /* other words may carry credential values */
		free(w);
	}
}

bool cmdline_import_credentials_disabled(const char *cmdline, const char *efi_options)
{
	const char *lines[] = { cmdline, efi_options };
	bool disabled = false;

	for (size_t i = 0; i < 2; i++) {
		char *v = NULL;
		int r;

		if (!lines[i])
			continue;
		r = line_get_key(lines[i], "systemd.import_credentials", &v);
		if (r > 0)
			disabled = parse_boolean(v) == 0;
		free(v);
		if (r != 0)
			break;   /* found (or out of memory): the EFI variable is not consulted */
	}
	return disabled;
}

/* ---- the prediction ------------------------------------------------------------------- */

struct predictor {
	unsigned version;                       /* effective version: 0 becomes 257 */
	struct prediction *out;
	size_t cap;
	size_t used_by[_CRED_SOURCE_MAX];       /* budget bytes per source, for details */
	size_t *slots;                          /* hash set of created names: candidate index + 1 */
	size_t n_slots, n_created;
};

static struct cred_candidate *cand_at(struct predictor *pr, size_t i)
{
	return &pr->out->cands[i];
}

/* Appends a candidate; *idx is its index (pointers move when the array grows). */
static int cand_new(struct predictor *pr, enum cred_source src, size_t *idx, const char *fmt, ...)
{
	struct prediction *p = pr->out;
	struct cred_candidate *c;
	va_list ap;
	int r;

	if (p->n_cands == pr->cap) {
		size_t ncap = pr->cap ? pr->cap * 2 : 16;
		struct cred_candidate *v = realloc(p->cands, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->cands = v;
		pr->cap = ncap;
	}
	c = &p->cands[p->n_cands];
	*c = (struct cred_candidate) { .source = src };
	va_start(ap, fmt);
	r = vasprintf(&c->origin, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	*idx = p->n_cands++;
	return 0;
}

static int cand_fate(struct predictor *pr, size_t idx, enum cred_fate fate, const char *fmt, ...)
{
	struct cred_candidate *c = cand_at(pr, idx);
	va_list ap;
	int r;

	c->fate = fate;
	free(c->detail);
	c->detail = NULL;
	if (!fmt)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&c->detail, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : 0;
}

static int cand_set_name(struct predictor *pr, size_t idx, const char *name, size_t len)
{
	struct cred_candidate *c = cand_at(pr, idx);

	c->name = strndup(name, len);
	return c->name ? 0 : -ENOMEM;
}

static uint8_t *memdup0(const void *p, size_t n)
{
	uint8_t *d = malloc(n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, p, n);
	d[n] = 0;
	return d;
}

/* The value as the host sent it: text is copied, base64 decoded with the version's rules
 * (left NULL when undecodable). */
static int cand_set_value(struct predictor *pr, size_t idx, const char *v, size_t len, bool binary)
{
	struct cred_candidate *c = cand_at(pr, idx);

	c->binary = binary;
	if (binary) {
		int r = systemd_unbase64(v, len, pr->version, &c->value, &c->value_len);
		return r == -ENOMEM ? r : 0;
	}
	c->value = memdup0(v, len);
	c->value_len = len;
	return c->value ? 0 : -ENOMEM;
}

/* "fw_cfg and SMBIOS": the sources that have spent budget so far. */
static void spent_sources(const struct predictor *pr, char *buf, size_t sz)
{
	size_t n = 0, k = 0;

	for (int s = 0; s < _CRED_SOURCE_MAX; s++)
		n += pr->used_by[s] > 0;
	buf[0] = 0;
	for (int s = 0; s < _CRED_SOURCE_MAX; s++) {
		if (!pr->used_by[s])
			continue;
		k++;
		snprintf(buf + strlen(buf), sz - strlen(buf), "%s%s",
			 k == 1 ? "" : k == n ? " and " : ", ", source_label((enum cred_source) s));
	}
	if (n == 0)
		snprintf(buf, sz, "no earlier credential");
}

const struct cred_candidate *prediction_winner(const struct prediction *p, const char *name)
{
	if (!p || !name)
		return NULL;
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if ((c->fate == FATE_IMPORTED || c->fate == FATE_IMPORTED_TRUNCATED) && c->name &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* The names created so far, as O_EXCL sees them: an open-addressing hash set, so that a
 * hostile table with tens of thousands of strings stays linear. */
static size_t name_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char) *s++;
	return h;
}

static size_t *created_slot(struct predictor *pr, const char *name)
{
	size_t mask = pr->n_slots - 1, i = name_hash(name) & mask;

	while (pr->slots[i] && strcmp(cand_at(pr, pr->slots[i] - 1)->name, name) != 0)
		i = (i + 1) & mask;
	return &pr->slots[i];
}

static int created_add(struct predictor *pr, size_t idx)
{
	if ((pr->n_created + 1) * 2 > pr->n_slots) {
		size_t *old = pr->slots, n_old = pr->n_slots;

		pr->n_slots = n_old ? n_old * 2 : 64;
		pr->slots = calloc(pr->n_slots, sizeof(*pr->slots));
		if (!pr->slots) {
			pr->slots = old;
			pr->n_slots = n_old;
			return -ENOMEM;
		}
		for (size_t i = 0; i < n_old; i++)
			if (old[i])
				*created_slot(pr, cand_at(pr, old[i] - 1)->name) = old[i];
		free(old);
	}
	*created_slot(pr, cand_at(pr, idx)->name) = idx + 1;
	pr->n_created++;
	return 0;
}

static const struct cred_candidate *created_by(struct predictor *pr, const char *name)
{
	size_t slot;

	if (!pr->n_slots)
		return NULL;
	slot = *created_slot(pr, name);
	return slot ? cand_at(pr, slot - 1) : NULL;
}

/* credential_size_ok(), then open_credential_file_for_write()'s O_EXCL, then the write.
 * The name is already valid; data is what systemd would write. */
static int judge_write(struct predictor *pr, size_t idx, const uint8_t *data, size_t len,
		       const char *trunc_detail)
{
	struct cred_candidate *c = cand_at(pr, idx);
	size_t left = CRED_TOTAL_SIZE_MAX - pr->out->budget_used;
	const struct cred_candidate *w;
	char spent[96];

	if (len > CRED_SIZE_MAX)
		return cand_fate(pr, idx, FATE_DROPPED_TOO_LARGE, "its %s is %zu bytes, above the %u-byte limit",
				 c->binary ? "decoded size" : "size", len, CRED_SIZE_MAX);
	if (len > left) {
		spent_sources(pr, spent, sizeof(spent));
		return cand_fate(pr, idx, FATE_DROPPED_BUDGET,
				 "it needs %zu bytes, but the 1 MiB budget had %zu bytes left after %s",
				 len, left, spent);
	}
	w = created_by(pr, c->name);
	if (w)
		return cand_fate(pr, idx, FATE_DROPPED_DUPLICATE, "the name was already created by %s", w->origin);
	c->imported = memdup0(data, len);
	if (!c->imported || created_add(pr, idx) < 0)
		return -ENOMEM;
	c->imported_len = len;
	pr->out->budget_used += len;
	pr->used_by[c->source] += len;
	if (trunc_detail)
		return cand_fate(pr, idx, FATE_IMPORTED_TRUNCATED, "%s", trunc_detail);
	return cand_fate(pr, idx, FATE_IMPORTED, "written as %zu bytes", len);
}

/* Name check, optional base64 decode, then judge_write(). v/vlen is what systemd sees. */
static int judge_named(struct predictor *pr, size_t idx, const char *name, size_t nlen,
		       const char *v, size_t vlen, bool binary, const char *trunc_detail)
{
	const char *problem = credential_name_problem(name, nlen);
	struct b64_result res;
	uint8_t *dec = NULL;
	size_t dlen = 0;
	int r;

	if (problem)
		return cand_fate(pr, idx, FATE_DROPPED_INVALID_NAME, "%s", problem);
	if (!binary)
		return judge_write(pr, idx, (const uint8_t *) v, vlen, trunc_detail);
	r = b64_decode(v, vlen, pr->version, &dec, &dlen, &res);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char *why = b64_explain(&res, pr->version);
		r = cand_fate(pr, idx, FATE_DROPPED_BAD_BASE64, "%s%s%s", trunc_detail ? trunc_detail : "",
			      trunc_detail ? ": " : "", why ? why : "base64 decoding failed");
		free(why);
		return r;
	}
	r = judge_write(pr, idx, dec, dlen, trunc_detail);
	secret_clear(dec, dlen);
	free(dec);
	return r;
}

/* ---- SMBIOS type 11 (parse_smbios_strings()) ------------------------------------------ */

struct oem_parse {
	bool cred, binary, has_eq;
	const char *name, *val;
	size_t nlen, vlen;
};

static void oem_parse(const char *s, size_t len, struct oem_parse *o)
{
	const char *n, *eq;
	size_t plen;

	*o = (struct oem_parse) {};
	if (len >= strlen(PREFIX_TEXT) && memcmp(s, PREFIX_TEXT, strlen(PREFIX_TEXT)) == 0)
		plen = strlen(PREFIX_TEXT);
	else if (len >= strlen(PREFIX_BINARY) && memcmp(s, PREFIX_BINARY, strlen(PREFIX_BINARY)) == 0)
		plen = strlen(PREFIX_BINARY), o->binary = true;
	else
		return;
	o->cred = true;
	n = s + plen;
	eq = memchr(n, '=', len - plen);
	if (!eq)
		return;
	o->has_eq = true;
	o->name = n;
	o->nlen = (size_t) (eq - n);
	o->val = eq + 1;
	o->vlen = len - plen - o->nlen - 1;
}

struct entry_view {
	const struct raw_blob *blob;
	size_t seen;              /* bytes of the entry systemd reads */
	enum cred_fate block;     /* FATE_IMPORTED = not blocked */
	const char *block_detail;
};

/* "the entry is 5123 bytes, systemd 252 reads only the first 4096, and FOO starts at byte
 * 4090", plus what the cut leaves of a straddling string: of its value when the '=' was
 * seen (what the user compares), else of the string. */
static char *page_clause(const struct predictor *pr, const struct entry_view *e, const char *name, size_t off,
			 size_t len, const struct oem_parse *cut)
{
	char *who = name ? text_escape(name) : strdup("this string");
	char *s = NULL, tail[160] = "";
	int r;

	if (!who)
		return NULL;
	if (off < e->seen && cut && cut->has_eq)
		snprintf(tail, sizeof(tail), ", so its %s is cut from %zu to %zu %s", cut->binary ? "base64 text" : "value",
			 len - (size_t) (cut->val - ((const char *) e->blob->data + off)), cut->vlen,
			 cut->binary ? "characters" : "bytes");
	else if (off < e->seen)
		snprintf(tail, sizeof(tail), ", so only %zu of its %zu bytes were seen", e->seen - off, len);
	r = asprintf(&s, "the entry is %zu bytes, systemd %u reads only the first %zu, and %s starts at byte %zu%s",
		     e->blob->len, pr->version, e->seen, who, off, tail);
	free(who);
	return r < 0 ? NULL : s;
}

static int smbios_not_credential(struct predictor *pr, size_t idx, const char *s, size_t len)
{
	bool nocase = (len >= strlen(PREFIX_BINARY) && strncasecmp(s, PREFIX_BINARY, strlen(PREFIX_BINARY)) == 0) ||
		      (len >= strlen(PREFIX_TEXT) && strncasecmp(s, PREFIX_TEXT, strlen(PREFIX_TEXT)) == 0);

	return cand_fate(pr, idx, FATE_NOT_A_CREDENTIAL, "it does not start with \"%s\" or \"%s\"%s", PREFIX_TEXT,
			 PREFIX_BINARY, nocase ? " (the prefix is case-sensitive)" : "");
}

/* What systemd makes of the part of a string it saw. */
static int smbios_judge_seen(struct predictor *pr, size_t idx, const struct entry_view *e, size_t off, size_t len)
{
	const char *s = (const char *) e->blob->data + off;
	size_t sl = len < e->seen - off ? len : e->seen - off;
	char *clause = NULL;
	struct oem_parse o;
	int r;

	oem_parse(s, sl, &o);
	if (sl < len && !(clause = page_clause(pr, e, cand_at(pr, idx)->name, off, len, &o)))
		return -ENOMEM;
	if (!o.cred && clause)
		r = cand_fate(pr, idx, FATE_NOT_A_CREDENTIAL, "%s, which cuts it inside its prefix", clause);
	else if (!o.cred)
		r = smbios_not_credential(pr, idx, s, len);
	else if (!o.has_eq)
		r = cand_fate(pr, idx, FATE_DROPPED_NO_SEPARATOR, "%s", clause ? clause :
			      "there is no '=' after the name (systemd: SMBIOS OEM string lacks '=' character)");
	else
		r = judge_named(pr, idx, o.name, o.nlen, o.val, o.vlen, o.binary, clause);
	free(clause);
	return r;
}

static int smbios_string(struct predictor *pr, const struct entry_view *e, size_t off, size_t len, unsigned k)
{
	const char *s = (const char *) e->blob->data + off;
	struct cred_candidate *c;
	struct oem_parse full;
	size_t idx;
	int r;

	r = cand_new(pr, CRED_SOURCE_SMBIOS, &idx, "SMBIOS %s string %u at byte %zu",
		     e->blob->name ? e->blob->name : "11-?", k, off);
	if (r < 0)
		return r;
	c = cand_at(pr, idx);
	c->offset = off;
	c->raw_len = len;
	oem_parse(s, len, &full);
	c->binary = full.binary;
	if (full.has_eq) {
		if (cand_set_name(pr, idx, full.name, full.nlen) < 0 ||
		    cand_set_value(pr, idx, full.val, full.vlen, full.binary) < 0)
			return -ENOMEM;
	}
	if (!full.cred && (e->block != FATE_IMPORTED || off >= e->seen))
		return smbios_not_credential(pr, idx, s, len);
	if (e->block != FATE_IMPORTED)
		return cand_fate(pr, idx, e->block, "%s", e->block_detail);
	if (off >= e->seen) {
		char *clause = page_clause(pr, e, cand_at(pr, idx)->name, off, len, NULL);
		if (!clause)
			return -ENOMEM;
		r = cand_fate(pr, idx, FATE_DROPPED_PAST_PAGE, "%s", clause);
		free(clause);
		return r;
	}
	return smbios_judge_seen(pr, idx, e, off, len);
}

static int smbios_entry(struct predictor *pr, const struct entry_view *e)
{
	const uint8_t *d = e->blob->data;
	size_t pos = SMBIOS_HEADER_LEN, idx;
	unsigned k = 0;
	int r;

	if (e->blob->len < SMBIOS_HEADER_LEN) {
		r = cand_new(pr, CRED_SOURCE_SMBIOS, &idx, "SMBIOS %s", e->blob->name ? e->blob->name : "11-?");
		return r < 0 ? r : cand_fate(pr, idx, e->block, "%s", e->block_detail);
	}
	while (pos < e->blob->len) {
		const uint8_t *nul = memchr(d + pos, 0, e->blob->len - pos);
		size_t l = nul ? (size_t) (nul - (d + pos)) : e->blob->len - pos;

		k++;
		if (l > 0) {   /* empty strings are skipped: the closing double NUL is harmless */
			r = smbios_string(pr, e, pos, l, k);
			if (r < 0)
				return r;
		}
		pos += l + 1;
	}
	return 0;
}

static char *smbios_header_problem(const struct predictor *pr, const struct raw_blob *b, size_t seen)
{
	const char *nm = b->name ? b->name : "11-?";
	char *s = NULL;
	int r;
	const char *then = pr->version >= 257 ? "warned and stopped the SMBIOS scan"
					      : "aborted the SMBIOS source (Invalid DMI field header)";

	if (seen < SMBIOS_HEADER_LEN)
		r = asprintf(&s, "%s is %zu bytes, shorter than the 5-byte header, so systemd %u %s",
			     nm, seen, pr->version, then);
	else if (b->data[0] != 11)
		r = asprintf(&s, "%s has type %u, not 11, so systemd %u %s", nm, b->data[0], pr->version, then);
	else if (b->data[1] != SMBIOS_HEADER_LEN)
		r = asprintf(&s, "%s has header length %u, not 5, so systemd %u %s", nm, b->data[1],
			     pr->version, then);
	else
		return strdup("");
	return r < 0 ? NULL : s;
}

static int predict_smbios(struct predictor *pr, const struct import_sources *src, size_t page_size, const char *skip)
{
	size_t limit = pr->version >= 257 ? V257_READ_MAX : (page_size ? page_size : 4096);
	char *abort_detail = NULL;
	int r = 0;

	for (size_t i = 0; i < src->n_smbios && r >= 0; i++) {
		const struct raw_blob *b = &src->smbios[i];
		struct entry_view e = {
			.blob = b,
			.seen = b->len < limit ? b->len : limit,
			.block = FATE_IMPORTED,
		};

		if (skip) {
			e.block = FATE_SOURCE_SKIPPED;
			e.block_detail = skip;
		} else if (!abort_detail) {
			char *problem = smbios_header_problem(pr, b, e.seen);
			if (!problem)
				return -ENOMEM;
			if (*problem)
				abort_detail = problem;
			else
				free(problem);
		}
		if (abort_detail) {
			e.block = FATE_DROPPED_SOURCE_ERROR;
			e.block_detail = abort_detail;
		}
		r = smbios_entry(pr, &e);
	}
	free(abort_detail);
	return r;
}

/* ---- kernel command line (proc_cmdline_callback()) ------------------------------------ */

struct cmdline_word {
	const char *label;        /* "kernel command line" / "EFI SystemdOptions" */
	unsigned n;               /* 1-based word number */
	char *word;               /* unquoted; split at the first '=' */
	const char *value;        /* after '=' or NULL */
	bool rd, binary;
};

/* Key check: 1 for a credential word (sets binary), 0 for any other word. */
static int cmdline_key(struct cmdline_word *w)
{
	char *eq = strchr(w->word, '=');
	const char *key = w->word;

	if (eq) {
		*eq = 0;
		w->value = eq + 1;
	}
	w->rd = strncmp(key, "rd.", 3) == 0;
	if (w->rd)
		key += 3;
	if (key_eq(key, "systemd.set_credential"))
		w->binary = false;
	else if (key_eq(key, "systemd.set_credential_binary"))
		w->binary = true;
	else
		return 0;
	return 1;
}

static int cmdline_candidate(struct predictor *pr, struct cmdline_word *w, const char *skip)
{
	const char *colon = w->value ? strchr(w->value, ':') : NULL;
	const char *v = colon ? colon + 1 : NULL;
	size_t idx;
	int r;

	r = cand_new(pr, CRED_SOURCE_CMDLINE, &idx, "%s word %u", w->label, w->n);
	if (r < 0)
		return r;
	cand_at(pr, idx)->raw_len = strlen(w->word) + (w->value ? 1 + strlen(w->value) : 0);
	if (colon && (cand_set_name(pr, idx, w->value, (size_t) (colon - w->value)) < 0 ||
		      cand_set_value(pr, idx, v, strlen(v), w->binary) < 0))
		return -ENOMEM;
	cand_at(pr, idx)->binary = w->binary;
	if (skip)
		return cand_fate(pr, idx, FATE_SOURCE_SKIPPED, "%s", skip);
	if (w->rd)
		return cand_fate(pr, idx, FATE_DROPPED_UNSUPPORTED, "the rd. prefix makes the word the initrd's: "
				 "the host's PID 1 skips it");
	if (w->binary && pr->version < 254)
		return cand_fate(pr, idx, FATE_DROPPED_UNSUPPORTED, "systemd.set_credential_binary= exists only "
				 "from systemd 254, not %u", pr->version);
	if (!colon)
		return cand_fate(pr, idx, FATE_DROPPED_NO_SEPARATOR, "there is no ':' between name and value "
				 "(systemd: Credential assignment through kernel command line lacks ':' character)");
	return judge_named(pr, idx, w->value, (size_t) (colon - w->value), v, strlen(v), w->binary, NULL);
}

static int predict_cmdline_line(struct predictor *pr, const char *line, const char *label, const char *skip)
{
	const char *p = line, *end = line + first_line_len(line);
	struct cmdline_word w = { .label = label };
	int r;

	for (;;) {
		r = cmdline_next_word(&p, end, &w.word);
		if (r <= 0)
			return r;
		w.n++;
		w.value = NULL;
		if (cmdline_key(&w) > 0)
			r = cmdline_candidate(pr, &w, skip);
		secret_clear(w.word, strlen(w.word) + (w.value ? 1 + strlen(w.value) : 0));
		free(w.word);
		if (r < 0)
			return r;
	}
}

/* ---- fw_cfg and @initrd: one file per credential ------------------------------------ */

static int predict_files(struct predictor *pr, enum cred_source src, const struct raw_blob *v, size_t n,
			 const char *skip, enum cred_fate skip_fate)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = v[i].name ? v[i].name : "";
		char *esc = text_escape(name);   /* names are not secret but may hold any byte */
		size_t idx;
		int r;

		if (!esc)
			return -ENOMEM;
		r = cand_new(pr, src, &idx, src == CRED_SOURCE_FW_CFG ? "fw_cfg opt/io.systemd.credentials/%s"
				     : "/run/credentials/@initrd/%s", esc);
		free(esc);
		if (r < 0 || cand_set_name(pr, idx, name, strlen(name)) < 0 ||
		    cand_set_value(pr, idx, (const char *) v[i].data, v[i].len, false) < 0)
			return -ENOMEM;
		cand_at(pr, idx)->raw_len = v[i].len;
		if (skip)
			r = cand_fate(pr, idx, skip_fate, "%s", skip);
		else if (name[0] == '.' && credential_name_valid(name, strlen(name)))
			r = cand_fate(pr, idx, FATE_DROPPED_UNSUPPORTED, "systemd reads the directory without dot "
				      "files (RECURSE_DIR_IGNORE_DOT), so it never sees this name");
		else
			r = judge_named(pr, idx, name, strlen(name), (const char *) v[i].data, v[i].len, false, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- gates and the whole replay ---------------------------------------------------- */

static int set_reason(char **slot, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*slot)
		return 0;   /* the first (strongest) reason stays */
	va_start(ap, fmt);
	r = vasprintf(slot, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*slot = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int whole_import_reason(const struct predictor *pr, const struct import_env *env, char **slot)
{
	/* A preset @system path is what an initrd's PID 1 leaves behind after its own import (with
	 * its own version and modules, which we cannot see); anything else is a container manager's. */
	if (env->credentials_dir_preset && env->credentials_dir_is_system)
		return set_reason(slot, "$CREDENTIALS_DIRECTORY=/run/credentials/@system was already set for PID 1, "
				  "so an initrd's PID 1 did the import (credscope cannot replay it) and systemd %u "
				  "imported nothing itself%s", pr->version,
				  pr->version >= 254 ? " but merged /run/credentials/@initrd" : "");
	if (env->credentials_dir_preset)
		return set_reason(slot, "$CREDENTIALS_DIRECTORY was already set for PID 1 (by a container manager), "
				  "so systemd %u imported nothing itself", pr->version);
	if (env->import_disabled)
		return set_reason(slot, "systemd.import_credentials=no is set, so systemd %u imported nothing",
				  pr->version);
	return 0;
}

static int firmware_source_reasons(const struct predictor *pr, const struct import_env *env, char **fw, char **smb)
{
	int r = 0;

	if (env->in_container) {
		const char *note = pr->version < 253 ? " (from 252.5 on; the 252 tag itself did not: "
						       "credscope models 252.5+)" : "";
		r |= set_reason(fw, "systemd skips fw_cfg in a container%s", note);
		r |= set_reason(smb, "systemd skips SMBIOS in a container%s", note);
	}
	if (env->confidential_vm && pr->version >= 254) {
		r |= set_reason(fw, "systemd %u does not trust fw_cfg in a confidential VM", pr->version);
		r |= set_reason(smb, "systemd %u does not trust SMBIOS in a confidential VM", pr->version);
	}
	if (!env->dmi_sysfs_present)
		r |= set_reason(smb, "/sys/firmware/dmi/entries does not exist: the kernel lacks dmi-sysfs");
	if (!env->fw_cfg_present)
		r |= set_reason(fw, "/sys/firmware/qemu_fw_cfg does not exist: no fw_cfg device, or the kernel "
				"lacks qemu_fw_cfg");
	return r < 0 ? -ENOMEM : 0;
}

static int initrd_reason(const struct predictor *pr, const struct import_env *env, char **slot)
{
	if (pr->version < 254)
		return set_reason(slot, "systemd %u does not import /run/credentials/@initrd (from 254 on)", pr->version);
	if (env->credentials_dir_preset && !env->credentials_dir_is_system)
		return set_reason(slot, "the preset $CREDENTIALS_DIRECTORY is not /run/credentials/@system, so "
				  "systemd does not merge /run/credentials/@initrd into it");
	return 0;
}

static int predict_run(struct predictor *pr, const struct import_sources *s, const struct import_env *env)
{
	struct prediction *p = pr->out;
	const char *whole = p->skip_reason, *efi_skip = whole;
	const char *initrd_skip = p->source_skip_reason[CRED_SOURCE_INITRD];
	int r;

	r = predict_files(pr, CRED_SOURCE_FW_CFG, s->fw_cfg, s->n_fw_cfg,
			  whole ? whole : p->source_skip_reason[CRED_SOURCE_FW_CFG], FATE_SOURCE_SKIPPED);
	if (r >= 0)
		r = predict_smbios(pr, s, env->page_size, whole ? whole : p->source_skip_reason[CRED_SOURCE_SMBIOS]);
	if (r >= 0 && s->efi_options) {
		if (!efi_skip && env->efi_secure_boot)
			efi_skip = "Secure Boot is on, so systemd ignores the SystemdOptions EFI variable";
		r = predict_cmdline_line(pr, s->efi_options, "EFI SystemdOptions", efi_skip);
	}
	if (r >= 0 && s->cmdline)
		r = predict_cmdline_line(pr, s->cmdline, "kernel command line", whole);
	/* A preset @system dir still gets @initrd merged (v254+ merge_credentials_trusted()). */
	if (!initrd_skip && !(env->credentials_dir_preset && env->credentials_dir_is_system))
		initrd_skip = whole;
	if (r >= 0)
		r = predict_files(pr, CRED_SOURCE_INITRD, s->initrd, s->n_initrd, initrd_skip,
				  pr->version < 254 && !whole ? FATE_DROPPED_UNSUPPORTED : FATE_SOURCE_SKIPPED);
	return r;
}

int predict_import(const struct import_sources *sources, const struct import_env *env, struct prediction *out)
{
	struct predictor pr = {
		.version = env->systemd_version ? env->systemd_version : 257,
		.out = out,
	};
	int r;

	*out = (struct prediction) { .env = *env };
	r = whole_import_reason(&pr, env, &out->skip_reason);
	if (r >= 0)
		r = firmware_source_reasons(&pr, env, &out->source_skip_reason[CRED_SOURCE_FW_CFG],
					    &out->source_skip_reason[CRED_SOURCE_SMBIOS]);
	if (r >= 0)
		r = initrd_reason(&pr, env, &out->source_skip_reason[CRED_SOURCE_INITRD]);
	if (r >= 0)
		r = predict_run(&pr, sources, env);
	free(pr.slots);
	if (r < 0) {
		prediction_free(out);
		return r;
	}
	return 0;
}

void prediction_free(struct prediction *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_cands; i++) {
		struct cred_candidate *c = &p->cands[i];
		if (c->value)
			secret_clear(c->value, c->value_len);
		if (c->imported)
			secret_clear(c->imported, c->imported_len);
		free(c->value);
		free(c->imported);
		free(c->origin);
		free(c->name);
		free(c->detail);
	}
	free(p->cands);
	free(p->skip_reason);
	for (int s = 0; s < _CRED_SOURCE_MAX; s++)
		free(p->source_skip_reason[s]);
	*p = (struct prediction) {};
}
