/* Unit tests for host-harness/runner/case_guest.c (through case_parse()): a case's own
 * guest ("guest"), its firmware and architecture, and "smbios_entry_point", parsed
 * strictly against real files in a temporary case folder. */
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
#include "runner/case_guest.h"

struct fixture {
	char dir[64];         /* the case folder: DIR/cases */
	char *cases;
	char *case_path;      /* DIR/cases/t.json */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/credscope-test-guest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&f->cases, "%s/cases", f->dir) > 0);
	assert_true(asprintf(&f->case_path, "%s/t.json", f->cases) > 0);
	puts_at(f->cases, "/img/vmlinuz", "MZ kernel");
	puts_at(f->cases, "/img/initrd.img", "initrd");
	puts_at(f->cases, "/img/root.raw", "raw root file system");
	put(f->cases, "/img/disk.qcow2", "QFI\xfb\0\0\0\3 rest of a qcow2 header", 32);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(rm_tree(f->dir), 0);
	free(f->cases), free(f->case_path), free(f);
	return 0;
}

static int parse(struct fixture *f, const char *json, struct test_case *tc, char **err)
{
	return case_parse(json, strlen(json), f->case_path, tc, err);
}

/* JSON fails to parse; the error starts with the case file and contains WANT exactly. */
static void assert_refused(struct fixture *f, const char *json, const char *want)
{
	struct test_case tc;
	char *err = NULL;
	assert_int_equal(parse(f, json, &tc, &err), -EINVAL);
	assert_non_null(err);
	if (strncmp(err, f->case_path, strlen(f->case_path)) || !strstr(err, want))
		fail_msg("error \"%s\" does not start with the case file or lacks \"%s\"", err, want);
	free(err);
}

static void test_guest_paths_resolve_against_the_case_folder(void **state)
{
	struct fixture *f = *state;
	struct test_case tc;
	char *err = NULL, *want;
	assert_int_equal(parse(f, "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/vmlinuz\", \"initrd\": \"img/initrd.img\", "
			 "\"disk\": \"img/root.raw\", \"append\": \"root=/dev/vda rw\"}}", &tc, &err), 0);
	assert_null(err);
	assert_non_null(tc.guest);
	assert_true(asprintf(&want, "%s/img/vmlinuz", f->cases) > 0);
	assert_string_equal(tc.guest->kernel, want);
	free(want);
	assert_true(asprintf(&want, "%s/img/root.raw", f->cases) > 0);
	assert_string_equal(tc.guest->disk, want);
	free(want);
	assert_string_equal(tc.guest->append, "root=/dev/vda rw");
	assert_null(tc.guest->format);
	assert_int_equal(tc.firmware, FIRMWARE_BIOS);
	assert_false(tc.firmware_given);
	/* one run, labelled "guest", never on a flavor */
	assert_true(case_runs_on(&tc, CASE_GUEST_LABEL));
	assert_false(case_runs_on(&tc, "bookworm"));
	case_free(&tc);
}

static void test_bootable_qcow2_disk_with_uefi_parses(void **state)
{
	struct fixture *f = *state;
	struct test_case tc;
	char *err = NULL, *want;
	assert_true(asprintf(&want, "%s/img/disk.qcow2", f->cases) > 0);
	char *json;
	assert_true(asprintf(&json, "{\"name\": \"d\", \"firmware\": \"uefi\", \"machine\": \"pc\", \"smbios_entry_point\": "
			     "\"_SM3_\", \"guest\": {\"disk\": \"%s\", \"format\": \"qcow2\"}}", want) > 0);
	assert_int_equal(parse(f, json, &tc, &err), 0);
	assert_string_equal(tc.guest->disk, want);   /* an absolute path stays as it is */
	assert_null(tc.guest->kernel);
	assert_string_equal(tc.guest->format, "qcow2");
	assert_int_equal(tc.firmware, FIRMWARE_UEFI);
	assert_true(tc.firmware_given);
	assert_string_equal(tc.smbios_entry_point, "_SM3_");
	case_free(&tc);
	free(json), free(want);
}

