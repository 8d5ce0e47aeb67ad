/* case_guest: a case's own guest, its firmware and architecture, parsed strictly. */
#include "runner/case_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

#define QCOW2_MAGIC "QFI\xfb"

static int say(char **msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(char **msg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(msg, fmt, ap) < 0)
		*msg = NULL;
	va_end(ap);
	return *msg ? -EINVAL : -ENOMEM;
}

const char *case_firmware_name(enum case_firmware fw)
{
	return fw == FIRMWARE_UEFI ? "uefi" : "bios";
}

void case_guest_free(struct case_guest *g)
{
	if (!g)
		return;
	free(g->kernel), free(g->initrd), free(g->disk), free(g->format), free(g->append);
	free(g);
}

static int dup_or_null(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return !s || *out ? 0 : -ENOMEM;
}

int case_guest_copy(const struct case_guest *g, struct case_guest **out)
{
	struct case_guest *c;

	*out = NULL;
	if (!g)
		return 0;
	if (!(c = calloc(1, sizeof *c)))
		return -ENOMEM;
	if (dup_or_null(g->kernel, &c->kernel) < 0 || dup_or_null(g->initrd, &c->initrd) < 0 ||
	    dup_or_null(g->disk, &c->disk) < 0 || dup_or_null(g->format, &c->format) < 0 ||
	    dup_or_null(g->append, &c->append) < 0) {
		case_guest_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

/* PATH must be a regular file we can open (never a FIFO or device: fileio.h); for the disk,
 * its first bytes must agree with FORMAT: a raw image that starts like qcow2 would boot the
 * qcow2 header as data, a qcow2 "format" on a raw file makes QEMU refuse it late. */
static int check_file(const char *field, const char *path, const char *format, char **msg)
{
	unsigned char head[4] = { 0 };
	int fd = file_open_regular(AT_FDCWD, path);

	if (fd < 0)
		return say(msg, "%s: %s: %s", field, path, file_error_text(fd));
	ssize_t n = format ? fd_read_full(fd, head, sizeof head) : 0;
	close(fd);
	if (n < 0)
		return say(msg, "%s: %s: %s", field, path, strerror((int)-n));
	bool qcow2 = n == 4 && memcmp(head, QCOW2_MAGIC, 4) == 0;
	if (format && strcmp(format, "raw") == 0 && qcow2)
		return say(msg, "%s: %s is a qcow2 image; say \"format\": \"qcow2\" (read as raw, the guest would see "
			   "the qcow2 header)", field, path);
	if (format && strcmp(format, "qcow2") == 0 && !qcow2)
		return say(msg, "%s: %s is not a qcow2 image (no QFI\\xfb magic at byte 0); say \"format\": \"raw\"",
			   field, path);
	return 0;
}

int case_guest_check(const struct case_guest *g, const char *pre, char **msg)
{
	char field[64];
	int r;

	*msg = NULL;
	if (!g->kernel && !g->disk)
		return say(msg, "%s: names neither a kernel (direct kernel boot) nor a bootable disk", pre[0] == '-' ?
			   "--guest-kernel or --guest-disk" : "guest");
	if (!g->kernel && (g->initrd || g->append))
		return say(msg, "%s%s: needs %skernel: without a kernel the firmware boots the disk and its boot loader "
			   "chooses the initrd and command line", pre, g->initrd ? "initrd" : "append", pre);
	if (g->format && strcmp(g->format, "raw") && strcmp(g->format, "qcow2"))
		return say(msg, "%sformat: unknown value \"%s\" (known: raw, qcow2)", pre, g->format);
	if (g->format && !g->disk)
		return say(msg, "%sformat: there is no %sdisk it could describe", pre, pre);
	const char *const paths[] = { g->kernel, g->initrd, g->disk };
	const char *const names[] = { "kernel", "initrd", "disk" };
	for (size_t i = 0; i < 3; i++) {
		if (!paths[i])
			continue;
		snprintf(field, sizeof field, "%s%s", pre, names[i]);
		if ((r = check_file(field, paths[i], i == 2 ? (g->format ? g->format : "raw") : NULL, msg)) < 0)
			return r;
	}
	return 0;
}

static int get_path(json_t *obj, const char *key, const char *dir, char **out, char **msg)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
		return say(msg, "guest.%s: expected a path", key);
	const char *s = json_string_value(v);
	int n = s[0] == '/' ? asprintf(out, "%s", s) : asprintf(out, "%s/%s", dir, s);
	return n < 0 ? (*out = NULL, -ENOMEM) : 0;
}

static int get_text(json_t *obj, const char *key, char **out, char **msg)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return say(msg, "guest.%s: expected a string", key);
	/* the kernel command line is one line of printable text; QEMU passes it as one argument */
	for (const unsigned char *c = (const unsigned char *)json_string_value(v); *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return say(msg, "guest.%s: control byte 0x%02x; a kernel command line is one line of text", key, *c);
	return (*out = strdup(json_string_value(v))) ? 0 : -ENOMEM;
}

static int parse_guest_object(json_t *v, const char *dir, struct case_guest *g, char **msg)
{
	static const char *const known[] = { "kernel", "initrd", "disk", "format", "append", NULL };
	const char *key;
	json_t *m;
	int r;

	if (!json_is_object(v))
		return say(msg, "guest: expected an object: {\"kernel\", \"initrd\", \"disk\", \"append\"} or "
			   "{\"disk\", \"format\"}");
	json_object_foreach(v, key, m) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok = ok || strcmp(key, *k) == 0;
		if (!ok)
			return say(msg, "guest.%s: unknown field (known: kernel, initrd, disk, format, append)", key);
	}
	if ((r = get_path(v, "kernel", dir, &g->kernel, msg)) < 0 || (r = get_path(v, "initrd", dir, &g->initrd, msg)) < 0 ||
	    (r = get_path(v, "disk", dir, &g->disk, msg)) < 0 || (r = get_text(v, "format", &g->format, msg)) < 0 ||
	    (r = get_text(v, "append", &g->append, msg)) < 0)
		return r;
	return case_guest_check(g, "guest.", msg);
}

