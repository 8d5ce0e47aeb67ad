/* smbios: reading dmi-sysfs entries, and parsing SMBIOS structures and the structure table
 * as the kernel's dmi_decode_table() walks it (drivers/firmware/dmi_scan.c). The entry point
 * is parsed in smbios_entry_point.c. See smbios.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "secret.h"
#include "smbios.h"
#include "strutil.h"
#include "systemd/versions.h"

/* Upper bound for one entry: systemd reads at most 8 + 1 MiB; the kernel's table is far
 * smaller in practice. Anything beyond 16 MiB is not SMBIOS. */
#define SMBIOS_READ_MAX (16u * 1024u * 1024u)

int smbios_read_file(const char *path, uint8_t **out, size_t *out_len)
{
	return file_read_bounded(AT_FDCWD, path, SMBIOS_READ_MAX, out, out_len);
}

void raw_blobs_free(struct raw_blob *b, size_t n)
{
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		secret_free(b[i].data, b[i].len);
		free(b[i].name);
		free(b[i].unusable);
	}
	free(b);
}

static int entries_append(struct raw_blob **v, size_t *n, unsigned idx, uint8_t *data, size_t len)
{
	struct raw_blob *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = (struct raw_blob) {};
	if (asprintf(&nv[*n].name, "11-%u", idx) < 0)
		return -ENOMEM;
	nv[*n].data = data;
	nv[*n].len = len;
	(*n)++;
	return 0;
}

