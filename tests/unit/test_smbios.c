/* Unit tests for guest-agent/smbios.c on the real QEMU 7.2 tables in tests/fixtures/smbios
 * (README there) and on malformed variants made from them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "smbios.h"
#include "smbios_view.h"
#include "systemd/import_creds.h"

#define FIX "tests/fixtures/smbios/"

static uint8_t *slurp(const char *fixture, const char *rel, size_t *len)
{
	char path[512];
	uint8_t *buf;

	snprintf(path, sizeof(path), FIX "%s/root/sys/firmware/dmi/%s", fixture, rel);
	assert_int_equal(smbios_read_file(path, &buf, len), 0);
	return buf;
}

static const struct smbios_finding *only_finding(const struct smbios_findings *f, enum smbios_finding_kind k)
{
	const struct smbios_finding *hit = NULL;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == k) {
			assert_null(hit);
			hit = &f->v[i];
		}
	assert_non_null(hit);
	return hit;
}

static void assert_string_bytes(const struct smbios_string *s, const char *expect)
{
	assert_int_equal(s->len, strlen(expect));
	assert_memory_equal(s->data, expect, s->len);
}

/* ---- reading entries ---- */

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t) len);
	close(fd);
}

static void test_entries_are_read_from_11_0_upward_until_the_first_missing_one(void **state)
{
	char root[] = "/tmp/credscope-smbios-XXXXXX", p[256];
	struct raw_blob *b;
	size_t n;
	bool present;

	assert_non_null(mkdtemp(root));
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			continue;       /* a gap: systemd stops at 11-2 and never sees 11-3 */
		snprintf(p, sizeof(p), "mkdir -p %s/sys/firmware/dmi/entries/11-%d", root, i);
		assert_int_equal(system(p), 0);
		snprintf(p, sizeof(p), "%s/sys/firmware/dmi/entries/11-%d/raw", root, i);
		write_file(p, "\x0b\x05\x00\x0e\x00\x00\x00", 7 - (i == 1));
	}
	assert_int_equal(smbios_read_entries(root, &b, &n, &present, NULL), 0);
	assert_true(present);
	assert_int_equal(n, 2);
	assert_string_equal(b[0].name, "11-0");
	assert_int_equal(b[0].len, 7);
	assert_string_equal(b[1].name, "11-1");
	assert_int_equal(b[1].len, 6);
	raw_blobs_free(b, n);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void test_entry_read_error_other_than_enoent_fails_the_read(void **state)
{
	char root[] = "/tmp/credscope-smbios-XXXXXX", p[256];
	struct raw_blob *b = NULL;
	size_t n = 0;
	bool present;

	assert_non_null(mkdtemp(root));
	/* raw as a directory: open() works, read() fails with EISDIR */
	snprintf(p, sizeof(p), "mkdir -p %s/sys/firmware/dmi/entries/11-0/raw", root);
	assert_int_equal(system(p), 0);
	assert_int_equal(smbios_read_entries(root, &b, &n, &present, NULL), -EISDIR);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void test_root_without_dmi_sysfs_has_no_entries_and_says_so(void **state)
{
	struct raw_blob *b;
	size_t n = 99;
	bool present = true;

	assert_int_equal(smbios_read_entries(FIX "no-dmi-sysfs/root", &b, &n, &present, NULL), 0);
	assert_false(present);
	assert_int_equal(n, 0);
	raw_blobs_free(b, n);
	assert_int_equal(smbios_read_entries(FIX "no-smbios/root/", &b, &n, &present, NULL), 0);
	assert_false(present);
	assert_int_equal(n, 0);
	raw_blobs_free(b, n);
}

static void test_entry_larger_than_a_page_is_read_whole(void **state)
{
	struct raw_blob *b;
	size_t n;
	bool present;

	assert_int_equal(smbios_read_entries(FIX "bigentry/root", &b, &n, &present, NULL), 0);
	assert_true(present);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].len, 6097);
	assert_int_equal(b[0].data[6096], 0);
	assert_int_equal(b[0].data[6095], 0);
	raw_blobs_free(b, n);
}

/* ---- type 11 structures ---- */

