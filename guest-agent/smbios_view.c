/* smbios_view: load, parse, cross-check and judge what a root shows of SMBIOS type 11.
 * See smbios_view.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "secret.h"
#include "smbios_view.h"
#include "sources.h"
#include "strutil.h"
#include "systemd/creds_name.h"
#include "systemd/base64.h"
#include "systemd/versions.h"

#define PREFIX_TEXT   "io.systemd.credential:"
#define PREFIX_BINARY "io.systemd.credential.binary:"

char *smbios_escape(const uint8_t *p, size_t n)
{
	char *out = malloc(n * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '\\')
			o += sprintf(o, "\\\\");
		else if (c == '\n')
			o += sprintf(o, "\\n");
		else if (c == '\t')
			o += sprintf(o, "\\t");
		else if (c == '\r')
			o += sprintf(o, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char) c;
	}
	*o = 0;
	return out;
}

void smbios_verdict_free(struct smbios_verdict *v)
{
	if (!v)
		return;
	free(v->name_escaped);
	free(v->summary);
	v->name_escaped = v->summary = NULL;
}

static int verdict_set(struct smbios_verdict *v, const char *token, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int verdict_set(struct smbios_verdict *v, const char *token, const char *fmt, ...)
{
	va_list ap;
	int r;

	v->token = token;
	free(v->summary);
	va_start(ap, fmt);
	r = vasprintf(&v->summary, fmt, ap);
	va_end(ap);
	if (r < 0) {
		v->summary = NULL;
		return -ENOMEM;
	}
	return 0;
}

static const char *base64_problem(int r)
{
	switch (r) {
	case -EPIPE:
		return "its length without whitespace is not a multiple of 4: padding is required";
	case -EINVAL:
		return "a character outside the alphabet, or misplaced padding";
	case -ENAMETOOLONG:
		return "data after the padding";
	default:
		return strerror(-r);
	}
}

/* Decoded size of a binary value as systemd `version` decodes it (0: as 257, and tell
 * whether 254 would refuse it: the URL-safe alphabet came in 255). Decoded bytes are
 * cleared at once. Returns 0, or unbase64's -EPIPE/-EINVAL/-ENAMETOOLONG/-ENOMEM. */
static int decoded_size(const char *value, size_t len, unsigned version, size_t *size, bool *refused_by_254)
{
	uint8_t *dec = NULL;
	size_t dec_len = 0;
	int r = systemd_unbase64(value, len, systemd_release_effective(version), &dec, &dec_len);

	if (r < 0)
		return r;
	secret_clear(dec, dec_len);
	free(dec);
	*size = dec_len;
	*refused_by_254 = false;
	if (version == 0) {
		dec = NULL;
		r = systemd_unbase64(value, len, 254, &dec, &dec_len);
		if (r == -ENOMEM)
			return r;
		if (r == 0)
			secret_clear(dec, dec_len);
		free(dec);
		*refused_by_254 = r < 0;
	}
	return 0;
}

static const char *who(unsigned version, char *buf, size_t n)
{
	if (version)
		snprintf(buf, n, "systemd %u", version);
	else
		snprintf(buf, n, "systemd");
	return buf;
}

/* Where systemd before 257 cuts the string: its first page_size bytes of the entry only.
 * Returns the visible length, or SIZE_MAX when the string starts past the page. */
static size_t visible_len(const struct smbios_string *s, unsigned version, size_t page_size)
{
	if (!version || !systemd_release(version)->smbios_first_page_only || !page_size)
		return s->len;
	if (s->offset >= page_size)
		return SIZE_MAX;
	return s->offset + s->len > page_size ? page_size - s->offset : s->len;
}

static bool name_seen(const char *name, char *const *seen, const size_t *seen_index, size_t n_seen, size_t *idx)
{
	for (size_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i], name) == 0) {
			*idx = seen_index[i];
			return true;
		}
	return false;
}

/* The value part: decode, size limit, duplicates, page cut. */
static int judge_value(const struct smbios_string *s, size_t vis, const char *value, size_t vlen,
		       unsigned version, char *const *seen, const size_t *seen_index, size_t n_seen,
		       struct smbios_verdict *v)
{
	bool refused_by_254 = false;
	char w[32];
	size_t dup;
	int r;

