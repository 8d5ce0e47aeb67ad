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

/* A valid report carrying "smbios": SMBIOS (a JSON value). */
static char *with_smbios(const char *smbios)
{
	char *s = make_report(FOO_CRED(H1), "", "pass"), *at = strstr(s, "\"verdict\":"), *m;
	assert_non_null(at);
	assert_true(asprintf(&m, "%.*s\"smbios\":%s,%s", (int)(at - s), s, smbios, at) > 0);
	free(s);
	return m;
}

static void test_smbios_entry_point_is_optional_and_one_of_four_anchors(void **state)
{
	static const struct { const char *smbios, *error; } bad[] = {
		{ "\"_SM3_\"", "smbios: expected an object" },
		{ "{\"entry_point\":\"_SM3_\"}", "smbios.version: missing" },
		{ "{\"entry_point\":\"_SM4_\",\"version\":\"4.0\"}", "smbios.entry_point: expected _SM3_, _SM_, _DMI_ or none" },
		{ "{\"entry_point\":\"_SM3_\",\"version\":3}", "smbios.version: expected a string" },
		{ "{\"entry_point\":\"_SM3_\",\"version\":\"3.0.0\",\"tables\":1}", "smbios.tables: unknown field" },
		{ "{\"entry_point\":\"_SM_\",\"version\":\"2.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\"}",
		  "smbios.version: longer than 32 characters" },
	};
	struct report r;
	char *s = make_report(FOO_CRED(H1), "", "pass");

	assert_int_equal(parse_str(s, &r, NULL), 0);   /* an older agent sends none */
	assert_null(r.smbios_entry_point);
	report_free(&r);
	free(s);
	s = with_smbios("{\"entry_point\":\"_SM3_\",\"version\":\"3.0.0\"}");
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_string_equal(r.smbios_entry_point, "_SM3_");
	assert_string_equal(r.smbios_version, "3.0.0");
	report_free(&r);
	free(s);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = with_smbios(bad[i].smbios);
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

/* ---- grouping: one sentence per cause ------------------------------------------------ */

/* A report in which every source string is one credential "C%03u" from SMBIOS 11-0 (35
 * bytes each, as "io.systemd.credential:C000=val-000"); FATE(i) decides each one's fate
 * and detail, and the imported ones are in the store with HMAC H1. */
struct gen_fate {
	const char *fate;
	const char *detail;
};
typedef struct gen_fate (*fate_of)(unsigned i);

static char *grouping_report(unsigned n, fate_of fate, const char *extra_creds)
{
	char *srcs = NULL, *creds = NULL, *s = NULL;
	size_t sl = 0, cl = 0;
	FILE *fs = open_memstream(&srcs, &sl), *fc = open_memstream(&creds, &cl);
	const char *sep = "";
	assert_non_null(fs);
	assert_non_null(fc);
	for (unsigned i = 0; i < n; i++) {
		struct gen_fate g = fate(i);
		fprintf(fs, "%s{\"source\":\"smbios\",\"origin\":\"SMBIOS 11-0 string %u at byte %u\",\"length\":34,"
			"\"binary\":false,\"name\":\"C%03u\",\"fate\":\"%s\",\"detail\":\"%s\"}", i ? "," : "", i + 1,
			5 + 35 * i, i, g.fate, g.detail);
		if (strcmp(g.fate, "imported") == 0) {
			fprintf(fc, "%s{\"name\":\"C%03u\",\"size\":7,\"mode\":\"0400\",\"uid\":0,\"gid\":0,"
				"\"source\":\"smbios\",\"hmac-sha256\":\"" H1 "\"}", sep, i);
			sep = ",";
		}
	}
	if (extra_creds)
		fprintf(fc, "%s%s", sep, extra_creds);
	fclose(fs);
	fclose(fc);
	int r = asprintf(&s,
		"{\"credscope-report\":1,\"agent\":{\"version\":\"0.1.0\"},"
		"\"systemd\":{\"version\":257,\"detected\":true},\"kernel\":\"6.12.57+deb13-cloud-amd64\","
		"\"manifest\":{\"source\":\"label:credscope\",\"sha256\":\"" MSHA "\"},"
		"\"env\":{\"container\":false,\"confidential_vm\":false,\"credentials_dir_preset\":false,"
		"\"import_disabled\":false,\"dmi_sysfs\":true,\"fw_cfg\":true,\"page_size\":4096},"
		"\"sources\":[%s],"
		"\"store\":{\"path\":\"/run/credentials/@system\",\"exists\":true,\"fs\":\"tmpfs\",\"secure\":true,"
		"\"read_only\":true},"
		"\"credentials\":[%s],\"findings\":[],\"verdict\":\"fail\"}", srcs, creds);
	assert_true(r > 0);
	free(srcs);
	free(creds);
	return s;
}

/* The host's diagnosis for a case sending C000..C(n-1) (7 bytes each, by SMBIOS) judged
 * against grouping_report(n, fate, extra_creds); strict as asked. */
static char *grouped_diagnosis(unsigned n, fate_of fate, bool strict, const char *extra_creds)
{
	struct test_case tc;
	struct case_view v;
	struct report r;
	struct judgement j;
	struct sent_cred *sent = calloc(n, sizeof *sent);
	char (*names)[16] = calloc(n, sizeof *names);
	char *cj = NULL, *s = grouping_report(n, fate, extra_creds), *text;
	size_t cl = 0;
	FILE *f = open_memstream(&cj, &cl);

	assert_non_null(sent);
	assert_non_null(names);
	assert_non_null(f);
	fprintf(f, "{\"name\":\"g\",\"strict\":%s,\"credentials\":[", strict ? "true" : "false");
	for (unsigned i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "C%03u", i);
		fprintf(f, "%s{\"name\":\"%s\",\"value\":\"val-%03u\"}", i ? "," : "", names[i], i);
		sent[i] = (struct sent_cred){ .name = names[i], .via = VIA_SMBIOS, .len = 7, .hmac = H1 };
	}
	fputs("]}", f);
	fclose(f);
	assert_int_equal(case_parse(cj, strlen(cj), "g.json", &tc, NULL), 0);
	assert_int_equal(case_view(&tc, "trixie", &v), 0);
	struct judge_input in = { .view = &v, .sent = sent, .n_sent = n, .machine = "q35", .manifest_sha256 = MSHA };
	assert_int_equal(parse_str(s, &r, NULL), 0);
	assert_int_equal(report_judge(&r, &in, &j), 0);
	assert_int_equal(j.verdict, OUTCOME_FAIL);
	assert_true(j.agent_agrees);
	text = judgement_text(&j);
	assert_non_null(text);
	judgement_free(&j);
	report_free(&r);
	case_view_free(&v);
	case_free(&tc);
	free(cj);
	free(s);
	free(sent);
	free(names);
	return text;
}

