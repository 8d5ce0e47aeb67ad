/* import_creds: a pure replay of upstream src/core/import-creds.c
 * (import_credentials_trusted(): import_credentials_qemu(), import_credentials_smbios(),
 * proc_cmdline_callback(), import_credentials_initrd(); credential_size_ok() and
 * open_credential_file_for_write() for the budget and first-writer-wins). See
 * import_creds.h for the promise; the SMBIOS strings are judged in smbios11.c, the gates in
 * gates.c, the version rules come from versions.c.
 *
 * Where upstream and the reference differ, upstream wins:
 *   - fw_cfg and @initrd are listed with readdir_all(RECURSE_DIR_IGNORE_DOT): names starting
 *     with '.' are never seen.
 *   - The SystemdOptions EFI variable is ignored under Secure Boot (read_efi_options_variable()).
 * A preset $CREDENTIALS_DIRECTORY=/run/credentials/@system with --switched-root in PID 1's
 * argv means the initrd's systemd imported fw_cfg, SMBIOS and the command line before
 * switch-root; the replay is the same (the initrd's systemd is the root's), and the host's
 * PID 1 merges @initrd afterwards with a budget of its own (merge_credentials_trusted()
 * :745-776@254.26, :724-755@257.13 start from a fresh ImportCredentialContext). A preset
 * @system without --switched-root: some earlier PID 1 imported, with a version and modules
 * we cannot see: that import is not replayed, only named.
 */
#include "systemd/import_creds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "strutil.h"
#include "systemd/base64.h"
#include "systemd/gates.h"
#include "systemd/predictor.h"
#include "systemd/proc_cmdline.h"

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
		[FATE_DROPPED_ENTRY_SKIPPED] = "entry-skipped",
		[FATE_DROPPED_STORE_FULL]   = "store-full",
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


struct cred_candidate *cand_at(struct predictor *pr, size_t i)
{
	return &pr->out->cands[i];
}

/* Appends a candidate; *idx is its index (pointers move when the array grows). */
int cand_new(struct predictor *pr, enum cred_source src, size_t *idx, const char *fmt, ...)
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

int cand_fate(struct predictor *pr, size_t idx, enum cred_fate fate, const char *fmt, ...)
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

int cand_set_name(struct predictor *pr, size_t idx, const char *name, size_t len)
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
int cand_set_value(struct predictor *pr, size_t idx, const char *v, size_t len, bool binary)
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

/* "a 1 MiB tmpfs" */
static const char *store_text(const struct predictor *pr, char *buf, size_t n)
{
	uint64_t b = pr->out->env.store.size_bytes;

	if (b && b % (1024u * 1024u) == 0)
		snprintf(buf, n, "a %llu MiB %s", (unsigned long long) (b / (1024u * 1024u)), pr->out->env.store.fs);
	else if (b)
		snprintf(buf, n, "a %llu KiB %s", (unsigned long long) (b / 1024u), pr->out->env.store.fs);
	else
		snprintf(buf, n, "a %s with nr_inodes=%llu", pr->out->env.store.fs,
			 (unsigned long long) pr->out->env.store.inodes);
	return buf;
}

/* The create (one inode) or the write (a page per started page_size bytes) fails with
 * ENOSPC: systemd unlinks the file and returns from the source (open_credential_file_for_write(),
 * src/core/import-creds.c:116-122@257.13; loop_write()/copy_bytes() then unlinkat(),
 * :343-346,453-456,555-558@257.13). Returns 1 when it failed (fate set), 0 when it fits. */
