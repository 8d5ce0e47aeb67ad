/* cmd_launch: credscope-launch after parsing: credentials, guest, one VM. */
#include "cmd/cmd_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "hypervisor/cred_limits.h"   /* systemd's and QEMU's SMBIOS limits, worded once */
#include "runner/rundir.h"
#include "secret.h"

#define LOAD_MAX CREDENTIAL_SIZE_MAX  /* systemd's: past it, "too large" is ours to say */
#define CRED_NAME_MAX 255u        /* NAME_MAX = FDNAME_MAX */
#define INTERRUPT_GRACE_MS 5000
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

/* Why systemd refuses NAME as a credential name: upstream's credential_name_valid()
 * (src/shared/creds-util.c) is filename_is_valid() && fdname_is_valid(); the clause names
 * the rule. '=' is valid there but ends the name in an SMBIOS "io.systemd.credential:NAME=
 * VALUE" string, so the launcher refuses it on every path. NULL when NAME is fine. */
static const char *cred_name_problem(const char *name)
{
	size_t len = strlen(name);

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "is \".\" or \"..\", which systemd's credential_name_valid() rejects (filename_is_valid(): "
		       "a credential name must be a plain file name)";
	if (strchr(name, '/'))
		return "contains '/', which systemd's credential_name_valid() rejects (filename_is_valid(): a "
		       "credential name must be a plain file name)";
	if (len > CRED_NAME_MAX)
		return "is longer than 255 bytes, which systemd's credential_name_valid() rejects (NAME_MAX, "
		       "FDNAME_MAX)";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return "contains a byte outside printable ASCII (0x20-0x7e), which systemd's "
			       "credential_name_valid() rejects (fdname_is_valid())";
	if (strchr(name, '='))
		return "contains '=', which would end the name in an SMBIOS io.systemd.credential:NAME=VALUE string";
	return NULL;
}

static bool cred_name_taken(const struct launch *l, const char *name)
{
	for (size_t i = 0; i < l->n_creds; i++)
		if (strcmp(l->creds[i].name, name) == 0)
			return true;
	return false;
}

/* NAME:REST split; the name is checked against what systemd accepts and against the
 * credentials already given (systemd-vmspawn refuses a duplicate too). On success *NAME
 * is the caller's to free; on failure nothing is left allocated. */
