/* Unit tests for libvirt_xml: the exact domain for the default (argv-safe) route, the
 * <oemStrings> variant, escaping, and what cannot be expressed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hypervisor/libvirt_xml.h"

#define SECRET "s3cr3t-value"

static const char *const files[] = { "/run/c/smbios-0", "/run/c,odd/smbios-1" };
static const struct lv_fwcfg fwcfg[] = { { "FW", "/run/c/fwcfg-0", false } };

static struct lv_domain file_domain(void)
{
	return (struct lv_domain){
		.name = "credscope-text", .kernel = "/img/vmlinuz", .initrd = "/img/initrd.img",
		.cmdline = "root=/dev/vda rw console=ttyS0 credscope.report=serial:org.credscope.report",
		.rootfs = "/img/rootfs.img", .expect_disk = "/run/c/expect.img", .console_log = "/run/c/console.log",
		.smbios_files = files, .n_smbios_files = 2, .fwcfg = fwcfg, .n_fwcfg = 1,
		.report = LV_REPORT_SERIAL, .report_socket = "/run/c/report.sock",
	};
}

static const char file_xml[] =
	"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
	"  <name>credscope-text</name>\n"
	"  <memory unit='MiB'>512</memory>\n"
	"  <vcpu>1</vcpu>\n"
	"  <sysinfo type='fwcfg'>\n"
	"    <entry name='opt/io.systemd.credentials/FW' file='/run/c/fwcfg-0'/>\n"
	"  </sysinfo>\n"
	"  <os>\n"
	"    <type arch='x86_64' machine='q35'>hvm</type>\n"
	"    <kernel>/img/vmlinuz</kernel>\n"
	"    <initrd>/img/initrd.img</initrd>\n"
	"    <cmdline>root=/dev/vda rw console=ttyS0 credscope.report=serial:org.credscope.report</cmdline>\n"
	"  </os>\n"
	"  <features>\n"
	"    <acpi/>\n"
	"  </features>\n"
	"  <on_poweroff>destroy</on_poweroff>\n"
	"  <on_reboot>destroy</on_reboot>\n"
	"  <on_crash>destroy</on_crash>\n"
	"  <devices>\n"
	"    <disk type='file' device='disk'>\n"
	"      <driver name='qemu' type='raw'/>\n"
	"      <source file='/img/rootfs.img'/>\n"
	"      <target dev='vda' bus='virtio'/>\n"
	"      <readonly/>\n"
	"    </disk>\n"
	"    <disk type='file' device='disk'>\n"
	"      <driver name='qemu' type='raw'/>\n"
	"      <source file='/run/c/expect.img'/>\n"
	"      <target dev='vdb' bus='virtio'/>\n"
	"      <readonly/>\n"
	"    </disk>\n"
	"    <serial type='file'>\n"
	"      <source path='/run/c/console.log'/>\n"
	"      <target port='0'/>\n"
	"    </serial>\n"
	"    <channel type='unix'>\n"
	"      <source mode='bind' path='/run/c/report.sock'/>\n"
	"      <target type='virtio' name='org.credscope.report'/>\n"
	"    </channel>\n"
	"    <memballoon model='none'/>\n"
	"  </devices>\n"
	"  <qemu:commandline>\n"
	"    <qemu:arg value='-smbios'/>\n"
	"    <qemu:arg value='type=11,path=/run/c/smbios-0'/>\n"
	"    <qemu:arg value='-smbios'/>\n"
	"    <qemu:arg value='type=11,path=/run/c,,odd/smbios-1'/>\n"
	"  </qemu:commandline>\n"
	"</domain>\n";

static void test_default_domain_passes_credentials_only_as_file_paths(void **state)
{
	struct lv_domain d = file_domain();
	char *xml = NULL, *error = NULL;

	assert_int_equal(lv_domain_xml(&d, &xml, &error), 0);
	assert_null(error);
	assert_string_equal(xml, file_xml);
	assert_null(strstr(xml, "oemStrings"));
	assert_null(strstr(xml, "<smbios mode"));
	free(xml);
}

static void test_oem_strings_variant_puts_escaped_values_into_sysinfo(void **state)
{
	const char *const oem[] = { "io.systemd.credential:TOKEN=" SECRET, "a<b>&'\"\tc" };
	struct lv_domain d = file_domain();
	char *xml = NULL;

	d.smbios_files = NULL;
	d.n_smbios_files = 0;
	d.oem_inline = oem;
	d.n_oem_inline = 2;
	assert_int_equal(lv_domain_xml(&d, &xml, NULL), 0);
	assert_non_null(strstr(xml, "  <sysinfo type='smbios'>\n    <oemStrings>\n"
				    "      <entry>io.systemd.credential:TOKEN=" SECRET "</entry>\n"
				    "      <entry>a&lt;b&gt;&amp;&apos;&quot;&#9;c</entry>\n"
				    "    </oemStrings>\n  </sysinfo>\n"));
	assert_non_null(strstr(xml, "    <smbios mode='sysinfo'/>\n  </os>\n"));
	assert_null(strstr(xml, "qemu:commandline"));
	free(xml);
}

static void test_control_characters_in_an_oem_string_are_refused_without_quoting_it(void **state)
{
	const char *const oem[] = { "io.systemd.credential:X=" SECRET "\x01" };
	struct lv_domain d = file_domain();
	char *xml = NULL, *error = NULL;

	d.oem_inline = oem;
	d.n_oem_inline = 1;
	assert_int_equal(lv_domain_xml(&d, &xml, &error), -EINVAL);
	assert_null(xml);
	assert_non_null(strstr(error, "oemStrings: a string holds control characters"));
	assert_null(strstr(error, SECRET));
	free(error);
}

/* a case's fw_cfg_raw file keeps its whole name, next to a credential's */
static void test_fw_cfg_raw_entry_goes_by_its_whole_name(void **state)
{
	static const struct lv_fwcfg two[] = { { "FW", "/run/c/fwcfg-0", false },
					       { "opt/io.systemd.credentials/sub/X", "/run/c/fwcfg-1", true } };
	struct lv_domain d = file_domain();
	char *xml = NULL;

	d.fwcfg = two, d.n_fwcfg = 2;
	assert_int_equal(lv_domain_xml(&d, &xml, NULL), 0);
	assert_non_null(strstr(xml, "  <sysinfo type='fwcfg'>\n"
				    "    <entry name='opt/io.systemd.credentials/FW' file='/run/c/fwcfg-0'/>\n"
				    "    <entry name='opt/io.systemd.credentials/sub/X' file='/run/c/fwcfg-1'/>\n"
				    "  </sysinfo>\n"));
	free(xml);
}