int smbios_read_entries(const char *root, struct raw_blob **out, size_t *n_out, bool *dmi_sysfs_present,
			char **error)
{
	struct raw_blob *v = NULL;
	size_t n = 0;
	char *dir;
	struct stat st;
	int r = 0;

	dir = root_join(root, "/sys/firmware/dmi/entries");
	if (!dir)
		return -ENOMEM;
	*dmi_sysfs_present = stat(dir, &st) == 0;
	/* Same scan as systemd: 11-0 upward, first ENOENT ends it, no look past gaps. */
	for (unsigned i = 0; i < UINT_MAX; i++) {
		uint8_t *data;
		size_t len;
		char *path;

		if (asprintf(&path, "%s/11-%u/raw", dir, i) < 0) {
			r = -ENOMEM;
			break;
		}
		r = smbios_read_file(path, &data, &len);
		if (r == -ENOENT) {
			free(path);
			r = 0;
			break;
		}
		if (r < 0) {
			if (error && r != -ENOMEM)
				*error = strprintf("cannot read %s: %s", path, file_error_text(r));
			free(path);
			break;
		}
		free(path);
		r = entries_append(&v, &n, i, data, len);
		if (r < 0) {
			secret_free(data, len);
			break;
		}
	}
	free(dir);
	if (r < 0) {
		raw_blobs_free(v, n);
		return r;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* Room for element n of an array that grows by doubling (capacity is implied by n: a
 * reallocation happens only when n is 0 or a power of two). Returns 0 or -ENOMEM. */
static int grow(void **v, size_t n, size_t size)
{
	void *nv;

	if (n >= 4 && (n & (n - 1)) != 0)
		return 0;
	nv = realloc(*v, (n < 4 ? 4 : n * 2) * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

/* ---- findings ------------------------------------------------------------------------ */

static const char *const finding_kind_names[_SMBIOS_FINDING_MAX] = {
	[SMBIOS_FINDING_SHORT] = "short-structure",
	[SMBIOS_FINDING_BAD_LENGTH] = "bad-length",
	[SMBIOS_FINDING_NO_DOUBLE_NUL] = "no-double-nul",
	[SMBIOS_FINDING_EMPTY_STRING] = "empty-string",
	[SMBIOS_FINDING_AFTER_END] = "bytes-after-end",
	[SMBIOS_FINDING_COUNT_WRAPPED] = "count-wrapped",
	[SMBIOS_FINDING_COUNT_MISMATCH] = "count-mismatch",
	[SMBIOS_FINDING_SYSTEMD_REJECTS] = "systemd-rejects",
	[SMBIOS_FINDING_ENTRY_POINT] = "entry-point",
	[SMBIOS_FINDING_TABLE] = "table",
	[SMBIOS_FINDING_MISMATCH] = "entry-table-mismatch",
	[SMBIOS_FINDING_PAST_PAGE] = "entry-past-page",
	[SMBIOS_FINDING_SOURCE] = "source-missing",
};

const char *smbios_finding_kind_name(enum smbios_finding_kind k)
{
	return (unsigned) k < _SMBIOS_FINDING_MAX ? finding_kind_names[k] : "unknown";
}

void smbios_findings_free(struct smbios_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].where);
		free(f->v[i].message);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

int smbios_finding_add(struct smbios_findings *f, enum smbios_finding_kind kind, const char *where,
		       size_t offset, const char *fmt, ...)
{
	struct smbios_finding *nv;
	char *msg, *w;
	va_list ap;
	int r;

	if (!f)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	w = strdup(where);
	if (!w || grow((void **) &f->v, f->n, sizeof(*f->v)) < 0) {
		free(msg);
		free(w);
		return -ENOMEM;
	}
	nv = f->v;
	nv[f->n++] = (struct smbios_finding) { .kind = kind, .where = w, .offset = offset, .message = msg };
	return 0;
}

/* ---- structures ---------------------------------------------------------------------- */

void smbios_structure_free(struct smbios_structure *s)
{
	if (!s)
		return;
	free(s->strings);
	s->strings = NULL;
	s->n_strings = 0;
}

/* systemd's checks on an 11-N/raw header (import_credentials_smbios(), reference §3.1). */
static int check_systemd_header(const uint8_t *buf, size_t len, size_t base, const char *where,
				struct smbios_findings *f)
{
	if (len < 5)
		return smbios_finding_add(f, SMBIOS_FINDING_SYSTEMD_REJECTS, where, base,
				   "the entry is %zu bytes, systemd needs at least 5 (\"DMI field header too short\")", len);
	if (buf[0] != 11)
		return smbios_finding_add(f, SMBIOS_FINDING_SYSTEMD_REJECTS, where, base,
				   "type is %u, systemd requires 11 (\"Invalid DMI field header\")", buf[0]);
	if (buf[1] != 5)
		return smbios_finding_add(f, SMBIOS_FINDING_SYSTEMD_REJECTS, where, base + 1,
				   "formatted length is %u, systemd requires 5 (\"Invalid DMI field header\")", buf[1]);
	return 0;
}

static int strings_append(struct smbios_structure *s, const uint8_t *p, size_t len, size_t offset,
			  bool terminated, bool after_end)
{
	if (grow((void **) &s->strings, s->n_strings, sizeof(*s->strings)) < 0)
		return -ENOMEM;
	s->strings[s->n_strings++] = (struct smbios_string) {
		.data = p, .len = len, .offset = offset, .terminated = terminated, .after_end = after_end,
	};
	return 0;
}

/* Splits buf[from, to) at NULs into strings, as systemd's parse_smbios_strings() does: empty
 * strings are skipped (and reported when they sit inside a DSP0134 string-set). */
static int split_strings(struct smbios_structure *s, const uint8_t *buf, size_t from, size_t to,
			 size_t buflen, bool after_end, const char *where, struct smbios_findings *f)
{
	size_t pos = from;
	int r;

	while (pos < to) {
		const uint8_t *nul = memchr(buf + pos, 0, to - pos);
		size_t end = nul ? (size_t) (nul - buf) : to;

		if (end == pos) {
			if (!after_end) {
				r = smbios_finding_add(f, SMBIOS_FINDING_EMPTY_STRING, where, s->offset + pos,
						"empty string inside the string-set (systemd skips it, dmidecode counts it)");
				if (r < 0)
					return r;
			}
		} else {
			r = strings_append(s, buf + pos, end - pos, s->offset + pos, end < buflen, after_end);
			if (r < 0)
				return r;
		}
		pos = end + 1;
	}
	return 0;
}

static int check_count(const struct smbios_structure *s, const char *where, struct smbios_findings *f)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_strings; i++)
		n += !s->strings[i].after_end;
	if (!s->has_count || s->count == n)
		return 0;
	if (n > 255 && s->count == n % 256)
		return smbios_finding_add(f, SMBIOS_FINDING_COUNT_WRAPPED, where, s->offset + 4,
				   "count byte is %u but the structure holds %zu strings: the producer wrapped it "
				   "(%zu mod 256, as QEMU does); systemd ignores the count, dmidecode shows only %u",
				   s->count, n, n, s->count);
	return smbios_finding_add(f, SMBIOS_FINDING_COUNT_MISMATCH, where, s->offset + 4,
			   "count byte is %u but the structure holds %zu strings; systemd ignores the count", s->count, n);
}

/* Finds the double NUL ending the string-set that starts at `from`; returns its position
 * (the first of the two NULs) or len when there is none. */
static size_t find_double_nul(const uint8_t *buf, size_t len, size_t from)
{
	for (size_t p = from; p + 1 < len; p++)
		if (buf[p] == 0 && buf[p + 1] == 0)
			return p;
	return len;
}

static int parse_type11_strings(const uint8_t *buf, size_t len, size_t set_end, bool entry,
				const char *where, struct smbios_structure *s, struct smbios_findings *f)
{
	int r;

	s->has_count = s->length >= 5;
	s->count = s->has_count ? buf[4] : 0;
	r = split_strings(s, buf, s->length, set_end, len, false, where, f);
	if (r >= 0 && entry && s->size < len) {
		r = smbios_finding_add(f, SMBIOS_FINDING_AFTER_END, where, s->offset + s->size,
				"%zu bytes after the double NUL: systemd parses them as further strings, dmidecode ignores them",
				len - s->size);
		if (r >= 0)
			r = split_strings(s, buf, s->size, len, len, true, where, f);
	}
	if (r >= 0)
		r = check_count(s, where, f);
	return r;
}

int smbios_parse_structure(const uint8_t *buf, size_t len, size_t base, bool entry,
			   const char *where, struct smbios_structure *out, struct smbios_findings *f)
{
	size_t set_end;
	int r;

	*out = (struct smbios_structure) { .offset = base, .bytes = buf, .size = len };
	if (entry && (r = check_systemd_header(buf, len, base, where, f)) < 0)
		return r;
	if (len < 4) {
		r = smbios_finding_add(f, SMBIOS_FINDING_SHORT, where, base,
				"only %zu bytes left, a structure header needs 4", len);
		return r < 0 ? r : -EBADMSG;
	}
	out->type = buf[0];
	out->length = buf[1];
	out->handle = (uint16_t) (buf[2] | buf[3] << 8);
	if (out->length < 4) {
		r = smbios_finding_add(f, SMBIOS_FINDING_BAD_LENGTH, where, base + 1,
				"formatted length %u is shorter than the 4-byte header", out->length);
		return r < 0 ? r : -EBADMSG;
	}
	if (out->length > len) {
		r = smbios_finding_add(f, SMBIOS_FINDING_SHORT, where, base + 1,
				"formatted length %u runs past the end of the buffer (%zu bytes left)", out->length, len);
		return r < 0 ? r : -EBADMSG;
	}
	set_end = find_double_nul(buf, len, out->length);
	out->terminated = set_end < len;
	out->size = out->terminated ? set_end + 2 : len;
	if (!out->terminated) {
		r = smbios_finding_add(f, SMBIOS_FINDING_NO_DOUBLE_NUL, where, base + len,
				"the string-set starting at byte %zu has no double NUL before the end of the buffer",
				base + out->length);
		if (r < 0)
			return r;
	}
	if (out->type == 11) {
		r = parse_type11_strings(buf, len, set_end, entry, where, out, f);
		if (r < 0) {
			smbios_structure_free(out);
			return r;
		}
	}
	return out->terminated ? 0 : -EBADMSG;
}

/* ---- table --------------------------------------------------------------------------- */

#define TABLE_WHERE "tables/DMI"

void smbios_table_free(struct smbios_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_structs; i++)
		smbios_structure_free(&t->structs[i]);
	free(t->structs);
	t->structs = NULL;
	t->n_structs = 0;
}

