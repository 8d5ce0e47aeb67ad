/* ch_launch_cli: `credscope-launch --hypervisor cloud-hypervisor ...`: one cloud-hypervisor
 * VM with systemd credentials, as credscope-launch does for QEMU, in the same words
 * (--set-credential=NAME:VALUE, --load-credential=NAME:PATH). Secrets are read at start,
 * kept in memory only until vm.create has carried them, then cleared; cloud-hypervisor
 * gets `--api-socket fd=3` and nothing else. It supervises CH: SIGINT/SIGTERM/SIGHUP
 * stop the VM (vm.shutdown, vmm.shutdown), and CH's exit status is ours. */
#include "cmd/ch_launch_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/cloud_hypervisor.h"
#include "digest.h"
#include "runner/image.h"

#define CH_LOAD_MAX (1024 * 1024 + 1)   /* one byte over systemd's limit: "too large" is ours to say */

struct ch_cli {
	struct ch_vm_config cfg;
	struct ch_credential *creds;
	size_t n_creds;
	struct ch_disk disk;
	const char *flavor, *image_dir, *append;
	bool dry_run;
	struct guest_image img;
	char *kernel, *cmdline, *dir;
};

static void usage(FILE *f)
{
	fputs("Usage: credscope-launch --hypervisor cloud-hypervisor [OPTIONS]\n\n"
	      "Starts cloud-hypervisor with only --api-socket on its command line and describes the VM\n"
	      "through its REST API; credentials travel in vm.create as binary OEM strings.\n\n"
	      "  --kernel FILE (ELF vmlinux), --initrd FILE, --image ROOTFS\n"
	      "  --flavor NAME [--image-dir DIR]   a built image (vm-images/out/NAME; vmlinux preferred)\n"
	      "  --append WORDS            extra kernel command line\n"
	      "  --memory MB, --cpus N     (default 512, 1)\n"
	      "  --console-log FILE        serial console to FILE (default: this terminal)\n"
	      "  --cloud-hypervisor PATH   the binary (default: cloud-hypervisor in PATH)\n"
	      "  --set-credential=NAME:VALUE, --load-credential=NAME:PATH\n"
	      "  --dry-run                 print the vm.create body with values withheld, and exit\n", f);
}

static int cli_fail(const char *what, const char *detail)
{
	fprintf(stderr, "credscope-launch: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	return -EINVAL;
}

/* Reads a secret; errors name the file, never its content. */
static int read_secret(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = malloc(CH_LOAD_MAX);
	size_t n = 0;
	ssize_t k = 0;

	if (fd < 0 || !buf) {
		int e = fd < 0 ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		free(buf);
		return cli_fail(path, strerror(e));
	}
	while (n < CH_LOAD_MAX && ((k = read(fd, buf + n, CH_LOAD_MAX - n)) > 0 || (k < 0 && errno == EINTR)))
		n += k > 0 ? (size_t)k : 0;
	close(fd);
	if (k < 0 || n >= CH_LOAD_MAX) {
		secret_clear(buf, n);
		free(buf);
		return cli_fail(path, k < 0 ? "cannot read it" : "larger than systemd's 1 MiB credential limit");
	}
	*out = buf;
	*len = n;
	return 0;
}

static int add_credential(struct ch_cli *c, const char *arg, bool from_file)
{
	const char *colon = strchr(arg, ':');
	struct ch_credential *grown;
	uint8_t *value = NULL;
	size_t len;
	char *name;

	if (!colon || colon == arg)
		return cli_fail(from_file ? "--load-credential: expected NAME:PATH" : "--set-credential: expected NAME:VALUE", NULL);
	name = strndup(arg, (size_t)(colon - arg));
	if (!name)
		return -ENOMEM;
	if (strchr(name, '/') || strchr(name, '='))
		return free(name), cli_fail("a credential name contains '/' or '=', which systemd rejects", NULL);
	if (from_file && read_secret(colon + 1, &value, &len) < 0)
		return free(name), -EINVAL;
	if (!from_file) {
		len = strlen(colon + 1);
		value = (uint8_t *)strndup(colon + 1, len);
	}
	grown = realloc(c->creds, (c->n_creds + 1) * sizeof *grown);
	if (grown)
		c->creds = grown;
	if (!grown || !value) {
		if (value)
			secret_clear(value, len);
		free(name), free(value);
		return -ENOMEM;
	}
	c->creds[c->n_creds++] = (struct ch_credential){ name, value, len };
	return 0;
}

enum { CLI_KERNEL = 256, CLI_INITRD, CLI_IMAGE, CLI_FLAVOR, CLI_IMAGE_DIR, CLI_APPEND, CLI_MEMORY, CLI_CPUS, CLI_CONSOLE,
       CLI_BINARY, CLI_SET, CLI_LOAD, CLI_DRY, CLI_HYPERVISOR };

static int parse_unsigned(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v < lo || v > hi)
		return cli_fail(opt, "expected a number in range");
	*out = (unsigned)v;
	return 0;
}

