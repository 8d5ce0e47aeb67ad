/* Unit tests for host-harness/qemu.c: QEMU's command line, and credentials that reach QEMU
 * only through memfds (never argv). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/console.h"
#include "hypervisor/qemu.h"

static char *joined(const struct qemu_vm *vm)
{
	char **argv, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_int_equal(qemu_build_argv(vm, &argv), 0);
	for (char **p = argv; *p; p++)
		fprintf(f, "%s%s", p == argv ? "" : " ", *p);
	fclose(f);
	strv_free(argv);
	return out;
}

static char *memfd_content(int fd, size_t *len)
{
	char path[64], *buf = calloc(1, 4096);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int r = open(path, O_RDONLY);   /* as QEMU opens it */
	assert_true(r >= 0);
	ssize_t n = read(r, buf, 4095);
	close(r);
	*len = (size_t)n;
	return buf;
}

static void base_vm(struct qemu_vm *vm)
{
	qemu_vm_init(vm);
	vm->kernel = "/img/vmlinuz";
	vm->initrd = "/img/initrd.img";
	vm->rootfs = "/img/root,1.img";
	vm->console_log = "/run/x/console.log";
	vm->accel = "tcg";
}

static void test_q35_command_line_is_exact(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	vm.qmp_socket = "/run/x/qmp.sock";
	vm.serial_report_socket = "/run/x/report.sock";
	vm.expect_disk = "/run/x/expect.img";
	vm.no_reboot = true;
	assert_int_equal(qemu_cmdline_append(&vm, "root=/dev/vda console=ttyS0"), 0);
	char *s = joined(&vm);
	assert_string_equal(s, "qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -machine q35 "
			       "-accel tcg -m 512 -smp 1 -kernel /img/vmlinuz -initrd /img/initrd.img "
			       "-append root=/dev/vda console=ttyS0 "
			       "-drive file=/img/root,,1.img,format=raw,if=none,id=root -device virtio-blk-pci,drive=root "
			       "-drive file=/run/x/expect.img,format=raw,if=none,id=expect,readonly=on "
			       "-device virtio-blk-pci,drive=expect "
			       "-chardev file,id=console,path=/run/x/console.log -serial chardev:console "
			       "-qmp unix:/run/x/qmp.sock,server=on,wait=off "
			       "-device virtio-serial-pci,id=vser "
			       "-chardev socket,id=report,path=/run/x/report.sock,server=on,wait=off "
			       "-device virtserialport,chardev=report,name=org.credscope.report");
	free(s);
	qemu_vm_done(&vm);
}

/* firmware uefi: OVMF's code read-only and the run's own variable store as pflash, and the
 * 64-bit SMBIOS 3.0 entry point asked of QEMU 7.2 (it builds the 32-bit one unless told). */
static void test_uefi_boots_ovmf_from_pflash_with_a_64_bit_smbios_entry_point(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	vm.rootfs = NULL;
	vm.machine = "pc";
	vm.firmware_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
	vm.firmware_vars = "/run/x,y/OVMF_VARS.fd";
	char *s = joined(&vm);
	assert_string_equal(s, "qemu-system-x86_64 -nodefaults -no-user-config -display none "
			       "-machine pc,smbios-entry-point-type=64 -accel tcg "
			       "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd "
			       "-drive if=pflash,format=raw,unit=1,file=/run/x,,y/OVMF_VARS.fd "
			       "-m 512 -smp 1 -kernel /img/vmlinuz -initrd /img/initrd.img "
			       "-chardev file,id=console,path=/run/x/console.log -serial chardev:console");
	free(s);
	qemu_vm_done(&vm);
}

/* aarch64: qemu-system-aarch64 -M virt (no SMBIOS entry point property there: virt's is
 * always 3.0), -cpu max with the cheap pointer authentication under TCG, AAVMF as pflash,
 * virtio over PCI, and the vhost-user vsock device with guest RAM in a shared memfd. */
