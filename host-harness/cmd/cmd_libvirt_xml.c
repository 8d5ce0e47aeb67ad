/* cmd_libvirt_xml: `credscope-harness libvirt-xml [OPTIONS] CASE` prints a libvirt domain
 * (test only) that boots CASE with its credentials, and prepares what the domain needs
 * in a private directory: one file per SMBIOS string, fw_cfg credential and fw_cfg_raw file
 * (0600, no trailing newline), the expectations disk (manifest with digests only), the paths for
 * the console log and the report socket. The XML carries only paths, unless
 * --oem-strings asks for libvirt's <oemStrings>, which leaks (a warning says where). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/case.h"
#include "runner/case_manifest.h"
#include "digest.h"
#include "fileio.h"
#include "runner/expect_disk.h"
#include "runner/image.h"
#include "cmd/cmd_libvirt_xml.h"
#include "hypervisor/libvirt_xml.h"
#include "manifest.h"
#include <openssl/evp.h>


struct lvx_opts {
	bool oem_inline;
	const char *image, *image_dir, *dir, *report, *emulator;
};

struct lvx {
	struct lvx_opts o;
	char *dir;
	struct test_case tc;
	struct case_view view;
	struct guest_image img;
	char **strings;            /* SMBIOS: file paths, or the strings with --oem-strings */
	size_t n_strings;
	struct lv_fwcfg *fwcfg;
	size_t n_fwcfg;
	char *cmdline_creds;       /* "systemd.set_credential=..." words (not secret) */
	struct sent_cred *sent;    /* digests (SHA-256) of what was sent, one per name */
	size_t n_sent;
};

static void usage(FILE *f)
{
	fputs("usage: credscope-harness libvirt-xml [--oem-strings] [--image FLAVOR] [--image-dir DIR]\n"
	      "         [--dir DIR] [--report auto|vsock|vhost-user|serial] [--emulator PATH] CASE\n"
	      "Prints a libvirt domain (test only) for CASE; credentials go by file paths\n"
	      "(<qemu:commandline> -smbios type=11,path=, <sysinfo type='fwcfg'> file=).\n"
	      "--oem-strings uses <oemStrings> instead: values on QEMU's argv, in the domain log and dumpxml.\n", f);
}

static int write_file(struct lvx *x, const char *base, size_t k, const void *data, size_t len, char **path)
{
	if (asprintf(path, "%s/%s-%zu", x->dir, base, k) < 0)
		return -ENOMEM;
	unlink(*path);
	int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -errno : fd_write_full(fd, data, len);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* One SMBIOS type 11 string: a file (default) or kept for <oemStrings>. Takes s. */
static int add_string(struct lvx *x, char *s)
{
	char **grown = realloc(x->strings, (x->n_strings + 1) * sizeof *grown);
	char *path = NULL;
	int r = 0;

	if (!grown)
		r = -ENOMEM;
	else {
		x->strings = grown;
		if (!x->o.oem_inline)
			r = write_file(x, "smbios", x->n_strings, s, strlen(s), &path);
		if (r == 0)
			x->strings[x->n_strings++] = x->o.oem_inline ? s : path;
	}
	if (r < 0 || !x->o.oem_inline) {
		secret_clear(s, strlen(s));
		free(s);
	}
	if (r < 0)
		free(path);
	return r;
}

/* A credential's fw_cfg file (NAME under opt/io.systemd.credentials/), or with WHOLE a
 * case's fw_cfg_raw file by its whole name. */
static int add_fwcfg(struct lvx *x, const char *name, bool whole, const uint8_t *v, size_t len)
{
	struct lv_fwcfg *grown = realloc(x->fwcfg, (x->n_fwcfg + 1) * sizeof *grown);
	char *path;
	int r;

	if (!grown)
		return -ENOMEM;
	x->fwcfg = grown;
	if ((whole ? 0 : strlen(FW_CFG_CRED_PREFIX)) + strlen(name) > FW_CFG_NAME_MAX)
		return -ENAMETOOLONG;
	r = write_file(x, "fwcfg", x->n_fwcfg, v, len, &path);
	if (r < 0)
		return r;
	x->fwcfg[x->n_fwcfg++] = (struct lv_fwcfg){ name, path, whole };
	return 0;
}

static int add_cmdline_cred(struct lvx *x, const struct case_cred *c, const uint8_t *v, size_t len)
{
	char *words;

	for (size_t i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] == '"' || v[i] == 0x7f)
			return -EINVAL;
	if (asprintf(&words, "%s%ssystemd.set_credential=%s:%.*s", x->cmdline_creds ? x->cmdline_creds : "",
		     x->cmdline_creds ? " " : "", c->name, (int)len, (const char *)v) < 0)
		return -ENOMEM;
	free(x->cmdline_creds);
	x->cmdline_creds = words;
	return 0;
}

