/* Unit tests for host-harness/runner/differential.c: the host's count of credentials whose
 * predicted fate PID 1 bore out, from the report's sources (prediction) and credentials
 * (the store PID 1 wrote), and the differential case field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/case.h"
#include "runner/case_manifest.h"
#include "runner/differential.h"
#include "runner/report_check.h"

#define MSHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define S1 "SMBIOS 11-0 string 1 at byte 5"
#define S2 "SMBIOS 11-0 string 2 at byte 40"
#define FW "fw_cfg opt/io.systemd.credentials/A"

static char *src(const char *origin, const char *source, const char *name, const char *fate)
{
	char *s;
	assert_true(asprintf(&s, "{\"source\":\"%s\",\"origin\":\"%s\",\"length\":9,\"binary\":false,\"name\":%s%s%s,"
			     "\"fate\":\"%s\",\"detail\":\"why\"}", source, origin, name ? "\"" : "", name ? name : "null",
			     name ? "\"" : "", fate) > 0);
	return s;
}

static char *cred(const char *name, const char *origin)
{
	char *s;
	assert_true(asprintf(&s, "{\"name\":\"%s\",\"size\":3,\"mode\":\"0400\",\"uid\":0,\"gid\":0,\"source\":\"%s\"%s%s%s}",
			     name, origin ? "smbios" : "unknown", origin ? ",\"origin\":\"" : "", origin ? origin : "",
			     origin ? "\"" : "") > 0);
	return s;
}

static const char *pid1_log = "";

/* A valid report with these sources and store files (each a malloc'd JSON object or NULL),
 * and pid1_log's text before the verdict. */
static void parse(struct report *r, char *const *sources, char *const *creds, const char *verdict)
{
	char *s, *sl = strdup(""), *cl = strdup("");
	for (size_t i = 0; sources[i]; i++) {
		char *n;
		assert_true(asprintf(&n, "%s%s%s", sl, i ? "," : "", sources[i]) > 0);
		free(sl), free(sources[i]), sl = n;
	}
	for (size_t i = 0; creds[i]; i++) {
		char *n;
		assert_true(asprintf(&n, "%s%s%s", cl, i ? "," : "", creds[i]) > 0);
		free(cl), free(creds[i]), cl = n;
	}
	assert_true(asprintf(&s,
		"{\"credscope-report\":1,\"agent\":{\"version\":\"0.1.0\"},"
		"\"systemd\":{\"version\":257,\"detected\":true},\"kernel\":\"6.12\","
		"\"manifest\":{\"source\":\"label:credscope\",\"sha256\":\"" MSHA "\"},"
		"\"env\":{\"container\":false,\"confidential_vm\":false,\"credentials_dir_preset\":false,"
		"\"import_disabled\":false,\"dmi_sysfs\":true,\"fw_cfg\":true,\"page_size\":4096},"
		"\"sources\":[%s],\"store\":{\"path\":\"/run/credentials/@system\",\"exists\":true,\"fs\":\"tmpfs\","
		"\"secure\":true,\"read_only\":true},\"credentials\":[%s],\"findings\":[],%s\"verdict\":\"%s\"}",
		sl, cl, pid1_log, verdict) > 0);
	char *err = NULL;
	if (report_parse(s, strlen(s), r, &err) < 0)
		fail_msg("report_parse: %s", err ? err : "?");
	free(s), free(sl), free(cl);
}

static void judge(const struct report *r, struct judgement *j)
{
	memset(j, 0, sizeof *j);
	assert_int_equal(differential_judge(r, j), 0);
	assert_true(j->diff.on);
}

static void test_agreement_counts_credentials_only(void **state)
{
	struct report r;
	struct judgement j;
	char *sources[] = { src(S1, "smbios", "A", "imported"), src(S2, "smbios", NULL, "not-a-credential"),
			    src("kernel command line word 3", "cmdline", "B", "invalid-name"), NULL };
	char *creds[] = { cred("A", S1), NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.total, 2);   /* the vendor string is no credential */
	assert_int_equal(j.diff.agree, 2);
	assert_int_equal(j.n_problems, 0);
	judgement_free(&j), report_free(&r);
}

