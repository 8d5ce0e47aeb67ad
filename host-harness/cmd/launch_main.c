/* credscope-launch: start one QEMU VM with systemd credentials, the way systemd-vmspawn
 * names them, without secrets on any command line, in the environment or on disk.
 *   --set-credential=NAME:VALUE   not secret (may go on the kernel command line)
 *   --load-credential=NAME:PATH   secret: read at start into a memfd, buffer cleared
 * It supervises QEMU: SIGINT/SIGTERM/SIGHUP are passed on, and QEMU's exit status is ours
 * (128+N when QEMU died of signal N). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/accel.h"
#include "runner/case.h"
#include "cmd/ch_launch_cli.h"   /* issue 6: --hypervisor cloud-hypervisor */
#include "digest.h"
#include "runner/image.h"
#include "hypervisor/qemu.h"

#define LOAD_MAX (1024 * 1024 + 1)   /* one byte over systemd's limit, so "too large" is ours to say */

struct launch {
	struct qemu_vm vm;
	enum cred_via via;        /* for the credentials that follow on the command line */
	bool via_auto;
	const char *accel;
	const char *image_dir, *flavor;
	bool dry_run;
	char *qmp_dir;
	struct guest_image img;
};

static void usage(FILE *f)
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
	      "Exit status: QEMU's, 128+N if it died of signal N, 2 on usage or environment errors.\n", f);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("credscope-launch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static enum cred_via effective_via(const struct launch *l)
{
	if (!l->via_auto)
		return l->via;
	return l->vm.machine && strcmp(l->vm.machine, "microvm") == 0 ? VIA_FW_CFG : VIA_SMBIOS_BINARY;
}

/* NAME:REST split; the name is checked against what the delivery path can carry. */
static int split_cred(const char *arg, const char *opt, char **name, const char **rest)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg)
		return fail("%s=%s: expected NAME:%s", opt, opt[2] == 's' ? "<value>" : "PATH",
			    opt[2] == 's' ? "VALUE" : "PATH");
	*name = strndup(arg, (size_t)(colon - arg));
	*rest = colon + 1;
	if (!*name)
		return -ENOMEM;
	if (strchr(*name, '/') || strchr(*name, '='))
		return fail("credential name \"%s\": contains '/' or '=', which systemd rejects", *name);
	return 0;
}

static int add_cred(struct launch *l, const char *name, const uint8_t *v, size_t len)
{
	enum cred_via via = effective_via(l);
	int r;
	if (via == VIA_FW_CFG) {
		r = qemu_add_fw_cfg_credential(&l->vm, name, v, len);
		if (r == -ENAMETOOLONG)
			return fail("credential %s: \"%s%s\" is longer than the %u characters QEMU allows for a fw_cfg name; "
				    "use a shorter name or --via smbios", name, FW_CFG_CRED_PREFIX, name, FW_CFG_NAME_MAX);
	} else
		r = qemu_add_smbios_credential(&l->vm, name, v, len, true);
	if (r < 0)
		return fail("credential %s: cannot pass it to QEMU: %s", name, strerror(-r));
	return 0;
}

static int set_credential(struct launch *l, const char *arg)
{
	char *name;
	const char *value;
	int r = split_cred(arg, "--set-credential", &name, &value);
	if (r < 0)
		return r;
	if (effective_via(l) == VIA_CMDLINE) {
		r = qemu_add_cmdline_credential(&l->vm, name, value);
		if (r < 0)
			r = fail("credential %s: the kernel command line cannot carry blanks, '\"' or control characters; "
				 "use --via smbios", name);
		else
			fprintf(stderr, "credscope-launch: warning: credential %s goes on the kernel command line: it is "
				"visible in QEMU's argv on the host and to every process in the guest\n", name);
	} else
		r = add_cred(l, name, (const uint8_t *)value, strlen(value));
	free(name);
	return r;
}

/* Reads a secret into a buffer the caller clears. Errors name the file, never content. */
static int read_secret(const char *name, const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("credential %s: cannot open %s: %s", name, path, strerror(errno));
	uint8_t *buf = malloc(LOAD_MAX);
	size_t n = 0;
	ssize_t k = 0;
	while (buf && n < LOAD_MAX && ((k = read(fd, buf + n, LOAD_MAX - n)) > 0 || (k < 0 && errno == EINTR)))
		n += k > 0 ? (size_t)k : 0;
	int e = errno;
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (k < 0 || n >= LOAD_MAX) {
		secret_clear(buf, n);
		free(buf);
		return k < 0 ? fail("credential %s: cannot read %s: %s", name, path, strerror(e))
			     : fail("credential %s: %s is larger than systemd's 1 MiB credential limit", name, path);
	}
	*out = buf;
	*len = n;
	return 0;
}