static void test_aarch64_boots_virt_with_aavmf_and_vhost_user_vsock(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	vm.aarch64 = true;
	vm.firmware_code = "/usr/share/AAVMF/AAVMF_CODE.fd";
	vm.firmware_vars = "/run/x/AAVMF_VARS.fd";
	vm.vsock_socket = "/run/x/vsock.sock";
	vm.expect_disk = "/run/x/expect.img";
	assert_int_equal(qemu_cmdline_append(&vm, "console=ttyAMA0"), 0);
	assert_int_equal(qemu_cmdline_machine_quirks(&vm), 0);   /* none on virt */
	char *s = joined(&vm);
	assert_string_equal(s, "qemu-system-aarch64 -nodefaults -no-user-config -display none "
			       "-machine virt,memory-backend=mem -accel tcg -cpu max,pauth-impdef=on "
			       "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd "
			       "-drive if=pflash,format=raw,unit=1,file=/run/x/AAVMF_VARS.fd "
			       "-m 512 -smp 1 -object memory-backend-memfd,id=mem,size=512M,share=on "
			       "-kernel /img/vmlinuz -initrd /img/initrd.img -append console=ttyAMA0 "
			       "-drive file=/img/root,,1.img,format=raw,if=none,id=root -device virtio-blk-pci,drive=root "
			       "-drive file=/run/x/expect.img,format=raw,if=none,id=expect,readonly=on "
			       "-device virtio-blk-pci,drive=expect "
			       "-chardev file,id=console,path=/run/x/console.log -serial chardev:console "
			       "-chardev socket,id=vsock,path=/run/x/vsock.sock -device vhost-user-vsock-pci,chardev=vsock");
	free(s);
	/* a --qemu binary and an explicit machine are taken as given */
	vm.qemu_binary = "/opt/q/qemu-system-aarch64";
	vm.vsock_socket = NULL;
	s = joined(&vm);
	assert_non_null(strstr(s, "/opt/q/qemu-system-aarch64 -nodefaults"));
	assert_non_null(strstr(s, " -machine virt -accel tcg -cpu max,pauth-impdef=on "));
	free(s);
	qemu_vm_done(&vm);
}

/* No kernel: the firmware boots the root disk (first in the boot order), and no -append,
 * which QEMU refuses without -kernel; the disk is never written (snapshot=on). */
static void test_disk_boot_has_no_kernel_and_boots_the_disk_first(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	vm.kernel = NULL, vm.initrd = NULL;
	vm.rootfs = "/home/u/disk.qcow2";
	vm.rootfs_format = "qcow2";
	vm.snapshot = true;
	assert_int_equal(qemu_cmdline_append(&vm, "credscope.report=vsock:2:5123"), 0);
	char *s = joined(&vm);
	assert_string_equal(s, "qemu-system-x86_64 -nodefaults -no-user-config -display none -machine q35 -accel tcg "
			       "-m 512 -smp 1 "
			       "-drive file=/home/u/disk.qcow2,format=qcow2,if=none,id=root,snapshot=on,file.locking=off "
			       "-device virtio-blk-pci,drive=root,bootindex=1 "
			       "-chardev file,id=console,path=/run/x/console.log -serial chardev:console");
	free(s);
	vm.rootfs = NULL;   /* nothing to boot at all */
	char **argv;
	assert_int_equal(qemu_build_argv(&vm, &argv), -EINVAL);
	qemu_vm_done(&vm);
}