static void test_qemu_credentials_entry_yields_every_string_with_its_offset(void **state)
{
	static const struct { size_t offset; const char *s; } expect[] = {
		{ 5, "io.systemd.credential:FOO=bar" },
		{ 35, "io.systemd.credential.binary:BIN=bWFnaWNiaW5hcnlkYXRh" },
		{ 89, "io.systemd.credential:bad/name=x" },
		{ 122, "io.systemd.credential:NOSEP" },
		{ 150, "io.systemd.credential:EQ=a=b" },
		{ 179, "io.systemd.credential:with space=ok" },
		{ 215, "io.systemd.credential.binary:URLSAFE=-_-_" },
		{ 257, "io.systemd.credential.binary:NOPAD=YWJj ZA" },
		{ 300, "io.systemd.credential:NL=line\n" },
	};
	struct smbios_findings f = { 0 };
	struct smbios_structure s;
	size_t len;
	uint8_t *buf = slurp("credentials", "entries/11-0/raw", &len);

	assert_int_equal(smbios_parse_structure(buf, len, 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(s.type, 11);
	assert_int_equal(s.length, 5);
	assert_int_equal(s.handle, 0x0e00);
	assert_int_equal(s.size, 332);
	assert_true(s.terminated);
	assert_true(s.has_count);
	assert_int_equal(s.count, 9);
	assert_int_equal(s.n_strings, 9);
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(s.strings[i].offset, expect[i].offset);
		assert_string_bytes(&s.strings[i], expect[i].s);
		assert_true(s.strings[i].terminated);
		assert_false(s.strings[i].after_end);
	}
	smbios_structure_free(&s);
	free(buf);
}

static void test_qemu_count_byte_wrapped_past_255_strings_is_flagged_and_all_strings_kept(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_structure s;
	size_t len;
	uint8_t *buf = slurp("wrap300", "entries/11-0/raw", &len);
	const struct smbios_finding *w;

	assert_int_equal(smbios_parse_structure(buf, len, 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(s.count, 44);
	assert_int_equal(s.n_strings, 300);
	assert_string_bytes(&s.strings[299], "io.systemd.credential:C299=v299");
	assert_int_equal(f.n, 1);
	w = only_finding(&f, SMBIOS_FINDING_COUNT_WRAPPED);
	assert_string_equal(w->where, "entries/11-0/raw");
	assert_int_equal(w->offset, 4);
	assert_string_equal(w->message, "count byte is 44 but the structure holds 300 strings: the producer wrapped it "
			    "(300 mod 256, as QEMU does); systemd ignores the count, dmidecode shows only 44");
	assert_string_equal(smbios_finding_kind_name(w->kind), "count-wrapped");
	smbios_findings_free(&f);
	smbios_structure_free(&s);
	free(buf);
}

static void test_count_byte_disagreeing_otherwise_is_a_mismatch(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_structure s;
	size_t len;
	uint8_t *buf = slurp("vendor", "entries/11-0/raw", &len);

	buf[4] = 7;
	assert_int_equal(smbios_parse_structure(buf, len, 246, false, "tables/DMI", &s, &f), 0);
	assert_int_equal(s.n_strings, 3);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_COUNT_MISMATCH);
	assert_int_equal(f.v[0].offset, 250);
	assert_string_equal(f.v[0].message, "count byte is 7 but the structure holds 3 strings; systemd ignores the count");
	smbios_findings_free(&f);
	smbios_structure_free(&s);
	free(buf);
}

static void test_entry_with_another_type_is_rejected_as_systemd_does(void **state)
{
	static const uint8_t raw[] = { 0x01, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00 };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_SYSTEMD_REJECTS);
	assert_int_equal(f.v[0].offset, 0);
	assert_string_equal(f.v[0].message, "type is 1, systemd requires 11 (\"Invalid DMI field header\")");
	smbios_findings_free(&f);
	smbios_structure_free(&s);
}

static void test_entry_with_formatted_length_other_than_5_is_rejected(void **state)
{
	static const uint8_t raw[] = { 0x0b, 0x06, 0x00, 0x0e, 0x01, 0x00, 'a', 0x00, 0x00 };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(s.n_strings, 1);
	assert_int_equal(s.strings[0].offset, 6);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_SYSTEMD_REJECTS);
	assert_int_equal(f.v[0].offset, 1);
	assert_string_equal(f.v[0].message, "formatted length is 6, systemd requires 5 (\"Invalid DMI field header\")");
	smbios_findings_free(&f);
	smbios_structure_free(&s);
}

static void test_entry_shorter_than_5_bytes_is_rejected_and_short(void **state)
{
	static const uint8_t raw[] = { 0x0b, 0x05, 0x00 };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 0, true, "entries/11-0/raw", &s, &f), -EBADMSG);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_SYSTEMD_REJECTS);
	assert_string_equal(f.v[0].message, "the entry is 3 bytes, systemd needs at least 5 (\"DMI field header too short\")");
	assert_int_equal(f.v[1].kind, SMBIOS_FINDING_SHORT);
	assert_int_equal(f.v[1].offset, 0);
	assert_string_equal(f.v[1].message, "only 3 bytes left, a structure header needs 4");
	smbios_findings_free(&f);
}

static void test_entry_cut_at_a_page_has_no_double_nul_and_an_unterminated_last_string(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_structure s;
	size_t len;
	uint8_t *buf = slurp("bigentry", "entries/11-0/raw", &len);
	const struct smbios_finding *w;

	/* what systemd 252 reads: the first page only */
	assert_int_equal(smbios_parse_structure(buf, 4096, 0, true, "entries/11-0/raw", &s, &f), -EBADMSG);
	assert_false(s.terminated);
	assert_int_equal(s.size, 4096);
	assert_int_equal(s.n_strings, 2);
	assert_true(s.strings[0].terminated);
	assert_int_equal(s.strings[1].offset, 3034);
	assert_int_equal(s.strings[1].len, 4096 - 3034);     /* "io.systemd.credential:SECOND=" + 1033 */
	assert_false(s.strings[1].terminated);
	w = only_finding(&f, SMBIOS_FINDING_NO_DOUBLE_NUL);
	assert_int_equal(w->offset, 4096);
	assert_string_equal(w->message, "the string-set starting at byte 5 has no double NUL before the end of the buffer");
	only_finding(&f, SMBIOS_FINDING_COUNT_MISMATCH);
	smbios_findings_free(&f);
	smbios_structure_free(&s);
	free(buf);
}

static void test_bytes_after_the_double_nul_of_an_entry_are_strings_systemd_reads(void **state)
{
	static const uint8_t raw[] = { 0x0b, 0x05, 0x00, 0x0e, 0x01, 'a', 0, 0, 'b', 'c', 0, 0, 'd' };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(s.size, 8);
	assert_int_equal(s.n_strings, 3);
	assert_false(s.strings[0].after_end);
	assert_true(s.strings[1].after_end);
	assert_int_equal(s.strings[1].offset, 8);
	assert_true(s.strings[2].after_end);
	assert_false(s.strings[2].terminated);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_AFTER_END);
	assert_int_equal(f.v[0].offset, 8);
	assert_string_equal(f.v[0].message,
			    "5 bytes after the double NUL: systemd parses them as further strings, dmidecode ignores them");
	smbios_findings_free(&f);
	smbios_structure_free(&s);
}

static void test_empty_string_inside_the_string_set_is_flagged(void **state)
{
	static const uint8_t raw[] = { 0x0b, 0x05, 0x00, 0x0e, 0x02, 0, 'a', 0, 0 };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 100, false, "tables/DMI", &s, &f), 0);
	assert_int_equal(s.n_strings, 1);
	assert_int_equal(s.strings[0].offset, 106);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_EMPTY_STRING);
	assert_int_equal(f.v[0].offset, 105);
	assert_int_equal(f.v[1].kind, SMBIOS_FINDING_COUNT_MISMATCH);
	smbios_findings_free(&f);
	smbios_structure_free(&s);
}

static void test_type_11_without_strings_is_two_nuls(void **state)
{
	static const uint8_t raw[] = { 0x0b, 0x05, 0x00, 0x0e, 0x00, 0, 0 };
	struct smbios_findings f = { 0 };
	struct smbios_structure s;

	assert_int_equal(smbios_parse_structure(raw, sizeof(raw), 0, true, "entries/11-0/raw", &s, &f), 0);
	assert_int_equal(s.size, 7);
	assert_int_equal(s.n_strings, 0);
	assert_int_equal(f.n, 0);
	smbios_structure_free(&s);
}