static int load_credential(struct launch *l, const char *arg)
{
	char *name;
	const char *path;
	uint8_t *v = NULL;
	size_t len = 0;
	int r = split_cred(arg, "--load-credential", &name, &path);
	if (r < 0)
		return r;
	if (effective_via(l) == VIA_CMDLINE)
		r = fail("credential %s: refusing to put a secret from a file on the kernel command line (it is readable "
			 "in QEMU's argv and by every guest process); use --via smbios or --via fw_cfg", name);
	else if ((r = read_secret(name, path, &v, &len)) == 0) {
		r = add_cred(l, name, v, len);
		secret_clear(v, len);
		free(v);
	}
	free(name);
	return r;
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
		return fail("--via %s: expected smbios, fw_cfg, cmdline or auto", s);
	return 0;
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_IMAGE, OPT_FLAVOR, OPT_IMAGE_DIR, OPT_APPEND, OPT_MACHINE, OPT_MEMORY, OPT_CPUS, OPT_ACCEL,
       OPT_CONSOLE, OPT_QEMU, OPT_VIA, OPT_SET, OPT_LOAD, OPT_DRY, OPT_SNAPSHOT,
       OPT_HYPERVISOR /* issue 6 */ };

static const struct option opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL }, { "initrd", required_argument, NULL, OPT_INITRD },
	{ "image", required_argument, NULL, OPT_IMAGE },   { "flavor", required_argument, NULL, OPT_FLAVOR },
	{ "image-dir", required_argument, NULL, OPT_IMAGE_DIR }, { "append", required_argument, NULL, OPT_APPEND },
	{ "machine", required_argument, NULL, OPT_MACHINE }, { "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },     { "accel", required_argument, NULL, OPT_ACCEL },
	{ "console-log", required_argument, NULL, OPT_CONSOLE }, { "qemu", required_argument, NULL, OPT_QEMU },
	{ "via", required_argument, NULL, OPT_VIA },       { "set-credential", required_argument, NULL, OPT_SET },
	{ "load-credential", required_argument, NULL, OPT_LOAD }, { "dry-run", no_argument, NULL, OPT_DRY },
	{ "hypervisor", required_argument, NULL, OPT_HYPERVISOR },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "help", no_argument, NULL, 'h' },              { "version", no_argument, NULL, 'V' }, { 0 } };

static int parse_number(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi)
		return fail("%s %s: expected a number from %u to %u", opt, s, lo, hi);
	*out = (unsigned)v;
	return 0;
}

/* Pass 1: everything but credentials (so --machine may come after them). */
static int parse_pass1(struct launch *l, int c)
{
	struct qemu_vm *vm = &l->vm;
	switch (c) {
	case OPT_KERNEL: vm->kernel = optarg; return 0;
	case OPT_INITRD: vm->initrd = optarg; return 0;
	case OPT_IMAGE: vm->rootfs = optarg; return 0;
	case OPT_FLAVOR: l->flavor = optarg; return 0;
	case OPT_IMAGE_DIR: l->image_dir = optarg; return 0;
	case OPT_APPEND: return qemu_cmdline_append(vm, optarg);
	case OPT_MACHINE:
		if (strcmp(optarg, "q35") && strcmp(optarg, "pc") && strcmp(optarg, "microvm"))
			return fail("--machine %s: expected q35, pc or microvm", optarg);
		vm->machine = optarg;
		return 0;
	case OPT_MEMORY: return parse_number("--memory", optarg, 64, 1 << 20, &vm->memory_mb);
	case OPT_CPUS: return parse_number("--cpus", optarg, 1, 256, &vm->cpus);
	case OPT_ACCEL:
		if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
			return fail("--accel %s: expected auto, kvm or tcg", optarg);
		l->accel = optarg;
		return 0;
	case OPT_CONSOLE: vm->console_log = optarg; return 0;
	case OPT_QEMU: vm->qemu_binary = optarg; return 0;
	case OPT_DRY: l->dry_run = true; return 0;
	case OPT_HYPERVISOR:   /* issue 6: cloud-hypervisor went to ch_launch_main() before parsing */
		return strcmp(optarg, "qemu") ? fail("--hypervisor %s: expected qemu or cloud-hypervisor", optarg) : 0;
	case OPT_SNAPSHOT: vm->snapshot = true; return 0;
	case OPT_VIA: case OPT_SET: case OPT_LOAD: return 0;
	case 'h': usage(stdout); exit(0);
	case 'V': puts("credscope-launch " CREDSCOPE_VERSION); exit(0);
	default: usage(stderr); return -EINVAL;
	}
}

static int parse_pass2(struct launch *l, int c)
{
	switch (c) {
	case OPT_VIA: return parse_via(l, optarg);
	case OPT_SET: return set_credential(l, optarg);
	case OPT_LOAD: return load_credential(l, optarg);
	default: return 0;
	}
}

