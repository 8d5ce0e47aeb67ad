/* qemu: building QEMU's command line, passing secrets by memfd, starting and stopping it. */
#include "hypervisor/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"
#include "hypervisor/hypervisor.h"   /* FW_CFG_NAME_MAX, FW_CFG_CRED_PREFIX */

void qemu_vm_init(struct qemu_vm *vm)
{
	memset(vm, 0, sizeof *vm);
	vm->pid = -1;
	vm->qmp_fd = -1;
	vm->memory_mb = 512;
	vm->cpus = 1;
}

static void close_files(struct qemu_vm *vm)
{
	for (size_t i = 0; i < vm->n_files; i++) {
		if (vm->files[i].fd >= 0)
			close(vm->files[i].fd);
		vm->files[i].fd = -1;
	}
}

void qemu_vm_done(struct qemu_vm *vm)
{
	close_files(vm);
	for (size_t i = 0; i < vm->n_files; i++)
		free(vm->files[i].fw_cfg_name);
	free(vm->files);
	free(vm->cmdline);
	if (vm->qmp_fd >= 0)
		close(vm->qmp_fd);
	vm->files = NULL;
	vm->n_files = 0;
	vm->cmdline = NULL;
	vm->qmp_fd = -1;
}

int qemu_cmdline_append(struct qemu_vm *vm, const char *words)
{
	char *n;
	if (!words || !*words)
		return 0;
	if (asprintf(&n, "%s%s%s", vm->cmdline ? vm->cmdline : "", vm->cmdline ? " " : "", words) < 0)
		return -ENOMEM;
	free(vm->cmdline);
	vm->cmdline = n;
	return 0;
}

int qemu_cmdline_machine_quirks(struct qemu_vm *vm)
{
	bool microvm = vm->machine && strcmp(vm->machine, "microvm") == 0;
	bool tcg = !vm->accel || strcmp(vm->accel, "tcg") == 0;
	return microvm && tcg ? qemu_cmdline_append(vm, "tsc_early_khz=2000000") : 0;
}