static void test_secret_goes_to_a_memfd_and_never_to_argv(void **state)
{
	struct qemu_vm vm;
	const uint8_t secret[] = "canary-7f3a9,x";
	base_vm(&vm);
	assert_int_equal(qemu_add_smbios_credential(&vm, "TEXT", secret, sizeof secret - 1, false), 0);
	assert_int_equal(qemu_add_smbios_credential(&vm, "BIN", secret, sizeof secret - 1, true), 0);
	assert_int_equal(qemu_add_fw_cfg_credential(&vm, "FW", secret, sizeof secret - 1), 0);
	char *s = joined(&vm), expect[512];
	assert_null(strstr(s, "canary"));
	assert_null(strstr(s, "Y2FuYXJ5"));   /* base64 of "canary" */
	snprintf(expect, sizeof expect, "-smbios type=11,path=/proc/self/fd/%d -smbios type=11,path=/proc/self/fd/%d "
		 "-fw_cfg name=opt/io.systemd.credentials/FW,file=/proc/self/fd/%d", vm.files[0].fd, vm.files[1].fd,
		 vm.files[2].fd);
	assert_non_null(strstr(s, expect));
	size_t len;
	char *c = memfd_content(vm.files[0].fd, &len);
	assert_int_equal(len, strlen("io.systemd.credential:TEXT=canary-7f3a9,x"));
	assert_memory_equal(c, "io.systemd.credential:TEXT=canary-7f3a9,x", len);   /* no trailing newline */
	free(c);
	c = memfd_content(vm.files[1].fd, &len);
	assert_string_equal(c, "io.systemd.credential.binary:BIN=Y2FuYXJ5LTdmM2E5LHg=");
	free(c);
	c = memfd_content(vm.files[2].fd, &len);
	assert_int_equal(len, sizeof secret - 1);
	assert_memory_equal(c, secret, len);
	free(c);
	assert_int_equal(fcntl(vm.files[0].fd, F_GET_SEALS) & F_SEAL_WRITE, F_SEAL_WRITE);
	free(s);
	qemu_vm_done(&vm);
}

static void test_fw_cfg_name_over_55_characters_is_refused(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	assert_int_equal(qemu_add_fw_cfg_credential(&vm, "ABCDEFGHIJKLMNOPQRSTUVWXYZABC", (const uint8_t *)"x", 1),
			 -ENAMETOOLONG);
	assert_int_equal(qemu_add_fw_cfg_credential(&vm, "ABCDEFGHIJKLMNOPQRSTUVWXYZAB", (const uint8_t *)"x", 1), 0);
	qemu_vm_done(&vm);
}

