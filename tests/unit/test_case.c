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
#include "runner/image.h"
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

/* fw_cfg_raw: a name with a further '/' on purpose, exactly as given, beside a credential
 * sent by fw_cfg */
static void test_fw_cfg_raw_takes_a_whole_name_with_a_further_slash(void **state)
{
	struct test_case tc;
	assert_int_equal(parse("{\"name\":\"x\",\"credentials\":[{\"name\":\"FW\",\"value\":\"1\",\"via\":\"fw_cfg\"}],"
			       "\"fw_cfg_raw\":[{\"name\":\"opt/io.systemd.credentials/sub/X\",\"value\":\"a\\nb\"},"
			       "{\"name\":\"opt/x\",\"value\":\"\"}]}", &tc, NULL), 0);
	assert_int_equal(tc.n_fw_cfg_raw, 2);
	assert_string_equal(tc.fw_cfg_raw[0].name, "opt/io.systemd.credentials/sub/X");
	assert_int_equal(tc.fw_cfg_raw[0].value_len, 3);
	assert_memory_equal(tc.fw_cfg_raw[0].value, "a\nb", 3);
	assert_string_equal(tc.fw_cfg_raw[1].name, "opt/x");
	assert_int_equal(tc.fw_cfg_raw[1].value_len, 0);
	assert_int_equal(tc.n_creds, 1);
	case_free(&tc);
	/* without the field: none */
	assert_int_equal(parse("{\"name\":\"x\"}", &tc, NULL), 0);
	assert_int_equal(tc.n_fw_cfg_raw, 0);
	assert_null(tc.fw_cfg_raw);
	case_free(&tc);
}

static void test_fw_cfg_raw_names_qemu_or_the_kernel_cannot_take_are_refused_by_field(void **state)
{
#define RAW(n) "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/ok\",\"value\":\"v\"},{\"name\":\"" n "\",\"value\":\"v\"}]}"
	assert_error(RAW("io.systemd.credentials/X"), "fw_cfg_raw[1].name: does not start with \"opt/\"");
	assert_error(RAW("opt/io.systemd.credentials/sub/ABCDEFGHIJKLMNOPQRSTUVWXY"),
		     "fw_cfg_raw[1].name: 56 characters, more than the 55 QEMU allows for a fw_cfg name");
	assert_error(RAW("opt/a b"), "fw_cfg_raw[1].name: byte 0x20 at offset 5; a fw_cfg name here is printable ASCII");
	assert_error(RAW("opt/a\\u0001"), "fw_cfg_raw[1].name: byte 0x01 at offset 5");
	assert_error(RAW("opt//X"), "fw_cfg_raw[1].name: \"opt//X\" has an empty, \".\" or \"..\" part");
	assert_error(RAW("opt/sub/"), "fw_cfg_raw[1].name: \"opt/sub/\" has an empty");
	assert_error(RAW("opt/./X"), "fw_cfg_raw[1].name: \"opt/./X\" has an empty");
	assert_error(RAW("opt/../X"), "fw_cfg_raw[1].name: \"opt/../X\" has an empty");
	assert_error(RAW("opt/ok"), "fw_cfg_raw[1].name: \"opt/ok\" is fw_cfg_raw[0]'s too; QEMU refuses a fw_cfg name given twice");
#undef RAW
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"FW\",\"value\":\"1\",\"via\":\"fw_cfg\"}],"
		     "\"fw_cfg_raw\":[{\"name\":\"opt/io.systemd.credentials/FW\",\"value\":\"v\"}]}",
		     "fw_cfg_raw[0].name: \"opt/io.systemd.credentials/FW\" is where credentials[1] goes by fw_cfg");
	/* names that only look alike are fine: ..X, .X, a credential by SMBIOS */
	struct test_case tc;
	assert_int_equal(parse("{\"name\":\"x\",\"credentials\":[{\"name\":\"FW\",\"value\":\"1\"}],\"fw_cfg_raw\":["
			       "{\"name\":\"opt/io.systemd.credentials/FW\",\"value\":\"v\"},{\"name\":\"opt/..X/.X\",\"value\":\"v\"}]}",
			       &tc, NULL), 0);
	case_free(&tc);
	/* a credential name with '/' still is refused, and says where such a name goes */
	assert_error("{\"name\":\"x\",\"credentials\":[{\"name\":\"sub/X\",\"value\":\"1\",\"via\":\"fw_cfg\"}]}",
		     "credentials[0].name: contains '/', which fw_cfg would treat as a directory (to send such a name on "
		     "purpose, use fw_cfg_raw)");
}

