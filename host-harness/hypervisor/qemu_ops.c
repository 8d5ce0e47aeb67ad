/* qemu_ops: QEMU behind the hypervisor ops table (hypervisor.h), over qemu.c (command
 * line, memfds) and qemu_proc.c (process, QMP). */
#include "hypervisor/hypervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/qemu.h"
#include "hypervisor/qemu_firmware.h"
#include "fileio.h"

#define QEMU_LOG_TAIL 600
#define QEMU_LOG_CAP (4u << 20)   /* a log past this is not worth quoting */
#define QEMU_INTERRUPT_GRACE_MS 5000

struct qemu_backend {
	struct qemu_vm vm;
	char *qmp_socket, *vsock_socket, *serial_socket;
	char *ovmf_vars;       /* this run's copy of the UEFI variable store (OVMF or AAVMF), or NULL */
};

static struct qemu_vm *qvm(struct hv_vm *vm)
{
	return &((struct qemu_backend *)vm->impl)->vm;
}

static bool is_microvm(const struct hv_config *cfg)
{
	return cfg->machine && strcmp(cfg->machine, "microvm") == 0;
}

/* microvm has no SMBIOS at all (hypervisors.md §1.4): say so instead of booting into a
 * timeout or a vague "missing". */
static const char *qemu_refuse_path(const struct hv_config *cfg, enum cred_via via)
{
	if (is_microvm(cfg) && (via == VIA_SMBIOS || via == VIA_SMBIOS_BINARY))
		return "cannot arrive: the microvm machine has no SMBIOS at all, so a credential sent as an SMBIOS "
		       "OEM string has nowhere to go (send it with via fw_cfg or use q35/pc)";
	return NULL;
}

/* OVMF must be installed; microvm runs no UEFI firmware at all. An aarch64 guest needs
 * qemu-system-aarch64 and AAVMF: both are the environment's, so their absence is a skip. */
static char *qemu_firmware_missing(const struct hv_config *cfg)
{
	if (cfg->aarch64) {
		const char *qemu = cfg->binary ? cfg->binary : "qemu-system-aarch64";
		char *why = NULL;
		if (!qemu_program_found(qemu) &&
		    asprintf(&why, "%s not found: an aarch64 guest needs it (install Debian's qemu-system-arm package)",
			     qemu) < 0)
			return NULL;
		return why ? why : qemu_uefi_missing(true);
	}
	if (!cfg->uefi)
		return NULL;
	if (is_microvm(cfg))
		return strdup("the microvm machine has no UEFI firmware (use q35 or pc)");
	return qemu_uefi_missing(false);
}

/* x86 with BIOS firmware (SeaBIOS): the ELF kernel at its PVH entry point when the image has
 * one. The guest then skips its decompressor and real-mode setup, about 1 s and 0.6-1 CPU s
 * of a TCG boot (docs/ci.md); SeaBIOS still lays out SMBIOS, ACPI and fw_cfg as for the
 * bzImage. UEFI firmware boots the bzImage's EFI stub, aarch64 its Image. */
static char *qemu_image_kernel(const struct hv_config *cfg, const char *kernel, const char *vmlinux)
{
	return strdup(vmlinux && !cfg->uefi && !cfg->aarch64 ? vmlinux : kernel);
}

static const char *qemu_refuse_oem_strings(const struct hv_config *cfg)
{
	return is_microvm(cfg) ? "the microvm machine has no SMBIOS at all, so OEM strings cannot arrive (use q35 or pc)"
			       : NULL;
}

