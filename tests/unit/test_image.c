/* Unit tests for host-harness/runner/image.c: what a flavor's image.json says about its
 * architecture ("arch"), whose by_image case entries it takes ("cases_as") and which
 * kernel file QEMU and cloud-hypervisor boot from it ("files": {"vmlinux"}). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "temp_root.h"
#include "runner/image.h"
#include "hypervisor/hypervisor.h"

static char dir[] = "/tmp/credscope-test-image-XXXXXX";

static void flavor(const char *name, const char *json)
{
	char rel[128];

	snprintf(rel, sizeof rel, "/%s/vmlinuz", name), puts_at(dir, rel, "k");
	snprintf(rel, sizeof rel, "/%s/rootfs.img", name), puts_at(dir, rel, "r");
	if (json)
		snprintf(rel, sizeof rel, "/%s/image.json", name), puts_at(dir, rel, json);
}

static void load(const char *name, struct guest_image *img)
{
	char *why = NULL;

	assert_int_equal(image_load(dir, name, img, &why), 0);
	assert_null(why);
}

static void test_arch_and_cases_as_from_image_json(void **state)
{
	struct guest_image img;
	(void)state;

	assert_non_null(mkdtemp(dir));
	flavor("trixie-arm64", "{\"flavor\": \"trixie-arm64\", \"arch\": \"aarch64\", \"cases_as\": \"trixie\", "
			       "\"files\": {\"kernel\": \"vmlinuz\", \"rootfs\": \"rootfs.img\"}, "
			       "\"boot\": {\"initrd\": {\"cmdline\": \"console=ttyAMA0 ro quiet\"}}}");
	load("trixie-arm64", &img);
	assert_int_equal(img.arch, GUEST_ARCH_AARCH64);
	assert_string_equal(img.cases_as, "trixie");
	assert_string_equal(img.cmdline, "console=ttyAMA0 ro");   /* quiet dropped */
	image_free(&img);

	flavor("trixie", "{\"arch\": \"x86_64\", \"cases_as\": null}");
	load("trixie", &img);
	assert_int_equal(img.arch, GUEST_ARCH_X86_64);
	assert_null(img.cases_as);
	image_free(&img);

	flavor("old", NULL);   /* no image.json (or no "arch"): x86_64 */
	load("old", &img);
	assert_int_equal(img.arch, GUEST_ARCH_X86_64);
	image_free(&img);

	flavor("riscv", "{\"arch\": \"riscv64\", \"cases_as\": \"../x\"}");
	load("riscv", &img);
	assert_int_equal(img.arch, GUEST_ARCH_OTHER);   /* the runner skips it, saying why */
	assert_string_equal(img.arch_name, "riscv64");
	assert_null(img.cases_as);                       /* not a flavor name */
	image_free(&img);

	flavor("odd", "{\"arch\": 64}");
	load("odd", &img);
	assert_int_equal(img.arch, GUEST_ARCH_OTHER);
	image_free(&img);
	assert_string_equal(guest_arch_name(GUEST_ARCH_AARCH64), "aarch64");
	assert_null(guest_arch_name(GUEST_ARCH_OTHER));

}

/* A built x86 image names its PVH kernel; QEMU boots it with BIOS firmware only (UEFI boots
 * the bzImage's EFI stub, aarch64 its Image); cloud-hypervisor always wants the ELF. */
static void test_pvh_kernel(void **state)
{
	struct guest_image img;
	char *k, path[256];
	(void)state;

	flavor("pvh", "{\"files\": {\"kernel\": \"vmlinuz\", \"vmlinux\": \"vmlinux\", \"rootfs\": \"rootfs.img\"}}");
	puts_at(dir, "/pvh/vmlinux", "elf");
	load("pvh", &img);
	snprintf(path, sizeof path, "%s/pvh/vmlinux", dir);
	assert_non_null(img.vmlinux);
	assert_string_equal(img.vmlinux, path);

	struct hv_config bios = { 0 }, uefi = { .uefi = true }, arm = { .aarch64 = true, .uefi = true };
	k = qemu_ops.image_kernel(&bios, img.kernel, img.vmlinux);
	assert_string_equal(k, path);
	free(k);
	k = qemu_ops.image_kernel(&uefi, img.kernel, img.vmlinux);
	assert_string_equal(k, img.kernel);
	free(k);
	k = qemu_ops.image_kernel(&arm, img.kernel, img.vmlinux);
	assert_string_equal(k, img.kernel);
	free(k);
	k = qemu_ops.image_kernel(&bios, img.kernel, NULL);   /* no PVH kernel: the bzImage */
	assert_string_equal(k, img.kernel);
	free(k);
	k = cloud_hypervisor_ops.image_kernel(&uefi, img.kernel, img.vmlinux);
	assert_string_equal(k, path);
	free(k);
	image_free(&img);

	/* named, but the file is gone: the bzImage boots */
	flavor("gone", "{\"files\": {\"kernel\": \"vmlinuz\", \"vmlinux\": \"vmlinux\", \"rootfs\": \"rootfs.img\"}}");
	load("gone", &img);
	assert_null(img.vmlinux);
	k = qemu_ops.image_kernel(&bios, img.kernel, img.vmlinux);
	assert_string_equal(k, img.kernel);
	free(k);
	image_free(&img);

	/* only "files" names it: a top-level "vmlinux" is not read */
	flavor("top", "{\"vmlinux\": \"vmlinux\"}");
	puts_at(dir, "/top/vmlinux", "elf");
	load("top", &img);
	assert_null(img.vmlinux);
	image_free(&img);

	char *cmd;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arch_and_cases_as_from_image_json),
		cmocka_unit_test(test_pvh_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
