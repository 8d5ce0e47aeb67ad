/* Unit tests for host-harness/runner/zero_install.c and the case field "zero_install"
 * (runner/case.c): parsed strictly, refused where it cannot work (cloud-hypervisor,
 * microvm, a credential by its names); the version rule (256, the first systemd whose
 * systemd-debug-generator reads systemd.extra-unit credentials) and its message; the
 * unit's text; the static-agent check; the agent disk (expect_disk_create_with()). */
#include <elf.h>
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

#include "fileio.h"
#include "temp_root.h"
#include "runner/case.h"
#include "runner/expect_disk.h"
#include "runner/zero_install.h"

struct fixture {
	char dir[64];
	char *case_path;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/credscope-test-zi-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&f->case_path, "%s/t.json", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(rm_tree(f->dir), 0);
	unsetenv(ZI_AGENT_ENV);
	free(f->case_path), free(f);
	return 0;
}

static void assert_refused(struct fixture *f, const char *json, const char *want)
{
	struct test_case tc;
	char *err = NULL;
	assert_int_equal(case_parse(json, strlen(json), f->case_path, &tc, &err), -EINVAL);
	assert_non_null(err);
	if (strncmp(err, f->case_path, strlen(f->case_path)) || !strstr(err, want))
		fail_msg("error \"%s\" does not start with the case file or lacks \"%s\"", err, want);
	free(err);
}

static void test_field_parses_and_defaults_to_false(void **state)
{
	struct fixture *f = *state;
	static const char on[] = "{\"name\": \"z\", \"zero_install\": true, \"machine\": \"pc\", "
				 "\"credentials\": [{\"name\": \"A\", \"value\": \"b\"}]}";
	static const char off[] = "{\"name\": \"z\"}";
	struct test_case tc;
	char *err = NULL;

	assert_int_equal(case_parse(on, strlen(on), f->case_path, &tc, &err), 0);
	assert_null(err);
	assert_true(tc.zero_install);
	case_free(&tc);
	assert_int_equal(case_parse(off, strlen(off), f->case_path, &tc, &err), 0);
	assert_false(tc.zero_install);
	case_free(&tc);
}

static void test_field_refusals_name_the_field_and_the_way_out(void **state)
{
	struct fixture *f = *state;
	assert_refused(f, "{\"name\": \"z\", \"zero_install\": \"yes\"}", "zero_install");
	assert_refused(f, "{\"name\": \"z\", \"zero_install\": true, \"machine\": \"microvm\"}",
		       "zero_install: microvm has no SMBIOS");
	assert_refused(f, "{\"name\": \"z\", \"zero_install\": true, \"hypervisor\": \"cloud-hypervisor\", "
			  "\"expectations\": \"disk\"}", "zero_install: QEMU only");
	assert_refused(f, "{\"name\": \"z\", \"zero_install\": true, \"credentials\": [{\"name\": "
			  "\"systemd.extra-unit.credscope-zero-install.service\", \"value\": \"x\"}]}",
		       "credentials: systemd.extra-unit.credscope-zero-install.service is the name zero_install sends");
	assert_refused(f, "{\"name\": \"z\", \"zero_install\": true, \"credentials\": [{\"name\": \"" ZI_DROPIN_CRED
			  "\", \"value\": \"x\"}]}", "is the name zero_install sends itself");
	/* a field of that name elsewhere is still unknown */
	assert_refused(f, "{\"name\": \"z\", \"timeouts\": {\"zero_install\": 1}}", "timeouts.zero_install: unknown field");
}