static void test_wrong_types_are_named(void **state)
{
	assert_error("{\"name\":3}", "name: expected a string");
	assert_error("{\"name\":\"x\",\"oem_strings\":[\"a\",4]}", "oem_strings[1]: expected a string");
	assert_error("{\"name\":\"x\",\"strict\":\"yes\"}", "strict: expected true or false");
	assert_error("{\"name\":\"x\",\"expect\":{\"A\":\"gone\"}}", "expect.A: unknown value \"gone\"");
	assert_error("{\"name\":\"x\",\"expect_fate\":[{\"name\":\"A\"}]}", "expect_fate[0].fate: missing");
	assert_error("{\"name\":\"x\",\"timeouts\":{\"verdict\":-1}}", "timeouts.verdict: expected an integer");
	assert_error("{\"name\":\"x\",\"machine\":\"isapc\"}", "machine: unknown value \"isapc\" (known: q35, pc, microvm, virt)");
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

static void test_image_that_is_a_path_or_not_a_plain_name_is_refused(void **state)
{
	assert_error("{\"name\":\"x\",\"image\":\"../../../etc\"}", "image: \"../../../etc\" is not a flavor name");
	assert_error("{\"name\":\"x\",\"image\":[\"bookworm\",\"a/b\"]}", "image: \"a/b\" is not a flavor name");
	assert_error("{\"name\":\"x\",\"image\":\"..\"}", "image: \"..\" is not a flavor name");
	assert_error("{\"name\":\"x\",\"image\":\"\"}", "image: \"\" is not a flavor name");
	assert_error("{\"name\":\"x\",\"by_image\":{\"../trixie\":{}}}", "by_image: \"../trixie\" is not a flavor name");
	assert_true(image_flavor_name_ok("bookworm-backports"));
	assert_false(image_flavor_name_ok("a..b"));
	assert_false(image_flavor_name_ok(".hidden"));
}

static void test_memory_below_128_mib_is_refused_naming_the_limit(void **state)
{
	struct test_case tc;
	assert_error("{\"name\":\"x\",\"memory_mb\":127}", "memory_mb: expected an integer from 128 to 16384 MiB");
	assert_error("{\"name\":\"x\",\"memory_mb\":1}", "memory_mb: expected an integer from 128");
	assert_error("{\"name\":\"x\",\"memory_mb\":0}", "memory_mb: expected an integer from 128");
	assert_int_equal(parse("{\"name\":\"x\",\"memory_mb\":128}", &tc, NULL), 0);
	assert_int_equal(tc.memory_mb, 128);
	case_free(&tc);
}

static void test_zero_timeout_is_refused_naming_the_field(void **state)
{
	struct test_case tc;
	assert_error("{\"name\":\"x\",\"timeouts\":{\"first_contact\":0}}", "timeouts.first_contact: expected an integer from 1 to 3600");
	assert_error("{\"name\":\"x\",\"timeouts\":{\"idle\":0}}", "timeouts.idle: expected an integer from 1 to 3600");
	assert_error("{\"name\":\"x\",\"timeouts\":{\"verdict\":0}}", "timeouts.verdict: expected an integer from 1 to 3600");
	assert_int_equal(parse("{\"name\":\"x\",\"timeouts\":{\"idle\":1}}", &tc, NULL), 0);
	assert_int_equal(tc.idle_s, 1);
	assert_int_equal(tc.verdict_s, 0);   /* absent: the runner's default */
	case_free(&tc);
}

static void test_empty_oem_string_is_refused_with_the_reason(void **state)
{
	assert_error("{\"name\":\"x\",\"oem_strings\":[\"vendor\",\"\"]}", "oem_strings[1]: empty; QEMU cannot pass an empty");
}

static char *write_case(const char *dir, const char *file, const char *json)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", dir, file) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	return path;
}

