/* gates: what stops the import as a whole or one source of it, as upstream
 * import_credentials() / import_credentials_trusted() (src/core/import-creds.c) decide it
 * with detect_container() (src/basic/virt.c), detect_confidential_virtualization()
 * (src/basic/confidential-virt.c), the presence of dmi-sysfs and fw_cfg, a preset
 * $CREDENTIALS_DIRECTORY and systemd.import_credentials=. See gates.h.
 *
 * Where upstream and the reference differ, upstream wins:
 *   - A container does not skip the whole import: import_credentials_qemu() and
 *     import_credentials_smbios() return early (252.5+), the kernel command line (PID 1's
 *     own argv in a container) and @initrd still run.
 *   - A confidential VM likewise skips only fw_cfg and SMBIOS.
 */
#include "systemd/gates.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "systemd/proc_cmdline.h"
#include "systemd/versions.h"

bool cmdline_import_credentials_disabled(const char *cmdline, const char *efi_options)
{
	const char *lines[] = { cmdline, efi_options };
	bool disabled = false;

	for (size_t i = 0; i < 2; i++) {
		char *v = NULL;
		int r;

		if (!lines[i])
			continue;
		/* /proc/cmdline whole, the EFI variable's first line (proc_cmdline.h) */
		r = i == 0 ? proc_cmdline_get_key_whole(lines[i], "systemd.import_credentials", &v)
			   : proc_cmdline_get_key(lines[i], "systemd.import_credentials", &v);
		if (r > 0)
			disabled = proc_cmdline_parse_boolean(v) == 0;
		free(v);
		if (r != 0)
			break;   /* found (or out of memory): the EFI variable is not consulted */
	}
	return disabled;
}

static int set_reason(char **slot, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*slot)
		return 0;   /* the first (strongest) reason stays */
	va_start(ap, fmt);
	r = vasprintf(slot, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*slot = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int whole_import_reason(unsigned version, const struct systemd_release *rel, const struct import_env *env,
			       char **slot)
{
	/* A preset @system path and --switched-root in PID 1's argv: the initrd's systemd imported
	 * (import_credentials_trusted(), then finalize_credentials_dir() set the variable,
	 * :630@252.39, :737@254.26, :716@257.13) and re-executed this PID 1 with it; that one only
	 * kept the store (:678-692@252.39, :880@257.13 merge_credentials_trusted()). The initrd's
	 * systemd is the root's (dracut copies it in) reading the same firmware and command line,
	 * so the import is replayed as it did it (import_creds.c). */
	if (import_env_initrd_pid1(env))
		return 0;
	/* A preset @system path without --switched-root: some earlier PID 1 imported, with a
	 * version and modules we cannot see; anything else is a container manager's. */
	if (env->credentials_dir_preset && env->credentials_dir_is_system)
		return set_reason(slot, "$CREDENTIALS_DIRECTORY=/run/credentials/@system was already set for PID 1, "
				  "so an initrd's PID 1 did the import (credscope cannot replay it) and systemd %u "
				  "imported nothing itself%s", version,
				  rel->imports_initrd ? " but merged /run/credentials/@initrd" : "");
	if (env->credentials_dir_preset)
		return set_reason(slot, "$CREDENTIALS_DIRECTORY was already set for PID 1 (by a container manager), "
				  "so systemd %u imported nothing itself", version);
	if (!rel->has_import)
		return set_reason(slot, "systemd %u has no credential import: PID 1 imports credentials from 251 on "
				  "(src/core/import-creds.c is new in v251)", version);
	if (env->import_disabled)
		return set_reason(slot, "systemd.import_credentials=no is set, so systemd %u imported nothing",
				  version);
	return 0;
}

static int firmware_source_reasons(unsigned version, const struct systemd_release *rel, const struct import_env *env,
				   char **fw, char **smb)
{
	int r = 0;

	if (!rel->has_smbios)
		r |= set_reason(smb, "systemd %u does not import SMBIOS credentials: import_credentials_smbios() "
				"is new in 252", version);
	if (env->in_container && rel->firmware_skipped_in_container) {
		const char *note = rel->container_skip_note;
		char why[240] = "";

		if (env->container_kind[0])
			snprintf(why, sizeof why, " (%s: %s)", env->container_kind, env->container_evidence);
		r |= set_reason(fw, "systemd skips fw_cfg in a container%s%s", why, note);
		r |= set_reason(smb, "systemd skips SMBIOS in a container%s%s", why, note);
	}
	if (env->confidential_vm && rel->cvm_skips_firmware) {
		const char *kind = env->cvm_kind[0] ? env->cvm_kind : "confidential";

		r |= set_reason(fw, "systemd %u does not trust fw_cfg in a confidential VM (%s)", version, kind);
		if (!(env->cvm_tdx && rel->cvm_tdx_trusts_smbios))
			r |= set_reason(smb, "systemd %u does not trust SMBIOS in a confidential VM (%s)%s", version, kind,
					env->cvm_tdx ? "; only 262 on trust it under Intel TDX" : "");
	}
	if (!env->dmi_sysfs_present)
		r |= set_reason(smb, "/sys/firmware/dmi/entries does not exist: the kernel lacks dmi-sysfs");
	if (!env->fw_cfg_present)
		r |= set_reason(fw, "/sys/firmware/qemu_fw_cfg does not exist: no fw_cfg device, or the kernel "
				"lacks qemu_fw_cfg");
	return r < 0 ? -ENOMEM : 0;
}

static int initrd_reason(unsigned version, const struct systemd_release *rel, const struct import_env *env,
			 char **slot)
{
	if (!rel->imports_initrd)
		return set_reason(slot, "systemd %u does not import /run/credentials/@initrd (from 254 on)", version);
	if (env->credentials_dir_preset && !env->credentials_dir_is_system)
		return set_reason(slot, "the preset $CREDENTIALS_DIRECTORY is not /run/credentials/@system, so "
				  "systemd does not merge /run/credentials/@initrd into it");
	return 0;
}

int import_gates(const struct import_env *env, struct prediction *out)
{
	unsigned version = systemd_release_effective(env->systemd_version);
	const struct systemd_release *rel = systemd_release(env->systemd_version);
	int r;

	r = whole_import_reason(version, rel, env, &out->skip_reason);
	if (r >= 0)
		r = firmware_source_reasons(version, rel, env, &out->source_skip_reason[CRED_SOURCE_FW_CFG],
					    &out->source_skip_reason[CRED_SOURCE_SMBIOS]);
	if (r >= 0)
		r = initrd_reason(version, rel, env, &out->source_skip_reason[CRED_SOURCE_INITRD]);
	return r;
}