static int parse_one(struct ch_cli *c, int opt)
{
	unsigned mb;

	switch (opt) {
	case CLI_KERNEL: c->cfg.kernel = optarg; return 0;
	case CLI_INITRD: c->cfg.initramfs = optarg; return 0;
	case CLI_IMAGE: c->disk.path = optarg; return 0;
	case CLI_FLAVOR: c->flavor = optarg; return 0;
	case CLI_IMAGE_DIR: c->image_dir = optarg; return 0;
	case CLI_APPEND: c->append = optarg; return 0;
	case CLI_MEMORY:
		if (parse_unsigned("--memory", optarg, 64, 1 << 20, &mb) < 0)
			return -EINVAL;
		c->cfg.memory_mib = mb;
		return 0;
	case CLI_CPUS: return parse_unsigned("--cpus", optarg, 1, 254, &c->cfg.cpus);
	case CLI_CONSOLE: c->cfg.serial_log = optarg; return 0;
	case CLI_BINARY: c->cfg.binary = optarg; return 0;
	case CLI_SET: return add_credential(c, optarg, false);
	case CLI_LOAD: return add_credential(c, optarg, true);
	case CLI_DRY: c->dry_run = true; return 0;
	case CLI_HYPERVISOR:
		return strcmp(optarg, "cloud-hypervisor") == 0 ? 0 : cli_fail("--hypervisor", "this path is cloud-hypervisor");
	case 'h': usage(stdout); return 1;
	default: usage(stderr); return -EINVAL;
	}
}

static int parse_cli(struct ch_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, CLI_KERNEL }, { "initrd", required_argument, NULL, CLI_INITRD },
		{ "image", required_argument, NULL, CLI_IMAGE }, { "flavor", required_argument, NULL, CLI_FLAVOR },
		{ "image-dir", required_argument, NULL, CLI_IMAGE_DIR }, { "append", required_argument, NULL, CLI_APPEND },
		{ "memory", required_argument, NULL, CLI_MEMORY }, { "cpus", required_argument, NULL, CLI_CPUS },
		{ "console-log", required_argument, NULL, CLI_CONSOLE },
		{ "cloud-hypervisor", required_argument, NULL, CLI_BINARY },
		{ "set-credential", required_argument, NULL, CLI_SET }, { "load-credential", required_argument, NULL, CLI_LOAD },
		{ "dry-run", no_argument, NULL, CLI_DRY }, { "hypervisor", required_argument, NULL, CLI_HYPERVISOR },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = parse_one(c, opt)) != 0)
			return r;
	if (optind < argc)
		return cli_fail("unexpected argument", argv[optind]);
	return 0;
}

/* --flavor fills what --kernel/--initrd/--image did not; CH wants the ELF vmlinux. */
static int resolve_guest(struct ch_cli *c)
{
	char *why = NULL;

	if (c->flavor) {
		if (image_load(c->image_dir ? c->image_dir : "vm-images/out", c->flavor, &c->img, &why) < 0) {
			cli_fail(why ? why : "cannot load the image", NULL);
			free(why);
			return -ENOENT;
		}
		const char *slash = strrchr(c->img.kernel, '/');
		if (!c->cfg.kernel && slash &&
		    asprintf(&c->kernel, "%.*s/vmlinux", (int)(slash - c->img.kernel), c->img.kernel) >= 0 &&
		    access(c->kernel, R_OK) == 0)
			c->cfg.kernel = c->kernel;
		c->cfg.kernel = c->cfg.kernel ? c->cfg.kernel : c->img.kernel;
		c->cfg.initramfs = c->cfg.initramfs ? c->cfg.initramfs : c->img.initrd;
		c->disk.path = c->disk.path ? c->disk.path : c->img.rootfs;
	}
	if (!c->cfg.kernel)
		return cli_fail("no kernel: give --kernel FILE or --flavor NAME (see --help)", NULL);
	if (asprintf(&c->cmdline, "%s%s%s", c->img.cmdline ? c->img.cmdline : "", c->img.cmdline && c->append ? " " : "",
		     c->append ? c->append : "") < 0)
		return -ENOMEM;
	c->cfg.cmdline = *c->cmdline ? c->cmdline : NULL;
	c->cfg.disks = c->disk.path ? &c->disk : NULL;
	c->cfg.n_disks = c->disk.path ? 1 : 0;
	c->cfg.serial_tty = !c->cfg.serial_log;
	c->cfg.credentials = c->creds;
	c->cfg.n_credentials = c->n_creds;
	return 0;
}

