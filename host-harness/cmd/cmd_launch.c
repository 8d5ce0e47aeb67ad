/* cmd_launch: credscope-launch after parsing: credentials, guest, one VM. */
#include "cmd/cmd_launch.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "hypervisor/accel.h"
#include "secret.h"

#define LOAD_MAX (1024 * 1024)   /* systemd's credential limit: past it, "too large" is ours to say */
#define ACCEL_PROBE_MS 3000
#define READY_MS 30000

int launch_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("credscope-launch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

int launch_append(char **line, const char *words)
{
	char *n;

	if (!words || !*words)
		return 0;
	if (asprintf(&n, "%s%s%s", *line ? *line : "", *line ? " " : "", words) < 0)
		return -ENOMEM;
	free(*line);
	*line = n;
	return 0;
}

static enum cred_via effective_via(const struct launch *l)
{
	if (!l->via_auto)
		return l->via;
	return l->cfg.machine && strcmp(l->cfg.machine, "microvm") == 0 ? VIA_FW_CFG : VIA_SMBIOS_BINARY;
}

/* NAME:REST split; the name is checked against what systemd accepts. */
static int split_cred(const char *arg, const char *opt, char **name, const char **rest)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg)
		return launch_fail("%s=%s: expected NAME:%s", opt, opt[2] == 's' ? "<value>" : "PATH",
				   opt[2] == 's' ? "VALUE" : "PATH");
	*name = strndup(arg, (size_t)(colon - arg));
	*rest = colon + 1;
	if (!*name)
		return -ENOMEM;
	if (strchr(*name, '/') || strchr(*name, '=')) {
		launch_fail("credential name \"%s\": contains '/' or '=', which systemd rejects", *name);
		free(*name);
		return -EINVAL;
	}
	return 0;
}

/* Takes NAME and VALUE (both malloc'd) whatever happens. */
static int keep_cred(struct launch *l, char *name, uint8_t *value, size_t len)
{
	struct launch_cred *grown = realloc(l->creds, (l->n_creds + 1) * sizeof *grown);

	if (!grown || !value) {
		secret_free(value, value ? len : 0);
		free(name);
		return launch_fail("out of memory");
	}
	l->creds = grown;
	l->creds[l->n_creds++] = (struct launch_cred){ name, value, len, effective_via(l) };
	return 0;
}

int launch_set_credential(struct launch *l, const char *arg)
{
	const char *value;
	char *name;
	int r = split_cred(arg, "--set-credential", &name, &value);

	if (r < 0)
		return r;
	return keep_cred(l, name, (uint8_t *)strdup(value), strlen(value));
}

/* Reads a secret through the bounded reader: a FIFO or a device is refused at once
 * instead of blocking the launcher. Errors name the file, never the content. */
int launch_load_credential(struct launch *l, const char *arg)
{
	const char *path;
	uint8_t *v = NULL;
	size_t len = 0;
	char *name;
	int r = split_cred(arg, "--load-credential", &name, &path);

	if (r < 0)
		return r;
	if (effective_via(l) == VIA_CMDLINE)
		r = launch_fail("credential %s: refusing to put a secret from a file on the kernel command line (it is "
				"readable in QEMU's argv and by every guest process); use --via smbios or --via fw_cfg", name);
	else if ((r = secret_read_file(path, LOAD_MAX, &v, &len)) == -EFBIG)
		r = launch_fail("credential %s: %s is larger than systemd's 1 MiB credential limit", name, path);
	else if (r == -ESPIPE || r == -EISDIR || r == -ENODEV)
		r = launch_fail("credential %s: %s %s", name, path, file_error_text(r));
	else if (r < 0)
		r = launch_fail("credential %s: cannot open %s: %s", name, path, file_error_text(r));
	else
		return keep_cred(l, name, v, len);
	free(name);
	return r;
}

int launch_resolve_guest(struct launch *l)
{
	struct hv_config *cfg = &l->cfg;
	char *why = NULL;

	if (l->flavor) {
		if (image_load(l->image_dir ? l->image_dir : "vm-images/out", l->flavor, &l->img, &why) < 0) {
			launch_fail("%s", why ? why : "cannot load the image");
			free(why);
			return -ENOENT;
		}
		if (!cfg->kernel && l->ops->image_kernel && !(cfg->kernel = l->kernel = l->ops->image_kernel(l->img.kernel)))
			return launch_fail("out of memory");
		cfg->kernel = cfg->kernel ? cfg->kernel : l->img.kernel;
		cfg->initrd = cfg->initrd ? cfg->initrd : l->img.initrd;
		cfg->rootfs = cfg->rootfs ? cfg->rootfs : l->img.rootfs;
		cfg->rootfs_format = l->img.rootfs_format;
	}
	if (!cfg->kernel)
		return launch_fail("no kernel: give --kernel FILE or --flavor NAME (see --help)");
	/* the image's words first, then --append */
	if (launch_append(&l->cmdline, l->img.cmdline) < 0 || launch_append(&l->cmdline, l->append) < 0)
		return launch_fail("out of memory");
	cfg->cmdline = l->cmdline;
	return 0;
}

