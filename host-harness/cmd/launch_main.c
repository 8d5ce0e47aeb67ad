/* credscope-launch: start one VM (QEMU, or cloud-hypervisor with --hypervisor
 * cloud-hypervisor) with systemd credentials, the way systemd-vmspawn names them, without
 * secrets on any command line, in the environment or on disk.
 *   --set-credential=NAME:VALUE   not secret (may go on the kernel command line)
 *   --load-credential=NAME:PATH   secret: read at start (regular files only, so a FIFO
 *                                 cannot block us), handed to the hypervisor by memfd
 *                                 (QEMU) or in vm.create (CH), buffer cleared
 * The command line is parsed once; the VM is then driven through the hypervisor ops
 * table (hypervisor/hypervisor.h), the same code path for either backend. Errors are
 * printed here, once, naming the option or file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_launch.h"
#include "parse.h"
#include "runner/image.h"

static void usage_qemu(FILE *f)
{
	fputs("Usage: credscope-launch [OPTIONS]\n\n"
	      "Starts QEMU with systemd credentials passed by SMBIOS type 11 or fw_cfg from memfds\n"
	      "(/proc/self/fd/N), never on a command line.\n\n"
	      "  --kernel FILE, --initrd FILE, --image ROOTFS   guest to boot\n"
	      "  --flavor NAME [--image-dir DIR]   use a built image (vm-images/out/NAME)\n"
	      "  --append WORDS            extra kernel command line\n"
	      "  --machine q35|pc|microvm  (default q35)\n"
	      "  --memory MB, --cpus N     (default 512, 1)\n"
	      "  --accel auto|kvm|tcg      (default auto: KVM only if a probe guest runs)\n"
	      "  --console-log FILE        serial console to FILE (default: this terminal)\n"
	      "  --qemu PATH               QEMU binary\n"
	      "  --via smbios|fw_cfg|cmdline|auto\n"
	      "                            how the credentials after it are passed (default auto:\n"
	      "                            SMBIOS, fw_cfg on microvm)\n"
	      "  --set-credential=NAME:VALUE   a credential that is not secret\n"
	      "  --load-credential=NAME:PATH   a secret, read from PATH when starting\n"
	      "  --snapshot                root disk writes go to a throw-away overlay\n"
	      "  --dry-run                 print QEMU's command line and exit\n"
	      "  --hypervisor qemu|cloud-hypervisor   (default qemu; cloud-hypervisor: see\n"
	      "                            credscope-launch --hypervisor cloud-hypervisor --help)\n\n"
	      "Exit status: QEMU's, 128+N after signal N (the VM is stopped), 2 on usage or environment errors.\n", f);
}

static void usage_ch(FILE *f)
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

/* The backend is chosen before parsing, so that --help, the option set and the limits
 * are that backend's wherever --hypervisor stands. */
static const struct hypervisor_ops *backend_named(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--hypervisor=cloud-hypervisor") == 0 ||
		    (strcmp(argv[i], "--hypervisor") == 0 && i + 1 < argc && strcmp(argv[i + 1], "cloud-hypervisor") == 0))
			return &cloud_hypervisor_ops;
	}
	return &qemu_ops;
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_IMAGE, OPT_FLAVOR, OPT_IMAGE_DIR, OPT_APPEND, OPT_MACHINE, OPT_MEMORY, OPT_CPUS,
       OPT_ACCEL, OPT_CONSOLE, OPT_QEMU, OPT_CH_BINARY, OPT_VIA, OPT_SET, OPT_LOAD, OPT_DRY, OPT_SNAPSHOT, OPT_HYPERVISOR };

static const struct option opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL }, { "initrd", required_argument, NULL, OPT_INITRD },
	{ "image", required_argument, NULL, OPT_IMAGE },   { "flavor", required_argument, NULL, OPT_FLAVOR },
	{ "image-dir", required_argument, NULL, OPT_IMAGE_DIR }, { "append", required_argument, NULL, OPT_APPEND },
	{ "machine", required_argument, NULL, OPT_MACHINE }, { "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },     { "accel", required_argument, NULL, OPT_ACCEL },
	{ "console-log", required_argument, NULL, OPT_CONSOLE }, { "qemu", required_argument, NULL, OPT_QEMU },
	{ "cloud-hypervisor", required_argument, NULL, OPT_CH_BINARY },
	{ "via", required_argument, NULL, OPT_VIA },       { "set-credential", required_argument, NULL, OPT_SET },
	{ "load-credential", required_argument, NULL, OPT_LOAD }, { "dry-run", no_argument, NULL, OPT_DRY },
	{ "hypervisor", required_argument, NULL, OPT_HYPERVISOR },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "help", no_argument, NULL, 'h' },              { "version", no_argument, NULL, 'V' }, { 0 } };

static int parse_number(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	if (parse_uint(s, lo, hi, out) < 0)
		return launch_fail("%s %s: expected a number from %u to %u", opt, s, lo, hi);
	return 0;
}

/* Options only one backend has are refused by the other, naming the option. */
static int only_for(const struct launch *l, const struct hypervisor_ops *ops, const char *opt)
{
	if (l->ops == ops)
		return 0;
	return launch_fail("%s: only for --hypervisor %s", opt, ops == &qemu_ops ? "qemu" : "cloud-hypervisor");
}