static int parse_firmware(json_t *root, enum case_firmware *fw, bool *given, char **msg)
{
	json_t *v = json_object_get(root, "firmware");
	const char *s = json_string_value(v);

	*fw = FIRMWARE_BIOS;
	*given = v != NULL;
	if (!v || (s && strcmp(s, "bios") == 0))
		return 0;
	if (s && strcmp(s, "uefi") == 0)
		return *fw = FIRMWARE_UEFI, 0;
	return say(msg, "firmware: expected \"bios\" (SeaBIOS, the default) or \"uefi\" (OVMF)");
}

/* "arch": x86_64 (the default) or aarch64 (qemu-system-aarch64 -M virt under TCG, AAVMF). */
static int parse_arch(json_t *root, enum guest_arch *arch, bool *given, char **msg)
{
	json_t *v = json_object_get(root, "arch");
	const char *s = json_string_value(v);

	*arch = GUEST_ARCH_X86_64;
	*given = v != NULL;
	if (!v || (s && strcmp(s, "x86_64") == 0))
		return 0;
	if (s && strcmp(s, "aarch64") == 0)
		return *arch = GUEST_ARCH_AARCH64, 0;
	return say(msg, "arch: expected \"x86_64\" or \"aarch64\"");
}

int case_guest_parse(json_t *root, const char *dir, struct case_guest **guest, enum case_firmware *firmware,
		     bool *firmware_given, enum guest_arch *arch, bool *arch_given, char **msg)
{
	json_t *v = json_object_get(root, "guest");
	int r;

	*guest = NULL;
	*msg = NULL;
	if ((r = parse_firmware(root, firmware, firmware_given, msg)) < 0 || (r = parse_arch(root, arch, arch_given, msg)) < 0)
		return r;
	if (!v)
		return 0;
	if (json_object_get(root, "image") || json_object_size(json_object_get(root, "by_image")) > 0)
		return say(msg, "guest: a case boots either its own guest or flavors (\"image\", \"by_image\"), not both");
	if (!(*guest = calloc(1, sizeof **guest)))
		return -ENOMEM;
	if ((r = parse_guest_object(v, dir, *guest, msg)) < 0) {
		case_guest_free(*guest);
		*guest = NULL;
	}
	return r;
}

