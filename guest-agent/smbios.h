/* smbios: SMBIOS as a Linux guest sees it, read and parsed strictly.
 *
 * Promise: smbios_read_entries() reads /sys/firmware/dmi/entries/11-N/raw exactly as
 * systemd's PID 1 scans them (N = 0 upward, stop at the first missing one, each read to
 * EOF). The parsers below are pure functions over bytes: they never read past a buffer,
 * and every malformed input becomes a finding with its byte offset, never a crash.
 * Layouts: shared/reference/systemd-credentials.md §3.1 and §7.
 *
 * Secret handling: OEM strings may hold credential values. Parsed strings point into the
 * caller's buffer (no copies); findings never contain string bytes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "systemd/import_creds.h"

/* ---- parsed views ------------------------------------------------------------------
 * Offsets are always relative to the buffer that was parsed: the table (tables/DMI), one
 * entry (entries/11-N/raw) or the entry point file. Pointers point into that buffer, which
 * must outlive the parsed structs. */

/* One OEM string of a type 11 structure, as systemd reads it: bytes up to a NUL. */
struct smbios_string {
	const uint8_t *data;
	size_t len;                /* bytes, without the NUL */
	size_t offset;             /* of its first byte */
	bool terminated;           /* false: cut by the end of the buffer (no NUL) */
	bool after_end;            /* lies after the structure's double NUL: systemd parses it,
	                              dmidecode does not (only in entries, never in the table) */
};

/* One structure: header (type, length, handle), formatted area, string-set, double NUL. */
struct smbios_structure {
	size_t offset;             /* of the header */
	size_t size;               /* header to double NUL inclusive, or to the end of the buffer
	                              when malformed: what dmi-sysfs hands out as raw */
	const uint8_t *bytes;      /* size bytes */
	uint8_t type;
	uint8_t length;            /* formatted area, as in the header */
	uint16_t handle;
	bool terminated;           /* the string-set ends in a double NUL */
	/* type 11 only (n_strings 0 otherwise): */
	bool has_count;            /* length >= 5, so byte 04h is the count */
	uint8_t count;
	struct smbios_string *strings;  /* every non-empty string, systemd's order */
	size_t n_strings;
};

enum smbios_ep_kind {
	SMBIOS_EP_NONE,            /* no anchor at byte 0 */
	SMBIOS_EP_21,              /* "_SM_" with its "_DMI_" intermediate at 10h */
	SMBIOS_EP_LEGACY,          /* "_DMI_" alone (15 bytes) */
	SMBIOS_EP_30,              /* "_SM3_" (64-bit) */
};

struct smbios_entry_point {
	enum smbios_ep_kind kind;
	bool valid;                /* anchors, lengths and checksums as the kernel requires */
	uint8_t ep_length;         /* the length byte (2.1: 05h, 3.0: 06h; legacy: 15) */
	uint8_t major, minor, docrev;
	uint64_t table_address;
	uint32_t table_length;     /* 2.x: exact length; 3.0: maximum size */
	uint16_t n_structures;     /* 2.x; 0 for 3.0 (the walk ends at type 127) */
};

struct smbios_table {
	struct smbios_structure *structs;
	size_t n_structs;
	size_t walked;             /* bytes covered by the walk */
	bool end_of_table;         /* a type 127 structure was reached */
};

enum smbios_finding_kind {
	SMBIOS_FINDING_SHORT,          /* header or formatted area runs past the buffer */
	SMBIOS_FINDING_BAD_LENGTH,     /* length field < 4 */
	SMBIOS_FINDING_NO_DOUBLE_NUL,  /* string-set not terminated before the end */
	SMBIOS_FINDING_EMPTY_STRING,   /* an empty string inside the string-set */
	SMBIOS_FINDING_AFTER_END,      /* bytes after the double NUL of an entry */
	SMBIOS_FINDING_COUNT_WRAPPED,  /* count == strings mod 256, strings > 255 (QEMU) */
	SMBIOS_FINDING_COUNT_MISMATCH, /* count byte disagrees with the strings otherwise */
	SMBIOS_FINDING_SYSTEMD_REJECTS,/* size < 5, type != 11 or length != 5: EBADMSG in systemd */
	SMBIOS_FINDING_ENTRY_POINT,    /* anchor, length or checksum problem */
	SMBIOS_FINDING_TABLE,          /* walk problems: count not reached, no end-of-table */
	SMBIOS_FINDING_MISMATCH,       /* entries/ and tables/DMI disagree */
	SMBIOS_FINDING_PAST_PAGE,      /* an entry is larger than a page: systemd < 257 reads one */
	SMBIOS_FINDING_SOURCE,         /* a part of the picture is missing (no tables/, no entries/) */
	_SMBIOS_FINDING_MAX,
};