static char *smbios_string(const struct case_cred *c, const uint8_t *v, size_t len)
{
	bool binary = c->via == VIA_SMBIOS_BINARY;
	size_t prefix = strlen("io.systemd.credential.binary:") + strlen(c->name) + 1;
	size_t body = binary ? 4 * ((len + 2) / 3) : len;
	char *s = malloc(prefix + body + 1);

	if (!s || (!binary && memchr(v, 0, len))) {
		free(s);
		return NULL;
	}
	snprintf(s, prefix + 1, "%s%s=", binary ? "io.systemd.credential.binary:" : "io.systemd.credential:", c->name);
	prefix = strlen(s);
	if (binary)
		EVP_EncodeBlock((unsigned char *)s + prefix, v, (int)len);
	else
		memcpy(s + prefix, v, len);
	s[prefix + body] = '\0';
	return s;
}

static int hand_over(struct lvx *x, const struct case_cred *c, const uint8_t *v, size_t len)
{
	char *s;

	switch (c->via) {
	case VIA_SMBIOS:
	case VIA_SMBIOS_BINARY:
		s = smbios_string(c, v, len);
		return s ? add_string(x, s) : -EINVAL;
	case VIA_FW_CFG:
		return add_fwcfg(x, c->name, false, v, len);
	case VIA_CMDLINE:
		return add_cmdline_cred(x, c, v, len);
	}
	return -EINVAL;
}

