/* Unit tests for runner/case_limits and hypervisor/cred_limits: a case whose SMBIOS
 * strings cannot fit QEMU's SMBIOS 2.1 tables is refused before any boot with a message
 * that names the limit (and systemd's 1 MiB CREDENTIAL_SIZE_MAX past it) but never the
 * value; the check agrees byte for byte with QEMU's own attach; every default case passes. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hypervisor/cred_limits.h"
#include "hypervisor/qemu.h"
#include "runner/case.h"
#include "runner/case_limits.h"

static char dir[] = "/tmp/credscope-limits-XXXXXX";
static char casepath[256];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(casepath, sizeof casepath, "%s/t.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The check's answer for JSON (*ERR malloc'd or NULL). */
static int check(const char *json, char **err)
{
	struct test_case tc;
	char *perr = NULL;
	if (case_parse(json, strlen(json), casepath, &tc, &perr) < 0)
		fail_msg("case does not parse: %s", perr ? perr : "?");
	int r = case_check_limits(&tc, err);
	case_free(&tc);
	return r;
}

static void secret_file(const char *name, size_t len, char fill)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < len; i++)
		fputc(fill, f);
	fclose(f);
}

static void test_two_mib_smbios_secret_names_both_limits_not_the_value(void **state)
{
	char *err = NULL;
	secret_file("big.bin", 2u << 20, 'Q');
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"BIG\", \"file\": \"big.bin\" } ] }", &err),
			 -E2BIG);
	assert_non_null(err);
	assert_non_null(strstr(err, casepath));
	assert_non_null(strstr(err, "credential BIG: as an SMBIOS OEM string (2097179 bytes for its 2097152)"));
	assert_non_null(strstr(err, "past the 65535 bytes an SMBIOS 2.1 entry point can address (QEMU's "
				    "SMBIOS_21_MAX_TABLES_LEN"));
	assert_non_null(strstr(err, "systemd's 1 MiB credential limit (CREDENTIAL_SIZE_MAX, 1048576 bytes)"));
	assert_non_null(strstr(err, "\"via\": \"fw_cfg\""));
	assert_null(strstr(err, "QQQQ"));
	free(err);
	err = NULL;
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"R\", \"random\": 2097152, \"via\": "
			       "\"smbios-binary\" } ] }", &err), -E2BIG);
	assert_non_null(strstr(err, "credential R: as an SMBIOS OEM string (2796236 bytes: base64 makes its 2097152 "
				    "bytes 2796204)"));
	free(err);
}

static void test_under_a_mib_but_over_the_tables_names_only_qemu(void **state)
{
	char *err = NULL;
	secret_file("mid.bin", 100000, 'Z');
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"M\", \"file\": \"mid.bin\" } ] }", &err),
			 -E2BIG);
	assert_non_null(strstr(err, "SMBIOS_21_MAX_TABLES_LEN"));
	assert_null(strstr(err, "CREDENTIAL_SIZE_MAX"));
	free(err);
}

static void test_strings_that_fit_alone_are_summed(void **state)
{
	char *err = NULL;
	secret_file("a.bin", 40000, 'A');
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"A\", \"file\": \"a.bin\" }, "
			       "{ \"name\": \"B\", \"file\": \"a.bin\" } ] }", &err), -E2BIG);
	assert_non_null(strstr(err, "credential B: "));
	assert_non_null(strstr(err, "after the 40025 bytes of the SMBIOS strings before it"));
	free(err);
	err = NULL;
	/* raw OEM strings count after the credentials, as the runner attaches them */
	char json[200000];
	int n = snprintf(json, sizeof json, "{ \"name\": \"t\", \"oem_strings\": [ ");
	for (int i = 0; i < 70; i++)
		n += snprintf(json + n, sizeof json - (size_t)n, "%s\"%0999d\"", i ? ", " : "", i);
	snprintf(json + n, sizeof json - (size_t)n, " ] }");
	assert_int_equal(check(json, &err), -E2BIG);
	assert_non_null(strstr(err, "oem_strings[64]: its 999 bytes would take the SMBIOS tables QEMU builds past the "
				    "65535 bytes"));
	free(err);
}

static void test_other_paths_and_hypervisors_are_not_refused_here(void **state)
{
	char *err = NULL;
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"F\", \"random\": 2097152, \"via\": "
			       "\"fw_cfg\" } ] }", &err), 0);
	assert_int_equal(check("{ \"name\": \"t\", \"hypervisor\": \"cloud-hypervisor\", \"credentials\": [ { \"name\": "
			       "\"F\", \"random\": 2097152 } ] }", &err), 0);
	assert_int_equal(check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"F\", \"file\": \"missing\" } ] }", &err),
			 0);   /* the run names the unreadable file */
	assert_null(err);
}

/* Right at the boundary the check and QEMU's attach give the same answer. */
static void test_the_check_agrees_with_qemu_attach_at_the_boundary(void **state)
{
	size_t budget = smbios_oem_budget(1), base = smbios_credential_bytes("EDGE", 0, false);
	size_t fit = budget - base;   /* the longest text value that fits */
	uint8_t *v = malloc(fit + 1);
	memset(v, 'e', fit + 1);
	for (int extra = 0; extra <= 1; extra++) {
		struct qemu_vm vm;
		qemu_vm_init(&vm);
		vm.cpus = 1;
		int q = qemu_add_smbios_credential(&vm, "EDGE", v, fit + (size_t)extra, false);
		qemu_vm_done(&vm);
		secret_file("edge.txt", fit + (size_t)extra, 'e');
		char *err = NULL;
		int c = check("{ \"name\": \"t\", \"credentials\": [ { \"name\": \"EDGE\", \"file\": \"edge.txt\" } ] }", &err);
		assert_int_equal(q, extra ? -E2BIG : 0);
		assert_int_equal(c, q);
		free(err);
	}
	free(v);
}

static void test_every_default_case_passes(void **state)
{
	glob_t g;
	char cwd_cases[] = "tests/integration/cases/*.json";
	assert_int_equal(glob(cwd_cases, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 10);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct test_case tc;
		char *err = NULL;
		assert_int_equal(case_load(g.gl_pathv[i], &tc, &err), 0);
		if (case_check_limits(&tc, &err) != 0)
			fail_msg("%s refused: %s", g.gl_pathv[i], err ? err : "?");
		case_free(&tc);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_mib_smbios_secret_names_both_limits_not_the_value),
		cmocka_unit_test(test_under_a_mib_but_over_the_tables_names_only_qemu),
		cmocka_unit_test(test_strings_that_fit_alone_are_summed),
		cmocka_unit_test(test_other_paths_and_hypervisors_are_not_refused_here),
		cmocka_unit_test(test_the_check_agrees_with_qemu_attach_at_the_boundary),
		cmocka_unit_test(test_every_default_case_passes),
	};
	return cmocka_run_group_tests_name("case_limits", tests, setup, teardown);
}
