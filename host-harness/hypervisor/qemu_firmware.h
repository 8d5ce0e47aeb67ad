/* qemu_firmware: the UEFI firmware QEMU boots with "firmware": "uefi": Debian's OVMF
 * (package ovmf), as two pflash devices: OVMF_CODE_4M.fd read-only, and a fresh copy of
 * OVMF_VARS_4M.fd per run, so no run sees another's boot entries and the installed
 * template is never written. CREDSCOPE_OVMF_CODE and CREDSCOPE_OVMF_VARS name other files
 * (another distribution's paths). Under OVMF the SMBIOS tables the guest sees are the
 * firmware's, published under a 64-bit SMBIOS 3.0 ("_SM3_") entry point.
 *
 * An aarch64 guest (machine virt) always boots Debian's AAVMF (package qemu-efi-aarch64)
 * the same way: AAVMF_CODE.fd read-only, a per-run copy of AAVMF_VARS.fd (both 64 MiB
 * pflash images); CREDSCOPE_AAVMF_CODE and CREDSCOPE_AAVMF_VARS name others. QEMU builds
 * virt's SMBIOS tables into fw_cfg, and only the firmware hands them to the kernel: without
 * it an aarch64 guest has no SMBIOS at all.
 */
#pragma once
#include <stdbool.h>

#define QEMU_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define QEMU_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define QEMU_AAVMF_CODE "/usr/share/AAVMF/AAVMF_CODE.fd"
#define QEMU_AAVMF_VARS "/usr/share/AAVMF/AAVMF_VARS.fd"

/* The code and variable template in use (the environment's, else the defaults above):
 * OVMF's, or AAVMF's when AARCH64. */
const char *qemu_uefi_code(bool aarch64);
const char *qemu_uefi_vars(bool aarch64);
/* NULL when both files are readable regular files, else why not (malloc'd sentence naming
 * the package to install). */
char *qemu_uefi_missing(bool aarch64);
/* Copies the variable template to RUN_DIR/OVMF_VARS.fd (AAVMF_VARS.fd) (0600); *path is
 * malloc'd. 0 or -errno. */
int qemu_uefi_vars_copy(bool aarch64, const char *run_dir, char **path);