	v->value_size = vlen;
	if (v->kind == SMBIOS_STRING_BINARY) {
		r = decoded_size(value, vlen, version, &v->value_size, &refused_by_254);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return verdict_set(v, "bad-base64", "bad base64 (%s)%s: %s drops it", base64_problem(r),
					   vis < s->len ? " after the page cut" : "", who(version, w, sizeof(w)));
	}
	v->value_known = true;
	if (v->value_size > CRED_SIZE_MAX)
		return verdict_set(v, "too-large", "%zu bytes, over systemd's 1 MiB limit: dropped", v->value_size);
	if (name_seen(v->name_escaped, seen, seen_index, n_seen, &dup))
		return verdict_set(v, "duplicate", "%zu bytes, but string %zu already set this name: the first one wins",
				   v->value_size, dup);
	if (vis < s->len)
		return verdict_set(v, "truncated", "%zu bytes, truncated: %s reads only the first %zu bytes of the "
				   "entry, %zu of this string's %zu", v->value_size, who(version, w, sizeof(w)),
				   s->offset + vis, vis, s->len);
	return verdict_set(v, "valid", "%zu byte%s, valid%s", v->value_size, v->value_size == 1 ? "" : "s",
			   refused_by_254 ? " from systemd 255 on (URL-safe base64; 252 and 254 drop it)" : "");
}

int smbios_judge_string(const struct smbios_string *s, unsigned version, size_t page_size,
			bool header_rejected, char *const *seen, const size_t *seen_index, size_t n_seen,
			struct smbios_verdict *v)
{
	const char *p = (const char *) s->data, *eq, *problem;
	size_t plen, vis = visible_len(s, version, page_size);
	char w[32];

	*v = (struct smbios_verdict) { .kind = SMBIOS_STRING_VENDOR, .prefix = "" };
	if (s->len >= strlen(PREFIX_BINARY) && memcmp(p, PREFIX_BINARY, strlen(PREFIX_BINARY)) == 0)
		v->kind = SMBIOS_STRING_BINARY, v->prefix = PREFIX_BINARY;
	else if (s->len >= strlen(PREFIX_TEXT) && memcmp(p, PREFIX_TEXT, strlen(PREFIX_TEXT)) == 0)
		v->kind = SMBIOS_STRING_TEXT, v->prefix = PREFIX_TEXT;
	else
		return verdict_set(v, "not-a-credential", "not a credential: systemd ignores it");
	plen = strlen(v->prefix);
	eq = memchr(p + plen, '=', s->len - plen);
	if (eq && !(v->name_escaped = smbios_escape((const uint8_t *) p + plen, (size_t) (eq - p) - plen)))
		return -ENOMEM;
	if (header_rejected)
		return verdict_set(v, "rejected", "systemd rejects this entry's header and imports none of its strings");
	if (vis == SIZE_MAX)
		return verdict_set(v, "past-page", "%s never reads it: it starts at byte %zu, past the first %zu",
				   who(version, w, sizeof(w)), s->offset, page_size);
	if (vis < plen)
		return verdict_set(v, "not-a-credential", "%s sees only %zu bytes of it (first page): no credential prefix",
				   who(version, w, sizeof(w)), vis);
	if (!eq || (size_t) (eq - p) >= vis)
		return verdict_set(v, "no-separator", "no '=' after the name%s: systemd ignores it",
				   eq ? " within the first page" : "");
	problem = credential_name_problem(p + plen, (size_t) (eq - p) - plen);
	if (problem)
		return verdict_set(v, "invalid-name", "invalid name: %s", problem);
	return judge_value(s, vis, eq + 1, vis - (size_t) (eq + 1 - p), version, seen, seen_index, n_seen, v);
}

/* ---- loading ------------------------------------------------------------------------- */

static bool root_exists(const char *root, const char *rel)
{
	char *p = root_join(root, rel);
	struct stat st;
	bool e = p && stat(p, &st) == 0;

	free(p);
	return e;
}

