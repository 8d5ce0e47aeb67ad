/* Unit tests for host-harness/runner/case.c: the harness case format, parsed strictly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/case.h"
#include "digest.h"

static int parse(const char *json, struct test_case *tc, char **err)
{
	return case_parse(json, strlen(json), "/cases/t.json", tc, err);
}

/* Parses json expecting failure; checks the message names the file and the field. */
static void assert_error(const char *json, const char *field)
{
	struct test_case tc;
	char *err = NULL;
	assert_int_equal(parse(json, &tc, &err), -EINVAL);
	assert_non_null(err);
	if (!strstr(err, field) || strncmp(err, "/cases/t.json: ", 15))
		fail_msg("error \"%s\" does not name \"%s\"", err, field);
	free(err);
}

static void test_design_example_parses_with_defaults(void **state)
{
	const char *json = "{ \"name\": \"text-and-binary\", \"image\": \"bookworm\", \"machine\": \"q35\","
			   "  \"credentials\": ["
			   "    { \"name\": \"FOO\", \"value\": \"bar\" },"
			   "    { \"name\": \"BIN\", \"file\": \"data/x.bin\", \"via\": \"smbios-binary\" },"
			   "    { \"name\": \"FW\",  \"value\": \"x\", \"via\": \"fw_cfg\" },"
			   "    { \"name\": \"CMD\", \"value\": \"uff\", \"via\": \"cmdline\" } ],"
			   "  \"oem_strings\": [ \"io.systemd.credential:bad/name=x\", \"any vendor string\" ],"
			   "  \"expect\": { \"bad/name\": \"absent\" } }";
	struct test_case tc;
	char *err = NULL;
	assert_int_equal(parse(json, &tc, &err), 0);
	assert_string_equal(tc.name, "text-and-binary");
	assert_int_equal(tc.n_images, 1);
	assert_string_equal(tc.images[0], "bookworm");
	assert_int_equal(tc.n_creds, 4);
	assert_int_equal(tc.creds[0].via, VIA_SMBIOS);
	assert_string_equal(tc.creds[0].value, "bar");
	assert_int_equal(tc.creds[1].via, VIA_SMBIOS_BINARY);
	assert_string_equal(tc.creds[1].file, "/cases/data/x.bin");
	assert_true(case_cred_is_secret(&tc.creds[1]));
	assert_false(case_cred_is_secret(&tc.creds[0]));
	assert_int_equal(tc.creds[2].via, VIA_FW_CFG);
	assert_int_equal(tc.creds[3].via, VIA_CMDLINE);
	assert_int_equal(tc.n_oem_strings, 2);
	assert_int_equal(tc.n_expect, 1);
	assert_int_equal(tc.expect[0].kind, CEXPECT_ABSENT);
	assert_int_equal(tc.outcome, OUTCOME_PASS);
	assert_true(case_runs_on(&tc, "bookworm"));
	assert_false(case_runs_on(&tc, "trixie"));
	case_free(&tc);
}

static void test_case_without_image_runs_on_every_flavor(void **state)
{
	struct test_case tc;
	assert_int_equal(parse("{\"name\":\"x\"}", &tc, NULL), 0);
	assert_true(case_runs_on(&tc, "bookworm"));
	assert_true(case_runs_on(&tc, "trixie"));
	assert_string_equal(tc.machine, "q35");
	case_free(&tc);
}