/* What would be sent, with every credential value replaced by its size. */
static int print_dry_run(const struct ch_cli *c)
{
	struct ch_vm_config cfg = c->cfg;
	char **shown = calloc(c->n_creds + 1, sizeof *shown), *json = NULL, *err = NULL;
	int r = shown ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < c->n_creds; i++)
		if (asprintf(&shown[i], "io.systemd.credential.binary:%s=<%zu bytes, withheld>", c->creds[i].name,
			     c->creds[i].len) < 0)
			r = -ENOMEM;
	cfg.credentials = NULL;
	cfg.n_credentials = 0;
	cfg.oem_strings = (const char *const *)shown;
	cfg.n_oem_strings = c->n_creds;
	if (r == 0 && (r = ch_config_to_json(&cfg, &json, &err)) == 0)
		printf("%s --api-socket fd=3\nPUT /api/v1/vm.create %s\nPUT /api/v1/vm.boot\n",
		       cfg.binary ? cfg.binary : "cloud-hypervisor", json);
	else
		cli_fail("cannot build the VM configuration", err ? err : strerror(-r));
	for (size_t i = 0; shown && i < c->n_creds; i++)
		free(shown[i]);
	free(shown), free(json), free(err);
	return r;
}

/* Waits for CH, stopping the VM on SIGINT/SIGTERM/SIGHUP. Returns our exit status. */
static int supervise(struct ch_vm *vm, const sigset_t *sigs)
{
	int status;

	for (;;) {
		int sig = sigwaitinfo(sigs, NULL);
		if (sig == SIGCHLD || sig < 0) {
			if (waitpid(vm->pid, &status, WNOHANG) == vm->pid)
				break;
			continue;
		}
		status = ch_stop(vm, 5000);
		return status < 0 ? 2 : 128 + sig;
	}
	vm->pid = 0;
	ch_stop(vm, 0);  /* removes the API socket */
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int run_vm(struct ch_cli *c)
{
	char tmpl[] = "/tmp/credscope-launch-ch-XXXXXX", *err = NULL;
	struct ch_vm vm;
	sigset_t sigs;
	int r, rc = 2;

	if (!mkdtemp(tmpl))
		return cli_fail("cannot create a private directory in /tmp", strerror(errno)), 2;
	c->cfg.runtime_dir = tmpl;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT), sigaddset(&sigs, SIGTERM), sigaddset(&sigs, SIGHUP), sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	r = ch_launch(&c->cfg, &vm, &err);
	/* vm.create has carried the secrets (or failed): they are no longer needed */
	for (size_t i = 0; i < c->n_creds; i++)
		secret_clear((void *)c->creds[i].value, c->creds[i].len);
	if (r < 0)
		cli_fail(err ? err : "cannot launch cloud-hypervisor", NULL);
	else {
		fprintf(stderr, "credscope-launch: cloud-hypervisor v%u.%u runs the VM (pid %d)\n", vm.version_major,
			vm.version_minor, (int)vm.pid);
		rc = supervise(&vm, &sigs);
	}
	free(err);
	nftw(tmpl, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	return rc;
}

int ch_launch_main(int argc, char **argv)
{
	struct ch_cli c = { 0 };
	int r = parse_cli(&c, argc, argv), rc;

	if (r == 0)
		r = resolve_guest(&c);
	if (r != 0)
		rc = r > 0 ? 0 : 2;
	else
		rc = c.dry_run ? (print_dry_run(&c) == 0 ? 0 : 2) : run_vm(&c);
	for (size_t i = 0; i < c.n_creds; i++) {
		secret_clear((void *)c.creds[i].value, c.creds[i].len);
		free((void *)c.creds[i].value);
		free((void *)c.creds[i].name);
	}
	free(c.creds), free(c.kernel), free(c.cmdline);
	image_free(&c.img);
	return rc;
}

bool ch_launch_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--hypervisor=cloud-hypervisor") == 0 ||
		    (strcmp(argv[i], "--hypervisor") == 0 && i + 1 < argc && strcmp(argv[i + 1], "cloud-hypervisor") == 0))
			return true;
	}
	return false;
}