static int parse_choice(const char *opt, const char *s, const char *const *choices, const char *expected)
{
	for (const char *const *c = choices; *c; c++)
		if (strcmp(s, *c) == 0)
			return 0;
	return launch_fail("%s %s: expected %s", opt, s, expected);
}

static int parse_backend_option(struct launch *l, int c)
{
	static const char *const machines[] = { "q35", "pc", "microvm", NULL }, *const accels[] = { "auto", "kvm", "tcg", NULL };
	int r;

	switch (c) {
	case OPT_MACHINE:
		if ((r = only_for(l, &qemu_ops, "--machine")) < 0 ||
		    (r = parse_choice("--machine", optarg, machines, "q35, pc or microvm")) < 0)
			return r;
		l->cfg.machine = optarg;
		return 0;
	case OPT_ACCEL:
		if ((r = only_for(l, &qemu_ops, "--accel")) < 0 ||
		    (r = parse_choice("--accel", optarg, accels, "auto, kvm or tcg")) < 0)
			return r;
		l->accel = optarg;
		return 0;
	case OPT_QEMU: return (r = only_for(l, &qemu_ops, "--qemu")) < 0 ? r : (l->cfg.binary = optarg, 0);
	case OPT_CH_BINARY:
		return (r = only_for(l, &cloud_hypervisor_ops, "--cloud-hypervisor")) < 0 ? r : (l->cfg.binary = optarg, 0);
	case OPT_SNAPSHOT: return (r = only_for(l, &qemu_ops, "--snapshot")) < 0 ? r : (l->cfg.snapshot = true, 0);
	case OPT_HYPERVISOR:
		return strcmp(optarg, "qemu") && strcmp(optarg, "cloud-hypervisor") ?
			       launch_fail("--hypervisor %s: expected qemu or cloud-hypervisor", optarg) : 0;
	default: return 1;
	}
}

/* Pass 1: everything but credentials (so --machine may come after them). 1: exit 0. */
static int parse_pass1(struct launch *l, int c)
{
	int r = parse_backend_option(l, c);

	if (r <= 0)
		return r;
	switch (c) {
	case OPT_KERNEL: l->cfg.kernel = optarg; return 0;
	case OPT_INITRD: l->cfg.initrd = optarg; return 0;
	case OPT_IMAGE: l->cfg.rootfs = optarg; return 0;
	case OPT_FLAVOR: l->flavor = optarg; return 0;
	case OPT_IMAGE_DIR: l->image_dir = optarg; return 0;
	case OPT_APPEND: return launch_append(&l->append, optarg);
	case OPT_MEMORY: return parse_number("--memory", optarg, 64, 1 << 20, &l->cfg.memory_mb);
	case OPT_CPUS: return parse_number("--cpus", optarg, 1, l->ops->max_cpus, &l->cfg.cpus);
	case OPT_CONSOLE: l->cfg.console_log = optarg; return 0;
	case OPT_DRY: l->dry_run = true; return 0;
	case OPT_VIA: case OPT_SET: case OPT_LOAD: return 0;
	case 'h': (l->ops == &qemu_ops ? usage_qemu : usage_ch)(stdout); return 1;
	case 'V': puts("credscope-launch " CREDSCOPE_VERSION); return 1;
	default: (l->ops == &qemu_ops ? usage_qemu : usage_ch)(stderr); return -EINVAL;
	}
}

static int parse_via(struct launch *l, const char *s)
{
	l->via_auto = strcmp(s, "auto") == 0;
	if (!strcmp(s, "smbios"))
		l->via = VIA_SMBIOS_BINARY;
	else if (!strcmp(s, "fw_cfg"))
		l->via = VIA_FW_CFG;
	else if (!strcmp(s, "cmdline"))
		l->via = VIA_CMDLINE;
	else if (!l->via_auto)
		return launch_fail("--via %s: expected smbios, fw_cfg, cmdline or auto", s);
	return 0;
}

/* Pass 2: the credentials, in order, each with the --via before it. */
static int parse_pass2(struct launch *l, int c)
{
	switch (c) {
	case OPT_VIA: return parse_via(l, optarg);
	case OPT_SET: return launch_set_credential(l, optarg);
	case OPT_LOAD: return launch_load_credential(l, optarg);
	default: return 0;
	}
}

static int parse_args(struct launch *l, int argc, char **argv)
{
	int c, r;

	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = parse_pass1(l, c)) != 0)
			return r;
	if (optind < argc)
		return launch_fail("unexpected argument \"%s\"", argv[optind]);
	if ((r = launch_resolve_guest(l)) < 0)
		return r;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = parse_pass2(l, c)) < 0)
			return r;
	return 0;
}

int main(int argc, char **argv)
{
	struct launch l = { .ops = backend_named(argc, argv), .via_auto = true, .accel = "auto" };
	int r = parse_args(&l, argc, argv), rc;

	if (r != 0)
		rc = r > 0 ? 0 : 2;
	else
		rc = launch_run(&l);
	launch_done(&l);
	return rc;
}
