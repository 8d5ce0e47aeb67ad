/* versions: one row per systemd release whose credential import credscope models. See
 * versions.h. The values are upstream facts, cited per field below. */
#include "systemd/versions.h"

#include "systemd/import_types.h"

/* read_full_file_full()'s cap in v257's read_smbios11_field(): sizeof(a pointer) plus
 * CREDENTIALS_TOTAL_SIZE_MAX. */
#define V257_SMBIOS_READ_MAX (8u + CRED_TOTAL_SIZE_MAX)

/* read_full_file_full()'s cap in 262's read_smbios11_field(): offsetof(contents) = 5 plus
 * CREDENTIALS_TOTAL_SIZE_MAX (src/shared/smbios11.c:41-44@262). */
#define V262_SMBIOS_READ_MAX (5u + CRED_TOTAL_SIZE_MAX)

static const struct systemd_release releases[] = {
	{
		/* Before 251 PID 1 imports no credentials: src/core/import-creds.c does not exist
		 * in v250 (`git show v250:src/core/import-creds.c` fails); NEWS 251 "PID 1 will
		 * now automatically pick up system credentials from qemu's fw_cfg interface". */
		.version = 200,
		.verified_through = 250,
		.smbios_first_page_only = true,
		.cmdline_first_line_only = true,
		.efi_systemd_options = true,
		.container_skip_note = "",
	},
	{
		/* fw_cfg and systemd.set_credential= (import_credentials_trusted(): qemu, then
		 * proc_cmdline: src/core/import-creds.c:455-456@v251); no SMBIOS (NEWS 252), no
		 * container skip (no detect_container() in v251's import-creds.c); ramfs store
		 * (:277@v251); /proc/cmdline read as one line (src/basic/proc-cmdline.c:39@v251,
		 * not backported through 251.20). */
		.version = 251,
		.verified_through = 251,
		.has_import = true,
		.smbios_first_page_only = true,
		.cmdline_first_line_only = true,
		.efi_systemd_options = true,
		.container_skip_note = "",
	},
	{
		/* Debian bookworm (252.39). SMBIOS type 11 (import_credentials_smbios(),
		 * src/core/import-creds.c:621-623@252.39); one read() per 11-N/raw (one page).
		 * The container skip of fw_cfg/SMBIOS came with 252.5 (7603e865, :373,567@252.39);
		 * the whole /proc/cmdline with 252.19 (969268ea, src/basic/proc-cmdline.c:39@252.39):
		 * credscope models 252.19+. */
		.version = 252,
		.verified_through = 252,
		.has_import = true,
		.has_smbios = true,
		.smbios_first_page_only = true,
		.firmware_skipped_in_container = true,
		.efi_systemd_options = true,
		.container_skip_note = " (from 252.5 on; the 252 tag itself did not: credscope models 252.5+)",
	},
	{
		/* The first tag that skips fw_cfg/SMBIOS in a container
		 * (src/core/import-creds.c:374,568@v253); whole /proc/cmdline from 253.13 (f912ef6d). */
		.version = 253,
		.verified_through = 253,
		.has_import = true,
		.has_smbios = true,
		.smbios_first_page_only = true,
		.firmware_skipped_in_container = true,
		.efi_systemd_options = true,
		.container_skip_note = "",
	},
	{
		/* systemd.set_credential_binary=, the @initrd import (:725-728@v254), the CVM skip
		 * (:380,577@v254), tmpfs nr_inodes=1024,size=1M[,noswap] store
		 * (src/shared/mount-util.c:1478-1530@v254), read_full_file() of /proc/cmdline
		 * (src/basic/proc-cmdline.c:163@v254). PID 1 logs "Received regular credentials: ..."
		 * and "Acquired ..." (report_credentials(), src/core/import-creds.c:855,867@v254,
		 * :857,868@254.26) and says so when its kmsg ratelimit trips (src/basic/log.c:607@254.26;
		 * 252.39 drops silently, :549-550@252.39). */
		.version = 254,
		.verified_through = 254,
		.has_import = true,
		.has_smbios = true,
		.smbios_first_page_only = true,
		.firmware_skipped_in_container = true,
		.efi_systemd_options = true,
		.store_tmpfs_limits = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
		.logs_received_credentials = true,
		.kmsg_ratelimit_notice = true,
	},
	{
		/* unbase64mem() learns the URL-safe alphabet (a5559e06,
		 * src/basic/hexdecoct.c:556@v255). Same in 256 (checked in v256). */
		.version = 255,
		.verified_through = 256,
		.has_import = true,
		.has_smbios = true,
		.smbios_first_page_only = true,
		.firmware_skipped_in_container = true,
		.efi_systemd_options = true,
		.store_tmpfs_limits = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
		.logs_received_credentials = true,
		.kmsg_ratelimit_notice = true,
	},
	{
		/* Debian trixie (257.13). read_smbios11_field() reads the whole entry, up to 8 + 1 MiB
		 * (53ee7e0a, PR #33539; src/shared/smbios11.c:41-42@257.13) and only warns on a bad
		 * header (src/core/import-creds.c:589@257.13); systemd-creds accepts tmpfs+noswap as
		 * secure (2af17b5e). detect_container() falls back to running_in_pidns()
		 * (src/basic/virt.c:832@257.13). */
		.version = 257,
		.container_pidns_fallback = true,
		.verified_through = 257,
		.has_import = true,
		.has_smbios = true,
		.smbios_read_max = V257_SMBIOS_READ_MAX,
		.smbios_bad_header_warns = true,
		.firmware_skipped_in_container = true,
		.efi_systemd_options = true,
		.store_tmpfs_limits = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
		.tmpfs_noswap_secure = true,
		.logs_received_credentials = true,
		.kmsg_ratelimit_notice = true,
	},
	{
		/* NEWS 258: "Support for the SystemdOptions EFI variable has been removed". The
		 * 258-261 sources were not read (docs/systemd-versions.md §0): this row rests on
		 * NEWS and on 257.13 and 262 agreeing, hence unverified. The SMBIOS read cap is
		 * 262's (the release that changed 8 to 5 lies in 258-262). */
		.version = 258,
		.container_pidns_fallback = true,
		.verified_through = 0,
		.has_import = true,
		.has_smbios = true,
		.smbios_read_max = V262_SMBIOS_READ_MAX,
		.smbios_bad_header_warns = true,
		.firmware_skipped_in_container = true,
		.store_tmpfs_limits = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
		.tmpfs_noswap_secure = true,
		.logs_received_credentials = true,
		.kmsg_ratelimit_notice = true,
	},
	{
		/* Debian forky (262). SMBIOS trusted under TDX (src/core/import-creds.c:631-633@262);
		 * an initrd's PID 1 imports /.extra/system_credentials/ first (:303-306,945-950@262);
		 * the SEV MSR unreadable means SEV (src/basic/confidential-virt.c:144-152@262); the
		 * SMBIOS cap is 5 + 1 MiB (src/shared/smbios11.c:41-44@262); no SystemdOptions
		 * (src/basic/proc-cmdline.c:238-253@262). */
		.version = 262,
		.container_pidns_fallback = true,
		.verified_through = 262,
		.has_import = true,
		.has_smbios = true,
		.smbios_read_max = V262_SMBIOS_READ_MAX,
		.smbios_bad_header_warns = true,
		.firmware_skipped_in_container = true,
		.store_tmpfs_limits = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.cvm_tdx_trusts_smbios = true,
		.initrd_extra_system_credentials = true,
		.cvm_msr_fail_closed = true,
		.container_skip_note = "",
		.tmpfs_noswap_secure = true,
		.logs_received_credentials = true,
		.kmsg_ratelimit_notice = true,
	},
};

#define N_RELEASES (sizeof(releases) / sizeof(releases[0]))

const struct systemd_release *systemd_release(unsigned version)
{
	const struct systemd_release *row = &releases[0];

	if (version == 0)
		return &releases[N_RELEASES - 1];
	for (size_t i = 0; i < N_RELEASES; i++)
		if (releases[i].version <= version)
			row = &releases[i];
	return row;
}

unsigned systemd_release_effective(unsigned version)
{
	return version ? version : releases[N_RELEASES - 1].version;
}

const struct systemd_release *systemd_releases(size_t *n)
{
	*n = N_RELEASES;
	return releases;
}

struct systemd_model systemd_model(unsigned version)
{
	const struct systemd_release *row = systemd_release(version);
	unsigned v = systemd_release_effective(version);

	return (struct systemd_model) { .row = row->version, .applied_to = v, .verified = v <= row->verified_through };
}