/* ---- entry points ---- */

static void test_qemu_smbios_21_entry_point_is_parsed(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	char v[32];
	size_t len;
	uint8_t *buf = slurp("credentials", "tables/smbios_entry_point", &len);

	assert_int_equal(len, 31);
	assert_int_equal(smbios_parse_entry_point(buf, len, &ep, &f), 0);
	assert_int_equal(f.n, 0);
	assert_true(ep.valid);
	assert_int_equal(ep.kind, SMBIOS_EP_21);
	assert_int_equal(ep.ep_length, 0x1f);
	assert_string_equal(smbios_entry_point_version(&ep, v, sizeof(v)), "2.8");
	assert_int_equal(ep.table_length, 0x2c4);
	assert_int_equal(ep.table_address, 0x1ffffd30);
	assert_int_equal(ep.n_structures, 10);
	free(buf);
}

static void test_qemu_smbios_30_entry_point_is_parsed(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	char v[32];
	size_t len;
	uint8_t *buf = slurp("sm3", "tables/smbios_entry_point", &len);

	assert_int_equal(len, 24);
	assert_int_equal(smbios_parse_entry_point(buf, len, &ep, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(ep.kind, SMBIOS_EP_30);
	assert_string_equal(smbios_entry_point_version(&ep, v, sizeof(v)), "3.0.0");
	assert_int_equal(ep.table_length, 0x1d8);
	assert_int_equal(ep.table_address, 0xf59c0);
	assert_int_equal(ep.n_structures, 0);
	free(buf);
}

static void test_legacy_dmi_entry_point_is_parsed(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	char v[32];
	size_t len;
	uint8_t *buf = slurp("credentials", "tables/smbios_entry_point", &len);

	/* the _DMI_ intermediate alone is a legacy entry point; its BCD revision is 0x28 */
	assert_int_equal(smbios_parse_entry_point(buf + 16, 15, &ep, &f), 0);
	assert_int_equal(ep.kind, SMBIOS_EP_LEGACY);
	assert_int_equal(ep.n_structures, 10);
	assert_int_equal(ep.table_length, 0x2c4);
	assert_string_equal(smbios_entry_point_version(&ep, v, sizeof(v)), "legacy DMI 2.8");
	free(buf);
}

static void expect_ep_finding(uint8_t *buf, size_t len, size_t offset, const char *message)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;

	assert_int_equal(smbios_parse_entry_point(buf, len, &ep, &f), -EBADMSG);
	assert_false(ep.valid);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_ENTRY_POINT);
	assert_string_equal(f.v[0].where, "tables/smbios_entry_point");
	assert_int_equal(f.v[0].offset, offset);
	assert_string_equal(f.v[0].message, message);
	smbios_findings_free(&f);
}

static void test_entry_point_errors_name_their_byte(void **state)
{
	size_t len, len3;
	uint8_t *buf = slurp("credentials", "tables/smbios_entry_point", &len);
	uint8_t *b3 = slurp("sm3", "tables/smbios_entry_point", &len3);

	buf[8]++;
	expect_ep_finding(buf, len, 4, "entry point checksum over 31 bytes from byte 0 sums to 0x01, not 0");
	buf[8]--;
	buf[0x15]++;   /* break the intermediate checksum, keep the outer sum at zero */
	buf[4]--;
	expect_ep_finding(buf, len, 0x15, "intermediate (_DMI_) checksum over 15 bytes from byte 16 sums to 0x01, not 0");
	free(buf);
	buf = slurp("credentials", "tables/smbios_entry_point", &len);
	buf[5] = 32;
	expect_ep_finding(buf, len, 5, "length byte is 32; the kernel accepts only lengths below 32");
	buf[5] = 0x1d;
	expect_ep_finding(buf, len, 5, "length byte is 29, shorter than the 30 bytes of this entry point's fields");
	buf[5] = 0x1f;
	expect_ep_finding(buf, 20, 20, "length byte says 31 bytes but the file ends after 20");
	buf[0] = 'X';
	expect_ep_finding(buf, len, 0, "no _SM3_, _SM_ or _DMI_ anchor at byte 0 (31 bytes)");
	expect_ep_finding(b3, 6, 6, "the entry point is 6 bytes, too short for its length byte at byte 6");
	b3[0x10]++;
	expect_ep_finding(b3, len3, 5, "entry point checksum over 24 bytes from byte 0 sums to 0x01, not 0");
	free(buf);
	free(b3);
}

static void test_entry_point_length_0x1e_is_accepted_as_the_kernel_does(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	uint8_t sum = 0;
	size_t len;
	uint8_t *buf = slurp("credentials", "tables/smbios_entry_point", &len);

	/* what the kernel would expose for a firmware writing 0x1e: 30 bytes, checksummed */
	buf[5] = 0x1e;
	buf[4] = 0;
	for (size_t i = 0; i < 30; i++)
		sum += buf[i];
	buf[4] = (uint8_t) -sum;
	assert_int_equal(smbios_parse_entry_point(buf, 30, &ep, &f), 0);
	assert_true(ep.valid);
	assert_int_equal(ep.n_structures, 10);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].offset, 5);
	assert_string_equal(f.v[0].message, "length byte is 30 (SMBIOS 2.1's typo for 31): the intermediate checksum "
			    "cannot be verified");
	smbios_findings_free(&f);
	free(buf);
}

static void test_bytes_after_the_entry_point_are_flagged_but_valid(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	uint8_t buf[40] = { 0 };
	size_t len;
	uint8_t *ep3 = slurp("sm3", "tables/smbios_entry_point", &len);

	memcpy(buf, ep3, len);
	assert_int_equal(smbios_parse_entry_point(buf, sizeof(buf), &ep, &f), 0);
	assert_true(ep.valid);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].offset, 24);
	assert_string_equal(f.v[0].message, "16 bytes follow the 24-byte entry point");
	smbios_findings_free(&f);
	free(ep3);
}

/* ---- tables ---- */