static int table_append(struct smbios_table *t, const struct smbios_structure *s)
{
	if (grow((void **) &t->structs, t->n_structs, sizeof(*t->structs)) < 0)
		return -ENOMEM;
	t->structs[t->n_structs++] = *s;
	return 0;
}

static int table_walk_end(const struct smbios_table *t, size_t len, const struct smbios_entry_point *ep,
			  struct smbios_findings *f)
{
	int r = 0;

	if (ep->kind != SMBIOS_EP_30 && t->n_structs < ep->n_structures)
		r = smbios_finding_add(f, SMBIOS_FINDING_TABLE, TABLE_WHERE, t->walked,
				"the table ends after %zu structures, the entry point announces %u",
				t->n_structs, ep->n_structures);
	if (r >= 0 && ep->kind == SMBIOS_EP_30 && !t->end_of_table)
		r = smbios_finding_add(f, SMBIOS_FINDING_TABLE, TABLE_WHERE, t->walked,
				"no end-of-table (type 127) structure before the end of the %zu-byte table", len);
	/* The kernel trims tables/DMI to the walked length: more bytes mean another producer. */
	if (r >= 0 && t->walked < len)
		r = smbios_finding_add(f, SMBIOS_FINDING_TABLE, TABLE_WHERE, t->walked,
				"%zu bytes follow the last structure the walk reached", len - t->walked);
	return r;
}