static int load_credentials(struct lvx *x)
{
	for (size_t i = 0; i < x->tc.n_creds; i++) {
		const struct case_cred *c = &x->tc.creds[i];
		char *err = NULL;
		uint8_t *v;
		size_t len;
		int r = case_cred_load(c, &v, &len, &err);

		if (r < 0) {
			fprintf(stderr, "credscope-harness libvirt-xml: %s\n", err ? err : "cannot load a credential");
			free(err);
			return r;
		}
		r = case_manifest_record(&x->sent, &x->n_sent, NULL, 0, c, v, len);
		if (r == 0)
			r = hand_over(x, c, v, len);
		secret_clear(v, len);
		free(v);
		if (r < 0) {
			fprintf(stderr, "credscope-harness libvirt-xml: credential %s cannot go by %s: %s\n",
				c->name, cred_via_name(c->via), strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < x->tc.n_oem_strings; i++) {
		char *s = strdup(x->tc.oem_strings[i]);
		int r = s ? add_string(x, s) : -ENOMEM;
		if (r < 0) {
			fprintf(stderr, "credscope-harness libvirt-xml: oem_strings[%zu]: cannot write it to %s: %s\n", i,
				x->dir, strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < x->tc.n_fw_cfg_raw; i++) {
		const struct case_fw_cfg_raw *e = &x->tc.fw_cfg_raw[i];
		int r = add_fwcfg(x, e->name, true, (const uint8_t *)e->value, e->value_len);
		if (r < 0) {
			fprintf(stderr, "credscope-harness libvirt-xml: fw_cfg_raw[%zu]: cannot write it to %s: %s\n", i,
				x->dir, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The manifest (digests only) on the expectations disk the agent finds by label. */
static int write_manifest(struct lvx *x, char **image)
{
	char *err;
	int r = case_manifest_write(&x->view, x->tc.strict, x->sent, x->n_sent, NULL, 0, x->dir, image, NULL, &err);

	if (err)
		fprintf(stderr, "credscope-harness libvirt-xml: %s\n", err);
	free(err);
	return r;
}

static enum lv_report choose_report(const char *mode)
{
	if (!mode || strcmp(mode, "auto") == 0)
		return lv_vhost_vsock_usable() ? LV_REPORT_VSOCK : LV_REPORT_SERIAL;
	if (strcmp(mode, "vsock") == 0)
		return LV_REPORT_VSOCK;
	return strcmp(mode, "vhost-user") == 0 ? LV_REPORT_VHOST_USER : LV_REPORT_SERIAL;
}

static char *in_dir(const struct lvx *x, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", x->dir, name) < 0 ? NULL : p;
}

static char *kernel_cmdline(const struct lvx *x, enum lv_report report)
{
	char *s;

	if (asprintf(&s, "%s credscope.report=%s panic=-1%s%s%s%s",
		     x->img.cmdline ? x->img.cmdline : "root=/dev/vda rw console=ttyS0",
		     report == LV_REPORT_SERIAL ? "serial:" LV_SERIAL_PORT_NAME : "vsock:2:5123",
		     x->cmdline_creds ? " " : "", x->cmdline_creds ? x->cmdline_creds : "",
		     x->tc.cmdline_extra ? " " : "", x->tc.cmdline_extra ? x->tc.cmdline_extra : "") < 0)
		return NULL;
	return s;
}

/* DIR made absolute (libvirt wants absolute paths), whether it exists or not. */
static char *absolute(const char *dir)
{
	char *abs = realpath(dir, NULL), cwd[4096];

	if (abs || dir[0] == '/')
		return abs ? abs : strdup(dir);
	if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, dir) < 0)
		return NULL;
	return abs;
}

/* The built image, or (for schema checks on hosts without images) its expected paths. */
static int locate_image(struct lvx *x, const char *flavor)
{
	char *why = NULL, *abs_dir = absolute(x->o.image_dir), *dir = NULL;
	int r = image_load(abs_dir ? abs_dir : x->o.image_dir, flavor, &x->img, &why);

	if (r == 0 || r != -ENOENT) {
		if (r < 0)
			fprintf(stderr, "credscope-harness libvirt-xml: image %s: %s\n", flavor, why ? why : strerror(-r));
		free(abs_dir);
		free(why);
		return r;
	}
	fprintf(stderr, "credscope-harness libvirt-xml: warning: %s; the domain names its expected paths\n",
		why ? why : "image not built");
	free(why);
	if (asprintf(&dir, "%s/%s", abs_dir ? abs_dir : x->o.image_dir, flavor) < 0 ||
	    asprintf(&x->img.kernel, "%s/vmlinuz", dir) < 0 || asprintf(&x->img.initrd, "%s/initrd.img", dir) < 0 ||
	    asprintf(&x->img.rootfs, "%s/rootfs.img", dir) < 0)
		r = -ENOMEM;
	else
		r = 0;
	free(dir);
	free(abs_dir);
	return r;
}

static int print_domain(struct lvx *x, const char *expect_img)
{
	enum lv_report report = choose_report(x->o.report);
	char *name = lv_domain_name(x->tc.name), *console = in_dir(x, "console.log");
	char *sock = in_dir(x, report == LV_REPORT_SERIAL ? "report.sock" : "vsock.sock");
	char *cmdline = kernel_cmdline(x, report), *xml = NULL, *err = NULL;
	struct lv_domain d = {
		.name = name, .emulator = x->o.emulator, .machine = x->tc.machine,
		.memory_mb = x->tc.memory_mb, .kernel = x->img.kernel, .initrd = x->img.initrd,
		.cmdline = cmdline, .rootfs = x->img.rootfs, .rootfs_format = x->img.rootfs_format,
		.expect_disk = expect_img, .console_log = console, .fwcfg = x->fwcfg, .n_fwcfg = x->n_fwcfg,
		.report = report, .report_socket = sock,
	};
	int r;

	if (x->o.oem_inline) {
		d.oem_inline = (const char *const *)x->strings;
		d.n_oem_inline = x->n_strings;
	} else {
		d.smbios_files = (const char *const *)x->strings;
		d.n_smbios_files = x->n_strings;
	}
	r = name && console && sock && cmdline ? lv_domain_xml(&d, &xml, &err) : -ENOMEM;
	if (r == 0)
		fputs(xml, stdout);
	else
		fprintf(stderr, "credscope-harness libvirt-xml: %s: %s\n", x->tc.name, err ? err : strerror(-r));
	if (xml)
		secret_clear(xml, strlen(xml));
	free(xml), free(err), free(name), free(console), free(sock), free(cmdline);
	return r;
}

static int make_dir(struct lvx *x)
{
	char tmpl[] = "/tmp/credscope-libvirt-XXXXXX";
	const char *want = x->o.dir ? x->o.dir : tmpl;

	if (!x->o.dir)
		x->dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
	else if (mkdir(x->o.dir, 0700) == 0 || errno == EEXIST)
		x->dir = realpath(x->o.dir, NULL);
	if (x->dir)
		return 0;
	int r = -errno;
	fprintf(stderr, "credscope-harness libvirt-xml: cannot create the directory %s: %s\n", want, strerror(-r));
	return r;
}

static void lvx_free(struct lvx *x)
{
	for (size_t i = 0; i < x->n_strings; i++) {
		secret_clear(x->strings[i], strlen(x->strings[i]));
		free(x->strings[i]);
	}
	for (size_t i = 0; i < x->n_fwcfg; i++)
		free((char *)x->fwcfg[i].file);
	free(x->strings), free(x->fwcfg), free(x->cmdline_creds), free(x->sent);
	case_view_free(&x->view);
	image_free(&x->img);
	case_free(&x->tc);
	free(x->dir);
}

static int parse_options(int argc, char **argv, struct lvx_opts *o)
{
	static const struct option longopts[] = {
		{ "oem-strings", no_argument, NULL, 'O' }, { "image", required_argument, NULL, 'i' },
		{ "image-dir", required_argument, NULL, 'I' }, { "dir", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'r' }, { "emulator", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	*o = (struct lvx_opts){ .image_dir = "vm-images/out" };
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1)
		switch (c) {
		case 'O': o->oem_inline = true; break;
		case 'i': o->image = optarg; break;
		case 'I': o->image_dir = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'e': o->emulator = optarg; break;
		case 'r':
			if (strcmp(optarg, "auto") && strcmp(optarg, "vsock") && strcmp(optarg, "vhost-user") &&
			    strcmp(optarg, "serial")) {
				fprintf(stderr, "credscope-harness libvirt-xml: --report %s: expected auto, vsock, "
					"vhost-user or serial\n", optarg);
				return -EINVAL;
			}
			o->report = optarg;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int prepare(struct lvx *x, const char *case_path)
{
	char *err = NULL, *expect_img = NULL;
	const char *flavor;
	int r = case_load(case_path, &x->tc, &err);

	if (r < 0) {
		fprintf(stderr, "credscope-harness libvirt-xml: %s\n", err ? err : case_path);
		free(err);
		return r;
	}
	if (x->tc.guest || x->tc.firmware == FIRMWARE_UEFI) {   /* it writes a flavor's direct boot only */
		fprintf(stderr, "credscope-harness libvirt-xml: %s: %s is not supported here (the domain boots a built "
			"flavor with SeaBIOS; run the case with credscope-harness run)\n", case_path,
			x->tc.guest ? "\"guest\"" : "\"firmware\": \"uefi\"");
		return -EINVAL;
	}
	flavor = x->o.image ? x->o.image : x->tc.n_images ? x->tc.images[0] : "bookworm";
	r = case_view(&x->tc, flavor, &x->view);
	if (r < 0)
		fprintf(stderr, "credscope-harness libvirt-xml: %s: %s\n", case_path, strerror(-r));
	if (r == 0)
		r = locate_image(x, flavor);
	if (r == 0)
		r = make_dir(x);
	if (r == 0)
		r = load_credentials(x);
	if (r == 0)
		r = write_manifest(x, &expect_img);
	if (r == 0)
		r = print_domain(x, expect_img);
	free(expect_img);
	return r;
}

int cmd_libvirt_xml(int argc, char **argv)
{
	struct lvx x = { 0 };
	int r = parse_options(argc, argv, &x.o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	if (x.o.oem_inline)
		fputs("credscope-harness libvirt-xml: WARNING: --oem-strings puts every SMBIOS credential value into "
		      "the XML: libvirt passes it on QEMU's command line (/proc/PID/cmdline), writes it to "
		      "/var/log/libvirt/qemu/DOMAIN.log and shows it in `virsh dumpxml`. Use it only to "
		      "demonstrate that leak.\n", stderr);
	r = prepare(&x, argv[optind]);
	if (r == 0)
		fprintf(stderr, "credscope-harness libvirt-xml: files for domain are in %s (console.log, %s, "
			"smbios-*, fwcfg-*, expect.img); QEMU must be able to read them\n",
			x.dir, choose_report(x.o.report) == LV_REPORT_SERIAL ? "report.sock" : "vsock.sock");
	else if (r != -ENOMEM && x.dir)
		fprintf(stderr, "credscope-harness libvirt-xml: partial files left in %s\n", x.dir);
	lvx_free(&x);
	return r == 0 ? 0 : 2;
}