#define FIRST_FULL "the credential store, a 1 MiB tmpfs, had 0 of 256 pages of 4096 bytes left and this needs 1: " \
	"systemd logged \\\"Failed to write credential: No space left on device\\\", unlinked the file and " \
	"stopped importing SMBIOS"
#define LATER_FULL "systemd stopped importing SMBIOS when C256 (SMBIOS 11-0 string 257 at byte 8965) failed with " \
	"No space left on device: the credential store was full"

/* systemd 257 on a 1 MiB tmpfs: 256 pages, so C256 fails with ENOSPC and stops the rest */
static struct gen_fate store_full_at_256(unsigned i)
{
	return i < 256 ? (struct gen_fate){ "imported", "written as 7 bytes" } :
	       i == 256 ? (struct gen_fate){ "store-full", FIRST_FULL } : (struct gen_fate){ "store-full", LATER_FULL };
}

static void test_a_full_store_is_one_sentence_naming_the_first_dropped_and_the_count(void **state)
{
	char *t = grouped_diagnosis(300, store_full_at_256, false, NULL);
	assert_string_equal(t, "C256 and 43 more (C257, C258, C259, C260, C261, C262, C263, ..., C299): missing from "
			    "/run/credentials/@system (sent 7 bytes by smbios; guest sources: SMBIOS 11-0 string 257 at "
			    "byte 8965: store-full (the credential store, a 1 MiB tmpfs, had 0 of 256 pages of 4096 bytes "
			    "left and this needs 1: systemd logged \"Failed to write credential: No space left on device\", "
			    "unlinked the file and stopped importing SMBIOS))");
	free(t);
}

/* 252 reads one page: C116 is cut, the rest past the page (one cause), then 2 more of
 * another cause (invalid names) after an arrived-different one */