static void load_table(const char *fixture, uint8_t **ep_buf, uint8_t **dmi, size_t *len, struct smbios_entry_point *ep)
{
	size_t eplen;

	*ep_buf = slurp(fixture, "tables/smbios_entry_point", &eplen);
	assert_int_equal(smbios_parse_entry_point(*ep_buf, eplen, ep, NULL), 0);
	*dmi = slurp(fixture, "tables/DMI", len);
}

static void test_qemu_table_walk_finds_every_structure_and_the_type_11(void **state)
{
	static const uint8_t types[] = { 0, 1, 3, 4, 11, 16, 17, 19, 32, 127 };
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_table t;
	uint8_t *epb, *dmi;
	size_t len;

	load_table("credentials", &epb, &dmi, &len, &ep);
	assert_int_equal(len, 708);
	assert_int_equal(smbios_parse_table(dmi, len, &ep, &t, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(t.n_structs, 10);
	assert_int_equal(t.walked, 708);
	assert_true(t.end_of_table);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(t.structs[i].type, types[i]);
	assert_int_equal(t.structs[4].offset, 246);
	assert_int_equal(t.structs[4].size, 332);
	assert_int_equal(t.structs[4].n_strings, 9);
	assert_int_equal(t.structs[4].strings[0].offset, 251);   /* table offsets */
	assert_int_equal(t.structs[9].offset, 702);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_smbios_30_walk_ends_at_end_of_table(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_table t;
	uint8_t *epb, *dmi;
	size_t len;

	load_table("sm3", &epb, &dmi, &len, &ep);
	assert_int_equal(smbios_parse_table(dmi, len, &ep, &t, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(t.n_structs, 10);
	assert_int_equal(t.structs[9].type, 127);
	assert_int_equal(t.structs[4].type, 11);
	assert_int_equal(t.structs[4].offset, 252);
	smbios_table_free(&t);
	/* without a type 127 the 3.0 walk runs to the end and says so */
	assert_int_equal(smbios_parse_table(dmi, t.walked - 6, &ep, &t, &f), 0);
	assert_int_equal(t.n_structs, 9);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_TABLE);
	assert_string_equal(f.v[0].message, "no end-of-table (type 127) structure before the end of the 466-byte table");
	smbios_findings_free(&f);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_table_cut_inside_a_string_set_reports_the_missing_double_nul(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_table t;
	uint8_t *epb, *dmi;
	size_t len;

	load_table("credentials", &epb, &dmi, &len, &ep);
	assert_int_equal(smbios_parse_table(dmi, 300, &ep, &t, &f), 0);
	assert_int_equal(t.n_structs, 5);
	assert_false(t.structs[4].terminated);
	assert_int_equal(t.structs[4].n_strings, 2);      /* 251, and 281 cut at 300 */
	assert_int_equal(t.structs[4].strings[1].offset, 281);
	assert_int_equal(t.structs[4].strings[1].len, 19);
	assert_false(t.structs[4].strings[1].terminated);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_NO_DOUBLE_NUL);
	assert_int_equal(f.v[0].offset, 300);
	assert_string_equal(f.v[0].message, "the string-set starting at byte 251 has no double NUL before the end of the buffer");
	assert_int_equal(f.v[1].kind, SMBIOS_FINDING_COUNT_MISMATCH);
	assert_int_equal(f.v[2].kind, SMBIOS_FINDING_TABLE);
	assert_int_equal(f.v[2].offset, 300);
	assert_string_equal(f.v[2].message, "the table ends after 5 structures, the entry point announces 10");
	smbios_findings_free(&f);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_formatted_length_beyond_the_table_is_a_short_structure(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_table t;
	uint8_t *epb, *dmi;
	size_t len;

	load_table("credentials", &epb, &dmi, &len, &ep);
	dmi[247] = 250;      /* type 11 claims a 250-byte formatted area; 708 - 246 = 462 left... */
	assert_int_equal(smbios_parse_table(dmi, 400, &ep, &t, &f), 0);   /* ...but only 154 here */
	assert_int_equal(t.n_structs, 5);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_SHORT);
	assert_int_equal(f.v[0].offset, 247);
	assert_string_equal(f.v[0].message, "formatted length 250 runs past the end of the buffer (154 bytes left)");
	smbios_findings_free(&f);
	smbios_table_free(&t);
	dmi[247] = 2;
	assert_int_equal(smbios_parse_table(dmi, len, &ep, &t, &f), 0);
	assert_int_equal(t.n_structs, 4);    /* the broken structure is not recorded */
	assert_int_equal(t.walked, 246);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_BAD_LENGTH);
	assert_int_equal(f.v[0].offset, 247);
	assert_string_equal(f.v[0].message, "formatted length 2 is shorter than the 4-byte header");
	smbios_findings_free(&f);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_leftover_bytes_too_short_for_a_header_are_reported(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_table t;
	uint8_t *epb, *dmi;
	size_t len;

	load_table("no-type11", &epb, &dmi, &len, &ep);
	ep.n_structures = 20;
	assert_int_equal(smbios_parse_table(dmi, len - 4, &ep, &t, &f), 0);    /* cut into type 127 */
	assert_int_equal(t.n_structs, 8);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_SHORT);
	assert_int_equal(f.v[0].offset, len - 6);
	assert_string_equal(f.v[0].message, "only 2 bytes left, a structure header needs 4");
	assert_string_equal(f.v[1].message, "the table ends after 8 structures, the entry point announces 20");
	assert_string_equal(f.v[2].message, "2 bytes follow the last structure the walk reached");
	smbios_findings_free(&f);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

/* ---- cross-checks ---- */

static void cross_check_fixture(const char *fixture, struct raw_blob **b, size_t *n, struct smbios_table *t,
				uint8_t **epb, uint8_t **dmi)
{
	char root[256];
	struct smbios_entry_point ep;
	size_t len;
	bool present;

	snprintf(root, sizeof(root), FIX "%s/root", fixture);
	assert_int_equal(smbios_read_entries(root, b, n, &present, NULL), 0);
	load_table(fixture, epb, dmi, &len, &ep);
	assert_int_equal(smbios_parse_table(*dmi, len, &ep, t, NULL), 0);
}

static void test_every_qemu_fixture_has_identical_entries_and_table(void **state)
{
	static const char *const fixtures[] = { "no-type11", "credentials", "wrap300", "bigentry", "vendor", "sm3", "legacy-dmi" };

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		struct smbios_findings f = { 0 };
		struct smbios_table t;
		struct raw_blob *b;
		uint8_t *epb, *dmi;
		size_t n;

		cross_check_fixture(fixtures[i], &b, &n, &t, &epb, &dmi);
		assert_int_equal(n, i == 0 ? 0 : 1);
		assert_int_equal(smbios_cross_check(b, n, &t, &f), 0);
		assert_int_equal(f.n, 0);
		raw_blobs_free(b, n);
		smbios_table_free(&t);
		free(epb);
		free(dmi);
	}
}

static void test_cross_check_names_the_entry_and_the_first_differing_byte(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_table t;
	struct raw_blob *b;
	uint8_t *epb, *dmi;
	size_t n;

	cross_check_fixture("credentials", &b, &n, &t, &epb, &dmi);
	b[0].data[100] ^= 1;
	assert_int_equal(smbios_cross_check(b, n, &t, &f), 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_MISMATCH);
	assert_string_equal(f.v[0].where, "entries/11-0/raw");
	assert_int_equal(f.v[0].offset, 100);
	assert_string_equal(f.v[0].message,
			    "11-0 differs from the table's type 11 structure at byte 246 (handle 0x0e00) from byte 100 on");
	smbios_findings_free(&f);
	b[0].data[100] ^= 1;
	b[0].len = 300;
	assert_int_equal(smbios_cross_check(b, n, &t, &f), 1);
	assert_string_equal(f.v[0].message, "11-0 is 300 bytes, the table's type 11 structure at byte 246 (handle 0x0e00) "
			    "is 332; first difference at byte 300");
	smbios_findings_free(&f);
	assert_int_equal(smbios_cross_check(b, 0, &t, &f), 1);
	assert_string_equal(f.v[0].where, "tables/DMI");
	assert_int_equal(f.v[0].offset, 246);
	assert_string_equal(f.v[0].message, "the type 11 structure at byte 246 (handle 0x0e00) has no entries/11-0/raw");
	smbios_findings_free(&f);
	raw_blobs_free(b, n);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_entry_without_a_table_structure_is_a_mismatch(void **state)
{
	struct smbios_findings f = { 0 };
	struct smbios_table t;
	struct raw_blob *b, *vendor;
	uint8_t *epb, *dmi;
	size_t n, nv;
	bool present;

	assert_int_equal(smbios_read_entries(FIX "vendor/root", &vendor, &nv, &present, NULL), 0);
	cross_check_fixture("no-type11", &b, &n, &t, &epb, &dmi);
	assert_int_equal(smbios_cross_check(vendor, nv, &t, &f), 1);
	assert_string_equal(f.v[0].where, "entries/11-0/raw");
	assert_int_equal(f.v[0].offset, 0);
	assert_string_equal(f.v[0].message, "11-0 has no counterpart: the table holds 0 type 11 structures");
	smbios_findings_free(&f);
	raw_blobs_free(vendor, nv);
	raw_blobs_free(b, n);
	smbios_table_free(&t);
	free(epb);
	free(dmi);
}

static void test_entry_past_a_page_is_flagged_before_257_only(void **state)
{
	struct smbios_findings f = { 0 };
	struct raw_blob *b;
	size_t n;
	bool present;

	assert_int_equal(smbios_read_entries(FIX "bigentry/root", &b, &n, &present, NULL), 0);
	assert_int_equal(smbios_check_page_size(b, n, 4096, 257, &f), 0);
	assert_int_equal(smbios_check_page_size(b, n, 4096, 252, &f), 1);
	assert_int_equal(f.v[0].kind, SMBIOS_FINDING_PAST_PAGE);
	assert_int_equal(f.v[0].offset, 4096);
	assert_string_equal(f.v[0].message, "11-0 is 6097 bytes and systemd 252 reads only the first 4096: "
			    "strings past byte 4096 are cut or lost");
	assert_int_equal(smbios_check_page_size(b, n, 4096, 0, &f), 1);
	assert_string_equal(f.v[1].message, "11-0 is 6097 bytes and systemd before 257 reads only the first 4096: "
			    "strings past byte 4096 are cut or lost");
	assert_int_equal(smbios_check_page_size(b, n, 8192, 252, &f), 0);
	smbios_findings_free(&f);
	raw_blobs_free(b, n);
}

/* ---- judging strings ---- */

static struct smbios_string str_at(const char *s, size_t offset)
{
	return (struct smbios_string) { .data = (const uint8_t *) s, .len = strlen(s), .offset = offset, .terminated = true };
}

static void expect_verdict(const char *s, size_t offset, unsigned version, const char *token, const char *summary)
{
	struct smbios_string x = str_at(s, offset);
	struct smbios_verdict v;

	assert_int_equal(smbios_judge_string(&x, version, 4096, false, NULL, NULL, 0, &v), 0);
	assert_string_equal(v.token, token);
	assert_string_equal(v.summary, summary);
	smbios_verdict_free(&v);
}

static void test_each_credential_string_gets_systemds_verdict(void **state)
{
	expect_verdict("io.systemd.credential:FOO=bar", 5, 252, "valid", "3 bytes, valid");
	expect_verdict("io.systemd.credential:X=", 5, 252, "valid", "0 bytes, valid");
	expect_verdict("io.systemd.credential:EQ=a=b", 5, 252, "valid", "3 bytes, valid");
	expect_verdict("io.systemd.credential:bad/name=x", 5, 252, "invalid-name", "invalid name: its name contains '/'");
	expect_verdict("io.systemd.credential:=x", 5, 252, "invalid-name", "invalid name: the name is empty");
	expect_verdict("io.systemd.credential:a:b=x", 5, 257, "invalid-name", "invalid name: its name contains ':'");
	expect_verdict("io.systemd.credential:NOSEP", 5, 252, "no-separator", "no '=' after the name: systemd ignores it");
	expect_verdict("io.systemd.credentials:FOO=bar", 5, 252, "not-a-credential", "not a credential: systemd ignores it");
	expect_verdict("IO.systemd.credential:FOO=bar", 5, 252, "not-a-credential", "not a credential: systemd ignores it");
	expect_verdict("io.systemd.credential.binary:BIN=bWFnaWNiaW5hcnlkYXRh", 5, 252, "valid", "15 bytes, valid");
	expect_verdict("io.systemd.credential.binary:B= YW Jj\n", 5, 252, "valid", "3 bytes, valid");
	expect_verdict("io.systemd.credential.binary:NOPAD=YWJj ZA", 5, 257, "bad-base64",
		       "bad base64 (its length without whitespace is not a multiple of 4: padding is required): systemd 257 drops it");
}

static void test_url_safe_base64_is_valid_only_from_255(void **state)
{
	const char *s = "io.systemd.credential.binary:URLSAFE=-_-_";

	expect_verdict(s, 5, 252, "bad-base64",
		       "bad base64 (a character outside the alphabet, or misplaced padding): systemd 252 drops it");
	expect_verdict(s, 5, 254, "bad-base64",
		       "bad base64 (a character outside the alphabet, or misplaced padding): systemd 254 drops it");
	expect_verdict(s, 5, 257, "valid", "3 bytes, valid");
	expect_verdict(s, 5, 0, "valid", "3 bytes, valid from systemd 255 on (URL-safe base64; 252 and 254 drop it)");
}

static void test_page_cut_before_257_truncates_or_hides_strings(void **state)
{
	char big[3100];

	memcpy(big, "io.systemd.credential:SECOND=", 29);
	memset(big + 29, 'x', 3000);
	big[3029] = 0;
	expect_verdict(big, 3034, 252, "truncated", "1033 bytes, truncated: systemd 252 reads only the first 4096 bytes of "
		       "the entry, 1062 of this string's 3029");
	expect_verdict(big, 3034, 257, "valid", "3000 bytes, valid");
	expect_verdict(big, 3034, 0, "valid", "3000 bytes, valid");
	expect_verdict("io.systemd.credential:THIRD=abc", 6064, 254, "past-page",
		       "systemd 254 never reads it: it starts at byte 6064, past the first 4096");
	expect_verdict("io.systemd.credential:THIRD=abc", 4080, 252, "not-a-credential",
		       "systemd 252 sees only 16 bytes of it (first page): no credential prefix");
	expect_verdict("io.systemd.credential:THIRD=abc", 4070, 252, "no-separator",
		       "no '=' after the name within the first page: systemd ignores it");
	memcpy(big, "io.systemd.credential.binary:B=", 31);
	memset(big + 31, 'Q', 3000);
	big[3031] = 0;
	expect_verdict(big, 3034, 252, "bad-base64", "bad base64 (its length without whitespace is not a multiple of 4: "
		       "padding is required) after the page cut: systemd 252 drops it");
}

static void test_value_over_one_mib_is_too_large(void **state)
{
	size_t n = 22 + 2 + CRED_SIZE_MAX + 1;
	char *s = malloc(n + 1);

	memcpy(s, "io.systemd.credential:B=", 24);
	memset(s + 24, 'x', CRED_SIZE_MAX + 1);
	s[n] = 0;
	expect_verdict(s, 5, 257, "too-large", "1048577 bytes, over systemd's 1 MiB limit: dropped");
	s[n - 1] = 0;
	expect_verdict(s, 5, 257, "valid", "1048576 bytes, valid");
	free(s);
}

static void test_second_string_with_the_same_name_loses(void **state)
{
	struct smbios_string x = str_at("io.systemd.credential:FOO=other", 40);
	char *seen[] = { (char *) "BAR", (char *) "FOO" };
	size_t idx[] = { 1, 2 };
	struct smbios_verdict v;

	assert_int_equal(smbios_judge_string(&x, 252, 4096, false, seen, idx, 2, &v), 0);
	assert_string_equal(v.token, "duplicate");
	assert_string_equal(v.summary, "5 bytes, but string 2 already set this name: the first one wins");
	assert_string_equal(v.name_escaped, "FOO");
	smbios_verdict_free(&v);
	assert_int_equal(smbios_judge_string(&x, 252, 4096, true, seen, idx, 2, &v), 0);
	assert_string_equal(v.token, "rejected");
	assert_string_equal(v.summary, "systemd rejects this entry's header and imports none of its strings");
	smbios_verdict_free(&v);
}

static void test_escape_shows_non_printable_bytes(void **state)
{
	char *e = smbios_escape((const uint8_t *) "a\tb\n\\\x01\xff", 7);

	assert_string_equal(e, "a\\tb\\n\\\\\\x01\\xff");
	free(e);
}

/* ---- the command ---- */

/* Runs cmd_smbios on ROOT with stdout captured; returns the exit status, *out the text. */
static int run_smbios_root(const char *root, unsigned version, bool json, const char *flag, char **out)
{
	char tmpl[] = "/tmp/credscope-out-XXXXXX";
	struct cli_ctx ctx = { .root = root, .json = json, .systemd_version = version };
	char *argv[] = { (char *) "smbios", (char *) flag, NULL };
	int fd = mkstemp(tmpl), saved, rc;
	size_t len;

	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	optind = 0;
	rc = cmd_smbios(&ctx, flag ? 2 : 1, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	assert_int_equal(smbios_read_file(tmpl, (uint8_t **) out, &len), 0);
	*out = realloc(*out, len + 1);
	(*out)[len] = 0;
	unlink(tmpl);
	return rc;
}

static int run_smbios(const char *fixture, unsigned version, bool json, const char *flag, char **out)
{
	char root[256];

	snprintf(root, sizeof(root), FIX "%s/root", fixture);
	return run_smbios_root(root, version, json, flag, out);
}

static void test_smbios_command_lists_strings_like_dmidecode_without_values(void **state)
{
	char *out;

	assert_int_equal(run_smbios("vendor", 252, false, NULL, &out), 0);
	assert_string_equal(out,
		"SMBIOS 2.8 present (entry point _SM_, table 462 bytes, 10 structures).\n"
		"Judged by systemd 252's rules, page size 4096.\n"
		"\n"
		"Handle 0x0E00, DMI type 11, 5 bytes\n"
		"OEM Strings\n"
		"\tString 1: Acme Cloud asset tag 0042\n"
		"\tString 2: io.systemd.credential:FOO=<3 bytes, valid>\n"
		"\tString 3: vendor\\tvalue with a tab\n"
		"\n"
		"No findings.\n");
	free(out);
	assert_int_equal(run_smbios("credentials", 252, false, NULL, &out), 0);
	assert_null(strstr(out, "=bar"));
	assert_null(strstr(out, "bWFnaWNiaW5hcnlkYXRh"));
	assert_null(strstr(out, "line"));
	assert_non_null(strstr(out, "\tString 4: io.systemd.credential:<5 bytes>\n\t\t=> no '=' after the name: systemd ignores it\n"));
	free(out);
}

static void test_show_values_prints_each_raw_string_and_its_verdict(void **state)
{
	char *out;

	assert_int_equal(run_smbios("credentials", 257, false, "--show-values", &out), 0);
	assert_non_null(strstr(out, "\tString 1: io.systemd.credential:FOO=bar\n\t\t=> 3 bytes, valid\n"));
	assert_non_null(strstr(out, "\tString 9: io.systemd.credential:NL=line\\n\n\t\t=> 5 bytes, valid\n"));
	free(out);
}

static void test_wrapped_count_and_page_cut_are_listed_after_the_strings(void **state)
{
	char *out;

	assert_int_equal(run_smbios("wrap300", 252, false, NULL, &out), 0);
	assert_non_null(strstr(out, "\tString 128: io.systemd.credential:C127=<0 bytes, truncated: systemd 252 reads only "
			       "the first 4096 bytes of the entry, 27 of this string's 31>\n"));
	assert_non_null(strstr(out, "\tString 300: io.systemd.credential:C299=<systemd 252 never reads it: it starts at "
			       "byte 9573, past the first 4096>\n"));
	/* once, on the entry: the identical table structure does not repeat it */
	assert_non_null(strstr(out, "\nFindings:\n"
		"\tentries/11-0/raw at byte 4: count byte is 44 but the structure holds 300 strings: the producer wrapped "
		"it (300 mod 256, as QEMU does); systemd ignores the count, dmidecode shows only 44\n"));
	assert_null(strstr(out, "tables/DMI at byte 250"));
	assert_non_null(strstr(out, "\tentries/11-0/raw at byte 4096: 11-0 is 9606 bytes and systemd 252 reads only the "
			       "first 4096: strings past byte 4096 are cut or lost\n"));
	free(out);
}

static void test_missing_smbios_exits_2_and_says_why(void **state)
{
	char *out;

	assert_int_equal(run_smbios("no-smbios", 252, false, NULL, &out), 2);
	assert_string_equal(out, "\nNo findings.\n");
	free(out);
	/* without dmi-sysfs the table's strings are still shown, but the exit status is 2 */
	assert_int_equal(run_smbios("no-dmi-sysfs", 252, false, NULL, &out), 2);
	assert_non_null(strstr(out, "\tString 1: io.systemd.credential:FOO=<3 bytes, valid>\n"));
	free(out);
	assert_int_equal(run_smbios("credentials", 252, false, "--bogus", &out), 2);
	free(out);
}

static void test_command_reports_an_entry_that_differs_from_the_table(void **state)
{
	char tmp[] = "/tmp/credscope-smbios-XXXXXX", cmd[512], root[300], *out;
	uint8_t byte = 'X';
	int fd;

	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd), "cp -r " FIX "credentials/root %s/", tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/root/sys/firmware/dmi/entries/11-0/raw", tmp);
	fd = open(cmd, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &byte, 1, 29), 1);      /* FOO -> FOX in the entry only */
	close(fd);
	snprintf(root, sizeof(root), "%s/root", tmp);
	assert_int_equal(run_smbios_root(root, 257, false, NULL, &out), 0);
	assert_non_null(strstr(out, "\tString 1: io.systemd.credential:FOX=<3 bytes, valid>\n"));
	assert_non_null(strstr(out, "\tentries/11-0/raw at byte 29: 11-0 differs from the table's type 11 structure at "
			       "byte 246 (handle 0x0e00) from byte 29 on\n"));
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

static void test_json_output_follows_the_documented_schema(void **state)
{
	json_error_t err;
	json_t *j, *s;
	char *out;

	assert_int_equal(run_smbios("credentials", 252, true, NULL, &out), 0);
	j = json_loads(out, 0, &err);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "credscope-smbios")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "systemd_version")), 252);
	assert_string_equal(json_string_value(json_object_get(j, "view")), "entries");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "entry_point"), "anchor")), "_SM_");
	s = json_array_get(json_object_get(json_array_get(json_object_get(j, "structures"), 0), "strings"), 2);
	assert_string_equal(json_string_value(json_object_get(s, "name")), "bad/name");
	assert_string_equal(json_string_value(json_object_get(s, "verdict")), "invalid-name");
	assert_int_equal(json_integer_value(json_object_get(s, "offset")), 89);
	assert_null(json_object_get(s, "text"));      /* no value without --show-values */
	assert_true(json_is_null(json_object_get(j, "error")));
	json_decref(j);
	free(out);
	assert_int_equal(run_smbios("credentials", 252, true, "--show-values", &out), 0);
	assert_non_null(strstr(out, "\"text\": \"io.systemd.credential:FOO=bar\""));
	free(out);
}