char *base64_encode(const uint8_t *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* A sealed memfd holding exactly len bytes. */
static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("credscope-cred", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = fd_write_full(fd, data, len);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int add_file(struct qemu_vm *vm, const void *data, size_t len, const char *fw_cfg_name)
{
	struct qemu_fd_file *n = realloc(vm->files, (vm->n_files + 1) * sizeof *n);
	if (!n)
		return -ENOMEM;
	vm->files = n;
	int fd = memfd_with(data, len);
	if (fd < 0)
		return fd;
	n[vm->n_files] = (struct qemu_fd_file){ .fd = fd, .fw_cfg = fw_cfg_name != NULL };
	if (fw_cfg_name && !(n[vm->n_files].fw_cfg_name = strdup(fw_cfg_name))) {
		close(fd);
		return -ENOMEM;
	}
	vm->n_files++;
	return 0;
}

size_t qemu_smbios_oem_budget(const struct qemu_vm *vm)
{
	size_t own = QEMU_SMBIOS_OWN_TABLES + (size_t)QEMU_SMBIOS_PER_CPU * (vm->cpus ? vm->cpus : 1);

	return own < QEMU_SMBIOS21_TABLES_MAX ? QEMU_SMBIOS21_TABLES_MAX - own : 0;
}

int qemu_add_oem_string(struct qemu_vm *vm, const void *s, size_t len)
{
	if (memchr(s, 0, len))
		return -EINVAL;   /* QEMU refuses NUL inside an OEM string file */
	if (len >= qemu_smbios_oem_budget(vm) || vm->smbios_bytes + len + 1 > qemu_smbios_oem_budget(vm))
		return -E2BIG;
	int r = add_file(vm, s, len, NULL);
	if (r == 0)
		vm->smbios_bytes += len + 1;
	return r;
}

int qemu_add_smbios_credential(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len, bool binary)
{
	const char *prefix = binary ? "io.systemd.credential.binary:" : "io.systemd.credential:";
	char *b64 = binary ? base64_encode(value, len) : NULL;
	size_t vlen = binary ? (b64 ? strlen(b64) : 0) : len;
	size_t total = strlen(prefix) + strlen(name) + 1 + vlen;
	uint8_t *buf = malloc(total);
	int r = -ENOMEM;
	if (buf && (!binary || b64)) {
		size_t o = 0;
		memcpy(buf, prefix, strlen(prefix)), o += strlen(prefix);
		memcpy(buf + o, name, strlen(name)), o += strlen(name);
		buf[o++] = '=';
		memcpy(buf + o, binary ? (const uint8_t *)b64 : value, vlen);
		r = qemu_add_oem_string(vm, buf, total);
	}
	secret_clear(buf, buf ? total : 0);
	secret_clear(b64, b64 ? strlen(b64) : 0);
	free(buf);
	free(b64);
	return r;
}

int qemu_add_fw_cfg_file(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len)
{
	if (!*name)
		return -EINVAL;
	return strlen(name) > FW_CFG_NAME_MAX ? -ENAMETOOLONG : add_file(vm, value, len, name);
}

int qemu_add_fw_cfg_credential(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len)
{
	char full[FW_CFG_NAME_MAX + 1];
	if (strlen(FW_CFG_CRED_PREFIX) + strlen(name) > FW_CFG_NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(full, sizeof full, "%s%s", FW_CFG_CRED_PREFIX, name);
	return qemu_add_fw_cfg_file(vm, full, value, len);
}

static bool cmdline_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == '"' || *p == 0x7f)
			return false;
	return true;
}

int qemu_add_cmdline_credential(struct qemu_vm *vm, const char *name, const char *value)
{
	char *w;
	if (!cmdline_safe(name) || !cmdline_safe(value) || strchr(name, ':'))
		return -EINVAL;
	if (asprintf(&w, "systemd.set_credential=%s:%s", name, value) < 0)
		return -ENOMEM;
	int r = qemu_cmdline_append(vm, w);
	free(w);
	return r;
}

/* ---- argv ------------------------------------------------------------------------- */

struct strv {
	char **v;
	size_t n;
	int err;
};

static void add(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *x;
	if (s->err)
		return;
	char **n = realloc(s->v, (s->n + 2) * sizeof *n);
	if (!n) {
		s->err = -ENOMEM;
		return;
	}
	s->v = n;
	va_start(ap, fmt);
	int r = vasprintf(&x, fmt, ap);
	va_end(ap);
	if (r < 0) {
		s->err = -ENOMEM;
		return;
	}
	s->v[s->n++] = x;
	s->v[s->n] = NULL;
}

void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* QEMU option values double their commas. Returns a malloc'd copy. */
static char *qesc(const char *s)
{
	char *o = malloc(strlen(s) * 2 + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		if (*s == ',')
			*p++ = ',';
		*p++ = *s;
	}
	*p = 0;
	return o;
}

static void add_path_opt(struct strv *s, const char *opt, const char *fmt_before, const char *path, const char *after)
{
	char *e = qesc(path);
	if (!e) {
		s->err = -ENOMEM;
		return;
	}
	add(s, "%s", opt);
	add(s, "%s%s%s", fmt_before, e, after);
	free(e);
}

static void add_machine(struct strv *s, const struct qemu_vm *vm, bool microvm)
{
	bool shared = vm->vsock_socket != NULL;   /* vhost-user needs guest RAM in a shared memfd */
	add(s, "-machine");
	if (microvm)
		add(s, "microvm,isa-serial=on,rtc=on,pit=on,pic=on%s", shared ? ",memory-backend=mem" : "");
	else if (vm->aarch64)
		/* virt always publishes its SMBIOS under the 64-bit (3.0) entry point, and only
		 * through the UEFI firmware: it has no property to choose */
		add(s, "%s%s", vm->machine ? vm->machine : "virt", shared ? ",memory-backend=mem" : "");
	else
		/* under UEFI the 64-bit SMBIOS 3.0 entry point, as firmware and newer QEMU machine
		 * types give it (qemu_firmware.h); QEMU 7.2 builds the 32-bit one unless told */
		add(s, "%s%s%s", vm->machine ? vm->machine : "q35", vm->firmware_code ? ",smbios-entry-point-type=64" : "",
		    shared ? ",memory-backend=mem" : "");
	add(s, "-accel");
	add(s, "%s", vm->accel ? vm->accel : "tcg");
	if (vm->aarch64)
		/* every feature TCG emulates; pointer authentication with QEMU's own cheap
		 * algorithm instead of QARMA5, whose emulation costs a large share of boot time */
		add(s, "-cpu"), add(s, "max,pauth-impdef=on");
	else if (vm->accel && strcmp(vm->accel, "kvm") == 0)
		add(s, "-cpu"), add(s, "host");
	if (vm->firmware_code) {   /* OVMF or AAVMF as two pflash devices: code read-only, variables per run */
		add_path_opt(s, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=", vm->firmware_code, "");
		if (vm->firmware_vars)
			add_path_opt(s, "-drive", "if=pflash,format=raw,unit=1,file=", vm->firmware_vars, "");
	}
	add(s, "-m");
	add(s, "%u", vm->memory_mb);
	add(s, "-smp");
	add(s, "%u", vm->cpus ? vm->cpus : 1);
	if (shared) {
		add(s, "-object");
		add(s, "memory-backend-memfd,id=mem,size=%uM,share=on", vm->memory_mb);
	}
}

static void add_disks(struct strv *s, const struct qemu_vm *vm, const char *bus)
{
	if (vm->rootfs) {
		char *fmt_opt;
		if (asprintf(&fmt_opt, ",format=%s,if=none,id=root%s", vm->rootfs_format ? vm->rootfs_format : "raw",
			     vm->snapshot ? ",snapshot=on,file.locking=off" : "") < 0) {
			s->err = -ENOMEM;
			return;
		}
		add_path_opt(s, "-drive", "file=", vm->rootfs, fmt_opt);
		free(fmt_opt);
		add(s, "-device");
		/* no kernel: the firmware boots this disk, first */
		add(s, "virtio-blk-%s,drive=root%s", bus, vm->kernel ? "" : ",bootindex=1");
	}
	if (vm->expect_disk) {
		add_path_opt(s, "-drive", "file=", vm->expect_disk, ",format=raw,if=none,id=expect,readonly=on");
		add(s, "-device");
		add(s, "virtio-blk-%s,drive=expect", bus);
	}
}

static void add_channels(struct strv *s, const struct qemu_vm *vm, const char *bus)
{
	if (vm->console_log)
		add_path_opt(s, "-chardev", "file,id=console,path=", vm->console_log, "");
	else
		add(s, "-chardev"), add(s, "stdio,id=console,signal=off");
	add(s, "-serial");
	add(s, "chardev:console");
	if (vm->qmp_socket)
		add_path_opt(s, "-qmp", "unix:", vm->qmp_socket, ",server=on,wait=off");
	if (vm->serial_report_socket) {
		add(s, "-device");
		add(s, "virtio-serial-%s,id=vser", bus);
		add_path_opt(s, "-chardev", "socket,id=report,path=", vm->serial_report_socket, ",server=on,wait=off");
		add(s, "-device");
		add(s, "virtserialport,chardev=report,name=org.credscope.report");
	}
	if (vm->vsock_socket) {
		add_path_opt(s, "-chardev", "socket,id=vsock,path=", vm->vsock_socket, "");
		add(s, "-device");
		add(s, "vhost-user-vsock-%s,chardev=vsock", bus);
	}
}

static void add_files(struct strv *s, const struct qemu_vm *vm)
{
	for (size_t i = 0; i < vm->n_files; i++) {
		const struct qemu_fd_file *f = &vm->files[i];
		if (f->fw_cfg) {
			char *e = qesc(f->fw_cfg_name);
			add(s, "-fw_cfg");
			add(s, "name=%s,file=/proc/self/fd/%d", e ? e : "", f->fd);
			free(e);
		} else {
			add(s, "-smbios");
			add(s, "type=11,path=/proc/self/fd/%d", f->fd);
		}
	}
}

int qemu_build_argv(const struct qemu_vm *vm, char ***argv)
{
	struct strv s = { 0 };
	bool microvm = vm->machine && strcmp(vm->machine, "microvm") == 0;
	const char *bus = microvm ? "device" : "pci";
	if (!vm->kernel && !vm->rootfs)
		return -EINVAL;
	add(&s, "%s", vm->qemu_binary ? vm->qemu_binary : vm->aarch64 ? "qemu-system-aarch64" : "qemu-system-x86_64");
	add(&s, "-nodefaults"), add(&s, "-no-user-config"), add(&s, "-display"), add(&s, "none");
	if (vm->no_reboot)
		add(&s, "-no-reboot");
	add_machine(&s, vm, microvm);
	if (vm->kernel) {   /* direct kernel boot; else the firmware boots the disk and its loader
	                       chooses the command line: -append would be refused */
		add_path_opt(&s, "-kernel", "", vm->kernel, "");
		if (vm->initrd)
			add_path_opt(&s, "-initrd", "", vm->initrd, "");
		if (vm->cmdline)
			add(&s, "-append"), add(&s, "%s", vm->cmdline);
	}
	add_disks(&s, vm, bus);
	add_channels(&s, vm, bus);
	add_files(&s, vm);
	if (s.err) {
		strv_free(s.v);
		return s.err;
	}
	*argv = s.v;
	return 0;
}
