/* Unit tests for host-harness/report_check.c: the guest's report as hostile input, and the
 * host's own verdict. */
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
#include "digest.h"
#include "runner/report_check.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define MSHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A valid report; %s slots: credentials, findings, verdict. */
static __attribute__((noinline)) char *make_report(const char *creds, const char *findings, const char *verdict)
{
	char *s;
	int r = asprintf(&s,
		"{\"credscope-report\":1,\"agent\":{\"version\":\"0.1.0\"},"
		"\"systemd\":{\"version\":252,\"detected\":true},\"kernel\":\"6.1.0-28-cloud-amd64\","
		"\"manifest\":{\"source\":\"label:credscope\",\"sha256\":\"" MSHA "\"},"
		"\"env\":{\"container\":false,\"confidential_vm\":false,\"credentials_dir_preset\":false,"
		"\"import_disabled\":false,\"dmi_sysfs\":true,\"fw_cfg\":true,\"page_size\":4096},"
		"\"sources\":[{\"source\":\"smbios\",\"origin\":\"SMBIOS 11-0 string 1 at byte 5\",\"length\":27,"
		"\"binary\":false,\"name\":\"FOO\",\"fate\":\"imported\",\"detail\":\"ok\"},"
		"{\"source\":\"smbios\",\"origin\":\"SMBIOS 11-0 string 2 at byte 33\",\"length\":9,"
		"\"binary\":false,\"name\":null,\"fate\":\"not-a-credential\"}],"
		"\"store\":{\"path\":\"/run/credentials/@system\",\"exists\":true,\"fs\":\"ramfs\",\"secure\":true,"
		"\"read_only\":true},"
		"\"credentials\":[%s],\"findings\":[%s],\"verdict\":\"%s\"}", creds, findings, verdict);
	assert_true(r > 0);
	return s;
}

#define FOO_CRED(h) "{\"name\":\"FOO\",\"size\":3,\"mode\":\"0400\",\"uid\":0,\"gid\":0,\"source\":\"smbios\",\"hmac-sha256\":\"" h "\"}"

static int parse_str(const char *s, struct report *r, char **err)
{
	return report_parse(s, strlen(s), r, err);
}

static void assert_rejected(const char *s, const char *field)
{
	struct report r;
	char *err = NULL;
	assert_int_equal(parse_str(s, &r, &err), -EINVAL);
	assert_non_null(err);
	if (!strstr(err, field))
		fail_msg("error \"%s\" does not name \"%s\"", err, field);
	free(err);
}

/* Replaces the first occurrence of from in a valid report with to, and expects rejection. */
static void assert_mutation_rejected(const char *from, const char *to, const char *field)
{
	char *s = make_report(FOO_CRED(H1), "", "pass");
	char *at = strstr(s, from);
	assert_non_null(at);
	char *m;
	int off = (int)(at - s);
	const char *rest = at + strlen(from);
	int r = asprintf(&m, "%.*s%s%s", off, s, to, rest);
	assert_true(r > 0);
	assert_rejected(m, field);
	free(m);
	free(s);
}

static void test_valid_report_parses_every_field(void **state)
{
	char *s = make_report(FOO_CRED(H1), "{\"name\":null,\"kind\":\"environment\",\"message\":\"m\"}", "pass");
	struct report r;
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(r.systemd_version, 252);
	assert_int_equal(r.env_page_size, 4096);
	assert_int_equal(r.n_sources, 2);
	assert_null(r.sources[1].name);
	assert_string_equal(r.sources[0].fate, "imported");
	assert_int_equal(r.sources[0].length, 27);
	assert_int_equal(r.n_creds, 1);
	assert_true(r.creds[0].has_hmac);
	assert_string_equal(r.creds[0].hmac, H1);
	assert_string_equal(r.manifest_sha256, MSHA);
	assert_int_equal(r.n_findings, 1);
	assert_null(r.findings[0].name);
	assert_string_equal(r.verdict, "pass");
	report_free(&r);
	free(s);
}

