/* The whole agent pipeline on fixture roots (tests/fixtures/roots): sources, systemd's rules,
 * the store, the manifest, verify, and the sentence explain ends with. Run from the
 * repository root (make unit does). */
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

#include "check.h"
#include "explain.h"

#define ROOTS "tests/fixtures/roots/"

static int run(const char *root, unsigned version, const char *manifest, struct check *c)
{
	struct cli_ctx ctx = { .root = root, .systemd_version = version };
	struct manifest_opts o = { .file = manifest };
	return check_run(&ctx, &o, c);
}

static const struct finding *failure(const struct check *c, size_t i)
{
	size_t seen = 0;
	for (size_t k = 0; k < c->result.n_findings; k++)
		if (c->result.findings[k].failure && seen++ == i)
			return &c->result.findings[k];
	fail_msg("no failure #%zu", i);
	return NULL;
}

static void test_all_arrived_exits_0(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials.json", &c), 0);
	assert_int_equal(c.verdict, VERDICT_PASS);
	assert_int_equal(c.result.n_failures, 0);
	assert_int_equal(c.snap.pred.env.systemd_version, 252);
	assert_true(c.snap.pred.env.version_detected);
	assert_string_equal(c.bytes.source, "file:" ROOTS "manifests/credentials.json");
	check_free(&c);
}

static void test_one_byte_difference_exits_1_and_names_the_store(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-onebyte", 0, ROOTS "manifests/credentials.json", &c), 1);
	assert_int_equal(c.result.n_failures, 1);
	assert_string_equal(failure(&c, 0)->name, "FOO");
	assert_string_equal(failure(&c, 0)->rule, "store-modified");
	assert_string_equal(failure(&c, 0)->message,
			    "FOO in /run/credentials/@system (3 bytes, first difference at byte 2) is not what "
			    "systemd 252 imported from SMBIOS 11-0 string 1 at byte 5 (3 bytes): something "
			    "rewrote it after the import.");
	check_free(&c);
}

static void test_missing_credential_exits_1_never_passed(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials-missing.json", &c), 1);
	assert_int_equal(c.result.n_failures, 1);
	assert_string_equal(failure(&c, 0)->name, "MISSING");
	assert_int_equal(failure(&c, 0)->kind, FINDING_MISSING);
	assert_string_equal(failure(&c, 0)->rule, "not-passed");
	check_free(&c);
}

static void test_invalid_name_expected_present_exits_1_by_name_validity(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials-invalid-name.json", &c), 1);
	assert_int_equal(c.result.n_failures, 1);
	assert_string_equal(failure(&c, 0)->name, "bad/name");
	assert_string_equal(failure(&c, 0)->rule, "name-validity");
	assert_string_equal(failure(&c, 0)->message,
			    "bad/name was dropped by systemd's name check (credential_name_valid): its name "
			    "contains '/'.");
	check_free(&c);
}

static void test_truncation_by_252_exits_1_by_the_page_rule(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-truncated-252", 0, ROOTS "manifests/bigentry.json", &c), 1);
	assert_int_equal(c.result.n_failures, 2);
	assert_string_equal(failure(&c, 0)->name, "SECOND");
	assert_int_equal(failure(&c, 0)->kind, FINDING_MISMATCH);
	assert_string_equal(failure(&c, 0)->rule, "page-truncation");
	assert_non_null(strstr(failure(&c, 0)->message, "SECOND was truncated to 1033 of 3000 bytes by systemd's "
							"one-page read of SMBIOS entries"));
	assert_string_equal(failure(&c, 1)->name, "THIRD");
	assert_int_equal(failure(&c, 1)->kind, FINDING_MISSING);
	assert_string_equal(failure(&c, 1)->rule, "page-truncation");
	check_free(&c);
}

