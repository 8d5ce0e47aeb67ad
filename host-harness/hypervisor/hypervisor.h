/* hypervisor: what the case runner and credscope-launch need from a hypervisor, as one
 * ops table. QEMU (qemu_ops.c) and cloud-hypervisor (ch_ops.c) implement it; the callers
 * drive either the same way: prepare, attach credentials / OEM strings / the report
 * path, start, wait until ready, poll for the exit, stop, destroy.
 *
 * Promises (every backend):
 * - A credential value handed to attach_credential() never reaches argv, the
 *   environment, a log or a *why; the backend keeps a copy only as long as it must
 *   (QEMU: in a sealed memfd until QMP is up; CH: until vm.create has carried it) and
 *   clears every buffer that held it.
 * - A delivery path the backend cannot do is named by refuse_path() before anything is
 *   loaded or started, in a sentence a user can act on.
 * - Functions return 0 or -errno. Where they can say more than strerror() they set
 *   *why (malloc'd, a whole sentence naming the input); they never print. The caller
 *   reports once.
 * Nothing here knows about cases, runs or command lines: those live above (runner/, cmd/). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FW_CFG_NAME_MAX 55u
#define FW_CFG_CRED_PREFIX "opt/io.systemd.credentials/"

/* How a credential reaches the guest. */
enum cred_via { VIA_SMBIOS, VIA_SMBIOS_BINARY, VIA_FW_CFG, VIA_CMDLINE };

/* What to boot. Strings are borrowed and must outlive the VM. */
struct hv_config {
	const char *binary;          /* NULL: the backend's default_binary, looked up in PATH */
	const char *kernel;          /* required, except QEMU with a bootable rootfs: the
	                                firmware then boots that disk (no command line) */
	const char *initrd, *rootfs, *rootfs_format;   /* may be NULL */
	bool rootfs_readonly;        /* CH: a shared image is attached read-only */
	const char *expect_disk;     /* read-only manifest disk, or NULL */
	const char *machine;         /* QEMU: q35 (NULL), pc, microvm; virt (NULL) on aarch64 */
	bool aarch64;                /* QEMU: an aarch64 guest: qemu-system-aarch64 (binary NULL),
	                                machine virt, TCG, always AAVMF (uefi is implied) */
	const char *accel;           /* QEMU: kvm or tcg (probed by the caller) */
	unsigned memory_mb, cpus;    /* 0: 512 MiB, 1 vCPU */
	const char *cmdline;         /* kernel words (never secret); credentials follow them */
	const char *console_log;     /* serial console to this file; NULL: the terminal */
	const char *log;             /* QEMU: its stderr to this file; NULL: inherited */
	const char *run_dir;         /* existing 0700 directory for control sockets; NULL only
	                                for dry_run() */
	bool snapshot;               /* QEMU: root disk writes go to a throw-away overlay */
	bool uefi;                   /* QEMU: OVMF instead of SeaBIOS; its variable store is a
	                                fresh copy in run_dir (hypervisor/qemu_firmware.c) */
	bool no_reboot;              /* QEMU: a guest reboot or panic ends QEMU */
	bool own_process_group;      /* a terminal's ^C reaches the caller only */
};

struct hypervisor_ops;

struct hv_vm {
	const struct hypervisor_ops *ops;
	void *impl;                  /* the backend's state */
};

struct hypervisor_ops {
	const char *name;            /* "QEMU", "cloud-hypervisor": used in messages */
	const char *default_binary;
	/* What stays exposed even so (README "cannot protect"), for docs and --help. */
	const char *cannot_protect;
	/* Fixed by the backend regardless of what the caller chose, or NULL. */
	const char *fixed_accel, *fixed_transport;
	/* Kernel words the harness adds to every boot of this backend, or NULL. */
	const char *harness_boot_words;
	unsigned max_cpus;
	/* The vsock socket attach_vsock() takes is a vhost-user backend socket the caller
	 * must serve (QEMU); otherwise the hypervisor creates a hybrid vsock Unix socket and
	 * a guest connection to CID 2 port P arrives at "<socket>_P" (CH). */
	bool vsock_is_vhost_user;

	/* NULL when a VM can run here, else why not (malloc'd). NULL op: always. */
	char *(*unavailable)(const char *binary);
	/* Why CFG cannot deliver a credential by VIA (a static sentence), or NULL. */
	const char *(*refuse_path)(const struct hv_config *cfg, enum cred_via via);
	/* The kernel CFG boots from a built image (malloc'd): KERNEL is its bzImage (or arm64
	 * Image), VMLINUX the same kernel as an ELF with a PVH entry point (image.json
	 * "files": {"vmlinux"}) or NULL. NULL op: KERNEL as it is. */
	char *(*image_kernel)(const struct hv_config *cfg, const char *kernel, const char *vmlinux);
	/* Why CFG's firmware cannot run here (malloc'd: not installed, not for this machine),
	 * or NULL. NULL op: the backend's own firmware only, always there. */
	char *(*firmware_missing)(const struct hv_config *cfg);
	/* Why CFG cannot deliver raw OEM strings, or NULL. */
	const char *(*refuse_oem_strings)(const struct hv_config *cfg);

	int (*prepare)(const struct hv_config *cfg, struct hv_vm *vm);
	/* VALUE is copied (or moved into a memfd); the caller clears its own buffer. */
	int (*attach_credential)(struct hv_vm *vm, enum cred_via via, const char *name, const uint8_t *value,
				 size_t len);
	int (*attach_oem_string)(struct hv_vm *vm, const char *s, size_t len);
	/* A fw_cfg file by its whole name (a case's test-only fw_cfg_raw: names no credential
	 * path gives). VALUE is test data, not a secret. NULL op: the backend has no fw_cfg. */
	int (*attach_fw_cfg_file)(struct hv_vm *vm, const char *name, const uint8_t *value, size_t len);
	/* The report path: virtio-serial port socket (NULL op: not supported) or vsock. */
	int (*attach_serial_report)(struct hv_vm *vm, const char *socket);
	int (*attach_vsock)(struct hv_vm *vm, unsigned cid, const char *socket);

	/* Prints what would be run / sent, with every secret withheld. */
	int (*dry_run)(struct hv_vm *vm, FILE *out, char **why);
	/* Starts the VM. *why may be left NULL: the caller words strerror() then. */
	int (*start)(struct hv_vm *vm, char **why);
	/* Waits until the hypervisor has taken every credential (NULL op: start did).
	 * -ECHILD when it exited meanwhile; *why is always set on failure. */
	int (*wait_ready)(struct hv_vm *vm, int timeout_ms, char **why);
	/* Non-blocking: 1 and *STATUS (a wait status) once the VM process has exited. */
	int (*poll_exit)(struct hv_vm *vm, int *status);
	/* The caller got SIG: 0 to keep waiting for the exit, or the exit status to end with
	 * (QEMU and cloud-hypervisor: the VM stopped and reaped, 128+SIG). */
	int (*interrupt)(struct hv_vm *vm, int sig);
	/* Orderly shutdown, SIGKILL after GRACE_MS; always reaps. */
	void (*stop)(struct hv_vm *vm, int grace_ms);
	/* A line for the user once started, or NULL op. */
	void (*announce)(struct hv_vm *vm, FILE *out);
	/* Frees everything; clears what may hold secrets. Does not stop a running VM. */
	void (*destroy)(struct hv_vm *vm);
};

extern const struct hypervisor_ops qemu_ops;
extern const struct hypervisor_ops cloud_hypervisor_ops;
