/* smbios_view: everything `credscope smbios` shows about a root, loaded and judged once.
 *
 * Promise: smbios_view_load() reads ROOT/sys/firmware/dmi (entry point, DMI table,
 * entries/11-N/raw), parses all of it with smbios.h, cross-checks the two views, and judges
 * every OEM string by systemd's rules for the version (systemd/ primitives). The view
 * shows the entries (what systemd reads) when dmi-sysfs is there, else the table's type 11
 * structures. Secret handling: no value bytes are kept except inside the loaded buffers,
 * which smbios_view_free() clears; summaries and names never hold value bytes. `escaped` is
 * the whole string (value included) and is printed only with --show-values.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "smbios.h"

enum smbios_string_kind {
	SMBIOS_STRING_VENDOR,          /* no io.systemd.credential prefix */
	SMBIOS_STRING_TEXT,            /* io.systemd.credential: */
	SMBIOS_STRING_BINARY,          /* io.systemd.credential.binary: */
};

/* What systemd does with one OEM string. */
struct smbios_verdict {
	enum smbios_string_kind kind;
	const char *prefix;            /* the matched prefix, "" for vendor strings */
	char *name_escaped;            /* NULL for vendor strings and strings without '=' */
	bool value_known;
	size_t value_size;             /* decoded bytes systemd would write (after a page cut) */
	const char *token;             /* "valid", "truncated", "past-page", "no-separator",
	                                  "invalid-name", "bad-base64", "too-large", "duplicate",
	                                  "rejected", "not-a-credential" */
	char *summary;                 /* "3 bytes, valid", "invalid name: its name contains '/'" */
};

struct smbios_string_view {
	size_t index;                  /* 1-based, as dmidecode numbers strings */
	const struct smbios_string *string;
	char *escaped;                 /* the whole string, non-printable bytes as \t \n \xNN */
	struct smbios_verdict verdict;
};

struct smbios_struct_view {
	char *source;                  /* "entries/11-0/raw" or "tables/DMI" */
	size_t table_offset;           /* of the matching table structure; SIZE_MAX if none */
	struct smbios_structure s;     /* offsets relative to the entry (entries view) or table */
	struct smbios_string_view *strings;
	size_t n_strings;
};

struct smbios_view {
	unsigned systemd_version;      /* 0 = unknown */
	size_t page_size;
	bool dmi_present;              /* ROOT/sys/firmware/dmi exists */
	bool dmi_sysfs;                /* ROOT/sys/firmware/dmi/entries exists */
	bool ep_present, table_present;
	uint8_t *ep_buf;
	size_t ep_len;
	struct smbios_entry_point ep;
	uint8_t *dmi;
	size_t dmi_len;
	struct smbios_table table;
	struct raw_blob *entries;
	size_t n_entries;
	struct smbios_struct_view *structs;
	size_t n_structs;
	struct smbios_findings findings;
	char *error;                   /* non-NULL: exit 2, one sentence saying why */
};

/* Loads and judges. systemd_version 0 tries detection (sources_load()) and stays 0 when that
 * fails. Returns 0 (v->error may still be set: nothing to show, or dmi-sysfs missing) or
 * -ENOMEM. v must be freed with smbios_view_free() either way. */
int smbios_view_load(const char *root, unsigned systemd_version, struct smbios_view *v);
void smbios_view_free(struct smbios_view *v);

/* "_SM_", "_SM3_", "_DMI_" or "none". */
const char *smbios_view_anchor(const struct smbios_view *v);

/* Judges one string as systemd's parse_smbios_strings() would. entry_len: bytes of the entry
 * the string sits in (offsets in s are relative to it); seen/n_seen: names that earlier
 * strings already created (first wins). Fills out; returns 0 or -ENOMEM. */
int smbios_judge_string(const struct smbios_string *s, unsigned systemd_version, size_t page_size,
			bool header_rejected, char *const *seen, const size_t *seen_index, size_t n_seen,
			struct smbios_verdict *out);
void smbios_verdict_free(struct smbios_verdict *v);

/* Escapes bytes for display: printable ASCII as is, '\\' doubled, \t \n \r, others \xNN.
 * Not text_escape() (strutil.h) on purpose: `credscope smbios` prints whole OEM strings next
 * to what dmidecode shows, where C-style \t \n \r \\ read better than \x09 \x0a \x0d \x5c
 * (tests/integration/smbios-dmidecode.test undoes exactly this form to compare the two), and
 * nothing matches these names against a report, so they need not share the report's form. */
char *smbios_escape(const uint8_t *p, size_t n);

