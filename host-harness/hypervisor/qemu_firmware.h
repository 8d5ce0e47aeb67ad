/* qemu_firmware: the UEFI firmware QEMU boots with "firmware": "uefi": Debian's OVMF
 * (package ovmf), as two pflash devices: OVMF_CODE_4M.fd read-only, and a fresh copy of
 * OVMF_VARS_4M.fd per run, so no run sees another's boot entries and the installed
 * template is never written. CREDSCOPE_OVMF_CODE and CREDSCOPE_OVMF_VARS name other files
 * (another distribution's paths). Under OVMF the SMBIOS tables the guest sees are the
 * firmware's, published under a 64-bit SMBIOS 3.0 ("_SM3_") entry point.
 */
#pragma once

#define QEMU_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define QEMU_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/* The code and variable template in use (the environment's, else the defaults above). */
const char *qemu_ovmf_code(void);
const char *qemu_ovmf_vars(void);
/* NULL when both files are readable regular files, else why not (malloc'd sentence). */
char *qemu_ovmf_missing(void);
/* Copies the variable template to RUN_DIR/OVMF_VARS.fd (0600); *path is malloc'd. 0 or -errno. */
int qemu_ovmf_vars_copy(const char *run_dir, char **path);