/* One finding. `where` names the buffer ("entries/11-0/raw", "tables/DMI",
 * "tables/smbios_entry_point"); message is one clause with numbers, never string bytes. */
struct smbios_finding {
	enum smbios_finding_kind kind;
	char *where;
	size_t offset;
	char *message;
};

struct smbios_findings {
	struct smbios_finding *v;
	size_t n;
};

/* Appends one finding (message printf-formatted). f may be NULL (then nothing is kept).
 * Returns 0 or -ENOMEM. */
int smbios_finding_add(struct smbios_findings *f, enum smbios_finding_kind kind, const char *where,
		       size_t offset, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Stable token for JSON: "short-structure", "count-wrapped", ... */
const char *smbios_finding_kind_name(enum smbios_finding_kind k);
void smbios_findings_free(struct smbios_findings *f);

/* Parses one structure starting at buf[0] and running at most len bytes. A structure that
 * is not type 11 gets its header and size only. With entry = true the whole buffer is the
 * structure (an 11-N/raw file): bytes after the double NUL become after_end strings, as
 * systemd would read them, and systemd's header checks are reported. base is added to
 * every offset recorded in findings and strings (the structure's offset in its table).
 * Returns 0, -EBADMSG when not even the header could be read, or -ENOMEM. */
int smbios_parse_structure(const uint8_t *buf, size_t len, size_t base, bool entry,
			   const char *where, struct smbios_structure *out, struct smbios_findings *f);
void smbios_structure_free(struct smbios_structure *s);

/* Parses the contents of tables/smbios_entry_point. Returns 0 when valid, -EBADMSG when
 * not (out is filled as far as it could be read and findings say why), -ENOMEM. */
int smbios_parse_entry_point(const uint8_t *buf, size_t len, struct smbios_entry_point *out,
			     struct smbios_findings *f);
/* "2.8", "3.0.0", "legacy DMI 2.0": into buf of size n. */
const char *smbios_entry_point_version(const struct smbios_entry_point *ep, char *buf, size_t n);

/* Walks tables/DMI as the kernel's dmi_decode_table(): up to ep->n_structures for 2.x, until
 * type 127 or the end for 3.0. Every structure is recorded; type 11 ones are fully parsed.
 * A structure that cannot be delimited ends the walk with a finding. Returns 0 or -ENOMEM. */
int smbios_parse_table(const uint8_t *buf, size_t len, const struct smbios_entry_point *ep,
		       struct smbios_table *out, struct smbios_findings *f);
void smbios_table_free(struct smbios_table *t);

/* Cross-checks the entries view against the table view: entry i must be byte-identical to
 * the i-th type 11 structure of the table (dmi-sysfs numbers instances in table order).
 * Adds a SMBIOS_FINDING_MISMATCH per difference. Returns the number of differences or
 * -ENOMEM. */
int smbios_cross_check(const struct raw_blob *entries, size_t n_entries, const struct smbios_table *t,
		       struct smbios_findings *f);

/* Adds a PAST_PAGE finding for every entry larger than page_size when systemd_version is
 * below 257 or unknown (0). Returns the number added or -ENOMEM. */
int smbios_check_page_size(const struct raw_blob *entries, size_t n_entries, size_t page_size,
			   unsigned systemd_version, struct smbios_findings *f);

/* ---- I/O edge -------------------------------------------------------------------- */

/* Reads ROOT/sys/firmware/dmi/entries/11-0/raw, 11-1/raw, ... until the first ENOENT, each
 * with a read() loop until EOF (the kernel hands out one page per read). On success *out
 * holds *n_out blobs named "11-N" (may be 0) and *dmi_sysfs_present says whether
 * ROOT/sys/firmware/dmi/entries exists. Returns 0 or -errno; for a read error other than
 * ENOENT, *error (when ERROR is not NULL) is a malloc'd sentence naming the path. A FIFO or
 * device in place of an entry is such an error, never a hang. Prints nothing. */
int smbios_read_entries(const char *root, struct raw_blob **out, size_t *n_out, bool *dmi_sysfs_present,
			char **error);

/* file_read_bounded() (common/fileio.h) of PATH with the SMBIOS size cap: a regular file
 * read to EOF (sysfs files report size 0 and give one page per read). Returns 0 or -errno
 * (-EFBIG past 16 MiB, -ESPIPE for a FIFO or socket); no message. */
int smbios_read_file(const char *path, uint8_t **out, size_t *out_len);

/* Frees n blobs and their names, clearing the data bytes first (they may hold secrets). */
void raw_blobs_free(struct raw_blob *b, size_t n);
