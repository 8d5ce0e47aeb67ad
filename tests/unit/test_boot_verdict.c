/* boot_verdict: the generator's kept verdict, saved and loaded under a root. */
#include <errno.h>
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

#include "boot_verdict.h"
#include "fileio.h"

static void test_status_is_the_last_verdict_line(void **state)
{
	assert_int_equal(boot_verdict_status("x\nCREDSCOPE-VERDICT: pass 0 findings\n"), 0);
	assert_int_equal(boot_verdict_status("CREDSCOPE-VERDICT: fail 2 findings\n"), 1);
	assert_int_equal(boot_verdict_status("a\nCREDSCOPE-VERDICT: error 0 findings"), 2);
	/* the last line at the start of a line counts; one inside a finding's text does not */
	assert_int_equal(boot_verdict_status("CREDSCOPE-VERDICT: pass 0 findings\nCREDSCOPE-VERDICT: fail 1 findings\n"), 1);
	assert_int_equal(boot_verdict_status("CREDSCOPE-VERDICT: fail 1 findings\nFAIL x CREDSCOPE-VERDICT: pass 0\n"), 1);
	assert_int_equal(boot_verdict_status("no verdict here\n"), -1);
	assert_int_equal(boot_verdict_status("CREDSCOPE-VERDICT: passed\n"), -1);
	assert_int_equal(boot_verdict_status(""), -1);
}

static char *mkroot(void)
{
	char *root = strdup("/tmp/credscope-bv-XXXXXX");
	assert_non_null(mkdtemp(root));
	char run[200];
	snprintf(run, sizeof run, "%s/run", root);
	assert_int_equal(mkdir(run, 0755), 0);
	return root;
}

static void test_save_then_load_round_trips_with_modes(void **state)
{
	char *root = mkroot(), *error = NULL, path[300];
	struct boot_verdict bv;
	struct stat st;
	assert_false(boot_verdict_exists(root));
	assert_int_equal(boot_verdict_load(root, &bv, &error), -ENOENT);
	assert_int_equal(boot_verdict_save(root, "All 1 verified.\nCREDSCOPE-VERDICT: pass 0 findings\n",
					   "{\"verdict\": \"pass\"}", &error), 0);
	assert_true(boot_verdict_exists(root));
	snprintf(path, sizeof path, "%s/run/credscope", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof path, "%s/run/credscope/report.json", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(boot_verdict_load(root, &bv, &error), 0);
	assert_int_equal(bv.status, 0);
	assert_string_equal(bv.report, "{\"verdict\": \"pass\"}");
	assert_int_equal(bv.report_len, strlen(bv.report));
	assert_string_equal(bv.text, "All 1 verified.\nCREDSCOPE-VERDICT: pass 0 findings\n");
	assert_null(bv.delivered_to);
	boot_verdict_free(&bv);

	/* the host's answer is host text: a newline in it is escaped, it cannot add a line */
	assert_int_equal(boot_verdict_save_delivery(root, "vsock:2:5123", "rejected", "bad\nok", &error), 0);
	assert_int_equal(boot_verdict_load(root, &bv, &error), 0);
	assert_string_equal(bv.delivered_to, "vsock:2:5123");
	assert_string_equal(bv.ack_status, "rejected");
	assert_string_equal(bv.ack_message, "bad\\x0aok");
	boot_verdict_free(&bv);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
	free(root);
}

static void test_damaged_verdict_is_named(void **state)
{
	char *root = mkroot(), *error = NULL, path[300];
	struct boot_verdict bv;
	assert_int_equal(boot_verdict_save(root, "no verdict line\n", "{}", &error), 0);
	assert_int_equal(boot_verdict_load(root, &bv, &error), -EBADMSG);
	assert_non_null(error);
	assert_non_null(strstr(error, "/run/credscope/verdict.txt: not a verdict credscope-generator wrote"));
	free(error);
	error = NULL;
	/* a report.json that is not a regular file is named too */
	assert_int_equal(boot_verdict_save(root, "CREDSCOPE-VERDICT: pass 0 findings\n", "{}", &error), 0);
	snprintf(path, sizeof path, "%s/run/credscope/report.json", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(boot_verdict_load(root, &bv, &error), -EISDIR);
	assert_non_null(strstr(error, "/run/credscope/report.json"));
	free(error);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
	free(root);
}

/* O_NOFOLLOW with O_DIRECTORY: a link there is "not a directory" */
static void test_a_symlinked_directory_is_refused(void **state)
{
	char *root = mkroot(), *error = NULL, path[300], target[300];
	snprintf(target, sizeof target, "%s/elsewhere", root);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof path, "%s/run/credscope", root);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(boot_verdict_save(root, "CREDSCOPE-VERDICT: pass 0 findings\n", "{}", &error), -ENOTDIR);
	assert_non_null(strstr(error, "/run/credscope"));
	free(error);
	snprintf(path, sizeof path, "%s/elsewhere/verdict.txt", root);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_is_the_last_verdict_line),
		cmocka_unit_test(test_save_then_load_round_trips_with_modes),
		cmocka_unit_test(test_damaged_verdict_is_named),
		cmocka_unit_test(test_a_symlinked_directory_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