/* Reads ROOT/rel if it exists; a read error other than ENOENT becomes v->error. */
static int read_optional(const char *root, const char *rel, uint8_t **buf, size_t *len, bool *present,
			 struct smbios_view *v)
{
	char *p = root_join(root, rel);
	int r;

	if (!p)
		return -ENOMEM;
	r = smbios_read_file(p, buf, len);
	*present = r == 0;
	if (r < 0 && r != -ENOENT && r != -ENOMEM && !v->error &&
	    asprintf(&v->error, "cannot read %s: %s%s", p, file_error_text(r),
		     r == -EACCES ? " (the kernel makes it readable by root only: run as root)" : "") < 0)
		v->error = NULL, r = -ENOMEM;
	free(p);
	return r == -ENOMEM ? r : 0;
}

static unsigned detect_systemd_version(const char *root)
{
	struct import_sources src;
	struct import_env env;

	/* Only the version matters here: a source that cannot be read is reported by the
	 * commands that judge it (list, verify), and SMBIOS reads are reported by this view. */
	if (sources_load(root, 0, &env, &src, NULL) < 0)
		return 0;
	sources_free(&src);
	return env.systemd_version;
}

/* Why there is nothing (or not enough) to show. Only the first reason is kept. */
static int explain_missing(const char *root, struct smbios_view *v)
{
	char *p;
	int r = 0;

	if (v->error)
		return 0;   /* a read error already says what went wrong */
	p = root_join(root, "/sys/firmware/dmi");
	if (!p)
		return -ENOMEM;
	if (!v->dmi_present)
		r = asprintf(&v->error, "%s does not exist: this machine has no SMBIOS (e.g. QEMU -M microvm) or the "
			     "kernel lacks CONFIG_DMI; systemd can get credentials only from fw_cfg or the kernel "
			     "command line here", p);
	else if (!v->dmi_sysfs && !v->ep_present && !v->table_present)
		r = asprintf(&v->error, "%s has neither tables/ nor entries/: no SMBIOS data to show", p);
	else if (!v->dmi_sysfs)
		r = asprintf(&v->error, "%s/entries does not exist: dmi-sysfs is not loaded (CONFIG_DMI_SYSFS), so "
			     "systemd imports no SMBIOS credentials; the strings shown come from tables/DMI", p);
	free(p);
	if (r < 0) {
		v->error = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int load_files(const char *root, struct smbios_view *v)
{
	int r;

	v->dmi_present = root_exists(root, "/sys/firmware/dmi");
	r = read_optional(root, "/sys/firmware/dmi/tables/smbios_entry_point", &v->ep_buf, &v->ep_len,
			  &v->ep_present, v);
	if (r >= 0)
		r = read_optional(root, "/sys/firmware/dmi/tables/DMI", &v->dmi, &v->dmi_len, &v->table_present, v);
	if (r < 0)
		return r;
	r = smbios_read_entries(root, &v->entries, &v->n_entries, &v->dmi_sysfs, v->error ? NULL : &v->error);
	if (r == -ENOMEM)
		return r;
	return explain_missing(root, v);
}

/* Entry point and table, with findings; a table without a usable entry point is walked as
 * 3.0 would be (to type 127 or the end). */
static int parse_tables(struct smbios_view *v)
{
	struct smbios_entry_point walk;
	int r = 0;

	if (v->ep_present) {
		r = smbios_parse_entry_point(v->ep_buf, v->ep_len, &v->ep, &v->findings);
		if (r == -ENOMEM)
			return r;
	}
	if (v->ep_present != v->table_present) {
		r = smbios_finding_add(&v->findings, SMBIOS_FINDING_SOURCE, v->ep_present ? "tables/DMI" :
				       "tables/smbios_entry_point", 0, "%s exists without %s",
				       v->ep_present ? "tables/smbios_entry_point" : "tables/DMI",
				       v->ep_present ? "tables/DMI" : "tables/smbios_entry_point");
		if (r < 0)
			return r;
	}
	if (!v->table_present)
		return 0;
	walk = v->ep;
	if (!v->ep_present || v->ep.kind == SMBIOS_EP_NONE)
		walk.kind = SMBIOS_EP_30;
	return smbios_parse_table(v->dmi, v->dmi_len, &walk, &v->table, &v->findings);
}

/* Names that earlier strings created, in systemd's order (first writer wins). */
struct seen_names {
	char **names;
	size_t *index;
	size_t n;
};

static int seen_add(struct seen_names *sn, const char *name, size_t index)
{
	char **nn = realloc(sn->names, (sn->n + 1) * sizeof(*nn));
	size_t *ni;

	if (!nn)
		return -ENOMEM;
	sn->names = nn;
	ni = realloc(sn->index, (sn->n + 1) * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	sn->index = ni;
	if (!(nn[sn->n] = strdup(name)))
		return -ENOMEM;
	ni[sn->n++] = index;
	return 0;
}

static void seen_free(struct seen_names *sn)
{
	for (size_t i = 0; i < sn->n; i++)
		free(sn->names[i]);
	free(sn->names);
	free(sn->index);
}

static int judge_struct(struct smbios_struct_view *sv, const struct smbios_view *v, bool rejected,
			size_t page_size, struct seen_names *sn)
{
	sv->strings = calloc(sv->s.n_strings ? sv->s.n_strings : 1, sizeof(*sv->strings));
	if (!sv->strings)
		return -ENOMEM;
	sv->n_strings = sv->s.n_strings;
	for (size_t k = 0; k < sv->n_strings; k++) {
		struct smbios_string_view *x = &sv->strings[k];
		int r;

		x->index = k + 1;
		x->string = &sv->s.strings[k];
		if (!(x->escaped = smbios_escape(x->string->data, x->string->len)))
			return -ENOMEM;
		r = smbios_judge_string(x->string, v->systemd_version, page_size, rejected, sn->names, sn->index,
					sn->n, &x->verdict);
		if (r < 0)
			return r;
		if (strcmp(x->verdict.token, "valid") == 0 || strcmp(x->verdict.token, "truncated") == 0)
			r = seen_add(sn, x->verdict.name_escaped, x->index);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The i-th type 11 structure of the table (dmi-sysfs numbers instances in table order). */
static const struct smbios_structure *table_type11(const struct smbios_table *t, size_t i)
{
	for (size_t k = 0; k < t->n_structs; k++)
		if (t->structs[k].type == 11 && i-- == 0)
			return &t->structs[k];
	return NULL;
}

static int add_struct_view(struct smbios_view *v, struct smbios_struct_view **out)
{
	struct smbios_struct_view *nv = realloc(v->structs, (v->n_structs + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	v->structs = nv;
	*out = &nv[v->n_structs++];
	**out = (struct smbios_struct_view) { .table_offset = SIZE_MAX };
	return 0;
}

/* The entries view: what systemd reads, entry by entry. */
static int build_from_entries(struct smbios_view *v, struct seen_names *sn)
{
	for (size_t i = 0; i < v->n_entries; i++) {
		const struct raw_blob *e = &v->entries[i];
		const struct smbios_structure *t = table_type11(&v->table, i);
		struct smbios_struct_view *sv;
		bool rejected = e->len < 5 || e->data[0] != 11 || e->data[1] != 5;
		int r = add_struct_view(v, &sv);

		if (r < 0 || asprintf(&sv->source, "entries/%s/raw", e->name) < 0)
			return -ENOMEM;
		if (t)
			sv->table_offset = t->offset;
		r = smbios_parse_structure(e->data, e->len, 0, true, sv->source, &sv->s, &v->findings);
		if (r == -ENOMEM)
			return r;
		r = judge_struct(sv, v, rejected, v->page_size, sn);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The table view, when dmi-sysfs is missing: nothing is imported, but the strings show what
 * the host sent. Parsed again on its own slice so that findings are not repeated. */
static int build_from_table(struct smbios_view *v, struct seen_names *sn)
{
	for (size_t i = 0; i < v->table.n_structs; i++) {
		const struct smbios_structure *t = &v->table.structs[i];
		struct smbios_struct_view *sv;
		int r;

		if (t->type != 11)
			continue;
		r = add_struct_view(v, &sv);
		if (r < 0 || !(sv->source = strdup("tables/DMI")))
			return -ENOMEM;
		sv->table_offset = t->offset;
		r = smbios_parse_structure(t->bytes, t->size, t->offset, false, sv->source, &sv->s, NULL);
		if (r == -ENOMEM)
			return r;
		r = judge_struct(sv, v, false, 0, sn);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether entry i is byte-identical to the i-th type 11 structure of the table. */
static bool entry_matches_table(const struct smbios_view *v, size_t i, const struct smbios_structure **t)
{
	*t = table_type11(&v->table, i);
	return *t && (*t)->size == v->entries[i].len && memcmp((*t)->bytes, v->entries[i].data, (*t)->size) == 0;
}

/* A table structure identical to its entry would repeat the entry's findings (wrapped count,
 * empty strings): keep them once, on the entry, which is what systemd reads. */
static void drop_repeated_findings(struct smbios_view *v)
{
	size_t k = 0;

	for (size_t i = 0; i < v->findings.n; i++) {
		struct smbios_finding *x = &v->findings.v[i];
		bool repeated = false;

		for (size_t e = 0; e < v->n_entries && strcmp(x->where, "tables/DMI") == 0 && !repeated; e++) {
			const struct smbios_structure *t;

			repeated = entry_matches_table(v, e, &t) && x->kind != SMBIOS_FINDING_TABLE &&
				   x->offset >= t->offset && x->offset < t->offset + t->size;
		}
		if (repeated) {
			free(x->where);
			free(x->message);
		} else
			v->findings.v[k++] = *x;
	}
	v->findings.n = k;
}

int smbios_view_load(const char *root, unsigned systemd_version, struct smbios_view *v)
{
	struct seen_names sn = { 0 };
	long ps = sysconf(_SC_PAGESIZE);
	int r;

	*v = (struct smbios_view) { .systemd_version = systemd_version };
	v->page_size = strcmp(root, "/") == 0 && ps > 0 ? (size_t) ps : 4096;
	r = load_files(root, v);
	if (r >= 0 && !v->systemd_version && (v->dmi_sysfs || v->table_present))
		v->systemd_version = detect_systemd_version(root);
	if (r >= 0)
		r = parse_tables(v);
	if (r >= 0 && v->dmi_sysfs)
		r = build_from_entries(v, &sn);
	else if (r >= 0)
		r = build_from_table(v, &sn);
	if (r >= 0 && v->dmi_sysfs && v->table_present)
		r = smbios_cross_check(v->entries, v->n_entries, &v->table, &v->findings);
	if (r >= 0 && v->dmi_sysfs && !v->table_present)
		r = smbios_finding_add(&v->findings, SMBIOS_FINDING_SOURCE, "tables/DMI", 0,
				       "tables/DMI is missing: the entries cannot be cross-checked against the table");
	if (r >= 0 && v->dmi_sysfs && v->table_present)
		drop_repeated_findings(v);
	if (r >= 0)
		r = smbios_check_page_size(v->entries, v->n_entries, v->page_size, v->systemd_version, &v->findings);
	seen_free(&sn);
	return r < 0 ? r : 0;
}

void smbios_view_free(struct smbios_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_structs; i++) {
		struct smbios_struct_view *sv = &v->structs[i];

		for (size_t k = 0; k < sv->n_strings; k++) {
			if (sv->strings[k].escaped)
				secret_clear(sv->strings[k].escaped, strlen(sv->strings[k].escaped));
			free(sv->strings[k].escaped);
			smbios_verdict_free(&sv->strings[k].verdict);
		}
		free(sv->strings);
		free(sv->source);
		smbios_structure_free(&sv->s);
	}
	free(v->structs);
	raw_blobs_free(v->entries, v->n_entries);
	smbios_table_free(&v->table);
	if (v->dmi)
		secret_clear(v->dmi, v->dmi_len);
	free(v->dmi);
	free(v->ep_buf);
	smbios_findings_free(&v->findings);
	free(v->error);
	*v = (struct smbios_view) { 0 };
}

const char *smbios_view_anchor(const struct smbios_view *v)
{
	switch (v->ep.kind) {
	case SMBIOS_EP_21: return "_SM_";
	case SMBIOS_EP_30: return "_SM3_";
	case SMBIOS_EP_LEGACY: return "_DMI_";
	default: return "none";
	}
}
