/* verify + explain on hand-built predictions and stores: every finding kind, its rule and
 * its sentence, exactly. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"
#include "explain.h"
#include "manifest_source.h"
#include "verify.h"

#define MAX_THINGS 8

struct world {
	struct prediction p;
	struct cred_candidate cands[MAX_THINGS];
	struct credstore s;
	struct store_file files[MAX_THINGS];
	struct manifest m;
	struct manifest_entry entries[MAX_THINGS];
	struct verify_result r;
};

static void world_init(struct world *w, unsigned version)
{
	memset(w, 0, sizeof *w);
	w->p.env.systemd_version = version;
	w->p.cands = w->cands;
	w->s.exists = true;
	w->s.fs_known = true;
	w->s.fs_type = (char *)"ramfs";
	w->s.read_only = true;
	w->s.security = STORE_SECURITY_SECURE;
	w->s.judged_as = version;
	w->s.files = w->files;
	w->m.entries = w->entries;
}

static struct cred_candidate *cand(struct world *w, const char *name, const char *value, enum cred_fate fate,
				   const char *origin, const char *detail)
{
	struct cred_candidate *c = &w->cands[w->p.n_cands++];
	c->source = CRED_SOURCE_SMBIOS;
	c->name = (char *)name;
	c->origin = (char *)origin;
	c->detail = (char *)detail;
	c->fate = fate;
	c->value = (uint8_t *)value;
	c->value_len = value ? strlen(value) : 0;
	if (fate == FATE_IMPORTED) {
		c->imported = c->value;
		c->imported_len = c->value_len;
	}
	return c;
}

/* Files must be added in name order (the store is sorted). */
static void file(struct world *w, const char *name, const char *value)
{
	struct store_file *f = &w->files[w->s.n_files++];
	f->name = (char *)name;
	f->data = (uint8_t *)value;
	f->size = strlen(value);
	f->mode = 0100400;
}

/* Entries must be added in name order (the manifest is sorted). */
static void expect_sha(struct world *w, const char *name, const char *value)
{
	struct manifest_entry *e = &w->entries[w->m.n_entries++];
	e->name = (char *)name;
	e->expect = EXPECT_MATCH;
	e->digest = DIGEST_SHA256;
	assert_int_equal(digest_sha256_hex(value, strlen(value), e->hex), 0);
}

static void expect_kind(struct world *w, const char *name, enum expect_kind k)
{
	struct manifest_entry *e = &w->entries[w->m.n_entries++];
	e->name = (char *)name;
	e->expect = k;
}

static void run(struct world *w)
{
	assert_int_equal(verify_run(&w->m, &w->s, &w->p, &w->r), 0);
}

static void test_all_arrived_passes_with_no_findings(void **state)
{
	struct world w;
	world_init(&w, 252);
	cand(&w, "FOO", "bar", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "FOO", "bar");
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 0);
	assert_int_equal(verdict_exit_status(w.r.verdict), 0);
	verify_result_free(&w.r);
}

static void test_one_byte_difference_in_store_is_a_mismatch_naming_the_byte(void **state)
{
	struct world w;
	world_init(&w, 252);
	cand(&w, "FOO", "bar", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "FOO", "bas");
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_FAIL);
	assert_int_equal(w.r.n_failures, 1);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISMATCH);
	assert_string_equal(w.r.findings[0].rule, "store-modified");
	assert_string_equal(w.r.findings[0].message,
			    "FOO in /run/credentials/@system (3 bytes, first difference at byte 2) is not what "
			    "systemd 252 imported from SMBIOS 11-0 string 1 at byte 5 (3 bytes): something "
			    "rewrote it after the import.");
	verify_result_free(&w.r);
}

static void test_host_sending_other_bytes_is_blamed_on_the_host_value(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "FOO", "baz", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "FOO", "baz");
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_string_equal(w.r.findings[0].rule, "host-value");
	assert_string_equal(w.r.findings[0].message,
			    "FOO arrived exactly as the host sent it (SMBIOS 11-0 string 1 at byte 5, 3 bytes), "
			    "but those are not the bytes the manifest expects: fix the value given to the "
			    "hypervisor, or the manifest.");
	verify_result_free(&w.r);
}