static void test_two_case_files_with_one_name_are_refused_naming_both(void **state)
{
	char dir[] = "/tmp/credscope-case-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *a = write_case(dir, "a.json", "{\"name\":\"same\",\"image\":\"bookworm\"}");
	char *b = write_case(dir, "b.json", "{\"name\":\"other\"}");
	char *c = write_case(dir, "c.json", "{\"name\":\"same\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"}]}");
	char *bad = write_case(dir, "bad.json", "{\"name\":\"bad\",\"memory_mb\":64}");
	struct test_case *cases;
	char *err = NULL;

	const char *dup[] = { a, b, c };
	assert_int_equal(case_load_all(dup, 3, &cases, &err), -EINVAL);
	assert_null(cases);
	char *want;
	assert_true(asprintf(&want, "%s and %s: both name the case \"same\"", a, c) > 0);
	if (!err || !strstr(err, want))
		fail_msg("error \"%s\" does not say \"%s\"", err ? err : "(none)", want);
	free(want), free(err);

	/* a bad file after good ones: the good ones are freed (LeakSanitizer checks) */
	const char *later_bad[] = { a, b, bad };
	assert_int_equal(case_load_all(later_bad, 3, &cases, &err), -EINVAL);
	assert_non_null(strstr(err, "bad.json: memory_mb:"));
	free(err);

	const char *fine[] = { a, b };
	assert_int_equal(case_load_all(fine, 2, &cases, &err), 0);
	assert_null(err);
	assert_string_equal(cases[1].name, "other");
	case_free_all(cases, 2);
	unlink(a), unlink(b), unlink(c), unlink(bad), rmdir(dir);
	free(a), free(b), free(c), free(bad);
}

static void test_flavor_typo_names_file_field_value_and_built_flavors(void **state)
{
	static const char *const known[] = { "bookworm", "trixie" }, *const built[] = { "bookworm", "forky", "trixie" };
	struct test_case tc;
	char *err = NULL;

	assert_int_equal(parse("{\"name\":\"x\",\"image\":[\"trixie\",\"bokworm\"]}", &tc, NULL), 0);
	assert_int_equal(case_check_flavors(&tc, known, 2, "vm-images/out", built, 3, &err), -EINVAL);
	assert_string_equal(err, "/cases/t.json: image: \"bokworm\" is not a flavor of this run (--images) nor one "
				 "built in vm-images/out (there: bookworm, forky, trixie)");
	free(err);
	case_free(&tc);

	assert_int_equal(parse("{\"name\":\"x\",\"by_image\":{\"trixy\":{}}}", &tc, NULL), 0);
	assert_int_equal(case_check_flavors(&tc, known, 2, "/no/images", NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err, "by_image: \"trixy\" is not a flavor of this run (--images) nor one built in "
				    "/no/images (there: none; run `make images`)"));
	free(err);
	case_free(&tc);

	/* built but not in --images (the case just does not run here), and in --images but not built (it skips) */
	assert_int_equal(parse("{\"name\":\"x\",\"image\":[\"forky\",\"trixie\"]}", &tc, NULL), 0);
	assert_int_equal(case_check_flavors(&tc, known, 2, "vm-images/out", built, 3, &err), 0);
	assert_int_equal(case_check_flavors(&tc, (const char *const[]){ "forky", "trixie" }, 2, "x", NULL, 0, &err), 0);
	case_free(&tc);
}

static void test_image_dir_flavors_are_its_subdirectories_sorted(void **state)
{
	char dir[] = "/tmp/credscope-images-XXXXXX", p[300];
	char **flavors;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/trixie", dir), mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/bookworm", dir), mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/README", dir), fclose(fopen(p, "w"));
	assert_int_equal(image_list_flavors(dir, &flavors), 2);
	assert_string_equal(flavors[0], "bookworm");
	assert_string_equal(flavors[1], "trixie");
	assert_null(flavors[2]);
	image_flavors_free(flavors);
	assert_int_equal(image_list_flavors("/nonexistent/images", &flavors), 0);
	assert_null(flavors[0]);
	image_flavors_free(flavors);
	snprintf(p, sizeof p, "%s/trixie", dir), rmdir(p);
	snprintf(p, sizeof p, "%s/bookworm", dir), rmdir(p);
	snprintf(p, sizeof p, "%s/README", dir), unlink(p);
	rmdir(dir);
}