static void test_by_image_override_wins_per_name_and_adds_fates(void **state)
{
	const char *json = "{\"name\":\"big\",\"credentials\":[{\"name\":\"BIG\",\"value\":\"v\"}],"
			   "\"expect\":{\"BIG\":\"exact\",\"OTHER\":\"absent\"},"
			   "\"expect_fate\":[{\"fate\":\"imported\",\"count\":2}],"
			   "\"by_image\":{\"bookworm\":{\"expect\":{\"BIG\":\"different\"},"
			   "\"expect_fate\":[{\"name\":\"BIG\",\"source\":\"smbios\",\"fate\":\"imported-truncated\"}],"
			   "\"outcome\":\"fail\",\"diagnosis\":\"truncat\"}}}";
	struct test_case tc;
	struct case_view v;
	bool listed;
	assert_int_equal(parse(json, &tc, NULL), 0);
	assert_int_equal(case_view(&tc, "bookworm", &v), 0);
	assert_int_equal(case_view_expect(&v, "BIG", &listed), CEXPECT_DIFFERENT);
	assert_true(listed);
	assert_int_equal(case_view_expect(&v, "OTHER", NULL), CEXPECT_ABSENT);
	assert_int_equal(case_view_expect(&v, "NOPE", &listed), CEXPECT_EXACT);
	assert_false(listed);
	assert_int_equal(v.n_fates, 2);
	assert_string_equal(v.fates[1]->fate, "imported-truncated");
	assert_int_equal(v.fates[0]->count, 2);
	assert_int_equal(v.fates[1]->count, -1);
	assert_int_equal(v.outcome, OUTCOME_FAIL);
	assert_string_equal(v.diagnosis, "truncat");
	case_view_free(&v);
	assert_int_equal(case_view(&tc, "trixie", &v), 0);
	assert_int_equal(case_view_expect(&v, "BIG", NULL), CEXPECT_EXACT);
	assert_int_equal(v.n_fates, 1);
	assert_int_equal(v.outcome, OUTCOME_PASS);
	case_view_free(&v);
	case_free(&tc);
}

static void test_unknown_top_level_field_is_named(void **state)
{
	assert_error("{\"name\":\"x\",\"credentails\":[]}", "credentails: unknown field");
}

static void test_unknown_via_is_named_with_its_index(void **state)
{
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"1\",\"via\":\"smbois\"}]}",
		     "credentials[1].via: unknown value \"smbois\"");
}

static void test_credential_needs_exactly_one_source(void **state)
{
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\"}]}", "credentials[0]: give exactly one of value, file, random");
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\",\"random\":3}]}", "give exactly one");
}

static void test_secret_on_kernel_command_line_is_refused(void **state)
{
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"random\":16,\"via\":\"cmdline\"}]}",
		     "credentials[0].via: the kernel command line");
}

static void test_cmdline_value_with_blank_is_refused(void **state)
{
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"a b\",\"via\":\"cmdline\"}]}",
		     "credentials[0].value: contains a blank");
}

static void test_fw_cfg_name_over_55_characters_is_refused(void **state)
{
	/* 27 characters of prefix + 29 = 56 */
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZABC\",\"value\":\"1\",\"via\":\"fw_cfg\"}]}",
		     "credentials[0].name: \"opt/io.systemd.credentials/ABCDEFGHIJKLMNOPQRSTUVWXYZABC\" is longer than the 55");
	struct test_case tc;
	assert_int_equal(parse("{\"name\":\"x\",\"credentials\":[{\"name\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZAB\",\"value\":\"1\",\"via\":\"fw_cfg\"}]}",
			       &tc, NULL), 0);
	case_free(&tc);
}

static void test_wrong_types_are_named(void **state)
{
	assert_error("{\"name\":3}", "name: expected a string");
	assert_error("{\"name\":\"x\",\"oem_strings\":[\"a\",4]}", "oem_strings[1]: expected a string");
	assert_error("{\"name\":\"x\",\"strict\":\"yes\"}", "strict: expected true or false");
	assert_error("{\"name\":\"x\",\"expect\":{\"A\":\"gone\"}}", "expect.A: unknown value \"gone\"");
	assert_error("{\"name\":\"x\",\"expect_fate\":[{\"name\":\"A\"}]}", "expect_fate[0].fate: missing");
	assert_error("{\"name\":\"x\",\"timeouts\":{\"verdict\":-1}}", "timeouts.verdict: expected an integer");
	assert_error("{\"name\":\"x\",\"machine\":\"virt\"}", "machine: unknown value \"virt\"");
	assert_error("{\"name\":\"x\",\"image\":[]}", "image: an empty list");
	assert_error("{\"name\":\"x\",\"by_image\":{\"trixie\":{\"strict\":true}}}", "by_image.trixie.strict: unknown field");
}