static void test_credential_no_source_carries_is_missing_and_never_passed(void **state)
{
	struct world w;
	world_init(&w, 252);
	expect_sha(&w, "GONE", "x");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_FAIL);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	assert_string_equal(w.r.findings[0].rule, "not-passed");
	assert_string_equal(w.r.findings[0].message,
			    "GONE was never passed to this VM: no SMBIOS type 11 string, fw_cfg entry or kernel "
			    "command line option carries that name; pass it on the host, e.g. -smbios "
			    "type=11,value=io.systemd.credential:GONE=VALUE.");
	verify_result_free(&w.r);
}

static void test_invalid_name_expected_present_is_missing_by_name_validity(void **state)
{
	struct world w;
	world_init(&w, 252);
	cand(&w, "bad/name", "x", FATE_DROPPED_INVALID_NAME, "SMBIOS 11-0 string 3 at byte 70",
	     "systemd's credential_name_valid() rejects the name because it contains '/'");
	expect_sha(&w, "bad/name", "x");
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	assert_string_equal(w.r.findings[0].rule, "name-validity");
	assert_string_equal(w.r.findings[0].message,
			    "bad/name was dropped by systemd's name check (credential_name_valid): systemd's "
			    "credential_name_valid() rejects the name because it contains '/'.");
	verify_result_free(&w.r);
}

static void add_truncated_second(struct world *w, const char *whole, size_t cut)
{
	struct cred_candidate *c = cand(w, "SECOND", whole, FATE_IMPORTED_TRUNCATED, "SMBIOS 11-0 string 2 at byte 3033",
					"the SMBIOS entry is 6097 bytes, systemd 252 reads only the first 4096, and "
					"SECOND starts at byte 3033");
	c->imported = c->value;
	c->imported_len = cut;
}

static void test_truncation_by_252_in_the_store_names_the_page_rule(void **state)
{
	struct world w;
	world_init(&w, 252);
	add_truncated_second(&w, "0123456789", 4);
	file(&w, "SECOND", "0123");
	expect_sha(&w, "SECOND", "0123456789");
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISMATCH);
	assert_string_equal(w.r.findings[0].rule, "page-truncation");
	assert_string_equal(w.r.findings[0].message,
			    "SECOND was truncated to 4 of 10 bytes by systemd's one-page read of SMBIOS entries "
			    "(systemd before 257): the SMBIOS entry is 6097 bytes, systemd 252 reads only the "
			    "first 4096, and SECOND starts at byte 3033.");
	verify_result_free(&w.r);
}

static void test_whole_store_still_fails_when_252_would_truncate(void **state)
{
	struct world w;
	world_init(&w, 252);
	add_truncated_second(&w, "0123456789", 4);
	file(&w, "SECOND", "0123456789");
	expect_sha(&w, "SECOND", "0123456789");
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_string_equal(w.r.findings[0].rule, "page-truncation");
	assert_int_equal(w.r.findings[0].kind, FINDING_MISMATCH);
	verify_result_free(&w.r);
}

static void test_same_entry_passes_as_257_where_it_arrives_whole(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "SECOND", "0123456789", FATE_IMPORTED, "SMBIOS 11-0 string 2 at byte 3033", NULL);
	file(&w, "SECOND", "0123456789");
	expect_sha(&w, "SECOND", "0123456789");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 0);
	verify_result_free(&w.r);
}

