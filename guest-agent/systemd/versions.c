/* versions: one row per systemd release whose credential import credscope models. See
 * versions.h. The values are upstream facts, cited per field below. */
#include "systemd/versions.h"

#include "systemd/import_creds.h"

/* read_full_file_full()'s cap in v257's read_smbios11_field(): sizeof(a pointer) plus
 * CREDENTIALS_TOTAL_SIZE_MAX. */
#define V257_SMBIOS_READ_MAX (8u + CRED_TOTAL_SIZE_MAX)

static const struct systemd_release releases[] = {
	{
		/* Debian bookworm. The container skip of fw_cfg/SMBIOS came with 252.5
		 * (7603e865); credscope models 252.5+ and says so. */
		.version = 252,
		.smbios_first_page_only = true,
		.container_skip_note = " (from 252.5 on; the 252 tag itself did not: credscope models 252.5+)",
	},
	{
		/* The first tag that skips fw_cfg/SMBIOS in a container. */
		.version = 253,
		.smbios_first_page_only = true,
		.container_skip_note = "",
	},
	{
		/* systemd.set_credential_binary=, the @initrd merge and the CVM skip (#28299). */
		.version = 254,
		.smbios_first_page_only = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
	},
	{
		/* unbase64mem() learns the URL-safe alphabet (a5559e06). */
		.version = 255,
		.smbios_first_page_only = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
	},
	{
		/* Debian trixie. read_smbios11_field() reads the whole entry (53ee7e0a, PR
		 * #33539) and only warns on a bad header; systemd-creds accepts tmpfs+noswap
		 * as secure (2af17b5e). */
		.version = 257,
		.smbios_read_max = V257_SMBIOS_READ_MAX,
		.smbios_bad_header_warns = true,
		.base64_url_safe = true,
		.cmdline_binary = true,
		.imports_initrd = true,
		.cvm_skips_firmware = true,
		.container_skip_note = "",
		.tmpfs_noswap_secure = true,
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
