/* qemu: the QEMU launch library (used by credscope-harness and credscope-launch).
 *
 * Promise: credentials and OEM strings go to QEMU only through memfds it inherits and opens
 * as /proc/self/fd/N (`-smbios type=11,path=`, `-fw_cfg name=...,file=`), one memfd per
 * string, sealed after writing and closed in this process once QEMU has read them. The
 * bytes never touch argv, the environment, a file on disk or a log; the buffers that held
 * them are cleared. Only non-secret credentials may go on the kernel command line
 * (qemu_add_cmdline_credential()). qemu_build_argv() is pure, so the exact command line is
 * unit-tested; qemu_spawn()/qemu_stop() are the process edge (QMP quit, then SIGKILL).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* QEMU (7.2, q35/pc) builds its SMBIOS tables under a 32-bit (SMBIOS 2.1) entry point,
 * whose structure table length is 16 bits: past SMBIOS_21_MAX_TABLES_LEN QEMU refuses to
 * start ("SMBIOS 2.1 table length N exceeds 65535"). Its own tables (BIOS, system,
 * chassis, one processor table per CPU, memory) take the rest. */
#define QEMU_SMBIOS21_TABLES_MAX 65535u
#define QEMU_SMBIOS_OWN_TABLES 1024u        /* measured ~320 bytes for 1 CPU; kept generous */
#define QEMU_SMBIOS_PER_CPU 64u             /* a type 4 table with its strings */

struct qemu_fd_file {
	int fd;                  /* memfd, inherited by QEMU under the same number */
	bool fw_cfg;             /* else an SMBIOS type 11 string */
	char *fw_cfg_name;       /* opt/io.systemd.credentials/NAME */
};

struct qemu_vm {
	/* filled by the caller */
	const char *qemu_binary;     /* NULL: qemu-system-x86_64, or qemu-system-aarch64 */
	bool aarch64;                /* an aarch64 guest: machine virt, -cpu max under TCG, and
	                                firmware_code/vars are AAVMF's (qemu_firmware.h) */
	const char *kernel, *initrd, *rootfs, *rootfs_format;   /* no kernel: boot rootfs */
	const char *machine;         /* q35 (default), pc, microvm; virt (the default) on aarch64 */
	const char *firmware_code;   /* UEFI: read-only pflash 0 (OVMF_CODE), or NULL: SeaBIOS */
	const char *firmware_vars;   /* UEFI: this run's writable copy of the variable store */
	const char *accel;           /* kvm or tcg */
	unsigned memory_mb, cpus;
	const char *console_log;     /* guest serial console is written here; NULL: our stdio */
	const char *qemu_log;        /* QEMU's own stderr, or NULL to inherit */
	const char *qmp_socket;      /* unix socket path for QMP, or NULL */
	const char *expect_disk;     /* read-only extra disk (the manifest), or NULL */
	const char *serial_report_socket;  /* virtio-serial report port socket, or NULL */
	const char *vsock_socket;    /* vhost-user-vsock backend socket, or NULL */
	bool no_reboot;              /* a guest reboot or panic ends QEMU */
	bool snapshot;               /* root disk writes go to a throw-away overlay, and the image
	                                is not locked: another user of it cannot block the boot */
	bool own_process_group;      /* QEMU in its own group: a terminal's ^C goes to us only */
	/* built by the qemu_add_* functions */
	char *cmdline;               /* kernel command line (never secret) */
	struct qemu_fd_file *files;
	size_t n_files;
	size_t smbios_bytes;         /* OEM strings so far, each with its NUL */
	/* run state */
	pid_t pid;                   /* -1 once reaped */
	int qmp_fd;
	int exit_status;             /* wait status once reaped */
	bool exec_failed;            /* qemu_spawn()'s error is the binary's: not found or not
	                                executable (reported by the child before it exits) */
};

void qemu_vm_init(struct qemu_vm *vm);
/* Frees the command line, closes every memfd. Does not stop QEMU. */
void qemu_vm_done(struct qemu_vm *vm);

int qemu_cmdline_append(struct qemu_vm *vm, const char *words);
/* Kernel words a machine needs to boot at all: microvm under TCG has no HPET or PM timer,
 * and the PIT calibration of the TSC fails on a loaded host, which hangs the kernel; a
 * fixed early TSC rate (tsc_early_khz) avoids it. Call after vm->machine and vm->accel. */
int qemu_cmdline_machine_quirks(struct qemu_vm *vm);
/* The bytes of OEM strings (each counted with its NUL) VM's SMBIOS tables have room for. */
size_t qemu_smbios_oem_budget(const struct qemu_vm *vm);
/* One raw SMBIOS type 11 string (len bytes, no NUL inside). -E2BIG when it would take
 * the OEM strings past qemu_smbios_oem_budget(): QEMU would refuse to start. */
int qemu_add_oem_string(struct qemu_vm *vm, const void *s, size_t len);
/* io.systemd.credential:NAME=VALUE, or .binary:NAME=BASE64 when binary. */
int qemu_add_smbios_credential(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len, bool binary);
/* -fw_cfg name=opt/io.systemd.credentials/NAME; -ENAMETOOLONG past 55 characters. */
int qemu_add_fw_cfg_credential(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len);
/* -fw_cfg name=NAME, the whole fw_cfg name as given (opt/...); -ENAMETOOLONG past 55
 * characters, -EINVAL when empty. */
int qemu_add_fw_cfg_file(struct qemu_vm *vm, const char *name, const uint8_t *value, size_t len);
/* systemd.set_credential=NAME:VALUE on the kernel command line: NOT secret. -EINVAL when the
 * name or value holds a blank, '"' or a control character. */
int qemu_add_cmdline_credential(struct qemu_vm *vm, const char *name, const char *value);

/* Whether PROG (a name looked up in PATH, or a path) is an executable file. */
bool qemu_program_found(const char *prog);
/* The full argv (NULL-terminated, malloc'd strings). */
int qemu_build_argv(const struct qemu_vm *vm, char ***argv);
void strv_free(char **v);

/* Starts QEMU (stdin /dev/null, stderr to qemu_log). The memfds are inherited. Returns
 * only once the child has exec'd: an exec failure (-ENOENT, -EACCES, -ENOEXEC...) is
 * returned here, with exec_failed set and the child reaped. */
int qemu_spawn(struct qemu_vm *vm);
/* Connects to QMP and completes the capabilities handshake within timeout_ms; at that
 * point QEMU has read every -smbios/-fw_cfg file, so the memfds are closed here. */
int qemu_qmp_ready(struct qemu_vm *vm, int timeout_ms);
/* Non-blocking: 1 and *status (wait status) when QEMU has exited, 0 while it runs. */
int qemu_poll_exit(struct qemu_vm *vm, int *status);
/* QMP "quit" (or system_powerdown when powerdown), wait up to grace_ms, then SIGKILL;
 * always reaps. Returns the wait status. */
int qemu_stop(struct qemu_vm *vm, bool powerdown, int grace_ms);
/* Standard base64 without newlines (malloc'd, caller clears it if the input was secret). */
char *base64_encode(const uint8_t *in, size_t len);