static void test_credential_past_the_page_is_missing_by_page_rule(void **state)
{
	struct world w;
	world_init(&w, 252);
	cand(&w, "THIRD", "abc", FATE_DROPPED_PAST_PAGE, "SMBIOS 11-0 string 3 at byte 6062",
	     "the SMBIOS entry is 6097 bytes, systemd 252 reads only the first 4096, and THIRD starts at byte 6062");
	expect_sha(&w, "THIRD", "abc");
	run(&w);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	assert_string_equal(w.r.findings[0].rule, "page-truncation");
	assert_string_equal(w.r.findings[0].message,
			    "THIRD was dropped by systemd's one-page read of SMBIOS entries (systemd before 257): "
			    "the SMBIOS entry is 6097 bytes, systemd 252 reads only the first 4096, and THIRD "
			    "starts at byte 6062.");
	verify_result_free(&w.r);
}

static void test_predicted_import_missing_from_absent_store_blames_the_store(void **state)
{
	struct world w;
	world_init(&w, 257);
	w.s.exists = false;
	cand(&w, "FOO", "bar", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_string_equal(w.r.findings[0].rule, "store-missing");
	assert_string_equal(w.r.findings[0].message,
			    "FOO should have been imported by systemd 257 from SMBIOS 11-0 string 1 at byte 5, "
			    "but /run/credentials/@system does not exist, so PID 1 imported nothing at all: look "
			    "for credential lines of systemd[1] in the journal.");
	verify_result_free(&w.r);
}

static void test_earlier_source_winning_names_first_writer_rule(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "FOO", "fw", FATE_IMPORTED, "fw_cfg opt/io.systemd.credentials/FOO", NULL);
	cand(&w, "FOO", "bar", FATE_DROPPED_DUPLICATE, "SMBIOS 11-0 string 1 at byte 5", "fw_cfg created FOO first");
	file(&w, "FOO", "fw");
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_string_equal(w.r.findings[0].rule, "first-writer-wins");
	assert_string_equal(w.r.findings[0].message,
			    "FOO came from fw_cfg opt/io.systemd.credentials/FOO, which systemd reads first, so "
			    "the expected value in SMBIOS 11-0 string 1 at byte 5 was ignored (first writer "
			    "wins): pass the name through one source only.");
	verify_result_free(&w.r);
}

static void test_expected_absent_but_imported_fails(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "NOPE", "x", FATE_IMPORTED, "kernel command line word 2", NULL);
	file(&w, "NOPE", "x");
	expect_kind(&w, "NOPE", EXPECT_ABSENT);
	run(&w);
	assert_int_equal(w.r.findings[0].kind, FINDING_PRESENT_BUT_ABSENT_EXPECTED);
	assert_string_equal(w.r.findings[0].message,
			    "NOPE is in /run/credentials/@system although the manifest expects it absent: "
			    "systemd 257 imported it from kernel command line word 2.");
	verify_result_free(&w.r);
}

static void test_expected_absent_and_dropped_passes(void **state)
{
	struct world w;
	world_init(&w, 252);
	cand(&w, "bad/name", "x", FATE_DROPPED_INVALID_NAME, "SMBIOS 11-0 string 3 at byte 70", "it contains '/'");
	expect_kind(&w, "bad/name", EXPECT_ABSENT);
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 0);
	verify_result_free(&w.r);
}

static void test_strict_manifest_fails_on_unexpected_credential(void **state)
{
	struct world w;
	world_init(&w, 257);
	file(&w, "EXTRA", "x");
	w.m.strict = true;
	run(&w);
	/* strict: not in the manifest; self-check: nothing systemd would import explains it */
	assert_int_equal(w.r.n_failures, 2);
	assert_int_equal(w.r.findings[0].kind, FINDING_UNEXPECTED);
	assert_string_equal(w.r.findings[0].rule, "strict");
	assert_string_equal(w.r.findings[0].name, "EXTRA");
	assert_string_equal(w.r.findings[1].rule, "model-disagrees");
	verify_result_free(&w.r);
}

/* ---- self-check: the whole store against the prediction, manifest or not ---------------------- */

static void test_store_file_the_manifest_omits_still_matches_the_prediction(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "OTHER", "same", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "OTHER", "same");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 0);
	verify_result_free(&w.r);
}

