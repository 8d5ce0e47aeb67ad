/* ch_ops: cloud-hypervisor behind the hypervisor ops table (hypervisor.h), over
 * cloud_hypervisor.c (process, REST API) and ch_config.c (the vm.create body).
 *
 * Credentials are held here, in buffers cleared on every path, from attach_credential()
 * until vm.create has carried them (start()); SMBIOS credentials, text or binary, all go
 * as binary OEM strings. Test-only environment: CREDSCOPE_CH_ASSUME_KVM=1 makes
 * unavailable() skip the KVM probe, so the protocol can be exercised against
 * tests/helpers/fake-ch-api. */
#include "hypervisor/hypervisor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/cloud_hypervisor.h"
#include "secret.h"

struct ch_backend {
	struct ch_vm_config cfg;
	struct ch_vm vm;
	int exit_status;
	struct ch_disk disks[2];
	struct ch_credential *creds;     /* owned copies of the values (secret) */
	size_t n_creds;
	char **oem;
	size_t n_oem;
	char *cmdline_base, *cmdline;    /* the caller's words; those plus cmdline credentials */
	char *vsock_socket;
};

static struct ch_backend *chb(struct hv_vm *vm)
{
	return vm->impl;
}

static char *ch_unavailable(const char *binary)
{
	const char *assume = getenv("CREDSCOPE_CH_ASSUME_KVM");
	char *reason = NULL;
	unsigned major, minor;
	int r;

	if (assume && strcmp(assume, "1") == 0)
		r = ch_query_version(binary, &major, &minor, &reason);
	else
		r = ch_available(binary, &reason);
	if (r == 0)
		return NULL;
	return reason ? reason : strdup("cloud-hypervisor cannot run here");
}

static const char *ch_refuse_path(const struct hv_config *cfg, enum cred_via via)
{
	return via == VIA_FW_CFG ? "cannot be sent by fw_cfg to cloud-hypervisor (its default build has no fw_cfg device; "
				   "use via smbios or smbios-binary)"
				 : NULL;
}

/* CH boots an ELF vmlinux: a built image names one beside its bzImage (vm-images/pvh-kernel);
 * else a "vmlinux" in the kernel's folder (docs/cloud-hypervisor.md). */
static char *ch_image_kernel(const struct hv_config *cfg, const char *kernel, const char *pvh)
{
	const char *slash = strrchr(kernel, '/');
	char *vmlinux;

	if (pvh)
		return strdup(pvh);
	if (asprintf(&vmlinux, "%.*s/vmlinux", slash ? (int)(slash - kernel) : 1, slash ? kernel : ".") < 0)
		return NULL;
	if (access(vmlinux, R_OK) == 0)
		return vmlinux;
	free(vmlinux);
	return strdup(kernel);
}

static int ch_prepare(const struct hv_config *cfg, struct hv_vm *vm)
{
	struct ch_backend *b = calloc(1, sizeof *b);

	if (!b)
		return -ENOMEM;
	vm->ops = &cloud_hypervisor_ops, vm->impl = b;
	b->cfg = (struct ch_vm_config){
		.binary = cfg->binary, .kernel = cfg->kernel, .initramfs = cfg->initrd, .cpus = cfg->cpus,
		.memory_mib = cfg->memory_mb, .serial_log = cfg->console_log, .serial_tty = !cfg->console_log,
		.runtime_dir = cfg->run_dir, .disks = b->disks,
	};
	if (cfg->rootfs)
		b->disks[b->cfg.n_disks++] = (struct ch_disk){ cfg->rootfs, cfg->rootfs_readonly };
	if (cfg->expect_disk)
		b->disks[b->cfg.n_disks++] = (struct ch_disk){ cfg->expect_disk, true };
	if (cfg->cmdline && !(b->cmdline_base = strdup(cfg->cmdline)))
		return -ENOMEM;
	return 0;
}