static int judge_capacity(struct predictor *pr, size_t idx, size_t len)
{
	struct cred_candidate *c = cand_at(pr, idx);
	struct prediction *p = pr->out;
	size_t pages = (len + pr->page_size - 1) / pr->page_size;
	bool no_inode = pr->max_files && p->store_files + 1 > pr->max_files;
	bool by_write = c->source == CRED_SOURCE_SMBIOS || c->source == CRED_SOURCE_CMDLINE;
	char store[64];
	int r;

	if (!no_inode && !(pr->max_pages && p->store_pages_used + pages > pr->max_pages))
		return 0;
	if (no_inode)
		r = cand_fate(pr, idx, FATE_DROPPED_STORE_FULL, "the credential store, %s, had no inode left (%zu files "
			      "and its root directory use all %zu): systemd logged \"Failed to create "
			      "/run/credentials/@system/%s: No space left on device\" and stopped importing %s",
			      store_text(pr, store, sizeof store), p->store_files, pr->max_files + 1, c->name,
			      source_label(c->source));
	else
		r = cand_fate(pr, idx, FATE_DROPPED_STORE_FULL, "the credential store, %s, had %zu of %zu pages of %zu "
			      "bytes left and this needs %zu: systemd logged \"%s%s%s: No space left on device\", "
			      "unlinked the file and stopped importing %s", store_text(pr, store, sizeof store),
			      pr->max_pages - p->store_pages_used, pr->max_pages, pr->page_size, pages,
			      by_write ? "Failed to write credential" : "Failed to create credential '",
			      by_write ? "" : c->name, by_write ? "" : "'", source_label(c->source));
	cand_at(pr, idx)->store_failure = no_inode ? STORE_FAILURE_CREATE : STORE_FAILURE_WRITE;
	pr->aborted_by[c->source] = idx + 1;
	if (!pr->first_full) {
		pr->first_full = idx + 1;
		pr->full_by_inodes = no_inode;
	}
	pr->n_full++;
	return r < 0 ? r : 1;
}

/* credential_size_ok(), then open_credential_file_for_write()'s O_EXCL, then the write
 * (judge_capacity()). The name is already valid; data is what systemd would write. */
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
	int full = judge_capacity(pr, idx, len);
	if (full)
		return full < 0 ? full : 0;
	pr->out->store_files++;
	pr->out->store_pages_used += (len + pr->page_size - 1) / pr->page_size;
	/* What systemd writes is nearly always the value as sent (always for text on 257+): then
	 * the candidate holds the bytes once, and prediction_free() clears them once. */
	if (c->value && c->value_len == len && memcmp(c->value, data, len) == 0)
		c->imported = c->value;
	else
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
int judge_named(struct predictor *pr, size_t idx, const char *name, size_t nlen,
		       const char *v, size_t vlen, bool binary, const char *trunc_detail)
{
	const char *problem = credential_name_problem(name, nlen);
	struct b64_result res;
	uint8_t *dec = NULL;
	size_t dlen = 0;
	int r;

	if (pr->aborted_by[cand_at(pr, idx)->source]) {
		/* systemd returned from this source at the failed write: it never saw this one */
		const struct cred_candidate *f = cand_at(pr, pr->aborted_by[cand_at(pr, idx)->source] - 1);
		pr->n_full++;
		return cand_fate(pr, idx, FATE_DROPPED_STORE_FULL, "systemd stopped importing %s when %s (%s) failed "
				 "with No space left on device: the credential store was full",
				 source_label(f->source), f->name, f->origin);
	}
	if (problem)
		return cand_fate(pr, idx, FATE_DROPPED_INVALID_NAME, "%s", problem);
	if (!binary)
		return judge_write(pr, idx, (const uint8_t *) v, vlen, trunc_detail);
	r = base64_decode(v, vlen, pr->rel->base64_url_safe, &dec, &dlen, &res);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char *why = base64_explain(&res, pr->version);
		r = cand_fate(pr, idx, FATE_DROPPED_BAD_BASE64, "%s%s%s", trunc_detail ? trunc_detail : "",
			      trunc_detail ? ": " : "", why ? why : "base64 decoding failed");
		free(why);
		return r;
	}
	r = judge_write(pr, idx, dec, dlen, trunc_detail);
	secret_free(dec, dlen);
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
	if (proc_cmdline_key_eq(key, "systemd.set_credential"))
		w->binary = false;
	else if (proc_cmdline_key_eq(key, "systemd.set_credential_binary"))
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
	/* proc_cmdline_parse(proc_cmdline_callback, c, 0): no PROC_CMDLINE_STRIP_RD_PREFIX, so
	 * the key stays "rd.systemd.set_credential", in the initrd too (:357@252.39, :361@254.26,
	 * :362@257.13) */
	if (w->rd)
		return cand_fate(pr, idx, FATE_DROPPED_UNSUPPORTED, "systemd reads credentials from the "
				 "command line without stripping rd., so no PID 1 imports this word, not even "
				 "the initrd's");
	if (w->binary && !pr->rel->cmdline_binary)
		return cand_fate(pr, idx, FATE_DROPPED_UNSUPPORTED, "systemd.set_credential_binary= exists only "
				 "from systemd 254, not %u", pr->version);
	if (!colon)
		return cand_fate(pr, idx, FATE_DROPPED_NO_SEPARATOR, "there is no ':' between name and value "
				 "(systemd: Credential assignment through kernel command line lacks ':' character)");
	return judge_named(pr, idx, w->value, (size_t) (colon - w->value), v, strlen(v), w->binary, NULL);
}