static void test_store_file_the_manifest_omits_with_other_bytes_is_model_disagrees(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "OTHER", "predicted", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "OTHER", "observed!");
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_FAIL);
	assert_int_equal(w.r.n_findings, 1);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISMATCH);
	assert_string_equal(w.r.findings[0].rule, "model-disagrees");
	assert_string_equal(w.r.findings[0].message,
			    "OTHER in /run/credentials/@system (9 bytes, observed source: unknown) differs from what "
			    "systemd 257 would import from SMBIOS 11-0 string 1 at byte 5 (9 bytes): the model or the "
			    "store is wrong.");
	verify_result_free(&w.r);
}

static void test_predicted_import_absent_from_the_store_is_model_disagrees(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "GONE", "v", FATE_IMPORTED, "kernel command line word 2", NULL);
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	assert_string_equal(w.r.findings[0].rule, "model-disagrees");
	assert_string_equal(w.r.findings[0].message,
			    "systemd 257 would import GONE from kernel command line word 2 (1 bytes), but it is not in "
			    "/run/credentials/@system: the model or the store is wrong.");
	verify_result_free(&w.r);
}

/* A copy the model drops as a duplicate is what arrived: the observed source is that copy,
 * and the model is flagged. */
static void test_store_file_nothing_predicts_names_its_observed_source(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "DUP", "first", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	struct cred_candidate *c = cand(&w, "DUP", "second", FATE_DROPPED_DUPLICATE, "kernel command line word 3",
					"the name was already created by SMBIOS 11-0 string 1 at byte 5");
	c->source = CRED_SOURCE_CMDLINE;
	file(&w, "DUP", "second");
	file(&w, "NOBODY", "x");
	run(&w);
	assert_int_equal(w.r.n_failures, 2);
	assert_string_equal(w.r.findings[0].message,
			    "DUP in /run/credentials/@system (6 bytes, observed source: kernel command line word 3) "
			    "differs from what systemd 257 would import from SMBIOS 11-0 string 1 at byte 5 (5 bytes): "
			    "the model or the store is wrong.");
	assert_int_equal(w.r.findings[1].kind, FINDING_UNEXPECTED);
	assert_string_equal(w.r.findings[1].rule, "model-disagrees");
	assert_string_equal(w.r.findings[1].message,
			    "NOBODY is in /run/credentials/@system (1 bytes, observed source: unknown), but systemd 257 "
			    "would not import it: no source credscope can read carries it.");
	assert_ptr_equal(explain_observed_origin(&w.p, &w.files[0]), c);
	assert_null(explain_observed_origin(&w.p, &w.files[1]));
	verify_result_free(&w.r);
}

/* An initrd's PID 1 imported (preset $CREDENTIALS_DIRECTORY=@system): files whose bytes a
 * source carries are explained; others are said, without failing. */
static void test_initrd_import_is_explained_by_the_sources_not_flagged(void **state)
{
	struct world w;
	world_init(&w, 257);
	w.p.env.credentials_dir_preset = w.p.env.credentials_dir_is_system = true;
	w.p.skip_reason = (char *)"$CREDENTIALS_DIRECTORY=/run/credentials/@system was already set";
	cand(&w, "FROM_SMBIOS", "v", FATE_SOURCE_SKIPPED, "SMBIOS 11-0 string 1 at byte 5", "skipped");
	file(&w, "FROM_SMBIOS", "v");
	file(&w, "ZZ", "z");
	run(&w);
	assert_int_equal(w.r.n_failures, 0);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 2);   /* import-skipped, and ZZ */
	assert_string_equal(w.r.findings[0].name, "ZZ");
	assert_string_equal(w.r.findings[0].rule, "model-disagrees");
	assert_false(w.r.findings[0].failure);
	verify_result_free(&w.r);
}