/* Every way case_parse() can refuse a document, each after as much as possible has been
 * allocated before it: with -fsanitize=address (make unit-asan) LeakSanitizer proves that
 * no error path leaks, and each error names the field. */
/* "expectations": how the manifest reaches the guest. Left out: fw_cfg where the hypervisor
 * has it (decided at run time); "disk" asks for the labelled disk; cloud-hypervisor has no
 * fw_cfg, so asking for it there is an error naming the field. */
static void test_expectations_field(void **state)
{
	static const char *const values[] = { NULL, "\"fw_cfg\"", "\"disk\"" };
	static const enum case_expectations want[] = { EXPECT_VIA_DEFAULT, EXPECT_VIA_FW_CFG, EXPECT_VIA_DISK };
	for (size_t i = 0; i < 3; i++) {
		char json[300];
		struct test_case tc;
		char *err = NULL;
		snprintf(json, sizeof json, "{ \"name\": \"e\", \"image\": \"bookworm\", \"credentials\": "
			 "[ { \"name\": \"A\", \"value\": \"b\" } ]%s%s }",
			 values[i] ? ", \"expectations\": " : "", values[i] ? values[i] : "");
		assert_int_equal(parse(json, &tc, &err), 0);
		assert_int_equal(tc.expectations, want[i]);
		case_free(&tc);
	}
	assert_error("{ \"name\": \"e\", \"image\": \"bookworm\", \"expectations\": \"usb\" }", "expectations");
	assert_error("{ \"name\": \"e\", \"image\": \"bookworm\", \"expectations\": 1 }", "expectations");
	assert_error("{ \"name\": \"e\", \"image\": \"bookworm\", \"hypervisor\": \"cloud-hypervisor\", "
		     "\"expectations\": \"fw_cfg\" }", "expectations: cloud-hypervisor has no fw_cfg");
}