/* a case's fw_cfg_raw: the whole name as given, the value through a memfd like any other */
static void test_fw_cfg_file_goes_by_its_whole_name_through_a_memfd(void **state)
{
	struct qemu_vm vm;
	char expect[256], *s, *c;
	size_t len;
	base_vm(&vm);
	assert_int_equal(qemu_add_fw_cfg_credential(&vm, "FW", (const uint8_t *)"fw", 2), 0);
	assert_int_equal(qemu_add_fw_cfg_file(&vm, "opt/io.systemd.credentials/sub/X", (const uint8_t *)"raw,x\n", 6), 0);
	assert_int_equal(qemu_add_fw_cfg_file(&vm, "opt/a,b", (const uint8_t *)"", 0), 0);
	s = joined(&vm);
	snprintf(expect, sizeof expect, "-fw_cfg name=opt/io.systemd.credentials/FW,file=/proc/self/fd/%d "
		 "-fw_cfg name=opt/io.systemd.credentials/sub/X,file=/proc/self/fd/%d "
		 "-fw_cfg name=opt/a,,b,file=/proc/self/fd/%d", vm.files[0].fd, vm.files[1].fd, vm.files[2].fd);
	assert_non_null(strstr(s, expect));
	assert_null(strstr(s, "raw,x"));
	c = memfd_content(vm.files[1].fd, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(c, "raw,x\n", 6);
	free(c);
	c = memfd_content(vm.files[2].fd, &len);
	assert_int_equal(len, 0);
	free(c);
	free(s);
	qemu_vm_done(&vm);
}

static void test_fw_cfg_file_name_empty_or_over_55_characters_is_refused(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	/* 55 characters fit, 56 do not */
	assert_int_equal(qemu_add_fw_cfg_file(&vm, "opt/io.systemd.credentials/sub/ABCDEFGHIJKLMNOPQRSTUVWX",
					      (const uint8_t *)"x", 1), 0);
	assert_int_equal(qemu_add_fw_cfg_file(&vm, "opt/io.systemd.credentials/sub/ABCDEFGHIJKLMNOPQRSTUVWXY",
					      (const uint8_t *)"x", 1), -ENAMETOOLONG);
	assert_int_equal(qemu_add_fw_cfg_file(&vm, "", (const uint8_t *)"x", 1), -EINVAL);
	assert_int_equal(vm.n_files, 1);
	qemu_vm_done(&vm);
}

static void test_oem_string_with_nul_is_refused(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	assert_int_equal(qemu_add_oem_string(&vm, "a\0b", 3), -EINVAL);
	assert_int_equal(vm.n_files, 0);
	qemu_vm_done(&vm);
}

static void test_cmdline_credential_is_a_kernel_word_and_rejects_blanks(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	assert_int_equal(qemu_add_cmdline_credential(&vm, "CMD", "uff"), 0);
	assert_int_equal(qemu_add_cmdline_credential(&vm, "CMD", "a b"), -EINVAL);
	assert_int_equal(qemu_add_cmdline_credential(&vm, "A:B", "x"), -EINVAL);
	assert_string_equal(vm.cmdline, "systemd.set_credential=CMD:uff");
	qemu_vm_done(&vm);
}

static void test_microvm_uses_mmio_devices_and_vsock_shares_memory(void **state)
{
	struct qemu_vm vm;
	base_vm(&vm);
	vm.machine = "microvm";
	vm.vsock_socket = "/run/x/vsock.sock";
	vm.serial_report_socket = "/run/x/report.sock";
	char *s = joined(&vm);
	assert_non_null(strstr(s, "-machine microvm,isa-serial=on,rtc=on,pit=on,pic=on,memory-backend=mem "));
	assert_non_null(strstr(s, "-object memory-backend-memfd,id=mem,size=512M,share=on"));
	assert_non_null(strstr(s, "-device virtio-blk-device,drive=root"));
	assert_non_null(strstr(s, "-device virtio-serial-device,id=vser"));
	assert_non_null(strstr(s, "-device vhost-user-vsock-device,chardev=vsock"));
	assert_null(strstr(s, "-pci"));
	free(s);
	qemu_vm_done(&vm);
}

static void test_console_phases_follow_the_boot(void **state)
{
	struct console_watch w;
	memset(&w, 0, sizeof w);
	w.fd = -1;
	assert_int_equal(w.phase, PHASE_FIRMWARE);
	const char *k = "[    0.000000] Linux version 6.1.0-28-cloud-amd64\r\n";
	console_watch_feed(&w, k, strlen(k), 1000);
	assert_int_equal(w.phase, PHASE_KERNEL);
	const char *s = "[    1.5] systemd[1]: systemd 252.33-1~deb12u1 running in system mode\n";
	console_watch_feed(&w, s, strlen(s), 2000);
	assert_int_equal(w.phase, PHASE_SYSTEMD);
	const char *v = "CREDSCOPE-VERDICT: pass 0 findings\nKernel panic - not syncing: Attempted to kill init!\npartial";
	console_watch_feed(&w, v, strlen(v), 3000);
	assert_int_equal(w.phase, PHASE_REPORT);
	assert_string_equal(w.verdict_line, "CREDSCOPE-VERDICT: pass 0 findings");
	assert_true(w.panicked);
	assert_string_equal(w.panic_line, "Kernel panic - not syncing: Attempted to kill init!");
	char *t = console_watch_tail(&w, 2);
	assert_string_equal(t, "CREDSCOPE-VERDICT: pass 0 findings\nKernel panic - not syncing: Attempted to kill init!\npartial");
	free(t);
	console_watch_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q35_command_line_is_exact),
		cmocka_unit_test(test_uefi_boots_ovmf_from_pflash_with_a_64_bit_smbios_entry_point),
		cmocka_unit_test(test_aarch64_boots_virt_with_aavmf_and_vhost_user_vsock),
		cmocka_unit_test(test_disk_boot_has_no_kernel_and_boots_the_disk_first),
		cmocka_unit_test(test_secret_goes_to_a_memfd_and_never_to_argv),
		cmocka_unit_test(test_fw_cfg_name_over_55_characters_is_refused),
		cmocka_unit_test(test_fw_cfg_file_goes_by_its_whole_name_through_a_memfd),
		cmocka_unit_test(test_fw_cfg_file_name_empty_or_over_55_characters_is_refused),
		cmocka_unit_test(test_oem_string_with_nul_is_refused),
		cmocka_unit_test(test_cmdline_credential_is_a_kernel_word_and_rejects_blanks),
		cmocka_unit_test(test_microvm_uses_mmio_devices_and_vsock_shares_memory),
		cmocka_unit_test(test_console_phases_follow_the_boot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