/* Two implementations of systemd's rules must agree: this module's per-string verdicts and
 * systemd/import_creds.c's predict_import() (the SMBIOS candidates, in the same order). */
static const char *verdict_as_fate(const char *token)
{
	if (strcmp(token, "valid") == 0)
		return "imported";
	if (strcmp(token, "truncated") == 0)
		return "imported-truncated";
	return token;
}

static void assert_verdicts_match_prediction(const char *fixture, unsigned version)
{
	struct import_env env = { .systemd_version = version, .page_size = 4096, .dmi_sysfs_present = true };
	struct import_sources src = { 0 };
	struct smbios_view v;
	struct prediction p;
	char root[256];
	size_t ci = 0, compared = 0;

	snprintf(root, sizeof(root), FIX "%s/root", fixture);
	assert_int_equal(smbios_view_load(root, version, &v), 0);
	src.smbios = v.entries;
	src.n_smbios = v.n_entries;
	assert_int_equal(predict_import(&src, &env, &p), 0);
	for (size_t k = 0; k < v.n_structs; k++)
		for (size_t i = 0; i < v.structs[k].n_strings; i++, ci++, compared++) {
			while (ci < p.n_cands && p.cands[ci].source != CRED_SOURCE_SMBIOS)
				ci++;
			assert_true(ci < p.n_cands);
			assert_string_equal(verdict_as_fate(v.structs[k].strings[i].verdict.token),
					    cred_fate_name(p.cands[ci].fate));
		}
	for (; ci < p.n_cands; ci++)
		assert_int_not_equal(p.cands[ci].source, CRED_SOURCE_SMBIOS);
	assert_int_equal(compared, v.n_structs ? v.structs[0].n_strings : 0);
	prediction_free(&p);
	smbios_view_free(&v);
}