static void test_wrong_types_are_rejected_by_field(void **state)
{
	assert_mutation_rejected("\"version\":252", "\"version\":\"252\"", "systemd.version: expected an integer");
	assert_mutation_rejected("\"dmi_sysfs\":true", "\"dmi_sysfs\":1", "env.dmi_sysfs: expected true or false");
	assert_mutation_rejected("\"length\":27", "\"length\":27.5", "sources[0].length: expected an integer");
	assert_mutation_rejected("\"size\":3", "\"size\":-3", "credentials[0].size: expected an integer");
	assert_mutation_rejected("\"sources\":[", "\"sources\":{\"x\":[", "invalid JSON");
	assert_mutation_rejected("\"verdict\":\"pass\"", "\"verdict\":\"PASS\"", "verdict: expected pass, fail or error");
}

static void test_huge_numbers_are_rejected(void **state)
{
	assert_mutation_rejected("\"length\":27", "\"length\":99999999999999999999999", "invalid JSON");
	assert_mutation_rejected("\"uid\":0", "\"uid\":4294967296", "credentials[0].uid: expected an integer from 0 to 4294967295");
	assert_mutation_rejected("\"page_size\":4096", "\"page_size\":9223372036854775807", "env.page_size");
}

static void test_missing_and_extra_fields_are_rejected(void **state)
{
	assert_mutation_rejected("\"kernel\":\"6.1.0-28-cloud-amd64\",", "", "kernel: missing");
	assert_mutation_rejected("\"fate\":\"imported\",", "", "sources[0].fate: missing");
	assert_mutation_rejected("\"gid\":0,", "", "credentials[0].gid: missing");
	assert_mutation_rejected("\"kernel\":", "\"value\":\"leak\",\"kernel\":", "value: unknown field");
	assert_mutation_rejected("\"mode\":", "\"value\":\"leak\",\"mode\":", "credentials[0].value: unknown field");
	assert_mutation_rejected("\"credscope-report\":1", "\"credscope-report\":2", "unsupported report version");
}

static void test_invalid_utf8_nul_and_duplicates_are_rejected(void **state)
{
	assert_mutation_rejected("6.1.0-28", "6.1.0-\xff\xfe", "invalid JSON");
	assert_mutation_rejected("6.1.0-28", "6.1.0-\\u0000", "invalid JSON");
	assert_mutation_rejected("\"kernel\":", "\"kernel\":\"x\",\"kernel\":", "invalid JSON");
	assert_mutation_rejected("\"hmac-sha256\":\"" H1 "\"", "\"hmac-sha256\":\"" "ZZ" "\"", "credentials[0].hmac-sha256");
	assert_rejected("[]", "top level must be a JSON object");
	assert_rejected("", "invalid JSON");
}

static struct test_case one_cred_case(struct test_case *tc)
{
	const char *j = "{\"name\":\"t\",\"credentials\":[{\"name\":\"FOO\",\"value\":\"bar\"}]}";
	assert_int_equal(case_parse(j, strlen(j), "t.json", tc, NULL), 0);
	return *tc;
}

static void judge(const char *creds, const char *verdict, const char *sent_hmac, struct judgement *j)
{
	struct test_case tc;
	struct case_view v;
	struct report r;
	char *s = make_report(creds, "", verdict);
	one_cred_case(&tc);
	assert_int_equal(case_view(&tc, "bookworm", &v), 0);
	struct sent_cred sent = { .name = "FOO", .via = VIA_SMBIOS, .len = 3 };
	strcpy(sent.hmac, sent_hmac);
	struct judge_input in = { .view = &v, .sent = &sent, .n_sent = 1, .machine = "q35", .manifest_sha256 = MSHA };
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(report_judge(&r, &in, j), 0);
	report_free(&r);
	case_view_free(&v);
	case_free(&tc);
	free(s);
}

/* A valid report carrying "pid1_log": PID1 (a JSON object or anything else). */
static char *with_pid1_log(const char *pid1)
{
	char *s = make_report(FOO_CRED(H1), "", "pass"), *at = strstr(s, "\"verdict\":"), *m;
	assert_non_null(at);
	assert_true(asprintf(&m, "%.*s\"pid1_log\":%s,%s", (int)(at - s), s, pid1, at) > 0);
	free(s);
	return m;
}

#define PID1_OK "{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":2,\"compared\":3,\"agree\":2}"