static void test_unknown_guest_key_is_named(void **state)
{
	assert_refused(*state, "{\"name\": \"u\", \"guest\": {\"kernal\": \"img/vmlinuz\"}}",
		       ": guest.kernal: unknown field (known: kernel, initrd, disk, format, append)");
}

static void test_missing_file_is_named_with_its_path(void **state)
{
	struct fixture *f = *state;
	char *want;
	assert_true(asprintf(&want, ": guest.initrd: %s/img/nope.img: No such file or directory", f->cases) > 0);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/vmlinuz\", \"initrd\": \"img/nope.img\"}}", want);
	free(want);
}

static void test_fifo_and_directory_are_refused_without_reading(void **state)
{
	struct fixture *f = *state;
	char *fifo, *want;
	assert_true(asprintf(&fifo, "%s/img/fifo", f->cases) > 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);   /* opening it for reading would block without O_NONBLOCK */
	assert_true(asprintf(&want, ": guest.kernel: %s: is a FIFO or socket, not a regular file", fifo) > 0);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/fifo\"}}", want);
	free(want);
	assert_true(asprintf(&want, ": guest.disk: %s/img: is a directory", f->cases) > 0);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img\"}}", want);
	free(want), free(fifo);
}

static void test_format_must_match_the_disk(void **state)
{
	struct fixture *f = *state;
	char *want;
	assert_true(asprintf(&want, ": guest.disk: %s/img/disk.qcow2 is a qcow2 image; say \"format\": \"qcow2\"", f->cases) > 0);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/disk.qcow2\"}}", want);
	free(want);
	assert_true(asprintf(&want, ": guest.disk: %s/img/root.raw is not a qcow2 image (no QFI\\xfb magic at byte 0)",
			     f->cases) > 0);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\", \"format\": \"qcow2\"}}", want);
	free(want);
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\", \"format\": \"vmdk\"}}",
		       ": guest.format: unknown value \"vmdk\" (known: raw, qcow2)");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/vmlinuz\", \"format\": \"raw\"}}",
		       ": guest.format: there is no guest.disk it could describe");
}

static void test_guest_shapes_that_cannot_boot_are_refused(void **state)
{
	struct fixture *f = *state;
	assert_refused(f, "{\"name\": \"u\", \"guest\": {}}", ": guest: names neither a kernel");
	assert_refused(f, "{\"name\": \"u\", \"guest\": \"img/vmlinuz\"}", ": guest: expected an object");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\", \"initrd\": \"img/initrd.img\"}}",
		       ": guest.initrd: needs guest.kernel");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\", \"append\": \"quiet\"}}",
		       ": guest.append: needs guest.kernel");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/vmlinuz\", \"append\": \"a\\nb\"}}",
		       ": guest.append: control byte 0x0a");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"kernel\": 7}}", ": guest.kernel: expected a path");
	assert_refused(f, "{\"name\": \"u\", \"image\": \"bookworm\", \"guest\": {\"kernel\": \"img/vmlinuz\"}}",
		       ": guest: a case boots either its own guest or flavors");
}

static void test_disk_boot_refuses_what_needs_the_kernel_command_line(void **state)
{
	struct fixture *f = *state;
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\"}, \"credentials\": [{\"name\": \"C\", "
		       "\"value\": \"v\", \"via\": \"cmdline\"}]}",
		       ": credential C: \"via\": \"cmdline\" needs direct kernel boot");
	assert_refused(f, "{\"name\": \"u\", \"guest\": {\"disk\": \"img/root.raw\"}, \"kernel_cmdline_extra\": \"x\"}",
		       ": kernel_cmdline_extra: needs direct kernel boot");
	assert_refused(f, "{\"name\": \"u\", \"machine\": \"microvm\", \"guest\": {\"disk\": \"img/root.raw\"}}",
		       ": guest: the microvm machine boots a kernel directly, not a disk");
	/* the same credential by direct kernel boot is fine */
	struct test_case tc;
	const char *ok = "{\"name\": \"u\", \"guest\": {\"kernel\": \"img/vmlinuz\"}, \"credentials\": [{\"name\": \"C\", "
			 "\"value\": \"v\", \"via\": \"cmdline\"}]}";
	assert_int_equal(parse(f, ok, &tc, NULL), 0);
	case_free(&tc);
}