static void test_large_entry_passes_as_257_and_fails_as_252(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-bigentry-257", 0, ROOTS "manifests/bigentry.json", &c), 0);
	assert_int_equal(c.snap.pred.env.systemd_version, 257);
	assert_int_equal(c.snap.store.security, STORE_SECURITY_SECURE);   /* tmpfs + noswap on 257 */
	check_free(&c);
	assert_int_equal(run(ROOTS "verify-bigentry-257", 252, ROOTS "manifests/bigentry.json", &c), 1);
	assert_int_equal(c.result.n_failures, 2);
	assert_string_equal(failure(&c, 0)->rule, "page-truncation");
	assert_string_equal(failure(&c, 1)->rule, "page-truncation");
	assert_int_equal(c.snap.store.security, STORE_SECURITY_WEAK);     /* 252's systemd-creds */
	check_free(&c);
}

static void test_malformed_manifest_exits_2_naming_the_field(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials-malformed.json", &c), 2);
	assert_int_equal(c.verdict, VERDICT_ERROR);
	assert_string_equal(c.error, "file:" ROOTS "manifests/credentials-malformed.json: credentials.FOO.sha265: "
			    "unknown field (known: sha256, hmac-sha256, absent, present, different)");
	check_free(&c);
}

static void test_unreadable_manifest_exits_2(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, "/nonexistent/manifest.json", &c), 2);
	assert_string_equal(c.error, "/nonexistent/manifest.json: cannot open the manifest: No such file or directory");
	check_free(&c);
}

static void test_explain_absent_names_the_page_rule_for_a_lost_string(void **state)
{
	struct check c;
	const char *rule = NULL;
	assert_int_equal(run(ROOTS "verify-truncated-252", 0, ROOTS "manifests/bigentry.json", &c), 1);
	char *s = explain_absent(&c.snap.pred, &c.snap.store, "THIRD", &rule);
	assert_string_equal(rule, "page-truncation");
	assert_string_equal(s, "THIRD was dropped by systemd's one-page read of SMBIOS entries (systemd before 257): "
			    "the entry is 6097 bytes, systemd 252 reads only the first 4096, and THIRD starts at "
			    "byte 6064.");
	free(s);
	check_free(&c);
}

static void test_explain_present_says_where_it_came_from(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials.json", &c), 0);
	char *s = explain_present(&c.snap.pred, credstore_find(&c.snap.store, "EQ"), "EQ");
	assert_string_equal(s, "EQ is present as expected: systemd 252 imported it from SMBIOS 11-0 string 5 at "
			    "byte 150, and /run/credentials/@system holds those 3 bytes.");
	free(s);
	check_free(&c);
}

/* After an initrd's import (preset @system, --switched-root) the importer is the initrd's
 * PID 1. */
static void test_explain_present_names_the_initrd_pid1(void **state)
{
	struct check c;
	assert_int_equal(run(ROOTS "verify-ok", 0, ROOTS "manifests/credentials.json", &c), 0);
	c.snap.pred.env.credentials_dir_preset = c.snap.pred.env.credentials_dir_is_system = true;
	c.snap.pred.env.pid1_switched_root = true;
	char *s = explain_present(&c.snap.pred, credstore_find(&c.snap.store, "EQ"), "EQ");
	assert_string_equal(s, "EQ is present as expected: systemd 252 in the initrd (PID 1 before switch-root) "
			    "imported it from SMBIOS 11-0 string 5 at byte 150, and /run/credentials/@system holds "
			    "those 3 bytes.");
	free(s);
	check_free(&c);
}

/* A copy of verify-ok whose host passed the manifest as the fw_cfg entry
 * opt/io.credscope/manifest (what the harness does by default); RAW is "file" (the
 * manifest), "fifo" or "" (no entry). Returns the malloc'd root. */