static int add_cmdline_credential(struct ch_backend *b, const char *name, const uint8_t *v, size_t len)
{
	char *words;

	for (size_t i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] == '"' || v[i] == 0x7f)
			return -EINVAL;
	if (asprintf(&words, "%s%ssystemd.set_credential=%s:%.*s", b->cmdline ? b->cmdline : "",
		     b->cmdline ? " " : "", name, (int)len, (const char *)v) < 0)
		return -ENOMEM;
	free(b->cmdline);
	b->cmdline = words;
	return 0;
}

static int ch_attach_credential(struct hv_vm *vm, enum cred_via via, const char *name, const uint8_t *v, size_t len)
{
	struct ch_backend *b = chb(vm);
	struct ch_credential *grown;
	uint8_t *copy;

	if (via == VIA_FW_CFG)
		return -EOPNOTSUPP;
	if (via == VIA_CMDLINE)
		return add_cmdline_credential(b, name, v, len);
	grown = realloc(b->creds, (b->n_creds + 1) * sizeof *grown);
	if (!grown)
		return -ENOMEM;
	b->creds = grown;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v, len);
	b->creds[b->n_creds++] = (struct ch_credential){ name, copy, len };
	return 0;
}

static int ch_attach_oem_string(struct hv_vm *vm, const char *s, size_t len)
{
	struct ch_backend *b = chb(vm);
	char **grown = realloc(b->oem, (b->n_oem + 1) * sizeof *grown);

	if (!grown)
		return -ENOMEM;
	b->oem = grown;
	if (memchr(s, 0, len) || !(b->oem[b->n_oem] = strndup(s, len)))
		return memchr(s, 0, len) ? -EINVAL : -ENOMEM;
	b->n_oem++;
	return 0;
}

static int ch_attach_vsock(struct hv_vm *vm, unsigned cid, const char *socket)
{
	struct ch_backend *b = chb(vm);

	free(b->vsock_socket);
	if (!(b->vsock_socket = strdup(socket)))
		return -ENOMEM;
	b->cfg.vsock_cid = cid;
	b->cfg.vsock_socket = b->vsock_socket;
	return 0;
}

/* The final kernel command line: the caller's words, then the cmdline credentials. */
static int finish_config(struct ch_backend *b, struct ch_vm_config *cfg)
{
	char *line = NULL;

	*cfg = b->cfg;
	if (asprintf(&line, "%s%s%s", b->cmdline_base ? b->cmdline_base : "", b->cmdline_base && b->cmdline ? " " : "",
		     b->cmdline ? b->cmdline : "") < 0)
		return -ENOMEM;
	free((char *)b->cfg.cmdline);
	if (!*line)
		free(line), line = NULL;
	b->cfg.cmdline = cfg->cmdline = line;
	cfg->oem_strings = (const char *const *)b->oem, cfg->n_oem_strings = b->n_oem;
	cfg->credentials = b->creds, cfg->n_credentials = b->n_creds;
	return 0;
}

/* What would be sent, with every credential value replaced by its size. */
static int ch_dry_run(struct hv_vm *vm, FILE *out, char **why)
{
	struct ch_backend *b = chb(vm);
	struct ch_vm_config cfg;
	char **shown = calloc(b->n_creds + b->n_oem + 1, sizeof *shown), *json = NULL, *err = NULL;
	int r = shown ? finish_config(b, &cfg) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < b->n_creds; i++)
		if (asprintf(&shown[i], "io.systemd.credential.binary:%s=<%zu bytes, withheld>", b->creds[i].name,
			     b->creds[i].len) < 0)
			r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < b->n_oem; i++)
		if (!(shown[b->n_creds + i] = strdup(b->oem[i])))
			r = -ENOMEM;
	cfg.credentials = NULL, cfg.n_credentials = 0;
	cfg.oem_strings = (const char *const *)shown, cfg.n_oem_strings = b->n_creds + b->n_oem;
	if (r == 0 && (r = ch_config_to_json(&cfg, &json, &err)) == 0)
		fprintf(out, "%s --api-socket fd=3\nPUT /api/v1/vm.create %s\nPUT /api/v1/vm.boot\n",
			cfg.binary ? cfg.binary : "cloud-hypervisor", json);
	else if (asprintf(why, "cannot build the VM configuration: %s", err ? err : strerror(-r)) < 0)
		*why = NULL;
	for (size_t i = 0; shown && i < b->n_creds + b->n_oem; i++)
		free(shown[i]);
	free(shown), free(json), free(err);
	return r;
}