static void test_firmware_arch_and_entry_point_values(void **state)
{
	struct fixture *f = *state;
	assert_refused(f, "{\"name\": \"u\", \"firmware\": \"efi\"}", ": firmware: expected \"bios\"");
	assert_refused(f, "{\"name\": \"u\", \"firmware\": \"uefi\", \"machine\": \"microvm\"}",
		       ": firmware: the microvm machine has no UEFI firmware (use q35 or pc)");
	assert_refused(f, "{\"name\": \"u\", \"arch\": \"riscv64\"}", ": arch: expected \"x86_64\" or \"aarch64\"");
	assert_refused(f, "{\"name\": \"u\", \"arch\": \"aarch64\", \"machine\": \"q35\"}",
		       ": machine: \"q35\" is an x86 machine; an aarch64 guest boots on \"virt\"");
	assert_refused(f, "{\"name\": \"u\", \"arch\": \"aarch64\", \"firmware\": \"bios\"}",
		       ": firmware: an aarch64 guest boots UEFI (AAVMF) only");
	assert_refused(f, "{\"name\": \"u\", \"arch\": \"x86_64\", \"machine\": \"virt\"}",
		       ": machine: \"virt\" is the aarch64 machine");
	assert_refused(f, "{\"name\": \"u\", \"machine\": \"virt\", \"firmware\": \"bios\"}",
		       ": firmware: an aarch64 guest boots UEFI (AAVMF) only");
	assert_refused(f, "{\"name\": \"u\", \"smbios_entry_point\": \"3.0\"}",
		       ": smbios_entry_point: unknown value \"3.0\" (known: _SM3_, _SM_, _DMI_, none)");
	assert_refused(f, "{\"name\": \"u\", \"hypervisor\": \"cloud-hypervisor\", \"firmware\": \"uefi\"}",
		       ": firmware: the cloud-hypervisor runner boots built flavors");
	struct test_case tc;
	assert_int_equal(parse(f, "{\"name\": \"u\", \"arch\": \"x86_64\", \"firmware\": \"bios\"}", &tc, NULL), 0);
	assert_int_equal(tc.firmware, FIRMWARE_BIOS);
	assert_true(tc.firmware_given);
	assert_null(tc.guest);
	assert_true(case_runs_on(&tc, "bookworm"));
	assert_int_equal(tc.arch, GUEST_ARCH_X86_64);
	assert_true(tc.arch_given);
	assert_false(tc.machine_given);
	case_free(&tc);
	assert_int_equal(parse(f, "{\"name\": \"u\", \"arch\": \"aarch64\", \"firmware\": \"uefi\"}", &tc, NULL), 0);
	assert_int_equal(tc.arch, GUEST_ARCH_AARCH64);
	assert_string_equal(tc.machine, "q35");   /* absent: the run boots virt (case_arch_misfit) */
	assert_false(tc.machine_given);
	case_free(&tc);
	assert_int_equal(parse(f, "{\"name\": \"u\", \"machine\": \"virt\"}", &tc, NULL), 0);
	assert_int_equal(tc.arch, GUEST_ARCH_AARCH64);   /* virt is aarch64's */
	assert_true(tc.arch_given && tc.machine_given);
	case_free(&tc);
	assert_int_equal(parse(f, "{\"name\": \"u\"}", &tc, NULL), 0);
	assert_false(tc.arch_given);
	case_free(&tc);
}

/* A flavor decides the architecture of a case that names none: what the case asks that an
 * aarch64 flavor cannot give is a sentence (the runner's explained skip), never a boot. */