/* Hands one credential to the VM; the messages are the launcher's, naming the credential. */
static int attach_cred(struct launch *l, struct hv_vm *vm, const struct launch_cred *c)
{
	const char *why = l->ops->refuse_path ? l->ops->refuse_path(&l->cfg, c->via) : NULL;
	int r;

	if (why)
		return launch_fail("credential %s: %s", c->name, why);
	r = l->ops->attach_credential(vm, c->via, c->name, c->value, c->len);
	if (r == -ENAMETOOLONG && c->via == VIA_FW_CFG)
		return launch_fail("credential %s: \"%s%s\" is longer than the %u characters QEMU allows for a fw_cfg name; "
				   "use a shorter name or --via smbios", c->name, FW_CFG_CRED_PREFIX, c->name, FW_CFG_NAME_MAX);
	if (r < 0 && c->via == VIA_CMDLINE)
		return launch_fail("credential %s: the kernel command line cannot carry blanks, '\"' or control characters; "
				   "use --via smbios", c->name);
	if (r < 0)
		return launch_fail("credential %s: cannot pass it to %s: %s", c->name, l->ops->name, strerror(-r));
	if (c->via == VIA_CMDLINE)
		fprintf(stderr, "credscope-launch: warning: credential %s goes on the kernel command line: it is visible in "
			"%s on the host and to every process in the guest\n", c->name,
			l->ops == &qemu_ops ? "QEMU's argv" : "cloud-hypervisor's vm.create request");
	return 0;
}

/* The VM with every credential; the launcher's copies are cleared as they are handed over. */
static int build_vm(struct launch *l, struct hv_vm *vm)
{
	int r = l->ops->prepare(&l->cfg, vm);

	if (r < 0)
		return launch_fail("cannot configure %s: %s", l->ops->name, strerror(-r));
	for (size_t i = 0; i < l->n_creds; i++) {
		if ((r = attach_cred(l, vm, &l->creds[i])) < 0)
			return r;
		secret_clear(l->creds[i].value, l->creds[i].len);
	}
	return 0;
}

/* Waits for the VM, handing SIGINT/SIGTERM/SIGHUP to the backend. Returns our exit status. */
static int supervise(struct hv_vm *vm, const sigset_t *sigs)
{
	int status, rc;

	for (;;) {
		int sig = sigwaitinfo(sigs, NULL);
		if (sig == SIGCHLD || sig < 0) {
			if (vm->ops->poll_exit(vm, &status) == 1)
				break;
			continue;
		}
		if ((rc = vm->ops->interrupt(vm, sig)) != 0)
			return rc;
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Starts the VM and supervises it; the exit status of the hypervisor is ours. */
static int start_and_supervise(struct launch *l, struct hv_vm *vm, const sigset_t *sigs)
{
	char *why = NULL;
	int status, r = vm->ops->start(vm, &why);

	if (r < 0) {
		why ? launch_fail("%s", why) : launch_fail("cannot start %s: %s", l->ops->name, strerror(-r));
		free(why);
		return 2;
	}
	if (vm->ops->wait_ready && (r = vm->ops->wait_ready(vm, READY_MS, &why)) < 0 && r != -ECHILD)
		launch_fail("%s", why ? why : strerror(-r));
	free(why);
	if (vm->ops->announce) {
		fputs("credscope-launch: ", stderr);
		vm->ops->announce(vm, stderr);
	}
	/* the hypervisor may still run even if it never answered: it is ours to wait for */
	if (vm->ops->poll_exit(vm, &status) == 0)
		return supervise(vm, sigs);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

/* The accelerator (QEMU probes KVM rather than trusting /dev/kvm) and a private
 * directory for the control socket; not needed for --dry-run. */
static int prepare_host(struct launch *l)
{
	char tmpl[] = "/tmp/credscope-launch-XXXXXX", *why = NULL;

	if (!l->ops->fixed_accel) {
		l->cfg.accel = accel_probe(l->cfg.binary, l->accel, ACCEL_PROBE_MS, &why);
		fprintf(stderr, "credscope-launch: acceleration %s%s%s%s\n", l->cfg.accel, why ? " (" : "", why ? why : "",
			why ? ")" : "");
		free(why);
	}
	if (!mkdtemp(tmpl) || !(l->dir = strdup(tmpl)))
		return launch_fail("cannot create a private directory in /tmp: %s", strerror(errno));
	l->cfg.run_dir = l->dir;
	return 0;
}

int launch_run(struct launch *l)
{
	struct hv_vm vm = { 0 };
	char *why = NULL;
	sigset_t sigs;
	int rc = 2;

	if (!l->dry_run && prepare_host(l) < 0)
		return 2;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT), sigaddset(&sigs, SIGTERM), sigaddset(&sigs, SIGHUP), sigaddset(&sigs, SIGCHLD);
	if (!l->dry_run)
		sigprocmask(SIG_BLOCK, &sigs, NULL);   /* before the VM exists, so no signal is missed */
	if (build_vm(l, &vm) == 0) {
		if (!l->dry_run)
			rc = start_and_supervise(l, &vm, &sigs);
		else if (l->ops->dry_run(&vm, stdout, &why) == 0)
			rc = 0;
		else
			launch_fail("%s", why ? why : "cannot show the configuration");
	}
	free(why);
	if (vm.impl)
		vm.ops->destroy(&vm);
	if (l->dir)
		(void)rm_tree(l->dir);
	return rc;
}

void launch_done(struct launch *l)
{
	for (size_t i = 0; i < l->n_creds; i++) {
		secret_free(l->creds[i].value, l->creds[i].len);
		free(l->creds[i].name);
	}
	free(l->creds), free(l->append), free(l->kernel), free(l->cmdline), free(l->dir);
	image_free(&l->img);
}