static char *fw_cfg_root(const char *raw)
{
	char tmpl[] = "/tmp/credscope-fwcfg-XXXXXX", cmd[1024];
	assert_non_null(mkdtemp(tmpl));
	snprintf(cmd, sizeof cmd, "cp -RLp " ROOTS "verify-ok/. %s/ && mkdir -p %s/sys/firmware/qemu_fw_cfg/by_name/opt/"
		 "io.credscope/manifest", tmpl, tmpl);
	assert_int_equal(system(cmd), 0);
	if (strcmp(raw, "file") == 0)
		snprintf(cmd, sizeof cmd, "cp " ROOTS "manifests/credentials.json %s/sys/firmware/qemu_fw_cfg/by_name/opt/"
			 "io.credscope/manifest/raw", tmpl);
	else if (strcmp(raw, "fifo") == 0)
		snprintf(cmd, sizeof cmd, "mkfifo %s/sys/firmware/qemu_fw_cfg/by_name/opt/io.credscope/manifest/raw", tmpl);
	else
		snprintf(cmd, sizeof cmd, "true");
	assert_int_equal(system(cmd), 0);
	return strdup(tmpl);
}

static void remove_tree(char *root)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	free(root);
}

/* No --manifest and no label: the fw_cfg entry, with no disk to wait for. */
static void test_manifest_from_fw_cfg_when_the_host_passed_one(void **state)
{
	char *root = fw_cfg_root("file");
	struct cli_ctx ctx = { .root = root };
	struct manifest_opts o = { 0 };
	struct check c;
	assert_int_equal(check_run(&ctx, &o, &c), 0);
	assert_int_equal(c.verdict, VERDICT_PASS);
	assert_string_equal(c.bytes.source, "fw_cfg:opt/io.credscope/manifest");
	assert_null(c.bytes.device);
	check_free(&c);
	remove_tree(root);
}

/* A label asked for (option or credscope.manifest-label=) skips fw_cfg; a FIFO planted as
 * the entry is an error naming it, at once; no entry falls back to the default label. */
static void test_fw_cfg_manifest_label_wins_fifo_fails_absent_falls_back(void **state)
{
	char *root = fw_cfg_root("file");
	struct cli_ctx ctx = { .root = root };
	struct manifest_opts o = { .label = "credscope-no-such-label-4711" };
	struct check c;
	assert_int_equal(check_run(&ctx, &o, &c), 2);
	assert_non_null(strstr(c.error, "labelled \"credscope-no-such-label-4711\""));
	check_free(&c);
	remove_tree(root);

	root = fw_cfg_root("fifo");
	ctx.root = root;
	o = (struct manifest_opts){ 0 };
	alarm(5);
	assert_int_equal(check_run(&ctx, &o, &c), 2);
	alarm(0);
	assert_non_null(strstr(c.error, "/sys/firmware/qemu_fw_cfg/by_name/opt/io.credscope/manifest/raw"));
	check_free(&c);
	remove_tree(root);

	root = fw_cfg_root("");
	ctx.root = root;
	assert_int_equal(check_run(&ctx, &o, &c), 2);
	assert_non_null(strstr(c.error, "labelled \"credscope\""));
	check_free(&c);
	remove_tree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_arrived_exits_0),
		cmocka_unit_test(test_one_byte_difference_exits_1_and_names_the_store),
		cmocka_unit_test(test_missing_credential_exits_1_never_passed),
		cmocka_unit_test(test_invalid_name_expected_present_exits_1_by_name_validity),
		cmocka_unit_test(test_truncation_by_252_exits_1_by_the_page_rule),
		cmocka_unit_test(test_large_entry_passes_as_257_and_fails_as_252),
		cmocka_unit_test(test_malformed_manifest_exits_2_naming_the_field),
		cmocka_unit_test(test_unreadable_manifest_exits_2),
		cmocka_unit_test(test_explain_absent_names_the_page_rule_for_a_lost_string),
		cmocka_unit_test(test_explain_present_says_where_it_came_from),
		cmocka_unit_test(test_explain_present_names_the_initrd_pid1),
		cmocka_unit_test(test_manifest_from_fw_cfg_when_the_host_passed_one),
		cmocka_unit_test(test_fw_cfg_manifest_label_wins_fifo_fails_absent_falls_back),
	};
	/* git keeps 0644; systemd writes 0400, and the verdicts must not depend on it */
	(void)!system("chmod 0400 " ROOTS "verify-*/run/credentials/@system/* 2>/dev/null");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