/* The words of [text, end): the whole of /proc/cmdline, the first line of SystemdOptions
 * (proc_cmdline.h). */
static int predict_cmdline_words(struct predictor *pr, const char *text, const char *end, const char *label,
				 const char *skip)
{
	const char *p = text;
	struct cmdline_word w = { .label = label };
	int r;

	for (;;) {
		r = proc_cmdline_next_word(&p, end, &w.word);
		if (r <= 0)
			return r;
		w.n++;
		w.value = NULL;
		if (cmdline_key(&w) > 0)
			r = cmdline_candidate(pr, &w, skip);
		secret_free(w.word, strlen(w.word) + (w.value ? 1 + strlen(w.value) : 0));
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
		else if (v[i].unusable && credential_name_valid(name, strlen(name)))
			/* import_credentials_qemu(): the name check first, then the entry's own files;
			 * a failure there is a warning and `continue` (src/core/import-creds.c:412-422@257.13) */
			r = cand_fate(pr, idx, FATE_DROPPED_ENTRY_SKIPPED, "systemd skipped the entry: %s", v[i].unusable);
		else
			r = judge_named(pr, idx, name, strlen(name), (const char *) v[i].data, v[i].len, false, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the whole replay --------------------------------------------------------------- */

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
		if (!efi_skip && !pr->rel->efi_systemd_options)
			efi_skip = "systemd 258 and later no longer read the SystemdOptions EFI variable (NEWS 258)";
		if (!efi_skip && env->efi_secure_boot)
			efi_skip = "Secure Boot is on, so systemd ignores the SystemdOptions EFI variable";
		r = predict_cmdline_words(pr, s->efi_options, s->efi_options + proc_cmdline_line_len(s->efi_options),
					  "EFI SystemdOptions", efi_skip);
	}
	if (r >= 0 && s->cmdline)
		r = predict_cmdline_words(pr, s->cmdline, s->cmdline + (pr->rel->cmdline_first_line_only ?
					  proc_cmdline_line_len(s->cmdline) : strlen(s->cmdline)), "kernel command line", whole);
	/* A preset @system dir still gets @initrd merged (v254+ merge_credentials_trusted()). */
	if (!initrd_skip && !(env->credentials_dir_preset && env->credentials_dir_is_system))
		initrd_skip = whole;
	if (import_env_initrd_pid1(env)) {
		/* the host's PID 1 merges @initrd with a budget of its own */
		p->budget_used = 0;
		memset(pr->used_by, 0, sizeof pr->used_by);
	}
	if (r >= 0)
		r = predict_files(pr, CRED_SOURCE_INITRD, s->initrd, s->n_initrd, initrd_skip,
				  !pr->rel->imports_initrd && !whole ? FATE_DROPPED_UNSUPPORTED : FATE_SOURCE_SKIPPED);
	return r;
}

/* The one sentence about a full store: "the credential store, a 1 MiB tmpfs, was full after
 * 256 pages: C256 and the 43 after it were dropped". */
static int store_full_sentence(struct predictor *pr)
{
	const struct cred_candidate *f;
	char store[64];

	if (!pr->first_full)
		return 0;
	f = cand_at(pr, pr->first_full - 1);
	store_text(pr, store, sizeof store);
	if (pr->full_by_inodes)
		pr->out->store_full = strprintf("the credential store, %s, was full after %zu files (nr_inodes=%zu): "
						"%s and the %zu after it were dropped", store, pr->max_files,
						pr->max_files + 1, f->name, pr->n_full - 1);
	else
		pr->out->store_full = strprintf("the credential store, %s, was full after %zu pages: %s and the %zu "
						"after it were dropped", store, pr->out->store_pages_used, f->name,
						pr->n_full - 1);
	return pr->out->store_full ? 0 : -ENOMEM;
}

/* After an initrd's import every imported string says which PID 1 wrote it: the initrd's
 * (fw_cfg, SMBIOS, command line) or the one after switch-root (@initrd, 254+). */
static int name_the_importer(struct predictor *pr, const struct import_env *env)
{
	int r = 0;

	if (!import_env_initrd_pid1(env))
		return 0;
	for (size_t i = 0; r == 0 && i < pr->out->n_cands; i++) {
		const struct cred_candidate *c = cand_at(pr, i);
		char *was;

		if (c->fate != FATE_IMPORTED && c->fate != FATE_IMPORTED_TRUNCATED)
			continue;
		was = c->detail ? strdup(c->detail) : strdup("");
		if (!was)
			return -ENOMEM;
		if (c->source == CRED_SOURCE_INITRD)
			r = cand_fate(pr, i, c->fate, "%s%smerged by systemd %u after switch-root, which found "
				      "$CREDENTIALS_DIRECTORY set by the initrd's PID 1 and imported nothing else itself",
				      was, *was ? "; " : "", pr->version);
		else
			r = cand_fate(pr, i, c->fate, "%s%simported by systemd %u in the initrd (PID 1 before "
				      "switch-root); the store and $CREDENTIALS_DIRECTORY passed over switch-root, and "
				      "PID 1 after it did not import again", was, *was ? "; " : "", pr->version);
		free(was);
	}
	return r;
}

int predict_import(const struct import_sources *sources, const struct import_env *env, struct prediction *out)
{
	struct predictor pr = {
		.version = systemd_release_effective(env->systemd_version),
		.rel = systemd_release(env->systemd_version),
		.out = out,
		.page_size = env->page_size ? env->page_size : 4096,
	};
	int r;

	/* Capacity only where it was observed (a mount point in mountinfo with size=/nr_inodes=):
	 * the root directory takes one inode. */
	if (env->store.observed && env->store.size_bytes)
		pr.max_pages = (size_t) (env->store.size_bytes / pr.page_size);
	if (env->store.observed && env->store.inodes)
		pr.max_files = env->store.inodes > 1 ? (size_t) env->store.inodes - 1 : 0;
	*out = (struct prediction) { .env = *env };
	r = import_gates(env, out);
	if (r >= 0)
		r = predict_run(&pr, sources, env);
	if (r >= 0)
		r = store_full_sentence(&pr);
	if (r >= 0)
		r = name_the_importer(&pr, env);
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
		if (c->imported != c->value)
			secret_free(c->imported, c->imported_len);
		secret_free(c->value, c->value_len);
		free(c->origin);
		free(c->name);
		free(c->detail);
	}
	free(p->cands);
	free(p->skip_reason);
	free(p->store_full);
	for (int s = 0; s < _CRED_SOURCE_MAX; s++)
		free(p->source_skip_reason[s]);
	*p = (struct prediction) {};
}