static int qemu_prepare(const struct hv_config *cfg, struct hv_vm *vm)
{
	struct qemu_backend *b = calloc(1, sizeof *b);
	struct qemu_vm *q;

	if (!b)
		return -ENOMEM;
	vm->ops = &qemu_ops, vm->impl = b;
	q = &b->vm;
	qemu_vm_init(q);
	q->qemu_binary = cfg->binary;
	q->kernel = cfg->kernel, q->initrd = cfg->initrd;
	q->rootfs = cfg->rootfs, q->rootfs_format = cfg->rootfs_format;
	q->expect_disk = cfg->expect_disk;
	q->aarch64 = cfg->aarch64;
	q->machine = cfg->machine ? cfg->machine : cfg->aarch64 ? "virt" : "q35";
	q->accel = cfg->accel;
	q->memory_mb = cfg->memory_mb ? cfg->memory_mb : 512;
	q->cpus = cfg->cpus ? cfg->cpus : 1;
	q->console_log = cfg->console_log;
	q->qemu_log = cfg->log;
	q->no_reboot = cfg->no_reboot, q->snapshot = cfg->snapshot, q->own_process_group = cfg->own_process_group;
	if (cfg->run_dir && asprintf(&b->qmp_socket, "%s/qmp.sock", cfg->run_dir) < 0)
		return b->qmp_socket = NULL, -ENOMEM;
	q->qmp_socket = b->qmp_socket;
	if (cfg->uefi || cfg->aarch64) {
		q->firmware_code = qemu_uefi_code(cfg->aarch64);
		int x = cfg->run_dir ? qemu_uefi_vars_copy(cfg->aarch64, cfg->run_dir, &b->ovmf_vars) : 0;
		if (x < 0)
			return x;
		q->firmware_vars = b->ovmf_vars;
	}
	int r = qemu_cmdline_append(q, cfg->cmdline);
	return r < 0 ? r : qemu_cmdline_machine_quirks(q);
}

static int qemu_attach_credential(struct hv_vm *vm, enum cred_via via, const char *name, const uint8_t *v, size_t len)
{
	char *text;
	int r;

	switch (via) {
	case VIA_SMBIOS:
	case VIA_SMBIOS_BINARY:
		return qemu_add_smbios_credential(qvm(vm), name, v, len, via == VIA_SMBIOS_BINARY);
	case VIA_FW_CFG:
		return qemu_add_fw_cfg_credential(qvm(vm), name, v, len);
	case VIA_CMDLINE:
		if (memchr(v, 0, len) || !(text = strndup((const char *)v, len)))
			return memchr(v, 0, len) ? -EINVAL : -ENOMEM;
		r = qemu_add_cmdline_credential(qvm(vm), name, text);
		free(text);   /* not secret: it goes on the kernel command line */
		return r;
	}
	return -EINVAL;
}

static int qemu_attach_oem_string(struct hv_vm *vm, const char *s, size_t len)
{
	return qemu_add_oem_string(qvm(vm), s, len);
}

static int qemu_attach_fw_cfg_file(struct hv_vm *vm, const char *name, const uint8_t *v, size_t len)
{
	return qemu_add_fw_cfg_file(qvm(vm), name, v, len);
}

static int qemu_attach_serial_report(struct hv_vm *vm, const char *socket)
{
	struct qemu_backend *b = vm->impl;

	free(b->serial_socket);
	b->vm.serial_report_socket = b->serial_socket = strdup(socket);
	return b->serial_socket ? 0 : -ENOMEM;
}

/* The guest CID is the vhost-user backend's to give (--guest-cid): QEMU only relays. */
static int qemu_attach_vsock(struct hv_vm *vm, unsigned cid, const char *socket)
{
	struct qemu_backend *b = vm->impl;

	(void)cid;
	free(b->vsock_socket);
	b->vm.vsock_socket = b->vsock_socket = strdup(socket);
	return b->vsock_socket ? 0 : -ENOMEM;
}