static void test_verdicts_agree_with_the_import_predictor_on_every_fixture(void **state)
{
	static const char *const fixtures[] = { "no-type11", "credentials", "wrap300", "bigentry", "vendor", "sm3", "legacy-dmi" };
	static const unsigned versions[] = { 252, 254, 257 };

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		for (size_t k = 0; k < sizeof(versions) / sizeof(versions[0]); k++)
			assert_verdicts_match_prediction(fixtures[i], versions[k]);
}

/* tables/DMI and tables/smbios_entry_point as FIFOs: the view fails at once, naming the file. */
static void assert_view_fifo_fails_naming(const char *rel)
{
	char root[] = "/tmp/credscope-smbios-fifo-XXXXXX", path[512], cmd[600];
	struct smbios_view v;

	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/sys/firmware/dmi/tables", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(smbios_view_load(root, 257, &v), 0);
	alarm(0);
	assert_non_null(v.error);
	assert_non_null(strstr(v.error, path));
	assert_non_null(strstr(v.error, "is a FIFO or socket, not a regular file"));
	smbios_view_free(&v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_fifo_as_dmi_table_fails_at_once_naming_it(void **state)
{
	assert_view_fifo_fails_naming("/sys/firmware/dmi/tables/DMI");
}

static void test_fifo_as_entry_point_fails_at_once_naming_it(void **state)
{
	assert_view_fifo_fails_naming("/sys/firmware/dmi/tables/smbios_entry_point");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_as_dmi_table_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_entry_point_fails_at_once_naming_it),
		cmocka_unit_test(test_entries_are_read_from_11_0_upward_until_the_first_missing_one),
		cmocka_unit_test(test_entry_read_error_other_than_enoent_fails_the_read),
		cmocka_unit_test(test_root_without_dmi_sysfs_has_no_entries_and_says_so),
		cmocka_unit_test(test_entry_larger_than_a_page_is_read_whole),
		cmocka_unit_test(test_qemu_credentials_entry_yields_every_string_with_its_offset),
		cmocka_unit_test(test_qemu_count_byte_wrapped_past_255_strings_is_flagged_and_all_strings_kept),
		cmocka_unit_test(test_count_byte_disagreeing_otherwise_is_a_mismatch),
		cmocka_unit_test(test_entry_with_another_type_is_rejected_as_systemd_does),
		cmocka_unit_test(test_entry_with_formatted_length_other_than_5_is_rejected),
		cmocka_unit_test(test_entry_shorter_than_5_bytes_is_rejected_and_short),
		cmocka_unit_test(test_entry_cut_at_a_page_has_no_double_nul_and_an_unterminated_last_string),
		cmocka_unit_test(test_bytes_after_the_double_nul_of_an_entry_are_strings_systemd_reads),
		cmocka_unit_test(test_empty_string_inside_the_string_set_is_flagged),
		cmocka_unit_test(test_type_11_without_strings_is_two_nuls),
		cmocka_unit_test(test_qemu_smbios_21_entry_point_is_parsed),
		cmocka_unit_test(test_qemu_smbios_30_entry_point_is_parsed),
		cmocka_unit_test(test_legacy_dmi_entry_point_is_parsed),
		cmocka_unit_test(test_entry_point_errors_name_their_byte),
		cmocka_unit_test(test_entry_point_length_0x1e_is_accepted_as_the_kernel_does),
		cmocka_unit_test(test_bytes_after_the_entry_point_are_flagged_but_valid),
		cmocka_unit_test(test_qemu_table_walk_finds_every_structure_and_the_type_11),
		cmocka_unit_test(test_smbios_30_walk_ends_at_end_of_table),
		cmocka_unit_test(test_table_cut_inside_a_string_set_reports_the_missing_double_nul),
		cmocka_unit_test(test_formatted_length_beyond_the_table_is_a_short_structure),
		cmocka_unit_test(test_leftover_bytes_too_short_for_a_header_are_reported),
		cmocka_unit_test(test_every_qemu_fixture_has_identical_entries_and_table),
		cmocka_unit_test(test_cross_check_names_the_entry_and_the_first_differing_byte),
		cmocka_unit_test(test_entry_without_a_table_structure_is_a_mismatch),
		cmocka_unit_test(test_entry_past_a_page_is_flagged_before_257_only),
		cmocka_unit_test(test_each_credential_string_gets_systemds_verdict),
		cmocka_unit_test(test_url_safe_base64_is_valid_only_from_255),
		cmocka_unit_test(test_page_cut_before_257_truncates_or_hides_strings),
		cmocka_unit_test(test_value_over_one_mib_is_too_large),
		cmocka_unit_test(test_second_string_with_the_same_name_loses),
		cmocka_unit_test(test_escape_shows_non_printable_bytes),
		cmocka_unit_test(test_smbios_command_lists_strings_like_dmidecode_without_values),
		cmocka_unit_test(test_show_values_prints_each_raw_string_and_its_verdict),
		cmocka_unit_test(test_wrapped_count_and_page_cut_are_listed_after_the_strings),
		cmocka_unit_test(test_missing_smbios_exits_2_and_says_why),
		cmocka_unit_test(test_command_reports_an_entry_that_differs_from_the_table),
		cmocka_unit_test(test_json_output_follows_the_documented_schema),
		cmocka_unit_test(test_verdicts_agree_with_the_import_predictor_on_every_fixture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