static void test_pid1_log_is_optional_typed_and_consistent(void **state)
{
	static const struct { const char *pid1, *error; } bad[] = {
		{ "[]", "pid1_log: expected an object" },
		{ "{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":2,\"compared\":3}", "pid1_log.agree: missing" },
		{ "{\"source\":\"/dev/kmsg\",\"complete\":1,\"lines\":2,\"compared\":3,\"agree\":2}",
		  "pid1_log.complete: expected true or false" },
		{ "{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":-1,\"compared\":3,\"agree\":2}",
		  "pid1_log.lines: expected an integer" },
		{ "{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":2,\"compared\":3,\"agree\":2,\"text\":\"x\"}",
		  "pid1_log.text: unknown field" },
		{ "{\"source\":\"/proc/kmsg\",\"complete\":true,\"lines\":2,\"compared\":3,\"agree\":2}",
		  "pid1_log.source: expected \"/dev/kmsg\" or \"none\"" },
		{ "{\"source\":\"/dev/kmsg\",\"complete\":true,\"lines\":2,\"compared\":3,\"agree\":4}",
		  "pid1_log.agree: 4, more than compared (3)" },
		{ "{\"source\":\"none\",\"complete\":false,\"lines\":1,\"compared\":0,\"agree\":0}",
		  "pid1_log: a log not read (\"none\") must be incomplete with no lines" },
	};
	struct report r;
	char *s = make_report(FOO_CRED(H1), "", "pass");

	assert_int_equal(parse_str(s, &r, NULL), 0);   /* absent: fine, and said */
	assert_false(r.has_pid1_log);
	assert_null(r.pid1_log_source);
	report_free(&r);
	free(s);
	s = with_pid1_log(PID1_OK);
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_true(r.has_pid1_log);
	assert_string_equal(r.pid1_log_source, "/dev/kmsg");
	assert_true(r.pid1_log_complete);
	assert_int_equal(r.pid1_log_lines, 2);
	assert_int_equal(r.pid1_log_compared, 3);
	assert_int_equal(r.pid1_log_agree, 2);
	report_free(&r);
	free(s);
	s = with_pid1_log("{\"source\":\"none\",\"complete\":false,\"lines\":0,\"compared\":0,\"agree\":0}");
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_string_equal(r.pid1_log_source, "none");
	report_free(&r);
	free(s);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = with_pid1_log(bad[i].pid1);
		assert_rejected(s, bad[i].error);
		free(s);
	}
}

static void test_matching_hmac_and_agent_pass_is_a_pass(void **state)
{
	struct judgement j;
	judge(FOO_CRED(H1), "pass", H1, &j);
	assert_int_equal(j.verdict, OUTCOME_PASS);
	assert_true(j.agent_agrees);
	assert_null(judgement_text(&j));
	judgement_free(&j);
}

static void test_agent_pass_with_wrong_hmac_is_a_disagreement(void **state)
{
	struct judgement j;
	judge(FOO_CRED(H2), "pass", H1, &j);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_false(j.agent_agrees);
	char *t = judgement_text(&j);
	assert_non_null(strstr(t, "FOO: arrived different: 3 bytes in the guest, 3 sent, HMAC differs"));
	assert_non_null(strstr(t, "disagreement: the host's verdict is fail but the agent's is pass"));
	free(t);
	judgement_free(&j);
}

static void test_agent_fail_when_host_sees_pass_is_a_failure(void **state)
{
	struct judgement j;
	judge(FOO_CRED(H1), "fail", H1, &j);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_false(j.agent_agrees);
	judgement_free(&j);
}

static void test_missing_credential_is_explained_from_the_guest_sources(void **state)
{
	struct judgement j;
	judge("", "fail", H1, &j);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_true(j.agent_agrees);
	assert_int_equal(j.n_problems, 1);
	assert_string_equal(j.problems[0], "FOO: missing from /run/credentials/@system (sent 3 bytes by smbios; guest "
					   "sources: SMBIOS 11-0 string 1 at byte 5: imported (ok))");
	judgement_free(&j);
}

static void test_report_about_another_manifest_fails(void **state)
{
	struct test_case tc;
	struct case_view v;
	struct report r;
	struct judgement j;
	char *s = make_report(FOO_CRED(H1), "", "pass");
	one_cred_case(&tc);
	assert_int_equal(case_view(&tc, "trixie", &v), 0);
	struct sent_cred sent = { .name = "FOO", .via = VIA_SMBIOS, .len = 3, .hmac = H1 };
	struct judge_input in = { .view = &v, .sent = &sent, .n_sent = 1, .machine = "q35", .manifest_sha256 = H2 };
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_non_null(strstr(j.problems[0], "the agent read a manifest with SHA-256 aaaaaaaaaaaa"));
	judgement_free(&j);
	report_free(&r);
	case_view_free(&v);
	case_free(&tc);
	free(s);
}