static void test_weak_and_writable_store_are_findings_but_not_failures(void **state)
{
	struct world w;
	world_init(&w, 252);
	w.s.fs_type = (char *)"tmpfs";
	w.s.noswap = true;
	w.s.read_only = false;
	w.s.security = credstore_judge(&w.s, 252);
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	assert_int_equal(w.r.n_findings, 2);
	assert_int_equal(w.r.findings[0].kind, FINDING_WEAK_STORE);
	assert_string_equal(w.r.findings[0].rule, "store-fs");
	assert_string_equal(w.r.findings[0].message,
			    "/run/credentials/@system is weak: it is on tmpfs with noswap, which systemd before "
			    "257 does not count as secure, and systemd-creds 252 lists its credentials as \"weak\".");
	assert_string_equal(w.r.findings[1].rule, "store-writable");
	assert_false(w.r.findings[1].failure);
	verify_result_free(&w.r);
}

static void test_hmac_expectation_uses_manifest_key(void **state)
{
	struct world w;
	uint8_t key[16] = "0123456789abcdef";
	world_init(&w, 257);
	cand(&w, "TOKEN", "s3cret", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "TOKEN", "s3cret");
	w.m.key = key;
	w.m.key_len = sizeof key;
	struct manifest_entry *e = &w.entries[w.m.n_entries++];
	e->name = (char *)"TOKEN";
	e->digest = DIGEST_HMAC_SHA256;
	assert_int_equal(digest_hmac_sha256_hex(key, sizeof key, "s3cret", 6, e->hex), 0);
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_PASS);
	verify_result_free(&w.r);
	/* a different key must not verify */
	key[0] ^= 1;
	run(&w);
	assert_int_equal(w.r.verdict, VERDICT_FAIL);
	verify_result_free(&w.r);
}

static void test_symlink_in_store_is_missing_and_reported(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "FOO", "bar", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	file(&w, "FOO", "");
	w.files[0].problem = STORE_FILE_SYMLINK;
	w.files[0].data = NULL;
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.n_findings, 2);
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	assert_string_equal(w.r.findings[0].rule, "not-regular-file");
	assert_int_equal(w.r.findings[1].kind, FINDING_ENVIRONMENT);
	assert_false(w.r.findings[1].failure);
	verify_result_free(&w.r);
}

static void test_present_expectation_fails_only_when_missing(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "ANY", "whatever", FATE_IMPORTED, "kernel command line word 3", NULL);
	file(&w, "ANY", "whatever");
	expect_kind(&w, "ANY", EXPECT_PRESENT);
	expect_kind(&w, "GONE", EXPECT_PRESENT);
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_string_equal(w.r.findings[0].name, "GONE");
	assert_int_equal(w.r.findings[0].kind, FINDING_MISSING);
	verify_result_free(&w.r);
}

static void test_different_expectation_fails_on_the_old_bytes(void **state)
{
	struct world w;
	world_init(&w, 257);
	cand(&w, "OLD", "v1", FATE_IMPORTED, "SMBIOS 11-0 string 1 at byte 5", NULL);
	cand(&w, "ROTATED", "v2", FATE_IMPORTED, "SMBIOS 11-0 string 2 at byte 13", NULL);
	file(&w, "OLD", "v1");
	file(&w, "ROTATED", "v2");
	expect_sha(&w, "OLD", "v1");
	w.entries[0].expect = EXPECT_DIFFERENT;
	expect_sha(&w, "ROTATED", "v1");
	w.entries[1].expect = EXPECT_DIFFERENT;
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_string_equal(w.r.findings[0].name, "OLD");
	assert_int_equal(w.r.findings[0].kind, FINDING_NOT_DIFFERENT);
	assert_string_equal(w.r.findings[0].message,
			    "OLD arrived with exactly the bytes the manifest says it must differ from.");
	verify_result_free(&w.r);
}

static void test_skipped_import_is_an_environment_finding_and_explains_missing(void **state)
{
	struct world w;
	world_init(&w, 257);
	w.s.exists = false;
	w.p.skip_reason = (char *)"systemd does not import credentials in a container";
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.n_findings, 2);
	assert_string_equal(w.r.findings[0].rule, "import-skipped");
	assert_true(w.r.findings[0].failure);
	assert_string_equal(w.r.findings[0].message,
			    "FOO was not imported: systemd does not import credentials in a container.");
	assert_int_equal(w.r.findings[1].kind, FINDING_ENVIRONMENT);
	assert_false(w.r.findings[1].failure);
	verify_result_free(&w.r);
}