static void test_duplicate_key_and_bad_json_are_errors(void **state)
{
	assert_error("{\"name\":\"x\",\"name\":\"y\"}", "invalid JSON");
	assert_error("{\"name\":\"x\",", "invalid JSON at line 1");
	assert_error("{\"name\":\"x\",\"oem_strings\":[\"a\\u0000b\"]}", "invalid JSON");
}

static void test_random_credential_loads_fresh_bytes_of_its_size(void **state)
{
	struct test_case tc;
	uint8_t *a, *b;
	size_t la, lb;
	assert_int_equal(parse("{\"name\":\"x\",\"credentials\":[{\"name\":\"R\",\"random\":64}]}", &tc, NULL), 0);
	assert_int_equal(case_cred_load(&tc.creds[0], &a, &la, NULL), 0);
	assert_int_equal(case_cred_load(&tc.creds[0], &b, &lb, NULL), 0);
	assert_int_equal(la, 64);
	assert_int_equal(lb, 64);
	assert_memory_not_equal(a, b, 64);
	free(a), free(b);
	case_free(&tc);
}

static void test_missing_secret_file_error_names_credential_and_path(void **state)
{
	struct test_case tc;
	uint8_t *v;
	size_t len;
	char *err = NULL;
	assert_int_equal(parse("{\"name\":\"x\",\"credentials\":[{\"name\":\"S\",\"file\":\"/nonexistent/secret\"}]}", &tc, NULL), 0);
	assert_int_equal(case_cred_load(&tc.creds[0], &v, &len, &err), -ENOENT);
	assert_string_equal(err, "credential S: cannot read /nonexistent/secret: No such file or directory");
	free(err);
	case_free(&tc);
}

/* A FIFO given as a case or as a credential file would block a plain open() until a
 * writer came; the bounded reader refuses it before reading, so the run fails at once. */
static void test_case_file_that_is_a_fifo_fails_fast_and_says_so(void **state)
{
	char dir[] = "/tmp/credscope-test-case-XXXXXX", fifo[64];
	struct test_case tc;
	uint8_t *v;
	size_t len;
	char *err = NULL;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(case_load(fifo, &tc, &err), -ESPIPE);
	assert_non_null(strstr(err, "cannot read the case: is a FIFO or socket, not a regular file"));
	free(err);
	err = NULL;
	char json[160];
	snprintf(json, sizeof json, "{\"name\":\"x\",\"credentials\":[{\"name\":\"S\",\"file\":\"%s\"}]}", fifo);
	assert_int_equal(parse(json, &tc, NULL), 0);
	assert_int_equal(case_cred_load(&tc.creds[0], &v, &len, &err), -ESPIPE);
	assert_null(v);
	assert_non_null(strstr(err, "credential S: cannot read "));
	free(err);
	case_free(&tc);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example_parses_with_defaults),
		cmocka_unit_test(test_case_without_image_runs_on_every_flavor),
		cmocka_unit_test(test_by_image_override_wins_per_name_and_adds_fates),
		cmocka_unit_test(test_unknown_top_level_field_is_named),
		cmocka_unit_test(test_unknown_via_is_named_with_its_index),
		cmocka_unit_test(test_credential_needs_exactly_one_source),
		cmocka_unit_test(test_secret_on_kernel_command_line_is_refused),
		cmocka_unit_test(test_cmdline_value_with_blank_is_refused),
		cmocka_unit_test(test_fw_cfg_name_over_55_characters_is_refused),
		cmocka_unit_test(test_wrong_types_are_named),
		cmocka_unit_test(test_duplicate_key_and_bad_json_are_errors),
		cmocka_unit_test(test_random_credential_loads_fresh_bytes_of_its_size),
		cmocka_unit_test(test_missing_secret_file_error_names_credential_and_path),
		cmocka_unit_test(test_case_file_that_is_a_fifo_fails_fast_and_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