static void test_expected_fate_count_is_checked(void **state)
{
	struct test_case tc;
	struct case_view v;
	struct report r;
	struct judgement j;
	const char *cj = "{\"name\":\"t\",\"expect_fate\":[{\"fate\":\"not-a-credential\",\"count\":1},"
			 "{\"name\":\"FOO\",\"source\":\"fw_cfg\",\"fate\":\"imported\"}]}";
	char *s = make_report("", "", "fail");
	assert_int_equal(case_parse(cj, strlen(cj), "t.json", &tc, NULL), 0);
	assert_int_equal(case_view(&tc, "trixie", &v), 0);
	struct judge_input in = { .view = &v, .machine = "q35" };
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.n_problems, 1);
	assert_string_equal(j.problems[0], "expected at least 1 source string named FOO from fw_cfg with fate imported, "
					   "the guest reports 0");
	assert_true(j.agent_agrees);
	judgement_free(&j);
	report_free(&r);
	case_view_free(&v);
	case_free(&tc);
	free(s);
}

static void test_dropped_string_without_explanation_fails(void **state)
{
	struct test_case tc;
	struct case_view v;
	struct report r;
	struct judgement j;
	const char *cj = "{\"name\":\"t\",\"expect_fate\":[{\"fate\":\"invalid-name\"}]}";
	char *s = make_report("", "", "pass");
	char *at = strstr(s, "\"fate\":\"not-a-credential\"");
	assert_non_null(at);
	memcpy(at, "\"fate\":\"invalid-name\"    ", strlen("\"fate\":\"not-a-credential\""));
	assert_int_equal(case_parse(cj, strlen(cj), "t.json", &tc, NULL), 0);
	assert_int_equal(case_view(&tc, "trixie", &v), 0);
	struct judge_input in = { .view = &v, .machine = "q35" };
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_string_equal(j.problems[0], "SMBIOS 11-0 string 2 at byte 33: fate invalid-name without an explanation from the agent");
	judgement_free(&j);
	report_free(&r);
	case_view_free(&v);
	case_free(&tc);
	free(s);
}

static void test_escaped_names_match_the_hosts_bytes(void **state)
{
	assert_true(report_name_is("ctl\\x01x", "ctl\001x"));
	assert_true(report_name_is("caf\\xc3\\xa9", "caf\xc3\xa9"));
	assert_true(report_name_is("FOO", "FOO"));
	assert_false(report_name_is("ctl\\x01", "ctl\001x"));
	assert_false(report_name_is("ctl\\x02x", "ctl\001x"));
	assert_false(report_name_is("ctl\\X01x", "ctl\001x"));
	assert_false(report_name_is("FOOD", "FOO"));
	assert_false(report_name_is("caf\xc3\xa9", "caf\xc3\xa9"));   /* raw bytes are not the wire form */
	/* a backslash is escaped too, so a name that spells an escape is not confused with the byte */
	assert_true(report_name_is("a\\x5cx01", "a\\x01"));
	assert_false(report_name_is("a\\x01", "a\\x01"));
	assert_true(report_name_is("a\\x01", "a\001"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_report_parses_every_field),
		cmocka_unit_test(test_wrong_types_are_rejected_by_field),
		cmocka_unit_test(test_huge_numbers_are_rejected),
		cmocka_unit_test(test_missing_and_extra_fields_are_rejected),
		cmocka_unit_test(test_invalid_utf8_nul_and_duplicates_are_rejected),
		cmocka_unit_test(test_matching_hmac_and_agent_pass_is_a_pass),
		cmocka_unit_test(test_agent_pass_with_wrong_hmac_is_a_disagreement),
		cmocka_unit_test(test_agent_fail_when_host_sees_pass_is_a_failure),
		cmocka_unit_test(test_missing_credential_is_explained_from_the_guest_sources),
		cmocka_unit_test(test_report_about_another_manifest_fails),
		cmocka_unit_test(test_expected_fate_count_is_checked),
		cmocka_unit_test(test_dropped_string_without_explanation_fails),
		cmocka_unit_test(test_escaped_names_match_the_hosts_bytes),
		cmocka_unit_test(test_pid1_log_is_optional_typed_and_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