static void test_unreadable_smbios_is_blamed_instead_of_the_host(void **state)
{
	struct world w;
	world_init(&w, 252);
	w.s.exists = false;
	w.p.source_skip_reason[CRED_SOURCE_SMBIOS] = (char *)"/sys/firmware/dmi/entries does not exist: the kernel lacks dmi-sysfs";
	expect_sha(&w, "FOO", "bar");
	run(&w);
	assert_int_equal(w.r.n_failures, 1);
	assert_string_equal(w.r.findings[0].rule, "source-skipped");
	assert_string_equal(w.r.findings[0].message,
			    "FOO did not arrive, and systemd could not have read it from SMBIOS: "
			    "/sys/firmware/dmi/entries does not exist: the kernel lacks dmi-sysfs.");
	verify_result_free(&w.r);
}

/* --manifest naming a FIFO: refused at once with the path, not a boot-time hang. */
static void test_manifest_that_is_a_fifo_fails_at_once_naming_it(void **state)
{
	char dir[] = "/tmp/credscope-verify-fifo-XXXXXX", path[128];
	struct manifest_bytes b;
	char *error = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(manifest_source_file(path, &b, &error), -ESPIPE);
	alarm(0);
	assert_non_null(error);
	assert_non_null(strstr(error, path));
	assert_non_null(strstr(error, "cannot open the manifest: is a FIFO or socket"));
	free(error);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_that_is_a_fifo_fails_at_once_naming_it),
		cmocka_unit_test(test_all_arrived_passes_with_no_findings),
		cmocka_unit_test(test_one_byte_difference_in_store_is_a_mismatch_naming_the_byte),
		cmocka_unit_test(test_host_sending_other_bytes_is_blamed_on_the_host_value),
		cmocka_unit_test(test_credential_no_source_carries_is_missing_and_never_passed),
		cmocka_unit_test(test_invalid_name_expected_present_is_missing_by_name_validity),
		cmocka_unit_test(test_truncation_by_252_in_the_store_names_the_page_rule),
		cmocka_unit_test(test_whole_store_still_fails_when_252_would_truncate),
		cmocka_unit_test(test_same_entry_passes_as_257_where_it_arrives_whole),
		cmocka_unit_test(test_credential_past_the_page_is_missing_by_page_rule),
		cmocka_unit_test(test_predicted_import_missing_from_absent_store_blames_the_store),
		cmocka_unit_test(test_earlier_source_winning_names_first_writer_rule),
		cmocka_unit_test(test_expected_absent_but_imported_fails),
		cmocka_unit_test(test_expected_absent_and_dropped_passes),
		cmocka_unit_test(test_strict_manifest_fails_on_unexpected_credential),
		cmocka_unit_test(test_store_file_the_manifest_omits_still_matches_the_prediction),
		cmocka_unit_test(test_store_file_the_manifest_omits_with_other_bytes_is_model_disagrees),
		cmocka_unit_test(test_predicted_import_absent_from_the_store_is_model_disagrees),
		cmocka_unit_test(test_store_file_nothing_predicts_names_its_observed_source),
		cmocka_unit_test(test_initrd_import_is_explained_by_the_sources_not_flagged),
		cmocka_unit_test(test_weak_and_writable_store_are_findings_but_not_failures),
		cmocka_unit_test(test_hmac_expectation_uses_manifest_key),
		cmocka_unit_test(test_symlink_in_store_is_missing_and_reported),
		cmocka_unit_test(test_present_expectation_fails_only_when_missing),
		cmocka_unit_test(test_different_expectation_fails_on_the_old_bytes),
		cmocka_unit_test(test_skipped_import_is_an_environment_finding_and_explains_missing),
		cmocka_unit_test(test_unreadable_smbios_is_blamed_instead_of_the_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