int case_guest_fit(const struct case_guest *g, enum case_firmware fw, const char *machine, const char *cmdline_cred,
		   bool cmdline_extra, char **msg)
{
	bool microvm = machine && strcmp(machine, "microvm") == 0;

	*msg = NULL;
	if (fw == FIRMWARE_UEFI && microvm)
		return say(msg, "firmware: the microvm machine has no UEFI firmware (use q35 or pc)");
	if (!g || g->kernel)
		return 0;
	if (microvm)
		return say(msg, "guest: the microvm machine boots a kernel directly, not a disk (name the guest's kernel, "
			   "or use q35 or pc)");
	if (cmdline_cred)
		return say(msg, "credential %s: \"via\": \"cmdline\" needs direct kernel boot; this guest boots from its "
			   "disk, whose boot loader sets the kernel command line (use smbios or fw_cfg, or name the "
			   "guest's kernel and initrd)", cmdline_cred);
	if (cmdline_extra)
		return say(msg, "kernel_cmdline_extra: needs direct kernel boot; this guest boots from its disk, whose "
			   "boot loader sets the kernel command line");
	return 0;
}

/* The one sentence both the parser (an error) and the runner (a skip) give. */
static char *arch_problem(enum guest_arch arch, enum case_firmware fw, bool firmware_given, const char *machine,
			  bool machine_given, bool *oom)
{
	bool virt = machine && strcmp(machine, "virt") == 0;
	char *why = NULL;
	int r = 0;

	*oom = false;
	if (arch == GUEST_ARCH_AARCH64 && machine_given && !virt)
		r = asprintf(&why, "machine: \"%s\" is an x86 machine; an aarch64 guest boots on \"virt\"", machine);
	else if (arch == GUEST_ARCH_AARCH64 && firmware_given && fw == FIRMWARE_BIOS)
		r = asprintf(&why, "firmware: an aarch64 guest boots UEFI (AAVMF) only: virt has no SeaBIOS, and its "
			     "SMBIOS tables reach the guest only through the UEFI firmware");
	else if (arch == GUEST_ARCH_X86_64 && virt)
		r = asprintf(&why, "machine: \"virt\" is the aarch64 machine; an x86_64 guest boots on q35, pc or microvm");
	if (r < 0)
		*oom = true, why = NULL;
	return why;
}

int case_arch_fit(enum guest_arch arch, bool arch_given, enum case_firmware fw, bool firmware_given,
		  const char *machine, bool machine_given, char **msg)
{
	bool oom;

	*msg = NULL;
	if (!arch_given && !(machine && strcmp(machine, "virt") == 0))
		return 0;   /* the flavor's image.json decides; the runner says what does not fit */
	if (!arch_given)   /* "machine": "virt" alone: an aarch64 case */
		arch = GUEST_ARCH_AARCH64;
	*msg = arch_problem(arch, fw, firmware_given, machine, machine_given, &oom);
	return oom ? -ENOMEM : *msg ? -EINVAL : 0;
}

char *case_arch_misfit(enum guest_arch arch, bool arch_given, enum guest_arch case_arch, enum case_firmware fw,
		       bool firmware_given, const char *machine, bool machine_given, bool *oom)
{
	char *why = NULL;

	*oom = false;
	if (arch == GUEST_ARCH_OTHER) {
		if (asprintf(&why, "the image is for an architecture this harness does not boot (x86_64 and aarch64 only)") < 0)
			*oom = true, why = NULL;
		return why;
	}
	if (arch_given && arch != case_arch) {
		if (asprintf(&why, "arch: the case is for %s, the image for %s", guest_arch_name(case_arch),
			     guest_arch_name(arch)) < 0)
			*oom = true, why = NULL;
		return why;
	}
	return arch_problem(arch, fw, firmware_given, machine, machine_given, oom);
}
