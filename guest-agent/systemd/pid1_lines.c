/* pid1_lines: PID 1's own log lines about the import, as data (pid1_lines.h). Citations are
 * src/core/import-creds.c unless named otherwise; docs/systemd-versions.md §3.4 has the table. */
#include "systemd/pid1_lines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

enum pid1_gate {
	GATE_ALL,
	GATE_RECEIVED,          /* systemd_release.logs_received_credentials */
	GATE_CMDLINE_BINARY,    /* systemd_release.cmdline_binary */
};

/* How a line is recognized: it starts with `head`; a named line has the name next (after
 * the first `lead` when there is one), then `tail`, which either ends the line or, when
 * `errno_after`, is the last occurrence of `tail` and the %m text follows. An unnamed line is
 * `head` alone when `exact`, else `head` and a value. */
struct pid1_format {
	enum pid1_line_kind kind;
	int level;              /* syslog level of the call */
	const char *head, *lead, *tail;
	bool named, exact, errno_after;
	enum pid1_gate gate;
};

#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_NOTICE 5
#define LOG_INFO 6

static const struct pid1_format formats[] = {
	/* report_credentials(): :855,867@v254, :857,868@254.26, :831,842@257.13, :880,891@262; info
	 * only when a count is above 0, else debug; not in 252.39 */
	{ PID1_LINE_ACQUIRED, LOG_INFO, "Acquired ", NULL, NULL, false, false, false, GATE_RECEIVED },
	{ PID1_LINE_RECEIVED, LOG_INFO, "Received regular credentials: ", NULL, NULL, false, false, false,
	  GATE_RECEIVED },
	/* import_credentials(): :705@252.39, :922@254.26, :889@257.13, :941@262 */
	{ PID1_LINE_IMPORT_DISABLED, LOG_NOTICE, "systemd.import_credentials=no is set, skipping importing of "
	  "credentials.", NULL, NULL, false, true, false, GATE_ALL },
	/* parse_smbios_strings(): :506,515,523@252.39, :513,522,530@254.26, :514,523,531@257.13,
	 * :559,568,576@262; the v252-v255 tags ended the name warning with ": %m" (§0) */
	{ PID1_LINE_SMBIOS_NO_EQ, LOG_WARNING, "SMBIOS OEM string lacks '=' character, ignoring.", NULL, NULL,
	  false, true, false, GATE_ALL },
	{ PID1_LINE_SMBIOS_BAD_NAME, LOG_WARNING, "SMBIOS credential name '", NULL, "' is not valid, ignoring.",
	  true, false, false, GATE_ALL },
	{ PID1_LINE_SMBIOS_BAD_NAME, LOG_WARNING, "SMBIOS credential name '", NULL, "' is not valid, ignoring: ",
	  true, false, true, GATE_ALL },
	{ PID1_LINE_SMBIOS_BAD_BASE64, LOG_WARNING, "Failed to base64 decode credential '", NULL, "', ignoring: ",
	  true, false, true, GATE_ALL },
	/* proc_cmdline_callback(): :309,318@252.39, :301,310,319@254.26, :302,311,320@257.13,
	 * :347,356,365@262; the ':' warning prints the word's value, which is never kept */
	{ PID1_LINE_CMDLINE_NO_COLON, LOG_WARNING, "Credential assignment through kernel command line lacks ':' "
	  "character, ignoring: ", NULL, NULL, false, false, false, GATE_ALL },
	{ PID1_LINE_CMDLINE_BAD_NAME, LOG_WARNING, "Credential name '", NULL, "' is invalid, ignoring.", true, false,
	  false, GATE_ALL },
	{ PID1_LINE_CMDLINE_BAD_BINARY, LOG_WARNING, "Failed to decode binary credential '", NULL,
	  "' data, ignoring: ", true, false, true, GATE_CMDLINE_BINARY },
	/* import_credentials_qemu() :400@252.39, :408@257.13; import_credentials_initrd() :661@254.26,
	 * :640@257.13, :694@262 */
	{ PID1_LINE_FILE_BAD_NAME, LOG_WARNING, "Credential '", NULL, "' has invalid name, ignoring.", true, false,
	  false, GATE_ALL },
	/* credential_size_ok(): :114,119@252.39, :131,136@254.26, :132,137@257.13, :138,143@262 */
	{ PID1_LINE_TOO_LARGE, LOG_WARNING, "Credential '", NULL, "' is larger than allowed limit (", true, false,
	  true, GATE_ALL },
	{ PID1_LINE_BUDGET, LOG_WARNING, "Accumulated credential size would be above allowed limit (",
	  "), skipping '", "'.", true, false, false, GATE_ALL },
	/* the failed write or create: :341,550,448,103@252.39, :346,558,456,121@257.13,
	 * :391,603,501,127@262; "Failed to parse /proc/cmdline" after a command line failure
	 * (:359@252.39, :364@257.13, :409@262) */
	{ PID1_LINE_WRITE_FAILED, LOG_ERR, "Failed to write credential: ", NULL, NULL, false, false, false, GATE_ALL },
	{ PID1_LINE_COPY_FAILED, LOG_ERR, "Failed to create credential '", NULL, "': ", true, false, true, GATE_ALL },
	{ PID1_LINE_CREATE_FAILED, LOG_ERR, "Failed to create /run/credentials/@system/", NULL, ": ", true, false,
	  true, GATE_ALL },
	{ PID1_LINE_CMDLINE_FAILED, LOG_ERR, "Failed to parse /proc/cmdline: ", NULL, NULL, false, false, false,
	  GATE_ALL },
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

static const struct pid1_format *format_of(enum pid1_line_kind k)
{
	for (size_t i = 0; i < N_FORMATS; i++)
		if (formats[i].kind == k)
			return &formats[i];
	return NULL;
}

bool pid1_line_logged_by(enum pid1_line_kind k, const struct systemd_release *rel)
{
	const struct pid1_format *f = format_of(k);

	if (!f || !rel->has_import)
		return false;
	return f->gate == GATE_ALL || (f->gate == GATE_RECEIVED && rel->logs_received_credentials) ||
	       (f->gate == GATE_CMDLINE_BINARY && rel->cmdline_binary);
}

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The last occurrence of NEEDLE in [s, end), or NULL. */
static const char *last_of(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = end - n; end - s >= (ptrdiff_t) n && p >= s; p--)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* "Acquired %i regular credentials, %i untrusted credentials." */
static int parse_acquired(const char *rest, struct pid1_line *out)
{
	long reg, untrusted;
	int end = -1;

	if (rest[0] < '0' || rest[0] > '9' ||
	    sscanf(rest, "%ld regular credentials, %ld untrusted credentials.%n", &reg, &untrusted, &end) != 2 ||
	    end < 0 || rest[end] != 0 || reg < 0 || untrusted < 0 || reg > 1L << 30)
		return 0;
	out->regular = reg;
	return 1;
}

/* The name (and the %m text) of a named line after its head; 1, 0 when it does not fit. */
static int parse_named(const struct pid1_format *f, const char *s, struct pid1_line *out)
{
	const char *end = s + strlen(s), *name = s, *stop;

	if (f->lead) {
		name = strstr(s, f->lead);
		if (!name)
			return 0;
		name += strlen(f->lead);
	}
	if (f->errno_after)
		stop = last_of(name, end, f->tail);
	else
		stop = (size_t) (end - name) >= strlen(f->tail) && strcmp(end - strlen(f->tail), f->tail) == 0
			       ? end - strlen(f->tail) : NULL;
	if (!stop)
		return 0;
	out->name = strndup(name, (size_t) (stop - name));
	if (f->errno_after)   /* the %m text, or the sizes of TOO_LARGE: never a value */
		out->value = strdup(stop + strlen(f->tail));
	if (!out->name || (f->errno_after && !out->value))
		return -ENOMEM;
	return 1;
}

static int parse_one(const struct pid1_format *f, const char *text, struct pid1_line *out)
{
	const char *rest = text + strlen(f->head);

	*out = (struct pid1_line) { .kind = f->kind };
	if (!starts_with(text, f->head))
		return 0;
	if (f->exact)
		return *rest == 0;
	if (f->kind == PID1_LINE_ACQUIRED)
		return parse_acquired(rest, out);
	if (f->named)
		return parse_named(f, rest, out);
	if (f->kind == PID1_LINE_CMDLINE_NO_COLON)
		return 1;   /* the rest is the word's value: never kept */
	out->value = strdup(rest);
	return out->value ? 1 : -ENOMEM;
}

int pid1_line_parse(const char *text, struct pid1_line *out)
{
	for (size_t i = 0; i < N_FORMATS; i++) {
		int r = parse_one(&formats[i], text, out);
		if (r != 0) {
			if (r < 0)
				pid1_line_free(out);
			return r;
		}
		pid1_line_free(out);
	}
	return 0;
}

void pid1_line_free(struct pid1_line *l)
{
	free(l->name);
	free(l->value);
	l->name = l->value = NULL;
}

char *pid1_line_text(enum pid1_line_kind k, const char *name, const char *value, long regular)
{
	const char *n = name ? name : "...", *v = value ? value : "...";

	switch (k) {
	case PID1_LINE_ACQUIRED:
		return strprintf("Acquired %ld regular credentials, %s untrusted credentials.", regular, value ? value : "0");
	case PID1_LINE_RECEIVED:        return strprintf("Received regular credentials: %s", v);
	case PID1_LINE_SMBIOS_BAD_NAME: return strprintf("SMBIOS credential name '%s' is not valid, ignoring.", n);
	case PID1_LINE_SMBIOS_BAD_BASE64:
		return strprintf("Failed to base64 decode credential '%s', ignoring: ...", n);
	case PID1_LINE_CMDLINE_NO_COLON:
		return strdup("Credential assignment through kernel command line lacks ':' character, ignoring: ...");
	case PID1_LINE_CMDLINE_BAD_NAME: return strprintf("Credential name '%s' is invalid, ignoring.", n);
	case PID1_LINE_CMDLINE_BAD_BINARY:
		return strprintf("Failed to decode binary credential '%s' data, ignoring: ...", n);
	case PID1_LINE_FILE_BAD_NAME:   return strprintf("Credential '%s' has invalid name, ignoring.", n);
	case PID1_LINE_TOO_LARGE:
		return strprintf("Credential '%s' is larger than allowed limit (... > 1.0M), skipping.", n);
	case PID1_LINE_BUDGET:
		return strprintf("Accumulated credential size would be above allowed limit (...+... > 1.0M), "
				 "skipping '%s'.", n);
	case PID1_LINE_WRITE_FAILED:    return strprintf("Failed to write credential: %s", v);
	case PID1_LINE_COPY_FAILED:     return strprintf("Failed to create credential '%s': %s", n, v);
	case PID1_LINE_CREATE_FAILED:   return strprintf("Failed to create /run/credentials/@system/%s: %s", n, v);
	case PID1_LINE_CMDLINE_FAILED:  return strprintf("Failed to parse /proc/cmdline: %s", v);
	case PID1_LINE_IMPORT_DISABLED:
	case PID1_LINE_SMBIOS_NO_EQ:
	case _PID1_LINE_MAX:
		break;
	}
	return strdup(format_of(k) ? format_of(k)->head : "?");   /* the exact lines */
}

/* ---- the lines a prediction implies -------------------------------------------------------- */

struct expect_list {
	struct pid1_expect *v;
	size_t n, cap;
};

/* Appends a line; NAME and VALUE raw (escaped here), LENGTH the message's bytes. */
static int expect_add(struct expect_list *l, enum pid1_line_kind k, const struct cred_candidate *c,
		      const char *name, const char *value, long regular, size_t length)
{
	struct pid1_expect *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct pid1_expect *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	*e = (struct pid1_expect) { .kind = k, .regular = regular, .cand = c, .length = length };
	if ((name && !(e->name = text_escape(name))) || (value && !(e->value = text_escape(value)))) {
		free(e->name);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

/* The warning or error PID 1 logs where it drops C, or -1 when it drops it silently (or at
 * debug level: duplicates, a page cut, the rest of a source after a failed write). */
static int drop_line(const struct cred_candidate *c)
{
	bool file = c->source == CRED_SOURCE_FW_CFG || c->source == CRED_SOURCE_INITRD;

	switch (c->fate) {
	case FATE_DROPPED_NO_SEPARATOR:
		return c->source == CRED_SOURCE_SMBIOS ? PID1_LINE_SMBIOS_NO_EQ :
		       c->source == CRED_SOURCE_CMDLINE ? PID1_LINE_CMDLINE_NO_COLON : -1;
	case FATE_DROPPED_INVALID_NAME:
		return c->source == CRED_SOURCE_SMBIOS ? PID1_LINE_SMBIOS_BAD_NAME :
		       c->source == CRED_SOURCE_CMDLINE ? PID1_LINE_CMDLINE_BAD_NAME : PID1_LINE_FILE_BAD_NAME;
	case FATE_DROPPED_BAD_BASE64:
		return c->source == CRED_SOURCE_SMBIOS ? PID1_LINE_SMBIOS_BAD_BASE64 :
		       c->source == CRED_SOURCE_CMDLINE ? PID1_LINE_CMDLINE_BAD_BINARY : -1;
	case FATE_DROPPED_TOO_LARGE:
		return PID1_LINE_TOO_LARGE;
	case FATE_DROPPED_BUDGET:
		return PID1_LINE_BUDGET;
	case FATE_DROPPED_STORE_FULL:
		return c->store_failure == STORE_FAILURE_CREATE ? PID1_LINE_CREATE_FAILED :
		       c->store_failure == STORE_FAILURE_WRITE ? (file ? PID1_LINE_COPY_FAILED : PID1_LINE_WRITE_FAILED) :
		       -1;
	default:
		return -1;
	}
}

static int expect_drop(struct expect_list *l, const struct cred_candidate *c, const struct systemd_release *rel)
{
	int k = drop_line(c);
	bool failed = k == PID1_LINE_WRITE_FAILED || k == PID1_LINE_COPY_FAILED || k == PID1_LINE_CREATE_FAILED;
	const char *value = failed ? PID1_ENOSPC_TEXT : NULL;
	char *text;
	size_t length;
	int r;

	if (k < 0 || !pid1_line_logged_by((enum pid1_line_kind) k, rel))
		return 0;
	/* fw_cfg and @initrd are listed without dot files: systemd never sees those names */
	if ((c->source == CRED_SOURCE_FW_CFG || c->source == CRED_SOURCE_INITRD) && c->name && c->name[0] == '.')
		return 0;
	/* a name with a line break is logged as two lines: neither is this format */
	if (c->name && strpbrk(c->name, "\n\r"))
		return 0;
	text = pid1_line_text((enum pid1_line_kind) k, c->name, value, 0);
	if (!text)
		return -ENOMEM;
	/* the ':' warning prints the word's value: its length is at most the word's */
	length = strlen(text) + (k == PID1_LINE_CMDLINE_NO_COLON ? c->raw_len : 0);
	free(text);
	r = expect_add(l, (enum pid1_line_kind) k, c, k == PID1_LINE_SMBIOS_NO_EQ || k == PID1_LINE_CMDLINE_NO_COLON ||
		       k == PID1_LINE_WRITE_FAILED ? NULL : c->name, value, 0, length);
	if (r == 0 && failed && c->source == CRED_SOURCE_CMDLINE)
		r = expect_add(l, PID1_LINE_CMDLINE_FAILED, c, NULL, value, 0,
			       strlen("Failed to parse /proc/cmdline: " PID1_ENOSPC_TEXT));
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* report_credentials(): $CREDENTIALS_DIRECTORY listed in strcmp() order without dot files
 * (readdir_all(RECURSE_DIR_SORT|RECURSE_DIR_IGNORE_DOT), src/basic/recurse-dir.c:14-16@254.26),
 * valid names only, joined with ", " (import-creds.c:797-834@257.13), then the count; info
 * only when there is one (:842-845@257.13). */
static int expect_report(struct expect_list *l, const struct prediction *p)
{
	const char **names = calloc(p->n_cands + 1, sizeof *names);
	size_t n = 0, len = 0;
	char *list = NULL;
	int r = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_cands; i++) {
		const struct cred_candidate *c = &p->cands[i];
		if ((c->fate == FATE_IMPORTED || c->fate == FATE_IMPORTED_TRUNCATED) && c->name && c->name[0] != '.') {
			names[n++] = c->name;
			len += strlen(c->name) + 2;
		}
	}
	qsort(names, n, sizeof *names, cmp_names);
	if (n && !(list = calloc(1, len + 1)))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		strcat(strcat(list, i ? ", " : ""), names[i]);
	if (r == 0 && n)
		r = expect_add(l, PID1_LINE_RECEIVED, NULL, NULL, list, 0, strlen("Received regular credentials: ") + strlen(list));
	if (r == 0 && n)
		r = expect_add(l, PID1_LINE_ACQUIRED, NULL, NULL, NULL, (long) n,
			       strlen("Acquired  regular credentials, 0 untrusted credentials.") + 10);
	free(list);
	free(names);
	return r;
}

int pid1_expect_lines(const struct prediction *p, struct pid1_expect **out, size_t *n)
{
	const struct systemd_release *rel = systemd_release(p->env.systemd_version);
	struct expect_list l = { 0 };
	bool ended = false;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!rel->has_import || p->env.credentials_dir_preset)
		return 0;
	/* what is left: systemd.import_credentials=no (gates.c); after a systemd initrd both PID 1s
	 * read it and log the notice (import_credentials() runs again after switch-root:
	 * early_skip_setup_check() :3013@257.13), seen on trixie-initrd */
	for (int k = 0; r == 0 && p->skip_reason && p->env.import_disabled && k < (p->env.pid1_switched_root ? 2 : 1); k++)
		r = expect_add(&l, PID1_LINE_IMPORT_DISABLED, NULL, NULL, NULL, 0,
			       strlen(format_of(PID1_LINE_IMPORT_DISABLED)->head));
	/* --switched-root and no preset variable: the initrd's PID 1 ran the same import first and
	 * created nothing (else it would have set $CREDENTIALS_DIRECTORY), logging the same drops;
	 * its report is at debug level then (report_credentials(), no directory) */
	for (int k = 0; k < (p->env.pid1_switched_root ? 2 : 1); k++)
		for (size_t i = 0; r == 0 && !p->skip_reason && i < p->n_cands; i++)
			r = expect_drop(&l, &p->cands[i], rel);
	if (r == 0 && !p->skip_reason && rel->logs_received_credentials)
		r = expect_report(&l, p);
	if (r < 0) {
		pid1_expect_free(l.v, l.n);
		return r;
	}
	/* the first line too long for /dev/kmsg ends what PID 1 wrote there */
	for (size_t i = 0; i < l.n; i++) {
		ended = ended || l.v[i].length > PID1_KMSG_MESSAGE_MAX;
		l.v[i].required = !ended;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

void pid1_expect_free(struct pid1_expect *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
}
