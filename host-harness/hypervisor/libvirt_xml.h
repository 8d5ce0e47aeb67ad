/* libvirt_xml: a libvirt domain (test only) that boots a credscope case.
 *
 * Promises: by default no credential value appears in the XML. SMBIOS strings are files
 * QEMU reads through `<qemu:commandline>` `-smbios type=11,path=FILE`; fw_cfg credentials
 * are `<sysinfo type='fwcfg'><entry name=... file=FILE/>`; only paths are in the XML and
 * so on QEMU's command line. LV_OEM_INLINE puts the SMBIOS strings into
 * `<sysinfo type='smbios'><oemStrings>` instead: libvirt then passes the values on
 * QEMU's argv, writes them to the domain log and shows them in `virsh dumpxml`; the
 * caller must warn. Every text that goes into the XML is escaped; a value that XML 1.0
 * cannot carry (control characters) is refused, never altered.
 * lv_domain_xml() is pure: the exact output is unit-tested and schema-validated. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum lv_report {
	LV_REPORT_VSOCK,       /* <vsock>: kernel vhost-vsock, only where /dev/vhost-vsock works */
	LV_REPORT_VHOST_USER,  /* our vhost-user-vsock backend through <qemu:commandline> */
	LV_REPORT_SERIAL,      /* a virtio-serial <channel> bound to a Unix socket */
};

struct lv_fwcfg {
	const char *name;      /* credential name: opt/io.systemd.credentials/NAME */
	const char *file;
	bool whole_name;       /* name is the whole fw_cfg name (a case's fw_cfg_raw) */
};

struct lv_domain {
	const char *name;              /* domain name: already sanitized (lv_domain_name()) */
	const char *emulator;          /* NULL: libvirt's default */
	const char *machine;           /* q35 (default), pc, microvm */
	unsigned memory_mb, cpus;      /* 0: 512, 1 */
	const char *kernel, *initrd, *cmdline;  /* cmdline never holds a secret */
	const char *rootfs, *rootfs_format;     /* read-only; format NULL: raw */
	const char *expect_disk;       /* read-only manifest disk, or NULL */
	const char *console_log;       /* serial console to this file */
	const char *const *smbios_files;  /* LV_OEM_FILES: one file per type 11 string */
	size_t n_smbios_files;
	const char *const *oem_inline;    /* LV_OEM_INLINE: the strings themselves */
	size_t n_oem_inline;
	const struct lv_fwcfg *fwcfg;
	size_t n_fwcfg;
	enum lv_report report;
	unsigned vsock_cid;            /* LV_REPORT_VSOCK; 0: 3 (vhost-user: the backend's --guest-cid) */
	const char *report_socket;     /* VHOST_USER: backend socket; SERIAL: channel socket */
};

#define LV_SERIAL_PORT_NAME "org.credscope.report"

/* "credscope-" + NAME with every byte outside [A-Za-z0-9._-] replaced by '-'. malloc'd. */
char *lv_domain_name(const char *case_name);

/* The domain XML (malloc'd). Returns 0, -EINVAL (*error names what cannot be expressed,
 * without quoting a value), -ENOMEM. */
int lv_domain_xml(const struct lv_domain *d, char **xml, char **error);

/* Whether the kernel vhost-vsock device really opens here. */
bool lv_vhost_vsock_usable(void);

/* `credscope-harness libvirt-xml [OPTIONS] CASE` (cmd_libvirt_xml.c); ARGV[0] is the
 * subcommand's name. Returns the exit status: 0, or 2 on a usage or environment error. */
int cmd_libvirt_xml(int argc, char **argv);
