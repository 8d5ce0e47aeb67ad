/* Unit tests for host-harness/cmd/cmd_launch.c: credscope-launch's credential options.
 * Every refusal path (names systemd rejects, a missing ':', a duplicate, a missing file,
 * a directory, a FIFO, a file past systemd's 1 MiB limit, a secret for the kernel command
 * line) returns -EINVAL and keeps nothing; the ASan build of this file (make unit-asan)
 * fails on any leak along those paths. */
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

#include "cmd/cmd_launch.h"
#include "fileio.h"

struct fixture {
	char dir[64];
	struct launch l;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/credscope-launch-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->l = (struct launch){ .ops = &qemu_ops, .via_auto = true, .accel = "auto" };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	launch_done(&f->l);
	(void)rm_tree(f->dir);
	free(f);
	return 0;
}

static char *path_in(struct fixture *f, const char *name)
{
	static char p[128];

	snprintf(p, sizeof p, "%s/%s", f->dir, name);
	return p;
}

static void write_file(const char *path, size_t len)
{
	FILE *fp = fopen(path, "w");
	char buf[4096];

	assert_non_null(fp);
	memset(buf, 'x', sizeof buf);
	for (size_t done = 0; done < len; done += sizeof buf)
		assert_int_equal(fwrite(buf, 1, len - done < sizeof buf ? len - done : sizeof buf, fp),
				 len - done < sizeof buf ? len - done : sizeof buf);
	assert_int_equal(fclose(fp), 0);
}

static void test_names_systemd_rejects_are_refused_and_nothing_is_kept(void **state)
{
	struct fixture *f = *state;
	char long_name[300];
	static const char *const bad[] = { "a/b:v", ":v", ".:v", "..:v", "a\tb:v", "a\x7f:v", "caf\xc3\xa9:v", "a=b:v" };

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(launch_set_credential(&f->l, bad[i]), -EINVAL);
	memset(long_name, 'n', 256);
	strcpy(long_name + 256, ":v");
	assert_int_equal(launch_set_credential(&f->l, long_name), -EINVAL);
	long_name[255] = ':';   /* 255 bytes: NAME_MAX itself is fine */
	assert_int_equal(launch_set_credential(&f->l, long_name), 0);
	assert_int_equal(f->l.n_creds, 1);
	assert_int_equal(strlen(f->l.creds[0].name), 255);
}

static void test_a_missing_colon_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(launch_set_credential(&f->l, "novalue"), -EINVAL);
	assert_int_equal(launch_load_credential(&f->l, "nopath"), -EINVAL);
	assert_int_equal(f->l.n_creds, 0);
}

static void test_a_duplicate_name_is_refused_and_the_first_kept(void **state)
{
	struct fixture *f = *state;

	write_file(path_in(f, "s"), 6);
	assert_int_equal(launch_set_credential(&f->l, "A:first"), 0);
	assert_int_equal(launch_set_credential(&f->l, "A:second"), -EINVAL);
	assert_int_equal(launch_load_credential(&f->l, "A:x"), -EINVAL);
	assert_int_equal(f->l.n_creds, 1);
	assert_int_equal(f->l.creds[0].len, 5);
	assert_memory_equal(f->l.creds[0].value, "first", 5);
}

static void test_unreadable_secret_files_are_refused(void **state)
{
	struct fixture *f = *state;
	char arg[200];

	snprintf(arg, sizeof arg, "M:%s", path_in(f, "missing"));
	assert_int_equal(launch_load_credential(&f->l, arg), -EINVAL);
	snprintf(arg, sizeof arg, "D:%s", f->dir);
	assert_int_equal(launch_load_credential(&f->l, arg), -EINVAL);
	assert_int_equal(mkfifo(path_in(f, "fifo"), 0600), 0);
	snprintf(arg, sizeof arg, "F:%s", path_in(f, "fifo"));
	assert_int_equal(launch_load_credential(&f->l, arg), -EINVAL);
	write_file(path_in(f, "big"), 2u << 20);
	snprintf(arg, sizeof arg, "B:%s", path_in(f, "big"));
	assert_int_equal(launch_load_credential(&f->l, arg), -EINVAL);
	assert_int_equal(f->l.n_creds, 0);
}

static void test_exactly_one_mib_is_accepted(void **state)
{
	struct fixture *f = *state;
	char arg[200];

	write_file(path_in(f, "mib"), 1u << 20);
	snprintf(arg, sizeof arg, "MIB:%s", path_in(f, "mib"));
	assert_int_equal(launch_load_credential(&f->l, arg), 0);
	assert_int_equal(f->l.n_creds, 1);
	assert_int_equal(f->l.creds[0].len, 1u << 20);
}

static void test_a_secret_for_the_kernel_command_line_is_refused(void **state)
{
	struct fixture *f = *state;
	char arg[200];

	write_file(path_in(f, "s"), 6);
	f->l.via_auto = false, f->l.via = VIA_CMDLINE;
	snprintf(arg, sizeof arg, "S:%s", path_in(f, "s"));
	assert_int_equal(launch_load_credential(&f->l, arg), -EINVAL);
	assert_int_equal(launch_set_credential(&f->l, "P:plain"), 0);
	assert_int_equal(f->l.n_creds, 1);
	assert_int_equal(f->l.creds[0].via, VIA_CMDLINE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_systemd_rejects_are_refused_and_nothing_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_missing_colon_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_duplicate_name_is_refused_and_the_first_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_secret_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exactly_one_mib_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_secret_for_the_kernel_command_line_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