static void clear_credentials(struct ch_backend *b)
{
	for (size_t i = 0; i < b->n_creds; i++)
		secret_clear((void *)b->creds[i].value, b->creds[i].len);
}

static int ch_start(struct hv_vm *vm, char **why)
{
	struct ch_backend *b = chb(vm);
	struct ch_vm_config cfg;
	int r = finish_config(b, &cfg);

	if (r == 0)
		r = ch_launch(&cfg, &b->vm, why);
	/* vm.create has carried the secrets (or failed): they are no longer needed */
	clear_credentials(b);
	if (r < 0 && !*why)
		*why = strdup("cannot launch cloud-hypervisor");
	return r;
}

static int ch_poll_exit(struct hv_vm *vm, int *status)
{
	struct ch_backend *b = chb(vm);

	if (b->vm.pid > 0 && waitpid(b->vm.pid, &b->exit_status, WNOHANG) == b->vm.pid)
		b->vm.pid = 0;
	*status = b->exit_status;
	return b->vm.pid > 0 ? 0 : 1;
}

/* A signal stops the VM through the API (vm.shutdown, vmm.shutdown), not by signal. */
static int ch_interrupt(struct hv_vm *vm, int sig)
{
	return ch_stop(&chb(vm)->vm, 5000) < 0 ? 2 : 128 + sig;
}

static void ch_stop_vm(struct hv_vm *vm, int grace_ms)
{
	struct ch_backend *b = chb(vm);

	if (b->vm.pid > 0 || b->vm.api_socket)
		(void)ch_stop(&b->vm, grace_ms);
}

static void ch_announce(struct hv_vm *vm, FILE *out)
{
	struct ch_backend *b = chb(vm);

	fprintf(out, "cloud-hypervisor v%u.%u runs the VM (pid %d)\n", b->vm.version_major, b->vm.version_minor,
		(int)b->vm.pid);
}

static void ch_destroy(struct hv_vm *vm)
{
	struct ch_backend *b = chb(vm);

	if (!b)
		return;
	if (b->vm.pid <= 0)
		(void)ch_stop(&b->vm, 0);   /* removes the API socket */
	clear_credentials(b);
	for (size_t i = 0; i < b->n_creds; i++)
		free((void *)b->creds[i].value);
	for (size_t i = 0; i < b->n_oem; i++)
		free(b->oem[i]);
	free(b->creds), free(b->oem), free(b->cmdline_base), free(b->cmdline), free(b->vsock_socket);
	free((char *)b->cfg.cmdline);
	free(b);
	vm->impl = NULL;
}

const struct hypervisor_ops cloud_hypervisor_ops = {
	.name = "cloud-hypervisor",
	.default_binary = "cloud-hypervisor",
	.cannot_protect = "anyone who can reach the API socket (GET vm.info returns them), snapshots, -v logs",
	.fixed_accel = "kvm",
	.fixed_transport = "vsock",
	.max_cpus = 254,
	.unavailable = ch_unavailable,
	.refuse_path = ch_refuse_path,
	.image_kernel = ch_image_kernel,
	.prepare = ch_prepare,
	.attach_credential = ch_attach_credential,
	.attach_oem_string = ch_attach_oem_string,
	.attach_vsock = ch_attach_vsock,
	.dry_run = ch_dry_run,
	.start = ch_start,
	.poll_exit = ch_poll_exit,
	.interrupt = ch_interrupt,
	.stop = ch_stop_vm,
	.announce = ch_announce,
	.destroy = ch_destroy,
};