static struct gen_fate page_cut(unsigned i)
{
	return i < 2 ? (struct gen_fate){ "imported", "written as 7 bytes" } :
	       i == 2 ? (struct gen_fate){ "imported-truncated", "cut" } :
	       i < 5 ? (struct gen_fate){ "past-page", "past" } :
	       i == 5 ? (struct gen_fate){ "imported-truncated", "cut too" } : (struct gen_fate){ "past-page", "past" };
}

static const char *page_cut_creds =
	"{\"name\":\"C002\",\"size\":4,\"mode\":\"0400\",\"uid\":0,\"gid\":0,\"source\":\"smbios\",\"hmac-sha256\":\"" H2 "\"},"
	"{\"name\":\"C005\",\"size\":4,\"mode\":\"0400\",\"uid\":0,\"gid\":0,\"source\":\"smbios\",\"hmac-sha256\":\"" H2 "\"}";

static void test_causes_are_grouped_where_their_first_stood_and_differ_by_fate(void **state)
{
	char *t = grouped_diagnosis(8, page_cut, false, page_cut_creds);
	assert_string_equal(t,
		"C002 and 1 more (C005): arrived different: 4 bytes in the guest, 7 sent, HMAC differs (guest sources: "
		"SMBIOS 11-0 string 3 at byte 75: imported-truncated (cut)); "
		"C003 and 3 more (C004, C006, C007): missing from /run/credentials/@system (sent 7 bytes by smbios; "
		"guest sources: SMBIOS 11-0 string 4 at byte 110: past-page (past))");
	free(t);
}

/* nine of one cause: the eight after the first are all listed, no "..." */
static struct gen_fate nine_past_page(unsigned i)
{
	return i < 1 ? (struct gen_fate){ "imported", "written as 7 bytes" } : (struct gen_fate){ "past-page", "past" };
}

static void test_a_group_of_nine_lists_every_name(void **state)
{
	char *t = grouped_diagnosis(10, nine_past_page, false, NULL);
	assert_string_equal(t, "C001 and 8 more (C002, C003, C004, C005, C006, C007, C008, C009): missing from "
			    "/run/credentials/@system (sent 7 bytes by smbios; guest sources: SMBIOS 11-0 string 2 at "
			    "byte 40: past-page (past))");
	free(t);
}

static struct gen_fate all_imported(unsigned i)
{
	(void)i;
	return (struct gen_fate){ "imported", "written as 7 bytes" };
}

/* strict: 20 files the case does not know, named by the guest with 1000 bytes each: one
 * sentence, each name shown cut to 128 bytes, 8 names listed besides the first */
static void test_hostile_names_in_a_group_are_cut_and_few(void **state)
{
	char *extra = NULL, *want = NULL, *t;
	size_t el = 0, wl = 0;
	FILE *fe = open_memstream(&extra, &el), *fw = open_memstream(&want, &wl);
	char longname[1001];

	assert_non_null(fe);
	assert_non_null(fw);
	for (unsigned i = 0; i < 20; i++) {
		memset(longname, 'a' + i, 1000);
		longname[1000] = '\0';
		fprintf(fe, "%s{\"name\":\"%s\",\"size\":1,\"mode\":\"0400\",\"uid\":0,\"gid\":0,\"source\":\"unknown\"}",
			i ? "," : "", longname);
		if (i == 0)
			fprintf(fw, "%.128s... and 19 more (", longname);
		else if (i < 8 || i == 19)
			fprintf(fw, "%s%.128s...", i > 1 ? ", " : "", longname);
		if (i == 8)
			fputs(", ...", fw);
	}
	fputs("): in /run/credentials/@system but not expected (strict)", fw);
	fclose(fe);
	fclose(fw);
	t = grouped_diagnosis(1, all_imported, true, extra);
	assert_string_equal(t, want);
	assert_true(strlen(t) < 10 * 135 + 60);
	free(t);
	free(extra);
	free(want);
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
		cmocka_unit_test(test_a_full_store_is_one_sentence_naming_the_first_dropped_and_the_count),
		cmocka_unit_test(test_causes_are_grouped_where_their_first_stood_and_differ_by_fate),
		cmocka_unit_test(test_a_group_of_nine_lists_every_name),
		cmocka_unit_test(test_hostile_names_in_a_group_are_cut_and_few),
		cmocka_unit_test(test_escaped_names_match_the_hosts_bytes),
		cmocka_unit_test(test_pid1_log_is_optional_typed_and_consistent),
		cmocka_unit_test(test_smbios_entry_point_is_optional_and_one_of_four_anchors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