static void test_predicted_import_missing(void **state)
{
	struct report r;
	struct judgement j;
	char *sources[] = { src(S1, "smbios", "A", "imported"), NULL };
	char *creds[] = { NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.total, 1);
	assert_int_equal(j.diff.agree, 0);
	assert_int_equal(j.n_problems, 1);
	assert_string_equal(j.problems[0], "A: the model predicts imported from " S1 ", but PID 1 put no such file "
			    "into /run/credentials/@system");
	judgement_free(&j), report_free(&r);
}

static void test_other_string_won(void **state)
{
	struct report r;
	struct judgement j;
	/* the model says the first string wins; PID 1 kept the second (first writer lost) */
	char *sources[] = { src(S1, "smbios", "A", "imported"), src(S2, "smbios", "A", "duplicate"), NULL };
	char *creds[] = { cred("A", S2), NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.total, 2);
	assert_int_equal(j.diff.agree, 0);
	assert_int_equal(j.n_problems, 2);
	assert_string_equal(j.problems[0], "A: the model predicts the bytes of " S1 ", but /run/credentials/@system "
			    "holds those of " S2);
	assert_string_equal(j.problems[1], "A: the model predicts duplicate for " S2 ": why, but PID 1 imported it");
	judgement_free(&j), report_free(&r);
}

static void test_unknown_bytes(void **state)
{
	struct report r;
	struct judgement j;
	char *sources[] = { src(FW, "fw_cfg", "A", "imported"), NULL };
	char *creds[] = { cred("A", NULL), NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.agree, 0);
	assert_string_equal(j.problems[0], "A: the model predicts the bytes of " FW ", but /run/credentials/@system "
			    "holds those of bytes no source string carries");
	judgement_free(&j), report_free(&r);
}

static void test_unpredicted_store_file(void **state)
{
	struct report r;
	struct judgement j;
	/* dropped by the model (store-full), but PID 1 wrote it; and a file no string names */
	char *sources[] = { src(S1, "smbios", "A", "store-full"), NULL };
	char *creds[] = { cred("A", S1), cred("Z", NULL), NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.total, 3);
	assert_int_equal(j.diff.agree, 0);
	assert_int_equal(j.n_problems, 3);
	assert_string_equal(j.problems[0], "A: the model predicts store-full for " S1 ": why, but PID 1 imported it");
	assert_string_equal(j.problems[1], "A: in /run/credentials/@system (3 bytes, observed " S1 "), but the model "
			    "predicts no import of that name");
	assert_string_equal(j.problems[2], "Z: in /run/credentials/@system (3 bytes, observed bytes no source string "
			    "carries), but the model predicts no import of that name");
	judgement_free(&j), report_free(&r);
}

/* A run of one disagreement is one grouped sentence naming the first and the count. */
static void test_disagreements_grouped(void **state)
{
	struct report r;
	struct judgement j;
	char *sources[] = { src("SMBIOS 11-0 string 1 at byte 5", "smbios", "C0", "imported"),
			    src("SMBIOS 11-0 string 2 at byte 20", "smbios", "C1", "imported"),
			    src("SMBIOS 11-0 string 3 at byte 35", "smbios", "C2", "imported"), NULL };
	char *creds[] = { NULL };
	parse(&r, sources, creds, "pass");
	judge(&r, &j);
	assert_int_equal(j.diff.total, 3);
	assert_int_equal(j.diff.agree, 0);
	char *text = judgement_text(&j);
	assert_string_equal(text, "C0 and 2 more (C1, C2): the model predicts imported from SMBIOS 11-0 string 1 at "
			    "byte 5, but PID 1 put no such file into /run/credentials/@system");
	free(text);
	judgement_free(&j), report_free(&r);
}

/* A hostile report cannot make the host compare without bound. */
static void test_pairs_bounded(void **state)
{
	struct report r = { .n_sources = 8000, .n_creds = 0, .store_path = "/run/credentials/@system" };
	struct judgement j;
	memset(&j, 0, sizeof j);
	assert_int_equal(differential_judge(&r, &j), 0);
	assert_int_equal(j.n_problems, 1);
	assert_string_equal(j.problems[0], "the report has 8000 source strings and 0 store files, more than a "
			    "differential count compares (50000000 pairs at most)");
	assert_int_equal(j.diff.total, 0);
	judgement_free(&j);
}