int smbios_parse_table(const uint8_t *buf, size_t len, const struct smbios_entry_point *ep,
		       struct smbios_table *out, struct smbios_findings *f)
{
	/* 3.0 has no structure count: the walk ends at type 127 (kernel dmi_decode_table()). */
	size_t num = ep->kind == SMBIOS_EP_30 ? 0 : ep->n_structures;
	size_t pos = 0;
	int r = 0;

	*out = (struct smbios_table) { 0 };
	while ((!num || out->n_structs < num) && pos < len) {
		struct smbios_structure s;

		r = smbios_parse_structure(buf + pos, len - pos, pos, false, TABLE_WHERE, &s, f);
		if (r == -ENOMEM)
			break;
		if (r == -EBADMSG && s.length < 4) {
			r = 0;
			break;     /* not even a header: nothing to record */
		}
		if (table_append(out, &s) < 0) {
			smbios_structure_free(&s);
			r = -ENOMEM;
			break;
		}
		pos += s.size;
		if (r == -EBADMSG) {
			r = 0;
			break;     /* cannot be delimited: the rest is not walkable */
		}
		if (s.type == 127)
			out->end_of_table = true;
		if (s.type == 127 && !num)
			break;
	}
	out->walked = pos;
	if (r == 0)
		r = table_walk_end(out, len, ep, f);
	if (r < 0)
		smbios_table_free(out);
	return r;
}

/* ---- cross-checks -------------------------------------------------------------------- */

static size_t first_difference(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

static int compare_entry(const struct raw_blob *e, const struct smbios_structure *s, struct smbios_findings *f)
{
	char where[64];
	size_t d = first_difference(e->data, e->len, s->bytes, s->size);

	if (e->len == s->size && d == e->len)
		return 0;
	snprintf(where, sizeof(where), "entries/%s/raw", e->name);
	if (e->len != s->size)
		return smbios_finding_add(f, SMBIOS_FINDING_MISMATCH, where, d,
				   "%s is %zu bytes, the table's type 11 structure at byte %zu (handle 0x%04x) is %zu; "
				   "first difference at byte %zu", e->name, e->len, s->offset, s->handle, s->size, d);
	return smbios_finding_add(f, SMBIOS_FINDING_MISMATCH, where, d,
			   "%s differs from the table's type 11 structure at byte %zu (handle 0x%04x) "
			   "from byte %zu on", e->name, s->offset, s->handle, d);
}

int smbios_cross_check(const struct raw_blob *entries, size_t n_entries, const struct smbios_table *t,
		       struct smbios_findings *f)
{
	size_t k = 0, n_t11 = 0, before;
	char where[64];
	int r = 0;

	if (!f)
		return -EINVAL;
	before = f->n;
	for (size_t i = 0; i < t->n_structs && r >= 0; i++) {
		const struct smbios_structure *s = &t->structs[i];

		if (s->type != 11)
			continue;
		n_t11++;
		if (k < n_entries)
			r = compare_entry(&entries[k++], s, f);
		else
			r = smbios_finding_add(f, SMBIOS_FINDING_MISMATCH, TABLE_WHERE, s->offset,
					"the type 11 structure at byte %zu (handle 0x%04x) has no entries/11-%zu/raw",
					s->offset, s->handle, n_t11 - 1);
	}
	for (; k < n_entries && r >= 0; k++) {
		snprintf(where, sizeof(where), "entries/%s/raw", entries[k].name);
		r = smbios_finding_add(f, SMBIOS_FINDING_MISMATCH, where, 0,
				"%s has no counterpart: the table holds %zu type 11 structures", entries[k].name, n_t11);
	}
	return r < 0 ? r : (int) (f->n - before);
}

int smbios_check_page_size(const struct raw_blob *entries, size_t n_entries, size_t page_size,
			   unsigned systemd_version, struct smbios_findings *f)
{
	char where[64], who[32];
	int r, n = 0;

	/* An unknown version (0) is warned about: the entry may meet a one-page reader. */
	if ((systemd_version && !systemd_release(systemd_version)->smbios_first_page_only) || page_size == 0)
		return 0;
	if (systemd_version > 0)
		snprintf(who, sizeof(who), "systemd %u", systemd_version);
	else
		snprintf(who, sizeof(who), "systemd before 257");
	for (size_t i = 0; i < n_entries; i++) {
		if (entries[i].len <= page_size)
			continue;
		snprintf(where, sizeof(where), "entries/%s/raw", entries[i].name);
		r = smbios_finding_add(f, SMBIOS_FINDING_PAST_PAGE, where, page_size,
				"%s is %zu bytes and %s reads only the first %zu: strings past byte %zu are cut or lost",
				entries[i].name, entries[i].len, who, page_size, page_size);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}
