/* libvirt_xml: domain XML for a credscope case (test only). */
#include "hypervisor/libvirt_xml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/xml.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

char *lv_domain_name(const char *case_name)
{
	char *name;

	if (asprintf(&name, "credscope-%s", case_name) < 0)
		return NULL;
	for (char *p = name + strlen("credscope-"); *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
	return name;
}

bool lv_vhost_vsock_usable(void)
{
	int fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* XML 1.0 cannot carry control characters other than tab, newline, carriage return. */
static bool xml_representable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* Whitespace as character references: a credential file name or value may hold it. */
static void put_escaped(FILE *f, const char *s)
{
	xml_put_escaped(f, s, true);
}

/* <TAG>escaped text</TAG> on its own line, indented. */
static void put_element(FILE *f, int indent, const char *tag, const char *text)
{
	fprintf(f, "%*s<%s>", indent, "", tag);
	put_escaped(f, text);
	fprintf(f, "</%s>\n", tag);
}

/* A QEMU option value: commas are doubled, as QEMU's option parser wants. */
static void put_qemu_arg(FILE *f, const char *prefix, const char *value)
{
	fprintf(f, "    <qemu:arg value='");
	put_escaped(f, prefix);
	for (const char *p = value; *p; p++) {
		char one[2] = { *p, 0 };
		put_escaped(f, *p == ',' ? ",," : one);
	}
	fprintf(f, "'/>\n");
}

static void put_sysinfo(FILE *f, const struct lv_domain *d)
{
	if (d->n_oem_inline) {
		fprintf(f, "  <sysinfo type='smbios'>\n    <oemStrings>\n");
		for (size_t i = 0; i < d->n_oem_inline; i++)
			put_element(f, 6, "entry", d->oem_inline[i]);
		fprintf(f, "    </oemStrings>\n  </sysinfo>\n");
	}
	if (d->n_fwcfg) {
		fprintf(f, "  <sysinfo type='fwcfg'>\n");
		for (size_t i = 0; i < d->n_fwcfg; i++) {
			fprintf(f, "    <entry name='%s", d->fwcfg[i].whole_name ? "" : "opt/io.systemd.credentials/");
			put_escaped(f, d->fwcfg[i].name);
			fprintf(f, "' file='");
			put_escaped(f, d->fwcfg[i].file);
			fprintf(f, "'/>\n");
		}
		fprintf(f, "  </sysinfo>\n");
	}
}

static void put_os(FILE *f, const struct lv_domain *d)
{
	fprintf(f, "  <os>\n    <type arch='x86_64' machine='");
	put_escaped(f, d->machine ? d->machine : "q35");
	fprintf(f, "'>hvm</type>\n");
	put_element(f, 4, "kernel", d->kernel);
	if (d->initrd)
		put_element(f, 4, "initrd", d->initrd);
	if (d->cmdline)
		put_element(f, 4, "cmdline", d->cmdline);
	if (d->n_oem_inline)
		fprintf(f, "    <smbios mode='sysinfo'/>\n");
	fprintf(f, "  </os>\n");
}

static void put_disk(FILE *f, const char *path, const char *format, const char *dev, bool readonly)
{
	fprintf(f, "    <disk type='file' device='disk'>\n      <driver name='qemu' type='");
	put_escaped(f, format ? format : "raw");
	fprintf(f, "'/>\n      <source file='");
	put_escaped(f, path);
	fprintf(f, "'/>\n      <target dev='%s' bus='virtio'/>\n%s    </disk>\n", dev,
		readonly ? "      <readonly/>\n" : "");
}

static void put_report_device(FILE *f, const struct lv_domain *d)
{
	unsigned cid = d->vsock_cid ? d->vsock_cid : 3;

	if (d->report == LV_REPORT_VSOCK)
		fprintf(f, "    <vsock model='virtio'>\n      <cid auto='no' address='%u'/>\n    </vsock>\n", cid);
	else if (d->report == LV_REPORT_SERIAL && d->report_socket) {
		fprintf(f, "    <channel type='unix'>\n      <source mode='bind' path='");
		put_escaped(f, d->report_socket);
		fprintf(f, "'/>\n      <target type='virtio' name='" LV_SERIAL_PORT_NAME "'/>\n    </channel>\n");
	}
}

static void put_devices(FILE *f, const struct lv_domain *d)
{
	fprintf(f, "  <devices>\n");
	if (d->emulator)
		put_element(f, 4, "emulator", d->emulator);
	/* the images are built read-only and shared by parallel runs: never written */
	if (d->rootfs)
		put_disk(f, d->rootfs, d->rootfs_format, "vda", true);
	if (d->expect_disk)
		put_disk(f, d->expect_disk, "raw", "vdb", true);
	if (d->console_log) {
		fprintf(f, "    <serial type='file'>\n      <source path='");
		put_escaped(f, d->console_log);
		fprintf(f, "'/>\n      <target port='0'/>\n    </serial>\n");
	}
	put_report_device(f, d);
	fprintf(f, "    <memballoon model='none'/>\n  </devices>\n");
}

static void put_qemu_commandline(FILE *f, const struct lv_domain *d)
{
	bool vhost_user = d->report == LV_REPORT_VHOST_USER && d->report_socket;

	if (!d->n_smbios_files && !vhost_user)
		return;
	fprintf(f, "  <qemu:commandline>\n");
	for (size_t i = 0; i < d->n_smbios_files; i++) {
		put_qemu_arg(f, "", "-smbios");
		put_qemu_arg(f, "type=11,path=", d->smbios_files[i]);
	}
	if (vhost_user) {
		/* the CID is the backend's (--guest-cid): the device has no such property. QEMU
		 * creates it before libvirt's own devices, so it takes a slot libvirt leaves free */
		put_qemu_arg(f, "", "-chardev");
		put_qemu_arg(f, "socket,id=credscope-vsock,path=", d->report_socket);
		put_qemu_arg(f, "", "-device");
		fprintf(f, "    <qemu:arg value='vhost-user-vsock-pci,chardev=credscope-vsock,bus=%s,addr=0x10'/>\n",
			d->machine && strcmp(d->machine, "q35") ? "pci.0" : "pcie.0");
	}
	fprintf(f, "  </qemu:commandline>\n");
}

static int check_domain(const struct lv_domain *d, char **error)
{
	const char *what = NULL;

	if (!d->name || !*d->name)
		what = "name: the domain needs a name";
	else if (!d->kernel)
		what = "kernel: a kernel image is required";
	else if (d->report != LV_REPORT_VSOCK && !d->report_socket)
		what = "report socket: the vhost-user and serial transports need a socket path";
	for (size_t i = 0; !what && i < d->n_oem_inline; i++)
		if (!xml_representable(d->oem_inline[i]))
			what = "oemStrings: a string holds control characters XML cannot carry "
			       "(use a binary credential or the default file route)";
	if (!what && d->cmdline && !xml_representable(d->cmdline))
		what = "cmdline: the kernel command line holds control characters";
	if (!what)
		return 0;
	if (error)
		*error = strdup(what);
	return -EINVAL;
}

int lv_domain_xml(const struct lv_domain *d, char **xml, char **error)
{
	size_t size = 0;
	FILE *f;
	int r;

	*xml = NULL;
	if (error)
		*error = NULL;
	r = check_domain(d, error);
	if (r < 0)
		return r;
	f = open_memstream(xml, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "<domain type='qemu' xmlns:qemu='" QEMU_NS "'>\n");
	put_element(f, 2, "name", d->name);
	fprintf(f, "  <memory unit='MiB'>%u</memory>\n  <vcpu>%u</vcpu>\n",
		d->memory_mb ? d->memory_mb : 512, d->cpus ? d->cpus : 1);
	if (d->report == LV_REPORT_VHOST_USER)
		fprintf(f, "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n");
	put_sysinfo(f, d);
	put_os(f, d);
	fprintf(f, "  <features>\n    <acpi/>\n  </features>\n");
	fprintf(f, "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n"
		   "  <on_crash>destroy</on_crash>\n");
	put_devices(f, d);
	put_qemu_commandline(f, d);
	fprintf(f, "</domain>\n");
	if (fclose(f) != 0) {
		free(*xml);
		*xml = NULL;
		return -ENOMEM;
	}
	return 0;
}
