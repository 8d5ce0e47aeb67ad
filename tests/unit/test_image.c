/* Unit tests for host-harness/runner/image.c: what a flavor's image.json says about its
 * architecture ("arch") and whose by_image case entries it takes ("cases_as"). */
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

	char *cmd;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arch_and_cases_as_from_image_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
