/* versions: what each modelled systemd release does differently when it imports
 * credentials, as one row of data per release.
 *
 * Promise: systemd_release(V) returns the row that governs version V: the newest row whose
 * version is <= V; a version older than the first row gets the first row; 0 (unknown) gets
 * the newest row. Every version-dependent rule in guest-agent/ reads a field of that row;
 * no other code compares version numbers. Adding a release means adding a row here (in
 * ascending order) and the tests that pin its behaviours.
 *
 * Rows exist for every release where a modelled behaviour changed, so that the versions in
 * between (256, 259-261) keep their own rules. Each row cites its behaviours file:line@version
 * (docs/systemd-versions.md; @252.39, @254.26, @257.13, @262 are Debian's source packages,
 * @vNNN the upstream tags). A version newer than the newest row is judged by the newest row
 * and that is said wherever the verdict is shown (systemd_model()).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct systemd_release {
	unsigned version;
	/* The newest release whose upstream source was read and found to behave as this row
	 * says; 0 when the row rests on NEWS only. A version above it is "unverified". */
	unsigned verified_through;
	/* PID 1 imports credentials at all (src/core/import-creds.c exists: from 251). */
	bool has_import;
	/* import_credentials_smbios() exists (SMBIOS type 11, from 252). */
	bool has_smbios;
	/* proc_cmdline() reads /proc/cmdline with read_one_line_file(): the first line only. */
	bool cmdline_first_line_only;
	/* fw_cfg and SMBIOS are skipped when detect_container() > 0. */
	bool firmware_skipped_in_container;
	/* The SystemdOptions EFI variable is parsed before /proc/cmdline (removed in 258). */
	bool efi_systemd_options;
	/* @system is mounted tmpfs nr_inodes=1024,size=1M(,noswap) when it can be (254+); before,
	 * ramfs (no limit but the 1 MiB budget). The observed mount decides; this says what to
	 * expect when it cannot be observed. */
	bool store_tmpfs_limits;
	/* SMBIOS is still imported in an Intel TDX guest (TDVF measures it into RTMR0). */
	bool cvm_tdx_trusts_smbios;
	/* An initrd's PID 1 imports /.extra/system_credentials/ into @system before fw_cfg, on
	 * the shared budget. */
	bool initrd_extra_system_credentials;
	/* detect_sev() assumes SEV when the SEV status MSR cannot be read (fail closed); before,
	 * an unreadable MSR means "no CVM". */
	bool cvm_msr_fail_closed;
	/* detect_container() falls back to "not the initial PID namespace" (257.13, 262). */
	bool container_pidns_fallback;
	/* import_credentials_smbios() reads each 11-N/raw with one read() (read_virtual_file()):
	 * only the first page is seen. Otherwise read_full_file_full() reads up to
	 * smbios_read_max bytes. */
	bool smbios_first_page_only;
	size_t smbios_read_max;
	/* A bad DMI header (size < 5, type != 11, length != 5) only stops the scan with a
	 * warning instead of aborting the SMBIOS source with an error. */
	bool smbios_bad_header_warns;
	/* unbase64mem() accepts the URL-safe alphabet ('-' and '_'). */
	bool base64_url_safe;
	/* systemd.set_credential_binary= on the kernel command line. */
	bool cmdline_binary;
	/* /run/credentials/@initrd is imported (and merged into a preset @system). */
	bool imports_initrd;
	/* fw_cfg and SMBIOS are skipped in a confidential VM. */
	bool cvm_skips_firmware;
	/* Said after "systemd skips fw_cfg/SMBIOS in a container" when the release's tag did
	 * not yet skip them (the point release did); "" otherwise. */
	const char *container_skip_note;
	/* systemd-creds counts tmpfs mounted with noswap as secure (not only ramfs). */
	bool tmpfs_noswap_secure;
	/* After the import PID 1 lists $CREDENTIALS_DIRECTORY at info level: "Received regular
	 * credentials: A, B" and "Acquired %i regular credentials, %i untrusted credentials."
	 * (report_credentials(); systemd/pid1_lines.h). */
	bool logs_received_credentials;
	/* When PID 1's own /dev/kmsg ratelimit (200 lines per 5 s) trips, it writes "Too many
	 * messages being logged to kmsg, ignoring" once; before, the lines vanish without a trace. */
	bool kmsg_ratelimit_notice;
};

/* The row governing VERSION (see above); never NULL. */
const struct systemd_release *systemd_release(unsigned version);

/* The version number rules are judged by and messages name: VERSION, or the newest row's
 * version when VERSION is 0 (unknown). */
unsigned systemd_release_effective(unsigned version);

/* Which row judged a version, and whether that row was checked against the version's own
 * source: "model for 262 applied to 263: unverified". */
struct systemd_model {
	unsigned row;            /* the governing row's version */
	unsigned applied_to;     /* the version judged (systemd_release_effective()) */
	bool verified;           /* applied_to <= the row's verified_through */
};
struct systemd_model systemd_model(unsigned version);

/* The rows, oldest first (for tests and documentation). */
const struct systemd_release *systemd_releases(size_t *n);
