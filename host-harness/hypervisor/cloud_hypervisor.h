/* cloud_hypervisor: the launch library's cloud-hypervisor path.
 *
 * Promises:
 * - cloud-hypervisor is started as `cloud-hypervisor --api-socket fd=N` and nothing
 *   else: no VM configuration on argv, no `-v` (it would log the configuration), a
 *   minimal fixed environment (PATH only). The API socket is bound by us in a 0700
 *   directory and handed over as an inherited listening fd.
 * - The VM is described with `PUT /api/v1/vm.create` (JSON built with jansson) and
 *   started with `PUT /api/v1/vm.boot`; every credential travels only in that request
 *   body, as `io.systemd.credential.binary:NAME=<base64>` in `platform.oem_strings`.
 *   Buffers that held it are cleared.
 * - Stopping is `PUT vm.shutdown`, `PUT vmm.shutdown`, then SIGKILL after a grace time.
 * - Versions before v26 (no oem_strings) are refused with a message saying so.
 * - ch_available() answers "can a CH VM run here?" in well under 5 s and never hangs:
 *   the binary must exist and be >= v26, and KVM must really run a tiny guest (probed
 *   in a child with a deadline; the presence of /dev/kvm proves nothing).
 * - Reports arrive through CH's hybrid vsock: the guest's connection to CID 2 port P
 *   becomes a connection to the Unix socket `<vsock socket>_P`, which we listen on. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hypervisor/ch_kvm.h"   /* ch_kvm_probe(): part of ch_available() */

#define CH_MIN_MAJOR 26               /* first release with platform.oem_strings */
#define CH_DEFAULT_REPORT_PORT 5123
#define CH_API_TIMEOUT_MS 10000

struct ch_credential {
	const char *name;
	const uint8_t *value;         /* secret: never logged */
	size_t len;
};

struct ch_disk {
	const char *path;
	bool readonly;
};

struct ch_vm_config {
	const char *binary;           /* path or name looked up in PATH; NULL: "cloud-hypervisor" */
	const char *kernel;           /* required */
	const char *initramfs;        /* may be NULL */
	const char *cmdline;          /* may be NULL; never holds a secret */
	const struct ch_disk *disks;
	size_t n_disks;
	unsigned cpus;                /* 0: 1 */
	uint64_t memory_mib;          /* 0: 512 */
	const char *serial_log;       /* serial console to this file; NULL: see serial_tty */
	bool serial_tty;              /* no serial_log: the console on our stdout (else off) */
	const struct ch_credential *credentials;
	size_t n_credentials;
	const char *const *oem_strings; /* passed raw after the credentials */
	size_t n_oem_strings;
	uint32_t vsock_cid;           /* 0: no vsock device; otherwise >= 3 */
	const char *vsock_socket;     /* hybrid vsock Unix socket path (CH creates it) */
	const char *runtime_dir;      /* an existing 0700 directory for the API socket */
};

struct ch_vm {
	pid_t pid;                    /* the cloud-hypervisor process, 0 if none */
	char *api_socket;             /* path of the bound API socket */
	unsigned version_major, version_minor;
};

/* Builds the vm.create body. Deterministic: compact, sorted keys. The result holds the
 * secrets: free it with ch_config_json_free(). Returns 0, -EINVAL (*error names the
 * field: a missing kernel, a CID below 3, a name with '=' or empty) or -ENOMEM. */
int ch_config_to_json(const struct ch_vm_config *cfg, char **json, char **error);
void ch_config_json_free(char *json);

/* Parses `cloud-hypervisor --version` output ("cloud-hypervisor v40.0.0", "cloud-hypervisor
 * v26.0-dirty", "v26.0"). Returns 0 or -EINVAL. */
int ch_parse_version(const char *text, unsigned *major, unsigned *minor);

/* Runs BINARY --version (clean environment, 3 s deadline). Returns 0, -ENOENT (not
 * installed), -EPROTONOSUPPORT (older than v26), or -EIO; *reason is always set on
 * failure to a malloc'd sentence a user can act on. */
int ch_query_version(const char *binary, unsigned *major, unsigned *minor, char **reason);

/* The binary exists, is recent enough, and KVM works. 0, or negative with *reason. */
int ch_available(const char *binary, char **reason);

/* Binds the API socket in cfg->runtime_dir, spawns CH, waits for vmm.ping, sends
 * vm.create and vm.boot. On failure everything started is stopped again and *error
 * says what failed. The caller listens for reports on ch_report_listen() BEFORE calling
 * this, because the guest may connect as soon as it boots. */
int ch_launch(const struct ch_vm_config *cfg, struct ch_vm *vm, char **error);

/* vm.shutdown, vmm.shutdown, wait up to GRACE_MS, then SIGKILL. Reaps the process and
 * removes the API socket. Returns CH's wait status (>= 0) or -errno. */
int ch_stop(struct ch_vm *vm, int grace_ms);

/* Reaps PID within TIMEOUT_MS (polled every 10 ms); returns its wait status, -errno, or
 * -ETIMEDOUT with PID still running (the caller decides whether to kill it). */
int ch_reap_within(pid_t pid, int timeout_ms);

/* Listens on "<vsock_socket>_<port>" (unlinking a stale one); returns the fd. */
int ch_report_listen(const char *vsock_socket, unsigned port);