/* PID 1's own lines, as the agent compared them: counted, and a difference is a problem. */
static void test_pid1_log_counts(void **state)
{
	struct report r;
	struct judgement j;
	char *sources[] = { src(S1, "smbios", "A", "imported"), NULL };
	char *creds[] = { cred("A", S1), NULL };
	pid1_log = "\"pid1_log\":{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":3,\"compared\":3,\"agree\":2},";
	parse(&r, sources, creds, "fail");
	pid1_log = "";
	judge(&r, &j);
	assert_int_equal(j.diff.agree, 1);
	assert_int_equal(j.diff.pid1_compared, 3);
	assert_int_equal(j.diff.pid1_agree, 2);
	assert_int_equal(j.n_problems, 1);
	assert_string_equal(j.problems[0], "PID 1's own log: 2 of 3 of its import lines agree with the model (/dev/kmsg)");
	judgement_free(&j), report_free(&r);
}

/* Through report_judge: the agent's own verdict must agree with the host's count. */
static void test_judge_instead_and_agent_verdict(void **state)
{
	struct test_case tc = { .name = "d", .differential = true };
	struct case_view v = { .tc = &tc, .image = "trixie" };
	struct judge_input in = { .view = &v, .judge_instead = differential_judge };
	struct report r;
	struct judgement j;
	char *sources[] = { src(S1, "smbios", "A", "imported"), NULL };
	char *creds[] = { NULL };
	parse(&r, sources, creds, "pass");
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_false(j.agent_agrees);   /* the agent's self-check passed what PID 1 contradicts */
	assert_int_equal(j.diff.total, 1);
	assert_int_equal(j.n_problems, 2);
	judgement_free(&j), report_free(&r);

	char *s2[] = { src(S1, "smbios", "A", "imported"), NULL };
	char *c2[] = { cred("A", S1), NULL };
	parse(&r, s2, c2, "pass");
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.verdict, OUTCOME_PASS);
	assert_int_equal(j.diff.agree, 1);
	judgement_free(&j), report_free(&r);
}

static void assert_case_error(const char *json, const char *needle)
{
	struct test_case tc;
	char *err = NULL;
	assert_true(case_parse(json, strlen(json), "cases/d.json", &tc, &err) < 0);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("\"%s\" does not contain \"%s\"", err, needle);
	free(err);
}

static void test_case_field(void **state)
{
	struct test_case tc;
	const char *ok = "{\"name\":\"d\",\"differential\":true,\"oem_strings\":[\"io.systemd.credential:A=1\"]}";
	assert_int_equal(case_parse(ok, strlen(ok), "cases/d.json", &tc, NULL), 0);
	assert_true(tc.differential);
	case_free(&tc);
	assert_case_error("{\"name\":\"d\",\"differential\":\"yes\"}", "differential: expected true or false");
	assert_case_error("{\"name\":\"d\",\"differential\":true,\"expect\":{\"A\":\"absent\"}}",
			  "differential: the model is judged against what PID 1 did");
	assert_case_error("{\"name\":\"d\",\"differential\":true,\"outcome\":\"fail\"}", "differential:");
	assert_case_error("{\"name\":\"d\",\"differential\":true,\"strict\":true}", "differential:");
}

/* The manifest of a differential case expects nothing of what it sends (only the key). */
static void test_manifest_expects_nothing(void **state)
{
	struct test_case tc = { .name = "d", .differential = true };
	struct case_view v = { .tc = &tc, .image = "trixie" };
	struct sent_cred sent[] = { { .name = "A", .via = VIA_SMBIOS, .len = 1, .hmac = "ab" } };
	uint8_t key[32] = { 1 };
	char *json = NULL;
	assert_int_equal(case_manifest_json(&v, false, sent, 1, key, sizeof key, &json), 0);
	assert_null(strstr(json, "\"A\""));
	free(json);
	tc.differential = false;
	memset(sent[0].hmac, 'a', sizeof sent[0].hmac - 1);
	assert_int_equal(case_manifest_json(&v, false, sent, 1, key, sizeof key, &json), 0);
	assert_non_null(strstr(json, "\"A\""));
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agreement_counts_credentials_only),
		cmocka_unit_test(test_predicted_import_missing),
		cmocka_unit_test(test_other_string_won),
		cmocka_unit_test(test_unknown_bytes),
		cmocka_unit_test(test_unpredicted_store_file),
		cmocka_unit_test(test_disagreements_grouped),
		cmocka_unit_test(test_pairs_bounded),
		cmocka_unit_test(test_pid1_log_counts),
		cmocka_unit_test(test_judge_instead_and_agent_verdict),
		cmocka_unit_test(test_case_field),
		cmocka_unit_test(test_manifest_expects_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