/* run --zero-install: the same checks, naming the case file */
static void test_cli_option_applies_the_same_checks(void **state)
{
	struct fixture *f = *state;
	static const char ok[] = "{\"name\": \"z\"}", micro[] = "{\"name\": \"z\", \"machine\": \"microvm\"}";
	struct test_case tc;
	char *err = NULL;

	assert_int_equal(case_parse(ok, strlen(ok), f->case_path, &tc, &err), 0);
	assert_int_equal(case_use_zero_install(&tc, &err), 0);
	assert_null(err);
	assert_true(tc.zero_install);
	case_free(&tc);
	assert_int_equal(case_parse(micro, strlen(micro), f->case_path, &tc, &err), 0);
	assert_int_equal(case_use_zero_install(&tc, &err), -EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, f->case_path));
	assert_non_null(strstr(err, "zero_install: microvm has no SMBIOS"));
	assert_false(tc.zero_install);
	free(err);
	case_free(&tc);
}

static void test_version_rule_is_256_and_says_which_route_to_take(void **state)
{
	(void)state;
	assert_null(zi_refuse_version(0, "guest"));     /* not known: booted, a missing report explains */
	assert_null(zi_refuse_version(256, "x"));
	assert_null(zi_refuse_version(262, "x"));
	char *m = zi_refuse_version(255, "forky's image.json");
	assert_non_null(m);
	assert_non_null(strstr(m, "systemd 255 (forky's image.json) does not read systemd.extra-unit credentials "
				  "(first in 256): install the agent"));
	assert_non_null(strstr(m, "make deb"));
	assert_non_null(strstr(m, "not booted"));
	free(m);
	m = zi_refuse_version(252, "bookworm's image.json");
	assert_non_null(strstr(m, "systemd 252"));
	free(m);
}

static void test_unit_text_runs_the_disk_agent_to_the_given_destination(void **state)
{
	(void)state;
	char *u = zi_unit_text("serial:org.credscope.report");
	assert_non_null(u);
	assert_non_null(strstr(u, "[Unit]\n"));
	assert_non_null(strstr(u, "DefaultDependencies=no\n"));
	assert_non_null(strstr(u, "ConditionPathExists=!/etc/initrd-release\n"));
	assert_non_null(strstr(u, "mount -o ro,nodev,nosuid -L credscope"));
	assert_non_null(strstr(u, "report --to serial:org.credscope.report --wait-label 20;"));
	/* a namespace of its own would hide /run/credentials/@system from the agent */
	assert_null(strstr(u, "PrivateMounts"));
	assert_null(strstr(u, "Protect"));
	/* every shell `$` is escaped for the unit file, and no % specifier is left */
	for (const char *p = strchr(u, '$'); p; p = strchr(p + 2, '$'))
		assert_int_equal(p[1], '$');
	assert_null(strchr(u, '%'));
	free(u);
	assert_non_null(strstr(zi_dropin_text, "[Unit]\nWants=" ZI_UNIT "\n"));
}