static int split_cred(const struct launch *l, const char *arg, const char *opt, char **name, const char **rest)
{
	const char *colon = strchr(arg, ':'), *why;
	bool set = strcmp(opt, "--set-credential") == 0;

	*name = NULL;
	if (!colon)
		return launch_fail("%s=%s: expected NAME:%s", opt, set ? "<value>" : arg, set ? "VALUE" : "PATH");
	if (colon == arg)
		return launch_fail("%s: the credential name before ':' is empty, which systemd's "
				   "credential_name_valid() rejects", opt);
	if (!(*name = strndup(arg, (size_t)(colon - arg))))
		return launch_fail("out of memory");
	*rest = colon + 1;
	if ((why = cred_name_problem(*name)))
		launch_fail("%s: credential name \"%s\" %s", opt, *name, why);
	else if (cred_name_taken(l, *name))
		launch_fail("%s: credential %s is given twice; systemd would keep only one of them", opt, *name);
	else
		return 0;
	free(*name);
	*name = NULL;
	return -EINVAL;
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
	int r = split_cred(l, arg, "--set-credential", &name, &value);

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
	int r = split_cred(l, arg, "--load-credential", &name, &path);
	struct stat st;

	if (r < 0)
		return r;
	if (effective_via(l) == VIA_CMDLINE)
		r = launch_fail("credential %s: refusing to put a secret from a file on the kernel command line (it is "
				"readable in QEMU's argv and by every guest process); use --via smbios or --via fw_cfg", name);
	else if ((r = secret_read_file(path, LOAD_MAX, &v, &len)) == -EFBIG && stat(path, &st) == 0 &&
		 st.st_size > LOAD_MAX)
		r = launch_fail("credential %s: %s is %jd bytes, more than systemd's 1 MiB credential limit "
				"(CREDENTIAL_SIZE_MAX, %u bytes)", name, path, (intmax_t)st.st_size, LOAD_MAX);
	else if (r == -EFBIG)
		r = launch_fail("credential %s: %s is more than systemd's 1 MiB credential limit (CREDENTIAL_SIZE_MAX, "
				"%u bytes)", name, path, LOAD_MAX);
	else if (r == -EISDIR)
		r = launch_fail("credential %s: %s is a directory, not a regular file", name, path);
	else if (r == -ESPIPE || r == -ENODEV)
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
		if (!cfg->kernel && l->ops->image_kernel &&
		    !(cfg->kernel = l->kernel = l->ops->image_kernel(cfg, l->img.kernel, l->img.vmlinux)))
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
static int attach_cred(struct launch *l, struct hv_vm *vm, const struct launch_cred *c, size_t *smbios_used)
{
	const char *why = l->ops->refuse_path ? l->ops->refuse_path(&l->cfg, c->via) : NULL;
	int r;

	if (why)
		return launch_fail("credential %s: %s", c->name, why);
	r = l->ops->attach_credential(vm, c->via, c->name, c->value, c->len);
	if (r == -ENAMETOOLONG && c->via == VIA_FW_CFG)
		return launch_fail("credential %s: \"%s%s\" is longer than the %u characters QEMU allows for a fw_cfg name; "
				   "use a shorter name or --via smbios", c->name, FW_CFG_CRED_PREFIX, c->name, FW_CFG_NAME_MAX);
	if (r == -E2BIG && (c->via == VIA_SMBIOS || c->via == VIA_SMBIOS_BINARY) && l->ops == &qemu_ops) {
		char *text = smbios_too_big_text(c->name, c->len, c->via == VIA_SMBIOS_BINARY, *smbios_used,
						 smbios_oem_budget(l->cfg.cpus), "use --via fw_cfg");
		launch_fail("%s", text ? text : "out of memory");
		free(text);
		return -E2BIG;
	}
	if (r == 0 && (c->via == VIA_SMBIOS || c->via == VIA_SMBIOS_BINARY) && l->ops == &qemu_ops)
		*smbios_used += smbios_credential_bytes(c->name, c->len, c->via == VIA_SMBIOS_BINARY);
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
	size_t smbios_used = 0;   /* OEM string bytes QEMU's tables hold so far, for the message */

	for (size_t i = 0; i < l->n_creds; i++) {
		if ((r = attach_cred(l, vm, &l->creds[i], &smbios_used)) < 0)
			return r;
		secret_clear(l->creds[i].value, l->creds[i].len);
	}
	return 0;
}

/* Waits for the VM. SIGINT/SIGTERM/SIGHUP stop it (the backend's interrupt()) and end
 * the launcher with 128+N, even when the hypervisor itself exits 0 on the signal (QEMU
 * does): an interrupted VM did not power off cleanly. A signal that arrives together with
 * the exit still counts. Returns our exit status. */
static int supervise(struct hv_vm *vm, const sigset_t *sigs)
{
	const struct timespec now = { 0 };
	sigset_t stops = *sigs;
	int status, rc, sig;

	sigdelset(&stops, SIGCHLD);
	for (;;) {
		if (vm->ops->poll_exit(vm, &status) == 1)
			break;
		sig = sigwaitinfo(sigs, NULL);
		if (sig > 0 && sig != SIGCHLD && (rc = vm->ops->interrupt(vm, sig)) != 0)
			return rc;
	}
	if ((sig = sigtimedwait(&stops, NULL, &now)) > 0)
		return 128 + sig;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Starts the VM and supervises it; the exit status of the hypervisor is ours. */
static int start_and_supervise(struct launch *l, struct hv_vm *vm, const sigset_t *sigs)
{
	char *why = NULL;
	int r = vm->ops->start(vm, &why);

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
	return supervise(vm, sigs);
}

/* --console-log holds everything the guest prints (credentials a guest echoes
 * included): it is created 0600 here, never through a symlink, before the hypervisor
 * opens it by name (QEMU and cloud-hypervisor would create it 0644 and truncate it; an
 * existing file keeps its inode and is narrowed to 0600). */
static int create_console_log(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600), r = 0;

	if (fd < 0)
		return launch_fail("--console-log %s: %s", path,
				   errno == ELOOP ? "is a symbolic link; give the file itself" : strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		r = launch_fail("--console-log %s: not a regular file", path);
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
		r = launch_fail("--console-log %s: cannot make it private (0600): %s", path, strerror(errno));
	close(fd);
	return r;
}

/* The accelerator (QEMU probes KVM rather than trusting /dev/kvm) and a private
 * directory for the control socket; not needed for --dry-run. */
static int prepare_host(struct launch *l)
{
	char *why = NULL;
	int r;

	if (l->cfg.console_log && create_console_log(l->cfg.console_log) < 0)
		return -EINVAL;
	if (!l->ops->fixed_accel) {
		l->cfg.accel = accel_probe(l->cfg.binary, l->accel, ACCEL_PROBE_MS, &why);
		fprintf(stderr, "credscope-launch: acceleration %s%s%s%s\n", l->cfg.accel, why ? " (" : "", why ? why : "",
			why ? ")" : "");
		free(why);
	}
	/* with an owner file: should the launcher crash, the next harness removes it */
	if ((r = rundir_create("/tmp", "launch", &l->dir)) < 0)
		return launch_fail("cannot create a private directory in /tmp: %s", strerror(-r));
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
