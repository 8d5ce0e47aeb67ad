/* gates: why PID 1 imports nothing, or nothing from one source.
 *
 * Promise: import_gates() fills prediction.skip_reason (the whole import: a preset
 * $CREDENTIALS_DIRECTORY, systemd.import_credentials=no) and source_skip_reason[] (fw_cfg
 * and SMBIOS in a container or, by the version's row, a confidential VM; no dmi-sysfs; no
 * fw_cfg device; @initrd before 254 or under a foreign preset directory), one sentence
 * each, the strongest reason first. Pure. Mirrors upstream import_credentials() and the
 * early returns of import_credentials_qemu() / import_credentials_smbios()
 * (src/core/import-creds.c).
 */
#pragma once
#include <stdbool.h>

#include "systemd/import_types.h"

/* systemd's reading of systemd.import_credentials= (proc_cmdline_get_key()): the kernel
 * command line first, the EFI SystemdOptions variable only if the key is absent there; the
 * last occurrence wins; an unparsable boolean is ignored. True when the value is a false
 * boolean ("no", "0", "off", ...). Either line may be NULL. */
bool cmdline_import_credentials_disabled(const char *cmdline, const char *efi_options);

/* Sets out->skip_reason and out->source_skip_reason[] from ENV. 0 or -ENOMEM. */
int import_gates(const struct import_env *env, struct prediction *out);
