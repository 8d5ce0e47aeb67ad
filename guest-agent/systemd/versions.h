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
 * between (253, 255, 256) keep their own rules. Citations: shared/reference/
 * systemd-credentials.md §1 (upstream src/core/import-creds.c, src/shared/smbios11.c,
 * src/basic/hexdecoct.c, src/shared/creds-util.c).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct systemd_release {
	unsigned version;
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
};

/* The row governing VERSION (see above); never NULL. */
const struct systemd_release *systemd_release(unsigned version);

/* The version number rules are judged by and messages name: VERSION, or the newest row's
 * version when VERSION is 0 (unknown). */
unsigned systemd_release_effective(unsigned version);

/* The rows, oldest first (for tests and documentation). */
const struct systemd_release *systemd_releases(size_t *n);