static int parse_args(struct launch *l, int argc, char **argv)
{
	int c, r;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = parse_pass1(l, c)) < 0)
			return r;
	if (optind < argc)
		return fail("unexpected argument \"%s\"", argv[optind]);
	if (l->flavor) {
		char *why = NULL;
		if (image_load(l->image_dir ? l->image_dir : "vm-images/out", l->flavor, &l->img, &why) < 0) {
			fail("%s", why ? why : "cannot load the image");
			free(why);
			return -ENOENT;
		}
		l->vm.kernel = l->vm.kernel ? l->vm.kernel : l->img.kernel;
		l->vm.initrd = l->vm.initrd ? l->vm.initrd : l->img.initrd;
		l->vm.rootfs = l->vm.rootfs ? l->vm.rootfs : l->img.rootfs;
		l->vm.rootfs_format = l->img.rootfs_format;
		char *extra = l->vm.cmdline;   /* the image's words first, then --append */
		l->vm.cmdline = NULL;
		if (qemu_cmdline_append(&l->vm, l->img.cmdline) < 0 || qemu_cmdline_append(&l->vm, extra) < 0)
			return -ENOMEM;
		free(extra);
	}
	if (!l->vm.kernel)
		return fail("no kernel: give --kernel FILE or --flavor NAME (see --help)");
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = parse_pass2(l, c)) < 0)
			return r;
	return 0;
}

static void print_argv(const struct qemu_vm *vm)
{
	char **argv;
	if (qemu_build_argv(vm, &argv) < 0)
		return;
	for (char **p = argv; *p; p++) {
		bool plain = strspn(*p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=,./:@+") == strlen(*p);
		printf("%s%s%s%s", p == argv ? "" : " ", plain ? "" : "'", *p, plain ? "" : "'");
	}
	putchar('\n');
	strv_free(argv);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Waits for QEMU, passing SIGINT/SIGTERM/SIGHUP on. Returns our exit status. */
static int supervise(struct qemu_vm *vm, const sigset_t *sigs)
{
	int status;
	for (;;) {
		int sig = sigwaitinfo(sigs, NULL);
		if (sig == SIGCHLD || sig < 0) {
			if (qemu_poll_exit(vm, &status) == 1)
				break;
			continue;
		}
		kill(vm->pid, sig);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int launch(struct launch *l)
{
	char *why = NULL, *qmp = NULL;
	sigset_t sigs;
	l->vm.accel = accel_probe(l->vm.qemu_binary, l->accel, 3000, &why);
	fprintf(stderr, "credscope-launch: acceleration %s%s%s%s\n", l->vm.accel, why ? " (" : "", why ? why : "",
		why ? ")" : "");
	free(why);
	if (qemu_cmdline_machine_quirks(&l->vm) < 0)
		return 2;
	char tmpl[] = "/tmp/credscope-launch-XXXXXX";
	if (!(l->qmp_dir = strdup(mkdtemp(tmpl) ? tmpl : "")) || !*l->qmp_dir || asprintf(&qmp, "%s/qmp.sock", tmpl) < 0)
		return fail("cannot create a private directory in /tmp: %s", strerror(errno)), 2;
	l->vm.qmp_socket = qmp;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT), sigaddset(&sigs, SIGTERM), sigaddset(&sigs, SIGHUP), sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int r = qemu_spawn(&l->vm), rc = 2;
	if (r < 0)
		fail("cannot start QEMU: %s", strerror(-r));
	else if ((r = qemu_qmp_ready(&l->vm, 30000)) < 0 && r != -ECHILD)
		fail("QEMU's monitor did not answer: %s", strerror(-r));
	if (l->vm.pid > 0 || r == -ECHILD) {
		/* the memfds are closed here once QEMU has read them (qemu_qmp_ready) */
		rc = l->vm.pid > 0 ? supervise(&l->vm, &sigs) : (WIFEXITED(l->vm.exit_status) ? WEXITSTATUS(l->vm.exit_status) : 2);
	}
	nftw(l->qmp_dir, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	free(qmp);
	return rc;
}

int main(int argc, char **argv)
{
	if (ch_launch_wanted(argc, argv))   /* issue 6: ch_launch_cli.c */
		return ch_launch_main(argc, argv);
	struct launch l = { .via_auto = true, .accel = "auto" };
	qemu_vm_init(&l.vm);
	l.vm.machine = "q35";
	int r = parse_args(&l, argc, argv), rc;
	if (r < 0)
		rc = 2;
	else if (l.dry_run) {
		print_argv(&l.vm);
		rc = 0;
	} else
		rc = launch(&l);
	qemu_vm_done(&l.vm);
	image_free(&l.img);
	free(l.qmp_dir);
	return rc;
}