static void test_kernel_vsock_uses_the_vsock_element_with_a_fixed_cid(void **state)
{
	struct lv_domain d = file_domain();
	char *xml = NULL;

	d.report = LV_REPORT_VSOCK;
	d.vsock_cid = 7;
	assert_int_equal(lv_domain_xml(&d, &xml, NULL), 0);
	assert_non_null(strstr(xml, "    <vsock model='virtio'>\n      <cid auto='no' address='7'/>\n    </vsock>\n"));
	assert_null(strstr(xml, "<channel"));
	free(xml);
}

static void test_vhost_user_backend_gets_shared_memfd_memory_and_its_device(void **state)
{
	struct lv_domain d = file_domain();
	char *xml = NULL;

	d.report = LV_REPORT_VHOST_USER;
	d.report_socket = "/run/c/vsock.sock";
	assert_int_equal(lv_domain_xml(&d, &xml, NULL), 0);
	assert_non_null(strstr(xml, "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n"));
	assert_non_null(strstr(xml, "    <qemu:arg value='-chardev'/>\n"
				    "    <qemu:arg value='socket,id=credscope-vsock,path=/run/c/vsock.sock'/>\n"
				    "    <qemu:arg value='-device'/>\n"
				    "    <qemu:arg value='vhost-user-vsock-pci,chardev=credscope-vsock,bus=pcie.0,addr=0x10'/>\n"));
	free(xml);
}

static void test_domain_without_kernel_is_rejected_naming_the_field(void **state)
{
	struct lv_domain d = file_domain();
	char *xml = NULL, *error = NULL;

	d.kernel = NULL;
	assert_int_equal(lv_domain_xml(&d, &xml, &error), -EINVAL);
	assert_string_equal(error, "kernel: a kernel image is required");
	free(error);
}

static void test_domain_name_replaces_characters_libvirt_refuses(void **state)
{
	char *name = lv_domain_name("bad/name: x_y.z-1");

	assert_string_equal(name, "credscope-bad-name--x_y.z-1");
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_domain_passes_credentials_only_as_file_paths),
		cmocka_unit_test(test_oem_strings_variant_puts_escaped_values_into_sysinfo),
		cmocka_unit_test(test_control_characters_in_an_oem_string_are_refused_without_quoting_it),
		cmocka_unit_test(test_fw_cfg_raw_entry_goes_by_its_whole_name),
		cmocka_unit_test(test_kernel_vsock_uses_the_vsock_element_with_a_fixed_cid),
		cmocka_unit_test(test_vhost_user_backend_gets_shared_memfd_memory_and_its_device),
		cmocka_unit_test(test_domain_without_kernel_is_rejected_naming_the_field),
		cmocka_unit_test(test_domain_name_replaces_characters_libvirt_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