static void test_arch_misfit_on_a_flavor(void **state)
{
	(void)state;
	bool oom;
	char *why;

	/* the default suite's plain cases run on aarch64 as they are */
	assert_null(case_arch_misfit(GUEST_ARCH_AARCH64, false, GUEST_ARCH_X86_64, FIRMWARE_BIOS, false, "q35", false, &oom));
	assert_false(oom);
	assert_null(case_arch_misfit(GUEST_ARCH_X86_64, false, GUEST_ARCH_X86_64, FIRMWARE_BIOS, false, "q35", false, &oom));
	/* pc.json, microvm.json: an x86 machine */
	why = case_arch_misfit(GUEST_ARCH_AARCH64, false, GUEST_ARCH_X86_64, FIRMWARE_BIOS, false, "microvm", true, &oom);
	assert_string_equal(why, "machine: \"microvm\" is an x86 machine; an aarch64 guest boots on \"virt\"");
	free(why);
	why = case_arch_misfit(GUEST_ARCH_AARCH64, false, GUEST_ARCH_X86_64, FIRMWARE_BIOS, true, "q35", false, &oom);
	assert_non_null(strstr(why, "firmware: an aarch64 guest boots UEFI (AAVMF) only"));
	free(why);
	why = case_arch_misfit(GUEST_ARCH_X86_64, true, GUEST_ARCH_AARCH64, FIRMWARE_BIOS, false, "virt", true, &oom);
	assert_string_equal(why, "arch: the case is for aarch64, the image for x86_64");
	free(why);
	why = case_arch_misfit(GUEST_ARCH_OTHER, false, GUEST_ARCH_X86_64, FIRMWARE_BIOS, false, "q35", false, &oom);
	assert_non_null(strstr(why, "does not boot (x86_64 and aarch64 only)"));
	free(why);
}

/* credscope-harness run --guest-* --firmware: every case without its own guest takes a
 * copy; a case's own "firmware" wins over --firmware; a misfit names the case file. */
static void test_cli_guest_applies_unless_the_case_names_its_own(void **state)
{
	struct fixture *f = *state;
	struct case_guest g = { .disk = NULL, .format = "qcow2" };
	enum case_firmware uefi = FIRMWARE_UEFI;
	struct test_case plain, own_fw, cmdline;
	char *err = NULL;

	assert_true(asprintf(&g.disk, "%s/img/disk.qcow2", f->cases) > 0);
	assert_int_equal(case_guest_check(&g, "--guest-", &err), 0);
	assert_int_equal(parse(f, "{\"name\": \"p\"}", &plain, NULL), 0);
	assert_int_equal(case_use_guest(&plain, &g, &uefi, &err), 0);
	assert_string_equal(plain.guest->disk, g.disk);
	assert_true(plain.guest->disk != g.disk);   /* a copy */
	assert_int_equal(plain.firmware, FIRMWARE_UEFI);
	assert_true(case_runs_on(&plain, CASE_GUEST_LABEL));

	assert_int_equal(parse(f, "{\"name\": \"o\", \"firmware\": \"bios\"}", &own_fw, NULL), 0);
	assert_int_equal(case_use_guest(&own_fw, &g, &uefi, &err), 0);
	assert_int_equal(own_fw.firmware, FIRMWARE_BIOS);

	assert_int_equal(parse(f, "{\"name\": \"c\", \"credentials\": [{\"name\": \"K\", \"value\": \"v\", \"via\": "
			 "\"cmdline\"}]}", &cmdline, NULL), 0);
	assert_int_equal(case_use_guest(&cmdline, &g, &uefi, &err), -EINVAL);
	assert_non_null(strstr(err, "t.json: credential K: \"via\": \"cmdline\" needs direct kernel boot"));
	assert_null(cmdline.guest);   /* unchanged */
	free(err);
	err = NULL;

	struct case_guest bad = { .kernel = "/nonexistent/vmlinuz" };
	assert_int_equal(case_guest_check(&bad, "--guest-", &err), -EINVAL);
	assert_string_equal(err, "--guest-kernel: /nonexistent/vmlinuz: No such file or directory");
	free(err);
	case_free(&plain), case_free(&own_fw), case_free(&cmdline);
	free(g.disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_paths_resolve_against_the_case_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootable_qcow2_disk_with_uefi_parses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_guest_key_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_named_with_its_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_and_directory_are_refused_without_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_must_match_the_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_shapes_that_cannot_boot_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_boot_refuses_what_needs_the_kernel_command_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_arch_and_entry_point_values, setup, teardown),
		cmocka_unit_test(test_arch_misfit_on_a_flavor),
		cmocka_unit_test_setup_teardown(test_cli_guest_applies_unless_the_case_names_its_own, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