static int qemu_dry_run(struct hv_vm *vm, FILE *out, char **why)
{
	char **argv;
	int r = qemu_build_argv(qvm(vm), &argv);

	if (r < 0)
		return r;
	for (char **p = argv; *p; p++) {
		bool plain = strspn(*p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=,./:@+") == strlen(*p);
		fprintf(out, "%s%s%s%s", p == argv ? "" : " ", plain ? "" : "'", *p, plain ? "" : "'");
	}
	fputc('\n', out);
	strv_free(argv);
	return 0;
}

/* An exec failure names the binary: "cannot start /x: No such file or directory". */
static int qemu_start(struct hv_vm *vm, char **why)
{
	struct qemu_vm *q = qvm(vm);
	int r = qemu_spawn(q);

	if (r < 0 && q->exec_failed &&
	    asprintf(why, "cannot start %s: %s", q->qemu_binary ? q->qemu_binary : q->aarch64 ? "qemu-system-aarch64" : qemu_ops.default_binary,
		     strerror(-r)) < 0)
		*why = NULL;
	return r;
}

/* The last MAX bytes of QEMU's log (our own file, bounded) on one line, or NULL. */
static char *log_tail(const char *path, size_t max)
{
	uint8_t *buf;
	size_t len;
	char *tail;

	if (file_read_bounded(AT_FDCWD, path, QEMU_LOG_CAP, &buf, &len) < 0)
		return NULL;
	tail = strdup((char *)buf + (len > max ? len - max : 0));
	free(buf);
	for (char *p = tail; p && *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : 0;
	return tail;
}

/* QMP answers once QEMU has read every -smbios/-fw_cfg memfd: they are closed then. */
static int qemu_wait_ready(struct hv_vm *vm, int timeout_ms, char **why)
{
	struct qemu_vm *q = qvm(vm);
	int status, r = qemu_qmp_ready(q, timeout_ms);

	if (r == 0)
		return 0;
	bool exited = r == -ECHILD || (usleep(100 * 1000), qemu_poll_exit(q, &status) == 1);
	char *tail = q->qemu_log ? log_tail(q->qemu_log, QEMU_LOG_TAIL) : NULL;
	int n = q->qemu_log ? asprintf(why, "QEMU %s before its monitor was ready: %s", exited ? "exited" : "hung",
				       tail && *tail ? tail : "(no message)")
			    : asprintf(why, "QEMU's monitor did not answer: %s", strerror(-r));
	if (n < 0)
		*why = NULL;
	free(tail);
	return exited ? -ECHILD : r;
}

static int qemu_poll(struct hv_vm *vm, int *status)
{
	return qemu_poll_exit(qvm(vm), status);
}

/* A signal stops QEMU (QMP quit, SIGKILL after the grace time) and ends the caller with
 * 128+SIG, as cloud-hypervisor does: QEMU itself exits 0 on SIGTERM, which would read as
 * a clean power-off. */
static int qemu_interrupt(struct hv_vm *vm, int sig)
{
	if (qvm(vm)->pid > 0)
		(void)qemu_stop(qvm(vm), false, QEMU_INTERRUPT_GRACE_MS);
	return 128 + sig;
}

static void qemu_stop_vm(struct hv_vm *vm, int grace_ms)
{
	if (qvm(vm)->pid > 0)
		(void)qemu_stop(qvm(vm), false, grace_ms);
}

static void qemu_destroy(struct hv_vm *vm)
{
	struct qemu_backend *b = vm->impl;

	if (!b)
		return;
	qemu_vm_done(&b->vm);
	free(b->qmp_socket), free(b->vsock_socket), free(b->serial_socket), free(b->ovmf_vars);
	free(b);
	vm->impl = NULL;
}

const struct hypervisor_ops qemu_ops = {
	.name = "QEMU",
	.default_binary = "qemu-system-x86_64",
	.cannot_protect = "host root; SMBIOS on -M microvm; more than ~60 KiB of OEM strings under SeaBIOS",
	/* under TCG on a loaded host the kernel's IO-APIC timer check can fail and panic
	 * ("IO-APIC + timer doesn't work!") */
	.harness_boot_words = "no_timer_check",
	.max_cpus = 256,
	.vsock_is_vhost_user = true,
	.refuse_path = qemu_refuse_path,
	.refuse_oem_strings = qemu_refuse_oem_strings,
	.image_kernel = qemu_image_kernel,
	.firmware_missing = qemu_firmware_missing,
	.prepare = qemu_prepare,
	.attach_credential = qemu_attach_credential,
	.attach_oem_string = qemu_attach_oem_string,
	.attach_fw_cfg_file = qemu_attach_fw_cfg_file,
	.attach_serial_report = qemu_attach_serial_report,
	.attach_vsock = qemu_attach_vsock,
	.dry_run = qemu_dry_run,
	.start = qemu_start,
	.wait_ready = qemu_wait_ready,
	.poll_exit = qemu_poll,
	.interrupt = qemu_interrupt,
	.stop = qemu_stop_vm,
	.destroy = qemu_destroy,
};