/* A minimal ELF64 header, with one PT_INTERP program header when DYNAMIC. */
static void write_elf(const char *path, bool dynamic, mode_t mode)
{
	Elf64_Ehdr eh = { .e_phoff = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
	Elf64_Phdr ph = { .p_type = dynamic ? PT_INTERP : PT_LOAD };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(&eh, sizeof eh, 1, fp), 1);
	assert_int_equal(fwrite(&ph, sizeof ph, 1, fp), 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_agent(const char *self, int want_r, const char *want_path, const char *want_err)
{
	char *path = NULL, *err = NULL;
	assert_int_equal(zi_agent_path(self, &path, &err), want_r);
	if (want_path)
		assert_string_equal(path, want_path);
	else
		assert_null(path);
	if (want_err) {
		assert_non_null(err);
		if (!strstr(err, want_err))
			fail_msg("\"%s\" lacks \"%s\"", err, want_err);
	} else
		assert_null(err);
	free(path), free(err);
}

static void test_agent_must_be_a_static_executable(void **state)
{
	struct fixture *f = *state;
	char *bin, *stat_path, *self, *dyn, *plain;
	assert_true(asprintf(&bin, "%s/bin", f->dir) > 0 && asprintf(&self, "%s/bin/credscope-harness", f->dir) > 0);
	assert_true(asprintf(&stat_path, "%s/bin/../static/x86_64/credscope", f->dir) > 0);
	assert_true(asprintf(&dyn, "%s/dyn", f->dir) > 0 && asprintf(&plain, "%s/plain", f->dir) > 0);
	assert_int_equal(mkdir(bin, 0755), 0);
	unsetenv(ZI_AGENT_ENV);
	assert_agent(self, -ENOENT, NULL, "the static agent ");   /* not built: says `make static` */
	puts_at(f->dir, "/static/x86_64/credscope", "");
	write_elf(stat_path, false, 0755);
	assert_agent(self, 0, stat_path, NULL);                    /* beside the harness */
	write_elf(dyn, true, 0755);
	setenv(ZI_AGENT_ENV, dyn, 1);
	assert_agent(self, -ENOEXEC, NULL, "dynamically linked");
	write_elf(plain, false, 0644);
	setenv(ZI_AGENT_ENV, plain, 1);
	assert_agent(self, -EACCES, NULL, "not executable");
	setenv(ZI_AGENT_ENV, f->dir, 1);
	assert_agent(self, -EINVAL, NULL, "not a regular file");
	unsetenv(ZI_AGENT_ENV);
	free(bin), free(stat_path), free(self), free(dyn), free(plain);
}

/* debugfs's `stat` of PATH inside IMAGE, or NULL when it is not there. */
static char *debugfs_stat(const char *image, const char *path)
{
	char *cmd, *out = NULL;
	size_t cap = 0;
	assert_true(asprintf(&cmd, "/sbin/debugfs -R 'stat %s' '%s' 2>&1", path, image) > 0);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	ssize_t n = getdelim(&out, &cap, '\0', p);
	pclose(p);
	free(cmd);
	if (n <= 0 || strstr(out, "File not found")) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_agent_disk_carries_the_agent_executable_and_the_manifest_only_when_given(void **state)
{
	struct fixture *f = *state;
	char *agent, *image = NULL, *err = NULL, *s;
	struct stat st;
	assert_true(asprintf(&agent, "%s/agent", f->dir) > 0);
	char big[300000];
	memset(big, 'x', sizeof big);
	put(f->dir, "/agent", big, sizeof big);

	assert_int_equal(expect_disk_create_with(f->dir, NULL, agent, &image, &err), 0);
	assert_null(err);
	assert_int_equal(stat(image, &st), 0);
	assert_true(st.st_size >= 4 * 1024 * 1024 + (off_t)sizeof big);
	s = debugfs_stat(image, "/" EXPECT_DISK_AGENT);
	assert_non_null(s);
	assert_non_null(strstr(s, "Mode:  0755"));
	assert_non_null(strstr(s, "Size: 300000"));
	free(s);
	assert_null(debugfs_stat(image, "/manifest.json"));   /* the manifest went by fw_cfg */
	unlink(image), free(image), image = NULL;
	assert_int_equal(access(agent, F_OK), 0);                  /* the original stays */

	assert_int_equal(expect_disk_create_with(f->dir, "{\"credscope\": 1}", agent, &image, &err), 0);
	s = debugfs_stat(image, "/manifest.json");
	assert_non_null(s);
	free(s);
	char *expect_dir;
	assert_true(asprintf(&expect_dir, "%s/expect", f->dir) > 0);
	assert_int_equal(access(expect_dir, F_OK), -1);            /* the staging folder is gone */
	unlink(image), free(image), image = NULL;

	/* an agent that cannot be read: named, nothing left behind */
	assert_int_equal(expect_disk_create_with(f->dir, "{}", "/nonexistent/credscope", &image, &err), -ENOENT);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/credscope: cannot copy the agent onto the disk"));
	assert_null(image);
	assert_int_equal(access(expect_dir, F_OK), -1);
	free(err), free(agent), free(expect_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_field_parses_and_defaults_to_false, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_refusals_name_the_field_and_the_way_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_option_applies_the_same_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_rule_is_256_and_says_which_route_to_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unit_text_runs_the_disk_agent_to_the_given_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_must_be_a_static_executable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_disk_carries_the_agent_executable_and_the_manifest_only_when_given,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