static void test_every_case_parse_error_path_names_its_field_and_frees_all(void **state)
{
	static const struct { const char *json, *field; } bad[] = {
		{ "[]", "the top level must be a JSON object" },
		{ "{\"name\":\"x\",", "invalid JSON" },
		{ "{\"name\":\"x\",\"bogus\":1}", "bogus: unknown field" },
		{ "{}", "name: missing" },
		{ "{\"name\":3}", "name: expected a string" },
		{ "{\"name\":\"a b\"}", "name: must be non-empty" },
		{ "{\"name\":\"x\",\"image\":3}", "image: expected a string or an array" },
		{ "{\"name\":\"x\",\"image\":[\"bookworm\",3]}", "image[1]: expected a string" },
		{ "{\"name\":\"x\",\"image\":[]}", "image: an empty list" },
		{ "{\"name\":\"x\",\"image\":\"bookworm\",\"machine\":3}", "machine: expected a string" },
		{ "{\"name\":\"x\",\"image\":[\"bookworm\"],\"machine\":\"isapc\"}", "machine: unknown value" },
		{ "{\"name\":\"x\",\"machine\":\"pc\",\"hypervisor\":\"xen\"}", "hypervisor: expected" },
		{ "{\"name\":\"x\",\"machine\":\"pc\",\"credentials\":{}}", "credentials: expected an array" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"},3]}", "credentials[1]: expected an object" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"1\",\"x\":1}]}",
		  "credentials[1].x: unknown field" },
		{ "{\"name\":\"x\",\"credentials\":[{\"value\":\"1\"}]}", "credentials[0].name: missing" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\",\"via\":3}]}", "credentials[0].via: expected one of" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\",\"via\":\"smbois\"}]}", "credentials[0].via: unknown value" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\"}]}", "credentials[0]: give exactly one" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":3}]}", "credentials[0].value: expected a string" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"random\":0}]}", "credentials[0].random: expected a byte count" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"file\":\"\"}]}", "credentials[0].file: expected a path" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"\",\"value\":\"1\"}]}", "credentials[0].name: empty" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A=B\",\"file\":\"f\"}]}", "credentials[0].name: contains '='" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A:B\",\"value\":\"1\",\"via\":\"cmdline\"}]}", "credentials[0].name: contains a blank" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A/B\",\"value\":\"1\",\"via\":\"fw_cfg\"}]}", "credentials[0].name: contains '/'" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZABC\",\"value\":\"1\",\"via\":\"fw_cfg\"}]}",
		  "credentials[0].name: \"opt/io.systemd.credentials/" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"file\":\"f\",\"via\":\"cmdline\"}]}", "credentials[0].via: the kernel command line" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"a b\",\"via\":\"cmdline\"}]}", "credentials[0].value: contains a blank" },
		{ "{\"name\":\"x\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"}],\"oem_strings\":\"s\"}", "oem_strings: expected an array" },
		{ "{\"name\":\"x\",\"oem_strings\":[\"a\",4]}", "oem_strings[1]: expected a string" },
		{ "{\"name\":\"x\",\"oem_strings\":[\"a\"],\"expect\":[]}", "expect: expected an object" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":{}}", "fw_cfg_raw: expected an array of objects with name and value" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a\",\"value\":\"v\"},\"opt/b\"]}", "fw_cfg_raw[1]: expected an object" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a\",\"value\":\"v\",\"via\":\"fw_cfg\"}]}", "fw_cfg_raw[0].via: unknown field" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"value\":\"v\"}]}", "fw_cfg_raw[0].name: missing" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":3,\"value\":\"v\"}]}", "fw_cfg_raw[0].name: expected a string" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a\"}]}", "fw_cfg_raw[0].value: missing" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a\",\"value\":7}]}", "fw_cfg_raw[0].value: expected a string" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a\",\"file\":\"f\"}]}", "fw_cfg_raw[0].file: unknown field" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"etc/a\",\"value\":\"v\"}]}", "fw_cfg_raw[0].name: does not start" },
		{ "{\"name\":\"x\",\"fw_cfg_raw\":[{\"name\":\"opt/a/\",\"value\":\"v\"}]}", "fw_cfg_raw[0].name: \"opt/a/\" has an empty" },
		{ "{\"name\":\"x\",\"expect\":{\"A\":\"absent\",\"B\":3}}", "expect.B: expected exact" },
		{ "{\"name\":\"x\",\"expect\":{\"A\":\"absent\",\"B\":\"gone\"}}", "expect.B: unknown value \"gone\"" },
		{ "{\"name\":\"x\",\"expect\":{\"A\":\"absent\",\"\":\"absent\"}}", "expect: an empty name" },
		{ "{\"name\":\"x\",\"expect\":{\"A\":\"absent\"},\"expect_fate\":{}}", "expect_fate: expected an array" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"fate\":\"imported\"},3]}", "expect_fate[1]: expected an object" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"fate\":\"imported\",\"x\":1}]}", "expect_fate[0].x: unknown field" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"name\":3,\"fate\":\"imported\"}]}", "expect_fate[0].name: expected a string" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"name\":\"A\",\"source\":3,\"fate\":\"imported\"}]}", "expect_fate[0].source: expected" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"name\":\"A\",\"source\":\"s\"}]}", "expect_fate[0].fate: missing" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"name\":\"A\",\"source\":\"s\",\"fate\":\"f\",\"count\":-1}]}", "expect_fate[0].count: expected" },
		{ "{\"name\":\"x\",\"expect_fate\":[{\"fate\":\"f\"}],\"by_image\":[]}", "by_image: expected an object" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{},\"bookworm\":3}}", "by_image.bookworm: expected an object" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"strict\":true}}}", "by_image.trixie.strict: unknown field" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"expect\":{\"A\":\"absent\",\"B\":\"gone\"}}}}", "by_image.trixie.expect.B: unknown value" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"expect\":{\"A\":\"absent\"},\"expect_fate\":[{\"name\":\"A\"}]}}}",
		  "by_image.trixie.expect_fate[0].fate: missing" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"expect_fate\":[{\"fate\":\"f\"}],\"outcome\":\"maybe\"}}}", "by_image.trixie.outcome: expected" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"outcome\":\"fail\",\"diagnosis\":3}}}", "by_image.trixie.diagnosis: expected a string" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{}},\"outcome\":3}", "outcome: expected pass, fail or error" },
		{ "{\"name\":\"x\",\"outcome\":\"fail\",\"diagnosis\":3}", "diagnosis: expected a string" },
		{ "{\"name\":\"x\",\"diagnosis\":\"d\",\"kernel_cmdline_extra\":3}", "kernel_cmdline_extra: expected a string" },
		{ "{\"name\":\"x\",\"kernel_cmdline_extra\":\"k\",\"timeouts\":3}", "timeouts: expected an object" },
		{ "{\"name\":\"x\",\"timeouts\":{\"boot\":3}}", "timeouts.boot: unknown field" },
		{ "{\"name\":\"x\",\"timeouts\":{\"first_contact\":-1}}", "timeouts.first_contact: expected" },
		{ "{\"name\":\"x\",\"timeouts\":{\"idle\":3601}}", "timeouts.idle: expected" },
		{ "{\"name\":\"x\",\"timeouts\":{\"verdict\":\"1\"}}", "timeouts.verdict: expected" },
		{ "{\"name\":\"x\",\"timeouts\":{\"verdict\":10},\"memory_mb\":16385}", "memory_mb: expected" },
		{ "{\"name\":\"x\",\"memory_mb\":512,\"strict\":\"yes\"}", "strict: expected true or false" },
		{ "{\"name\":\"x\",\"memory_mb\":127}", "memory_mb: expected an integer from 128" },
		{ "{\"name\":\"x\",\"timeouts\":{\"idle\":5,\"verdict\":0}}", "timeouts.verdict: expected an integer from 1" },
		{ "{\"name\":\"x\",\"image\":[\"bookworm\",\"../etc\"],\"oem_strings\":[\"s\"]}", "image: \"../etc\" is not a flavor name" },
		{ "{\"name\":\"x\",\"by_image\":{\"trixie\":{\"expect\":{\"A\":\"absent\"}},\"a/b\":{}}}", "by_image: \"a/b\" is not" },
		{ "{\"name\":\"x\",\"image\":\"bookworm\",\"oem_strings\":[\"s\",\"\"]}", "oem_strings[1]: empty" },
		{ "{\"name\":\"a/b\",\"image\":[\"bookworm\"],\"machine\":\"pc\",\"credentials\":[{\"name\":\"A\",\"value\":\"1\"}],"
		  "\"oem_strings\":[\"s\"],\"expect\":{\"A\":\"absent\"},\"expect_fate\":[{\"name\":\"A\",\"source\":\"s\",\"fate\":\"f\"}],"
		  "\"by_image\":{\"trixie\":{\"expect\":{\"A\":\"present\"},\"diagnosis\":\"d\"}},\"diagnosis\":\"d\","
		  "\"kernel_cmdline_extra\":\"k\"}", "name: must be non-empty" },
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		struct test_case tc;
		char *err = NULL;
		if (parse(bad[k].json, &tc, &err) != -EINVAL || !err || strncmp(err, "/cases/t.json: ", 15) ||
		    !strstr(err, bad[k].field))
			fail_msg("case %zu (%s): error \"%s\" does not name \"%s\"", k, bad[k].json, err ? err : "(none)",
				 bad[k].field);
		free(err);
	}
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
		cmocka_unit_test(test_fw_cfg_raw_takes_a_whole_name_with_a_further_slash),
		cmocka_unit_test(test_fw_cfg_raw_names_qemu_or_the_kernel_cannot_take_are_refused_by_field),
		cmocka_unit_test(test_wrong_types_are_named),
		cmocka_unit_test(test_duplicate_key_and_bad_json_are_errors),
		cmocka_unit_test(test_random_credential_loads_fresh_bytes_of_its_size),
		cmocka_unit_test(test_missing_secret_file_error_names_credential_and_path),
		cmocka_unit_test(test_case_file_that_is_a_fifo_fails_fast_and_says_so),
		cmocka_unit_test(test_image_that_is_a_path_or_not_a_plain_name_is_refused),
		cmocka_unit_test(test_memory_below_128_mib_is_refused_naming_the_limit),
		cmocka_unit_test(test_zero_timeout_is_refused_naming_the_field),
		cmocka_unit_test(test_empty_oem_string_is_refused_with_the_reason),
		cmocka_unit_test(test_two_case_files_with_one_name_are_refused_naming_both),
		cmocka_unit_test(test_flavor_typo_names_file_field_value_and_built_flavors),
		cmocka_unit_test(test_image_dir_flavors_are_its_subdirectories_sorted),
		cmocka_unit_test(test_expectations_field),
		cmocka_unit_test(test_every_case_parse_error_path_names_its_field_and_frees_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
